/*
 * fuzz_usart.c - the USART transport (lib/usart/transport.c) fed
 * arbitrary device replies.
 *
 * The serial layer (lib/serial.h) is replaced by a fake port whose
 * "device" answers every read from the fuzz input, so the transport's
 * parsing of ACKs, Get/Get ID/Get Version bodies, checksums and resync
 * bursts sees any byte sequence, with timeouts where the input says.
 * Writes are accepted and dropped.  lib/serial.c itself only moves
 * bytes between the fd and a buffer; the end-to-end tests cover it.
 *
 * Input: byte 0 selects options (no_sync, a --layout, pipelining, which
 * operations run), then chunks: a header byte (low 7 bits: length; bit
 * 7: the line stays silent after the chunk, so the read that wants more
 * times out) and that many device bytes.  After the input, the line is
 * silent.  The Katapult wing's calls of lib/serial.h are faked too
 * (read_some, set_baud, keep_settings), so that the linker never pulls
 * lib/serial.c in beside this port.
 */
#include "fuzz.h"
#include "serial.h"
#include "vclock.h"

struct ft_serial {
	struct ft_ctx *ctx;
	struct fuzz_in in;
	size_t chunk_left;	/* device bytes left in the current chunk */
	int silence;		/* after this chunk: one timeout */
};

/* One fake port per input; the transport opens it at most once at a
 * time, but resets close and reopen nothing, so one slot suffices. */
static struct fuzz_in fuzz_input;

int
ft_serial_open(struct ft_ctx *ctx, const char *path,
    const struct ft_serial_cfg *cfg, struct ft_serial **out)
{
	struct ft_serial *s;

	(void)path;
	(void)cfg;
	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	s->ctx = ctx;
	s->in = fuzz_input;
	*out = s;
	return 0;
}

void
ft_serial_close(struct ft_serial *s)
{
	free(s);
}

int
ft_serial_write(struct ft_serial *s, const void *buf, size_t len,
    unsigned timeout_ms)
{
	volatile uint8_t sink = 0;
	size_t i;

	(void)s;
	(void)timeout_ms;
	/* Touch every byte: ASan checks the transport's buffers. */
	for (i = 0; i < len; i++)
		sink ^= ((const uint8_t *)buf)[i];
	(void)sink;
	return 0;
}

/* One device byte, or -1 when the line is silent now. */
static int
next_byte(struct ft_serial *s)
{
	while (s->chunk_left == 0) {
		uint8_t h;

		if (s->silence) {
			s->silence = 0;
			return -1;
		}
		if (fuzz_empty(&s->in))
			return -1;
		h = fuzz_u8(&s->in);
		s->chunk_left = h & 0x7Fu;
		s->silence = (h & 0x80u) != 0;
	}
	if (fuzz_empty(&s->in)) {
		s->chunk_left = 0;
		return -1;
	}
	s->chunk_left--;
	return fuzz_u8(&s->in);
}

int
ft_serial_read(struct ft_serial *s, void *buf, size_t len,
    unsigned timeout_ms, size_t *got)
{
	uint8_t *p = buf;
	size_t done = 0;

	while (done < len) {
		int b = next_byte(s);

		if (b < 0) {
			vclock_advance_ms(timeout_ms);
			if (got != NULL)
				*got = done;
			return FT_E_TIMEOUT;
		}
		p[done++] = (uint8_t)b;
	}
	if (got != NULL)
		*got = done;
	return 0;
}

/* What has arrived: the rest of the chunk, at least one byte. */
int
ft_serial_read_some(struct ft_serial *s, void *buf, size_t max,
    unsigned timeout_ms, size_t *got)
{
	uint8_t *p = buf;
	int b;

	*got = 0;
	if (max == 0)
		return 0;
	b = next_byte(s);
	if (b < 0) {
		vclock_advance_ms(timeout_ms);
		return FT_E_TIMEOUT;
	}
	p[(*got)++] = (uint8_t)b;
	while (*got < max && s->chunk_left > 0 && (b = next_byte(s)) >= 0)
		p[(*got)++] = (uint8_t)b;
	return 0;
}

int
ft_serial_set_baud(struct ft_serial *s, unsigned baud)
{
	(void)s;
	(void)baud;
	return 0;
}

void
ft_serial_keep_settings(struct ft_serial *s)
{
	(void)s;
}

int
ft_serial_flush_input(struct ft_serial *s)
{
	/* What had arrived is the rest of the current chunk. */
	while (s->chunk_left > 0 && !fuzz_empty(&s->in)) {
		(void)fuzz_u8(&s->in);
		s->chunk_left--;
	}
	return 0;
}

int
ft_serial_discard(struct ft_serial *s, unsigned quiet_ms, unsigned max_ms)
{
	int n = 0;

	(void)max_ms;
	while (s->chunk_left > 0 && !fuzz_empty(&s->in)) {
		(void)fuzz_u8(&s->in);
		s->chunk_left--;
		n++;
	}
	vclock_advance_ms(quiet_ms);
	return n;
}

int
ft_serial_drain(struct ft_serial *s)
{
	(void)s;
	return 0;
}

int
ft_serial_set_lines(struct ft_serial *s, int dtr, int rts)
{
	(void)dtr;
	(void)rts;
	return ft_fail(s->ctx, FT_E_NOT_SUPPORTED, "fuzz: no modem lines");
}

void
ft_serial_keep_lines(struct ft_serial *s)
{
	(void)s;
}

int
ft_serial_break(struct ft_serial *s, unsigned ms)
{
	(void)s;
	vclock_advance_ms(ms);
	return 0;
}

unsigned
ft_serial_char_bits(const struct ft_serial *s)
{
	(void)s;
	return 11;
}

unsigned
ft_serial_baud(const struct ft_serial *s)
{
	(void)s;
	return 115200;
}

const char *
ft_serial_path(const struct ft_serial *s)
{
	(void)s;
	return "fuzz-tty";
}

#define FUZZ_BASE 0x08000000u
#define FUZZ_IMG_BYTES 600u

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_ctx *ctx;
	struct ft_open_opts o;
	struct ft_layout lay = { FUZZ_BASE, 1, { { 1024, 64 } } };
	struct ft_dev *dev = NULL;
	uint8_t buf[FUZZ_IMG_BYTES];
	uint32_t crc;
	uint8_t sel;

	if (size == 0)
		return 0;
	sel = data[0];
	fuzz_input.p = data + 1;
	fuzz_input.len = size - 1;
	fuzz_input.pos = 0;

	ctx = ft_ctx_new();
	if (ctx == NULL)
		abort();
	memset(&o, 0, sizeof(o));
	o.transport = FT_TRANSPORT_USART;
	o.port = "fuzz-tty";
	o.no_sync = sel & 1;
	o.retries = 1 + ((sel >> 1) & 1);
	if (sel & 4)
		o.layout = &lay;
	/* Every bit of sel is taken: pipelining on in half of the inputs
	 * of each retries/no_diff combination. */
	o.usart_pipeline = ((sel >> 1) ^ (sel >> 3) ^ (sel >> 5)) & 1;
	if (ft_open(ctx, &o, &dev) != 0) {
		if (dev != NULL)
			abort();
		ft_ctx_free(ctx);
		return 0;
	}
	fuzz_read_and_write(ctx, dev, FUZZ_BASE, buf, sizeof(buf), 7u,
	    (sel >> 3) & 1);
	if (sel & 0x10)
		(void)ft_erase(dev, FUZZ_BASE, 1024);
	if (sel & 0x20)
		(void)ft_crc(dev, FUZZ_BASE, 1024, &crc);
	if (sel & 0x40)
		(void)ft_mass_erase(dev);
	if (sel & 0x80)
		(void)ft_protect(dev, FT_WRITE_UNPROTECT);
	fuzz_close(ctx, dev);
	return 0;
}
