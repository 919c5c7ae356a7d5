/*
 * tty.c - the device on a pseudo-terminal, as a UART or as a USB CDC-ACM
 * device.  The simulator holds only the master side; --link is a symlink
 * to the slave (flashtool.py refuses a port another process holds open).
 *
 * Host side, seen from the master: clients opening and closing the slave
 * through inotify; the slave's termios with tcgetattr() on the master
 * (Linux answers TCGETS on a pty master with the slave's settings); DTR
 * through libft-shim.so's socket (test/sim/usart/README, "libft-shim.so")
 * or, without the shim, through the hangup on the last close (HUPCL).
 *
 * UART: each character takes 10 bit times at the sender's baud; a host
 * at another baud than the device's reads garbage (wire.c resamples).
 * While the MCU stalls on its flash, the UART keeps only its FIFO
 * (model.c) per erase or program step; the rest is overrun and lost.
 * Replies leave at the device's baud; Katapult's transmit buffer holds 96
 * bytes and a reply that does not fit is dropped (serial_irq.c).
 * Nothing is written while no client has the port open (a closed port
 * does not receive).
 *
 * USB: every host read is cut into 64-byte OUT packets; the device takes
 * a packet only while its 128-byte buffer has 64 bytes free, otherwise
 * the host waits (the simulator stops reading the master).  Replies go
 * into a 192-byte transmit buffer and leave as IN packets through two
 * hardware buffers, only while a client has the port open (cdc-acm reads
 * only then).  On "usbfs" STM32 parts the first IN packet after
 * enumeration is held until a second one is queued (usbfs.c
 * usb_send_bulk_in(), BI_START).  Transfers end at the next frame start
 * (--usb-frame-us, default 1000).
 *
 * Re-enumeration (USB only): when the MCU resets, the link symlink (and
 * the by-id link) is removed and the pty closed: an open client reads
 * EOF/EIO, as after an unplug.  When the new firmware runs, after
 * --reenum-ms a new pty appears (a new /dev/pts/N, like a new ttyACM) and
 * the symlinks are created again.  On a UART the pty stays.  With
 * --sysfs the kernel's view (sysfs.c) follows: the device leaves its USB
 * port and comes back on the same port as what runs now; the ROM DFU
 * bootloader a USB build without Katapult reboots into shows there too.
 *
 * A USB-to-CAN bridge (gs_usb): while Klipper runs, the device is the
 * host's CAN adapter (1d50:606f) and has no tty; its coming and going
 * is passed to the bus (usb_hook), which brings the interface up and
 * down.  In Katapult (a USB build: Katapult has no bridge mode, its
 * HAVE_STM32_USBCANBUS has no default) it is a CDC-ACM tty as above.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "tty.h"

#define KATAPULT_TX_BUF 96	/* serial_irq.c transmit_buf */
#define USB_TX_BUF 192		/* usb_cdc.c transmit_buf */
#define USB_HW_BUFFERS 2	/* double-buffered bulk IN */
#define USB_ACTIVE_NS (5 * NS_PER_MS)	/* line-state poll while open */
#define INITIAL_BAUD B9600	/* cdc-acm and serial ports start here */
#define TOUCH_BAUD 1200u
#define USB_ID_KATAPULT "1d50:6177"
#define USB_ID_KLIPPER "1d50:614e"
#define USB_ID_BRIDGE "1d50:606f"	/* gs_usb (usb_canbus.c) */
#define VID_OPENMOKO 0x1d50u
/* ROM bootloaders' strings: dfu.md 1.2 (ST); the RP2040's [est]. */
#define ROM_ST_MFR "STMicroelectronics"
#define ROM_ST_PRODUCT "STM32  BOOTLOADER"
#define ROM_F0_SERIAL "FFFFFFFEFFFF"	/* the same on every F0 chip */
#define ROM_RP_MFR "Raspberry Pi"
#define ROM_RP_PRODUCT "RP2 Boot"

/* The host's baud and HUPCL, from the master (the slave's termios). */
static uint32_t
host_termios(struct kt_link *l, int *hupcl)
{
	uint32_t baud;
	int h;

	if (l->master < 0 || ks_tty_get(l->master, &baud, &h) != 0)
		return l->host_baud;
	if (hupcl != NULL)
		*hupcl = h;
	l->host_baud = baud;
	return baud;
}

static uint32_t
dev_baud(const struct kt_link *l)
{
	return l->dev->run == KS_RUN_APP ? l->app_baud : l->kp_baud;
}

static int
client_open(const struct kt_link *l)
{
	return l->master >= 0 && l->clients > 0;
}

/*
 * Identity files: the by-id symlink a udev system would make, and a
 * key=value state file for tests (replaced whole, by rename).
 */
static void
identity(const struct kt_link *l, const char **mfr, const char **usbid)
{
	int app = l->dev->run == KS_RUN_APP;

	*mfr = app ? "Klipper" : "katapult";
	*usbid = app ? (l->gs_usb ? USB_ID_BRIDGE : USB_ID_KLIPPER) :
	    USB_ID_KATAPULT;
}

static void
write_state(struct kt_link *l)
{
	char tmp[4200];
	const char *mfr, *usbid;
	FILE *f;

	if (l->state_path == NULL)
		return;
	identity(l, &mfr, &usbid);
	snprintf(tmp, sizeof(tmp), "%s.tmp", l->state_path);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	fprintf(f, "state=%s\nlink=%s\nmcu=%s\nserial=%s\n",
	    ks_run_name(l->dev->run), l->kind == KS_LINK_USB ? "usb" : "uart",
	    l->dev->m->mcu, l->dev->serial);
	if (l->master >= 0)
		fprintf(f, "tty=%s\n", l->slave);
	if (l->netdev && l->sysfs != NULL)
		fprintf(f, "iface=%s\n", l->sysfs->iface);
	if (l->master >= 0 || l->netdev)
		fprintf(f, "usb=%s\nmanufacturer=%s\nproduct=%s\n", usbid,
		    mfr, l->dev->m->mcu);
	else if (l->sysfs != NULL && l->sysfs->kind == KS_USB_PLAIN)
		fprintf(f, "usb=%04x:%04x\n",
		    (unsigned)(l->dev->m->dfu_vidpid >> 16),
		    (unsigned)(l->dev->m->dfu_vidpid & 0xFFFF));
	fclose(f);
	(void)rename(tmp, l->state_path);
}

/* Make path a symlink to target, atomically. */
static int
symlink_to(const char *path, const char *target)
{
	char tmp[4200];

	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", path, (long)getpid());
	(void)unlink(tmp);
	if (symlink(target, tmp) != 0 || rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

static void
publish(struct kt_link *l)
{
	const char *mfr, *usbid;

	if (l->byid_dir != NULL && l->kind == KS_LINK_USB) {
		identity(l, &mfr, &usbid);
		snprintf(l->byid_path, sizeof(l->byid_path),
		    "%s/usb-%s_%s_%s-if00", l->byid_dir, mfr,
		    l->dev->m->mcu, l->dev->serial);
		if (symlink_to(l->byid_path, l->slave) != 0)
			l->byid_path[0] = '\0';
	}
	write_state(l);
	/* Last: tests wait for the link as "ready". */
	if (l->link_path != NULL && symlink_to(l->link_path, l->slave) != 0)
		fprintf(stderr, "katapult-sim: symlink %s: %s\n",
		    l->link_path, strerror(errno));
}

/*
 * Briefly open the slave to set it up or to flush what a client left
 * unread (a real port's buffer goes with its last close; a pty keeps
 * it).  Our own open and close are not counted as clients.
 */
static int
touch_slave(struct kt_link *l, int setup)
{
	struct termios t;
	int fd = open(l->slave, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (l->ino_fd >= 0 && !setup) {
		l->own_opens++;
		l->own_closes++;
	}
	if (setup && tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		t.c_cflag |= CLOCAL | CREAD | HUPCL;
		cfsetispeed(&t, INITIAL_BAUD);
		cfsetospeed(&t, INITIAL_BAUD);
		(void)tcsetattr(fd, TCSANOW, &t);
	}
	(void)tcflush(fd, TCIFLUSH);
	close(fd);
	return 0;
}

/* The USB identity of what runs now, for sysfs. */
static void
usb_id(const struct kt_link *l, struct ks_usb_id *id)
{
	const char *mfr, *usbid;

	identity(l, &mfr, &usbid);
	memset(id, 0, sizeof(*id));
	id->vid = VID_OPENMOKO;
	id->pid = (uint16_t)strtoul(usbid + 5, NULL, 16);
	id->manufacturer = mfr;
	id->product = l->dev->m->mcu;
	id->serial = l->dev->serial;
}

/* A Klipper bridge attaches as a CAN adapter: no tty, an interface. */
static int
attach_netdev(struct kt_link *l, uint64_t t)
{
	struct ks_usb_id id;

	ks_logf(t, "USB attach %s %s as %s (%s)", USB_ID_BRIDGE,
	    l->dev->m->mcu, l->sysfs != NULL ? l->sysfs->iface :
	    "a CAN interface", ks_run_name(l->dev->run));
	l->netdev = 1;
	if (l->sysfs != NULL) {
		usb_id(l, &id);
		ks_sysfs_add(l->sysfs, &id, KS_USB_NET, NULL);
	}
	if (l->usb_hook != NULL)
		l->usb_hook(l->hook_ctx, 1, t);
	write_state(l);
	return 0;
}

/* The ROM bootloader on the port (its DFU is the libusb simulator's). */
static void
attach_rom(struct kt_link *l, uint64_t t)
{
	const struct ks_model *m = l->dev->m;
	struct ks_usb_id id;
	char serial[16];
	int st = m->family == KS_STM32;

	/* F0 ROMs report one constant; others a UID-derived string whose
	 * derivation is not documented: the UID's first bytes [est]. */
	if (strcmp(m->key, "f042") == 0)
		snprintf(serial, sizeof(serial), "%s", ROM_F0_SERIAL);
	else
		snprintf(serial, sizeof(serial), "%02X%02X%02X%02X%02X%02X",
		    l->dev->uid[0], l->dev->uid[1], l->dev->uid[2],
		    l->dev->uid[3], l->dev->uid[4], l->dev->uid[5]);
	memset(&id, 0, sizeof(id));
	id.vid = (uint16_t)(m->dfu_vidpid >> 16);
	id.pid = (uint16_t)(m->dfu_vidpid & 0xFFFF);
	id.manufacturer = st ? ROM_ST_MFR : ROM_RP_MFR;
	id.product = st ? ROM_ST_PRODUCT : ROM_RP_PRODUCT;
	id.serial = serial;
	ks_logf(t, "USB attach %04x:%04x %s (rom)", (unsigned)id.vid,
	    (unsigned)id.pid, id.product);
	ks_sysfs_add(l->sysfs, &id, KS_USB_PLAIN, NULL);
	write_state(l);
}

static int
attach(struct kt_link *l, uint64_t t)
{
	struct ks_usb_id id;
	struct stat st;
	const char *name;

	if (l->gs_usb && l->dev->run == KS_RUN_APP)
		return attach_netdev(l, t);
	l->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (l->master < 0 || grantpt(l->master) != 0 ||
	    unlockpt(l->master) != 0 || (name = ptsname(l->master)) == NULL) {
		fprintf(stderr, "katapult-sim: pty: %s\n", strerror(errno));
		goto fail;
	}
	snprintf(l->slave, sizeof(l->slave), "%s", name);
	if (touch_slave(l, 1) != 0 || stat(l->slave, &st) != 0) {
		fprintf(stderr, "katapult-sim: %s: %s\n", l->slave,
		    strerror(errno));
		goto fail;
	}
	l->rdev = st.st_rdev;
	l->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (l->ino_fd < 0 || inotify_add_watch(l->ino_fd, l->slave,
	    IN_OPEN | IN_CLOSE) < 0) {
		fprintf(stderr, "katapult-sim: inotify: %s\n",
		    strerror(errno));
		goto fail;
	}
	l->clients = l->own_opens = l->own_closes = 0;
	l->dtr = l->rts = 0;
	l->host_baud = 0;
	(void)host_termios(l, NULL);
	l->npend = 0;
	l->nout = 0;
	l->out_off = 0;
	l->usb_txlen = 0;
	l->nhw = 0;
	l->hold_first = l->kind == KS_LINK_USB && l->usb_hold;
	if (l->kind == KS_LINK_USB)
		ks_logf(t, "USB attach %s %s as %s (%s)",
		    l->dev->run == KS_RUN_APP ? USB_ID_KLIPPER :
		    USB_ID_KATAPULT, l->dev->m->mcu, l->slave,
		    ks_run_name(l->dev->run));
	else
		ks_logf(t, "UART %s at %u baud", l->slave, dev_baud(l));
	if (l->sysfs != NULL && l->kind == KS_LINK_USB) {
		usb_id(l, &id);
		ks_sysfs_add(l->sysfs, &id, KS_USB_TTY, l->slave);
	}
	publish(l);
	return 0;
fail:
	if (l->master >= 0)
		close(l->master);
	l->master = -1;
	return -1;
}

static void
detach(struct kt_link *l, uint64_t t)
{
	if (l->netdev) {
		ks_logf(t, "USB detach %s (the CAN adapter)", USB_ID_BRIDGE);
		l->netdev = 0;
		if (l->sysfs != NULL)
			ks_sysfs_remove(l->sysfs);
		if (l->usb_hook != NULL)
			l->usb_hook(l->hook_ctx, 0, t);
		write_state(l);
		return;
	}
	if (l->sysfs != NULL && l->master < 0 &&
	    l->sysfs->kind != KS_USB_NONE) {
		ks_logf(t, "USB detach (%s)", l->sysfs->kind == KS_USB_PLAIN ?
		    "rom" : "device");
		ks_sysfs_remove(l->sysfs);
	}
	if (l->master < 0)
		return;
	if (l->sysfs != NULL)
		ks_sysfs_remove(l->sysfs);
	ks_logf(t, "USB detach %s", l->slave);
	if (l->link_path != NULL)
		(void)unlink(l->link_path);
	if (l->byid_path[0] != '\0')
		(void)unlink(l->byid_path);
	l->byid_path[0] = '\0';
	if (l->ino_fd >= 0)
		close(l->ino_fd);
	l->ino_fd = -1;
	close(l->master);
	l->master = -1;
	l->clients = 0;
	l->npend = 0;
	l->nout = 0;
	l->out_off = 0;
	l->usb_txlen = 0;
	l->nhw = 0;
	write_state(l);
}

/* Queue bytes for the host at model time `at`. */
static void
enqueue(struct kt_link *l, const uint8_t *p, size_t n, uint64_t at)
{
	while (n > 0 && l->nout < KT_OUTQ) {
		struct kt_out *o = &l->out[l->nout];
		size_t k = n > sizeof(o->b) ? sizeof(o->b) : n;

		memcpy(o->b, p, k);
		o->n = k;
		o->at = at;
		l->nout++;
		p += k;
		n -= k;
	}
	if (n > 0)
		ks_logf(at, "host queue full: %zu bytes lost", n);
}

/*
 * UART: reply bytes from the device, at model time t.
 */
static void
uart_emit(struct kt_link *l, const uint8_t *p, size_t n, uint64_t t)
{
	uint8_t buf[KT_WIRE_MAX], rs[KT_WIRE_MAX * KT_RESAMPLE_FACTOR];
	uint64_t byte_ns = l->timing ? ks_uart_byte_ns(dev_baud(l)) : 0;
	uint64_t start, unsent = 0;
	uint32_t hb;
	size_t i, m = 0;

	if (l->timing && l->tx_wire > t && byte_ns > 0)
		unsent = (l->tx_wire - t + byte_ns - 1) / byte_ns;
	if (l->dev->run == KS_RUN_KATAPULT && unsent + n > KATAPULT_TX_BUF) {
		ks_logf(t, "TX buffer full (%llu unsent): %zu-byte reply "
		    "dropped", (unsigned long long)unsent, n);
		return;
	}
	start = l->tx_wire > t ? l->tx_wire : t;
	l->tx_wire = start + n * byte_ns;
	if (!client_open(l))
		return;
	for (i = 0; i < n && m < sizeof(buf); i++) {
		uint8_t b = p[i];

		if (ks_rng_chance(l->rng, l->drop))
			continue;
		if (ks_rng_chance(l->rng, l->corrupt))
			b ^= (uint8_t)(1u << (ks_rng_next(l->rng) & 7));
		buf[m++] = b;
	}
	hb = host_termios(l, NULL);
	if (hb != 0 && hb != dev_baud(l)) {
		m = ks_uart_resample(buf, m, dev_baud(l), hb, rs, sizeof(rs));
		enqueue(l, rs, m, l->tx_wire);
	} else {
		enqueue(l, buf, m, l->tx_wire);
	}
}

/*
 * USB: the device's IN side.  Form packets into the two hardware
 * buffers, hold the first one on usbfs parts, and hand eligible packets
 * to the host while a client has the port open.
 */
static void
usb_pump(struct kt_link *l)
{
	for (;;) {
		struct kt_packet *pk;
		uint64_t start, done;

		while (l->nhw < USB_HW_BUFFERS && l->usb_txlen > 0) {
			size_t k = l->usb_txlen > KS_USB_PACKET ?
			    KS_USB_PACKET : l->usb_txlen;

			pk = &l->hw[l->nhw++];
			memcpy(pk->b, l->usb_tx, k);
			pk->n = k;
			pk->ready = l->usb_tx_t > l->hw_free ? l->usb_tx_t :
			    l->hw_free;
			pk->held = 0;
			memmove(l->usb_tx, l->usb_tx + k, l->usb_txlen - k);
			l->usb_txlen -= k;
			if (l->hold_first) {
				/* BI_START: wait for a second packet. */
				l->hold_first = 0;
				pk->held = 1;
				ks_logf(pk->ready, "USB IN packet held (%zu "
				    "bytes): usbfs sends two when starting",
				    k);
			} else if (l->nhw == 2 && l->hw[0].held) {
				l->hw[0].held = 0;
				ks_logf(pk->ready, "USB IN held packet "
				    "released by the second");
			}
		}
		if (!client_open(l) || l->nhw == 0 || l->hw[0].held)
			return;
		pk = &l->hw[0];
		start = pk->ready > l->in_bus ? pk->ready : l->in_bus;
		if (l->timing) {
			done = start + ks_usb_packet_ns(pk->n);
			l->in_bus = done;
			l->hw_free = done;
			done = ks_usb_next_frame(done, l->frame_ns);
		} else {
			done = start;
		}
		enqueue(l, pk->b, pk->n, done);
		memmove(&l->hw[0], &l->hw[1], sizeof(l->hw[0]));
		l->nhw--;
	}
}

static void
usb_emit(struct kt_link *l, const uint8_t *p, size_t n, uint64_t t)
{
	/* console_sendf(): a message that does not fit is dropped. */
	if (l->usb_txlen + n > USB_TX_BUF) {
		ks_logf(t, "USB TX buffer full: %zu-byte reply dropped", n);
		return;
	}
	memcpy(l->usb_tx + l->usb_txlen, p, n);
	l->usb_txlen += n;
	l->usb_tx_t = t;
	usb_pump(l);
}

void
kt_emit(void *ctx, const uint8_t *p, size_t n, uint64_t t)
{
	struct kt_link *l = ctx;

	if (l->kind == KS_LINK_USB)
		usb_emit(l, p, n, t);
	else
		uart_emit(l, p, n, t);
}

void
kt_act(void *ctx, enum ks_action a, uint64_t t)
{
	struct kt_link *l = ctx;

	if (l->kind == KS_LINK_USB && a == KS_ACT_DETACH) {
		detach(l, t);
		l->attach_at = 0;
		l->rom_at = 0;
		/* The ROM enumerates after the reset as any device does. */
		if (l->dev->run == KS_RUN_ROM && l->sysfs != NULL)
			l->rom_at = t + l->reenum_ns > 0 ? t + l->reenum_ns :
			    1;
	} else if (l->kind == KS_LINK_USB && a == KS_ACT_ATTACH) {
		l->attach_at = t + l->reenum_ns;
		if (l->attach_at == 0)
			l->attach_at = 1;
	}
	write_state(l);
}

/*
 * Host bytes.
 */
static void
deliver(struct kt_link *l, const uint8_t *p, size_t n, uint64_t t)
{
	if (l->dev->run == KS_RUN_KATAPULT)
		(void)ks_dev_input(l->dev, p, n, t);
	else if (l->dev->run == KS_RUN_APP)
		ks_dev_app_input(l->dev, p, n, t);
}

static void
uart_input(struct kt_link *l, const uint8_t *p, size_t n, uint64_t now)
{
	uint8_t rs[KT_READ_MAX * KT_RESAMPLE_FACTOR];
	uint32_t hb = host_termios(l, NULL), db = dev_baud(l);
	uint64_t host_ns = l->timing ? ks_uart_byte_ns(hb ? hb : db) : 0;
	uint64_t span, per, t;
	size_t i, m = n;
	const uint8_t *q = p;

	/* The chunk's wire time is the host's; what arrives, the device's
	 * reading of it. */
	t = l->rx_wire > now ? l->rx_wire : now;
	span = n * host_ns;
	if (hb != 0 && hb != db) {
		m = ks_uart_resample(p, n, hb, db, rs, sizeof(rs));
		q = rs;
	}
	per = m > 0 ? span / m : 0;
	for (i = 0; i < m; i++) {
		uint64_t at = t + (i + 1) * per, step;
		uint8_t b = q[i];

		if (ks_rng_chance(l->rng, l->drop))
			continue;
		if (ks_rng_chance(l->rng, l->corrupt))
			b ^= (uint8_t)(1u << (ks_rng_next(l->rng) & 7));
		step = l->timing ? ks_dev_stall_step(l->dev, at) : 0;
		if (step != 0) {
			if (step != l->stall_step) {
				l->stall_step = step;
				l->stall_count = 0;
			}
			if (++l->stall_count > l->dev->m->uart_rx_fifo) {
				ks_logf(at, "UART overrun: byte lost while "
				    "the flash stalls the CPU");
				continue;
			}
		}
		if (l->dev->run == KS_RUN_KATAPULT || l->dev->run ==
		    KS_RUN_APP)
			deliver(l, &b, 1, at);
	}
	l->rx_wire = t + span;
}

/* USB OUT: packets to the device while it has room; the rest waits. */
static void
usb_feed(struct kt_link *l)
{
	while (l->npend > 0) {
		size_t k = l->npend > KS_USB_PACKET ? KS_USB_PACKET : l->npend;
		uint64_t start, at;

		if (l->dev->run == KS_RUN_KATAPULT &&
		    ks_dev_rx_room(l->dev) < KS_USB_PACKET) {
			if (!l->out_stalled)
				ks_logf(l->pend_t, "USB OUT stalled: %zu bytes "
				    "in the receive buffer, a packet needs %u "
				    "free", l->dev->rx.len, KS_USB_PACKET);
			l->out_stalled = 1;
			return;
		}
		if (l->dev->run != KS_RUN_KATAPULT &&
		    l->dev->run != KS_RUN_APP) {
			/* Hard fault: the endpoint NAKs for ever. */
			return;
		}
		l->out_stalled = 0;
		start = ks_usb_next_frame(l->pend_t, l->timing ?
		    l->frame_ns : 0);
		if (start < l->out_bus)
			start = l->out_bus;
		at = l->timing ? start + ks_usb_packet_ns(k) : start;
		l->out_bus = at;
		deliver(l, l->pend, k, at);
		memmove(l->pend, l->pend + k, l->npend - k);
		l->npend -= k;
	}
}

static void drain_inotify(struct kt_link *l, uint64_t t);

/* May the main loop read the master now? */
int
kt_want_read(const struct kt_link *l)
{
	if (l->master < 0 || l->clients <= 0)
		return 0;
	if (l->kind == KS_LINK_USB)
		return l->npend == 0;
	return 1;
}

void
kt_read(struct kt_link *l)
{
	uint8_t buf[KT_READ_MAX];
	uint64_t now = ks_now();
	ssize_t n;

	/*
	 * A client's bytes come after its open, and after the close of
	 * the client before it: take those first, or that close, seen
	 * late, drops the reply to these bytes with the old client's.
	 */
	drain_inotify(l, now);
	n = read(l->master, buf, sizeof(buf));

	if (n <= 0)
		return;
	if (l->kind == KS_LINK_USB) {
		memcpy(l->pend, buf, (size_t)n);
		l->npend = (size_t)n;
		l->pend_t = now;
		usb_feed(l);
	} else {
		uart_input(l, buf, (size_t)n, now);
	}
	kt_line_check(l, now);
}

/*
 * Modem lines and the line coding, as the USB device sees them
 * (SET_CONTROL_LINE_STATE, SET_LINE_CODING).
 */
void
kt_line_check(struct kt_link *l, uint64_t t)
{
	uint32_t baud;

	if (l->kind != KS_LINK_USB || l->master < 0)
		return;
	baud = host_termios(l, NULL);
	if (baud == l->seen_baud && l->dtr == l->seen_dtr)
		return;
	if (baud != l->seen_baud)
		ks_logf(t, "USB line coding %u baud", baud);
	if (l->dtr != l->seen_dtr)
		ks_logf(t, "USB control line dtr=%d rts=%d", l->dtr, l->rts);
	l->seen_baud = baud;
	l->seen_dtr = l->dtr;
	ks_dev_usb_line(l->dev, baud, l->dtr, t);
}

static void
drain_inotify(struct kt_link *l, uint64_t t)
{
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;
	int closed = 0;

	if (l->ino_fd < 0)
		return;
	while ((n = read(l->ino_fd, buf, sizeof(buf))) > 0) {
		ssize_t off = 0;

		while (off + (ssize_t)sizeof(struct inotify_event) <= n) {
			struct inotify_event ev;

			memcpy(&ev, buf + off, sizeof(ev));
			off += (ssize_t)sizeof(ev) + ev.len;
			if (ev.mask & IN_OPEN) {
				if (l->own_opens > 0) {
					l->own_opens--;
					continue;
				}
				l->clients++;
				/* tty_port_block_til_ready(): an open
				 * raises DTR and RTS (unless B0). */
				if (host_termios(l, NULL) != 0)
					l->dtr = l->rts = 1;
			}
			if (ev.mask & IN_CLOSE) {
				if (l->own_closes > 0) {
					l->own_closes--;
					continue;
				}
				if (l->clients > 0 && --l->clients == 0)
					closed = 1;
			}
		}
	}
	if (closed) {
		int hupcl = 1;

		(void)host_termios(l, &hupcl);
		if (hupcl)
			l->dtr = l->rts = 0;
		/* What the client left unread goes with it. */
		l->nout = 0;
		l->out_off = 0;
		(void)touch_slave(l, 0);
	}
	kt_line_check(l, t);
	if (l->clients > 0 && l->kind == KS_LINK_USB)
		usb_pump(l);
}

/*
 * libft-shim.so's socket: one text line each way (see test/sim/usart/
 * README).  Modem lines are kept here; opens and closes are counted from
 * inotify, which sees every client, with or without the shim.
 */
static void
shim_reply(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
shim_reply(int fd, const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n >= (int)sizeof(line) - 1)
		return;
	line[n++] = '\n';
	(void)!write(fd, line, (size_t)n);
}

static long
field(const char *line, const char *key)
{
	const char *p = line;
	size_t kl = strlen(key);

	while ((p = strstr(p, key)) != NULL) {
		if ((p == line || p[-1] == ' ') && p[kl] == '=')
			return strtol(p + kl + 1, NULL, 0);
		p += kl;
	}
	return -1;
}

static void
shim_line(struct kt_link *l, int fd, const char *line)
{
	uint64_t t = ks_now();
	long v;

	drain_inotify(l, t);
	if (strncmp(line, "HELLO", 5) == 0) {
		shim_reply(fd, "OK rdev=%u:%u dtr=%d rts=%d serial=0x0",
		    l->master >= 0 ? major(l->rdev) : 0,
		    l->master >= 0 ? minor(l->rdev) : 0, l->dtr, l->rts);
	} else if (strncmp(line, "TTY SET", 7) == 0) {
		if ((v = field(line, "dtr")) >= 0)
			l->dtr = v != 0;
		if ((v = field(line, "rts")) >= 0)
			l->rts = v != 0;
		kt_line_check(l, t);
		shim_reply(fd, "OK dtr=%d rts=%d", l->dtr, l->rts);
	} else if (strncmp(line, "TTY GET", 7) == 0) {
		shim_reply(fd, "OK dtr=%d rts=%d serial=0x0", l->dtr, l->rts);
	} else if (strncmp(line, "TTY ", 4) == 0 ||
	    strncmp(line, "GPIO", 4) == 0 || strncmp(line, "SYNC", 4) == 0) {
		/* OPEN, CLOSE, BREAK, SERIAL: inotify has the opens. */
		shim_reply(fd, "OK dtr=%d rts=%d", l->dtr, l->rts);
	} else {
		shim_reply(fd, "ERR unknown request");
	}
}

void
kt_shim_accept(struct kt_link *l)
{
	int fd = accept4(l->shim_listen, NULL, NULL, SOCK_CLOEXEC);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < KT_SHIM_CONNS; i++)
		if (l->conn[i].fd < 0) {
			l->conn[i].fd = fd;
			l->conn[i].len = 0;
			return;
		}
	close(fd);
}

void
kt_shim_read(struct kt_link *l, size_t i)
{
	struct kt_conn *c = &l->conn[i];
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	char *nl;

	if (n <= 0) {
		close(c->fd);
		c->fd = -1;
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	while ((nl = strchr(c->buf, '\n')) != NULL) {
		*nl = '\0';
		shim_line(l, c->fd, c->buf);
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len);
		c->buf[c->len] = '\0';
	}
	if (c->len == sizeof(c->buf) - 1)
		c->len = 0;
}

int
kt_open(struct kt_link *l, char *err, size_t errlen)
{
	struct sockaddr_un sa;
	size_t i;

	l->master = l->ino_fd = l->shim_listen = -1;
	for (i = 0; i < KT_SHIM_CONNS; i++)
		l->conn[i].fd = -1;
	l->seen_baud = UINT32_MAX;
	l->seen_dtr = -1;
	if (l->shim_path != NULL) {
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		if (strlen(l->shim_path) >= sizeof(sa.sun_path)) {
			snprintf(err, errlen, "--board-socket path too long");
			return -1;
		}
		strcpy(sa.sun_path, l->shim_path);
		(void)unlink(l->shim_path);
		l->shim_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (l->shim_listen < 0 || bind(l->shim_listen,
		    (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
		    listen(l->shim_listen, 8) != 0) {
			snprintf(err, errlen, "%s: %s", l->shim_path,
			    strerror(errno));
			return -1;
		}
	}
	if (l->dev->run == KS_RUN_KATAPULT || l->dev->run == KS_RUN_APP ||
	    l->kind == KS_LINK_UART)
		return attach(l, ks_now());
	write_state(l);
	return 0;
}

void
kt_close(struct kt_link *l)
{
	size_t i;

	if (l->master >= 0) {
		if (l->link_path != NULL)
			(void)unlink(l->link_path);
		if (l->byid_path[0] != '\0')
			(void)unlink(l->byid_path);
		close(l->master);
	}
	if (l->ino_fd >= 0)
		close(l->ino_fd);
	for (i = 0; i < KT_SHIM_CONNS; i++)
		if (l->conn[i].fd >= 0)
			close(l->conn[i].fd);
	if (l->shim_listen >= 0) {
		close(l->shim_listen);
		(void)unlink(l->shim_path);
	}
	/* Unplugged: the device leaves the tree too. */
	if (l->sysfs != NULL)
		ks_sysfs_remove(l->sysfs);
	l->netdev = 0;
	l->master = l->ino_fd = l->shim_listen = -1;
}

/* Write what is due; returns the next due time (0: nothing queued). */
uint64_t
kt_flush(struct kt_link *l, uint64_t now)
{
	while (l->nout > 0) {
		struct kt_out *o = &l->out[0];
		ssize_t w;

		if (o->at > now)
			return o->at;
		if (!client_open(l)) {
			l->nout = 0;
			l->out_off = 0;
			return 0;
		}
		w = write(l->master, o->b + l->out_off, o->n - l->out_off);
		if (w < 0 && (errno == EAGAIN || errno == EINTR))
			return now + NS_PER_MS;
		if (w < 0) {
			l->nout = 0;
			return 0;
		}
		l->out_off += (size_t)w;
		if (l->out_off < o->n)
			return now + NS_PER_MS;
		l->out_off = 0;
		memmove(&l->out[0], &l->out[1],
		    (l->nout - 1) * sizeof(l->out[0]));
		l->nout--;
	}
	return 0;
}

uint64_t
kt_next_event(struct kt_link *l, uint64_t now)
{
	uint64_t next = l->nout > 0 ? l->out[0].at : 0;

	if (l->attach_at != 0 && (next == 0 || l->attach_at < next))
		next = l->attach_at;
	if (l->rom_at != 0 && (next == 0 || l->rom_at < next))
		next = l->rom_at;
	/* The line coding is polled while a USB client is open. */
	if (l->kind == KS_LINK_USB && client_open(l) &&
	    l->dev->run == KS_RUN_APP &&
	    (next == 0 || now + USB_ACTIVE_NS < next))
		next = now + USB_ACTIVE_NS;
	return next;
}

void
kt_service(struct kt_link *l, uint64_t now, int ino_ready)
{
	if (ino_ready)
		drain_inotify(l, now);
	if (l->attach_at != 0 && now >= l->attach_at) {
		uint64_t t = l->attach_at;

		l->attach_at = 0;
		if (l->dev->run == KS_RUN_KATAPULT ||
		    l->dev->run == KS_RUN_APP)
			(void)attach(l, t);
	}
	if (l->rom_at != 0 && now >= l->rom_at) {
		uint64_t t = l->rom_at;

		l->rom_at = 0;
		if (l->dev->run == KS_RUN_ROM)
			attach_rom(l, t);
	}
	if (l->kind == KS_LINK_USB) {
		usb_feed(l);
		usb_pump(l);
		if (client_open(l))
			kt_line_check(l, now);
	}
	(void)kt_flush(l, now);
}
