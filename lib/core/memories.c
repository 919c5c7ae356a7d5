/*
 * core/memories.c - images that name several memories of a device (a
 * DfuSe file with targets on alt settings: flash, option bytes, OTP).
 * The image is split into one group per memory, every segment is checked
 * against its memory's layout before anything is erased, and the device
 * is switched to each memory in turn and back home at the end.
 *
 * Invariants:
 *  - Segments are sorted by (alt, addr), so each group is a contiguous
 *    slice of the image: a span, never a copy.
 *  - Erasable memories (flash) come first, then the others, whose writes
 *    may reset the chip (option bytes); each memory is verified right
 *    after it is written, while the device can still be read.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

static int
same_memory(const struct ft_dev *dev, int alt)
{
	return alt < 0 || alt == dev->info.dfu_alt;
}

/* The group's layout and erasability: the memory opened, or its alt's. */
static int
group_layout(struct ft_dev *dev, struct ft_memory *g)
{
	g->layout = dev->info.flash;
	g->erasable = 1;
	if (same_memory(dev, g->alt))
		return 0;
	if (dev->tr->alt_layout == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "image targets "
		    "alt setting %d, which %s devices do not have", g->alt,
		    dev->tr->name);
	return dev->tr->alt_layout(dev, g->alt, &g->layout, &g->erasable);
}

/* Every segment of the group inside its memory. */
static int
group_fits(struct ft_dev *dev, const struct ft_memory *g)
{
	uint64_t size = ft_layout_size(&g->layout);
	uint64_t end = (uint64_t)g->layout.base + size;
	size_t j;

	for (j = 0; j < g->view.nseg; j++) {
		const struct ft_segment *sg = &g->view.seg[j];

		if (sg->addr >= g->layout.base &&
		    (uint64_t)sg->addr + sg->len <= end)
			continue;
		return ft_fail_at(dev->ctx, FT_E_RANGE, sg->addr,
		    "image data at 0x%08x-0x%08llx lies outside %s "
		    "0x%08x-0x%08llx (%llu KiB)", sg->addr,
		    (unsigned long long)sg->addr + sg->len - 1,
		    same_memory(dev, g->alt) ? "flash" :
		    "the alt setting's memory", g->layout.base,
		    (unsigned long long)end - 1,
		    (unsigned long long)size / 1024);
	}
	return 0;
}

/* Erasable memories first, each kind in image order. */
static void
order_groups(struct ft_memory *g, size_t n)
{
	struct ft_memory tmp;
	size_t i, k;

	for (i = 1; i < n; i++)
		for (k = i; k > 0 && g[k].erasable && !g[k - 1].erasable;
		    k--) {
			tmp = g[k];
			g[k] = g[k - 1];
			g[k - 1] = tmp;
		}
}

int
ft_memories_plan(struct ft_dev *dev, const struct ft_image *img,
    struct ft_memories *mem)
{
	struct ft_span all = ft_image_span(img);
	size_t i, k;
	int rc = 0;

	memset(mem, 0, sizeof(*mem));
	mem->home_alt = dev->info.dfu_alt;
	mem->bytes = ft_span_bytes(all);
	if (all.nseg == 0)
		return ft_fail(dev->ctx, FT_E_INVALID, "image is empty");
	if (dev->tr->check_image != NULL) {
		rc = dev->tr->check_image(dev, img);
		if (rc < 0)
			return rc;
	}
	/* At most one group per segment. */
	mem->group = calloc(all.nseg, sizeof(*mem->group));
	if (mem->group == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	for (i = 0; i < all.nseg && rc == 0; i = k) {
		struct ft_memory *g = &mem->group[mem->n++];

		for (k = i; k < all.nseg && all.seg[k].alt == all.seg[i].alt;
		    k++)
			;
		g->alt = all.seg[i].alt;
		g->view.seg = &all.seg[i];
		g->view.nseg = k - i;
		rc = group_layout(dev, g);
		if (rc == 0)
			rc = group_fits(dev, g);
	}
	if (rc < 0) {
		free(mem->group);
		memset(mem, 0, sizeof(*mem));
		return rc;
	}
	order_groups(mem->group, mem->n);
	return 0;
}

int
ft_memories_enter(struct ft_dev *dev, struct ft_memories *mem,
    const struct ft_memory *g)
{
	if (same_memory(dev, g->alt))
		return 0;
	mem->switched = 1;
	return dev->tr->select_alt(dev, g->alt);
}

int
ft_memories_is_home(const struct ft_dev *dev, const struct ft_memory *g)
{
	return same_memory(dev, g->alt);
}

int
ft_memories_done(struct ft_dev *dev, struct ft_memories *mem, int rc)
{
	/* Go back to the memory we opened, so that leaving starts it. */
	if (mem->switched && dev->info.dfu_alt != mem->home_alt) {
		int r = dev->tr->select_alt(dev, mem->home_alt);

		if (rc == 0 && r != FT_E_NOT_SUPPORTED)
			rc = r;
	}
	free(mem->group);
	memset(mem, 0, sizeof(*mem));
	return rc;
}
