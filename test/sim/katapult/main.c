/*
 * main.c - katapult-sim: a Katapult bootloader device, or the Klipper
 * application that enters it, on a pty (UART or USB CDC) or on a CAN bus,
 * for tests of flashtool.  Options are parsed here; the device lives in
 * device.c, the links in tty.c and canbus.c.  README has the details.
 *
 * Signals: SIGUSR1 presses the reset button once, SIGUSR2 twice (a
 * double reset, which stays in Katapult); SIGTERM and SIGINT stop.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "canbus.h"
#include "tty.h"

#define DEFAULT_BAUD 250000		/* Katapult's and Klipper's default */
#define DEFAULT_REENUM_MS 500		/* [est] README "re-enumeration" */
#define DEFAULT_BOOT_MS 10		/* [est] reset to firmware running */
#define DEFAULT_FRAME_US 1000		/* USB full-speed frame */
#define DEFAULT_CAN_BITRATE 1000000
#define POLL_FDS (5 + KT_SHIM_CONNS)
#define DEFAULT_USB_PORT "1-1.3"	/* the bridge's USB port path */

struct opts {
	const char *link;
	const char *can;
	enum ks_link_kind kind;
	const char *log;
	const char *state;
	const char *byid;
	const char *shim;
	const char *sysfs;	/* --sysfs DIR: DIR/sys, DIR/dev */
	const char *usb_port;
	const char *usb_serial;	/* NULL: the chip id (usb_fill_serial) */
	int bridge;		/* the first CAN device is the host's adapter */
	struct ks_devcfg dev;
	struct ks_devcfg nodes[KC_MAX_NODES];
	size_t nnodes;
	struct ks_faults fault;
	int timing;
	uint32_t baud, app_baud;
	uint32_t reenum_ms, boot_ms, frame_us;
	int usb_hold;		/* -1: the model's */
	uint32_t can_bitrate;
	int can_worst;
	uint64_t seed;
	double corrupt, drop;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: katapult-sim --flash FILE (--link PATH [--usb|--uart] |"
	    " --can IFACE|unix:PATH)\n"
	    "  device:  [--model f042|g0b1|f446|rp2040] [--uid HEX] "
	    "[--version STR]\n"
	    "           [--old-proto] [--start katapult|app] "
	    "[--no-katapult]\n"
	    "           [--app-image FILE] [--parser katapult|fixed] "
	    "[--node SPEC]...\n"
	    "  link:    [--baud N] [--app-baud N] [--usb-frame-us N] "
	    "[--usb-hold on|off]\n"
	    "           [--reenum-ms N] [--boot-ms N] [--board-socket PATH] "
	    "[--by-id DIR]\n"
	    "           [--can-bitrate N] [--can-stuffing worst|none] "
	    "[--timing]\n"
	    "  faults:  [--seed N] [--corrupt R] [--drop R] [--nack R] "
	    "[--error R]\n"
	    "           [--busy R] [--lose-ack R] [--vanish-after N] "
	    "[--wedge-after N]\n"
	    "  bridge:  [--bridge] [--sysfs DIR] [--usb-port PATH] "
	    "[--usb-serial STR]\n"
	    "  output:  [--log FILE] [--state FILE]\n"
	    "  SPEC (CAN nodes after the first): model=K,flash=F[,uid=HEX]"
	    "[,start=app]\n"
	    "           [,version=S][,old-proto=1][,no-katapult=1]"
	    "[,app-image=F]\n"
	    "  SIGUSR1: reset; SIGUSR2: double reset; see "
	    "test/sim/katapult/README\n");
}

static int
num(const char *name, const char *s, unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 0);
	if (errno != 0 || end == s || *end != '\0' || *out > max) {
		fprintf(stderr, "katapult-sim: --%s wants a number up to "
		    "%lu, not '%s'\n", name, max, s);
		return -1;
	}
	return 0;
}

static int
rate(const char *name, const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || *out < 0.0 ||
	    *out > 1.0) {
		fprintf(stderr, "katapult-sim: --%s wants a rate 0..1, not "
		    "'%s'\n", name, s);
		return -1;
	}
	return 0;
}

/* "model=g0b1,flash=n1.bin,uid=...": keys of a CAN node. */
static int
parse_node(char *spec, struct ks_devcfg *c)
{
	char *save = NULL, *kv;

	for (kv = strtok_r(spec, ",", &save); kv != NULL;
	    kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');

		if (v == NULL)
			goto bad;
		*v++ = '\0';
		if (strcmp(kv, "model") == 0)
			c->model = v;
		else if (strcmp(kv, "flash") == 0)
			c->flash = v;
		else if (strcmp(kv, "uid") == 0)
			c->uid_hex = v;
		else if (strcmp(kv, "version") == 0)
			c->version = v;
		else if (strcmp(kv, "app-image") == 0)
			c->app_image = v;
		else if (strcmp(kv, "start") == 0)
			c->start_app = strcmp(v, "app") == 0;
		else if (strcmp(kv, "old-proto") == 0)
			c->old_proto = strcmp(v, "0") != 0;
		else if (strcmp(kv, "no-katapult") == 0)
			c->no_katapult = strcmp(v, "0") != 0;
		else
			goto bad;
	}
	if (c->flash == NULL) {
		fprintf(stderr, "katapult-sim: --node needs flash=FILE\n");
		return -1;
	}
	return 0;
bad:
	fprintf(stderr, "katapult-sim: bad --node key '%s'\n", kv);
	return -1;
}

enum {
	O_LINK = 256, O_USB, O_UART, O_CAN, O_FLASH, O_LOG, O_STATE, O_BYID,
	O_SHIM, O_MODEL, O_UID, O_VERSION, O_OLD, O_START, O_NOKAT, O_APPIMG,
	O_PARSER, O_NODE, O_TIMING, O_BAUD, O_APPBAUD, O_FRAME, O_HOLD,
	O_REENUM, O_BOOT, O_CANRATE, O_STUFF, O_SEED, O_CORRUPT, O_DROP,
	O_NACK, O_ERROR, O_BUSY, O_LOSE, O_VANISH, O_WEDGE, O_HELP,
	O_BRIDGE, O_SYSFS, O_USBPORT, O_USBSERIAL,
};

static const struct option longopts[] = {
	{ "link", required_argument, NULL, O_LINK },
	{ "usb", no_argument, NULL, O_USB },
	{ "uart", no_argument, NULL, O_UART },
	{ "can", required_argument, NULL, O_CAN },
	{ "flash", required_argument, NULL, O_FLASH },
	{ "log", required_argument, NULL, O_LOG },
	{ "state", required_argument, NULL, O_STATE },
	{ "by-id", required_argument, NULL, O_BYID },
	{ "board-socket", required_argument, NULL, O_SHIM },
	{ "model", required_argument, NULL, O_MODEL },
	{ "uid", required_argument, NULL, O_UID },
	{ "version", required_argument, NULL, O_VERSION },
	{ "old-proto", no_argument, NULL, O_OLD },
	{ "start", required_argument, NULL, O_START },
	{ "no-katapult", no_argument, NULL, O_NOKAT },
	{ "app-image", required_argument, NULL, O_APPIMG },
	{ "parser", required_argument, NULL, O_PARSER },
	{ "node", required_argument, NULL, O_NODE },
	{ "timing", no_argument, NULL, O_TIMING },
	{ "baud", required_argument, NULL, O_BAUD },
	{ "app-baud", required_argument, NULL, O_APPBAUD },
	{ "usb-frame-us", required_argument, NULL, O_FRAME },
	{ "usb-hold", required_argument, NULL, O_HOLD },
	{ "reenum-ms", required_argument, NULL, O_REENUM },
	{ "boot-ms", required_argument, NULL, O_BOOT },
	{ "can-bitrate", required_argument, NULL, O_CANRATE },
	{ "can-stuffing", required_argument, NULL, O_STUFF },
	{ "seed", required_argument, NULL, O_SEED },
	{ "corrupt", required_argument, NULL, O_CORRUPT },
	{ "drop", required_argument, NULL, O_DROP },
	{ "nack", required_argument, NULL, O_NACK },
	{ "error", required_argument, NULL, O_ERROR },
	{ "busy", required_argument, NULL, O_BUSY },
	{ "lose-ack", required_argument, NULL, O_LOSE },
	{ "vanish-after", required_argument, NULL, O_VANISH },
	{ "wedge-after", required_argument, NULL, O_WEDGE },
	{ "bridge", no_argument, NULL, O_BRIDGE },
	{ "sysfs", required_argument, NULL, O_SYSFS },
	{ "usb-port", required_argument, NULL, O_USBPORT },
	{ "usb-serial", required_argument, NULL, O_USBSERIAL },
	{ "help", no_argument, NULL, O_HELP },
	{ NULL, 0, NULL, 0 },
};

static const char *
opt_name(int c)
{
	size_t i;

	for (i = 0; longopts[i].name != NULL; i++)
		if (longopts[i].val == c)
			return longopts[i].name;
	return "?";
}

/* Options that take a string or nothing: 1 handled, 0 not one. */
static int
opt_plain(struct opts *o, int c, const char *arg)
{
	switch (c) {
	case O_LINK: o->link = arg; break;
	case O_USB: o->kind = KS_LINK_USB; break;
	case O_UART: o->kind = KS_LINK_UART; break;
	case O_CAN: o->can = arg; break;
	case O_FLASH: o->dev.flash = arg; break;
	case O_LOG: o->log = arg; break;
	case O_STATE: o->state = arg; break;
	case O_BYID: o->byid = arg; break;
	case O_SHIM: o->shim = arg; break;
	case O_MODEL: o->dev.model = arg; break;
	case O_UID: o->dev.uid_hex = arg; break;
	case O_VERSION: o->dev.version = arg; break;
	case O_OLD: o->dev.old_proto = 1; break;
	case O_NOKAT: o->dev.no_katapult = 1; break;
	case O_APPIMG: o->dev.app_image = arg; break;
	case O_TIMING: o->timing = 1; break;
	case O_BRIDGE: o->bridge = 1; break;
	case O_SYSFS: o->sysfs = arg; break;
	case O_USBPORT: o->usb_port = arg; break;
	case O_USBSERIAL: o->usb_serial = arg; break;
	default: return 0;
	}
	return 1;
}

/* One of two words: 1 or 0 for them, -1 for anything else. */
static int
pick(const char *arg, const char *yes, const char *no)
{
	if (strcmp(arg, yes) == 0)
		return 1;
	return strcmp(arg, no) == 0 ? 0 : -1;
}

/* Options that take one of two words: 1 handled, -1 bad, 0 not one. */
static int
opt_choice(struct opts *o, int c, const char *arg)
{
	int v;

	switch (c) {
	case O_START: v = pick(arg, "app", "katapult"); break;
	case O_PARSER: v = pick(arg, "fixed", "katapult"); break;
	case O_HOLD: v = pick(arg, "on", "off"); break;
	case O_STUFF: v = pick(arg, "worst", "none"); break;
	default: return 0;
	}
	if (v < 0) {
		fprintf(stderr, "katapult-sim: --%s: not '%s'\n", opt_name(c),
		    arg);
		return -1;
	}
	if (c == O_START)
		o->dev.start_app = v;
	else if (c == O_PARSER)
		o->dev.parser = v ? KS_PARSER_FIXED : KS_PARSER_KATAPULT;
	else if (c == O_HOLD)
		o->usb_hold = v;
	else
		o->can_worst = v;
	return 1;
}

/* Numbers: 1 handled, -1 bad, 0 not one. */
static int
opt_number(struct opts *o, int c, const char *arg)
{
	static const struct {
		int c;
		unsigned long max;
	} limits[] = {
		{ O_BAUD, 12000000 }, { O_APPBAUD, 12000000 },
		{ O_FRAME, 1000000 }, { O_REENUM, 600000 },
		{ O_BOOT, 600000 }, { O_CANRATE, 8000000 },
		{ O_SEED, ~0ul }, { O_VANISH, 1000000 },
		{ O_WEDGE, 1000000 },
	};
	unsigned long v;
	size_t i;

	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++)
		if (limits[i].c == c)
			break;
	if (i == sizeof(limits) / sizeof(limits[0]))
		return 0;
	if (num(opt_name(c), arg, limits[i].max, &v) != 0)
		return -1;
	switch (c) {
	case O_BAUD: o->baud = (uint32_t)v; break;
	case O_APPBAUD: o->app_baud = (uint32_t)v; break;
	case O_FRAME: o->frame_us = (uint32_t)v; break;
	case O_REENUM: o->reenum_ms = (uint32_t)v; break;
	case O_BOOT: o->boot_ms = (uint32_t)v; break;
	case O_CANRATE: o->can_bitrate = v ? (uint32_t)v : 1; break;
	case O_SEED: o->seed = v; break;
	case O_VANISH: o->fault.vanish_after = (long)v; break;
	default: o->fault.wedge_after = (long)v; break;
	}
	return 1;
}

/* Rates 0..1: 1 handled, -1 bad, 0 not one. */
static int
opt_rate(struct opts *o, int c, const char *arg)
{
	double *d;

	switch (c) {
	case O_CORRUPT: d = &o->corrupt; break;
	case O_DROP: d = &o->drop; break;
	case O_NACK: d = &o->fault.nack; break;
	case O_ERROR: d = &o->fault.error; break;
	case O_BUSY: d = &o->fault.busy; break;
	case O_LOSE: d = &o->fault.lose_ack; break;
	default: return 0;
	}
	return rate(opt_name(c), arg, d) == 0 ? 1 : -1;
}

static int
add_node(struct opts *o, const char *arg)
{
	struct ks_devcfg *n;
	static char spec[KC_MAX_NODES][512];

	if (o->nnodes + 1 >= KC_MAX_NODES) {
		fprintf(stderr, "katapult-sim: at most %d nodes\n",
		    KC_MAX_NODES);
		return -1;
	}
	n = &o->nodes[o->nnodes];
	*n = o->dev;
	n->flash = n->uid_hex = n->app_image = NULL;
	snprintf(spec[o->nnodes], sizeof(spec[0]), "%s", arg);
	if (parse_node(spec[o->nnodes], n) != 0)
		return -1;
	o->nnodes++;
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	int c, r;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (c == O_HELP) {
			usage(stdout);
			exit(0);
		}
		if (c == O_NODE) {
			if (add_node(o, optarg) != 0)
				return -1;
			continue;
		}
		if (opt_plain(o, c, optarg))
			continue;
		r = opt_choice(o, c, optarg);
		if (r == 0)
			r = opt_number(o, c, optarg);
		if (r == 0)
			r = opt_rate(o, c, optarg);
		if (r < 0)
			return -1;
		if (r == 0)
			goto bad;
	}
	if (optind != argc || o->dev.flash == NULL ||
	    (o->can == NULL && o->link == NULL) ||
	    (o->can != NULL && o->link != NULL && !o->bridge) ||
	    (o->nnodes > 0 && o->can == NULL) ||
	    (o->bridge && o->can == NULL))
		goto bad;
	return 0;
bad:
	usage(stderr);
	return -1;
}

static void
setup_dev(struct ks_dev *d, const struct opts *o, uint64_t salt)
{
	d->fault = o->fault;
	d->timing = o->timing;
	d->boot_ms = o->boot_ms;
	d->rng.state = o->seed * 0x9E3779B97F4A7C15ull + salt + 1;
}

static int
signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
		return -1;
	signal(SIGPIPE, SIG_IGN);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* 1: stop. */
static int
on_signal(int sfd, struct ks_dev **devs, size_t ndev)
{
	struct signalfd_siginfo si;
	size_t i;

	while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGUSR1 || si.ssi_signo == SIGUSR2) {
			for (i = 0; i < ndev; i++)
				ks_dev_reset(devs[i], si.ssi_signo == SIGUSR2,
				    ks_now());
			continue;
		}
		return 1;
	}
	return 0;
}

/*
 * The wait until the next event, to the nanosecond: a wait rounded up
 * to whole milliseconds (poll()) delivered replies up to 1 ms after the
 * model time they were due, which a client then paid on every round
 * trip.  NULL: no event, wait for input.
 */
static const struct timespec *
poll_wait(uint64_t next, uint64_t now, struct timespec *ts)
{
	uint64_t ns;

	if (next == 0)
		return NULL;
	ns = next > now ? next - now : 0;
	if (ns > NS_PER_S)
		ns = NS_PER_S;
	ts->tv_sec = (time_t)(ns / NS_PER_S);
	ts->tv_nsec = (long)(ns % NS_PER_S);
	return ts;
}

static uint64_t
earliest(uint64_t a, uint64_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

/* The sysfs tree of --sysfs, for the one USB device it shows. */
static struct ks_sysfs sysfs_tree;

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/*
 * --sysfs: the tree, and where by-id links go when --by-id is not
 * given.  The CAN interface is the one the bus stands for: a SocketCAN
 * name, or the file name of a unix bus (unix:DIR/can0 plays can0).
 */
static int
sysfs_setup(struct opts *o)
{
	static char byid[1200];
	const char *iface = "can0";

	if (o->sysfs == NULL)
		return 0;
	if (o->can != NULL)
		iface = base_name(strncmp(o->can, "unix:", 5) == 0 ?
		    o->can + 5 : o->can);
	if (ks_sysfs_init(&sysfs_tree, o->sysfs, o->usb_port != NULL ?
	    o->usb_port : DEFAULT_USB_PORT, iface) != 0) {
		fprintf(stderr, "katapult-sim: --sysfs %s: cannot make the "
		    "tree there\n", o->sysfs);
		return -1;
	}
	if (o->byid == NULL) {
		snprintf(byid, sizeof(byid), "%s/dev/serial/by-id", o->sysfs);
		o->byid = byid;
	}
	return 0;
}

static void
tty_setup(struct kt_link *l, struct ks_dev *dev, const struct opts *o,
    enum ks_link_kind kind, struct ks_rng *rng)
{
	memset(l, 0, sizeof(*l));
	l->dev = dev;
	l->kind = kind;
	if (o->sysfs != NULL && kind == KS_LINK_USB)
		l->sysfs = &sysfs_tree;
	if (o->usb_serial != NULL)
		snprintf(dev->serial, sizeof(dev->serial), "%s",
		    o->usb_serial);
	l->link_path = o->link;
	l->byid_dir = o->byid;
	l->state_path = o->state;
	l->shim_path = o->shim;
	l->kp_baud = o->baud;
	l->app_baud = o->app_baud;
	l->reenum_ns = (uint64_t)o->reenum_ms * NS_PER_MS;
	l->frame_ns = (uint64_t)o->frame_us * NS_PER_US;
	l->usb_hold = o->usb_hold >= 0 ? o->usb_hold : dev->m->usbfs;
	l->timing = o->timing;
	l->corrupt = o->corrupt;
	l->drop = o->drop;
	l->rng = rng;
	dev->emit = kt_emit;
	dev->act = kt_act;
	dev->link_ctx = l;
	ks_logf(ks_now(), "START %s%s %s on %s, %s, uuid %02x%02x%02x%02x%02x"
	    "%02x, serial %s", dev->name, dev->m->mcu, ks_run_name(dev->run),
	    o->bridge ? "usb-can bridge" : kind == KS_LINK_USB ? "usb" :
	    "uart",
	    ks_flash_has_katapult(&dev->flash) ? "katapult installed" :
	    "no katapult", dev->uuid[0], dev->uuid[1], dev->uuid[2],
	    dev->uuid[3], dev->uuid[4], dev->uuid[5], dev->serial);
}

/* The descriptors of a tty run, and where each one sits in p. */
struct tty_fds {
	struct pollfd p[POLL_FDS];
	int n, ino, master, listen, conn[KT_SHIM_CONNS];
};

static void
add_fd(struct tty_fds *f, int fd, int *slot)
{
	*slot = -1;
	if (fd < 0)
		return;
	*slot = f->n;
	f->p[f->n].fd = fd;
	f->p[f->n].events = POLLIN;
	f->p[f->n].revents = 0;
	f->n++;
}

static void
tty_fds(struct tty_fds *f, const struct kt_link *l, int sfd)
{
	int unused;
	size_t i;

	f->n = 0;
	add_fd(f, sfd, &unused);
	add_fd(f, l->ino_fd, &f->ino);
	add_fd(f, kt_want_read(l) ? l->master : -1, &f->master);
	add_fd(f, l->shim_listen, &f->listen);
	for (i = 0; i < KT_SHIM_CONNS; i++)
		add_fd(f, l->conn[i].fd, &f->conn[i]);
}

static int
ready(const struct tty_fds *f, int slot, short events)
{
	return slot >= 0 && (f->p[slot].revents & events) != 0;
}

/* What poll() saw on a tty link's descriptors. */
static void
tty_events(const struct tty_fds *f, struct kt_link *l)
{
	uint64_t now = ks_now();
	size_t i;

	if (ready(f, f->ino, POLLIN))
		kt_service(l, now, 1);
	if (ready(f, f->listen, POLLIN))
		kt_shim_accept(l);
	for (i = 0; i < KT_SHIM_CONNS; i++)
		if (ready(f, f->conn[i], POLLIN | POLLHUP))
			kt_shim_read(l, i);
	if (ready(f, f->master, POLLIN) && l->master >= 0)
		kt_read(l);
}

static int
run_tty(struct opts *o, int sfd)
{
	static struct kt_link l;
	struct ks_dev dev, *devs[1] = { &dev };
	struct ks_rng wire_rng = { o->seed ^ 0x5A5A5A5A5A5A5A5Aull };
	struct tty_fds f;
	struct timespec ts;
	char err[512];

	if (ks_dev_init(&dev, &o->dev, o->kind, err, sizeof(err)) != 0) {
		fprintf(stderr, "katapult-sim: %s\n", err);
		return 2;
	}
	setup_dev(&dev, o, 0);
	tty_setup(&l, &dev, o, o->kind, &wire_rng);
	if (kt_open(&l, err, sizeof(err)) != 0) {
		fprintf(stderr, "katapult-sim: %s\n", err);
		ks_dev_free(&dev);
		return 2;
	}
	for (;;) {
		uint64_t now = ks_now(), next;

		ks_dev_run_timers(&dev, now);
		kt_service(&l, now, 0);
		next = earliest(kt_next_event(&l, now),
		    ks_dev_next_timer(&dev));
		tty_fds(&f, &l, sfd);
		if (ppoll(f.p, (nfds_t)f.n, poll_wait(next, now, &ts),
		    NULL) < 0 && errno != EINTR)
			break;
		if (ready(&f, 0, POLLIN) && on_signal(sfd, devs, 1))
			break;
		tty_events(&f, &l);
	}
	kt_close(&l);
	ks_dev_free(&dev);
	return 0;
}

/* The bridge's USB device came or went: the host's interface with it. */
static void
bridge_hook(void *ctx, int attached, uint64_t t)
{
	kc_iface(ctx, attached, t);
}

/*
 * --bridge: the first device is the host's USB-to-CAN adapter; its
 * Katapult (a USB build) is a tty link of its own.
 */
static int
bridge_setup(struct kc_bus *b, struct kt_link *l, struct opts *o,
    struct ks_rng *rng, char *err, size_t errlen)
{
	struct ks_dev *d = &b->node[0].dev;

	setup_dev(d, o, 0);
	tty_setup(l, d, o, KS_LINK_USB, rng);
	l->gs_usb = 1;
	l->usb_hook = bridge_hook;
	l->hook_ctx = b;
	if (kt_open(l, err, errlen) != 0)
		return -1;
	/* Not running Klipper: no adapter, no interface. */
	if (d->run != KS_RUN_APP)
		kc_iface(b, 0, ks_now());
	return 0;
}

static int
run_can(struct opts *o, int sfd)
{
	static struct kc_bus b;
	static struct kt_link l;
	struct ks_rng wire_rng = { o->seed ^ 0x5A5A5A5A5A5A5A5Aull };
	struct ks_dev *devs[KC_MAX_NODES];
	struct tty_fds f;
	struct timespec ts;
	char err[512];
	size_t i;
	int bus;

	memset(&b, 0, sizeof(b));
	l.master = l.ino_fd = l.shim_listen = -1;
	for (i = 0; i < KT_SHIM_CONNS; i++)
		l.conn[i].fd = -1;
	b.bitrate = o->can_bitrate;
	b.worst_stuff = o->can_worst;
	b.timing = o->timing;
	if (kc_open(&b, o->can, err, sizeof(err)) != 0 ||
	    (o->bridge ? kc_add_bridge(&b, &o->dev, err, sizeof(err)) :
	    kc_add(&b, &o->dev, err, sizeof(err))) != 0)
		goto fail;
	for (i = 0; i < o->nnodes; i++)
		if (kc_add(&b, &o->nodes[i], err, sizeof(err)) != 0)
			goto fail;
	if (o->bridge && bridge_setup(&b, &l, o, &wire_rng, err,
	    sizeof(err)) != 0)
		goto fail;
	for (i = 0; i < b.nnodes; i++) {
		struct ks_dev *d = &b.node[i].dev;

		devs[i] = d;
		if (b.node[i].bridge)
			continue;
		setup_dev(d, o, i);
		ks_logf(ks_now(), "START %s%s %s on can %s, uuid "
		    "%02x%02x%02x%02x%02x%02x", d->name, d->m->mcu,
		    ks_run_name(d->run), o->can, d->uuid[0], d->uuid[1],
		    d->uuid[2], d->uuid[3], d->uuid[4], d->uuid[5]);
	}
	for (;;) {
		uint64_t now = ks_now(), next;

		kc_service(&b, now);
		next = kc_next_event(&b);
		f.n = 0;
		if (o->bridge) {
			kt_service(&l, now, 0);
			next = earliest(next, kt_next_event(&l, now));
			tty_fds(&f, &l, sfd);
		} else {
			add_fd(&f, sfd, &bus);
		}
		add_fd(&f, b.fd, &bus);
		if (ppoll(f.p, (nfds_t)f.n, poll_wait(next, now, &ts),
		    NULL) < 0 && errno != EINTR)
			break;
		if (ready(&f, 0, POLLIN) && on_signal(sfd, devs, b.nnodes))
			break;
		if (o->bridge)
			tty_events(&f, &l);
		if (ready(&f, bus, POLLIN) && b.fd >= 0)
			kc_read(&b);
	}
	if (o->bridge)
		kt_close(&l);
	kc_close(&b);
	return 0;
fail:
	fprintf(stderr, "katapult-sim: %s\n", err);
	kt_close(&l);
	kc_close(&b);
	return 2;
}

int
main(int argc, char **argv)
{
	static struct opts o;
	int sfd, r;

	o.kind = KS_LINK_USB;
	o.baud = o.app_baud = DEFAULT_BAUD;
	o.reenum_ms = DEFAULT_REENUM_MS;
	o.boot_ms = DEFAULT_BOOT_MS;
	o.frame_us = DEFAULT_FRAME_US;
	o.usb_hold = -1;
	o.can_bitrate = DEFAULT_CAN_BITRATE;
	o.can_worst = 1;
	o.fault.vanish_after = -1;
	o.fault.wedge_after = -1;
	if (parse_args(argc, argv, &o) != 0)
		return 2;
	/* Die with the test that started us. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	ks_log.t0 = ks_now();
	if (o.log != NULL) {
		ks_log.f = fopen(o.log, "a");
		if (ks_log.f == NULL) {
			fprintf(stderr, "katapult-sim: %s: %s\n", o.log,
			    strerror(errno));
			return 2;
		}
	}
	sfd = signals();
	if (sfd < 0) {
		perror("katapult-sim: signalfd");
		return 2;
	}
	if (sysfs_setup(&o) != 0)
		return 2;
	r = o.can != NULL ? run_can(&o, sfd) : run_tty(&o, sfd);
	if (ks_log.f != NULL)
		fclose(ks_log.f);
	close(sfd);
	return r;
}
