/*
 * test_dfu_parse.c - DfuSe layout strings (as real ROMs send them) and
 * .dfu files (suffix CRC, DfuSe prefix, truncation), against fixtures made
 * by dfu-util 0.11's dfu-suffix and dfuse-pack:
 *   dfu-suffix -v 0483 -p df11 -d 2200 -a dfu-plain.bin
 *     (payload: 100 bytes, byte i = i * 7 + 3)
 *   dfuse-pack -b 0x08000000@0:a.bin -b 0x08001000@0:b.bin
 *     -b 0x1FFFF800@1:c.bin dfu-dfuse.bin
 *     (a: 40 bytes i; b: 17 bytes 0xA0 + i; c: AA 55 x 8)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dfu/dfu.h"
#include "image/dfu_file.h"
#include "image/image.h"

#define KIB 1024u

struct seg_want {
	uint32_t start, page_size, npages;
	unsigned attr;
};

#define R FT_DFU_READABLE
#define E FT_DFU_ERASABLE
#define W FT_DFU_WRITABLE

static void
check_layout(const char *text, const char *name, size_t n,
    const struct seg_want *want)
{
	struct ft_dfu_layout l;
	size_t i;

	assert_int_equal(ft_dfu_layout_parse(NULL, text, &l), 0);
	assert_string_equal(l.name, name);
	assert_int_equal(l.nseg, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(l.seg[i].start, want[i].start);
		assert_int_equal(l.seg[i].page_size, want[i].page_size);
		assert_int_equal(l.seg[i].npages, want[i].npages);
		assert_int_equal(l.seg[i].attr, want[i].attr);
	}
}

static void
test_layout_f042(void **state)
{
	static const struct seg_want flash[] = {
		{ 0x08000000, 1 * KIB, 32, R | E | W },
	};
	static const struct seg_want ob[] = {
		{ 0x1FFFF800, 16, 1, R | W },
	};

	(void)state;
	check_layout("@Internal Flash  /0x08000000/032*0001Kg",
	    "Internal Flash", 1, flash);
	/* Space instead of the multiplier: bytes. */
	check_layout("@Option Bytes  /0x1FFFF800/01*016 e", "Option Bytes",
	    1, ob);
}

static void
test_layout_extra_digits(void **state)
{
	static const struct seg_want a[] = {
		{ 0x08000000, 2 * KIB, 64, R | E | W } };
	static const struct seg_want b[] = {
		{ 0x08000000, 2 * KIB, 128, R | E | W } };
	static const struct seg_want c[] = {
		{ 0x08000000, 2 * KIB, 256, R | E | W } };
	static const struct seg_want d[] = {
		{ 0x1FFF7800, 40, 1, R | W } };
	static const struct seg_want otp[] = {
		{ 0x1FFF7000, 1 * KIB, 1, R | W } };

	(void)state;
	check_layout("@Internal Flash  /0x08000000/064*0002Kg",
	    "Internal Flash", 1, a);
	check_layout("@Internal Flash  /0x08000000/128*002Kg",
	    "Internal Flash", 1, b);
	/* G0B1: trailing spaces in the name. */
	check_layout("@Internal Flash   /0x08000000/256*02Kg",
	    "Internal Flash", 1, c);
	check_layout("@Option Bytes /0x1FFF7800/01*40Be", "Option Bytes", 1,
	    d);
	check_layout("@Option Bytes /0x1FFF7800/01*040 e", "Option Bytes", 1,
	    d);
	check_layout("@OTP Memory /0x1FFF7000/01*0001Ke", "OTP Memory", 1,
	    otp);
}

static void
test_layout_multi(void **state)
{
	static const struct seg_want f4[] = {
		{ 0x08000000, 16 * KIB, 4, R | E | W },
		{ 0x08010000, 64 * KIB, 1, R | E | W },
		{ 0x08020000, 128 * KIB, 7, R | E | W },
	};
	static const struct seg_want zones[] = {
		{ 0x08000000, 16 * KIB, 2, R | E | W },
		{ 0x08010000, 64 * KIB, 1, R | E | W },
	};
	static const struct seg_want mixed[] = {
		{ 0x08000000, 1 * KIB, 8, R },
		{ 0x08002000, 1 * KIB, 120, R | E | W },
	};
	static const struct seg_want feat[] = {
		{ 0xFFFF0000, 4, 1, R | W },
	};
	static const struct seg_want mega[] = {
		{ 0x90000000, 1024 * KIB, 16, R | E | W },
		{ 0x91000000, 512, 2, E },
		{ 0x91000400, 8, 3, W },
	};

	(void)state;
	check_layout("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
	    "Internal Flash", 3, f4);
	check_layout("@Flash /0x08000000/02*016Kg/0x08010000/01*064Kg",
	    "Flash", 2, zones);
	check_layout("@Internal Flash /0x08000000/8*001Ka,120*001Kg",
	    "Internal Flash", 2, mixed);
	check_layout("@Device Feature/0xFFFF0000/01*004 e", "Device Feature",
	    1, feat);
	/* M multiplier, B multiplier, a type letter right after the size,
	 * and a trailing '/'. */
	check_layout("@X/0x90000000/16*1Mg,2*512Bb,3*8d/", "X", 3, mega);
}

static void
test_layout_garbage(void **state)
{
	static const char *const bad[] = {
		"",
		"Internal Flash /0x08000000/32*1Kg",	/* no '@' */
		"@Internal Flash",			/* no zone */
		"@Flash /08000000/32*1Kg",		/* no 0x */
		"@Flash /0x/32*1Kg",
		"@Flash /0x08000000",
		"@Flash /0x08000000/",
		"@Flash /0x08000000/32*1K",		/* no type */
		"@Flash /0x08000000/32*1Kh",		/* bad type */
		"@Flash /0x08000000/32x1Kg",
		"@Flash /0x08000000/*1Kg",
		"@Flash /0x08000000/32*Kg",
		"@Flash /0x08000000/0*1Kg",		/* empty */
		"@Flash /0x08000000/32*0Kg",
		"@Flash /0x08000000/32*1Kg,",
		"@Flash /0x08000000/32*1Kgx",
		"@Flash /0x08000000/32*1Kg;",
		"@Flash /0x123456789/32*1Kg",		/* > 32 bits */
		"@Flash /0xFFFF0000/65*1Kg",		/* past 4 GiB */
		"@Flash /0x08000000/99999999999*1Kg",
		"@Flash /0x08000000/1*4096Mg",
		"@F/0x0/1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,"
		    "1*1a,1*1a,1*1a,1*1a,1*1a,1*1a,1*1a",	/* 17 groups */
	};
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_dfu_layout l;
	size_t i;

	(void)state;
	assert_non_null(ctx);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ft_clear_detail(ctx);
		if (ft_dfu_layout_parse(ctx, bad[i], &l) != FT_E_FORMAT)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(strstr(ft_errdetail(ctx), "DfuSe layout"));
	}
	assert_int_equal(ft_dfu_layout_parse(ctx, NULL, &l), FT_E_FORMAT);
	/* The column of the first bad character. */
	assert_int_equal(ft_dfu_layout_parse(ctx,
	    "@Flash /0x08000000/32*1Kh", &l), FT_E_FORMAT);
	assert_non_null(strstr(ft_errdetail(ctx), "column 25"));
	ft_ctx_free(ctx);
}

static void
test_layout_flash(void **state)
{
	struct ft_dfu_layout l;
	struct ft_layout fl;
	const struct ft_dfu_seg *g;

	(void)state;
	assert_int_equal(ft_dfu_layout_parse(NULL,
	    "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg", &l), 0);
	assert_int_equal(ft_dfu_layout_flash(NULL, &l, 0x08000000, &fl), 0);
	assert_int_equal(fl.base, 0x08000000);
	assert_int_equal(fl.nruns, 3);
	assert_int_equal(fl.runs[0].size, 16 * KIB);
	assert_int_equal(fl.runs[0].count, 4);
	assert_int_equal(fl.runs[1].size, 64 * KIB);
	assert_int_equal(fl.runs[1].count, 1);
	assert_int_equal(fl.runs[2].size, 128 * KIB);
	assert_int_equal(fl.runs[2].count, 7);
	/* Any address inside gives the same layout. */
	assert_int_equal(ft_dfu_layout_flash(NULL, &l, 0x080FFFFF, &fl), 0);
	assert_int_equal(fl.base, 0x08000000);
	assert_int_equal(fl.nruns, 3);
	assert_int_equal(ft_dfu_layout_flash(NULL, &l, 0x08100000, &fl),
	    FT_E_RANGE);
	g = ft_dfu_layout_find(&l, 0x08010000);
	assert_non_null(g);
	assert_int_equal(g->page_size, 64 * KIB);
	assert_null(ft_dfu_layout_find(&l, 0x07FFFFFF));

	/* Two zones with a gap: only the one holding the address. */
	assert_int_equal(ft_dfu_layout_parse(NULL,
	    "@Flash /0x08000000/02*016Kg/0x08010000/01*064Kg", &l), 0);
	assert_int_equal(ft_dfu_layout_flash(NULL, &l, 0x08004000, &fl), 0);
	assert_int_equal(fl.base, 0x08000000);
	assert_int_equal(fl.nruns, 1);
	assert_int_equal(fl.runs[0].count, 2);
	assert_int_equal(ft_dfu_layout_flash(NULL, &l, 0x08010000, &fl), 0);
	assert_int_equal(fl.base, 0x08010000);
	assert_int_equal(fl.nruns, 1);
	assert_int_equal(fl.runs[0].size, 64 * KIB);
	assert_int_equal(ft_dfu_layout_flash(NULL, &l, 0x08008000, &fl),
	    FT_E_RANGE);

	/* Contiguous zones merge; equal page sizes merge into one run. */
	assert_int_equal(ft_dfu_layout_parse(NULL,
	    "@Flash /0x08000000/02*016Kg/0x08008000/02*016Kg,1*64Kg", &l), 0);
	assert_int_equal(ft_dfu_layout_flash(NULL, &l, 0x08010000, &fl), 0);
	assert_int_equal(fl.base, 0x08000000);
	assert_int_equal(fl.nruns, 2);
	assert_int_equal(fl.runs[0].size, 16 * KIB);
	assert_int_equal(fl.runs[0].count, 4);
	assert_int_equal(fl.runs[1].size, 64 * KIB);
	assert_int_equal(fl.runs[1].count, 1);

	/* Read-only groups are not flash we may write. */
	assert_int_equal(ft_dfu_layout_parse(NULL,
	    "@Internal Flash /0x08000000/8*001Ka,120*001Kg", &l), 0);
	assert_int_equal(ft_dfu_layout_flash(NULL, &l, 0x08000000, &fl),
	    FT_E_RANGE);
	assert_int_equal(ft_dfu_layout_flash(NULL, &l, 0x08002000, &fl), 0);
	assert_int_equal(fl.base, 0x08002000);
	assert_int_equal(fl.nruns, 1);
	assert_int_equal(fl.runs[0].size, 1 * KIB);
	assert_int_equal(fl.runs[0].count, 120);

	/* Option bytes (R+W, not erasable) are still a layout. */
	assert_int_equal(ft_dfu_layout_parse(NULL,
	    "@Option Bytes  /0x1FFFF800/01*016 e", &l), 0);
	assert_int_equal(ft_dfu_layout_flash(NULL, &l, 0x1FFFF800, &fl), 0);
	assert_int_equal(fl.base, 0x1FFFF800);
	assert_int_equal(fl.runs[0].size, 16);
}

/* Fixtures live in test/data next to this directory. */
static uint8_t *
load_fixture(const char *file, size_t *len)
{
	char path[512];
	const char *dir = __FILE__;
	const char *slash = strrchr(dir, '/');
	FILE *f;
	uint8_t *buf;
	long n;

	if (slash != NULL)
		snprintf(path, sizeof(path), "%.*s/../data/%s",
		    (int)(slash - dir), dir, file);
	else
		snprintf(path, sizeof(path), "../data/%s", file);
	f = fopen(path, "rb");
	if (f == NULL) {
		snprintf(path, sizeof(path), "test/data/%s", file);
		f = fopen(path, "rb");
	}
	if (f == NULL)
		fail_msg("cannot open fixture %s", file);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
image_release(struct ft_image *img)
{
	size_t i;

	for (i = 0; i < img->nseg; i++)
		free(img->seg[i].data);
	free(img->seg);
	free(img);
}

static void
put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

/* Append a suffix to buf[0..len) (room for 16 more bytes). */
static size_t
add_suffix(uint8_t *buf, size_t len, uint16_t vid, uint16_t pid,
    uint16_t bcd_dfu)
{
	uint8_t *s = buf + len;

	put_le16(s + 0, 0xFFFF);
	put_le16(s + 2, pid);
	put_le16(s + 4, vid);
	put_le16(s + 6, bcd_dfu);
	memcpy(s + 8, "UFD", 3);
	s[11] = 16;
	ft_put_le32(s + 12, ft_dfu_crc(FT_DFU_CRC_INIT, buf, len + 12));
	return len + 16;
}

static void
test_crc(void **state)
{
	(void)state;
	/* CRC-32 check value of "123456789" is 0xCBF43926 after the final
	 * XOR, which the DFU suffix leaves out. */
	assert_int_equal(ft_dfu_crc(FT_DFU_CRC_INIT,
	    (const uint8_t *)"123456789", 9), ~0xCBF43926u);
	assert_int_equal(ft_dfu_crc(FT_DFU_CRC_INIT, NULL, 0),
	    FT_DFU_CRC_INIT);
}

static void
test_suffix_fixture(void **state)
{
	size_t len, i;
	uint8_t *buf = load_fixture("dfu-plain.bin", &len);
	struct ft_dfu_suffix s;
	struct ft_image *img = NULL;
	struct ft_ctx *ctx = ft_ctx_new();

	(void)state;
	assert_int_equal(len, 116);
	assert_int_equal(ft_dfu_suffix_parse(ctx, "plain", buf, len, &s), 0);
	/* The CRC dfu-suffix wrote. */
	assert_int_equal(s.crc, 0x5412BA3C);
	assert_int_equal(ft_dfu_crc(FT_DFU_CRC_INIT, buf, len - 4),
	    0x5412BA3C);
	assert_int_equal(s.vid, 0x0483);
	assert_int_equal(s.pid, 0xDF11);
	assert_int_equal(s.bcd_device, 0x2200);
	assert_int_equal(s.bcd_dfu, 0x0100);
	assert_int_equal(s.length, 16);
	assert_int_equal(ft_dfu_suffix_check(ctx, &s, 0x0483, 0xDF11), 0);
	assert_int_equal(ft_dfu_suffix_check(ctx, &s, 0x0483, 0xDF12),
	    FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "0483:df11"));

	assert_int_equal(ft_dfu_file_parse(ctx, "plain", buf, len, 0x08002000,
	    &img, &s), 0);
	assert_int_equal(img->format, FT_FMT_DFU);
	assert_int_equal(img->nseg, 1);
	assert_int_equal(img->seg[0].addr, 0x08002000);
	assert_int_equal(img->seg[0].len, 100);
	assert_int_equal(img->seg[0].alt, -1);
	for (i = 0; i < 100; i++)
		assert_int_equal(img->seg[0].data[i], (uint8_t)(i * 7 + 3));
	image_release(img);

	/* One flipped bit: FT_E_FORMAT naming the file. */
	buf[50] ^= 0x10;
	img = NULL;
	assert_int_equal(ft_dfu_image_parse(ctx, "fw.dfu", buf, len, 0, &img),
	    FT_E_FORMAT);
	assert_null(img);
	assert_non_null(strstr(ft_errdetail(ctx), "fw.dfu"));
	assert_non_null(strstr(ft_errdetail(ctx), "CRC"));
	buf[50] ^= 0x10;
	/* So does a damaged CRC field. */
	buf[len - 1] ^= 0x01;
	assert_int_equal(ft_dfu_image_parse(ctx, "fw.dfu", buf, len, 0, &img),
	    FT_E_FORMAT);
	buf[len - 1] ^= 0x01;

	/* No signature: not ours. */
	assert_int_equal(ft_dfu_image_parse(ctx, "raw.bin", buf, len - 16, 0,
	    &img), FT_E_NOT_SUPPORTED);
	assert_non_null(strstr(ft_errdetail(ctx), "no DFU suffix"));
	assert_int_equal(ft_dfu_image_parse(ctx, "tiny", buf, 15, 0, &img),
	    FT_E_NOT_SUPPORTED);
	free(buf);
	ft_ctx_free(ctx);
}

static void
test_suffix_built(void **state)
{
	uint8_t buf[64];
	size_t len;
	struct ft_dfu_suffix s;
	struct ft_image *img = NULL;

	(void)state;
	memset(buf, 0x11, sizeof(buf));
	len = add_suffix(buf, 20, 0xFFFF, 0xFFFF, 0x0100);
	assert_int_equal(ft_dfu_suffix_parse(NULL, "x", buf, len, &s), 0);
	/* 0xFFFF matches any device. */
	assert_int_equal(ft_dfu_suffix_check(NULL, &s, 0x1234, 0x5678), 0);

	/* Suffix only: an empty image. */
	len = add_suffix(buf, 0, 0x0483, 0xDF11, 0x0100);
	assert_int_equal(ft_dfu_image_parse(NULL, "x", buf, len, 0, &img), 0);
	assert_int_equal(img->nseg, 0);
	image_release(img);

	/* bLength below 16 or beyond the file. */
	len = add_suffix(buf, 20, 0x0483, 0xDF11, 0x0100);
	buf[len - 5] = 15;
	ft_put_le32(buf + len - 4, ft_dfu_crc(FT_DFU_CRC_INIT, buf, len - 4));
	assert_int_equal(ft_dfu_suffix_parse(NULL, "x", buf, len, &s),
	    FT_E_FORMAT);
	buf[len - 5] = 37;
	ft_put_le32(buf + len - 4, ft_dfu_crc(FT_DFU_CRC_INIT, buf, len - 4));
	assert_int_equal(ft_dfu_suffix_parse(NULL, "x", buf, len, &s),
	    FT_E_FORMAT);
	/* A longer bLength strips more. */
	buf[len - 5] = 20;
	ft_put_le32(buf + len - 4, ft_dfu_crc(FT_DFU_CRC_INIT, buf, len - 4));
	assert_int_equal(ft_dfu_image_parse(NULL, "x", buf, len, 0x100, &img),
	    0);
	assert_int_equal(img->nseg, 1);
	assert_int_equal(img->seg[0].len, 16);
	assert_int_equal(img->seg[0].addr, 0x100);
	image_release(img);

	/* A DfuSe suffix on a payload that has no DfuSe prefix. */
	len = add_suffix(buf, 20, 0x0483, 0xDF11, FT_DFUSE_BCD);
	assert_int_equal(ft_dfu_image_parse(NULL, "x", buf, len, 0, &img),
	    FT_E_FORMAT);
	/* A plain payload past 4 GiB. */
	len = add_suffix(buf, 20, 0x0483, 0xDF11, 0x0100);
	assert_int_equal(ft_dfu_image_parse(NULL, "x", buf, len, 0xFFFFFFF0,
	    &img), FT_E_RANGE);
}

static void
test_dfuse_fixture(void **state)
{
	size_t len, i;
	uint8_t *buf = load_fixture("dfu-dfuse.bin", &len);
	struct ft_dfu_suffix s;
	struct ft_image *img = NULL;

	(void)state;
	assert_int_equal(len, 672);
	assert_int_equal(ft_dfu_file_parse(NULL, "dfuse", buf, len, 0, &img,
	    &s), 0);
	assert_int_equal(s.bcd_dfu, 0x011A);
	assert_int_equal(s.vid, 0x0483);
	assert_int_equal(s.pid, 0xDF11);
	assert_int_equal(s.bcd_device, 0x0000);
	assert_int_equal(s.crc, 0x38E2AFF1);
	assert_int_equal(img->format, FT_FMT_DFU);
	assert_int_equal(img->nseg, 3);
	assert_int_equal(img->seg[0].alt, 0);
	assert_int_equal(img->seg[0].addr, 0x08000000);
	assert_int_equal(img->seg[0].len, 40);
	for (i = 0; i < 40; i++)
		assert_int_equal(img->seg[0].data[i], i);
	assert_int_equal(img->seg[1].alt, 0);
	assert_int_equal(img->seg[1].addr, 0x08001000);
	assert_int_equal(img->seg[1].len, 17);
	for (i = 0; i < 17; i++)
		assert_int_equal(img->seg[1].data[i], 0xA0 + i);
	assert_int_equal(img->seg[2].alt, 1);
	assert_int_equal(img->seg[2].addr, 0x1FFFF800);
	assert_int_equal(img->seg[2].len, 16);
	assert_int_equal(img->seg[2].data[0], 0xAA);
	assert_int_equal(img->seg[2].data[15], 0x55);
	image_release(img);
	free(buf);
}

static void
test_dfuse_truncated(void **state)
{
	size_t len, cut;
	uint8_t *buf = load_fixture("dfu-dfuse.bin", &len);
	uint8_t *copy = malloc(len);
	struct ft_image *img = NULL;
	struct ft_ctx *ctx = ft_ctx_new();
	size_t plen = len - 16;

	(void)state;
	assert_non_null(copy);
	/*
	 * Cut the payload at every length and re-seal it with a good suffix:
	 * every cut must fail cleanly (and ASan sees no over-read).
	 */
	for (cut = 0; cut < plen; cut++) {
		size_t n;

		memcpy(copy, buf, cut);
		n = add_suffix(copy, cut, 0x0483, 0xDF11, FT_DFUSE_BCD);
		img = NULL;
		if (ft_dfu_image_parse(ctx, "cut", copy, n, 0, &img) !=
		    FT_E_FORMAT)
			fail_msg("cut at %zu accepted", cut);
		assert_null(img);
	}
	/* The file itself cut short: the suffix is gone. */
	assert_int_equal(ft_dfu_image_parse(ctx, "cut", buf, len - 1, 0,
	    &img), FT_E_NOT_SUPPORTED);

	/* An element size larger than its target. */
	memcpy(copy, buf, plen);
	ft_put_le32(copy + 11 + 274 + 4, 0x100);
	add_suffix(copy, plen, 0x0483, 0xDF11, FT_DFUSE_BCD);
	assert_int_equal(ft_dfu_image_parse(ctx, "big", copy, len, 0, &img),
	    FT_E_FORMAT);
	assert_non_null(strstr(ft_errdetail(ctx), "big"));
	/* A target size past the end of the file. */
	memcpy(copy, buf, plen);
	ft_put_le32(copy + 11 + 266, 0x10000);
	add_suffix(copy, plen, 0x0483, 0xDF11, FT_DFUSE_BCD);
	assert_int_equal(ft_dfu_image_parse(ctx, "big", copy, len, 0, &img),
	    FT_E_FORMAT);
	/* Wrong version, wrong target signature. */
	memcpy(copy, buf, plen);
	copy[5] = 2;
	add_suffix(copy, plen, 0x0483, 0xDF11, FT_DFUSE_BCD);
	assert_int_equal(ft_dfu_image_parse(ctx, "v", copy, len, 0, &img),
	    FT_E_FORMAT);
	memcpy(copy, buf, plen);
	copy[11] = 't';
	add_suffix(copy, plen, 0x0483, 0xDF11, FT_DFUSE_BCD);
	assert_int_equal(ft_dfu_image_parse(ctx, "t", copy, len, 0, &img),
	    FT_E_FORMAT);
	/* Two targets announced, three present: stray bytes. */
	memcpy(copy, buf, plen);
	copy[10] = 1;
	add_suffix(copy, plen, 0x0483, 0xDF11, FT_DFUSE_BCD);
	assert_int_equal(ft_dfu_image_parse(ctx, "n", copy, len, 0, &img),
	    FT_E_FORMAT);
	assert_non_null(strstr(ft_errdetail(ctx), "stray"));
	/* Overlapping elements in one alt: move element 2 onto element 1. */
	memcpy(copy, buf, plen);
	ft_put_le32(copy + 11 + 274 + 8 + 40, 0x08000010);
	add_suffix(copy, plen, 0x0483, 0xDF11, FT_DFUSE_BCD);
	assert_int_equal(ft_dfu_image_parse(ctx, "o", copy, len, 0, &img),
	    FT_E_FORMAT);
	assert_non_null(strstr(ft_errdetail(ctx), "overlap"));
	free(copy);
	free(buf);
	ft_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout_f042),
		cmocka_unit_test(test_layout_extra_digits),
		cmocka_unit_test(test_layout_multi),
		cmocka_unit_test(test_layout_garbage),
		cmocka_unit_test(test_layout_flash),
		cmocka_unit_test(test_crc),
		cmocka_unit_test(test_suffix_fixture),
		cmocka_unit_test(test_suffix_built),
		cmocka_unit_test(test_dfuse_fixture),
		cmocka_unit_test(test_dfuse_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
