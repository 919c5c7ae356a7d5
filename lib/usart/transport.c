/*
 * usart/transport.c - the USART transport: STM32 ROM bootloader over a
 * serial port, ST AN3155.  The ft_transport ops speak the wire protocol
 * only; chunking, retries, verify and progress belong to lib/core/.
 * Beside this file: link.c (the conversation on the wire), identify.c
 * (who is there), an3155.c (frames), serial.c and parmrk.c (the port),
 * seq.c, entry.c and gpio.c (entry sequences), ports.c (--list).
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
 *  - The hot path (read, write) has no sleeps, no flushes and
 *    block-sized reads: one round trip per read block (a burst, see
 *    link.c), three per write block unless --pipeline makes it one.
 *  - An entry/exit sequence is parsed and its GPIO lines claimed before
 *    the port is opened; its exit half runs before the port is closed on
 *    every path out (failed open included), at most once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usart.h"

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
	int rc = ft_usart_sync(dev, tries);

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
	u->read_burst = opts->usart_pipeline != FT_PIPELINE_OFF;
	u->write_burst = opts->usart_pipeline == FT_PIPELINE_ALL;
	u->asked_pipeline = u->write_burst;
	if (!opts->no_sync)
		rc = enter_and_sync(dev);
	else
		rc = ft_serial_flush_input(u->port);
	if (rc == 0)
		rc = ft_usart_identify(dev, opts);
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

int
ft_usart_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	struct usart *u = U(dev);
	const struct op op = { "Read Memory", addr, 1 };
	uint8_t f[AN_READ_LEN_FRAME_LEN], b[AN_READ_BURST_LEN];
	int rc;

	if (ft_an_read_len_frame(f, len) != 0)
		return ft_usart_op_fail(dev, FT_E_INVALID, &op, "bad length %u",
		    (unsigned)len);
	rc = ft_usart_check_secure(dev, op.cmd, addr, len);
	if (rc < 0)
		return rc;
	ft_dbg(dev->ctx, "Read Memory 0x%08x, %u bytes", (unsigned)addr,
	    (unsigned)len);
	if (u->read_burst && ft_an_read_burst(b, addr, len) == 0 &&
	    ft_usart_burst_ok(dev, &op, b, sizeof(b)))
		rc = ft_usart_send_burst(dev, &op, b, sizeof(b), "length",
		    ACK_TIMEOUT_MS);
	else
		rc = ft_usart_read_frames(dev, &op, f);
	if (rc < 0)
		return rc;
	rc = ft_usart_rx(dev, buf, len,
	    ACK_TIMEOUT_MS + ft_usart_wire_ms(u, len), NULL);
	if (rc == FT_E_TIMEOUT)
		return ft_usart_op_fail(dev, rc, &op, "fewer than %u data "
		    "bytes", (unsigned)len);
	if (rc == FT_E_PROTOCOL) {
		u->idle_after_damage = 1;
		return ft_usart_damaged(dev, &op, "data");
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
		return ft_usart_op_fail(dev, FT_E_INVALID, &op,
		    "address not a multiple of 4");
	n = ft_an_write_frame(f, buf, len);
	if (n < 0)
		return ft_usart_op_fail(dev, FT_E_INVALID, &op,
		    "length %u is not a multiple of 4 in 4..256",
		    (unsigned)len);
	ft_dbg(dev->ctx, "Write Memory 0x%08x, %u bytes", (unsigned)addr,
	    (unsigned)len);
	if (u->write_burst) {
		uint8_t b[AN_WRITE_BURST_MAX];
		int nb = ft_an_write_burst(b, addr, buf, len);

		if (nb > 0 && ft_usart_burst_ok(dev, &op, b, (size_t)nb))
			return ft_usart_send_burst(dev, &op, b, (size_t)nb,
			    "data", WRITE_ACK_TIMEOUT_MS);
	}
	rc = ft_usart_mem_command(dev, &op, AN_CMD_WRITE);
	if (rc < 0)
		return rc;
	rc = ft_usart_send_u32(dev, &op, addr, "address");
	if (rc < 0)
		return rc;
	rc = ft_usart_tx(dev, f, (size_t)n);
	if (rc < 0)
		return rc;
	return ft_usart_wait_ack(dev, &op, "data",
	    WRITE_ACK_TIMEOUT_MS + ft_usart_wire_ms(u, (size_t)n + 1));
}

static int
no_erase_cmd(struct ft_dev *dev)
{
	return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
	    "the bootloader offers neither Erase (0x43) nor Extended Erase "
	    "(0x44)");
}

/* The units' ROM page numbers, all checked before anything is erased. */
static int
rom_pages(struct ft_dev *dev, const struct ft_erase_unit *units, size_t n,
    uint32_t limit, int ext, uint32_t *pages)
{
	size_t i;
	int rc;

	rc = ft_usart_part_erasable(dev, units[0].addr);
	if (rc == 0)
		rc = ft_usart_check_secure(dev, "erase", units[0].addr,
		    (uint32_t)(units[n - 1].addr + units[n - 1].size -
		    units[0].addr));
	for (i = 0; rc == 0 && i < n; i++) {
		rc = ft_usart_rom_page(dev, &units[i], &pages[i]);
		if (rc == 0 && pages[i] > limit)
			rc = ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
			    "cannot erase page %u at 0x%08x: the bootloader's "
			    "%s command numbers pages 0-%u only",
			    (unsigned)pages[i], (unsigned)units[i].addr,
			    ext ? "Extended Erase (0x44)" :
			    "legacy Erase (0x43)", (unsigned)limit);
	}
	return rc;
}

/*
 * Erase units, as many per command as the protocol and the ROM's quirks
 * allow (ft_an_erase_take): G0B1 bank 2 one page at a time (AN2606
 * Tables 110, 112); on G07x V11.3 every page alone and a wait after it,
 * since its ACK comes before the erase has ended (AN2606 Table 108).
 */
static int
usart_erase(struct ft_dev *dev, const struct ft_erase_unit *units, size_t n)
{
	struct usart *u = U(dev);
	uint8_t cmd = u->get.erase_cmd;
	int ext = cmd == AN_CMD_EXT_ERASE;
	const struct an_erase_rules rules = {
		ext ? AN_EXT_ERASE_MAX_PAGES : AN_ERASE_MAX_PAGES,
		u->part.early_ack, u->part.alone_from,
	};
	uint8_t f[AN_EXT_ERASE_FRAME_MAX];
	uint32_t *pages;
	size_t done = 0;
	int rc;

	if (cmd == 0)
		return no_erase_cmd(dev);
	if (n == 0)
		return 0;
	pages = malloc(n * sizeof(*pages));
	if (pages == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	/* Refuse before erasing anything. */
	rc = rom_pages(dev, units, n, ext ? AN_EXT_ERASE_MAX_PAGE_NO :
	    AN_ERASE_MAX_PAGE_NO, ext, pages);
	while (rc == 0 && done < n) {
		size_t k = ft_an_erase_take(&units[done], n - done, &rules);
		struct op op = { ext ? "Extended Erase" : "Erase",
		    units[done].addr, 1 };
		uint32_t bad = 0, ms;
		int len;

		len = ext ? ft_an_ext_erase_frame(f, &pages[done], k, &bad) :
		    ft_an_erase_frame(f, &pages[done], k, &bad);
		if (len < 0) {
			rc = ft_usart_op_fail(dev, len, &op, "cannot encode "
			    "page %u", (unsigned)bad);
			break;
		}
		ms = ft_an_erase_timeout_ms(&units[done], k);
		ft_dbg(dev->ctx, "%s: %zu pages from %u (0x%08x), up to %u ms",
		    op.cmd, k, (unsigned)pages[done], (unsigned)op.addr,
		    (unsigned)ms);
		rc = ft_usart_mem_command(dev, &op, cmd);
		if (rc == 0)
			rc = ft_usart_tx(dev, f, (size_t)len);
		if (rc == 0)
			rc = ft_usart_wait_ack(dev, &op, "page list",
			    ms + ft_usart_wire_ms(u, (size_t)len + 1));
		if (rc == 0 && u->part.early_ack)
			ft_sleep_us((uint64_t)FT_EARLY_ACK_ERASE_WAIT_MS *
			    1000u);
		done += k;
	}
	free(pages);
	return rc;
}

static uint32_t
mass_timeout(struct ft_dev *dev)
{
	return ft_an_mass_erase_timeout_ms(ft_layout_size(&dev->info.flash));
}

/* One special Extended Erase (mass or bank). */
static int
ext_special(struct ft_dev *dev, const struct op *op, uint16_t code)
{
	uint8_t f[3];
	int rc;

	rc = ft_usart_mem_command(dev, op, AN_CMD_EXT_ERASE);
	if (rc < 0)
		return rc;
	ft_an_ext_erase_special_frame(f, code);
	rc = ft_usart_tx(dev, f, sizeof(f));
	if (rc < 0)
		return rc;
	return ft_usart_wait_ack(dev, op, "the erase code",
	    mass_timeout(dev) + ft_usart_wire_ms(U(dev), sizeof(f) + 1));
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

		rc = ft_usart_mem_command(dev, &op, AN_CMD_ERASE);
		if (rc < 0)
			return rc;
		ft_an_erase_all_frame(f);
		rc = ft_usart_tx(dev, f, sizeof(f));
		if (rc < 0)
			return rc;
		return ft_usart_wait_ack(dev, &op, "the erase code",
		    mass_timeout(dev) + ft_usart_wire_ms(u, sizeof(f) + 1));
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
	if (ft_an_crc_frames(f, addr, len) != 0)
		return ft_usart_op_fail(dev, FT_E_INVALID, &op,
		    "address and length must be non-zero multiples of 4");
	ms = CRC_BASE_TIMEOUT_MS + (len / 1024u + 1) * CRC_MS_PER_KIB;
	ft_dbg(dev->ctx, "Get Checksum 0x%08x, %u bytes", (unsigned)addr,
	    (unsigned)len);
	rc = ft_usart_mem_command(dev, &op, AN_CMD_GET_CHECKSUM);
	if (rc < 0)
		return rc;
	for (i = 0; i < AN_CRC_PARAM_FRAMES; i++) {
		rc = ft_usart_tx(dev, f[i], AN_ADDR_FRAME_LEN);
		if (rc < 0)
			return rc;
		rc = ft_usart_wait_ack(dev, &op, stage[i], ACK_TIMEOUT_MS +
		    ft_usart_wire_ms(u, AN_ADDR_FRAME_LEN + 1));
		if (rc < 0)
			return rc;
	}
	rc = ft_usart_rx(dev, b, sizeof(b), ms + ft_usart_wire_ms(u, sizeof(b)),
	    &got);
	if (got >= 1 && b[0] == AN_NACK)
		return ft_usart_op_fail(dev, FT_E_NACK, &op,
		    "NACK instead of the CRC");
	if (rc == FT_E_TIMEOUT)
		return ft_usart_op_fail(dev, rc, &op, "%zu of %u reply bytes "
		    "within %u ms", got, AN_CRC_REPLY_LEN, ms);
	if (rc == FT_E_PROTOCOL)
		return ft_usart_damaged(dev, &op, "reply");
	if (rc < 0)
		return rc;
	if (ft_an_parse_crc_reply(b, out) != 0)
		return ft_usart_op_fail(dev, FT_E_PROTOCOL, &op,
		    "malformed reply (%02x, XOR %02x)", b[0], b[5]);
	ft_dbg(dev->ctx, "Get Checksum: 0x%08x", (unsigned)*out);
	return 0;
}

/*
 * Go.  The core does not retry it (it is one command, not a block), so
 * a refusal or a damaged ACK on a bad line is retried here after a
 * resync; protection is final.
 */
static int
go_to(struct ft_dev *dev, uint32_t addr)
{
	const struct op op = { "Go", addr, 1 };
	unsigned attempt;
	int rc;

	ft_dbg(dev->ctx, "Go 0x%08x", (unsigned)addr);
	for (attempt = 0;; attempt++) {
		rc = ft_usart_mem_command(dev, &op, AN_CMD_GO);
		if (rc == 0)
			rc = ft_usart_send_u32(dev, &op, addr, "address");
		if (rc == 0 || attempt >= dev->retries ||
		    (rc != FT_E_NACK && rc != FT_E_TIMEOUT &&
		    rc != FT_E_PROTOCOL))
			return rc;
		ft_dbg(dev->ctx, "%s; resyncing and trying again",
		    dev->ctx->detail);
		if (ft_usart_resync(dev) < 0)
			return rc;
	}
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
	n = ft_an_reset_code(code, ram, chip->ram_end, kind);
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
 * After a command or a write that makes the chip reset itself (option
 * bytes): give the ROM time to boot, sync again and re-read Get
 * (protection changes what it offers).
 */
int
ft_usart_reconnect(struct ft_dev *dev)
{
	uint8_t version;
	int rc;

	ft_sleep_us((uint64_t)RESET_SETTLE_MS * 1000u);
	rc = ft_usart_sync(dev, RESET_SYNC_TRIES);
	if (rc < 0)
		return rc;
	/* Get Version first: it copes with a second ACK to the sync. */
	rc = ft_usart_get_version(dev, &version);
	if (rc == 0)
		rc = ft_usart_get_commands(dev);
	if (rc < 0)
		return rc;
	ft_usart_copy_commands(dev);
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
	rc = ft_usart_command(dev, &op, cmd);
	if (rc < 0)
		return rc;
	rc = ft_usart_wait_ack(dev, &op, "the operation", ms);
	if (rc < 0)
		return rc;
	return ft_usart_reconnect(dev);
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

	if (!ft_an_has_cmd(&u->get, AN_CMD_WRITE_PROTECT))
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "the bootloader does not offer Write Protect (0x63)");
	if (n == 0 || n > AN_WP_MAX_SECTORS)
		return ft_usart_op_fail(dev, FT_E_INVALID, &op,
		    "%zu sectors: give 1 to %u", n, AN_WP_MAX_SECTORS);
	for (i = 0; i < n; i++)
		sectors[i] = units[i].index;
	len = ft_an_wp_frame(f, sectors, n, &bad);
	if (len < 0)
		return ft_usart_op_fail(dev, FT_E_NOT_SUPPORTED, &op,
		    "sector %u does not fit the command's 1-byte sector "
		    "codes", (unsigned)bad);
	ft_dbg(dev->ctx, "Write Protect: %zu sectors from %u", n,
	    (unsigned)sectors[0]);
	rc = ft_usart_command(dev, &op, AN_CMD_WRITE_PROTECT);
	if (rc < 0)
		return rc;
	rc = ft_usart_tx(dev, f, (size_t)len);
	if (rc < 0)
		return rc;
	rc = ft_usart_wait_ack(dev, &op, "sector list",
	    PROTECT_ACK_TIMEOUT_MS + ft_usart_wire_ms(u, (size_t)len + 1));
	if (rc < 0)
		return rc;
	return ft_usart_reconnect(dev);
}

/* Image data in the secure area is refused before anything is erased. */
static int
usart_check_image(struct ft_dev *dev, const struct ft_image *img)
{
	size_t i;
	int rc;

	for (i = 0; i < img->nseg; i++) {
		rc = ft_usart_check_secure(dev, "image data", img->seg[i].addr,
		    img->seg[i].len);
		if (rc < 0)
			return rc;
	}
	return 0;
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
	.read = ft_usart_read,
	.write = usart_write,
	.erase = usart_erase,
	.mass_erase = usart_mass_erase,
	.crc = usart_crc,
	.go = usart_go,
	.reset = usart_reset,
	.protect = usart_protect,
	.write_protect = usart_write_protect,
	.check_image = usart_check_image,
	.resync = ft_usart_resync,
	.reconnect = ft_usart_reconnect,
};
