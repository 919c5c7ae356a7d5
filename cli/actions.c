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

static void
print_identity(FILE *f, const struct run *r, const struct ft_devinfo *di)
{
	char runs[160];
	unsigned i;

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
		fprintf(f, "Device:             %s\n", di->name);
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

/*
 * --list: serial ports (unless --dfu) and DFU devices.  Without --dfu a
 * failure to reach USB (no libusb access in a container) costs only the
 * DFU half, with a warning; with --dfu it is the error.
 */
int
act_list(struct run *r, const struct ft_dfu_match *m, int with_ports,
    struct result *res)
{
	int rc;

	res->with_ports = with_ports;
	if (with_ports) {
		rc = ft_serial_list(r->ctx, &res->ports, &res->nports);
		if (rc < 0)
			return fail_lib(r->rep, r->ctx, rc,
			    "listing serial ports");
	}
	rc = ft_dfu_list(r->ctx, m, &res->dfu, &res->ndfu);
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
 * ft_open with the options, the image's first address picking the DFU
 * alt setting when -S did not; then the one line saying what answered.
 */
int
device_open(struct run *r, const struct options *o)
{
	const struct ft_devinfo *di;
	int rc;

	r->open = o->open;
	if (r->open.target_addr == 0 && r->image != NULL &&
	    ft_image_nsegments(r->image) > 0)
		r->open.target_addr = ft_image_segment(r->image, 0)->addr;
	rc = ft_open(r->ctx, &r->open, &r->dev);
	if (rc < 0) {
		r->dev = NULL;
		return fail_lib(r->rep, r->ctx, rc, NULL);
	}
	if (o->action != ACT_IDENTIFY) {
		di = ft_dev_info(r->dev);
		say(r->rep, "Device 0x%04x %s, %" PRIu64 " KiB flash",
		    di->pid, di->name, ft_layout_size(&di->flash) / 1024);
	}
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
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(st, 0, sizeof(*st));
	rc = ft_write(r->dev, r->image, wo, st);
	res->seconds = seconds_since(&t0);
	res->have_stats = 1;
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
	case ACT_LIST:
		break;
	}
	/* main runs --list without a device; this is not reached. */
	return fail(r->rep, CLI_E_USAGE, EXIT_USAGE, "--list is not a device "
	    "action");
}

/* -g: start the code; over DFU, a write leaves DFU mode by default. */
static int
leave_by_go(struct run *r, const struct options *o, struct result *res)
{
	int dfu = ft_dev_info(r->dev)->transport == FT_TRANSPORT_DFU;
	uint32_t addr = o->have_go && o->go_addr != 0 ? o->go_addr :
	    ft_dev_info(r->dev)->flash.base;
	int rc = ft_go(r->dev, addr);

	if (rc == FT_E_STAYED)
		return fail_lib(r->rep, r->ctx, rc, "leave");
	if (rc < 0) {
		fail_lib(r->rep, r->ctx, rc, "go");
		return o->action == ACT_WRITE ? EXIT_LEAVE : exit_code_for(rc);
	}
	say(r->rep, "%s 0x%08x", dfu ? "Left DFU mode, starting at" :
	    "Started code at", addr);
	snprintf(res->left, sizeof(res->left), "%s 0x%08x", dfu ?
	    "left DFU mode, started at" : "started at", addr);
	return EXIT_OK;
}

/* After a successful action: -g, -R, or DFU's default leave. */
int
leave_device(struct run *r, const struct options *o, struct result *res)
{
	const char *how = o->seq_has_exit ? "the exit sequence" :
	    "a routine in RAM";
	int dfu = ft_dev_info(r->dev)->transport == FT_TRANSPORT_DFU;
	int rc;

	if (o->have_go || (dfu && o->action == ACT_WRITE && !o->stay))
		return leave_by_go(r, o, res);
	if (o->reset) {
		rc = ft_reset(r->dev);
		if (rc < 0) {
			fail_lib(r->rep, r->ctx, rc, "reset");
			return o->action == ACT_WRITE ? EXIT_LEAVE :
			    exit_code_for(rc);
		}
		say(r->rep, "Reset the chip through %s", how);
		snprintf(res->left, sizeof(res->left), "reset through %s",
		    how);
	} else if (dfu) {
		snprintf(res->left, sizeof(res->left), "left in DFU mode");
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
