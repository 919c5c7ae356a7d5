/*
 * dfu/request.c - the DFU class requests and the engine that polls a
 * busy device back to idle (usb.org DFU 1.1, ST AN3156), with the
 * recovery steps that bring the state machine back to dfuIDLE.
 *
 * Invariants:
 *  - Every wait is bounded: control transfers by CTRL_TIMEOUT_MS, polls
 *    by a per-operation budget.
 *  - An error status is cleared (CLRSTATUS) before it is reported, so
 *    the device is usable again for a retry.
 *  - What a status calls for is decided by the pure functions of
 *    dfu/state.c; this file does their I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* A libusb error as ours; the detail is the caller's. */
int
ft_dfu_usb_err(int r)
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

/*
 * Class requests.  Each returns bytes transferred or a libusb error code
 * (negative), so callers can tell a stall from a vanished device.
 */
int
ft_dfu_ctrl(struct dfu_priv *p, uint8_t type, uint8_t req, uint16_t value,
    uint8_t *data, uint16_t len, unsigned timeout_ms)
{
	return libusb_control_transfer(p->h, type, req, value,
	    (uint16_t)p->c.iface, data, len, timeout_ms);
}

int
ft_dfu_get_status(struct dfu_priv *p, struct dfu_status *st,
    unsigned timeout_ms)
{
	uint8_t b[STATUS_LEN];
	int r = ft_dfu_ctrl(p, REQ_IN, FT_DFU_GETSTATUS, 0, b, sizeof(b),
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

int
ft_dfu_simple_req(struct dfu_priv *p, uint8_t req)
{
	return ft_dfu_ctrl(p, REQ_OUT, req, 0, NULL, 0, CTRL_TIMEOUT_MS);
}

/* Error for a failed control transfer, naming what was being done. */
int
ft_dfu_fail_xfer(struct ft_dev *dev, int r, const char *what, uint32_t addr)
{
	if (r == LIBUSB_ERROR_ACCESS)
		return ft_fail(dev->ctx, FT_E_ACCESS, "%s: permission denied; "
		    UDEV_HINT, what);
	return ft_fail_at(dev->ctx, ft_dfu_usb_err(r), addr,
	    "%s at 0x%08x: USB %s", what, addr, libusb_error_name(r));
}

/* A DFU error status as ours; clears it so the device is usable again. */
int
ft_dfu_fail_status(struct ft_dev *dev, const struct dfu_status *st,
    const char *what, uint32_t addr)
{
	struct dfu_priv *p = dev->priv;
	int err = ft_dfu_status_err(st->status);

	p->run.ptr_ok = 0;
	p->run.mode = FT_DFU_MODE_IDLE;
	(void)ft_dfu_simple_req(p, FT_DFU_CLRSTATUS);
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
/* One wait for idle: the pace and what it has seen so far. */
struct poll_run {
	struct ft_dfu_pace pace;
	uint64_t start, deadline;	/* deadline 0: not busy yet */
	uint64_t busy_from, last_busy;
	unsigned stalls;
};

/*
 * What a GETSTATUS answer means for the wait: 0 done, 1 still busy,
 * negative the operation failed (its status cleared).
 */
static int
poll_verdict(struct ft_dev *dev, struct poll_run *pr,
    const struct dfu_status *st, const char *what, uint32_t addr,
    uint32_t size)
{
	struct dfu_priv *p = dev->priv;

	switch (ft_dfu_poll_verdict(st->state, st->status)) {
	case FT_DFU_ACT_DONE:
		/* Still busy when the poll before this one went out: the
		 * work took at least that long. */
		if (pr->busy_from != 0 && pr->last_busy >= pr->busy_from &&
		    pr->stalls == 0)
			busy_learn(p, what, size, pr->last_busy -
			    pr->busy_from);
		return 0;
	case FT_DFU_ACT_FAIL:
		/*
		 * The stall cost us the operation: its poll timeout is
		 * shorter than its work, so wait longer next time (the core
		 * retries).
		 */
		if (pr->stalls > 0 && st->status == FT_DFU_ERR_STALLEDPKT &&
		    p->poll_mult < POLL_MULT_MAX)
			p->poll_mult *= 2;
		return ft_dfu_fail_status(dev, st, what, addr);
	case FT_DFU_ACT_WAIT:
		return 1;
	default:
		p->run.ptr_ok = 0;
		return ft_fail_at(dev->ctx, FT_E_PROTOCOL, addr,
		    "%s at 0x%08x: unexpected state %s", what, addr,
		    ft_dfu_state_name(st->state));
	}
}

/* How long to wait after a busy status; the first one sets the end. */
static uint64_t
busy_wait(struct dfu_priv *p, struct poll_run *pr,
    const struct dfu_status *st, uint64_t now, const char *what,
    uint32_t size, unsigned budget_ms)
{
	const struct busy_seen *seen;
	uint64_t wait;

	pr->last_busy = now;
	wait = ft_dfu_poll_next(&pr->pace, FT_DFU_POLL_BUSY, st->poll_ms);
	if (pr->deadline != 0)
		return wait;
	pr->deadline = pr->start + budget_ms + 2 * (uint64_t)pr->pace.cap_ms;
	/*
	 * The operation started at this status (ST ROMs act on the first
	 * GETSTATUS).  A device that does not stall early polls is first
	 * polled again after the busy time learned for this kind, then at
	 * the back-off pace.
	 */
	pr->busy_from = ft_now_ms();
	seen = busy_slot(p, what, size);
	if (!pr->pace.strict && seen != NULL && seen->what != NULL &&
	    seen->ms > wait)
		wait = seen->ms;
	return wait;
}

int
ft_dfu_wait_idle(struct ft_dev *dev, const char *what, uint32_t addr,
    uint32_t size, unsigned budget_ms, struct dfu_status *out)
{
	struct dfu_priv *p = dev->priv;
	struct poll_run pr = { { 0, 0, p->strict_poll, p->poll_mult },
	    ft_now_ms(), 0, 0, 0, 0 };
	struct dfu_status st;
	uint64_t wait;
	int r;

	for (;;) {
		uint64_t now = ft_now_ms();
		/* A device that NAKs polls while busy needs a long one. */
		unsigned tmo = budget_ms > CTRL_TIMEOUT_MS ? budget_ms :
		    CTRL_TIMEOUT_MS;

		r = ft_dfu_get_status(p, &st, tmo);
		if (r == LIBUSB_ERROR_PIPE && pr.stalls < POLL_STALL_RETRIES) {
			/*
			 * Polled too early.  The device is still busy (or
			 * dropped the operation into dfuERROR, which the
			 * next poll reports and fail_status clears); from
			 * now on honour its poll timeouts.
			 */
			pr.stalls++;
			p->strict_poll = 1;
			ft_dbg(dev->ctx, "%s at 0x%08x: poll stalled, backing "
			    "off", what, addr);
			dfu_sleep_ms(ft_dfu_poll_next(&pr.pace,
			    FT_DFU_POLL_STALLED, 0));
			continue;
		}
		if (r < 0)
			return ft_dfu_fail_xfer(dev, r, what, addr);
		if (out != NULL)
			*out = st;
		r = poll_verdict(dev, &pr, &st, what, addr, size);
		if (r <= 0)
			return r;
		wait = busy_wait(p, &pr, &st, now, what, size, budget_ms);
		if (now >= pr.deadline)
			return ft_fail_at(dev->ctx, FT_E_TIMEOUT, addr,
			    "%s at 0x%08x: device still busy after %llu ms",
			    what, addr, (unsigned long long)(now - pr.start));
		dfu_sleep_ms(wait);
	}
}

/* DNLOAD with wValue block; data may be NULL for a zero-length one. */
int
ft_dfu_dnload(struct dfu_priv *p, uint16_t block, const uint8_t *data,
    uint16_t len)
{
	return ft_dfu_ctrl(p, REQ_OUT, FT_DFU_DNLOAD, block, (uint8_t *)data,
	    len, CTRL_TIMEOUT_MS);
}

/* Back to dfuIDLE from an upload or download in progress. */
int
ft_dfu_to_idle(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;
	int r;

	if (p->run.mode == FT_DFU_MODE_IDLE)
		return 0;
	r = ft_dfu_simple_req(p, FT_DFU_ABORT);
	p->run.mode = FT_DFU_MODE_IDLE;
	if (r < 0) {
		p->run.ptr_ok = 0;
		return ft_dfu_fail_xfer(dev, r, "ABORT", p->run.ptr);
	}
	return 0;
}

/*
 * Bring the state machine to dfuIDLE: ROMs often start in
 * dfuERROR/errFIRMWARE, or a previous tool left a transfer open.
 */
int
ft_dfu_normalise(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;
	struct dfu_status st;
	int i, r;

	for (i = 0; i < NORMALISE_TRIES; i++) {
		r = ft_dfu_get_status(p, &st, CTRL_TIMEOUT_MS);
		if (r == LIBUSB_ERROR_PIPE) {
			(void)ft_dfu_simple_req(p, FT_DFU_CLRSTATUS);
			continue;
		}
		if (r < 0)
			return ft_dfu_fail_xfer(dev, r, "GETSTATUS", 0);
		ft_dbg(dev->ctx, "DFU state %s, status %s",
		    ft_dfu_state_name(st.state),
		    ft_dfu_status_name(st.status));
		switch (ft_dfu_normalise_step(st.state, st.status)) {
		case FT_DFU_ACT_DONE:
			p->run.mode = FT_DFU_MODE_IDLE;
			return 0;
		case FT_DFU_ACT_CLRSTATUS:
			(void)ft_dfu_simple_req(p, FT_DFU_CLRSTATUS);
			break;
		case FT_DFU_ACT_ABORT:
			(void)ft_dfu_simple_req(p, FT_DFU_ABORT);
			break;
		case FT_DFU_ACT_NOT_DFU:
			return ft_fail(dev->ctx, FT_E_PROTOCOL, "the device is "
			    "in %s, not in DFU mode",
			    ft_dfu_state_name(st.state));
		default:
			dfu_sleep_ms(st.poll_ms > 0 ? st.poll_ms :
			    FT_DFU_POLL_FIRST_MS);
			break;
		}
	}
	return ft_fail(dev->ctx, FT_E_PROTOCOL, "the device stays in %s (%s) "
	    "after CLRSTATUS/ABORT", ft_dfu_state_name(st.state),
	    ft_dfu_status_name(st.status));
}

int
ft_dfu_resync(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;
	struct dfu_status st;
	int r;

	if (p->h == NULL)
		return ft_dfu_fail_away(dev, "GETSTATUS");
	p->run.ptr_ok = 0;
	r = ft_dfu_get_status(p, &st, CTRL_TIMEOUT_MS);
	if (r == LIBUSB_ERROR_PIPE) {
		(void)ft_dfu_simple_req(p, FT_DFU_CLRSTATUS);
		r = ft_dfu_get_status(p, &st, CTRL_TIMEOUT_MS);
	}
	if (r < 0)
		return ft_dfu_fail_xfer(dev, r, "GETSTATUS", 0);
	switch (ft_dfu_resync_step(st.state, st.status)) {
	case FT_DFU_ACT_CLRSTATUS:
		(void)ft_dfu_simple_req(p, FT_DFU_CLRSTATUS);
		break;
	case FT_DFU_ACT_ABORT:
		(void)ft_dfu_simple_req(p, FT_DFU_ABORT);
		break;
	default:
		break;
	}
	p->run.mode = FT_DFU_MODE_IDLE;
	return 0;
}

/* Writing, erasing, switching after the device went away by itself. */
int
ft_dfu_fail_away(struct ft_dev *dev, const char *what)
{
	struct dfu_priv *p = dev->priv;

	return ft_fail(dev->ctx, FT_E_NO_DEVICE, "%s: the device at %s reset "
	    "after an option-byte write and left DFU mode", what,
	    p->c.e.path);
}
