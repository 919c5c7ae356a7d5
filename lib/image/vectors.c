/*
 * image/vectors.c - does an image fit where it is about to be written?
 *
 * A Cortex-M image starts with its vector table: the initial stack
 * pointer, then the reset vector (odd: Thumb).  Firmware linked for
 * 0x08008000 (after a 32 KiB bootloader, as on the Neptune 4) but written
 * at 0x08000000 destroys the bootloader and does not start; the vector
 * table tells, because the reset vector then points outside the image.
 * Only data that looks like a vector table is judged: anything else
 * (a data blob, option bytes) passes.
 */
#include <string.h>

#include "ft_int.h"

/* Where Cortex-M stacks live: SRAM, and CCM RAM on F3/F4/G4. */
#define SRAM_BASE 0x20000000u
#define SRAM_SPAN 0x00200000u	/* 2 MiB covers every STM32 SRAM */
#define CCM_BASE 0x10000000u
#define CCM_SPAN 0x00010000u

/* Offsets at which bootloaders commonly end, smallest first. */
static const uint32_t app_offsets[] = {
	0x800, 0x1000, 0x2000, 0x4000, 0x8000, 0x10000, 0x20000,
};

static int
stack_plausible(uint32_t sp, const struct ft_chip *chip)
{
	if (chip != NULL && chip->ram_end > chip->ram_start)
		/* The ROM's free RAM starts above SRAM_BASE; the stack top
		 * may be anywhere in SRAM up to its end. */
		return sp > SRAM_BASE && sp <= chip->ram_end && sp % 4 == 0;
	return sp % 4 == 0 && ((sp > SRAM_BASE && sp <= SRAM_BASE +
	    SRAM_SPAN) || (sp > CCM_BASE && sp <= CCM_BASE + CCM_SPAN));
}

int
ft_image_check_vectors(struct ft_ctx *ctx, const struct ft_image *img,
    const struct ft_devinfo *info)
{
	const struct ft_segment *s;
	uint64_t image_end, flash_end;
	uint32_t sp, reset, target, guess = 0;
	size_t i;

	if (img->nseg == 0)
		return 0;
	s = &img->seg[0];
	for (i = 1; i < img->nseg; i++)
		if (img->seg[i].alt == s->alt && img->seg[i].addr < s->addr)
			s = &img->seg[i];
	if (s->len < 8)
		return 0;
	sp = ft_get_le32(s->data);
	reset = ft_get_le32(s->data + 4);
	if (!stack_plausible(sp, info->chip) || (reset & 1) == 0)
		return 0;
	target = reset & ~1u;
	flash_end = (uint64_t)info->flash.base + ft_layout_size(&info->flash);
	/* A reset vector outside flash is not ours to judge (RAM code). */
	if (target < info->flash.base || target >= flash_end)
		return 0;
	image_end = (uint64_t)s->addr + s->len;
	for (i = 0; i < img->nseg; i++)
		if ((uint64_t)img->seg[i].addr + img->seg[i].len > image_end &&
		    img->seg[i].alt == s->alt)
			image_end = (uint64_t)img->seg[i].addr +
			    img->seg[i].len;
	if (target >= s->addr && target < image_end)
		return 0;
	if (target < s->addr) {
		guess = info->flash.base;
		for (i = 0; i < sizeof(app_offsets) / sizeof(app_offsets[0]);
		    i++)
			if (info->flash.base + app_offsets[i] <= target)
				guess = info->flash.base + app_offsets[i];
	} else {
		for (i = 0; i < sizeof(app_offsets) / sizeof(app_offsets[0]);
		    i++)
			if (s->addr + app_offsets[i] <= target)
				guess = s->addr + app_offsets[i];
	}
	return ft_fail(ctx, FT_E_INVALID,
	    "the image's reset vector 0x%08x lies outside the image "
	    "(0x%08x-0x%08llx): it is linked for another address, probably "
	    "0x%08x.  Written at 0x%08x it would not start%s.  Write it at "
	    "its own address (-S 0x%08x), or pass --force", reset, s->addr,
	    (unsigned long long)image_end - 1, guess, s->addr,
	    s->addr == info->flash.base ? ", and it would replace the "
	    "bootloader that the firmware expects there" : "", guess);
}
