/*
 * layout.c - flash layouts as {size, count} runs of erase units laid end
 * to end from a base address, and the "BASE:RUNS" option parser.
 *
 * Invariant: a valid layout has 1..FT_MAX_RUNS runs, every run a non-zero
 * count of non-zero sizes, and ends at or below 4 GiB.
 */
#include <stdlib.h>
#include <string.h>

#include "ft_int.h"

uint64_t
ft_layout_size(const struct ft_layout *layout)
{
	uint64_t total = 0;
	unsigned i;

	for (i = 0; i < layout->nruns && i < FT_MAX_RUNS; i++)
		total += (uint64_t)layout->runs[i].size * layout->runs[i].count;
	return total;
}

uint32_t
ft_layout_units(const struct ft_layout *layout)
{
	uint32_t n = 0;
	unsigned i;

	for (i = 0; i < layout->nruns && i < FT_MAX_RUNS; i++)
		n += layout->runs[i].count;
	return n;
}

int
ft_layout_find(const struct ft_layout *layout, uint32_t addr,
    uint32_t *index, uint32_t *unit_start, uint32_t *unit_size)
{
	uint64_t start = layout->base;
	uint32_t idx = 0;
	unsigned i;

	if (addr < layout->base)
		return FT_E_RANGE;
	for (i = 0; i < layout->nruns && i < FT_MAX_RUNS; i++) {
		const struct ft_run *r = &layout->runs[i];
		uint64_t end = start + (uint64_t)r->size * r->count;

		if (addr < end && r->size != 0) {
			uint32_t k = (uint32_t)((addr - start) / r->size);

			if (index != NULL)
				*index = idx + k;
			if (unit_start != NULL)
				*unit_start = (uint32_t)(start +
				    (uint64_t)k * r->size);
			if (unit_size != NULL)
				*unit_size = r->size;
			return 0;
		}
		idx += r->count;
		start = end;
	}
	return FT_E_RANGE;
}

static int
parse_size(const char *text, uint32_t *out)
{
	return ft_parse_u32(text, 1, out);
}

int
ft_layout_parse(struct ft_ctx *ctx, const char *text, struct ft_layout *out)
{
	char buf[256];
	char *runs, *item, *next;
	struct ft_layout l;

	memset(&l, 0, sizeof(l));
	if (text == NULL || strlen(text) >= sizeof(buf))
		return ft_fail(ctx, FT_E_INVALID, "layout: too long");
	strcpy(buf, text);
	runs = strchr(buf, ':');
	if (runs == NULL)
		return ft_fail(ctx, FT_E_INVALID,
		    "layout '%s': expected BASE:RUNS, e.g. 0x08000000:64x2K",
		    text);
	*runs++ = '\0';
	if (ft_parse_u32(buf, 0, &l.base) != 0)
		return ft_fail(ctx, FT_E_INVALID,
		    "layout '%s': bad base address '%s'", text, buf);
	for (item = runs; item != NULL; item = next) {
		char *x;
		struct ft_run r;

		next = strchr(item, ',');
		if (next != NULL)
			*next++ = '\0';
		x = strchr(item, 'x');
		if (x == NULL)
			x = strchr(item, '*');
		if (x == NULL)
			return ft_fail(ctx, FT_E_INVALID,
			    "layout '%s': run '%s' is not COUNTxSIZE", text,
			    item);
		*x++ = '\0';
		if (ft_parse_u32(item, 0, &r.count) != 0 || r.count == 0 ||
		    parse_size(x, &r.size) != 0 || r.size == 0)
			return ft_fail(ctx, FT_E_INVALID,
			    "layout '%s': bad run '%sx%s'", text, item, x);
		if (l.nruns == FT_MAX_RUNS)
			return ft_fail(ctx, FT_E_INVALID,
			    "layout '%s': more than %d runs", text,
			    FT_MAX_RUNS);
		l.runs[l.nruns++] = r;
		if (ft_layout_size(&l) + l.base > (uint64_t)UINT32_MAX + 1)
			return ft_fail(ctx, FT_E_INVALID,
			    "layout '%s': runs past the 4 GiB address space",
			    text);
	}
	*out = l;
	return 0;
}
