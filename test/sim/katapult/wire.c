/*
 * wire.c - what the wires do to bytes and how long they take: the 8N1
 * UART (including a receiver at the wrong baud) and the USB full-speed
 * bulk pipe.
 *
 * UART: 10 bit times per character (start, 8 data, stop).  A receiver
 * at another baud than the sender's sees the same line levels and
 * samples them at its own bit times: it hunts for a low level, then
 * reads 8 data bits at the middle of each of its bit times and the stop
 * bit after them, and hunts again from there.  Framing errors are
 * delivered as read: Katapult's serial IRQ takes any received byte, and
 * a Linux tty without INPCK passes a byte with a framing error through.
 *
 * USB full speed: 12 Mbit/s; a bulk transaction of n data bytes costs
 * n + 13 bytes of bus time (token, data packet PID and CRC16,
 * handshake, sync and EOP fields: USB 2.0 table 5-10, 19 x 64-byte
 * transactions fit a 1 ms frame).  Bit stuffing is not counted.
 */
#include "ksim.h"

#define USB_FS_BITS_PER_S 12000000ull
#define USB_BULK_OVERHEAD_BYTES 13u

uint64_t
ks_uart_byte_ns(uint32_t baud)
{
	if (baud == 0)
		return 0;
	return (KS_UART_BITS * NS_PER_S + baud / 2) / baud;
}

/*
 * Time is counted in units of 1 / (2 * tx_baud * rx_baud) seconds, so
 * that a sender's bit (2 * rx_baud units) and half a receiver's bit
 * (tx_baud units) are both whole numbers.
 */
struct line {
	const uint8_t *in;
	size_t n;
	uint64_t tbit;		/* sender bit time */
};

/* Line level at time u: idle 1, start 0, data LSB first, stop 1. */
static int
level(const struct line *l, uint64_t u)
{
	uint64_t ch = u / (KS_UART_BITS * l->tbit);
	uint64_t bit = (u % (KS_UART_BITS * l->tbit)) / l->tbit;

	if (ch >= l->n)
		return 1;
	if (bit == 0)
		return 0;
	if (bit == KS_UART_BITS - 1)
		return 1;
	return (l->in[ch] >> (bit - 1)) & 1;
}

size_t
ks_uart_resample(const uint8_t *in, size_t n, uint32_t tx_baud,
    uint32_t rx_baud, uint8_t *out, size_t outcap)
{
	struct line l = { in, n, 2ull * rx_baud };
	uint64_t rbit = 2ull * tx_baud, end = n * KS_UART_BITS * l.tbit;
	uint64_t u = 0;
	size_t o = 0;

	if (tx_baud == rx_baud) {
		for (o = 0; o < n && o < outcap; o++)
			out[o] = in[o];
		return o;
	}
	while (u < end && o < outcap) {
		uint8_t c = 0;
		int k;

		/* Hunt: the line only changes at the sender's bit edges. */
		while (u < end && level(&l, u))
			u = (u / l.tbit + 1) * l.tbit;
		if (u >= end)
			break;
		for (k = 0; k < 8; k++)
			if (level(&l, u + rbit * (2 * (uint64_t)k + 3) / 2))
				c |= (uint8_t)(1u << k);
		out[o++] = c;
		/* Resume after the middle of the stop bit. */
		u += rbit * 19 / 2;
	}
	return o;
}

uint64_t
ks_usb_packet_ns(size_t len)
{
	return ((uint64_t)len + USB_BULK_OVERHEAD_BYTES) * 8 * NS_PER_S /
	    USB_FS_BITS_PER_S;
}

uint64_t
ks_usb_next_frame(uint64_t t, uint64_t frame_ns)
{
	if (frame_ns == 0)
		return t;
	return (t + frame_ns - 1) / frame_ns * frame_ns;
}
