/*
 * Unit test for the serial-port listing (lib/ports.c) on a fake sysfs and
 * /dev tree: a USB FTDI adapter with its by-id link, a real 8250 UART, an
 * 8250 slot with no UART (type 0), and a virtual console.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "serial.h"

static char root[] = "/tmp/ft-ports-XXXXXX";

static void
mk(const char *rel)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; *p != '\0'; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	mkdir(path, 0755);
}

static void
put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
link_to(const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(symlink(target, path), 0);
}

static int
setup(void **state)
{
	(void)state;
	if (mkdtemp(root) == NULL)
		return -1;
	/* A USB FTDI adapter on bus 1, port 1.3. */
	mk("sys/devices/usb1/1-1/1-1.3/1-1.3:1.0/ttyUSB0/tty/ttyUSB0");
	put("sys/devices/usb1/1-1/1-1.3/idVendor", "0403\n");
	put("sys/devices/usb1/1-1/1-1.3/idProduct", "6001\n");
	put("sys/devices/usb1/1-1/1-1.3/serial", "A10KZP3X\n");
	put("sys/devices/usb1/1-1/1-1.3/product", "FT232R USB UART\n");
	mk("sys/bus/usb-serial/drivers/ftdi_sio");
	link_to("../../../../bus/usb-serial/drivers/ftdi_sio",
	    "sys/devices/usb1/1-1/1-1.3/1-1.3:1.0/ttyUSB0/driver");
	mk("sys/class/tty");
	link_to("../../devices/usb1/1-1/1-1.3/1-1.3:1.0/ttyUSB0/tty/ttyUSB0",
	    "sys/class/tty/ttyUSB0");
	link_to("../../../ttyUSB0", "sys/devices/usb1/1-1/1-1.3/1-1.3:1.0/"
	    "ttyUSB0/tty/ttyUSB0/device");
	/* A real UART and an empty 8250 slot. */
	mk("sys/devices/platform/serial/tty/ttyS0");
	mk("sys/devices/platform/serial/tty/ttyS1");
	put("sys/devices/platform/serial/tty/ttyS0/type", "4\n");
	put("sys/devices/platform/serial/tty/ttyS1/type", "0\n");
	link_to("../..", "sys/devices/platform/serial/tty/ttyS0/device");
	link_to("../..", "sys/devices/platform/serial/tty/ttyS1/device");
	link_to("../../devices/platform/serial/tty/ttyS0",
	    "sys/class/tty/ttyS0");
	link_to("../../devices/platform/serial/tty/ttyS1",
	    "sys/class/tty/ttyS1");
	/* A virtual console: no device behind it. */
	mk("sys/devices/virtual/tty/tty0");
	link_to("../../devices/virtual/tty/tty0", "sys/class/tty/tty0");
	/* udev's stable name. */
	mk("dev/serial/by-id");
	link_to("../../ttyUSB0",
	    "dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10KZP3X-if00-port0");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void
test_list(void **state)
{
	char sys[256], dev[256];
	struct ft_port_entry *e = NULL;
	size_t n = 0;

	(void)state;
	snprintf(sys, sizeof(sys), "%s/sys", root);
	snprintf(dev, sizeof(dev), "%s/dev", root);
	assert_int_equal(ft_serial_list_at(NULL, sys, dev, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_string_equal(e[0].path, "/dev/ttyS0");
	assert_false(e[0].usb);
	assert_string_equal(e[0].by_id, "");
	assert_string_equal(e[1].path, "/dev/ttyUSB0");
	assert_string_equal(e[1].driver, "ftdi_sio");
	assert_true(e[1].usb);
	assert_int_equal(e[1].vid, 0x0403);
	assert_int_equal(e[1].pid, 0x6001);
	assert_string_equal(e[1].serial, "A10KZP3X");
	assert_string_equal(e[1].product, "FT232R USB UART");
	assert_string_equal(e[1].usb_path, "1-1.3");
	assert_string_equal(e[1].by_id, "/dev/serial/by-id/"
	    "usb-FTDI_FT232R_USB_UART_A10KZP3X-if00-port0");
	free(e);
}

static void
test_no_sysfs(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_port_entry *e = NULL;
	size_t n = 7;

	(void)state;
	assert_int_equal(ft_serial_list_at(ctx, "/nonexistent", "/dev", &e,
	    &n), FT_E_IO);
	assert_int_equal(n, 0);
	assert_null(e);
	assert_non_null(strstr(ft_errdetail(ctx), "/nonexistent/class/tty"));
	ft_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_no_sysfs),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
