/*
 * Unit tests for entry/exit sequences: the grammar (lib/usart/seq.c), its
 * errors and columns, the presets, sysfs GPIO against a scratch tree,
 * missing chips (lib/usart/gpio.c) and the runner's timing and once-only exit
 * (lib/usart/entry.c) on a pty.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "ft_int.h"
#include "usart/entry.h"
#include "usart/gpio.h"
#include "serial.h"

/* Expected step: op, signal index, level, ms, column. */
struct want {
	enum ft_seq_op op;
	unsigned signal;
	int level;
	unsigned ms;
	unsigned col;
};

#define SET(sig, lvl, col) { FT_SEQ_SET, (sig), (lvl), 0, (col) }
#define WAIT(ms, col) { FT_SEQ_WAIT, 0, 0, (ms), (col) }
#define BRK(sig, col) { FT_SEQ_BREAK, (sig), 1, 0, (col) }

static void
check_half(const struct ft_seq_half *h, const struct want *w, unsigned n)
{
	unsigned i;

	assert_int_equal(h->nsteps, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(h->steps[i].op, w[i].op);
		assert_int_equal(h->steps[i].col, w[i].col);
		if (w[i].op == FT_SEQ_WAIT) {
			assert_int_equal(h->steps[i].ms, w[i].ms);
		} else {
			assert_int_equal(h->steps[i].signal, w[i].signal);
			if (w[i].op == FT_SEQ_SET)
				assert_int_equal(h->steps[i].level,
				    w[i].level);
		}
	}
}

static void
check_signal(const struct ft_seq *s, unsigned i, enum ft_sig_kind kind,
    unsigned chip, unsigned num, const char *name)
{
	assert_true(i < s->nsignals);
	assert_int_equal(s->signals[i].kind, kind);
	if (kind == FT_SIG_CHIP_LINE)
		assert_int_equal(s->signals[i].chip, chip);
	if (kind == FT_SIG_CHIP_LINE || kind == FT_SIG_SYSFS)
		assert_int_equal(s->signals[i].num, num);
	if (kind == FT_SIG_LINE_NAME)
		assert_string_equal(s->signals[i].name, name);
}

/* The Elegoo Neptune 4 guide's sequence, step by step. */
static void
test_neptune4_guide(void **state)
{
	static const struct want entry[] = {
		SET(0, 0, 1), WAIT(100, 3), SET(1, 0, 4), WAIT(100, 6),
		SET(1, 1, 7),
	};
	static const struct want exit[] = {
		SET(0, 1, 9), WAIT(100, 10), SET(1, 0, 11), WAIT(300, 13),
		SET(1, 1, 16),
	};
	struct ft_seq s;

	(void)state;
	assert_int_equal(ft_seq_parse(NULL, "-2,-1,1:2,-1,,,1", &s), 0);
	assert_int_equal(s.nsignals, 2);
	check_signal(&s, 0, FT_SIG_SYSFS, 0, 2, NULL);
	check_signal(&s, 1, FT_SIG_SYSFS, 0, 1, NULL);
	assert_true(s.has_exit);
	check_half(&s.entry, entry, 5);
	check_half(&s.exit, exit, 5);
}

static void
test_token_kinds(void **state)
{
	static const struct want w[] = {
		SET(0, 1, 1), SET(0, 0, 5), SET(1, 1, 10), SET(1, 0, 14),
		BRK(2, 19), SET(3, 1, 23), SET(4, 0, 26), SET(5, 1, 40),
		SET(6, 0, 47), SET(7, 1, 55),
	};
	struct ft_seq s;

	(void)state;
	assert_int_equal(ft_seq_parse(NULL,
	    "dtr&-dtr&rts&-rts&brk&17&-gpiochip12:3&GPIO17&-PA_5.x&_n1",
	    &s), 0);
	assert_false(s.has_exit);
	assert_int_equal(s.nsignals, 8);
	check_signal(&s, 0, FT_SIG_DTR, 0, 0, NULL);
	check_signal(&s, 1, FT_SIG_RTS, 0, 0, NULL);
	check_signal(&s, 2, FT_SIG_BRK, 0, 0, NULL);
	check_signal(&s, 3, FT_SIG_SYSFS, 0, 17, NULL);
	check_signal(&s, 4, FT_SIG_CHIP_LINE, 12, 3, NULL);
	check_signal(&s, 5, FT_SIG_LINE_NAME, 0, 0, "GPIO17");
	check_signal(&s, 6, FT_SIG_LINE_NAME, 0, 0, "PA_5.x");
	check_signal(&s, 7, FT_SIG_LINE_NAME, 0, 0, "_n1");
	check_half(&s.entry, w, 10);
	assert_int_equal(s.exit.nsteps, 0);
}

static void
test_empty_halves(void **state)
{
	static const struct want dtr1[] = { SET(0, 1, 1) };
	static const struct want dtr2[] = { SET(0, 1, 2) };
	struct ft_seq s;

	(void)state;
	assert_int_equal(ft_seq_parse(NULL, "", &s), 0);
	assert_int_equal(s.entry.nsteps + s.exit.nsteps + s.nsignals, 0);
	assert_false(s.has_exit);
	assert_int_equal(ft_seq_parse(NULL, ":", &s), 0);
	assert_true(s.has_exit);
	assert_int_equal(s.entry.nsteps + s.exit.nsteps, 0);
	assert_int_equal(ft_seq_parse(NULL, "dtr:", &s), 0);
	assert_true(s.has_exit);
	check_half(&s.entry, dtr1, 1);
	assert_int_equal(s.exit.nsteps, 0);
	assert_int_equal(ft_seq_parse(NULL, ":dtr", &s), 0);
	assert_int_equal(s.entry.nsteps, 0);
	check_half(&s.exit, dtr2, 1);
}

static void
test_waits_and_ampersand(void **state)
{
	static const struct want commas[] = { WAIT(300, 1) };
	static const struct want amp[] = {
		SET(0, 1, 1), SET(1, 1, 6), WAIT(200, 10), SET(0, 0, 13),
	};
	static const struct want lead[] = { WAIT(500, 1), SET(0, 1, 6) };
	struct ft_seq s;

	(void)state;
	assert_int_equal(ft_seq_parse(NULL, ",,,", &s), 0);
	check_half(&s.entry, commas, 1);
	/* '&' waits nothing, also between commas. */
	assert_int_equal(ft_seq_parse(NULL, "dtr&&rts&,&,-dtr", &s), 0);
	check_half(&s.entry, amp, 4);
	/* stm32flash's idiom: leading commas wait after the open. */
	assert_int_equal(ft_seq_parse(NULL, ",,,,,rts", &s), 0);
	check_half(&s.entry, lead, 2);
	assert_int_equal(ft_seq_parse(NULL, "&", &s), 0);
	assert_int_equal(s.entry.nsteps, 0);
}

/* Keywords are read wherever they start, as stm32flash does. */
static void
test_stm32flash_compat(void **state)
{
	static const struct want rts1[] = { SET(0, 1, 1), SET(1, 1, 4) };
	static const struct want rd[] = { SET(0, 0, 1), SET(1, 1, 5) };
	struct ft_seq s;

	(void)state;
	assert_int_equal(ft_seq_parse(NULL, "rts1", &s), 0);
	check_signal(&s, 0, FT_SIG_RTS, 0, 0, NULL);
	check_signal(&s, 1, FT_SIG_SYSFS, 0, 1, NULL);
	check_half(&s.entry, rts1, 2);
	assert_int_equal(ft_seq_parse(NULL, "-rtsdtr", &s), 0);
	check_signal(&s, 1, FT_SIG_DTR, 0, 0, NULL);
	check_half(&s.entry, rd, 2);
	/* Upper case is a line name, not the modem line. */
	assert_int_equal(ft_seq_parse(NULL, "DTR", &s), 0);
	check_signal(&s, 0, FT_SIG_LINE_NAME, 0, 0, "DTR");
}

/* ':' after gpiochipN joins chip and line; any other ':' separates. */
static void
test_chip_line_colon(void **state)
{
	static const struct want e1[] = { SET(0, 1, 1) };
	static const struct want x1[] = { SET(1, 1, 14) };
	static const struct want e2[] = { SET(0, 0, 1) };
	static const struct want x2[] = { SET(1, 0, 15) };
	struct ft_seq s;

	(void)state;
	assert_int_equal(ft_seq_parse(NULL, "gpiochip1:14:2", &s), 0);
	assert_true(s.has_exit);
	check_signal(&s, 0, FT_SIG_CHIP_LINE, 1, 14, NULL);
	check_signal(&s, 1, FT_SIG_SYSFS, 0, 2, NULL);
	check_half(&s.entry, e1, 1);
	check_half(&s.exit, x1, 1);
	assert_int_equal(ft_seq_parse(NULL, "-gpiochip1:14:-gpiochip1:15",
	    &s), 0);
	check_signal(&s, 0, FT_SIG_CHIP_LINE, 1, 14, NULL);
	check_signal(&s, 1, FT_SIG_CHIP_LINE, 1, 15, NULL);
	check_half(&s.entry, e2, 1);
	check_half(&s.exit, x2, 1);
	/* A name that merely starts like a chip is a name. */
	assert_int_equal(ft_seq_parse(NULL, "gpiochip1x:gpiochip", &s), 0);
	check_signal(&s, 0, FT_SIG_LINE_NAME, 0, 0, "gpiochip1x");
	check_signal(&s, 1, FT_SIG_LINE_NAME, 0, 0, "gpiochip");
	assert_true(s.has_exit);
}

/* Each signal is listed once, whichever half uses it. */
static void
test_signal_table(void **state)
{
	struct ft_seq s;
	char buf[48];

	(void)state;
	assert_int_equal(ft_seq_parse(NULL,
	    "dtr,-dtr&GPIO17&gpiochip0:17&17:dtr&GPIO17&gpiochip0:17&-17",
	    &s), 0);
	assert_int_equal(s.nsignals, 4);
	assert_int_equal(s.exit.steps[3].signal, 3);
	assert_int_equal(s.exit.steps[3].level, 0);
	assert_string_equal(ft_seq_signal_str(&s.signals[0], buf,
	    sizeof(buf)), "dtr");
	assert_string_equal(ft_seq_signal_str(&s.signals[1], buf,
	    sizeof(buf)), "GPIO17");
	assert_string_equal(ft_seq_signal_str(&s.signals[2], buf,
	    sizeof(buf)), "gpiochip0:17");
	assert_string_equal(ft_seq_signal_str(&s.signals[3], buf,
	    sizeof(buf)), "17");
}

struct bad_case {
	const char *text;
	unsigned col;
	const char *says;
};

static void
test_errors(void **state)
{
	static char many_signals[128], many_steps[512], long_name[64];
	const struct bad_case cases[] = {
		{ "dtr,x!", 6, "'!' is not a signal or separator" },
		{ "-", 1, "'-' must be followed by a signal" },
		{ "dtr-", 4, "'-' must be followed by a signal" },
		{ "-,dtr", 1, "'-' must be followed by a signal" },
		{ "-&dtr", 1, "'-' must be followed by a signal" },
		{ "--dtr", 1, "'-' must be followed by a signal" },
		{ "dtr-:rts", 4, "'-' must be followed by a signal" },
		{ "-brk", 1, "brk sends a BREAK" },
		{ "dtr:rts:dtr", 8, "a second ':'" },
		{ "gpiochip1", 10, "gpiochip1 needs a line number" },
		{ "gpiochip1:", 10, "write gpiochip1:LINE" },
		{ "rts&gpiochip1:x", 14, "gpiochip1 needs a line number" },
		{ "dtr rts", 4, "blank" },
		{ "70000", 1, "larger than 65535" },
		{ "dtr,gpiochip1:99999", 15, "larger than 65535" },
		{ "dtr\x01", 4, "byte 0x01" },
		{ "DTR#", 4, "'#' is not a signal" },
		{ many_signals, 0, "more than 16 different signals" },
		{ many_steps, 257, "more than 64 steps in the entry" },
		{ long_name, 5, "longer than 31 characters" },
	};
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_seq s;
	size_t i, off = 0;
	char col[32];

	(void)state;
	for (i = 0; i <= 16; i++)
		off += (size_t)snprintf(many_signals + off,
		    sizeof(many_signals) - off, "%s%zu", i ? "&" : "", i);
	for (i = 0; i < 65; i++)
		memcpy(many_steps + 4 * i, "dtr&", 4);
	many_steps[4 * 65 - 1] = '\0';
	memcpy(long_name, "dtr&", 4);
	memset(long_name + 4, 'N', 32);
	long_name[36] = '\0';
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned want = cases[i].col;

		/* The 17th signal, "16", starts after 16 "N&" groups. */
		if (cases[i].text == many_signals)
			want = (unsigned)(strrchr(many_signals, '&') -
			    many_signals) + 2;
		assert_int_equal(ft_seq_parse(ctx, cases[i].text, &s),
		    FT_E_INVALID);
		if (s.err_col != want)
			fail_msg("'%s': column %u, wanted %u (%s)",
			    cases[i].text, s.err_col, want,
			    ft_errdetail(ctx));
		snprintf(col, sizeof(col), "column %u: ", want);
		if (strstr(ft_errdetail(ctx), col) == NULL ||
		    strstr(ft_errdetail(ctx), cases[i].says) == NULL)
			fail_msg("'%s': detail '%s' lacks '%s%s'",
			    cases[i].text, ft_errdetail(ctx), col,
			    cases[i].says);
	}
	assert_int_equal(ft_seq_parse(ctx, NULL, &s), FT_E_INVALID);
	ft_ctx_free(ctx);
}

static void
test_presets(void **state)
{
	static const struct want dr_entry[] = {
		SET(0, 1, 1), SET(1, 0, 5), WAIT(100, 9), SET(0, 0, 10),
	};
	static const struct want dr_exit[] = {
		SET(0, 1, 15), SET(1, 1, 19), WAIT(100, 22), SET(0, 0, 23),
		WAIT(100, 27), SET(1, 0, 28),
	};
	static const struct want dn_entry[] = {
		SET(0, 1, 1), SET(1, 1, 5), WAIT(100, 8), SET(0, 0, 9),
	};
	static const struct want dn_exit[] = {
		SET(0, 1, 14), SET(1, 0, 18), WAIT(100, 22), SET(0, 0, 23),
	};
	static const struct want mb_entry[] = {
		SET(0, 0, 1), WAIT(1000, 5), SET(0, 1, 15),
	};
	static const struct want n4_entry[] = {
		SET(0, 0, 1), SET(1, 1, 15), WAIT(500, 27), SET(0, 1, 32),
	};
	static const struct want n4_exit[] = {
		SET(1, 0, 45), SET(0, 0, 59), WAIT(500, 72), SET(0, 1, 77),
	};
	const struct ft_seq_preset *p;
	struct ft_seq s;
	size_t i;

	(void)state;
	assert_int_equal(ft_seq_preset_count(), 4);
	assert_null(ft_seq_preset_at(4));
	assert_null(ft_seq_preset_find("nope"));
	assert_null(ft_seq_preset_find(NULL));
	for (i = 0; i < ft_seq_preset_count(); i++) {
		p = ft_seq_preset_at(i);
		assert_non_null(p);
		assert_ptr_equal(ft_seq_preset_find(p->name), p);
		assert_int_equal(ft_seq_parse(NULL, p->seq, &s), 0);
		assert_true(strlen(p->wiring) > 0);
	}

	p = ft_seq_preset_find("dtr-rts");
	assert_non_null(p);
	assert_string_equal(p->seq, "dtr&-rts,-dtr:dtr&rts,-dtr,-rts");
	assert_int_equal(ft_seq_parse(NULL, p->seq, &s), 0);
	check_signal(&s, 0, FT_SIG_DTR, 0, 0, NULL);
	check_signal(&s, 1, FT_SIG_RTS, 0, 0, NULL);
	check_half(&s.entry, dr_entry, 4);
	check_half(&s.exit, dr_exit, 6);

	p = ft_seq_preset_find("dtr-nrts");
	assert_non_null(p);
	assert_string_equal(p->seq, "dtr&rts,-dtr:dtr&-rts,-dtr");
	assert_int_equal(ft_seq_parse(NULL, p->seq, &s), 0);
	check_half(&s.entry, dn_entry, 4);
	check_half(&s.exit, dn_exit, 4);

	p = ft_seq_preset_find("makerbase");
	assert_non_null(p);
	assert_string_equal(p->seq, "-dtr,,,,,,,,,,dtr");
	assert_int_equal(ft_seq_parse(NULL, p->seq, &s), 0);
	check_signal(&s, 0, FT_SIG_DTR, 0, 0, NULL);
	check_half(&s.entry, mb_entry, 3);
	assert_false(s.has_exit);
	assert_int_equal(s.exit.nsteps, 0);

	p = ft_seq_preset_find("neptune4");
	assert_non_null(p);
	assert_int_equal(ft_seq_parse(NULL, p->seq, &s), 0);
	assert_int_equal(s.nsignals, 2);
	check_signal(&s, 0, FT_SIG_CHIP_LINE, 1, 15, NULL);
	check_signal(&s, 1, FT_SIG_CHIP_LINE, 1, 14, NULL);
	check_half(&s.entry, n4_entry, 4);
	check_half(&s.exit, n4_exit, 4);
}

/* A scratch directory for sysfs and /dev stand-ins. */
static void
scratch(char *dir, size_t len)
{
	snprintf(dir, len, "/tmp/ft-seq-XXXXXX");
	assert_non_null(mkdtemp(dir));
}

static void
put(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
get(const char *dir, const char *name, char *buf, size_t len)
{
	char path[256];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

static void
rm_tree(const char *dir)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

/*
 * sysfs numbers: an exported input line is driven through direction
 * ("high"/"low"), put back to "in" at the end, and not unexported since
 * it was exported before us.
 */
static void
test_sysfs_gpio(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_gpio_paths paths;
	struct ft_entry *e;
	char dir[64], sub[96], buf[32];
	uint64_t t0, us;

	(void)state;
	scratch(dir, sizeof(dir));
	snprintf(sub, sizeof(sub), "%s/gpio5", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	put(dir, "gpio5/direction", "in\n");
	put(dir, "export", "");
	put(dir, "unexport", "");
	paths.sysfs = dir;
	paths.dev = dir;

	assert_int_equal(ft_entry_prepare(ctx, "-5,,5:-5", &paths, &e), 0);
	/* Claiming drives nothing. */
	get(dir, "gpio5/direction", buf, sizeof(buf));
	assert_string_equal(buf, "in\n");
	t0 = ft_now_us();
	assert_int_equal(ft_entry_run_entry(e, NULL), 0);
	us = ft_now_us() - t0;
	assert_true(us >= 200000 && us < 260000);
	get(dir, "gpio5/direction", buf, sizeof(buf));
	assert_string_equal(buf, "high");
	assert_true(ft_entry_has_exit(e));
	assert_false(ft_entry_exit_done(e));
	assert_int_equal(ft_entry_run_exit(e, NULL), 0);
	get(dir, "gpio5/direction", buf, sizeof(buf));
	assert_string_equal(buf, "low");
	/* Once only. */
	put(dir, "gpio5/direction", "marker");
	assert_int_equal(ft_entry_run_exit(e, NULL), 0);
	get(dir, "gpio5/direction", buf, sizeof(buf));
	assert_string_equal(buf, "marker");
	ft_entry_free(e);
	get(dir, "gpio5/direction", buf, sizeof(buf));
	assert_string_equal(buf, "in");
	get(dir, "unexport", buf, sizeof(buf));
	assert_string_equal(buf, "");
	rm_tree(dir);
	ft_ctx_free(ctx);
}

/*
 * A number not yet exported is written to export; when its directory
 * never appears the claim fails and what we exported is unexported.
 */
static void
test_sysfs_export_fails(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_gpio_paths paths;
	struct ft_entry *e;
	char dir[64], buf[32];

	(void)state;
	scratch(dir, sizeof(dir));
	put(dir, "export", "");
	put(dir, "unexport", "");
	paths.sysfs = dir;
	paths.dev = dir;
	assert_int_equal(ft_entry_prepare(ctx, "7", &paths, &e), FT_E_IO);
	assert_null(e);
	assert_non_null(strstr(ft_errdetail(ctx), "GPIO 7"));
	get(dir, "export", buf, sizeof(buf));
	assert_string_equal(buf, "7");
	get(dir, "unexport", buf, sizeof(buf));
	assert_string_equal(buf, "7");
	rm_tree(dir);
	ft_ctx_free(ctx);
}

/* No sysfs, no chip, no name: clear errors before any port is opened. */
static void
test_gpio_missing(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_gpio_paths paths;
	struct ft_entry *e;
	char dir[64], nosys[96];

	(void)state;
	scratch(dir, sizeof(dir));
	snprintf(nosys, sizeof(nosys), "%s/nothing", dir);
	paths.sysfs = nosys;
	paths.dev = dir;
	assert_int_equal(ft_entry_prepare(ctx, "dtr,17", &paths, &e),
	    FT_E_NOT_SUPPORTED);
	assert_non_null(strstr(ft_errdetail(ctx), "gpiochipN:LINE"));
	assert_int_equal(ft_entry_prepare(ctx, "gpiochip3:1", &paths, &e),
	    FT_E_NO_DEVICE);
	assert_non_null(strstr(ft_errdetail(ctx), "gpiochip3:1: no GPIO "
	    "chip"));
	assert_non_null(strstr(ft_errdetail(ctx), "chips here: none"));
	assert_int_equal(ft_entry_prepare(ctx, "RESET", &paths, &e),
	    FT_E_NO_DEVICE);
	assert_non_null(strstr(ft_errdetail(ctx), "RESET: no GPIO line"));
	assert_int_equal(ft_entry_prepare(ctx, "dtr:x!", &paths, &e),
	    FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "column 6"));
	/* Modem lines alone need no GPIO at all. */
	assert_int_equal(ft_entry_prepare(ctx, "dtr,brk:rts", &paths, &e), 0);
	ft_entry_free(e);
	rm_tree(dir);
	ft_ctx_free(ctx);
}

/* On a pty: no modem lines, so dtr fails naming its column; brk works. */
static void
test_run_on_pty(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_serial_cfg cfg = { 0, 0, 'n', 0 };
	struct ft_serial *port;
	struct ft_entry *e;
	uint64_t t0, us;
	int master;

	(void)state;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	assert_int_equal(ft_serial_open(ctx, ptsname(master), &cfg, &port),
	    0);
	assert_int_equal(ft_entry_prepare(ctx, "brk,:,,dtr", NULL, &e), 0);
	t0 = ft_now_us();
	assert_int_equal(ft_entry_run_entry(e, port), 0);
	us = ft_now_us() - t0;
	/* BREAK for FT_SEQ_BREAK_MS, then one comma. */
	assert_true(us >= 200000 && us < 260000);
	assert_int_equal(ft_entry_run_exit(e, port), FT_E_NOT_SUPPORTED);
	assert_non_null(strstr(ft_errdetail(ctx), "exit sequence, column "
	    "8: "));
	assert_non_null(strstr(ft_errdetail(ctx), "no modem lines"));
	assert_true(ft_entry_exit_done(e));
	ft_entry_free(e);
	ft_serial_close(port);
	close(master);
	ft_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_neptune4_guide),
		cmocka_unit_test(test_token_kinds),
		cmocka_unit_test(test_empty_halves),
		cmocka_unit_test(test_waits_and_ampersand),
		cmocka_unit_test(test_stm32flash_compat),
		cmocka_unit_test(test_chip_line_colon),
		cmocka_unit_test(test_signal_table),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_presets),
		cmocka_unit_test(test_sysfs_gpio),
		cmocka_unit_test(test_sysfs_export_fails),
		cmocka_unit_test(test_gpio_missing),
		cmocka_unit_test(test_run_on_pty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
