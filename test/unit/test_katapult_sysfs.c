/*
 * test_katapult_sysfs.c - the Katapult wing's use of sysfs, on a fake
 * tree: --list's USB devices (Klipper 1d50:614e, Katapult 1d50:6177),
 * and after the 1200-baud touch the device found again on the same USB
 * port: as the ROM DFU bootloader (0483:df11), as Katapult on a new tty
 * (which must answer CONNECT: a child plays it on a pty), or not at all
 * within the wait.  The "re-enumeration" is a child process rewriting
 * the fake tree while ft_katapult_request() waits.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "katapult/proto.h"

#define ROOT_TEMPLATE "/tmp/ft-kpsys-XXXXXX"
static char root[sizeof(ROOT_TEMPLATE)];
static char sys_dir[300], dev_dir[300];
static int master[2] = { -1, -1 };

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
	char path[512], tmp[520];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, path), 0);
}

static void
link_to(const char *target, const char *rel)
{
	char path[1100];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

/* A pty whose slave stands for /dev/NAME; its master in master[k]. */
static void
fake_tty(int k, const char *name)
{
	char rel[64];

	master[k] = posix_openpt(O_RDWR | O_NOCTTY);
	assert_true(master[k] >= 0);
	assert_int_equal(grantpt(master[k]), 0);
	assert_int_equal(unlockpt(master[k]), 0);
	snprintf(rel, sizeof(rel), "dev/%s", name);
	link_to(ptsname(master[k]), rel);
}

/* A USB CDC device at usb (1-1.N) with its tty, as the kernel shows it. */
static void
usb_device(const char *usb, const char *pid, const char *tty)
{
	char d[256], rel[512], target[512];

	snprintf(d, sizeof(d), "sys/devices/usb1/1-1/%s", usb);
	snprintf(rel, sizeof(rel), "%s/%s:1.0/tty/%s", d, usb, tty);
	mk(rel);
	snprintf(rel, sizeof(rel), "%s/idVendor", d);
	put(rel, "1d50\n");
	snprintf(rel, sizeof(rel), "%s/idProduct", d);
	put(rel, pid);
	snprintf(rel, sizeof(rel), "%s/serial", d);
	put(rel, "42003D000D514B4E31373520\n");
	snprintf(rel, sizeof(rel), "%s/product", d);
	put(rel, "stm32f042x6\n");
	snprintf(target, sizeof(target), "../../../%s:1.0", usb);
	snprintf(rel, sizeof(rel), "%s/%s:1.0/tty/%s/device", d, usb, tty);
	link_to(target, rel);
	snprintf(target, sizeof(target), "../../devices/usb1/1-1/%s/%s:1.0/"
	    "tty/%s", usb, usb, tty);
	snprintf(rel, sizeof(rel), "sys/class/tty/%s", tty);
	link_to(target, rel);
	snprintf(target, sizeof(target), "../../../devices/usb1/1-1/%s", usb);
	snprintf(rel, sizeof(rel), "sys/bus/usb/devices/%s", usb);
	link_to(target, rel);
}

static int
setup(void **state)
{
	(void)state;
	memcpy(root, ROOT_TEMPLATE, sizeof(root));
	if (mkdtemp(root) == NULL)
		return -1;
	mk("sys/class/tty");
	mk("sys/bus/usb/devices");
	mk("dev");
	snprintf(sys_dir, sizeof(sys_dir), "%s/sys", root);
	snprintf(dev_dir, sizeof(dev_dir), "%s/dev", root);
	usb_device("1-1.3", "614e\n", "ttyACM0");
	usb_device("1-1.4", "6177\n", "ttyACM1");
	fake_tty(0, "ttyACM0");
	fake_tty(1, "ttyACM1");
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	close(master[0]);
	close(master[1]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void
opts_for(struct ft_open_opts *o, const char *port)
{
	static char path[400];

	memset(o, 0, sizeof(*o));
	o->transport = FT_TRANSPORT_KATAPULT;
	snprintf(path, sizeof(path), "%s/%s", dev_dir, port);
	o->port = path;
	o->kp.sysfs_root = sys_dir;
	o->kp.dev_root = dev_dir;
	o->kp.wait_ms = 3000;
}

static void
test_list_usb(void **state)
{
	struct ft_open_opts o;
	struct ft_katapult_entry *e = NULL;
	struct ft_ctx *ctx = ft_ctx_new();
	size_t n = 0;

	(void)state;
	opts_for(&o, "ttyACM0");
	assert_int_equal(ft_katapult_list(ctx, &o, &e, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(e[0].app, FT_KP_APP_KLIPPER);
	assert_string_equal(e[0].port, "/dev/ttyACM0");
	assert_string_equal(e[0].usb_path, "1-1.3");
	assert_string_equal(e[0].mcu, "stm32f042x6");
	assert_int_equal(e[1].app, FT_KP_APP_KATAPULT);
	assert_string_equal(e[1].port, "/dev/ttyACM1");
	assert_false(e[1].can);
	free(e);
	ft_ctx_free(ctx);
}

/* The device at 1-1.3 leaves and comes back as pid, after ms. */
static pid_t
reenumerate(const char *vid, const char *pid, unsigned ms, int katapult)
{
	pid_t p = fork();

	assert_true(p >= 0);
	if (p != 0)
		return p;
	usleep(ms * 1000);
	put("sys/devices/usb1/1-1/1-1.3/idVendor", vid);
	put("sys/devices/usb1/1-1/1-1.3/idProduct", pid);
	if (katapult) {
		uint8_t in[64], out[128], payload[64];
		size_t n, got = 0;
		ssize_t r;

		/* Katapult on the same interface's tty: answer CONNECT. */
		/* Until the host opens the tty again, the master reads EIO. */
		for (n = 0; got < 16 && n < 400; n++) {
			r = read(master[0], in, sizeof(in));
			if (r > 0)
				got += (size_t)r;
			else
				usleep(10 * 1000);
		}
		memset(payload, 0, sizeof(payload));
		ft_put_le32(payload, FT_KP_CONNECT);
		ft_put_le32(payload + 4, 0x00010100);
		ft_put_le32(payload + 8, 0x08002000);
		ft_put_le32(payload + 12, 64);
		memcpy(payload + 16, "stm32f042x6", 11);
		n = ft_kp_frame(out, FT_KP_ERROR, NULL, 0);
		n += ft_kp_frame(out + n, FT_KP_ACK, payload, 28);
		if (write(master[0], out, n) != (ssize_t)n)
			_exit(1);
		usleep(500 * 1000);
	}
	_exit(0);
}

static void
test_request_brings_dfu(void **state)
{
	struct ft_open_opts o;
	struct ft_katapult_arrival a;
	struct ft_ctx *ctx = ft_ctx_new();
	pid_t child;
	int st;

	(void)state;
	opts_for(&o, "ttyACM0");
	child = reenumerate("0483\n", "df11\n", 300, 0);
	assert_int_equal(ft_katapult_request(ctx, &o, &a), 0);
	waitpid(child, &st, 0);
	assert_int_equal(a.found, FT_KP_FOUND_DFU);
	assert_int_equal(a.requested, 1);
	assert_int_equal(a.usb, 1);
	assert_string_equal(a.usb_path, "1-1.3");
	assert_int_equal(a.vid, 0x0483);
	assert_int_equal(a.pid, 0xdf11);
	ft_ctx_free(ctx);
}

static void
test_request_brings_katapult(void **state)
{
	struct ft_open_opts o;
	struct ft_katapult_arrival a;
	struct ft_ctx *ctx = ft_ctx_new();
	char want[400];
	pid_t child;
	int st;

	(void)state;
	opts_for(&o, "ttyACM0");
	child = reenumerate("1d50\n", "6177\n", 300, 1);
	assert_int_equal(ft_katapult_request(ctx, &o, &a), 0);
	waitpid(child, &st, 0);
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_int_equal(a.found, FT_KP_FOUND_KATAPULT);
	assert_int_equal(a.requested, 1);
	assert_string_equal(a.usb_path, "1-1.3");
	snprintf(want, sizeof(want), "%s/ttyACM0", dev_dir);
	assert_string_equal(a.port, want);
	ft_ctx_free(ctx);
}

static void
test_request_nothing_comes(void **state)
{
	struct ft_open_opts o;
	struct ft_katapult_arrival a;
	struct ft_ctx *ctx = ft_ctx_new();

	(void)state;
	opts_for(&o, "ttyACM0");
	o.kp.wait_ms = 400;
	assert_int_equal(ft_katapult_request(ctx, &o, &a), 0);
	assert_int_equal(a.found, FT_KP_FOUND_NOTHING);
	assert_int_equal(a.requested, 1);
	ft_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_list_usb, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_request_brings_dfu, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_request_brings_katapult,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_nothing_comes,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
