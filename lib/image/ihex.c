/*
 * image/ihex.c - Intel HEX.  Extended segment (02) and linear (04)
 * records set one running base; a data record lands at base + offset and
 * runs on linearly (no 64 KiB wrap inside a record), so a record crossing
 * 0xFFFFFFFF is an error rather than a silent wrap to 0.
 */
#include <stdlib.h>
#include <string.h>

#include "image.h"

/* Intel HEX: ':' LL AAAA TT data CC; 5 bytes besides the data. */
#define IHEX_OVERHEAD 5
#define IHEX_MAX_BYTES (IHEX_OVERHEAD + 255)

enum ihex_type {
	IHEX_DATA = 0x00,
	IHEX_EOF = 0x01,
	IHEX_EXT_SEGMENT = 0x02,	/* base = value << 4 */
	IHEX_START_SEGMENT = 0x03,	/* CS:IP, ignored */
	IHEX_EXT_LINEAR = 0x04,		/* base = value << 16 */
	IHEX_START_LINEAR = 0x05,	/* EIP, ignored */
};

static int
ihex_record(struct ft_ctx *ctx, const char *name, const struct ft_line *ln,
    uint8_t *rec, size_t *nrec)
{
	size_t n, i;
	unsigned sum, want;
	int rc;

	if (ln->s[0] != ':')
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: a record must start with ':'", name, ln->no);
	rc = ft_text_decode_hex(ctx, name, ln->no, ln->s + 1, ln->len - 1, 2,
	    rec, IHEX_MAX_BYTES, &n);
	if (rc < 0)
		return rc;
	if (n < IHEX_OVERHEAD)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: wrong length: record too short (%zu bytes)",
		    name, ln->no, n);
	if (n != (size_t)rec[0] + IHEX_OVERHEAD)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: wrong length: byte count 0x%02X says %u data "
		    "bytes, the record has %zu", name, ln->no, rec[0],
		    rec[0], n - IHEX_OVERHEAD);
	sum = 0;
	for (i = 0; i + 1 < n; i++)
		sum += rec[i];
	want = (0x100 - (sum & 0xFF)) & 0xFF;
	if (rec[n - 1] != want)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: bad checksum (0x%02X, expected 0x%02X)",
		    name, ln->no, rec[n - 1], want);
	*nrec = n;
	return 0;
}

static int
ihex_need(struct ft_ctx *ctx, const char *name, unsigned lineno,
    const char *what, unsigned have, unsigned want)
{
	if (have == want)
		return 0;
	return ft_fail(ctx, FT_E_FORMAT,
	    "%s:%u: %s record must hold %u data bytes, not %u",
	    name, lineno, what, want, have);
}

int
ft_read_ihex(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, struct ft_image *img)
{
	struct ft_builder b = { 0 };
	struct ft_line ln = { 0 };
	uint8_t rec[IHEX_MAX_BYTES];
	size_t pos = 0, n = 0;
	uint32_t base = 0;
	unsigned eof_line = 0, last_line = 0, dlen;
	const uint8_t *data;
	int rc;

	if ((rc = ft_build_pool(&b, len)) < 0)
		return ft_fail(ctx, rc, "%s: out of memory", name);
	while (ft_text_next_line(buf, len, &pos, &ln)) {
		if (ft_text_skip_blank((const uint8_t *)ln.s, ln.len) == ln.len)
			continue;
		last_line = ln.no;
		if (eof_line != 0) {
			rc = ft_fail(ctx, FT_E_FORMAT,
			    "%s:%u: data after the end-of-file record "
			    "(line %u)", name, ln.no, eof_line);
			goto out;
		}
		if ((rc = ihex_record(ctx, name, &ln, rec, &n)) < 0)
			goto out;
		dlen = rec[0];
		data = rec + 4;
		switch (rec[3]) {
		case IHEX_DATA:
			rc = ft_text_add_data(ctx, name, ln.no, &b,
			    (uint64_t)base + ((unsigned)rec[1] << 8 | rec[2]),
			    data, dlen);
			break;
		case IHEX_EOF:
			rc = ihex_need(ctx, name, ln.no, "end-of-file", dlen,
			    0);
			eof_line = ln.no;
			break;
		case IHEX_EXT_SEGMENT:
			rc = ihex_need(ctx, name, ln.no,
			    "extended segment address", dlen, 2);
			base = ((uint32_t)data[0] << 8 | data[1]) << 4;
			break;
		case IHEX_EXT_LINEAR:
			rc = ihex_need(ctx, name, ln.no,
			    "extended linear address", dlen, 2);
			base = ((uint32_t)data[0] << 8 | data[1]) << 16;
			break;
		case IHEX_START_SEGMENT:
			rc = ihex_need(ctx, name, ln.no,
			    "start segment address", dlen, 4);
			break;
		case IHEX_START_LINEAR:
			rc = ihex_need(ctx, name, ln.no,
			    "start linear address", dlen, 4);
			break;
		default:
			rc = ft_fail(ctx, FT_E_FORMAT,
			    "%s:%u: unknown record type 0x%02X", name, ln.no,
			    rec[3]);
			break;
		}
		if (rc < 0)
			goto out;
	}
	if (eof_line == 0) {
		rc = ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: missing end-of-file record (:00000001FF) at the "
		    "end", name, last_line);
		goto out;
	}
	rc = ft_text_finish(ctx, name, &b, img);
out:
	ft_build_free(&b);
	return rc;
}
