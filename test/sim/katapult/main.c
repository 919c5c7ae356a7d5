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
#define POLL_FDS (4 + KT_SHIM_CONNS)

struct opts {
	const char *link;
	const char *can;
	enum ks_link_kind kind;
	const char *log;
	const char *state;
	const char *byid;
	const char *shim;
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
		fprintf(stderr, "katapult-sim: %s wants a number up to %lu, "
		    "not '%s'\n", name, max, s);
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
		fprintf(stderr, "katapult-sim: %s wants a rate 0..1, not "
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

static int
parse_args(int argc, char **argv, struct opts *o)
{
	enum {
		O_LINK = 256, O_USB, O_UART, O_CAN, O_FLASH, O_LOG, O_STATE,
		O_BYID, O_SHIM, O_MODEL, O_UID, O_VERSION, O_OLD, O_START,
		O_NOKAT, O_APPIMG, O_PARSER, O_NODE, O_TIMING, O_BAUD,
		O_APPBAUD, O_FRAME, O_HOLD, O_REENUM, O_BOOT, O_CANRATE,
		O_STUFF, O_SEED, O_CORRUPT, O_DROP, O_NACK, O_ERROR, O_BUSY,
		O_LOSE, O_VANISH, O_WEDGE, O_HELP,
	};
	static const struct option lo[] = {
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
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int c;

	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case O_LINK: o->link = optarg; break;
		case O_USB: o->kind = KS_LINK_USB; break;
		case O_UART: o->kind = KS_LINK_UART; break;
		case O_CAN: o->can = optarg; break;
		case O_FLASH: o->dev.flash = optarg; break;
		case O_LOG: o->log = optarg; break;
		case O_STATE: o->state = optarg; break;
		case O_BYID: o->byid = optarg; break;
		case O_SHIM: o->shim = optarg; break;
		case O_MODEL: o->dev.model = optarg; break;
		case O_UID: o->dev.uid_hex = optarg; break;
		case O_VERSION: o->dev.version = optarg; break;
		case O_OLD: o->dev.old_proto = 1; break;
		case O_START:
			if (strcmp(optarg, "app") != 0 &&
			    strcmp(optarg, "katapult") != 0)
				goto bad;
			o->dev.start_app = strcmp(optarg, "app") == 0;
			break;
		case O_NOKAT: o->dev.no_katapult = 1; break;
		case O_APPIMG: o->dev.app_image = optarg; break;
		case O_PARSER:
			if (strcmp(optarg, "katapult") == 0)
				o->dev.parser = KS_PARSER_KATAPULT;
			else if (strcmp(optarg, "fixed") == 0)
				o->dev.parser = KS_PARSER_FIXED;
			else
				goto bad;
			break;
		case O_NODE:
			if (o->nnodes + 1 >= KC_MAX_NODES)
				goto bad;
			o->nodes[o->nnodes] = o->dev;
			o->nodes[o->nnodes].flash = NULL;
			o->nodes[o->nnodes].uid_hex = NULL;
			o->nodes[o->nnodes].app_image = NULL;
			if (parse_node(optarg, &o->nodes[o->nnodes]) != 0)
				return -1;
			o->nnodes++;
			break;
		case O_TIMING: o->timing = 1; break;
		case O_BAUD:
			if (num("--baud", optarg, 12000000, &v))
				return -1;
			o->baud = (uint32_t)v;
			break;
		case O_APPBAUD:
			if (num("--app-baud", optarg, 12000000, &v))
				return -1;
			o->app_baud = (uint32_t)v;
			break;
		case O_FRAME:
			if (num("--usb-frame-us", optarg, 1000000, &v))
				return -1;
			o->frame_us = (uint32_t)v;
			break;
		case O_HOLD:
			if (strcmp(optarg, "on") != 0 &&
			    strcmp(optarg, "off") != 0)
				goto bad;
			o->usb_hold = strcmp(optarg, "on") == 0;
			break;
		case O_REENUM:
			if (num("--reenum-ms", optarg, 600000, &v))
				return -1;
			o->reenum_ms = (uint32_t)v;
			break;
		case O_BOOT:
			if (num("--boot-ms", optarg, 600000, &v))
				return -1;
			o->boot_ms = (uint32_t)v;
			break;
		case O_CANRATE:
			if (num("--can-bitrate", optarg, 8000000, &v) ||
			    v == 0)
				return -1;
			o->can_bitrate = (uint32_t)v;
			break;
		case O_STUFF:
			if (strcmp(optarg, "worst") != 0 &&
			    strcmp(optarg, "none") != 0)
				goto bad;
			o->can_worst = strcmp(optarg, "worst") == 0;
			break;
		case O_SEED:
			if (num("--seed", optarg, ~0ul, &v))
				return -1;
			o->seed = v;
			break;
		case O_CORRUPT:
			if (rate("--corrupt", optarg, &o->corrupt))
				return -1;
			break;
		case O_DROP:
			if (rate("--drop", optarg, &o->drop))
				return -1;
			break;
		case O_NACK:
			if (rate("--nack", optarg, &o->fault.nack))
				return -1;
			break;
		case O_ERROR:
			if (rate("--error", optarg, &o->fault.error))
				return -1;
			break;
		case O_BUSY:
			if (rate("--busy", optarg, &o->fault.busy))
				return -1;
			break;
		case O_LOSE:
			if (rate("--lose-ack", optarg, &o->fault.lose_ack))
				return -1;
			break;
		case O_VANISH:
			if (num("--vanish-after", optarg, 1000000, &v))
				return -1;
			o->fault.vanish_after = (long)v;
			break;
		case O_WEDGE:
			if (num("--wedge-after", optarg, 1000000, &v))
				return -1;
			o->fault.wedge_after = (long)v;
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			goto bad;
		}
	}
	if (optind != argc || o->dev.flash == NULL ||
	    (o->link == NULL) == (o->can == NULL) ||
	    (o->nnodes > 0 && o->can == NULL))
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

static int
poll_ms(uint64_t next, uint64_t now)
{
	uint64_t ms;

	if (next == 0)
		return -1;
	if (next <= now)
		return 0;
	ms = (next - now + NS_PER_MS - 1) / NS_PER_MS;
	return ms > 1000 ? 1000 : (int)ms;
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

static int
run_tty(struct opts *o, int sfd)
{
	static struct kt_link l;
	struct ks_dev dev, *devs[1] = { &dev };
	struct ks_rng wire_rng = { o->seed ^ 0x5A5A5A5A5A5A5A5Aull };
	char err[512];
	int status = 0;

	if (ks_dev_init(&dev, &o->dev, o->kind, err, sizeof(err)) != 0) {
		fprintf(stderr, "katapult-sim: %s\n", err);
		return 2;
	}
	setup_dev(&dev, o, 0);
	memset(&l, 0, sizeof(l));
	l.dev = &dev;
	l.kind = o->kind;
	l.link_path = o->link;
	l.byid_dir = o->byid;
	l.state_path = o->state;
	l.shim_path = o->shim;
	l.kp_baud = o->baud;
	l.app_baud = o->app_baud;
	l.reenum_ns = (uint64_t)o->reenum_ms * NS_PER_MS;
	l.frame_ns = (uint64_t)o->frame_us * NS_PER_US;
	l.usb_hold = o->usb_hold >= 0 ? o->usb_hold : dev.m->usbfs;
	l.timing = o->timing;
	l.corrupt = o->corrupt;
	l.drop = o->drop;
	l.rng = &wire_rng;
	dev.emit = kt_emit;
	dev.act = kt_act;
	dev.link_ctx = &l;
	ks_logf(ks_now(), "START %s %s on %s, %s, uuid %02x%02x%02x%02x%02x"
	    "%02x, serial %s", dev.m->mcu, ks_run_name(dev.run),
	    o->kind == KS_LINK_USB ? "usb" : "uart",
	    ks_flash_has_katapult(&dev.flash) ? "katapult installed" :
	    "no katapult", dev.uuid[0], dev.uuid[1], dev.uuid[2],
	    dev.uuid[3], dev.uuid[4], dev.uuid[5], dev.serial);
	if (kt_open(&l, err, sizeof(err)) != 0) {
		fprintf(stderr, "katapult-sim: %s\n", err);
		ks_dev_free(&dev);
		return 2;
	}
	for (;;) {
		struct pollfd p[POLL_FDS];
		int np = 0, ip = -1, mp = -1, lp = -1, cp[KT_SHIM_CONNS];
		uint64_t now = ks_now(), next;
		size_t i;

		ks_dev_run_timers(&dev, now);
		kt_service(&l, now, 0);
		next = earliest(kt_next_event(&l, now),
		    ks_dev_next_timer(&dev));
		p[np].fd = sfd;
		p[np++].events = POLLIN;
		if (l.ino_fd >= 0) {
			ip = np;
			p[np].fd = l.ino_fd;
			p[np++].events = POLLIN;
		}
		if (kt_want_read(&l)) {
			mp = np;
			p[np].fd = l.master;
			p[np++].events = POLLIN;
		}
		if (l.shim_listen >= 0) {
			lp = np;
			p[np].fd = l.shim_listen;
			p[np++].events = POLLIN;
		}
		for (i = 0; i < KT_SHIM_CONNS; i++) {
			cp[i] = -1;
			if (l.conn[i].fd >= 0) {
				cp[i] = np;
				p[np].fd = l.conn[i].fd;
				p[np++].events = POLLIN;
			}
		}
		if (poll(p, (nfds_t)np, poll_ms(next, now)) < 0 &&
		    errno != EINTR)
			break;
		if ((p[0].revents & POLLIN) && on_signal(sfd, devs, 1))
			break;
		now = ks_now();
		if (ip >= 0 && (p[ip].revents & POLLIN))
			kt_service(&l, now, 1);
		if (lp >= 0 && (p[lp].revents & POLLIN))
			kt_shim_accept(&l);
		for (i = 0; i < KT_SHIM_CONNS; i++)
			if (cp[i] >= 0 && (p[cp[i]].revents &
			    (POLLIN | POLLHUP)))
				kt_shim_read(&l, i);
		if (mp >= 0 && (p[mp].revents & POLLIN) && l.master >= 0)
			kt_read(&l);
	}
	kt_close(&l);
	ks_dev_free(&dev);
	return status;
}

static int
run_can(struct opts *o, int sfd)
{
	static struct kc_bus b;
	struct ks_dev *devs[KC_MAX_NODES];
	char err[512];
	size_t i;

	memset(&b, 0, sizeof(b));
	b.bitrate = o->can_bitrate;
	b.worst_stuff = o->can_worst;
	b.timing = o->timing;
	if (kc_open(&b, o->can, err, sizeof(err)) != 0 ||
	    kc_add(&b, &o->dev, err, sizeof(err)) != 0)
		goto fail;
	for (i = 0; i < o->nnodes; i++)
		if (kc_add(&b, &o->nodes[i], err, sizeof(err)) != 0)
			goto fail;
	for (i = 0; i < b.nnodes; i++) {
		struct ks_dev *d = &b.node[i].dev;

		setup_dev(d, o, i);
		devs[i] = d;
		ks_logf(ks_now(), "START %s%s %s on can %s, uuid "
		    "%02x%02x%02x%02x%02x%02x", d->name, d->m->mcu,
		    ks_run_name(d->run), o->can, d->uuid[0], d->uuid[1],
		    d->uuid[2], d->uuid[3], d->uuid[4], d->uuid[5]);
	}
	for (;;) {
		struct pollfd p[2];
		uint64_t now = ks_now();

		kc_service(&b, now);
		p[0].fd = sfd;
		p[0].events = POLLIN;
		p[1].fd = b.fd;
		p[1].events = POLLIN;
		if (poll(p, 2, poll_ms(kc_next_event(&b), now)) < 0 &&
		    errno != EINTR)
			break;
		if ((p[0].revents & POLLIN) && on_signal(sfd, devs,
		    b.nnodes))
			break;
		if (p[1].revents & POLLIN)
			kc_read(&b);
	}
	kc_close(&b);
	return 0;
fail:
	fprintf(stderr, "katapult-sim: %s\n", err);
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
	r = o.can != NULL ? run_can(&o, sfd) : run_tty(&o, sfd);
	if (ks_log.f != NULL)
		fclose(ks_log.f);
	close(sfd);
	return r;
}
