/*
 * device.c - the simulated DFU devices: descriptors, the DFU 1.1 state
 * machine with ST's DfuSe extensions, NOR flash, persistence, timing,
 * faults and the request log.
 *

 * Nothing here knows how the host reaches the device: the front ends
 * (libusb.c, the LD_PRELOAD libusb; test/sim/usbip, the USB/IP server
 * behind the kernel's vhci-hcd) call sim_control() and friends and map
 * the SIM_E_* results onto their own errors.
 *
 * Invariants: a request invalid in the current state STALLs (returns
 * SIM_E_STALL) and leaves the device in dfuERROR; DfuSe commands
 * and data blocks act at the first GETSTATUS (dfuDNBUSY) and report their
 * result at a later one; flash contents live in an mmap'ed file and every
 * other persistent fact in the state file, rewritten whenever it changes,
 * so the next process sees the same device.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "obfacts.h"
#include "usbsim.h"

/* DFU class requests (DFU 1.1 table 3.2). */
enum {
	REQ_DETACH = 0, REQ_DNLOAD = 1, REQ_UPLOAD = 2, REQ_GETSTATUS = 3,
	REQ_CLRSTATUS = 4, REQ_GETSTATE = 5, REQ_ABORT = 6
};

/* DfuSe command bytes (AN3156). */
enum {
	CMD_GET = 0x00, CMD_SETADDR = 0x21, CMD_ERASE = 0x41,
	CMD_UNPROTECT = 0x92
};

enum {
	RDP_LEVEL0 = 0xaa,	/* option byte value: no protection */
	RDP_LEVEL1 = 0xbb,	/* any other value except 0xcc is level 1 */
	/*
	 * timing=1: full-speed wire time of a control transfer (dfu.md 8.1).
	 * Its stages are scheduled in 1 ms frames, so a transfer costs about
	 * one frame whatever its size, plus the data stage in bMaxPacketSize0
	 * (64-byte) packets at 12 Mbit/s: token, DATA (64 bytes, PID, CRC),
	 * handshake, bit stuffing and gaps come to about 700 bit times, 58
	 * us; we count 62.5 us, 16 packets (1 KiB) per frame.  A 2 KiB
	 * DNLOAD takes 3 ms, a GETSTATUS 1.06 ms, inside dfu.md's [est]
	 * 2-4 ms and ~1 ms behind an xHCI host.
	 */
	XFER_BASE_US = 1000,
	XFER_PACKET = 64,
	XFER_PACKETS_PER_FRAME = 16,
	REENUM_DEFAULT_MS = 100,	/* timing=1: off the bus after reset */
	GETSTATUS_LEN = 6
};

static const char *const state_names[] = {
	"appIDLE", "appDETACH", "dfuIDLE", "dfuDNLOAD-SYNC", "dfuDNBUSY",
	"dfuDNLOAD-IDLE", "dfuMANIFEST-SYNC", "dfuMANIFEST",
	"dfuMANIFEST-WAIT-RESET", "dfuUPLOAD-IDLE", "dfuERROR"
};

static const char *const req_names[] = {
	"DETACH", "DNLOAD", "UPLOAD", "GETSTATUS", "CLRSTATUS", "GETSTATE",
	"ABORT"
};

static const char *const mode_names[] = { "off", "gone", "dfu", "runtime",
    "app" };

int64_t sim_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t sim_real_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The modeled bus and flash times are the sleeps; the kernel's default
 * timer slack (50 us) would add to each of them on top of the model, so
 * the thread that runs the device asks for none (once, on first use).
 */
static void sleep_us(long us)
{
	static int slack_set;
	struct timespec ts;

	if (us <= 0)
		return;
	if (!slack_set) {
		(void)prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
		slack_set = 1;
	}
	ts.tv_sec = us / 1000000;
	ts.tv_nsec = (us % 1000000) * 1000;
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void sim_log(struct sim_dev *sd, const char *fmt, ...)
{
	char line[512];
	int n, m;
	va_list ap;

	if (sd->log_fd < 0)
		return;
	n = snprintf(line, sizeof(line), "%lld %s ",
	    (long long)sim_mono_ms(), sd->path);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line, O_APPEND: lines of processes never mix. */
	if (write(sd->log_fd, line, (size_t)n) < 0)
		return;
}

/* xorshift64*: deterministic per seed, good enough for fault rates. */
static double rand01(struct sim_dev *sd)
{
	sd->rng ^= sd->rng >> 12;
	sd->rng ^= sd->rng << 25;
	sd->rng ^= sd->rng >> 27;
	return (double)((sd->rng * 0x2545f4914f6cdd1dull) >> 11) /
	    9007199254740992.0;
}

const struct sim_model *sim_personality(const struct sim_dev *sd, int mode)
{
	return mode == MODE_RUNTIME ? sd->rt : sd->dfu;
}

uint16_t sim_vid(const struct sim_dev *sd, int mode)
{
	const struct sim_model *m = sim_personality(sd, mode);

	if (mode == MODE_APP)
		return sd->app_vid;
	return (sd->have_id && m == sd->rt) ? sd->id_vid : m->vid;
}

uint16_t sim_pid(const struct sim_dev *sd, int mode)
{
	const struct sim_model *m = sim_personality(sd, mode);

	if (mode == MODE_APP)
		return sd->app_pid;
	return (sd->have_id && m == sd->rt) ? sd->id_pid : m->pid;
}

/* String index 1 manufacturer, 2 product, 3 serial, 4 + n alt n. */
const char *sim_string(const struct sim_dev *sd, int mode, unsigned idx)
{
	const struct sim_model *m = sim_personality(sd, mode);

	/* Klipper's USB strings, as its serial by-id names show them
	 * (usb-Klipper_<mcu>_<chip id in hex>-if00); this chip ID is made
	 * up. */
	if (mode == MODE_APP)
		return idx == 1 ? "Klipper" : idx == 2 ? "stm32f042x6" :
		    idx == 3 ? "1A0036000B43304E36373820" : NULL;
	switch (idx) {
	case 1:
		return m->manufacturer;
	case 2:
		return m->product;
	case 3:
		return (sd->serial[0] && m == sd->rt) ? sd->serial : m->serial;
	default:
		if (idx >= 4 && idx - 4 < m->nalts)
			return m->alts[idx - 4].name;
		return NULL;
	}
}

static void put16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

size_t sim_device_bytes(const struct sim_dev *sd, int mode, uint8_t out[18])
{
	const struct sim_model *m = sim_personality(sd, mode);

	out[0] = 18;
	out[1] = USB_DT_DEVICE;
	put16(out + 2, 0x0200);
	out[4] = 0;	/* class per interface */
	out[5] = 0;
	out[6] = 0;
	out[7] = 64;	/* bMaxPacketSize0 of the ST ROMs */
	put16(out + 8, sim_vid(sd, mode));
	put16(out + 10, sim_pid(sd, mode));
	put16(out + 12, m->bcd_device);
	out[14] = 1;
	out[15] = 2;
	out[16] = 3;
	out[17] = 1;
	return 18;
}

void sim_dfu_functional(const struct sim_dev *sd, int mode, uint8_t out[9])
{
	const struct sim_model *m = sim_personality(sd, mode);
	uint8_t attrs = m->attrs;

	if (m == sd->rt && sd->tolerant >= 0)
		attrs = (uint8_t)(sd->tolerant ? attrs | 4 : attrs & ~4);
	if (m == sd->rt && sd->will_detach >= 0)
		attrs = (uint8_t)(sd->will_detach ? attrs | 8 : attrs & ~8);
	out[0] = 9;
	out[1] = 0x21;
	out[2] = attrs;
	put16(out + 3, m->detach_ms);
	put16(out + 5, m->xfer);
	put16(out + 7, m->bcd_dfu);
}

/* The raw configuration descriptor: one interface, one descriptor per
 * alternate setting, the DFU functional descriptor after the last one
 * (where the ST ROMs put it). */
size_t sim_config_bytes(const struct sim_dev *sd, int mode, uint8_t *buf,
    size_t len)
{
	const struct sim_model *m = sim_personality(sd, mode);
	uint8_t tmp[9 + SIM_MAX_ALTS * 9 + 9];
	size_t n = 9;
	unsigned i;

	tmp[0] = 9;
	tmp[1] = USB_DT_CONFIG;
	tmp[4] = 1;	/* bNumInterfaces */
	tmp[5] = 1;	/* bConfigurationValue */
	tmp[6] = 0;
	tmp[7] = 0x80;	/* bus powered */
	tmp[8] = 50;	/* 100 mA */
	if (mode == MODE_APP) {
		/* The application: one CDC interface, nothing of DFU. */
		memset(tmp + n, 0, 9);
		tmp[n + 0] = 9;
		tmp[n + 1] = USB_DT_INTERFACE;
		tmp[n + 5] = USB_CLASS_COMM;
		tmp[n + 6] = 2;	/* ACM */
		tmp[n + 7] = 1;	/* AT commands */
		n += 9;
		put16(tmp + 2, (unsigned)n);
		if (buf)
			memcpy(buf, tmp, len < n ? len : n);
		return n;
	}
	for (i = 0; i < m->nalts; i++) {
		tmp[n + 0] = 9;
		tmp[n + 1] = USB_DT_INTERFACE;
		tmp[n + 2] = 0;
		tmp[n + 3] = (uint8_t)i;
		tmp[n + 4] = 0;
		tmp[n + 5] = USB_CLASS_APP_SPEC;
		tmp[n + 6] = 1;
		tmp[n + 7] = (m->flags & MF_RUNTIME) ? 1 : 2;
		tmp[n + 8] = (uint8_t)(4 + i);
		n += 9;
	}
	sim_dfu_functional(sd, mode, tmp + n);
	n += 9;
	put16(tmp + 2, (unsigned)n);
	if (buf)
		memcpy(buf, tmp, len < n ? len : n);
	return n;
}

/* ---- memories ---- */

static const struct sim_alt *flash_alt(const struct sim_dev *sd)
{
	return &sd->dfu->alts[0];
}

static uint8_t *mem_of(struct sim_dev *sd, const struct sim_alt *a)
{
	switch (a->mem) {
	case MEM_FLASH:
		return sd->flash;
	case MEM_OPT:
		return sd->opt;
	case MEM_OTP:
		return sd->otp;
	default:
		return sd->feature;
	}
}

static int dfuse(const struct sim_dev *sd)
{
	return (sd->dfu->flags & MF_DFUSE) != 0;
}

/* The option-byte model of the device and its alt's size, or NULL. */
static const struct ob_model *ob_of(const struct sim_dev *sd, size_t *len)
{
	const struct sim_model *m = sd->dfu;
	unsigned i;

	*len = 0;
	if (m->ob_family == NULL)
		return NULL;
	for (i = 0; i < m->nalts; i++)
		if (m->alts[i].mem == MEM_OPT)
			*len = m->alts[i].size;
	return ob_model_named(m->ob_family);
}

/*
 * Readout protection as the option bytes say: with a model, the RDP
 * byte and the complements (a pair that does not hold loads as level 1,
 * RM0091 4); else any RDP byte but level 0's.
 */
static int rdp_level(const struct sim_dev *sd)
{
	const struct ob_model *ob;
	size_t len;

	if (!dfuse(sd))
		return 0;
	ob = ob_of(sd, &len);
	if (ob == NULL)
		return sd->opt[sd->dfu->rdp_off] != RDP_LEVEL0;
	if (!ob_pairs_ok(ob, sd->opt, len))
		return 1;
	return ob_rdp_level(ob, sd->opt, len);
}

static int rdp_active(const struct sim_dev *sd)
{
	return rdp_level(sd) != 0;
}

static void opt_defaults(struct sim_dev *sd, int rdp)
{
	const struct sim_model *m = sd->dfu;
	const struct ob_model *ob;
	size_t len;
	unsigned i;

	memset(sd->opt, 0xff, sizeof(sd->opt));
	ob = ob_of(sd, &len);
	if (ob != NULL) {
		/* As ST ships it (obfacts.c), --rdp at level 1. */
		ob_factory(ob, sd->opt, len);
		if (rdp)
			ob_write(ob, ob_bits_named(ob, "RDP"), sd->opt, len,
			    ob->rdp_l1);
		return;
	}
	sd->opt[m->rdp_off] = rdp ? RDP_LEVEL1 : RDP_LEVEL0;
	/* F0/F1 option bytes: every byte is followed by its complement. */
	if (m->nalts > 1 && m->alts[1].base == 0x1ffff800)
		for (i = 0; i + 1 < 16; i += 2)
			sd->opt[i + 1] = (uint8_t)~sd->opt[i];
}

static int map_flash(struct sim_dev *sd)
{
	struct stat st;
	int fd;
	size_t size = flash_alt(sd)->size;

	sd->flash_size = size;
	if (!sd->flash_path) {
		sd->flash = mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (sd->flash == MAP_FAILED)
			return -1;
		memset(sd->flash, 0xff, size);
		return 0;
	}
	fd = open(sd->flash_path, O_RDWR | O_CREAT, 0644);
	if (fd < 0 || fstat(fd, &st)) {
		fprintf(stderr, "usbsim: %s: %s\n", sd->flash_path,
		    strerror(errno));
		return -1;
	}
	if ((size_t)st.st_size < size && ftruncate(fd, (off_t)size)) {
		close(fd);
		return -1;
	}
	sd->flash = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
	    0);
	close(fd);
	if (sd->flash == MAP_FAILED)
		return -1;
	/* A new or short file is extended with erased flash. */
	if ((size_t)st.st_size < size)
		memset(sd->flash + st.st_size, 0xff,
		    size - (size_t)st.st_size);
	return 0;
}

/* ---- presence and persistence ---- */

/* State right after the ROM (or the application) starts. */
static void enter_mode(struct sim_dev *sd, int mode)
{
	sd->mode = mode;
	sd->alt = 0;
	sd->op = OP_NONE;
	sd->ptr = flash_alt(sd)->base;
	if (mode == MODE_RUNTIME) {
		sd->state = ST_APP_IDLE;
		sd->status = SS_OK;
	} else if (sd->dfu->flags & MF_START_ERROR) {
		sd->state = ST_ERROR;
		sd->status = SS_FIRMWARE;
	} else {
		sd->state = ST_IDLE;
		sd->status = SS_OK;
	}
}

static void power_on(struct sim_dev *sd)
{
	opt_defaults(sd, sd->rdp_init);
	memset(sd->otp, 0xff, sizeof(sd->otp));
	memset(sd->feature, 0, sizeof(sd->feature));
	sd->pending_mode = -1;
	sd->pending_at_ms = 0;
	sd->gen = 0;
	enter_mode(sd, (sd->rt->flags & MF_RUNTIME) ? MODE_RUNTIME : MODE_DFU);
	/* plug=: off the bus until someone plugs it in. */
	if (sd->plug_ms >= 0) {
		sd->pending_mode = sd->mode;
		sd->pending_at_ms = sim_real_ms() + sd->plug_ms;
		sd->mode = MODE_OFF;
	}
}

static void hex_out(char *dst, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(dst + 2 * i, "%02X", p[i]);
}

static int hex_in(uint8_t *p, size_t n, const char *s)
{
	size_t i;
	unsigned v;

	if (strlen(s) != 2 * n)
		return -1;
	for (i = 0; i < n; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		p[i] = (uint8_t)v;
	}
	return 0;
}

void sim_save(struct sim_dev *sd)
{
	char text[sizeof(sd->saved)], tmp[4096];
	char opt[2 * SIM_OPT_MAX + 1], otp[2 * SIM_OTP_MAX + 1];
	char feat[9];
	FILE *f;

	if (!sd->state_path)
		return;
	hex_out(opt, sd->opt, sizeof(sd->opt));
	hex_out(otp, sd->otp, sizeof(sd->otp));
	hex_out(feat, sd->feature, sizeof(sd->feature));
	snprintf(text, sizeof(text),
	    "mode=%s\npending=%s\npending_at=%lld\ngen=%u\nstate=%u\n"
	    "status=%u\nptr=0x%08X\nopt=%s\notp=%s\nfeature=%s\n",
	    mode_names[sd->mode],
	    sd->pending_mode < 0 ? "none" : mode_names[sd->pending_mode],
	    (long long)sd->pending_at_ms, sd->gen, sd->state, sd->status,
	    sd->ptr, opt, otp, feat);
	if (strcmp(text, sd->saved) == 0)
		return;
	snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", sd->state_path,
	    (long)getpid());
	f = fopen(tmp, "w");
	if (!f)
		return;
	fputs(text, f);
	if (fclose(f) == 0 && rename(tmp, sd->state_path) == 0)
		strcpy(sd->saved, text);
	else
		unlink(tmp);
}

static int mode_by_name(const char *s)
{
	int i;

	for (i = 0; i < (int)(sizeof(mode_names) / sizeof(mode_names[0]));
	    i++)
		if (strcmp(s, mode_names[i]) == 0)
			return i;
	return -1;
}

/* 0: loaded, 1: no file, -1: unreadable (treated as no file). */
static int load_state(struct sim_dev *sd)
{
	FILE *f = fopen(sd->state_path, "r");
	char line[4096], *eq, *v;
	unsigned long u;
	int bad = 0;

	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		eq = strchr(line, '=');
		if (!eq)
			continue;
		*eq = '\0';
		v = eq + 1;
		u = strtoul(v, NULL, 0);
		if (strcmp(line, "mode") == 0)
			bad |= (sd->mode = mode_by_name(v)) < 0;
		else if (strcmp(line, "pending") == 0)
			sd->pending_mode = mode_by_name(v);
		else if (strcmp(line, "pending_at") == 0)
			sd->pending_at_ms = strtoll(v, NULL, 10);
		else if (strcmp(line, "gen") == 0)
			sd->gen = (unsigned)u;
		else if (strcmp(line, "state") == 0)
			sd->state = (uint8_t)u;
		else if (strcmp(line, "status") == 0)
			sd->status = (uint8_t)u;
		else if (strcmp(line, "ptr") == 0)
			sd->ptr = (uint32_t)u;
		else if (strcmp(line, "opt") == 0)
			bad |= hex_in(sd->opt, sizeof(sd->opt), v);
		else if (strcmp(line, "otp") == 0)
			bad |= hex_in(sd->otp, sizeof(sd->otp), v);
		else if (strcmp(line, "feature") == 0)
			bad |= hex_in(sd->feature, sizeof(sd->feature), v);
	}
	fclose(f);
	if (bad || sd->state > ST_ERROR)
		return -1;
	sd->op = OP_NONE;
	return 0;
}

int sim_dev_init(struct sim_dev *sd)
{
	if (sd->log_path) {
		sd->log_fd = open(sd->log_path,
		    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (sd->log_fd < 0)
			fprintf(stderr, "usbsim: %s: %s\n", sd->log_path,
			    strerror(errno));
	}
	if (map_flash(sd))
		return -1;
	power_on(sd);
	sim_refresh(sd);
	return 0;
}

/* Takes the device off the bus; it comes back as BACK (-1: never). */
static void unplug(struct sim_dev *sd, int gone_mode, int back)
{
	long ms = sd->reenum_ms >= 0 ? sd->reenum_ms :
	    (sd->timing ? REENUM_DEFAULT_MS : 0);

	sd->mode = gone_mode;
	sd->gen++;
	sd->op = OP_NONE;
	sd->pending_mode = back;
	sd->pending_at_ms = back < 0 ? 0 : sim_real_ms() + ms;
	if (back < 0)
		sim_log(sd, "DISCONNECT -> %s", mode_names[gone_mode]);
	else
		sim_log(sd, "DISCONNECT -> %s, back in %s mode in %ld ms",
		    mode_names[gone_mode], mode_names[back], ms);
	sim_save(sd);
}

/* Where a resetting ROM ends up: the application if there is one (the
 * run-time model), DFU again if BOOT0 is held (or EMPTY_BOOTS and the
 * first flash word is erased, the F0 empty check), else off the bus. */
static int after_reset(struct sim_dev *sd, int empty_boots)
{
	static const uint8_t erased[4] = { 0xff, 0xff, 0xff, 0xff };
	int empty = empty_boots && memcmp(sd->flash, erased, 4) == 0;
	const struct ob_model *ob;
	size_t len;

	/* With a model the option bytes say what BOOT0 and an empty
	 * flash do (a G4 with nSWBOOT0 = 0 ignores the pin); level 2
	 * never boots the ROM. */
	ob = dfuse(sd) ? ob_of(sd, &len) : NULL;
	if (ob != NULL) {
		if (rdp_level(sd) != 2 && ob_boot(ob, sd->opt, len,
		    sd->boot0_held, empty) == OB_BOOT_ROM)
			return MODE_DFU;
	} else if (sd->boot0_held || empty) {
		return MODE_DFU;
	}
	if (sd->rt->flags & MF_RUNTIME)
		return MODE_RUNTIME;
	if (sd->have_app)
		return MODE_APP;
	return -1;
}

/* Brings the in-memory device up to date with the state file and the
 * clock.  Called at enumeration and open. */
void sim_refresh(struct sim_dev *sd)
{
	if (sd->state_path && sd->open_count == 0) {
		if (load_state(sd) != 0) {
			power_on(sd);
			sd->saved[0] = '\0';
			sim_save(sd);
		}
	}
	if (sd->pending_mode >= 0 && sim_real_ms() >= sd->pending_at_ms) {
		enter_mode(sd, sd->pending_mode);
		sd->pending_mode = -1;
		sd->gen++;
		sim_log(sd, "ENUMERATE %s mode %04x:%04x",
		    mode_names[sd->mode], sim_vid(sd, sd->mode),
		    sim_pid(sd, sd->mode));
		sim_save(sd);
	}
}

/* ---- DFU requests ---- */

static long pick(const struct sim_dev *sd, long over, long model)
{
	if (over >= 0)
		return over;
	return sd->timing ? model : 0;
}

static int stall(struct sim_dev *sd, uint8_t status)
{
	sd->state = ST_ERROR;
	sd->status = status;
	sd->op = OP_NONE;
	return SIM_E_STALL;
}

/* The erase unit holding ADDR in alt A: 0 and its base/size, or -1. */
static int find_sector(const struct sim_alt *a, uint32_t addr, uint32_t *base,
    uint32_t *size)
{
	uint32_t at = a->base;
	unsigned r, i;

	for (r = 0; r < SIM_MAX_RUNS && a->runs[r].count; r++)
		for (i = 0; i < a->runs[r].count; i++) {
			if (addr >= at && addr - at < a->runs[r].size) {
				*base = at;
				*size = a->runs[r].size;
				return 0;
			}
			at += a->runs[r].size;
		}
	return -1;
}

static int in_alt(const struct sim_alt *a, uint32_t addr, uint32_t len)
{
	return addr >= a->base && addr - a->base <= a->size &&
	    len <= a->size - (addr - a->base);
}

/* Runs the pending operation; sets op_status, returns poll and busy. */
static void execute(struct sim_dev *sd, long *poll, long *busy, int *reset)
{
	const struct sim_model *m = sd->dfu;
	const struct sim_alt *a = &m->alts[sd->alt];
	uint8_t *mem = mem_of(sd, a);
	uint32_t base, size, i;
	uint8_t st = SS_OK;

	*poll = *busy = 0;
	*reset = 0;
	switch (sd->op) {
	case OP_SETADDR:
		*poll = pick(sd, sd->cmd_poll, m->cmd_poll_ms);
		*busy = pick(sd, sd->cmd_busy, m->cmd_busy_ms);
		/* Allowed under RDP: only memory accesses are refused. */
		if (!in_alt(a, sd->op_addr, 0))
			st = SS_TARGET;
		else
			sd->ptr = sd->op_addr;
		break;
	case OP_ERASE:
		*poll = pick(sd, sd->erase_poll, m->erase_poll_ms);
		if (rdp_active(sd)) {
			st = SS_VENDOR;
		} else if (!(a->access & ACC_E) ||
		    find_sector(a, sd->op_addr, &base, &size)) {
			st = SS_TARGET;
		} else {
			memset(mem + (base - a->base), 0xff, size);
			*busy = pick(sd, sd->erase_busy, m->erase_busy_ms +
			    (long)m->erase_busy_per_kib_ms * (size / 1024));
		}
		break;
	case OP_MASS:
		*poll = pick(sd, sd->mass_poll, m->mass_poll_ms);
		*busy = pick(sd, sd->mass_busy, m->mass_busy_ms);
		if (rdp_active(sd))
			st = SS_VENDOR;
		else
			memset(sd->flash, 0xff, sd->flash_size);
		break;
	case OP_UNPROTECT:
		*poll = pick(sd, sd->mass_poll, m->mass_poll_ms);
		memset(sd->flash, 0xff, sd->flash_size);
		opt_defaults(sd, 0);
		*reset = 1;
		break;
	case OP_WRITE:
		*poll = pick(sd, sd->write_poll, m->write_poll_ms);
		*busy = pick(sd, sd->write_busy,
		    (long)m->write_busy_us_per_kib * sd->op_len / 1024000);
		if (!dfuse(sd)) {
			if (sd->op_first)
				memset(sd->flash, 0xff, sd->flash_size);
			if (!in_alt(a, sd->op_addr, sd->op_len)) {
				st = SS_ADDRESS;
				break;
			}
		} else if (rdp_active(sd) && a->mem == MEM_FLASH) {
			st = SS_VENDOR;
			break;
		} else if (!in_alt(a, sd->op_addr, sd->op_len)) {
			st = SS_TARGET;
			break;
		} else if (!(a->access & ACC_W)) {
			st = SS_WRITE;
			break;
		}
		mem += sd->op_addr - a->base;
		if (a->mem == MEM_OPT) {
			/* The ROM rewrites the whole block, then resets
			 * to load it (AN3156 "will-reset"). */
			if (sd->op_addr != a->base || sd->op_len != a->size) {
				st = SS_TARGET;
				break;
			}
			memcpy(mem, sd->op_buf, sd->op_len);
			*reset = 1;
		} else if (a->mem == MEM_FEATURE) {
			memcpy(mem, sd->op_buf, sd->op_len);
		} else {
			/* NOR: programming can only clear bits. */
			for (i = 0; i < sd->op_len; i++)
				mem[i] &= sd->op_buf[i];
		}
		break;
	default:
		st = SS_STALLEDPKT;
		break;
	}
	sd->op_status = st;
}

static void status_reply(struct sim_dev *sd, uint8_t *data, uint16_t wl,
    long poll, char *note, size_t notelen)
{
	uint8_t r[GETSTATUS_LEN];

	if (poll < 0)
		poll = 0;
	r[0] = sd->status;
	r[1] = (uint8_t)poll;
	r[2] = (uint8_t)(poll >> 8);
	r[3] = (uint8_t)(poll >> 16);
	r[4] = sd->state;
	r[5] = 0;
	memcpy(data, r, wl < GETSTATUS_LEN ? wl : GETSTATUS_LEN);
	snprintf(note, notelen, "%s status=%u poll=%ld",
	    state_names[sd->state], sd->status, poll);
}

static int getstatus(struct sim_dev *sd, uint8_t *data, uint16_t wl,
    char *note, size_t notelen, int *after)
{
	int64_t now = sim_mono_ms();
	long poll = 0, busy = 0, rem;
	int reset = 0;

	if (wl < GETSTATUS_LEN)
		return stall(sd, SS_STALLEDPKT);
	switch (sd->state) {
	case ST_DNLOAD_SYNC:
		execute(sd, &poll, &busy, &reset);
		sd->state = ST_DNBUSY;
		sd->status = SS_OK;
		sd->busy_until_ms = now + busy;
		sd->poll_until_ms = now + poll;
		/* Resetting operations never answer a second time. */
		if (reset)
			*after = 2;
		break;
	case ST_DNBUSY:
		if ((sd->dfu->flags & MF_STRICT_POLL) &&
		    (now < sd->poll_until_ms || now < sd->busy_until_ms)) {
			snprintf(note, notelen, "early poll, %lld ms left",
			    (long long)(sd->busy_until_ms > sd->poll_until_ms ?
			    sd->busy_until_ms - now : sd->poll_until_ms - now));
			if (sd->stall_err)
				return stall(sd, SS_STALLEDPKT);
			return SIM_E_STALL;
		}
		if (now < sd->busy_until_ms) {
			poll = (long)(sd->busy_until_ms - now);
			break;
		}
		if (sd->op_status == SS_OK) {
			sd->state = ST_DNLOAD_IDLE;
		} else {
			sd->state = ST_ERROR;
			sd->status = sd->op_status;
		}
		sd->op = OP_NONE;
		break;
	case ST_MANIFEST_SYNC:
		if (sd->op == OP_LEAVE) {
			if (sd->leave_drop) {
				*after = 1;
				snprintf(note, notelen, "device reset first");
				return SIM_E_IO;
			}
			sd->state = ST_MANIFEST;
			*after = 1;
		} else if (sd->op == OP_MANIFEST) {
			sd->state = ST_MANIFEST;
			poll = pick(sd, sd->manifest, sd->dfu->manifest_ms);
			sd->busy_until_ms = now + poll;
		} else {
			sd->state = ST_IDLE;
		}
		break;
	case ST_MANIFEST:
		rem = (long)(sd->busy_until_ms - now);
		if (rem > 0) {
			poll = rem;
		} else if (sd->op == OP_MANIFEST) {
			sd->op = OP_NONE;
			if (sd->tolerant > 0) {
				sd->state = ST_IDLE;
			} else {
				sd->state = ST_MANIFEST_WAIT_RESET;
				if (sd->will_detach > 0)
					*after = 3;
			}
		}
		break;
	default:
		break;
	}
	status_reply(sd, data, wl, poll, note, notelen);
	return GETSTATUS_LEN;
}

static int dnload(struct sim_dev *sd, uint16_t wv, uint8_t *data, uint16_t wl,
    char *note, size_t notelen)
{
	const struct sim_model *m = sd->dfu;
	uint32_t addr;

	if (sd->state != ST_IDLE && sd->state != ST_DNLOAD_IDLE)
		return stall(sd, SS_STALLEDPKT);
	if (wl > m->xfer || (wl && !data))
		return stall(sd, SS_STALLEDPKT);
	if (!dfuse(sd)) {
		if (wl == 0) {
			if (sd->state != ST_DNLOAD_IDLE)
				return stall(sd, SS_STALLEDPKT);
			sd->op = OP_MANIFEST;
			sd->state = ST_MANIFEST_SYNC;
			snprintf(note, notelen, "MANIFEST");
			return 0;
		}
		sd->op = OP_WRITE;
		sd->op_first = sd->state == ST_IDLE;
		sd->op_addr = (uint32_t)wv * m->xfer;
		sd->op_len = wl;
		memcpy(sd->op_buf, data, wl);
		sd->state = ST_DNLOAD_SYNC;
		snprintf(note, notelen, "%sWRITE 0x%08X %u",
		    sd->op_first ? "ERASE_ALL " : "", sd->op_addr, wl);
		return wl;
	}
	if (wl == 0) {
		sd->op = OP_LEAVE;
		sd->state = ST_MANIFEST_SYNC;
		snprintf(note, notelen, "LEAVE 0x%08X", sd->ptr);
		return 0;
	}
	if (wv == 1)
		return stall(sd, SS_STALLEDPKT);
	sd->state = ST_DNLOAD_SYNC;
	if (wv >= 2) {
		addr = sd->ptr + (uint32_t)(wv - 2) * m->xfer;
		sd->op = OP_WRITE;
		sd->op_addr = addr;
		sd->op_len = wl;
		memcpy(sd->op_buf, data, wl);
		snprintf(note, notelen, "WRITE 0x%08X %u", addr, wl);
		return wl;
	}
	addr = wl >= 5 ? (uint32_t)data[1] | (uint32_t)data[2] << 8 |
	    (uint32_t)data[3] << 16 | (uint32_t)data[4] << 24 : 0;
	sd->op_addr = addr;
	if (data[0] == CMD_SETADDR && wl == 5) {
		sd->op = OP_SETADDR;
		snprintf(note, notelen, "SET_ADDRESS 0x%08X", addr);
	} else if (data[0] == CMD_ERASE && wl == 5) {
		sd->op = OP_ERASE;
		snprintf(note, notelen, "ERASE 0x%08X", addr);
	} else if (data[0] == CMD_ERASE && wl == 1) {
		sd->op = OP_MASS;
		snprintf(note, notelen, "MASS_ERASE");
	} else if (data[0] == CMD_UNPROTECT && wl == 1) {
		sd->op = OP_UNPROTECT;
		snprintf(note, notelen, "READ_UNPROTECT");
	} else {
		sd->op = OP_BADCMD;
		snprintf(note, notelen, "UNKNOWN_CMD 0x%02X len %u", data[0],
		    wl);
	}
	return wl;
}

static int upload(struct sim_dev *sd, uint16_t wv, uint8_t *data, uint16_t wl,
    char *note, size_t notelen)
{
	static const uint8_t commands[] = {
		CMD_GET, CMD_SETADDR, CMD_ERASE, CMD_UNPROTECT
	};
	const struct sim_model *m = sd->dfu;
	const struct sim_alt *a = &m->alts[sd->alt];
	uint32_t addr, n;

	if (sd->state != ST_IDLE && sd->state != ST_UPLOAD_IDLE)
		return stall(sd, SS_STALLEDPKT);
	if (wl > m->xfer || !data)
		return stall(sd, SS_STALLEDPKT);
	if (dfuse(sd) && wv == 0) {
		n = wl < sizeof(commands) ? wl : sizeof(commands);
		memcpy(data, commands, n);
		sd->state = ST_UPLOAD_IDLE;
		snprintf(note, notelen, "GET_COMMANDS");
		return (int)n;
	}
	if (dfuse(sd) && wv == 1)
		return stall(sd, SS_STALLEDPKT);
	addr = dfuse(sd) ? sd->ptr + (uint32_t)(wv - 2) * m->xfer :
	    (uint32_t)wv * m->xfer;
	snprintf(note, notelen, "READ 0x%08X %u", addr, wl);
	if (dfuse(sd)) {
		if (rdp_active(sd) && a->mem == MEM_FLASH)
			return stall(sd, SS_VENDOR);
		if (!in_alt(a, addr, 0) || !(a->access & ACC_R))
			return stall(sd, SS_ADDRESS);
	}
	n = in_alt(a, addr, 0) ? a->size - (addr - a->base) : 0;
	if (n > wl)
		n = wl;
	memcpy(data, mem_of(sd, a) + (addr - a->base), n);
	sd->state = n < wl ? ST_IDLE : ST_UPLOAD_IDLE;
	return (int)n;
}

static int dfu_request(struct sim_dev *sd, uint8_t req, uint16_t wv,
    uint8_t *data, uint16_t wl, char *note, size_t notelen, int *after)
{
	switch (req) {
	case REQ_DETACH:
		/* The ROMs ignore it; a USB reset leaves them in DFU. */
		if (sd->state != ST_IDLE)
			return stall(sd, SS_STALLEDPKT);
		snprintf(note, notelen, "ignored in DFU mode");
		return 0;
	case REQ_DNLOAD:
		return dnload(sd, wv, data, wl, note, notelen);
	case REQ_UPLOAD:
		return upload(sd, wv, data, wl, note, notelen);
	case REQ_GETSTATUS:
		if (!data)
			return stall(sd, SS_STALLEDPKT);
		return getstatus(sd, data, wl, note, notelen, after);
	case REQ_CLRSTATUS:
		if (sd->state != ST_ERROR)
			return stall(sd, SS_STALLEDPKT);
		sd->state = ST_IDLE;
		sd->status = SS_OK;
		return 0;
	case REQ_GETSTATE:
		if (!data || wl < 1)
			return stall(sd, SS_STALLEDPKT);
		data[0] = sd->state;
		snprintf(note, notelen, "%s", state_names[sd->state]);
		return 1;
	case REQ_ABORT:
		switch (sd->state) {
		case ST_IDLE:
		case ST_DNLOAD_SYNC:
		case ST_DNLOAD_IDLE:
		case ST_MANIFEST_SYNC:
		case ST_UPLOAD_IDLE:
			sd->state = ST_IDLE;
			sd->op = OP_NONE;
			return 0;
		default:
			return stall(sd, SS_STALLEDPKT);
		}
	default:
		return stall(sd, SS_STALLEDPKT);
	}
}

static int runtime_request(struct sim_dev *sd, uint8_t req, uint16_t wv,
    uint8_t *data, uint16_t wl, char *note, size_t notelen, int *after)
{
	uint8_t attrs[9];

	if (sd->state == ST_APP_DETACH &&
	    sim_mono_ms() > sd->detach_deadline_ms)
		sd->state = ST_APP_IDLE;
	switch (req) {
	case REQ_DETACH:
		if (sd->state != ST_APP_IDLE)
			return SIM_E_STALL;
		sd->state = ST_APP_DETACH;
		sd->detach_deadline_ms = sim_mono_ms() + wv;
		sim_dfu_functional(sd, MODE_RUNTIME, attrs);
		if (attrs[2] & 8)
			*after = 4;
		snprintf(note, notelen, "timeout %u ms%s", wv,
		    (attrs[2] & 8) ? ", will detach" : "");
		return 0;
	case REQ_GETSTATUS:
		if (!data || wl < GETSTATUS_LEN)
			return SIM_E_STALL;
		status_reply(sd, data, wl, 0, note, notelen);
		return GETSTATUS_LEN;
	case REQ_GETSTATE:
		if (!data || wl < 1)
			return SIM_E_STALL;
		data[0] = sd->state;
		snprintf(note, notelen, "%s", state_names[sd->state]);
		return 1;
	default:
		return SIM_E_STALL;
	}
}

/* Standard requests on EP0; returns bytes or a SIM_E_* error. */
static int std_request(struct sim_dev *sd, int mode, uint8_t rtype,
    uint8_t req, uint16_t wv, uint8_t *data, uint16_t wl, char *note,
    size_t notelen)
{
	const struct sim_model *m = sim_personality(sd, mode);
	uint8_t buf[256];
	const char *s;
	size_t n = 0, i;

	if (!(rtype & USB_DIR_IN)) {
		switch (req) {
		case USB_REQ_SET_CONFIGURATION:
			return wv <= 1 ? 0 : SIM_E_STALL;
		case USB_REQ_SET_INTERFACE:
			return sim_set_alt(sd, wv) ? SIM_E_STALL : 0;
		default:
			return SIM_E_STALL;
		}
	}
	switch (req) {
	case USB_REQ_GET_STATUS:
		buf[0] = buf[1] = 0;
		n = 2;
		break;
	case USB_REQ_GET_CONFIGURATION:
		buf[0] = 1;
		n = 1;
		break;
	case USB_REQ_GET_INTERFACE:
		buf[0] = (uint8_t)sd->alt;
		n = 1;
		break;
	case USB_REQ_GET_DESCRIPTOR:
		switch (wv >> 8) {
		case USB_DT_DEVICE:
			n = sim_device_bytes(sd, mode, buf);
			break;
		case USB_DT_CONFIG:
			if ((wv & 0xff) != 0)
				return SIM_E_STALL;
			n = sim_config_bytes(sd, mode, buf, sizeof(buf));
			break;
		case USB_DT_STRING:
			if ((wv & 0xff) == 0) {
				buf[0] = 4;
				buf[1] = USB_DT_STRING;
				put16(buf + 2, 0x0409);
				n = 4;
				break;
			}
			s = sim_string(sd, mode, wv & 0xff);
			if (!s)
				return SIM_E_STALL;
			for (i = 0; s[i] && 2 + 2 * i < sizeof(buf) - 1; i++)
				put16(buf + 2 + 2 * i, (uint8_t)s[i]);
			n = 2 + 2 * i;
			buf[0] = (uint8_t)n;
			buf[1] = USB_DT_STRING;
			break;
		case 0x21:	/* DFU functional */
			sim_dfu_functional(sd, mode, buf);
			n = 9;
			break;
		default:
			return SIM_E_STALL;
		}
		break;
	default:
		return SIM_E_STALL;
	}
	(void)m;
	if (n > wl)
		n = wl;
	if (n && !data)
		return SIM_E_PARAM;
	memcpy(data, buf, n);
	snprintf(note, notelen, "%zu bytes", n);
	return (int)n;
}

static const char *std_name(uint8_t req)
{
	switch (req) {
	case USB_REQ_GET_STATUS: return "GET_STATUS";
	case USB_REQ_GET_DESCRIPTOR: return "GET_DESCRIPTOR";
	case USB_REQ_GET_CONFIGURATION: return "GET_CONFIGURATION";
	case USB_REQ_SET_CONFIGURATION: return "SET_CONFIGURATION";
	case USB_REQ_GET_INTERFACE: return "GET_INTERFACE";
	case USB_REQ_SET_INTERFACE: return "SET_INTERFACE";
	default: return "STD_REQUEST";
	}
}

static const char *result_name(int rc)
{
	switch (rc) {
	case SIM_E_STALL: return "STALL";
	case SIM_E_TIMEOUT: return "TIMEOUT";
	case SIM_E_IO: return "IO_ERROR";
	case SIM_E_GONE: return "NO_DEVICE";
	default: return rc < 0 ? "ERROR" : "OK";
	}
}

/* Things that happen after the reply went out (AFTER codes). */
static void after_reply(struct sim_dev *sd, int after)
{
	switch (after) {
	case 1:		/* DfuSe leave: the ROM resets */
		unplug(sd, MODE_GONE, after_reset(sd, 0));
		break;
	case 2:		/* read unprotect / option bytes: reset */
		unplug(sd, MODE_GONE, after_reset(sd, 1));
		break;
	case 3:		/* plain DFU, WillDetach after manifestation */
		unplug(sd, MODE_GONE, sd->boot0_held ? MODE_DFU : -1);
		break;
	case 4:		/* run-time WillDetach: re-enumerate in DFU */
		unplug(sd, MODE_GONE, MODE_DFU);
		break;
	default:
		break;
	}
}

int sim_control(struct sim_dev *sd, int mode, uint8_t rtype, uint8_t req,
    uint16_t wv, uint16_t wi, uint8_t *data, uint16_t wl,
    unsigned timeout_ms)
{
	char note[160] = "";
	const char *name;
	int rc, after = 0;

	if (sd->timing)
		sleep_us(XFER_BASE_US + (long)(wl + XFER_PACKET - 1) /
		    XFER_PACKET * 1000 / XFER_PACKETS_PER_FRAME);
	if ((rtype & USB_TYPE_CLASS) == 0 &&
	    (rtype & USB_TYPE_MASK) == USB_TYPE_STANDARD) {
		rc = std_request(sd, mode, rtype, req, wv, data, wl, note,
		    sizeof(note));
		sim_log(sd, "%s wValue=0x%04X wLength=%u %s -> %s",
		    std_name(req), wv, wl, note, result_name(rc));
		return rc;
	}
	if ((rtype & USB_TYPE_MASK) != USB_TYPE_CLASS || req > REQ_ABORT ||
	    wi != 0 || ((rtype & USB_DIR_IN) != 0) !=
	    (req == REQ_UPLOAD || req == REQ_GETSTATUS ||
	    req == REQ_GETSTATE)) {
		sim_log(sd, "REQUEST type=0x%02X req=%u wValue=%u wIndex=%u "
		    "-> STALL", rtype, req, wv, wi);
		return SIM_E_STALL;
	}
	if (mode == MODE_APP) {
		sim_log(sd, "REQUEST type=0x%02X req=%u (application) -> STALL",
		    rtype, req);
		return SIM_E_STALL;
	}
	name = req_names[req];
	sd->dfu_requests++;
	if (sd->disconnect_after > 0 &&
	    sd->dfu_requests == (unsigned long)sd->disconnect_after) {
		sim_log(sd, "%s wValue=%u wLength=%u -> IO_ERROR (unplugged)",
		    name, wv, wl);
		unplug(sd, MODE_OFF, -1);
		return SIM_E_IO;
	}
	if (sd->timeout_rate > 0 && rand01(sd) < sd->timeout_rate) {
		sim_log(sd, "%s wValue=%u wLength=%u -> TIMEOUT (fault)",
		    name, wv, wl);
		if (sd->timing)
			sleep_us((long)timeout_ms * 1000);
		return SIM_E_TIMEOUT;
	}
	if (sd->stall_rate > 0 && rand01(sd) < sd->stall_rate) {
		if (mode != MODE_RUNTIME)
			stall(sd, SS_STALLEDPKT);
		sim_log(sd, "%s wValue=%u wLength=%u -> STALL (fault)",
		    name, wv, wl);
		sim_save(sd);
		return SIM_E_STALL;
	}
	if (mode == MODE_RUNTIME)
		rc = runtime_request(sd, req, wv, data, wl, note, sizeof(note),
		    &after);
	else
		rc = dfu_request(sd, req, wv, data, wl, note, sizeof(note),
		    &after);
	sim_log(sd, "%s wValue=%u wLength=%u%s%s -> %s", name, wv, wl,
	    note[0] ? " " : "", note, result_name(rc));
	after_reply(sd, after);
	sim_save(sd);
	return rc;
}

int sim_set_alt(struct sim_dev *sd, int alt)
{
	const struct sim_model *m = sim_personality(sd, sd->mode);

	if (alt < 0 || (unsigned)alt >= m->nalts) {
		sim_log(sd, "SET_INTERFACE alt=%d -> NOT_FOUND", alt);
		return SIM_E_NOT_FOUND;
	}
	sd->alt = alt;
	sim_log(sd, "SET_INTERFACE alt=%d -> OK", alt);
	return 0;
}

/* USB port reset from the host. */
int sim_reset(struct sim_dev *sd)
{
	if (sd->mode == MODE_RUNTIME) {
		if (sd->state == ST_APP_DETACH &&
		    sim_mono_ms() <= sd->detach_deadline_ms) {
			sim_log(sd, "USB_RESET in appDETACH -> DFU mode");
			enter_mode(sd, MODE_DFU);
			sd->gen++;
			sim_save(sd);
			return SIM_E_NOT_FOUND;
		}
		sim_log(sd, "USB_RESET -> OK (stays in run-time mode)");
		return 0;
	}
	if (sd->state == ST_MANIFEST_WAIT_RESET) {
		sim_log(sd, "USB_RESET in dfuMANIFEST-WAIT-RESET -> new "
		    "firmware runs");
		unplug(sd, MODE_GONE, sd->boot0_held ? MODE_DFU : -1);
		return SIM_E_NOT_FOUND;
	}
	/* The ROM survives a bus reset; only the request state restarts. */
	sim_log(sd, "USB_RESET -> OK (stays in DFU mode)");
	sd->op = OP_NONE;
	if (sd->state != ST_ERROR) {
		sd->state = ST_IDLE;
		sd->status = SS_OK;
	}
	sim_save(sd);
	return 0;
}
