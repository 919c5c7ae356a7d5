/*
 * Unit tests for the erase planner's growth and its bound (lib/core/plan.c):
 * lists grown by doubling stay sorted and unique whatever order ranges
 * arrive in, and a layout of more than 65536 units (a device or --layout
 * claiming millions of tiny pages) is refused, not allocated.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"

/* 1-byte units from 0x1000: unit index = address - 0x1000. */
static const struct ft_layout tiny = {
	0x1000, 1, { { 1, 0x100000 } }
};

static void
test_order_and_growth(void **state)
{
	struct ft_erase_unit *u = NULL;
	size_t n = 0, i;
	uint32_t k;

	(void)state;
	/* 1000 single units in a scrambled order (7 is prime to 1000),
	 * each twice: every power-of-two boundary is crossed. */
	for (i = 0; i < 2000; i++) {
		k = (uint32_t)((i * 7u) % 1000u);
		assert_int_equal(ft_plan_range(NULL, &tiny, 0x1000 + k, 1,
		    &u, &n), 0);
	}
	assert_int_equal(n, 1000);
	for (i = 0; i < n; i++) {
		assert_int_equal(u[i].index, i);
		assert_int_equal(u[i].addr, 0x1000 + i);
		assert_int_equal(u[i].size, 1);
	}
	free(u);
}

static void
test_limit(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_erase_unit *u = NULL;
	size_t n = 0;

	(void)state;
	assert_non_null(ctx);
	/* Exactly 65536 units: accepted. */
	assert_int_equal(ft_plan_range(ctx, &tiny, 0x1000, 65536, &u, &n), 0);
	assert_int_equal(n, 65536);
	assert_int_equal(u[65535].addr, 0x1000 + 65535);
	/* One more: refused with the layout named, the list intact. */
	assert_int_equal(ft_plan_range(ctx, &tiny, 0x1000 + 65536, 1, &u, &n),
	    FT_E_NOT_SUPPORTED);
	assert_int_equal(n, 65536);
	assert_non_null(strstr(ft_errdetail(ctx), "more than 65536 erase "
	    "units"));
	/* Units already planned are still accepted (no growth needed). */
	assert_int_equal(ft_plan_range(ctx, &tiny, 0x1000, 16, &u, &n), 0);
	assert_int_equal(n, 65536);
	free(u);
	ft_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_and_growth),
		cmocka_unit_test(test_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
