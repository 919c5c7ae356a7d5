/*
 * ports.c - the serial ports the kernel knows, with what it knows about
 * them: driver, USB vendor:product, serial number and bus path, and the
 * stable /dev/serial/by-id name.  Read from sysfs and /dev only; nothing
 * is opened, so listing never toggles a modem line.
 *
 * Serial-core ports (8250 and friends) exist in sysfs whether or not a
 * UART is there; they are listed only when the kernel found one (their
 * type attribute is not 0).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serial.h"

#define SYSFS_TTY "/class/tty"
#define BY_ID "/serial/by-id"
/* How far up from a tty's device the USB device can sit. */
#define USB_PARENT_DEPTH 6

static int
read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	size_t n;

	buf[0] = '\0';
	if (f == NULL)
		return -1;
	if (fgets(buf, (int)size, f) == NULL)
		buf[0] = '\0';
	fclose(f);
	n = strlen(buf);
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return 0;
}

static void
link_base(const char *path, char *out, size_t size)
{
	char target[PATH_MAX];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *slash;

	out[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	slash = strrchr(target, '/');
	ft_strlcpy(out, slash != NULL ? slash + 1 : target, size);
}

static unsigned
hex16(const char *s)
{
	unsigned long v = strtoul(s, NULL, 16);

	return v > 0xFFFF ? 0 : (unsigned)v;
}

/* Walk up from the tty's device to the USB device holding idVendor. */
static void
usb_facts(const char *devdir, struct ft_port_entry *e)
{
	char dir[PATH_MAX], file[PATH_MAX + 16], buf[128];
	int depth;

	if (realpath(devdir, dir) == NULL)
		return;
	for (depth = 0; depth < USB_PARENT_DEPTH; depth++) {
		char *slash;

		snprintf(file, sizeof(file), "%s/idVendor", dir);
		if (read_line(file, buf, sizeof(buf)) == 0 && buf[0] != '\0') {
			e->usb = 1;
			e->vid = (uint16_t)hex16(buf);
			snprintf(file, sizeof(file), "%s/idProduct", dir);
			if (read_line(file, buf, sizeof(buf)) == 0)
				e->pid = (uint16_t)hex16(buf);
			snprintf(file, sizeof(file), "%s/serial", dir);
			if (read_line(file, buf, sizeof(buf)) == 0)
				ft_strlcpy(e->serial, buf, sizeof(e->serial));
			snprintf(file, sizeof(file), "%s/product", dir);
			if (read_line(file, buf, sizeof(buf)) == 0)
				ft_strlcpy(e->product, buf, sizeof(e->product));
			slash = strrchr(dir, '/');
			ft_strlcpy(e->usb_path, slash != NULL ? slash + 1 :
			    dir, sizeof(e->usb_path));
			return;
		}
		slash = strrchr(dir, '/');
		if (slash == NULL || slash == dir)
			return;
		*slash = '\0';
	}
}

/* The by-id name whose link resolves to /dev/<name>. */
static void
by_id_name(const char *devroot, const char *name, char *out, size_t size)
{
	char dir[PATH_MAX], link[PATH_MAX + NAME_MAX + 2];
	char target[PATH_MAX];
	struct dirent *d;
	DIR *dh;

	out[0] = '\0';
	snprintf(dir, sizeof(dir), "%s%s", devroot, BY_ID);
	dh = opendir(dir);
	if (dh == NULL)
		return;
	while ((d = readdir(dh)) != NULL) {
		const char *base;
		ssize_t n;

		if (d->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dir, d->d_name);
		n = readlink(link, target, sizeof(target) - 1);
		if (n <= 0)
			continue;
		target[n] = '\0';
		base = strrchr(target, '/');
		base = base != NULL ? base + 1 : target;
		if (strcmp(base, name) == 0) {
			/* Report the name as it appears on the live system. */
			snprintf(out, size, "/dev%s/%s", BY_ID, d->d_name);
			break;
		}
	}
	closedir(dh);
}

static int
by_path(const void *a, const void *b)
{
	const struct ft_port_entry *x = a, *y = b;

	return strcmp(x->path, y->path);
}

int
ft_serial_list_at(struct ft_ctx *ctx, const char *sysroot,
    const char *devroot, struct ft_port_entry **out, size_t *count)
{
	char dir[PATH_MAX], path[PATH_MAX + NAME_MAX + 16], buf[64];
	struct ft_port_entry *list = NULL;
	size_t n = 0;
	struct dirent *d;
	DIR *dh;

	*out = NULL;
	*count = 0;
	snprintf(dir, sizeof(dir), "%s%s", sysroot, SYSFS_TTY);
	dh = opendir(dir);
	if (dh == NULL)
		return ft_fail(ctx, FT_E_IO, "%s: %s", dir, strerror(errno));
	while ((d = readdir(dh)) != NULL) {
		struct ft_port_entry e, *grown;

		if (d->d_name[0] == '.')
			continue;
		memset(&e, 0, sizeof(e));
		/* Virtual terminals and ptys have no device behind them. */
		snprintf(path, sizeof(path), "%s/%s/device", dir, d->d_name);
		if (access(path, F_OK) != 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s/device/driver", dir,
		    d->d_name);
		link_base(path, e.driver, sizeof(e.driver));
		/* Serial-core ports with no UART found: type 0 (unknown). */
		snprintf(path, sizeof(path), "%s/%s/type", dir, d->d_name);
		if (read_line(path, buf, sizeof(buf)) == 0 &&
		    strcmp(buf, "0") == 0)
			continue;
		if (strlen(d->d_name) + 6 > sizeof(e.path))
			continue;
		memcpy(e.path, "/dev/", 5);
		ft_strlcpy(e.path + 5, d->d_name, sizeof(e.path) - 5);
		snprintf(path, sizeof(path), "%s/%s/device", dir, d->d_name);
		usb_facts(path, &e);
		by_id_name(devroot, d->d_name, e.by_id, sizeof(e.by_id));
		grown = realloc(list, (n + 1) * sizeof(*list));
		if (grown == NULL) {
			closedir(dh);
			free(list);
			return ft_fail(ctx, FT_E_NOMEM, "out of memory");
		}
		list = grown;
		list[n++] = e;
	}
	closedir(dh);
	if (n > 1)
		qsort(list, n, sizeof(*list), by_path);
	*out = list;
	*count = n;
	return 0;
}

int
ft_serial_list(struct ft_ctx *ctx, struct ft_port_entry **out, size_t *n)
{
	return ft_serial_list_at(ctx, "/sys", "/dev", out, n);
}
