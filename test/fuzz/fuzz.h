/*
 * fuzz.h - helpers shared by the libFuzzer targets in test/fuzz/.
 *
 * Targets are built with clang -fsanitize=fuzzer,address,undefined by
 * `make fuzz`.  A crash, leak or sanitizer report is a failure; a parser
 * returning an error for garbage is the expected outcome.
 */
#ifndef FT_FUZZ_H
#define FT_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The input as a NUL-terminated string (malloc'ed, caller frees). */
static inline char *
fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/*
 * A byte stream read front to back; reads past the end give zeros, so
 * every input is a complete scenario.
 */
struct fuzz_in {
	const uint8_t *p;
	size_t len, pos;
};

static inline int
fuzz_empty(const struct fuzz_in *in)
{
	return in->pos >= in->len;
}

static inline uint8_t
fuzz_u8(struct fuzz_in *in)
{
	return in->pos < in->len ? in->p[in->pos++] : 0;
}

static inline uint16_t
fuzz_u16(struct fuzz_in *in)
{
	uint16_t v = fuzz_u8(in);

	return (uint16_t)(v | (uint16_t)fuzz_u8(in) << 8);
}

static inline uint32_t
fuzz_u32(struct fuzz_in *in)
{
	uint32_t v = fuzz_u16(in);

	return v | (uint32_t)fuzz_u16(in) << 16;
}

/* Copy up to n bytes; returns how many there were. */
static inline size_t
fuzz_bytes(struct fuzz_in *in, void *out, size_t n)
{
	size_t have = in->len - (in->pos < in->len ? in->pos : in->len);

	if (n > have)
		n = have;
	memcpy(out, in->p + in->pos, n);
	in->pos += n;
	return n;
}

/*
 * Walk a parsed image and check its documented invariants: segments
 * sorted by (alt, addr), non-overlapping, inside 4 GiB, non-empty, and
 * their bytes readable (ASan catches a short allocation).
 */
static inline void
fuzz_check_image(const struct ft_image *img)
{
	size_t i, n = ft_image_nsegments(img);
	uint64_t total = 0;
	volatile uint8_t sink = 0;

	for (i = 0; i < n; i++) {
		const struct ft_segment *s = ft_image_segment(img, i);

		if (s == NULL || s->len == 0 || s->data == NULL)
			abort();
		if ((uint64_t)s->addr + s->len > (uint64_t)UINT32_MAX + 1)
			abort();
		sink ^= s->data[0];
		sink ^= s->data[s->len - 1];
		if (i > 0) {
			const struct ft_segment *p = ft_image_segment(img,
			    i - 1);

			if (p->alt > s->alt || (p->alt == s->alt &&
			    (uint64_t)p->addr + p->len > s->addr))
				abort();
		}
		total += s->len;
	}
	if (total != ft_image_bytes(img))
		abort();
	(void)sink;
}

/* Parse data as format and check the result. */
static inline void
fuzz_image(const uint8_t *data, size_t size, enum ft_image_format fmt)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_image *img = NULL;

	if (ctx == NULL)
		abort();
	if (ft_image_from_buffer(ctx, "fuzz", data, size, fmt, 0x08000000u,
	    &img) == 0) {
		if (img == NULL)
			abort();
		fuzz_check_image(img);
		/* Relocation must keep the invariants or fail cleanly. */
		if (ft_image_nsegments(img) > 0 &&
		    ft_image_relocate(ctx, img, 0x20000000u) == 0)
			fuzz_check_image(img);
		ft_image_free(img);
	} else if (img != NULL) {
		abort();
	}
	/* The detail string is always terminated. */
	if (strlen(ft_errdetail(ctx)) >= FT_DETAIL_MAX)
		abort();
	ft_ctx_free(ctx);
}

/*
 * The transports' shared exercise on an open device: read a block (the
 * upload/Read Memory replies), then write it back as an image with
 * verify (erase, download/Write Memory and status replies).  fill seeds
 * the buffer so a read that fails leaves distinct bytes behind.
 */
static inline void
fuzz_read_and_write(struct ft_ctx *ctx, struct ft_dev *dev,
    uint32_t base, uint8_t *buf, size_t len, unsigned fill, int no_diff)
{
	struct ft_write_opts wo;
	struct ft_write_stats ws;
	struct ft_image *img;
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (uint8_t)(i * fill);
	(void)ft_read(dev, base, buf, len);
	if (ft_image_from_buffer(ctx, "fuzz.bin", buf, len, FT_FMT_BINARY,
	    base, &img) != 0)
		abort();
	memset(&wo, 0, sizeof(wo));
	wo.verify = 1;
	wo.no_diff = no_diff;
	(void)ft_write(dev, img, &wo, &ws);
	ft_image_free(img);
}

/* Close the device; the detail string must have stayed bounded. */
static inline void
fuzz_close(struct ft_ctx *ctx, struct ft_dev *dev)
{
	ft_close(dev);
	if (strlen(ft_errdetail(ctx)) >= FT_DETAIL_MAX)
		abort();
	ft_ctx_free(ctx);
}

#endif /* FT_FUZZ_H */
