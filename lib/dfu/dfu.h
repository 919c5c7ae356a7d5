/*
 * dfu/dfu.h - the USB DFU wing's internals: the DfuSe memory-layout
 * string parser (dfu/layout.c), the protocol constants and the pure
 * protocol decisions (dfu/state.c) the transport (dfu/transport.c) uses.
 * Internal to the library and its unit tests.
 */
#ifndef FT_DFU_H
#define FT_DFU_H

#include <stddef.h>
#include <stdint.h>

#include "ft_int.h"

/*
 * DfuSe memory layout, the interface string of an alt setting (ST UM0424):
 * "@Internal Flash  /0x08000000/04*016Kg,01*064Kg".  One segment per
 * "COUNT*SIZE<mult><type>" group; zones ("/0xADDR/groups") follow each
 * other in the order the device lists them.
 */
#define FT_DFU_READABLE 0x1u	/* type letter bit 0 */
#define FT_DFU_ERASABLE 0x2u	/* type letter bit 1 */
#define FT_DFU_WRITABLE 0x4u	/* type letter bit 2 */

#define FT_DFU_MAX_SEGS 16
#define FT_DFU_NAME_MAX 64

struct ft_dfu_seg {
	uint32_t start;		/* first byte */
	uint32_t page_size;	/* bytes per page (erase unit) */
	uint32_t npages;
	unsigned attr;		/* FT_DFU_READABLE | ERASABLE | WRITABLE */
};

struct ft_dfu_layout {
	char name[FT_DFU_NAME_MAX];	/* "Internal Flash", spaces trimmed */
	size_t nseg;
	struct ft_dfu_seg seg[FT_DFU_MAX_SEGS];
};

/*
 * Parse a DfuSe layout string.  Tolerates what real ROMs send (extra
 * digits, a space for the byte multiplier, trailing spaces); anything else
 * is FT_E_FORMAT with a detail.  ctx may be NULL.
 */
int ft_dfu_layout_parse(struct ft_ctx *ctx, const char *text,
    struct ft_dfu_layout *out);
/* The segment holding addr, or NULL. */
const struct ft_dfu_seg *ft_dfu_layout_find(const struct ft_dfu_layout *l,
    uint32_t addr);
/*
 * The writable memory holding addr as an ft_layout: that segment and every
 * writable segment contiguous with it on either side, as {size, count}
 * runs from the lowest start.  FT_E_RANGE when addr is not in a writable
 * segment, FT_E_NOT_SUPPORTED when it needs more than FT_MAX_RUNS runs.
 */
int ft_dfu_layout_flash(struct ft_ctx *ctx, const struct ft_dfu_layout *l,
    uint32_t addr, struct ft_layout *out);

/*
 * DFU 1.1 class requests, states and status codes (usb.org DFU 1.1,
 * sections 3, 6.1.2), and the DfuSe commands (ST AN3156).
 */
enum ft_dfu_request {
	FT_DFU_DETACH = 0,
	FT_DFU_DNLOAD = 1,
	FT_DFU_UPLOAD = 2,
	FT_DFU_GETSTATUS = 3,
	FT_DFU_CLRSTATUS = 4,
	FT_DFU_GETSTATE = 5,
	FT_DFU_ABORT = 6,
};

enum ft_dfu_state {
	FT_DFU_APP_IDLE = 0,
	FT_DFU_APP_DETACH = 1,
	FT_DFU_IDLE = 2,
	FT_DFU_DNLOAD_SYNC = 3,
	FT_DFU_DNBUSY = 4,
	FT_DFU_DNLOAD_IDLE = 5,
	FT_DFU_MANIFEST_SYNC = 6,
	FT_DFU_MANIFEST = 7,
	FT_DFU_MANIFEST_WAIT_RESET = 8,
	FT_DFU_UPLOAD_IDLE = 9,
	FT_DFU_ERROR = 10,
};

enum ft_dfu_status {
	FT_DFU_OK = 0,
	FT_DFU_ERR_TARGET = 1,
	FT_DFU_ERR_FILE = 2,
	FT_DFU_ERR_WRITE = 3,
	FT_DFU_ERR_ERASE = 4,
	FT_DFU_ERR_CHECK_ERASED = 5,
	FT_DFU_ERR_PROG = 6,
	FT_DFU_ERR_VERIFY = 7,
	FT_DFU_ERR_ADDRESS = 8,
	FT_DFU_ERR_NOTDONE = 9,
	FT_DFU_ERR_FIRMWARE = 10,
	FT_DFU_ERR_VENDOR = 11,	/* ST: read-out protection active */
	FT_DFU_ERR_USBR = 12,
	FT_DFU_ERR_POR = 13,
	FT_DFU_ERR_UNKNOWN = 14,
	FT_DFU_ERR_STALLEDPKT = 15,
};

/* DfuSe commands: DNLOAD with wValue 0, first data byte. */
#define FT_DFUSE_SET_ADDRESS 0x21
#define FT_DFUSE_ERASE 0x41
#define FT_DFUSE_READ_UNPROTECT 0x92
/* Data blocks start at wBlockNum 2: addr = pointer + (n - 2) * xfer. */
#define FT_DFUSE_FIRST_BLOCK 2

const char *ft_dfu_state_name(int state);
const char *ft_dfu_status_name(int status);

/*
 * The transport's protocol decisions as pure functions (lib/dfu/state.c):
 * what to do about a GETSTATUS answer, which device and alt setting a
 * match selects, how fast to poll, when a DfuSe run needs a new Set
 * Address.  lib/dfu/transport.c does the I/O they decide on.
 */

/* What a GETSTATUS answer (bState, bStatus) calls for. */
enum ft_dfu_action {
	FT_DFU_ACT_DONE,	/* idle as wanted: nothing to send */
	FT_DFU_ACT_CLRSTATUS,	/* dfuERROR or an error status */
	FT_DFU_ACT_ABORT,	/* a transfer is open: back to dfuIDLE */
	FT_DFU_ACT_WAIT,	/* busy: wait its bwPollTimeout, ask again */
	FT_DFU_ACT_NOT_DFU,	/* appIDLE/appDETACH: runtime mode */
	FT_DFU_ACT_FAIL,	/* the command failed: report, then clear */
	FT_DFU_ACT_UNEXPECTED,	/* a state the command cannot lead to */
};

/*
 * Opening: the step towards dfuIDLE/OK.  DONE only for dfuIDLE with OK;
 * CLRSTATUS for dfuERROR and for dfuIDLE with an error status; ABORT for
 * dfuDNLOAD-IDLE and dfuUPLOAD-IDLE (whatever the status); NOT_DFU for the
 * app states; WAIT for the rest (sync, busy, manifest, unknown states).
 */
enum ft_dfu_action ft_dfu_normalise_step(int state, int status);
/*
 * After a DNLOAD (data or DfuSe command): FAIL for an error status or
 * dfuERROR, DONE for dfuIDLE/dfuDNLOAD-IDLE/dfuUPLOAD-IDLE, WAIT for
 * dfuDNLOAD-SYNC/dfuDNBUSY/dfuMANIFEST-SYNC/dfuMANIFEST, UNEXPECTED else.
 */
enum ft_dfu_action ft_dfu_poll_verdict(int state, int status);
/*
 * Resync after a failure, one request at most: CLRSTATUS for dfuERROR or
 * an error status, ABORT for an open transfer, DONE otherwise.
 */
enum ft_dfu_action ft_dfu_resync_step(int state, int status);
/*
 * Our error for a DFU error status: errVENDOR (ST: read-out protection)
 * FT_E_PROTECTED; errTARGET/errADDRESS FT_E_RANGE; errWRITE, errERASE,
 * errCHECK_ERASED, errPROG, errVERIFY FT_E_NACK; else FT_E_PROTOCOL.
 */
int ft_dfu_status_err(int status);

/*
 * Device selection (dfu-util's -d, -p, -S, -a).  ft_dfu_match_ids decides
 * on IDs and path alone, before the device is opened: a DFU-mode device
 * is matched by the ",vid:pid" IDs when given, else by "vid:pid"; a
 * runtime device by "vid:pid", never when only ",vid:pid" was given.  A
 * runtime device is a candidate like a DFU-mode one, also with no IDs
 * given (opening it detaches it).  -1 is a wildcard; m NULL matches every
 * device.
 */
int ft_dfu_match_ids(const struct ft_dfu_match *m,
    const struct ft_dfu_entry *e);
/*
 * Does alt a match m's alt number and name?  The name matches the whole
 * interface string or its DfuSe layout name ("Internal Flash").
 */
int ft_dfu_match_alt(const struct ft_dfu_match *m,
    const struct ft_dfu_alt *a);
/*
 * The serial and alt part: 1 match, 0 no match, -1 undecided because the
 * strings could not be read (unreadable) and a serial or alt name was
 * asked for.
 */
int ft_dfu_match_strings(const struct ft_dfu_match *m,
    const struct ft_dfu_entry *e, int unreadable);
/*
 * The alt index to open: the first matching m's alt number or name when
 * one is given (FT_E_INVALID when none does), else the first alt whose
 * DfuSe layout holds target in a writable segment; FT_E_RANGE when a
 * DfuSe device has none although its alt 0 has a layout, else index 0
 * (plain DFU).
 */
int ft_dfu_choose_alt(struct ft_ctx *ctx, const struct ft_dfu_entry *e,
    const struct ft_dfu_match *m, uint32_t target, unsigned *index);
/* A USB ID from a DFU suffix accepts have: equal, or FT_USB_ANY_ID. */
int ft_dfu_id_match(uint16_t want, uint16_t have);
/* Both IDs accept the device (vid, pid). */
int ft_dfu_ids_accept(uint16_t want_vid, uint16_t want_pid, uint16_t vid,
    uint16_t pid);

/*
 * GETSTATUS pacing within one operation.  ST ROMs report a bwPollTimeout
 * far longer than the work, so a relaxed device is re-polled after 1, 2,
 * 4, 8, 8 ... ms, never longer than cap_ms (the first busy status's
 * timeout).  A stalled poll means "too early": wait cap_ms when known
 * (else the back-off) and from then on (strict) wait each reported
 * timeout (or the back-off when it reports 0), times mult.
 */
#define FT_DFU_POLL_FIRST_MS 1u		/* first re-poll of a busy device */
#define FT_DFU_POLL_STEP_MAX_MS 8u	/* longest back-off step */

struct ft_dfu_pace {
	unsigned attempt;	/* back-off doublings so far */
	uint32_t cap_ms;	/* 0 until the first busy status */
	int strict;		/* the device stalls early polls */
	unsigned mult;		/* strict waits times this (>= 1) */
};

enum ft_dfu_poll_event {
	FT_DFU_POLL_BUSY,	/* a busy status reporting reported_ms */
	FT_DFU_POLL_STALLED,	/* the poll stalled */
};

/* The back-off step after attempt doublings: 1, 2, 4, 8, 8 ... ms. */
uint32_t ft_dfu_poll_backoff_ms(unsigned attempt);
/*
 * The wait before the next poll after ev; updates pace (cap on the first
 * busy status, attempt, strict on a stall).
 */
uint64_t ft_dfu_poll_next(struct ft_dfu_pace *pace,
    enum ft_dfu_poll_event ev, uint32_t reported_ms);

/*
 * DfuSe addressing.  The ROM writes block n (n >= 2) of a run at
 * pointer + (n - 2) * wTransferSize, so a run continues only after
 * full-size blocks, at the next address, in the same direction, and while
 * wBlockNum fits in 16 bits.
 */
enum ft_dfu_mode {
	FT_DFU_MODE_IDLE,	/* dfuIDLE */
	FT_DFU_MODE_DNLOAD,	/* dfuDNLOAD-IDLE */
	FT_DFU_MODE_UPLOAD,	/* dfuUPLOAD-IDLE */
};

#define FT_DFUSE_MAX_BLOCK 0xFFFFu

struct ft_dfuse_run {
	enum ft_dfu_mode mode;	/* the transfer the device has open */
	int ptr_ok;		/* the device's pointer equals ptr */
	uint32_t ptr;		/* device address pointer */
	uint32_t next_addr;	/* the address block next_block covers */
	uint32_t next_block;
};

struct ft_dfuse_step {
	int set_address;	/* Set Address to the transfer's addr first */
	int abort;		/* then ABORT: UPLOAD is refused in
				 * dfuDNLOAD-IDLE */
	uint16_t block;		/* wBlockNum of the transfer */
};

/* How to transfer at addr in direction want (DNLOAD or UPLOAD). */
void ft_dfuse_plan(const struct ft_dfuse_run *run, uint32_t addr,
    enum ft_dfu_mode want, struct ft_dfuse_step *out);
/* Set Address to addr succeeded: a new run starts at block 2. */
void ft_dfuse_pointer_set(struct ft_dfuse_run *run, uint32_t addr);
/* A block of len bytes went through; xfer is wTransferSize. */
void ft_dfuse_advance(struct ft_dfuse_run *run, uint32_t len, uint32_t xfer);

#endif /* FT_DFU_H */
