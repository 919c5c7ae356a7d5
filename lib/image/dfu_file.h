/*
 * image/dfu_file.h - .dfu files (lib/image/dfu_file.c): the DFU 1.1
 * suffix (Appendix B) and ST's DfuSe prefix (UM0391).  Pure parsers over
 * a buffer; internal to the library and its unit tests.
 */
#ifndef FT_IMAGE_DFU_FILE_H
#define FT_IMAGE_DFU_FILE_H

#include <stddef.h>
#include <stdint.h>

#include "ft_int.h"

/*
 * DFU suffix (DFU 1.1 Appendix B), the last bLength (>= 16) bytes of a
 * .dfu file.  IDs of 0xFFFF mean "any".
 */
#define FT_DFU_SUFFIX_LEN 16

struct ft_dfu_suffix {
	uint16_t bcd_device;
	uint16_t pid;
	uint16_t vid;
	uint16_t bcd_dfu;
	uint8_t length;		/* bLength: suffix bytes to strip */
	uint32_t crc;		/* dwCRC as stored (checked) */
};

/*
 * The suffix CRC: reflected CRC-32 (poly 0xEDB88320), start with
 * FT_DFU_CRC_INIT, no final XOR.  Chainable.
 */
#define FT_DFU_CRC_INIT 0xFFFFFFFFu
uint32_t ft_dfu_crc(uint32_t crc, const uint8_t *buf, size_t len);

/*
 * Find and check the suffix of buf.  FT_E_NOT_SUPPORTED ("no DFU suffix")
 * when the signature is absent; FT_E_FORMAT naming the file when it is
 * present but its length or CRC is wrong.
 */
int ft_dfu_suffix_parse(struct ft_ctx *ctx, const char *name,
    const uint8_t *buf, size_t len, struct ft_dfu_suffix *out);
/*
 * Like ft_dfu_image_parse() (ft_int.h), and also returns the suffix
 * (suffix may be NULL).
 */
int ft_dfu_file_parse(struct ft_ctx *ctx, const char *name,
    const uint8_t *buf, size_t len, uint32_t base, struct ft_image **out,
    struct ft_dfu_suffix *suffix);
/*
 * 0 when the suffix's VID and PID accept the device (0xFFFF matches
 * anything), FT_E_INVALID with a detail otherwise.  bcdDevice is not
 * compared: dfuse-pack writes 0x0000 there, which no ST ROM reports.
 */
int ft_dfu_suffix_check(struct ft_ctx *ctx, const struct ft_dfu_suffix *s,
    uint16_t vid, uint16_t pid);

#endif /* FT_IMAGE_DFU_FILE_H */
