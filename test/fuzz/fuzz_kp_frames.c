/*
 * fuzz_kp_frames.c - Katapult's frame decoder (lib/katapult/proto.c)
 * fed the input in pieces whose sizes the input's first byte seeds, with
 * a timeout (ft_kp_rx_stale) between some of them.  Every frame it
 * returns must rebuild, byte for byte, into a frame with the same CRC
 * that decodes to itself; and the same stream fed whole must give at
 * least the frames the pieces gave (resync may not lose a frame to a
 * split).
 */
#include "fuzz.h"
#include "katapult/proto.h"

#define MAX_FRAMES 64

static size_t
decode_all(const uint8_t *p, size_t n, unsigned seed, int stale,
    struct ft_kp_frame *frames)
{
	struct ft_kp_rx *rx = malloc(sizeof(*rx));
	struct ft_kp_frame *f = malloc(sizeof(*f));
	size_t got = 0, off = 0;

	if (rx == NULL || f == NULL)
		abort();
	ft_kp_rx_reset(rx);
	while (off < n) {
		size_t piece = seed == 0 ? n - off : 1 + (seed + off) % 97;

		if (piece > n - off)
			piece = n - off;
		off += ft_kp_rx_push(rx, p + off, piece);
		while (ft_kp_rx_next(rx, f) == 1) {
			if (rx->len > sizeof(rx->buf))
				abort();
			if (got < MAX_FRAMES && frames != NULL)
				frames[got] = *f;
			got++;
		}
		if (stale && (seed + off) % 5 == 0)
			(void)ft_kp_rx_stale(rx);
	}
	free(rx);
	free(f);
	return got;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_kp_frame *frames = calloc(MAX_FRAMES, sizeof(*frames));
	struct ft_kp_frame *again = malloc(sizeof(*again));
	uint8_t *buf = malloc(FT_KP_FRAME_MAX);
	struct ft_kp_rx *rx = malloc(sizeof(*rx));
	size_t n, whole, i, len;
	unsigned seed;

	if (frames == NULL || again == NULL || buf == NULL || rx == NULL)
		abort();
	if (size == 0)
		goto out;
	seed = data[0];
	n = decode_all(data + 1, size - 1, seed, 0, frames);
	whole = decode_all(data + 1, size - 1, 0, 0, NULL);
	if (whole < n)
		abort();
	(void)decode_all(data + 1, size - 1, seed, 1, NULL);
	for (i = 0; i < n && i < MAX_FRAMES; i++) {
		if (frames[i].len % 4 != 0 ||
		    frames[i].len > 4 * FT_KP_REPLY_WORDS_MAX)
			abort();
		len = ft_kp_frame(buf, frames[i].code, frames[i].payload,
		    frames[i].len);
		if (len != frames[i].len + FT_KP_OVERHEAD)
			abort();
		ft_kp_rx_reset(rx);
		ft_kp_rx_push(rx, buf, len);
		if (ft_kp_rx_next(rx, again) != 1 ||
		    again->code != frames[i].code ||
		    again->len != frames[i].len ||
		    memcmp(again->payload, frames[i].payload,
		    again->len) != 0 ||
		    rx->len != 0 || rx->dropped != 0)
			abort();
	}
out:
	free(frames);
	free(again);
	free(buf);
	free(rx);
	return 0;
}
