/*
 * dfu/dfuse.c - ST's DfuSe extensions (AN3156): Set Address, page and
 * mass erase, and the read and write operations over DfuSe block
 * addressing (a plain DFU device goes to dfu/plain.c instead).
 *
 * Invariants:
 *  - priv->run.ptr_ok is set only while the device's address pointer is
 *    known to equal priv->run.ptr; any error clears it, so the next
 *    transfer sets the pointer again.
 *  - Memory that cannot be erased (option bytes, 'e' missing from the
 *    layout) is never erased; a ROM that resets after writing it is
 *    followed (ft_dfu_write_reset), not reported as lost.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

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
		r = ft_dfu_to_idle(dev);
		if (r < 0)
			return r;
	}
	b[0] = cmd;
	if (addr != NULL) {
		ft_put_le32(b + 1, *addr);
		n = 5;
	}
	r = ft_dfu_dnload(p, 0, b, n);
	if (r < 0) {
		p->run.ptr_ok = 0;
		return ft_dfu_fail_xfer(dev, r, what, a);
	}
	p->run.mode = FT_DFU_MODE_DNLOAD;
	return ft_dfu_wait_idle(dev, what, a, size, budget_ms, NULL);
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
		r = ft_dfu_to_idle(dev);
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

int
ft_dfu_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	struct dfu_priv *p = dev->priv;
	uint16_t block;
	int r;

	r = can_read(dev);
	if (r < 0)
		return r;
	if (!p->dfuse)
		return ft_dfu_plain_read(dev, addr, buf, len);
	r = block_for(dev, addr, FT_DFU_MODE_UPLOAD, &block);
	if (r < 0)
		return r;
	r = ft_dfu_ctrl(p, REQ_IN, FT_DFU_UPLOAD, block, buf, (uint16_t)len,
	    CTRL_TIMEOUT_MS);
	if (r < 0) {
		p->run.ptr_ok = 0;
		if (r == LIBUSB_ERROR_PIPE) {
			struct dfu_status st;

			/* The status says why (errVENDOR: protected). */
			if (ft_dfu_get_status(p, &st, CTRL_TIMEOUT_MS) == 0 &&
			    st.status != FT_DFU_OK)
				return ft_dfu_fail_status(dev, &st, "UPLOAD",
				    addr);
			p->run.mode = FT_DFU_MODE_UPLOAD;
			(void)ft_dfu_to_idle(dev);
		}
		return ft_dfu_fail_xfer(dev, r, "UPLOAD", addr);
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

int
ft_dfu_write(struct ft_dev *dev, uint32_t addr, const uint8_t *buf,
    uint32_t len)
{
	struct dfu_priv *p = dev->priv;
	const struct ft_dfu_seg *g;
	uint16_t block;
	int r;

	if (p->reset_away)
		return ft_dfu_fail_away(dev, "DNLOAD");
	if (!p->dfuse)
		return ft_dfu_plain_write(dev, addr, buf, len);
	r = block_for(dev, addr, FT_DFU_MODE_DNLOAD, &block);
	if (r < 0)
		return r;
	r = ft_dfu_dnload(p, block, buf, (uint16_t)len);
	if (r < 0) {
		p->run.ptr_ok = 0;
		return ft_dfu_fail_xfer(dev, r, "DNLOAD", addr);
	}
	p->run.mode = FT_DFU_MODE_DNLOAD;
	r = ft_dfu_wait_idle(dev, "DNLOAD", addr, len, WRITE_BUDGET_MS, NULL);
	if (r < 0) {
		p->run.ptr_ok = 0;
		g = p->have_layout ? ft_dfu_layout_find(&p->layout, addr) :
		    NULL;
		if ((r == FT_E_NO_DEVICE || r == FT_E_IO) && g != NULL &&
		    !(g->attr & FT_DFU_ERASABLE))
			return ft_dfu_write_reset(dev, addr);
		return r;
	}
	advance(p, len);
	return 0;
}

int
ft_dfu_erase(struct ft_dev *dev, const struct ft_erase_unit *units, size_t n)
{
	struct dfu_priv *p = dev->priv;
	size_t i;
	int r;

	if (p->reset_away)
		return ft_dfu_fail_away(dev, "ERASE");
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
			(void)ft_dfu_resync(dev);
		}
	}
	return 0;
}

int
ft_dfu_mass_erase(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;
	int r;

	if (p->reset_away)
		return ft_dfu_fail_away(dev, "mass ERASE");
	if (!p->dfuse)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "mass erase needs a DfuSe device");
	r = dfuse_cmd(dev, FT_DFUSE_ERASE, NULL, 0, "mass ERASE",
	    MASS_ERASE_BUDGET_MS);
	p->run.ptr_ok = 0;
	return r;
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
int
ft_dfuse_leave_once(struct ft_dev *dev, uint32_t addr)
{
	struct dfu_priv *p = dev->priv;
	struct dfu_status st;
	int r;

	r = set_address(dev, addr);
	if (r == FT_E_PROTOCOL || r == FT_E_TIMEOUT)
		return 1;
	if (r < 0)
		return r;
	r = ft_dfu_dnload(p, FT_DFUSE_FIRST_BLOCK, NULL, 0);
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
	r = ft_dfu_get_status(p, &st, CTRL_TIMEOUT_MS);
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
