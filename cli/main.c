/*
 * flashtool - command-line front end of libflashtool.
 *
 * main() is: parse every option into a request, validate it all (files,
 * addresses, output directory) before the device is opened, then one
 * library call per step and one exit code.  Messages go to stderr, data
 * (a read to "-", identify output, CRC, a listing) to stdout; with --json
 * stdout carries exactly one JSON document instead, failures included.
 * Named stm32flash or dfu-util, the command line is first rewritten into
 * flashtool's (cli/compat.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flashtool.h"
#include "compat.h"
#include "json.h"

/* Names tried for -r's temporary before giving up (EEXIST each time). */
#define TMP_NAME_TRIES 100u

/* Exit codes, documented in man/flashtool.1 EXIT STATUS. */
enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,	/* device, protocol or I/O error */
	EXIT_USAGE = 2,		/* bad option, file or address */
	EXIT_VERIFY = 3,	/* verify mismatch */
	EXIT_NO_DEVICE = 4,	/* no port, no DFU device, nothing answering */
	EXIT_MULTIPLE = 5,	/* several DFU devices match */
	EXIT_ACCESS = 6,	/* permission denied or port in use */
	EXIT_STAYED = 7,	/* written, but the device stayed in DFU mode */
	EXIT_LEAVE = 8,		/* written, but the go/leave step failed */
	EXIT_PROTECTED = 9,	/* the chip is read or write protected */
	EXIT_INTERRUPTED = 10,	/* stopped by SIGINT or SIGTERM */
};

enum action {
	ACT_IDENTIFY,
	ACT_READ,
	ACT_WRITE,
	ACT_ERASE,
	ACT_CRC,
	ACT_WRITE_UNPROTECT,
	ACT_READOUT_PROTECT,
	ACT_READOUT_UNPROTECT,
	ACT_WRITE_PROTECT,
	ACT_LIST,
};

struct request {
	enum action action;
	int nactions;
	const char *file;	/* -r / -w */
	enum ft_image_format format;
	int verify;
	int verify_implicit;	/* default verify, no -v given */
	int no_verify;		/* --no-verify */
	int mass_erase;
	int no_erase;
	int no_diff;		/* --no-diff: erase and write every unit */
	int page_erase;		/* --page-erase: never a mass erase instead */
	int have_range;
	uint32_t range_addr;
	uint32_t range_len;
	int have_len;
	int have_start_page;
	uint32_t start_page;
	int have_page_count;
	uint32_t page_count;
	int have_go;
	uint32_t go_addr;
	int reset;
	int stay;		/* DFU: do not leave after writing */
	int quiet;
	int debug;
	int have_layout;
	struct ft_layout layout;
	struct ft_open_opts open;
	const char *preset;	/* --entry NAME */
	int have_seq;		/* -i or --entry given */
	int seq_has_exit;	/* the sequence has a non-empty exit half */
	char mode[4];
	struct ft_image *image;
	/* -r FILE: written to tmp_path, renamed to file when complete */
	char tmp_path[PATH_MAX];
	int out_fd;
	int json;		/* --json */
	int force;		/* --force: skip the vector-table check */

	/* What the action did, for the summary line and --json. */
	int res_have_range;	/* res_addr/res_len are set */
	uint32_t res_addr, res_len;
	int have_crc;
	uint32_t crc;
	int mass;		/* the erase was a mass erase */
	int have_stats;
	struct ft_write_stats stats;
	double seconds;		/* of the read or the write */
	char left[96];		/* how the device was left */
};

static const char *progname = "flashtool";
static volatile sig_atomic_t interrupted;
/*
 * --json, seen before the options are parsed, so that a usage error too
 * ends in the one JSON document; and the last failure, for that document.
 */
static int json_mode;
static struct {
	int err;		/* enum ft_err, or 0 for a usage error */
	char message[640];
} failure;

static void emit_json_failure(int code);

/* The entry presets, one per line and its wiring below it. */
static void
print_presets(FILE *f)
{
	size_t i;

	for (i = 0; i < ft_seq_preset_count(); i++) {
		const struct ft_seq_preset *p = ft_seq_preset_at(i);

		fprintf(f, "  %-10s %s\n  %-10s %s\n", p->name, p->seq, "",
		    p->wiring);
	}
}

/*
 * Every option, one line each; man/flashtool.1 lists the same ones
 * (test/e2e/95-docs.sh checks both ways) and the bash completion reads
 * them from here.
 */
static const char help_text[] =
"usage: flashtool [options] [-r file | -w file | -o | -C | ...] port\n"
"       flashtool --dfu [-d vid:pid[,vid:pid]] [--path path] [options]\n"
"       flashtool --list [--dfu] [--json]\n"
"Actions (none: identify the chip):\n"
"  -r, --read FILE          read the -S range or all flash (- stdout)\n"
"  -w, --write FILE         write FILE: bin, HEX, S-rec, ELF, .dfu (- stdin)\n"
"  -o, --erase-only         erase the -S range, the -s/-e pages, or all\n"
"  -C, --crc                CRC-32 of the -S range or all flash\n"
"  -u, --write-unprotect    remove write protection (USART)\n"
"  -j, --readout-protect    enable readout protection (USART)\n"
"  -k, --readout-unprotect  disable readout protection: mass-erases\n"
"      --write-protect      write-protect the -S range or all (USART)\n"
"      --list               serial ports and DFU devices (--dfu: DFU only)\n"
"Addresses and writing:\n"
"  -S, --range ADDR[:LEN]   range of -r/-o/-C; where a binary is written\n"
"  -s, --start-page PAGE    first page for -o\n"
"  -e, --erase-pages N      pages for -o; -e 0 with -w: no erase\n"
"  -v, --verify             verify after writing (default), fail if unable\n"
"      --no-verify          do not verify after writing\n"
"      --no-diff            erase and write every unit, changed or not\n"
"      --page-erase         never a mass erase in place of page erases\n"
"      --mass-erase         erase all flash first (-w) or with -o\n"
"      --force              write an image linked for another address\n"
"  -f, --force-binary       treat the image as raw binary\n"
"      --format FMT         auto, bin, hex, srec, elf or dfu\n"
"      --layout BASE:RUNS   flash layout of a chip not in the table\n"
"  -g, --go ADDR            start the code at ADDR afterwards (0: flash)\n"
"  -R, --reset              reset the chip afterwards\n"
"  -n, --retries N          retries per block (default 3)\n"
"Serial port (USART bootloader, AN3155):\n"
"  -b, --baud BAUD          speed (default 115200)\n"
"  -m, --mode MODE          data bits, parity, stop bits (default 8e1)\n"
"  -c, --no-sync            the bootloader is already synchronised\n"
"  -F, --frames RX[:TX]     largest read and write frames\n"
"  -i, --sequence SEQ       entry/exit sequence on DTR, RTS, BREAK, GPIO\n"
"      --entry PRESET       a named sequence (--entry list)\n"
"      --settle MS          wait after the entry sequence (default 50)\n"
"      --pipeline           send frames before their ACKs come (risky)\n"
"USB DFU:\n"
"      --dfu                use a USB DFU device instead of a port\n"
"  -d, --device VID:PID[,VID:PID]  select by USB IDs, as dfu-util -d\n"
"      --path PATH          select by USB path (1-1.2)\n"
"      --serial SERIAL      select by serial number\n"
"  -a, --alt ALT            alternate setting, number or name\n"
"      --wait[=SECONDS]     wait for the device to appear (default 30)\n"
"      --stay               stay in DFU mode after writing\n"
"Output:\n"
"      --json               one JSON document on stdout (see the man page)\n"
"  -q, --quiet              errors only\n"
"      --debug              log every command; twice: every byte\n"
"  -h, --help               this text\n"
"      --version            the version\n";

/* full: -h, on stdout; otherwise the short form after a bad option. */
static void
usage(int full)
{
	FILE *f = full ? stdout : stderr;

	if (full)
		fputs(help_text, f);
	else
		fprintf(f, "usage: flashtool [options] port\n"
		    "       flashtool --dfu [options]\n"
		    "       flashtool --list [--dfu]\n"
		    "Run 'flashtool --help' for the options.\n");
	if (!full)
		return;
	fprintf(f, "Entry presets (--entry NAME; 'dtr' asserted is 0 V on "
	    "most adapters):\n");
	print_presets(f);
	fprintf(f, "Run 'man flashtool' for ENTRY SEQUENCES, JSON and the "
	    "exit codes.\n");
}

/*
 * One usage message: "flashtool: ..." on stderr, and kept for the JSON
 * failure document unless an earlier message is there already.
 */
static void
usage_message(const char *fmt, va_list ap)
{
	va_list again;

	va_copy(again, ap);
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	if (failure.message[0] == '\0')
		vsnprintf(failure.message, sizeof(failure.message), fmt,
		    again);
	va_end(again);
}

static void
die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	usage_message(fmt, ap);
	va_end(ap);
	if (json_mode)
		emit_json_failure(EXIT_USAGE);
	exit(EXIT_USAGE);
}

static void
on_log(enum ft_log_level level, const char *msg, void *user)
{
	const struct request *rq = user;

	if (rq->quiet && level > FT_LOG_ERROR)
		return;
	if (level <= FT_LOG_WARN)
		fprintf(stderr, "%s: %s%s\n", progname,
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
static void
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

static int
on_cancel(void *user)
{
	(void)user;
	return interrupted != 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static int
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

/*
 * One message for a library failure: what we were doing (NULL when the
 * detail already says it), and the detail.
 */
static int
report(struct ft_ctx *ctx, int err, const char *doing)
{
	const char *detail = ft_errdetail(ctx);

	if (detail[0] == '\0')
		detail = ft_strerror(err);
	if (doing != NULL)
		fprintf(stderr, "%s: %s: %s\n", progname, doing, detail);
	else
		fprintf(stderr, "%s: %s\n", progname, detail);
	/* The first failure is the one that counts; cleanup may add more. */
	if (failure.message[0] == '\0') {
		failure.err = err;
		snprintf(failure.message, sizeof(failure.message), "%s%s%s",
		    doing != NULL ? doing : "", doing != NULL ? ": " : "",
		    detail);
	}
	return exit_code_for(err);
}

static uint32_t
parse_num_opt(const char *opt, const char *arg, int allow_suffix)
{
	uint32_t v;

	if (ft_parse_u32(arg, allow_suffix, &v) != 0)
		die_usage("%s: '%s' is not a number (decimal or 0x hex)",
		    opt, arg);
	return v;
}

static void
parse_mode(struct request *rq, const char *arg)
{
	if (strlen(arg) != 3 || arg[0] < '5' || arg[0] > '8' ||
	    strchr("neoNEO", arg[1]) == NULL || (arg[2] != '1' &&
	    arg[2] != '2'))
		die_usage("-m: mode '%s' is not DPS (data bits 5-8, parity "
		    "n/e/o, stop bits 1/2), e.g. 8e1", arg);
	rq->open.data_bits = (unsigned)(arg[0] - '0');
	rq->open.parity = (char)(arg[1] | 0x20);
	rq->open.stop_bits = (unsigned)(arg[2] - '0');
	memcpy(rq->mode, arg, 3);
	rq->mode[3] = '\0';
}

static void
parse_frames(struct request *rq, const char *arg)
{
	char buf[32];
	char *colon;
	uint32_t rx, tx = 0;

	if (strlen(arg) >= sizeof(buf))
		die_usage("-F: '%s' is not RX[:TX]", arg);
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (colon != NULL)
		*colon++ = '\0';
	rx = parse_num_opt("-F", buf, 0);
	if (colon != NULL)
		tx = parse_num_opt("-F", colon, 0);
	if (rx != 0 && (rx < 20 || rx > 256))
		die_usage("-F: read frame %u is outside 20-256", rx);
	/* TX counts the whole frame: length byte, data, checksum. */
	if (tx != 0 && (tx < 6 || tx > 258))
		die_usage("-F: write frame %u is outside 6-258", tx);
	rq->open.max_read = rx;
	rq->open.max_write = tx != 0 ? ((tx - 2) & ~3u) : 0;
}

static void
parse_usb_ids(const char *arg, int *vid, int *pid)
{
	char buf[32];
	char *colon;

	*vid = *pid = -1;
	if (*arg == '\0')
		return;
	if (strlen(arg) >= sizeof(buf))
		die_usage("-d: '%s' is not VID:PID", arg);
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (colon != NULL)
		*colon++ = '\0';
	if (buf[0] != '\0' && buf[0] != '*') {
		char *end;
		unsigned long x = strtoul(buf, &end, 16);

		if (*end != '\0' || x > 0xFFFF)
			die_usage("-d: '%s' is not a hex vendor ID", buf);
		*vid = (int)x;
	}
	if (colon != NULL && colon[0] != '\0' && colon[0] != '*') {
		char *end;
		unsigned long x = strtoul(colon, &end, 16);

		if (*end != '\0' || x > 0xFFFF)
			die_usage("-d: '%s' is not a hex product ID", colon);
		*pid = (int)x;
	}
}

/* dfu-util's -d: "vid:pid", ",vid:pid" (DFU mode only), "a:b,c:d". */
static void
parse_device_match(struct request *rq, const char *arg)
{
	char buf[64];
	char *comma;

	if (strlen(arg) >= sizeof(buf))
		die_usage("-d: '%s' is too long", arg);
	strcpy(buf, arg);
	comma = strchr(buf, ',');
	if (comma != NULL)
		*comma++ = '\0';
	parse_usb_ids(buf, &rq->open.dfu.vid, &rq->open.dfu.pid);
	if (comma != NULL)
		parse_usb_ids(comma, &rq->open.dfu.dfu_vid,
		    &rq->open.dfu.dfu_pid);
}

static void
set_action(struct request *rq, enum action a)
{
	if (rq->nactions > 0 && rq->action != a)
		die_usage("choose one of -r, -w, -o, -C, -u, -j, -k, "
		    "--write-protect, --list");
	rq->action = a;
	rq->nactions = 1;
}

enum long_only {
	OPT_LAYOUT = 256,
	OPT_FORMAT,
	OPT_MASS_ERASE,
	OPT_DEBUG,
	OPT_VERSION,
	OPT_DFU,
	OPT_PATH,
	OPT_SERIAL,
	OPT_WAIT,
	OPT_LIST,
	OPT_STAY,
	OPT_WRITE_PROTECT,
	OPT_NO_DIFF,
	OPT_PAGE_ERASE,
	OPT_ENTRY,
	OPT_SETTLE,
	OPT_NO_VERIFY,
	OPT_JSON,
	OPT_FORCE,
	OPT_PIPELINE,
};

static const struct option long_options[] = {
	{ "baud", required_argument, NULL, 'b' },
	{ "mode", required_argument, NULL, 'm' },
	{ "read", required_argument, NULL, 'r' },
	{ "write", required_argument, NULL, 'w' },
	{ "verify", no_argument, NULL, 'v' },
	{ "retries", required_argument, NULL, 'n' },
	{ "go", required_argument, NULL, 'g' },
	{ "range", required_argument, NULL, 'S' },
	{ "start-page", required_argument, NULL, 's' },
	{ "erase-pages", required_argument, NULL, 'e' },
	{ "erase-only", no_argument, NULL, 'o' },
	{ "write-unprotect", no_argument, NULL, 'u' },
	{ "readout-protect", no_argument, NULL, 'j' },
	{ "readout-unprotect", no_argument, NULL, 'k' },
	{ "reset", no_argument, NULL, 'R' },
	{ "crc", no_argument, NULL, 'C' },
	{ "no-sync", no_argument, NULL, 'c' },
	{ "force-binary", no_argument, NULL, 'f' },
	{ "frames", required_argument, NULL, 'F' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "alt", required_argument, NULL, 'a' },
	{ "device", required_argument, NULL, 'd' },
	{ "layout", required_argument, NULL, OPT_LAYOUT },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "mass-erase", no_argument, NULL, OPT_MASS_ERASE },
	{ "debug", no_argument, NULL, OPT_DEBUG },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ "dfu", no_argument, NULL, OPT_DFU },
	{ "path", required_argument, NULL, OPT_PATH },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	{ "wait", optional_argument, NULL, OPT_WAIT },
	{ "list", no_argument, NULL, OPT_LIST },
	{ "stay", no_argument, NULL, OPT_STAY },
	{ "write-protect", no_argument, NULL, OPT_WRITE_PROTECT },
	{ "no-diff", no_argument, NULL, OPT_NO_DIFF },
	{ "page-erase", no_argument, NULL, OPT_PAGE_ERASE },
	{ "sequence", required_argument, NULL, 'i' },
	{ "entry", required_argument, NULL, OPT_ENTRY },
	{ "settle", required_argument, NULL, OPT_SETTLE },
	{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "pipeline", no_argument, NULL, OPT_PIPELINE },
	{ NULL, 0, NULL, 0 },
};

static enum ft_image_format
parse_format(const char *arg)
{
	static const struct {
		const char *name;
		enum ft_image_format fmt;
	} names[] = {
		{ "auto", FT_FMT_AUTO }, { "bin", FT_FMT_BINARY },
		{ "binary", FT_FMT_BINARY }, { "hex", FT_FMT_IHEX },
		{ "ihex", FT_FMT_IHEX }, { "srec", FT_FMT_SREC },
		{ "elf", FT_FMT_ELF }, { "dfu", FT_FMT_DFU },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(arg, names[i].name) == 0)
			return names[i].fmt;
	die_usage("--format: '%s' is not auto, bin, hex, srec, elf or dfu",
	    arg);
	return FT_FMT_AUTO;
}

/* --entry NAME: a preset is just a named sequence; "list" shows them. */
static void
parse_entry_preset(struct request *rq, const char *arg)
{
	const struct ft_seq_preset *p;

	if (strcmp(arg, "list") == 0) {
		printf("Entry presets ('dtr' and 'rts' mean asserted, which "
		    "is 0 V on most USB-serial adapters):\n");
		print_presets(stdout);
		exit(EXIT_OK);
	}
	if (rq->have_seq)
		die_usage("give one entry sequence: -i SEQ or --entry NAME");
	p = ft_seq_preset_find(arg);
	if (p == NULL) {
		fprintf(stderr, "%s: --entry: no preset '%s'; the presets "
		    "are:\n", progname, arg);
		print_presets(stderr);
		if (json_mode) {
			snprintf(failure.message, sizeof(failure.message),
			    "--entry: no preset '%s'", arg);
			emit_json_failure(EXIT_USAGE);
		}
		exit(EXIT_USAGE);
	}
	rq->preset = p->name;
	rq->open.entry_seq = p->seq;
	rq->have_seq = 1;
}

static void
parse_args(struct request *rq, int argc, char **argv)
{
	int c;

	while ((c = getopt_long(argc, argv,
	    "a:b:Ccd:e:F:fg:hi:jkm:n:oqRr:S:s:uvw:", long_options,
	    NULL)) != -1) {
		switch (c) {
		case 'a':
			if (ft_parse_u32(optarg, 0, &(uint32_t){0}) == 0)
				rq->open.dfu.alt = (int)parse_num_opt("-a",
				    optarg, 0);
			else
				rq->open.dfu.alt_name = optarg;
			break;
		case 'b':
			rq->open.baud = parse_num_opt("-b", optarg, 0);
			if (rq->open.baud == 0)
				die_usage("-b: baud rate must not be 0");
			break;
		case 'C':
			set_action(rq, ACT_CRC);
			break;
		case 'c':
			rq->open.no_sync = 1;
			break;
		case 'd':
			parse_device_match(rq, optarg);
			break;
		case 'e':
			rq->page_count = parse_num_opt("-e", optarg, 0);
			if (rq->page_count > 0xFFFF)
				die_usage("-e: %u pages is more than 65535",
				    rq->page_count);
			rq->have_page_count = 1;
			break;
		case 'F':
			parse_frames(rq, optarg);
			break;
		case 'f':
			rq->format = FT_FMT_BINARY;
			break;
		case 'g':
			rq->go_addr = parse_num_opt("-g", optarg, 0);
			rq->have_go = 1;
			break;
		case 'h':
			usage(1);
			exit(EXIT_OK);
		case 'i':
			if (rq->have_seq)
				die_usage("give one entry sequence: -i SEQ or "
				    "--entry NAME");
			rq->open.entry_seq = optarg;
			rq->have_seq = 1;
			break;
		case 'j':
			set_action(rq, ACT_READOUT_PROTECT);
			break;
		case 'k':
			set_action(rq, ACT_READOUT_UNPROTECT);
			break;
		case 'm':
			parse_mode(rq, optarg);
			break;
		case 'n':
			rq->open.retries = parse_num_opt("-n", optarg, 0);
			if (rq->open.retries == 0 || rq->open.retries > 100)
				die_usage("-n: retries must be 1-100");
			break;
		case 'o':
			set_action(rq, ACT_ERASE);
			break;
		case 'q':
			rq->quiet = 1;
			break;
		case 'R':
			rq->reset = 1;
			break;
		case 'r':
			set_action(rq, ACT_READ);
			rq->file = optarg;
			break;
		case 'S':
			if (ft_parse_addr_len(NULL, optarg, &rq->range_addr,
			    &rq->range_len, &rq->have_len) != 0)
				die_usage("-S: '%s' is not ADDR[:LEN] (a "
				    "non-zero LEN that stays below 4 GiB)",
				    optarg);
			rq->have_range = 1;
			break;
		case 's':
			rq->start_page = parse_num_opt("-s", optarg, 0);
			rq->have_start_page = 1;
			break;
		case 'u':
			set_action(rq, ACT_WRITE_UNPROTECT);
			break;
		case 'v':
			rq->verify = 1;
			break;
		case 'w':
			set_action(rq, ACT_WRITE);
			rq->file = optarg;
			break;
		case OPT_LAYOUT:
			if (ft_layout_parse(NULL, optarg, &rq->layout) != 0)
				die_usage("--layout: '%s' is not BASE:RUNS, "
				    "e.g. 0x08000000:64x2K or "
				    "0x08000000:4x16K,1x64K,3x128K", optarg);
			rq->have_layout = 1;
			break;
		case OPT_FORMAT:
			rq->format = parse_format(optarg);
			break;
		case OPT_MASS_ERASE:
			rq->mass_erase = 1;
			break;
		case OPT_DEBUG:
			rq->debug++;
			break;
		case OPT_VERSION:
			printf("flashtool %s\n", FT_VERSION);
			exit(EXIT_OK);
		case OPT_DFU:
			rq->open.transport = FT_TRANSPORT_DFU;
			break;
		case OPT_PATH:
			rq->open.dfu.path = optarg;
			break;
		case OPT_SERIAL:
			rq->open.dfu.serial = optarg;
			break;
		case OPT_WAIT:
			rq->open.wait_ms = optarg == NULL ? 30000 :
			    parse_num_opt("--wait", optarg, 0) * 1000u;
			if (optarg != NULL && rq->open.wait_ms / 1000u !=
			    parse_num_opt("--wait", optarg, 0))
				die_usage("--wait: %s seconds is too long",
				    optarg);
			break;
		case OPT_LIST:
			set_action(rq, ACT_LIST);
			break;
		case OPT_STAY:
			rq->stay = 1;
			break;
		case OPT_WRITE_PROTECT:
			set_action(rq, ACT_WRITE_PROTECT);
			break;
		case OPT_NO_DIFF:
			rq->no_diff = 1;
			break;
		case OPT_PAGE_ERASE:
			rq->page_erase = 1;
			break;
		case OPT_NO_VERIFY:
			rq->no_verify = 1;
			break;
		case OPT_JSON:
			rq->json = 1;
			break;
		case OPT_FORCE:
			rq->force = 1;
			break;
		case OPT_PIPELINE:
			rq->open.usart_pipeline = 1;
			break;
		case OPT_ENTRY:
			parse_entry_preset(rq, optarg);
			break;
		case OPT_SETTLE:
			rq->open.settle_ms = (int)parse_num_opt("--settle",
			    optarg, 0);
			if (rq->open.settle_ms < 0 ||
			    rq->open.settle_ms > 10000)
				die_usage("--settle: %s ms is outside 0-10000",
				    optarg);
			/* 0 in the options means the default: none is < 0. */
			if (rq->open.settle_ms == 0)
				rq->open.settle_ms = -1;
			break;
		default:
			usage(0);
			if (json_mode) {
				snprintf(failure.message,
				    sizeof(failure.message), "bad option");
				emit_json_failure(EXIT_USAGE);
			}
			exit(EXIT_USAGE);
		}
	}
	argc -= optind;
	argv += optind;
	if (rq->open.transport == FT_TRANSPORT_USART &&
	    rq->action != ACT_LIST) {
		if (argc != 1)
			die_usage(argc == 0 ? "no serial port given (e.g. "
			    "/dev/ttyS0); for USB DFU use --dfu" :
			    "one serial port expected, got %d arguments",
			    argc);
		rq->open.port = argv[0];
	} else if (argc != 0) {
		if (rq->action == ACT_LIST)
			die_usage("--list takes no port argument: '%s'",
			    argv[0]);
		die_usage("--dfu takes no port argument (select with -d, "
		    "--path or --serial): '%s'", argv[0]);
	}
}

/* Cross-option rules, checked before anything is opened. */
static void
validate(struct request *rq)
{
	if ((rq->verify || rq->no_verify) && rq->action != ACT_WRITE)
		die_usage("%s goes with -w", rq->verify ? "-v" :
		    "--no-verify");
	if (rq->verify && rq->no_verify)
		die_usage("-v and --no-verify contradict each other");
	if (rq->mass_erase && rq->action != ACT_WRITE &&
	    rq->action != ACT_ERASE)
		die_usage("--mass-erase goes with -w or -o");
	if (rq->have_page_count && rq->page_count == 0) {
		if (rq->action != ACT_WRITE)
			die_usage("-e 0 (do not erase) goes with -w");
		rq->no_erase = 1;
	} else if (rq->have_page_count && rq->action != ACT_ERASE) {
		die_usage("-e N erases N pages with -o; with -w only -e 0 "
		    "(no erase) is meaningful");
	}
	if (rq->have_start_page && rq->action != ACT_ERASE)
		die_usage("-s PAGE goes with -o");
	if (rq->have_start_page && rq->have_range)
		die_usage("-s and -S cannot be combined");
	if (rq->mass_erase && rq->no_erase)
		die_usage("--mass-erase and -e 0 contradict each other");
	if (rq->mass_erase && (rq->have_range || rq->have_start_page) &&
	    rq->action == ACT_ERASE)
		die_usage("--mass-erase erases everything: drop -S/-s");
	if (rq->have_range && rq->range_addr % 4 != 0)
		die_usage("-S: address 0x%08x is not a multiple of 4",
		    rq->range_addr);
	if (rq->action == ACT_CRC && rq->have_len && rq->range_len % 4 != 0)
		die_usage("-S: CRC length %u is not a multiple of 4",
		    rq->range_len);
	if (rq->have_go && rq->go_addr % 4 != 0 && rq->go_addr != 0)
		die_usage("-g: address 0x%08x is not a multiple of 4",
		    rq->go_addr);
	if (rq->have_go && rq->reset)
		die_usage("-g and -R both say how to leave: choose one");
	if (rq->force && rq->action != ACT_WRITE)
		die_usage("--force goes with -w");
	if (rq->json && rq->action == ACT_READ && strcmp(rq->file, "-") == 0)
		die_usage("--json and -r - both want standard output: read to "
		    "a file");
	if (rq->open.transport == FT_TRANSPORT_DFU && (rq->open.no_sync ||
	    rq->open.baud != 0 || rq->mode[0] != '\0'))
		die_usage("-b, -m and -c are serial options; --dfu has none");
	if (rq->open.transport == FT_TRANSPORT_DFU &&
	    (rq->action == ACT_WRITE_UNPROTECT ||
	    rq->action == ACT_READOUT_PROTECT ||
	    rq->action == ACT_WRITE_PROTECT))
		die_usage("-u, -j and --write-protect are USART bootloader "
		    "commands; the DFU bootloader has no such request");
	if (rq->open.transport == FT_TRANSPORT_DFU &&
	    rq->open.usart_pipeline)
		die_usage("--pipeline is a serial option; --dfu has none");
	if (rq->stay && rq->open.transport != FT_TRANSPORT_DFU)
		die_usage("--stay goes with --dfu");
	if (rq->open.transport == FT_TRANSPORT_DFU && (rq->have_seq ||
	    rq->open.settle_ms != 0))
		die_usage("-i, --entry and --settle drive a serial port's "
		    "lines; --dfu has none");
	if (rq->open.settle_ms != 0 && !rq->have_seq)
		die_usage("--settle is the wait after an entry sequence: give "
		    "one with -i or --entry");
	/* The whole sequence is checked here; GPIO lines at ft_open, still
	 * before the port is opened. */
	if (rq->have_seq) {
		struct ft_ctx *ctx = ft_ctx_new();
		struct ft_seq seq;

		if (ctx == NULL)
			die_usage("out of memory");
		if (ft_seq_parse(ctx, rq->open.entry_seq, &seq) != 0) {
			char detail[512];

			snprintf(detail, sizeof(detail), "%s",
			    ft_errdetail(ctx));
			ft_ctx_free(ctx);
			die_usage("%s: %s", rq->preset != NULL ? "--entry" :
			    "-i", detail);
		}
		ft_ctx_free(ctx);
		rq->seq_has_exit = seq.exit.nsteps > 0;
	}
	/*
	 * A write verifies unless told not to.  DFU reads back cheaply.
	 * Over USART a Write Memory frame carries only a one-byte XOR, which
	 * two bit errors in the same bit position pass unnoticed: the fault
	 * campaign (test/faults) saw a bad line leave wrong bytes in 2 runs
	 * of 20 that reported success without a verify.
	 */
	if (rq->action == ACT_WRITE && !rq->verify && !rq->no_verify) {
		rq->verify = 1;
		rq->verify_implicit = 1;
	}
	if (rq->have_layout)
		rq->open.layout = &rq->layout;
	if (rq->have_range)
		rq->open.target_addr = rq->range_addr;
}

/* As die_usage, but returned, so that the caller can free what it holds. */
static int
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	usage_message(fmt, ap);
	va_end(ap);
	return EXIT_USAGE;
}

/*
 * Load the image and prepare the output file: all before the device.
 * Returns EXIT_OK or the exit code, the message printed.
 */
static int
prepare_files(struct ft_ctx *ctx, struct request *rq)
{
	if (rq->action == ACT_WRITE) {
		uint32_t base = rq->have_range ? rq->range_addr : 0x08000000u;
		int rc = ft_image_load(ctx, rq->file, rq->format, base,
		    &rq->image);

		if (rc != 0) {
			fprintf(stderr, "%s: %s\n", progname,
			    ft_errdetail(ctx)[0] != '\0' ? ft_errdetail(ctx) :
			    ft_strerror(rc));
			return exit_code_for(rc) == EXIT_FAILED ? EXIT_USAGE :
			    exit_code_for(rc);
		}
		if (rq->have_range && ft_image_format(rq->image) !=
		    FT_FMT_BINARY && ft_image_relocate(ctx, rq->image,
		    rq->range_addr) != 0)
			return usage_error("%s: %s", rq->file,
			    ft_errdetail(ctx));
		if (rq->open.target_addr == 0 &&
		    ft_image_nsegments(rq->image) > 0)
			rq->open.target_addr =
			    ft_image_segment(rq->image, 0)->addr;
	}
	rq->out_fd = -1;
	if (rq->action == ACT_READ && strcmp(rq->file, "-") != 0) {
		struct stat st;
		const char *slash = strrchr(rq->file, '/');
		unsigned tries;
		int n;

		if (stat(rq->file, &st) == 0 && !S_ISREG(st.st_mode))
			return usage_error("-r: '%s' exists and is not a "
			    "regular file", rq->file);
		if (slash != NULL && slash[1] == '\0')
			return usage_error("-r: '%s' is a directory",
			    rq->file);
		/*
		 * The temporary lives beside the target so that rename is
		 * atomic; created exclusively and close-on-exec in one call
		 * (mkstemp cannot take O_CLOEXEC without _GNU_SOURCE).
		 */
		rq->out_fd = -1;
		for (tries = 0; tries < TMP_NAME_TRIES && rq->out_fd < 0;
		    tries++) {
			n = snprintf(rq->tmp_path, sizeof(rq->tmp_path),
			    "%s.%ld.%u.tmp", rq->file, (long)getpid(),
			    tries);
			if (n < 0 || (size_t)n >= sizeof(rq->tmp_path))
				return usage_error("-r: path '%s' is too long",
				    rq->file);
			rq->out_fd = open(rq->tmp_path, O_WRONLY | O_CREAT |
			    O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
			if (rq->out_fd < 0 && errno != EEXIST)
				break;
		}
		if (rq->out_fd < 0) {
			fprintf(stderr, "%s: -r: cannot create a file beside "
			    "'%s': %s\n", progname, rq->file,
			    strerror(errno));
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

static void
discard_output(struct request *rq)
{
	if (rq->out_fd >= 0) {
		close(rq->out_fd);
		unlink(rq->tmp_path);
		rq->out_fd = -1;
	}
}

static int
write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static void
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

static void
print_identity(FILE *f, const struct request *rq, const struct ft_devinfo *di)
{
	char runs[160];
	unsigned i;

	format_layout(&di->flash, runs, sizeof(runs));
	if (di->transport == FT_TRANSPORT_USART) {
		fprintf(f, "Interface:          USART %s, %u baud, %s\n",
		    rq->open.port, rq->open.baud ? rq->open.baud : 115200,
		    rq->mode[0] ? rq->mode : "8e1");
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
	if (di->chip != NULL) {
		const struct ft_chip *c = di->chip;

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
	if (di->ncmds > 0) {
		fprintf(f, "Commands:          ");
		for (i = 0; i < di->ncmds; i++)
			fprintf(f, " %02x", di->cmds[i]);
		fputc('\n', f);
	}
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

/*
 * --list: serial ports (unless --dfu) and DFU devices.  Without --dfu a
 * failure to reach USB (no libusb access in a container) costs only the
 * DFU half, with a warning; with --dfu it is the error.
 */
static int
do_list(struct ft_ctx *ctx, const struct request *rq)
{
	struct ft_dfu_entry *e = NULL;
	struct ft_port_entry *ports = NULL;
	size_t n = 0, nports = 0, i;
	unsigned k;
	int with_ports = rq->open.transport != FT_TRANSPORT_DFU;
	int rc, dfu_ok = 1;

	if (with_ports) {
		rc = ft_serial_list(ctx, &ports, &nports);
		if (rc < 0)
			return report(ctx, rc, "listing serial ports");
	}
	rc = ft_dfu_list(ctx, &rq->open.dfu, &e, &n);
	if (rc < 0) {
		if (!with_ports) {
			free(ports);
			return report(ctx, rc, "listing DFU devices");
		}
		if (!rq->quiet)
			fprintf(stderr, "%s: warning: listing DFU devices: "
			    "%s\n", progname, ft_errdetail(ctx)[0] ?
			    ft_errdetail(ctx) : ft_strerror(rc));
		e = NULL;
		n = 0;
		dfu_ok = 0;
	}
	if (rq->json) {
		struct json j;

		json_init(&j, stdout);
		json_obj_begin(&j);
		json_kstr(&j, "action", "list");
		json_kbool(&j, "ok", 1);
		json_kint(&j, "exit", EXIT_OK);
		if (with_ports) {
			json_key(&j, "serial_ports");
			json_arr_begin(&j);
			for (i = 0; i < nports; i++)
				json_port_entry(&j, &ports[i]);
			json_arr_end(&j);
		}
		json_key(&j, "dfu_devices");
		if (dfu_ok) {
			json_arr_begin(&j);
			for (i = 0; i < n; i++)
				json_dfu_entry(&j, &e[i]);
			json_arr_end(&j);
		} else {
			json_null(&j);
		}
		json_obj_end(&j);
	} else {
		for (i = 0; i < nports; i++) {
			const struct ft_port_entry *p = &ports[i];

			printf("%s %s", p->path, p->driver[0] ? p->driver :
			    "-");
			if (p->usb)
				printf(" %04x:%04x serial \"%s\" \"%s\" usb "
				    "%s", p->vid, p->pid, p->serial,
				    p->product, p->usb_path);
			if (p->by_id[0] != '\0')
				printf(" by-id %s", p->by_id);
			putchar('\n');
		}
		for (i = 0; i < n; i++) {
			printf("%04x:%04x path %s serial \"%s\" %s%s, "
			    "transfer size %u\n", e[i].vid, e[i].pid,
			    e[i].path, e[i].serial, e[i].dfu_mode ?
			    "DFU mode" : "runtime mode", e[i].dfuse ?
			    " (DfuSe)" : "", e[i].transfer_size);
			for (k = 0; k < e[i].nalts; k++)
				printf("  alt %d: \"%s\"\n", e[i].alts[k].alt,
				    e[i].alts[k].name);
		}
	}
	if (!rq->quiet && with_ports && nports == 0)
		fprintf(stderr, "%s: no serial port found\n", progname);
	if (!rq->quiet && dfu_ok && n == 0)
		fprintf(stderr, "%s: no DFU device found\n", progname);
	free(ports);
	free(e);
	return EXIT_OK;
}

/* The range of an action: -S, or -s/-e pages, or the whole flash. */
static int
action_range(struct ft_ctx *ctx, const struct request *rq,
    const struct ft_devinfo *di, uint32_t *addr, uint32_t *len)
{
	uint64_t flash_size = ft_layout_size(&di->flash);
	uint64_t end = (uint64_t)di->flash.base + flash_size;

	(void)ctx;
	*addr = di->flash.base;
	*len = (uint32_t)(flash_size - 1) + 1;
	if (rq->have_range) {
		*addr = rq->range_addr;
		if (rq->have_len)
			*len = rq->range_len;
		else if (*addr >= di->flash.base && *addr < end)
			*len = (uint32_t)(end - *addr);
		else
			*len = 4;
	}
	if (rq->have_start_page || rq->have_page_count) {
		uint32_t first = rq->have_start_page ? rq->start_page : 0;
		uint32_t count = rq->have_page_count ? rq->page_count :
		    ft_layout_units(&di->flash) - first;
		uint32_t total = ft_layout_units(&di->flash);
		uint32_t a0, s0, a1, s1, idx;

		if (first >= total || count == 0 || count > total - first) {
			fprintf(stderr, "%s: pages %u-%u are outside the "
			    "flash (%u pages)\n", progname, first,
			    first + count - 1, total);
			return EXIT_USAGE;
		}
		/* Find the addresses of page first and page first+count-1. */
		a0 = di->flash.base;
		while (ft_layout_find(&di->flash, a0, &idx, &a0, &s0) == 0 &&
		    idx < first)
			a0 += s0;
		a1 = a0;
		while (ft_layout_find(&di->flash, a1, &idx, &a1, &s1) == 0 &&
		    idx < first + count - 1)
			a1 += s1;
		*addr = a0;
		*len = a1 + s1 - a0;
	}
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

static int
do_read(struct ft_ctx *ctx, struct ft_dev *dev, struct request *rq)
{
	const struct ft_devinfo *di = ft_dev_info(dev);
	uint32_t addr, len;
	uint8_t *buf;
	int rc, code;
	int fd = rq->out_fd >= 0 ? rq->out_fd : STDOUT_FILENO;
	struct timespec t0;

	code = action_range(ctx, rq, di, &addr, &len);
	if (code != EXIT_OK)
		return code;
	buf = malloc(len);
	if (buf == NULL) {
		fprintf(stderr, "%s: out of memory for %u bytes\n", progname,
		    len);
		return EXIT_FAILED;
	}
	if (!rq->quiet)
		fprintf(stderr, "Reading 0x%08x-0x%08x (%u bytes) to %s\n",
		    addr, addr + len - 1, len, rq->file);
	rq->res_have_range = 1;
	rq->res_addr = addr;
	rq->res_len = len;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rc = ft_read(dev, addr, buf, len);
	rq->seconds = seconds_since(&t0);
	if (rc < 0) {
		free(buf);
		return report(ctx, rc, "read");
	}
	if (write_all(fd, buf, len) != 0 ||
	    (rq->out_fd >= 0 && fsync(rq->out_fd) != 0)) {
		fprintf(stderr, "%s: writing %s: %s\n", progname, rq->file,
		    strerror(errno));
		free(buf);
		return EXIT_FAILED;
	}
	free(buf);
	if (rq->out_fd >= 0) {
		if (close(rq->out_fd) != 0 ||
		    rename(rq->tmp_path, rq->file) != 0) {
			fprintf(stderr, "%s: %s: %s\n", progname, rq->file,
			    strerror(errno));
			rq->out_fd = -1;
			unlink(rq->tmp_path);
			return EXIT_FAILED;
		}
		rq->out_fd = -1;
	}
	return EXIT_OK;
}

static int
do_write(struct ft_ctx *ctx, struct ft_dev *dev, struct request *rq)
{
	struct ft_write_opts wo = {
		.verify = rq->verify,
		.mass_erase = rq->mass_erase,
		.no_erase = rq->no_erase,
		.no_diff = rq->no_diff,
		.page_erase = rq->page_erase,
	};
	struct ft_write_stats st;
	struct timespec t0;
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&st, 0, sizeof(st));
	rc = ft_write(dev, rq->image, &wo, &st);
	rq->seconds = seconds_since(&t0);
	rq->stats = st;
	rq->have_stats = 1;
	if (rc < 0)
		return report(ctx, rc, "write");
	/*
	 * Some DFU devices cannot be read back after a download (plain DFU
	 * without manifestation tolerance, option bytes that reset the
	 * chip).  The default verify then gives way and says so; an
	 * explicit -v fails.
	 */
	if (st.bytes_unverified > 0) {
		if (!rq->verify_implicit) {
			fprintf(stderr, "%s: verify: %" PRIu64 " bytes could "
			    "not be read back: %s\n", progname,
			    st.bytes_unverified, st.unverified_why);
			return EXIT_FAILED;
		}
		if (!rq->quiet)
			fprintf(stderr, "%s: not verified (%" PRIu64 " bytes): "
			    "%s\n", progname, st.bytes_unverified,
			    st.unverified_why);
	}
	return EXIT_OK;
}

static int
do_erase(struct ft_ctx *ctx, struct ft_dev *dev, struct request *rq)
{
	const struct ft_devinfo *di = ft_dev_info(dev);
	uint32_t addr, len;
	int rc, code;

	if (rq->mass_erase || (!rq->have_range && !rq->have_start_page &&
	    !rq->have_page_count)) {
		if (!rq->quiet)
			fprintf(stderr, "Mass erase\n");
		rq->mass = 1;
		rc = ft_mass_erase(dev);
		return rc < 0 ? report(ctx, rc, "mass erase") : EXIT_OK;
	}
	code = action_range(ctx, rq, di, &addr, &len);
	if (code != EXIT_OK)
		return code;
	if (!rq->quiet)
		fprintf(stderr, "Erasing 0x%08x-0x%08x\n", addr,
		    addr + len - 1);
	rq->res_have_range = 1;
	rq->res_addr = addr;
	rq->res_len = len;
	rc = ft_erase(dev, addr, len);
	return rc < 0 ? report(ctx, rc, "erase") : EXIT_OK;
}

static int
do_crc(struct ft_ctx *ctx, struct ft_dev *dev, struct request *rq)
{
	uint32_t addr, len, crc;
	int rc, code;

	code = action_range(ctx, rq, ft_dev_info(dev), &addr, &len);
	if (code != EXIT_OK)
		return code;
	rq->res_have_range = 1;
	rq->res_addr = addr;
	rq->res_len = len;
	rc = ft_crc(dev, addr, len, &crc);
	if (rc < 0)
		return report(ctx, rc, "CRC");
	rq->have_crc = 1;
	rq->crc = crc;
	if (!rq->json)
		printf("CRC(0x%08x+%u) = 0x%08x\n", addr, len, crc);
	return EXIT_OK;
}

static int
do_write_protect(struct ft_ctx *ctx, struct ft_dev *dev, struct request *rq)
{
	uint32_t addr, len;
	int rc, code;

	code = action_range(ctx, rq, ft_dev_info(dev), &addr, &len);
	if (code != EXIT_OK)
		return code;
	if (!rq->quiet)
		fprintf(stderr, "Write-protecting 0x%08x-0x%08x\n", addr,
		    addr + len - 1);
	rc = ft_write_protect(dev, addr, len);
	return rc < 0 ? report(ctx, rc, "write protect") : EXIT_OK;
}

static int
do_action(struct ft_ctx *ctx, struct ft_dev *dev, struct request *rq)
{
	int rc;

	switch (rq->action) {
	case ACT_IDENTIFY:
		if (!rq->json)
			print_identity(stdout, rq, ft_dev_info(dev));
		return EXIT_OK;
	case ACT_READ:
		return do_read(ctx, dev, rq);
	case ACT_WRITE:
		return do_write(ctx, dev, rq);
	case ACT_ERASE:
		return do_erase(ctx, dev, rq);
	case ACT_CRC:
		return do_crc(ctx, dev, rq);
	case ACT_WRITE_UNPROTECT:
		rc = ft_protect(dev, FT_WRITE_UNPROTECT);
		return rc < 0 ? report(ctx, rc, "write unprotect") : EXIT_OK;
	case ACT_READOUT_PROTECT:
		rc = ft_protect(dev, FT_READOUT_PROTECT);
		return rc < 0 ? report(ctx, rc, "readout protect") : EXIT_OK;
	case ACT_READOUT_UNPROTECT:
		rc = ft_protect(dev, FT_READOUT_UNPROTECT);
		return rc < 0 ? report(ctx, rc, "readout unprotect") :
		    EXIT_OK;
	case ACT_WRITE_PROTECT:
		return do_write_protect(ctx, dev, rq);
	case ACT_LIST:
		break;
	}
	return EXIT_USAGE;
}

/* After a successful action: -g, -R, or DFU's default leave. */
static int
do_exit_step(struct ft_ctx *ctx, struct ft_dev *dev, struct request *rq)
{
	const struct ft_devinfo *di = ft_dev_info(dev);
	int rc;

	if (rq->have_go || (di->transport == FT_TRANSPORT_DFU &&
	    rq->action == ACT_WRITE && !rq->stay)) {
		uint32_t addr = rq->have_go && rq->go_addr != 0 ?
		    rq->go_addr : di->flash.base;

		rc = ft_go(dev, addr);
		if (rc == FT_E_STAYED)
			return report(ctx, rc, "leave");
		if (rc < 0) {
			report(ctx, rc, "go");
			return rq->action == ACT_WRITE ? EXIT_LEAVE :
			    exit_code_for(rc);
		}
		if (!rq->quiet)
			fprintf(stderr, "%s 0x%08x\n",
			    di->transport == FT_TRANSPORT_DFU ?
			    "Left DFU mode, starting at" : "Started code at",
			    addr);
		snprintf(rq->left, sizeof(rq->left), "%s 0x%08x",
		    di->transport == FT_TRANSPORT_DFU ?
		    "left DFU mode, started at" : "started at", addr);
	} else if (rq->reset) {
		rc = ft_reset(dev);
		if (rc < 0) {
			report(ctx, rc, "reset");
			return rq->action == ACT_WRITE ? EXIT_LEAVE :
			    exit_code_for(rc);
		}
		if (!rq->quiet)
			fprintf(stderr, "Reset the chip through %s\n",
			    rq->seq_has_exit ? "the exit sequence" :
			    "a routine in RAM");
		snprintf(rq->left, sizeof(rq->left), "reset through %s",
		    rq->seq_has_exit ? "the exit sequence" :
		    "a routine in RAM");
	} else if (di->transport == FT_TRANSPORT_DFU) {
		snprintf(rq->left, sizeof(rq->left), "left in DFU mode");
	} else if (rq->seq_has_exit) {
		snprintf(rq->left, sizeof(rq->left), "reset through the "
		    "exit sequence");
	} else {
		snprintf(rq->left, sizeof(rq->left), "left in the "
		    "bootloader");
	}
	return EXIT_OK;
}

/*
 * What the end of the session does with the chip, said before the exit
 * half runs in ft_close (which warns if it fails).
 */
static void
report_exit(const struct request *rq)
{
	if (rq->quiet || !rq->have_seq ||
	    rq->open.transport != FT_TRANSPORT_USART)
		return;
	if (rq->seq_has_exit && !rq->reset)
		fprintf(stderr, "Running the exit sequence\n");
	else if (!rq->seq_has_exit && !rq->reset && !rq->have_go)
		fprintf(stderr, "The chip stays in the bootloader (the "
		    "sequence has no exit half; -g ADDR or -R leave it)\n");
}

/* The one-line summary of a read or write, on stderr, after the exit step. */
static void
print_summary(const struct request *rq)
{
	double s = rq->seconds;
	const struct ft_write_stats *st = &rq->stats;

	if (rq->quiet)
		return;
	if (rq->action == ACT_READ && rq->res_have_range)
		fprintf(stderr, "Read %u bytes in %.1f s (%.1f KiB/s) to %s, "
		    "%s\n", rq->res_len, s, s > 0 ? rq->res_len / 1024.0 / s :
		    0.0, rq->file, rq->left);
	if (rq->action != ACT_WRITE || !rq->have_stats)
		return;
	/* Verification last: scripts look for ", verified" at the end. */
	fprintf(stderr, "Wrote %" PRIu64 " bytes in %.1f s (%.1f KiB/s): %u "
	    "erase units erased, %u written, %u unchanged (%" PRIu64
	    " bytes), %" PRIu64 " blank bytes skipped, %s, %s\n",
	    st->bytes_written, s,
	    s > 0 ? (double)st->bytes_written / 1024.0 / s : 0.0,
	    st->units_erased, st->units_written, st->units_unchanged,
	    st->bytes_unchanged,
	    st->bytes_skipped, rq->left, !rq->verify ? "verify skipped" :
	    st->verified ? "verified" : "not verified");
}

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
};

static void
json_error(struct json *j, int code)
{
	json_key(j, "error");
	if (code == EXIT_OK) {
		json_null(j);
		return;
	}
	json_obj_begin(j);
	json_kstr(j, "name", failure.err != 0 ? ft_errname(failure.err) :
	    code == EXIT_USAGE ? "usage" : code == EXIT_INTERRUPTED ?
	    "interrupted" : "failed");
	json_kstr(j, "message", failure.message[0] != '\0' ?
	    failure.message : code == EXIT_INTERRUPTED ?
	    "interrupted by a signal; nothing was changed" : "failed");
	json_obj_end(j);
}

/* A failure before the request was complete: usage errors. */
static void
emit_json_failure(int code)
{
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_key(&j, "action");
	json_null(&j);
	json_kbool(&j, "ok", 0);
	json_kint(&j, "exit", code);
	json_error(&j, code);
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

static void
json_device(struct json *j, const struct request *rq,
    const struct ft_devinfo *di)
{
	char buf[160];
	unsigned i;

	json_obj_begin(j);
	json_kstr(j, "transport", di->transport == FT_TRANSPORT_USART ?
	    "usart" : "dfu");
	if (di->transport == FT_TRANSPORT_USART) {
		json_kstr(j, "port", rq->open.port);
		json_ku64(j, "baud", rq->open.baud ? rq->open.baud : 115200);
		json_kstr(j, "mode", rq->mode[0] ? rq->mode : "8e1");
	} else {
		json_key(j, "usb");
		json_obj_begin(j);
		snprintf(buf, sizeof(buf), "%04x:%04x", di->dfu.vid,
		    di->dfu.pid);
		json_kstr(j, "id", buf);
		json_kstr(j, "path", di->dfu.path);
		json_kstr(j, "serial", di->dfu.serial);
		json_kint(j, "alt", di->dfu_alt);
		json_obj_end(j);
	}
	json_ku64(j, "pid", di->pid);
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
	json_obj_end(j);
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

/* The one document of --json for a device action, success or not. */
static void
emit_json_result(const struct request *rq, const struct ft_devinfo *di,
    int code)
{
	const struct ft_write_stats *st = &rq->stats;
	struct json j;

	json_init(&j, stdout);
	json_obj_begin(&j);
	json_kstr(&j, "action", action_names[rq->action]);
	json_kbool(&j, "ok", code == EXIT_OK);
	json_kint(&j, "exit", code);
	json_error(&j, code);
	json_key(&j, "device");
	if (di != NULL)
		json_device(&j, rq, di);
	else
		json_null(&j);
	if (rq->file != NULL)
		json_kstr(&j, "file", rq->file);
	if (rq->res_have_range) {
		json_ku64(&j, "address", rq->res_addr);
		json_ku64(&j, "length", rq->res_len);
	}
	if (rq->action == ACT_ERASE)
		json_kbool(&j, "mass_erase", rq->mass);
	if (rq->have_crc) {
		char hex[16];

		json_ku64(&j, "crc", rq->crc);
		snprintf(hex, sizeof(hex), "0x%08x", rq->crc);
		json_kstr(&j, "crc_hex", hex);
	}
	if (rq->action == ACT_WRITE && rq->image != NULL)
		json_kstr(&j, "format",
		    ft_format_name(ft_image_format(rq->image)));
	if (rq->have_stats) {
		json_ku64(&j, "bytes_written", st->bytes_written);
		json_ku64(&j, "bytes_skipped", st->bytes_skipped);
		json_ku64(&j, "units_erased", st->units_erased);
		json_ku64(&j, "units_written", st->units_written);
		json_ku64(&j, "units_unchanged", st->units_unchanged);
		json_ku64(&j, "bytes_unchanged", st->bytes_unchanged);
		json_ku64(&j, "units_restored", st->units_restored);
		json_kbool(&j, "verified", rq->verify && st->verified);
		json_ku64(&j, "bytes_unverified", st->bytes_unverified);
		json_kstr(&j, "unverified_why", st->unverified_why);
	}
	if (rq->action == ACT_READ || rq->have_stats)
		json_kdouble(&j, "seconds", rq->seconds);
	json_key(&j, "left");
	if (rq->left[0] != '\0')
		json_str(&j, rq->left);
	else
		json_null(&j);
	json_obj_end(&j);
	fflush(stdout);
}

/*
 * Before anything is erased: an image whose vector table says it was
 * linked for another address is refused unless --force.
 */
static int
check_image(struct ft_ctx *ctx, struct ft_dev *dev, struct request *rq)
{
	int rc = ft_image_check_vectors(ctx, rq->image, ft_dev_info(dev));

	if (rc == 0)
		return EXIT_OK;
	if (rq->force) {
		if (!rq->quiet)
			fprintf(stderr, "%s: warning: %s (written anyway: "
			    "--force)\n", progname, ft_errdetail(ctx));
		return EXIT_OK;
	}
	return report(ctx, rc, NULL);
}

int
main(int argc, char **argv)
{
	struct request rq;
	struct ft_ctx *ctx;
	struct ft_dev *dev = NULL;
	struct sigaction sa;
	int rc, code;

	memset(&rq, 0, sizeof(rq));
	rq.open.dfu.vid = rq.open.dfu.pid = -1;
	rq.open.dfu.dfu_vid = rq.open.dfu.dfu_pid = -1;
	rq.open.dfu.alt = -1;
	rq.out_fd = -1;
	/* As stm32flash or dfu-util: their command line, rewritten. */
	(void)compat_rewrite(argc, argv, &argc, &argv);
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			json_mode = 1;
	parse_args(&rq, argc, argv);
	validate(&rq);

	ctx = ft_ctx_new();
	if (ctx == NULL) {
		fprintf(stderr, "%s: out of memory\n", progname);
		return EXIT_FAILED;
	}
	ft_set_log(ctx, rq.debug >= 2 ? FT_LOG_TRACE : rq.debug == 1 ?
	    FT_LOG_DEBUG : FT_LOG_INFO, on_log, &rq);
	if (!rq.quiet && isatty(STDERR_FILENO))
		ft_set_progress(ctx, on_progress, &rq);
	ft_set_cancel(ctx, on_cancel, NULL);

	if (rq.action == ACT_LIST) {
		code = do_list(ctx, &rq);
		if (code != EXIT_OK && rq.json)
			emit_json_result(&rq, NULL, code);
		ft_ctx_free(ctx);
		return code;
	}
	/*
	 * From here on a signal only raises a flag: the library stops at the
	 * next block boundary, and every path out restores the port or
	 * releases the interface and removes the -r temporary.  A second
	 * signal during that cleanup finds the flag already set and changes
	 * nothing; every wait of the cleanup has its own bound.
	 */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	code = prepare_files(ctx, &rq);
	if (code == EXIT_OK && interrupted) {
		fprintf(stderr, "%s: interrupted before the device was "
		    "opened; nothing was changed\n", progname);
		code = EXIT_INTERRUPTED;
	}
	if (code != EXIT_OK) {
		if (rq.json)
			emit_json_result(&rq, NULL, code);
		discard_output(&rq);
		ft_image_free(rq.image);
		ft_ctx_free(ctx);
		return code;
	}

	rc = ft_open(ctx, &rq.open, &dev);
	if (rc < 0) {
		code = report(ctx, rc, NULL);
	} else {
		if (!rq.quiet && rq.action != ACT_IDENTIFY) {
			const struct ft_devinfo *di = ft_dev_info(dev);

			fprintf(stderr, "Device 0x%04x %s, %" PRIu64
			    " KiB flash\n", di->pid, di->name,
			    ft_layout_size(&di->flash) / 1024);
		}
		/* Opening is not cut short (it is bounded); acting is. */
		if (interrupted) {
			fprintf(stderr, "%s: interrupted while opening the "
			    "device; nothing was changed\n", progname);
			code = EXIT_INTERRUPTED;
		} else if (rq.action == ACT_WRITE &&
		    (code = check_image(ctx, dev, &rq)) != EXIT_OK) {
			/* Refused before anything was erased. */
		} else {
			code = do_action(ctx, dev, &rq);
		}
		if (code == EXIT_OK)
			code = do_exit_step(ctx, dev, &rq);
		if (code == EXIT_OK)
			report_exit(&rq);
		if (code == EXIT_OK)
			print_summary(&rq);
		if (rq.json)
			emit_json_result(&rq, ft_dev_info(dev), code);
		ft_close(dev);
	}
	if (rc < 0 && rq.json)
		emit_json_result(&rq, NULL, code);
	discard_output(&rq);
	ft_image_free(rq.image);
	ft_ctx_free(ctx);
	return code;
}
