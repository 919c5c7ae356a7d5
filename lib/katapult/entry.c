/*
 * katapult/entry.c - reaching Katapult, from a running Klipper when need
 * be, as the first step of the same command (katapult.md 1.5):
 *  - USB CDC: the 1200-baud touch (DTR on, 1200 baud, DTR off, close;
 *    Klipper's usb_cdc.c check_reboot()), then the device re-enumerates
 *    on the same USB port: found through sysfs (the port's tty, or the
 *    ROM DFU bootloader's 0483:df11 when the build has no Katapult), or
 *    without sysfs (a pty) by the by-id name Katapult takes
 *    (usb-Klipper_* becomes usb-katapult_*) or the same path coming back;
 *  - UART: the 32-byte request Klipper's serial_irq.c looks for, at the
 *    link's baud, then Katapult on the same port;
 *  - CAN: REQUEST_BOOTLOADER with the node's UUID, then the node comes
 *    back in Katapult without an id; a USB-to-CAN bridge board comes
 *    back as a Katapult USB serial device instead, and the session goes
 *    on over that tty.
 *
 * Bridges (katapult.md 1.6, 1.7; Klipper src/generic/usb_canbus.c): a
 * Klipper USB-to-CAN bridge is the host's CAN adapter itself, a gs_usb
 * device 1d50:606f whose manufacturer is "Klipper" and whose serial is
 * its chip id in hex (usb_fill_serial()); its CAN UUID is the first 6
 * bytes of fasthash64 of that chip id (canserial_set_uuid()).  The
 * interface's sysfs device leads to it.  A request to its own UUID makes
 * it leave USB and come back on the same USB port as Katapult's CDC-ACM
 * tty (Katapult has no bridge mode), or as ROM DFU without Katapult.
 * Its serial tells beforehand whether the UUID is the bridge's; where
 * the serial is not a chip id (CONFIG_USB_SERIAL_NUMBER_CHIPID off),
 * the normal CAN path is taken, and a bridge that leaves USB right
 * after the request is followed all the same.
 *
 * Invariants: every wait has a bound (opts->kp.wait_ms, default
 * KP_REENUM_WAIT_MS); what is asked and what came is said at info
 * level; nothing is written to a port before it is known which
 * firmware is there, except Katapult's CONNECT (which Klipper takes as
 * garbage and answers with a NAK).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "katapult.h"

/*
 * How long a device may take to come back after a request: flashtool.py
 * polls 4 s, Klipper's flash_usb.py ~4 s, Beacon's tool 5 s; USB
 * enumeration and udev usually take under a second.
 */
#define KP_REENUM_WAIT_MS 5000u
#define KP_POLL_MS 50u
/* Katapult starts within milliseconds of the reset (--boot-ms 10). */
#define KP_BOOT_WAIT_MS 100u
/*
 * A bridge that takes a request resets at once and its USB device goes
 * (the hub reports the disconnect within a few hub polls); flashtool.py
 * sleeps 1 s after a CAN request, and first looks 0.5 s after one sent
 * to a bridge.
 */
#define KP_BRIDGE_LEAVE_MS 1000u
/* After a request over UART or CAN: CONNECT tried this long. */
#define KP_ANSWER_WAIT_MS 3000u
/* A new tty can refuse to open until udev is done with it. */
#define KP_TTY_OPEN_WAIT_MS 2000u
#define TOUCH_BAUD 1200u

#define USB_VID_OPENMOKO 0x1d50u
#define USB_PID_KATAPULT 0x6177u
#define USB_PID_KLIPPER 0x614eu
#define USB_PID_KLIPPER_CAN 0x606fu
#define USB_VID_ST 0x0483u
#define USB_PID_DFU 0xdf11u

#define BY_ID_KLIPPER "usb-Klipper_"
#define BY_ID_KATAPULT "usb-katapult_"
/* usb_canbus.c USB_STR_MANUFACTURER (candleLight shares 1d50:606f). */
#define BRIDGE_MANUFACTURER "Klipper"
#define UNIX_PREFIX "unix:"

/* What the host can tell about a tty before talking to it. */
struct port_facts {
	int usb;		/* a USB CDC device (sysfs or its name) */
	int sysfs;		/* sysfs knows its USB device */
	uint16_t vid, pid;
	char usb_path[32];
	int klipper;		/* Klipper runs there (USB ID or name) */
	int katapult;		/* Katapult runs there */
};

static const char *
sys_root(const struct ft_open_opts *o)
{
	return o->kp.sysfs_root != NULL ? o->kp.sysfs_root : "/sys";
}

static const char *
dev_root(const struct ft_open_opts *o)
{
	return o->kp.dev_root != NULL ? o->kp.dev_root : "/dev";
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/* The port's USB facts from sysfs, then from its name. */
static void
port_facts(struct ft_ctx *ctx, const struct ft_open_opts *o, const char *port,
    struct port_facts *f)
{
	struct ft_port_entry *list = NULL;
	char real[PATH_MAX];
	const char *name = base_name(port);
	size_t n = 0, i;

	memset(f, 0, sizeof(*f));
	if (realpath(port, real) != NULL &&
	    ft_serial_list_at(NULL, sys_root(o), dev_root(o), &list, &n) == 0)
		for (i = 0; i < n; i++)
			if (list[i].usb && (strcmp(base_name(list[i].path),
			    base_name(real)) == 0 ||
			    strcmp(base_name(list[i].path), name) == 0)) {
				f->usb = f->sysfs = 1;
				f->vid = list[i].vid;
				f->pid = list[i].pid;
				ft_strlcpy(f->usb_path, list[i].usb_path,
				    sizeof(f->usb_path));
			}
	free(list);
	if (!f->sysfs && (strncmp(name, BY_ID_KLIPPER,
	    strlen(BY_ID_KLIPPER)) == 0 || strncmp(name, BY_ID_KATAPULT,
	    strlen(BY_ID_KATAPULT)) == 0 || strncmp(name, "usb-", 4) == 0 ||
	    strncmp(name, "ttyACM", 6) == 0))
		f->usb = 1;
	f->klipper = f->sysfs ? f->vid == USB_VID_OPENMOKO &&
	    f->pid == USB_PID_KLIPPER : strncmp(name, BY_ID_KLIPPER,
	    strlen(BY_ID_KLIPPER)) == 0;
	f->katapult = f->sysfs ? f->vid == USB_VID_OPENMOKO &&
	    f->pid == USB_PID_KATAPULT : strncmp(name, BY_ID_KATAPULT,
	    strlen(BY_ID_KATAPULT)) == 0;
	if (o->kp.link == FT_KP_LINK_USB)
		f->usb = 1;
	else if (o->kp.link == FT_KP_LINK_UART)
		f->usb = 0;
	ft_dbg(ctx, "%s: %s%s%s", port, f->usb ? "USB" : "UART",
	    f->klipper ? ", Klipper" : "", f->katapult ? ", Katapult" : "");
}

/* idVendor:idProduct of the USB device at usb_path; 0 when absent. */
static int
usb_ids(const struct ft_open_opts *o, const char *usb_path, uint16_t *vid,
    uint16_t *pid)
{
	char path[PATH_MAX], buf[16];
	const char *attr[2] = { "idVendor", "idProduct" };
	uint16_t *out[2] = { vid, pid };
	unsigned i;
	FILE *f;

	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/bus/usb/devices/%s/%s",
		    sys_root(o), usb_path, attr[i]);
		f = fopen(path, "re");
		if (f == NULL)
			return 0;
		if (fgets(buf, sizeof(buf), f) == NULL)
			buf[0] = '\0';
		fclose(f);
		*out[i] = (uint16_t)strtoul(buf, NULL, 16);
	}
	return 1;
}

/* The tty sysfs puts under the USB device at usb_path, if any. */
static int
tty_of_usb(const struct ft_open_opts *o, const char *usb_path, char *port,
    size_t size)
{
	struct ft_port_entry *list = NULL;
	size_t n = 0, i;
	int found = 0;

	if (ft_serial_list_at(NULL, sys_root(o), dev_root(o), &list, &n) != 0)
		return 0;
	for (i = 0; i < n && !found; i++)
		if (list[i].usb && strcmp(list[i].usb_path, usb_path) == 0) {
			snprintf(port, size, "%s/%s", dev_root(o),
			    base_name(list[i].path));
			found = 1;
		}
	free(list);
	return found;
}

/* usb-Klipper_<mcu>_<serial>-if00 becomes usb-katapult_<mcu>_<serial>. */
static int
katapult_by_id(const char *port, char *out, size_t size)
{
	const char *name = base_name(port);
	int dir = (int)(name - port);

	if (strncmp(name, BY_ID_KLIPPER, strlen(BY_ID_KLIPPER)) != 0)
		return 0;
	snprintf(out, size, "%.*s%s%s", dir, port, BY_ID_KATAPULT,
	    name + strlen(BY_ID_KLIPPER));
	return 1;
}

/*
 * After a USB request: what enumerates on that port, by sysfs, or by
 * the paths a pty-backed device comes back under.
 */
static void
wait_reenum(struct ft_ctx *ctx, const struct ft_open_opts *o,
    const char *port, const char *what, const struct port_facts *f,
    struct ft_katapult_arrival *a)
{
	unsigned wait = o->kp.wait_ms ? o->kp.wait_ms : KP_REENUM_WAIT_MS;
	uint64_t end = ft_now_ms() + wait;
	char sibling[PATH_MAX];
	int have_sibling = katapult_by_id(port, sibling, sizeof(sibling));
	int gone = 0, there;
	uint16_t vid = 0, pid = 0;

	ft_info(ctx, "waiting up to %u ms for %s to come back", wait, what);
	while (ft_now_ms() < end && !ft_cancelled(ctx)) {
		ft_sleep_us(KP_POLL_MS * 1000);
		there = f->sysfs && usb_ids(o, f->usb_path, &vid, &pid);
		if (f->sysfs && !there)
			gone = 1;
		/* Back as it was: the request did not reach a bootloader. */
		if (there && gone && vid == f->vid && pid == f->pid) {
			a->vid = vid;
			a->pid = pid;
			a->found = FT_KP_FOUND_OTHER;
			return;
		}
		if (there && (vid != f->vid || pid != f->pid)) {
			a->vid = vid;
			a->pid = pid;
			if (vid == USB_VID_ST && pid == USB_PID_DFU) {
				a->found = FT_KP_FOUND_DFU;
				return;
			}
			if (!(vid == USB_VID_OPENMOKO &&
			    pid == USB_PID_KATAPULT)) {
				a->found = FT_KP_FOUND_OTHER;
				return;
			}
			if (tty_of_usb(o, f->usb_path, a->port,
			    sizeof(a->port))) {
				a->found = FT_KP_FOUND_KATAPULT;
				return;
			}
			continue;
		}
		if (f->sysfs)
			continue;
		if (have_sibling && access(sibling, F_OK) == 0) {
			ft_strlcpy(a->port, sibling, sizeof(a->port));
			a->found = FT_KP_FOUND_KATAPULT;
			return;
		}
		if (access(port, F_OK) != 0) {
			gone = 1;
		} else if (gone) {
			ft_strlcpy(a->port, port, sizeof(a->port));
			a->found = FT_KP_FOUND_KATAPULT;
			return;
		}
	}
}

/* Klipper's USB request: DTR on, 1200 baud, DTR off, close. */
static int
touch(struct ft_ctx *ctx, const char *port)
{
	struct ft_serial_cfg cfg = { TOUCH_BAUD, 8, 'n', 1 };
	struct ft_serial *t = NULL;
	int rc;

	ft_info(ctx, "asking Klipper on %s for the bootloader (1200-baud "
	    "touch)", port);
	rc = ft_serial_open(ctx, port, &cfg, &t);
	if (rc < 0)
		return rc;
	/* A pty has no modem lines: its last close drops DTR (HUPCL). */
	(void)ft_serial_set_lines(t, 1, -1);
	(void)ft_serial_set_lines(t, 0, -1);
	ft_clear_detail(ctx);
	ft_serial_keep_settings(t);
	ft_serial_close(t);
	return 0;
}

/* Open the tty and CONNECT, waiting a little for a new device. */
static int
open_and_connect(struct ft_kp_session *s, const char *port, unsigned baud,
    unsigned tries)
{
	uint64_t end = ft_now_ms() + KP_TTY_OPEN_WAIT_MS;
	int rc;

	for (;;) {
		rc = ft_kp_link_open_tty(&s->link, port, baud);
		if (rc == 0 || (rc != FT_E_NO_DEVICE && rc != FT_E_ACCESS) ||
		    ft_now_ms() >= end)
			break;
		ft_sleep_us(KP_POLL_MS * 1000);
	}
	if (rc < 0)
		return rc;
	ft_kp_rx_reset(&s->rx);
	return ft_kp_connect(s, tries, KP_REPLY_TIMEOUT_MS);
}

/* CONNECT again and again until Katapult answers or wait_ms passes. */
static int
connect_within(struct ft_kp_session *s, unsigned wait_ms)
{
	uint64_t end = ft_now_ms() + wait_ms;
	int rc;

	do {
		rc = ft_kp_connect(s, 1, KP_PROBE_TIMEOUT_MS);
	} while ((rc == FT_E_TIMEOUT || rc == FT_E_NACK) &&
	    ft_now_ms() < end && !ft_cancelled(s->link.ctx));
	return rc;
}

/* Klipper's UART request, then Katapult on the same port. */
static int
request_uart(struct ft_kp_session *s, struct ft_katapult_arrival *a)
{
	int rc;

	ft_info(s->link.ctx, "no Katapult on %s: asking Klipper for the "
	    "bootloader (serial request)", s->link.name);
	rc = ft_kp_link_send(&s->link, (const uint8_t *)FT_KP_SERIAL_REQUEST,
	    FT_KP_SERIAL_REQUEST_LEN, KP_REPLY_TIMEOUT_MS);
	if (rc < 0)
		return rc;
	a->requested = 1;
	ft_sleep_us(KP_BOOT_WAIT_MS * 1000);
	ft_kp_link_drain(&s->link);
	ft_kp_rx_reset(&s->rx);
	rc = connect_within(s, KP_ANSWER_WAIT_MS);
	if (rc == 0) {
		a->found = FT_KP_FOUND_KATAPULT;
		ft_strlcpy(a->port, s->link.name, sizeof(a->port));
	}
	return rc;
}

static int
nothing_came(struct ft_ctx *ctx, const char *port, int usb)
{
	if (usb)
		return ft_fail(ctx, FT_E_NO_DEVICE, "%s: asked for the "
		    "bootloader, but neither Katapult nor a ROM bootloader "
		    "came back on that USB port", port);
	return ft_fail(ctx, FT_E_NO_DEVICE, "%s: neither Katapult nor "
	    "Klipper answered (wrong port or baud?  A UART build of Klipper "
	    "without Katapult ignores the request; a board stuck in Katapult "
	    "after an error needs a double reset)", port);
}

/*
 * The tty side of ft_katapult_request(): Katapult already there, or
 * asked for and found (a->port), or a ROM bootloader instead.  With s,
 * the link is left open on Katapult and CONNECT answered.
 */
static int
request_tty(struct ft_kp_session *s, const struct ft_open_opts *o,
    struct ft_katapult_arrival *a)
{
	struct ft_ctx *ctx = s->link.ctx;
	unsigned baud = o->baud ? o->baud : KP_DEFAULT_BAUD;
	struct port_facts f;
	int rc = 0;

	port_facts(ctx, o, o->port, &f);
	a->usb = f.usb;
	ft_strlcpy(a->usb_path, f.usb_path, sizeof(a->usb_path));
	ft_strlcpy(a->port, o->port, sizeof(a->port));
	if (!f.klipper) {
		rc = ft_kp_link_open_tty(&s->link, o->port, baud);
		if (rc < 0)
			return rc;
		rc = ft_kp_connect(s, f.katapult ? KP_COMMAND_TRIES : 1,
		    f.katapult ? KP_REPLY_TIMEOUT_MS : KP_PROBE_TIMEOUT_MS);
		if (rc == 0) {
			a->found = FT_KP_FOUND_KATAPULT;
			return 0;
		}
		if (rc != FT_E_TIMEOUT && rc != FT_E_NACK &&
		    rc != FT_E_PROTOCOL)
			return rc;
		if (o->kp.request == FT_KP_REQUEST_NEVER)
			return ft_fail(ctx, FT_E_NO_DEVICE, "%s: Katapult does "
			    "not answer", o->port);
		if (!f.usb)
			return request_uart(s, a) == 0 ? 0 :
			    nothing_came(ctx, o->port, 0);
		ft_kp_link_close(&s->link);
	}
	rc = touch(ctx, o->port);
	if (rc < 0)
		return rc;
	a->requested = 1;
	wait_reenum(ctx, o, o->port, o->port, &f, a);
	if (a->found == FT_KP_FOUND_KATAPULT) {
		ft_info(ctx, "Katapult came back as %s", a->port);
		return open_and_connect(s, a->port, baud, KP_COMMAND_TRIES);
	}
	return 0;
}

/* What the CAN interface is, as sysfs tells it. */
enum bridge_kind {
	BRIDGE_NONE,		/* not a Klipper USB-to-CAN bridge */
	BRIDGE_THIS,		/* the bridge is the node asked for */
	BRIDGE_OTHER,		/* a bridge with another UUID */
	BRIDGE_UNKNOWN,		/* a bridge whose serial is not a chip id */
};

struct bridge {
	enum bridge_kind kind;
	char serial[64];
	uint8_t uuid[FT_KP_UUID_LEN];	/* BRIDGE_THIS, BRIDGE_OTHER */
	struct port_facts f;		/* its USB device */
};

/*
 * The interface's name in sysfs: "can0", or for a simulator's bus
 * "unix:DIR/can0", the socket's file name (it stands for that
 * interface, under a test's sysfs root).
 */
static const char *
iface_name(const char *iface)
{
	if (strncmp(iface, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0)
		return base_name(iface + strlen(UNIX_PREFIX));
	return iface;
}

/* One attribute of the USB device at usb_path, without the newline. */
static int
usb_attr(const struct ft_open_opts *o, const char *usb_path,
    const char *name, char *out, size_t size)
{
	char path[PATH_MAX];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/bus/usb/devices/%s/%s", sys_root(o),
	    usb_path, name);
	f = fopen(path, "re");
	if (f == NULL)
		return -1;
	if (fgets(out, (int)size, f) == NULL)
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\r\n")] = '\0';
	return 0;
}

/*
 * Is the interface a Klipper USB-to-CAN bridge, and is it the node with
 * the UUID asked for?  (flashtool.py's _search_canbus_bridge() does the
 * same from the other end: the USB devices whose interface holds it.)
 */
static void
find_bridge(const struct ft_open_opts *o, struct bridge *b)
{
	char path[PATH_MAX], real[PATH_MAX], mfr[64];
	struct port_facts *f = &b->f;

	memset(b, 0, sizeof(*b));
	/* The interface's device, up to the USB device holding it. */
	snprintf(path, sizeof(path), "%s/class/net/%s/device/..",
	    sys_root(o), iface_name(o->kp.can_iface));
	if (realpath(path, real) == NULL)
		return;
	ft_strlcpy(f->usb_path, base_name(real), sizeof(f->usb_path));
	if (!usb_ids(o, f->usb_path, &f->vid, &f->pid) ||
	    f->vid != USB_VID_OPENMOKO || f->pid != USB_PID_KLIPPER_CAN ||
	    usb_attr(o, f->usb_path, "manufacturer", mfr, sizeof(mfr)) != 0 ||
	    strcmp(mfr, BRIDGE_MANUFACTURER) != 0)
		return;
	f->usb = f->sysfs = 1;
	(void)usb_attr(o, f->usb_path, "serial", b->serial,
	    sizeof(b->serial));
	if (ft_kp_uuid_from_serial(b->serial, b->uuid) != 0)
		b->kind = BRIDGE_UNKNOWN;
	else
		b->kind = memcmp(b->uuid, o->kp.uuid, FT_KP_UUID_LEN) == 0 ?
		    BRIDGE_THIS : BRIDGE_OTHER;
}

/* Did the bridge leave USB (or change) within wait_ms? */
static int
bridge_left(const struct ft_open_opts *o, const struct port_facts *f,
    unsigned wait_ms)
{
	uint64_t end = ft_now_ms() + wait_ms;
	uint16_t vid, pid;

	do {
		if (!usb_ids(o, f->usb_path, &vid, &pid) || vid != f->vid ||
		    pid != f->pid)
			return 1;
		ft_sleep_us(KP_POLL_MS * 1000);
	} while (ft_now_ms() < end);
	return 0;
}

/*
 * The bridge took the request: its CAN interface is gone; follow its
 * USB port to what comes back, and go on over Katapult's tty.
 */
static int
follow_bridge(struct ft_kp_session *s, const struct ft_open_opts *o,
    const struct bridge *b, struct ft_katapult_arrival *a)
{
	char what[96];

	ft_kp_link_close(&s->link);
	a->requested = a->usb = a->bridge = 1;
	ft_strlcpy(a->usb_path, b->f.usb_path, sizeof(a->usb_path));
	snprintf(what, sizeof(what), "the USB-CAN bridge at USB %s",
	    b->f.usb_path);
	wait_reenum(s->link.ctx, o, o->kp.can_iface, what, &b->f, a);
	if (a->found != FT_KP_FOUND_KATAPULT)
		return 0;
	ft_info(s->link.ctx, "the bridge came back as Katapult on %s",
	    a->port);
	return open_and_connect(s, a->port, o->baud ? o->baud :
	    KP_DEFAULT_BAUD, KP_COMMAND_TRIES);
}

/* What sysfs says of the interface, at info level. */
static void
say_bridge(struct ft_ctx *ctx, const struct ft_open_opts *o,
    const struct bridge *b, const char *uuid)
{
	char other[16];

	if (b->kind == BRIDGE_THIS)
		ft_info(ctx, "%s is the USB-CAN bridge at USB %s (serial %s): "
		    "asking it for the bootloader", uuid, b->f.usb_path,
		    b->serial);
	else if (b->kind == BRIDGE_OTHER) {
		ft_kp_uuid_str(b->uuid, other, sizeof(other));
		ft_info(ctx, "%s is a Klipper USB-CAN bridge (USB %s) with "
		    "UUID %s: node %s is on the bus behind it",
		    o->kp.can_iface, b->f.usb_path, other, uuid);
	} else if (b->kind == BRIDGE_UNKNOWN)
		ft_info(ctx, "%s is a Klipper USB-CAN bridge (USB %s) whose "
		    "USB serial \"%s\" is not a chip ID, so whether %s is the "
		    "bridge itself cannot be told before asking",
		    o->kp.can_iface, b->f.usb_path, b->serial, uuid);
}

/* A node on CAN, by UUID: assign its id, CONNECT, check its UUID. */
static int
connect_node(struct ft_kp_session *s, const uint8_t *uuid, unsigned wait_ms)
{
	uint8_t nodeid = ft_kp_can_nodeid(uuid);
	uint64_t end = ft_now_ms() + wait_ms;
	int rc;

	do {
		rc = ft_kp_can_assign(&s->link, uuid, nodeid);
		if (rc == 0)
			rc = ft_kp_connect(s, 1, KP_PROBE_TIMEOUT_MS);
	} while ((rc == FT_E_TIMEOUT || rc == FT_E_NACK) &&
	    ft_now_ms() < end && !ft_cancelled(s->link.ctx));
	return rc;
}

static int
check_uuid(struct ft_kp_session *s, const uint8_t *want)
{
	uint8_t got[FT_KP_UUID_LEN];
	char a[16], b[16];
	int rc = ft_kp_get_uuid(s, got);

	if (rc < 0)
		return rc;
	if (memcmp(got, want, FT_KP_UUID_LEN) == 0)
		return 0;
	ft_kp_uuid_str(got, a, sizeof(a));
	ft_kp_uuid_str(want, b, sizeof(b));
	return ft_fail(s->link.ctx, FT_E_PROTOCOL, "the node that answered "
	    "has UUID %s, not %s (two nodes with one node id?)", a, b);
}

static int
enter_can(struct ft_kp_session *s, const struct ft_open_opts *o,
    struct ft_katapult_arrival *a)
{
	struct ft_ctx *ctx = s->link.ctx;
	struct bridge b;
	char uuid[16];
	int rc;

	if (!o->kp.has_uuid)
		return ft_fail(ctx, FT_E_INVALID, "%s: which node?  Give its "
		    "UUID (--uuid; --list --can %s queries the bus)",
		    o->kp.can_iface, o->kp.can_iface);
	ft_kp_uuid_str(o->kp.uuid, uuid, sizeof(uuid));
	memcpy(s->uuid, o->kp.uuid, FT_KP_UUID_LEN);
	s->has_uuid = 1;
	rc = ft_kp_link_open_can(&s->link, o->kp.can_iface);
	if (rc < 0)
		return rc;
	find_bridge(o, &b);
	if (o->kp.request != FT_KP_REQUEST_NEVER)
		say_bridge(ctx, o, &b, uuid);
	if (o->kp.request != FT_KP_REQUEST_NEVER && b.kind == BRIDGE_THIS) {
		/* The bridge is the node: its USB comes back as Katapult. */
		rc = ft_kp_can_request(&s->link, o->kp.uuid);
		if (rc < 0)
			return rc;
		return follow_bridge(s, o, &b, a);
	}
	rc = connect_node(s, o->kp.uuid, KP_PROBE_TIMEOUT_MS);
	if ((rc == FT_E_TIMEOUT || rc == FT_E_NACK) &&
	    o->kp.request != FT_KP_REQUEST_NEVER) {
		ft_info(ctx, "no Katapult node %s on %s: asking Klipper for "
		    "the bootloader", uuid, o->kp.can_iface);
		rc = ft_kp_can_request(&s->link, o->kp.uuid);
		a->requested = 1;
		if (rc == 0 && b.kind == BRIDGE_UNKNOWN &&
		    bridge_left(o, &b.f, KP_BRIDGE_LEAVE_MS)) {
			ft_info(ctx, "the bridge at USB %s left USB after the "
			    "request: %s is the bridge itself", b.f.usb_path,
			    uuid);
			return follow_bridge(s, o, &b, a);
		}
		if (rc == 0) {
			ft_sleep_us(KP_BOOT_WAIT_MS * 1000);
			rc = connect_node(s, o->kp.uuid, KP_ANSWER_WAIT_MS);
		}
	}
	if (rc == FT_E_TIMEOUT || rc == FT_E_NACK)
		return ft_fail(ctx, FT_E_NO_DEVICE, "%s: no Katapult node with "
		    "UUID %s answered%s", o->kp.can_iface, uuid, a->requested ?
		    " after the bootloader request (a Klipper CAN build "
		    "without Katapult ignores it)" : "");
	if (rc == 0)
		rc = check_uuid(s, o->kp.uuid);
	if (rc == 0)
		a->found = FT_KP_FOUND_KATAPULT;
	return rc;
}

static int
request(struct ft_kp_session *s, const struct ft_open_opts *o,
    struct ft_katapult_arrival *a)
{
	memset(a, 0, sizeof(*a));
	if (o->kp.can_iface != NULL)
		return enter_can(s, o, a);
	if (o->port == NULL || o->port[0] == '\0')
		return ft_fail(s->link.ctx, FT_E_INVALID, "no port given (e.g. "
		    "/dev/serial/by-id/usb-katapult_...; --can IFACE for CAN)");
	return request_tty(s, o, a);
}

int
ft_kp_enter(struct ft_kp_session *s, const struct ft_open_opts *o)
{
	struct ft_katapult_arrival a;
	struct ft_ctx *ctx = s->link.ctx;
	const char *where = o->kp.can_iface != NULL ? o->kp.can_iface :
	    o->port;
	const char *who;
	int rc = request(s, o, &a);

	if (ft_cancelled(ctx))
		return ft_fail(ctx, FT_E_INTERRUPTED, "interrupted "
		    "while looking for Katapult; nothing was changed");
	if (rc < 0)
		return rc;
	s->requested = a.requested;
	s->usb = a.usb;
	who = a.bridge ? "the USB-CAN bridge came back as " : "";
	if (a.found == FT_KP_FOUND_KATAPULT)
		return 0;
	if (a.found == FT_KP_FOUND_DFU)
		return ft_fail(ctx, FT_E_NO_DEVICE, "%s: %sthe ROM DFU "
		    "bootloader (0483:df11, USB %s), not Katapult: this build "
		    "has none.  Flash it with --dfu --path %s, or run with "
		    "--auto", where, who, a.usb_path, a.usb_path);
	if (a.found == FT_KP_FOUND_OTHER)
		return ft_fail(ctx, FT_E_NO_DEVICE, "%s: %sa %04x:%04x device "
		    "on USB %s, not Katapult (1d50:6177)", where, a.bridge ?
		    who : "asked for the bootloader; back came ", a.vid, a.pid,
		    a.usb_path);
	if (a.bridge)
		return ft_fail(ctx, FT_E_NO_DEVICE, "%s: asked the USB-CAN "
		    "bridge for the bootloader; it left USB %s and nothing "
		    "came back there within %u ms (expected Katapult, "
		    "1d50:6177, or without it the ROM DFU bootloader, "
		    "0483:df11)", where, a.usb_path, o->kp.wait_ms ?
		    o->kp.wait_ms : KP_REENUM_WAIT_MS);
	return nothing_came(ctx, where, a.usb);
}

int
ft_katapult_request(struct ft_ctx *ctx, const struct ft_open_opts *opts,
    struct ft_katapult_arrival *out)
{
	struct ft_kp_session *s = calloc(1, sizeof(*s));
	int rc;

	ft_clear_detail(ctx);
	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	ft_kp_link_init(&s->link, ctx);
	rc = request(s, opts, out);
	if (ft_cancelled(ctx))
		rc = ft_fail(ctx, FT_E_INTERRUPTED, "interrupted while asking "
		    "for Katapult; nothing was changed");
	ft_kp_link_close(&s->link);
	free(s);
	return rc;
}
