/*
 * fuzz_parmrk.c - the PARMRK decoder (lib/parmrk.c).  The first input
 * byte chooses where the rest is cut into read(2)-sized pieces; decoding
 * piece by piece must give exactly what decoding it whole gives: the
 * same data bytes and the same damaged ones (a marked sequence may be
 * split anywhere).
 */
#include "fuzz.h"
#include "parmrk.h"

static size_t
decode_all(const uint8_t *in, size_t n, size_t piece, uint8_t *out,
    uint8_t *bad, size_t *nbad)
{
	struct ft_parmrk st;
	uint8_t *chunk = malloc(piece), *chunk_bad = malloc(piece / 8 + 1);
	size_t off = 0, got = 0, i;

	if (chunk == NULL || chunk_bad == NULL)
		abort();
	memset(&st, 0, sizeof(st));
	memset(bad, 0, n / 8 + 1);
	*nbad = 0;
	while (off < n) {
		size_t len = n - off < piece ? n - off : piece, k, kb;

		memcpy(chunk, in + off, len);
		k = ft_parmrk_decode(&st, chunk, len, chunk_bad, &kb);
		if (k > len || kb > k)
			abort();
		for (i = 0; i < k; i++) {
			out[got + i] = chunk[i];
			if (chunk_bad[i / 8] & (1u << (i % 8))) {
				bad[(got + i) / 8] |=
				    (uint8_t)(1u << ((got + i) % 8));
				(*nbad)++;
			}
		}
		got += k;
		off += len;
	}
	free(chunk);
	free(chunk_bad);
	return got;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *whole, *parts, *bad_whole, *bad_parts;
	size_t n, piece, got_whole, got_parts, nb_whole, nb_parts;

	if (size < 1)
		return 0;
	piece = (size_t)data[0] % 7 + 1;
	data++;
	n = size - 1;
	whole = malloc(n + 1);
	parts = malloc(n + 1);
	bad_whole = malloc(n / 8 + 1);
	bad_parts = malloc(n / 8 + 1);
	if (whole == NULL || parts == NULL || bad_whole == NULL ||
	    bad_parts == NULL)
		abort();
	got_whole = decode_all(data, n, n > 0 ? n : 1, whole, bad_whole,
	    &nb_whole);
	got_parts = decode_all(data, n, piece, parts, bad_parts, &nb_parts);
	if (got_whole != got_parts || nb_whole != nb_parts ||
	    memcmp(whole, parts, got_whole) != 0 ||
	    memcmp(bad_whole, bad_parts, n / 8 + 1) != 0)
		abort();
	free(whole);
	free(parts);
	free(bad_whole);
	free(bad_parts);
	return 0;
}
