/*
 * core/plan.c - the erase plan: which erase units an image touches, what
 * lies outside them, whether one mass erase pays and what it must keep,
 * and what a failed write leaves unwritten.  Pure: no I/O, so it is
 * tested by tables (test/unit/test_plan_*.c, test_core_parsers.c).
 *
 * Invariants: the unit list is ascending by index and has no duplicates,
 * whatever order the ranges arrive in; it starts NULL with n 0 and only
 * insert_unit() grows it (its capacity follows from n); it never holds
 * more than PLAN_MAX_UNITS units.
 */
#include <stdlib.h>
#include <string.h>

#include <stdio.h>

#include "core.h"

/*
 * A layout comes from the device table, --layout or the device itself
 * (a DfuSe interface string), and may claim millions of one-byte pages.
 * Real STM32 flash has at most a few thousand erase units (4 MiB in
 * 8 KiB pages: 512), so a plan beyond this is refused rather than
 * allocated (4 GiB of 1-byte pages would be 48 GiB of list).
 */
#define PLAN_MAX_UNITS 65536u

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
	if (*n >= PLAN_MAX_UNITS)
		return FT_E_NOT_SUPPORTED;
	/* Double when full: capacity is the smallest power of two >= *n,
	 * since every list starts NULL/0 and grows only here.  Growing by
	 * one made a layout of many small pages quadratic. */
	if ((*n & (*n - 1)) == 0) {
		grown = realloc(*units, (*n ? 2 * *n : 1) * sizeof(**units));
		if (grown == NULL)
			return FT_E_NOMEM;
		*units = grown;
	}
	grown = *units;
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
		if (rc == FT_E_NOT_SUPPORTED)
			return ft_fail(ctx, rc, "erase plan: more than %u "
			    "erase units (layout of %u-byte units at 0x%08x)",
			    PLAN_MAX_UNITS, (unsigned)u.size,
			    (unsigned)u.addr);
		if (rc != 0)
			return ft_fail(ctx, rc, "erase plan: out of memory");
		a = (uint64_t)u.addr + u.size;
	}
	return 0;
}

int
ft_plan_span(struct ft_ctx *ctx, const struct ft_layout *layout,
    struct ft_span span, struct ft_erase_unit **units, size_t *n)
{
	size_t i;
	int rc;

	for (i = 0; i < span.nseg; i++) {
		rc = ft_plan_range(ctx, layout, span.seg[i].addr,
		    span.seg[i].len, units, n);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int
ft_plan_all(struct ft_ctx *ctx, const struct ft_layout *layout,
    struct ft_erase_unit **units, size_t *n)
{
	uint64_t size = ft_layout_size(layout);
	uint32_t half = 0x80000000u;
	int rc;

	if (size == 0)
		return ft_fail(ctx, FT_E_INVALID, "the flash layout is "
		    "empty");
	if (size <= UINT32_MAX)
		return ft_plan_range(ctx, layout, layout->base,
		    (uint32_t)size, units, n);
	/* All 4 GiB from address 0: too long for one 32-bit length. */
	rc = ft_plan_range(ctx, layout, layout->base, half, units, n);
	if (rc == 0)
		rc = ft_plan_range(ctx, layout, layout->base + half,
		    (uint32_t)(size - half), units, n);
	return rc;
}

int
ft_plan_outside(struct ft_ctx *ctx, const struct ft_layout *layout,
    const struct ft_erase_unit *plan, size_t n, struct ft_erase_unit **out,
    size_t *nout)
{
	struct ft_erase_unit *all = NULL;
	size_t nall = 0, i, k = 0, j = 0;
	int rc = ft_plan_all(ctx, layout, &all, &nall);

	if (rc < 0) {
		free(all);
		return rc;
	}
	for (i = 0; i < nall; i++) {
		while (j < n && plan[j].index < all[i].index)
			j++;
		if (j < n && plan[j].index == all[i].index)
			continue;
		all[k++] = all[i];
	}
	*out = all;
	*nout = k;
	return 0;
}

int
ft_span_without_units(struct ft_span span, const struct ft_erase_unit *units,
    size_t n, struct ft_seglist *out)
{
	struct ft_segment *seg;
	size_t i, k = 0, u = 0;

	out->nseg = 0;
	out->seg = NULL;
	/* Each unit can split at most one segment in two. */
	seg = calloc(span.nseg + n + 1, sizeof(*seg));
	if (seg == NULL)
		return FT_E_NOMEM;
	for (i = 0; i < span.nseg; i++) {
		const struct ft_segment *s = &span.seg[i];
		uint64_t a = s->addr, end = (uint64_t)s->addr + s->len;

		/* Units that end before this segment starts stay behind. */
		while (u < n && (uint64_t)units[u].addr + units[u].size <= a)
			u++;
		while (a < end) {
			size_t j = u;
			uint64_t cut = end;

			while (j < n && (uint64_t)units[j].addr +
			    units[j].size <= a)
				j++;
			if (j < n && units[j].addr <= a) {
				/* Inside a unit: skip to its end. */
				a = (uint64_t)units[j].addr + units[j].size;
				continue;
			}
			if (j < n && units[j].addr < cut)
				cut = units[j].addr;
			seg[k] = *s;
			seg[k].addr = (uint32_t)a;
			seg[k].len = (uint32_t)(cut - a);
			seg[k].data = s->data + (a - s->addr);
			k++;
			a = cut;
		}
	}
	out->nseg = k;
	out->seg = seg;
	return 0;
}

int
ft_span_merge(struct ft_span a, struct ft_span b, struct ft_seglist *out)
{
	size_t i = 0, k = 0, m = 0;

	out->nseg = a.nseg + b.nseg;
	out->seg = calloc(out->nseg + 1, sizeof(*out->seg));
	if (out->seg == NULL) {
		out->nseg = 0;
		return FT_E_NOMEM;
	}
	while (i < a.nseg || k < b.nseg)
		if (k >= b.nseg || (i < a.nseg &&
		    a.seg[i].addr < b.seg[k].addr))
			out->seg[m++] = a.seg[i++];
		else
			out->seg[m++] = b.seg[k++];
	return 0;
}

uint64_t
ft_units_bytes(const struct ft_erase_unit *u, size_t n)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < n; i++)
		total += u[i].size;
	return total;
}

size_t
ft_plan_unwritten(const struct ft_erase_unit *u, size_t n, uint32_t stop,
    char *buf, size_t size)
{
	size_t used = 0, i = 0;
	int len;

	buf[0] = '\0';
	while (i < n) {
		uint64_t lo = u[i].addr, hi = (uint64_t)u[i].addr + u[i].size;

		/* Join adjacent units into one range. */
		for (i++; i < n && u[i].addr == hi; i++)
			hi += u[i].size;
		if (hi <= stop)
			continue;
		if (lo < stop)
			lo = stop;
		len = snprintf(buf + used, size - used,
		    "%s0x%08llx-0x%08llx", used > 0 ? ", " : "",
		    (unsigned long long)lo, (unsigned long long)hi - 1);
		if (len < 0 || (size_t)len >= size - used) {
			/* Mark the cut; the list starts where it matters. */
			snprintf(buf + (used > size - 6 ? size - 6 : used), 6,
			    ", ...");
			used = strlen(buf);
			break;
		}
		used += (size_t)len;
	}
	return used;
}

/*
 * Flash made of small uniform-sized pages (F0, F1, F3, G0, G4, L4, ...)
 * mass-erases in about one page's erase time: the datasheets give the
 * same 20-40 ms for tME as for a page (e.g. DS10152 for the F042).
 * Sector flash (F2/F4/F7, H7) takes about the sum of its sectors, so
 * there a mass erase never pays.
 */
#define MASS_CHEAP_UNIT_MAX_BYTES 4096u
/* Below this many page erases the saving is not worth the risk window. */
#define MASS_MIN_UNITS_SAVED 8u
/*
 * Units that must be rewritten after a mass erase (kept contents) may be
 * at most this fraction of the page erases saved: each costs about one
 * page erase to program, and while they are unwritten their contents
 * exist only in our memory.
 */
#define MASS_RESTORE_RATIO 8u

int
ft_plan_mass_is_cheap(const struct ft_layout *flash)
{
	unsigned i;

	if (flash->nruns == 0)
		return 0;
	for (i = 0; i < flash->nruns; i++)
		if (flash->runs[i].count > 0 &&
		    (flash->runs[i].size > MASS_CHEAP_UNIT_MAX_BYTES ||
		    flash->runs[i].size != flash->runs[0].size))
			return 0;
	return 1;
}

int
ft_plan_prefers_mass(const struct ft_layout *flash, size_t to_erase,
    size_t to_restore)
{
	if (!ft_plan_mass_is_cheap(flash) || to_erase < MASS_MIN_UNITS_SAVED)
		return 0;
	return to_restore <= to_erase / MASS_RESTORE_RATIO;
}

int
ft_plan_mass_saves(const struct ft_erase_unit *plan,
    const enum ft_unit_state *state, size_t n,
    const struct ft_erase_unit *outside, size_t nout,
    struct ft_erase_unit **save, size_t *nsave)
{
	struct ft_erase_unit *out;
	uint64_t wipe_bytes = 0;
	size_t i, k, m = 0;

	*save = NULL;
	*nsave = 0;
	for (i = 0; i < n; i++)
		if (state[i] == FT_UNIT_DIFFERENT)
			wipe_bytes += plan[i].size;
	/* Reading the rest of the flash must cost less than the erases. */
	if (ft_units_bytes(outside, nout) > wipe_bytes)
		return 0;
	out = calloc(n + nout + 1, sizeof(*out));
	if (out == NULL)
		return FT_E_NOMEM;
	/* Every candidate unit, ascending: kept plan units and the rest. */
	for (i = 0, k = 0; i < n || k < nout;) {
		if (k >= nout || (i < n && plan[i].addr < outside[k].addr)) {
			if (state[i] == FT_UNIT_UNCHANGED)
				out[m++] = plan[i];
			i++;
		} else {
			out[m++] = outside[k++];
		}
	}
	*save = out;
	*nsave = m;
	return 0;
}
