/*
 * config.c - device models and the configuration parser of the simulated
 * libusb.
 *
 * Configuration: FT_USBSIM_CONFIG=FILE and/or FT_USBSIM="TEXT" (lines may
 * also be separated by ';').  One device per line; '#' starts a comment.
 * The first bare word (or model=) names the model, the rest are KEY=VALUE:
 *
 *   model=NAME     f042 g431 f4 f401 l4 runtime stm32app dfu11
 *   path=B-P.P     USB path: bus B, port chain P.P (default 1-<line no.>)
 *   flash=FILE     flash contents, mmap'ed MAP_SHARED (default: memory only)
 *   state=FILE     presence/mode, DFU state, pointer, option bytes, OTP;
 *                  shared by processes, delete it to power-cycle the device
 *   log=FILE       one line per request, appended and unbuffered
 *   serial=STR     iSerialNumber override
 *   id=VVVV:PPPP   idVendor:idProduct override (main personality)
 *   timing=0|1     1: sleep the wire time of each control transfer, and
 *                  use the model's poll/busy times (default 0: all zero)
 *   erase_poll= erase_busy= write_poll= write_busy= cmd_poll= cmd_busy=
 *   mass_poll= mass_busy= manifest=   ms; reported bwPollTimeout ("poll")
 *                  and real busy time ("busy") per operation, override the
 *                  model whatever timing= says (write_busy is per block)
 *   reenum=MS      time a resetting device is off the bus (default 0, or
 *                  100 with timing=1)
 *   plug=MS        the device is plugged in MS ms after power-on
 *   boot0=held     after leave/reset the device comes back in DFU mode
 *   app=VVVV:PPPP  after leave/reset the application enumerates on the
 *                  same path as this non-DFU (CDC) device
 *   rdp=1          read-out protection active at power-on
 *   access=denied  libusb_open fails with LIBUSB_ERROR_ACCESS
 *   leave=drop     the GETSTATUS after a DfuSe leave fails (device already
 *                  reset) instead of answering dfuMANIFEST
 *   stallerr=1     strict-poll (l4) stalls also put the device in dfuERROR
 *   tolerant=1     dfu11: manifestation tolerant
 *   willdetach=1   runtime/dfu11: bitWillDetach, device detaches itself
 *   stall=RATE timeout=RATE   probability (0..1) that a DFU class request
 *                  is STALLed (dfuERROR/errSTALLEDPKT) or times out
 *   disconnect=N   the Nth DFU class request of this process unplugs the
 *                  device (until the state file is deleted)
 *   seed=N         seed of the fault generator (default 1)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usbsim.h"

/* Facts from research/dfu.md sections 1.2, 3.8 and 8.2; [est] marks
 * guesses that real hardware has yet to confirm (see README). */
static const struct sim_model models[] = {
	{
		/* Cartographer v2/v3. Poll values [est]; busy times from
		 * the F0 datasheet (page erase 20-40 ms, 2 KiB ~55 ms). */
		.name = "f042", .vid = 0x0483, .pid = 0xdf11,
		.bcd_device = 0x2200, .manufacturer = "STMicroelectronics",
		.product = "STM32  BOOTLOADER", .serial = "FFFFFFFEFFFF",
		.flags = MF_DFUSE, .attrs = 0x0b, .detach_ms = 255,
		.xfer = 2048, .bcd_dfu = 0x011a, .rdp_off = 0, .nalts = 2,
		.ob_family = "f0",
		.alts = {
			{ "@Internal Flash  /0x08000000/032*0001Kg", MEM_FLASH,
			  0x08000000, 32 * 1024, ACC_R | ACC_E | ACC_W,
			  { { 32, 1024 } } },
			{ "@Option Bytes  /0x1FFFF800/01*016 e", MEM_OPT,
			  0x1ffff800, 16, ACC_R | ACC_W, { { 0, 0 } } },
		},
		.erase_poll_ms = 50, .erase_busy_ms = 30,
		.write_poll_ms = 60, .write_busy_us_per_kib = 27500,
		.cmd_poll_ms = 5, .cmd_busy_ms = 0,
		.mass_poll_ms = 50, .mass_busy_ms = 40,
	},
	{
		/* Cartographer v4.  Layout in the G0B1 style; iProduct of
		 * the newer ROMs [recall]; poll values [est]. */
		.name = "g431", .vid = 0x0483, .pid = 0xdf11,
		.bcd_device = 0x0200, .manufacturer = "STMicroelectronics",
		.product = "DFU in FS Mode", .serial = "206437A25734",
		.flags = MF_DFUSE, .attrs = 0x0b, .detach_ms = 255,
		.xfer = 1024, .bcd_dfu = 0x011a, .rdp_off = 0, .nalts = 3,
		.ob_family = "g4",
		.alts = {
			{ "@Internal Flash   /0x08000000/64*02Kg", MEM_FLASH,
			  0x08000000, 128 * 1024, ACC_R | ACC_E | ACC_W,
			  { { 64, 2048 } } },
			/* 40 bytes: a G431's option-byte alt uploads 40 and
			 * takes no more (ST community, "Uploading option
			 * bytes over DFU", 2023; G0B1 logs show 01*040 e). */
			{ "@Option Bytes   /0x1FFF7800/01*040 e", MEM_OPT,
			  0x1fff7800, 40, ACC_R | ACC_W, { { 0, 0 } } },
			{ "@OTP Memory   /0x1FFF7000/01*0001Ke", MEM_OTP,
			  0x1fff7000, 1024, ACC_R | ACC_W, { { 0, 0 } } },
		},
		.erase_poll_ms = 25, .erase_busy_ms = 23,
		.write_poll_ms = 15, .write_busy_us_per_kib = 10500,
		.cmd_poll_ms = 5, .cmd_busy_ms = 0,
		.mass_poll_ms = 25, .mass_busy_ms = 25,
	},
	{
		/* F405-like: reports 100 ms for erase and 104 ms for
		 * SET_ADDRESS (dfu.md 3.8), sectors really take 250 ms
		 * (16 KiB) to 1 s (128 KiB), mass erase ~8 s. */
		.name = "f4", .vid = 0x0483, .pid = 0xdf11,
		.bcd_device = 0x2100, .manufacturer = "STMicroelectronics",
		.product = "STM32  BOOTLOADER", .serial = "336A34593033",
		.flags = MF_DFUSE | MF_START_ERROR, .attrs = 0x0b,
		.detach_ms = 255, .xfer = 2048, .bcd_dfu = 0x011a,
		.rdp_off = 1, .nalts = 4, .ob_family = "f4",
		.alts = {
			{ "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,"
			  "07*128Kg", MEM_FLASH, 0x08000000, 1024 * 1024,
			  ACC_R | ACC_E | ACC_W,
			  { { 4, 16384 }, { 1, 65536 }, { 7, 131072 } } },
			{ "@Option Bytes  /0x1FFFC000/01*016 e", MEM_OPT,
			  0x1fffc000, 16, ACC_R | ACC_W, { { 0, 0 } } },
			{ "@OTP Memory /0x1FFF7800/01*512 e,01*016 e", MEM_OTP,
			  0x1fff7800, 528, ACC_R | ACC_W, { { 0, 0 } } },
			{ "@Device Feature/0xFFFF0000/01*004 e", MEM_FEATURE,
			  0xffff0000, 4, ACC_R | ACC_W, { { 0, 0 } } },
		},
		.erase_poll_ms = 100, .erase_busy_ms = 100,
		.erase_busy_per_kib_ms = 7,
		.write_poll_ms = 100, .write_busy_us_per_kib = 4000,
		.cmd_poll_ms = 104, .cmd_busy_ms = 0,
		.mass_poll_ms = 100, .mass_busy_ms = 8000,
	},
	{
		/* F401-like 256 KiB variant of the above. */
		.name = "f401", .vid = 0x0483, .pid = 0xdf11,
		.bcd_device = 0x2200, .manufacturer = "STMicroelectronics",
		.product = "STM32  BOOTLOADER", .serial = "3677385E3231",
		.flags = MF_DFUSE | MF_START_ERROR, .attrs = 0x0b,
		.detach_ms = 255, .xfer = 2048, .bcd_dfu = 0x011a,
		.rdp_off = 1, .nalts = 4, .ob_family = "f4",
		.alts = {
			{ "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,"
			  "01*128Kg", MEM_FLASH, 0x08000000, 256 * 1024,
			  ACC_R | ACC_E | ACC_W,
			  { { 4, 16384 }, { 1, 65536 }, { 1, 131072 } } },
			{ "@Option Bytes  /0x1FFFC000/01*016 e", MEM_OPT,
			  0x1fffc000, 16, ACC_R | ACC_W, { { 0, 0 } } },
			{ "@OTP Memory /0x1FFF7800/01*512 e,01*016 e", MEM_OTP,
			  0x1fff7800, 528, ACC_R | ACC_W, { { 0, 0 } } },
			{ "@Device Feature/0xFFFF0000/01*004 e", MEM_FEATURE,
			  0xffff0000, 4, ACC_R | ACC_W, { { 0, 0 } } },
		},
		.erase_poll_ms = 100, .erase_busy_ms = 100,
		.erase_busy_per_kib_ms = 7,
		.write_poll_ms = 100, .write_busy_us_per_kib = 4000,
		.cmd_poll_ms = 104, .cmd_busy_ms = 0,
		.mass_poll_ms = 100, .mass_busy_ms = 4000,
	},
	{
		/* STM32L4-like: reports too short a poll timeout for erase
		 * and STALLs early polls (dfu.md 3.8). */
		.name = "l4", .vid = 0x0483, .pid = 0xdf11,
		.bcd_device = 0x0200, .manufacturer = "STMicroelectronics",
		.product = "DFU in FS Mode", .serial = "2087338B5533",
		.flags = MF_DFUSE | MF_STRICT_POLL, .attrs = 0x0b,
		.detach_ms = 255, .xfer = 2048, .bcd_dfu = 0x011a,
		.rdp_off = 0, .nalts = 3,
		.alts = {
			{ "@Internal Flash  /0x08000000/32*02Kg", MEM_FLASH,
			  0x08000000, 64 * 1024, ACC_R | ACC_E | ACC_W,
			  { { 32, 2048 } } },
			{ "@Option Bytes  /0x1FFF7800/01*040 e", MEM_OPT,
			  0x1fff7800, 40, ACC_R | ACC_W, { { 0, 0 } } },
			{ "@OTP Memory /0x1FFF7000/01*0001Ke", MEM_OTP,
			  0x1fff7000, 1024, ACC_R | ACC_W, { { 0, 0 } } },
		},
		.erase_poll_ms = 10, .erase_busy_ms = 25,
		.write_poll_ms = 25, .write_busy_us_per_kib = 10000,
		.cmd_poll_ms = 0, .cmd_busy_ms = 0,
		.mass_poll_ms = 10, .mass_busy_ms = 25,
	},
	{
		/* An application with a DFU run-time interface; after
		 * DETACH + USB reset it is an F042 ROM on the same path. */
		.name = "runtime", .vid = 0x1209, .pid = 0x0001,
		.bcd_device = 0x0100, .manufacturer = "flashtool usbsim",
		.product = "usbsim runtime app", .serial = "RT0001",
		.flags = MF_RUNTIME, .attrs = 0x03, .detach_ms = 1000,
		.xfer = 2048, .bcd_dfu = 0x0110, .nalts = 1,
		.alts = {
			{ "usbsim DFU runtime", MEM_FLASH, 0, 0, 0,
			  { { 0, 0 } } },
		},
		.dfu_model = "f042",
	},
	{
		/* The application of issue 11: an STM32 whose firmware
		 * offers only a DFU run-time interface (class FE/01/01,
		 * bitWillDetach, wDetachTimeOut 1000 ms, bcdDFU 1.10) and
		 * detaches itself into the F042 ROM.  IDs and product as
		 * the issue gives them; manufacturer, bcdDevice and serial
		 * are made up [est]. */
		.name = "stm32app", .vid = 0x0483, .pid = 0x5740,
		.bcd_device = 0x0200, .manufacturer = "STMicroelectronics",
		.product = "STM32 application", .serial = "2061376C4D53",
		.flags = MF_RUNTIME, .attrs = 0x0b, .detach_ms = 1000,
		.xfer = 2048, .bcd_dfu = 0x0110, .nalts = 1,
		.alts = {
			{ "STM32 DFU runtime", MEM_FLASH, 0, 0, 0,
			  { { 0, 0 } } },
		},
		.dfu_model = "f042",
	},
	{
		/* A plain DFU 1.1 device: blocks from 0, no addresses. */
		.name = "dfu11", .vid = 0x1209, .pid = 0x0002,
		.bcd_device = 0x0100, .manufacturer = "flashtool usbsim",
		.product = "usbsim DFU 1.1", .serial = "DFU11-0001",
		.flags = 0, .attrs = 0x03, .detach_ms = 1000, .xfer = 1024,
		.bcd_dfu = 0x0110, .nalts = 1,
		.alts = {
			{ "usbsim flash", MEM_FLASH, 0, 64 * 1024,
			  ACC_R | ACC_E | ACC_W, { { 64, 1024 } } },
		},
		.erase_poll_ms = 5, .erase_busy_ms = 20,
		.write_poll_ms = 5, .write_busy_us_per_kib = 2000,
		.manifest_ms = 50,
	},
};

SIM_HIDDEN struct sim_dev *sim_devs[SIM_MAX_DEVS];
SIM_HIDDEN int sim_ndevs;

const struct sim_model *sim_find_model(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(models) / sizeof(models[0]); i++)
		if (strcmp(models[i].name, name) == 0)
			return &models[i];
	return NULL;
}

static int parse_path(struct sim_dev *sd, const char *s)
{
	char *end;
	unsigned long v;

	if (strlen(s) >= sizeof(sd->path))
		return -1;
	/* s may be sd->path itself (the default path). */
	memmove(sd->path, s, strlen(s) + 1);
	v = strtoul(s, &end, 10);
	if (end == s || *end != '-' || v == 0 || v > 255)
		return -1;
	sd->bus = (uint8_t)v;
	sd->nports = 0;
	do {
		s = end + 1;
		v = strtoul(s, &end, 10);
		if (end == s || v == 0 || v > 255 ||
		    sd->nports == SIM_MAX_PORTS)
			return -1;
		sd->ports[sd->nports++] = (uint8_t)v;
	} while (*end == '.');
	return *end == '\0' ? 0 : -1;
}

static int parse_long(const char *s, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(s, &end, 0);
	return (errno || end == s || *end) ? -1 : 0;
}

static int parse_rate(const char *s, double *out)
{
	char *end;

	*out = strtod(s, &end);
	return (end == s || *end || *out < 0 || *out > 1) ? -1 : 0;
}

/* Keys that take a millisecond count (-1 = model default). */
static long *ms_key(struct sim_dev *sd, const char *k)
{
	static const char *const names[] = {
		"erase_poll", "erase_busy", "write_poll", "write_busy",
		"cmd_poll", "cmd_busy", "mass_poll", "mass_busy", "manifest",
		"reenum", "plug"
	};
	long *const slots[] = {
		&sd->erase_poll, &sd->erase_busy, &sd->write_poll,
		&sd->write_busy, &sd->cmd_poll, &sd->cmd_busy, &sd->mass_poll,
		&sd->mass_busy, &sd->manifest, &sd->reenum_ms, &sd->plug_ms
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(k, names[i]) == 0)
			return slots[i];
	return NULL;
}

static int set_key(struct sim_dev *sd, const char *k, const char *v)
{
	long n;
	long *slot;
	unsigned a, b;

	if (strcmp(k, "model") == 0) {
		sd->rt = sim_find_model(v);
		return sd->rt ? 0 : -1;
	} else if (strcmp(k, "path") == 0) {
		return parse_path(sd, v);
	} else if (strcmp(k, "flash") == 0) {
		return (sd->flash_path = strdup(v)) ? 0 : -1;
	} else if (strcmp(k, "state") == 0) {
		return (sd->state_path = strdup(v)) ? 0 : -1;
	} else if (strcmp(k, "log") == 0) {
		return (sd->log_path = strdup(v)) ? 0 : -1;
	} else if (strcmp(k, "serial") == 0) {
		if (strlen(v) >= sizeof(sd->serial))
			return -1;
		strcpy(sd->serial, v);
		return 0;
	} else if (strcmp(k, "id") == 0) {
		if (sscanf(v, "%4x:%4x", &a, &b) != 2)
			return -1;
		sd->have_id = 1;
		sd->id_vid = (uint16_t)a;
		sd->id_pid = (uint16_t)b;
		return 0;
	} else if (strcmp(k, "app") == 0) {
		if (sscanf(v, "%4x:%4x", &a, &b) != 2)
			return -1;
		sd->have_app = 1;
		sd->app_vid = (uint16_t)a;
		sd->app_pid = (uint16_t)b;
		return 0;
	} else if (strcmp(k, "boot0") == 0) {
		sd->boot0_held = strcmp(v, "held") == 0;
		return (sd->boot0_held || strcmp(v, "released") == 0) ? 0 : -1;
	} else if (strcmp(k, "access") == 0) {
		sd->access_denied = strcmp(v, "denied") == 0;
		return 0;
	} else if (strcmp(k, "leave") == 0) {
		sd->leave_drop = strcmp(v, "drop") == 0;
		return (sd->leave_drop || strcmp(v, "answer") == 0) ? 0 : -1;
	} else if (strcmp(k, "stall") == 0) {
		return parse_rate(v, &sd->stall_rate);
	} else if (strcmp(k, "timeout") == 0) {
		return parse_rate(v, &sd->timeout_rate);
	} else if ((slot = ms_key(sd, k)) != NULL) {
		return (parse_long(v, slot) || *slot < 0) ? -1 : 0;
	}
	if (parse_long(v, &n))
		return -1;
	if (strcmp(k, "timing") == 0)
		sd->timing = n != 0;
	else if (strcmp(k, "rdp") == 0)
		sd->rdp_init = n != 0;
	else if (strcmp(k, "stallerr") == 0)
		sd->stall_err = n != 0;
	else if (strcmp(k, "tolerant") == 0)
		sd->tolerant = n != 0;
	else if (strcmp(k, "willdetach") == 0)
		sd->will_detach = n != 0;
	else if (strcmp(k, "disconnect") == 0)
		sd->disconnect_after = n;
	else if (strcmp(k, "seed") == 0)
		sd->rng = (uint64_t)n;
	else
		return -1;
	return 0;
}

static int parse_line(char *line, int lineno)
{
	struct sim_dev *sd;
	char *tok, *save = NULL, *eq;

	if (sim_ndevs == SIM_MAX_DEVS) {
		fprintf(stderr, "usbsim: too many devices\n");
		return -1;
	}
	sd = calloc(1, sizeof(*sd));
	if (!sd)
		return -1;
	sd->idx = sim_ndevs;
	sd->log_fd = -1;
	sd->rng = 1;
	sd->tolerant = -1;
	sd->will_detach = -1;
	sd->erase_poll = sd->erase_busy = sd->write_poll = -1;
	sd->write_busy = sd->cmd_poll = sd->cmd_busy = -1;
	sd->mass_poll = sd->mass_busy = sd->manifest = sd->reenum_ms = -1;
	sd->plug_ms = -1;
	snprintf(sd->path, sizeof(sd->path), "1-%d", sim_ndevs + 1);
	parse_path(sd, sd->path);
	for (tok = strtok_r(line, " \t", &save); tok;
	    tok = strtok_r(NULL, " \t", &save)) {
		eq = strchr(tok, '=');
		if (!eq) {
			if (set_key(sd, "model", tok) == 0)
				continue;
			fprintf(stderr, "usbsim: line %d: unknown model '%s'\n",
			    lineno, tok);
			return -1;
		}
		*eq = '\0';
		if (set_key(sd, tok, eq + 1)) {
			fprintf(stderr, "usbsim: line %d: bad %s=%s\n",
			    lineno, tok, eq + 1);
			return -1;
		}
	}
	if (!sd->rt) {
		fprintf(stderr, "usbsim: line %d: no model\n", lineno);
		return -1;
	}
	sd->dfu = sd->rt->dfu_model ? sim_find_model(sd->rt->dfu_model) :
	    sd->rt;
	if (sd->rng == 0)
		sd->rng = 0x9e3779b97f4a7c15ull;
	sd->rng ^= (uint64_t)(sd->idx + 1) * 0x2545f4914f6cdd1dull;
	if (sim_dev_init(sd))
		return -1;
	sim_devs[sim_ndevs++] = sd;
	return 0;
}

static int parse_text(char *text, int *lineno)
{
	char *line, *save = NULL, *hash;

	for (line = strtok_r(text, "\n;", &save); line;
	    line = strtok_r(NULL, "\n;", &save)) {
		++*lineno;
		hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		if (strspn(line, " \t\r") == strlen(line))
			continue;
		line[strcspn(line, "\r")] = '\0';
		if (parse_line(line, *lineno))
			return -1;
	}
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return NULL;
	}
	buf = malloc((size_t)n + 1);
	if (buf) {
		buf[fread(buf, 1, (size_t)n, f)] = '\0';
	}
	fclose(f);
	return buf;
}

/* Reads the configuration once per process; 0 or -1 (message printed). */
int sim_load_config(void)
{
	static int loaded, result;
	const char *file = getenv("FT_USBSIM_CONFIG");
	const char *inl = getenv("FT_USBSIM");
	int lineno = 0;
	char *text;

	if (loaded)
		return result;
	loaded = 1;
	if (file && *file) {
		text = slurp(file);
		if (!text) {
			fprintf(stderr, "usbsim: cannot read %s: %s\n", file,
			    strerror(errno));
			return result = -1;
		}
		result = parse_text(text, &lineno);
		free(text);
		if (result)
			return result;
	}
	if (inl && *inl) {
		text = strdup(inl);
		if (!text)
			return result = -1;
		result = parse_text(text, &lineno);
		free(text);
	}
	return result;
}
