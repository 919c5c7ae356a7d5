/* fuzz_srec.c - ft_image_from_buffer() with FT_FMT_SREC. */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_image(data, size, FT_FMT_SREC);
	return 0;
}
