/*
 * report.c - everything the front end says: the messages on stderr, the
 * exit code of a library error, the summary line, and with --json the one
 * document on stdout.
 *
 * Every failure goes through fail(): it prints the one "flashtool: ..."
 * line and keeps the first failure (its error and message) for the JSON
 * document, so that a failure cannot reach stderr and miss --json.  The
 * first failure is the one that counts; cleanup may add more lines.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json.h"

static void json_early(const struct report *rep, int code);

static const char *const cli_err_names[] = {
	[CLI_E_USAGE] = "usage",
	[CLI_E_IO] = "io",
	[CLI_E_INTERRUPTED] = "interrupted",
	[CLI_E_UNVERIFIED] = "unverified",
};

/*
 * Print "flashtool: MESSAGE" whole and keep the first failure (the
 * message cut to what the document holds): err is a negative enum
 * ft_err or an enum cli_err.  Returns code, the exit code the caller
 * ends with.
 */
static int vfail(struct report *, int, int, const char *, va_list)
    __attribute__((format(printf, 4, 0)));

static int
vfail(struct report *rep, int err, int code, const char *fmt, va_list ap)
{
	va_list again;

	va_copy(again, ap);
	fprintf(stderr, "%s: ", rep->progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (rep->err == 0) {
		rep->err = err;
		vsnprintf(rep->message, sizeof(rep->message), fmt, again);
	}
	va_end(again);
	return code;
}

int
fail(struct report *rep, int err, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	code = vfail(rep, err, code, fmt, ap);
	va_end(ap);
	return code;
}

/*
 * A library failure: what we were doing (NULL when the detail already
 * says it), and the detail the library left, or its sentence for err.
 */
int
fail_lib(struct report *rep, const struct ft_ctx *ctx, int err,
    const char *doing)
{
	const char *detail = ft_errdetail(ctx);

	if (detail[0] == '\0')
		detail = ft_strerror(err);
	if (doing != NULL)
		return fail(rep, err, exit_code_for(err), "%s: %s", doing,
		    detail);
	return fail(rep, err, exit_code_for(err), "%s", detail);
}

/* A usage error while the options are read: nothing to free yet. */
void
fail_usage(struct report *rep, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_usage(rep, fmt, ap);
}

void
vfail_usage(struct report *rep, const char *fmt, va_list ap)
{
	vfail(rep, CLI_E_USAGE, EXIT_USAGE, fmt, ap);
	end_early(rep, EXIT_USAGE);
}

/* The end of a run that failed before its options were whole. */
void
end_early(struct report *rep, int code)
{
	if (rep->json)
		json_early(rep, code);
	exit(code);
}

int
exit_code_for(int err)
{
	switch (err) {
	case FT_OK:
		return EXIT_OK;
	case FT_E_INVALID:
	case FT_E_FORMAT:
	case FT_E_RANGE:
	case FT_E_UNKNOWN_CHIP:
		return EXIT_USAGE;
	case FT_E_VERIFY:
		return EXIT_VERIFY;
	case FT_E_NO_DEVICE:
		return EXIT_NO_DEVICE;
	case FT_E_MULTIPLE:
		return EXIT_MULTIPLE;
	case FT_E_ACCESS:
	case FT_E_BUSY:
		return EXIT_ACCESS;
	case FT_E_STAYED:
		return EXIT_STAYED;
	case FT_E_LEAVE:
		return EXIT_LEAVE;
	case FT_E_PROTECTED:
		return EXIT_PROTECTED;
	case FT_E_INTERRUPTED:
		return EXIT_INTERRUPTED;
	default:
		return EXIT_FAILED;
	}
}

/* What the run is doing, a line on stderr unless -q. */
void
say(const struct report *rep, const char *fmt, ...)
{
	va_list ap;

	if (rep->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* A remark that is not a failure ("warning: ..."), unless -q. */
void
note(const struct report *rep, const char *fmt, ...)
{
	va_list ap;

	if (rep->quiet)
		return;
	fprintf(stderr, "%s: ", rep->progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* The library's log; user is the struct report. */
void
on_log(enum ft_log_level level, const char *msg, void *user)
{
	const struct report *rep = user;

	if (rep->quiet && level > FT_LOG_ERROR)
		return;
	if (level <= FT_LOG_WARN)
		fprintf(stderr, "%s: %s%s\n", rep->progname,
		    level == FT_LOG_WARN ? "warning: " : "", msg);
	else
		fprintf(stderr, "%s\n", msg);
}

static const char *const stage_names[] = {
	[FT_STAGE_READ] = "Reading",
	[FT_STAGE_ERASE] = "Erasing",
	[FT_STAGE_WRITE] = "Writing",
	[FT_STAGE_VERIFY] = "Verifying",
};

/* Progress redraws one line, and only on a terminal. */
void
on_progress(enum ft_stage stage, uint64_t done, uint64_t total, void *user)
{
	(void)user;
	if (total == 0)
		return;
	fprintf(stderr, "\r%-9s %3u%% (%" PRIu64 "/%" PRIu64 " bytes)",
	    stage_names[stage], (unsigned)(done * 100 / total), done, total);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

/* The one-line summary of a read or write, on stderr, after the exit step. */
void
print_summary(const struct report *rep, const struct options *o,
    const struct result *res)
{
	double s = res->seconds;
	const struct ft_write_stats *st = &res->stats;

	if (rep->quiet)
		return;
	if (o->action == ACT_READ && res->have_range)
		fprintf(stderr, "Read %u bytes in %.1f s (%.1f KiB/s) to %s, "
		    "%s\n", res->len, s, s > 0 ? res->len / 1024.0 / s : 0.0,
		    o->file, res->left);
	if (o->action != ACT_WRITE || !res->have_stats)
		return;
	/* Verification last: scripts look for ", verified" at the end. */
	fprintf(stderr, "Wrote %" PRIu64 " bytes in %.1f s (%.1f KiB/s): %u "
	    "erase units erased, %u written, %u unchanged (%" PRIu64
	    " bytes), %" PRIu64 " blank bytes skipped, %s, %s\n",
	    st->bytes_written, s,
	    s > 0 ? (double)st->bytes_written / 1024.0 / s : 0.0,
	    st->units_erased, st->units_written, st->units_unchanged,
	    st->bytes_unchanged,
	    st->bytes_skipped, res->left, !o->verify ? "verify skipped" :
	    st->verified ? "verified" : "not verified");
}

/* --- JSON: the one document of --json ------------------------------ */

static const char *const action_names[] = {
	[ACT_IDENTIFY] = "identify",
	[ACT_READ] = "read",
	[ACT_WRITE] = "write",
	[ACT_ERASE] = "erase",
	[ACT_CRC] = "crc",
	[ACT_WRITE_UNPROTECT] = "write_unprotect",
	[ACT_READOUT_PROTECT] = "readout_protect",
	[ACT_READOUT_UNPROTECT] = "readout_unprotect",
	[ACT_WRITE_PROTECT] = "write_protect",
	[ACT_LIST] = "list",
	[ACT_OPTION_BYTES] = "option_bytes",
	[ACT_REQUEST] = "request_bootloader",
};

/*
 * "error": null, or the first failure's name and message.  Every failure
 * went through fail(), so one is there when code is not EXIT_OK; were it
 * not, the document says so rather than invent one.
 */
static void
json_error(struct json *j, const struct report *rep, int code)
{
	json_key(j, "error");
	if (code == EXIT_OK) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	if (rep->err < 0)
		json_kstr(j, "name", ft_errname(rep->err));
	else if (rep->err > 0)
		json_kstr(j, "name", cli_err_names[rep->err]);
	else
		json_kstr(j, "name", "unreported");
	json_kstr(j, "message", rep->err != 0 ? rep->message :
	    "flashtool failed without a message (a bug)");
	json_obj_end(j);
}

/* A failure before the options were whole: usage errors. */
static void
json_early(const struct report *rep, int code)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "action");
	json_null(&j);
	json_kbool(&j, "ok", 0);
	json_kint(&j, "exit", code);
	json_error(&j, rep, code);
	json_obj_end(&j);
	fflush(stdout);
}

static void
json_dfu_entry(struct json *j, const struct ft_dfu_entry *e)
{
	char id[16];
	unsigned k;

	json_obj_begin(j);
	json_kstr(j, "path", e->path);
	snprintf(id, sizeof(id), "%04x:%04x", e->vid, e->pid);
	json_kstr(j, "id", id);
	json_ku64(j, "vid", e->vid);
	json_ku64(j, "pid", e->pid);
	json_ku64(j, "bcd_device", e->bcd_device);
	json_kstr(j, "serial", e->serial);
	json_kstr(j, "product", e->product);
	json_kstr(j, "mode", e->dfu_mode ? "dfu" : "runtime");
	json_kbool(j, "dfuse", e->dfuse);
	json_ku64(j, "transfer_size", e->transfer_size);
	json_key(j, "alts");
	json_arr_begin(j);
	for (k = 0; k < e->nalts; k++) {
		json_obj_begin(j);
		json_kint(j, "alt", e->alts[k].alt);
		/* A DfuSe alt setting's name is its memory layout. */
		json_kstr(j, "name", e->alts[k].name);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

static void
json_port_entry(struct json *j, const struct ft_port_entry *p)
{
	char id[16];

	json_obj_begin(j);
	json_kstr(j, "path", p->path);
	json_key(j, "by_id");
	if (p->by_id[0] != '\0')
		json_str(j, p->by_id);
	else
		json_null(j);
	json_kstr(j, "driver", p->driver);
	json_key(j, "usb");
	if (p->usb) {
		json_obj_begin(j);
		snprintf(id, sizeof(id), "%04x:%04x", p->vid, p->pid);
		json_kstr(j, "id", id);
		json_ku64(j, "vid", p->vid);
		json_ku64(j, "pid", p->pid);
		json_kstr(j, "serial", p->serial);
		json_kstr(j, "product", p->product);
		json_kstr(j, "path", p->usb_path);
		json_obj_end(j);
	} else {
		json_null(j);
	}
	json_obj_end(j);
}

/* The document of a --list that worked. */
static void
json_kp_entry(struct json *j, const struct ft_katapult_entry *e)
{
	static const char *const apps[] = {
		[FT_KP_APP_UNKNOWN] = "unknown",
		[FT_KP_APP_KATAPULT] = "katapult",
		[FT_KP_APP_KLIPPER] = "klipper",
	};
	char uuid[16];
	unsigned k;

	json_obj_begin(j);
	json_kstr(j, "app", apps[e->app]);
	if (e->can) {
		for (k = 0; k < sizeof(e->uuid); k++)
			snprintf(uuid + 2 * k, sizeof(uuid) - 2 * k, "%02x",
			    e->uuid[k]);
		json_kstr(j, "can_interface", e->port);
		json_kstr(j, "uuid", uuid);
	} else {
		json_kstr(j, "port", e->port);
		json_kstr(j, "by_id", e->by_id);
		json_kstr(j, "usb_path", e->usb_path);
		json_kstr(j, "serial", e->serial);
		json_kstr(j, "mcu", e->mcu);
	}
	json_obj_end(j);
}

static void
json_list(const struct result *res)
{
	struct json j;
	size_t i;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_kstr(&j, "action", "list");
	json_kbool(&j, "ok", 1);
	json_kint(&j, "exit", EXIT_OK);
	if (res->kp_listed) {
		json_key(&j, res->kp_can ? "can_nodes" : "katapult_devices");
		json_arr_begin(&j);
		for (i = 0; i < res->nkp; i++)
			json_kp_entry(&j, &res->kp[i]);
		json_arr_end(&j);
		json_obj_end(&j);
		fflush(stdout);
		return;
	}
	if (res->with_ports) {
		json_key(&j, "serial_ports");
		json_arr_begin(&j);
		for (i = 0; i < res->nports; i++)
			json_port_entry(&j, &res->ports[i]);
		json_arr_end(&j);
	}
	json_key(&j, "dfu_devices");
	if (res->dfu_ok) {
		json_arr_begin(&j);
		for (i = 0; i < res->ndfu; i++)
			json_dfu_entry(&j, &res->dfu[i]);
		json_arr_end(&j);
	} else {
		json_null(&j);
	}
	json_obj_end(&j);
	fflush(stdout);
}

static void
json_range(struct json *j, const char *key, uint32_t start, uint32_t end)
{
	json_key(j, key);
	if (end <= start) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_ku64(j, "start", start);
	json_ku64(j, "end", end);
	json_obj_end(j);
}

/* Katapult: the link, and what CONNECT said. */
static void
json_katapult(struct json *j, const struct ft_katapult_info *kp)
{
	char buf[16];
	unsigned i;

	json_kstr(j, "link", kp->link);
	if (kp->link[0] == 'c') {
		json_kstr(j, "can_interface", kp->can_iface);
		for (i = 0; i < sizeof(kp->uuid); i++)
			snprintf(buf + 2 * i, sizeof(buf) - 2 * i, "%02x",
			    kp->uuid[i]);
		json_kstr(j, "uuid", buf);
	} else {
		json_kstr(j, "port", kp->port);
		json_ku64(j, "baud", kp->baud);
	}
	json_kbool(j, "requested", kp->requested);
	json_key(j, "katapult");
	json_obj_begin(j);
	snprintf(buf, sizeof(buf), "%u.%u.%u", (unsigned)(kp->proto >> 16) &
	    0xFF, (unsigned)(kp->proto >> 8) & 0xFF, (unsigned)kp->proto &
	    0xFF);
	json_kstr(j, "protocol", buf);
	json_key(j, "version");
	if (kp->has_version)
		json_str(j, kp->version);
	else
		json_null(j);
	json_ku64(j, "app_start", kp->app_start);
	json_ku64(j, "block_size", kp->block_size);
	json_ku64(j, "flash_base", kp->flash_base);
	json_ku64(j, "flash_size", kp->flash_size);
	json_obj_end(j);
}

static void
json_interface(struct json *j, const struct run *r,
    const struct ft_devinfo *di)
{
	char id[16];

	json_kstr(j, "transport", di->transport == FT_TRANSPORT_USART ?
	    "usart" : di->transport == FT_TRANSPORT_DFU ? "dfu" : "katapult");
	if (di->transport == FT_TRANSPORT_KATAPULT) {
		json_katapult(j, &di->kp);
		return;
	}
	if (di->transport == FT_TRANSPORT_USART) {
		json_kstr(j, "port", r->port);
		json_ku64(j, "baud", r->baud);
		json_kstr(j, "mode", r->mode);
		return;
	}
	json_key(j, "usb");
	json_obj_begin(j);
	snprintf(id, sizeof(id), "%04x:%04x", di->dfu.vid, di->dfu.pid);
	json_kstr(j, "id", id);
	json_kstr(j, "path", di->dfu.path);
	json_kstr(j, "serial", di->dfu.serial);
	json_kstr(j, "product", di->dfu.product);
	json_kint(j, "alt", di->dfu_alt);
	json_kstr(j, "memory", di->memory);
	json_obj_end(j);
}

/*
 * How sure the device table is of this chip: its facts come from ST's
 * documents; "proven" lists what has worked on real silicon (none yet).
 */
static void
json_table_row(struct json *j, const struct ft_chip *c)
{
	unsigned b;

	json_obj_begin(j);
	json_ku64(j, "pid", c->pid);
	json_kstr(j, "source", "documents");
	json_key(j, "proven");
	json_arr_begin(j);
	for (b = 0; b < FT_PROVEN_COUNT; b++)
		if (c->proven & (1u << b))
			json_str(j, ft_proven_name(b));
	json_arr_end(j);
	json_obj_end(j);
}

/* What the DFU device did after the leave (ft_devinfo.leave). */
static void
json_leave(struct json *j, const struct ft_leave *lv)
{
	static const char *const outcomes[] = {
		[FT_LEAVE_NONE] = "none",
		[FT_LEAVE_APP] = "application",
		[FT_LEAVE_GONE] = "gone",
		[FT_LEAVE_STAYED] = "stayed",
		[FT_LEAVE_SENT] = "not_watched",
	};
	char id[16];

	json_key(j, "leave");
	json_obj_begin(j);
	json_kstr(j, "outcome", outcomes[lv->outcome]);
	json_kstr(j, "path", lv->path);
	if (lv->outcome == FT_LEAVE_APP) {
		snprintf(id, sizeof(id), "%04x:%04x", lv->vid, lv->pid);
		json_kstr(j, "id", id);
		json_kstr(j, "product", lv->product);
	}
	if (lv->outcome != FT_LEAVE_SENT)
		json_ku64(j, "ms", lv->ms);
	json_obj_end(j);
}

static void
json_device(struct json *j, const struct run *r, const struct ft_devinfo *di)
{
	char buf[160];
	unsigned i;

	json_obj_begin(j);
	json_interface(j, r, di);
	/* A DFU device has no chip ID to read: null, not its USB PID. */
	json_key(j, "pid");
	if (di->transport == FT_TRANSPORT_DFU)
		json_null(j);
	else
		json_u64(j, di->pid);
	json_kstr(j, "name", di->name);
	snprintf(buf, sizeof(buf), "%u.%u", di->bl_version >> 4,
	    di->bl_version & 0xF);
	json_kstr(j, "bootloader_version", buf);
	json_key(j, "flash");
	json_obj_begin(j);
	json_ku64(j, "base", di->flash.base);
	json_ku64(j, "size", ft_layout_size(&di->flash));
	format_layout(&di->flash, buf, sizeof(buf));
	json_kstr(j, "layout", buf);
	json_kstr(j, "notes", di->flash_notes);
	json_obj_end(j);
	json_key(j, "table_row");
	if (di->chip != NULL)
		json_table_row(j, di->chip);
	else
		json_null(j);
	if (di->chip != NULL) {
		json_range(j, "ram", di->chip->ram_start, di->chip->ram_end);
		json_range(j, "system_memory", di->chip->sysmem_start,
		    di->chip->sysmem_end);
		json_range(j, "option_bytes", di->chip->opt_start,
		    di->chip->opt_end);
	}
	json_key(j, "commands");
	json_arr_begin(j);
	for (i = 0; i < di->ncmds && i < sizeof(di->cmds); i++)
		json_u64(j, di->cmds[i]);
	json_arr_end(j);
	json_obj_end(j);
}

static void
json_write_stats(struct json *j, const struct options *o,
    const struct ft_write_stats *st)
{
	json_ku64(j, "bytes_written", st->bytes_written);
	json_ku64(j, "bytes_skipped", st->bytes_skipped);
	json_ku64(j, "units_erased", st->units_erased);
	json_ku64(j, "units_written", st->units_written);
	json_ku64(j, "units_unchanged", st->units_unchanged);
	json_ku64(j, "bytes_unchanged", st->bytes_unchanged);
	json_ku64(j, "units_restored", st->units_restored);
	json_kbool(j, "verified", o->verify && st->verified);
	json_ku64(j, "bytes_unverified", st->bytes_unverified);
	json_kstr(j, "unverified_why", st->unverified_why);
}

/* A bootloader request: what came back, and where. */
static void
json_arrival(struct json *j, const struct ft_katapult_arrival *a)
{
	char id[16];

	json_key(j, "arrival");
	json_obj_begin(j);
	json_kstr(j, "found", arrival_name(a->found));
	json_kbool(j, "requested", a->requested);
	json_kbool(j, "bridge", a->bridge);
	json_kstr(j, "port", a->port);
	json_kstr(j, "usb_path", a->usb_path);
	snprintf(id, sizeof(id), "%04x:%04x", a->vid, a->pid);
	json_kstr(j, "usb_id", a->vid || a->pid ? id : "");
	json_obj_end(j);
}

/* What the action did: the members after "device". */
static void
json_outcome(struct json *j, const struct options *o, const struct run *r,
    const struct result *res)
{
	if (o->file != NULL)
		json_kstr(j, "file", o->file);
	if (res->have_range) {
		json_ku64(j, "address", res->addr);
		json_ku64(j, "length", res->len);
	}
	if (o->action == ACT_ERASE)
		json_kbool(j, "mass_erase", res->mass);
	if (res->have_crc) {
		char hex[16];

		json_ku64(j, "crc", res->crc);
		snprintf(hex, sizeof(hex), "0x%08x", res->crc);
		json_kstr(j, "crc_hex", hex);
	}
	if (o->action == ACT_WRITE && r->image != NULL)
		json_kstr(j, "format",
		    ft_format_name(ft_image_format(r->image)));
	if (res->have_arrival)
		json_arrival(j, &res->arrival);
	if (res->have_stats)
		json_write_stats(j, o, &res->stats);
	if (o->action == ACT_READ || res->have_stats)
		json_kdouble(j, "seconds", res->seconds);
	json_option_bytes(j, o, res);
	if (r->dev != NULL &&
	    ft_dev_info(r->dev)->leave.outcome != FT_LEAVE_NONE)
		json_leave(j, &ft_dev_info(r->dev)->leave);
	json_key(j, "left");
	if (res->left[0] != '\0')
		json_str(j, res->left);
	else
		json_null(j);
}

/*
 * The one document of --json once the options were whole: a --list that
 * worked, or an action, success or not; "device" is null when none was
 * opened.
 */
void
json_document(const struct report *rep, const struct options *o,
    const struct run *r, const struct result *res, int code)
{
	struct json j;

	if (o->action == ACT_LIST && code == EXIT_OK) {
		json_list(res);
		return;
	}
	json_init(&j, stdout);
	json_obj_begin(&j);
	json_kstr(&j, "action", action_names[o->action]);
	json_kbool(&j, "ok", code == EXIT_OK);
	json_kint(&j, "exit", code);
	json_error(&j, rep, code);
	json_key(&j, "device");
	if (r->dev != NULL)
		json_device(&j, r, ft_dev_info(r->dev));
	else
		json_null(&j);
	json_outcome(&j, o, r, res);
	json_obj_end(&j);
	fflush(stdout);
}
