/*
 * usart/link.c - the AN3155 conversation on the wire: bytes out and in
 * with bounded waits, ACKs, commands and their address frames, the sync
 * byte, pipelined bursts, and the resync that brings a confused ROM back
 * to waiting for a command.  The frames themselves come from
 * usart/an3155.c.
 *
 * Invariants:
 *  - Every wait has a bound: a named timeout for the device's worst case
 *    plus the wire time of what is still on its way at the current baud.
 *  - A failure names the command, address and stage (ft_usart_op_fail).
 *  - A resync never sends a byte sequence a ROM could take for a write
 *    or an erase (RESYNC_PROBE).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usart.h"

static int
tracing(const struct ft_ctx *ctx)
{
	return ctx != NULL && ctx->log_fn != NULL &&
	    ctx->log_max >= FT_LOG_TRACE;
}

static void
trace_bytes(struct ft_dev *dev, const char *dir, const uint8_t *b, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	char line[3 * TRACE_MAX_BYTES + 1];
	size_t i, show = n < TRACE_MAX_BYTES ? n : TRACE_MAX_BYTES;

	if (!tracing(dev->ctx) || n == 0)
		return;
	for (i = 0; i < show; i++) {
		line[3 * i] = hex[b[i] >> 4];
		line[3 * i + 1] = hex[b[i] & 15];
		line[3 * i + 2] = ' ';
	}
	line[3 * show - 1] = '\0';
	if (show < n)
		ft_trace(dev->ctx, "%s %s ... (%zu bytes)", dir, line, n);
	else
		ft_trace(dev->ctx, "%s %s", dir, line);
}

/* Milliseconds that nbytes take on the wire, rounded up, plus one. */
unsigned
ft_usart_wire_ms(const struct usart *u, size_t nbytes)
{
	uint64_t bits = (uint64_t)nbytes * u->char_bits * 1000u;

	return (unsigned)((bits + u->baud - 1) / u->baud) + 1;
}

static void
op_name(const struct op *op, char *buf, size_t len)
{
	if (op->has_addr)
		snprintf(buf, len, "%s at 0x%08x", op->cmd,
		    (unsigned)op->addr);
	else
		snprintf(buf, len, "%s", op->cmd);
}

int
ft_usart_op_fail(struct ft_dev *dev, int err, const struct op *op,
    const char *fmt, ...)
{
	char name[OP_NAME_MAX], msg[FT_DETAIL_MAX];
	va_list ap;

	op_name(op, name, sizeof(name));
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (op->has_addr)
		return ft_fail_at(dev->ctx, err, op->addr, "%s: %s", name, msg);
	return ft_fail(dev->ctx, err, "%s: %s", name, msg);
}

int
ft_usart_tx(struct ft_dev *dev, const uint8_t *b, size_t n)
{
	struct usart *u = U(dev);
	size_t i;

	for (i = 0; i < n; i++)
		u->sent_values[b[i] >> 3] |= (uint8_t)(1u << (b[i] & 7));
	u->idle_after_damage = 0;
	trace_bytes(dev, ">", b, n);
	return ft_serial_write(u->port, b, n,
	    TX_TIMEOUT_MS + ft_usart_wire_ms(u, n));
}

/*
 * Read a reply.  FT_E_PROTOCOL from the serial layer is a line error:
 * some byte failed the parity check (or framing, or was a BREAK).  All
 * n bytes were still taken, but one of them may be wrong, and AN3155
 * replies carry no checksum: the caller fails the exchange, the core
 * resyncs and does it again.  So a damaged block is read again, never
 * returned.
 */
int
ft_usart_rx(struct ft_dev *dev, uint8_t *b, size_t n, unsigned ms, size_t *got)
{
	size_t g = 0;
	int rc = ft_serial_read(U(dev)->port, b, n, ms, &g);

	trace_bytes(dev, "<", b, g);
	if (got != NULL)
		*got = g;
	return rc;
}

/* ft_usart_rx() reported a line error in what: name the command. */
int
ft_usart_damaged(struct ft_dev *dev, const struct op *op, const char *what)
{
	return ft_usart_op_fail(dev, FT_E_PROTOCOL, op, "damaged %s (%s)", what,
	    dev->ctx->detail);
}

/*
 * Wait for ACK within ms.  NACK, silence and anything else fail with a
 * detail "<cmd> at <addr>: NACK after <stage>".  BUSY (0x76, which some
 * newer ROMs send while working) just keeps us waiting.
 */
int
ft_usart_wait_ack(struct ft_dev *dev, const struct op *op, const char *stage,
    unsigned ms)
{
	uint64_t deadline = ft_now_ms() + ms;

	for (;;) {
		uint64_t now = ft_now_ms();
		unsigned left = now < deadline ? (unsigned)(deadline - now) :
		    0;
		uint8_t b;
		int rc = ft_usart_rx(dev, &b, 1, left, NULL);

		if (rc == FT_E_TIMEOUT)
			return ft_usart_op_fail(dev, FT_E_TIMEOUT, op,
			    "no answer after %s within %u ms", stage, ms);
		if (rc == FT_E_PROTOCOL)
			return ft_usart_op_fail(dev, rc, op, "damaged answer "
			    "after %s (%s)", stage, dev->ctx->detail);
		if (rc < 0)
			return rc;
		if (b == AN_ACK)
			return 0;
		if (b == AN_NACK)
			return ft_usart_op_fail(dev, FT_E_NACK, op,
			    "NACK after %s", stage);
		if (b != AN_BUSY)
			return ft_usart_op_fail(dev, FT_E_PROTOCOL, op,
			    "got 0x%02x instead of ACK after %s", b, stage);
	}
}

/* Send a command code and its complement, wait for the first ACK. */
int
ft_usart_command(struct ft_dev *dev, const struct op *op, uint8_t cmd)
{
	struct usart *u = U(dev);
	uint8_t f[AN_CMD_FRAME_LEN];
	int rc;

	ft_an_cmd_frame(f, cmd);
	memset(u->sent_values, 0, sizeof(u->sent_values));
	rc = ft_usart_tx(dev, f, sizeof(f));
	if (rc < 0)
		return rc;
	return ft_usart_wait_ack(dev, op, "the command",
	    ACK_TIMEOUT_MS + ft_usart_wire_ms(u, sizeof(f) + 1));
}

/*
 * A memory command (read, write, erase, go, checksum).  Under readout
 * protection the ROM NACKs these at the command byte (AN3155 table 2).
 * A bad line NACKs a command now and then (a few percent), and a byte
 * lost on the way leaves the ROM one byte out of step, so that every
 * command pair straddles two and is NACKed until a resync.  So a refusal
 * returns at once (the core resyncs and retries), and only refusals that
 * come after clean resyncs, several in a row with no memory command
 * accepted in between, are protection, where no retry will help.
 */
#define PROTECTED_AFTER_REFUSALS 4u

int
ft_usart_mem_command(struct ft_dev *dev, const struct op *op, uint8_t cmd)
{
	struct usart *u = U(dev);
	int rc = ft_usart_command(dev, op, cmd);

	if (rc != FT_E_NACK) {
		if (rc == 0)
			u->refusals = 0;
		return rc;
	}
	if (++u->refusals < PROTECTED_AFTER_REFUSALS)
		return rc;
	return ft_usart_op_fail(dev, FT_E_PROTECTED, op, "command 0x%02x "
	    "refused %u times in a row: readout protection is active "
	    "(removing it with Readout Unprotect erases the flash)", cmd,
	    u->refusals);
}

/* Send a 32-bit value frame (address or length), wait for its ACK. */
int
ft_usart_send_u32(struct ft_dev *dev, const struct op *op, uint32_t v,
    const char *stage)
{
	struct usart *u = U(dev);
	uint8_t f[AN_ADDR_FRAME_LEN];
	int rc;

	ft_an_u32_frame(f, v);
	rc = ft_usart_tx(dev, f, sizeof(f));
	if (rc < 0)
		return rc;
	return ft_usart_wait_ack(dev, op, stage,
	    ACK_TIMEOUT_MS + ft_usart_wire_ms(u, sizeof(f) + 1));
}

/*
 * Sync: send 0x7F until the autobaud answers.  ACK: synced now.  NACK:
 * the ROM was already synced (a previous run, or our previous 0x7F was
 * taken as the first byte of a command): fine too.  Other bytes (the 0x00
 * glitch of a resetting chip or adapter, noise) are skipped.
 */
int
ft_usart_sync(struct ft_dev *dev, unsigned tries)
{
	struct usart *u = U(dev);
	const char *path = ft_serial_path(u->port);
	unsigned i, stray = 0;
	uint8_t last = 0;
	int rc;

	rc = ft_serial_flush_input(u->port);
	if (rc < 0)
		return rc;
	/* Each try waits half a second: a signal need not wait for all of
	 * them. */
	for (i = 0; i < tries && !ft_cancelled(dev->ctx); i++) {
		const uint8_t s = AN_SYNC;
		uint64_t deadline;

		ft_dbg(dev->ctx, "sync: 0x7F, try %u of %u", i + 1, tries);
		rc = ft_usart_tx(dev, &s, 1);
		if (rc < 0)
			return rc;
		deadline = ft_now_ms() + SYNC_REPLY_MS + ft_usart_wire_ms(u, 2);
		for (;;) {
			uint64_t now = ft_now_ms();
			uint8_t b;

			if (now >= deadline)
				break;
			rc = ft_usart_rx(dev, &b, 1, (unsigned)(deadline - now),
			    NULL);
			if (rc == FT_E_TIMEOUT)
				break;
			if (rc < 0 && rc != FT_E_PROTOCOL)
				return rc;
			/* A damaged byte is one more stray one, even if it
			 * reads as ACK. */
			if (rc == 0 && b == AN_ACK) {
				ft_dbg(dev->ctx, "sync: ACK");
				return 0;
			}
			if (rc == 0 && b == AN_NACK) {
				ft_dbg(dev->ctx, "sync: NACK, bootloader was "
				    "already synced");
				return 0;
			}
			stray++;
			last = b;
		}
	}
	/* Also after a signal during the last try: not "no answer". */
	if (ft_cancelled(dev->ctx))
		return ft_fail(dev->ctx, FT_E_INTERRUPTED,
		    "%s: interrupted during the sync with the bootloader",
		    path);
	if (stray > 0)
		return ft_fail(dev->ctx, FT_E_PROTOCOL,
		    "%s: no ACK to the sync byte 0x7F after %u tries, only "
		    "%u other bytes (last 0x%02x): wrong baud rate or "
		    "parity, or not an STM32 bootloader", path, tries, stray,
		    last);
	return ft_fail(dev->ctx, FT_E_NO_DEVICE,
	    "%s: no answer to the sync byte 0x7F after %u tries (%u ms): "
	    "check that BOOT0 is high during reset, TX/RX are crossed and "
	    "the baud rate is at most 115200", path, tries,
	    tries * SYNC_REPLY_MS);
}

/* Read an N-prefixed reply body ([N, N+1 bytes]) and the final ACK. */
int
ft_usart_read_body(struct ft_dev *dev, const struct op *op, uint8_t *body,
    size_t *len)
{
	struct usart *u = U(dev);
	unsigned ms = ACK_TIMEOUT_MS + ft_usart_wire_ms(u, 258);
	int rc;

	rc = ft_usart_rx(dev, body, 1, ms, NULL);
	if (rc == FT_E_TIMEOUT)
		return ft_usart_op_fail(dev, rc, op, "no reply length");
	if (rc == FT_E_PROTOCOL)
		return ft_usart_damaged(dev, op, "reply length");
	if (rc < 0)
		return rc;
	rc = ft_usart_rx(dev, body + 1, (size_t)body[0] + 1, ms, NULL);
	if (rc == FT_E_TIMEOUT)
		return ft_usart_op_fail(dev, rc, op, "reply shorter than %u "
		    "bytes", body[0] + 1u);
	if (rc == FT_E_PROTOCOL)
		return ft_usart_damaged(dev, op, "reply");
	if (rc < 0)
		return rc;
	*len = (size_t)body[0] + 2;
	return ft_usart_wait_ack(dev, op, "the reply", ms);
}

/*
 * Pipelining (ft_open_opts.usart_pipeline): Read Memory by default, Write
 * Memory too when asked, sends the command, the address and the last
 * frame as one burst and collects the three ACKs afterwards, two round
 * trips fewer per block.  A ROM that refuses the command or the address
 * is back to waiting for a command and takes the rest of the burst as
 * new commands.  So a burst that holds a command pair able to change the
 * chip goes frame by frame (ft_an_burst_risky), and the first failure
 * turns bursts off for the rest of the session: the core's resync (which
 * drains the NACKs of those stray "commands") and its retries then run
 * frame by frame.  For the default read bursts that is routine on a bad
 * line, said with --debug; a user who asked for --pipeline is told.
 */
static void
pipeline_off(struct ft_dev *dev, const struct op *op)
{
	struct usart *u = U(dev);
	char name[OP_NAME_MAX];

	if (!u->read_burst && !u->write_burst)
		return;
	u->read_burst = u->write_burst = 0;
	op_name(op, name, sizeof(name));
	ft_log(dev->ctx, u->asked_pipeline ? FT_LOG_INFO : FT_LOG_DEBUG,
	    "pipelined %s failed: pipelining is off for the rest of the "
	    "session, every frame waits for its ACK", name);
}

/* May this burst go out in one piece? */
int
ft_usart_burst_ok(struct ft_dev *dev, const struct op *op, const uint8_t *b,
    size_t n)
{
	struct usart *u = U(dev);

	if (!ft_an_burst_risky(&u->get, b, n))
		return 1;
	ft_dbg(dev->ctx, "%s at 0x%08x: the burst holds a command pair, "
	    "sending it frame by frame", op->cmd, (unsigned)op->addr);
	return 0;
}

/*
 * Send a burst (command, address, last frame) and collect the ACK of each
 * frame in order.  Each ACK's bound covers the wire time of everything
 * up to its frame, as the ROM cannot answer a frame before it has it;
 * the last stage's device time is last_ms.  Failures name the stage as
 * the frame-by-frame path does.
 */
int
ft_usart_send_burst(struct ft_dev *dev, const struct op *op, const uint8_t *b,
    size_t n, const char *last, unsigned last_ms)
{
	struct usart *u = U(dev);
	int rc;

	memset(u->sent_values, 0, sizeof(u->sent_values));
	rc = ft_usart_tx(dev, b, n);
	if (rc == 0)
		rc = ft_usart_wait_ack(dev, op, "the command", ACK_TIMEOUT_MS +
		    ft_usart_wire_ms(u, AN_CMD_FRAME_LEN + 1));
	if (rc == 0)
		rc = ft_usart_wait_ack(dev, op, "address", ACK_TIMEOUT_MS +
		    ft_usart_wire_ms(u, AN_CMD_FRAME_LEN + AN_ADDR_FRAME_LEN +
		    2));
	if (rc == 0)
		rc = ft_usart_wait_ack(dev, op, last,
		    last_ms + ft_usart_wire_ms(u, n + 3));
	if (rc < 0)
		pipeline_off(dev, op);
	return rc;
}

/* Read Memory up to the data, frame by frame: each after its ACK. */
int
ft_usart_read_frames(struct ft_dev *dev, const struct op *op,
    const uint8_t f[AN_READ_LEN_FRAME_LEN])
{
	int rc;

	rc = ft_usart_mem_command(dev, op, AN_CMD_READ);
	if (rc < 0)
		return rc;
	rc = ft_usart_send_u32(dev, op, op->addr, "address");
	if (rc < 0)
		return rc;
	rc = ft_usart_tx(dev, f, AN_READ_LEN_FRAME_LEN);
	if (rc < 0)
		return rc;
	return ft_usart_wait_ack(dev, op, "length", ACK_TIMEOUT_MS +
	    ft_usart_wire_ms(U(dev), AN_READ_LEN_FRAME_LEN + 1));
}

/* Send a probe burst and report whether any reply came back. */
static int
probe(struct ft_dev *dev, uint8_t byte, size_t count, int *answered,
    int *saw_nack)
{
	struct usart *u = U(dev);
	uint8_t burst[RESYNC_MAX_BURST];
	uint8_t b;
	int rc, n;

	memset(burst, byte, count);
	rc = ft_usart_tx(dev, burst, count);
	if (rc < 0)
		return rc;
	*answered = 0;
	*saw_nack = 0;
	rc = ft_usart_rx(dev, &b, 1,
	    RESYNC_REPLY_MS + ft_usart_wire_ms(u, count + 1), NULL);
	if (rc == FT_E_TIMEOUT)
		return 0;
	/* A damaged answer is still an answer; its value means nothing. */
	if (rc < 0 && rc != FT_E_PROTOCOL)
		return rc;
	*answered = 1;
	*saw_nack = rc == 0 && b == AN_NACK;
	/* Further NACKs (one per probe pair) and stragglers. */
	n = ft_serial_discard(u->port, RESYNC_QUIET_MS, RESYNC_TIMEOUT_MS);
	return n < 0 ? n : 0;
}

/*
 * The first resync probe: a value the failed command never sent.  When
 * the ROM lost one byte of a frame it waits for one more, takes it as the
 * frame's checksum, and accepts the frame exactly when that byte equals
 * the lost one (the XOR of the rest is the lost byte).  A value absent
 * from the command therefore always draws a NACK instead of, one time in
 * 256, a write of shifted data.  0x80 is avoided too: after it, 0x7F
 * would complete a valid command pair.
 */
static uint8_t
unsent_value(const struct usart *u)
{
	unsigned v;

	for (v = 0; v < 256; v++)
		if (v != 0x80 && v != AN_SYNC &&
		    !(u->sent_values[v >> 3] & (1u << (v & 7))))
			return (uint8_t)v;
	return RESYNC_PROBE;
}

/*
 * Bring the ROM back to "waiting for a command" after a failed exchange.
 * First a byte the failed command never sent (see unsent_value), then
 * 0x7F: a chip that reset answers ACK (synced again), a ROM in the
 * middle of a frame takes it as data.  Then probe bytes in growing
 * bursts until something answers: every state of the ROM's parser ends in
 * a NACK within 258 bytes.  A single byte that gets an answer completed
 * the ROM's frame, so its parser is idle.  After a longer burst, pairs of
 * probes in command state are NACKed too and one odd probe may stay
 * pending: a last single probe either completes that pair (NACK) or
 * starts one the next probe completes.
 * Get Version then proves the link is clean.
 */
static int
resync_once(struct ft_dev *dev)
{
	struct usart *u = U(dev);
	uint64_t deadline = ft_now_ms() + RESYNC_TIMEOUT_MS;
	size_t burst = 1, sent = 1;
	int answered = 0, nack = 0, rc, n;
	uint8_t version;
	unsigned i;

	ft_dbg(dev->ctx, "resync");
	n = ft_serial_discard(u->port, RESYNC_QUIET_MS, RESYNC_TIMEOUT_MS);
	if (n < 0)
		return n;
	rc = probe(dev, unsent_value(u), 1, &answered, &nack);
	if (rc == 0 && !answered)
		rc = probe(dev, AN_SYNC, 1, &answered, &nack);
	if (rc < 0)
		return rc;
	while (!answered) {
		if (ft_now_ms() >= deadline)
			return ft_fail(dev->ctx, FT_E_TIMEOUT,
			    "resync: the bootloader does not answer any more");
		/* On a dead line this loop is what a signal waits for. */
		if (ft_cancelled(dev->ctx))
			return ft_fail(dev->ctx, FT_E_INTERRUPTED,
			    "resync interrupted");
		sent = burst;
		rc = probe(dev, RESYNC_PROBE, burst, &answered, &nack);
		if (rc < 0)
			return rc;
		if (burst < RESYNC_MAX_BURST)
			burst *= 2;
	}
	/* A lone byte that was answered completed the ROM's frame: the
	 * parser is idle.  After a burst one probe may still be pending. */
	for (i = 0; sent > 1 && i < 2; i++) {
		rc = probe(dev, RESYNC_PROBE, 1, &answered, &nack);
		if (rc < 0)
			return rc;
		if (answered)
			break;
	}
	if (!answered)
		return ft_fail(dev->ctx, FT_E_TIMEOUT,
		    "resync: no NACK to a lone probe byte");
	/*
	 * The ROM answered, so the line is alive: a Get Version that still
	 * fails (a byte of it lost or hit on the way) leaves the link
	 * unclean, not dead, and the resync runs again.
	 */
	rc = ft_usart_get_version(dev, &version);
	if (rc == FT_E_NACK || rc == FT_E_TIMEOUT)
		rc = ft_fail(dev->ctx, FT_E_PROTOCOL, "resync: %s",
		    dev->ctx->detail);
	if (rc < 0)
		return rc;
	ft_dbg(dev->ctx, "resync: link is clean again");
	return 0;
}

/*
 * A resync whose own Get Version failed (damaged, garbled, lost) leaves
 * the link unclean: run it again, a bounded number of times (a dead line
 * ends each attempt with FT_E_TIMEOUT, which is final).
 */
int
ft_usart_resync(struct ft_dev *dev)
{
	struct usart *u = U(dev);
	unsigned attempt;
	int rc;

	if (u->idle_after_damage) {
		u->idle_after_damage = 0;
		ft_dbg(dev->ctx, "resync: none needed, the reply was whole");
		return 0;
	}
	for (attempt = 0;; attempt++) {
		rc = resync_once(dev);
		if (rc != FT_E_PROTOCOL || attempt + 1 >= RESYNC_ATTEMPTS)
			return rc;
		ft_dbg(dev->ctx, "%s; resyncing again", dev->ctx->detail);
	}
}
