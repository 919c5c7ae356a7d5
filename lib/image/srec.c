/*
 * image/srec.c - Motorola S-record.  S0 header, S1/S2/S3 data with
 * 16/24/32-bit addresses, S5/S6 counts of the data records so far
 * (checked), S7/S8/S9 end records (start address ignored).  S4 is
 * reserved.
 */
#include <stdlib.h>
#include <string.h>

#include "image.h"

/* S-record: 'S' type LL address data CC; LL counts address+data+CC. */
#define SREC_MAX_BYTES (1 + 255)

static unsigned
srec_addr_bytes(char type)
{
	switch (type) {
	case '0': case '1': case '5': case '9':
		return 2;
	case '2': case '6': case '8':
		return 3;
	case '3': case '7':
		return 4;
	default:
		return 0;
	}
}

static int
srec_record(struct ft_ctx *ctx, const char *name, const struct ft_line *ln,
    uint8_t *rec, size_t *nrec)
{
	unsigned sum, want, abytes;
	size_t n, i;
	int rc;

	if (ln->s[0] != 'S')
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: a record must start with 'S'", name, ln->no);
	if (ln->len < 2 || ln->s[1] < '0' || ln->s[1] > '9')
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: 'S' must be followed by the record type digit",
		    name, ln->no);
	abytes = srec_addr_bytes(ln->s[1]);
	if (abytes == 0)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: unknown record type S%c", name, ln->no, ln->s[1]);
	rc = ft_text_decode_hex(ctx, name, ln->no, ln->s + 2, ln->len - 2, 3,
	    rec, SREC_MAX_BYTES, &n);
	if (rc < 0)
		return rc;
	if (n < 2 || n != (size_t)rec[0] + 1)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: wrong length: byte count 0x%02X, the record has "
		    "%zu bytes after it", name, ln->no, n ? rec[0] : 0u,
		    n ? n - 1 : 0);
	if (rec[0] < abytes + 1)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: wrong length: byte count %u is too small for an "
		    "S%c record", name, ln->no, rec[0], ln->s[1]);
	sum = 0;
	for (i = 0; i + 1 < n; i++)
		sum += rec[i];
	want = ~sum & 0xFF;
	if (rec[n - 1] != want)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: bad checksum (0x%02X, expected 0x%02X)",
		    name, ln->no, rec[n - 1], want);
	*nrec = n;
	return 0;
}

int
ft_read_srec(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, struct ft_image *img)
{
	struct ft_builder b = { 0 };
	struct ft_line ln = { 0 };
	uint8_t rec[SREC_MAX_BYTES];
	size_t pos = 0, n = 0;
	unsigned end_line = 0, last_line = 0, abytes, i;
	unsigned long ndata = 0;
	uint32_t addr;
	char type;
	int rc;

	if ((rc = ft_build_pool(&b, len)) < 0)
		return ft_fail(ctx, rc, "%s: out of memory", name);
	while (ft_text_next_line(buf, len, &pos, &ln)) {
		if (ft_text_skip_blank((const uint8_t *)ln.s, ln.len) == ln.len)
			continue;
		last_line = ln.no;
		if (end_line != 0) {
			rc = ft_fail(ctx, FT_E_FORMAT,
			    "%s:%u: data after the end record (line %u)",
			    name, ln.no, end_line);
			goto out;
		}
		if ((rc = srec_record(ctx, name, &ln, rec, &n)) < 0)
			goto out;
		type = ln.s[1];
		abytes = srec_addr_bytes(type);
		addr = 0;
		for (i = 0; i < abytes; i++)
			addr = addr << 8 | rec[1 + i];
		switch (type) {
		case '0':
			break;
		case '1': case '2': case '3':
			ndata++;
			rc = ft_text_add_data(ctx, name, ln.no, &b, addr,
			    rec + 1 + abytes, n - 2 - abytes);
			break;
		case '5': case '6':
			if (n - 2 != abytes) {
				rc = ft_fail(ctx, FT_E_FORMAT,
				    "%s:%u: S%c record must hold no data",
				    name, ln.no, type);
			} else if (addr != ndata) {
				rc = ft_fail(ctx, FT_E_FORMAT,
				    "%s:%u: record count S%c says %lu data "
				    "records, the file has %lu", name, ln.no,
				    type, (unsigned long)addr, ndata);
			}
			break;
		default:	/* '7', '8', '9': checked by srec_record */
			if (n - 2 != abytes)
				rc = ft_fail(ctx, FT_E_FORMAT,
				    "%s:%u: S%c record must hold no data",
				    name, ln.no, type);
			end_line = ln.no;
			break;
		}
		if (rc < 0)
			goto out;
	}
	if (end_line == 0) {
		rc = ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: missing end record (S7, S8 or S9) at the end",
		    name, last_line);
		goto out;
	}
	rc = ft_text_finish(ctx, name, &b, img);
out:
	ft_build_free(&b);
	return rc;
}
