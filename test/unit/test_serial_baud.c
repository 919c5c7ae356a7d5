/*
 * test_serial_baud.c - lib/serial.c at rates without a Bnnn constant
 * (Katapult's 250000) on a pty: set through termios2, changed on the
 * open port, and the port's own rate put back at close, also when that
 * rate was itself a termios2 one.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <fcntl.h>
#include <unistd.h>
#include <cmocka.h>

#include "ft_int.h"
#include "serial.h"

static int master = -1;
static char slave[64];
static struct ft_ctx *ctx;

static int
setup(void **state)
{
	(void)state;
	master = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master >= 0);
	assert_int_equal(grantpt(master), 0);
	assert_int_equal(unlockpt(master), 0);
	ft_strlcpy(slave, ptsname(master), sizeof(slave));
	ctx = ft_ctx_new();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	close(master);
	ft_ctx_free(ctx);
	return 0;
}

/* The slave's rate as the master sees it (Linux answers for the slave). */
static unsigned
rate_seen(void)
{
	unsigned is, os;
	int custom;

	assert_int_equal(ft_tty_custom_get(master, &is, &os, &custom), 0);
	assert_int_equal(is, os);
	return os;
}

static void
test_custom_rate_and_restore(void **state)
{
	struct ft_serial_cfg cfg = { 250000, 8, 'n', 1 };
	struct ft_serial *s = NULL;

	(void)state;
	assert_int_equal(ft_serial_open(ctx, slave, &cfg, &s), 0);
	assert_int_equal(ft_serial_baud(s), 250000);
	assert_int_equal(rate_seen(), 250000);
	assert_int_equal(ft_serial_set_baud(s, 1200), 0);
	assert_int_equal(rate_seen(), 1200);
	assert_int_equal(ft_serial_set_baud(s, 500000), 0);
	assert_int_equal(rate_seen(), 500000);
	ft_serial_close(s);
	/* A new pty starts at 38400. */
	assert_int_equal(rate_seen(), 38400);
}

static void
test_restores_a_custom_rate(void **state)
{
	struct ft_serial_cfg cfg = { 115200, 8, 'n', 1 };
	struct ft_serial *s = NULL;

	(void)state;
	assert_int_equal(ft_tty_custom_set(master, 250000, 250000), 0);
	assert_int_equal(ft_serial_open(ctx, slave, &cfg, &s), 0);
	assert_int_equal(rate_seen(), 115200);
	ft_serial_close(s);
	assert_int_equal(rate_seen(), 250000);
}

static void
test_keep_settings(void **state)
{
	struct ft_serial_cfg cfg = { 250000, 8, 'n', 1 };
	struct ft_serial *s = NULL;

	(void)state;
	assert_int_equal(ft_serial_open(ctx, slave, &cfg, &s), 0);
	assert_int_equal(ft_serial_set_baud(s, 1200), 0);
	ft_serial_keep_settings(s);
	ft_serial_close(s);
	assert_int_equal(rate_seen(), 1200);
}

static void
test_silly_rate_refused(void **state)
{
	struct ft_serial_cfg cfg = { 20000000, 8, 'n', 1 };
	struct ft_serial *s = NULL;

	(void)state;
	assert_int_equal(ft_serial_open(ctx, slave, &cfg, &s), FT_E_INVALID);
	assert_null(s);
}

static void
test_read_some(void **state)
{
	struct ft_serial_cfg cfg = { 250000, 8, 'n', 1 };
	struct ft_serial *s = NULL;
	uint8_t buf[8];
	size_t got = 99;

	(void)state;
	assert_int_equal(ft_serial_open(ctx, slave, &cfg, &s), 0);
	assert_int_equal(ft_serial_read_some(s, buf, sizeof(buf), 20, &got),
	    FT_E_TIMEOUT);
	assert_int_equal(got, 0);
	assert_int_equal(write(master, "abc", 3), 3);
	assert_int_equal(ft_serial_read_some(s, buf, sizeof(buf), 1000, &got),
	    0);
	assert_int_equal(got, 3);
	assert_memory_equal(buf, "abc", 3);
	ft_serial_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_custom_rate_and_restore,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_restores_a_custom_rate,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_settings, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_silly_rate_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_some, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
