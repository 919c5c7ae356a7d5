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
 * The protocol decisions (what a status calls for, which device and alt
 * a match selects, poll pacing, DfuSe block numbering) are pure functions
 * in lib/dfu/state.c, tested by tables; this file does their I/O.
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

#include <libusb.h>

#include "dfu.h"

/* USB class codes for DFU (DFU 1.1, 4.2.1 and 4.2.3). */
#define DFU_CLASS 0xFE
#define DFU_SUBCLASS 0x01
#define DFU_PROTO_RUNTIME 0x01
#define DFU_PROTO_DFU 0x02
#define DFU_FUNC_DESC_TYPE 0x21
#define DFU_FUNC_DESC_MIN_LEN 7
#define DFU_FUNC_DESC_LEN 9
#define DFU_BCD_1_1 0x0110

/* bmAttributes of the functional descriptor. */
#define DFU_ATTR_CAN_DNLOAD 0x01
#define DFU_ATTR_CAN_UPLOAD 0x02
#define DFU_ATTR_MANIFEST_TOLERANT 0x04
#define DFU_ATTR_WILL_DETACH 0x08

#define REQ_OUT (LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_CLASS | \
	LIBUSB_RECIPIENT_INTERFACE)
#define REQ_IN (LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_CLASS | \
	LIBUSB_RECIPIENT_INTERFACE)

#define STATUS_LEN 6
#define ST_VID 0x0483
#define MAX_PORTS 7

/* Timeouts and poll pacing. */
#define CTRL_TIMEOUT_MS 5000		/* any single control transfer */
#define POLL_STALL_RETRIES 5		/* stalled polls tolerated per op */
#define POLL_MULT_MAX 8			/* most we stretch a poll timeout */
#define SET_ADDRESS_BUDGET_MS 2000	/* ROMs report ~104 ms */
#define WRITE_BUDGET_MS 3000		/* 2 KiB program: 8..60 ms */
#define ERASE_BUDGET_MS 1000		/* plus ERASE_MS_PER_KIB per page */
#define ERASE_MS_PER_KIB 25		/* F4 128 KiB sector: up to 2 s */
#define MASS_ERASE_BUDGET_MS 40000	/* F4 x8 mass erase: up to 32 s */
#define UNPROTECT_REENUM_MS 40000	/* unprotect = mass erase + reset */
#define MANIFEST_BUDGET_MS 5000
#define DETACH_TIMEOUT_MAX_MS 1000	/* wValue of DFU_DETACH */
#define REENUM_TIMEOUT_MS 5000		/* runtime -> DFU mode */
#define LEAVE_WATCH_MS 2000		/* did it come back in DFU mode? */
#define SCAN_INTERVAL_MS 250		/* --wait polling */
#define REENUM_SCAN_MS 100
#define NORMALISE_TRIES 5

/* Plain DFU has no layout; the window we pretend to have. */
#define PLAIN_WINDOW_BYTES (16u * 1024 * 1024)

#define UDEV_HINT "install the udev rule scripts/50-flashtool.rules from " \
	"flashtool's sources with 'sudo sh scripts/install-udev-rules' (or " \
	"'sudo make install-udev'), add yourself to the plugdev group " \
	"('sudo usermod -aG plugdev $USER', then log in again) and replug " \
	"the device"
#define DFU_ENTRY_HINT "to enter DFU mode, short BOOT0 and reset, or hold " \
	"BOOT0 while plugging in"

/*
 * How long an operation of one kind (what, size) kept the device busy at
 * least (the longest such bound seen): the first re-poll of the next one
 * waits that long, instead of re-polling from 1 ms or sleeping a reported
 * timeout that may be 3x the work.
 */
#define BUSY_SLOTS 8

struct busy_seen {
	const char *what;		/* NULL: free slot */
	uint32_t size;
	uint32_t ms;
};

/* A DFU-capable device found by a scan. */
struct cand {
	libusb_device *udev;		/* referenced */
	struct ft_dfu_entry e;
	int iface;			/* bInterfaceNumber */
	uint8_t alt_str[FT_DFU_MAX_ALTS]; /* iInterface per alt */
	uint8_t attrs;			/* functional bmAttributes */
	uint16_t detach_ms;
	uint16_t bcd_dfu;
	int open_err;			/* libusb error reading strings */
};

struct dfu_priv {
	libusb_context *usb;
	libusb_device_handle *h;
	struct cand c;			/* the device in use (udev unref'd) */
	uint8_t devaddr;		/* USB address, changes on re-enum */
	int alt;
	uint16_t xfer;			/* wTransferSize */
	int dfuse;
	int have_layout;
	struct ft_dfu_layout layout;	/* of the alt in use */
	int gone;			/* the device left (go/unprotect) */
	int reset_away;			/* it reset by itself after a
					 * write (option bytes) and runs
					 * its application now */
	uint16_t rt_vid, rt_pid;	/* runtime IDs before a detach */
	int detached;
	int strict_poll;		/* device stalls early polls */
	unsigned poll_mult;		/* its timeouts were this short */
	struct busy_seen busy[BUSY_SLOTS];	/* per kind of operation */

	/* DfuSe addressing, and the transfer open (plain DFU too). */
	struct ft_dfuse_run run;

	/* Plain DFU 1.1: one sequential transfer from block 0. */
	uint32_t plain_base;
	uint32_t plain_next;
	uint32_t plain_block;
	int plain_active;
};

struct dfu_status {
	uint8_t status;
	uint32_t poll_ms;
	uint8_t state;
};

/* A libusb error as ours; the detail is the caller's. */
static int
usb_err(int r)
{
	switch (r) {
	case LIBUSB_ERROR_TIMEOUT:
		return FT_E_TIMEOUT;
	case LIBUSB_ERROR_PIPE:
		return FT_E_PROTOCOL;
	case LIBUSB_ERROR_NO_DEVICE:
	case LIBUSB_ERROR_NOT_FOUND:
		return FT_E_NO_DEVICE;
	case LIBUSB_ERROR_ACCESS:
		return FT_E_ACCESS;
	case LIBUSB_ERROR_BUSY:
		return FT_E_BUSY;
	case LIBUSB_ERROR_NO_MEM:
		return FT_E_NOMEM;
	case LIBUSB_ERROR_INTERRUPTED:
		return FT_E_INTERRUPTED;
	default:
		return FT_E_IO;
	}
}

static void
sleep_ms(uint64_t ms)
{
	ft_sleep_us(ms * 1000);
}

/*
 * Class requests.  Each returns bytes transferred or a libusb error code
 * (negative), so callers can tell a stall from a vanished device.
 */
static int
ctrl(struct dfu_priv *p, uint8_t type, uint8_t req, uint16_t value,
    uint8_t *data, uint16_t len, unsigned timeout_ms)
{
	return libusb_control_transfer(p->h, type, req, value,
	    (uint16_t)p->c.iface, data, len, timeout_ms);
}

static int
get_status(struct dfu_priv *p, struct dfu_status *st, unsigned timeout_ms)
{
	uint8_t b[STATUS_LEN];
	int r = ctrl(p, REQ_IN, FT_DFU_GETSTATUS, 0, b, sizeof(b),
	    timeout_ms);

	if (r < 0)
		return r;
	if (r < STATUS_LEN)
		return LIBUSB_ERROR_IO;
	st->status = b[0];
	st->poll_ms = (uint32_t)b[1] | ((uint32_t)b[2] << 8) |
	    ((uint32_t)b[3] << 16);
	st->state = b[4];
	return 0;
}

static int
simple_req(struct dfu_priv *p, uint8_t req)
{
	return ctrl(p, REQ_OUT, req, 0, NULL, 0, CTRL_TIMEOUT_MS);
}

/* Error for a failed control transfer, naming what was being done. */
static int
fail_xfer(struct ft_dev *dev, int r, const char *what, uint32_t addr)
{
	if (r == LIBUSB_ERROR_ACCESS)
		return ft_fail(dev->ctx, FT_E_ACCESS, "%s: permission denied; "
		    UDEV_HINT, what);
	return ft_fail(dev->ctx, usb_err(r), "%s at 0x%08x: USB %s", what,
	    addr, libusb_error_name(r));
}

/* A DFU error status as ours; clears it so the device is usable again. */
static int
fail_status(struct ft_dev *dev, const struct dfu_status *st,
    const char *what, uint32_t addr)
{
	struct dfu_priv *p = dev->priv;
	int err = ft_dfu_status_err(st->status);

	p->run.ptr_ok = 0;
	p->run.mode = FT_DFU_MODE_IDLE;
	(void)simple_req(p, FT_DFU_CLRSTATUS);
	if (err == FT_E_PROTECTED)
		return ft_fail(dev->ctx, err, "%s at 0x%08x: %s (read-out "
		    "protection is active; unprotect mass-erases the flash)",
		    what, addr, ft_dfu_status_name(st->status));
	return ft_fail(dev->ctx, err, "%s at 0x%08x: device reports %s in %s",
	    what, addr, ft_dfu_status_name(st->status),
	    ft_dfu_state_name(st->state));
}

/*
 * Poll GETSTATUS after a DNLOAD until the device is idle again.  ST ROMs
 * start the command at the first GETSTATUS and report a poll timeout
 * that is often far longer than the work (104 ms for Set Address), so we
 * re-poll with a short back-off capped at that timeout instead of
 * sleeping it out.  A stalled poll means the device wanted us to wait
 * (STM32L4 ROM): clear the error, remember to honour its timeouts from
 * now on, and carry on.  budget_ms bounds the whole wait.
 */
static struct busy_seen *
busy_slot(struct dfu_priv *p, const char *what, uint32_t size)
{
	size_t i;

	for (i = 0; i < BUSY_SLOTS; i++)
		if (p->busy[i].what == NULL ||
		    (strcmp(p->busy[i].what, what) == 0 &&
		    p->busy[i].size == size))
			return &p->busy[i];
	return NULL;
}

static void
busy_learn(struct dfu_priv *p, const char *what, uint32_t size, uint64_t ms)
{
	struct busy_seen *b = busy_slot(p, what, size);

	if (b == NULL || ms > UINT32_MAX)
		return;
	if (b->what == NULL || ms > b->ms) {
		b->what = what;
		b->size = size;
		b->ms = (uint32_t)ms;
	}
}

/*
 * what must be a string literal: busy times are kept per (what, size),
 * size being the bytes the operation works on (0 for Set Address).
 */
static int
wait_idle(struct ft_dev *dev, const char *what, uint32_t addr, uint32_t size,
    unsigned budget_ms, struct dfu_status *out)
{
	struct dfu_priv *p = dev->priv;
	struct dfu_status st;
	struct ft_dfu_pace pace = { 0, 0, p->strict_poll, p->poll_mult };
	uint64_t start = ft_now_ms(), deadline = 0, wait, busy_from = 0;
	uint64_t last_busy = 0;
	const struct busy_seen *seen;
	unsigned stalls = 0;
	int r;

	for (;;) {
		uint64_t now = ft_now_ms();
		unsigned tmo = CTRL_TIMEOUT_MS;

		/* A device that NAKs polls while busy needs a long one. */
		if (budget_ms > tmo)
			tmo = budget_ms;
		r = get_status(p, &st, tmo);
		if (r == LIBUSB_ERROR_PIPE && stalls < POLL_STALL_RETRIES) {
			/*
			 * Polled too early.  The device is still busy (or
			 * dropped the operation into dfuERROR, which the
			 * next poll reports and fail_status clears); from
			 * now on honour its poll timeouts.
			 */
			stalls++;
			p->strict_poll = 1;
			ft_dbg(dev->ctx, "%s at 0x%08x: poll stalled, backing "
			    "off", what, addr);
			sleep_ms(ft_dfu_poll_next(&pace, FT_DFU_POLL_STALLED,
			    0));
			continue;
		}
		if (r < 0)
			return fail_xfer(dev, r, what, addr);
		if (out != NULL)
			*out = st;
		switch (ft_dfu_poll_verdict(st.state, st.status)) {
		case FT_DFU_ACT_DONE:
			/* Still busy when the poll before this one went
			 * out: the work took at least that long. */
			if (busy_from != 0 && last_busy >= busy_from &&
			    stalls == 0)
				busy_learn(p, what, size,
				    last_busy - busy_from);
			return 0;
		case FT_DFU_ACT_FAIL:
			/*
			 * The stall cost us the operation: its poll timeout
			 * is shorter than its work, so wait longer next time
			 * (the core retries).
			 */
			if (stalls > 0 && st.status == FT_DFU_ERR_STALLEDPKT &&
			    p->poll_mult < POLL_MULT_MAX)
				p->poll_mult *= 2;
			return fail_status(dev, &st, what, addr);
		case FT_DFU_ACT_WAIT:
			break;
		default:
			p->run.ptr_ok = 0;
			return ft_fail(dev->ctx, FT_E_PROTOCOL, "%s at 0x%08x: "
			    "unexpected state %s", what, addr,
			    ft_dfu_state_name(st.state));
		}
		/* The first busy status sets the cap, and with it the end. */
		last_busy = now;
		wait = ft_dfu_poll_next(&pace, FT_DFU_POLL_BUSY, st.poll_ms);
		if (deadline == 0) {
			deadline = start + budget_ms +
			    2 * (uint64_t)pace.cap_ms;
			/*
			 * The operation started at this status (ST ROMs
			 * act on the first GETSTATUS).  A device that does
			 * not stall early polls is first polled again after
			 * the busy time learned for this kind, then
			 * at the back-off pace.
			 */
			busy_from = ft_now_ms();
			seen = busy_slot(p, what, size);
			if (!pace.strict && seen != NULL &&
			    seen->what != NULL && seen->ms > wait)
				wait = seen->ms;
		}
		if (now >= deadline)
			return ft_fail(dev->ctx, FT_E_TIMEOUT, "%s at 0x%08x: "
			    "device still busy after %llu ms", what, addr,
			    (unsigned long long)(now - start));
		sleep_ms(wait);
	}
}

/* DNLOAD with wValue block; data may be NULL for a zero-length one. */
static int
dnload(struct dfu_priv *p, uint16_t block, const uint8_t *data, uint16_t len)
{
	return ctrl(p, REQ_OUT, FT_DFU_DNLOAD, block, (uint8_t *)data, len,
	    CTRL_TIMEOUT_MS);
}

/* Back to dfuIDLE from an upload or download in progress. */
static int
to_idle(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;
	int r;

	if (p->run.mode == FT_DFU_MODE_IDLE)
		return 0;
	r = simple_req(p, FT_DFU_ABORT);
	p->run.mode = FT_DFU_MODE_IDLE;
	if (r < 0) {
		p->run.ptr_ok = 0;
		return fail_xfer(dev, r, "ABORT", p->run.ptr);
	}
	return 0;
}

/* A DfuSe command (Set Address, Erase, Read Unprotect) run to its end. */
static int
dfuse_cmd(struct ft_dev *dev, uint8_t cmd, const uint32_t *addr,
    uint32_t size, const char *what, unsigned budget_ms)
{
	struct dfu_priv *p = dev->priv;
	uint8_t b[5];
	uint16_t n = 1;
	uint32_t a = addr != NULL ? *addr : 0;
	int r;

	if (p->run.mode == FT_DFU_MODE_UPLOAD) {
		r = to_idle(dev);
		if (r < 0)
			return r;
	}
	b[0] = cmd;
	if (addr != NULL) {
		ft_put_le32(b + 1, *addr);
		n = 5;
	}
	r = dnload(p, 0, b, n);
	if (r < 0) {
		p->run.ptr_ok = 0;
		return fail_xfer(dev, r, what, a);
	}
	p->run.mode = FT_DFU_MODE_DNLOAD;
	return wait_idle(dev, what, a, size, budget_ms, NULL);
}

static int
set_address(struct ft_dev *dev, uint32_t addr)
{
	struct dfu_priv *p = dev->priv;
	int r;

	p->run.ptr_ok = 0;
	r = dfuse_cmd(dev, FT_DFUSE_SET_ADDRESS, &addr, 0, "SET_ADDRESS",
	    SET_ADDRESS_BUDGET_MS);
	if (r < 0)
		return r;
	ft_dfuse_pointer_set(&p->run, addr);
	return 0;
}

/*
 * The wBlockNum that addresses addr, after the Set Address and ABORT that
 * ft_dfuse_plan() asks for.
 */
static int
block_for(struct ft_dev *dev, uint32_t addr, enum ft_dfu_mode mode,
    uint16_t *block)
{
	struct dfu_priv *p = dev->priv;
	struct ft_dfuse_step step;
	int r;

	ft_dfuse_plan(&p->run, addr, mode, &step);
	if (step.set_address) {
		r = set_address(dev, addr);
		if (r < 0)
			return r;
	}
	if (step.abort) {
		r = to_idle(dev);
		if (r < 0)
			return r;
	}
	*block = step.block;
	return 0;
}

static void
advance(struct dfu_priv *p, uint32_t len)
{
	ft_dfuse_advance(&p->run, len, p->xfer);
}

/*
 * Plain DFU 1.1: one download from block 0, ended by a zero-length block
 * and manifestation.
 */
static int
plain_finish(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;
	struct dfu_status st;
	uint64_t start = ft_now_ms();
	int r;

	if (!p->plain_active)
		return 0;
	p->plain_active = 0;
	r = dnload(p, (uint16_t)p->plain_block, NULL, 0);
	if (r < 0)
		return fail_xfer(dev, r, "DNLOAD (end)", p->plain_next);
	for (;;) {
		r = get_status(p, &st, CTRL_TIMEOUT_MS);
		if (r < 0) {
			/* Not manifestation tolerant: it may just be gone. */
			p->gone = 1;
			return 0;
		}
		if (st.status != FT_DFU_OK)
			return fail_status(dev, &st, "manifestation",
			    p->plain_base);
		if (st.state == FT_DFU_IDLE ||
		    st.state == FT_DFU_MANIFEST_WAIT_RESET)
			break;
		if (ft_now_ms() - start > MANIFEST_BUDGET_MS)
			return ft_fail(dev->ctx, FT_E_TIMEOUT,
			    "manifestation did not end within %d ms",
			    MANIFEST_BUDGET_MS);
		sleep_ms(st.poll_ms > 0 ? st.poll_ms : FT_DFU_POLL_FIRST_MS);
	}
	p->run.mode = FT_DFU_MODE_IDLE;
	if (st.state == FT_DFU_MANIFEST_WAIT_RESET) {
		(void)libusb_reset_device(p->h);
		p->gone = 1;
	}
	return 0;
}

static int
plain_write(struct ft_dev *dev, uint32_t addr, const uint8_t *buf,
    uint32_t len)
{
	struct dfu_priv *p = dev->priv;
	int r;

	if (!p->plain_active) {
		if (addr != p->plain_base)
			return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
			    "plain DFU writes the whole image from 0x%08x; "
			    "cannot start at 0x%08x", p->plain_base, addr);
		p->plain_active = 1;
		p->plain_next = addr;
		p->plain_block = 0;
	}
	if (addr != p->plain_next)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "plain DFU writes sequentially: expected 0x%08x, got "
		    "0x%08x (blank blocks cannot be skipped)", p->plain_next,
		    addr);
	r = dnload(p, (uint16_t)p->plain_block, buf, (uint16_t)len);
	if (r < 0)
		return fail_xfer(dev, r, "DNLOAD", addr);
	p->run.mode = FT_DFU_MODE_DNLOAD;
	r = wait_idle(dev, "DNLOAD", addr, len, WRITE_BUDGET_MS, NULL);
	if (r < 0)
		return r;
	p->plain_block++;
	p->plain_next += len;
	return 0;
}

static int
plain_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	struct dfu_priv *p = dev->priv;
	int r;

	if (p->plain_active && !(p->c.attrs & DFU_ATTR_MANIFEST_TOLERANT))
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "the plain DFU "
		    "device at %s is not manifestation tolerant: it starts "
		    "the new firmware after a download and cannot be read "
		    "back", p->c.e.path);
	r = plain_finish(dev);
	if (r < 0)
		return r;
	if (p->run.mode != FT_DFU_MODE_UPLOAD || addr != p->plain_next) {
		if (addr != p->plain_base)
			return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
			    "plain DFU reads sequentially from 0x%08x; cannot "
			    "start at 0x%08x", p->plain_base, addr);
		r = to_idle(dev);
		if (r < 0)
			return r;
		p->plain_block = 0;
		p->plain_next = addr;
	}
	r = ctrl(p, REQ_IN, FT_DFU_UPLOAD, (uint16_t)p->plain_block, buf,
	    (uint16_t)len, CTRL_TIMEOUT_MS);
	if (r < 0)
		return fail_xfer(dev, r, "UPLOAD", addr);
	p->run.mode = FT_DFU_MODE_UPLOAD;
	if ((uint32_t)r < len) {
		(void)to_idle(dev);
		return ft_fail(dev->ctx, FT_E_RANGE, "UPLOAD at 0x%08x: the "
		    "device's image ends at 0x%08x", addr,
		    addr + (uint32_t)r);
	}
	p->plain_block++;
	p->plain_next += len;
	return 0;
}

/*
 * Can the device still be read?  Not when it reset itself into its
 * application after an option-byte write, nor when its functional
 * descriptor says it cannot upload.
 */
static int
can_read(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;

	if (p->reset_away)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "the device at %s "
		    "reset to load its option bytes and left DFU mode: it "
		    "cannot be read back", p->c.e.path);
	if (!(p->c.attrs & DFU_ATTR_CAN_UPLOAD))
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "the DFU device "
		    "at %s cannot upload (bitCanUpload is 0): it cannot be "
		    "read back", p->c.e.path);
	return 0;
}

/* Writing, erasing, switching after the device went away by itself. */
static int
fail_away(struct ft_dev *dev, const char *what)
{
	struct dfu_priv *p = dev->priv;

	return ft_fail(dev->ctx, FT_E_NO_DEVICE, "%s: the device at %s reset "
	    "after an option-byte write and left DFU mode", what,
	    p->c.e.path);
}

static int
dfu_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	struct dfu_priv *p = dev->priv;
	uint16_t block;
	int r;

	r = can_read(dev);
	if (r < 0)
		return r;
	if (!p->dfuse)
		return plain_read(dev, addr, buf, len);
	r = block_for(dev, addr, FT_DFU_MODE_UPLOAD, &block);
	if (r < 0)
		return r;
	r = ctrl(p, REQ_IN, FT_DFU_UPLOAD, block, buf, (uint16_t)len,
	    CTRL_TIMEOUT_MS);
	if (r < 0) {
		p->run.ptr_ok = 0;
		if (r == LIBUSB_ERROR_PIPE) {
			struct dfu_status st;

			/* The status says why (errVENDOR: protected). */
			if (get_status(p, &st, CTRL_TIMEOUT_MS) == 0 &&
			    st.status != FT_DFU_OK)
				return fail_status(dev, &st, "UPLOAD", addr);
			p->run.mode = FT_DFU_MODE_UPLOAD;
			(void)to_idle(dev);
		}
		return fail_xfer(dev, r, "UPLOAD", addr);
	}
	p->run.mode = FT_DFU_MODE_UPLOAD;
	if ((uint32_t)r != len) {
		p->run.ptr_ok = 0;
		return ft_fail(dev->ctx, FT_E_PROTOCOL, "UPLOAD at 0x%08x: "
		    "%d of %u bytes", addr, r, len);
	}
	advance(p, len);
	return 0;
}

static int wait_reenum(struct ft_ctx *ctx, libusb_context *usb,
    const char *path, uint8_t old_addr, unsigned timeout_ms,
    struct cand *out, int *still_there);
static int attach(struct ft_dev *dev, const struct ft_open_opts *opts);
static void release(struct dfu_priv *p);

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
static int
write_reset(struct ft_dev *dev, uint32_t addr)
{
	struct dfu_priv *p = dev->priv;
	struct ft_open_opts o;
	int r;

	ft_info(dev->ctx, "the device resets to load what was written at "
	    "0x%08x (alt %d)", addr, p->alt);
	p->gone = 1;
	release(p);
	p->gone = 0;
	reopen_opts(dev, &o);
	r = wait_reenum(dev->ctx, p->usb, p->c.e.path, p->devaddr,
	    LEAVE_WATCH_MS, &p->c, NULL);
	if (r == FT_E_NO_DEVICE) {
		ft_clear_detail(dev->ctx);
		ft_info(dev->ctx, "the device left DFU mode and runs its "
		    "application");
		p->gone = 1;
		p->reset_away = 1;
		return 0;
	}
	if (r < 0)
		return r;
	ft_info(dev->ctx, "the device came back in DFU mode on %s",
	    p->c.e.path);
	return attach(dev, &o);
}

static int
dfu_write(struct ft_dev *dev, uint32_t addr, const uint8_t *buf,
    uint32_t len)
{
	struct dfu_priv *p = dev->priv;
	const struct ft_dfu_seg *g;
	uint16_t block;
	int r;

	if (p->reset_away)
		return fail_away(dev, "DNLOAD");
	if (!p->dfuse)
		return plain_write(dev, addr, buf, len);
	r = block_for(dev, addr, FT_DFU_MODE_DNLOAD, &block);
	if (r < 0)
		return r;
	r = dnload(p, block, buf, (uint16_t)len);
	if (r < 0) {
		p->run.ptr_ok = 0;
		return fail_xfer(dev, r, "DNLOAD", addr);
	}
	p->run.mode = FT_DFU_MODE_DNLOAD;
	r = wait_idle(dev, "DNLOAD", addr, len, WRITE_BUDGET_MS, NULL);
	if (r < 0) {
		p->run.ptr_ok = 0;
		g = p->have_layout ? ft_dfu_layout_find(&p->layout, addr) :
		    NULL;
		if ((r == FT_E_NO_DEVICE || r == FT_E_IO) && g != NULL &&
		    !(g->attr & FT_DFU_ERASABLE))
			return write_reset(dev, addr);
		return r;
	}
	advance(p, len);
	return 0;
}

static int dfu_resync(struct ft_dev *dev);

static int
dfu_erase(struct ft_dev *dev, const struct ft_erase_unit *units, size_t n)
{
	struct dfu_priv *p = dev->priv;
	size_t i;
	int r;

	if (p->reset_away)
		return fail_away(dev, "ERASE");
	if (!p->dfuse)
		return 0;	/* plain DFU devices erase as they download */
	for (i = 0; i < n; i++) {
		const struct ft_dfu_seg *g = ft_dfu_layout_find(&p->layout,
		    units[i].addr);
		unsigned budget = ERASE_BUDGET_MS +
		    ERASE_MS_PER_KIB * (units[i].size / 1024u);

		unsigned attempt;

		/* Option bytes ('e'): written whole, never erased. */
		if (g != NULL && !(g->attr & FT_DFU_ERASABLE))
			continue;
		/*
		 * Erasing a page twice is harmless, so a transient failure
		 * (stall, timeout) is retried here, page by page, rather
		 * than by the core re-erasing the whole batch.
		 */
		for (attempt = 0;; attempt++) {
			r = dfuse_cmd(dev, FT_DFUSE_ERASE, &units[i].addr,
			    units[i].size, "ERASE", budget);
			p->run.ptr_ok = 0;
			if (r == 0)
				break;
			if ((r != FT_E_PROTOCOL && r != FT_E_TIMEOUT) ||
			    attempt >= dev->retries)
				return r;
			ft_dbg(dev->ctx, "%s; retrying", dev->ctx->detail);
			(void)dfu_resync(dev);
		}
	}
	return 0;
}

static int
dfu_mass_erase(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;
	int r;

	if (p->reset_away)
		return fail_away(dev, "mass ERASE");
	if (!p->dfuse)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "mass erase needs a DfuSe device");
	r = dfuse_cmd(dev, FT_DFUSE_ERASE, NULL, 0, "mass ERASE",
	    MASS_ERASE_BUDGET_MS);
	p->run.ptr_ok = 0;
	return r;
}

static int
dfu_resync(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;
	struct dfu_status st;
	int r;

	if (p->h == NULL)
		return fail_away(dev, "GETSTATUS");
	p->run.ptr_ok = 0;
	r = get_status(p, &st, CTRL_TIMEOUT_MS);
	if (r == LIBUSB_ERROR_PIPE) {
		(void)simple_req(p, FT_DFU_CLRSTATUS);
		r = get_status(p, &st, CTRL_TIMEOUT_MS);
	}
	if (r < 0)
		return fail_xfer(dev, r, "GETSTATUS", 0);
	switch (ft_dfu_resync_step(st.state, st.status)) {
	case FT_DFU_ACT_CLRSTATUS:
		(void)simple_req(p, FT_DFU_CLRSTATUS);
		break;
	case FT_DFU_ACT_ABORT:
		(void)simple_req(p, FT_DFU_ABORT);
		break;
	default:
		break;
	}
	p->run.mode = FT_DFU_MODE_IDLE;
	return 0;
}

/*
 * Scanning.
 */

/* The DFU functional descriptor in a block of "extra" descriptor bytes. */
static int
find_func_desc(const unsigned char *x, int len, uint8_t *attrs,
    uint16_t *detach, uint16_t *xfer, uint16_t *bcd)
{
	int i = 0;

	while (x != NULL && i + 2 <= len) {
		int dl = x[i];

		if (dl < 2 || i + dl > len)
			break;
		if (x[i + 1] == DFU_FUNC_DESC_TYPE &&
		    dl >= DFU_FUNC_DESC_MIN_LEN) {
			*attrs = x[i + 2];
			*detach = (uint16_t)(x[i + 3] | (x[i + 4] << 8));
			*xfer = (uint16_t)(x[i + 5] | (x[i + 6] << 8));
			*bcd = dl >= DFU_FUNC_DESC_LEN ?
			    (uint16_t)(x[i + 7] | (x[i + 8] << 8)) : 0x0100;
			return 1;
		}
		i += dl;
	}
	return 0;
}

static void
usb_path(libusb_device *d, char *out, size_t n)
{
	uint8_t ports[MAX_PORTS];
	int np = libusb_get_port_numbers(d, ports, MAX_PORTS), i;
	size_t o;

	o = (size_t)snprintf(out, n, "%u", libusb_get_bus_number(d));
	for (i = 0; i < np && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%c%u", i == 0 ? '-' :
		    '.', ports[i]);
}

/*
 * Describe d's first DFU interface in c.  Returns 1 when d has one, 0
 * when not.
 */
static int
describe(libusb_device *d, struct cand *c)
{
	struct libusb_device_descriptor dd;
	struct libusb_config_descriptor *cfg = NULL;
	const struct libusb_interface *itf = NULL;
	int i, j, proto = -1, have_func = 0;

	memset(c, 0, sizeof(*c));
	if (libusb_get_device_descriptor(d, &dd) != 0)
		return 0;
	if (libusb_get_active_config_descriptor(d, &cfg) != 0 &&
	    libusb_get_config_descriptor(d, 0, &cfg) != 0)
		return 0;
	/* The first interface with a DFU alt setting. */
	for (i = 0; i < cfg->bNumInterfaces && itf == NULL; i++)
		for (j = 0; j < cfg->interface[i].num_altsetting; j++) {
			const struct libusb_interface_descriptor *a =
			    &cfg->interface[i].altsetting[j];

			if (a->bInterfaceClass == DFU_CLASS &&
			    a->bInterfaceSubClass == DFU_SUBCLASS) {
				itf = &cfg->interface[i];
				c->iface = a->bInterfaceNumber;
				proto = a->bInterfaceProtocol;
				break;
			}
		}
	if (itf == NULL) {
		libusb_free_config_descriptor(cfg);
		return 0;
	}
	for (j = 0; j < itf->num_altsetting; j++) {
		const struct libusb_interface_descriptor *a =
		    &itf->altsetting[j];

		if (a->bInterfaceClass != DFU_CLASS ||
		    a->bInterfaceSubClass != DFU_SUBCLASS)
			continue;
		/* Usually after the last alt setting; look at all. */
		if (!have_func)
			have_func = find_func_desc(a->extra, a->extra_length,
			    &c->attrs, &c->detach_ms, &c->e.transfer_size,
			    &c->bcd_dfu);
		if (c->e.nalts < FT_DFU_MAX_ALTS) {
			c->e.alts[c->e.nalts].alt = a->bAlternateSetting;
			c->alt_str[c->e.nalts] = a->iInterface;
			c->e.nalts++;
		}
	}
	if (!have_func)
		have_func = find_func_desc(cfg->extra, cfg->extra_length,
		    &c->attrs, &c->detach_ms, &c->e.transfer_size,
		    &c->bcd_dfu);
	libusb_free_config_descriptor(cfg);
	/* Protocol 0 is DFU mode for DfuSe devices (bcdDFU 0x011A). */
	c->e.dfu_mode = proto == DFU_PROTO_DFU ||
	    (proto == 0 && have_func && c->bcd_dfu == FT_DFUSE_BCD);
	c->e.vid = dd.idVendor;
	c->e.pid = dd.idProduct;
	c->e.bcd_device = dd.bcdDevice;
	c->e.bus = libusb_get_bus_number(d);
	c->e.address = libusb_get_device_address(d);
	c->e.dfuse = have_func && c->bcd_dfu == FT_DFUSE_BCD;
	usb_path(d, c->e.path, sizeof(c->e.path));
	c->udev = d;
	/* Stash the string indexes in the name fields until opened. */
	c->e.serial[0] = (char)dd.iSerialNumber;
	c->e.product[0] = (char)dd.iProduct;
	return 1;
}

static void
read_string(libusb_device_handle *h, uint8_t index, char *out, size_t n)
{
	int r;

	out[0] = '\0';
	if (index == 0)
		return;
	r = libusb_get_string_descriptor_ascii(h, index, (unsigned char *)out,
	    (int)n);
	if (r < 0)
		out[0] = '\0';
	else
		out[(size_t)r < n ? (size_t)r : n - 1] = '\0';
}

/* Open d briefly for its serial, product and alt names. */
static void
read_strings(struct cand *c)
{
	libusb_device_handle *h;
	uint8_t iserial = (uint8_t)c->e.serial[0];
	uint8_t iproduct = (uint8_t)c->e.product[0];
	unsigned i;

	c->e.serial[0] = c->e.product[0] = '\0';
	c->open_err = libusb_open(c->udev, &h);
	if (c->open_err != 0)
		return;
	read_string(h, iserial, c->e.serial, sizeof(c->e.serial));
	read_string(h, iproduct, c->e.product, sizeof(c->e.product));
	for (i = 0; i < c->e.nalts; i++)
		read_string(h, c->alt_str[i], c->e.alts[i].name,
		    sizeof(c->e.alts[i].name));
	libusb_close(h);
}

static void
free_cands(struct cand *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i].udev != NULL)
			libusb_unref_device(c[i].udev);
	free(c);
}

/*
 * Every DFU device matching m.  Candidates hold a reference on their
 * libusb device.  Devices we could not open to read their strings
 * (permissions) are included with open_err set when the strings decide
 * the match, so the caller can report the access problem.
 */
static int
scan(struct ft_ctx *ctx, libusb_context *usb, const struct ft_dfu_match *m,
    int for_open, struct cand **out, size_t *n)
{
	libusb_device **list;
	ssize_t nd, i;
	struct cand *cs;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	nd = libusb_get_device_list(usb, &list);
	if (nd < 0)
		return ft_fail(ctx, usb_err((int)nd), "listing USB devices: %s",
		    libusb_error_name((int)nd));
	cs = calloc((size_t)nd + 1, sizeof(*cs));
	if (cs == NULL) {
		libusb_free_device_list(list, 1);
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	}
	for (i = 0; i < nd; i++) {
		struct cand *c = &cs[k];

		if (!describe(list[i], c) ||
		    !ft_dfu_match_ids(m, &c->e, for_open)) {
			memset(c, 0, sizeof(*c));
			continue;
		}
		read_strings(c);
		if (ft_dfu_match_strings(m, &c->e, c->open_err != 0) == 0) {
			memset(c, 0, sizeof(*c));
			continue;
		}
		libusb_ref_device(c->udev);
		k++;
	}
	libusb_free_device_list(list, 1);
	*out = cs;
	*n = k;
	return 0;
}

int
ft_dfu_list(struct ft_ctx *ctx, const struct ft_dfu_match *m,
    struct ft_dfu_entry **out, size_t *n)
{
	libusb_context *usb;
	struct cand *cs;
	struct ft_dfu_entry *es;
	size_t k, i;
	int r;

	*out = NULL;
	*n = 0;
	r = libusb_init(&usb);
	if (r != 0)
		return ft_fail(ctx, usb_err(r), "libusb_init: %s",
		    libusb_error_name(r));
	r = scan(ctx, usb, m, 0, &cs, &k);
	if (r < 0) {
		libusb_exit(usb);
		return r;
	}
	es = calloc(k + 1, sizeof(*es));
	if (es == NULL) {
		free_cands(cs, k);
		libusb_exit(usb);
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	}
	for (i = 0; i < k; i++) {
		es[i] = cs[i].e;
		if (cs[i].open_err != 0)
			ft_warn(ctx, "cannot open USB device %04x:%04x at %s "
			    "(%s): names unknown; %s", es[i].vid, es[i].pid,
			    es[i].path, libusb_error_name(cs[i].open_err),
			    UDEV_HINT);
	}
	free_cands(cs, k);
	libusb_exit(usb);
	*out = es;
	*n = k;
	return 0;
}

/* "1-1.2 serial FFFFFFFEFFFF: @Internal Flash ..., @Option Bytes ..." */
static void
describe_list(const struct cand *cs, size_t n, char *out, size_t len)
{
	size_t i, o = 0;
	unsigned a;

	out[0] = '\0';
	for (i = 0; i < n && o < len; i++) {
		o += (size_t)snprintf(out + o, len - o, "%s%s %04x:%04x "
		    "serial %s", i > 0 ? "; " : "", cs[i].e.path,
		    cs[i].e.vid, cs[i].e.pid, cs[i].e.serial[0] != '\0' ?
		    cs[i].e.serial : "?");
		/* Layout names ("Internal Flash") keep the list short. */
		for (a = 0; a < cs[i].e.nalts && o < len; a++) {
			struct ft_dfu_layout l;
			const char *name = cs[i].e.alts[a].name;

			if (ft_dfu_layout_parse(NULL, name, &l) == 0)
				name = l.name;
			o += (size_t)snprintf(out + o, len - o, "%s%d \"%s\"",
			    a == 0 ? ", alt " : ", ", cs[i].e.alts[a].alt,
			    name);
		}
	}
}

/*
 * No device matched m, but did one match all but the alt setting?  Then
 * the alt is wrong (a usage error), not the device missing: say which
 * alt settings there are.
 */
static int
wrong_alt(struct ft_ctx *ctx, libusb_context *usb,
    const struct ft_dfu_match *m)
{
	struct ft_dfu_match any;
	char list[FT_DETAIL_MAX];
	char want[32];
	struct cand *cs;
	size_t n;
	int r;

	if (m == NULL || (m->alt < 0 && m->alt_name == NULL))
		return 0;
	any = *m;
	any.alt = -1;
	any.alt_name = NULL;
	r = scan(ctx, usb, &any, 1, &cs, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		free(cs);
		return 0;
	}
	describe_list(cs, n, list, sizeof(list));
	free_cands(cs, n);
	if (m->alt_name != NULL)
		snprintf(want, sizeof(want), "\"%.24s\"", m->alt_name);
	else
		snprintf(want, sizeof(want), "%d", m->alt);
	return ft_fail(ctx, FT_E_INVALID, "no alt setting %s on %s", want,
	    list);
}

/*
 * Find exactly one device, waiting up to wait_ms for one to appear.
 */
static int
select_one(struct ft_ctx *ctx, libusb_context *usb,
    const struct ft_dfu_match *m, unsigned wait_ms, struct cand *out)
{
	uint64_t start = ft_now_ms();
	int told = 0;
	struct cand *cs;
	size_t n, i;
	int r;

	for (;;) {
		r = scan(ctx, usb, m, 1, &cs, &n);
		if (r < 0)
			return r;
		if (n > 0)
			break;
		free(cs);
		r = wrong_alt(ctx, usb, m);
		if (r < 0)
			return r;
		if (ft_now_ms() - start >= wait_ms)
			return ft_fail(ctx, FT_E_NO_DEVICE, "no USB device in "
			    "DFU mode found%s; %s", wait_ms > 0 ?
			    " in time" : "", DFU_ENTRY_HINT);
		if (!told) {
			ft_info(ctx, "waiting for a DFU device (%s)",
			    DFU_ENTRY_HINT);
			told = 1;
		}
		if (ft_cancelled(ctx))
			return ft_fail(ctx, FT_E_INTERRUPTED,
			    "interrupted while waiting for a DFU device");
		sleep_ms(SCAN_INTERVAL_MS);
	}
	if (n > 1) {
		char list[FT_DETAIL_MAX];
		int same_serial = 1;

		for (i = 1; i < n; i++)
			if (strcmp(cs[i].e.serial, cs[0].e.serial) != 0)
				same_serial = 0;
		describe_list(cs, n, list, sizeof(list));
		free_cands(cs, n);
		return ft_fail(ctx, FT_E_MULTIPLE, "%zu DFU devices match: %s. "
		    "Choose one with --path%s", n, list, same_serial ?
		    " (their serials are identical, the USB path tells "
		    "them apart)" : " (USB path), --serial or -d vid:pid");
	}
	if (cs[0].open_err != 0) {
		struct ft_dfu_entry e = cs[0].e;

		r = cs[0].open_err;
		free_cands(cs, n);
		if (r == LIBUSB_ERROR_ACCESS)
			return ft_fail(ctx, FT_E_ACCESS, "no permission to "
			    "open USB device %04x:%04x at %s; " UDEV_HINT,
			    e.vid, e.pid, e.path);
		return ft_fail(ctx, usb_err(r), "cannot open USB device "
		    "%04x:%04x at %s: %s", e.vid, e.pid, e.path,
		    libusb_error_name(r));
	}
	*out = cs[0];
	free(cs);
	return 0;
}

/*
 * Something other than a DFU-mode device enumerated on path since the
 * old one (absent seen, or another address): the application, as a
 * run-time DFU interface or as any other device.  DFU-mode devices are
 * left to scan(), so a ROM coming back is never taken for an application.
 */
static int
app_on_path(libusb_context *usb, const char *path, uint8_t old_addr,
    int absent)
{
	libusb_device **list;
	ssize_t nd, i;
	int found = 0;

	nd = libusb_get_device_list(usb, &list);
	if (nd < 0)
		return 0;
	for (i = 0; i < nd && !found; i++) {
		struct cand c;
		char where[sizeof(c.e.path)];

		usb_path(list[i], where, sizeof(where));
		if (strcmp(where, path) != 0)
			continue;
		if (describe(list[i], &c) && c.e.dfu_mode)
			continue;
		found = absent ||
		    libusb_get_device_address(list[i]) != old_addr;
	}
	libusb_free_device_list(list, 1);
	return found;
}

/*
 * A DFU-mode device on path, re-enumerated (other address than
 * old_addr, or seen after having been absent).  The watch ends early,
 * with FT_E_NO_DEVICE, as soon as another device (the application)
 * enumerates on the path: then nothing is coming back in DFU mode.
 */
static int
wait_reenum(struct ft_ctx *ctx, libusb_context *usb, const char *path,
    uint8_t old_addr, unsigned timeout_ms, struct cand *out,
    int *still_there)
{
	struct ft_dfu_match m = { -1, -1, -1, -1, path, NULL, -1, NULL };
	uint64_t start = ft_now_ms();
	int absent = 0;
	struct cand *cs;
	size_t n;
	int r;

	if (still_there != NULL)
		*still_there = 0;
	while (ft_now_ms() - start < timeout_ms) {
		r = scan(ctx, usb, &m, 1, &cs, &n);
		if (r < 0)
			return r;
		/* An application in runtime mode is not "back in DFU". */
		if (n == 1 && !cs[0].e.dfu_mode) {
			free_cands(cs, n);
			n = 0;
			cs = NULL;
		}
		if (n == 0 && app_on_path(usb, path, old_addr, absent)) {
			free_cands(cs, n);
			if (still_there != NULL)
				*still_there = 0;
			return ft_fail(ctx, FT_E_NO_DEVICE, "another device "
			    "(the application) enumerated on USB path %s "
			    "after %llu ms", path,
			    (unsigned long long)(ft_now_ms() - start));
		}
		if (n == 1 && (absent || cs[0].e.address != old_addr)) {
			*out = cs[0];
			free(cs);
			return 0;
		}
		if (n == 0)
			absent = 1;
		if (still_there != NULL)
			*still_there = n == 1 && !absent;
		free_cands(cs, n);
		sleep_ms(REENUM_SCAN_MS);
	}
	return ft_fail(ctx, FT_E_NO_DEVICE, "no DFU-mode device came back on "
	    "USB path %s within %u ms", path, timeout_ms);
}

static void
release(struct dfu_priv *p)
{
	if (p->h != NULL) {
		if (!p->gone)
			(void)libusb_release_interface(p->h, p->c.iface);
		libusb_close(p->h);
		p->h = NULL;
	}
}

/* Runtime device: ask it to detach into DFU mode and find it again. */
static int
detach(struct ft_dev *dev, struct cand *c)
{
	struct dfu_priv *p = dev->priv;
	unsigned tmo = c->detach_ms < DETACH_TIMEOUT_MAX_MS ?
	    c->detach_ms : DETACH_TIMEOUT_MAX_MS;
	struct cand next;
	int r;

	ft_info(dev->ctx, "%04x:%04x at %s is in runtime mode: detaching to "
	    "DFU mode", c->e.vid, c->e.pid, c->e.path);
	r = libusb_claim_interface(p->h, c->iface);
	if (r != 0) {
		release(p);
		return fail_xfer(dev, r, "claiming the runtime interface", 0);
	}
	r = ctrl(p, REQ_OUT, FT_DFU_DETACH, (uint16_t)tmo, NULL, 0,
	    CTRL_TIMEOUT_MS);
	if (r < 0 && r != LIBUSB_ERROR_NO_DEVICE && r != LIBUSB_ERROR_PIPE &&
	    r != LIBUSB_ERROR_IO) {
		release(p);
		return fail_xfer(dev, r, "DFU_DETACH", 0);
	}
	if (!(c->attrs & DFU_ATTR_WILL_DETACH))
		(void)libusb_reset_device(p->h);
	p->gone = 1;
	release(p);
	p->gone = 0;
	r = wait_reenum(dev->ctx, p->usb, c->e.path, c->e.address,
	    REENUM_TIMEOUT_MS, &next, NULL);
	libusb_unref_device(c->udev);
	c->udev = NULL;
	if (r < 0)
		return r;
	*c = next;
	return 0;
}

/*
 * Bring the state machine to dfuIDLE: ROMs often start in
 * dfuERROR/errFIRMWARE, or a previous tool left a transfer open.
 */
static int
normalise(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;
	struct dfu_status st;
	int i, r;

	for (i = 0; i < NORMALISE_TRIES; i++) {
		r = get_status(p, &st, CTRL_TIMEOUT_MS);
		if (r == LIBUSB_ERROR_PIPE) {
			(void)simple_req(p, FT_DFU_CLRSTATUS);
			continue;
		}
		if (r < 0)
			return fail_xfer(dev, r, "GETSTATUS", 0);
		ft_dbg(dev->ctx, "DFU state %s, status %s",
		    ft_dfu_state_name(st.state),
		    ft_dfu_status_name(st.status));
		switch (ft_dfu_normalise_step(st.state, st.status)) {
		case FT_DFU_ACT_DONE:
			p->run.mode = FT_DFU_MODE_IDLE;
			return 0;
		case FT_DFU_ACT_CLRSTATUS:
			(void)simple_req(p, FT_DFU_CLRSTATUS);
			break;
		case FT_DFU_ACT_ABORT:
			(void)simple_req(p, FT_DFU_ABORT);
			break;
		case FT_DFU_ACT_NOT_DFU:
			return ft_fail(dev->ctx, FT_E_PROTOCOL, "the device is "
			    "in %s, not in DFU mode",
			    ft_dfu_state_name(st.state));
		default:
			sleep_ms(st.poll_ms > 0 ? st.poll_ms :
			    FT_DFU_POLL_FIRST_MS);
			break;
		}
	}
	return ft_fail(dev->ctx, FT_E_PROTOCOL, "the device stays in %s (%s) "
	    "after CLRSTATUS/ABORT", ft_dfu_state_name(st.state),
	    ft_dfu_status_name(st.status));
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

	info->transport = FT_TRANSPORT_DFU;
	info->pid = p->c.e.pid;
	snprintf(info->name, sizeof(info->name), "%s %04x:%04x",
	    p->c.e.vid == ST_VID ? "STM32 DFU" : "DFU", p->c.e.vid,
	    p->c.e.pid);
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
		return fail_xfer(dev, r, "opening the USB device", 0);
	}
	(void)libusb_set_auto_detach_kernel_driver(p->h, 1);
	r = libusb_claim_interface(p->h, p->c.iface);
	if (r != 0) {
		libusb_close(p->h);
		p->h = NULL;
		if (r == LIBUSB_ERROR_BUSY)
			return ft_fail(dev->ctx, FT_E_BUSY, "the DFU interface "
			    "of %s is in use by another program", p->c.e.path);
		return fail_xfer(dev, r, "claiming the DFU interface", 0);
	}
	r = choose_alt(dev, opts, &idx);
	if (r < 0) {
		release(p);
		return r;
	}
	p->alt = p->c.e.alts[idx].alt;
	p->have_layout = ft_dfu_layout_parse(NULL, p->c.e.alts[idx].name,
	    &p->layout) == 0;
	if (p->c.e.nalts > 1) {
		r = libusb_set_interface_alt_setting(p->h, p->c.iface, p->alt);
		if (r != 0) {
			release(p);
			return fail_xfer(dev, r, "selecting the alt setting",
			    0);
		}
	}
	p->xfer = p->c.e.transfer_size;
	p->dfuse = p->c.e.dfuse;
	if (p->xfer == 0) {
		release(p);
		return ft_fail(dev->ctx, FT_E_PROTOCOL, "%s reports a DFU "
		    "transfer size of 0", p->c.e.path);
	}
	p->run.ptr_ok = 0;
	p->run.mode = FT_DFU_MODE_IDLE;
	r = normalise(dev);
	if (r == 0)
		r = fill_info(dev, opts);
	if (r < 0) {
		release(p);
		return r;
	}
	ft_dbg(dev->ctx, "DFU %04x:%04x at %s alt %d (%s), transfer size %u",
	    p->c.e.vid, p->c.e.pid, p->c.e.path, p->alt,
	    p->c.e.alts[idx].name, p->xfer);
	return 0;
}

static int
dfu_open(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	struct dfu_priv *p;
	int r;

	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	p->poll_mult = 1;
	dev->priv = p;
	r = libusb_init(&p->usb);
	if (r != 0) {
		free(p);
		dev->priv = NULL;
		return ft_fail(dev->ctx, usb_err(r), "libusb_init: %s",
		    libusb_error_name(r));
	}
	r = select_one(dev->ctx, p->usb, &opts->dfu, opts->wait_ms, &p->c);
	if (r == 0 && !p->c.e.dfu_mode) {
		r = libusb_open(p->c.udev, &p->h);
		if (r != 0) {
			p->h = NULL;
			libusb_unref_device(p->c.udev);
			r = fail_xfer(dev, r, "opening the runtime device", 0);
		} else {
			p->rt_vid = p->c.e.vid;
			p->rt_pid = p->c.e.pid;
			p->detached = 1;
			r = detach(dev, &p->c);
		}
	}
	if (r == 0)
		r = attach(dev, opts);
	if (r < 0) {
		libusb_exit(p->usb);
		free(p);
		dev->priv = NULL;
	}
	return r;
}

static void
dfu_close(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;

	if (p == NULL)
		return;
	if (p->h != NULL && !p->gone) {
		if (!p->dfuse)
			(void)plain_finish(dev);
		else
			(void)to_idle(dev);
	}
	release(p);
	libusb_exit(p->usb);
	free(p);
	dev->priv = NULL;
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
		r = to_idle(dev);
		if (r < 0)
			return r;
		r = libusb_set_interface_alt_setting(p->h, p->c.iface, alt);
		if (r != 0)
			return fail_xfer(dev, r, "selecting the alt setting",
			    0);
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

/*
 * Leave DFU mode: Set Address (so the ROM jumps where we say, not to the
 * last block written), zero-length DNLOAD, GETSTATUS.  The ROM is not
 * manifestation tolerant and drops off the bus, often before it answers
 * the final status, so a failed transfer there is the expected outcome.
 * Then watch the bus: an F0 with BOOT0 still high comes straight back as
 * a DFU device.
 */
/*
 * One DfuSe leave request.  0: sent, the device is leaving (or already
 * gone); 1: the device is demonstrably still here and refused it (stall,
 * error status), worth another try; < 0: hard error.
 */
static int
leave_once(struct ft_dev *dev, uint32_t addr)
{
	struct dfu_priv *p = dev->priv;
	struct dfu_status st;
	int r;

	r = set_address(dev, addr);
	if (r == FT_E_PROTOCOL || r == FT_E_TIMEOUT)
		return 1;
	if (r < 0)
		return r;
	r = dnload(p, FT_DFUSE_FIRST_BLOCK, NULL, 0);
	if (r == LIBUSB_ERROR_PIPE || r == LIBUSB_ERROR_TIMEOUT) {
		ft_fail(dev->ctx, FT_E_LEAVE, "zero-length DNLOAD: USB %s",
		    libusb_error_name(r));
		return 1;
	}
	if (r == LIBUSB_ERROR_NO_DEVICE || r == LIBUSB_ERROR_IO)
		return 0;
	if (r < 0)
		return ft_fail(dev->ctx, FT_E_LEAVE, "zero-length DNLOAD: USB "
		    "%s", libusb_error_name(r));
	r = get_status(p, &st, CTRL_TIMEOUT_MS);
	if (r < 0) {
		/* Expected: the ROM resets before or while answering. */
		ft_dbg(dev->ctx, "leave: final status failed (%s): the "
		    "device left", libusb_error_name(r));
		return 0;
	}
	ft_dbg(dev->ctx, "leave: %s, %s", ft_dfu_state_name(st.state),
	    ft_dfu_status_name(st.status));
	if (st.state == FT_DFU_ERROR || st.status != FT_DFU_OK) {
		ft_fail(dev->ctx, FT_E_LEAVE, "the device answered the leave "
		    "request with %s in %s", ft_dfu_status_name(st.status),
		    ft_dfu_state_name(st.state));
		return 1;
	}
	return 0;
}

static int
dfu_go(struct ft_dev *dev, uint32_t addr)
{
	struct dfu_priv *p = dev->priv;
	struct dfu_status st;
	struct cand back;
	unsigned attempt, tries = 0;
	int r, still = 0;

	if (p->reset_away) {
		ft_dbg(dev->ctx, "the device already left DFU mode");
		return 0;
	}
	for (attempt = 0;; attempt++) {
		if (!p->dfuse) {
			r = plain_finish(dev);
			if (r < 0)
				return r;
			/* A manifestation-tolerant device idles: reset. */
			if (!p->gone)
				(void)libusb_reset_device(p->h);
		} else {
			for (;; tries++) {
				r = leave_once(dev, addr);
				if (r <= 0 || tries >= dev->retries)
					break;
				ft_dbg(dev->ctx, "leave refused (%s); "
				    "retrying", dev->ctx->detail);
				(void)dfu_resync(dev);
			}
			if (r < 0)
				return r;
			if (r > 0)
				return ft_fail(dev->ctx, FT_E_LEAVE,
				    "leave: %s", dev->ctx->detail);
		}
		r = wait_reenum(dev->ctx, p->usb, p->c.e.path, p->devaddr,
		    LEAVE_WATCH_MS, &back, &still);
		if (r == 0) {
			libusb_unref_device(back.udev);
			p->gone = 1;
			release(p);
			return ft_fail(dev->ctx, FT_E_STAYED, "the device came "
			    "back in DFU mode on %s: BOOT0 is still held high "
			    "(remove the bridge or jumper and reset)",
			    p->c.e.path);
		}
		if (r != FT_E_NO_DEVICE)
			return r;
		if (!still)
			break;
		/*
		 * Still there with the same address: the request was lost
		 * (a stalled final status looks like a leave).  Ask again
		 * while it still answers.
		 */
		if (!p->dfuse)
			return ft_fail(dev->ctx, FT_E_STAYED, "the download is "
			    "manifested, but the device stays in DFU mode on "
			    "%s after a USB reset (it is manifestation "
			    "tolerant); power-cycle it to start the new "
			    "firmware", p->c.e.path);
		if (attempt >= dev->retries ||
		    get_status(p, &st, CTRL_TIMEOUT_MS) < 0)
			return ft_fail(dev->ctx, FT_E_LEAVE, "the device is "
			    "still on %s in DFU mode %d ms after the leave "
			    "request", p->c.e.path, LEAVE_WATCH_MS);
		ft_dbg(dev->ctx, "the device did not leave (%s); again",
		    ft_dfu_state_name(st.state));
		(void)dfu_resync(dev);
	}
	p->gone = 1;
	release(p);
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
	int r;

	if (op != FT_READOUT_UNPROTECT || !p->dfuse)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "DfuSe ROMs only "
		    "offer read-out unprotect");
	if (p->reset_away)
		return fail_away(dev, "READ_UNPROTECT");
	r = to_idle(dev);
	if (r < 0)
		return r;
	r = dnload(p, 0, &cmd, 1);
	if (r < 0)
		return fail_xfer(dev, r, "READ_UNPROTECT", 0);
	/* The first poll starts it; the device then erases and resets. */
	r = get_status(p, &st, CTRL_TIMEOUT_MS);
	if (r == 0 && st.status != FT_DFU_OK)
		return fail_status(dev, &st, "READ_UNPROTECT", 0);
	ft_info(dev->ctx, "read-out unprotect: the device mass-erases and "
	    "resets");
	p->gone = 1;
	release(p);
	p->gone = 0;
	r = wait_reenum(dev->ctx, p->usb, p->c.e.path, p->devaddr,
	    UNPROTECT_REENUM_MS, &p->c, NULL);
	if (r < 0)
		return r;
	memset(&o, 0, sizeof(o));
	o.dfu.vid = o.dfu.pid = o.dfu.dfu_vid = o.dfu.dfu_pid = -1;
	o.dfu.alt = p->alt;
	o.target_addr = dev->info.flash.base;
	return attach(dev, &o);
}

const struct ft_transport ft_transport_dfu = {
	.name = "dfu",
	/* A 2 KiB upload takes a few ms; programming it, some 50 ms. */
	.read_is_cheap = 1,
	.erase_batch_units = 1,
	.open = dfu_open,
	.close = dfu_close,
	.read = dfu_read,
	.write = dfu_write,
	.erase = dfu_erase,
	.mass_erase = dfu_mass_erase,
	.crc = NULL,
	.go = dfu_go,
	.reset = NULL,
	.protect = dfu_protect,
	.write_protect = NULL,
	.alt_layout = dfu_alt_layout,
	.select_alt = dfu_select_alt,
	.check_image = dfu_check_image,
	.resync = dfu_resync,
};
