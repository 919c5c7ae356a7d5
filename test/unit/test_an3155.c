/*
 * test_an3155.c - exact frames, parsers, timeouts and the reset routine
 * of lib/usart/an3155.c (ST AN3155 USART bootloader protocol).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "usart/an3155.h"

#define FRAME(...) ((const uint8_t[]){ __VA_ARGS__ })
#define NFRAME(...) sizeof((const uint8_t[]){ __VA_ARGS__ })

static void
expect_bytes(const uint8_t *got, size_t got_len, const uint8_t *want,
    size_t want_len)
{
	size_t i;

	assert_int_equal(got_len, want_len);
	for (i = 0; i < want_len; i++) {
		if (got[i] != want[i])
			print_error("byte %zu: got 0x%02x, want 0x%02x\n", i,
			    got[i], want[i]);
		assert_int_equal(got[i], want[i]);
	}
}

static void
test_cmd_frames(void **state)
{
	uint8_t f[2];

	(void)state;
	ft_an_cmd_frame(f, AN_CMD_GET);
	expect_bytes(f, 2, FRAME(0x00, 0xFF), 2);
	ft_an_cmd_frame(f, AN_CMD_READ);
	expect_bytes(f, 2, FRAME(0x11, 0xEE), 2);
	ft_an_cmd_frame(f, AN_CMD_WRITE);
	expect_bytes(f, 2, FRAME(0x31, 0xCE), 2);
	ft_an_cmd_frame(f, AN_CMD_EXT_ERASE);
	expect_bytes(f, 2, FRAME(0x44, 0xBB), 2);
	ft_an_cmd_frame(f, AN_CMD_READOUT_UNPROTECT);
	expect_bytes(f, 2, FRAME(0x92, 0x6D), 2);
}

static void
test_addr_frames(void **state)
{
	uint8_t f[5];

	(void)state;
	ft_an_u32_frame(f, 0x08004000);
	expect_bytes(f, 5, FRAME(0x08, 0x00, 0x40, 0x00, 0x48), 5);
	ft_an_u32_frame(f, 0x20001800);
	expect_bytes(f, 5, FRAME(0x20, 0x00, 0x18, 0x00, 0x38), 5);
	/* 1f ^ ff = e0, ^ f8 = 18, ^ 00 = 18 */
	ft_an_u32_frame(f, 0x1FFFF800);
	expect_bytes(f, 5, FRAME(0x1F, 0xFF, 0xF8, 0x00, 0x18), 5);
}

static void
test_read_len_frame(void **state)
{
	uint8_t f[2];

	(void)state;
	assert_int_equal(ft_an_read_len_frame(f, 256), 0);
	expect_bytes(f, 2, FRAME(0xFF, 0x00), 2);
	assert_int_equal(ft_an_read_len_frame(f, 1), 0);
	expect_bytes(f, 2, FRAME(0x00, 0xFF), 2);
	assert_int_equal(ft_an_read_len_frame(f, 100), 0);
	expect_bytes(f, 2, FRAME(0x63, 0x9C), 2);
	assert_int_equal(ft_an_read_len_frame(f, 0), FT_E_INVALID);
	assert_int_equal(ft_an_read_len_frame(f, 257), FT_E_INVALID);
}

static void
test_write_frame(void **state)
{
	uint8_t f[AN_WRITE_FRAME_MAX], data[256];
	const uint8_t four[] = { 0x01, 0x02, 0x03, 0x04 };

	(void)state;
	/* N-1 = 3; 03^01^02^03^04 = 07 */
	assert_int_equal(ft_an_write_frame(f, four, 4), 6);
	expect_bytes(f, 6, FRAME(0x03, 0x01, 0x02, 0x03, 0x04, 0x07), 6);
	/* 256 x 0xFF: N-1 = 0xFF, the data XOR to 0, checksum 0xFF. */
	memset(data, 0xFF, sizeof(data));
	assert_int_equal(ft_an_write_frame(f, data, 256), 258);
	assert_int_equal(f[0], 0xFF);
	assert_int_equal(f[1], 0xFF);
	assert_int_equal(f[256], 0xFF);
	assert_int_equal(f[257], 0xFF);
	/* 8 bytes 0..7: 07 ^ (0^1^..^7 = 0) = 07 */
	for (unsigned i = 0; i < 8; i++)
		data[i] = (uint8_t)i;
	assert_int_equal(ft_an_write_frame(f, data, 8), 10);
	assert_int_equal(f[9], 0x07);
	assert_int_equal(ft_an_write_frame(f, data, 6), FT_E_INVALID);
	assert_int_equal(ft_an_write_frame(f, data, 0), FT_E_INVALID);
	assert_int_equal(ft_an_write_frame(f, data, 260), FT_E_INVALID);
}

static void
test_erase_legacy(void **state)
{
	uint8_t f[AN_ERASE_FRAME_MAX];
	uint32_t pages[256], bad = 0;
	unsigned i;

	(void)state;
	pages[0] = 0;
	pages[1] = 1;
	pages[2] = 2;
	/* N-1 = 2; 02^00^01^02 = 01 */
	assert_int_equal(ft_an_erase_frame(f, pages, 3, &bad), 5);
	expect_bytes(f, 5, FRAME(0x02, 0x00, 0x01, 0x02, 0x01), 5);
	pages[0] = 255;
	assert_int_equal(ft_an_erase_frame(f, pages, 1, &bad), 3);
	expect_bytes(f, 3, FRAME(0x00, 0xFF, 0xFF), 3);
	/* Page 256 does not fit a 1-byte page number: refused, named. */
	pages[0] = 10;
	pages[1] = 256;
	assert_int_equal(ft_an_erase_frame(f, pages, 2, &bad),
	    FT_E_NOT_SUPPORTED);
	assert_int_equal(bad, 256);
	/* 255 pages is the most one command takes (0xFF means "all"). */
	for (i = 0; i < 256; i++)
		pages[i] = i;
	assert_int_equal(ft_an_erase_frame(f, pages, 255, &bad), 257);
	assert_int_equal(f[0], 0xFE);
	assert_int_equal(ft_an_erase_frame(f, pages, 256, &bad),
	    FT_E_NOT_SUPPORTED);
	assert_int_equal(bad, 256);
	assert_int_equal(ft_an_erase_frame(f, pages, 0, &bad),
	    FT_E_NOT_SUPPORTED);
	ft_an_erase_all_frame(f);
	expect_bytes(f, 2, FRAME(0xFF, 0x00), 2);
}

static void
test_erase_extended(void **state)
{
	uint8_t f[AN_EXT_ERASE_FRAME_MAX];
	uint32_t pages[300], bad = 0;
	unsigned i;

	(void)state;
	pages[0] = 5;
	pages[1] = 0x1FF;
	/* 00 01 | 00 05 | 01 ff: 01^05^01^ff = fa */
	assert_int_equal(ft_an_ext_erase_frame(f, pages, 2, &bad), 7);
	expect_bytes(f, 7, FRAME(0x00, 0x01, 0x00, 0x05, 0x01, 0xFF, 0xFA),
	    7);
	pages[0] = 0;
	assert_int_equal(ft_an_ext_erase_frame(f, pages, 1, &bad), 5);
	expect_bytes(f, 5, FRAME(0x00, 0x00, 0x00, 0x00, 0x00), 5);
	/* Page 256 is fine with 2-byte numbers. */
	pages[0] = 256;
	assert_int_equal(ft_an_ext_erase_frame(f, pages, 1, &bad), 5);
	expect_bytes(f, 5, FRAME(0x00, 0x00, 0x01, 0x00, 0x01), 5);
	/* Special codes are never a page number. */
	pages[0] = 0xFFF0;
	assert_int_equal(ft_an_ext_erase_frame(f, pages, 1, &bad),
	    FT_E_NOT_SUPPORTED);
	assert_int_equal(bad, 0xFFF0);
	pages[0] = 0xFFFF;
	assert_int_equal(ft_an_ext_erase_frame(f, pages, 1, &bad),
	    FT_E_NOT_SUPPORTED);
	/* Count limit per command. */
	for (i = 0; i < 300; i++)
		pages[i] = i;
	assert_int_equal(ft_an_ext_erase_frame(f, pages, 256, &bad), 515);
	assert_int_equal(f[0], 0x00);
	assert_int_equal(f[1], 0xFF);
	assert_int_equal(f[2 + 2 * 255], 0x00);
	assert_int_equal(f[3 + 2 * 255], 0xFF);
	assert_int_equal(ft_an_ext_erase_frame(f, pages, 257, &bad),
	    FT_E_NOT_SUPPORTED);
	/* Mass and bank erases: code MSB first, then XOR of both. */
	ft_an_ext_erase_special_frame(f, AN_EXT_ERASE_MASS);
	expect_bytes(f, 3, FRAME(0xFF, 0xFF, 0x00), 3);
	ft_an_ext_erase_special_frame(f, AN_EXT_ERASE_BANK1);
	expect_bytes(f, 3, FRAME(0xFF, 0xFE, 0x01), 3);
	ft_an_ext_erase_special_frame(f, AN_EXT_ERASE_BANK2);
	expect_bytes(f, 3, FRAME(0xFF, 0xFD, 0x02), 3);
}

static void
test_write_protect_frame(void **state)
{
	uint8_t f[AN_WP_FRAME_MAX];
	uint32_t s[3] = { 0, 4, 11 }, bad = 0;

	(void)state;
	/* 02 00 04 0b: 02^04^0b = 0d */
	assert_int_equal(ft_an_wp_frame(f, s, 3, &bad), 5);
	expect_bytes(f, 5, FRAME(0x02, 0x00, 0x04, 0x0B, 0x0D), 5);
	s[1] = 300;
	assert_int_equal(ft_an_wp_frame(f, s, 3, &bad), FT_E_NOT_SUPPORTED);
	assert_int_equal(bad, 300);
}

static void
test_get_checksum_frames(void **state)
{
	uint8_t f[AN_CRC_PARAM_FRAMES][AN_ADDR_FRAME_LEN];
	uint8_t c[2];

	(void)state;
	ft_an_cmd_frame(c, AN_CMD_GET_CHECKSUM);
	expect_bytes(c, 2, FRAME(0xA1, 0x5E), 2);
	/* 1 KiB at 0x08000000: the size goes as 0x100 words. */
	assert_int_equal(ft_an_crc_frames(f, 0x08000000, 0x400), 0);
	expect_bytes(f[0], 5, FRAME(0x08, 0x00, 0x00, 0x00, 0x08), 5);
	expect_bytes(f[1], 5, FRAME(0x00, 0x00, 0x01, 0x00, 0x01), 5);
	/* 04^c1 = c5, ^1d = d8, ^b7 = 6f */
	expect_bytes(f[2], 5, FRAME(0x04, 0xC1, 0x1D, 0xB7, 0x6F), 5);
	expect_bytes(f[3], 5, FRAME(0xFF, 0xFF, 0xFF, 0xFF, 0x00), 5);
	/* 0x48d10 bytes = 0x12344 words: 01^23 = 22, ^44 = 66 */
	assert_int_equal(ft_an_crc_frames(f, 0x08004000, 0x48D10), 0);
	expect_bytes(f[0], 5, FRAME(0x08, 0x00, 0x40, 0x00, 0x48), 5);
	expect_bytes(f[1], 5, FRAME(0x00, 0x01, 0x23, 0x44, 0x66), 5);
	assert_int_equal(ft_an_crc_frames(f, 0x08000002, 4), FT_E_INVALID);
	assert_int_equal(ft_an_crc_frames(f, 0x08000000, 6), FT_E_INVALID);
	assert_int_equal(ft_an_crc_frames(f, 0x08000000, 0), FT_E_INVALID);
}

/* Pages 0.. of 2 KiB from 0x08000000, as the core hands them over. */
static void
pages(struct ft_erase_unit *u, size_t n, uint32_t first)
{
	size_t i;

	for (i = 0; i < n; i++)
		u[i] = (struct ft_erase_unit){ first + (uint32_t)i,
		    0x08000000u + (first + (uint32_t)i) * 2048u, 2048 };
}

/* The commands the rules make of n pages from first: their sizes. */
static size_t
split(size_t n, uint32_t first, const struct an_erase_rules *r,
    size_t *got, size_t max_cmds)
{
	struct ft_erase_unit u[600];
	size_t done = 0, k = 0;

	pages(u, n, first);
	while (done < n && k < max_cmds) {
		size_t c = ft_an_erase_take(u + done, n - done, r);

		assert_true(c >= 1);
		got[k++] = c;
		done += c;
	}
	assert_int_equal(done, n);
	return k;
}

static void
test_erase_split(void **state)
{
	const struct an_erase_rules ext = { AN_EXT_ERASE_MAX_PAGES, 0,
	    AN_ERASE_NONE_ALONE };
	const struct an_erase_rules legacy = { AN_ERASE_MAX_PAGES, 0,
	    AN_ERASE_NONE_ALONE };
	size_t got[600];

	(void)state;
	assert_int_equal(split(600, 0, &ext, got, 600), 3);
	assert_int_equal(got[0], 256);
	assert_int_equal(got[1], 256);
	assert_int_equal(got[2], 88);
	assert_int_equal(split(510, 0, &legacy, got, 600), 2);
	assert_int_equal(got[0], 255);
	assert_int_equal(split(3, 0, &legacy, got, 600), 1);
	assert_int_equal(got[0], 3);
	assert_int_equal(ft_an_erase_take(NULL, 0, &ext), 0);
}

/* G07x V11.3 (FT_Q_ERASE_EARLY_ACK): every page alone. */
static void
test_erase_split_one_each(void **state)
{
	const struct an_erase_rules r = { AN_EXT_ERASE_MAX_PAGES, 1,
	    AN_ERASE_NONE_ALONE };
	size_t got[600], i;

	(void)state;
	assert_int_equal(split(64, 0, &r, got, 600), 64);
	for (i = 0; i < 64; i++)
		assert_int_equal(got[i], 1);
}

/*
 * G0B1 (FT_Q_BANK2_ERASE_ONE): bank 2 of a 512 KiB part from page 128
 * (0x08040000).  Bank-1 pages go together up to bank 2, never with a
 * bank-2 page; bank-2 pages alone.
 */
static void
test_erase_split_bank2_alone(void **state)
{
	const struct an_erase_rules r = { AN_EXT_ERASE_MAX_PAGES, 0,
	    0x08040000u };
	size_t got[600], i, k;

	(void)state;
	/* Pages 120-135: 8 in bank 1 together, then 8 alone. */
	k = split(16, 120, &r, got, 600);
	assert_int_equal(k, 9);
	assert_int_equal(got[0], 8);
	for (i = 1; i < k; i++)
		assert_int_equal(got[i], 1);
	/* All of bank 1 (over the protocol limit) then 3 in bank 2. */
	k = split(131, 0, &r, got, 600);
	assert_int_equal(k, 4);
	assert_int_equal(got[0], 128);
	assert_int_equal(got[1], 1);
	/* A list wholly in bank 1 is untouched. */
	assert_int_equal(split(100, 0, &r, got, 600), 1);
	assert_int_equal(got[0], 100);
}

static void
test_erase_timeouts(void **state)
{
	struct ft_erase_unit f4[6] = {
		{ 0, 0x08000000, 16384 }, { 1, 0x08004000, 16384 },
		{ 2, 0x08008000, 16384 }, { 3, 0x0800C000, 16384 },
		{ 4, 0x08010000, 65536 }, { 5, 0x08020000, 131072 },
	};
	struct ft_erase_unit small = { 7, 0x08000380, 128 };
	struct ft_erase_unit page = { 1, 0x08000400, 1024 };

	(void)state;
	/* 1000 ms per command + 50 ms per KiB, at least 20 ms per unit. */
	assert_int_equal(ft_an_erase_timeout_ms(&f4[5], 1), 1000 + 6400);
	assert_int_equal(ft_an_erase_timeout_ms(&f4[0], 1), 1000 + 800);
	assert_int_equal(ft_an_erase_timeout_ms(f4, 6),
	    1000 + 4 * 800 + 3200 + 6400);
	assert_int_equal(ft_an_erase_timeout_ms(&page, 1), 1050);
	assert_int_equal(ft_an_erase_timeout_ms(&small, 1), 1020);
	assert_true(ft_an_erase_timeout_ms(&f4[5], 1) >= 4000);	/* DS8626 */
	/* Mass erase: 16 ms per KiB (2 MiB F4: 32 s) + 2 s, at least 4 s. */
	assert_int_equal(ft_an_mass_erase_timeout_ms(2u << 20), 32768 + 2000);
	assert_int_equal(ft_an_mass_erase_timeout_ms(64u << 10), 4000);
	assert_int_equal(ft_an_mass_erase_timeout_ms(1u << 20), 16384 + 2000);
}

static void
test_parse_get(void **state)
{
	const uint8_t ext[] = { 0x0B, 0x31, 0x00, 0x01, 0x02, 0x11, 0x21,
	    0x31, 0x44, 0x63, 0x73, 0x82, 0x92 };
	const uint8_t leg[] = { 0x0C, 0x22, 0x00, 0x01, 0x02, 0x11, 0x21,
	    0x31, 0x43, 0x63, 0x73, 0x82, 0x92, 0xA1 };
	struct an_get g;

	(void)state;
	assert_int_equal(ft_an_parse_get(ext, sizeof(ext), &g), 0);
	assert_int_equal(g.version, 0x31);
	assert_int_equal(g.ncmds, 11);
	assert_int_equal(g.cmds[0], 0x00);
	assert_int_equal(g.cmds[10], 0x92);
	assert_int_equal(g.erase_cmd, 0x44);
	assert_int_equal(g.has_checksum, 0);
	assert_true(ft_an_has_cmd(&g, 0x63));
	assert_false(ft_an_has_cmd(&g, 0xA1));

	assert_int_equal(ft_an_parse_get(leg, sizeof(leg), &g), 0);
	assert_int_equal(g.version, 0x22);
	assert_int_equal(g.ncmds, 12);
	assert_int_equal(g.erase_cmd, 0x43);
	assert_int_equal(g.has_checksum, 1);

	/* Length byte disagreeing with the body is malformed. */
	assert_int_equal(ft_an_parse_get(ext, sizeof(ext) - 1, &g),
	    FT_E_PROTOCOL);
	assert_int_equal(ft_an_parse_get(ext, 1, &g), FT_E_PROTOCOL);
}

static void
test_parse_get_id(void **state)
{
	uint16_t pid = 0;

	(void)state;
	assert_int_equal(ft_an_parse_get_id(FRAME(0x01, 0x04, 0x13), 3, &pid),
	    0);
	assert_int_equal(pid, 0x413);
	assert_int_equal(ft_an_parse_get_id(FRAME(0x01, 0x04, 0x68), 3, &pid),
	    0);
	assert_int_equal(pid, 0x468);
	/* Extra ID bytes are allowed; N must match. */
	assert_int_equal(ft_an_parse_get_id(FRAME(0x02, 0x04, 0x45, 0x99), 4,
	    &pid), 0);
	assert_int_equal(pid, 0x445);
	assert_int_equal(ft_an_parse_get_id(FRAME(0x00, 0x04), 2, &pid),
	    FT_E_PROTOCOL);
	assert_int_equal(ft_an_parse_get_id(FRAME(0x01, 0x04), 2, &pid),
	    FT_E_PROTOCOL);
}

static void
test_parse_crc_reply(void **state)
{
	uint32_t crc = 0;
	/* 12^34 = 26, ^56 = 70, ^78 = 08 */
	const uint8_t ok[] = { 0x79, 0x12, 0x34, 0x56, 0x78, 0x08 };
	const uint8_t bad[] = { 0x79, 0x12, 0x34, 0x56, 0x78, 0x09 };
	const uint8_t noack[] = { 0x12, 0x34, 0x56, 0x78, 0x08, 0x00 };
	const uint8_t nack[] = { 0x1F, 0, 0, 0, 0, 0 };

	(void)state;
	assert_int_equal(ft_an_parse_crc_reply(ok, &crc), 0);
	assert_int_equal(crc, 0x12345678);
	assert_int_equal(ft_an_parse_crc_reply(bad, &crc), FT_E_PROTOCOL);
	assert_int_equal(ft_an_parse_crc_reply(noack, &crc), FT_E_PROTOCOL);
	assert_int_equal(ft_an_parse_crc_reply(nack, &crc), FT_E_NACK);
}

/*
 * Decode the Thumb routine by hand: follow every LDR (literal) to the
 * word it loads, and check the branch targets.  Independent of the byte
 * tables in an3155.c.
 */
static uint32_t
ldr_literal(const uint8_t *code, uint32_t base, uint32_t at, unsigned *rd)
{
	uint16_t hw = (uint16_t)(code[at - base] | code[at - base + 1] << 8);
	uint32_t pc = (at + 4) & ~3u;
	uint32_t lit;

	assert_int_equal(hw & 0xF800, 0x4800);	/* LDR Rd, [PC, #imm8*4] */
	*rd = (hw >> 8) & 7;
	lit = pc + (hw & 0xFF) * 4u;
	return ft_get_le32(code + (lit - base));
}

static void
test_reset_plain(void **state)
{
	uint8_t code[AN_RESET_CODE_MAX];
	const uint32_t ram = 0x20000200;
	unsigned rd;
	int n;

	(void)state;
	n = ft_an_reset_code(code, ram, 0x20005000, AN_RESET_SYSRESETREQ);
	assert_int_equal(n, 28);
	expect_bytes(code, (size_t)n, FRAME(
	    0x00, 0x50, 0x00, 0x20,	/* initial SP 0x20005000 */
	    0x09, 0x02, 0x00, 0x20,	/* reset vector ram+8, Thumb bit */
	    0x02, 0x48,			/* ldr r0, [pc, #8] */
	    0x03, 0x49,			/* ldr r1, [pc, #12] */
	    0x01, 0x60,			/* str r1, [r0] */
	    0xBF, 0xF3, 0x4F, 0x8F,	/* dsb sy */
	    0xFE, 0xE7,			/* b . */
	    0x0C, 0xED, 0x00, 0xE0,	/* AIRCR */
	    0x04, 0x00, 0xFA, 0x05), 28);	/* VECTKEY | SYSRESETREQ */
	/* Hand decoding: the code starts at ram + 8. */
	assert_int_equal(ldr_literal(code, ram, ram + 8, &rd), 0xE000ED0C);
	assert_int_equal(rd, 0);
	assert_int_equal(ldr_literal(code, ram, ram + 10, &rd), 0x05FA0004);
	assert_int_equal(rd, 1);
	/* Go needs a word-aligned even SP and a Thumb entry in RAM. */
	assert_int_equal(ft_get_le32(code + 4), ram + 8 + 1);
	assert_int_equal(n % 4, 0);
	/* Stack pointer is rounded down to 8. */
	n = ft_an_reset_code(code, ram, 0x20005003, AN_RESET_SYSRESETREQ);
	assert_int_equal(ft_get_le32(code), 0x20005000);
	assert_int_equal(ft_an_reset_code(code, ram + 2, 0x20005000,
	    AN_RESET_SYSRESETREQ), FT_E_INVALID);
}

static void
test_reset_obl_launch(void **state)
{
	uint8_t code[AN_RESET_CODE_MAX];
	const uint32_t ram = 0x20001800;
	const uint32_t c = ram + 8;
	unsigned rd;
	uint16_t beq;
	int n;

	(void)state;
	n = ft_an_reset_code(code, ram, 0x20008000, AN_RESET_OBL_LAUNCH);
	assert_int_equal(n, 72);
	expect_bytes(code, (size_t)n, FRAME(
	    0x00, 0x80, 0x00, 0x20, 0x09, 0x18, 0x00, 0x20,
	    0x0A, 0x48,		/* 00 ldr r0, [pc, #40]: FLASH base */
	    0x01, 0x69,		/* 02 ldr r1, [r0, #0x10]: FLASH_CR */
	    0x80, 0x22,		/* 04 movs r2, #0x80: LOCK */
	    0x11, 0x42,		/* 06 tst r1, r2 */
	    0x03, 0xD0,		/* 08 beq 0x12 */
	    0x09, 0x4B,		/* 0a ldr r3, [pc, #36]: KEY1 */
	    0x43, 0x60,		/* 0c str r3, [r0, #4]: FLASH_KEYR */
	    0x09, 0x4B,		/* 0e ldr r3, [pc, #36]: KEY2 */
	    0x43, 0x60,		/* 10 str r3, [r0, #4] */
	    0x01, 0x69,		/* 12 ldr r1, [r0, #0x10] */
	    0x20, 0x22,		/* 14 movs r2, #0x20 */
	    0x12, 0x02,		/* 16 lsls r2, r2, #8: 0x2000 OBL_LAUNCH */
	    0x11, 0x43,		/* 18 orrs r1, r2 */
	    0x01, 0x61,		/* 1a str r1, [r0, #0x10] */
	    0xBF, 0xF3, 0x4F, 0x8F,	/* 1c dsb sy */
	    0x05, 0x48,		/* 20 ldr r0, [pc, #20]: AIRCR */
	    0x06, 0x49,		/* 22 ldr r1, [pc, #24] */
	    0x01, 0x60,		/* 24 str r1, [r0] */
	    0xBF, 0xF3, 0x4F, 0x8F,	/* 26 dsb sy */
	    0xFE, 0xE7,		/* 2a b . */
	    0x00, 0x20, 0x02, 0x40,	/* 2c FLASH 0x40022000 */
	    0x23, 0x01, 0x67, 0x45,	/* 30 KEY1 */
	    0xAB, 0x89, 0xEF, 0xCD,	/* 34 KEY2 */
	    0x0C, 0xED, 0x00, 0xE0,	/* 38 AIRCR */
	    0x04, 0x00, 0xFA, 0x05), 72);
	assert_int_equal(ldr_literal(code, ram, c + 0x00, &rd), 0x40022000);
	assert_int_equal(rd, 0);
	assert_int_equal(ldr_literal(code, ram, c + 0x0A, &rd), 0x45670123);
	assert_int_equal(rd, 3);
	assert_int_equal(ldr_literal(code, ram, c + 0x0E, &rd), 0xCDEF89AB);
	assert_int_equal(rd, 3);
	assert_int_equal(ldr_literal(code, ram, c + 0x20, &rd), 0xE000ED0C);
	assert_int_equal(ldr_literal(code, ram, c + 0x22, &rd), 0x05FA0004);
	assert_int_equal(rd, 1);
	/* beq: cond 0 (EQ), target = pc + 4 + imm8 * 2 skips the unlock. */
	beq = (uint16_t)(code[8 + 0x08] | code[8 + 0x09] << 8);
	assert_int_equal(beq & 0xFF00, 0xD000);
	assert_int_equal(0x08 + 4 + (beq & 0xFF) * 2, 0x12);
	/* STR/LDR immediate offsets: FLASH_CR at +0x10 (imm5 = 4). */
	assert_int_equal((code[8 + 0x1A] | code[8 + 0x1B] << 8) >> 6 & 31, 4);
	assert_int_equal((code[8 + 0x0C] | code[8 + 0x0D] << 8) >> 6 & 31, 1);
}

static void
test_bursts(void **state)
{
	uint8_t b[AN_WRITE_BURST_MAX], data[256];
	size_t i;

	(void)state;
	assert_int_equal(ft_an_read_burst(b, 0x08000100, 256), 0);
	expect_bytes(b, AN_READ_BURST_LEN, FRAME(0x11, 0xEE,
	    0x08, 0x00, 0x01, 0x00, 0x09, 0xFF, 0x00), 9);
	assert_int_equal(ft_an_read_burst(b, 0x08000100, 0), FT_E_INVALID);
	assert_int_equal(ft_an_read_burst(b, 0x08000100, 257), FT_E_INVALID);

	assert_int_equal(ft_an_write_burst(b, 0x20000800,
	    FRAME(0x01, 0x02, 0x03, 0x04), 4), 13);
	expect_bytes(b, 13, FRAME(0x31, 0xCE, 0x20, 0x00, 0x08, 0x00, 0x28,
	    0x03, 0x01, 0x02, 0x03, 0x04, 0x07), 13);
	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)i;
	assert_int_equal(ft_an_write_burst(b, 0x08000000, data, 256),
	    AN_WRITE_BURST_MAX);
	assert_int_equal(b[7], 0xFF);
	assert_int_equal(b[8 + 255], 0xFF);
	assert_int_equal(ft_an_write_burst(b, 0x08000000, data, 6),
	    FT_E_INVALID);
	assert_int_equal(ft_an_write_burst(b, 0x08000000, data, 260),
	    FT_E_INVALID);
}

static void
test_burst_risky(void **state)
{
	/* A v2.2 ROM's Get list (F103). */
	const uint8_t body[] = { 0x0B, 0x22, 0x00, 0x01, 0x02, 0x11, 0x21,
	    0x31, 0x43, 0x63, 0x73, 0x82, 0x92 };
	struct an_get g;
	uint8_t b[AN_WRITE_BURST_MAX], data[8] = { 0 };

	(void)state;
	assert_int_equal(ft_an_parse_get(body, sizeof(body), &g), 0);
	/* An ordinary read: the length frame FF 00 is no command. */
	assert_int_equal(ft_an_read_burst(b, 0x08000000, 256), 0);
	assert_false(ft_an_burst_risky(&g, b, AN_READ_BURST_LEN));
	/* Length 0x32 makes the length frame 31 CE: Write Memory. */
	assert_int_equal(ft_an_read_burst(b, 0x08000000, 0x32), 0);
	assert_true(ft_an_burst_risky(&g, b, AN_READ_BURST_LEN));
	/* Length 0x12 makes it 11 EE: Read Memory, which changes nothing. */
	assert_int_equal(ft_an_read_burst(b, 0x08000000, 0x12), 0);
	assert_false(ft_an_burst_risky(&g, b, AN_READ_BURST_LEN));
	/* Readout Unprotect (92 6D) in the data, at an even and an odd
	 * offset: both count, as a lost byte shifts the pairing. */
	assert_int_equal(ft_an_write_burst(b, 0x08000000, data, 8), 17);
	assert_false(ft_an_burst_risky(&g, b, 17));
	data[2] = 0x92;
	data[3] = 0x6D;
	assert_int_equal(ft_an_write_burst(b, 0x08000000, data, 8), 17);
	assert_true(ft_an_burst_risky(&g, b, 17));
	data[2] = 0x00;
	data[4] = 0x6D;
	data[3] = 0x92;
	assert_int_equal(ft_an_write_burst(b, 0x08000000, data, 8), 17);
	assert_true(ft_an_burst_risky(&g, b, 17));
	/* Get Version (01 FE) is harmless; a code the ROM neither lists
	 * nor AN3155 defines (0x05) is too. */
	memset(data, 0, sizeof(data));
	data[0] = 0x01;
	data[1] = 0xFE;
	data[4] = 0x05;
	data[5] = 0xFA;
	assert_int_equal(ft_an_write_burst(b, 0x08000000, data, 8), 17);
	assert_false(ft_an_burst_risky(&g, b, 17));
	/* AN3155 commands count even when Get did not list them (Extended
	 * Erase on a legacy-erase ROM), and without a Get list at all. */
	data[0] = 0x44;
	data[1] = 0xBB;
	assert_int_equal(ft_an_write_burst(b, 0x08000000, data, 8), 17);
	assert_true(ft_an_burst_risky(&g, b, 17));
	assert_true(ft_an_burst_risky(NULL, b, 17));
	/* The command itself (31 CE at offset 0) is not a risk. */
	assert_false(ft_an_burst_risky(&g, FRAME(0x31, 0xCE, 0x08), 3));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cmd_frames),
		cmocka_unit_test(test_addr_frames),
		cmocka_unit_test(test_read_len_frame),
		cmocka_unit_test(test_bursts),
		cmocka_unit_test(test_burst_risky),
		cmocka_unit_test(test_write_frame),
		cmocka_unit_test(test_erase_legacy),
		cmocka_unit_test(test_erase_extended),
		cmocka_unit_test(test_write_protect_frame),
		cmocka_unit_test(test_get_checksum_frames),
		cmocka_unit_test(test_erase_split),
		cmocka_unit_test(test_erase_split_one_each),
		cmocka_unit_test(test_erase_split_bank2_alone),
		cmocka_unit_test(test_erase_timeouts),
		cmocka_unit_test(test_parse_get),
		cmocka_unit_test(test_parse_get_id),
		cmocka_unit_test(test_parse_crc_reply),
		cmocka_unit_test(test_reset_plain),
		cmocka_unit_test(test_reset_obl_launch),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
