/*
 * options.c - the command line: getopt parsing into struct options and
 * the cross-option rules, all before anything is opened.
 *
 * Parsing stops at the first bad option with fail_usage() (the message,
 * the JSON document when --json was given, exit 2); -h, --version and
 * --entry list print and exit 0.  validate_options() returns instead, so
 * that main can free what it holds.  The options are grouped as --help
 * groups them, one function per group, each returning whether it knew
 * the option.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
	OPT_NO_WATCH,
	OPT_WRITE_PROTECT,
	OPT_NO_DIFF,
	OPT_PAGE_ERASE,
	OPT_ENTRY,
	OPT_SETTLE,
	OPT_NO_VERIFY,
	OPT_JSON,
	OPT_FORCE,
	OPT_PIPELINE,
	OPT_KATAPULT,
	OPT_CAN,
	OPT_UUID,
	OPT_AUTO,
	OPT_REQUEST,
};

/* The leading ':' makes getopt return ':' for a missing value. */
static const char short_options[] = ":a:b:Ccd:e:F:fg:hi:jkm:n:oqRr:S:s:uvw:";

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
	{ "no-watch", no_argument, NULL, OPT_NO_WATCH },
	{ "write-protect", no_argument, NULL, OPT_WRITE_PROTECT },
	{ "no-diff", no_argument, NULL, OPT_NO_DIFF },
	{ "page-erase", no_argument, NULL, OPT_PAGE_ERASE },
	{ "sequence", required_argument, NULL, 'i' },
	{ "entry", required_argument, NULL, OPT_ENTRY },
	{ "settle", required_argument, NULL, OPT_SETTLE },
	{ "no-verify", no_argument, NULL, OPT_NO_VERIFY },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "pipeline", optional_argument, NULL, OPT_PIPELINE },
	{ "option-bytes", no_argument, NULL, OPT_OPTION_BYTES },
	{ "set", required_argument, NULL, OPT_SET },
	{ "boot0-pin", no_argument, NULL, OPT_BOOT0_PIN },
	{ "family", required_argument, NULL, OPT_FAMILY },
	{ "allow-rdp2", no_argument, NULL, OPT_ALLOW_RDP2 },
	{ "katapult", no_argument, NULL, OPT_KATAPULT },
	{ "can", required_argument, NULL, OPT_CAN },
	{ "uuid", required_argument, NULL, OPT_UUID },
	{ "auto", no_argument, NULL, OPT_AUTO },
	{ "request-bootloader", no_argument, NULL, OPT_REQUEST },
	{ NULL, 0, NULL, 0 },
};

/*
 * Every option, one line each; man/flashtool.1 lists the same ones
 * (test/e2e/95-docs.sh checks both ways) and the bash completion reads
 * them from here.
 */
static const char help_text[] =
"usage: flashtool [options] [-r file | -w file | -o | -C | ...] port\n"
"       flashtool --dfu [-d vid:pid[,vid:pid]] [--path path] [options]\n"
"       flashtool --katapult [options] port | --can iface --uuid uuid\n"
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
"      --option-bytes       print the option bytes, field by field\n"
"      --set NAME=VALUE     change an option-byte field (repeatable)\n"
"      --boot0-pin          make the BOOT0 pin select the bootloader (G0, G4)\n"
"      --family NAME        option-byte table: f0 f1 f3 f4 g0 g4\n"
"      --allow-rdp2         let --set RDP=2 make protection permanent\n"
"      --request-bootloader ask Klipper for Katapult and stop\n"
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
"  -n, --retries N          failures in a row before giving up (default 8)\n"
"Serial port (USART bootloader, AN3155):\n"
"  -b, --baud BAUD          speed (default 115200)\n"
"  -m, --mode MODE          data bits, parity, stop bits (default 8e1)\n"
"  -c, --no-sync            the bootloader is already synchronised\n"
"  -F, --frames RX[:TX]     largest read and write frames\n"
"  -i, --sequence SEQ       entry/exit sequence on DTR, RTS, BREAK, GPIO\n"
"      --entry PRESET       a named sequence (--entry list)\n"
"      --settle MS          wait after the entry sequence (default 50)\n"
"      --pipeline[=WHAT]    frames before their ACKs: reads (default), all,\n"
"                           off; --pipeline alone: all\n"
"USB DFU:\n"
"      --dfu                use a USB DFU device instead of a port\n"
"  -d, --device VID:PID[,VID:PID]  select by USB IDs, as dfu-util -d\n"
"      --path PATH          select by USB path (1-1.2)\n"
"      --serial SERIAL      select by serial number\n"
"  -a, --alt ALT            alternate setting, number or name\n"
"      --wait[=SECONDS]     wait for the device to appear (default 30)\n"
"      --stay               stay in DFU mode (Katapult) after writing\n"
"      --no-watch           leave DFU mode and exit, not watching the device\n"
"Katapult bootloader (USB CDC, UART at 250000 baud or -b, CAN):\n"
"      --katapult           use Katapult on the port; asks Klipper first\n"
"      --auto               as --katapult or --can; DFU if ROM DFU comes\n"
"      --can IFACE          Katapult over CAN (SocketCAN, e.g. can0)\n"
"      --uuid UUID          the CAN node (12 hex digits)\n"
"Output:\n"
"      --json               one JSON document on stdout (see the man page)\n"
"  -q, --quiet              errors only\n"
"      --debug              log every command; twice: every byte\n"
"  -h, --help               this text\n"
"      --version            the version\n";

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

/* full: -h, on stdout; otherwise the short form after a bad option. */
static void
usage(int full)
{
	FILE *f = full ? stdout : stderr;

	if (!full) {
		fprintf(f, "usage: flashtool [options] port\n"
		    "       flashtool --dfu [options]\n"
		    "       flashtool --list [--dfu]\n"
		    "Run 'flashtool --help' for the options.\n");
		return;
	}
	fputs(help_text, f);
	fprintf(f, "Entry presets (--entry NAME; 'dtr' asserted is 0 V on "
	    "most adapters):\n");
	print_presets(f);
	fprintf(f, "Run 'man flashtool' for ENTRY SEQUENCES, JSON and the "
	    "exit codes.\n");
}

static const struct option *
long_option_of(int val)
{
	const struct option *lo;

	for (lo = long_options; lo->name != NULL; lo++)
		if (lo->val == val)
			return lo;
	return NULL;
}

/* Is c one of the short options (not ':', which getopt never takes)? */
static int
is_short_option(int c)
{
	return c > 0 && c < 256 && c != ':' &&
	    strchr(short_options + 1, c) != NULL;
}

/* "unrecognized option '--x'", or which long options --x abbreviates. */
static void
bad_long_option(struct report *rep, const char *word)
{
	const struct option *lo;
	char list[512];
	size_t n = strcspn(word + 2, "="), used = 0;
	int matches = 0;

	list[0] = '\0';
	for (lo = long_options; lo->name != NULL; lo++) {
		if (strncmp(lo->name, word + 2, n) != 0)
			continue;
		matches++;
		if (used < sizeof(list))
			used += (size_t)snprintf(list + used,
			    sizeof(list) - used, " '--%s'", lo->name);
	}
	if (matches > 1)
		fail(rep, CLI_E_USAGE, EXIT_USAGE, "option '%s' is ambiguous; "
		    "possibilities:%s", word, list);
	else
		fail(rep, CLI_E_USAGE, EXIT_USAGE, "unrecognized option '%s'",
		    word);
}

/*
 * What getopt refused (c is ':' or '?'), in getopt's own words: getopt
 * is kept quiet (opterr = 0) so that this message, like every other,
 * goes through fail() and reaches the JSON document.  word is
 * argv[optind - 1]: the refused word, except for a bad short option in
 * the middle of a cluster, where only optopt is used.
 */
static void
bad_option(struct report *rep, int c, const char *word)
{
	const struct option *lo = long_option_of(optopt);
	int is_long = strncmp(word, "--", 2) == 0;

	if (c == ':' && !is_long)
		fail(rep, CLI_E_USAGE, EXIT_USAGE, "option requires an "
		    "argument -- '%c'", optopt);
	else if (c == ':')
		fail(rep, CLI_E_USAGE, EXIT_USAGE, "option '--%s' requires an "
		    "argument", lo != NULL ? lo->name : word + 2);
	else if (optopt == 0)
		bad_long_option(rep, word);
	else if (optopt >= 256 || is_short_option(optopt))
		fail(rep, CLI_E_USAGE, EXIT_USAGE, "option '--%s' doesn't "
		    "allow an argument", lo != NULL ? lo->name : word + 2);
	else
		fail(rep, CLI_E_USAGE, EXIT_USAGE, "invalid option -- '%c'",
		    optopt);
}

static uint32_t
parse_num_opt(struct report *rep, const char *opt, const char *arg,
    int allow_suffix)
{
	uint32_t v;

	if (ft_parse_u32(arg, allow_suffix, &v) != 0)
		fail_usage(rep, "%s: '%s' is not a number (decimal or 0x hex)",
		    opt, arg);
	return v;
}

static void
parse_mode(struct options *o, struct report *rep, const char *arg)
{
	if (strlen(arg) != 3 || arg[0] < '5' || arg[0] > '8' ||
	    strchr("neoNEO", arg[1]) == NULL || (arg[2] != '1' &&
	    arg[2] != '2'))
		fail_usage(rep, "-m: mode '%s' is not DPS (data bits 5-8, "
		    "parity n/e/o, stop bits 1/2), e.g. 8e1", arg);
	o->open.data_bits = (unsigned)(arg[0] - '0');
	o->open.parity = (char)(arg[1] | 0x20);
	o->open.stop_bits = (unsigned)(arg[2] - '0');
	memcpy(o->mode, arg, 3);
	o->mode[3] = '\0';
}

static void
parse_frames(struct options *o, struct report *rep, const char *arg)
{
	char buf[32];
	char *colon;
	uint32_t rx, tx = 0;

	if (strlen(arg) >= sizeof(buf))
		fail_usage(rep, "-F: '%s' is not RX[:TX]", arg);
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (colon != NULL)
		*colon++ = '\0';
	rx = parse_num_opt(rep, "-F", buf, 0);
	if (colon != NULL)
		tx = parse_num_opt(rep, "-F", colon, 0);
	if (rx != 0 && (rx < 20 || rx > 256))
		fail_usage(rep, "-F: read frame %u is outside 20-256", rx);
	/* TX counts the whole frame: length byte, data, checksum. */
	if (tx != 0 && (tx < 6 || tx > 258))
		fail_usage(rep, "-F: write frame %u is outside 6-258", tx);
	o->open.max_read = rx;
	o->open.max_write = tx != 0 ? ((tx - 2) & ~3u) : 0;
}

/* One hex ID of -d, "*" or empty for any; what names it in a message. */
static int
parse_usb_id(struct report *rep, const char *text, const char *what)
{
	char *end;
	unsigned long x;

	if (text[0] == '\0' || text[0] == '*')
		return -1;
	x = strtoul(text, &end, 16);
	if (*end != '\0' || x > 0xFFFF)
		fail_usage(rep, "-d: '%s' is not a hex %s ID", text, what);
	return (int)x;
}

static void
parse_usb_ids(struct report *rep, const char *arg, int *vid, int *pid)
{
	char buf[32];
	char *colon;

	*vid = *pid = -1;
	if (*arg == '\0')
		return;
	if (strlen(arg) >= sizeof(buf))
		fail_usage(rep, "-d: '%s' is not VID:PID", arg);
	strcpy(buf, arg);
	colon = strchr(buf, ':');
	if (colon != NULL)
		*colon++ = '\0';
	*vid = parse_usb_id(rep, buf, "vendor");
	if (colon != NULL)
		*pid = parse_usb_id(rep, colon, "product");
}

/* dfu-util's -d: "vid:pid", ",vid:pid" (DFU mode only), "a:b,c:d". */
static void
parse_device_match(struct options *o, struct report *rep, const char *arg)
{
	char buf[64];
	char *comma;

	if (strlen(arg) >= sizeof(buf))
		fail_usage(rep, "-d: '%s' is too long", arg);
	strcpy(buf, arg);
	comma = strchr(buf, ',');
	if (comma != NULL)
		*comma++ = '\0';
	parse_usb_ids(rep, buf, &o->open.dfu.vid, &o->open.dfu.pid);
	if (comma != NULL)
		parse_usb_ids(rep, comma, &o->open.dfu.dfu_vid,
		    &o->open.dfu.dfu_pid);
}

static enum ft_image_format
parse_format(struct report *rep, const char *arg)
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
	fail_usage(rep, "--format: '%s' is not auto, bin, hex, srec, elf or "
	    "dfu", arg);
}

static void
set_sequence(struct options *o, struct report *rep, const char *seq,
    const char *preset)
{
	if (o->have_seq)
		fail_usage(rep, "give one entry sequence: -i SEQ or --entry "
		    "NAME");
	o->open.entry_seq = seq;
	o->preset = preset;
	o->have_seq = 1;
}

/* --entry NAME: a preset is just a named sequence; "list" shows them. */
static void
parse_entry_preset(struct options *o, struct report *rep, const char *arg)
{
	const struct ft_seq_preset *p;

	if (strcmp(arg, "list") == 0) {
		printf("Entry presets ('dtr' and 'rts' mean asserted, which "
		    "is 0 V on most USB-serial adapters):\n");
		print_presets(stdout);
		exit(EXIT_OK);
	}
	if (o->have_seq)
		fail_usage(rep, "give one entry sequence: -i SEQ or --entry "
		    "NAME");
	p = ft_seq_preset_find(arg);
	if (p == NULL) {
		fail(rep, CLI_E_USAGE, EXIT_USAGE, "--entry: no preset '%s'; "
		    "the presets are:", arg);
		print_presets(stderr);
		end_early(rep, EXIT_USAGE);
	}
	set_sequence(o, rep, p->seq, p->name);
}

/* The options that are actions, and what -r and -w name. */
static const struct {
	int opt;
	enum action action;
	int takes_file;
} action_options[] = {
	{ 'r', ACT_READ, 1 },
	{ 'w', ACT_WRITE, 1 },
	{ 'o', ACT_ERASE, 0 },
	{ 'C', ACT_CRC, 0 },
	{ 'u', ACT_WRITE_UNPROTECT, 0 },
	{ 'j', ACT_READOUT_PROTECT, 0 },
	{ 'k', ACT_READOUT_UNPROTECT, 0 },
	{ OPT_WRITE_PROTECT, ACT_WRITE_PROTECT, 0 },
	{ OPT_LIST, ACT_LIST, 0 },
	{ OPT_REQUEST, ACT_REQUEST, 0 },
};

/* The actions; 0 if c is none of them. */
static int
opt_action(struct options *o, struct report *rep, int c, const char *arg)
{
	size_t i;

	for (i = 0; i < sizeof(action_options) / sizeof(action_options[0]);
	    i++) {
		if (action_options[i].opt != c)
			continue;
		/* No option asks for ACT_IDENTIFY: it is what none gives. */
		if (o->action != ACT_IDENTIFY &&
		    o->action != action_options[i].action)
			fail_usage(rep, "choose one of -r, -w, -o, -C, -u, -j, "
			    "-k, --write-protect, --option-bytes (--set, "
			    "--boot0-pin), --list, --request-bootloader");
		o->action = action_options[i].action;
		if (action_options[i].takes_file)
			o->file = arg;
		return 1;
	}
	return 0;
}

/* Addresses and writing; 0 if c is none of them. */
static int
opt_writing(struct options *o, struct report *rep, int c, const char *arg)
{
	switch (c) {
	case 'S':
		if (ft_parse_addr_len(NULL, arg, &o->range_addr,
		    &o->range_len, &o->have_len) != 0)
			fail_usage(rep, "-S: '%s' is not ADDR[:LEN] (a "
			    "non-zero LEN that stays below 4 GiB)", arg);
		o->have_range = 1;
		return 1;
	case 's':
		o->start_page = parse_num_opt(rep, "-s", arg, 0);
		o->have_start_page = 1;
		return 1;
	case 'e':
		o->page_count = parse_num_opt(rep, "-e", arg, 0);
		if (o->page_count > 0xFFFF)
			fail_usage(rep, "-e: %u pages is more than 65535",
			    o->page_count);
		o->have_page_count = 1;
		return 1;
	case 'v':
		o->verify = 1;
		return 1;
	case OPT_NO_VERIFY:
		o->no_verify = 1;
		return 1;
	case OPT_NO_DIFF:
		o->no_diff = 1;
		return 1;
	case OPT_PAGE_ERASE:
		o->page_erase = 1;
		return 1;
	case OPT_MASS_ERASE:
		o->mass_erase = 1;
		return 1;
	case OPT_FORCE:
		o->force = 1;
		return 1;
	case 'f':
		o->format = FT_FMT_BINARY;
		return 1;
	case OPT_FORMAT:
		o->format = parse_format(rep, arg);
		return 1;
	case OPT_LAYOUT:
		if (ft_layout_parse(NULL, arg, &o->layout) != 0)
			fail_usage(rep, "--layout: '%s' is not BASE:RUNS, e.g. "
			    "0x08000000:64x2K or 0x08000000:4x16K,1x64K,3x128K",
			    arg);
		o->have_layout = 1;
		return 1;
	case 'g':
		o->go_addr = parse_num_opt(rep, "-g", arg, 0);
		o->have_go = 1;
		return 1;
	case 'R':
		o->reset = 1;
		return 1;
	case 'n':
		o->open.retries = parse_num_opt(rep, "-n", arg, 0);
		if (o->open.retries == 0 || o->open.retries > 100)
			fail_usage(rep, "-n: retries must be 1-100");
		return 1;
	}
	return 0;
}

/* The serial port's options; 0 if c is none of them. */
static int
opt_serial(struct options *o, struct report *rep, int c, const char *arg)
{
	switch (c) {
	case 'b':
		o->open.baud = parse_num_opt(rep, "-b", arg, 0);
		if (o->open.baud == 0)
			fail_usage(rep, "-b: baud rate must not be 0");
		return 1;
	case 'm':
		parse_mode(o, rep, arg);
		return 1;
	case 'c':
		o->open.no_sync = 1;
		return 1;
	case 'F':
		parse_frames(o, rep, arg);
		return 1;
	case 'i':
		set_sequence(o, rep, arg, NULL);
		return 1;
	case OPT_ENTRY:
		parse_entry_preset(o, rep, arg);
		return 1;
	case OPT_SETTLE:
		o->open.settle_ms = (int)parse_num_opt(rep, "--settle", arg,
		    0);
		if (o->open.settle_ms < 0 || o->open.settle_ms > 10000)
			fail_usage(rep, "--settle: %s ms is outside 0-10000",
			    arg);
		/* 0 in the options means the default: none is < 0. */
		if (o->open.settle_ms == 0)
			o->open.settle_ms = -1;
		return 1;
	case OPT_PIPELINE:
		/* Read bursts are the default; writes only when asked. */
		if (arg == NULL || strcmp(arg, "all") == 0)
			o->open.usart_pipeline = FT_PIPELINE_ALL;
		else if (strcmp(arg, "reads") == 0)
			o->open.usart_pipeline = FT_PIPELINE_READS;
		else if (strcmp(arg, "off") == 0)
			o->open.usart_pipeline = FT_PIPELINE_OFF;
		else
			fail_usage(rep, "--pipeline=%s: say off, reads or all",
			    arg);
		o->have_pipeline = 1;
		return 1;
	}
	return 0;
}

/* USB DFU's options; 0 if c is none of them. */
static int
opt_dfu(struct options *o, struct report *rep, int c, const char *arg)
{
	switch (c) {
	case OPT_DFU:
		o->open.transport = FT_TRANSPORT_DFU;
		return 1;
	case 'd':
		parse_device_match(o, rep, arg);
		return 1;
	case OPT_PATH:
		o->open.dfu.path = arg;
		return 1;
	case OPT_SERIAL:
		o->open.dfu.serial = arg;
		return 1;
	case 'a':
		if (ft_parse_u32(arg, 0, &(uint32_t){0}) == 0)
			o->open.dfu.alt = (int)parse_num_opt(rep, "-a", arg, 0);
		else
			o->open.dfu.alt_name = arg;
		return 1;
	case OPT_WAIT:
		o->open.wait_ms = arg == NULL ? 30000 :
		    parse_num_opt(rep, "--wait", arg, 0) * 1000u;
		if (arg != NULL && o->open.wait_ms / 1000u !=
		    parse_num_opt(rep, "--wait", arg, 0))
			fail_usage(rep, "--wait: %s seconds is too long", arg);
		return 1;
	case OPT_STAY:
		o->stay = 1;
		return 1;
	case OPT_NO_WATCH:
		o->open.dfu_no_watch = 1;
		return 1;
	}
	return 0;
}

/* Katapult's options; 0 if c is none of them. */
static int
opt_katapult(struct options *o, struct report *rep, int c, const char *arg)
{
	switch (c) {
	case OPT_KATAPULT:
		o->open.transport = FT_TRANSPORT_KATAPULT;
		return 1;
	case OPT_AUTO:
		o->open.transport = FT_TRANSPORT_KATAPULT;
		o->auto_mode = 1;
		return 1;
	case OPT_CAN:
		o->open.transport = FT_TRANSPORT_KATAPULT;
		o->open.kp.can_iface = arg;
		return 1;
	case OPT_UUID:
		if (ft_katapult_uuid_parse(arg, o->open.kp.uuid) != 0)
			fail_usage(rep, "--uuid: '%s' is not a CAN UUID (up to "
			    "12 hex digits, as --list --can shows them)", arg);
		o->open.kp.has_uuid = 1;
		return 1;
	}
	return 0;
}

/* Output; 0 if c is none of them. */
static int
opt_output(struct options *o, int c)
{
	switch (c) {
	case OPT_JSON:
		o->json = 1;
		return 1;
	case 'q':
		o->quiet = 1;
		return 1;
	case OPT_DEBUG:
		o->debug++;
		return 1;
	case 'h':
		usage(1);
		exit(EXIT_OK);
	case OPT_VERSION:
		printf("flashtool %s\n", FT_VERSION);
		exit(EXIT_OK);
	}
	return 0;
}

/*
 * The port argument: one for USART and Katapult (none over CAN), none
 * for --dfu and --list.
 */
static void
parse_operands(struct options *o, struct report *rep, int argc, char **argv)
{
	int kp = o->open.transport == FT_TRANSPORT_KATAPULT;

	if (kp && o->action != ACT_LIST && o->open.kp.can_iface == NULL) {
		if (argc != 1)
			fail_usage(rep, argc == 0 ? "--katapult: no port "
			    "given (e.g. /dev/serial/by-id/usb-katapult_...); "
			    "for CAN use --can IFACE --uuid UUID" : "one port "
			    "expected, got %d arguments", argc);
		o->open.port = argv[0];
	} else if (kp && argc != 0) {
		fail_usage(rep, "--can takes no port argument (select the node "
		    "with --uuid): '%s'", argv[0]);
	} else if (o->open.transport == FT_TRANSPORT_USART &&
	    o->action != ACT_LIST) {
		if (argc != 1)
			fail_usage(rep, argc == 0 ? "no serial port given "
			    "(e.g. /dev/ttyS0); for USB DFU use --dfu" :
			    "one serial port expected, got %d arguments",
			    argc);
		o->open.port = argv[0];
	} else if (argc != 0) {
		if (o->action == ACT_LIST)
			fail_usage(rep, "--list takes no port argument: '%s'",
			    argv[0]);
		fail_usage(rep, "--dfu takes no port argument (select with "
		    "-d, --path or --serial): '%s'", argv[0]);
	}
}

void
parse_options(struct options *o, struct report *rep, int argc, char **argv)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->open.dfu.vid = o->open.dfu.pid = -1;
	o->open.dfu.dfu_vid = o->open.dfu.dfu_pid = -1;
	o->open.dfu.alt = -1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, short_options, long_options,
	    NULL)) != -1) {
		if (opt_action(o, rep, c, optarg) ||
		    opt_optbytes(o, rep, c, optarg) ||
		    opt_writing(o, rep, c, optarg) ||
		    opt_serial(o, rep, c, optarg) ||
		    opt_dfu(o, rep, c, optarg) ||
		    opt_katapult(o, rep, c, optarg) || opt_output(o, c))
			continue;
		bad_option(rep, c, argv[optind - 1]);
		usage(0);
		end_early(rep, EXIT_USAGE);
	}
	parse_operands(o, rep, argc - optind, argv + optind);
}

/* The rules between options that say what to do and to what. */
static int
check_actions(const struct options *o, struct report *rep)
{
	if ((o->verify || o->no_verify) && o->action != ACT_WRITE)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "%s goes with -w",
		    o->verify ? "-v" : "--no-verify");
	if (o->verify && o->no_verify)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-v and --no-verify "
		    "contradict each other");
	if (o->mass_erase && o->action != ACT_WRITE &&
	    o->action != ACT_ERASE)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--mass-erase goes "
		    "with -w or -o");
	if (o->have_page_count && o->page_count == 0) {
		if (o->action != ACT_WRITE)
			return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-e 0 (do "
			    "not erase) goes with -w");
	} else if (o->have_page_count && o->action != ACT_ERASE) {
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-e N erases N pages "
		    "with -o; with -w only -e 0 (no erase) is meaningful");
	}
	if (o->have_start_page && o->action != ACT_ERASE)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-s PAGE goes with "
		    "-o");
	if (o->have_start_page && o->have_range)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-s and -S cannot be "
		    "combined");
	if (o->mass_erase && o->have_page_count && o->page_count == 0)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--mass-erase and -e "
		    "0 contradict each other");
	if (o->mass_erase && (o->have_range || o->have_start_page) &&
	    o->action == ACT_ERASE)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--mass-erase erases "
		    "everything: drop -S/-s");
	return EXIT_OK;
}

/* Addresses the bootloaders take only word-aligned; -w and -r - rules. */
static int
check_addresses(const struct options *o, struct report *rep)
{
	if (o->have_range && o->range_addr % 4 != 0)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-S: address 0x%08x "
		    "is not a multiple of 4", o->range_addr);
	if (o->action == ACT_CRC && o->have_len && o->range_len % 4 != 0)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-S: CRC length %u "
		    "is not a multiple of 4", o->range_len);
	if (o->have_go && o->go_addr % 4 != 0 && o->go_addr != 0)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-g: address 0x%08x "
		    "is not a multiple of 4", o->go_addr);
	if (o->have_go && o->reset)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-g and -R both say "
		    "how to leave: choose one");
	if (o->force && o->action != ACT_WRITE)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--force goes with "
		    "-w");
	if (o->json && o->action == ACT_READ && strcmp(o->file, "-") == 0)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--json and -r - "
		    "both want standard output: read to a file");
	return EXIT_OK;
}

/* What Katapult cannot do, or what it needs. */
static int
check_katapult(const struct options *o, struct report *rep)
{
	int kp = o->open.transport == FT_TRANSPORT_KATAPULT;

	if (!kp) {
		if (o->open.kp.has_uuid)
			return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--uuid "
			    "names a Katapult CAN node: add --can IFACE");
		if (o->action == ACT_REQUEST)
			return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--request-"
			    "bootloader asks Klipper for Katapult: add "
			    "--katapult PORT or --can IFACE --uuid UUID");
		return EXIT_OK;
	}
	if (o->open.kp.can_iface != NULL && !o->open.kp.has_uuid &&
	    o->action != ACT_LIST)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--can needs the "
		    "node: --uuid UUID (--list --can %s finds them)",
		    o->open.kp.can_iface);
	if (o->open.no_sync || o->mode[0] != '\0' || o->have_seq ||
	    o->open.settle_ms != 0 || o->have_pipeline ||
	    o->open.max_read != 0 || o->open.max_write != 0)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-m, -c, -F, -i, "
		    "--entry, --settle and --pipeline are for the ROM USART "
		    "bootloader; Katapult talks 8N1 at -b (default 250000)");
	if (o->open.kp.can_iface != NULL && o->open.baud != 0)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-b is a serial "
		    "option; --can has none");
	if (o->action == ACT_WRITE_UNPROTECT ||
	    o->action == ACT_READOUT_PROTECT ||
	    o->action == ACT_READOUT_UNPROTECT ||
	    o->action == ACT_WRITE_PROTECT || o->action == ACT_CRC)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "Katapult has no "
		    "protection or checksum commands: -u, -j, -k, "
		    "--write-protect and -C need a ROM bootloader");
	if (o->mass_erase)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--mass-erase: "
		    "Katapult cannot erase itself; -o erases the "
		    "application area");
	if (o->have_go && o->go_addr != 0)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-g: Katapult starts "
		    "only its application (-g 0)");
	return EXIT_OK;
}

/* Options of one transport given to the other. */
static int
check_transport(const struct options *o, struct report *rep)
{
	int dfu = o->open.transport == FT_TRANSPORT_DFU;
	int kp = o->open.transport == FT_TRANSPORT_KATAPULT;
	int code = check_katapult(o, rep);

	if (code != EXIT_OK)
		return code;
	if (dfu && (o->open.no_sync || o->open.baud != 0 ||
	    o->mode[0] != '\0'))
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-b, -m and -c are "
		    "serial options; --dfu has none");
	if (dfu && (o->action == ACT_WRITE_UNPROTECT ||
	    o->action == ACT_READOUT_PROTECT ||
	    o->action == ACT_WRITE_PROTECT))
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-u, -j and "
		    "--write-protect are USART bootloader commands; the DFU "
		    "bootloader has no such request");
	if (dfu && o->have_pipeline)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--pipeline is a "
		    "serial option; --dfu has none");
	if (o->stay && !dfu && !kp)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--stay goes with "
		    "--dfu or --katapult");
	if (o->open.dfu_no_watch && !dfu)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--no-watch goes "
		    "with --dfu");
	if (o->open.dfu_no_watch && o->stay)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--no-watch is about "
		    "leaving DFU mode, --stay stays: choose one");
	if (dfu && (o->have_seq || o->open.settle_ms != 0))
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "-i, --entry and "
		    "--settle drive a serial port's lines; --dfu has none");
	if (o->open.settle_ms != 0 && !o->have_seq)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--settle is the "
		    "wait after an entry sequence: give one with -i or "
		    "--entry");
	return EXIT_OK;
}

/*
 * The whole entry sequence is checked here; GPIO lines at ft_open, still
 * before the port is opened.
 */
static int
check_sequence(struct options *o, struct ft_ctx *ctx, struct report *rep)
{
	struct ft_seq seq;

	if (!o->have_seq)
		return EXIT_OK;
	if (ft_seq_parse(ctx, o->open.entry_seq, &seq) != 0)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "%s: %s",
		    o->preset != NULL ? "--entry" : "-i", ft_errdetail(ctx));
	o->seq_has_exit = seq.exit.nsteps > 0;
	return EXIT_OK;
}

/*
 * Cross-option rules, checked before anything is opened; then the
 * defaults they leave.  EXIT_OK, or EXIT_USAGE with the failure reported.
 */
int
validate_options(struct options *o, struct ft_ctx *ctx, struct report *rep)
{
	int code;

	if ((code = check_actions(o, rep)) != EXIT_OK ||
	    (code = check_addresses(o, rep)) != EXIT_OK ||
	    (code = check_transport(o, rep)) != EXIT_OK ||
	    (code = check_sequence(o, ctx, rep)) != EXIT_OK ||
	    (code = check_option_bytes(o, ctx, rep)) != EXIT_OK)
		return code;
	o->no_erase = o->have_page_count && o->page_count == 0;
	/*
	 * A write verifies unless told not to.  DFU reads back cheaply.
	 * Over USART a Write Memory frame carries only a one-byte XOR, which
	 * two bit errors in the same bit position pass unnoticed: the fault
	 * campaign (test/faults) saw a bad line leave wrong bytes in 2 runs
	 * of 20 that reported success without a verify.
	 */
	if (o->action == ACT_WRITE && !o->verify && !o->no_verify) {
		o->verify = 1;
		o->verify_implicit = 1;
	}
	if (o->have_layout)
		o->open.layout = &o->layout;
	if (o->have_range)
		o->open.target_addr = o->range_addr;
	return EXIT_OK;
}
