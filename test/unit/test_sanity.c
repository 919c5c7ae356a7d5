/*
 * Unit tests for the vector-table check (lib/image/vectors.c): the Neptune 4
 * accident (an app linked for 0x08008000 written at 0x08000000), its
 * mirror image, and data that is not a vector table at all.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ft_int.h"

static uint8_t data[4096];

static void
make_image(struct ft_image *img, struct ft_segment *seg, uint32_t addr,
    uint32_t sp, uint32_t reset)
{
	memset(data, 0xA5, sizeof(data));
	ft_put_le32(data, sp);
	ft_put_le32(data + 4, reset);
	seg->addr = addr;
	seg->len = sizeof(data);
	seg->data = data;
	seg->alt = -1;
	img->format = FT_FMT_BINARY;
	img->nseg = 1;
	img->seg = seg;
}

static void
device(struct ft_devinfo *info, uint16_t pid)
{
	memset(info, 0, sizeof(*info));
	info->chip = ft_chip_by_pid(pid);
	ft_chip_layout(info->chip, &info->flash);
}

static void
test_linked_for_bootloader_offset(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_devinfo info;
	struct ft_segment seg;
	struct ft_image img;

	(void)state;
	/* STM32F401 (Neptune 4 style): app linked at 0x08008000. */
	device(&info, 0x423);
	make_image(&img, &seg, 0x08000000, 0x20010000, 0x08008195);
	assert_int_equal(ft_image_check_vectors(ctx, &img, &info),
	    FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "probably 0x08008000"));
	assert_non_null(strstr(ft_errdetail(ctx), "replace the bootloader"));
	assert_non_null(strstr(ft_errdetail(ctx), "-S 0x08008000"));
	/* Written where it belongs: fine. */
	seg.addr = 0x08008000;
	assert_int_equal(ft_image_check_vectors(ctx, &img, &info), 0);
	/* Katapult's 8 KiB offset on an F042. */
	device(&info, 0x445);
	make_image(&img, &seg, 0x08000000, 0x20001800, 0x08002101);
	assert_int_equal(ft_image_check_vectors(ctx, &img, &info),
	    FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "probably 0x08002000"));
	ft_ctx_free(ctx);
}

static void
test_linked_for_flash_start(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_devinfo info;
	struct ft_segment seg;
	struct ft_image img;

	(void)state;
	/* An image for 0x08000000 written after a bootloader. */
	device(&info, 0x410);
	make_image(&img, &seg, 0x08002000, 0x20005000, 0x080001d1);
	assert_int_equal(ft_image_check_vectors(ctx, &img, &info),
	    FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "probably 0x08000000"));
	assert_null(strstr(ft_errdetail(ctx), "replace the bootloader"));
	ft_ctx_free(ctx);
}

static void
test_not_a_vector_table(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_devinfo info;
	struct ft_segment seg;
	struct ft_image img;

	(void)state;
	device(&info, 0x423);
	/* Stack pointer outside RAM: data, not judged. */
	make_image(&img, &seg, 0x08000000, 0x12345678, 0x08008195);
	assert_int_equal(ft_image_check_vectors(ctx, &img, &info), 0);
	/* Even reset vector: not Thumb code, not judged. */
	make_image(&img, &seg, 0x08000000, 0x20010000, 0x08008194);
	assert_int_equal(ft_image_check_vectors(ctx, &img, &info), 0);
	/* Reset vector in RAM (code run from RAM): not judged. */
	make_image(&img, &seg, 0x08000000, 0x20010000, 0x20000101);
	assert_int_equal(ft_image_check_vectors(ctx, &img, &info), 0);
	/* Stack above the chip's RAM: not a vector table for this chip. */
	make_image(&img, &seg, 0x08000000, 0x20020000, 0x08008195);
	assert_int_equal(ft_image_check_vectors(ctx, &img, &info), 0);
	/* A proper image whose reset handler lies inside it. */
	make_image(&img, &seg, 0x08000000, 0x20010000, 0x08000401);
	assert_int_equal(ft_image_check_vectors(ctx, &img, &info), 0);
	/* Too short to hold two words. */
	make_image(&img, &seg, 0x08000000, 0x20010000, 0x08008195);
	seg.len = 6;
	assert_int_equal(ft_image_check_vectors(ctx, &img, &info), 0);
	ft_ctx_free(ctx);
}

static void
test_reset_in_a_later_segment(void **state)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_devinfo info;
	struct ft_segment seg[2];
	struct ft_image img;

	(void)state;
	device(&info, 0x423);
	make_image(&img, &seg[0], 0x08000000, 0x20010000, 0x08010001);
	seg[0].len = 512;
	seg[1] = seg[0];
	seg[1].addr = 0x08010000;
	img.nseg = 2;
	assert_int_equal(ft_image_check_vectors(ctx, &img, &info), 0);
	ft_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linked_for_bootloader_offset),
		cmocka_unit_test(test_linked_for_flash_start),
		cmocka_unit_test(test_not_a_vector_table),
		cmocka_unit_test(test_reset_in_a_later_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
