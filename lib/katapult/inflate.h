/*
 * katapult/inflate.h - a small inflater (lib/katapult/inflate.c) for the
 * zlib-compressed data dictionary Klipper embeds in its firmware, written
 * from RFC 1950 (zlib) and RFC 1951 (DEFLATE).  Pure; bounded by the
 * caller's output buffer; fuzzed (test/fuzz/fuzz_kp_inflate.c).
 */
#ifndef FT_KATAPULT_INFLATE_H
#define FT_KATAPULT_INFLATE_H

#include <stddef.h>
#include <stdint.h>

enum ft_inflate_result {
	FT_INFLATE_OK = 0,
	FT_INFLATE_BAD = -1,	/* not a valid stream */
	FT_INFLATE_SHORT = -2,	/* the input ended inside the stream */
	FT_INFLATE_FULL = -3,	/* the output would exceed outcap */
};

/*
 * Inflate the zlib stream (RFC 1950) at in: header, DEFLATE blocks,
 * Adler-32 checked.  *outlen gets the bytes produced (also on failure),
 * *used (may be NULL) the input bytes the stream took.  A preset
 * dictionary (FDICT) is refused: Klipper never sets one.
 */
int ft_zlib_inflate(const uint8_t *in, size_t inlen, uint8_t *out,
    size_t outcap, size_t *outlen, size_t *used);
/* A raw DEFLATE stream (RFC 1951), no header or checksum. */
int ft_inflate_raw(const uint8_t *in, size_t inlen, uint8_t *out,
    size_t outcap, size_t *outlen, size_t *used);
/* Does in start like a zlib header (RFC 1950 2.2: CM 8, FCHECK)? */
int ft_zlib_header_ok(const uint8_t *in, size_t inlen);
uint32_t ft_adler32(const uint8_t *p, size_t n);

#endif /* FT_KATAPULT_INFLATE_H */
