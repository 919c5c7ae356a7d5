/*
 * test_katapult.c - the pure parts of the Katapult wing: the CRC and the
 * frames of katapult.md 1.1 byte for byte, the decoder's resync, the
 * CONNECT reply of protocol 1.1.0 and 1.0.0, UUIDs (against values
 * computed with flashtool.py's fasthash port), the CAN admin messages,
 * the inflater on streams made by zlib (stored, fixed and dynamic
 * blocks) and on broken ones, and Klipper's data dictionary found in an
 * image.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "katapult/dict.h"
#include "katapult/inflate.h"
#include "katapult/proto.h"

static size_t
unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;
	unsigned v;

	while (*hex != '\0') {
		if (*hex == ' ') {
			hex++;
			continue;
		}
		assert_int_equal(sscanf(hex, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
		hex += 2;
	}
	return n;
}

/* Fixture path: $FT_TOP/test/data, else relative to the source tree. */
static uint8_t *
fixture(const char *file, size_t *len)
{
	char path[512];
	const char *top = getenv("FT_TOP");
	uint8_t *buf = malloc(1 << 16);
	FILE *f;

	snprintf(path, sizeof(path), "%s%stest/data/%s", top ? top : "",
	    top ? "/" : "", file);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_non_null(buf);
	*len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	return buf;
}

static void
test_crc_check_value(void **state)
{
	(void)state;
	assert_int_equal(ft_kp_crc16((const uint8_t *)"123456789", 9), 0x6F91);
}

/* katapult.md 1.1: frames built here, byte for byte. */
static void
test_worked_frames(void **state)
{
	static const struct {
		uint8_t cmd;
		const char *payload, *want;
	} t[] = {
		{ 0x11, "", "01 88 11 00 f1 7c 99 03" },
		{ 0x13, "", "01 88 13 00 41 4f 99 03" },
		{ 0x15, "", "01 88 15 00 91 1b 99 03" },
		{ 0x16, "", "01 88 16 00 f9 31 99 03" },
		{ 0x14, "00 20 00 08", "01 88 14 01 00 20 00 08 5b de 99 03" },
		{ 0xf1, "", "01 88 f1 00 68 95 99 03" },
		{ 0xf2, "", "01 88 f2 00 00 bf 99 03" },
		{ 0xf3, "", "01 88 f3 00 d8 a6 99 03" },
		{ 0xa0, "12 00 00 00 00 20 00 08",
		    "01 88 a0 02 12 00 00 00 00 20 00 08 5a d6 99 03" },
		{ 0xa0, "13 00 00 00 1e 00 00 00",
		    "01 88 a0 02 13 00 00 00 1e 00 00 00 75 b5 99 03" },
		{ 0xa0, "15 00 00 00", "01 88 a0 01 15 00 00 00 00 2e 99 03" },
	};
	uint8_t payload[16], want[32], got[32];
	size_t i, np, nw;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		np = unhex(t[i].payload, payload);
		nw = unhex(t[i].want, want);
		assert_int_equal(ft_kp_frame(got, t[i].cmd, payload, np), nw);
		assert_memory_equal(got, want, nw);
	}
	assert_int_equal(ft_kp_frame(got, 0x11, payload, 3), 0);
}

static void
push_hex(struct ft_kp_rx *rx, const char *hex)
{
	uint8_t b[256];
	size_t n = unhex(hex, b);

	assert_int_equal(ft_kp_rx_push(rx, b, n), n);
}

static void
test_decoder_resync(void **state)
{
	struct ft_kp_rx rx;
	struct ft_kp_frame f;

	(void)state;
	ft_kp_rx_reset(&rx);
	/* Garbage, a false start (01 88 with a bad CRC), then an ACK. */
	push_hex(&rx, "ff 00 01 01 88 a0 01 15 00 00 00 00 2f 99 03");
	assert_int_equal(ft_kp_rx_next(&rx, &f), 0);
	push_hex(&rx, "7e 01 88 a0 01 15 00 00 00 00 2e 99 03");
	assert_int_equal(ft_kp_rx_next(&rx, &f), 1);
	assert_int_equal(f.code, FT_KP_ACK);
	assert_int_equal(f.len, 4);
	assert_int_equal(ft_kp_acked(&f), FT_KP_COMPLETE);
	assert_int_equal(rx.len, 0);
	assert_true(rx.dropped >= 15);
	/* Two frames in one read, the second split. */
	push_hex(&rx, "01 88 f2 00 00 bf 99 03 01 88 f1");
	assert_int_equal(ft_kp_rx_next(&rx, &f), 1);
	assert_int_equal(f.code, FT_KP_ERROR);
	assert_int_equal(ft_kp_rx_next(&rx, &f), 0);
	push_hex(&rx, "00 68 95 99 03");
	assert_int_equal(ft_kp_rx_next(&rx, &f), 1);
	assert_int_equal(f.code, FT_KP_NACK);
	/* A header that claims too much is garbage, at once. */
	push_hex(&rx, "01 88 a0 ff 01 88 f1 00 68 95 99 03");
	assert_int_equal(ft_kp_rx_next(&rx, &f), 1);
	assert_int_equal(f.code, FT_KP_NACK);
	/* A partial frame that never completes goes byte by byte. */
	push_hex(&rx, "01 88 a0 05 00");
	assert_int_equal(ft_kp_rx_next(&rx, &f), 0);
	assert_int_equal(ft_kp_rx_stale(&rx), 1);
	assert_int_equal(ft_kp_rx_next(&rx, &f), 0);
	assert_int_equal(rx.len, 0);
	assert_int_equal(ft_kp_rx_stale(&rx), 0);
}

/* stm32f042x6 + v0.0.1-110-gb0bf421: 60 bytes, 13 words (1.2). */
static void
test_connect_reply(void **state)
{
	const char *reply = "01 88 a0 0d 11 00 00 00 00 01 01 00 00 20 00 08 "
	    "40 00 00 00 73 74 6d 33 32 66 30 34 32 78 36 00 00 00 00 00 "
	    "76 30 2e 30 2e 31 2d 31 31 30 2d 67 62 30 62 66 34 32 31 00";
	uint8_t b[80];
	struct ft_kp_rx rx;
	struct ft_kp_frame f;
	struct ft_kp_connect c;
	uint16_t crc;
	size_t n = unhex(reply, b);
	char proto[16];

	(void)state;
	assert_int_equal(n, 56);
	crc = ft_kp_crc16(b + 2, n - 2);
	b[n++] = (uint8_t)crc;
	b[n++] = (uint8_t)(crc >> 8);
	b[n++] = 0x99;
	b[n++] = 0x03;
	ft_kp_rx_reset(&rx);
	ft_kp_rx_push(&rx, b, n);
	assert_int_equal(ft_kp_rx_next(&rx, &f), 1);
	assert_int_equal(ft_kp_acked(&f), FT_KP_CONNECT);
	assert_int_equal(ft_kp_parse_connect(NULL, f.payload + 4, f.len - 4,
	    &c), 0);
	assert_int_equal(c.proto, 0x00010100);
	assert_int_equal(c.app_start, 0x08002000);
	assert_int_equal(c.block_size, 64);
	assert_string_equal(c.mcu, "stm32f042x6");
	assert_string_equal(c.version, "v0.0.1-110-gb0bf421");
	assert_int_equal(c.has_version, 1);
	ft_kp_proto_str(c.proto, proto, sizeof(proto));
	assert_string_equal(proto, "1.1.0");
}

static void
test_connect_old_and_bad(void **state)
{
	uint8_t p[64];
	struct ft_kp_connect c;

	(void)state;
	/* Protocol 1.0.0: the MCU name only (katapult #159). */
	memset(p, 0, sizeof(p));
	unhex("00 00 01 00 00 40 00 08 40 00 00 00 72 70 32 30 34 30 00 00",
	    p);
	assert_int_equal(ft_kp_parse_connect(NULL, p, 20, &c), 0);
	assert_string_equal(c.mcu, "rp2040");
	assert_int_equal(c.has_version, 0);
	/* 1.1.0 that sends no version after the zero word. */
	unhex("00 01 01 00 00 40 00 10 40 00 00 00 72 70 32 30 34 30 00 00 "
	    "00 00 00 00", p);
	assert_int_equal(ft_kp_parse_connect(NULL, p, 24, &c), 0);
	assert_int_equal(c.has_version, 0);
	/* A version of exactly 8 characters has no NUL at all. */
	unhex("00 01 01 00 00 40 00 10 40 00 00 00 72 70 32 30 34 30 00 00 "
	    "00 00 00 00 76 31 2e 30 2d 31 2d 67", p);
	assert_int_equal(ft_kp_parse_connect(NULL, p, 32, &c), 0);
	assert_string_equal(c.version, "v1.0-1-g");
	/* Too short, a bad block size, a misaligned start, no name. */
	assert_int_equal(ft_kp_parse_connect(NULL, p, 12, &c), FT_E_PROTOCOL);
	unhex("00 01 01 00 00 40 00 10 41 00 00 00 72 70 00 00", p);
	assert_int_equal(ft_kp_parse_connect(NULL, p, 16, &c), FT_E_PROTOCOL);
	unhex("00 01 01 00 04 40 00 10 40 00 00 00 72 70 00 00", p);
	assert_int_equal(ft_kp_parse_connect(NULL, p, 16, &c), FT_E_PROTOCOL);
	unhex("00 01 01 00 00 40 00 10 40 00 00 00 00 00 00 00", p);
	assert_int_equal(ft_kp_parse_connect(NULL, p, 16, &c), FT_E_PROTOCOL);
	unhex("00 01 01 00 00 40 00 10 40 00 00 00 72 07 00 00", p);
	assert_int_equal(ft_kp_parse_connect(NULL, p, 16, &c), FT_E_PROTOCOL);
}

static void
test_uuids(void **state)
{
	uint8_t u[6];
	char s[16];

	(void)state;
	assert_int_equal(ft_katapult_uuid_parse("aabbccddeeff", u), 0);
	ft_kp_uuid_str(u, s, sizeof(s));
	assert_string_equal(s, "aabbccddeeff");
	assert_int_equal(u[0], 0xaa);
	assert_int_equal(ft_katapult_uuid_parse("0x1", u), 0);
	ft_kp_uuid_str(u, s, sizeof(s));
	assert_string_equal(s, "000000000001");
	assert_int_equal(ft_katapult_uuid_parse("AABBCCDDEEFF00", u),
	    FT_E_INVALID);
	assert_int_equal(ft_katapult_uuid_parse("", u), FT_E_INVALID);
	assert_int_equal(ft_katapult_uuid_parse("12g4", u), FT_E_INVALID);
	/* Against flashtool.py's convert_usbsn_to_uuid (before its swap). */
	assert_int_equal(ft_kp_uuid_from_serial("0E0031000851363131363530",
	    u), 0);
	ft_kp_uuid_str(u, s, sizeof(s));
	assert_string_equal(s, "0f3a87d435a3");
	assert_int_equal(ft_kp_uuid_from_serial("ABCDEF12345678", u), 0);
	ft_kp_uuid_str(u, s, sizeof(s));
	assert_string_equal(s, "c3bc7ea8d347");
	assert_int_equal(ft_kp_uuid_from_serial("ABC", u), -1);
	assert_int_equal(ft_kp_uuid_from_serial("zz", u), -1);
}

static void
test_can_admin(void **state)
{
	uint8_t u[6] = { 1, 2, 3, 4, 5, 6 }, out[8], got[6];
	int app;

	(void)state;
	assert_int_equal(ft_kp_can_admin(out, FT_KP_CAN_SET_CANBOOT_NODEID, u,
	    129), 8);
	assert_int_equal(out[0], 0x11);
	assert_int_equal(out[7], 129);
	assert_int_equal(ft_kp_can_admin(out, FT_KP_CAN_REQUEST_BOOTLOADER, u,
	    -1), 7);
	assert_int_equal(ft_kp_can_admin(out, FT_KP_CAN_QUERY_UNASSIGNED, NULL,
	    -1), 1);
	assert_int_equal(ft_kp_can_rx_id(129), 0x202);
	unhex("20 01 02 03 04 05 06 11", out);
	assert_int_equal(ft_kp_can_parse_need_nodeid(out, 8, got, &app), 1);
	assert_memory_equal(got, u, 6);
	assert_int_equal(app, 0x11);
	assert_int_equal(ft_kp_can_parse_need_nodeid(out, 7, got, &app), 1);
	assert_int_equal(app, -1);
	assert_int_equal(ft_kp_can_parse_need_nodeid(out, 6, got, &app), 0);
	out[0] = 0x21;
	assert_int_equal(ft_kp_can_parse_need_nodeid(out, 8, got, &app), 0);
}

static void
test_inflate_zlib_levels(void **state)
{
	static const char *const files[] = {
		"kp-dict-0.z", "kp-dict-1.z", "kp-dict-9.z",
	};
	uint8_t out[1024];
	size_t jlen, zlen, got, used, i;
	uint8_t *json = fixture("kp-dict.json", &jlen), *z;

	(void)state;
	for (i = 0; i < 3; i++) {
		z = fixture(files[i], &zlen);
		assert_int_equal(ft_zlib_inflate(z, zlen, out, sizeof(out),
		    &got, &used), 0);
		assert_int_equal(got, jlen);
		assert_int_equal(used, zlen);
		assert_memory_equal(out, json, jlen);
		/* Truncated anywhere: short or bad, never success. */
		assert_int_not_equal(ft_zlib_inflate(z, zlen - 1, out,
		    sizeof(out), &got, NULL), 0);
		assert_int_not_equal(ft_zlib_inflate(z, zlen / 2, out,
		    sizeof(out), &got, NULL), 0);
		/* Too little room. */
		assert_int_equal(ft_zlib_inflate(z, zlen, out, jlen - 1, &got,
		    NULL), FT_INFLATE_FULL);
		/* A flipped bit in the Adler-32. */
		z[zlen - 1] ^= 1;
		assert_int_equal(ft_zlib_inflate(z, zlen, out, sizeof(out),
		    &got, NULL), FT_INFLATE_BAD);
		free(z);
	}
	free(json);
}

static void
test_inflate_small(void **state)
{
	uint8_t in[64], out[64];
	size_t n, got;

	(void)state;
	/* zlib.compress(b"hello hello hello hello", 9): fixed Huffman. */
	n = unhex("78dacb48cdc9c957c8402701680308b1", in);
	assert_int_equal(ft_zlib_inflate(in, n, out, sizeof(out), &got, NULL),
	    0);
	assert_int_equal(got, 23);
	assert_memory_equal(out, "hello hello hello hello", 23);
	/* zlib.compress(b""): an empty fixed block. */
	n = unhex("78da030000000001", in);
	assert_int_equal(ft_zlib_inflate(in, n, out, sizeof(out), &got, NULL),
	    0);
	assert_int_equal(got, 0);
	/* Not zlib: wrong method, FCHECK, a preset dictionary. */
	n = unhex("79da030000000001", in);
	assert_int_equal(ft_zlib_inflate(in, n, out, sizeof(out), &got, NULL),
	    FT_INFLATE_BAD);
	n = unhex("78db030000000001", in);
	assert_int_equal(ft_zlib_inflate(in, n, out, sizeof(out), &got, NULL),
	    FT_INFLATE_BAD);
	n = unhex("78f9030000000001", in);
	assert_int_equal(ft_zlib_inflate(in, n, out, sizeof(out), &got, NULL),
	    FT_INFLATE_BAD);
	/* Block type 3 is reserved. */
	n = unhex("07", in);
	assert_int_equal(ft_inflate_raw(in, n, out, sizeof(out), &got, NULL),
	    FT_INFLATE_BAD);
	/* A stored block whose NLEN does not match LEN. */
	n = unhex("01 03 00 fc fe 61 62 63", in);
	assert_int_equal(ft_inflate_raw(in, n, out, sizeof(out), &got, NULL),
	    FT_INFLATE_BAD);
	n = unhex("01 03 00 fc ff 61 62 63", in);
	assert_int_equal(ft_inflate_raw(in, n, out, sizeof(out), &got, NULL),
	    0);
	assert_memory_equal(out, "abc", 3);
	/* A back reference before the start (fixed block: length 3,
	 * distance 1, with no byte out yet). */
	n = unhex("03 02", in);
	assert_int_equal(ft_inflate_raw(in, n, out, sizeof(out), &got, NULL),
	    FT_INFLATE_BAD);
	assert_int_equal(ft_adler32((const uint8_t *)"Wikipedia", 9),
	    0x11E60398);
}

static void
test_dict_json(void **state)
{
	struct ft_kp_dict d;
	static const char good[] = "{\"app\":\"Klipper\",\"config\":{\"A\":[1,"
	    "{\"MCU\":\"no\"}],\"MCU\":\"stm32g0b1xx\"},\"version\":\"v1\"}";
	static const char other[] = "{\"app\":\"Kalico\",\"config\":{\"MCU\":"
	    "\"x\"}}";

	(void)state;
	assert_int_equal(ft_kp_dict_parse(good, strlen(good), &d), 0);
	assert_string_equal(d.mcu, "stm32g0b1xx");
	assert_string_equal(d.version, "v1");
	assert_int_equal(ft_kp_dict_parse(other, strlen(other), &d), -1);
	assert_int_equal(ft_kp_dict_parse(good, strlen(good) - 1, &d), -1);
	assert_int_equal(ft_kp_dict_parse("[", 1, &d), -1);
	assert_int_equal(ft_kp_dict_parse("{\"app\":", 7, &d), -1);
}

static void
test_dict_in_image(void **state)
{
	size_t zlen, i;
	uint8_t *z = fixture("kp-dict-stm32g0b1xx.z", &zlen);
	uint8_t *img = malloc(4096);
	struct ft_kp_dict d;
	uint64_t budget = 1 << 24;

	(void)state;
	/* Code-like bytes with stray zlib-looking headers, then the dict. */
	for (i = 0; i < 4096; i++)
		img[i] = (uint8_t)(i * 37 + (i >> 3));
	img[100] = 0x78;
	img[101] = 0x9c;
	memcpy(img + 1000, z, zlen);
	assert_int_equal(ft_kp_dict_find(img, 4096, &d, &budget), 1);
	assert_string_equal(d.mcu, "stm32g0b1xx");
	assert_string_equal(d.version, "v0.12.0-445-g0cd60f86");
	assert_int_equal(d.offset, 1000);
	/* Cut short: not found. */
	budget = 1 << 24;
	assert_int_equal(ft_kp_dict_find(img, 1000 + zlen - 2, &d, &budget),
	    0);
	/* No budget: not even tried. */
	budget = 0;
	assert_int_equal(ft_kp_dict_find(img, 4096, &d, &budget), 0);
	free(img);
	free(z);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_check_value),
		cmocka_unit_test(test_worked_frames),
		cmocka_unit_test(test_decoder_resync),
		cmocka_unit_test(test_connect_reply),
		cmocka_unit_test(test_connect_old_and_bad),
		cmocka_unit_test(test_uuids),
		cmocka_unit_test(test_can_admin),
		cmocka_unit_test(test_inflate_zlib_levels),
		cmocka_unit_test(test_inflate_small),
		cmocka_unit_test(test_dict_json),
		cmocka_unit_test(test_dict_in_image),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
