/*
 * test_katapult_sysfs.c - the Katapult wing's use of sysfs, on a fake
 * tree: --list's USB devices (Klipper 1d50:614e, Katapult 1d50:6177),
 * and after the 1200-baud touch the device found again on the same USB
 * port: as the ROM DFU bootloader (0483:df11), as Katapult on a new tty
 * (which must answer CONNECT: a child plays it on a pty), or not at all
 * within the wait.  The "re-enumeration" is a child process rewriting
 * the fake tree while ft_katapult_request() waits.
 *
 * USB-to-CAN bridges: can0's sysfs device is a Klipper gs_usb device
 * (1d50:606f) on USB 1-1.5; a child plays the CAN bus on a unix socket
 * ("unix:ROOT/can0" stands for can0) and, on the bootloader request for
 * the bridge's own UUID, leaves (socket and tree gone) and comes back on
 * 1-1.5 as Katapult (answering CONNECT on a pty), as ROM DFU, or not at
 * all.  A UUID that is not the bridge's takes the normal CAN path; a
 * bridge whose serial is not a chip id is followed when it leaves.
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
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/can.h>
#include <cmocka.h>

#include "fake_tree.h"

#include "katapult/proto.h"

static char sys_dir[300], dev_dir[300];
static int master[3] = { -1, -1, -1 };

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
	tree_link(ptsname(master[k]), rel);
}

/* A USB CDC device at usb (1-1.N) with its tty, as the kernel shows it. */
static void
usb_device(const char *usb, const char *pid, const char *tty)
{
	char d[256], rel[512], target[512];

	snprintf(d, sizeof(d), "sys/devices/usb1/1-1/%s", usb);
	snprintf(rel, sizeof(rel), "%s/%s:1.0/tty/%s", d, usb, tty);
	tree_mkdir(rel);
	snprintf(rel, sizeof(rel), "%s/idVendor", d);
	tree_put(rel, "1d50\n");
	snprintf(rel, sizeof(rel), "%s/idProduct", d);
	tree_put(rel, pid);
	snprintf(rel, sizeof(rel), "%s/serial", d);
	tree_put(rel, "42003D000D514B4E31373520\n");
	snprintf(rel, sizeof(rel), "%s/product", d);
	tree_put(rel, "stm32f042x6\n");
	snprintf(target, sizeof(target), "../../../%s:1.0", usb);
	snprintf(rel, sizeof(rel), "%s/%s:1.0/tty/%s/device", d, usb, tty);
	tree_link(target, rel);
	snprintf(target, sizeof(target), "../../devices/usb1/1-1/%s/%s:1.0/"
	    "tty/%s", usb, usb, tty);
	snprintf(rel, sizeof(rel), "sys/class/tty/%s", tty);
	tree_link(target, rel);
	snprintf(target, sizeof(target), "../../../devices/usb1/1-1/%s", usb);
	snprintf(rel, sizeof(rel), "sys/bus/usb/devices/%s", usb);
	tree_link(target, rel);
}

static int
setup(void **state)
{
	(void)state;
	if (tree_create("/tmp/ft-kpsys-XXXXXX") != 0)
		return -1;
	tree_mkdir("sys/class/tty");
	tree_mkdir("sys/bus/usb/devices");
	tree_mkdir("dev");
	snprintf(sys_dir, sizeof(sys_dir), "%s/sys", tree_root);
	snprintf(dev_dir, sizeof(dev_dir), "%s/dev", tree_root);
	usb_device("1-1.3", "614e\n", "ttyACM0");
	usb_device("1-1.4", "6177\n", "ttyACM1");
	fake_tty(0, "ttyACM0");
	fake_tty(1, "ttyACM1");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	close(master[0]);
	close(master[1]);
	if (master[2] >= 0)
		close(master[2]);
	master[2] = -1;
	return tree_remove();
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

/*
 * Katapult on the pty behind master[k]: answer the prime (ERROR) and
 * CONNECT.  Until the host opens the tty again, the master reads EIO.
 */
static int
answer_connect(int k)
{
	uint8_t in[64], out[128], payload[64];
	size_t n, got = 0;
	ssize_t r;

	for (n = 0; got < 16 && n < 400; n++) {
		r = read(master[k], in, sizeof(in));
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
	if (write(master[k], out, n) != (ssize_t)n)
		return -1;
	usleep(500 * 1000);
	return 0;
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
	tree_put("sys/devices/usb1/1-1/1-1.3/idVendor", vid);
	tree_put("sys/devices/usb1/1-1/1-1.3/idProduct", pid);
	/* Katapult on the same interface's tty: answer CONNECT. */
	if (katapult && answer_connect(0) != 0)
		_exit(1);
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

/*
 * The bridge: a Klipper gs_usb device on USB 1-1.5 holding can0, with
 * serial as its USB serial.
 */
#define BRIDGE_USB "1-1.5"
#define BRIDGE_DIR "sys/devices/usb1/1-1/" BRIDGE_USB
#define BRIDGE_WAIT_MS 1500u
#define BUS_IDLE_MS 6000

enum bridge_mode {
	BACK_KATAPULT,		/* back as Katapult on ttyACM2 */
	BACK_DFU,		/* back as the ROM DFU bootloader */
	BACK_NEVER,		/* gone for good */
};

/* Shorter than sun_path: the tree's root is a short /tmp name. */
static char sock_path[100];

static void
bridge_tree(const char *serial)
{
	char text[80];

	tree_mkdir(BRIDGE_DIR "/" BRIDGE_USB ":1.0/net/can0");
	tree_put(BRIDGE_DIR "/idVendor", "1d50\n");
	tree_put(BRIDGE_DIR "/idProduct", "606f\n");
	tree_put(BRIDGE_DIR "/manufacturer", "Klipper\n");
	tree_put(BRIDGE_DIR "/product", "stm32g0b1xx\n");
	snprintf(text, sizeof(text), "%s\n", serial);
	tree_put(BRIDGE_DIR "/serial", text);
	tree_link("../../../" BRIDGE_USB ":1.0",
	    BRIDGE_DIR "/" BRIDGE_USB ":1.0/net/can0/device");
	tree_mkdir("sys/class/net");
	tree_link("../../devices/usb1/1-1/" BRIDGE_USB "/" BRIDGE_USB
	    ":1.0/net/can0", "sys/class/net/can0");
	tree_link("../../../devices/usb1/1-1/" BRIDGE_USB,
	    "sys/bus/usb/devices/" BRIDGE_USB);
}

/* The bus: a unix datagram socket at ROOT/can0, as katapult-sim's. */
static int
bus_socket(void)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sock_path, sizeof(sock_path), "%s/can0", tree_root);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	unlink(sock_path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* The bridge leaves USB: its interface, its socket and its tree go. */
static void
bridge_leaves(int fd)
{
	char cmd[1400];

	close(fd);
	unlink(sock_path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s/sys/class/net/can0' '%s/"
	    BRIDGE_DIR "' '%s/sys/bus/usb/devices/" BRIDGE_USB "'", tree_root,
	    tree_root, tree_root);
	if (system(cmd) != 0)
		_exit(3);
}

/*
 * The child: the bus and the bridge's node.  Every admin frame's first
 * byte goes to ROOT/bus.log; the request for own_uuid makes the bridge
 * leave and come back (mode) after back_ms.
 */
static pid_t
bridge_child(int fd, const uint8_t *own_uuid, enum bridge_mode mode,
    unsigned back_ms)
{
	char logpath[400];
	pid_t p = fork();

	assert_true(p >= 0);
	if (p != 0) {
		close(fd);
		return p;
	}
	snprintf(logpath, sizeof(logpath), "%s/bus.log", tree_root);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		struct can_frame cf;
		FILE *log;

		if (poll(&pfd, 1, BUS_IDLE_MS) <= 0)
			_exit(0);
		if (read(fd, &cf, sizeof(cf)) != (ssize_t)sizeof(cf) ||
		    cf.can_id != FT_KP_CAN_ADMIN_ID || cf.can_dlc == 0)
			continue;
		log = fopen(logpath, "a");
		if (log != NULL) {
			fprintf(log, "%02x\n", cf.data[0]);
			fclose(log);
		}
		if (cf.data[0] != FT_KP_CAN_REQUEST_BOOTLOADER ||
		    cf.can_dlc < 7 || memcmp(cf.data + 1, own_uuid, 6) != 0)
			continue;
		bridge_leaves(fd);
		usleep(back_ms * 1000);
		if (mode == BACK_KATAPULT) {
			usb_device(BRIDGE_USB, "6177\n", "ttyACM2");
			_exit(answer_connect(2) == 0 ? 0 : 1);
		}
		if (mode == BACK_DFU) {
			tree_mkdir(BRIDGE_DIR);
			tree_put(BRIDGE_DIR "/idVendor", "0483\n");
			tree_put(BRIDGE_DIR "/idProduct", "df11\n");
			tree_link("../../../devices/usb1/1-1/" BRIDGE_USB,
			    "sys/bus/usb/devices/" BRIDGE_USB);
		}
		_exit(0);
	}
}

static void
bridge_opts(struct ft_open_opts *o, const uint8_t *uuid)
{
	static char iface[420];

	memset(o, 0, sizeof(*o));
	o->transport = FT_TRANSPORT_KATAPULT;
	snprintf(iface, sizeof(iface), "unix:%s/can0", tree_root);
	o->kp.can_iface = iface;
	o->kp.has_uuid = 1;
	memcpy(o->kp.uuid, uuid, 6);
	o->kp.sysfs_root = sys_dir;
	o->kp.dev_root = dev_dir;
	o->kp.wait_ms = BRIDGE_WAIT_MS;
}

/* The admin messages the bus saw, as "11 02 " (hex, in order). */
static void
bus_log(char *out, size_t size)
{
	char path[400], line[16];
	FILE *f;
	size_t n = 0;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/bus.log", tree_root);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL && n + 4 < size) {
		line[strcspn(line, "\n")] = '\0';
		n += (size_t)snprintf(out + n, size - n, "%s ", line);
	}
	fclose(f);
}

static uint64_t
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char chip_serial[] = "2C00210012504E3638323620";
static const uint8_t other_uuid[6] = { 1, 2, 3, 4, 5, 6 };

/*
 * A bridge with serial on the bus whose own UUID is own (NULL: the one
 * the serial gives), ready to come back as mode; opts ask for ask (NULL:
 * the bridge's own).  Returns the child playing the bus.
 */
static pid_t
bridge_start(const char *serial, const uint8_t *own, const uint8_t *ask,
    enum bridge_mode mode, struct ft_open_opts *o)
{
	uint8_t uuid[6];

	if (own == NULL) {
		assert_int_equal(ft_kp_uuid_from_serial(serial, uuid), 0);
		own = uuid;
	}
	bridge_tree(serial);
	if (mode == BACK_KATAPULT && master[2] < 0)
		fake_tty(2, "ttyACM2");
	bridge_opts(o, ask != NULL ? ask : own);
	return bridge_child(bus_socket(), own, mode, mode == BACK_NEVER ? 0 :
	    200);
}

/* Wait for the child; it must have exited 0. */
static void
reap(pid_t child)
{
	int st;

	assert_int_equal(waitpid(child, &st, 0), child);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* The bridge is the node asked for: follow it to Katapult's tty. */
static void
test_bridge_katapult(void **state)
{
	struct ft_open_opts o;
	struct ft_katapult_arrival a;
	struct ft_ctx *ctx = ft_ctx_new();
	char want[400], seen[64];
	pid_t child;

	(void)state;
	child = bridge_start(chip_serial, NULL, NULL, BACK_KATAPULT, &o);
	assert_int_equal(ft_katapult_request(ctx, &o, &a), 0);
	reap(child);
	assert_int_equal(a.found, FT_KP_FOUND_KATAPULT);
	assert_int_equal(a.bridge, 1);
	assert_int_equal(a.requested, 1);
	assert_string_equal(a.usb_path, BRIDGE_USB);
	snprintf(want, sizeof(want), "%s/ttyACM2", dev_dir);
	assert_string_equal(a.port, want);
	/* Asked at once: no node id was handed out on the bus first. */
	bus_log(seen, sizeof(seen));
	assert_string_equal(seen, "02 ");
	ft_ctx_free(ctx);
}

/* Back as the ROM DFU bootloader: said, with the USB port. */
static void
test_bridge_dfu(void **state)
{
	struct ft_open_opts o;
	struct ft_katapult_arrival a;
	struct ft_dev *dev = NULL;
	struct ft_ctx *ctx = ft_ctx_new();
	pid_t child;

	(void)state;
	child = bridge_start(chip_serial, NULL, NULL, BACK_DFU, &o);
	assert_int_equal(ft_katapult_request(ctx, &o, &a), 0);
	reap(child);
	assert_int_equal(a.found, FT_KP_FOUND_DFU);
	assert_int_equal(a.bridge, 1);
	assert_string_equal(a.usb_path, BRIDGE_USB);
	/* ft_open() says what came, where, and what to do. */
	child = bridge_start(chip_serial, NULL, NULL, BACK_DFU, &o);
	assert_int_equal(ft_open(ctx, &o, &dev), FT_E_NO_DEVICE);
	reap(child);
	assert_non_null(strstr(ft_errdetail(ctx), "bridge came back as the "
	    "ROM DFU bootloader (0483:df11, USB " BRIDGE_USB ")"));
	assert_non_null(strstr(ft_errdetail(ctx), "--dfu --path "
	    BRIDGE_USB));
	ft_ctx_free(ctx);
}

/* Gone for good: a bounded wait, and a message naming the port. */
static void
test_bridge_never_back(void **state)
{
	struct ft_open_opts o;
	struct ft_dev *dev = NULL;
	struct ft_ctx *ctx = ft_ctx_new();
	uint64_t t0, took;
	pid_t child;

	(void)state;
	child = bridge_start(chip_serial, NULL, NULL, BACK_NEVER, &o);
	t0 = ms_now();
	assert_int_equal(ft_open(ctx, &o, &dev), FT_E_NO_DEVICE);
	took = ms_now() - t0;
	assert_true(took >= BRIDGE_WAIT_MS);
	assert_true(took < BRIDGE_WAIT_MS + 1000);
	reap(child);
	assert_non_null(strstr(ft_errdetail(ctx), "it left USB " BRIDGE_USB
	    " and nothing came back there within 1500 ms"));
	assert_non_null(strstr(ft_errdetail(ctx), "expected Katapult, "
	    "1d50:6177"));
	ft_ctx_free(ctx);
}

/*
 * Not the bridge's UUID: the normal CAN path (a node id handed out,
 * CONNECT, then the request), and the bridge stays.
 */
static void
test_bridge_other_uuid(void **state)
{
	struct ft_open_opts o;
	struct ft_dev *dev = NULL;
	struct ft_ctx *ctx = ft_ctx_new();
	char seen[64], path[400];
	pid_t child;

	(void)state;
	child = bridge_start(chip_serial, NULL, other_uuid, BACK_KATAPULT,
	    &o);
	assert_int_equal(ft_open(ctx, &o, &dev), FT_E_NO_DEVICE);
	assert_non_null(strstr(ft_errdetail(ctx), "no Katapult node with "
	    "UUID 010203040506 answered after the bootloader request"));
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	bus_log(seen, sizeof(seen));
	assert_true(strncmp(seen, "11 ", 3) == 0);
	assert_non_null(strstr(seen, "02 11 "));
	snprintf(path, sizeof(path), "%s/class/net/can0", sys_dir);
	assert_int_equal(access(path, F_OK), 0);
	ft_ctx_free(ctx);
}

/*
 * A bridge whose USB serial is not a chip id (Klipper's
 * USB_SERIAL_NUMBER, "12345"): the normal path first, and when the
 * bridge leaves USB right after the request, it is followed.
 */
static void
test_bridge_serial_not_chip_id(void **state)
{
	static const uint8_t own[6] = { 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6 };
	struct ft_open_opts o;
	struct ft_katapult_arrival a;
	struct ft_ctx *ctx = ft_ctx_new();
	uint8_t u[6];
	char seen[64];
	pid_t child;

	(void)state;
	assert_int_equal(ft_kp_uuid_from_serial("12345", u), -1);
	child = bridge_start("12345", own, NULL, BACK_KATAPULT, &o);
	assert_int_equal(ft_katapult_request(ctx, &o, &a), 0);
	reap(child);
	assert_int_equal(a.found, FT_KP_FOUND_KATAPULT);
	assert_int_equal(a.bridge, 1);
	assert_string_equal(a.usb_path, BRIDGE_USB);
	bus_log(seen, sizeof(seen));
	assert_string_equal(seen, "11 02 ");
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
		cmocka_unit_test_setup_teardown(test_bridge_katapult, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bridge_dfu, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bridge_never_back, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bridge_other_uuid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_bridge_serial_not_chip_id,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
