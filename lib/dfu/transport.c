/*
 * dfu/transport.c - the USB DFU 1.1 / ST DfuSe transport (usb.org DFU 1.1;
 * ST AN3156) over libusb-1.0.
 *
 * Discovery groups alt settings per physical device and interface, so a
 * ROM with three alt settings is one device, and tells devices apart by
 * USB path (F0 ROMs all report the serial FFFFFFFEFFFF).  The open op
 * picks the alt setting whose DfuSe layout holds the target address,
 * normalises the DFU state machine to dfuIDLE and describes that alt's
 * writable memory as dev->info.flash, so the core plans erases as for any
 * other transport.
 *
 * Invariants:
 *  - Between ops the interface is in dfuIDLE, dfuDNLOAD-IDLE or
 *    dfuUPLOAD-IDLE, and priv->mode says which of the last two it is.
 *  - priv->ptr_ok is set only while the device's DfuSe address pointer is
 *    known to equal priv->ptr; any error, reset or ABORT-worthy surprise
 *    clears it, so the next transfer sets the pointer again.
 *  - Every wait is bounded: control transfers by CTRL_TIMEOUT_MS, polls
 *    by a per-operation budget, re-enumeration by a named timeout.
 *  - No writable globals: the libusb context lives in priv.
 *
 * The files of this wing: transport.c (this: the ops table, opening,
 * alt settings, leaving), discovery.c (finding devices), request.c (the
 * request and poll engine), dfuse.c (DfuSe addressing and memory ops),
 * plain.c (plain DFU 1.1), state.c (pure protocol decisions, tested by
 * tables) and layout.c (DfuSe layout strings).
 *
 * Images with DfuSe targets reach other alt settings through alt_layout
 * and select_alt (the core writes one memory at a time); memories whose
 * type lacks the erase bit (option bytes) are never erased, and a ROM
 * that resets after such a write to load it is followed, not reported as
 * lost.  check_image refuses a .dfu file whose suffix names another
 * device, or an alt setting the device lacks, before anything is erased.
 *
 * Plain DFU 1.1 devices (no DfuSe) have no addresses on the wire: a
 * download runs from block 0 and ends with manifestation.  The write op
 * therefore accepts only one sequential run from the layout base (no
 * skipped blank blocks, FT_E_NOT_SUPPORTED otherwise), erase is a no-op
 * (the device erases as it downloads), manifestation happens before the
 * next read, go or close, and a device that is not manifestation
 * tolerant cannot be read back after a download.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

static int attach(struct ft_dev *dev, const struct ft_open_opts *opts);

void
ft_dfu_release(struct dfu_priv *p)
{
	if (p->h != NULL) {
		if (!p->gone)
			(void)libusb_release_interface(p->h, p->c.iface);
		libusb_close(p->h);
		p->h = NULL;
	}
}

/* Open options that find the device at the same path and alt again. */
static void
reopen_opts(const struct ft_dev *dev, struct ft_open_opts *o)
{
	const struct dfu_priv *p = dev->priv;

	memset(o, 0, sizeof(*o));
	o->transport = FT_TRANSPORT_DFU;
	o->dfu.vid = o->dfu.pid = o->dfu.dfu_vid = o->dfu.dfu_pid = -1;
	o->dfu.alt = p->alt;
	o->target_addr = dev->info.flash.base;
}

/*
 * A DfuSe ROM reloads its option bytes by resetting right after writing
 * them (AN3156), so the device vanishing after a write to memory that
 * cannot be erased is that reset, not a failure.  It comes back in DFU
 * mode when BOOT0 is held or the flash is empty; then carry on with it.
 * Otherwise it runs its application: nothing more can be done, which
 * later reads (verify) and the leave report.
 */
int
ft_dfu_write_reset(struct ft_dev *dev, uint32_t addr)
{
	struct dfu_priv *p = dev->priv;
	struct ft_open_opts o;
	struct dfu_watch w;
	enum dfu_watch_result res;

	ft_info(dev->ctx, "the device resets to load what was written at "
	    "0x%08x (alt %d)", addr, p->alt);
	p->gone = 1;
	ft_dfu_release(p);
	p->gone = 0;
	reopen_opts(dev, &o);
	ft_dfu_watch_begin(&w, p->usb, p->c.e.path, p->devaddr);
	res = ft_dfu_watch_wait(dev->ctx, &w, RESET_BACK_MS, RESET_BACK_MS,
	    &p->c);
	ft_dfu_watch_end(&w);
	if (res != WATCH_DFU) {
		ft_clear_detail(dev->ctx);
		ft_info(dev->ctx, "the device left DFU mode and runs its "
		    "application");
		p->gone = 1;
		p->reset_away = 1;
		return 0;
	}
	ft_info(dev->ctx, "the device came back in DFU mode on %s",
	    p->c.e.path);
	return attach(dev, &o);
}

/* Runtime device: ask it to detach into DFU mode and find it again. */
static int
detach(struct ft_dev *dev, struct dfu_cand *c)
{
	struct dfu_priv *p = dev->priv;
	unsigned tmo = c->detach_ms < DETACH_TIMEOUT_MAX_MS ?
	    c->detach_ms : DETACH_TIMEOUT_MAX_MS;
	struct dfu_watch w;
	struct dfu_cand next;
	enum dfu_watch_result res;
	int r;

	ft_info(dev->ctx, "detaching %04x:%04x%s%s%s at %s (in runtime mode) "
	    "into DFU mode", c->e.vid, c->e.pid, c->e.product[0] ? " \"" : "",
	    c->e.product, c->e.product[0] ? "\"" : "", c->e.path);
	r = libusb_claim_interface(p->h, c->iface);
	if (r != 0) {
		ft_dfu_release(p);
		return ft_dfu_fail_xfer(dev, r, "claiming the runtime "
		    "interface", 0);
	}
	ft_dfu_watch_begin(&w, p->usb, c->e.path, c->e.address);
	r = ft_dfu_ctrl(p, REQ_OUT, FT_DFU_DETACH, (uint16_t)tmo, NULL, 0,
	    CTRL_TIMEOUT_MS);
	if (r < 0 && r != LIBUSB_ERROR_NO_DEVICE && r != LIBUSB_ERROR_PIPE &&
	    r != LIBUSB_ERROR_IO) {
		ft_dfu_watch_end(&w);
		ft_dfu_release(p);
		return ft_dfu_fail_xfer(dev, r, "DFU_DETACH", 0);
	}
	if (!(c->attrs & DFU_ATTR_WILL_DETACH))
		(void)libusb_reset_device(p->h);
	p->gone = 1;
	ft_dfu_release(p);
	p->gone = 0;
	res = ft_dfu_watch_wait(dev->ctx, &w, tmo + DETACH_BACK_MS,
	    DETACH_BACK_MS, &next);
	ft_dfu_watch_end(&w);
	libusb_unref_device(c->udev);
	c->udev = NULL;
	if (res == WATCH_DFU) {
		*c = next;
		return 0;
	}
	if (res == WATCH_INTERRUPTED)
		return ft_fail(dev->ctx, FT_E_INTERRUPTED, "interrupted while "
		    "waiting for %s to come back in DFU mode", c->e.path);
	return ft_fail(dev->ctx, FT_E_NO_DEVICE, "%04x:%04x at %s was asked to "
	    "detach into DFU mode, but %s", c->e.vid, c->e.pid, c->e.path,
	    res == WATCH_STILL ? "it stayed on the bus in runtime mode" :
	    res == WATCH_OTHER ? "another device enumerated there" :
	    "no DFU-mode device came back there");
}

/* The alt setting to use: asked for, or the one holding target. */
static int
choose_alt(struct ft_dev *dev, const struct ft_open_opts *opts,
    unsigned *index)
{
	struct dfu_priv *p = dev->priv;
	uint32_t target = opts->target_addr != 0 ? opts->target_addr :
	    0x08000000u;

	return ft_dfu_choose_alt(dev->ctx, &p->c.e, &opts->dfu, target, index);
}

static int
fill_info(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	struct dfu_priv *p = dev->priv;
	struct ft_devinfo *info = &dev->info;
	uint32_t target = opts->target_addr != 0 ? opts->target_addr :
	    0x08000000u;
	int r;

	/*
	 * A DFU device has no chip ID to read: name what is known, its
	 * product string (or its USB IDs), and its memory's layout name.
	 */
	info->transport = FT_TRANSPORT_DFU;
	info->pid = 0;
	if (p->c.e.product[0] != '\0')
		ft_strlcpy(info->name, p->c.e.product, sizeof(info->name));
	else
		snprintf(info->name, sizeof(info->name), "USB device "
		    "%04x:%04x", p->c.e.vid, p->c.e.pid);
	ft_strlcpy(info->memory, p->have_layout ? p->layout.name : "",
	    sizeof(info->memory));
	info->bl_version = (uint8_t)(p->c.e.bcd_device >> 8);
	info->dfu = p->c.e;
	info->dfu_alt = p->alt;
	info->chip = NULL;
	if (p->have_layout) {
		r = ft_dfu_layout_flash(dev->ctx, &p->layout, target,
		    &info->flash);
		/* An alt chosen by hand may not hold the target. */
		if (r == FT_E_RANGE && p->layout.nseg > 0) {
			size_t i;

			for (i = 0; i < p->layout.nseg; i++)
				if (p->layout.seg[i].attr & FT_DFU_WRITABLE)
					break;
			if (i == p->layout.nseg)
				return ft_fail(dev->ctx, FT_E_RANGE,
				    "alt %d (%s) has no writable memory",
				    p->alt, p->layout.name);
			r = ft_dfu_layout_flash(dev->ctx, &p->layout,
			    p->layout.seg[i].start, &info->flash);
		}
		if (r < 0)
			return r;
	} else if (opts->layout != NULL) {
		info->flash = *opts->layout;
	} else {
		/*
		 * Plain DFU says nothing about memory: offer a window of
		 * transfer-size units from the target address; the device
		 * itself refuses what does not fit.
		 */
		uint64_t room = (uint64_t)UINT32_MAX + 1 - target;

		if (room > PLAIN_WINDOW_BYTES)
			room = PLAIN_WINDOW_BYTES;
		info->flash.base = target;
		info->flash.nruns = 1;
		info->flash.runs[0].size = p->xfer;
		info->flash.runs[0].count = (uint32_t)(room / p->xfer);
	}
	if (!p->dfuse) {
		p->plain_base = info->flash.base;
		/* One download from the base: nothing compared or skipped. */
		dev->sequential_write = 1;
	}
	dev->max_read = p->xfer;
	dev->max_write = p->xfer;
	dev->write_align = 1;
	return 0;
}

/* Open the candidate in c, claim it and set the alt; c is consumed. */
static int
attach(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	struct dfu_priv *p = dev->priv;
	unsigned idx;
	int r;

	r = libusb_open(p->c.udev, &p->h);
	p->devaddr = p->c.e.address;
	libusb_unref_device(p->c.udev);
	p->c.udev = NULL;
	if (r != 0) {
		p->h = NULL;
		return ft_dfu_fail_xfer(dev, r, "opening the USB device", 0);
	}
	(void)libusb_set_auto_detach_kernel_driver(p->h, 1);
	r = libusb_claim_interface(p->h, p->c.iface);
	if (r != 0) {
		libusb_close(p->h);
		p->h = NULL;
		if (r == LIBUSB_ERROR_BUSY)
			return ft_fail(dev->ctx, FT_E_BUSY, "the DFU interface "
			    "of %s is in use by another program", p->c.e.path);
		return ft_dfu_fail_xfer(dev, r, "claiming the DFU interface",
		    0);
	}
	r = choose_alt(dev, opts, &idx);
	if (r < 0) {
		ft_dfu_release(p);
		return r;
	}
	p->alt = p->c.e.alts[idx].alt;
	p->have_layout = ft_dfu_layout_parse(NULL, p->c.e.alts[idx].name,
	    &p->layout) == 0;
	if (p->c.e.nalts > 1) {
		r = libusb_set_interface_alt_setting(p->h, p->c.iface, p->alt);
		if (r != 0) {
			ft_dfu_release(p);
			return ft_dfu_fail_xfer(dev, r, "selecting the alt "
			    "setting", 0);
		}
	}
	p->xfer = p->c.e.transfer_size;
	p->dfuse = p->c.e.dfuse;
	if (p->xfer == 0) {
		ft_dfu_release(p);
		return ft_fail(dev->ctx, FT_E_PROTOCOL, "%s reports a DFU "
		    "transfer size of 0", p->c.e.path);
	}
	p->run.ptr_ok = 0;
	p->run.mode = FT_DFU_MODE_IDLE;
	r = ft_dfu_normalise(dev);
	if (r == 0)
		r = fill_info(dev, opts);
	if (r < 0) {
		ft_dfu_release(p);
		return r;
	}
	ft_dbg(dev->ctx, "DFU %04x:%04x at %s alt %d (%s), transfer size %u",
	    p->c.e.vid, p->c.e.pid, p->c.e.path, p->alt,
	    p->c.e.alts[idx].name, p->xfer);
	return 0;
}

/*
 * The core hands over zeroed state and calls dfu_close after any open,
 * so a failure here returns as it is: close releases what was got.
 */
static int
dfu_open(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	struct dfu_priv *p = dev->priv;
	int r;

	p->poll_mult = 1;
	p->no_watch = opts->dfu_no_watch != 0;
	r = libusb_init(&p->usb);
	if (r != 0) {
		p->usb = NULL;
		return ft_fail(dev->ctx, ft_dfu_usb_err(r), "libusb_init: %s",
		    libusb_error_name(r));
	}
	r = ft_dfu_select_one(dev->ctx, p->usb, &opts->dfu, opts->wait_ms,
	    &p->c);
	if (r == 0 && !p->c.e.dfu_mode) {
		r = libusb_open(p->c.udev, &p->h);
		if (r != 0) {
			p->h = NULL;
			libusb_unref_device(p->c.udev);
			p->c.udev = NULL;
			r = ft_dfu_fail_xfer(dev, r, "opening the runtime "
			    "device", 0);
		} else {
			p->rt_vid = p->c.e.vid;
			p->rt_pid = p->c.e.pid;
			p->detached = 1;
			r = detach(dev, &p->c);
		}
	}
	if (r == 0)
		r = attach(dev, opts);
	return r;
}

/* End a transfer in progress, release the interface, leave libusb. */
static void
dfu_close(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;

	if (p->h != NULL && !p->gone) {
		if (!p->dfuse)
			(void)ft_dfu_plain_finish(dev);
		else
			(void)ft_dfu_to_idle(dev);
	}
	ft_dfu_release(p);
	if (p->c.udev != NULL) {
		libusb_unref_device(p->c.udev);
		p->c.udev = NULL;
	}
	if (p->usb != NULL)
		libusb_exit(p->usb);
	p->usb = NULL;
}

/*
 * Other memories of the device (DfuSe targets in .dfu files).
 */

/* The index of alt setting number alt in the device's list, or -1. */
static int
alt_index(const struct dfu_priv *p, int alt)
{
	unsigned i;

	for (i = 0; i < p->c.e.nalts; i++)
		if (p->c.e.alts[i].alt == alt)
			return (int)i;
	return -1;
}

/*
 * The writable memory of alt setting index idx: its first writable
 * segment and those contiguous with it, as a layout, and whether any of
 * it can be erased (option bytes, OTP and feature words cannot: the ROM
 * writes them whole).
 */
static int
alt_memory(struct ft_dev *dev, int idx, struct ft_dfu_layout *l,
    struct ft_layout *out, int *erasable)
{
	struct dfu_priv *p = dev->priv;
	const char *name = p->c.e.alts[idx].name;
	uint64_t end;
	size_t i;
	int r;

	if (ft_dfu_layout_parse(NULL, name, l) != 0)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "alt setting %d "
		    "(\"%s\") of %s has no DfuSe memory layout",
		    p->c.e.alts[idx].alt, name, p->c.e.path);
	for (i = 0; i < l->nseg; i++)
		if (l->seg[i].attr & FT_DFU_WRITABLE)
			break;
	if (i == l->nseg)
		return ft_fail(dev->ctx, FT_E_RANGE, "alt setting %d (\"%s\") "
		    "of %s has no writable memory", p->c.e.alts[idx].alt,
		    name, p->c.e.path);
	r = ft_dfu_layout_flash(dev->ctx, l, l->seg[i].start, out);
	if (r < 0)
		return r;
	end = (uint64_t)out->base + ft_layout_size(out);
	*erasable = 0;
	for (i = 0; i < l->nseg; i++)
		if (l->seg[i].start >= out->base && l->seg[i].start < end &&
		    (l->seg[i].attr & FT_DFU_ERASABLE))
			*erasable = 1;
	return 0;
}

/* "0 \"@Internal Flash ...\", 1 \"@Option Bytes ...\"" */
static void
alt_names(const struct dfu_priv *p, char *out, size_t len)
{
	size_t o = 0;
	unsigned i;

	out[0] = '\0';
	for (i = 0; i < p->c.e.nalts && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%d \"%s\"",
		    i > 0 ? ", " : "", p->c.e.alts[i].alt,
		    p->c.e.alts[i].name);
}

static int
dfu_alt_layout(struct ft_dev *dev, int alt, struct ft_layout *out,
    int *erasable)
{
	struct dfu_priv *p = dev->priv;
	struct ft_dfu_layout l;
	char names[FT_DETAIL_MAX / 2];
	int idx = alt_index(p, alt);

	if (idx < 0) {
		alt_names(p, names, sizeof(names));
		return ft_fail(dev->ctx, FT_E_INVALID, "the image has data for "
		    "alt setting %d, which the device at %s does not have "
		    "(it has %s)", alt, p->c.e.path, names);
	}
	return alt_memory(dev, idx, &l, out, erasable);
}

static int
dfu_select_alt(struct ft_dev *dev, int alt)
{
	struct dfu_priv *p = dev->priv;
	struct ft_dfu_layout l;
	struct ft_layout flash;
	int idx = alt_index(p, alt), erasable, r;

	if (idx < 0)
		return dfu_alt_layout(dev, alt, &flash, &erasable);
	r = alt_memory(dev, idx, &l, &flash, &erasable);
	if (r < 0)
		return r;
	/* Gone by itself: only the bookkeeping (for leave's address). */
	if (!p->reset_away) {
		r = ft_dfu_to_idle(dev);
		if (r < 0)
			return r;
		r = libusb_set_interface_alt_setting(p->h, p->c.iface, alt);
		if (r != 0)
			return ft_dfu_fail_xfer(dev, r, "selecting the alt "
			    "setting", 0);
		ft_dbg(dev->ctx, "alt setting %d: %s", alt,
		    p->c.e.alts[idx].name);
	}
	p->alt = alt;
	p->layout = l;
	p->have_layout = 1;
	p->run.ptr_ok = 0;
	p->run.mode = FT_DFU_MODE_IDLE;
	dev->info.flash = flash;
	dev->info.dfu_alt = alt;
	return 0;
}

/*
 * A .dfu file names the device it is for in its suffix.  Refuse a file
 * for another device before anything is erased.  A runtime device that
 * was detached may be named by its application's IDs too.
 */
static int
dfu_check_image(struct ft_dev *dev, const struct ft_image *img)
{
	struct dfu_priv *p = dev->priv;
	const char *file = img->name[0] != '\0' ? img->name : "the image";
	size_t i;

	if (img->has_usb_ids && !ft_dfu_ids_accept(img->usb_vid, img->usb_pid,
	    p->c.e.vid, p->c.e.pid) && !(p->detached &&
	    ft_dfu_ids_accept(img->usb_vid, img->usb_pid, p->rt_vid,
	    p->rt_pid)))
		return ft_fail(dev->ctx, FT_E_INVALID, "%s is for USB device "
		    "%04x:%04x (its DFU suffix says so), but the device at %s "
		    "is %04x:%04x; nothing was erased", img->name,
		    img->usb_vid, img->usb_pid, p->c.e.path, p->c.e.vid,
		    p->c.e.pid);
	for (i = 0; i < img->nseg; i++) {
		char names[FT_DETAIL_MAX / 2];
		int alt = img->seg[i].alt;

		if (alt < 0)
			continue;
		if (!p->dfuse)
			return ft_fail(dev->ctx, FT_E_INVALID, "%s is a DfuSe "
			    "file, but the device at %s speaks plain DFU 1.1 "
			    "(no addresses, no targets)", file, p->c.e.path);
		if (alt_index(p, alt) >= 0)
			continue;
		alt_names(p, names, sizeof(names));
		return ft_fail(dev->ctx, FT_E_INVALID, "%s has data for alt "
		    "setting %d, which the device at %s does not have (it has "
		    "%s); nothing was erased", file, alt, p->c.e.path, names);
	}
	return 0;
}

/* Send the leave request: DfuSe's, or plain DFU's manifest and reset. */
static int
request_leave(struct ft_dev *dev, uint32_t addr)
{
	struct dfu_priv *p = dev->priv;
	unsigned tries;
	int r;

	if (!p->dfuse) {
		r = ft_dfu_plain_finish(dev);
		/* A manifestation-tolerant device idles: reset it. */
		if (r == 0 && !p->gone)
			(void)libusb_reset_device(p->h);
		return r;
	}
	for (tries = 0;; tries++) {
		r = ft_dfuse_leave_once(dev, addr);
		if (r <= 0 || tries >= dev->retries)
			break;
		ft_dbg(dev->ctx, "leave refused (%s); retrying",
		    dev->ctx->detail);
		(void)ft_dfu_resync(dev);
	}
	if (r > 0)
		return ft_fail(dev->ctx, FT_E_LEAVE, "leave: %s",
		    dev->ctx->detail);
	return r;
}

/* What came back on the path (or did not), as the leave report. */
static int
leave_outcome(struct ft_dev *dev, enum dfu_watch_result res,
    const struct dfu_watch *w)
{
	struct dfu_priv *p = dev->priv;
	struct ft_leave *lv = &dev->info.leave;

	ft_strlcpy(lv->path, p->c.e.path, sizeof(lv->path));
	lv->ms = w->waited_ms;
	switch (res) {
	case WATCH_DFU:
		lv->outcome = FT_LEAVE_STAYED;
		return ft_fail(dev->ctx, FT_E_STAYED, "the device came back in "
		    "DFU mode on %s %u ms after it left: BOOT0 is still held "
		    "high (remove the bridge or jumper and reset)",
		    p->c.e.path, w->waited_ms);
	case WATCH_OTHER:
		lv->outcome = FT_LEAVE_APP;
		lv->vid = w->vid;
		lv->pid = w->pid;
		ft_strlcpy(lv->product, w->product, sizeof(lv->product));
		ft_dbg(dev->ctx, "left DFU mode: %04x:%04x \"%s\" enumerated "
		    "on %s %u ms after it left the bus", w->vid, w->pid,
		    w->product, p->c.e.path, w->waited_ms);
		return 0;
	case WATCH_INTERRUPTED:
		lv->outcome = FT_LEAVE_SENT;
		ft_dbg(dev->ctx, "left DFU mode; the watch was interrupted");
		return 0;
	default:
		lv->outcome = FT_LEAVE_GONE;
		ft_dbg(dev->ctx, "left DFU mode: nothing on %s within %u ms of "
		    "leaving the bus", p->c.e.path, w->waited_ms);
		return 0;
	}
}

/*
 * Leave DFU mode and watch the USB path from the moment the device
 * leaves the bus: the application enumerating there, nothing within
 * LEAVE_BACK_MS, or the ROM back (BOOT0 held).  A device that does not
 * leave at all lost the request: ask again while it still answers.
 */
static int
dfu_go(struct ft_dev *dev, uint32_t addr)
{
	struct dfu_priv *p = dev->priv;
	struct dfu_status st;
	struct dfu_watch w;
	struct dfu_cand back;
	enum dfu_watch_result res;
	unsigned attempt;
	int r;

	if (p->reset_away) {
		ft_dbg(dev->ctx, "the device already left DFU mode");
		dev->info.leave.outcome = FT_LEAVE_GONE;
		return 0;
	}
	for (attempt = 0;; attempt++) {
		ft_dfu_watch_begin(&w, p->usb, p->c.e.path, p->devaddr);
		r = request_leave(dev, addr);
		if (r < 0) {
			ft_dfu_watch_end(&w);
			return r;
		}
		if (p->no_watch) {
			ft_dfu_watch_end(&w);
			dev->info.leave.outcome = FT_LEAVE_SENT;
			ft_strlcpy(dev->info.leave.path, p->c.e.path,
			    sizeof(dev->info.leave.path));
			break;
		}
		res = ft_dfu_watch_wait(dev->ctx, &w, LEAVE_DEPART_MS,
		    LEAVE_BACK_MS, &back);
		if (res == WATCH_DFU)
			libusb_unref_device(back.udev);
		if (res != WATCH_STILL) {
			r = leave_outcome(dev, res, &w);
			ft_dfu_watch_end(&w);
			p->gone = 1;
			ft_dfu_release(p);
			if (r < 0)
				return r;
			break;
		}
		ft_dfu_watch_end(&w);
		if (!p->dfuse)
			return ft_fail(dev->ctx, FT_E_STAYED, "the download is "
			    "manifested, but the device stays in DFU mode on "
			    "%s after a USB reset (it is manifestation "
			    "tolerant); power-cycle it to start the new "
			    "firmware", p->c.e.path);
		if (attempt >= dev->retries ||
		    ft_dfu_get_status(p, &st, CTRL_TIMEOUT_MS) < 0)
			return ft_fail(dev->ctx, FT_E_LEAVE, "the device is "
			    "still on %s in DFU mode %d ms after the leave "
			    "request", p->c.e.path, LEAVE_DEPART_MS);
		ft_dbg(dev->ctx, "the device did not leave (%s); again",
		    ft_dfu_state_name(st.state));
		(void)ft_dfu_resync(dev);
	}
	p->gone = 1;
	ft_dfu_release(p);
	ft_clear_detail(dev->ctx);
	ft_dbg(dev->ctx, "left DFU mode, starting the code at 0x%08x", addr);
	return 0;
}

static int
dfu_protect(struct ft_dev *dev, enum ft_protect_op op)
{
	struct dfu_priv *p = dev->priv;
	struct ft_open_opts o;
	uint8_t cmd = FT_DFUSE_READ_UNPROTECT;
	struct dfu_status st;
	struct dfu_watch w;
	enum dfu_watch_result res;
	int r;

	if (op != FT_READOUT_UNPROTECT || !p->dfuse)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "DfuSe ROMs only "
		    "offer read-out unprotect");
	if (p->reset_away)
		return ft_dfu_fail_away(dev, "READ_UNPROTECT");
	r = ft_dfu_to_idle(dev);
	if (r < 0)
		return r;
	r = ft_dfu_dnload(p, 0, &cmd, 1);
	if (r < 0)
		return ft_dfu_fail_xfer(dev, r, "READ_UNPROTECT", 0);
	/* The first poll starts it; the device then erases and resets. */
	ft_dfu_watch_begin(&w, p->usb, p->c.e.path, p->devaddr);
	r = ft_dfu_get_status(p, &st, CTRL_TIMEOUT_MS);
	if (r == 0 && st.status != FT_DFU_OK) {
		ft_dfu_watch_end(&w);
		return ft_dfu_fail_status(dev, &st, "READ_UNPROTECT", 0);
	}
	ft_info(dev->ctx, "read-out unprotect: the device mass-erases and "
	    "resets");
	p->gone = 1;
	ft_dfu_release(p);
	p->gone = 0;
	res = ft_dfu_watch_wait(dev->ctx, &w, UNPROTECT_REENUM_MS,
	    RESET_BACK_MS, &p->c);
	ft_dfu_watch_end(&w);
	if (res != WATCH_DFU)
		return ft_fail(dev->ctx, res == WATCH_INTERRUPTED ?
		    FT_E_INTERRUPTED : FT_E_NO_DEVICE, "read-out unprotect: "
		    "%s on USB path %s after the reset (the flash is erased; "
		    "reset the chip into the bootloader to go on)",
		    res == WATCH_STILL ? "the device did not reset" :
		    res == WATCH_OTHER ? "another device came back" :
		    "no DFU-mode device came back", p->c.e.path);
	memset(&o, 0, sizeof(o));
	o.dfu.vid = o.dfu.pid = o.dfu.dfu_vid = o.dfu.dfu_pid = -1;
	o.dfu.alt = p->alt;
	o.target_addr = dev->info.flash.base;
	return attach(dev, &o);
}

const struct ft_transport ft_transport_dfu = {
	.name = "dfu",
	.priv_size = sizeof(struct dfu_priv),
	/* A 2 KiB upload takes a few ms; programming it, some 50 ms. */
	.read_is_cheap = 1,
	.erase_batch_units = 1,
	.open = dfu_open,
	.close = dfu_close,
	.read = ft_dfu_read,
	.write = ft_dfu_write,
	.erase = ft_dfu_erase,
	.mass_erase = ft_dfu_mass_erase,
	.crc = NULL,
	.go = dfu_go,
	.reset = NULL,
	.protect = dfu_protect,
	.write_protect = NULL,
	.alt_layout = dfu_alt_layout,
	.select_alt = dfu_select_alt,
	.check_image = dfu_check_image,
	.resync = ft_dfu_resync,
};
