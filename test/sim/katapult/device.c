/*
 * device.c - one simulated MCU: Katapult's command handlers
 * (src/flashcmd.c, src/command.c), the Klipper application's ways into
 * Katapult (klipper src/generic/usb_cdc.c check_reboot(), serial_irq.c,
 * canserial.c; src/stm32/stm32f0.c and friends: bootloader_request()),
 * and resets (src/bootentry.c, src/generic/armcm_canboot.c).
 *
 * Invariants: replies leave in command order, each no earlier than the
 * end of the work (flash erase and program) of its command; a device
 * that is not in Katapult ignores Katapult bytes; a wedged parser stays
 * wedged until a reset.
 */
#include <stdlib.h>
#include <string.h>

#include "ksim.h"

#define COMPLETE_DELAY_NS (100 * NS_PER_MS)	/* flashcmd.c: 100000 us */
#define KP_WORD 4u
#define SEND_BLOCK_WORDS (KP_BLOCK_SIZE / KP_WORD + 1)
/* A frame carries at most 30 words (MESSAGE_MAX 128 - 8). */
#define REPLY_WORDS_MAX ((KP_FRAME_MAX - 8) / 4)
#define REPLY_MAX (REPLY_WORDS_MAX * 4)
#define DEFAULT_VERSION "v0.0.1-109-g902f335"	/* Katapult master */

const char *
ks_run_name(enum ks_runstate r)
{
	switch (r) {
	case KS_RUN_KATAPULT: return "katapult";
	case KS_RUN_APP: return "klipper";
	case KS_RUN_BOOTING: return "booting";
	case KS_RUN_ROM: return "rom";
	case KS_RUN_DEAD: return "hard-fault";
	case KS_RUN_OFF: return "off";
	}
	return "?";
}

static int
parse_hex(const char *s, uint8_t *out, size_t max, uint32_t *n)
{
	size_t len = strlen(s), i;

	if (len == 0 || len % 2 != 0 || len / 2 > max)
		return -1;
	for (i = 0; i < len / 2; i++) {
		char b[3] = { s[2 * i], s[2 * i + 1], '\0' };
		char *end;
		unsigned long v = strtoul(b, &end, 16);

		if (*end != '\0')
			return -1;
		out[i] = (uint8_t)v;
	}
	*n = (uint32_t)(len / 2);
	return 0;
}

static int
load_app_image(struct ks_dev *d, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint32_t room = d->m->flash_base + d->m->flash_size - d->m->app_start;
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open", path);
		return -1;
	}
	buf = malloc(room);
	n = buf != NULL ? fread(buf, 1, room, f) : 0;
	fclose(f);
	if (buf == NULL || n == 0) {
		free(buf);
		snprintf(err, errlen, "%s: empty or unreadable", path);
		return -1;
	}
	/* As if flashed before: erased pages, then the image. */
	memset(d->flash.mem + (d->m->app_start - d->m->flash_base), 0xFF,
	    room);
	memcpy(d->flash.mem + (d->m->app_start - d->m->flash_base), buf, n);
	free(buf);
	return 0;
}

static void
katapult_reset_state(struct ks_dev *d)
{
	ks_rx_init(&d->rx, d->link == KS_LINK_USB ? 128 : 192,
	    d->cfg.parser);
	d->flash.page_writes = 0;
	d->flash.buf_full = 0;
	ks_flash_reset(&d->flash);
	d->complete_at = 0;
	d->can_id = 0;
	d->frames_seen = 0;
}

/* bootentry_check() after a reset without a request word. */
static enum ks_runstate
power_on_state(const struct ks_dev *d)
{
	if (ks_flash_app_valid(&d->flash))
		return KS_RUN_APP;
	if (ks_flash_has_katapult(&d->flash))
		return KS_RUN_KATAPULT;
	return KS_RUN_DEAD;
}

int
ks_dev_init(struct ks_dev *d, const struct ks_devcfg *cfg,
    enum ks_link_kind link, char *err, size_t errlen)
{
	int r;

	memset(d, 0, sizeof(*d));
	d->cfg = *cfg;
	if (d->cfg.version == NULL)
		d->cfg.version = DEFAULT_VERSION;
	d->link = link;
	d->name = "";
	d->fault.vanish_after = -1;
	d->fault.wedge_after = -1;
	d->m = ks_model_find(cfg->model != NULL ? cfg->model : "f042");
	if (d->m == NULL) {
		snprintf(err, errlen, "unknown model '%s' (f042, g0b1, "
		    "f446, rp2040)", cfg->model);
		return -1;
	}
	if (cfg->flash != NULL)
		r = ks_flash_open(&d->flash, d->m, cfg->flash,
		    cfg->no_katapult, err, errlen);
	else if ((r = ks_flash_mem(&d->flash, d->m)) == 0 &&
	    cfg->no_katapult)
		ks_flash_bootloader(&d->flash, 0);
	if (r != 0) {
		if (cfg->flash == NULL)
			snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (cfg->app_image != NULL &&
	    load_app_image(d, cfg->app_image, err, errlen) != 0)
		goto fail;
	memcpy(d->uid, d->m->uid, sizeof(d->uid));
	d->uid_len = d->m->uid_len;
	if (cfg->uid_hex != NULL &&
	    parse_hex(cfg->uid_hex, d->uid, sizeof(d->uid), &d->uid_len)) {
		snprintf(err, errlen, "--uid wants 2 to 24 hex digits");
		goto fail;
	}
	ks_uuid(d->uid, d->uid_len, d->uuid);
	ks_usb_serial(d->uid, d->uid_len, d->serial, sizeof(d->serial));
	katapult_reset_state(d);
	kl_rx_init(&d->app_rx);
	if (cfg->start_app) {
		d->run = power_on_state(d);
	} else if (!ks_flash_has_katapult(&d->flash)) {
		snprintf(err, errlen, "no Katapult in the flash to start in "
		    "(use --start app)");
		goto fail;
	} else {
		d->run = KS_RUN_KATAPULT;
	}
	return 0;
fail:
	ks_flash_close(&d->flash);
	return -1;
}

void
ks_dev_free(struct ks_dev *d)
{
	ks_flash_close(&d->flash);
}

static void
emit(struct ks_dev *d, const uint8_t *p, size_t n, uint64_t t)
{
	if (d->emit != NULL)
		d->emit(d->link_ctx, p, n, t);
}

static void
act(struct ks_dev *d, enum ks_action a, uint64_t t)
{
	if (d->act != NULL)
		d->act(d->link_ctx, a, t);
}

static void
reply(struct ks_dev *d, uint8_t code, const uint8_t *payload, size_t words,
    uint64_t t)
{
	uint8_t out[KP_FRAME_MAX];
	size_t n = ks_frame(out, code, payload, words);

	emit(d, out, n, t);
}

/* An ACK: the acknowledged command as the first word, then more. */
static void
ack(struct ks_dev *d, uint8_t cmd, const uint8_t *more, size_t words,
    uint64_t t)
{
	uint8_t p[REPLY_MAX];

	ks_wr32(p, cmd);
	if (words > 0)
		memcpy(p + KP_WORD, more, words * KP_WORD);
	reply(d, KP_ACK, p, words + 1, t);
}

static const char *
cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case KP_CMD_CONNECT: return "CONNECT";
	case KP_CMD_SEND_BLOCK: return "SEND_BLOCK";
	case KP_CMD_SEND_EOF: return "SEND_EOF";
	case KP_CMD_REQUEST_BLOCK: return "REQUEST_BLOCK";
	case KP_CMD_COMPLETE: return "COMPLETE";
	case KP_CMD_GET_CANBUS_ID: return "GET_CANBUS_ID";
	}
	return NULL;
}

/* The MCU takes a hard fault: it stops answering until a reset. */
static void
hard_fault(struct ks_dev *d, const char *what, uint32_t addr, uint64_t t)
{
	ks_shout(t, "%sFAULT %s 0x%08x outside the flash: hard fault, the "
	    "MCU stops answering until a reset", d->name, what, addr);
	d->run = KS_RUN_DEAD;
	act(d, KS_ACT_NONE, t);
}

/*
 * command_connect(): proto, app start, block size, MCU name padded to
 * words, one zero word, version padded to words (protocol 1.0.0 ends
 * after the name).  A version too long for one frame is cut.
 */
static void
do_connect(struct ks_dev *d, uint64_t t)
{
	uint8_t p[REPLY_MAX];
	size_t mcu = strlen(d->m->mcu), ver = strlen(d->cfg.version);
	size_t mw = (mcu + 3) / 4, vw = (ver + 3) / 4, words, room;

	/* After the command word: 3 words, the name, 0, the version. */
	room = REPLY_WORDS_MAX - 1 - 3 - mw - 1;
	if (vw > room) {
		vw = room;
		ver = vw * KP_WORD;
	}
	words = d->cfg.old_proto ? 3 + mw : 3 + mw + 1 + vw;
	memset(p, 0, sizeof(p));
	ks_wr32(p, d->cfg.old_proto ? KP_PROTO_1_0_0 : KP_PROTO_1_1_0);
	ks_wr32(p + 4, d->m->app_start);
	ks_wr32(p + 8, KP_BLOCK_SIZE);
	memcpy(p + 12, d->m->mcu, mcu);
	if (!d->cfg.old_proto)
		memcpy(p + 12 + (mw + 1) * KP_WORD, d->cfg.version, ver);
	ks_logf(t, "%sCONNECT -> ACK proto=%s app=0x%08x block=%u mcu=%s "
	    "version=%s", d->name, d->cfg.old_proto ? "1.0.0" : "1.1.0",
	    d->m->app_start, KP_BLOCK_SIZE, d->m->mcu,
	    d->cfg.old_proto ? "-" : d->cfg.version);
	ack(d, KP_CMD_CONNECT, p, words, t);
}

/* Note the flash stalls of a command; returns when its work ends. */
static uint64_t
work_end(struct ks_dev *d, uint64_t t, const struct ks_work *w)
{
	size_t i;

	if (!d->timing)
		return t;
	for (i = 0; i < w->nstall; i++) {
		if (d->nstalls == KS_STALL_RING) {
			memmove(d->stalls, d->stalls + 1,
			    (KS_STALL_RING - 1) * sizeof(d->stalls[0]));
			d->nstalls--;
		}
		d->stalls[d->nstalls++] = w->stall[i];
	}
	return t + w->ns;
}

uint64_t
ks_dev_stall_step(struct ks_dev *d, uint64_t t)
{
	while (d->nstalls > 0) {
		const struct ks_stall *s = &d->stalls[0];
		uint64_t end = s->start + s->step_ns * s->steps;

		if (t < end) {
			if (t < s->start)
				return 0;
			return s->start + (t - s->start) / s->step_ns *
			    s->step_ns;
		}
		memmove(d->stalls, d->stalls + 1,
		    (d->nstalls - 1) * sizeof(d->stalls[0]));
		d->nstalls--;
	}
	return 0;
}

static void
do_send_block(struct ks_dev *d, const uint8_t *f, uint64_t t)
{
	const uint8_t *pl = f + 4;
	struct ks_work w;
	uint32_t addr = ks_rd32(pl), cut = 0;
	enum ks_wr r;

	d->blocks_seen++;
	if (f[3] != SEND_BLOCK_WORDS) {
		ks_logf(t, "%sSEND_BLOCK len=%u -> ERROR length", d->name,
		    (unsigned)f[3] * KP_WORD);
		reply(d, KP_ERROR, NULL, 0, t);
		return;
	}
	if (addr < d->m->app_start) {
		ks_logf(t, "%sSEND_BLOCK 0x%08x -> ERROR below-app-start",
		    d->name, addr);
		reply(d, KP_ERROR, NULL, 0, t);
		return;
	}
	/* The STM32 port reads the flash before it writes: a fault. */
	if (d->m->family == KS_STM32 && (addr & (KP_BLOCK_SIZE - 1)) == 0 &&
	    !ks_flash_in(&d->flash, addr, KP_BLOCK_SIZE)) {
		hard_fault(d, "SEND_BLOCK", addr, t);
		return;
	}
	if (d->fault.vanish_after >= 0 &&
	    d->blocks_seen > d->fault.vanish_after)
		cut = KP_BLOCK_SIZE / 2;
	r = ks_flash_write(&d->flash, addr, pl + KP_WORD, t, &w, cut);
	t = work_end(d, t, &w);
	d->free_at = t;
	if (cut > 0) {
		ks_shout(t, "%sVANISH power lost while writing 0x%08x "
		    "(%u of %u bytes programmed)", d->name, addr, cut,
		    KP_BLOCK_SIZE);
		d->run = KS_RUN_OFF;
		act(d, KS_ACT_DETACH, t);
		return;
	}
	if (r < 0) {
		ks_logf(t, "%sSEND_BLOCK 0x%08x -> ERROR %s", d->name, addr,
		    ks_wr_name(r));
		reply(d, KP_ERROR, NULL, 0, t);
		return;
	}
	ks_logf(t, "%sSEND_BLOCK 0x%08x -> ACK %s", d->name, addr,
	    ks_wr_name(r));
	ack(d, KP_CMD_SEND_BLOCK, pl, 1, t);
}

static void
do_request_block(struct ks_dev *d, const uint8_t *f, uint64_t t)
{
	uint8_t p[4 + KP_BLOCK_SIZE];
	/* data[1] is read even without a payload: then it is the CRC and
	 * the trailer of the request itself (command_dispatch copies the
	 * frame into a word array). */
	uint32_t addr = ks_rd32(f + 4);

	if (!ks_flash_in(&d->flash, addr, KP_BLOCK_SIZE)) {
		hard_fault(d, "REQUEST_BLOCK", addr, t);
		return;
	}
	ks_wr32(p, addr);
	ks_flash_read(&d->flash, addr, p + 4, KP_BLOCK_SIZE);
	ks_logf(t, "%sREQUEST_BLOCK 0x%08x -> ACK", d->name, addr);
	ack(d, KP_CMD_REQUEST_BLOCK, p, 1 + KP_BLOCK_SIZE / KP_WORD, t);
}

static void
do_eof(struct ks_dev *d, uint64_t t)
{
	struct ks_work w;
	uint8_t p[4];
	uint32_t pages = ks_flash_complete(&d->flash, t, &w);

	t = work_end(d, t, &w);
	d->free_at = t;
	ks_wr32(p, pages);
	ks_logf(t, "%sSEND_EOF -> ACK pages=%u", d->name, pages);
	ack(d, KP_CMD_SEND_EOF, p, 1, t);
}

static void
do_complete(struct ks_dev *d, uint64_t t)
{
	ks_logf(t, "%sCOMPLETE -> ACK", d->name);
	ack(d, KP_CMD_COMPLETE, NULL, 0, t);
	d->complete_at = t + COMPLETE_DELAY_NS;
}

static void
do_canbus_id(struct ks_dev *d, uint64_t t)
{
	uint8_t p[8] = { 0 };

	if (d->link != KS_LINK_CAN) {
		ks_logf(t, "%sGET_CANBUS_ID -> ERROR not-a-can-build",
		    d->name);
		reply(d, KP_ERROR, NULL, 0, t);
		return;
	}
	memcpy(p, d->uuid, sizeof(d->uuid));
	ks_logf(t, "%sGET_CANBUS_ID -> ACK %02x%02x%02x%02x%02x%02x",
	    d->name, d->uuid[0], d->uuid[1], d->uuid[2], d->uuid[3],
	    d->uuid[4], d->uuid[5]);
	ack(d, KP_CMD_GET_CANBUS_ID, p, 2, t);
}

/* Seeded faults on a good frame; 1 when one replaced the command. */
static int
injected(struct ks_dev *d, uint8_t cmd, uint64_t t)
{
	const char *n = cmd_name(cmd);
	uint8_t code = 0;
	const char *what = NULL;

	if (ks_rng_chance(&d->rng, d->fault.nack)) {
		code = KP_NACK;
		what = "NACK";
	} else if (ks_rng_chance(&d->rng, d->fault.error)) {
		code = KP_ERROR;
		what = "ERROR";
	} else if (ks_rng_chance(&d->rng, d->fault.busy)) {
		code = KP_BUSY;
		what = "BUSY";
	}
	if (code == 0)
		return 0;
	ks_logf(t, "%s%s%s0x%02x -> %s (injected)", d->name, n ? n : "",
	    n ? " " : "cmd=", cmd, what);
	reply(d, code, NULL, 0, t);
	return 1;
}

/* command_dispatch() for one good frame. */
static void
dispatch(struct ks_dev *d, const uint8_t *f, uint64_t t)
{
	uint8_t cmd = f[2];
	ks_emit_fn saved = NULL;

	d->frames_seen++;
	if (injected(d, cmd, t))
		return;
	if (ks_rng_chance(&d->rng, d->fault.lose_ack)) {
		/* Run the command, but its reply never arrives. */
		saved = d->emit;
		d->emit = NULL;
		ks_logf(t, "%sreply to %s lost (injected)", d->name,
		    cmd_name(cmd) ? cmd_name(cmd) : "?");
	}
	switch (cmd) {
	case KP_CMD_CONNECT:
		do_connect(d, t);
		break;
	case KP_CMD_SEND_BLOCK:
		do_send_block(d, f, t);
		break;
	case KP_CMD_SEND_EOF:
		do_eof(d, t);
		break;
	case KP_CMD_REQUEST_BLOCK:
		do_request_block(d, f, t);
		break;
	case KP_CMD_COMPLETE:
		do_complete(d, t);
		break;
	case KP_CMD_GET_CANBUS_ID:
		do_canbus_id(d, t);
		break;
	default:
		ks_logf(t, "%scmd=0x%02x -> ERROR unknown", d->name, cmd);
		reply(d, KP_ERROR, NULL, 0, t);
		break;
	}
	if (saved != NULL)
		d->emit = saved;
}

size_t
ks_dev_rx_room(const struct ks_dev *d)
{
	return d->rx.cap - d->rx.len;
}

size_t
ks_dev_input(struct ks_dev *d, const uint8_t *p, size_t n, uint64_t t)
{
	uint8_t frame[KP_FRAME_MAX];
	size_t taken, pop;
	int nack;

	if (d->run != KS_RUN_KATAPULT)
		return n;
	taken = ks_rx_push(&d->rx, p, n);
	if (taken < n)
		ks_logf(t, "%sRX overflow: %zu bytes dropped", d->name,
		    n - taken);
	if (t < d->free_at)
		t = d->free_at;
	while (!d->rx.wedged && d->run == KS_RUN_KATAPULT) {
		enum ks_find r;

		if (d->fault.wedge_after >= 0 &&
		    d->frames_seen >= d->fault.wedge_after) {
			d->rx.wedged = 1;
			ks_shout(t, "%sWEDGE (injected) after %ld frames",
			    d->name, d->frames_seen);
			break;
		}
		r = ks_rx_find(&d->rx, &pop, &nack);
		if (nack) {
			ks_logf(t, "%sNACK garbage=%zu", d->name, pop);
			reply(d, KP_NACK, NULL, 0, t);
		}
		if (r == KS_FIND_MORE)
			break;
		if (r == KS_FIND_ERROR) {
			if (d->rx.wedged) {
				ks_shout(t, "%sWEDGE the parser re-reads a bad "
				    "frame at 0x01 for ever (katapult.md "
				    "1.12); reset to recover", d->name);
				break;
			}
			ks_rx_pop(&d->rx, pop);
			continue;
		}
		memcpy(frame, d->rx.buf, pop);
		ks_rx_pop(&d->rx, pop);
		dispatch(d, frame, t);
		if (t < d->free_at)
			t = d->free_at;
	}
	return taken;
}

void
ks_dev_bootloader_request(struct ks_dev *d, uint64_t t)
{
	if (ks_flash_has_katapult(&d->flash)) {
		ks_logf(t, "%sBOOTLOADER_REQUEST -> katapult", d->name);
		d->run = KS_RUN_BOOTING;
		d->after_boot = KS_RUN_KATAPULT;
		d->boot_done = t + (uint64_t)d->boot_ms * NS_PER_MS;
		act(d, KS_ACT_DETACH, t);
		return;
	}
	/*
	 * Without Katapult: stm32 dfu_reboot() only in USB builds
	 * (STM32_DFU_ROM_ADDRESS is 0 without USB); the rp2040 always
	 * reboots into its USB boot ROM.
	 */
	if (d->m->family == KS_STM32 && d->link != KS_LINK_USB) {
		ks_logf(t, "%sBOOTLOADER_REQUEST -> ignored (no Katapult, no "
		    "USB: dfu_reboot() returns)", d->name);
		return;
	}
	ks_logf(t, "%sBOOTLOADER_REQUEST -> rom %04x:%04x (not simulated: "
	    "the device leaves this link)", d->name,
	    (unsigned)(d->m->dfu_vidpid >> 16),
	    (unsigned)(d->m->dfu_vidpid & 0xFFFF));
	d->run = KS_RUN_ROM;
	act(d, KS_ACT_DETACH, t);
}

void
ks_dev_app_input(struct ks_dev *d, const uint8_t *p, size_t n, uint64_t t)
{
	uint8_t nak[KL_FRAME_MIN];
	size_t naklen;

	if (d->run != KS_RUN_APP)
		return;
	while (n > 0 && d->run == KS_RUN_APP) {
		size_t k = kl_rx_push(&d->app_rx, p, n);
		enum kl_event e;

		p += k;
		n -= k;
		do {
			e = kl_rx_step(&d->app_rx, nak, &naklen);
			if (naklen > 0)
				emit(d, nak, naklen, t);
			/* Only serial_irq.c looks for it; usb_cdc.c
			 * drops it as any other garbage. */
			if (e == KL_REQUEST && d->link == KS_LINK_UART) {
				ks_logf(t, "%sREQUEST serial bootloader",
				    d->name);
				ks_dev_bootloader_request(d, t);
			}
		} while (e != KL_NONE && d->run == KS_RUN_APP);
		if (k == 0)
			break;
	}
}

void
ks_dev_usb_line(struct ks_dev *d, uint32_t rate, int dtr, uint64_t t)
{
	/* Katapult's own check_reboot() is empty. */
	if (d->run != KS_RUN_APP)
		return;
	if (rate == 1200 && !dtr) {
		ks_logf(t, "%sREQUEST usb 1200-baud touch", d->name);
		ks_dev_bootloader_request(d, t);
	}
}

uint64_t
ks_dev_next_timer(const struct ks_dev *d)
{
	if (d->run == KS_RUN_BOOTING)
		return d->boot_done;
	if (d->run == KS_RUN_KATAPULT && d->complete_at != 0)
		return d->complete_at;
	return 0;
}

static void
enter(struct ks_dev *d, enum ks_runstate r, uint64_t t)
{
	d->run = r;
	if (r == KS_RUN_KATAPULT)
		katapult_reset_state(d);
	if (r == KS_RUN_APP) {
		kl_rx_init(&d->app_rx);
		d->can_id = 0;
	}
	ks_logf(t, "%sBOOT %s", d->name, ks_run_name(r));
	if (r == KS_RUN_KATAPULT || r == KS_RUN_APP)
		act(d, KS_ACT_ATTACH, t);
}

void
ks_dev_run_timers(struct ks_dev *d, uint64_t now)
{
	if (d->run == KS_RUN_BOOTING && now >= d->boot_done) {
		enter(d, d->after_boot, d->boot_done);
		return;
	}
	if (d->run == KS_RUN_KATAPULT && d->complete_at != 0 &&
	    now >= d->complete_at) {
		uint64_t t = d->complete_at;

		d->complete_at = 0;
		/* application_jump(): reset with REQUEST_START_APP, which
		 * boots the app without checking it. */
		act(d, KS_ACT_DETACH, t);
		if (!ks_flash_app_valid(&d->flash)) {
			ks_shout(t, "%sAPP start with an invalid vector table: "
			    "hard fault", d->name);
			d->run = KS_RUN_DEAD;
			return;
		}
		ks_logf(t, "%sAPP start", d->name);
		d->run = KS_RUN_BOOTING;
		d->after_boot = KS_RUN_APP;
		d->boot_done = t + (uint64_t)d->boot_ms * NS_PER_MS;
	}
}

void
ks_dev_reset(struct ks_dev *d, int twice, uint64_t t)
{
	ks_logf(t, "%sRESET%s", d->name, twice ? " double" : "");
	act(d, KS_ACT_DETACH, t);
	d->complete_at = 0;
	d->run = KS_RUN_BOOTING;
	d->boot_done = t + (uint64_t)d->boot_ms * NS_PER_MS;
	if (twice && ks_flash_has_katapult(&d->flash))
		d->after_boot = KS_RUN_KATAPULT;
	else
		d->after_boot = power_on_state(d);
	if (d->after_boot == KS_RUN_DEAD)
		ks_logf(t, "%sno Katapult and no valid application: the MCU "
		    "will not start", d->name);
}
