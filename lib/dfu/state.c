/*
 * dfu/state.c - the DFU transport's protocol decisions, kept free of I/O
 * so that tables can test them: the step a GETSTATUS answer calls for
 * (usb.org DFU 1.1, 6.1.2 and the state diagram of Appendix A), device
 * and alt-setting selection as dfu-util's -d/-p/-S/-a, GETSTATUS pacing,
 * and DfuSe block addressing (ST AN3156).  lib/dfu/transport.c does the I/O.
 *
 * Invariants: nothing here touches USB, sleeps or keeps state between
 * calls; the only memory written is the caller's (out parameters, the
 * pace and run records, ctx's detail string).
 */
#include <string.h>

#include "dfu.h"

/* Character arrays, not pointers: they stay in .rodata. */
static const char state_names[][24] = {
	"appIDLE", "appDETACH", "dfuIDLE", "dfuDNLOAD-SYNC", "dfuDNBUSY",
	"dfuDNLOAD-IDLE", "dfuMANIFEST-SYNC", "dfuMANIFEST",
	"dfuMANIFEST-WAIT-RESET", "dfuUPLOAD-IDLE", "dfuERROR",
};

static const char status_names[][16] = {
	"OK", "errTARGET", "errFILE", "errWRITE", "errERASE",
	"errCHECK_ERASED", "errPROG", "errVERIFY", "errADDRESS",
	"errNOTDONE", "errFIRMWARE", "errVENDOR", "errUSBR", "errPOR",
	"errUNKNOWN", "errSTALLEDPKT",
};

const char *
ft_dfu_state_name(int state)
{
	if (state < 0 || (size_t)state >= sizeof(state_names) /
	    sizeof(state_names[0]))
		return "unknown state";
	return state_names[state];
}

const char *
ft_dfu_status_name(int status)
{
	if (status < 0 || (size_t)status >= sizeof(status_names) /
	    sizeof(status_names[0]))
		return "unknown status";
	return status_names[status];
}

/*
 * ROMs often start in dfuERROR/errFIRMWARE, or a previous tool left a
 * transfer open; a transfer is aborted whatever its status, since ABORT
 * leads to dfuIDLE where a remaining error shows up again.
 */
enum ft_dfu_action
ft_dfu_normalise_step(int state, int status)
{
	switch (state) {
	case FT_DFU_IDLE:
		return status == FT_DFU_OK ? FT_DFU_ACT_DONE :
		    FT_DFU_ACT_CLRSTATUS;
	case FT_DFU_ERROR:
		return FT_DFU_ACT_CLRSTATUS;
	case FT_DFU_DNLOAD_IDLE:
	case FT_DFU_UPLOAD_IDLE:
		return FT_DFU_ACT_ABORT;
	case FT_DFU_APP_IDLE:
	case FT_DFU_APP_DETACH:
		return FT_DFU_ACT_NOT_DFU;
	default:
		return FT_DFU_ACT_WAIT;
	}
}

enum ft_dfu_action
ft_dfu_poll_verdict(int state, int status)
{
	if (status != FT_DFU_OK || state == FT_DFU_ERROR)
		return FT_DFU_ACT_FAIL;
	switch (state) {
	case FT_DFU_DNLOAD_IDLE:
	case FT_DFU_IDLE:
	case FT_DFU_UPLOAD_IDLE:
		return FT_DFU_ACT_DONE;
	case FT_DFU_DNBUSY:
	case FT_DFU_DNLOAD_SYNC:
	case FT_DFU_MANIFEST_SYNC:
	case FT_DFU_MANIFEST:
		return FT_DFU_ACT_WAIT;
	default:
		return FT_DFU_ACT_UNEXPECTED;
	}
}

enum ft_dfu_action
ft_dfu_resync_step(int state, int status)
{
	if (state == FT_DFU_ERROR || status != FT_DFU_OK)
		return FT_DFU_ACT_CLRSTATUS;
	if (state == FT_DFU_DNLOAD_IDLE || state == FT_DFU_UPLOAD_IDLE)
		return FT_DFU_ACT_ABORT;
	return FT_DFU_ACT_DONE;
}

int
ft_dfu_status_err(int status)
{
	switch (status) {
	case FT_DFU_ERR_VENDOR:
		return FT_E_PROTECTED;
	case FT_DFU_ERR_TARGET:
	case FT_DFU_ERR_ADDRESS:
		return FT_E_RANGE;
	case FT_DFU_ERR_WRITE:
	case FT_DFU_ERR_ERASE:
	case FT_DFU_ERR_CHECK_ERASED:
	case FT_DFU_ERR_PROG:
	case FT_DFU_ERR_VERIFY:
		return FT_E_NACK;
	default:
		return FT_E_PROTOCOL;
	}
}

/*
 * Selection.
 */

static int
id_ok(int want, uint16_t have)
{
	return want < 0 || want == have;
}

int
ft_dfu_match_ids(const struct ft_dfu_match *m, const struct ft_dfu_entry *e)
{
	if (m == NULL)
		return 1;
	if (m->path != NULL && strcmp(m->path, e->path) != 0)
		return 0;
	if (e->dfu_mode) {
		int vid = m->dfu_vid >= 0 ? m->dfu_vid : m->vid;
		int pid = m->dfu_pid >= 0 ? m->dfu_pid : m->pid;

		return id_ok(vid, e->vid) && id_ok(pid, e->pid);
	}
	/* ",vid:pid" asks for DFU-mode devices only. */
	if ((m->dfu_vid >= 0 || m->dfu_pid >= 0) && m->vid < 0 && m->pid < 0)
		return 0;
	/*
	 * A runtime device is a candidate like a DFU-mode one (as for
	 * dfu-util): opening it detaches it, which the transport announces,
	 * and with several candidates nothing is opened.
	 */
	return id_ok(m->vid, e->vid) && id_ok(m->pid, e->pid);
}

int
ft_dfu_match_alt(const struct ft_dfu_match *m, const struct ft_dfu_alt *a)
{
	struct ft_dfu_layout l;

	if (m == NULL)
		return 1;
	if (m->alt >= 0 && m->alt != a->alt)
		return 0;
	if (m->alt_name != NULL && strcmp(m->alt_name, a->name) != 0 &&
	    (ft_dfu_layout_parse(NULL, a->name, &l) != 0 ||
	    strcmp(m->alt_name, l.name) != 0))
		return 0;
	return 1;
}

int
ft_dfu_match_strings(const struct ft_dfu_match *m,
    const struct ft_dfu_entry *e, int unreadable)
{
	unsigned i;

	if (m == NULL)
		return 1;
	/* Strings unreadable (permissions): undecided unless by number. */
	if (unreadable && (m->serial != NULL || m->alt_name != NULL))
		return -1;
	if (m->serial != NULL && strcmp(m->serial, e->serial) != 0)
		return 0;
	if (m->alt < 0 && m->alt_name == NULL)
		return 1;
	for (i = 0; i < e->nalts; i++)
		if (ft_dfu_match_alt(m, &e->alts[i]))
			return 1;
	return 0;
}

int
ft_dfu_choose_alt(struct ft_ctx *ctx, const struct ft_dfu_entry *e,
    const struct ft_dfu_match *m, uint32_t target, unsigned *index)
{
	struct ft_dfu_layout l;
	unsigned i;

	if (m != NULL && (m->alt >= 0 || m->alt_name != NULL)) {
		for (i = 0; i < e->nalts; i++)
			if (ft_dfu_match_alt(m, &e->alts[i])) {
				*index = i;
				return 0;
			}
		return ft_fail(ctx, FT_E_INVALID, "%s has no alt setting %s",
		    e->path, m->alt_name != NULL ? m->alt_name :
		    "with that number");
	}
	for (i = 0; i < e->nalts; i++) {
		const struct ft_dfu_seg *g;

		if (ft_dfu_layout_parse(NULL, e->alts[i].name, &l) != 0)
			continue;
		g = ft_dfu_layout_find(&l, target);
		if (g != NULL && (g->attr & FT_DFU_WRITABLE)) {
			*index = i;
			return 0;
		}
	}
	if (e->dfuse && e->nalts > 0 &&
	    ft_dfu_layout_parse(NULL, e->alts[0].name, &l) == 0)
		return ft_fail(ctx, FT_E_RANGE, "no alt setting of %s holds "
		    "writable memory at 0x%08x (alt 0: %s)", e->path, target,
		    e->alts[0].name);
	*index = 0;	/* plain DFU: the first (usually only) alt */
	return 0;
}

int
ft_dfu_id_match(uint16_t want, uint16_t have)
{
	return want == FT_USB_ANY_ID || want == have;
}

int
ft_dfu_ids_accept(uint16_t want_vid, uint16_t want_pid, uint16_t vid,
    uint16_t pid)
{
	return ft_dfu_id_match(want_vid, vid) && ft_dfu_id_match(want_pid, pid);
}

/*
 * Pacing.
 */

uint32_t
ft_dfu_poll_backoff_ms(unsigned attempt)
{
	uint32_t b = FT_DFU_POLL_FIRST_MS;

	while (attempt-- > 0 && b < FT_DFU_POLL_STEP_MAX_MS)
		b *= 2;
	return b;
}

uint64_t
ft_dfu_poll_next(struct ft_dfu_pace *pace, enum ft_dfu_poll_event ev,
    uint32_t reported_ms)
{
	uint32_t backoff = ft_dfu_poll_backoff_ms(pace->attempt);

	if (ev == FT_DFU_POLL_STALLED) {
		/* Polled too early: honour its timeouts from now on. */
		pace->strict = 1;
		pace->attempt++;
		return pace->cap_ms > 0 ? pace->cap_ms : backoff;
	}
	if (pace->cap_ms == 0)
		pace->cap_ms = reported_ms > 0 ? reported_ms :
		    FT_DFU_POLL_FIRST_MS;
	if (pace->strict)
		return (uint64_t)(reported_ms > 0 ? reported_ms : backoff) *
		    pace->mult;
	pace->attempt++;
	return backoff < pace->cap_ms ? backoff : pace->cap_ms;
}

/*
 * DfuSe addressing.
 */

void
ft_dfuse_plan(const struct ft_dfuse_run *run, uint32_t addr,
    enum ft_dfu_mode want, struct ft_dfuse_step *out)
{
	enum ft_dfu_mode mode = run->mode;

	out->set_address = !run->ptr_ok || addr != run->next_addr ||
	    run->next_block > FT_DFUSE_MAX_BLOCK ||
	    (run->mode != want && run->mode != FT_DFU_MODE_IDLE);
	if (out->set_address)
		mode = FT_DFU_MODE_DNLOAD;	/* Set Address is a DNLOAD */
	/* UPLOAD is refused in dfuDNLOAD-IDLE. */
	out->abort = want == FT_DFU_MODE_UPLOAD && mode == FT_DFU_MODE_DNLOAD;
	out->block = out->set_address ? FT_DFUSE_FIRST_BLOCK :
	    (uint16_t)run->next_block;
}

void
ft_dfuse_pointer_set(struct ft_dfuse_run *run, uint32_t addr)
{
	run->ptr = addr;
	run->ptr_ok = 1;
	run->next_addr = addr;
	run->next_block = FT_DFUSE_FIRST_BLOCK;
}

void
ft_dfuse_advance(struct ft_dfuse_run *run, uint32_t len, uint32_t xfer)
{
	if (len == xfer) {
		run->next_addr += len;
		run->next_block++;
	} else {
		/* A short block ends the run. */
		run->next_addr = 0;
		run->ptr_ok = 0;
	}
}
