/*
 * proto.c - the AN3155 command state machine.
 *
 * Each command handler reads its bytes in order and answers the way the
 * application note's device-side flow charts do.  Where AN3155 and
 * stm32flash disagree the note wins (Get Checksum framing).
 *
 * Invariants: one log line per command, written before its last reply
 * so a client that has its answer also finds the line; only Write Memory
 * and the two erase commands produce WRITE/ERASE/EXT_ERASE lines; after
 * a reset (0x63, 0x73, 0x82, 0x92, option-byte write) only 0x7F is heard,
 * unless the option bytes send the reset to the application (optbytes.c);
 * after Go nothing is heard until a client opens the port again.  With
 * a board (board.c) Go starts the application, which stays deaf until
 * NRST rises again with BOOT0 high; a client opening the port changes
 * nothing.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define RESULT_EXIT 1		/* handler asks the simulator to exit */
#define MAX_READ_LEN 256
#define MAX_WRITE_LEN 256
#define EXT_ERASE_SPECIAL 0xFFF0u	/* 0xFFF0..0xFFFF: special codes */
#define EXT_ERASE_MASS 0xFFFFu
#define EXT_ERASE_BANK1 0xFFFEu
#define EXT_ERASE_BANK2 0xFFFDu
#define LEGACY_ERASE_MASS 0xFF
/* AN3155 3.6: Write Memory takes multiples of 4 bytes at 4-byte
 * addresses; some flash wants more (facts.c align). */
#define WRITE_ALIGN 4
/* Option-byte programming after 0x63/0x73/0x82: of the order of a page
 * erase and a few half-word writes. */
#define OPT_PROGRAM_NS (25 * NS_PER_MS)

struct command {
	uint8_t code;
	const char *name;
	int rdp_ok;		/* allowed under readout protection */
	int (*fn)(struct sim *s);
};

static void
log_cmd(struct sim *s, const char *name, int ok, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
log_cmd(struct sim *s, const char *name, int ok, const char *fmt, ...)
{
	va_list ap;

	if (s->log == NULL)
		return;
	fprintf(s->log, "%llu %s",
	    (unsigned long long)((now_ns() - s->t0_ns) / NS_PER_MS), name);
	if (fmt != NULL && *fmt != '\0') {
		fputc(' ', s->log);
		va_start(ap, fmt);
		vfprintf(s->log, fmt, ap);
		va_end(ap);
	}
	fprintf(s->log, " -> %s\n", ok ? "ACK" : "NACK");
	fflush(s->log);
}

static int
rx(struct sim *s, uint8_t *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int r = link_getc(&s->link, &buf[i]);

		if (r != LINK_OK)
			return r;
	}
	return 0;
}

static int
reply(struct sim *s, const uint8_t *buf, size_t n, uint64_t work_ns)
{
	return link_reply(&s->link, buf, n, work_ns) == 0 ? 0 : LINK_STOP;
}

static int
send_byte(struct sim *s, uint8_t b, uint64_t work_ns)
{
	return reply(s, &b, 1, work_ns);
}

static int
ack(struct sim *s)
{
	return send_byte(s, BL_ACK, 0);
}

static int
nack(struct sim *s)
{
	return send_byte(s, BL_NACK, 0);
}

static uint8_t
xor_of(const uint8_t *buf, size_t n)
{
	uint8_t x = 0;

	while (n-- > 0)
		x ^= *buf++;
	return x;
}

/* Four address/size bytes (MSB first) and their XOR checksum. */
static int
rx_word(struct sim *s, uint32_t *v, int *ok)
{
	uint8_t b[5];
	int r = rx(s, b, sizeof(b));

	if (r != 0)
		return r;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
	*ok = xor_of(b, 4) == b[4];
	return 0;
}

/* The chip resets itself: the host must sync again with 0x7F. */
static void
chip_reset(struct sim *s, const char *why)
{
	log_cmd(s, "RESET", 1, "%s", why);
	s->state = ST_WAIT_SYNC;
}

/*
 * A command made the chip reset itself: its options are loaded again
 * and decide where it runs (optbytes.c); logged as a RESET line with
 * where it went.
 */
static void
self_reset(struct sim *s, const char *why)
{
	char boot[96];

	s->state = chip_ob_reset(s, boot, sizeof(boot));
	log_cmd(s, "RESET", 1, "%s -> %s%s%s", why,
	    s->state == ST_WAIT_SYNC ? "bootloader" : "application",
	    boot[0] ? " " : "", boot);
}

/* Growing text buffer for page lists in the log. */
struct strbuf {
	char *p;
	size_t len, cap;
};

static void
sb_add(struct strbuf *sb, const char *prefix, unsigned v)
{
	char tmp[32];
	int n = snprintf(tmp, sizeof(tmp), "%s%u", prefix, v);

	if (n < 0)
		return;
	if (sb->len + (size_t)n + 1 > sb->cap) {
		size_t cap = (sb->cap + (size_t)n + 1) * 2;
		char *p = realloc(sb->p, cap);

		if (p == NULL)
			return;
		sb->p = p;
		sb->cap = cap;
	}
	memcpy(sb->p + sb->len, tmp, (size_t)n + 1);
	sb->len += (size_t)n;
}

static const char *
sb_str(const struct strbuf *sb)
{
	return sb->p != NULL ? sb->p : "";
}

/*
 * Commands.
 */
static int
cmd_get(struct sim *s)
{
	uint8_t out[4 + 16];
	size_t n = 0;

	out[n++] = BL_ACK;
	out[n++] = s->model.ncmds;	/* bytes that follow, minus one */
	out[n++] = s->model.bl_version;
	memcpy(out + n, s->model.cmds, s->model.ncmds);
	n += s->model.ncmds;
	out[n++] = BL_ACK;
	log_cmd(s, "GET", 1, "v=0x%02x", s->model.bl_version);
	return reply(s, out, n, 0);
}

static int
cmd_get_version(struct sim *s)
{
	/* Version and two legacy option bytes, both 0 (AN3155 3.2). */
	uint8_t out[] = { BL_ACK, s->model.bl_version, 0x00, 0x00, BL_ACK };

	log_cmd(s, "GET_VERSION", 1, "v=0x%02x", s->model.bl_version);
	return reply(s, out, sizeof(out), 0);
}

static int
cmd_get_id(struct sim *s)
{
	uint16_t pid = s->opts->report_pid != 0 ?
	    (uint16_t)s->opts->report_pid : s->model.fact->pid;
	uint8_t out[] = { BL_ACK, 0x01, (uint8_t)(pid >> 8), (uint8_t)pid,
	    BL_ACK };

	log_cmd(s, "GET_ID", 1, "0x%03x", pid);
	return reply(s, out, sizeof(out), 0);
}

/*
 * --nack-storm: the command byte is accepted, its first frame refused,
 * as a failing flash or a corrupting line would; a refused command byte
 * would look like readout protection instead.
 */
static int
storm_nack(struct sim *s, const char *name, uint32_t addr)
{
	log_cmd(s, name, 0, "0x%08x nack-storm", addr);
	return nack(s);
}

static int
cmd_read(struct sim *s)
{
	uint8_t out[1 + MAX_READ_LEN];
	uint8_t nb[2];
	enum region reg;
	uint32_t addr, len;
	int ok, r;

	if ((r = ack(s)) != 0 || (r = rx_word(s, &addr, &ok)) != 0)
		return r;
	if (s->opts->nack_storm)
		return storm_nack(s, "READ", addr);
	if (!ok || mem_readable(&s->mem, addr, 1) == REG_NONE) {
		log_cmd(s, "READ", 0, "0x%08x %s", addr,
		    ok ? "no-memory" : "bad-checksum");
		return nack(s);
	}
	if ((r = ack(s)) != 0 || (r = rx(s, nb, 2)) != 0)
		return r;
	len = (uint32_t)nb[0] + 1;
	if ((nb[0] ^ nb[1]) != 0xFF) {
		log_cmd(s, "READ", 0, "0x%08x %u bad-checksum", addr, len);
		return nack(s);
	}
	reg = mem_readable(&s->mem, addr, len);
	if (reg == REG_NONE) {
		log_cmd(s, "READ", 0, "0x%08x %u no-memory", addr, len);
		return nack(s);
	}
	if (s->opts->has_unreadable && s->opts->unreadable >= addr &&
	    s->opts->unreadable - addr < len) {
		log_cmd(s, "READ", 0, "0x%08x %u unreadable", addr, len);
		return nack(s);
	}
	if (reg == REG_FLASH && s->mem.npending != 0)
		mem_pending_wait(&s->mem);
	out[0] = BL_ACK;
	mem_read(&s->mem, addr, out + 1, len);
	log_cmd(s, "READ", 1, "0x%08x %u", addr, len);
	return reply(s, out, 1 + len, 0);
}

static int
cmd_go(struct sim *s)
{
	enum region reg;
	uint32_t addr;
	int ok, r;

	if ((r = ack(s)) != 0 || (r = rx_word(s, &addr, &ok)) != 0)
		return r;
	reg = mem_readable(&s->mem, addr, 1);
	if (!ok || (reg != REG_FLASH && reg != REG_RAM)) {
		log_cmd(s, "GO", 0, "0x%08x %s", addr,
		    ok ? "no-code-memory" : "bad-checksum");
		return nack(s);
	}
	log_cmd(s, "GO", 1, "0x%08x", addr);
	if ((r = ack(s)) != 0)
		return r;
	/* Gone to the application: deaf until a client opens the port,
	 * or with a board until it resets the chip. */
	s->state = s->board.active ? ST_APP : ST_GONE;
	board_go(&s->board);
	return s->opts->exit_on_go ? RESULT_EXIT : 0;
}

static int
cmd_write(struct sim *s)
{
	uint8_t data[1 + MAX_WRITE_LEN + 1];
	enum region reg;
	uint32_t addr, len;
	int ok, r;

	if ((r = ack(s)) != 0 || (r = rx_word(s, &addr, &ok)) != 0)
		return r;
	if (s->opts->nack_storm)
		return storm_nack(s, "WRITE", addr);
	if (!ok || mem_writable(&s->mem, addr, 1) == REG_NONE) {
		log_cmd(s, "WRITE", 0, "0x%08x %s", addr,
		    ok ? "no-memory" : "bad-checksum");
		return nack(s);
	}
	if ((r = ack(s)) != 0 || (r = rx(s, data, 1)) != 0)
		return r;
	len = (uint32_t)data[0] + 1;
	if ((r = rx(s, data + 1, len + 1)) != 0)
		return r;
	if (xor_of(data, len + 1) != data[len + 1]) {
		log_cmd(s, "WRITE", 0, "0x%08x %u bad-checksum", addr, len);
		return nack(s);
	}
	if (addr % WRITE_ALIGN != 0 || len % WRITE_ALIGN != 0) {
		log_cmd(s, "WRITE", 0, "0x%08x %u unaligned", addr, len);
		return nack(s);
	}
	reg = mem_writable(&s->mem, addr, len);
	if (reg == REG_NONE) {
		log_cmd(s, "WRITE", 0, "0x%08x %u no-memory", addr, len);
		return nack(s);
	}
	if (reg == REG_FLASH && s->prog_locked) {
		log_cmd(s, "WRITE", 0, "0x%08x %u locked-after-unaligned",
		    addr, len);
		return nack(s);
	}
	if (reg == REG_FLASH && (addr % s->model.fact->align != 0 ||
	    len % s->model.fact->align != 0)) {
		/* AN2606 Table 7: F7 fails all later programs as well. */
		if (s->model.fact->rom & ROM_ALIGN_STICKY)
			s->prog_locked = 1;
		log_cmd(s, "WRITE", 0, "0x%08x %u unaligned-%u", addr, len,
		    (unsigned)s->model.fact->align);
		return nack(s);
	}
	if (reg == REG_OPT && s->opts->ob_reset_mid_write) {
		/* The fault: the chip resets before it programs anything,
		 * and the host never gets its ACK. */
		log_cmd(s, "WRITE", 0, "0x%08x %u reset-mid-write", addr, len);
		self_reset(s, "cmd=0x31 option-bytes reset-mid-write");
		return 0;
	}
	mem_write(&s->mem, addr, data + 1, len);
	log_cmd(s, "WRITE", 1, "0x%08x %u", addr, len);
	if (reg == REG_OPT) {
		/* New option bytes take effect through a system reset. */
		r = send_byte(s, BL_ACK, OPT_PROGRAM_NS);
		self_reset(s, "cmd=0x31 option-bytes");
		return r;
	}
	return send_byte(s, BL_ACK, reg == REG_FLASH ?
	    model_prog_ns(&s->model, len) : 0);
}

/* Every page names a unit the ROM can erase (not the secure area). */
static int
check_pages(struct sim *s, const uint32_t *pages, size_t n)
{
	uint32_t start, size;
	size_t i;

	for (i = 0; i < n; i++)
		if (mem_unit(&s->mem, pages[i], &start, &size) != 0)
			return 0;
	return 1;
}

/*
 * Erase the listed units; returns the flash busy time.  A ROM that
 * acknowledges early (ROM_ERASE_EARLY_ACK) leaves the erases running:
 * they end one after the other from now, and the ACK goes out at once.
 */
static uint64_t
erase_pages(struct sim *s, const uint32_t *pages, size_t n,
    struct strbuf *sb)
{
	int early = (s->model.fact->rom & ROM_ERASE_EARLY_ACK) != 0;
	uint64_t t = 0, now = now_ns();
	uint32_t start, size;
	size_t i;

	sb_add(sb, "pages=", n > 0 ? pages[0] : 0);
	for (i = 0; i < n; i++) {
		if (early) {
			if (mem_unit(&s->mem, pages[i], &start, &size) == 0)
				t += model_erase_ns(&s->model, size);
			(void)mem_pending_add(&s->mem, pages[i], now + t);
		} else {
			size = mem_erase_unit(&s->mem, pages[i]);
			t += model_erase_ns(&s->model, size);
		}
		if (i > 0)
			sb_add(sb, ",", pages[i]);
	}
	if (early)
		sb_add(sb, " early-ack ms=", (unsigned)(t / NS_PER_MS));
	return early ? 0 : t;
}

/*
 * ROM_BANK2_ONE_PAGE: listing several pages of which one is in bank 2
 * makes the ROM fail after the first bank-2 page (AN2606 G0B0/G0B1
 * limitations).  Erases the pages up to and including that one; returns
 * how many were in the list before the failure, or n when the list is
 * fine.
 */
static size_t
bank2_one_page_cut(struct sim *s, const uint32_t *pages, size_t n)
{
	size_t i;

	if (!(s->model.fact->rom & ROM_BANK2_ONE_PAGE) || n < 2)
		return n;
	for (i = 0; i < n; i++)
		if (mem_page_bank(&s->mem, pages[i]) == 2)
			return i + 1 < n ? i + 1 : n;
	return n;
}

static int
cmd_erase(struct sim *s)
{
	uint8_t buf[1 + 256 + 1];
	uint32_t pages[256];
	struct strbuf sb = { 0 };
	uint64_t t;
	size_t n, i;
	int r;

	if ((r = ack(s)) != 0 || (r = rx(s, buf, 1)) != 0)
		return r;
	if (buf[0] == LEGACY_ERASE_MASS) {
		if ((r = rx(s, buf + 1, 1)) != 0)
			return r;
		if (s->opts->nack_storm)
			return storm_nack(s, "ERASE", 0);
		if ((s->model.fact->rom & ROM_NO_MASS_ERASE) &&
		    buf[1] == 0x00) {
			log_cmd(s, "ERASE", 0, "mass no-mass-erase");
			return nack(s);
		}
		/* AN3155 3.7: 0xFF, then not 0x00: ACK, nothing erased. */
		if (buf[1] != 0x00) {
			log_cmd(s, "ERASE", 1, "none(0xff 0x%02x)", buf[1]);
			return ack(s);
		}
		mem_erase_all(&s->mem, 0);
		log_cmd(s, "ERASE", 1, "mass");
		return send_byte(s, BL_ACK, s->model.mass_erase_ns);
	}
	n = (size_t)buf[0] + 1;
	if ((r = rx(s, buf + 1, n + 1)) != 0)
		return r;
	for (i = 0; i < n; i++)
		pages[i] = buf[1 + i];
	if (s->opts->nack_storm)
		return storm_nack(s, "ERASE", 0);
	if (xor_of(buf, n + 1) != buf[n + 1] || !check_pages(s, pages, n)) {
		log_cmd(s, "ERASE", 0, "count=%zu %s", n,
		    xor_of(buf, n + 1) != buf[n + 1] ? "bad-checksum" :
		    "no-such-page");
		return nack(s);
	}
	t = erase_pages(s, pages, n, &sb);
	log_cmd(s, "ERASE", 1, "%s", sb_str(&sb));
	free(sb.p);
	return send_byte(s, BL_ACK, t);
}

/* Erase one bank of a dual-bank chip; 0 when the chip has one bank. */
static int
erase_bank(struct sim *s, int bank, uint64_t *t)
{
	uint32_t i;

	if (fact_nbanks(s->mem.banks) < 2)
		return 0;
	*t = 0;
	for (i = 0; i < s->mem.nunits; i++)
		if (mem_page_bank(&s->mem, s->mem.units[i].page) == bank)
			*t += model_erase_ns(&s->model,
			    mem_erase_unit(&s->mem, s->mem.units[i].page));
	return 1;
}

static int
ext_erase_special(struct sim *s, uint16_t code, uint8_t cs)
{
	uint64_t t = s->model.mass_erase_ns;
	int bank;

	if (((code >> 8) ^ (code & 0xFF)) != cs) {
		log_cmd(s, "EXT_ERASE", 0, "0x%04x bad-checksum", code);
		return nack(s);
	}
	if ((s->model.fact->rom & ROM_NO_MASS_ERASE) &&
	    (code == EXT_ERASE_MASS || code == EXT_ERASE_BANK1 ||
	    code == EXT_ERASE_BANK2)) {
		log_cmd(s, "EXT_ERASE", 0, "0x%04x no-mass-erase", code);
		return nack(s);
	}
	if (code == EXT_ERASE_MASS) {
		mem_erase_all(&s->mem, 0);
		log_cmd(s, "EXT_ERASE", 1, "mass");
		return send_byte(s, BL_ACK, t);
	}
	if (code == EXT_ERASE_BANK1 || code == EXT_ERASE_BANK2) {
		bank = code == EXT_ERASE_BANK1 ? 1 : 2;
		if (!erase_bank(s, bank, &t)) {
			log_cmd(s, "EXT_ERASE", 0, "bank%d single-bank-chip",
			    bank);
			return nack(s);
		}
		log_cmd(s, "EXT_ERASE", 1, "bank%d", bank);
		return send_byte(s, BL_ACK, t);
	}
	log_cmd(s, "EXT_ERASE", 0, "0x%04x reserved", code);
	return nack(s);
}

static int
cmd_ext_erase(struct sim *s)
{
	struct strbuf sb = { 0 };
	uint8_t hdr[2], cs;
	uint8_t *buf = NULL;
	uint32_t *pages = NULL;
	uint16_t code;
	size_t n, i, k;
	uint64_t t;
	int r;

	if ((r = ack(s)) != 0 || (r = rx(s, hdr, 2)) != 0)
		return r;
	code = (uint16_t)(hdr[0] << 8 | hdr[1]);
	if (code >= EXT_ERASE_SPECIAL) {
		if ((r = rx(s, &cs, 1)) != 0)
			return r;
		if (s->opts->nack_storm)
			return storm_nack(s, "EXT_ERASE", 0);
		return ext_erase_special(s, code, cs);
	}
	n = (size_t)code + 1;
	buf = malloc(2 * n + 1);
	pages = malloc(n * sizeof(*pages));
	if (buf == NULL || pages == NULL) {
		r = LINK_STOP;
		goto out;
	}
	if ((r = rx(s, buf, 2 * n + 1)) != 0)
		goto out;
	for (i = 0; i < n; i++)
		pages[i] = (uint32_t)buf[2 * i] << 8 | buf[2 * i + 1];
	if (s->opts->nack_storm) {
		r = storm_nack(s, "EXT_ERASE", 0);
		goto out;
	}
	cs = (uint8_t)(hdr[0] ^ hdr[1] ^ xor_of(buf, 2 * n));
	if (cs != buf[2 * n] || n > s->mem.nunits ||
	    !check_pages(s, pages, n)) {
		log_cmd(s, "EXT_ERASE", 0, "count=%zu %s", n,
		    cs != buf[2 * n] ? "bad-checksum" : "no-such-page");
		r = nack(s);
		goto out;
	}
	k = bank2_one_page_cut(s, pages, n);
	t = erase_pages(s, pages, k, &sb);
	if (k < n) {
		log_cmd(s, "EXT_ERASE", 0, "%s then bank2-multi-page-fail "
		    "count=%zu", sb_str(&sb), n);
		r = send_byte(s, BL_NACK, t);
		goto out;
	}
	log_cmd(s, "EXT_ERASE", 1, "%s", sb_str(&sb));
	r = send_byte(s, BL_ACK, t);
out:
	free(sb.p);
	free(buf);
	free(pages);
	return r;
}

static int
cmd_write_protect(struct sim *s)
{
	uint8_t buf[1 + 256 + 1];
	struct strbuf sb = { 0 };
	size_t n, i;
	int r;

	if ((r = ack(s)) != 0 || (r = rx(s, buf, 1)) != 0)
		return r;
	n = (size_t)buf[0] + 1;
	if ((r = rx(s, buf + 1, n + 1)) != 0)
		return r;
	if (xor_of(buf, n + 1) != buf[n + 1]) {
		log_cmd(s, "WRITE_PROTECT", 0, "count=%zu bad-checksum", n);
		return nack(s);
	}
	/* AN3155 3.9: the new list replaces the old one; codes unchecked. */
	memset(s->mem.wrp, 0, s->mem.nwrp);
	for (i = 0; i < n; i++) {
		if (buf[1 + i] < s->mem.nwrp)
			s->mem.wrp[buf[1 + i]] = 1;
		sb_add(&sb, i ? "," : "sectors=", buf[1 + i]);
	}
	log_cmd(s, "WRITE_PROTECT", 1, "%s", sb_str(&sb));
	free(sb.p);
	r = send_byte(s, BL_ACK, OPT_PROGRAM_NS);
	self_reset(s, "cmd=0x63");
	return r;
}

static int
cmd_write_unprotect(struct sim *s)
{
	int r;

	if ((r = ack(s)) != 0)
		return r;
	memset(s->mem.wrp, 0, s->mem.nwrp);
	chip_ob_write_unprotect(s);
	log_cmd(s, "WRITE_UNPROTECT", 1, NULL);
	r = send_byte(s, BL_ACK, OPT_PROGRAM_NS);
	self_reset(s, "cmd=0x73");
	return r;
}

static int
cmd_readout_protect(struct sim *s)
{
	int r;

	if ((r = ack(s)) != 0)
		return r;
	s->rdp = 1;
	chip_ob_set_rdp(s, 1);
	log_cmd(s, "READOUT_PROTECT", 1, NULL);
	r = send_byte(s, BL_ACK, OPT_PROGRAM_NS);
	self_reset(s, "cmd=0x82");
	return r;
}

static int
cmd_readout_unprotect(struct sim *s)
{
	int r;

	if ((r = ack(s)) != 0)
		return r;
	/* Whole flash and RAM are wiped before RDP drops (AN3155 v2.2). */
	mem_erase_all(&s->mem, 1);
	mem_clear_ram(&s->mem);
	s->rdp = 0;
	chip_ob_set_rdp(s, 0);
	log_cmd(s, "READOUT_UNPROTECT", 1, NULL);
	r = send_byte(s, BL_ACK, s->model.mass_erase_ns);
	self_reset(s, "cmd=0x92");
	return r;
}

/*
 * The end of Get Checksum: acks ACK bytes, then the CRC of [addr,
 * addr+len) from init (MSB first) and the XOR of its four bytes.
 */
static int
checksum_reply(struct sim *s, uint32_t addr, uint32_t len, uint32_t init,
    size_t acks, const char *note)
{
	uint8_t out[7];
	uint8_t *buf = malloc(len);
	uint32_t crc;
	size_t i;

	if (buf == NULL)
		return LINK_STOP;
	mem_read(&s->mem, addr, buf, len);
	crc = sim_crc32_stm(init, buf, len);
	free(buf);
	for (i = 0; i < acks; i++)
		out[i] = BL_ACK;
	out[acks] = (uint8_t)(crc >> 24);
	out[acks + 1] = (uint8_t)(crc >> 16);
	out[acks + 2] = (uint8_t)(crc >> 8);
	out[acks + 3] = (uint8_t)crc;
	out[acks + 4] = xor_of(out + acks, 4);
	log_cmd(s, "GET_CHECKSUM", 1, "0x%08x %u crc=0x%08x%s", addr, len,
	    crc, note);
	return reply(s, out, acks + 5, 0);
}

/*
 * The rest of Get Checksum as stm32flash 0.7 sends it (--checksum-bytes):
 * the size in bytes (a multiple of 4), ACK; then, once computed, ACK,
 * the CRC (MSB first) and the XOR of its four bytes.  The CRC starts from
 * 0xFFFFFFFF.
 */
static int
checksum_bytes_rest(struct sim *s, uint32_t addr, uint32_t len, int ok)
{
	if (!ok || len == 0 || len % 4 != 0 ||
	    mem_readable(&s->mem, addr, len) == REG_NONE) {
		log_cmd(s, "GET_CHECKSUM", 0, "0x%08x bytes=%u %s", addr,
		    len, ok ? "bad-size" : "bad-checksum");
		return nack(s);
	}
	return checksum_reply(s, addr, len, SIM_CRC_INIT, 2,
	    " bytes-framing");
}

/*
 * Get Checksum, AN3155 rev 20 section 3.13: address + XOR, size in 32-bit
 * words + XOR, polynomial + XOR, initial value + XOR, each answered with
 * ACK; then ACK, the CRC (MSB first) and the XOR of its four bytes.  The
 * polynomial is ignored (as ROMs that cannot change it do); the initial
 * value is honoured.
 */
static int
cmd_get_checksum(struct sim *s)
{
	uint32_t addr, words, poly, init, len;
	int ok, r;

	if ((r = ack(s)) != 0 || (r = rx_word(s, &addr, &ok)) != 0)
		return r;
	if (!ok || addr % 4 != 0 ||
	    mem_readable(&s->mem, addr, 4) == REG_NONE) {
		log_cmd(s, "GET_CHECKSUM", 0, "0x%08x %s", addr,
		    ok ? "bad-address" : "bad-checksum");
		return nack(s);
	}
	if ((r = ack(s)) != 0 || (r = rx_word(s, &words, &ok)) != 0)
		return r;
	if (s->model.checksum_bytes)
		return checksum_bytes_rest(s, addr, words, ok);
	len = words * 4;
	if (!ok || words == 0 || words > UINT32_MAX / 4 ||
	    mem_readable(&s->mem, addr, len) == REG_NONE) {
		log_cmd(s, "GET_CHECKSUM", 0, "0x%08x words=%u %s", addr,
		    words, ok ? "bad-size" : "bad-checksum");
		return nack(s);
	}
	if ((r = ack(s)) != 0 || (r = rx_word(s, &poly, &ok)) != 0)
		return r;
	if (!ok) {
		log_cmd(s, "GET_CHECKSUM", 0, "0x%08x %u bad-poly-checksum",
		    addr, len);
		return nack(s);
	}
	if ((r = ack(s)) != 0 || (r = rx_word(s, &init, &ok)) != 0)
		return r;
	if (!ok) {
		log_cmd(s, "GET_CHECKSUM", 0, "0x%08x %u bad-init-checksum",
		    addr, len);
		return nack(s);
	}
	if ((r = ack(s)) != 0)
		return r;
	return checksum_reply(s, addr, len, init, 1,
	    poly != SIM_CRC_POLY ? " poly-ignored" : "");
}

static const struct command commands[] = {
	{ CMD_GET, "GET", 1, cmd_get },
	{ CMD_GET_VERSION, "GET_VERSION", 1, cmd_get_version },
	{ CMD_GET_ID, "GET_ID", 1, cmd_get_id },
	{ CMD_READ, "READ", 0, cmd_read },
	{ CMD_GO, "GO", 0, cmd_go },
	{ CMD_WRITE, "WRITE", 0, cmd_write },
	{ CMD_ERASE, "ERASE", 0, cmd_erase },
	{ CMD_EXT_ERASE, "EXT_ERASE", 0, cmd_ext_erase },
	{ CMD_WRITE_PROTECT, "WRITE_PROTECT", 0, cmd_write_protect },
	{ CMD_WRITE_UNPROTECT, "WRITE_UNPROTECT", 0,
	    cmd_write_unprotect },
	{ CMD_READOUT_PROTECT, "READOUT_PROTECT", 0,
	    cmd_readout_protect },
	{ CMD_READOUT_UNPROTECT, "READOUT_UNPROTECT", 1,
	    cmd_readout_unprotect },
	{ CMD_GET_CHECKSUM, "GET_CHECKSUM", 0, cmd_get_checksum },
};

static int
do_command(struct sim *s)
{
	const struct command *cmd = NULL;
	uint8_t c[2];
	size_t i;
	int r;

	if ((r = rx(s, c, 2)) != 0)
		return r;
	mem_pending_settle(&s->mem);
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].code == c[0])
			cmd = &commands[i];
	if ((c[0] ^ c[1]) != 0xFF || cmd == NULL ||
	    !model_has_cmd(&s->model, c[0])) {
		log_cmd(s, "UNKNOWN", 0, "0x%02x 0x%02x", c[0], c[1]);
		return nack(s);
	}
	/* Refusals answer the command byte itself (AN3155 3, RDP note). */
	if (s->rdp && !cmd->rdp_ok) {
		log_cmd(s, cmd->name, 0, "rdp");
		return nack(s);
	}
	if (rng_chance(&s->rng, s->opts->nack)) {
		log_cmd(s, cmd->name, 0, "injected");
		return nack(s);
	}
	return cmd->fn(s);
}

static int
wait_sync(struct sim *s)
{
	static const uint8_t two_acks[] = { BL_ACK, BL_ACK };
	uint8_t c;
	int r;

	/* Before sync the ROM only listens for the 0x7F autobaud frame. */
	do {
		if ((r = link_getc(&s->link, &c)) != LINK_OK)
			return r;
	} while (c != BL_SYNC);
	/* A sync only follows a reset: a locked flash interface is free. */
	s->prog_locked = 0;
	s->state = ST_READY;
	if (s->model.fact->rom & ROM_DOUBLE_ACK) {
		log_cmd(s, "SYNC", 1, "double-ack");
		return reply(s, two_acks, sizeof(two_acks), 0);
	}
	log_cmd(s, "SYNC", 1, NULL);
	return ack(s);
}

int
proto_run(struct sim *s)
{
	for (;;) {
		uint8_t c;
		int r = 0;

		switch (s->state) {
		case ST_WAIT_SYNC:
			r = wait_sync(s);
			break;
		case ST_READY:
			r = do_command(s);
			break;
		case ST_GONE:
		case ST_APP:
		case ST_HELD:
			r = link_getc(&s->link, &c);
			break;
		}
		if (r == LINK_STOP || r == RESULT_EXIT)
			return 0;
		/* The board reset the chip or let it run: start over. */
		if (r == LINK_BOARD) {
			s->state = s->board.run == RUN_BOOTLOADER ?
			    ST_WAIT_SYNC : s->board.run == RUN_APP ? ST_APP :
			    ST_HELD;
			continue;
		}
		/*
		 * A new client: a half-received command is dropped (so a
		 * killed client cannot wedge the next one), and a chip that
		 * left through Go is back in the bootloader, as after a reset
		 * with BOOT0 held.
		 */
		if (r == LINK_NEWCLIENT && s->state == ST_GONE &&
		    chip_ob_new_client(s) == ST_WAIT_SYNC)
			chip_reset(s, "new-client");
	}
}
