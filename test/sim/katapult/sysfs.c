/*
 * sysfs.c - what the kernel shows of one USB device, in a folder that
 * stands for / (--sysfs DIR): DIR/sys as sysfs, DIR/dev as /dev.  The
 * device sits on one USB port (1-1.3 by default) and is, in turn, a
 * gs_usb CAN adapter with its network interface (a Klipper USB-to-CAN
 * bridge, 1d50:606f), a CDC-ACM serial device with its tty (Katapult,
 * 1d50:6177), the ROM DFU bootloader (0483:df11, no class device), or
 * nothing.
 *
 * The layout is the kernel's (Documentation/ABI/stable/sysfs-bus-usb,
 * sysfs-class-net; drivers/usb/class/cdc-acm.c names ttyACM<n>), cut
 * to what host tools read, as Katapult's flashtool.py and Klipper's
 * flash_usb.py do:
 *   sys/devices/usb1/1-1/PORT/{idVendor,idProduct,manufacturer,product,
 *       serial,bDeviceClass,busnum,devnum}
 *   sys/devices/usb1/1-1/PORT/PORT:1.0/net/IFACE/{type,device->..}
 *   sys/devices/usb1/1-1/PORT/PORT:1.0/tty/ttyACM0/{dev,device->..}
 *   sys/bus/usb/devices/PORT -> the device
 *   sys/class/net/IFACE, sys/class/tty/ttyACM0 -> the class devices
 *   dev/ttyACM0 -> the pty slave (a symlink where udev makes a node)
 * (flashtool.py finds a bridge by globbing PORT:*\/net/IFACE under
 * /sys/bus/usb/devices, and after the request finds Katapult's tty as
 * PORT:*\/tty/tty*; katapult.md 1.6, 1.7.)
 *
 * Order, as the kernel goes: on arrival the device and its bus link
 * come first, then the interface's class device and the /dev node; on
 * departure the class devices and the node go first, then the device.
 * devnum counts up on every arrival, as a new enumeration gets a new
 * address.  Invariants: at most one device on the port; nothing
 * outside DIR is touched.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksim.h"

#define BUS_DIR "sys/devices/usb1/1-1"
#define TTY_NAME "ttyACM0"
#define ACM_MAJOR 166		/* Documentation/admin-guide/devices.txt */
#define ARPHRD_CAN_TYPE 280	/* include/uapi/linux/if_arp.h */
#define USB_CLASS_PER_INTERFACE 0x00
#define USB_CLASS_COMM 0x02
#define USB_CLASS_VENDOR 0xff

static int
path_of(const struct ks_sysfs *fs, char *out, size_t size, const char *fmt,
    ...) __attribute__((format(printf, 4, 5)));

static int
path_of(const struct ks_sysfs *fs, char *out, size_t size, const char *fmt,
    ...)
{
	char rel[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rel, sizeof(rel), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rel))
		return -1;
	n = snprintf(out, size, "%s/%s", fs->root, rel);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* mkdir -p of a path under the root. */
static void
mkdirs(const struct ks_sysfs *fs, const char *rel)
{
	char p[KS_SYSFS_PATH], *s;

	if (path_of(fs, p, sizeof(p), "%s", rel) != 0)
		return;
	for (s = p + strlen(fs->root) + 1; *s != '\0'; s++)
		if (*s == '/') {
			*s = '\0';
			(void)mkdir(p, 0755);
			*s = '/';
		}
	(void)mkdir(p, 0755);
}

static void
put(const struct ks_sysfs *fs, const char *rel, const char *text)
{
	char p[KS_SYSFS_PATH];
	FILE *f;

	if (path_of(fs, p, sizeof(p), "%s", rel) != 0)
		return;
	f = fopen(p, "w");
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* rel becomes a symlink to target (replacing what was there). */
static void
link_at(const struct ks_sysfs *fs, const char *rel, const char *target)
{
	char p[KS_SYSFS_PATH];

	if (path_of(fs, p, sizeof(p), "%s", rel) != 0)
		return;
	(void)unlink(p);
	(void)symlink(target, p);
}

static void
unlink_at(const struct ks_sysfs *fs, const char *rel)
{
	char p[KS_SYSFS_PATH];

	if (path_of(fs, p, sizeof(p), "%s", rel) == 0)
		(void)unlink(p);
}

static int
rm_one(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		(void)rmdir(p);
	else
		(void)unlink(p);
	return 0;
}

int
ks_sysfs_init(struct ks_sysfs *fs, const char *root, const char *port,
    const char *iface)
{
	struct stat st;

	memset(fs, 0, sizeof(*fs));
	if (strlen(root) >= sizeof(fs->root) || strlen(port) >=
	    sizeof(fs->port) || strlen(iface) >= sizeof(fs->iface))
		return -1;
	snprintf(fs->root, sizeof(fs->root), "%s", root);
	snprintf(fs->port, sizeof(fs->port), "%s", port);
	snprintf(fs->iface, sizeof(fs->iface), "%s", iface);
	if (mkdir(root, 0755) != 0 && errno != EEXIST)
		return -1;
	if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
		return -1;
	mkdirs(fs, BUS_DIR);
	mkdirs(fs, "sys/bus/usb/devices");
	mkdirs(fs, "sys/class/net");
	mkdirs(fs, "sys/class/tty");
	mkdirs(fs, "dev/serial/by-id");
	ks_sysfs_remove(fs);
	return 0;
}

static void
attr(const struct ks_sysfs *fs, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
attr(const struct ks_sysfs *fs, const char *name, const char *fmt, ...)
{
	char rel[256], text[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	snprintf(rel, sizeof(rel), BUS_DIR "/%s/%s", fs->port, name);
	put(fs, rel, text);
}

void
ks_sysfs_add(struct ks_sysfs *fs, const struct ks_usb_id *id,
    enum ks_usb_class kind, const char *slave)
{
	char rel[256], target[256];
	const char *p = fs->port;
	unsigned dev_class = kind == KS_USB_TTY ? USB_CLASS_COMM :
	    USB_CLASS_PER_INTERFACE;

	ks_sysfs_remove(fs);
	fs->devnum++;
	/* The device and its descriptors, then its bus link. */
	snprintf(rel, sizeof(rel), BUS_DIR "/%s/%s:1.0", p, p);
	mkdirs(fs, rel);
	attr(fs, "idVendor", "%04x\n", id->vid);
	attr(fs, "idProduct", "%04x\n", id->pid);
	attr(fs, "manufacturer", "%s\n", id->manufacturer);
	attr(fs, "product", "%s\n", id->product);
	if (id->serial != NULL && id->serial[0] != '\0')
		attr(fs, "serial", "%s\n", id->serial);
	attr(fs, "bDeviceClass", "%02x\n", dev_class);
	attr(fs, "busnum", "1\n");
	attr(fs, "devnum", "%u\n", fs->devnum);
	snprintf(rel, sizeof(rel), BUS_DIR "/%s/%s:1.0/bInterfaceClass", p,
	    p);
	put(fs, rel, kind == KS_USB_NET ? "ff\n" : kind == KS_USB_TTY ?
	    "02\n" : "fe\n");
	snprintf(rel, sizeof(rel), "sys/bus/usb/devices/%s", p);
	snprintf(target, sizeof(target), "../../../devices/usb1/1-1/%s", p);
	link_at(fs, rel, target);
	fs->kind = kind;
	if (kind == KS_USB_NET) {
		snprintf(rel, sizeof(rel), BUS_DIR "/%s/%s:1.0/net/%s", p, p,
		    fs->iface);
		mkdirs(fs, rel);
		snprintf(rel, sizeof(rel), BUS_DIR "/%s/%s:1.0/net/%s/type",
		    p, p, fs->iface);
		snprintf(target, sizeof(target), "%d\n", ARPHRD_CAN_TYPE);
		put(fs, rel, target);
		snprintf(rel, sizeof(rel), BUS_DIR "/%s/%s:1.0/net/%s/device",
		    p, p, fs->iface);
		snprintf(target, sizeof(target), "../../../%s:1.0", p);
		link_at(fs, rel, target);
		snprintf(rel, sizeof(rel), "sys/class/net/%s", fs->iface);
		snprintf(target, sizeof(target), "../../devices/usb1/1-1/%s/"
		    "%s:1.0/net/%s", p, p, fs->iface);
		link_at(fs, rel, target);
	} else if (kind == KS_USB_TTY) {
		snprintf(rel, sizeof(rel), BUS_DIR "/%s/%s:1.0/tty/" TTY_NAME,
		    p, p);
		mkdirs(fs, rel);
		snprintf(rel, sizeof(rel), BUS_DIR "/%s/%s:1.0/tty/" TTY_NAME
		    "/dev", p, p);
		snprintf(target, sizeof(target), "%d:0\n", ACM_MAJOR);
		put(fs, rel, target);
		snprintf(rel, sizeof(rel), BUS_DIR "/%s/%s:1.0/tty/" TTY_NAME
		    "/device", p, p);
		snprintf(target, sizeof(target), "../../../%s:1.0", p);
		link_at(fs, rel, target);
		snprintf(rel, sizeof(rel), "sys/class/tty/" TTY_NAME);
		snprintf(target, sizeof(target), "../../devices/usb1/1-1/%s/"
		    "%s:1.0/tty/" TTY_NAME, p, p);
		link_at(fs, rel, target);
		if (slave != NULL)
			link_at(fs, "dev/" TTY_NAME, slave);
	}
}

void
ks_sysfs_remove(struct ks_sysfs *fs)
{
	char p[KS_SYSFS_PATH], rel[256];

	unlink_at(fs, "dev/" TTY_NAME);
	unlink_at(fs, "sys/class/tty/" TTY_NAME);
	snprintf(rel, sizeof(rel), "sys/class/net/%s", fs->iface);
	unlink_at(fs, rel);
	snprintf(rel, sizeof(rel), BUS_DIR "/%s", fs->port);
	if (path_of(fs, p, sizeof(p), "%s", rel) == 0)
		(void)nftw(p, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	snprintf(rel, sizeof(rel), "sys/bus/usb/devices/%s", fs->port);
	unlink_at(fs, rel);
	fs->kind = KS_USB_NONE;
}

const char *
ks_sysfs_tty(void)
{
	return TTY_NAME;
}
