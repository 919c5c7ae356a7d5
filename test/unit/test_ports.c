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

#include "fake_tree.h"

#include "serial.h"

static int
setup(void **state)
{
	(void)state;
	if (tree_create("/tmp/ft-ports-XXXXXX") != 0)
		return -1;
	/* A USB FTDI adapter on bus 1, port 1.3. */
	tree_mkdir("sys/devices/usb1/1-1/1-1.3/1-1.3:1.0/ttyUSB0/tty/ttyUSB0");
	tree_put("sys/devices/usb1/1-1/1-1.3/idVendor", "0403\n");
	tree_put("sys/devices/usb1/1-1/1-1.3/idProduct", "6001\n");
	tree_put("sys/devices/usb1/1-1/1-1.3/serial", "A10KZP3X\n");
	tree_put("sys/devices/usb1/1-1/1-1.3/product", "FT232R USB UART\n");
	tree_mkdir("sys/bus/usb-serial/drivers/ftdi_sio");
	tree_link("../../../../bus/usb-serial/drivers/ftdi_sio",
	    "sys/devices/usb1/1-1/1-1.3/1-1.3:1.0/ttyUSB0/driver");
	tree_mkdir("sys/class/tty");
	tree_link("../../devices/usb1/1-1/1-1.3/1-1.3:1.0/ttyUSB0/tty/ttyUSB0",
	    "sys/class/tty/ttyUSB0");
	tree_link("../../../ttyUSB0", "sys/devices/usb1/1-1/1-1.3/1-1.3:1.0/"
	    "ttyUSB0/tty/ttyUSB0/device");
	/* A real UART and an empty 8250 slot. */
	tree_mkdir("sys/devices/platform/serial/tty/ttyS0");
	tree_mkdir("sys/devices/platform/serial/tty/ttyS1");
	tree_put("sys/devices/platform/serial/tty/ttyS0/type", "4\n");
	tree_put("sys/devices/platform/serial/tty/ttyS1/type", "0\n");
	tree_link("../..", "sys/devices/platform/serial/tty/ttyS0/device");
	tree_link("../..", "sys/devices/platform/serial/tty/ttyS1/device");
	tree_link("../../devices/platform/serial/tty/ttyS0",
	    "sys/class/tty/ttyS0");
	tree_link("../../devices/platform/serial/tty/ttyS1",
	    "sys/class/tty/ttyS1");
	/* A virtual console: no device behind it. */
	tree_mkdir("sys/devices/virtual/tty/tty0");
	tree_link("../../devices/virtual/tty/tty0", "sys/class/tty/tty0");
	/* udev's stable name. */
	tree_mkdir("dev/serial/by-id");
	tree_link("../../ttyUSB0",
	    "dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10KZP3X-if00-port0");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	return tree_remove();
}

static void
test_list(void **state)
{
	char sys[256], dev[256];
	struct ft_port_entry *e = NULL;
	size_t n = 0;

	(void)state;
	snprintf(sys, sizeof(sys), "%s/sys", tree_root);
	snprintf(dev, sizeof(dev), "%s/dev", tree_root);
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
