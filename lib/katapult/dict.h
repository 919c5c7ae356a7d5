/*
 * katapult/dict.h - Klipper's data dictionary inside a firmware image
 * (lib/katapult/dict.c): which MCU the build is for.
 */
#ifndef FT_KATAPULT_DICT_H
#define FT_KATAPULT_DICT_H

#include "ft_int.h"

#define FT_KP_DICT_STR 64

struct ft_kp_dict {
	int found;		/* a dictionary with "app": "Klipper" */
	uint32_t offset;	/* where its zlib stream starts */
	char app[FT_KP_DICT_STR];
	char mcu[FT_KP_DICT_STR];	/* config.MCU; "" if absent */
	char version[FT_KP_DICT_STR];
};

/*
 * Parse the dictionary's JSON: 0 and d->found when it is Klipper's
 * (strings with escapes or longer than FT_KP_DICT_STR read as "").
 */
int ft_kp_dict_parse(const char *text, size_t n, struct ft_kp_dict *d);
/*
 * Search len bytes for a zlib stream that inflates to Klipper's
 * dictionary, spending at most *budget bytes of output on candidates
 * (decreased).  1 found (d->offset relative to data), 0 not,
 * FT_E_NOMEM.
 */
int ft_kp_dict_find(const uint8_t *data, size_t len, struct ft_kp_dict *d,
    uint64_t *budget);
/* The same over an image's segments; d->offset is an address. */
int ft_kp_dict_of_image(const struct ft_image *img, struct ft_kp_dict *d);

#endif /* FT_KATAPULT_DICT_H */
