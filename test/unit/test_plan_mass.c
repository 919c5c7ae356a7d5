/*
 * Unit tests for the mass-erase choice (lib/core/plan.c): only flash of small
 * pages of one size qualifies, at least 8 page erases must be saved, and
 * what must be written back afterwards is at most an eighth of them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/core.h"

/* STM32F042: 32 pages of 1 KiB. */
static const struct ft_layout f042 = { 0x08000000, 1, { { 1024, 32 } } };
/* STM32G431: 64 pages of 2 KiB. */
static const struct ft_layout g431 = { 0x08000000, 1, { { 2048, 64 } } };
/* STM32F405: 4 x 16 KiB, 64 KiB, 7 x 128 KiB sectors. */
static const struct ft_layout f405 = {
	0x08000000, 3, { { 16384, 4 }, { 65536, 1 }, { 131072, 7 } }
};
/* Uniform but large units: 8 x 128 KiB (H7 bank). */
static const struct ft_layout h7 = { 0x08000000, 1, { { 131072, 8 } } };
/* Small pages of two sizes (a --layout): not a known page flash. */
static const struct ft_layout mixed = {
	0x08000000, 2, { { 1024, 16 }, { 2048, 8 } }
};
static const struct ft_layout empty = { 0x08000000, 0, { { 0, 0 } } };

static void
test_which_flash(void **state)
{
	(void)state;
	assert_int_equal(ft_plan_mass_is_cheap(&f042), 1);
	assert_int_equal(ft_plan_mass_is_cheap(&g431), 1);
	assert_int_equal(ft_plan_mass_is_cheap(&f405), 0);
	assert_int_equal(ft_plan_mass_is_cheap(&h7), 0);
	assert_int_equal(ft_plan_mass_is_cheap(&mixed), 0);
	assert_int_equal(ft_plan_mass_is_cheap(&empty), 0);
}

static void
test_thresholds(void **state)
{
	(void)state;
	/* The Cartographer case: 30 pages to erase, 2 to keep. */
	assert_int_equal(ft_plan_prefers_mass(&f042, 30, 2), 1);
	assert_int_equal(ft_plan_prefers_mass(&f042, 30, 3), 1);
	assert_int_equal(ft_plan_prefers_mass(&f042, 30, 4), 0);
	/* 24 pages with 8 to keep (a bootloader in front): pages. */
	assert_int_equal(ft_plan_prefers_mass(&f042, 24, 8), 0);
	/* Whole flash, nothing to keep. */
	assert_int_equal(ft_plan_prefers_mass(&f042, 32, 0), 1);
	/* Fewer than 8 erases saved: never. */
	assert_int_equal(ft_plan_prefers_mass(&f042, 7, 0), 0);
	assert_int_equal(ft_plan_prefers_mass(&f042, 8, 0), 1);
	assert_int_equal(ft_plan_prefers_mass(&f042, 8, 1), 1);
	assert_int_equal(ft_plan_prefers_mass(&f042, 8, 2), 0);
	assert_int_equal(ft_plan_prefers_mass(&g431, 60, 7), 1);
	assert_int_equal(ft_plan_prefers_mass(&g431, 60, 8), 0);
	/* Sector flash: never, whatever the counts. */
	assert_int_equal(ft_plan_prefers_mass(&f405, 12, 0), 0);
	assert_int_equal(ft_plan_prefers_mass(&h7, 8, 0), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_which_flash),
		cmocka_unit_test(test_thresholds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
