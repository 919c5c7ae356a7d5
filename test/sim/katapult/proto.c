/*
 * proto.c - Katapult's frames and CRC, and the two receive parsers the
 * device runs: Katapult's command_find_block() (src/command.c) and
 * Klipper's (klipper src/command.c, src/generic/serial_irq.c), which the
 * simulated application uses to spot the serial bootloader request.
 *
 * Invariants: a parser never reads past rx->len; a pop never exceeds
 * rx->len; the CRC covers cmd, length and payload (not 01 88).
 */
#include <string.h>

#include "ksim.h"

#define CF_NEED_SYNC 0x01
#define CF_NEED_VALID 0x02
#define TRAILER_BYTES 4		/* crc16 + 99 03 */
#define HEADER_BYTES 4		/* 01 88 cmd len */
#define KL_TRAILER_BYTES 3	/* crc16 (big-endian) + 7e */

uint32_t
ks_rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

void
ks_wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

uint16_t
ks_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;
	size_t i;
	int b;

	/* Bit-wise reflected form of CRC-16/MCRF4XX (poly 0x8408). */
	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (b = 0; b < 8; b++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^ 0x8408) :
			    (uint16_t)(crc >> 1);
	}
	return crc;
}

size_t
ks_frame(uint8_t *out, uint8_t cmd, const uint8_t *payload, size_t nwords)
{
	size_t plen = nwords * 4, n = 0;
	uint16_t crc;

	out[n++] = KP_STX1;
	out[n++] = KP_STX2;
	out[n++] = cmd;
	out[n++] = (uint8_t)nwords;
	if (plen > 0)
		memcpy(out + n, payload, plen);
	n += plen;
	crc = ks_crc16(out + 2, plen + 2);
	out[n++] = (uint8_t)(crc & 0xFF);
	out[n++] = (uint8_t)(crc >> 8);
	out[n++] = KP_SYNC2;
	out[n++] = KP_SYNC;
	return n;
}

void
ks_rx_init(struct ks_rx *rx, size_t cap, enum ks_parser_kind kind)
{
	memset(rx, 0, sizeof(*rx));
	rx->cap = cap > sizeof(rx->buf) ? sizeof(rx->buf) : cap;
	rx->kind = kind;
}

size_t
ks_rx_push(struct ks_rx *rx, const uint8_t *p, size_t n)
{
	size_t room = rx->cap - rx->len;

	if (n > room)
		n = room;
	memcpy(rx->buf + rx->len, p, n);
	rx->len += n;
	return n;
}

void
ks_rx_pop(struct ks_rx *rx, size_t n)
{
	if (n > rx->len)
		n = rx->len;
	memmove(rx->buf, rx->buf + n, rx->len - n);
	rx->len -= n;
}

/*
 * command_find_block(), step for step.  Where the firmware does
 * "goto need_sync" this does the same search; the one difference between
 * the two kinds is where the search for the next 0x01 starts.
 */
enum ks_find
ks_rx_find(struct ks_rx *rx, size_t *pop, int *nack)
{
	const uint8_t *buf = rx->buf, *next;
	size_t len = rx->len, msglen, from = 0;
	uint16_t got, want;
	int bad_frame = 0;

	*nack = 0;
	*pop = 0;
	if (len > 0 && (rx->sync_state & CF_NEED_SYNC))
		goto need_sync;
	if (len < KP_FRAME_MIN)
		return KS_FIND_MORE;
	if (buf[0] != KP_STX1 || buf[1] != KP_STX2)
		goto error;
	msglen = (size_t)buf[3] * 4 + 8;
	if (msglen < KP_FRAME_MIN || msglen > KP_FRAME_MAX)
		goto error;
	if (len < msglen)
		return KS_FIND_MORE;
	if (buf[msglen - 2] != KP_SYNC2 || buf[msglen - 1] != KP_SYNC)
		goto error;
	got = (uint16_t)(buf[msglen - TRAILER_BYTES] |
	    (buf[msglen - TRAILER_BYTES + 1] << 8));
	want = ks_crc16(buf + 2, msglen - TRAILER_BYTES - 2);
	if (got != want)
		goto error;
	rx->sync_state &= (uint8_t)~CF_NEED_VALID;
	*pop = msglen;
	return KS_FIND_FRAME;
error:
	rx->sync_state |= CF_NEED_SYNC;
	bad_frame = 1;
	/* The fix: a bad frame's own 0x01 is not the next sync. */
	if (rx->kind == KS_PARSER_FIXED)
		from = 1;
need_sync:
	/*
	 * Katapult searches from buf[0].  Coming from a bad frame that
	 * starts with 0x01 that pops 0 and the next call finds the same bad
	 * frame: the wedge.  Coming from a stretch that had no 0x01 (the
	 * entry's goto), a pop of 0 is harmless: the sync was found.
	 */
	next = len > from ? memchr(buf + from, KP_STX1, len - from) : NULL;
	if (next != NULL) {
		rx->sync_state &= (uint8_t)~CF_NEED_SYNC;
		*pop = (size_t)(next - buf);
	} else {
		*pop = len;
	}
	if (*pop == 0 && bad_frame)
		rx->wedged = 1;
	if (rx->sync_state & CF_NEED_VALID)
		return KS_FIND_ERROR;
	rx->sync_state |= CF_NEED_VALID;
	*nack = 1;
	return KS_FIND_ERROR;
}

/*
 * Klipper's parser (the application on UART and USB).  Its frames are
 * <len><seq><data><crc16 big-endian><7e>; a stretch of garbage is popped
 * up to and including the next 0x7E and NAKed once.  The serial request
 * is a 32-byte garbage stretch with fixed contents (serial_irq.c).
 */
void
kl_rx_init(struct kl_rx *rx)
{
	memset(rx, 0, sizeof(*rx));
	rx->next_seq = KL_DEST;
}

size_t
kl_rx_push(struct kl_rx *rx, const uint8_t *p, size_t n)
{
	size_t room = sizeof(rx->buf) - rx->len;

	if (n > room)
		n = room;
	memcpy(rx->buf + rx->len, p, n);
	rx->len += n;
	return n;
}

static void
kl_pop(struct kl_rx *rx, size_t n)
{
	memmove(rx->buf, rx->buf + n, rx->len - n);
	rx->len -= n;
}

/* Klipper's encode_acknak: an empty block with the expected sequence. */
static void
kl_nak(const struct kl_rx *rx, uint8_t *nak, size_t *naklen)
{
	uint16_t crc;

	nak[0] = KL_FRAME_MIN;
	nak[1] = rx->next_seq;
	crc = ks_crc16(nak, 2);
	nak[2] = (uint8_t)(crc >> 8);
	nak[3] = (uint8_t)(crc & 0xFF);
	nak[4] = KL_SYNC;
	*naklen = KL_FRAME_MIN;
}

enum kl_event
kl_rx_step(struct kl_rx *rx, uint8_t *nak, size_t *naklen)
{
	const uint8_t *buf = rx->buf, *next;
	size_t len = rx->len, msglen, pop;
	uint16_t got, want;
	uint8_t seq;
	int request;

	*naklen = 0;
	if (len > 0 && (rx->sync_state & CF_NEED_SYNC))
		goto need_sync;
	if (len < KL_FRAME_MIN)
		return KL_NONE;
	msglen = buf[0];
	if (msglen < KL_FRAME_MIN || msglen > KL_FRAME_MAX)
		goto error;
	seq = buf[1];
	if ((seq & (uint8_t)~KL_SEQ_MASK) != KL_DEST)
		goto error;
	if (len < msglen)
		return KL_NONE;
	if (buf[msglen - 1] != KL_SYNC)
		goto error;
	got = (uint16_t)((buf[msglen - KL_TRAILER_BYTES] << 8) |
	    buf[msglen - KL_TRAILER_BYTES + 1]);
	want = ks_crc16(buf, msglen - KL_TRAILER_BYTES);
	if (got != want)
		goto error;
	rx->sync_state &= (uint8_t)~CF_NEED_VALID;
	kl_pop(rx, msglen);
	if (seq != rx->next_seq) {
		/* A lost message: NAK until it is sent again. */
		kl_nak(rx, nak, naklen);
		return KL_GARBAGE;
	}
	rx->next_seq = (uint8_t)(((seq + 1) & KL_SEQ_MASK) | KL_DEST);
	return KL_FRAME;
error:
	if (buf[0] == KL_SYNC) {
		/* Leading sync bytes are dropped without a NAK. */
		kl_pop(rx, 1);
		return KL_GARBAGE;
	}
	rx->sync_state |= CF_NEED_SYNC;
need_sync:
	next = memchr(buf, KL_SYNC, len);
	if (next != NULL) {
		rx->sync_state &= (uint8_t)~CF_NEED_SYNC;
		pop = (size_t)(next - buf) + 1;
	} else {
		pop = len;
	}
	request = pop == KL_SERIAL_REQUEST_LEN &&
	    memcmp(buf, KL_SERIAL_REQUEST, KL_SERIAL_REQUEST_LEN) == 0;
	if (!(rx->sync_state & CF_NEED_VALID)) {
		rx->sync_state |= CF_NEED_VALID;
		kl_nak(rx, nak, naklen);
	}
	kl_pop(rx, pop);
	return request ? KL_REQUEST : KL_GARBAGE;
}
