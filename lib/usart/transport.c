/*
 * usart/transport.c - the USART transport: STM32 ROM bootloader over a serial
 * port, ST AN3155.  The ft_transport ops speak the wire protocol only;
 * chunking, retries, verify and progress belong to lib/core/.
 *
 * Invariants:
 *  - Every wait has a bound: a named timeout for the device's worst case
 *    plus the wire time of what is still on its way at the current baud.
 *  - An op that fails returns at once with FT_E_NACK, FT_E_TIMEOUT or
 *    FT_E_PROTOCOL and a detail naming the command, address and stage;
 *    bringing the bootloader back to "waiting for a command" is resync's
 *    job, which the core calls before a retry.
 *  - Only frames built by lib/usart/an3155.c go on the wire, so no field is
 *    ever truncated to fit.
 *  - The hot path (read, write) is three round trips per block with no
 *    sleeps, no flushes and block-sized reads; one when pipelining is on
 *    (off by default, see send_burst).
 *  - An entry/exit sequence is parsed and its GPIO lines claimed before
 *    the port is opened; its exit half runs before the port is closed on
 *    every path out (failed open included), at most once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"
#include "an3155.h"
#include "entry.h"
#include "serial.h"

/*
 * Timeouts.  AN3155 gives none; these are the device's worst case for
 * each wait, to which the wire time of the bytes still in flight is added.
 *  - First ACK of a command, and ACKs of address/length frames: the ROM
 *    answers as soon as it has checked the bytes; 500 ms is ample (and is
 *    what stm32flash has used for years without complaints).
 *  - Write Memory final ACK: 256 bytes at the slowest program time in the
 *    table (F1: 70 us per half-word, DS5319) is 9 ms; an option-byte
 *    write erases and reprograms the OB page first.  1 s.
 *  - Erase: see an_erase_timeout_ms() in lib/usart/an3155.c (per unit, from
 *    its size; F4 128 KiB sector 4 s at x8).
 *  - Mass erase and Readout Unprotect: an_mass_erase_timeout_ms(), from
 *    the flash size (2 MiB F4: 32 s).
 *  - Write Protect / Write Unprotect / Readout Protect: the ROM erases and
 *    reprograms the option bytes (an OB "page" or, on F2/F4, the OB
 *    sector): 5 s covers the largest.
 *  - Get Checksum: the ROM reads the area at bus speed; 2 ms per KiB
 *    (10x a byte loop at 16 MHz HSI) plus 500 ms.
 */
#define ACK_TIMEOUT_MS 500u
#define WRITE_ACK_TIMEOUT_MS 1000u
#define PROTECT_ACK_TIMEOUT_MS 5000u
#define CRC_BASE_TIMEOUT_MS 500u
#define CRC_MS_PER_KIB 2u
/* Writing to the port: the driver queue takes our bytes at once unless
 * the line is stuck (flow control, unplugged adapter). */
#define TX_TIMEOUT_MS 1000u

/*
 * Sync: a chip coming out of reset may miss the first 0x7F, so try
 * SYNC_TRIES times SYNC_REPLY_MS (2.5 s in all).
 */
#define SYNC_TRIES 5u
#define SYNC_REPLY_MS 500u
/* After a command that resets the device (0x63/0x73/0x82/0x92): let the
 * ROM boot again before the first 0x7F, then sync for at most
 * RESET_SYNC_TRIES * SYNC_REPLY_MS. */
#define RESET_SETTLE_MS 200u
#define RESET_SYNC_TRIES 10u

/* Resync: wait this long for a NACK after each probe burst. */
#define RESYNC_REPLY_MS 100u
/* Line must be quiet this long before we trust it is drained. */
#define RESYNC_QUIET_MS 30u
/* The whole resync is bounded by this. */
#define RESYNC_TIMEOUT_MS 4000u
/*
 * Probe byte: even and neither 0x00 nor 0xFF.  In command state a pair
 * (b, b) is not cmd/~cmd; an address frame b,b,b,b has XOR 0 != b; a
 * Write Memory frame N=b, b+1 (odd count) data bytes b, checksum b has
 * XOR b ^ b = 0 != b - so every state ends in a NACK and no probe can
 * ever be taken for a valid write or a special erase (0xFFFF).
 */
#define RESYNC_PROBE 0xFEu
#define RESYNC_MAX_BURST 256u

/* Room for "Write Memory at 0x08004000". */
#define OP_NAME_MAX 48
/* Raw bytes shown per trace line. */
#define TRACE_MAX_BYTES 48

struct usart {
	struct ft_serial *port;
	struct ft_entry *entry;	/* NULL: no entry/exit sequence */
	unsigned settle_ms;	/* after the entry half */
	unsigned baud;
	unsigned char_bits;
	struct an_get get;
	/* Byte values sent since the current command began (a bitmap). */
	uint8_t sent_values[32];
	int pipeline;		/* ft_open_opts.usart_pipeline, until a
				 * pipelined command fails */
	/*
	 * The last failure was a Read Memory whose data all arrived, some
	 * of it damaged on the line: the ROM has finished its reply and
	 * waits for a command, so the retry needs no resync.
	 */
	int idle_after_damage;
};

static int usart_resync(struct ft_dev *dev);

/* Whole resyncs after one failure whose own check came back damaged. */
#define RESYNC_ATTEMPTS 3u

struct op {
	const char *cmd;	/* "Write Memory" */
	uint32_t addr;
	int has_addr;
};

static struct usart *
U(struct ft_dev *dev)
{
	return dev->priv;
}

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
static unsigned
wire_ms(const struct usart *u, size_t nbytes)
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

static int
op_fail(struct ft_dev *dev, int err, const struct op *op, const char *fmt,
    ...) FT_PRINTF(4, 5);

static int
op_fail(struct ft_dev *dev, int err, const struct op *op, const char *fmt,
    ...)
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

static int
tx(struct ft_dev *dev, const uint8_t *b, size_t n)
{
	struct usart *u = U(dev);
	size_t i;

	for (i = 0; i < n; i++)
		u->sent_values[b[i] >> 3] |= (uint8_t)(1u << (b[i] & 7));
	u->idle_after_damage = 0;
	trace_bytes(dev, ">", b, n);
	return ft_serial_write(u->port, b, n, TX_TIMEOUT_MS + wire_ms(u, n));
}

/*
 * Read a reply.  FT_E_PROTOCOL from the serial layer is a line error:
 * some byte failed the parity check (or framing, or was a BREAK).  All
 * n bytes were still taken, but one of them may be wrong, and AN3155
 * replies carry no checksum: the caller fails the exchange, the core
 * resyncs and does it again.  So a damaged block is read again, never
 * returned.
 */
static int
rx(struct ft_dev *dev, uint8_t *b, size_t n, unsigned ms, size_t *got)
{
	size_t g = 0;
	int rc = ft_serial_read(U(dev)->port, b, n, ms, &g);

	trace_bytes(dev, "<", b, g);
	if (got != NULL)
		*got = g;
	return rc;
}

/* rx() reported a line error in what: name the command in the detail. */
static int
damaged(struct ft_dev *dev, const struct op *op, const char *what)
{
	return op_fail(dev, FT_E_PROTOCOL, op, "damaged %s (%s)", what,
	    dev->ctx->detail);
}

/*
 * Wait for ACK within ms.  NACK, silence and anything else fail with a
 * detail "<cmd> at <addr>: NACK after <stage>".  BUSY (0x76, which some
 * newer ROMs send while working) just keeps us waiting.
 */
static int
wait_ack(struct ft_dev *dev, const struct op *op, const char *stage,
    unsigned ms)
{
	uint64_t deadline = ft_now_ms() + ms;

	for (;;) {
		uint64_t now = ft_now_ms();
		unsigned left = now < deadline ? (unsigned)(deadline - now) :
		    0;
		uint8_t b;
		int rc = rx(dev, &b, 1, left, NULL);

		if (rc == FT_E_TIMEOUT)
			return op_fail(dev, FT_E_TIMEOUT, op,
			    "no answer after %s within %u ms", stage, ms);
		if (rc == FT_E_PROTOCOL)
			return op_fail(dev, rc, op, "damaged answer after %s "
			    "(%s)", stage, dev->ctx->detail);
		if (rc < 0)
			return rc;
		if (b == AN_ACK)
			return 0;
		if (b == AN_NACK)
			return op_fail(dev, FT_E_NACK, op, "NACK after %s",
			    stage);
		if (b != AN_BUSY)
			return op_fail(dev, FT_E_PROTOCOL, op,
			    "got 0x%02x instead of ACK after %s", b, stage);
	}
}

/* Send a command code and its complement, wait for the first ACK. */
static int
command(struct ft_dev *dev, const struct op *op, uint8_t cmd)
{
	struct usart *u = U(dev);
	uint8_t f[AN_CMD_FRAME_LEN];
	int rc;

	an_cmd_frame(f, cmd);
	memset(u->sent_values, 0, sizeof(u->sent_values));
	rc = tx(dev, f, sizeof(f));
	if (rc < 0)
		return rc;
	return wait_ack(dev, op, "the command",
	    ACK_TIMEOUT_MS + wire_ms(u, sizeof(f) + 1));
}

/*
 * A memory command (read, write, erase, go, checksum).  Under readout
 * protection the ROM NACKs these at the command byte (AN3155 table 2);
 * a NACK there leaves it waiting for the next command, so ask again.
 * A bad line NACKs a command now and then (a few percent); several
 * refusals in a row are protection, and no retry will help.
 */
#define PROTECTED_AFTER_REFUSALS 4u

static int
mem_command(struct ft_dev *dev, const struct op *op, uint8_t cmd)
{
	unsigned i;
	int rc = 0;

	for (i = 0; i < PROTECTED_AFTER_REFUSALS; i++) {
		rc = command(dev, op, cmd);
		if (rc != FT_E_NACK)
			return rc;
	}
	return op_fail(dev, FT_E_PROTECTED, op, "command 0x%02x refused "
	    "%u times in a row: readout protection is active (removing it "
	    "with Readout Unprotect erases the flash)", cmd,
	    PROTECTED_AFTER_REFUSALS);
}

/* Send a 32-bit value frame (address or length), wait for its ACK. */
static int
send_u32(struct ft_dev *dev, const struct op *op, uint32_t v,
    const char *stage)
{
	struct usart *u = U(dev);
	uint8_t f[AN_ADDR_FRAME_LEN];
	int rc;

	an_u32_frame(f, v);
	rc = tx(dev, f, sizeof(f));
	if (rc < 0)
		return rc;
	return wait_ack(dev, op, stage,
	    ACK_TIMEOUT_MS + wire_ms(u, sizeof(f) + 1));
}

/*
 * Sync: send 0x7F until the autobaud answers.  ACK: synced now.  NACK:
 * the ROM was already synced (a previous run, or our previous 0x7F was
 * taken as the first byte of a command): fine too.  Other bytes (the 0x00
 * glitch of a resetting chip or adapter, noise) are skipped.
 */
static int
sync_link(struct ft_dev *dev, unsigned tries)
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
		rc = tx(dev, &s, 1);
		if (rc < 0)
			return rc;
		deadline = ft_now_ms() + SYNC_REPLY_MS + wire_ms(u, 2);
		for (;;) {
			uint64_t now = ft_now_ms();
			uint8_t b;

			if (now >= deadline)
				break;
			rc = rx(dev, &b, 1, (unsigned)(deadline - now), NULL);
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
static int
read_body(struct ft_dev *dev, const struct op *op, uint8_t *body,
    size_t *len)
{
	struct usart *u = U(dev);
	unsigned ms = ACK_TIMEOUT_MS + wire_ms(u, 258);
	int rc;

	rc = rx(dev, body, 1, ms, NULL);
	if (rc == FT_E_TIMEOUT)
		return op_fail(dev, rc, op, "no reply length");
	if (rc == FT_E_PROTOCOL)
		return damaged(dev, op, "reply length");
	if (rc < 0)
		return rc;
	rc = rx(dev, body + 1, (size_t)body[0] + 1, ms, NULL);
	if (rc == FT_E_TIMEOUT)
		return op_fail(dev, rc, op, "reply shorter than %u bytes",
		    body[0] + 1u);
	if (rc == FT_E_PROTOCOL)
		return damaged(dev, op, "reply");
	if (rc < 0)
		return rc;
	*len = (size_t)body[0] + 2;
	return wait_ack(dev, op, "the reply", ms);
}

static int
get_version(struct ft_dev *dev, uint8_t *version)
{
	const struct op op = { "Get Version", 0, 0 };
	uint8_t b[5];
	int rc;

	rc = command(dev, &op, AN_CMD_GET_VERSION);
	if (rc < 0)
		return rc;
	rc = rx(dev, b, 4, ACK_TIMEOUT_MS + wire_ms(U(dev), 4), NULL);
	if (rc == FT_E_TIMEOUT)
		return op_fail(dev, rc, &op, "short reply");
	if (rc == FT_E_PROTOCOL)
		return damaged(dev, &op, "reply");
	if (rc < 0)
		return rc;
	/* Some ROMs (L412/L422 v13.1) send a second ACK after the sync:
	 * then our ACK was that one and the reply is shifted by a byte. */
	if (b[0] == AN_ACK && b[3] != AN_ACK) {
		rc = rx(dev, b + 4, 1, ACK_TIMEOUT_MS, NULL);
		if (rc < 0)
			return op_fail(dev, FT_E_PROTOCOL, &op,
			    "malformed reply");
		memmove(b, b + 1, 4);
	}
	if (b[3] != AN_ACK)
		return op_fail(dev, FT_E_PROTOCOL, &op,
		    "got 0x%02x instead of the final ACK", b[3]);
	*version = b[0];
	ft_dbg(dev->ctx, "Get Version: %u.%u (option bytes %02x %02x)",
	    b[0] >> 4, b[0] & 15, b[1], b[2]);
	return 0;
}

static int
get_commands(struct ft_dev *dev)
{
	const struct op op = { "Get", 0, 0 };
	struct usart *u = U(dev);
	uint8_t body[258];
	size_t len;
	int rc;

	rc = command(dev, &op, AN_CMD_GET);
	if (rc < 0)
		return rc;
	rc = read_body(dev, &op, body, &len);
	if (rc < 0)
		return rc;
	if (an_parse_get(body, len, &u->get) != 0)
		return op_fail(dev, FT_E_PROTOCOL, &op, "malformed reply");
	/*
	 * Every AN3155 ROM lists Get, Get Version, Get ID, Read and Write.
	 * A list without them was garbled on the way (the reply has no
	 * checksum): a protocol error, so that it is asked again.
	 */
	if (!an_has_cmd(&u->get, AN_CMD_GET) ||
	    !an_has_cmd(&u->get, AN_CMD_GET_VERSION) ||
	    !an_has_cmd(&u->get, AN_CMD_GET_ID) ||
	    !an_has_cmd(&u->get, AN_CMD_READ) ||
	    !an_has_cmd(&u->get, AN_CMD_WRITE) || u->get.erase_cmd == 0)
		return op_fail(dev, FT_E_PROTOCOL, &op, "the command list "
		    "lacks basic commands (garbled on the line?)");
	ft_dbg(dev->ctx, "Get: bootloader %u.%u, %u commands, erase 0x%02x%s",
	    u->get.version >> 4, u->get.version & 15, u->get.ncmds,
	    u->get.erase_cmd, u->get.has_checksum ? ", Get Checksum" : "");
	return 0;
}

static int
get_id(struct ft_dev *dev, uint16_t *pid)
{
	const struct op op = { "Get ID", 0, 0 };
	uint8_t body[258];
	size_t len;
	int rc;

	rc = command(dev, &op, AN_CMD_GET_ID);
	if (rc < 0)
		return rc;
	rc = read_body(dev, &op, body, &len);
	if (rc < 0)
		return rc;
	if (an_parse_get_id(body, len, pid) != 0)
		return op_fail(dev, FT_E_PROTOCOL, &op, "malformed reply");
	ft_dbg(dev->ctx, "Get ID: product ID 0x%03x", *pid);
	return 0;
}

static void
copy_commands(struct ft_dev *dev)
{
	struct usart *u = U(dev);
	size_t n = u->get.ncmds;

	if (n > sizeof(dev->info.cmds))
		n = sizeof(dev->info.cmds);
	memcpy(dev->info.cmds, u->get.cmds, n);
	dev->info.ncmds = (uint8_t)n;
	dev->info.bl_version = u->get.version;
	dev->info.has_checksum = u->get.has_checksum;
	dev->info.extended_erase = u->get.erase_cmd == AN_CMD_EXT_ERASE;
}

/*
 * Get Version, Get and Get ID, retried after a resync like any block:
 * a bad line hits these exchanges as often as the data that follows.
 */
static int
ask_identity(struct ft_dev *dev, uint8_t *version, uint16_t *pid)
{
	unsigned attempt;
	int rc;

	for (attempt = 0;; attempt++) {
		rc = get_version(dev, version);
		if (rc == 0)
			rc = get_commands(dev);
		if (rc == 0)
			rc = get_id(dev, pid);
		if (rc == 0)
			return 0;
		if ((rc != FT_E_NACK && rc != FT_E_TIMEOUT &&
		    rc != FT_E_PROTOCOL) || attempt >= dev->retries)
			return rc;
		ft_warn(dev->ctx, "identifying the bootloader failed (%s); "
		    "resyncing and retrying", dev->ctx->detail);
		rc = usart_resync(dev);
		if (rc < 0 && rc != FT_E_NACK && rc != FT_E_TIMEOUT &&
		    rc != FT_E_PROTOCOL) {
			char why[FT_DETAIL_MAX];

			/* Say what was going on when the port went away. */
			snprintf(why, sizeof(why), "%s", dev->ctx->detail);
			return ft_fail(dev->ctx, rc, "identifying the "
			    "bootloader (resync): %s", why);
		}
	}
}

static int
identify(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	const struct ft_chip *chip;
	uint16_t pid;
	uint8_t version;
	uint32_t align, maxw;
	int rc;

	rc = ask_identity(dev, &version, &pid);
	if (rc < 0)
		return rc;
	copy_commands(dev);

	dev->info.transport = FT_TRANSPORT_USART;
	dev->info.pid = pid;
	chip = ft_chip_by_pid(pid);
	dev->info.chip = chip;
	if (chip != NULL) {
		snprintf(dev->info.name, sizeof(dev->info.name), "%s",
		    chip->name);
		ft_chip_layout(chip, &dev->info.flash);
	} else if (opts->layout == NULL) {
		return ft_fail(dev->ctx, FT_E_UNKNOWN_CHIP,
		    "product ID 0x%03x is not in the device table: pass its "
		    "flash layout, e.g. --layout 0x08000000:64x2K", pid);
	} else {
		snprintf(dev->info.name, sizeof(dev->info.name),
		    "unknown 0x%03x", pid);
	}
	if (opts->layout != NULL)
		dev->info.flash = *opts->layout;

	align = 4;
	if (chip != NULL && chip->write_unit > align)
		align = chip->write_unit;
	dev->write_align = align;
	dev->max_read = AN_MAX_READ;
	if (opts->max_read != 0 && opts->max_read < AN_MAX_READ)
		dev->max_read = opts->max_read;
	maxw = AN_MAX_WRITE;
	if (opts->max_write != 0 && opts->max_write < AN_MAX_WRITE)
		maxw = opts->max_write;
	maxw -= maxw % align;
	if (maxw == 0)
		return ft_fail(dev->ctx, FT_E_INVALID,
		    "write block of %u bytes is smaller than the %u-byte "
		    "programming unit of %s", opts->max_write, align,
		    dev->info.name);
	dev->max_write = maxw;
	return 0;
}

/*
 * The exit half, before the port closes.  A failure here is reported as a
 * warning and does not replace the detail of what failed before it.
 */
static void
run_exit(struct ft_dev *dev)
{
	struct usart *u = U(dev);
	char saved[FT_DETAIL_MAX];
	int rc;

	if (u->entry == NULL || u->port == NULL ||
	    ft_entry_exit_done(u->entry))
		return;
	if (dev->ctx != NULL)
		memcpy(saved, dev->ctx->detail, sizeof(saved));
	if (ft_entry_has_exit(u->entry))
		ft_dbg(dev->ctx, "running the exit sequence");
	rc = ft_entry_run_exit(u->entry, u->port);
	if (dev->ctx != NULL) {
		if (rc < 0)
			ft_warn(dev->ctx, "the exit sequence failed: %s",
			    dev->ctx->detail);
		memcpy(dev->ctx->detail, saved, sizeof(saved));
	}
}


/*
 * Entry half, settle, sync (which flushes the input first).  A chip that
 * does not answer gets the entry half once more: the first run may have
 * raced a board still powering up, or the chip was busy in an
 * application that ignored the first reset pulse.
 */
#define ENTRY_ATTEMPTS 2u

/*
 * The sync of the open: a port that fails during it says so ("sync", not
 * just the path), and a signal during it has changed nothing yet.
 */
static int
sync_named(struct ft_dev *dev, unsigned tries)
{
	char why[FT_DETAIL_MAX];
	int rc = sync_link(dev, tries);

	if ((rc != FT_E_IO && rc != FT_E_INTERRUPTED) || dev->ctx == NULL)
		return rc;
	snprintf(why, sizeof(why), "%s", dev->ctx->detail);
	if (rc == FT_E_INTERRUPTED)
		return ft_fail(dev->ctx, rc, "%s; nothing was changed", why);
	return ft_fail(dev->ctx, rc, "sync with the bootloader: %s", why);
}

static int
enter_and_sync(struct ft_dev *dev)
{
	struct usart *u = U(dev);
	unsigned attempt;
	int rc;

	if (u->entry == NULL || ft_entry_seq(u->entry)->entry.nsteps == 0)
		return sync_named(dev, SYNC_TRIES);
	for (attempt = 1;; attempt++) {
		ft_dbg(dev->ctx, "running the entry sequence (attempt %u of "
		    "%u), then %u ms settle", attempt, ENTRY_ATTEMPTS,
		    u->settle_ms);
		rc = ft_entry_run_entry(u->entry, u->port);
		if (rc < 0)
			return rc;
		ft_sleep_us((uint64_t)u->settle_ms * 1000u);
		rc = sync_named(dev, SYNC_TRIES);
		if (rc == 0 || attempt == ENTRY_ATTEMPTS ||
		    (rc != FT_E_NO_DEVICE && rc != FT_E_PROTOCOL &&
		    rc != FT_E_TIMEOUT))
			return rc;
		ft_warn(dev->ctx, "%s; running the entry sequence once more",
		    dev->ctx != NULL ? dev->ctx->detail : "no sync");
	}
}

/* Zeroed priv holds nothing: no port, no sequence (close is safe). */
static int
usart_open(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	struct usart *u = U(dev);
	struct ft_serial_cfg cfg;
	int rc;

	u->settle_ms = opts->settle_ms < 0 ? 0u : opts->settle_ms == 0 ?
	    FT_ENTRY_SETTLE_MS : (unsigned)opts->settle_ms;
	/* Everything about the sequence is checked before the port opens. */
	if (opts->entry_seq != NULL) {
		rc = ft_entry_prepare(dev->ctx, opts->entry_seq, NULL,
		    &u->entry);
		if (rc < 0)
			return rc;
	}
	cfg.baud = opts->baud;
	cfg.data_bits = opts->data_bits;
	cfg.parity = opts->parity;
	cfg.stop_bits = opts->stop_bits;
	rc = ft_serial_open(dev->ctx, opts->port, &cfg, &u->port);
	if (rc < 0)
		return rc;
	u->baud = ft_serial_baud(u->port);
	u->char_bits = ft_serial_char_bits(u->port);
	u->pipeline = opts->usart_pipeline != 0;
	if (!opts->no_sync)
		rc = enter_and_sync(dev);
	else
		rc = ft_serial_flush_input(u->port);
	if (rc == 0)
		rc = identify(dev, opts);
	return rc;
}

/* The exit half (once), then the port as it was found. */
static void
usart_close(struct ft_dev *dev)
{
	struct usart *u = U(dev);

	run_exit(dev);
	ft_serial_close(u->port);
	u->port = NULL;
	ft_entry_free(u->entry);
	u->entry = NULL;
}

/*
 * Pipelining (ft_open_opts.usart_pipeline, off by default): Read and
 * Write Memory send the command, the address and the last frame as one
 * burst and collect the three ACKs afterwards, two round trips fewer per
 * block.  It is not known to be safe on every ROM: one that refuses the
 * command or the address is back to waiting for a command and takes the
 * rest of the burst as new commands.  So a burst that holds a command
 * pair able to change the chip goes frame by frame (an_burst_risky), and
 * the first failure turns pipelining off for the rest of the session:
 * the core's resync (which drains the NACKs of those stray "commands")
 * and its retries then run the safe way.
 */
static void
pipeline_off(struct ft_dev *dev, const struct op *op)
{
	struct usart *u = U(dev);
	char name[OP_NAME_MAX];

	if (!u->pipeline)
		return;
	u->pipeline = 0;
	op_name(op, name, sizeof(name));
	ft_warn(dev->ctx, "pipelined %s failed: pipelining is off for the "
	    "rest of the session", name);
}

/* May this burst go out in one piece? */
static int
burst_ok(struct ft_dev *dev, const struct op *op, const uint8_t *b,
    size_t n)
{
	struct usart *u = U(dev);

	if (!an_burst_risky(&u->get, b, n))
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
static int
send_burst(struct ft_dev *dev, const struct op *op, const uint8_t *b,
    size_t n, const char *last, unsigned last_ms)
{
	struct usart *u = U(dev);
	int rc;

	memset(u->sent_values, 0, sizeof(u->sent_values));
	rc = tx(dev, b, n);
	if (rc == 0)
		rc = wait_ack(dev, op, "the command", ACK_TIMEOUT_MS +
		    wire_ms(u, AN_CMD_FRAME_LEN + 1));
	if (rc == 0)
		rc = wait_ack(dev, op, "address", ACK_TIMEOUT_MS +
		    wire_ms(u, AN_CMD_FRAME_LEN + AN_ADDR_FRAME_LEN + 2));
	if (rc == 0)
		rc = wait_ack(dev, op, last, last_ms + wire_ms(u, n + 3));
	if (rc < 0)
		pipeline_off(dev, op);
	return rc;
}

/* Read Memory up to the data, frame by frame: each after its ACK. */
static int
read_frames(struct ft_dev *dev, const struct op *op,
    const uint8_t f[AN_READ_LEN_FRAME_LEN])
{
	int rc;

	rc = mem_command(dev, op, AN_CMD_READ);
	if (rc < 0)
		return rc;
	rc = send_u32(dev, op, op->addr, "address");
	if (rc < 0)
		return rc;
	rc = tx(dev, f, AN_READ_LEN_FRAME_LEN);
	if (rc < 0)
		return rc;
	return wait_ack(dev, op, "length",
	    ACK_TIMEOUT_MS + wire_ms(U(dev), AN_READ_LEN_FRAME_LEN + 1));
}

static int
usart_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	struct usart *u = U(dev);
	const struct op op = { "Read Memory", addr, 1 };
	uint8_t f[AN_READ_LEN_FRAME_LEN], b[AN_READ_BURST_LEN];
	int rc;

	if (an_read_len_frame(f, len) != 0)
		return op_fail(dev, FT_E_INVALID, &op, "bad length %u",
		    (unsigned)len);
	ft_dbg(dev->ctx, "Read Memory 0x%08x, %u bytes", (unsigned)addr,
	    (unsigned)len);
	if (u->pipeline && an_read_burst(b, addr, len) == 0 &&
	    burst_ok(dev, &op, b, sizeof(b)))
		rc = send_burst(dev, &op, b, sizeof(b), "length",
		    ACK_TIMEOUT_MS);
	else
		rc = read_frames(dev, &op, f);
	if (rc < 0)
		return rc;
	rc = rx(dev, buf, len, ACK_TIMEOUT_MS + wire_ms(u, len), NULL);
	if (rc == FT_E_TIMEOUT)
		return op_fail(dev, rc, &op, "fewer than %u data bytes",
		    (unsigned)len);
	if (rc == FT_E_PROTOCOL) {
		u->idle_after_damage = 1;
		return damaged(dev, &op, "data");
	}
	return rc;
}

static int
usart_write(struct ft_dev *dev, uint32_t addr, const uint8_t *buf,
    uint32_t len)
{
	struct usart *u = U(dev);
	const struct op op = { "Write Memory", addr, 1 };
	uint8_t f[AN_WRITE_FRAME_MAX];
	int n, rc;

	if (addr % 4 != 0)
		return op_fail(dev, FT_E_INVALID, &op,
		    "address not a multiple of 4");
	n = an_write_frame(f, buf, len);
	if (n < 0)
		return op_fail(dev, FT_E_INVALID, &op,
		    "length %u is not a multiple of 4 in 4..256",
		    (unsigned)len);
	ft_dbg(dev->ctx, "Write Memory 0x%08x, %u bytes", (unsigned)addr,
	    (unsigned)len);
	if (u->pipeline) {
		uint8_t b[AN_WRITE_BURST_MAX];
		int nb = an_write_burst(b, addr, buf, len);

		if (nb > 0 && burst_ok(dev, &op, b, (size_t)nb))
			return send_burst(dev, &op, b, (size_t)nb, "data",
			    WRITE_ACK_TIMEOUT_MS);
	}
	rc = mem_command(dev, &op, AN_CMD_WRITE);
	if (rc < 0)
		return rc;
	rc = send_u32(dev, &op, addr, "address");
	if (rc < 0)
		return rc;
	rc = tx(dev, f, (size_t)n);
	if (rc < 0)
		return rc;
	return wait_ack(dev, &op, "data",
	    WRITE_ACK_TIMEOUT_MS + wire_ms(u, (size_t)n + 1));
}

static int
no_erase_cmd(struct ft_dev *dev)
{
	return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
	    "the bootloader offers neither Erase (0x43) nor Extended Erase "
	    "(0x44)");
}

static int
usart_erase(struct ft_dev *dev, const struct ft_erase_unit *units, size_t n)
{
	struct usart *u = U(dev);
	uint8_t cmd = u->get.erase_cmd;
	int ext = cmd == AN_CMD_EXT_ERASE;
	size_t max = ext ? AN_EXT_ERASE_MAX_PAGES : AN_ERASE_MAX_PAGES;
	uint32_t limit = ext ? AN_EXT_ERASE_MAX_PAGE_NO : AN_ERASE_MAX_PAGE_NO;
	uint8_t f[AN_EXT_ERASE_FRAME_MAX];
	uint32_t pages[AN_EXT_ERASE_MAX_PAGES];
	size_t i, done = 0;
	int rc;

	if (cmd == 0)
		return no_erase_cmd(dev);
	/* Refuse before erasing anything. */
	for (i = 0; i < n; i++)
		if (units[i].index > limit)
			return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
			    "cannot erase page %u at 0x%08x: the bootloader's "
			    "%s command numbers pages 0-%u only",
			    (unsigned)units[i].index,
			    (unsigned)units[i].addr,
			    ext ? "Extended Erase (0x44)" :
			    "legacy Erase (0x43)", (unsigned)limit);
	while (done < n) {
		size_t k = an_erase_chunk(n - done, max);
		struct op op = { ext ? "Extended Erase" : "Erase",
		    units[done].addr, 1 };
		uint32_t bad = 0, ms;
		int len;

		for (i = 0; i < k; i++)
			pages[i] = units[done + i].index;
		len = ext ? an_ext_erase_frame(f, pages, k, &bad) :
		    an_erase_frame(f, pages, k, &bad);
		if (len < 0)
			return op_fail(dev, len, &op, "cannot encode page %u",
			    (unsigned)bad);
		ms = an_erase_timeout_ms(&units[done], k);
		ft_dbg(dev->ctx, "%s: %zu pages from %u (0x%08x), up to %u ms",
		    op.cmd, k, (unsigned)pages[0], (unsigned)op.addr,
		    (unsigned)ms);
		rc = mem_command(dev, &op, cmd);
		if (rc < 0)
			return rc;
		rc = tx(dev, f, (size_t)len);
		if (rc < 0)
			return rc;
		rc = wait_ack(dev, &op, "page list",
		    ms + wire_ms(u, (size_t)len + 1));
		if (rc < 0)
			return rc;
		done += k;
	}
	return 0;
}

static uint32_t
mass_timeout(struct ft_dev *dev)
{
	return an_mass_erase_timeout_ms(ft_layout_size(&dev->info.flash));
}

/* One special Extended Erase (mass or bank). */
static int
ext_special(struct ft_dev *dev, const struct op *op, uint16_t code)
{
	uint8_t f[3];
	int rc;

	rc = mem_command(dev, op, AN_CMD_EXT_ERASE);
	if (rc < 0)
		return rc;
	an_ext_erase_special_frame(f, code);
	rc = tx(dev, f, sizeof(f));
	if (rc < 0)
		return rc;
	return wait_ack(dev, op, "the erase code",
	    mass_timeout(dev) + wire_ms(U(dev), sizeof(f) + 1));
}

static int
usart_mass_erase(struct ft_dev *dev)
{
	struct usart *u = U(dev);
	const struct ft_chip *chip = dev->info.chip;
	int rc;

	if (chip != NULL && (chip->quirks & FT_Q_NO_MASS_ERASE))
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "%s has no working mass erase in its bootloader",
		    chip->name);
	if (u->get.erase_cmd == AN_CMD_EXT_ERASE) {
		const struct op op = { "Extended Erase (mass)", 0, 0 };
		const struct op b1 = { "Extended Erase (bank 1)", 0, 0 };
		const struct op b2 = { "Extended Erase (bank 2)", 0, 0 };

		ft_dbg(dev->ctx, "mass erase, up to %u ms",
		    (unsigned)mass_timeout(dev));
		rc = ext_special(dev, &op, AN_EXT_ERASE_MASS);
		if (rc != FT_E_NACK || chip == NULL ||
		    !(chip->quirks & FT_Q_DUAL_BANK))
			return rc;
		/* Some dual-bank ROMs only erase a bank at a time. */
		ft_dbg(dev->ctx, "mass erase NACKed, erasing bank by bank");
		rc = ext_special(dev, &b1, AN_EXT_ERASE_BANK1);
		if (rc < 0)
			return rc;
		return ext_special(dev, &b2, AN_EXT_ERASE_BANK2);
	}
	if (u->get.erase_cmd == AN_CMD_ERASE) {
		const struct op op = { "Erase (global)", 0, 0 };
		uint8_t f[2];

		rc = mem_command(dev, &op, AN_CMD_ERASE);
		if (rc < 0)
			return rc;
		an_erase_all_frame(f);
		rc = tx(dev, f, sizeof(f));
		if (rc < 0)
			return rc;
		return wait_ack(dev, &op, "the erase code",
		    mass_timeout(dev) + wire_ms(u, sizeof(f) + 1));
	}
	return no_erase_cmd(dev);
}

static int
usart_crc(struct ft_dev *dev, uint32_t addr, uint32_t len, uint32_t *out)
{
	static const char *const stage[AN_CRC_PARAM_FRAMES] = {
		"address", "size", "polynomial", "initial value",
	};
	struct usart *u = U(dev);
	const struct op op = { "Get Checksum", addr, 1 };
	uint8_t f[AN_CRC_PARAM_FRAMES][AN_ADDR_FRAME_LEN];
	uint8_t b[AN_CRC_REPLY_LEN];
	size_t got = 0;
	unsigned ms, i;
	int rc;

	if (!u->get.has_checksum)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "the bootloader does not offer Get Checksum (0xA1)");
	if (an_crc_frames(f, addr, len) != 0)
		return op_fail(dev, FT_E_INVALID, &op,
		    "address and length must be non-zero multiples of 4");
	ms = CRC_BASE_TIMEOUT_MS + (len / 1024u + 1) * CRC_MS_PER_KIB;
	ft_dbg(dev->ctx, "Get Checksum 0x%08x, %u bytes", (unsigned)addr,
	    (unsigned)len);
	rc = mem_command(dev, &op, AN_CMD_GET_CHECKSUM);
	if (rc < 0)
		return rc;
	for (i = 0; i < AN_CRC_PARAM_FRAMES; i++) {
		rc = tx(dev, f[i], AN_ADDR_FRAME_LEN);
		if (rc < 0)
			return rc;
		rc = wait_ack(dev, &op, stage[i],
		    ACK_TIMEOUT_MS + wire_ms(u, AN_ADDR_FRAME_LEN + 1));
		if (rc < 0)
			return rc;
	}
	rc = rx(dev, b, sizeof(b), ms + wire_ms(u, sizeof(b)), &got);
	if (got >= 1 && b[0] == AN_NACK)
		return op_fail(dev, FT_E_NACK, &op, "NACK instead of the CRC");
	if (rc == FT_E_TIMEOUT)
		return op_fail(dev, rc, &op, "%zu of %u reply bytes within "
		    "%u ms", got, AN_CRC_REPLY_LEN, ms);
	if (rc == FT_E_PROTOCOL)
		return damaged(dev, &op, "reply");
	if (rc < 0)
		return rc;
	if (an_parse_crc_reply(b, out) != 0)
		return op_fail(dev, FT_E_PROTOCOL, &op,
		    "malformed reply (%02x, XOR %02x)", b[0], b[5]);
	ft_dbg(dev->ctx, "Get Checksum: 0x%08x", (unsigned)*out);
	return 0;
}

static int
go_to(struct ft_dev *dev, uint32_t addr)
{
	const struct op op = { "Go", addr, 1 };
	int rc;

	ft_dbg(dev->ctx, "Go 0x%08x", (unsigned)addr);
	rc = mem_command(dev, &op, AN_CMD_GO);
	if (rc < 0)
		return rc;
	return send_u32(dev, &op, addr, "address");
}

static int
usart_go(struct ft_dev *dev, uint32_t addr)
{
	return go_to(dev, addr);
}

static int
usart_reset(struct ft_dev *dev)
{
	const struct ft_chip *chip = dev->info.chip;
	struct usart *u = U(dev);
	uint8_t code[AN_RESET_CODE_MAX];
	enum an_reset_kind kind = AN_RESET_SYSRESETREQ;
	uint32_t ram;
	int n, rc;

	if (ft_entry_has_exit(u->entry)) {
		ft_dbg(dev->ctx, "reset: through the exit sequence");
		return ft_entry_run_exit(u->entry, u->port);
	}
	if (chip == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "product ID 0x%03x is not in the device table, so no "
		    "free RAM is known for a reset routine; use -g "
		    "0x%08x or an exit sequence (-i ENTRY:EXIT)",
		    dev->info.pid, (unsigned)dev->info.flash.base);
	ram = (chip->ram_start + 3u) & ~3u;
	if (chip->ram_end <= ram)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "%s has no RAM free for a reset routine (its "
		    "bootloader uses all of it): use -g 0x%08x, or reset "
		    "through an exit sequence (-i ENTRY:EXIT)", chip->name,
		    (unsigned)chip->flash_base);
	if (chip->quirks & FT_Q_RESET_OBL_LAUNCH)
		kind = AN_RESET_OBL_LAUNCH;
	if (chip->quirks & FT_Q_RESET_PEMPTY)
		ft_dbg(dev->ctx, "%s: the reset routine does not fix PEMPTY; "
		    "the chip may start its bootloader again", chip->name);
	n = an_reset_code(code, ram, chip->ram_end, kind);
	if (n < 0 || ram + (uint32_t)n > chip->ram_end)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "%s: %d bytes of RAM free at 0x%08x are too few for the "
		    "reset routine", chip->name,
		    (int)(chip->ram_end - ram), (unsigned)ram);
	ft_dbg(dev->ctx, "reset: %d-byte %s routine at 0x%08x", n,
	    kind == AN_RESET_OBL_LAUNCH ? "OBL_LAUNCH" : "SYSRESETREQ",
	    (unsigned)ram);
	rc = usart_write(dev, ram, code, (uint32_t)n);
	if (rc < 0)
		return rc;
	return go_to(dev, ram);
}

/*
 * After a command that makes the chip reset itself: give the ROM time to
 * boot, sync again and re-read Get (protection changes what it offers).
 */
static int
reconnect(struct ft_dev *dev)
{
	int rc;

	ft_sleep_us((uint64_t)RESET_SETTLE_MS * 1000u);
	rc = sync_link(dev, RESET_SYNC_TRIES);
	if (rc < 0)
		return rc;
	rc = get_commands(dev);
	if (rc < 0)
		return rc;
	copy_commands(dev);
	return 0;
}

static int
usart_protect(struct ft_dev *dev, enum ft_protect_op which)
{
	struct op op = { NULL, 0, 0 };
	uint8_t cmd;
	uint32_t ms = PROTECT_ACK_TIMEOUT_MS;
	int rc;

	switch (which) {
	case FT_WRITE_UNPROTECT:
		op.cmd = "Write Unprotect";
		cmd = AN_CMD_WRITE_UNPROTECT;
		break;
	case FT_READOUT_PROTECT:
		op.cmd = "Readout Protect";
		cmd = AN_CMD_READOUT_PROTECT;
		break;
	case FT_READOUT_UNPROTECT:
		op.cmd = "Readout Unprotect";
		cmd = AN_CMD_READOUT_UNPROTECT;
		ms = mass_timeout(dev);
		break;
	default:
		return ft_fail(dev->ctx, FT_E_INVALID,
		    "unknown protection operation %d", (int)which);
	}
	ft_dbg(dev->ctx, "%s, up to %u ms", op.cmd, (unsigned)ms);
	rc = command(dev, &op, cmd);
	if (rc < 0)
		return rc;
	rc = wait_ack(dev, &op, "the operation", ms);
	if (rc < 0)
		return rc;
	return reconnect(dev);
}

static int
usart_write_protect(struct ft_dev *dev, const struct ft_erase_unit *units,
    size_t n)
{
	struct usart *u = U(dev);
	const struct op op = { "Write Protect", n ? units[0].addr : 0, n > 0 };
	uint8_t f[AN_WP_FRAME_MAX];
	uint32_t sectors[AN_WP_MAX_SECTORS];
	uint32_t bad = 0;
	size_t i;
	int len, rc;

	if (!an_has_cmd(&u->get, AN_CMD_WRITE_PROTECT))
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "the bootloader does not offer Write Protect (0x63)");
	if (n == 0 || n > AN_WP_MAX_SECTORS)
		return op_fail(dev, FT_E_INVALID, &op,
		    "%zu sectors: give 1 to %u", n, AN_WP_MAX_SECTORS);
	for (i = 0; i < n; i++)
		sectors[i] = units[i].index;
	len = an_wp_frame(f, sectors, n, &bad);
	if (len < 0)
		return op_fail(dev, FT_E_NOT_SUPPORTED, &op,
		    "sector %u does not fit the command's 1-byte sector "
		    "codes", (unsigned)bad);
	ft_dbg(dev->ctx, "Write Protect: %zu sectors from %u", n,
	    (unsigned)sectors[0]);
	rc = command(dev, &op, AN_CMD_WRITE_PROTECT);
	if (rc < 0)
		return rc;
	rc = tx(dev, f, (size_t)len);
	if (rc < 0)
		return rc;
	rc = wait_ack(dev, &op, "sector list",
	    PROTECT_ACK_TIMEOUT_MS + wire_ms(u, (size_t)len + 1));
	if (rc < 0)
		return rc;
	return reconnect(dev);
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
	rc = tx(dev, burst, count);
	if (rc < 0)
		return rc;
	*answered = 0;
	*saw_nack = 0;
	rc = rx(dev, &b, 1, RESYNC_REPLY_MS + wire_ms(u, count + 1), NULL);
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
	rc = get_version(dev, &version);
	if (rc < 0)
		return rc;
	ft_dbg(dev->ctx, "resync: link is clean again");
	return 0;
}

/*
 * A resync whose own Get Version reply came back damaged or garbled
 * leaves the link unclean: run it again, a bounded number of times
 * (a dead line ends each attempt with FT_E_TIMEOUT, which is final).
 */
static int
usart_resync(struct ft_dev *dev)
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

const struct ft_transport ft_transport_usart = {
	.name = "usart",
	.priv_size = sizeof(struct usart),
	/*
	 * Each further Erase command costs two round trips (some 3 ms);
	 * 64 one-KiB pages (1.3 s on an F103) still leave progress and
	 * Ctrl-C a boundary every second or so.
	 */
	.erase_batch_units = 64,
	.open = usart_open,
	.close = usart_close,
	.read = usart_read,
	.write = usart_write,
	.erase = usart_erase,
	.mass_erase = usart_mass_erase,
	.crc = usart_crc,
	.go = usart_go,
	.reset = usart_reset,
	.protect = usart_protect,
	.write_protect = usart_write_protect,
	.resync = usart_resync,
};
