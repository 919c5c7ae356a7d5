/*
 * usart/an3155.c - pure framing, parsing and timing helpers for the STM32 USART
 * bootloader protocol (ST AN3155).  No I/O, no context: every function
 * here is a table-testable transformation (test/unit/test_an3155.c).
 *
 * Invariants: a frame builder never emits a field that does not fit the
 * command's wire format (it refuses instead of truncating, unlike the
 * legacy-erase path of some tools); timeouts are worst cases taken from
 * datasheet flash characteristics, documented next to each constant.
 */
#include <string.h>

#include "an3155.h"

/*
 * Erase timing, worst case (datasheet "Flash memory characteristics"):
 *  - STM32F405/407 (DS8626): sector erase at x8 parallelism 16 KiB 800 ms,
 *    64 KiB 2.4 s, 128 KiB 4 s; at x32 half of that.  The ROM's choice
 *    of parallelism is not known to us, so the x8 column applies:
 *    at most 50 ms per KiB (16 KiB: 800 ms; 128 KiB: 6.4 s > 4 s).
 *  - STM32F103 (DS5319): 1 KiB page 40 ms max (< 50 ms per KiB).
 *  - STM32G0/G4/L4 2 KiB pages: 40 ms max (< 100 ms).
 *  - L0/L1 128/256-byte pages: 3.3 ms max; the floor below covers them.
 * Mass erase: F405/407 1 MiB 16 s at x8, F42x/F43x 2 MiB up to 32 s:
 * 16 ms per KiB; small parts (F1: 40 ms) get the floor.
 */
#define ERASE_MS_PER_KIB 50u
#define ERASE_UNIT_MIN_MS 20u
#define ERASE_CMD_MARGIN_MS 1000u
#define MASS_ERASE_MS_PER_KIB 16u
#define MASS_ERASE_MIN_MS 2000u
#define MASS_ERASE_MARGIN_MS 2000u

/* Cortex-M system control (ARMv6-M/ARMv7-M ARM, B3.2.6 AIRCR). */
#define AIRCR_ADDR 0xE000ED0Cu
#define AIRCR_VECTKEY_SYSRESETREQ 0x05FA0004u	/* VECTKEY 0x05FA, bit 2 */
/* STM32F0 embedded flash (RM0360 section 3.5): FLASH_KEYR at +0x04,
 * FLASH_CR at +0x10 with LOCK bit 7 and OBL_LAUNCH bit 13. */
#define F0_FLASH_BASE 0x40022000u
#define F0_FLASH_KEY1 0x45670123u
#define F0_FLASH_KEY2 0xCDEF89ABu

uint8_t
ft_an_xor(const uint8_t *p, size_t len)
{
	uint8_t x = 0;

	while (len-- > 0)
		x ^= *p++;
	return x;
}

void
ft_an_cmd_frame(uint8_t out[AN_CMD_FRAME_LEN], uint8_t cmd)
{
	out[0] = cmd;
	out[1] = (uint8_t)~cmd;
}

void
ft_an_u32_frame(uint8_t out[AN_ADDR_FRAME_LEN], uint32_t value)
{
	ft_put_be32(out, value);
	out[4] = ft_an_xor(out, 4);
}

int
ft_an_read_len_frame(uint8_t out[AN_READ_LEN_FRAME_LEN], uint32_t len)
{
	if (len < 1 || len > AN_MAX_READ)
		return FT_E_INVALID;
	out[0] = (uint8_t)(len - 1);
	out[1] = (uint8_t)~out[0];
	return 0;
}

int
ft_an_write_frame(uint8_t *out, const uint8_t *data, uint32_t len)
{
	if (len < 4 || len > AN_MAX_WRITE || len % 4 != 0)
		return FT_E_INVALID;
	out[0] = (uint8_t)(len - 1);
	memcpy(out + 1, data, len);
	out[1 + len] = ft_an_xor(out, 1 + len);
	return (int)len + 2;
}

int
ft_an_erase_frame(uint8_t *out, const uint32_t *pages, size_t n, uint32_t *bad)
{
	size_t i;

	if (n < 1 || n > AN_ERASE_MAX_PAGES) {
		if (bad)
			*bad = (uint32_t)n;
		return FT_E_NOT_SUPPORTED;
	}
	for (i = 0; i < n; i++) {
		if (pages[i] > AN_ERASE_MAX_PAGE_NO) {
			if (bad)
				*bad = pages[i];
			return FT_E_NOT_SUPPORTED;
		}
	}
	out[0] = (uint8_t)(n - 1);
	for (i = 0; i < n; i++)
		out[1 + i] = (uint8_t)pages[i];
	out[1 + n] = ft_an_xor(out, 1 + n);
	return (int)n + 2;
}

void
ft_an_erase_all_frame(uint8_t out[2])
{
	out[0] = 0xFF;
	out[1] = 0x00;
}

int
ft_an_ext_erase_frame(uint8_t *out, const uint32_t *pages, size_t n,
    uint32_t *bad)
{
	size_t i;

	if (n < 1 || n > AN_EXT_ERASE_MAX_PAGES) {
		if (bad)
			*bad = (uint32_t)n;
		return FT_E_NOT_SUPPORTED;
	}
	for (i = 0; i < n; i++) {
		if (pages[i] > AN_EXT_ERASE_MAX_PAGE_NO) {
			if (bad)
				*bad = pages[i];
			return FT_E_NOT_SUPPORTED;
		}
	}
	out[0] = (uint8_t)((n - 1) >> 8);
	out[1] = (uint8_t)(n - 1);
	for (i = 0; i < n; i++) {
		out[2 + 2 * i] = (uint8_t)(pages[i] >> 8);
		out[3 + 2 * i] = (uint8_t)pages[i];
	}
	out[2 + 2 * n] = ft_an_xor(out, 2 + 2 * n);
	return (int)(2 * n) + 3;
}

void
ft_an_ext_erase_special_frame(uint8_t out[3], uint16_t code)
{
	out[0] = (uint8_t)(code >> 8);
	out[1] = (uint8_t)code;
	out[2] = (uint8_t)(out[0] ^ out[1]);
}

int
ft_an_wp_frame(uint8_t *out, const uint32_t *sectors, size_t n, uint32_t *bad)
{
	size_t i;

	if (n < 1 || n > AN_WP_MAX_SECTORS) {
		if (bad)
			*bad = (uint32_t)n;
		return FT_E_NOT_SUPPORTED;
	}
	for (i = 0; i < n; i++) {
		if (sectors[i] > AN_WP_MAX_SECTOR_NO) {
			if (bad)
				*bad = sectors[i];
			return FT_E_NOT_SUPPORTED;
		}
	}
	out[0] = (uint8_t)(n - 1);
	for (i = 0; i < n; i++)
		out[1 + i] = (uint8_t)sectors[i];
	out[1 + n] = ft_an_xor(out, 1 + n);
	return (int)n + 2;
}

size_t
ft_an_erase_take(const struct ft_erase_unit *units, size_t n,
    const struct an_erase_rules *rules)
{
	size_t k, limit = n < rules->max ? n : rules->max;

	if (n == 0)
		return 0;
	if (rules->one_each || units[0].addr >= rules->alone_from)
		return 1;
	for (k = 1; k < limit && units[k].addr < rules->alone_from; k++)
		;
	return k;
}

static uint32_t
unit_erase_ms(uint32_t size)
{
	uint64_t ms = ((uint64_t)size * ERASE_MS_PER_KIB + 1023) / 1024;

	if (ms < ERASE_UNIT_MIN_MS)
		ms = ERASE_UNIT_MIN_MS;
	return (uint32_t)ms;
}

uint32_t
ft_an_erase_timeout_ms(const struct ft_erase_unit *units, size_t n)
{
	uint64_t ms = ERASE_CMD_MARGIN_MS;
	size_t i;

	for (i = 0; i < n; i++)
		ms += unit_erase_ms(units[i].size);
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

uint32_t
ft_an_mass_erase_timeout_ms(uint64_t flash_bytes)
{
	uint64_t ms = (flash_bytes * MASS_ERASE_MS_PER_KIB + 1023) / 1024;

	if (ms < MASS_ERASE_MIN_MS)
		ms = MASS_ERASE_MIN_MS;
	ms += MASS_ERASE_MARGIN_MS;
	return ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
}

int
ft_an_parse_get(const uint8_t *body, size_t len, struct an_get *out)
{
	size_t n, i;

	memset(out, 0, sizeof(*out));
	/* body[0] = N = number of bytes that follow minus one; they are
	 * the version and N command codes. */
	if (len < 2)
		return FT_E_PROTOCOL;
	n = body[0];
	if (len != n + 2)
		return FT_E_PROTOCOL;
	out->version = body[1];
	for (i = 0; i < n; i++) {
		uint8_t c = body[2 + i];

		if (out->ncmds < sizeof(out->cmds))
			out->cmds[out->ncmds++] = c;
		if (c == AN_CMD_EXT_ERASE)
			out->erase_cmd = AN_CMD_EXT_ERASE;
		else if (c == AN_CMD_ERASE &&
		    out->erase_cmd != AN_CMD_EXT_ERASE)
			out->erase_cmd = AN_CMD_ERASE;
		else if (c == AN_CMD_GET_CHECKSUM)
			out->has_checksum = 1;
	}
	return 0;
}

int
ft_an_has_cmd(const struct an_get *g, uint8_t cmd)
{
	size_t i;

	for (i = 0; i < g->ncmds; i++)
		if (g->cmds[i] == cmd)
			return 1;
	return 0;
}

int
ft_an_parse_get_id(const uint8_t *body, size_t len, uint16_t *pid)
{
	if (len < 3 || len != (size_t)body[0] + 2)
		return FT_E_PROTOCOL;
	*pid = (uint16_t)((body[1] << 8) | body[2]);
	return 0;
}

int
ft_an_read_burst(uint8_t out[AN_READ_BURST_LEN], uint32_t addr, uint32_t len)
{
	if (ft_an_read_len_frame(out + AN_CMD_FRAME_LEN + AN_ADDR_FRAME_LEN,
	    len) != 0)
		return FT_E_INVALID;
	ft_an_cmd_frame(out, AN_CMD_READ);
	ft_an_u32_frame(out + AN_CMD_FRAME_LEN, addr);
	return 0;
}

int
ft_an_write_burst(uint8_t *out, uint32_t addr, const uint8_t *data,
    uint32_t len)
{
	int n = ft_an_write_frame(out + AN_CMD_FRAME_LEN + AN_ADDR_FRAME_LEN,
	    data, len);

	if (n < 0)
		return n;
	ft_an_cmd_frame(out, AN_CMD_WRITE);
	ft_an_u32_frame(out + AN_CMD_FRAME_LEN, addr);
	return AN_CMD_FRAME_LEN + AN_ADDR_FRAME_LEN + n;
}

/*
 * Could cmd, taken by mistake, change the chip?  Queries only answer.
 * The commands AN3155 defines count even when Get does not list them: a
 * ROM may accept more than it lists (the special commands 0x50/0x51 are
 * one case).
 */
static int
changes_chip(const struct an_get *g, uint8_t cmd)
{
	static const uint8_t acting[] = {
		AN_CMD_GO, AN_CMD_WRITE, AN_CMD_ERASE, AN_CMD_EXT_ERASE,
		AN_CMD_SPECIAL, AN_CMD_EXT_SPECIAL, AN_CMD_WRITE_PROTECT,
		AN_CMD_WRITE_UNPROTECT, AN_CMD_READOUT_PROTECT,
		AN_CMD_READOUT_UNPROTECT,
	};
	size_t i;

	if (cmd == AN_CMD_GET || cmd == AN_CMD_GET_VERSION ||
	    cmd == AN_CMD_GET_ID || cmd == AN_CMD_READ ||
	    cmd == AN_CMD_GET_CHECKSUM)
		return 0;
	for (i = 0; i < sizeof(acting); i++)
		if (acting[i] == cmd)
			return 1;
	return g != NULL && ft_an_has_cmd(g, cmd);
}

int
ft_an_burst_risky(const struct an_get *g, const uint8_t *burst, size_t n)
{
	size_t i;

	/* burst[0..1] is the command itself: a refused one is no risk. */
	for (i = 1; i + 1 < n; i++)
		if ((uint8_t)(burst[i] ^ burst[i + 1]) == 0xFF &&
		    changes_chip(g, burst[i]))
			return 1;
	return 0;
}

int
ft_an_crc_frames(uint8_t out[AN_CRC_PARAM_FRAMES][AN_ADDR_FRAME_LEN],
    uint32_t addr, uint32_t len)
{
	if (addr % 4 != 0 || len % 4 != 0 || len == 0)
		return FT_E_INVALID;
	ft_an_u32_frame(out[0], addr);
	ft_an_u32_frame(out[1], len / 4);
	ft_an_u32_frame(out[2], AN_CRC_POLY);
	ft_an_u32_frame(out[3], AN_CRC_INIT);
	return 0;
}

int
ft_an_parse_crc_reply(const uint8_t b[AN_CRC_REPLY_LEN], uint32_t *crc)
{
	if (b[0] == AN_NACK)
		return FT_E_NACK;
	if (b[0] != AN_ACK || ft_an_xor(b + 1, 4) != b[5])
		return FT_E_PROTOCOL;
	*crc = ft_get_be32(b + 1);
	return 0;
}

/*
 * The routines as Thumb halfwords followed by their literal pool, hand
 * assembled (ARMv6-M encodings, checked with llvm-mc -triple
 * thumbv6m-none-eabi).  Each LDR-literal offset is relative to the
 * word-aligned PC of that instruction; the code starts word aligned.
 */
struct thumb_routine {
	const uint16_t *code;
	size_t ncode;		/* halfwords, even: the pool stays aligned */
	const uint32_t *pool;
	size_t npool;
};

/* 0: ldr r0,[pc,#8] (AIRCR)  2: ldr r1,[pc,#12] (key)  4: str r1,[r0]
 * 6: dsb sy  10: b .  12: pool */
static const uint16_t plain_code[] = {
	0x4802, 0x4903, 0x6001, 0xF3BF, 0x8F4F, 0xE7FE,
};
static const uint32_t plain_pool[] = {
	AIRCR_ADDR, AIRCR_VECTKEY_SYSRESETREQ,
};

/*
 * 0x00 ldr r0,[pc,#40] (FLASH base)  0x02 ldr r1,[r0,#0x10] (FLASH_CR)
 * 0x04 movs r2,#0x80 (LOCK)  0x06 tst r1,r2  0x08 beq 0x12
 * 0x0a ldr r3,[pc,#36] (KEY1)  0x0c str r3,[r0,#4] (FLASH_KEYR)
 * 0x0e ldr r3,[pc,#36] (KEY2)  0x10 str r3,[r0,#4]
 * 0x12 ldr r1,[r0,#0x10]  0x14 movs r2,#0x20  0x16 lsls r2,r2,#8
 * 0x18 orrs r1,r2 (OBL_LAUNCH)  0x1a str r1,[r0,#0x10]  0x1c dsb sy
 * then the plain routine as a fallback should the reload not happen:
 * 0x20 ldr r0,[pc,#20]  0x22 ldr r1,[pc,#24]  0x24 str r1,[r0]
 * 0x26 dsb sy  0x2a b .  0x2c pool
 * The keys are written only while LOCK is set: a key write to an unlocked
 * FLASH_CR is a wrong sequence that locks it until the next reset.
 */
static const uint16_t obl_code[] = {
	0x480A, 0x6901, 0x2280, 0x4211, 0xD003, 0x4B09, 0x6043, 0x4B09,
	0x6043, 0x6901, 0x2220, 0x0212, 0x4311, 0x6101, 0xF3BF, 0x8F4F,
	0x4805, 0x4906, 0x6001, 0xF3BF, 0x8F4F, 0xE7FE,
};
static const uint32_t obl_pool[] = {
	F0_FLASH_BASE, F0_FLASH_KEY1, F0_FLASH_KEY2,
	AIRCR_ADDR, AIRCR_VECTKEY_SYSRESETREQ,
};

static const struct thumb_routine routines[] = {
	[AN_RESET_SYSRESETREQ] = { plain_code,
	    sizeof(plain_code) / sizeof(plain_code[0]), plain_pool,
	    sizeof(plain_pool) / sizeof(plain_pool[0]) },
	[AN_RESET_OBL_LAUNCH] = { obl_code,
	    sizeof(obl_code) / sizeof(obl_code[0]), obl_pool,
	    sizeof(obl_pool) / sizeof(obl_pool[0]) },
};

int
ft_an_reset_code(uint8_t *out, uint32_t ram, uint32_t sp,
    enum an_reset_kind kind)
{
	const struct thumb_routine *r;
	size_t i, off = 0;

	if (ram % 4 != 0 || (unsigned)kind >= sizeof(routines) /
	    sizeof(routines[0]))
		return FT_E_INVALID;
	r = &routines[kind];
	if (8 + 2 * r->ncode + 4 * r->npool > AN_RESET_CODE_MAX)
		return FT_E_INVALID;
	ft_put_le32(out, sp & ~7u);
	ft_put_le32(out + 4, (ram + 8) | 1u);
	off = 8;
	for (i = 0; i < r->ncode; i++) {
		out[off++] = (uint8_t)r->code[i];
		out[off++] = (uint8_t)(r->code[i] >> 8);
	}
	for (i = 0; i < r->npool; i++) {
		ft_put_le32(out + off, r->pool[i]);
		off += 4;
	}
	return (int)off;
}
