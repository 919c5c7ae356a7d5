/*
 * katapult/inflate.c - DEFLATE (RFC 1951) and the zlib wrapper (RFC 1950),
 * decoding only.  Klipper stores its data dictionary as zlib.compress(...,
 * 9) output inside the firmware (scripts/buildcommands.py); reading the
 * MCU name from it is all this is for, so it favours plainness over
 * speed: one bit at a time through canonical Huffman tables.
 *
 * Invariants: no read past in + inlen and no write past out + outcap
 * (FT_INFLATE_SHORT and FT_INFLATE_FULL say which limit stopped it); a
 * back reference never reaches before the start of the output; a code
 * that is over-subscribed, or a symbol the RFC reserves, is refused.
 */
#include <string.h>

#include "inflate.h"

#define MAX_CODE_BITS 15
#define LITLEN_CODES 288	/* 286 used; 286, 287 reserved */
#define DIST_CODES 32		/* 30 used */
#define CLEN_CODES 19
#define END_OF_BLOCK 256
#define ADLER_MOD 65521u

struct bits {
	const uint8_t *in;
	size_t len, pos;	/* input and the next byte to load */
	uint32_t acc;		/* bits not yet used, LSB first */
	unsigned nacc;
	int err;		/* FT_INFLATE_SHORT once input ran out */
};

struct out {
	uint8_t *buf;
	size_t cap, len;
};

/* A canonical Huffman code: codes of each length and symbols in order. */
struct huff {
	uint16_t count[MAX_CODE_BITS + 1];
	uint16_t sym[LITLEN_CODES];
};

static const uint16_t len_base[29] = {
	3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
	35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258,
};
static const uint8_t len_extra[29] = {
	0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
	3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
};
static const uint16_t dist_base[30] = {
	1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193,
	257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289,
	16385, 24577,
};
static const uint8_t dist_extra[30] = {
	0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6,
	7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13,
};
/* The order in which code-length code lengths arrive (RFC 1951 3.2.7). */
static const uint8_t clen_order[CLEN_CODES] = {
	16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
};

/* n (<= 16) bits, LSB first; 0 with b->err set when input ran out. */
static uint32_t
getbits(struct bits *b, unsigned n)
{
	uint32_t v;

	while (b->nacc < n) {
		if (b->pos >= b->len) {
			b->err = FT_INFLATE_SHORT;
			return 0;
		}
		b->acc |= (uint32_t)b->in[b->pos++] << b->nacc;
		b->nacc += 8;
	}
	v = b->acc & ((1u << n) - 1);
	b->acc >>= n;
	b->nacc -= n;
	return v;
}

/* Build h from n code lengths; -1 when the lengths over-subscribe. */
static int
huff_build(struct huff *h, const uint8_t *lens, unsigned n)
{
	uint16_t offs[MAX_CODE_BITS + 2];
	int left = 1;
	unsigned i;

	memset(h->count, 0, sizeof(h->count));
	for (i = 0; i < n; i++)
		h->count[lens[i]]++;
	h->count[0] = 0;
	for (i = 1; i <= MAX_CODE_BITS; i++) {
		left = 2 * left - h->count[i];
		if (left < 0)
			return -1;
	}
	offs[1] = 0;
	for (i = 1; i <= MAX_CODE_BITS; i++)
		offs[i + 1] = (uint16_t)(offs[i] + h->count[i]);
	for (i = 0; i < n; i++)
		if (lens[i] != 0)
			h->sym[offs[lens[i]]++] = (uint16_t)i;
	return 0;
}

/*
 * One symbol: Huffman codes are packed most significant bit first, so
 * the code grows a bit at a time until it falls inside the range of
 * codes of its length.  -1 for a code the table does not have.
 */
static int
huff_decode(struct bits *b, const struct huff *h)
{
	int code = 0, first = 0, index = 0;
	unsigned len;

	for (len = 1; len <= MAX_CODE_BITS; len++) {
		int count = h->count[len];

		code |= (int)getbits(b, 1);
		if (b->err)
			return -1;
		if (code - first < count)
			return h->sym[index + code - first];
		index += count;
		first = (first + count) << 1;
		code <<= 1;
	}
	return -1;
}

static int
put(struct out *o, uint8_t c)
{
	if (o->len >= o->cap)
		return FT_INFLATE_FULL;
	o->buf[o->len++] = c;
	return 0;
}

/* Block type 0: LEN, NLEN, then LEN bytes as they are. */
static int
stored(struct bits *b, struct out *o)
{
	size_t n;

	b->acc = 0;
	b->nacc = 0;
	if (b->len - b->pos < 4)
		return FT_INFLATE_SHORT;
	n = (size_t)b->in[b->pos] | (size_t)b->in[b->pos + 1] << 8;
	if ((b->in[b->pos] ^ b->in[b->pos + 2]) != 0xFF ||
	    (b->in[b->pos + 1] ^ b->in[b->pos + 3]) != 0xFF)
		return FT_INFLATE_BAD;
	b->pos += 4;
	if (b->len - b->pos < n)
		return FT_INFLATE_SHORT;
	if (o->cap - o->len < n)
		return FT_INFLATE_FULL;
	memcpy(o->buf + o->len, b->in + b->pos, n);
	b->pos += n;
	o->len += n;
	return 0;
}

/* A length/distance pair after length symbol sym (257..285). */
static int
copy_back(struct bits *b, struct out *o, const struct huff *dist, int sym)
{
	size_t n, d;
	int ds;

	if (sym > 285)
		return FT_INFLATE_BAD;
	n = len_base[sym - 257] + getbits(b, len_extra[sym - 257]);
	ds = huff_decode(b, dist);
	if (b->err)
		return b->err;
	if (ds < 0 || ds >= 30)
		return FT_INFLATE_BAD;
	d = dist_base[ds] + getbits(b, dist_extra[ds]);
	if (b->err)
		return b->err;
	if (d > o->len)
		return FT_INFLATE_BAD;
	if (o->cap - o->len < n)
		return FT_INFLATE_FULL;
	while (n-- > 0) {
		o->buf[o->len] = o->buf[o->len - d];
		o->len++;
	}
	return 0;
}

/* The symbols of a Huffman block, up to its end-of-block code. */
static int
codes(struct bits *b, struct out *o, const struct huff *lit,
    const struct huff *dist)
{
	int sym, rc;

	for (;;) {
		sym = huff_decode(b, lit);
		if (b->err)
			return b->err;
		if (sym < 0)
			return FT_INFLATE_BAD;
		if (sym < END_OF_BLOCK) {
			rc = put(o, (uint8_t)sym);
		} else if (sym == END_OF_BLOCK) {
			return 0;
		} else {
			rc = copy_back(b, o, dist, sym);
		}
		if (rc != 0)
			return rc;
	}
}

/* Block type 1: the code lengths RFC 1951 3.2.6 fixes. */
static int
fixed(struct bits *b, struct out *o)
{
	uint8_t lens[LITLEN_CODES];
	struct huff lit, dist;
	unsigned i;

	for (i = 0; i < 144; i++)
		lens[i] = 8;
	for (; i < 256; i++)
		lens[i] = 9;
	for (; i < 280; i++)
		lens[i] = 7;
	for (; i < LITLEN_CODES; i++)
		lens[i] = 8;
	(void)huff_build(&lit, lens, LITLEN_CODES);
	for (i = 0; i < DIST_CODES; i++)
		lens[i] = 5;
	(void)huff_build(&dist, lens, DIST_CODES);
	return codes(b, o, &lit, &dist);
}

/* The literal/length and distance code lengths of a dynamic block. */
static int
dynamic_lengths(struct bits *b, uint8_t *lens, unsigned nlen)
{
	uint8_t clens[CLEN_CODES];
	struct huff clen;
	unsigned ncode, i = 0, rep;
	int sym;
	uint8_t prev;

	ncode = getbits(b, 4) + 4;
	memset(clens, 0, sizeof(clens));
	for (i = 0; i < ncode; i++)
		clens[clen_order[i]] = (uint8_t)getbits(b, 3);
	if (b->err)
		return b->err;
	if (huff_build(&clen, clens, CLEN_CODES) != 0)
		return FT_INFLATE_BAD;
	for (i = 0; i < nlen;) {
		sym = huff_decode(b, &clen);
		if (b->err)
			return b->err;
		if (sym < 0)
			return FT_INFLATE_BAD;
		if (sym < 16) {
			lens[i++] = (uint8_t)sym;
			continue;
		}
		prev = 0;
		if (sym == 16) {
			if (i == 0)
				return FT_INFLATE_BAD;
			prev = lens[i - 1];
			rep = 3 + getbits(b, 2);
		} else if (sym == 17) {
			rep = 3 + getbits(b, 3);
		} else {
			rep = 11 + getbits(b, 7);
		}
		if (b->err)
			return b->err;
		if (i + rep > nlen)
			return FT_INFLATE_BAD;
		while (rep-- > 0)
			lens[i++] = prev;
	}
	return 0;
}

/* Block type 2: the code lengths come first, themselves coded. */
static int
dynamic(struct bits *b, struct out *o)
{
	uint8_t lens[LITLEN_CODES + DIST_CODES];
	struct huff lit, dist;
	unsigned nlit, ndist;
	int rc;

	nlit = getbits(b, 5) + 257;
	ndist = getbits(b, 5) + 1;
	if (b->err)
		return b->err;
	if (nlit > 286 || ndist > 30)
		return FT_INFLATE_BAD;
	rc = dynamic_lengths(b, lens, nlit + ndist);
	if (rc != 0)
		return rc;
	/* A block without an end-of-block code could never end. */
	if (lens[END_OF_BLOCK] == 0)
		return FT_INFLATE_BAD;
	if (huff_build(&lit, lens, nlit) != 0 ||
	    huff_build(&dist, lens + nlit, ndist) != 0)
		return FT_INFLATE_BAD;
	return codes(b, o, &lit, &dist);
}

int
ft_inflate_raw(const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap,
    size_t *outlen, size_t *used)
{
	struct bits b = { in, inlen, 0, 0, 0, 0 };
	struct out o = { out, outcap, 0 };
	uint32_t last, type;
	int rc = 0;

	do {
		last = getbits(&b, 1);
		type = getbits(&b, 2);
		if (b.err) {
			rc = b.err;
			break;
		}
		if (type == 0)
			rc = stored(&b, &o);
		else if (type == 1)
			rc = fixed(&b, &o);
		else if (type == 2)
			rc = dynamic(&b, &o);
		else
			rc = FT_INFLATE_BAD;
	} while (rc == 0 && !last);
	*outlen = o.len;
	/* Whole bytes taken: the unused bits of the last one go with it. */
	if (used != NULL)
		*used = b.pos;
	return rc;
}

uint32_t
ft_adler32(const uint8_t *p, size_t n)
{
	uint32_t a = 1, s = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		a = (a + p[i]) % ADLER_MOD;
		s = (s + a) % ADLER_MOD;
	}
	return s << 16 | a;
}

int
ft_zlib_header_ok(const uint8_t *in, size_t inlen)
{
	return inlen >= 2 && (in[0] & 0x0F) == 8 && (in[0] >> 4) <= 7 &&
	    ((unsigned)in[0] << 8 | in[1]) % 31 == 0;
}

int
ft_zlib_inflate(const uint8_t *in, size_t inlen, uint8_t *out, size_t outcap,
    size_t *outlen, size_t *used)
{
	size_t raw_used = 0;
	uint32_t want;
	int rc;

	*outlen = 0;
	if (inlen < 2)
		return FT_INFLATE_SHORT;
	if (!ft_zlib_header_ok(in, inlen) || (in[1] & 0x20) != 0)
		return FT_INFLATE_BAD;
	rc = ft_inflate_raw(in + 2, inlen - 2, out, outcap, outlen,
	    &raw_used);
	if (rc != 0)
		return rc;
	if (inlen - 2 - raw_used < 4)
		return FT_INFLATE_SHORT;
	want = (uint32_t)in[2 + raw_used] << 24 |
	    (uint32_t)in[3 + raw_used] << 16 |
	    (uint32_t)in[4 + raw_used] << 8 | in[5 + raw_used];
	if (ft_adler32(out, *outlen) != want)
		return FT_INFLATE_BAD;
	if (used != NULL)
		*used = raw_used + 6;
	return 0;
}
