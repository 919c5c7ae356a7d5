/*
 * plan.c - the erase plan: which erase units an image touches.  Pure: no
 * I/O, so it is tested by tables (test/unit/test_plan.c).
 *
 * Invariant: the unit list is ascending by index and has no duplicates,
 * whatever order the ranges arrive in.
 */
#include <stdlib.h>
#include <string.h>

#include "ft_int.h"

static int
insert_unit(struct ft_erase_unit **units, size_t *n,
    const struct ft_erase_unit *u)
{
	size_t lo = 0, hi = *n;
	struct ft_erase_unit *grown;

	/* Binary search for the insertion point; equal index = present. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if ((*units)[mid].index == u->index)
			return 0;
		if ((*units)[mid].index < u->index)
			lo = mid + 1;
		else
			hi = mid;
	}
	grown = realloc(*units, (*n + 1) * sizeof(**units));
	if (grown == NULL)
		return FT_E_NOMEM;
	*units = grown;
	memmove(&grown[lo + 1], &grown[lo], (*n - lo) * sizeof(*grown));
	grown[lo] = *u;
	(*n)++;
	return 0;
}

int
ft_plan_range(struct ft_ctx *ctx, const struct ft_layout *layout,
    uint32_t addr, uint32_t len, struct ft_erase_unit **units, size_t *n)
{
	uint64_t a = addr, end = (uint64_t)addr + len;

	while (a < end) {
		struct ft_erase_unit u;
		int rc;

		if (ft_layout_find(layout, (uint32_t)a, &u.index, &u.addr,
		    &u.size) != 0)
			return ft_fail(ctx, FT_E_RANGE,
			    "address 0x%08llx is outside flash "
			    "(0x%08x-0x%08llx)", (unsigned long long)a,
			    layout->base, (unsigned long long)(layout->base +
			    ft_layout_size(layout) - 1));
		rc = insert_unit(units, n, &u);
		if (rc != 0)
			return ft_fail(ctx, rc, "erase plan: out of memory");
		a = (uint64_t)u.addr + u.size;
	}
	return 0;
}

int
ft_plan_image(struct ft_ctx *ctx, const struct ft_layout *layout,
    const struct ft_image *img, struct ft_erase_unit **units, size_t *n)
{
	size_t i;
	int rc;

	for (i = 0; i < img->nseg; i++) {
		rc = ft_plan_range(ctx, layout, img->seg[i].addr,
		    img->seg[i].len, units, n);
		if (rc != 0)
			return rc;
	}
	return 0;
}
