/*
 * fuzz_kp_inflate.c - the inflater (lib/katapult/inflate.c) and the
 * dictionary search (lib/katapult/dict.c).  The input is inflated as
 * zlib and as raw DEFLATE into buffers of a few sizes: the output never
 * exceeds the buffer, a stream that fits once inflates the same into a
 * larger buffer, and one that succeeded with room to spare succeeds
 * exactly as large.  Then the input is searched for Klipper's
 * dictionary as an image would be.
 */
#include "fuzz.h"
#include "katapult/dict.h"
#include "katapult/inflate.h"

#define BIG (256u * 1024)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *a = malloc(BIG), *b = malloc(BIG);
	size_t na, nb, used;
	struct ft_kp_dict d;
	uint64_t budget = 4u * BIG;
	int ra, rb;

	if (a == NULL || b == NULL)
		abort();
	ra = ft_zlib_inflate(data, size, a, BIG, &na, &used);
	if (na > BIG || (ra == 0 && used > size))
		abort();
	if (ra == 0) {
		rb = ft_zlib_inflate(data, size, b, na, &nb, NULL);
		if (rb != 0 || nb != na || memcmp(a, b, na) != 0)
			abort();
		if (na > 0 && ft_zlib_inflate(data, size, b, na - 1, &nb,
		    NULL) != FT_INFLATE_FULL)
			abort();
	}
	ra = ft_inflate_raw(data, size, a, 1024, &na, &used);
	if (na > 1024 || used > size)
		abort();
	rb = ft_inflate_raw(data, size, b, BIG, &nb, NULL);
	if (ra == 0 && (rb != 0 || nb != na || memcmp(a, b, na) != 0))
		abort();
	if (ft_kp_dict_find(data, size, &d, &budget) < 0)
		abort();
	if (d.found && (d.offset >= size || strcmp(d.app, "Klipper") != 0))
		abort();
	free(a);
	free(b);
	return 0;
}
