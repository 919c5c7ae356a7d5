/*
 * image/image.c - firmware image readers: Intel HEX, Motorola S-record, ELF32
 * (little-endian ARM executables) and raw binary, from a file, standard
 * input or memory.
 *
 * Every struct ft_image handed out keeps these invariants:
 *  - seg[] is sorted by (alt, addr) and alt is -1 (none of these formats
 *    names a DfuSe alt setting);
 *  - segments are never empty, never overlap and never touch: adjacent
 *    runs are merged into one segment;
 *  - addr + len <= 2^32.  The last segment may end exactly at 4 GiB, so
 *    callers compute ends in uint64_t;
 *  - each seg[i].data is its own malloc'd block; ft_image_free() frees
 *    them and seg[].
 *
 * Text formats are read strictly: one bad checksum, bad digit, wrong
 * length, missing end record, data after it, two records writing the same
 * byte or an address past 4 GiB fails the whole load with FT_E_FORMAT and
 * a "name:line: what" detail.  A file that was meant to be HEX never
 * falls back to binary.  LF and CRLF line ends, trailing blanks and blank
 * lines (anywhere, also after the end record) are accepted; hex digits
 * may be either case.  A file with an end record but no data is refused
 * too: flashing nothing is never what was meant.
 *
 * Format detection (FT_FMT_AUTO), in this order:
 *  1. ELF: the file starts with the magic 0x7F 'E' 'L' 'F'.
 *  2. DFU: the file starts with the DfuSe prefix "DfuSe" 0x01, or ends
 *     with a DFU suffix (signature "UFD" and bLength 16).
 *  3. Intel HEX: after leading blank lines, the first line is ':' and at
 *     least 10 hex digits (optionally followed by blanks).
 *  4. S-record: after leading blank lines, the first line is 'S', a
 *     decimal digit and at least 4 hex digits.
 *  5. Raw binary: anything else.
 * Only the first record decides: a file whose first line is a well-formed
 * record shape is text, and every later line is then judged strictly, so
 * a corrupt HEX file reports its bad line instead of being flashed raw.
 * A binary that starts with such a line is implausible (a Cortex-M vector
 * table cannot start with ':', the initial stack pointer is 8-aligned);
 * force FT_FMT_BINARY for one that does.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ft_int.h"

/* Images larger than this are refused: no STM32 has that much flash. */
#define IMAGE_MAX_BYTES (64u * 1024 * 1024)
#define IMAGE_MAX_TEXT "64 MiB"
/* First read buffer for pipes; it doubles up to the cap. */
#define READ_CHUNK_BYTES (64u * 1024)
#define ADDR_SPACE_END ((uint64_t)1 << 32)

/* Intel HEX: ':' LL AAAA TT data CC; 5 bytes besides the data. */
#define IHEX_OVERHEAD 5
#define IHEX_MAX_BYTES (IHEX_OVERHEAD + 255)
#define IHEX_MIN_DIGITS (2 * IHEX_OVERHEAD)
enum ihex_type {
	IHEX_DATA = 0x00,
	IHEX_EOF = 0x01,
	IHEX_EXT_SEGMENT = 0x02,	/* base = value << 4 */
	IHEX_START_SEGMENT = 0x03,	/* CS:IP, ignored */
	IHEX_EXT_LINEAR = 0x04,		/* base = value << 16 */
	IHEX_START_LINEAR = 0x05,	/* EIP, ignored */
};

/* S-record: 'S' type LL address data CC; LL counts address+data+CC. */
#define SREC_MAX_BYTES (1 + 255)
#define SREC_MIN_DIGITS 4

/* ELF32 (System V gABI, ARM ELF supplement). */
#define ELF_EHDR_BYTES 52
#define ELF_PHDR_BYTES 32
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2
#define EV_CURRENT 1
#define ET_REL 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_ARM 40
#define PT_LOAD 1
#define PN_XNUM 0xFFFF

/* DFU 1.1 suffix (16 bytes at the end) and DfuSe prefix (UM0391). */
#define DFU_SUFFIX_BYTES 16
#define DFUSE_PREFIX "DfuSe\x01"
#define DFUSE_PREFIX_BYTES 6

/*
 * A builder collects pieces of data (one per HEX/S-record record or ELF
 * program header) in file order, then sorts them, rejects overlaps and
 * merges adjacent pieces into segments.  Pieces point into src: the
 * decoded-bytes pool for text formats, the input buffer for ELF.
 */
struct piece {
	uint32_t addr;
	uint32_t len;
	size_t off;		/* into the builder's source bytes */
	unsigned where;		/* line number, or program header index */
	int alt;
};

struct builder {
	struct piece *p;
	size_t n;
	size_t cap;
	uint8_t *pool;		/* decoded bytes of text formats */
	size_t pool_len;
};

/* Where two pieces overlap, for the format's own message. */
struct clash {
	unsigned first;		/* the earlier piece in file order */
	unsigned second;	/* the later one */
	uint32_t addr;		/* first byte written twice */
};

static int
builder_add(struct builder *b, uint32_t addr, uint32_t len, size_t off,
    unsigned where)
{
	struct piece *np;
	size_t ncap;

	if (len == 0)
		return 0;
	if (b->n == b->cap) {
		ncap = b->cap ? b->cap * 2 : 64;
		np = realloc(b->p, ncap * sizeof(*np));
		if (np == NULL)
			return FT_E_NOMEM;
		b->p = np;
		b->cap = ncap;
	}
	b->p[b->n].addr = addr;
	b->p[b->n].len = len;
	b->p[b->n].off = off;
	b->p[b->n].where = where;
	b->p[b->n].alt = -1;
	b->n++;
	return 0;
}

static void
builder_free(struct builder *b)
{
	free(b->p);
	free(b->pool);
	memset(b, 0, sizeof(*b));
}

static int
piece_cmp(const void *va, const void *vb)
{
	const struct piece *a = va, *b = vb;

	if (a->alt != b->alt)
		return a->alt < b->alt ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->where != b->where)
		return a->where < b->where ? -1 : 1;
	return 0;
}

/* Pieces are sorted: does p start a new segment after the one ending at
 * end (exclusive, alt alt)? */
static int
starts_segment(const struct piece *p, int alt, uint64_t end)
{
	return p->alt != alt || p->addr != end;
}

/*
 * Turn the pieces into img->seg.  Returns 0, FT_E_NOMEM, or 1 with *cl
 * filled when two pieces write the same byte.
 */
static int
builder_finish(struct builder *b, const uint8_t *src, struct ft_image *img,
    struct clash *cl)
{
	struct ft_segment *seg;
	size_t i, nseg, k, fill;
	uint64_t end;
	size_t end_piece;
	int alt;

	qsort(b->p, b->n, sizeof(*b->p), piece_cmp);

	/* Pass 1: overlaps and the number of segments. */
	nseg = 0;
	end = 0;
	end_piece = 0;
	alt = 0;
	for (i = 0; i < b->n; i++) {
		const struct piece *p = &b->p[i];

		if (i > 0 && p->alt == alt && p->addr < end) {
			const struct piece *q = &b->p[end_piece];

			cl->first = q->where < p->where ? q->where : p->where;
			cl->second = q->where < p->where ? p->where : q->where;
			cl->addr = p->addr;
			return 1;
		}
		if (i == 0 || starts_segment(p, alt, end))
			nseg++;
		alt = p->alt;
		end = (uint64_t)p->addr + p->len;
		end_piece = i;
	}

	seg = calloc(nseg ? nseg : 1, sizeof(*seg));
	if (seg == NULL)
		return FT_E_NOMEM;

	/* Pass 2: segment bounds, then one block per segment. */
	k = 0;
	for (i = 0; i < b->n; i++) {
		const struct piece *p = &b->p[i];

		if (i == 0 || starts_segment(p, seg[k - 1].alt,
		    (uint64_t)seg[k - 1].addr + seg[k - 1].len)) {
			seg[k].addr = p->addr;
			seg[k].len = 0;
			seg[k].alt = p->alt;
			k++;
		}
		/* Cannot wrap: every piece ends at or below 2^32. */
		seg[k - 1].len += p->len;
	}
	for (k = 0; k < nseg; k++) {
		seg[k].data = malloc(seg[k].len);
		if (seg[k].data == NULL) {
			while (k > 0)
				free(seg[--k].data);
			free(seg);
			return FT_E_NOMEM;
		}
	}
	k = 0;
	fill = 0;
	for (i = 0; i < b->n; i++) {
		const struct piece *p = &b->p[i];

		if (fill == seg[k].len) {
			k++;
			fill = 0;
		}
		memcpy(seg[k].data + fill, src + p->off, p->len);
		fill += p->len;
	}
	img->seg = seg;
	img->nseg = nseg;
	return 0;
}

/*
 * Text helpers.
 */
struct line {
	const char *s;
	size_t len;		/* without the line end and trailing blanks */
	unsigned no;		/* 1-based */
};

/* Next line of [*pos, end); 0 at the end of the buffer. */
static int
next_line(const uint8_t *buf, size_t len, size_t *pos, struct line *ln)
{
	const uint8_t *start, *nl;
	size_t n;

	if (*pos >= len)
		return 0;
	start = buf + *pos;
	nl = memchr(start, '\n', len - *pos);
	n = nl ? (size_t)(nl - start) : len - *pos;
	*pos += nl ? n + 1 : n;
	/* CRLF and stray trailing blanks are not part of the record. */
	while (n > 0 && (start[n - 1] == '\r' || start[n - 1] == ' ' ||
	    start[n - 1] == '\t'))
		n--;
	ln->s = (const char *)start;
	ln->len = n;
	ln->no++;
	return 1;
}

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Index of the first non-hex character of s[0..n), or n. */
static size_t
hex_span(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && hexval(s[i]) >= 0; i++)
		;
	return i;
}

/*
 * Check that s[0..n) is an even number of hex digits, at most max bytes,
 * and decode it.  col is the 1-based column of s[0] for messages.
 */
static int
decode_hex(struct ft_ctx *ctx, const char *name, unsigned lineno,
    const char *s, size_t n, size_t col, uint8_t *out, size_t max,
    size_t *nbytes)
{
	size_t i, bad;
	unsigned char c;

	bad = hex_span(s, n);
	if (bad < n) {
		c = (unsigned char)s[bad];
		if (c > ' ' && c < 0x7F)
			return ft_fail(ctx, FT_E_FORMAT,
			    "%s:%u: bad hex digit '%c' in column %zu",
			    name, lineno, c, col + bad);
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: bad character 0x%02X in column %zu",
		    name, lineno, c, col + bad);
	}
	if (n % 2 != 0)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: wrong length: odd number of hex digits (%zu)",
		    name, lineno, n);
	if (n / 2 > max)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: wrong length: %zu bytes, a record holds at most "
		    "%zu", name, lineno, n / 2, max);
	for (i = 0; i < n / 2; i++)
		out[i] = (uint8_t)(hexval(s[2 * i]) << 4 |
		    hexval(s[2 * i + 1]));
	*nbytes = n / 2;
	return 0;
}

/* Blank-line skipping shared by detection: offset of the first byte that
 * is not a space, tab, CR or LF. */
static size_t
skip_blank(const uint8_t *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' &&
		    buf[i] != '\n')
			break;
	return i;
}

/*
 * Text records decode into one pool; at most half the input, so a single
 * allocation of len / 2 bytes is enough.
 */
static int
builder_pool(struct builder *b, size_t len)
{
	b->pool = malloc(len / 2 + 1);
	return b->pool ? 0 : FT_E_NOMEM;
}

static int
add_record_data(struct ft_ctx *ctx, const char *name, unsigned lineno,
    struct builder *b, uint64_t addr, const uint8_t *data, size_t n)
{
	if (addr + n > ADDR_SPACE_END)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: %zu bytes at 0x%llX run past the 4 GiB "
		    "address space", name, lineno, n,
		    (unsigned long long)addr);
	if (n == 0)
		return 0;
	memcpy(b->pool + b->pool_len, data, n);
	b->pool_len += n;
	if (builder_add(b, (uint32_t)addr, (uint32_t)n, b->pool_len - n,
	    lineno) < 0)
		return ft_fail(ctx, FT_E_NOMEM, "%s: out of memory", name);
	return 0;
}

static int
text_finish(struct ft_ctx *ctx, const char *name, struct builder *b,
    struct ft_image *img)
{
	struct clash cl;
	int rc;

	if (b->n == 0)
		return ft_fail(ctx, FT_E_FORMAT, "%s: no data records", name);
	rc = builder_finish(b, b->pool, img, &cl);
	if (rc == 1)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: overlapping data: 0x%08X is also written by "
		    "line %u", name, cl.second, cl.addr, cl.first);
	if (rc < 0)
		return ft_fail(ctx, rc, "%s: out of memory", name);
	return 0;
}

/*
 * Intel HEX.  Extended segment (02) and linear (04) records set one
 * running base; a data record lands at base + offset and runs on linearly
 * (no 64 KiB wrap inside a record), so a record crossing 0xFFFFFFFF is an
 * error rather than a silent wrap to 0.
 */
static int
ihex_record(struct ft_ctx *ctx, const char *name, const struct line *ln,
    uint8_t *rec, size_t *nrec)
{
	size_t n, i;
	unsigned sum, want;
	int rc;

	if (ln->s[0] != ':')
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: a record must start with ':'", name, ln->no);
	rc = decode_hex(ctx, name, ln->no, ln->s + 1, ln->len - 1, 2, rec,
	    IHEX_MAX_BYTES, &n);
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

static int
parse_ihex(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, struct ft_image *img)
{
	struct builder b = { 0 };
	struct line ln = { 0 };
	uint8_t rec[IHEX_MAX_BYTES];
	size_t pos = 0, n = 0;
	uint32_t base = 0;
	unsigned eof_line = 0, last_line = 0, dlen;
	const uint8_t *data;
	int rc;

	if ((rc = builder_pool(&b, len)) < 0)
		return ft_fail(ctx, rc, "%s: out of memory", name);
	while (next_line(buf, len, &pos, &ln)) {
		if (skip_blank((const uint8_t *)ln.s, ln.len) == ln.len)
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
			rc = add_record_data(ctx, name, ln.no, &b,
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
	rc = text_finish(ctx, name, &b, img);
out:
	builder_free(&b);
	return rc;
}

/*
 * Motorola S-record.  S0 header, S1/S2/S3 data with 16/24/32-bit
 * addresses, S5/S6 counts of the data records so far (checked), S7/S8/S9
 * end records (start address ignored).  S4 is reserved.
 */
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
srec_record(struct ft_ctx *ctx, const char *name, const struct line *ln,
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
	rc = decode_hex(ctx, name, ln->no, ln->s + 2, ln->len - 2, 3, rec,
	    SREC_MAX_BYTES, &n);
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

static int
parse_srec(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, struct ft_image *img)
{
	struct builder b = { 0 };
	struct line ln = { 0 };
	uint8_t rec[SREC_MAX_BYTES];
	size_t pos = 0, n = 0;
	unsigned end_line = 0, last_line = 0, abytes, i;
	unsigned long ndata = 0;
	uint32_t addr;
	char type;
	int rc;

	if ((rc = builder_pool(&b, len)) < 0)
		return ft_fail(ctx, rc, "%s: out of memory", name);
	while (next_line(buf, len, &pos, &ln)) {
		if (skip_blank((const uint8_t *)ln.s, ln.len) == ln.len)
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
			rc = add_record_data(ctx, name, ln.no, &b, addr,
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
	rc = text_finish(ctx, name, &b, img);
out:
	builder_free(&b);
	return rc;
}

/*
 * ELF32 little-endian ARM executables.  Each PT_LOAD header with file
 * bytes contributes p_filesz bytes at its physical (load) address: that
 * is where the linker puts initialised data for the startup code to copy,
 * and where flash holds it.  The zero-filled p_memsz tail (.bss) is RAM
 * and is not part of the image.
 */
static uint16_t
get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int
elf_header(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len)
{
	unsigned type, machine;

	if (len < 4 || memcmp(buf, "\177ELF", 4) != 0)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: not an ELF file (no ELF magic)", name);
	if (len < 6)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: truncated ELF header (%zu bytes)", name, len);
	if (buf[4] == ELFCLASS64)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: 64-bit ELF is not supported (expected a 32-bit ARM "
		    "executable)", name);
	if (buf[4] != ELFCLASS32)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: bad ELF class %u", name, buf[4]);
	if (buf[5] == ELFDATA2MSB)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: big-endian ELF is not supported (expected a "
		    "little-endian ARM executable)", name);
	if (buf[5] != ELFDATA2LSB)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: bad ELF data encoding %u", name, buf[5]);
	if (len < ELF_EHDR_BYTES)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: truncated ELF header (%zu of %u bytes)", name, len,
		    ELF_EHDR_BYTES);
	if (buf[6] != EV_CURRENT || ft_get_le32(buf + 20) != EV_CURRENT)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: unknown ELF version", name);
	type = get_le16(buf + 16);
	machine = get_le16(buf + 18);
	if (type == ET_REL)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF relocatable object, not an executable (link it "
		    "first)", name);
	if (type != ET_EXEC)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF type %u is not an executable", name, type);
	if (machine != EM_ARM)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF machine %u is not ARM (%u)", name, machine,
		    EM_ARM);
	return 0;
}

static int
parse_elf(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, struct ft_image *img)
{
	struct builder b = { 0 };
	struct clash cl;
	uint32_t phoff, off, paddr, filesz, memsz;
	unsigned phentsize, phnum, i;
	const uint8_t *ph;
	int rc;

	if ((rc = elf_header(ctx, name, buf, len)) < 0)
		return rc;
	phoff = ft_get_le32(buf + 28);
	phentsize = get_le16(buf + 42);
	phnum = get_le16(buf + 44);
	if (phnum == 0)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF has no program headers", name);
	if (phnum == PN_XNUM)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF with 65535 or more program headers is not "
		    "supported", name);
	if (phentsize < ELF_PHDR_BYTES)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF program header size %u is too small (%u)", name,
		    phentsize, ELF_PHDR_BYTES);
	if ((uint64_t)phoff + (uint64_t)phnum * phentsize > len)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF program headers (%u at offset %u) run past the "
		    "end of the file (%zu bytes)", name, phnum,
		    (unsigned)phoff, len);

	for (i = 0; i < phnum; i++) {
		ph = buf + phoff + (size_t)i * phentsize;
		if (ft_get_le32(ph) != PT_LOAD)
			continue;
		off = ft_get_le32(ph + 4);
		paddr = ft_get_le32(ph + 12);
		filesz = ft_get_le32(ph + 16);
		memsz = ft_get_le32(ph + 20);
		if (filesz == 0)
			continue;
		if (filesz > memsz) {
			rc = ft_fail(ctx, FT_E_FORMAT,
			    "%s: ELF program header %u: file size %u exceeds "
			    "memory size %u", name, i, (unsigned)filesz,
			    (unsigned)memsz);
			goto out;
		}
		if ((uint64_t)off + filesz > len) {
			rc = ft_fail(ctx, FT_E_FORMAT,
			    "%s: ELF program header %u: %u bytes at offset %u "
			    "run past the end of the file (%zu bytes)", name,
			    i, (unsigned)filesz, (unsigned)off, len);
			goto out;
		}
		if ((uint64_t)paddr + filesz > ADDR_SPACE_END) {
			rc = ft_fail(ctx, FT_E_FORMAT,
			    "%s: ELF program header %u: %u bytes at 0x%08X "
			    "run past the 4 GiB address space", name, i,
			    (unsigned)filesz, (unsigned)paddr);
			goto out;
		}
		if (builder_add(&b, paddr, filesz, off, i) < 0) {
			rc = ft_fail(ctx, FT_E_NOMEM, "%s: out of memory",
			    name);
			goto out;
		}
	}
	if (b.n == 0) {
		rc = ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF has no loadable segment with file data", name);
		goto out;
	}
	rc = builder_finish(&b, buf, img, &cl);
	if (rc == 1)
		rc = ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF program headers %u and %u overlap at 0x%08X",
		    name, cl.first, cl.second, (unsigned)cl.addr);
	else if (rc < 0)
		rc = ft_fail(ctx, rc, "%s: out of memory", name);
out:
	builder_free(&b);
	return rc;
}

/*
 * Raw binary: the whole buffer, one segment at base.
 */
static int
parse_binary(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, uint32_t base, struct ft_image *img)
{
	if ((uint64_t)base + len > ADDR_SPACE_END)
		return ft_fail(ctx, FT_E_RANGE,
		    "%s: %zu bytes at 0x%08X run past the 4 GiB address "
		    "space", name, len, (unsigned)base);
	img->seg = calloc(1, sizeof(*img->seg));
	if (img->seg == NULL)
		return ft_fail(ctx, FT_E_NOMEM, "%s: out of memory", name);
	img->seg[0].data = malloc(len);
	if (img->seg[0].data == NULL) {
		free(img->seg);
		img->seg = NULL;
		return ft_fail(ctx, FT_E_NOMEM, "%s: out of memory", name);
	}
	memcpy(img->seg[0].data, buf, len);
	img->seg[0].addr = base;
	img->seg[0].len = (uint32_t)len;
	img->seg[0].alt = -1;
	img->nseg = 1;
	return 0;
}

/*
 * DFU files belong to lib/image/dfu_file.c, which builds its own image (with
 * alt settings).  Until it is wired in here they are refused instead of
 * being mistaken for raw binaries.  The hook: make this return
 * ft_dfu_image_parse(ctx, name, buf, len, base, out).
 */
static int
load_dfu(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, uint32_t base, struct ft_image **out)
{
	return ft_dfu_image_parse(ctx, name, buf, len, base, out);
}

/*
 * Detection (see the rule at the top of this file).
 */

/* Is the rest of the line from buf[i] at least min_digits hex digits
 * followed by nothing but blanks? */
static int
record_shaped(const uint8_t *buf, size_t len, size_t i, size_t min_digits)
{
	size_t digits = 0;

	while (i < len && hexval((char)buf[i]) >= 0) {
		digits++;
		i++;
	}
	while (i < len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'))
		i++;
	return digits >= min_digits && (i == len || buf[i] == '\n');
}

static int
looks_like_dfu(const uint8_t *buf, size_t len)
{
	if (len >= DFUSE_PREFIX_BYTES &&
	    memcmp(buf, DFUSE_PREFIX, DFUSE_PREFIX_BYTES) == 0)
		return 1;
	/* Suffix: ... ucDfuSignature "UFD", bLength 16, dwCRC. */
	return len >= DFU_SUFFIX_BYTES && buf[len - 8] == 'U' &&
	    buf[len - 7] == 'F' && buf[len - 6] == 'D' &&
	    buf[len - 5] == DFU_SUFFIX_BYTES;
}

static enum ft_image_format
detect_format(const uint8_t *buf, size_t len)
{
	size_t i;

	if (len >= 4 && memcmp(buf, "\177ELF", 4) == 0)
		return FT_FMT_ELF;
	if (looks_like_dfu(buf, len))
		return FT_FMT_DFU;
	i = skip_blank(buf, len);
	if (i < len && buf[i] == ':' &&
	    record_shaped(buf, len, i + 1, IHEX_MIN_DIGITS))
		return FT_FMT_IHEX;
	if (i + 1 < len && buf[i] == 'S' && buf[i + 1] >= '0' &&
	    buf[i + 1] <= '9' &&
	    record_shaped(buf, len, i + 2, SREC_MIN_DIGITS))
		return FT_FMT_SREC;
	return FT_FMT_BINARY;
}

/*
 * Public functions.
 */
int
ft_image_from_buffer(struct ft_ctx *ctx, const char *name,
    const uint8_t *buf, size_t len, enum ft_image_format format,
    uint32_t base, struct ft_image **out)
{
	struct ft_image *img;
	int rc;

	if (out == NULL)
		return ft_fail(ctx, FT_E_INVALID, "image: no result pointer");
	*out = NULL;
	if (name == NULL)
		name = "image";
	if (buf == NULL && len > 0)
		return ft_fail(ctx, FT_E_INVALID, "%s: no buffer", name);
	if (len > IMAGE_MAX_BYTES)
		return ft_fail(ctx, FT_E_INVALID,
		    "%s: %zu bytes; images larger than %s are refused",
		    name, len, IMAGE_MAX_TEXT);
	if (len == 0)
		return ft_fail(ctx, FT_E_FORMAT, "%s: empty image", name);
	if (format == FT_FMT_AUTO)
		format = detect_format(buf, len);
	if (format == FT_FMT_DFU)
		return load_dfu(ctx, name, buf, len, base, out);

	img = calloc(1, sizeof(*img));
	if (img == NULL)
		return ft_fail(ctx, FT_E_NOMEM, "%s: out of memory", name);
	img->format = format;
	switch (format) {
	case FT_FMT_BINARY:
		rc = parse_binary(ctx, name, buf, len, base, img);
		break;
	case FT_FMT_IHEX:
		rc = parse_ihex(ctx, name, buf, len, img);
		break;
	case FT_FMT_SREC:
		rc = parse_srec(ctx, name, buf, len, img);
		break;
	case FT_FMT_ELF:
		rc = parse_elf(ctx, name, buf, len, img);
		break;
	default:
		rc = ft_fail(ctx, FT_E_INVALID, "%s: unknown image format %d",
		    name, (int)format);
		break;
	}
	if (rc < 0) {
		ft_image_free(img);
		return rc;
	}
	*out = img;
	return 0;
}

/* Read fd to the end, refusing more than IMAGE_MAX_BYTES. */
static int
read_all(struct ft_ctx *ctx, const char *name, int fd, size_t hint,
    uint8_t **out, size_t *outlen)
{
	uint8_t *buf = NULL, *nb;
	size_t cap, len = 0;
	ssize_t r;

	cap = hint > 0 && hint <= IMAGE_MAX_BYTES ? hint + 1 : READ_CHUNK_BYTES;
	for (;;) {
		if (len == cap || buf == NULL) {
			if (buf != NULL)
				cap = cap * 2 > IMAGE_MAX_BYTES + 1 ?
				    IMAGE_MAX_BYTES + 1 : cap * 2;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				return ft_fail(ctx, FT_E_NOMEM,
				    "%s: out of memory", name);
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return ft_fail(ctx, FT_E_IO, "%s: %s", name,
			    strerror(e));
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > IMAGE_MAX_BYTES) {
			free(buf);
			return ft_fail(ctx, FT_E_INVALID,
			    "%s: larger than %s; images that big are refused",
			    name, IMAGE_MAX_TEXT);
		}
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* Regular files and pipes (named or not) may hold an image. */
static int
check_file_type(struct ft_ctx *ctx, const char *name, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return ft_fail(ctx, FT_E_INVALID,
		    "%s: is a directory, not an image file", name);
	if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode))
		return ft_fail(ctx, FT_E_INVALID,
		    "%s: not a regular file (device or other special file); "
		    "give an image file", name);
	if (S_ISREG(st->st_mode) && (uint64_t)st->st_size > IMAGE_MAX_BYTES)
		return ft_fail(ctx, FT_E_INVALID,
		    "%s: %llu bytes; images larger than %s are refused",
		    name, (unsigned long long)st->st_size, IMAGE_MAX_TEXT);
	return 0;
}

int
ft_image_load(struct ft_ctx *ctx, const char *path,
    enum ft_image_format format, uint32_t base, struct ft_image **out)
{
	struct stat st;
	const char *name;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, rc;

	if (out == NULL || path == NULL)
		return ft_fail(ctx, FT_E_INVALID, "image: no file name");
	*out = NULL;
	if (strcmp(path, "-") == 0) {
		/* Standard input may be a pipe, a file or a terminal; only a
		 * directory makes no sense.  The size cap bounds the rest. */
		name = "<stdin>";
		if (fstat(STDIN_FILENO, &st) < 0)
			return ft_fail(ctx, FT_E_IO, "%s: %s", name,
			    strerror(errno));
		if (S_ISDIR(st.st_mode))
			return ft_fail(ctx, FT_E_INVALID,
			    "%s: is a directory, not an image file", name);
		rc = read_all(ctx, name, STDIN_FILENO,
		    S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, &buf, &len);
	} else {
		/* stat before open: opening a device (a serial port) can
		 * have side effects. */
		name = path;
		if (stat(path, &st) < 0)
			return ft_fail(ctx, FT_E_IO, "%s: %s", name,
			    strerror(errno));
		if ((rc = check_file_type(ctx, name, &st)) < 0)
			return rc;
		fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return ft_fail(ctx, FT_E_IO, "%s: %s", name,
			    strerror(errno));
		/* The name may have been replaced in between. */
		if (fstat(fd, &st) < 0) {
			rc = ft_fail(ctx, FT_E_IO, "%s: %s", name,
			    strerror(errno));
		} else if ((rc = check_file_type(ctx, name, &st)) == 0) {
			rc = read_all(ctx, name, fd,
			    S_ISREG(st.st_mode) ? (size_t)st.st_size : 0,
			    &buf, &len);
		}
		close(fd);
	}
	if (rc < 0)
		return rc;
	rc = ft_image_from_buffer(ctx, name, buf, len, format, base, out);
	free(buf);
	return rc;
}

void
ft_image_free(struct ft_image *img)
{
	size_t i;

	if (img == NULL)
		return;
	for (i = 0; i < img->nseg; i++)
		free(img->seg[i].data);
	free(img->seg);
	free(img);
}

enum ft_image_format
ft_image_format(const struct ft_image *img)
{
	return img ? img->format : FT_FMT_AUTO;
}

const char *
ft_format_name(enum ft_image_format format)
{
	switch (format) {
	case FT_FMT_AUTO:
		return "auto";
	case FT_FMT_BINARY:
		return "binary";
	case FT_FMT_IHEX:
		return "ihex";
	case FT_FMT_SREC:
		return "srec";
	case FT_FMT_ELF:
		return "elf";
	case FT_FMT_DFU:
		return "dfu";
	}
	return "unknown";
}

size_t
ft_image_nsegments(const struct ft_image *img)
{
	return img ? img->nseg : 0;
}

const struct ft_segment *
ft_image_segment(const struct ft_image *img, size_t index)
{
	if (img == NULL || index >= img->nseg)
		return NULL;
	return &img->seg[index];
}

uint64_t
ft_image_bytes(const struct ft_image *img)
{
	uint64_t sum = 0;
	size_t i;

	if (img == NULL)
		return 0;
	for (i = 0; i < img->nseg; i++)
		sum += img->seg[i].len;
	return sum;
}

int
ft_image_relocate(struct ft_ctx *ctx, struct ft_image *img,
    uint32_t new_base)
{
	uint64_t lo, hi, end;
	size_t i;

	if (img == NULL)
		return ft_fail(ctx, FT_E_INVALID, "relocate: no image");
	if (img->nseg == 0)
		return 0;
	/* Sorted by (alt, addr): with several alts the lowest address is
	 * not necessarily seg[0], so scan them all. */
	lo = UINT32_MAX;
	hi = 0;
	for (i = 0; i < img->nseg; i++) {
		end = (uint64_t)img->seg[i].addr + img->seg[i].len;
		if (img->seg[i].addr < lo)
			lo = img->seg[i].addr;
		if (end > hi)
			hi = end;
	}
	if ((uint64_t)new_base + (hi - lo) > ADDR_SPACE_END)
		return ft_fail(ctx, FT_E_RANGE,
		    "relocate: %llu bytes from 0x%08X would run past the "
		    "4 GiB address space", (unsigned long long)(hi - lo),
		    (unsigned)new_base);
	/* Every segment moves by the same amount, so order and gaps stay. */
	for (i = 0; i < img->nseg; i++)
		img->seg[i].addr = (uint32_t)(img->seg[i].addr - lo + new_base);
	return 0;
}
