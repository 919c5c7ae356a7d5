/*
 * image/image.h - what the image readers share (lib/image/): the one
 * image builder, the text-format helpers and each reader's entry point.
 * Sectioned by the file that defines each declaration.  Nothing here
 * knows a transport.
 */
#ifndef FT_IMAGE_IMAGE_H
#define FT_IMAGE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "ft_int.h"

/* One past the last byte of the 32-bit address space. */
#define FT_ADDR_SPACE_END ((uint64_t)1 << 32)

/* image/builder.c */

/* A piece of data at addr (alt -1: none), its bytes at src + off. */
struct ft_piece {
	uint32_t addr;
	uint32_t len;
	size_t off;		/* into the builder's source bytes */
	unsigned where;		/* line, program header or element number */
	int alt;
};

struct ft_builder {
	struct ft_piece *p;
	size_t n;
	size_t cap;
	uint8_t *pool;		/* decoded bytes of text formats */
	size_t pool_len;
};

/* Where two pieces overlap, for the format's own message. */
struct ft_clash {
	unsigned first;		/* the earlier piece in file order */
	unsigned second;	/* the later one */
	uint32_t addr;		/* first byte written twice */
	int alt;
};

/* Add a piece (nothing for len 0); FT_E_NOMEM without a detail. */
int ft_build_add(struct ft_builder *b, int alt, uint32_t addr, uint32_t len,
    size_t off, unsigned where);
/*
 * Turn the pieces into img->seg, copying their bytes from src.  Returns
 * 0, FT_E_NOMEM, or 1 with *cl filled when two pieces write the same
 * byte.
 */
int ft_build_finish(struct ft_builder *b, const uint8_t *src,
    struct ft_image *img, struct ft_clash *cl);
void ft_build_free(struct ft_builder *b);

/* image/text.c */

struct ft_line {
	const char *s;
	size_t len;		/* without the line end and trailing blanks */
	unsigned no;		/* 1-based */
};

/* Next line of [*pos, len); 0 at the end of the buffer. */
int ft_text_next_line(const uint8_t *buf, size_t len, size_t *pos,
    struct ft_line *ln);
/*
 * Check that s[0..n) is an even number of hex digits, at most max bytes,
 * and decode it.  col is the 1-based column of s[0] for messages.
 */
int ft_text_decode_hex(struct ft_ctx *ctx, const char *name, unsigned lineno,
    const char *s, size_t n, size_t col, uint8_t *out, size_t max,
    size_t *nbytes);
/* Offset of the first byte that is not a space, tab, CR or LF. */
size_t ft_text_skip_blank(const uint8_t *buf, size_t len);
/* Room for the decoded bytes of a text file of len bytes. */
int ft_build_pool(struct ft_builder *b, size_t len);
/* A record's data bytes at addr, into the pool and the builder. */
int ft_text_add_data(struct ft_ctx *ctx, const char *name, unsigned lineno,
    struct ft_builder *b, uint64_t addr, const uint8_t *data, size_t n);
/* The image of a text file, or its "name:line: overlapping data". */
int ft_text_finish(struct ft_ctx *ctx, const char *name, struct ft_builder *b,
    struct ft_image *img);

/* image/detect.c */

/* The format by content (never FT_FMT_AUTO). */
enum ft_image_format ft_detect_format(const uint8_t *buf, size_t len);
/* The format a file name's extension promises; FT_FMT_AUTO: none. */
enum ft_image_format ft_detect_by_name(const char *name);
/*
 * NULL when buf is plausibly firmware as a raw binary, else what it
 * looks like instead ("a PDF document", "text, not firmware", ...);
 * for plain text quote receives its first line (cut to qsize).
 */
const char *ft_detect_not_firmware(const uint8_t *buf, size_t len,
    char *quote, size_t qsize);
/* Bytes of a UTF-8 byte-order mark at the start of buf (0 or 3). */
size_t ft_detect_bom(const uint8_t *buf, size_t len);

/* image/ihex.c, image/srec.c, image/elf.c: the readers. */
int ft_read_ihex(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, struct ft_image *img);
int ft_read_srec(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, struct ft_image *img);
int ft_read_elf(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, struct ft_image *img);

/* image/dfu_file.c */

/*
 * A .dfu file (DFU suffix, optional DfuSe prefix) as an image; a plain
 * DFU payload lands at base.  FT_E_NOT_SUPPORTED ("no DFU suffix") when
 * buf has no suffix, FT_E_FORMAT when it is damaged.
 */
int ft_dfu_image_parse(struct ft_ctx *ctx, const char *name,
    const uint8_t *buf, size_t len, uint32_t base, struct ft_image **out);

#endif /* FT_IMAGE_IMAGE_H */
