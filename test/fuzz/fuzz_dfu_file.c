/*
 * fuzz_dfu_file.c - a .dfu file: its suffix (ft_dfu_suffix_parse and the
 * ID check), the whole file (ft_dfu_file_parse) and the same through
 * ft_image_from_buffer(FT_FMT_DFU).
 */
#include "fuzz.h"
#include "dfu/dfu.h"
#include "image/dfu_file.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_dfu_suffix suf;
	struct ft_image *img = NULL;
	int rc;

	if (ctx == NULL)
		abort();
	rc = ft_dfu_suffix_parse(ctx, "fuzz.dfu", data, size, &suf);
	if (rc == 0) {
		if (suf.length < FT_DFU_SUFFIX_LEN || suf.length > size)
			abort();
		(void)ft_dfu_suffix_check(ctx, &suf, 0x0483, 0xdf11);
	}
	rc = ft_dfu_file_parse(ctx, "fuzz.dfu", data, size, 0x08000000u,
	    &img, &suf);
	if (rc == 0) {
		fuzz_check_image(img);
		ft_image_free(img);
	} else if (img != NULL) {
		abort();
	}
	ft_ctx_free(ctx);
	fuzz_image(data, size, FT_FMT_DFU);
	return 0;
}
