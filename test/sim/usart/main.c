/*
 * main.c - stm32-usart-sim: plays an STM32 ROM bootloader (ST AN3155) on
 * the master side of a pseudo-terminal, for tests of flashtool and of
 * stm32flash.  Options are parsed and checked here; everything else lives
 * in link.c, chips.c, mem.c and proto.c.
 *
 * Log format, one line per command, flushed at once:
 *   <ms-since-start> <NAME> [<args>] -> ACK|NACK
 * With a board (--board and friends, board.c), also one line per board
 * change and per reset, stamped in ms with 0.1 ms:
 *   <ms> BOARD <change> -> nrst=N boot0=B
 *   <ms> RESET boot0=1 -> bootloader | boot0=0 -> application |
 *        nrst=0 -> held
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "sim.h"

#define DEFAULT_BAUD 115200
#define DEFAULT_LATENCY_MS 1.0
#define BITS_PER_BYTE 11	/* start, 8 data, even parity, stop */

static volatile sig_atomic_t stop_flag;

static void
on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: stm32-usart-sim --link PATH --flash FILE [--log FILE]\n"
	    "    [--chip ALIAS|PID] [--option NAME=VALUE] [--list-chips]\n"
	    "    [--timing] [--baud N]\n"
	    "    [--latency-ms F] [--adapter ftdi] [--seed N] [--corrupt RATE] [--drop RATE]\n"
	    "    [--parity-errors RATE]\n"
	    "    [--nack RATE] [--nack-storm] [--rdp] [--checksum]\n"
	    "    [--no-checksum] [--checksum-bytes] [--exit-on-go]\n"
	    "    [--write-protect UNITS] [--ob-reset-mid-write]\n"
	    "    [--unreadable ADDR]\n"
	    "    [--report-pid PID] [--board SPEC] [--board-start "
	    "app|bootloader]\n"
	    "    [--board-socket PATH] [--sysfs-gpio DIR]\n"
	    "  SPEC: PIN=SOURCE[:MOD]... joined by ',', PIN nrst or boot0,\n"
	    "    SOURCE dtr, rts, N (sysfs GPIO), gpiochipN:LINE (offset or"
	    " name),\n"
	    "    high or low; MOD active-low, active-high, inverted, "
	    "pull-up, pull-down.\n"
	    "    dtr/rts default to active-low (pin at 0 V while asserted),"
	    "\n"
	    "    GPIO to active-high; see test/sim/usart/README.\n");
}

static int
parse_rate(const char *name, const char *text, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(text, &end);
	if (errno != 0 || end == text || *end != '\0' || v < 0.0 || v > 1.0) {
		fprintf(stderr, "stm32-usart-sim: %s wants a rate 0..1, not "
		    "'%s'\n", name, text);
		return -1;
	}
	*out = v;
	return 0;
}

/* --option NAME=VALUE: NAME is checked against the chip later. */
static int
parse_option(const char *text, struct sim_opts *o)
{
	const char *eq = strchr(text, '=');
	char *end;
	long v;

	if (eq == NULL || eq == text) {
		fprintf(stderr, "stm32-usart-sim: --option wants NAME=VALUE, "
		    "not '%s'\n", text);
		return -1;
	}
	errno = 0;
	v = strtol(eq + 1, &end, 0);
	if (errno != 0 || end == eq + 1 || *end != '\0' || v < 0) {
		fprintf(stderr, "stm32-usart-sim: bad --option value in "
		    "'%s'\n", text);
		return -1;
	}
	o->option = text;
	o->option_value = v;
	return 0;
}

/* One line per model: what --chip takes, and what it is. */
static void
list_chips(void)
{
	size_t i;

	for (i = 0; i < fact_count(); i++) {
		const struct chip_fact *f = fact_at(i);
		char pid[8];

		snprintf(pid, sizeof(pid), "0x%03x", f->pid);
		printf("%-10s %-10s %5u KiB  %s%s%s\n",
		    f->variant ? f->alias : pid,
		    f->variant ? pid : f->alias != NULL ? f->alias : "-",
		    f->flash_size / 1024, f->name,
		    f->option != NULL ? "  --option " : "",
		    f->option != NULL ? f->option->name : "");
	}
}

static int
parse_args(int argc, char **argv, struct sim_opts *o)
{
	enum {
		OPT_LINK = 256, OPT_FLASH, OPT_LOG, OPT_CHIP, OPT_TIMING,
		OPT_BAUD, OPT_LATENCY, OPT_ADAPTER, OPT_SEED, OPT_CORRUPT, OPT_DROP,
		OPT_PARITY,
		OPT_NACK, OPT_STORM, OPT_RDP, OPT_CSUM, OPT_NO_CSUM,
		OPT_CSUM_BYTES,
		OPT_EXIT_GO, OPT_WRP, OPT_REPORT_PID, OPT_BOARD,
		OPT_BOARD_START, OPT_BOARD_SOCKET, OPT_SYSFS_GPIO, OPT_HELP,
		OPT_OPTION, OPT_OB_MIDWRITE, OPT_LIST, OPT_UNREADABLE,
	};
	static const struct option longopts[] = {
		{ "link", required_argument, NULL, OPT_LINK },
		{ "flash", required_argument, NULL, OPT_FLASH },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "chip", required_argument, NULL, OPT_CHIP },
		{ "timing", no_argument, NULL, OPT_TIMING },
		{ "baud", required_argument, NULL, OPT_BAUD },
		{ "latency-ms", required_argument, NULL, OPT_LATENCY },
		{ "adapter", required_argument, NULL, OPT_ADAPTER },
		{ "seed", required_argument, NULL, OPT_SEED },
		{ "corrupt", required_argument, NULL, OPT_CORRUPT },
		{ "drop", required_argument, NULL, OPT_DROP },
		{ "parity-errors", required_argument, NULL, OPT_PARITY },
		{ "nack", required_argument, NULL, OPT_NACK },
		{ "nack-storm", no_argument, NULL, OPT_STORM },
		{ "rdp", no_argument, NULL, OPT_RDP },
		{ "checksum", no_argument, NULL, OPT_CSUM },
		{ "no-checksum", no_argument, NULL, OPT_NO_CSUM },
		{ "checksum-bytes", no_argument, NULL, OPT_CSUM_BYTES },
		{ "exit-on-go", no_argument, NULL, OPT_EXIT_GO },
		{ "write-protect", required_argument, NULL, OPT_WRP },
		{ "unreadable", required_argument, NULL, OPT_UNREADABLE },
		{ "report-pid", required_argument, NULL, OPT_REPORT_PID },
		{ "board", required_argument, NULL, OPT_BOARD },
		{ "board-start", required_argument, NULL, OPT_BOARD_START },
		{ "board-socket", required_argument, NULL, OPT_BOARD_SOCKET },
		{ "sysfs-gpio", required_argument, NULL, OPT_SYSFS_GPIO },
		{ "option", required_argument, NULL, OPT_OPTION },
		{ "ob-reset-mid-write", no_argument, NULL, OPT_OB_MIDWRITE },
		{ "list-chips", no_argument, NULL, OPT_LIST },
		{ "help", no_argument, NULL, OPT_HELP },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int c;

	memset(o, 0, sizeof(*o));
	o->chip = "f103";
	o->baud = DEFAULT_BAUD;
	o->latency_ms = DEFAULT_LATENCY_MS;
	o->seed = 1;
	o->checksum = -1;
	o->option_value = -1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_LINK: o->link_path = optarg; break;
		case OPT_FLASH: o->flash_path = optarg; break;
		case OPT_LOG: o->log_path = optarg; break;
		case OPT_CHIP: o->chip = optarg; break;
		case OPT_TIMING: o->timing = 1; break;
		case OPT_BAUD:
			o->baud = (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || o->baud == 0) {
				fprintf(stderr, "stm32-usart-sim: bad --baud "
				    "'%s'\n", optarg);
				return -1;
			}
			break;
		case OPT_LATENCY:
			o->latency_ms = strtod(optarg, &end);
			if (*end != '\0' || o->latency_ms < 0) {
				fprintf(stderr, "stm32-usart-sim: bad "
				    "--latency-ms '%s'\n", optarg);
				return -1;
			}
			break;
		case OPT_ADAPTER:
			/* The latency timer needs TIOCSSERIAL from the shim,
			 * so the adapter comes with a board. */
			if (strcmp(optarg, "ftdi") != 0) {
				fprintf(stderr, "stm32-usart-sim: --adapter "
				    "knows only ftdi\n");
				return -1;
			}
			o->adapter_ftdi = 1;
			o->board_on = 1;
			break;
		case OPT_SEED:
			o->seed = strtoull(optarg, &end, 0);
			if (*end != '\0') {
				fprintf(stderr, "stm32-usart-sim: bad --seed "
				    "'%s'\n", optarg);
				return -1;
			}
			break;
		case OPT_CORRUPT:
			if (parse_rate("--corrupt", optarg, &o->corrupt))
				return -1;
			break;
		case OPT_DROP:
			if (parse_rate("--drop", optarg, &o->drop))
				return -1;
			break;
		case OPT_PARITY:
			if (parse_rate("--parity-errors", optarg, &o->parity))
				return -1;
			break;
		case OPT_NACK:
			if (parse_rate("--nack", optarg, &o->nack))
				return -1;
			break;
		case OPT_STORM: o->nack_storm = 1; break;
		case OPT_RDP: o->rdp = 1; break;
		case OPT_CSUM: o->checksum = 1; break;
		case OPT_NO_CSUM: o->checksum = 0; break;
		case OPT_CSUM_BYTES: o->checksum = 1; o->checksum_bytes = 1;
			break;
		case OPT_EXIT_GO: o->exit_on_go = 1; break;
		case OPT_WRP: o->write_protect = optarg; break;
		case OPT_UNREADABLE:
			/* A word the ROM keeps from the host: Read Memory
			 * NACKs any read that covers it. */
			o->unreadable = (uint32_t)strtoul(optarg, &end, 0);
			if (*end != '\0' || optarg[0] == '\0') {
				fprintf(stderr, "stm32-usart-sim: bad "
				    "--unreadable '%s'\n", optarg);
				return -1;
			}
			o->has_unreadable = 1;
			break;
		case OPT_REPORT_PID:
			/* A chip the host's table does not know: same
			 * memory, another product ID in Get ID. */
			o->report_pid = (unsigned)strtoul(optarg, &end, 0);
			if (*end != '\0' || o->report_pid == 0 ||
			    o->report_pid > 0xFFF) {
				fprintf(stderr, "stm32-usart-sim: bad "
				    "--report-pid '%s'\n", optarg);
				return -1;
			}
			break;
		case OPT_BOARD: o->board = optarg; o->board_on = 1; break;
		case OPT_BOARD_START:
			if (strcmp(optarg, "app") != 0 &&
			    strcmp(optarg, "bootloader") != 0) {
				fprintf(stderr, "stm32-usart-sim: --board-start "
				    "wants app or bootloader\n");
				return -1;
			}
			o->board_start_bootloader = optarg[0] == 'b';
			o->board_on = 1;
			break;
		case OPT_BOARD_SOCKET:
			o->board_socket = optarg;
			o->board_on = 1;
			break;
		case OPT_SYSFS_GPIO:
			o->sysfs_gpio = optarg;
			o->board_on = 1;
			break;
		case OPT_OPTION:
			if (parse_option(optarg, o) != 0)
				return -1;
			break;
		case OPT_OB_MIDWRITE: o->ob_reset_mid_write = 1; break;
		case OPT_LIST: list_chips(); exit(0);
		case OPT_HELP: usage(stdout); exit(0);
		default: usage(stderr); return -1;
		}
	}
	if (optind != argc || o->link_path == NULL || o->flash_path == NULL) {
		usage(stderr);
		return -1;
	}
	return 0;
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: poll() and sleeps must return to see the flag. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
}

int
main(int argc, char **argv)
{
	static struct sim s;	/* large link buffers: keep off the stack */
	struct sim_opts opts;
	char err[512];
	int rc = 1;

	if (parse_args(argc, argv, &opts) != 0)
		return 2;
	install_signals();
	/* Precise absolute sleeps for the wire-time model. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);

	s.opts = &opts;
	s.t0_ns = now_ns();
	s.state = ST_WAIT_SYNC;
	s.rdp = opts.rdp;
	s.rng.state = opts.seed;
	s.link.master = s.link.slave = s.link.ino_fd = -1;
	s.mem.flash_fd = -1;
	s.board.listen_fd = s.board.ino_fd = -1;
	s.board.nrst.pin = "nrst";
	s.board.nrst.pull = 1;		/* internal pull-up on NRST */
	s.board.nrst.src = s.board.nrst.owner = -1;
	s.board.boot0.pin = "boot0";
	s.board.boot0.pull = 0;		/* boards pull BOOT0 down */
	s.board.boot0.src = s.board.boot0.owner = -1;
	if (opts.board_on) {
		s.board.active = 1;
		s.board.start_bootloader = opts.board_start_bootloader;
		s.board.sock_path = opts.board_socket;
		s.board.sysfs_dir = opts.sysfs_gpio;
		if (opts.board != NULL && board_parse(&s.board, opts.board,
		    err, sizeof(err)) != 0)
			goto fail;
	}
	if (model_init(&s.model, opts.chip, opts.checksum, err,
	    sizeof(err)) != 0)
		goto fail;
	s.model.checksum_bytes = opts.checksum_bytes;
	if (opts.option != NULL && (s.model.fact->option == NULL ||
	    strncasecmp(opts.option, s.model.fact->option->name,
	    strlen(s.model.fact->option->name)) != 0 ||
	    opts.option[strlen(s.model.fact->option->name)] != '=')) {
		snprintf(err, sizeof(err), "--option %s: %s has %s%s",
		    opts.option, s.model.key,
		    s.model.fact->option != NULL ? "only the option " :
		    "no layout option",
		    s.model.fact->option != NULL ?
		    s.model.fact->option->name : "");
		goto fail;
	}
	if (mem_open(&s.mem, &s.model, opts.flash_path, opts.option_value,
	    err, sizeof(err)) != 0)
		goto fail;
	chip_ob_power_on(&s);
	if (opts.write_protect != NULL &&
	    mem_set_wrp_list(&s.mem, opts.write_protect, err,
	    sizeof(err)) != 0)
		goto fail;
	if (opts.log_path != NULL) {
		s.log = fopen(opts.log_path, "a");
		if (s.log == NULL) {
			snprintf(err, sizeof(err), "%s: %s", opts.log_path,
			    strerror(errno));
			goto fail;
		}
	}
	s.link.stop = &stop_flag;
	s.link.timing = opts.timing;
	s.link.byte_ns = (uint64_t)BITS_PER_BYTE * NS_PER_S / opts.baud;
	s.link.latency_ns = (uint64_t)(opts.latency_ms * (double)NS_PER_MS);
	s.link.ftdi = opts.adapter_ftdi;
	s.link.rng = &s.rng;
	s.link.corrupt = opts.corrupt;
	s.link.drop = opts.drop;
	s.link.parity = opts.parity;
	/* The link appears last: tests wait for it as "ready". */
	if (link_open(&s.link, opts.link_path, err, sizeof(err)) != 0)
		goto fail;
	if (s.board.active) {
		if (board_open(&s.board, s.link.slave, s.log, s.t0_ns, err,
		    sizeof(err)) != 0)
			goto fail_link;
		s.link.board = &s.board;
		s.board.on_reset = link_discard_input;
		s.board.reset_ctx = &s.link;
		chip_ob_attach_board(&s);
		s.state = s.board.run == RUN_BOOTLOADER ? ST_WAIT_SYNC :
		    s.board.run == RUN_APP ? ST_APP : ST_HELD;
	}
	if (link_publish(&s.link, err, sizeof(err)) != 0)
		goto fail_link;
	fprintf(stderr, "stm32-usart-sim: %s (%s, PID 0x%03x, bootloader "
	    "v%d.%d) on %s -> %s\n", s.model.fact->name, s.model.key,
	    s.model.fact->pid, s.model.bl_version >> 4,
	    s.model.bl_version & 0xF, opts.link_path, s.link.slave_name);
	rc = proto_run(&s);
	(void)unlink(opts.link_path);
	board_close(&s.board);
	link_close(&s.link);
	goto out;
fail_link:
	board_close(&s.board);
	link_close(&s.link);
fail:
	fprintf(stderr, "stm32-usart-sim: %s\n", err);
out:
	/* Erases the ROM acknowledged early still end, and wipe their
	 * pages, however the host left. */
	if (s.mem.npending != 0)
		mem_pending_wait(&s.mem);
	mem_close(&s.mem);
	if (s.log != NULL)
		fclose(s.log);
	return rc;
}
