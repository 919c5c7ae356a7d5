/*
 * test_dfu_state.c - the DFU transport's pure decisions (lib/dfu/state.c)
 * by tables: the step a GETSTATUS answer calls for at open, after a
 * DNLOAD and on resync; status codes as our errors; device, alt and
 * .dfu-suffix ID matching as dfu-util's -d/-p/-S/-a; the alt a target
 * address picks; GETSTATUS pacing; DfuSe Set Address and wBlockNum.
 *
 * Each row names its expected value exactly; a failing row is reported
 * by its index and inputs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "dfu/dfu.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

#define DONE FT_DFU_ACT_DONE
#define CLR FT_DFU_ACT_CLRSTATUS
#define ABORT FT_DFU_ACT_ABORT
#define WAIT FT_DFU_ACT_WAIT
#define NOTDFU FT_DFU_ACT_NOT_DFU
#define FAIL FT_DFU_ACT_FAIL
#define UNEXP FT_DFU_ACT_UNEXPECTED

struct state_row {
	int state, status;
	enum ft_dfu_action want;
};

static void
check_states(const struct state_row *rows, size_t n,
    enum ft_dfu_action (*fn)(int, int), const char *what)
{
	size_t i;

	for (i = 0; i < n; i++) {
		enum ft_dfu_action got = fn(rows[i].state, rows[i].status);

		if (got != rows[i].want)
			fail_msg("%s row %zu (%s, %s): got %d, want %d", what,
			    i, ft_dfu_state_name(rows[i].state),
			    ft_dfu_status_name(rows[i].status), (int)got,
			    (int)rows[i].want);
	}
}

/* Opening: every DFU 1.1 state with OK, and error statuses. */
static void
test_normalise(void **state)
{
	static const struct state_row rows[] = {
		{ FT_DFU_APP_IDLE, FT_DFU_OK, NOTDFU },
		{ FT_DFU_APP_DETACH, FT_DFU_OK, NOTDFU },
		{ FT_DFU_IDLE, FT_DFU_OK, DONE },
		{ FT_DFU_DNLOAD_SYNC, FT_DFU_OK, WAIT },
		{ FT_DFU_DNBUSY, FT_DFU_OK, WAIT },
		{ FT_DFU_DNLOAD_IDLE, FT_DFU_OK, ABORT },
		{ FT_DFU_MANIFEST_SYNC, FT_DFU_OK, WAIT },
		{ FT_DFU_MANIFEST, FT_DFU_OK, WAIT },
		{ FT_DFU_MANIFEST_WAIT_RESET, FT_DFU_OK, WAIT },
		{ FT_DFU_UPLOAD_IDLE, FT_DFU_OK, ABORT },
		{ FT_DFU_ERROR, FT_DFU_OK, CLR },
		/* How F0/F4 ROMs come up: dfuERROR, errFIRMWARE. */
		{ FT_DFU_ERROR, FT_DFU_ERR_FIRMWARE, CLR },
		{ FT_DFU_ERROR, FT_DFU_ERR_STALLEDPKT, CLR },
		{ FT_DFU_ERROR, FT_DFU_ERR_VENDOR, CLR },
		{ FT_DFU_IDLE, FT_DFU_ERR_TARGET, CLR },
		{ FT_DFU_IDLE, FT_DFU_ERR_UNKNOWN, CLR },
		/* An open transfer is aborted whatever its status. */
		{ FT_DFU_DNLOAD_IDLE, FT_DFU_ERR_ADDRESS, ABORT },
		{ FT_DFU_UPLOAD_IDLE, FT_DFU_ERR_UNKNOWN, ABORT },
		/* Runtime mode is refused whatever its status. */
		{ FT_DFU_APP_IDLE, FT_DFU_ERR_FIRMWARE, NOTDFU },
		/* Unknown states: wait and ask again (bounded by tries). */
		{ 11, FT_DFU_OK, WAIT },
		{ 255, FT_DFU_OK, WAIT },
	};

	(void)state;
	check_states(rows, N(rows), ft_dfu_normalise_step, "normalise");
}

/* After a DNLOAD or DfuSe command. */
static void
test_poll_verdict(void **state)
{
	static const struct state_row rows[] = {
		{ FT_DFU_IDLE, FT_DFU_OK, DONE },
		{ FT_DFU_DNLOAD_IDLE, FT_DFU_OK, DONE },
		{ FT_DFU_UPLOAD_IDLE, FT_DFU_OK, DONE },
		{ FT_DFU_DNLOAD_SYNC, FT_DFU_OK, WAIT },
		{ FT_DFU_DNBUSY, FT_DFU_OK, WAIT },
		{ FT_DFU_MANIFEST_SYNC, FT_DFU_OK, WAIT },
		{ FT_DFU_MANIFEST, FT_DFU_OK, WAIT },
		/* Must fail: states a download cannot lead to. */
		{ FT_DFU_APP_IDLE, FT_DFU_OK, UNEXP },
		{ FT_DFU_APP_DETACH, FT_DFU_OK, UNEXP },
		{ FT_DFU_MANIFEST_WAIT_RESET, FT_DFU_OK, UNEXP },
		{ 11, FT_DFU_OK, UNEXP },
		/* Must fail: any error status, in any state. */
		{ FT_DFU_ERROR, FT_DFU_OK, FAIL },
		{ FT_DFU_ERROR, FT_DFU_ERR_ADDRESS, FAIL },
		{ FT_DFU_DNLOAD_IDLE, FT_DFU_ERR_PROG, FAIL },
		{ FT_DFU_DNBUSY, FT_DFU_ERR_STALLEDPKT, FAIL },
		{ FT_DFU_IDLE, FT_DFU_ERR_VENDOR, FAIL },
		{ FT_DFU_APP_IDLE, FT_DFU_ERR_UNKNOWN, FAIL },
	};

	(void)state;
	check_states(rows, N(rows), ft_dfu_poll_verdict, "verdict");
}

static void
test_resync(void **state)
{
	static const struct state_row rows[] = {
		{ FT_DFU_IDLE, FT_DFU_OK, DONE },
		{ FT_DFU_DNBUSY, FT_DFU_OK, DONE },
		{ FT_DFU_MANIFEST, FT_DFU_OK, DONE },
		{ FT_DFU_APP_IDLE, FT_DFU_OK, DONE },
		{ FT_DFU_DNLOAD_IDLE, FT_DFU_OK, ABORT },
		{ FT_DFU_UPLOAD_IDLE, FT_DFU_OK, ABORT },
		{ FT_DFU_ERROR, FT_DFU_OK, CLR },
		{ FT_DFU_ERROR, FT_DFU_ERR_STALLEDPKT, CLR },
		/* The error status wins over the open transfer. */
		{ FT_DFU_DNLOAD_IDLE, FT_DFU_ERR_WRITE, CLR },
		{ FT_DFU_IDLE, FT_DFU_ERR_TARGET, CLR },
	};

	(void)state;
	check_states(rows, N(rows), ft_dfu_resync_step, "resync");
}

static void
test_status_err(void **state)
{
	static const struct {
		int status, err;
	} rows[] = {
		{ FT_DFU_OK, FT_E_PROTOCOL },
		{ FT_DFU_ERR_TARGET, FT_E_RANGE },
		{ FT_DFU_ERR_FILE, FT_E_PROTOCOL },
		{ FT_DFU_ERR_WRITE, FT_E_NACK },
		{ FT_DFU_ERR_ERASE, FT_E_NACK },
		{ FT_DFU_ERR_CHECK_ERASED, FT_E_NACK },
		{ FT_DFU_ERR_PROG, FT_E_NACK },
		{ FT_DFU_ERR_VERIFY, FT_E_NACK },
		{ FT_DFU_ERR_ADDRESS, FT_E_RANGE },
		{ FT_DFU_ERR_NOTDONE, FT_E_PROTOCOL },
		{ FT_DFU_ERR_FIRMWARE, FT_E_PROTOCOL },
		{ FT_DFU_ERR_VENDOR, FT_E_PROTECTED },
		{ FT_DFU_ERR_USBR, FT_E_PROTOCOL },
		{ FT_DFU_ERR_POR, FT_E_PROTOCOL },
		{ FT_DFU_ERR_UNKNOWN, FT_E_PROTOCOL },
		{ FT_DFU_ERR_STALLEDPKT, FT_E_PROTOCOL },
		{ 16, FT_E_PROTOCOL },
		{ 255, FT_E_PROTOCOL },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(rows); i++)
		if (ft_dfu_status_err(rows[i].status) != rows[i].err)
			fail_msg("status row %zu (%d): got %d, want %d", i,
			    rows[i].status, ft_dfu_status_err(rows[i].status),
			    rows[i].err);
	assert_string_equal(ft_dfu_state_name(FT_DFU_DNLOAD_IDLE),
	    "dfuDNLOAD-IDLE");
	assert_string_equal(ft_dfu_state_name(11), "unknown state");
	assert_string_equal(ft_dfu_state_name(-1), "unknown state");
	assert_string_equal(ft_dfu_status_name(FT_DFU_ERR_STALLEDPKT),
	    "errSTALLEDPKT");
	assert_string_equal(ft_dfu_status_name(16), "unknown status");
}

/*
 * Devices: an STM32F042 ROM in DFU mode, a runtime-mode application
 * (as the simulator's), and a plain DFU 1.1 device.
 */
#define F042_FLASH "@Internal Flash  /0x08000000/032*0001Kg"
#define F042_OB "@Option Bytes  /0x1FFFF800/01*016 e"

static void
entry_f042(struct ft_dfu_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->vid = 0x0483;
	e->pid = 0xDF11;
	strcpy(e->path, "1-1.2");
	strcpy(e->serial, "FFFFFFFEFFFF");
	e->dfu_mode = 1;
	e->dfuse = 1;
	e->transfer_size = 2048;
	e->nalts = 2;
	e->alts[0].alt = 0;
	strcpy(e->alts[0].name, F042_FLASH);
	e->alts[1].alt = 1;
	strcpy(e->alts[1].name, F042_OB);
}

static void
entry_runtime(struct ft_dfu_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->vid = 0x1D50;
	e->pid = 0x6017;
	strcpy(e->path, "1-3");
	strcpy(e->serial, "CARTO0001");
	e->dfu_mode = 0;
	e->nalts = 1;
	e->alts[0].alt = 0;
	strcpy(e->alts[0].name, "Carto runtime");
}

static void
entry_plain(struct ft_dfu_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->vid = 0x1D50;
	e->pid = 0x6018;
	strcpy(e->path, "2-1");
	e->dfu_mode = 1;
	e->dfuse = 0;
	e->transfer_size = 1024;
	e->nalts = 1;
	e->alts[0].alt = 0;
	strcpy(e->alts[0].name, "UNDEFINED");
}

/* m with every field "any"; the rows below set what they test. */
static struct ft_dfu_match
any_match(void)
{
	struct ft_dfu_match m = { -1, -1, -1, -1, NULL, NULL, -1, NULL };

	return m;
}

enum { DEV_F042, DEV_RT, DEV_PLAIN, DEV_NONE };

static void
entry_of(int dev, struct ft_dfu_entry *e)
{
	if (dev == DEV_F042)
		entry_f042(e);
	else if (dev == DEV_RT)
		entry_runtime(e);
	else
		entry_plain(e);
}

struct match_row {
	int null_m;		/* pass m = NULL */
	int vid, pid, dfu_vid, dfu_pid;
	const char *path;
	int dev, want;
};

static void
test_match_ids(void **state)
{
	static const struct match_row rows[] = {
		/*
		 * No -d at all: every DFU-capable device is a candidate,
		 * in runtime mode too (as for dfu-util); opening one that
		 * is the only candidate detaches it, and several refuse.
		 */
		{ 1, 0, 0, 0, 0, NULL, DEV_F042, 1 },
		{ 1, 0, 0, 0, 0, NULL, DEV_RT, 1 },
		{ 0, -1, -1, -1, -1, NULL, DEV_F042, 1 },
		{ 0, -1, -1, -1, -1, NULL, DEV_RT, 1 },
		/* -d vid:pid and its wildcards. */
		{ 0, 0x0483, 0xDF11, -1, -1, NULL, DEV_F042, 1 },
		{ 0, 0x0483, -1, -1, -1, NULL, DEV_F042, 1 },
		{ 0, -1, 0xDF11, -1, -1, NULL, DEV_F042, 1 },
		{ 0, 0x0483, 0xDF12, -1, -1, NULL, DEV_F042, 0 },
		{ 0, 0x0484, -1, -1, -1, NULL, DEV_F042, 0 },
		{ 0, -1, 0xDF12, -1, -1, NULL, DEV_F042, 0 },
		{ 0, 0x1D50, 0x6017, -1, -1, NULL, DEV_RT, 1 },
		{ 0, 0x1D50, -1, -1, -1, NULL, DEV_RT, 1 },
		{ 0, 0x1D50, 0x6018, -1, -1, NULL, DEV_RT, 0 },
		/* -d ,vid:pid: DFU-mode devices only. */
		{ 0, -1, -1, 0x0483, 0xDF11, NULL, DEV_F042, 1 },
		{ 0, -1, -1, 0x0483, -1, NULL, DEV_F042, 1 },
		{ 0, -1, -1, 0x0483, 0xDF12, NULL, DEV_F042, 0 },
		{ 0, -1, -1, 0x1D50, 0x6017, NULL, DEV_RT, 0 },
		/*
		 * -d rtvid:rtpid,dfuvid:dfupid: the runtime IDs for the
		 * runtime device, the DFU IDs (only) for DFU mode.
		 */
		{ 0, 0x1D50, 0x6017, 0x0483, 0xDF11, NULL, DEV_RT, 1 },
		{ 0, 0x1D50, 0x6017, 0x0483, 0xDF11, NULL, DEV_F042, 1 },
		{ 0, 0x0483, 0xDF11, 0x1D50, 0x6017, NULL, DEV_F042, 0 },
		/* The DFU pid alone overrides only the pid. */
		{ 0, 0x0483, 0xDF11, -1, 0xDF12, NULL, DEV_F042, 0 },
		{ 0, 0x0483, 0x1234, -1, 0xDF11, NULL, DEV_F042, 1 },
		/* -p path: exact, and enough to detach a runtime device. */
		{ 0, -1, -1, -1, -1, "1-1.2", DEV_F042, 1 },
		{ 0, -1, -1, -1, -1, "1-1", DEV_F042, 0 },
		{ 0, -1, -1, -1, -1, "1-1.2.1", DEV_F042, 0 },
		{ 0, -1, -1, -1, -1, "1-3", DEV_RT, 1 },
		{ 0, 0x0483, 0xDF11, -1, -1, "1-1.3", DEV_F042, 0 },
		{ 0, 0x1D50, 0x6017, -1, -1, "1-4", DEV_RT, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(rows); i++) {
		const struct match_row *w = &rows[i];
		struct ft_dfu_match m = any_match();
		struct ft_dfu_entry e;
		int got;

		entry_of(w->dev, &e);
		m.vid = w->vid;
		m.pid = w->pid;
		m.dfu_vid = w->dfu_vid;
		m.dfu_pid = w->dfu_pid;
		m.path = w->path;
		got = ft_dfu_match_ids(w->null_m ? NULL : &m, &e);
		if (got != w->want)
			fail_msg("match_ids row %zu (device %d): got %d, "
			    "want %d", i, w->dev, got, w->want);
	}
}

struct alt_row {
	int alt;
	const char *name;
	int have_alt;
	const char *have_name;
	int want;
};

static void
test_match_alt(void **state)
{
	static const struct alt_row rows[] = {
		{ -1, NULL, 0, F042_FLASH, 1 },
		{ 0, NULL, 0, F042_FLASH, 1 },
		{ 1, NULL, 0, F042_FLASH, 0 },
		{ 1, NULL, 1, F042_OB, 1 },
		/* By name: the layout name or the whole string. */
		{ -1, "Internal Flash", 0, F042_FLASH, 1 },
		{ -1, F042_FLASH, 0, F042_FLASH, 1 },
		{ -1, "Option Bytes", 1, F042_OB, 1 },
		{ -1, "Option Bytes", 0, F042_FLASH, 0 },
		{ -1, "Internal", 0, F042_FLASH, 0 },
		{ -1, "@Internal Flash", 0, F042_FLASH, 0 },
		{ -1, "internal flash", 0, F042_FLASH, 0 },
		{ -1, "", 0, F042_FLASH, 0 },
		/* Number and name must both hold. */
		{ 0, "Internal Flash", 0, F042_FLASH, 1 },
		{ 1, "Internal Flash", 0, F042_FLASH, 0 },
		{ 0, "Option Bytes", 0, F042_FLASH, 0 },
		/* No layout: the string itself. */
		{ -1, "UNDEFINED", 0, "UNDEFINED", 1 },
		{ -1, "UNDEF", 0, "UNDEFINED", 0 },
	};
	struct ft_dfu_alt a;
	size_t i;

	(void)state;
	a.alt = 0;
	strcpy(a.name, F042_FLASH);
	assert_int_equal(ft_dfu_match_alt(NULL, &a), 1);
	for (i = 0; i < N(rows); i++) {
		struct ft_dfu_match m = any_match();
		int got;

		m.alt = rows[i].alt;
		m.alt_name = rows[i].name;
		a.alt = rows[i].have_alt;
		strcpy(a.name, rows[i].have_name);
		got = ft_dfu_match_alt(&m, &a);
		if (got != rows[i].want)
			fail_msg("match_alt row %zu: got %d, want %d", i, got,
			    rows[i].want);
	}
}

struct strings_row {
	const char *serial;
	int alt;
	const char *alt_name;
	int dev, unreadable, want;
};

static void
test_match_strings(void **state)
{
	static const struct strings_row rows[] = {
		{ NULL, -1, NULL, DEV_F042, 0, 1 },
		{ NULL, -1, NULL, DEV_F042, 1, 1 },
		/* -S serial: the F042's shared one. */
		{ "FFFFFFFEFFFF", -1, NULL, DEV_F042, 0, 1 },
		{ "FFFFFFFEFFFE", -1, NULL, DEV_F042, 0, 0 },
		{ "ffffffFEFFFF", -1, NULL, DEV_F042, 0, 0 },
		{ "", -1, NULL, DEV_F042, 0, 0 },
		{ "", -1, NULL, DEV_PLAIN, 0, 1 },
		/* -a: some alt of the device must match. */
		{ NULL, 1, NULL, DEV_F042, 0, 1 },
		{ NULL, 2, NULL, DEV_F042, 0, 0 },
		{ NULL, -1, "Option Bytes", DEV_F042, 0, 1 },
		{ NULL, -1, "OTP Memory", DEV_F042, 0, 0 },
		{ "FFFFFFFEFFFF", 1, NULL, DEV_F042, 0, 1 },
		{ "CARTO0001", 1, NULL, DEV_F042, 0, 0 },
		/* Strings unreadable: undecided when they decide. */
		{ "FFFFFFFEFFFF", -1, NULL, DEV_F042, 1, -1 },
		{ "nope", -1, NULL, DEV_F042, 1, -1 },
		{ NULL, -1, "Option Bytes", DEV_F042, 1, -1 },
		/* ... but an alt number is no string. */
		{ NULL, 1, NULL, DEV_F042, 1, 1 },
		{ NULL, 3, NULL, DEV_F042, 1, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(rows); i++) {
		struct ft_dfu_match m = any_match();
		struct ft_dfu_entry e;
		int got;

		entry_of(rows[i].dev, &e);
		m.serial = rows[i].serial;
		m.alt = rows[i].alt;
		m.alt_name = rows[i].alt_name;
		got = ft_dfu_match_strings(&m, &e, rows[i].unreadable);
		if (got != rows[i].want)
			fail_msg("match_strings row %zu: got %d, want %d", i,
			    got, rows[i].want);
	}
}

/* A device whose alt 0 is read-only where alt 1 can be written. */
static void
entry_shadow(struct ft_dfu_entry *e)
{
	entry_f042(e);
	e->nalts = 3;
	strcpy(e->alts[0].name, "@Shadow ROM /0x08000000/032*001Ka");
	strcpy(e->alts[1].name, F042_FLASH);
	e->alts[2].alt = 2;
	strcpy(e->alts[2].name, F042_OB);
}

/* An F4-like device whose alt 0 is not a layout. */
static void
entry_odd(struct ft_dfu_entry *e)
{
	entry_f042(e);
	strcpy(e->alts[0].name, "ST DFU");
}

enum { DEV_SHADOW = DEV_NONE + 1, DEV_ODD };

struct choose_row {
	int dev;
	int alt;
	const char *alt_name;
	uint32_t target;
	int want_err;
	unsigned want_index;
	const char *detail;	/* in the error detail */
};

static void
test_choose_alt(void **state)
{
	static const struct choose_row rows[] = {
		{ DEV_F042, -1, NULL, 0x08000000, 0, 0, NULL },
		{ DEV_F042, -1, NULL, 0x08007FFF, 0, 0, NULL },
		{ DEV_F042, -1, NULL, 0x1FFFF800, 0, 1, NULL },
		{ DEV_F042, -1, NULL, 0x1FFFF80F, 0, 1, NULL },
		/* Must fail: nothing writable there. */
		{ DEV_F042, -1, NULL, 0x08008000, FT_E_RANGE, 0,
		    "no alt setting of 1-1.2 holds writable memory at "
		    "0x08008000 (alt 0: " F042_FLASH ")" },
		{ DEV_F042, -1, NULL, 0x1FFFF810, FT_E_RANGE, 0, NULL },
		{ DEV_F042, -1, NULL, 0x20000000, FT_E_RANGE, 0, NULL },
		{ DEV_F042, -1, NULL, 0x07FFFFFF, FT_E_RANGE, 0, NULL },
		/* Asked for: taken even when it does not hold target. */
		{ DEV_F042, 1, NULL, 0x08000000, 0, 1, NULL },
		{ DEV_F042, -1, "Option Bytes", 0x08000000, 0, 1, NULL },
		{ DEV_F042, 0, "Internal Flash", 0x1FFFF800, 0, 0, NULL },
		/* Must fail: no such alt. */
		{ DEV_F042, 7, NULL, 0x08000000, FT_E_INVALID, 0,
		    "1-1.2 has no alt setting with that number" },
		{ DEV_F042, -1, "OTP Memory", 0x08000000, FT_E_INVALID, 0,
		    "1-1.2 has no alt setting OTP Memory" },
		{ DEV_F042, 1, "Internal Flash", 0x08000000, FT_E_INVALID, 0,
		    NULL },
		/* Writable beats readable at the same address. */
		{ DEV_SHADOW, -1, NULL, 0x08000000, 0, 1, NULL },
		{ DEV_SHADOW, -1, NULL, 0x1FFFF800, 0, 2, NULL },
		{ DEV_SHADOW, -1, NULL, 0x08008000, FT_E_RANGE, 0, NULL },
		/* Plain DFU: no layouts, the first alt, any address. */
		{ DEV_PLAIN, -1, NULL, 0x08000000, 0, 0, NULL },
		{ DEV_PLAIN, -1, NULL, 0xFFFFFFFF, 0, 0, NULL },
		/* DfuSe, alt 0 without a layout: alt 0, not an error. */
		{ DEV_ODD, -1, NULL, 0x1FFFF800, 0, 1, NULL },
		{ DEV_ODD, -1, NULL, 0x08000000, 0, 0, NULL },
	};
	struct ft_ctx *ctx = ft_ctx_new();
	size_t i;

	(void)state;
	assert_non_null(ctx);
	for (i = 0; i < N(rows); i++) {
		const struct choose_row *w = &rows[i];
		struct ft_dfu_match m = any_match();
		struct ft_dfu_entry e;
		unsigned idx = 99;
		int got;

		if (w->dev == DEV_SHADOW)
			entry_shadow(&e);
		else if (w->dev == DEV_ODD)
			entry_odd(&e);
		else
			entry_of(w->dev, &e);
		m.alt = w->alt;
		m.alt_name = w->alt_name;
		got = ft_dfu_choose_alt(ctx, &e, &m, w->target, &idx);
		if (got != w->want_err)
			fail_msg("choose_alt row %zu: got %d, want %d", i, got,
			    w->want_err);
		if (got == 0 && idx != w->want_index)
			fail_msg("choose_alt row %zu: index %u, want %u", i,
			    idx, w->want_index);
		if (got != 0 && idx != 99)
			fail_msg("choose_alt row %zu: index set on failure",
			    i);
		if (w->detail != NULL)
			assert_string_equal(ft_errdetail(ctx), w->detail);
	}
	ft_ctx_free(ctx);
}

static void
test_ids(void **state)
{
	static const struct {
		uint16_t want_vid, want_pid, vid, pid;
		int want;
	} rows[] = {
		{ 0x0483, 0xDF11, 0x0483, 0xDF11, 1 },
		{ 0xFFFF, 0xFFFF, 0x0483, 0xDF11, 1 },
		{ 0xFFFF, 0xDF11, 0x1234, 0xDF11, 1 },
		{ 0x0483, 0xFFFF, 0x0483, 0x0001, 1 },
		/* Must fail. */
		{ 0x0483, 0xDF11, 0x0483, 0xDF12, 0 },
		{ 0x0483, 0xDF11, 0x0484, 0xDF11, 0 },
		{ 0xFFFF, 0xDF11, 0x0483, 0xDF12, 0 },
		{ 0x0483, 0xFFFF, 0x1D50, 0xDF11, 0 },
		/* Only the want side is a wildcard. */
		{ 0x0483, 0xDF11, 0xFFFF, 0xFFFF, 0 },
		{ 0x0000, 0x0000, 0x0483, 0xDF11, 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(rows); i++) {
		int got = ft_dfu_ids_accept(rows[i].want_vid,
		    rows[i].want_pid, rows[i].vid, rows[i].pid);

		if (got != rows[i].want)
			fail_msg("ids row %zu: got %d, want %d", i, got,
			    rows[i].want);
	}
	assert_int_equal(ft_dfu_id_match(0xFFFF, 0), 1);
	assert_int_equal(ft_dfu_id_match(0xFFFF, 0xFFFF), 1);
	assert_int_equal(ft_dfu_id_match(0, 0xFFFF), 0);
	assert_int_equal(ft_dfu_id_match(0xFFFE, 0xFFFF), 0);
}

static void
test_backoff(void **state)
{
	static const struct {
		unsigned attempt;
		uint32_t ms;
	} rows[] = {
		{ 0, 1 }, { 1, 2 }, { 2, 4 }, { 3, 8 }, { 4, 8 }, { 5, 8 },
		{ 1000, 8 }, { 0xFFFFFFFFu, 8 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(rows); i++)
		if (ft_dfu_poll_backoff_ms(rows[i].attempt) != rows[i].ms)
			fail_msg("backoff row %zu: got %u, want %u", i,
			    (unsigned)ft_dfu_poll_backoff_ms(rows[i].attempt),
			    (unsigned)rows[i].ms);
}

/* One poll of a sequence: the event, its bwPollTimeout, the wait. */
struct poll_step {
	enum ft_dfu_poll_event ev;
	uint32_t reported_ms;
	uint64_t wait_ms;
};

#define BUSY FT_DFU_POLL_BUSY
#define STALL FT_DFU_POLL_STALLED
#define MAX_STEPS 8

struct pace_case {
	const char *what;
	int strict;
	unsigned mult;
	size_t n;
	struct poll_step step[MAX_STEPS];
	/* The pace afterwards. */
	unsigned attempt;
	uint32_t cap_ms;
	int strict_after;
};

static void
test_poll_schedule(void **state)
{
	static const struct pace_case cases[] = {
		{ "F4 Set Address: reports 100 ms, polled at 1 2 4 8 8 8",
		    0, 1, 6, {
			{ BUSY, 100, 1 }, { BUSY, 100, 2 }, { BUSY, 100, 4 },
			{ BUSY, 100, 8 }, { BUSY, 100, 8 }, { BUSY, 100, 8 },
		    }, 6, 100, 0 },
		{ "capped at a short reported timeout",
		    0, 1, 5, {
			{ BUSY, 3, 1 }, { BUSY, 3, 2 }, { BUSY, 3, 3 },
			{ BUSY, 3, 3 }, { BUSY, 3, 3 },
		    }, 5, 3, 0 },
		{ "a reported 0 caps at 1 ms",
		    0, 1, 3, {
			{ BUSY, 0, 1 }, { BUSY, 0, 1 }, { BUSY, 0, 1 },
		    }, 3, 1, 0 },
		{ "the first busy status sets the cap",
		    0, 1, 4, {
			{ BUSY, 5, 1 }, { BUSY, 100, 2 }, { BUSY, 100, 4 },
			{ BUSY, 100, 5 },
		    }, 4, 5, 0 },
		{ "mult does not stretch a relaxed device",
		    0, 8, 2, {
			{ BUSY, 100, 1 }, { BUSY, 100, 2 },
		    }, 2, 100, 0 },
		{ "L4: stall before any status backs off, then honours",
		    0, 1, 5, {
			{ STALL, 0, 1 }, { STALL, 0, 2 }, { BUSY, 50, 50 },
			{ BUSY, 0, 4 }, { BUSY, 7, 7 },
		    }, 2, 50, 1 },
		{ "stall after a busy status waits the cap",
		    0, 1, 4, {
			{ BUSY, 20, 1 }, { BUSY, 20, 2 }, { STALL, 0, 20 },
			{ BUSY, 20, 20 },
		    }, 3, 20, 1 },
		{ "strict device, stretched 4x",
		    1, 4, 3, {
			{ BUSY, 25, 100 }, { BUSY, 0, 4 }, { BUSY, 30, 120 },
		    }, 0, 25, 1 },
		{ "a stall with the cap known ignores mult",
		    1, 8, 2, {
			{ BUSY, 10, 80 }, { STALL, 0, 10 },
		    }, 1, 10, 1 },
		{ "24-bit timeout times 8 does not overflow",
		    1, 8, 1, {
			{ BUSY, 0xFFFFFF, 0x7FFFFF8ull },
		    }, 0, 0xFFFFFF, 1 },
	};
	size_t c, i;

	(void)state;
	for (c = 0; c < N(cases); c++) {
		const struct pace_case *k = &cases[c];
		struct ft_dfu_pace pace = { 0, 0, k->strict, k->mult };

		for (i = 0; i < k->n; i++) {
			uint64_t got = ft_dfu_poll_next(&pace, k->step[i].ev,
			    k->step[i].reported_ms);

			if (got != k->step[i].wait_ms)
				fail_msg("%s: poll %zu waits %llu ms, want "
				    "%llu", k->what, i,
				    (unsigned long long)got,
				    (unsigned long long)k->step[i].wait_ms);
		}
		if (pace.attempt != k->attempt || pace.cap_ms != k->cap_ms ||
		    pace.strict != k->strict_after || pace.mult != k->mult)
			fail_msg("%s: pace %u/%u/%d/%u, want %u/%u/%d/%u",
			    k->what, pace.attempt, (unsigned)pace.cap_ms,
			    pace.strict, pace.mult, k->attempt,
			    (unsigned)k->cap_ms, k->strict_after, k->mult);
	}
}

#define IDLE FT_DFU_MODE_IDLE
#define DN FT_DFU_MODE_DNLOAD
#define UP FT_DFU_MODE_UPLOAD
#define A0 0x08000000u
#define XFER 2048u

struct plan_row {
	const char *what;
	struct ft_dfuse_run run;
	uint32_t addr;
	enum ft_dfu_mode want;
	int set_address, abort;
	uint16_t block;
};

static void
test_dfuse_plan(void **state)
{
	static const struct plan_row rows[] = {
		{ "fresh write", { IDLE, 0, 0, 0, 0 }, A0, DN, 1, 0, 2 },
		{ "fresh read", { IDLE, 0, 0, 0, 0 }, A0, UP, 1, 1, 2 },
		{ "pointer unknown, same address",
		    { DN, 0, A0, A0 + XFER, 3 }, A0 + XFER, DN, 1, 0, 2 },
		{ "contiguous write", { DN, 1, A0, A0 + XFER, 3 },
		    A0 + XFER, DN, 0, 0, 3 },
		{ "contiguous read", { UP, 1, A0, A0 + 4 * XFER, 6 },
		    A0 + 4 * XFER, UP, 0, 0, 6 },
		{ "gap (blank block skipped)", { DN, 1, A0, A0 + XFER, 3 },
		    A0 + 2 * XFER, DN, 1, 0, 2 },
		{ "backwards", { DN, 1, A0, A0 + XFER, 3 }, A0, DN, 1, 0, 2 },
		{ "one byte off", { DN, 1, A0, A0 + XFER, 3 }, A0 + XFER + 1,
		    DN, 1, 0, 2 },
		{ "last 16-bit block", { DN, 1, A0, 0x08FFF000, 0xFFFF },
		    0x08FFF000, DN, 0, 0, 0xFFFF },
		{ "would wrap", { DN, 1, A0, 0x08FFF800, 0x10000 },
		    0x08FFF800, DN, 1, 0, 2 },
		{ "read after write: new pointer, then ABORT",
		    { DN, 1, A0, A0 + XFER, 3 }, A0 + XFER, UP, 1, 1, 2 },
		{ "write after read: new pointer",
		    { UP, 1, A0, A0 + XFER, 3 }, A0 + XFER, DN, 1, 0, 2 },
		{ "after ABORT the run continues (write)",
		    { IDLE, 1, A0, A0 + XFER, 3 }, A0 + XFER, DN, 0, 0, 3 },
		{ "after ABORT the run continues (read)",
		    { IDLE, 1, A0, A0 + XFER, 3 }, A0 + XFER, UP, 0, 0, 3 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < N(rows); i++) {
		const struct plan_row *w = &rows[i];
		struct ft_dfuse_step s;

		memset(&s, 0x5A, sizeof(s));
		ft_dfuse_plan(&w->run, w->addr, w->want, &s);
		if (s.set_address != w->set_address || s.abort != w->abort ||
		    s.block != w->block)
			fail_msg("plan \"%s\": set %d abort %d block %u, want "
			    "%d %d %u", w->what, s.set_address, s.abort,
			    s.block, w->set_address, w->abort, w->block);
	}
}

static void
test_dfuse_advance(void **state)
{
	struct ft_dfuse_run run = { DN, 0, 0, 0, 0 };

	(void)state;
	ft_dfuse_pointer_set(&run, A0);
	assert_int_equal(run.ptr_ok, 1);
	assert_int_equal(run.ptr, A0);
	assert_int_equal(run.next_addr, A0);
	assert_int_equal(run.next_block, 2);
	assert_int_equal(run.mode, DN);
	ft_dfuse_advance(&run, XFER, XFER);
	assert_int_equal(run.next_addr, A0 + XFER);
	assert_int_equal(run.next_block, 3);
	assert_int_equal(run.ptr_ok, 1);
	/* A short last block ends the run. */
	ft_dfuse_advance(&run, 100, XFER);
	assert_int_equal(run.ptr_ok, 0);
	assert_int_equal(run.next_addr, 0);
	assert_int_equal(run.next_block, 3);
	assert_int_equal(run.ptr, A0);
	/* A longer one too (never sent, but not a continuation). */
	ft_dfuse_pointer_set(&run, A0);
	ft_dfuse_advance(&run, XFER + 1, XFER);
	assert_int_equal(run.ptr_ok, 0);
}

/*
 * A long contiguous read the way the transport runs it: every block the
 * plan numbers lands where the ROM puts it (pointer + (n - 2) * xfer),
 * and the pointer is set again exactly when wBlockNum would pass 0xFFFF.
 */
static void
test_dfuse_long_run(void **state)
{
	const uint32_t xfer = 16, base = 0x08000000u;
	const uint32_t blocks = 2 * 0xFFFEu + 5;
	struct ft_dfuse_run run = { IDLE, 0, 0, 0, 0 };
	uint32_t i, sets = 0, aborts = 0, first_set_again = 0;

	(void)state;
	for (i = 0; i < blocks; i++) {
		uint32_t addr = base + i * xfer;
		struct ft_dfuse_step s;

		ft_dfuse_plan(&run, addr, UP, &s);
		if (s.set_address) {
			sets++;
			if (sets == 2)
				first_set_again = i;
			ft_dfuse_pointer_set(&run, addr);
			run.mode = DN;
		}
		if (s.abort) {
			aborts++;
			run.mode = IDLE;
		}
		if (run.ptr + (uint32_t)(s.block - 2) * xfer != addr)
			fail_msg("block %u of the run lands at 0x%08x, not "
			    "0x%08x", s.block, run.ptr +
			    (uint32_t)(s.block - 2) * xfer, addr);
		run.mode = UP;
		ft_dfuse_advance(&run, xfer, xfer);
	}
	/* Blocks 2..0xFFFF: 0xFFFE per Set Address. */
	assert_int_equal(first_set_again, 0xFFFE);
	assert_int_equal(sets, 3);
	assert_int_equal(aborts, 3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_poll_verdict),
		cmocka_unit_test(test_resync),
		cmocka_unit_test(test_status_err),
		cmocka_unit_test(test_match_ids),
		cmocka_unit_test(test_match_alt),
		cmocka_unit_test(test_match_strings),
		cmocka_unit_test(test_choose_alt),
		cmocka_unit_test(test_ids),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_poll_schedule),
		cmocka_unit_test(test_dfuse_plan),
		cmocka_unit_test(test_dfuse_advance),
		cmocka_unit_test(test_dfuse_long_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
