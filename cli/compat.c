/*
 * compat.c - drop-in command lines.  Installed (or symlinked) under the
 * name stm32flash, dfu-util, or flashtool.py (or katapult) for Katapult's
 * scripts/flashtool.py, flashtool takes that tool's options with their
 * meanings: the command line is rewritten into flashtool's own before
 * anything else looks at it, so there is one parser and one set of
 * checks behind all of them.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* stm32flash talks at 57600 baud unless told otherwise. */
#define STM32FLASH_DEFAULT_BAUD "57600"
/* dfu-util -w waits forever; a script still deserves an end. */
#define DFU_UTIL_WAIT_SECONDS "86400"
#define MAX_ARGS 64
/* flashtool.py's defaults: its -f and -i. */
#define KATAPULT_FIRMWARE "klipper/out/klipper.bin"
#define KATAPULT_CAN_IFACE "can0"

struct argv_out {
	int argc;
	char *argv[MAX_ARGS + 1];
	struct report *rep;
	const char *me;		/* "stm32flash (flashtool)" starts messages */
};

static void compat_error(struct argv_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

/* Through fail(), as every failure, under the name the user ran. */
static void
compat_error(struct argv_out *o, const char *fmt, ...)
{
	va_list ap;

	o->rep->progname = o->me;
	va_start(ap, fmt);
	vfail_usage(o->rep, fmt, ap);
}

static void
push(struct argv_out *o, const char *arg)
{
	if (o->argc >= MAX_ARGS)
		compat_error(o, "too many arguments");
	o->argv[o->argc++] = (char *)arg;
	o->argv[o->argc] = NULL;
}

static const char *
base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash != NULL ? slash + 1 : path;
}

/*
 * stm32flash's options are flashtool's, with two differences: the default
 * speed (57600), and -e N next to -w, which stm32flash 0.7 ignores (the
 * file decides what is erased); flashtool keeps only -e 0 (no erase).
 */
static void
from_stm32flash(int argc, char **argv, struct argv_out *o)
{
	int c, have_baud = 0, writing = 0;
	const char *erase_pages = NULL;
	int i;

	opterr = 0;
	optind = 1;
	while ((c = getopt(argc, argv,
	    "a:b:m:r:w:e:vn:g:jkfcChuos:S:F:i:R")) != -1) {
		if (c == 'b')
			have_baud = 1;
		else if (c == 'w')
			writing = 1;
		else if (c == 'e')
			erase_pages = optarg;
		else if (c == 'a')
			compat_error(o, "-a %s: I2C is not supported, only "
			    "serial ports", optarg);
		else if (c == '?')
			compat_error(o, "unknown option or missing value "
			    "near '%s'", argv[optind - 1]);
	}
	push(o, "flashtool");
	if (!have_baud) {
		push(o, "-b");
		push(o, STM32FLASH_DEFAULT_BAUD);
	}
	/* Pass everything through, but drop a "-e N" that -w overrides. */
	for (i = 1; i < argc; i++) {
		if (writing && erase_pages != NULL &&
		    strcmp(erase_pages, "0") != 0) {
			if (strcmp(argv[i], "-e") == 0 && i + 1 < argc) {
				i++;
				continue;
			}
			if (strncmp(argv[i], "-e", 2) == 0 &&
			    argv[i][2] != '\0')
				continue;
		}
		push(o, argv[i]);
	}
}

/*
 * dfu-util's -s ADDR[:LEN][:leave][:mass-erase][:force][:unprotect]
 * [:will-reset]: the address (and length) go to -S, the modifiers to
 * flashtool's own options.  Without :leave dfu-util stays in DFU mode.
 */
static void
dfuse_address(const char *spec, struct argv_out *o, int *leave,
    char *range, size_t range_size)
{
	char buf[128];
	char *part, *save = NULL;
	int first = 1;

	if (strlen(spec) >= sizeof(buf))
		compat_error(o, "-s %s: too long", spec);
	strcpy(buf, spec);
	range[0] = '\0';
	for (part = strtok_r(buf, ":", &save); part != NULL;
	    part = strtok_r(NULL, ":", &save)) {
		if (first) {
			if (strlen(part) >= range_size)
				compat_error(o, "-s %s: too long", spec);
			strcpy(range, part);
			first = 0;
		} else if (strcmp(part, "leave") == 0) {
			*leave = 1;
		} else if (strcmp(part, "mass-erase") == 0) {
			push(o, "--mass-erase");
		} else if (strcmp(part, "unprotect") == 0) {
			push(o, "-k");
		} else if (strcmp(part, "force") == 0 ||
		    strcmp(part, "will-reset") == 0) {
			/* flashtool checks the layout; resets are seen. */
		} else if (part[0] >= '0' && part[0] <= '9') {
			size_t n = strlen(range);

			if (n + 1 + strlen(part) >= range_size)
				compat_error(o, "-s %s: too long", spec);
			range[n] = ':';
			strcpy(range + n + 1, part);
		} else {
			compat_error(o, "-s: unknown modifier '%s' (leave, "
			    "mass-erase, force, unprotect, will-reset)", part);
		}
	}
}

static const struct option dfu_util_options[] = {
	{ "version", no_argument, NULL, 'V' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "list", no_argument, NULL, 'l' },
	{ "detach", no_argument, NULL, 'e' },
	{ "detach-delay", required_argument, NULL, 'E' },
	{ "device", required_argument, NULL, 'd' },
	{ "path", required_argument, NULL, 'p' },
	{ "config", required_argument, NULL, 'c' },
	{ "cfg", required_argument, NULL, 'c' },
	{ "interface", required_argument, NULL, 'i' },
	{ "intf", required_argument, NULL, 'i' },
	{ "altsetting", required_argument, NULL, 'a' },
	{ "alt", required_argument, NULL, 'a' },
	{ "serial", required_argument, NULL, 'S' },
	{ "transfer-size", required_argument, NULL, 't' },
	{ "upload", required_argument, NULL, 'U' },
	{ "upload-size", required_argument, NULL, 'Z' },
	{ "download", required_argument, NULL, 'D' },
	{ "reset", no_argument, NULL, 'R' },
	{ "dfuse-address", required_argument, NULL, 's' },
	{ "wait", no_argument, NULL, 'w' },
	{ NULL, 0, NULL, 0 },
};

/* What a dfu-util command line asks for beside the plain options. */
struct dfu_util_cmd {
	const char *upload, *download, *upload_size;
	int leave, list;
	char range[96];		/* -s ADDR[:LEN], "" if none */
};

/* The transfer: -l, -s/-Z as -S, -D as -w (with --stay), -U as -r. */
static void
dfu_util_transfer(struct argv_out *o, const struct dfu_util_cmd *cmd)
{
	static char sized[128];

	if (cmd->list)
		push(o, "--list");
	if (cmd->upload_size != NULL && strchr(cmd->range, ':') == NULL) {
		snprintf(sized, sizeof(sized), "%s:%s", cmd->range[0] != '\0' ?
		    cmd->range : "0x08000000", cmd->upload_size);
		push(o, "-S");
		push(o, sized);
	} else if (cmd->range[0] != '\0') {
		push(o, "-S");
		push(o, cmd->range);
	}
	if (cmd->download != NULL) {
		push(o, "-w");
		push(o, cmd->download);
		if (!cmd->leave)
			push(o, "--stay");
	}
	if (cmd->upload != NULL) {
		push(o, "-r");
		push(o, cmd->upload);
	}
}

/* One option of dfu-util's that flashtool spells the same, with a value. */
static void
push_pair(struct argv_out *o, const char *opt, const char *arg)
{
	push(o, opt);
	push(o, arg);
}

static void
from_dfu_util(int argc, char **argv, struct argv_out *o)
{
	/* Static: push keeps pointers into it for the caller. */
	static struct dfu_util_cmd cmd;
	int c;

	memset(&cmd, 0, sizeof(cmd));
	push(o, "flashtool");
	push(o, "--dfu");
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hVvleE:d:p:c:i:a:S:t:U:D:Z:Rs:w",
	    dfu_util_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			push(o, "--help");
			break;
		case 'V':
			push(o, "--version");
			break;
		case 'v':
			push(o, "--debug");
			break;
		case 'l':
			cmd.list = 1;
			break;
		case 'e':
		case 'E':
		case 'R':
		case 't':
			/* Detach happens by itself for a runtime device; the
			 * leave after -s :leave makes -R moot; the transfer
			 * size is the device's. */
			break;
		case 'd':
			push_pair(o, "-d", optarg);
			break;
		case 'p':
			push_pair(o, "--path", optarg);
			break;
		case 'S':
			push_pair(o, "--serial", optarg);
			break;
		case 'a':
			push_pair(o, "-a", optarg);
			break;
		case 'c':
		case 'i':
			compat_error(o, "-c/-i %s: configuration and "
			    "interface are found by themselves", optarg);
		case 'U':
			cmd.upload = optarg;
			break;
		case 'D':
			cmd.download = optarg;
			break;
		case 'Z':
			cmd.upload_size = optarg;
			break;
		case 's':
			dfuse_address(optarg, o, &cmd.leave, cmd.range,
			    sizeof(cmd.range));
			break;
		case 'w':
			push(o, "--wait=" DFU_UTIL_WAIT_SECONDS);
			break;
		default:
			compat_error(o, "unknown option or missing value "
			    "near '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		compat_error(o, "unexpected argument '%s'", argv[optind]);
	dfu_util_transfer(o, &cmd);
}

static const struct option flashtool_py_options[] = {
	{ "device", required_argument, NULL, 'd' },
	{ "baud", required_argument, NULL, 'b' },
	{ "interface", required_argument, NULL, 'i' },
	{ "firmware", required_argument, NULL, 'f' },
	{ "uuid", required_argument, NULL, 'u' },
	{ "query", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "request-bootloader", no_argument, NULL, 'r' },
	{ "status", no_argument, NULL, 's' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* What a flashtool.py command line asks for. */
struct flashtool_py_cmd {
	const char *device, *baud, *iface, *firmware, *uuid;
	int query, request, status;
};

/* flashtool.py's default firmware, ~/klipper/out/klipper.bin. */
static const char *
default_firmware(void)
{
	static char path[PATH_MAX];
	const char *home = getenv("HOME");

	snprintf(path, sizeof(path), "%s/%s", home != NULL ? home : ".",
	    KATAPULT_FIRMWARE);
	return path;
}

/* The command flashtool.py's options make, after the options pushed. */
static void
flashtool_py_command(struct argv_out *o, const struct flashtool_py_cmd *c)
{
	const char *iface = c->iface != NULL ? c->iface : KATAPULT_CAN_IFACE;

	if (c->query) {
		push(o, "--list");
		push_pair(o, "--can", iface);
		return;
	}
	if (c->device != NULL) {
		push(o, "--katapult");
		if (c->baud != NULL)
			push_pair(o, "-b", c->baud);
	} else {
		push_pair(o, "--can", iface);
		if (c->uuid != NULL)
			push_pair(o, "--uuid", c->uuid);
	}
	if (c->request)
		push(o, "--request-bootloader");
	else if (!c->status)
		push_pair(o, "-w", c->firmware != NULL ? c->firmware :
		    default_firmware());
	if (c->device != NULL)
		push(o, c->device);
}

/*
 * Katapult's scripts/flashtool.py: -d a serial device (else CAN on -i,
 * default can0, node -u), -f the firmware, -b the baud, -r request the
 * bootloader and stop, -s status (identify), -q query the CAN bus, -v
 * verbose.  Unlike flashtool.py, COMPLETE goes only after a write that
 * verified.
 */
static void
from_flashtool_py(int argc, char **argv, struct argv_out *o)
{
	struct flashtool_py_cmd c;
	int opt;

	memset(&c, 0, sizeof(c));
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "d:b:i:f:u:qvrsh",
	    flashtool_py_options, NULL)) != -1) {
		switch (opt) {
		case 'd': c.device = optarg; break;
		case 'b': c.baud = optarg; break;
		case 'i': c.iface = optarg; break;
		case 'f': c.firmware = optarg; break;
		case 'u': c.uuid = optarg; break;
		case 'q': c.query = 1; break;
		case 'r': c.request = 1; break;
		case 's': c.status = 1; break;
		case 'v': push(o, "--debug"); break;
		case 'h': push(o, "--help"); break;
		default:
			compat_error(o, "unknown option or missing value "
			    "near '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		compat_error(o, "unexpected argument '%s'", argv[optind]);
	flashtool_py_command(o, &c);
}

/*
 * When argv[0] is named stm32flash, dfu-util, flashtool.py or katapult,
 * rewrite the command line
 * into flashtool's options and return 1 (a failure, for options flashtool
 * cannot honour, is reported under that name and exits 2); otherwise
 * return 0 and leave it alone.
 */
int
compat_rewrite(int argc, char **argv, int *out_argc, char ***out_argv,
    struct report *rep)
{
	static struct argv_out o;
	const char *name = base_name(argv[0]);

	o.argc = 0;
	o.rep = rep;
	if (strcmp(name, "stm32flash") == 0) {
		o.me = "stm32flash (flashtool)";
		from_stm32flash(argc, argv, &o);
	} else if (strcmp(name, "dfu-util") == 0) {
		o.me = "dfu-util (flashtool)";
		from_dfu_util(argc, argv, &o);
	} else if (strcmp(name, "flashtool.py") == 0 ||
	    strcmp(name, "katapult") == 0) {
		o.me = "flashtool.py (flashtool)";
		push(&o, "flashtool");
		from_flashtool_py(argc, argv, &o);
	} else {
		return 0;
	}
	/* The caller's getopt starts afresh on the new vector. */
	optind = 1;
	opterr = 1;
	*out_argc = o.argc;
	*out_argv = o.argv;
	return 1;
}
