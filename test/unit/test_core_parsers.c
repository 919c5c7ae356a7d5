/*
 * Unit tests for the pure pieces of the core: number and range parsing,
 * layouts, the erase planner, ST's CRC and the error tables.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"

static void
test_parse_u32(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(ft_parse_u32("0", 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ft_parse_u32("0x08000000", 0, &v), 0);
	assert_int_equal(v, 0x08000000);
	assert_int_equal(ft_parse_u32("4096", 0, &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(ft_parse_u32("16K", 1, &v), 0);
	assert_int_equal(v, 16384);
	assert_int_equal(ft_parse_u32("2M", 1, &v), 0);
	assert_int_equal(v, 2 * 1024 * 1024);
	assert_int_equal(ft_parse_u32("0xFFFFFFFF", 0, &v), 0);
	assert_int_equal(v, 0xFFFFFFFFu);
	assert_int_equal(ft_parse_u32("0x100000000", 0, &v), FT_E_INVALID);
	assert_int_equal(ft_parse_u32("16K", 0, &v), FT_E_INVALID);
	assert_int_equal(ft_parse_u32("4096M", 1, &v), FT_E_INVALID);
	assert_int_equal(ft_parse_u32("-1", 0, &v), FT_E_INVALID);
	assert_int_equal(ft_parse_u32(" 1", 0, &v), FT_E_INVALID);
	assert_int_equal(ft_parse_u32("0x", 0, &v), FT_E_INVALID);
	assert_int_equal(ft_parse_u32("", 0, &v), FT_E_INVALID);
	assert_int_equal(ft_parse_u32("12abc", 0, &v), FT_E_INVALID);
}

static void
test_parse_addr_len(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	uint32_t a, l;
	int has;

	(void)state;
	assert_int_equal(ft_parse_addr_len(ctx, "0x08000000:4096", &a, &l,
	    &has), 0);
	assert_int_equal(a, 0x08000000);
	assert_int_equal(l, 4096);
	assert_true(has);
	assert_int_equal(ft_parse_addr_len(ctx, "0x08004000", &a, &l, &has),
	    0);
	assert_false(has);
	assert_int_equal(ft_parse_addr_len(ctx, "0x08000000:16K", &a, &l,
	    &has), 0);
	assert_int_equal(l, 16384);
	assert_int_equal(ft_parse_addr_len(ctx, "0x08000000:0", &a, &l,
	    &has), FT_E_INVALID);
	assert_int_equal(ft_parse_addr_len(ctx, "0xFFFFFF00:0x200", &a, &l,
	    &has), FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "4 GiB"));
	assert_int_equal(ft_parse_addr_len(ctx, "0xFFFFFF00:0x100", &a, &l,
	    &has), 0);
	assert_int_equal(ft_parse_addr_len(ctx, "zz:1", &a, &l, &has),
	    FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "bad address"));
	ft_ctx_free(ctx);
}

static const struct ft_layout f401 = {
	.base = 0x08000000,
	.nruns = 3,
	.runs = { { 16384, 4 }, { 65536, 1 }, { 131072, 1 } },
};

static void
test_layout(void **state)
{
	uint32_t idx, start, size;
	struct ft_layout l;
	struct ft_ctx *ctx = ft_ctx_new();

	(void)state;
	assert_int_equal(ft_layout_size(&f401), 256 * 1024);
	assert_int_equal(ft_layout_units(&f401), 6);
	assert_int_equal(ft_layout_find(&f401, 0x08000000, &idx, &start,
	    &size), 0);
	assert_int_equal(idx, 0);
	assert_int_equal(ft_layout_find(&f401, 0x0800FFFF, &idx, &start,
	    &size), 0);
	assert_int_equal(idx, 3);
	assert_int_equal(start, 0x0800C000);
	assert_int_equal(ft_layout_find(&f401, 0x08010000, &idx, &start,
	    &size), 0);
	assert_int_equal(idx, 4);
	assert_int_equal(size, 65536);
	assert_int_equal(ft_layout_find(&f401, 0x0803FFFF, &idx, &start,
	    &size), 0);
	assert_int_equal(idx, 5);
	assert_int_equal(start, 0x08020000);
	assert_int_equal(ft_layout_find(&f401, 0x08040000, &idx, &start,
	    &size), FT_E_RANGE);
	assert_int_equal(ft_layout_find(&f401, 0x07FFFFFF, &idx, &start,
	    &size), FT_E_RANGE);

	assert_int_equal(ft_layout_parse(ctx,
	    "0x08000000:4x16K,1x64K,1x128K", &l), 0);
	assert_memory_equal(&l, &f401, sizeof(l));
	assert_int_equal(ft_layout_parse(ctx, "0x08000000:64x2K", &l), 0);
	assert_int_equal(l.nruns, 1);
	assert_int_equal(l.runs[0].size, 2048);
	assert_int_equal(l.runs[0].count, 64);
	assert_int_equal(ft_layout_parse(ctx, "0x08000000", &l),
	    FT_E_INVALID);
	assert_int_equal(ft_layout_parse(ctx, "0x08000000:64", &l),
	    FT_E_INVALID);
	assert_int_equal(ft_layout_parse(ctx, "0x08000000:0x2K", &l),
	    FT_E_INVALID);
	assert_int_equal(ft_layout_parse(ctx, "0xF0000000:3x128M", &l),
	    FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "4 GiB"));
	assert_int_equal(ft_layout_parse(ctx,
	    "0:1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1,1x1", &l), FT_E_INVALID);
	ft_ctx_free(ctx);
}

struct plan_case {
	const char *name;
	struct { uint32_t addr, len; } ranges[3];
	int nranges;
	int rc;
	uint32_t want[8];
	size_t nwant;
};

static const struct plan_case plan_cases[] = {
	{ "first byte", { { 0x08000000, 1 } }, 1, 0, { 0 }, 1 },
	{ "exactly one sector", { { 0x08004000, 0x4000 } }, 1, 0, { 1 }, 1 },
	{ "straddles 16K/64K", { { 0x0800C000, 0x4001 } }, 1, 0, { 3, 4 }, 2 },
	{ "sparse: gap not erased",
	  { { 0x08000000, 16 }, { 0x08020000, 16 } }, 2, 0, { 0, 5 }, 2 },
	{ "unsorted and duplicate ranges",
	  { { 0x08020000, 4 }, { 0x08000010, 4 }, { 0x08000000, 4 } }, 3, 0,
	  { 0, 5 }, 2 },
	{ "whole flash", { { 0x08000000, 0x40000 } }, 1, 0,
	  { 0, 1, 2, 3, 4, 5 }, 6 },
	{ "one byte past the end", { { 0x08000000, 0x40001 } }, 1,
	  FT_E_RANGE, { 0 }, 0 },
	{ "below flash", { { 0x07FFFFFC, 8 } }, 1, FT_E_RANGE, { 0 }, 0 },
};

static void
test_plan(void **state)
{
	size_t c, i;

	(void)state;
	for (c = 0; c < sizeof(plan_cases) / sizeof(plan_cases[0]); c++) {
		const struct plan_case *pc = &plan_cases[c];
		struct ft_erase_unit *u = NULL;
		size_t n = 0;
		int rc = 0, r;

		for (r = 0; r < pc->nranges && rc == 0; r++)
			rc = ft_plan_range(NULL, &f401, pc->ranges[r].addr,
			    pc->ranges[r].len, &u, &n);
		if (rc != pc->rc)
			fail_msg("%s: rc %d, want %d", pc->name, rc, pc->rc);
		if (pc->rc == 0) {
			if (n != pc->nwant)
				fail_msg("%s: %zu units, want %zu", pc->name,
				    n, pc->nwant);
			for (i = 0; i < n; i++) {
				uint32_t s, sz, idx;

				assert_int_equal(u[i].index, pc->want[i]);
				assert_int_equal(ft_layout_find(&f401,
				    u[i].addr, &idx, &s, &sz), 0);
				assert_int_equal(idx, u[i].index);
				assert_int_equal(s, u[i].addr);
				assert_int_equal(sz, u[i].size);
			}
		}
		free(u);
	}
}

static void
test_plan_image(void **state)
{
	uint8_t data[8] = { 0 };
	struct ft_segment seg[2] = {
		{ 0x08000100, 8, data, -1 },
		{ 0x08010000, 8, data, -1 },
	};
	struct ft_span img = { seg, 2 };
	struct ft_erase_unit *u = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(ft_plan_span(NULL, &f401, img, &u, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(u[0].index, 0);
	assert_int_equal(u[1].index, 4);
	assert_int_equal(u[1].addr, 0x08010000);
	free(u);
}

static void
test_crc32_stm(void **state)
{
	uint8_t buf[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)i;
	/* Reference values from an independent bitwise model. */
	assert_int_equal(ft_crc32_stm(FT_CRC32_STM_INIT,
	    (const uint8_t *)"12345678", 8), 0xfefc54f9u);
	assert_int_equal(ft_crc32_stm(FT_CRC32_STM_INIT, buf, 256),
	    0xb7ec66f4u);
	/* Incremental use gives the same result. */
	assert_int_equal(ft_crc32_stm(ft_crc32_stm(FT_CRC32_STM_INIT, buf,
	    128), buf + 128, 128), 0xb7ec66f4u);
}

static void
test_error_tables(void **state)
{
	int e;

	(void)state;
	for (e = 0; e > -FT_ERR_COUNT; e--) {
		assert_string_not_equal(ft_errname(e), "FT_E_UNKNOWN");
		assert_string_not_equal(ft_strerror(e), "unknown error");
	}
	assert_string_equal(ft_errname(FT_E_LEAVE), "FT_E_LEAVE");
	assert_string_equal(ft_errname(FT_E_VERIFY), "FT_E_VERIFY");
	assert_string_equal(ft_errname(-FT_ERR_COUNT), "FT_E_UNKNOWN");
	assert_string_equal(ft_errname(1), "FT_E_UNKNOWN");
}

static void
log_collect(enum ft_log_level level, const char *msg, void *user)
{
	char *buf = user;

	(void)level;
	strncat(buf, msg, 255 - strlen(buf));
}

static void
test_ctx_detail_and_log(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	char logbuf[256] = "";

	(void)state;
	assert_string_equal(ft_errdetail(ctx), "");
	assert_int_equal(ft_fail(ctx, FT_E_NACK, "write at 0x%08x", 0x800u),
	    FT_E_NACK);
	assert_string_equal(ft_errdetail(ctx), "write at 0x00000800");
	/* A detail may quote the one before it (valgrind saw overlap). */
	ft_fail(ctx, FT_E_PROTOCOL, "resync: %s", ft_errdetail(ctx));
	assert_string_equal(ft_errdetail(ctx), "resync: write at 0x00000800");
	ft_fail_more(ctx, FT_E_PROTOCOL, " [%s]", ft_errdetail(ctx));
	assert_string_equal(ft_errdetail(ctx), "resync: write at 0x00000800 "
	    "[resync: write at 0x00000800]");
	ft_set_log(ctx, FT_LOG_WARN, log_collect, logbuf);
	ft_info(ctx, "hidden");
	ft_warn(ctx, "shown %d", 1);
	assert_string_equal(logbuf, "shown 1");
	ft_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_u32),
		cmocka_unit_test(test_parse_addr_len),
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_plan_image),
		cmocka_unit_test(test_crc32_stm),
		cmocka_unit_test(test_error_tables),
		cmocka_unit_test(test_ctx_detail_and_log),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
