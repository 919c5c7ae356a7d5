/*
 * image/text.c - what the text formats (Intel HEX, S-record) share:
 * lines, hex digits, records' data into the builder's pool, and the
 * messages that name the file and line.
 */
#include <stdlib.h>
#include <string.h>

#include "image.h"

/* Next line of [*pos, end); 0 at the end of the buffer. */
int
ft_text_next_line(const uint8_t *buf, size_t len, size_t *pos,
    struct ft_line *ln)
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

/* Index of the first non-hex character of s[0..n), or n. */
static size_t
hex_span(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && ft_hex_digit(s[i]) >= 0; i++)
		;
	return i;
}

/*
 * Check that s[0..n) is an even number of hex digits, at most max bytes,
 * and decode it.  col is the 1-based column of s[0] for messages.
 */
int
ft_text_decode_hex(struct ft_ctx *ctx, const char *name, unsigned lineno,
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
		out[i] = (uint8_t)(ft_hex_digit(s[2 * i]) << 4 |
		    ft_hex_digit(s[2 * i + 1]));
	*nbytes = n / 2;
	return 0;
}

/* Blank-line skipping shared by detection: offset of the first byte that
 * is not a space, tab, CR or LF. */
size_t
ft_text_skip_blank(const uint8_t *buf, size_t len)
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
int
ft_build_pool(struct ft_builder *b, size_t len)
{
	b->pool = malloc(len / 2 + 1);
	return b->pool ? 0 : FT_E_NOMEM;
}

int
ft_text_add_data(struct ft_ctx *ctx, const char *name, unsigned lineno,
    struct ft_builder *b, uint64_t addr, const uint8_t *data, size_t n)
{
	if (addr + n > FT_ADDR_SPACE_END)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: %zu bytes at 0x%llX run past the 4 GiB "
		    "address space", name, lineno, n,
		    (unsigned long long)addr);
	if (n == 0)
		return 0;
	memcpy(b->pool + b->pool_len, data, n);
	b->pool_len += n;
	if (ft_build_add(b, -1, (uint32_t)addr, (uint32_t)n,
	    b->pool_len - n, lineno) < 0)
		return ft_fail(ctx, FT_E_NOMEM, "%s: out of memory", name);
	return 0;
}

int
ft_text_finish(struct ft_ctx *ctx, const char *name, struct ft_builder *b,
    struct ft_image *img)
{
	struct ft_clash cl;
	int rc;

	if (b->n == 0)
		return ft_fail(ctx, FT_E_FORMAT, "%s: no data records", name);
	rc = ft_build_finish(b, b->pool, img, &cl);
	if (rc == 1)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s:%u: overlapping data: 0x%08X is also written by "
		    "line %u", name, cl.second, cl.addr, cl.first);
	if (rc < 0)
		return ft_fail(ctx, rc, "%s: out of memory", name);
	return 0;
}
