/*
 * actions.c - the verbs: identify, read, write, erase, CRC, the
 * protections, list; and what comes around them (opening the device,
 * the vector-table check, how the device is left).
 *
 * act() turns the options into each verb's few arguments (the range it
 * works on, the write's flags), so that a verb sees only what it needs.
 * A verb returns EXIT_OK or the exit code of a failure reported with
 * fail(), and leaves what it did in struct result.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* --auto: how long the ROM DFU bootloader may take to enumerate. */
#define AUTO_DFU_WAIT_MS 5000u

void
format_layout(const struct ft_layout *l, char *buf, size_t size)
{
	size_t used = 0;
	unsigned i;

	buf[0] = '\0';
	for (i = 0; i < l->nruns && used < size; i++) {
		uint32_t s = l->runs[i].size;
		int n = s % 1024 == 0 ?
		    snprintf(buf + used, size - used, "%s%ux%uK",
			i ? "," : "", l->runs[i].count, s / 1024) :
		    snprintf(buf + used, size - used, "%s%ux%u",
			i ? "," : "", l->runs[i].count, s);

		if (n < 0)
			break;
		used += (size_t)n;
	}
}

/* The chip's memories beyond flash, when the device table knows them. */
static void
print_memories(FILE *f, const struct ft_chip *c)
{
	if (c->ram_end > c->ram_start)
		fprintf(f, "RAM free for code:  0x%08x-0x%08x\n",
		    c->ram_start, c->ram_end - 1);
	else
		fprintf(f, "RAM free for code:  none (the bootloader "
		    "uses all of it)\n");
	fprintf(f, "System memory:      0x%08x-0x%08x\n",
	    c->sysmem_start, c->sysmem_end - 1);
	if (c->opt_end > c->opt_start)
		fprintf(f, "Option bytes:       0x%08x-0x%08x\n",
		    c->opt_start, c->opt_end - 1);
}

/* Katapult's identity: what CONNECT said and how it was reached. */
static void
print_katapult(FILE *f, const struct ft_devinfo *di)
{
	const struct ft_katapult_info *kp = &di->kp;
	char runs[160];
	unsigned i;

	if (kp->link[0] == 'c') {
		fprintf(f, "Interface:          Katapult over CAN %s, node ",
		    kp->can_iface);
		for (i = 0; i < sizeof(kp->uuid); i++)
			fprintf(f, "%02x", kp->uuid[i]);
		fputc('\n', f);
	} else {
		fprintf(f, "Interface:          Katapult on %s, %u baud\n",
		    kp->port, kp->baud);
	}
	fprintf(f, "Bootloader:         Katapult %s, protocol %u.%u.%u\n",
	    kp->has_version ? kp->version : "(no version reported)",
	    (unsigned)(kp->proto >> 16) & 0xFF,
	    (unsigned)(kp->proto >> 8) & 0xFF, (unsigned)kp->proto & 0xFF);
	fprintf(f, "MCU:                %s\n", di->name);
	fprintf(f, "Application start:  0x%08x, blocks of %u bytes\n",
	    kp->app_start, kp->block_size);
	if (!kp->known_mcu && kp->flash_size == 0) {
		fprintf(f, "Flash:              unknown MCU (give --layout)\n");
		return;
	}
	format_layout(&di->flash, runs, sizeof(runs));
	fprintf(f, "Flash:              0x%08x-0x%08x; application area "
	    "0x%08x, %" PRIu64 " KiB (%s)\n", kp->flash_base,
	    kp->flash_base + kp->flash_size - 1, di->flash.base,
	    ft_layout_size(&di->flash) / 1024, runs);
}

static void
print_identity(FILE *f, const struct run *r, const struct ft_devinfo *di)
{
	char runs[160];
	unsigned i;

	if (di->transport == FT_TRANSPORT_KATAPULT) {
		print_katapult(f, di);
		return;
	}
	format_layout(&di->flash, runs, sizeof(runs));
	if (di->transport == FT_TRANSPORT_USART) {
		fprintf(f, "Interface:          USART %s, %u baud, %s\n",
		    r->port, r->baud, r->mode);
		fprintf(f, "Bootloader version: %u.%u\n",
		    di->bl_version >> 4, di->bl_version & 0xF);
		fprintf(f, "Device ID:          0x%04x (%s)\n", di->pid,
		    di->name);
	} else {
		fprintf(f, "Interface:          USB DFU %04x:%04x path %s "
		    "serial %s, alt %d\n", di->dfu.vid, di->dfu.pid,
		    di->dfu.path, di->dfu.serial, di->dfu_alt);
		fprintf(f, "Device:             %s (no chip ID over DFU)\n",
		    di->name);
		if (di->memory[0] != '\0')
			fprintf(f, "Memory:             %s\n", di->memory);
	}
	fprintf(f, "Flash:              0x%08x, %" PRIu64 " KiB (%s)\n",
	    di->flash.base, ft_layout_size(&di->flash) / 1024, runs);
	if (di->flash_notes[0] != '\0')
		fprintf(f, "Flash notes:        %s\n", di->flash_notes);
	if (di->chip != NULL)
		print_memories(f, di->chip);
	if (di->ncmds > 0) {
		fprintf(f, "Commands:          ");
		for (i = 0; i < di->ncmds; i++)
			fprintf(f, " %02x", di->cmds[i]);
		fputc('\n', f);
	}
}

/* The serial ports and DFU devices of --list, as text on stdout. */
static void
print_list(const struct result *res)
{
	size_t i;
	unsigned k;

	for (i = 0; i < res->nports; i++) {
		const struct ft_port_entry *p = &res->ports[i];

		printf("%s %s", p->path, p->driver[0] ? p->driver : "-");
		if (p->usb)
			printf(" %04x:%04x serial \"%s\" \"%s\" usb %s",
			    p->vid, p->pid, p->serial, p->product,
			    p->usb_path);
		if (p->by_id[0] != '\0')
			printf(" by-id %s", p->by_id);
		putchar('\n');
	}
	for (i = 0; i < res->ndfu; i++) {
		const struct ft_dfu_entry *e = &res->dfu[i];

		printf("%04x:%04x path %s serial \"%s\" %s%s, transfer size "
		    "%u\n", e->vid, e->pid, e->path, e->serial, e->dfu_mode ?
		    "DFU mode" : "runtime mode", e->dfuse ? " (DfuSe)" : "",
		    e->transfer_size);
		for (k = 0; k < e->nalts; k++)
			printf("  alt %d: \"%s\"\n", e->alts[k].alt,
			    e->alts[k].name);
	}
}

/* Katapult and Klipper devices: USB ttys, or nodes on a CAN bus. */
static void
print_katapult_list(const struct result *res)
{
	static const char *const apps[] = {
		[FT_KP_APP_UNKNOWN] = "unknown",
		[FT_KP_APP_KATAPULT] = "katapult",
		[FT_KP_APP_KLIPPER] = "klipper",
	};
	size_t i;
	unsigned k;

	for (i = 0; i < res->nkp; i++) {
		const struct ft_katapult_entry *e = &res->kp[i];

		if (e->can) {
			printf("%s %s uuid ", apps[e->app], e->port);
			for (k = 0; k < sizeof(e->uuid); k++)
				printf("%02x", e->uuid[k]);
			putchar('\n');
			continue;
		}
		printf("%s %s %s serial \"%s\" usb %s", apps[e->app], e->port,
		    e->mcu, e->serial, e->usb_path);
		if (e->by_id[0] != '\0')
			printf(" by-id %s", e->by_id);
		putchar('\n');
	}
}

/*
 * --list --katapult (USB) or --list --can IFACE: Katapult and Klipper
 * devices only.  A CAN query gets the warnings it deserves.
 */
static int
act_list_katapult(struct run *r, const struct options *o,
    struct result *res)
{
	int rc;

	res->kp_listed = 1;
	res->kp_can = o->open.kp.can_iface != NULL;
	if (res->kp_can)
		note(r->rep, "warning: querying %s: only nodes without a node "
		    "id answer, and on a busy bus several answering at once "
		    "can collide (a node may even go bus-off)",
		    o->open.kp.can_iface);
	rc = ft_katapult_list(r->ctx, &o->open, &res->kp, &res->nkp);
	if (rc < 0)
		return fail_lib(r->rep, r->ctx, rc, "listing Katapult devices");
	if (!r->rep->json)
		print_katapult_list(res);
	if (res->nkp == 0)
		note(r->rep, res->kp_can ? "no node answered the query" :
		    "no Katapult or Klipper USB device found");
	return EXIT_OK;
}

/*
 * --list: serial ports (unless --dfu) and DFU devices.  Without --dfu a
 * failure to reach USB (no libusb access in a container) costs only the
 * DFU half, with a warning; with --dfu it is the error.
 */
int
act_list(struct run *r, const struct options *o, struct result *res)
{
	int with_ports = o->open.transport != FT_TRANSPORT_DFU;
	int rc;

	if (o->open.transport == FT_TRANSPORT_KATAPULT)
		return act_list_katapult(r, o, res);
	res->with_ports = with_ports;
	if (with_ports) {
		rc = ft_serial_list(r->ctx, &res->ports, &res->nports);
		if (rc < 0)
			return fail_lib(r->rep, r->ctx, rc,
			    "listing serial ports");
	}
	rc = ft_dfu_list(r->ctx, &o->open.dfu, &res->dfu, &res->ndfu);
	res->dfu_ok = rc >= 0;
	if (rc < 0) {
		if (!with_ports)
			return fail_lib(r->rep, r->ctx, rc,
			    "listing DFU devices");
		note(r->rep, "warning: listing DFU devices: %s",
		    ft_errdetail(r->ctx)[0] ? ft_errdetail(r->ctx) :
		    ft_strerror(rc));
		res->dfu = NULL;
		res->ndfu = 0;
	}
	if (!r->rep->json)
		print_list(res);
	if (with_ports && res->nports == 0)
		note(r->rep, "no serial port found");
	if (res->dfu_ok && res->ndfu == 0)
		note(r->rep, "no DFU device found");
	return EXIT_OK;
}

/*
 * Katapult answered: say so, and place a raw binary at its application
 * start (the image was loaded before the device said where that is).
 */
static int
katapult_opened(struct run *r, const struct options *o,
    const struct ft_devinfo *di)
{
	int rc;

	if (o->action != ACT_IDENTIFY)
		say(r->rep, "Katapult %s on %s, application at 0x%08x",
		    di->kp.has_version ? di->kp.version : "(old)", di->name,
		    di->kp.app_start);
	if (r->image == NULL || o->have_range ||
	    ft_image_format(r->image) != FT_FMT_BINARY)
		return EXIT_OK;
	rc = ft_image_relocate(r->ctx, r->image, di->kp.app_start);
	return rc < 0 ? fail_lib(r->rep, r->ctx, rc, o->file) : EXIT_OK;
}

const char *
arrival_name(enum ft_kp_found found)
{
	switch (found) {
	case FT_KP_FOUND_KATAPULT: return "katapult";
	case FT_KP_FOUND_DFU: return "dfu";
	case FT_KP_FOUND_OTHER: return "other";
	default: return "nothing";
	}
}

/* What a bootloader request brought, said in one line. */
static void
say_arrival(const struct report *rep, const struct ft_open_opts *op,
    const struct ft_katapult_arrival *a)
{
	const char *where = op->kp.can_iface != NULL ? op->kp.can_iface :
	    op->port;

	if (a->found == FT_KP_FOUND_KATAPULT && !a->requested)
		say(rep, "Katapult is already running on %s", where);
	else if (a->found == FT_KP_FOUND_KATAPULT && a->bridge)
		say(rep, "The USB-CAN bridge on %s came back as Katapult on "
		    "%s", where, a->port);
	else if (a->found == FT_KP_FOUND_KATAPULT)
		say(rep, "Katapult answers on %s", a->port[0] ? a->port :
		    where);
	else if (a->found == FT_KP_FOUND_DFU)
		say(rep, "The ROM DFU bootloader (0483:df11) came back on USB "
		    "%s%s", a->usb_path, a->bridge ? " (the USB-CAN bridge)" :
		    "");
}

/*
 * --request-bootloader (flashtool.py -r): ask Klipper for Katapult and
 * stop, saying what came back.
 */
int
act_request(struct run *r, const struct options *o, struct result *res)
{
	struct ft_katapult_arrival *a = &res->arrival;
	const char *where = o->open.kp.can_iface != NULL ?
	    o->open.kp.can_iface : o->open.port;
	int rc = ft_katapult_request(r->ctx, &o->open, a);

	res->have_arrival = rc == 0;
	if (rc < 0)
		return fail_lib(r->rep, r->ctx, rc, NULL);
	say_arrival(r->rep, &o->open, a);
	if (a->found == FT_KP_FOUND_KATAPULT || a->found == FT_KP_FOUND_DFU)
		return EXIT_OK;
	if (a->found == FT_KP_FOUND_OTHER)
		return fail(r->rep, FT_E_NO_DEVICE, EXIT_NO_DEVICE, "%s: a "
		    "%04x:%04x device came back on USB %s, not a bootloader",
		    where, a->vid, a->pid, a->usb_path);
	return fail(r->rep, FT_E_NO_DEVICE, EXIT_NO_DEVICE, "%s: asked for "
	    "the bootloader, and nothing came back%s%s", where, a->bridge ?
	    " on USB " : "", a->bridge ? a->usb_path : "");
}

/*
 * --auto: ask for the bootloader first, then open whatever came: Katapult
 * on its port, or the ROM DFU bootloader on the same USB port (by its
 * path where sysfs knows it; a USB port sysfs does not know may bring
 * any DFU device).  Nothing at all is said as such.
 */
static int
open_auto(struct run *r, const struct options *o, struct result *res)
{
	struct ft_katapult_arrival *a = &res->arrival;
	int rc = ft_katapult_request(r->ctx, &r->open, a);

	res->have_arrival = rc == 0;
	if (rc < 0)
		return rc;
	say_arrival(r->rep, &r->open, a);
	if (a->found == FT_KP_FOUND_KATAPULT) {
		/* A CAN node stays on CAN; a bridge came back as a tty. */
		if (a->port[0] != '\0') {
			snprintf(r->auto_port, sizeof(r->auto_port), "%s",
			    a->port);
			r->open.port = r->auto_port;
			r->open.kp.can_iface = NULL;
		}
		r->open.kp.request = FT_KP_REQUEST_NEVER;
		return ft_open(r->ctx, &r->open, &r->dev);
	}
	if (a->found == FT_KP_FOUND_DFU ||
	    (a->found == FT_KP_FOUND_NOTHING && a->usb && a->usb_path[0] ==
	    '\0')) {
		r->open.transport = FT_TRANSPORT_DFU;
		r->open.dfu.path = a->found == FT_KP_FOUND_DFU ?
		    a->usb_path : NULL;
		r->open.dfu.vid = a->found == FT_KP_FOUND_DFU ? -1 : 0x0483;
		r->open.dfu.pid = a->found == FT_KP_FOUND_DFU ? -1 : 0xdf11;
		if (r->open.wait_ms == 0)
			r->open.wait_ms = AUTO_DFU_WAIT_MS;
		rc = ft_open(r->ctx, &r->open, &r->dev);
		if (rc == 0)
			say(r->rep, "Going on over USB DFU");
		if (rc != FT_E_NO_DEVICE || a->found == FT_KP_FOUND_DFU)
			return rc;
	}
	(void)o;
	return FT_E_NO_DEVICE;
}

/*
 * ft_open with the options, the image's first address picking the DFU
 * alt setting when -S did not; then the one line saying what answered.
 */
int
device_open(struct run *r, const struct options *o, struct result *res)
{
	const struct ft_devinfo *di;
	const char *where;
	int rc;

	r->open = o->open;
	where = o->open.kp.can_iface != NULL ? o->open.kp.can_iface :
	    o->open.port;
	if (r->open.target_addr == 0 && r->image != NULL &&
	    ft_image_nsegments(r->image) > 0)
		r->open.target_addr = ft_image_segment(r->image, 0)->addr;
	rc = o->auto_mode ? open_auto(r, o, res) : ft_open(r->ctx, &r->open,
	    &r->dev);
	if (rc == FT_E_NO_DEVICE && o->auto_mode && res->have_arrival &&
	    res->arrival.found == FT_KP_FOUND_OTHER)
		return fail(r->rep, rc, EXIT_NO_DEVICE, "%s: asked for the "
		    "bootloader; a %04x:%04x device came back on USB %s, "
		    "neither Katapult nor a ROM DFU bootloader", where,
		    res->arrival.vid, res->arrival.pid,
		    res->arrival.usb_path);
	if (rc == FT_E_NO_DEVICE && o->auto_mode && res->have_arrival &&
	    res->arrival.found == FT_KP_FOUND_NOTHING)
		return fail(r->rep, rc, EXIT_NO_DEVICE, "%s: asked for the "
		    "bootloader; neither Katapult nor a ROM DFU bootloader "
		    "came back%s", where, res->arrival.bridge ? " on the "
		    "bridge's USB port" : " (a UART or CAN build without "
		    "Katapult ignores the request)");
	if (rc < 0) {
		r->dev = NULL;
		return fail_lib(r->rep, r->ctx, rc, NULL);
	}
	di = ft_dev_info(r->dev);
	if (di->transport == FT_TRANSPORT_KATAPULT)
		return katapult_opened(r, o, di);
	if (o->action == ACT_IDENTIFY)
		return EXIT_OK;
	if (di->transport == FT_TRANSPORT_DFU)
		/* No chip ID over DFU: what the USB device says of itself. */
		say(r->rep, "Device %04x:%04x \"%s\" at %s, serial %s: %s%s%"
		    PRIu64 " KiB at 0x%08x", di->dfu.vid, di->dfu.pid,
		    di->name, di->dfu.path, di->dfu.serial[0] ?
		    di->dfu.serial : "none", di->memory, di->memory[0] ?
		    ", " : "", ft_layout_size(&di->flash) / 1024,
		    di->flash.base);
	else
		say(r->rep, "Device 0x%04x %s, %" PRIu64 " KiB flash",
		    di->pid, di->name, ft_layout_size(&di->flash) / 1024);
	return EXIT_OK;
}

/*
 * Before anything is erased: an image whose vector table says it was
 * linked for another address is refused unless --force.
 */
int
check_image(struct run *r, int force)
{
	int rc = ft_image_check_vectors(r->ctx, r->image,
	    ft_dev_info(r->dev));

	if (rc == 0)
		return EXIT_OK;
	if (force) {
		note(r->rep, "warning: %s (written anyway: --force)",
		    ft_errdetail(r->ctx));
		return EXIT_OK;
	}
	return fail_lib(r->rep, r->ctx, rc, NULL);
}

/* The -s/-e pages as addresses: the first page's and past the last. */
static int
page_range(struct run *r, const struct options *o,
    const struct ft_layout *fl, uint32_t *addr, uint32_t *len)
{
	uint32_t total = ft_layout_units(fl);
	uint32_t first = o->have_start_page ? o->start_page : 0;
	uint32_t count, a0, s0, a1, s1, idx;

	/* Counted in 64 bits: -s past the end must not wrap the count. */
	if (first >= total)
		return fail(r->rep, FT_E_RANGE, EXIT_USAGE, "page %u is "
		    "outside the flash (%u pages: 0-%u)", first, total,
		    total - 1);
	count = o->have_page_count ? o->page_count : total - first;
	if (count > total - first)
		return fail(r->rep, FT_E_RANGE, EXIT_USAGE, "pages %u-%llu are "
		    "outside the flash (%u pages: 0-%u)", first,
		    (unsigned long long)first + count - 1, total, total - 1);
	a0 = fl->base;
	while (ft_layout_find(fl, a0, &idx, &a0, &s0) == 0 && idx < first)
		a0 += s0;
	a1 = a0;
	while (ft_layout_find(fl, a1, &idx, &a1, &s1) == 0 &&
	    idx < first + count - 1)
		a1 += s1;
	*addr = a0;
	*len = a1 + s1 - a0;
	return EXIT_OK;
}

/* The range of an action: -S, or -s/-e pages, or the whole flash. */
static int
action_range(struct run *r, const struct options *o, uint32_t *addr,
    uint32_t *len)
{
	const struct ft_layout *fl = &ft_dev_info(r->dev)->flash;
	uint64_t flash_size = ft_layout_size(fl);
	uint64_t end = (uint64_t)fl->base + flash_size;

	*addr = fl->base;
	*len = (uint32_t)(flash_size - 1) + 1;
	if (o->have_range) {
		*addr = o->range_addr;
		if (o->have_len)
			*len = o->range_len;
		else if (*addr >= fl->base && *addr < end)
			*len = (uint32_t)(end - *addr);
		else
			*len = 4;
	}
	if (o->have_start_page || o->have_page_count)
		return page_range(r, o, fl, addr, len);
	return EXIT_OK;
}

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
set_range(struct result *res, uint32_t addr, uint32_t len)
{
	res->have_range = 1;
	res->addr = addr;
	res->len = len;
}

static int
act_read(struct run *r, uint32_t addr, uint32_t len, struct result *res)
{
	struct timespec t0;
	uint8_t *buf;
	int rc, code;

	buf = malloc(len);
	if (buf == NULL)
		return fail(r->rep, FT_E_NOMEM, EXIT_FAILED, "out of memory "
		    "for %u bytes", len);
	say(r->rep, "Reading 0x%08x-0x%08x (%u bytes) to %s", addr,
	    addr + len - 1, len, r->out.path);
	set_range(res, addr, len);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = ft_read(r->dev, addr, buf, len);
	res->seconds = seconds_since(&t0);
	if (rc < 0)
		code = fail_lib(r->rep, r->ctx, rc, "read");
	else
		code = outfile_commit(r->rep, &r->out, buf, len);
	free(buf);
	return code;
}

/*
 * Some DFU devices cannot be read back after a download (plain DFU
 * without manifestation tolerance, option bytes that reset the chip).
 * The default verify then gives way and says so; an explicit -v fails.
 */
static int
act_write(struct run *r, const struct ft_write_opts *wo, int verify_implicit,
    struct result *res)
{
	struct ft_write_stats *st = &res->stats;
	struct timespec t0;
	int rc, code;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(st, 0, sizeof(*st));
	rc = ft_write(r->dev, r->image, wo, st);
	res->seconds = seconds_since(&t0);
	res->have_stats = 1;
	if (rc < 0 && ft_dev_info(r->dev)->transport ==
	    FT_TRANSPORT_KATAPULT) {
		code = fail_lib(r->rep, r->ctx, rc, "write");
		if (st->bytes_written == 0 && st->units_erased == 0)
			note(r->rep, "nothing was written; the board stays in "
			    "Katapult (a reset starts the application that is "
			    "there)");
		else
			note(r->rep, "the board stays in Katapult (COMPLETE "
			    "was not sent: the half-written application does "
			    "not start): run the same command again once the "
			    "cause is fixed");
		return code;
	}
	if (rc < 0)
		return fail_lib(r->rep, r->ctx, rc, "write");
	if (st->bytes_unverified == 0)
		return EXIT_OK;
	if (!verify_implicit)
		return fail(r->rep, FT_E_NOT_SUPPORTED, EXIT_FAILED, "verify: "
		    "%" PRIu64 " bytes could not be read back: %s",
		    st->bytes_unverified, st->unverified_why);
	note(r->rep, "not verified (%" PRIu64 " bytes): %s",
	    st->bytes_unverified, st->unverified_why);
	return EXIT_OK;
}

static int
act_mass_erase(struct run *r, struct result *res)
{
	int rc;

	say(r->rep, "Mass erase");
	res->mass = 1;
	rc = ft_mass_erase(r->dev);
	return rc < 0 ? fail_lib(r->rep, r->ctx, rc, "mass erase") : EXIT_OK;
}

static int
act_erase(struct run *r, uint32_t addr, uint32_t len, struct result *res)
{
	int rc;

	say(r->rep, "Erasing 0x%08x-0x%08x", addr, addr + len - 1);
	set_range(res, addr, len);
	rc = ft_erase(r->dev, addr, len);
	return rc < 0 ? fail_lib(r->rep, r->ctx, rc, "erase") : EXIT_OK;
}

static int
act_crc(struct run *r, uint32_t addr, uint32_t len, struct result *res)
{
	uint32_t crc;
	int rc;

	set_range(res, addr, len);
	rc = ft_crc(r->dev, addr, len, &crc);
	if (rc < 0)
		return fail_lib(r->rep, r->ctx, rc, "CRC");
	res->have_crc = 1;
	res->crc = crc;
	if (!r->rep->json)
		printf("CRC(0x%08x+%u) = 0x%08x\n", addr, len, crc);
	return EXIT_OK;
}

static int
act_write_protect(struct run *r, uint32_t addr, uint32_t len)
{
	int rc;

	say(r->rep, "Write-protecting 0x%08x-0x%08x", addr, addr + len - 1);
	rc = ft_write_protect(r->dev, addr, len);
	return rc < 0 ? fail_lib(r->rep, r->ctx, rc, "write protect") :
	    EXIT_OK;
}

static int
act_protect(struct run *r, enum ft_protect_op op, const char *what)
{
	int rc = ft_protect(r->dev, op);

	return rc < 0 ? fail_lib(r->rep, r->ctx, rc, what) : EXIT_OK;
}

/* The verbs that work on a range: the range first, then the verb. */
static int
act_on_range(struct run *r, const struct options *o, struct result *res)
{
	uint32_t addr, len;
	int code;

	if ((code = action_range(r, o, &addr, &len)) != EXIT_OK)
		return code;
	switch (o->action) {
	case ACT_READ:
		return act_read(r, addr, len, res);
	case ACT_ERASE:
		return act_erase(r, addr, len, res);
	case ACT_CRC:
		return act_crc(r, addr, len, res);
	default:
		return act_write_protect(r, addr, len);
	}
}

/* The action the options ask for, on the open device. */
int
act(struct run *r, const struct options *o, struct result *res)
{
	struct ft_write_opts wo = {
		.verify = o->verify,
		.mass_erase = o->mass_erase,
		.no_erase = o->no_erase,
		.no_diff = o->no_diff,
		.page_erase = o->page_erase,
	};

	switch (o->action) {
	case ACT_IDENTIFY:
		if (!r->rep->json)
			print_identity(stdout, r, ft_dev_info(r->dev));
		return EXIT_OK;
	case ACT_WRITE:
		return act_write(r, &wo, o->verify_implicit, res);
	case ACT_ERASE:
		if (o->mass_erase || (!o->have_range && !o->have_start_page &&
		    !o->have_page_count))
			return act_mass_erase(r, res);
		return act_on_range(r, o, res);
	case ACT_READ:
	case ACT_CRC:
	case ACT_WRITE_PROTECT:
		return act_on_range(r, o, res);
	case ACT_WRITE_UNPROTECT:
		return act_protect(r, FT_WRITE_UNPROTECT, "write unprotect");
	case ACT_READOUT_PROTECT:
		return act_protect(r, FT_READOUT_PROTECT, "readout protect");
	case ACT_READOUT_UNPROTECT:
		return act_protect(r, FT_READOUT_UNPROTECT,
		    "readout unprotect");
	case ACT_OPTION_BYTES:
		return act_option_bytes(r, o, res);
	case ACT_LIST:
	case ACT_REQUEST:
		break;
	}
	/* main runs --list without a device; this is not reached. */
	return fail(r->rep, CLI_E_USAGE, EXIT_USAGE, "--list is not a device "
	    "action");
}

/*
 * What the DFU device did after the leave, as the library watched it:
 * the application enumerated (and as what), nothing came back, or it was
 * not watched (--no-watch).  Said once and kept for the summary line.
 */
static int
say_leave(struct run *r, uint32_t addr, struct result *res)
{
	const struct ft_leave *lv = &ft_dev_info(r->dev)->leave;
	char what[160];

	switch (lv->outcome) {
	case FT_LEAVE_APP:
		snprintf(what, sizeof(what), "%04x:%04x%s%s%s enumerated on "
		    "%s %u ms after it left the bus", lv->vid, lv->pid,
		    lv->product[0] ? " \"" : "", lv->product,
		    lv->product[0] ? "\"" : "", lv->path, lv->ms);
		break;
	case FT_LEAVE_SENT:
		snprintf(what, sizeof(what), "not watched");
		break;
	default:
		snprintf(what, sizeof(what), "it left the bus and nothing "
		    "came back on %s within %u ms", lv->path, lv->ms);
		break;
	}
	say(r->rep, "Left DFU mode, starting at 0x%08x: %s", addr, what);
	snprintf(res->left, sizeof(res->left), "left DFU mode, started at "
	    "0x%08x", addr);
	return EXIT_OK;
}

/* COMPLETE: Katapult starts its application. */
static int
leave_katapult(struct run *r, const struct options *o, struct result *res)
{
	uint32_t start = ft_dev_info(r->dev)->kp.app_start;
	int rc = ft_go(r->dev, 0);

	if (rc < 0) {
		fail_lib(r->rep, r->ctx, rc, "COMPLETE");
		return o->action == ACT_WRITE ? EXIT_LEAVE : exit_code_for(rc);
	}
	say(r->rep, "Started the application at 0x%08x (COMPLETE)", start);
	snprintf(res->left, sizeof(res->left), "started the application at "
	    "0x%08x", start);
	return EXIT_OK;
}

/*
 * -g: start the code; over DFU, a write leaves DFU mode by default, and
 * over Katapult a write that verified ends with COMPLETE.
 */
static int
leave_by_go(struct run *r, const struct options *o, struct result *res)
{
	int dfu = ft_dev_info(r->dev)->transport == FT_TRANSPORT_DFU;
	uint32_t addr = o->have_go && o->go_addr != 0 ? o->go_addr :
	    ft_dev_info(r->dev)->flash.base;
	int rc;

	if (ft_dev_info(r->dev)->transport == FT_TRANSPORT_KATAPULT)
		return leave_katapult(r, o, res);
	rc = ft_go(r->dev, addr);

	if (rc == FT_E_STAYED)
		return fail_lib(r->rep, r->ctx, rc, "leave");
	if (rc < 0) {
		fail_lib(r->rep, r->ctx, rc, "go");
		return o->action == ACT_WRITE ? EXIT_LEAVE : exit_code_for(rc);
	}
	if (dfu)
		return say_leave(r, addr, res);
	say(r->rep, "Started code at 0x%08x", addr);
	snprintf(res->left, sizeof(res->left), "started at 0x%08x", addr);
	return EXIT_OK;
}

/* After a successful action: -g, -R, or DFU's default leave. */
int
leave_device(struct run *r, const struct options *o, struct result *res)
{
	const char *how = o->seq_has_exit ? "the exit sequence" :
	    "a routine in RAM";
	int dfu = ft_dev_info(r->dev)->transport == FT_TRANSPORT_DFU;
	int kp = ft_dev_info(r->dev)->transport == FT_TRANSPORT_KATAPULT;
	int rc;

	if (o->have_go || ((dfu || kp) && o->action == ACT_WRITE &&
	    !o->stay))
		return leave_by_go(r, o, res);
	if (o->reset) {
		rc = ft_reset(r->dev);
		if (rc < 0) {
			fail_lib(r->rep, r->ctx, rc, "reset");
			return o->action == ACT_WRITE ? EXIT_LEAVE :
			    exit_code_for(rc);
		}
		if (kp)
			how = "COMPLETE";
		say(r->rep, "Reset the chip through %s", how);
		snprintf(res->left, sizeof(res->left), "reset through %s",
		    how);
	} else if (dfu) {
		snprintf(res->left, sizeof(res->left), "left in DFU mode");
	} else if (kp) {
		snprintf(res->left, sizeof(res->left), "left in Katapult");
	} else if (o->seq_has_exit) {
		snprintf(res->left, sizeof(res->left), "reset through the "
		    "exit sequence");
	} else {
		snprintf(res->left, sizeof(res->left), "left in the "
		    "bootloader");
	}
	return EXIT_OK;
}

/*
 * What the end of the session does with the chip, said before the exit
 * half runs in ft_close (which warns if it fails).
 */
void
say_exit_half(const struct report *rep, const struct options *o)
{
	if (!o->have_seq || o->open.transport != FT_TRANSPORT_USART)
		return;
	if (o->seq_has_exit && !o->reset)
		say(rep, "Running the exit sequence");
	else if (!o->seq_has_exit && !o->reset && !o->have_go)
		say(rep, "The chip stays in the bootloader (the sequence has "
		    "no exit half; -g ADDR or -R leave it)");
}
