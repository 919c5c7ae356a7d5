/*
 * fuzz_dfu.c - the DFU transport (lib/dfu/transport.c) against a USB device
 * made of fuzz input (test/fuzz/fake_libusb.c): its device, interface
 * and functional descriptors, interface strings (DfuSe layouts), string
 * descriptors, GETSTATUS and UPLOAD replies, stalls, timeouts and
 * disappearance.  The pure decisions of lib/dfu/state.c are fed the
 * same bytes as (state, status) pairs first.
 *
 * Input: byte 0 selects options (which operations run, an alt number or
 * name to ask for, the DFU match), bytes 1-4 go to lib/dfu/state.c, the
 * rest drives the device.
 */
#include "dfu/dfu.h"
#include "fake_libusb.h"
#include "fuzz.h"

#define FUZZ_BASE 0x08000000u
#define FUZZ_IMG_BYTES 600u

static void
decisions(const uint8_t *b)
{
	struct ft_dfu_pace pace = { 0, 0, b[2] & 1, 1u + (b[2] >> 5) };
	struct ft_dfuse_run run;
	struct ft_dfuse_step step;
	int i;

	(void)ft_dfu_normalise_step(b[0], b[1]);
	(void)ft_dfu_poll_verdict(b[0], b[1]);
	(void)ft_dfu_resync_step(b[0], b[1]);
	(void)ft_dfu_status_err(b[1]);
	(void)ft_dfu_state_name(b[0]);
	(void)ft_dfu_status_name(b[1]);
	for (i = 0; i < 4; i++)
		(void)ft_dfu_poll_next(&pace, (b[3] >> i) & 1 ?
		    FT_DFU_POLL_STALLED : FT_DFU_POLL_BUSY,
		    (uint32_t)b[0] << 16 | (uint32_t)b[1] << 8 | b[3]);
	memset(&run, 0, sizeof(run));
	run.mode = (enum ft_dfu_mode)(b[2] % 3);
	run.ptr_ok = b[3] & 1;
	run.ptr = (uint32_t)b[0] << 24 | b[1];
	run.next_addr = run.ptr + (uint32_t)b[3] * 2048u;
	run.next_block = b[3];
	ft_dfuse_plan(&run, run.next_addr, FT_DFU_MODE_DNLOAD, &step);
	ft_dfuse_pointer_set(&run, run.ptr);
	ft_dfuse_advance(&run, b[1], (uint32_t)b[0] << 4);
	ft_dfuse_plan(&run, run.next_addr, FT_DFU_MODE_UPLOAD, &step);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_ctx *ctx;
	struct ft_open_opts o;
	struct ft_dev *dev = NULL;
	struct ft_dfu_entry *list = NULL;
	uint8_t buf[FUZZ_IMG_BYTES];
	size_t i, n = 0;
	uint8_t sel;

	if (size < 5)
		return 0;
	sel = data[0];
	decisions(data + 1);
	fake_usb_start(data + 5, size - 5);

	ctx = ft_ctx_new();
	if (ctx == NULL)
		abort();
	if (sel & 1) {
		if (ft_dfu_list(ctx, NULL, &list, &n) == 0)
			for (i = 0; i < n; i++)
				if (list[i].nalts > FT_DFU_MAX_ALTS ||
				    strnlen(list[i].serial,
				    sizeof(list[i].serial)) ==
				    sizeof(list[i].serial))
					abort();
		free(list);
		fake_usb_check();
		fake_usb_start(data + 5, size - 5);
	}
	memset(&o, 0, sizeof(o));
	o.transport = FT_TRANSPORT_DFU;
	o.dfu.vid = o.dfu.pid = o.dfu.dfu_vid = o.dfu.dfu_pid = -1;
	o.dfu.alt = (sel & 6) == 2 ? 1 : -1;
	o.dfu.alt_name = (sel & 6) == 4 ? "Internal Flash" : NULL;
	o.target_addr = FUZZ_BASE;
	o.retries = 1;
	if (ft_open(ctx, &o, &dev) != 0) {
		if (dev != NULL)
			abort();
		ft_ctx_free(ctx);
		fake_usb_check();
		return 0;
	}
	fuzz_read_and_write(ctx, dev, FUZZ_BASE, buf, sizeof(buf), 13u,
	    (sel >> 3) & 1);
	if (sel & 0x10)
		(void)ft_erase(dev, FUZZ_BASE, 2048);
	if (sel & 0x20)
		(void)ft_mass_erase(dev);
	if (sel & 0x40)
		(void)ft_go(dev, FUZZ_BASE);
	if (sel & 0x80)
		(void)ft_protect(dev, FT_READOUT_UNPROTECT);
	fuzz_close(ctx, dev);
	fake_usb_check();
	return 0;
}
