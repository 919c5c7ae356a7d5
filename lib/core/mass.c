/*
 * core/mass.c - one mass erase in place of many page erases, where it is
 * cheap (ft_plan_prefers_mass): every unit the page plan would leave
 * alone and that holds data (units already holding the image, non-blank
 * units outside it) is read first and written back right after the mass
 * erase, before the image.  The decisions are plan.c's; this file does
 * their reading and the erase.
 *
 * Invariants:
 *  - Only where reading is cheap (USB), and only after the plan's units
 *    were compared, so that what must survive is known.
 *  - Nothing is erased until everything to keep has been read.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

void
ft_mass_plan_free(struct ft_mass_plan *mp)
{
	ft_seglist_free(&mp->kept);
	free(mp->buf);
	memset(mp, 0, sizeof(*mp));
}

/* Read the units to save into mp->buf; list the non-blank ones. */
static int
read_saved(struct ft_dev *dev, const struct ft_erase_unit *save, size_t n,
    struct ft_mass_plan *mp)
{
	uint8_t erased = ft_core_erased(dev);
	uint64_t off = 0, run;
	size_t i, j;
	int rc = 0;

	mp->buf = malloc(ft_units_bytes(save, n) + 1);
	mp->kept.seg = calloc(n + 1, sizeof(*mp->kept.seg));
	if (mp->buf == NULL || mp->kept.seg == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	/* Adjacent units in one read: no address set between them. */
	for (i = 0; i < n && rc == 0; i = j) {
		run = save[i].size;
		for (j = i + 1; j < n && (uint64_t)save[i].addr + run ==
		    save[j].addr; j++)
			run += save[j].size;
		rc = ft_core_read_span(dev, "compare", save[i].addr,
		    (uint32_t)run, mp->buf + off, 0, NULL, NULL);
		off += run;
	}
	if (rc < 0)
		return rc;
	/* Blank units need nothing written back. */
	for (i = 0, off = 0; i < n; off += save[i].size, i++) {
		struct ft_segment *sg = &mp->kept.seg[mp->kept.nseg];

		if (ft_all_bytes(mp->buf + off, save[i].size, erased))
			continue;
		sg->addr = save[i].addr;
		sg->len = save[i].size;
		sg->data = mp->buf + off;
		sg->alt = -1;
		mp->kept.nseg++;
	}
	return 0;
}

int
ft_mass_plan(struct ft_dev *dev, const struct ft_erase_unit *units, size_t n,
    const enum ft_unit_state *state, size_t nwipe, struct ft_mass_plan *mp)
{
	struct ft_erase_unit *out = NULL, *save = NULL;
	size_t nout = 0, nsave = 0, i, unchanged = 0;
	int rc;

	memset(mp, 0, sizeof(*mp));
	for (i = 0; i < n; i++)
		unchanged += state[i] == FT_UNIT_UNCHANGED;
	if (!ft_plan_prefers_mass(&dev->info.flash, nwipe, unchanged))
		return 0;
	/* A layout too big to plan whole (a device's claim) keeps pages. */
	if (ft_plan_outside(dev->ctx, &dev->info.flash, units, n, &out,
	    &nout) < 0) {
		ft_clear_detail(dev->ctx);
		return 0;
	}
	rc = ft_plan_mass_saves(units, state, n, out, nout, &save, &nsave);
	if (rc == FT_E_NOMEM)
		rc = ft_fail(dev->ctx, rc, "out of memory");
	if (rc == 0 && save != NULL)
		rc = read_saved(dev, save, nsave, mp);
	free(out);
	free(save);
	/* Blank units dropped: does it still pay? */
	if (rc < 0 || mp->kept.seg == NULL ||
	    !ft_plan_prefers_mass(&dev->info.flash, nwipe, mp->kept.nseg)) {
		ft_mass_plan_free(mp);
		return rc;
	}
	mp->nerase = nwipe;
	return 0;
}

int
ft_mass_erase_planned(struct ft_dev *dev, struct ft_mass_plan *mp,
    struct ft_write_stats *st, int *wiped)
{
	uint64_t size = ft_layout_size(&dev->info.flash);
	int rc;

	*wiped = 0;
	ft_info(dev->ctx, "one mass erase instead of %zu page erases; "
	    "first writing back the %zu pages of data it must keep",
	    mp->nerase, mp->kept.nseg);
	rc = ft_core_cancel_point(dev, "mass erase", dev->info.flash.base);
	if (rc < 0)
		return rc;
	ft_progress(dev->ctx, FT_STAGE_ERASE, 0, size);
	for (;;) {
		rc = dev->tr->mass_erase(dev);
		if (rc >= 0 || rc == FT_E_NOT_SUPPORTED)
			break;
		rc = ft_core_retry(dev, rc, "mass erase",
		    dev->info.flash.base);
		if (rc < 0) {
			/* It may or may not have happened. */
			*wiped = 1;
			return rc;
		}
	}
	if (rc < 0)
		return rc;
	*wiped = 1;
	ft_core_progress(dev);
	ft_progress(dev->ctx, FT_STAGE_ERASE, size, size);
	st->units_erased += ft_layout_units(&dev->info.flash);
	return 0;
}

int
ft_mass_unrestored(struct ft_dev *dev, const struct ft_mass_plan *mp,
    uint64_t kept_upto, struct ft_erase_unit **units, size_t *n)
{
	const struct ft_segment *ks = mp->kept.seg;
	struct ft_erase_unit *all = NULL;
	size_t nall = 0, i, k = 0, j = 0;

	*units = NULL;
	*n = 0;
	/* No context: the failure being reported keeps its detail. */
	if (ft_plan_all(NULL, &dev->info.flash, &all, &nall) < 0) {
		free(all);
		return -1;
	}
	for (i = 0; i < nall; i++) {
		while (j < mp->kept.nseg && ks[j].addr < all[i].addr)
			j++;
		if (j < mp->kept.nseg && ks[j].addr == all[i].addr &&
		    (uint64_t)ks[j].addr + ks[j].len <= kept_upto)
			continue;
		all[k++] = all[i];
	}
	*units = all;
	*n = k;
	return 0;
}
