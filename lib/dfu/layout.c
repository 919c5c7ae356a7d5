/*
 * dfu/layout.c - the DfuSe memory-layout string (ST UM0424), pure parser.
 *
 *   "@" NAME ( "/0x" HEXADDR "/" GROUP ( "," GROUP )* )+
 *   GROUP = COUNT "*" SIZE MULT TYPE
 *
 * MULT is B, K or M; TYPE is a..g, whose low three bits are readable,
 * erasable, writable.  ST documents COUNT as two digits and SIZE as three,
 * but ROMs send "064*0002Kg", "256*02Kg", a space instead of the multiplier
 * ("01*016 e", bytes) and names padded with spaces, so the parser takes any
 * number of digits and treats a missing multiplier as bytes.  Everything
 * else is rejected with FT_E_FORMAT and the offending column.
 *
 * Invariants of a parsed layout: every segment has npages >= 1 and
 * page_size >= 1, ends at or below 2^32, and segments keep the device's
 * order.
 */
#include <string.h>

#include "dfu.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal number at *p; advances *p.  -1 when none or above 2^32 - 1. */
static int
parse_dec(const char **p, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = *p;

	if (!is_digit(*s))
		return -1;
	while (is_digit(*s)) {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
		s++;
	}
	*p = s;
	*out = (uint32_t)v;
	return 0;
}

static int
parse_hex_addr(const char **p, uint32_t *out)
{
	uint64_t v = 0;
	const char *s = *p;
	int n = 0;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -1;
	s += 2;
	while (ft_hex_digit(*s) >= 0) {
		v = v * 16 + (uint64_t)ft_hex_digit(*s);
		if (v > UINT32_MAX)
			return -1;
		s++;
		n++;
	}
	if (n == 0)
		return -1;
	*p = s;
	*out = (uint32_t)v;
	return 0;
}

static int
bad(struct ft_ctx *ctx, const char *text, const char *at, const char *what)
{
	return ft_fail(ctx, FT_E_FORMAT,
	    "DfuSe layout \"%s\": %s at column %d", text, what,
	    (int)(at - text) + 1);
}

static uint64_t
seg_end(const struct ft_dfu_seg *g)
{
	return (uint64_t)g->start + (uint64_t)g->page_size * g->npages;
}

/* One "COUNT*SIZE<mult><type>" group starting at *p. */
static int
parse_group(struct ft_ctx *ctx, const char *text, const char **p,
    uint64_t start, struct ft_dfu_seg *seg)
{
	const char *s = *p;
	uint32_t count, size, mult = 1;
	uint64_t bytes;

	if (parse_dec(&s, &count) < 0)
		return bad(ctx, text, s, "expected a page count");
	if (*s != '*')
		return bad(ctx, text, s, "expected '*'");
	s++;
	if (parse_dec(&s, &size) < 0)
		return bad(ctx, text, s, "expected a page size");
	switch (*s) {
	case 'B':
		s++;
		break;
	case 'K':
		mult = KIB;
		s++;
		break;
	case 'M':
		mult = MIB;
		s++;
		break;
	case ' ':
		/* F0/F4 ROMs: "01*016 e" means 16 bytes. */
		while (*s == ' ')
			s++;
		break;
	default:
		/* No multiplier at all, the type follows: bytes. */
		break;
	}
	if (*s < 'a' || *s > 'g')
		return bad(ctx, text, s, "expected a type letter a..g");
	seg->attr = (unsigned)(*s - 'a' + 1) & 7u;
	s++;
	while (*s == ' ')
		s++;
	if (*s != ',' && *s != '/' && *s != '\0')
		return bad(ctx, text, s, "unexpected character");
	if (count == 0 || size == 0)
		return bad(ctx, text, *p, "empty group");
	bytes = (uint64_t)count * size * mult;
	if (start + bytes > (uint64_t)UINT32_MAX + 1)
		return bad(ctx, text, *p, "group runs past 4 GiB");
	seg->start = (uint32_t)start;
	seg->page_size = size * mult;
	seg->npages = count;
	*p = s;
	return 0;
}

int
ft_dfu_layout_parse(struct ft_ctx *ctx, const char *text,
    struct ft_dfu_layout *out)
{
	const char *s, *name, *name_end;
	size_t n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (text == NULL || text[0] != '@')
		return ft_fail(ctx, FT_E_FORMAT,
		    "DfuSe layout \"%s\": does not start with '@'",
		    text != NULL ? text : "");
	name = text + 1;
	name_end = strchr(name, '/');
	if (name_end == NULL)
		return bad(ctx, text, text + strlen(text), "no memory zone");
	for (s = name_end; s > name && s[-1] == ' '; s--)
		;
	n = (size_t)(s - name);
	while (n > 0 && *name == ' ') {
		name++;
		n--;
	}
	if (n >= sizeof(out->name))
		n = sizeof(out->name) - 1;
	memcpy(out->name, name, n);
	out->name[n] = '\0';

	s = name_end;
	while (*s == '/') {
		uint32_t zone;
		uint64_t addr;

		s++;
		if (parse_hex_addr(&s, &zone) < 0)
			return bad(ctx, text, s, "expected a 0x address");
		if (*s != '/')
			return bad(ctx, text, s, "expected '/' after address");
		s++;
		addr = zone;
		for (;;) {
			struct ft_dfu_seg *seg;

			if (out->nseg == FT_DFU_MAX_SEGS)
				return bad(ctx, text, s, "too many groups");
			seg = &out->seg[out->nseg];
			rc = parse_group(ctx, text, &s, addr, seg);
			if (rc < 0)
				return rc;
			out->nseg++;
			addr = seg_end(seg);
			if (*s != ',')
				break;
			s++;
		}
		/* A trailing '/' with nothing after it ends the string. */
		if (s[0] == '/' && s[1] == '\0')
			s++;
	}
	if (*s != '\0')
		return bad(ctx, text, s, "unexpected character");
	return 0;
}

const struct ft_dfu_seg *
ft_dfu_layout_find(const struct ft_dfu_layout *l, uint32_t addr)
{
	size_t i;

	for (i = 0; i < l->nseg; i++) {
		const struct ft_dfu_seg *g = &l->seg[i];

		if (addr >= g->start && addr < seg_end(g))
			return g;
	}
	return NULL;
}

int
ft_dfu_layout_flash(struct ft_ctx *ctx, const struct ft_dfu_layout *l,
    uint32_t addr, struct ft_layout *out)
{
	size_t i, first, last;
	const struct ft_dfu_seg *g = ft_dfu_layout_find(l, addr);

	memset(out, 0, sizeof(*out));
	if (g == NULL || !(g->attr & FT_DFU_WRITABLE))
		return ft_fail(ctx, FT_E_RANGE,
		    "0x%08x is not in writable memory of \"%s\"", addr,
		    l->name);
	first = last = (size_t)(g - l->seg);
	/* Segments are in the device's order; grow while contiguous. */
	while (first > 0 && (l->seg[first - 1].attr & FT_DFU_WRITABLE) &&
	    seg_end(&l->seg[first - 1]) == l->seg[first].start)
		first--;
	while (last + 1 < l->nseg && (l->seg[last + 1].attr &
	    FT_DFU_WRITABLE) && seg_end(&l->seg[last]) ==
	    l->seg[last + 1].start)
		last++;
	out->base = l->seg[first].start;
	for (i = first; i <= last; i++) {
		const struct ft_dfu_seg *s = &l->seg[i];
		struct ft_run *prev = out->nruns > 0 ?
		    &out->runs[out->nruns - 1] : NULL;

		if (prev != NULL && prev->size == s->page_size) {
			prev->count += s->npages;
			continue;
		}
		if (out->nruns == FT_MAX_RUNS)
			return ft_fail(ctx, FT_E_NOT_SUPPORTED,
			    "\"%s\": more than %d page-size runs", l->name,
			    FT_MAX_RUNS);
		out->runs[out->nruns].size = s->page_size;
		out->runs[out->nruns].count = s->npages;
		out->nruns++;
	}
	return 0;
}
