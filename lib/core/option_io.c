/*
 * core/option_io.c - the option bytes of a device: finding the block
 * (the chip's option area over USART, the option-byte alt setting over
 * DfuSe), reading it, and writing it whole, then following the reset
 * that loads it and reading it back.  What the fields mean is
 * lib/optbytes.c; this file only moves the block.
 *
 * Invariants:
 *  - The block is written in one transport write at its base, never
 *    retried by the core: a ROM that took it has reset, and writing it
 *    again would program it twice.
 *  - Whatever happens after the write, the block is read back before
 *    ft_ob_write returns when the device can still be read, so the
 *    caller learns whether it changed.
 */
#include <stdio.h>
#include <string.h>

#include "core.h"

/* Families whose block starts at base; *n how many. */
static const struct ft_ob_family *
family_at_base(uint32_t base, unsigned *n)
{
	const struct ft_ob_family *first = NULL;
	size_t i;

	*n = 0;
	for (i = 0; i < ft_ob_family_count(); i++) {
		const struct ft_ob_family *f = ft_ob_family_at(i);

		if (f->base != base)
			continue;
		if ((*n)++ == 0)
			first = f;
	}
	return first;
}

/* "f0 f1 f3" : the families at base, for messages. */
static void
names_at_base(uint32_t base, char *buf, size_t size)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < ft_ob_family_count() && used < size; i++) {
		const struct ft_ob_family *f = ft_ob_family_at(i);

		if (f->base == base)
			used += (size_t)snprintf(buf + used, size - used,
			    "%s%s", used ? " or " : "", f->name);
	}
}

/* USART: the chip's option area, the family its product ID names. */
static int
usart_block(struct ft_dev *dev, const struct ft_ob_family **fam,
    uint32_t *addr, uint32_t *len)
{
	const struct ft_chip *c = dev->info.chip;

	if (*fam == NULL && c != NULL)
		*fam = ft_ob_family_by_pid(c->pid);
	if (*fam == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "no option-byte "
		    "table for product ID 0x%03x (%s): flashtool knows F0, "
		    "F1, F2/F4, F3, G0 and G4 (--family names one)",
		    dev->info.pid, dev->info.name);
	*addr = (*fam)->base;
	*len = (*fam)->size;
	/* The ROM reads the chip's whole area (CubeProgrammer's block). */
	if (c != NULL && c->opt_start == (*fam)->base &&
	    c->opt_end > c->opt_start)
		*len = c->opt_end - c->opt_start;
	if (*len > FT_OB_MAX_BYTES)
		*len = FT_OB_MAX_BYTES;
	return 0;
}

/*
 * DfuSe: the alt setting whose memory starts at a family's base (the
 * family's, when named); the session moves to it.
 */
static int
dfu_block(struct ft_dev *dev, const struct ft_ob_family **fam,
    uint32_t *addr, uint32_t *len)
{
	const struct ft_dfu_entry *e = &dev->info.dfu;
	struct ft_layout l;
	char names[64];
	unsigned k, n = 0;
	int erasable, rc;

	if (dev->tr->alt_layout == NULL || dev->tr->select_alt == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "%s devices have "
		    "no option-byte memory", dev->tr->name);
	for (k = 0; k < e->nalts; k++) {
		/* An F4's OTP alt starts at G0's option-byte base: an
		 * option-byte block is never larger than FT_OB_MAX_BYTES. */
		if (dev->tr->alt_layout(dev, e->alts[k].alt, &l,
		    &erasable) < 0 || ft_layout_size(&l) > FT_OB_MAX_BYTES)
			continue;
		if (*fam != NULL ? l.base != (*fam)->base :
		    family_at_base(l.base, &n) == NULL)
			continue;
		if (*fam == NULL && n > 1 && l.base != 0x1FFFF800u) {
			names_at_base(l.base, names, sizeof(names));
			return ft_fail(dev->ctx, FT_E_INVALID, "the option "
			    "bytes at 0x%08x (alt %d) are laid out as %s "
			    "lays them out, and USB does not tell which: "
			    "name the family with --family", l.base,
			    e->alts[k].alt, names);
		}
		if (*fam == NULL)
			*fam = family_at_base(l.base, &n);
		*addr = l.base;
		*len = (uint32_t)ft_layout_size(&l);
		if (*len > FT_OB_MAX_BYTES)
			*len = FT_OB_MAX_BYTES;
		ft_clear_detail(dev->ctx);
		if (dev->info.dfu_alt == e->alts[k].alt)
			return 0;
		rc = dev->tr->select_alt(dev, e->alts[k].alt);
		return rc < 0 ? rc : 0;
	}
	return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "the DFU device at %s "
	    "has no alt setting with %s option bytes", e->path,
	    *fam != NULL ? (*fam)->title : "known");
}

/*
 * F0, F1 and F3 share the base and the layout, and a DFU device does
 * not say which it is (F105/F107 and F0/F3 all have DFU ROMs).  They
 * differ in the RDP byte of level 0: read as F0, an F1's 0xA5 would be
 * level 1, and writing it back would protect the chip.
 */
static int
check_guess(struct ft_dev *dev, const struct ft_ob_image *img)
{
	if (img->fam->base != 0x1FFFF800u || img->len < 2 ||
	    img->data[0] != 0xA5 || img->data[1] != 0x5A ||
	    img->fam->rdp_level0 == 0xA5)
		return 0;
	return ft_fail(dev->ctx, FT_E_INVALID, "the option bytes at "
	    "0x1FFFF800 hold RDP 0xA5, the STM32F1's unprotected value: "
	    "this may be an F1 (F105/F107) rather than an %s; name the "
	    "family with --family f1 or --family %s", img->fam->title,
	    img->fam->name);
}

int
ft_ob_read(struct ft_dev *dev, const struct ft_ob_family *fam,
    struct ft_ob_image *out)
{
	const struct ft_ob_family *named = fam;
	uint32_t addr = 0, len = 0;
	int rc;

	ft_clear_detail(dev->ctx);
	memset(out, 0, sizeof(*out));
	rc = dev->info.transport == FT_TRANSPORT_DFU ?
	    dfu_block(dev, &fam, &addr, &len) :
	    usart_block(dev, &fam, &addr, &len);
	if (rc < 0)
		return rc;
	rc = ft_read(dev, addr, out->data, len);
	if (rc < 0)
		return ft_fail_place(dev->ctx, rc, "reading the option bytes",
		    addr);
	out->fam = fam;
	out->addr = addr;
	out->len = len;
	if (named == NULL && dev->info.transport == FT_TRANSPORT_DFU)
		return check_guess(dev, out);
	return 0;
}

/* The first offset where two images differ, or -1. */
static long
first_difference(const struct ft_ob_image *a, const struct ft_ob_image *b)
{
	uint32_t i;

	if (a->len != b->len)
		return 0;
	for (i = 0; i < a->len; i++)
		if (a->data[i] != b->data[i])
			return (long)i;
	return -1;
}

/*
 * After a write that failed: did the block change?  The detail keeps
 * the failure and gains what the read-back found.
 */
static int
failed_write(struct ft_dev *dev, int rc, const struct ft_ob_image *before,
    const struct ft_ob_image *want, struct ft_ob_image *after)
{
	char why[FT_DETAIL_MAX];
	int r = 0;

	ft_strlcpy(why, dev->ctx->detail, sizeof(why));
	if (dev->tr->reconnect != NULL)
		r = dev->tr->reconnect(dev);
	if (r == 0)
		r = ft_ob_read(dev, before->fam, after);
	ft_fail(dev->ctx, rc, "%s", why);
	if (r < 0)
		return ft_fail_more(dev->ctx, rc, "; the option bytes could "
		    "not be read back, so whether they changed is unknown");
	if (first_difference(after, before) < 0)
		return ft_fail_more(dev->ctx, rc, "; they read back "
		    "unchanged: nothing was written");
	if (first_difference(after, want) < 0)
		return ft_fail_more(dev->ctx, rc, "; yet they read back as "
		    "asked");
	return ft_fail_more(dev->ctx, rc, "; they read back neither as "
	    "before nor as asked (offset 0x%02lx differs)",
	    first_difference(after, want));
}

int
ft_ob_write(struct ft_dev *dev, const struct ft_ob_image *before,
    const struct ft_ob_image *want, struct ft_ob_image *after,
    int *verified)
{
	long d;
	int rc;

	*verified = 0;
	ft_clear_detail(dev->ctx);
	memset(after, 0, sizeof(*after));
	if (want->fam == NULL || want->len == 0 || want->len != before->len ||
	    want->addr != before->addr)
		return ft_fail(dev->ctx, FT_E_INVALID, "option bytes to write "
		    "must be the block read from the device, changed");
	ft_info(dev->ctx, "writing %u option bytes at 0x%08x; the chip "
	    "resets to load them", want->len, want->addr);
	rc = dev->tr->write(dev, want->addr, want->data, want->len);
	if (rc < 0)
		return failed_write(dev, rc, before, want, after);
	if (dev->tr->reconnect != NULL) {
		rc = dev->tr->reconnect(dev);
		if (rc < 0)
			return ft_fail_more(dev->ctx, 0, "; the option bytes "
			    "were written, but the chip did not come back to "
			    "its bootloader after the reset that loads them, "
			    "so they were not read back");
	}
	rc = ft_ob_read(dev, want->fam, after);
	if (rc < 0)
		return ft_fail_more(dev->ctx, 0, "; the option bytes were "
		    "written but could not be read back");
	d = first_difference(after, want);
	if (d >= 0)
		return ft_fail(dev->ctx, 0, "the option bytes read back differ "
		    "from what was written at 0x%08x (0x%02x, not 0x%02x)",
		    want->addr + (uint32_t)d, after->data[d], want->data[d]);
	*verified = 1;
	return 0;
}
