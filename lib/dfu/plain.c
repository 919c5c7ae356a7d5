/*
 * dfu/plain.c - plain DFU 1.1 devices (no DfuSe): no addresses on the
 * wire, so a download runs from block 0 and ends with manifestation, and
 * an upload reads from the start.
 *
 * Invariants: writes are one sequential run from the layout base (no
 * skipped blank blocks: FT_E_NOT_SUPPORTED otherwise); manifestation
 * happens before the next read, go or close; a device that is not
 * manifestation tolerant cannot be read back after a download.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

/*
 * Plain DFU 1.1: one download from block 0, ended by a zero-length block
 * and manifestation.
 */
int
ft_dfu_plain_finish(struct ft_dev *dev)
{
	struct dfu_priv *p = dev->priv;
	struct dfu_status st;
	uint64_t start = ft_now_ms();
	int r;

	if (!p->plain_active)
		return 0;
	p->plain_active = 0;
	r = ft_dfu_dnload(p, (uint16_t)p->plain_block, NULL, 0);
	if (r < 0)
		return ft_dfu_fail_xfer(dev, r, "DNLOAD (end)", p->plain_next);
	for (;;) {
		r = ft_dfu_get_status(p, &st, CTRL_TIMEOUT_MS);
		if (r < 0) {
			/* Not manifestation tolerant: it may just be gone. */
			p->gone = 1;
			return 0;
		}
		if (st.status != FT_DFU_OK)
			return ft_dfu_fail_status(dev, &st, "manifestation",
			    p->plain_base);
		if (st.state == FT_DFU_IDLE ||
		    st.state == FT_DFU_MANIFEST_WAIT_RESET)
			break;
		if (ft_now_ms() - start > MANIFEST_BUDGET_MS)
			return ft_fail(dev->ctx, FT_E_TIMEOUT,
			    "manifestation did not end within %d ms",
			    MANIFEST_BUDGET_MS);
		dfu_sleep_ms(st.poll_ms > 0 ? st.poll_ms :
		    FT_DFU_POLL_FIRST_MS);
	}
	p->run.mode = FT_DFU_MODE_IDLE;
	if (st.state == FT_DFU_MANIFEST_WAIT_RESET) {
		(void)libusb_reset_device(p->h);
		p->gone = 1;
	}
	return 0;
}

int
ft_dfu_plain_write(struct ft_dev *dev, uint32_t addr, const uint8_t *buf,
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
	r = ft_dfu_dnload(p, (uint16_t)p->plain_block, buf, (uint16_t)len);
	if (r < 0)
		return ft_dfu_fail_xfer(dev, r, "DNLOAD", addr);
	p->run.mode = FT_DFU_MODE_DNLOAD;
	r = ft_dfu_wait_idle(dev, "DNLOAD", addr, len, WRITE_BUDGET_MS, NULL);
	if (r < 0)
		return r;
	p->plain_block++;
	p->plain_next += len;
	return 0;
}

int
ft_dfu_plain_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	struct dfu_priv *p = dev->priv;
	int r;

	if (p->plain_active && !(p->c.attrs & DFU_ATTR_MANIFEST_TOLERANT))
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "the plain DFU "
		    "device at %s is not manifestation tolerant: it starts "
		    "the new firmware after a download and cannot be read "
		    "back", p->c.e.path);
	r = ft_dfu_plain_finish(dev);
	if (r < 0)
		return r;
	if (p->run.mode != FT_DFU_MODE_UPLOAD || addr != p->plain_next) {
		if (addr != p->plain_base)
			return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
			    "plain DFU reads sequentially from 0x%08x; cannot "
			    "start at 0x%08x", p->plain_base, addr);
		r = ft_dfu_to_idle(dev);
		if (r < 0)
			return r;
		p->plain_block = 0;
		p->plain_next = addr;
	}
	r = ft_dfu_ctrl(p, REQ_IN, FT_DFU_UPLOAD, (uint16_t)p->plain_block, buf,
	    (uint16_t)len, CTRL_TIMEOUT_MS);
	if (r < 0)
		return ft_dfu_fail_xfer(dev, r, "UPLOAD", addr);
	p->run.mode = FT_DFU_MODE_UPLOAD;
	if ((uint32_t)r < len) {
		(void)ft_dfu_to_idle(dev);
		return ft_fail(dev->ctx, FT_E_RANGE, "UPLOAD at 0x%08x: the "
		    "device's image ends at 0x%08x", addr,
		    addr + (uint32_t)r);
	}
	p->plain_block++;
	p->plain_next += len;
	return 0;
}
