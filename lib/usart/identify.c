/*
 * usart/identify.c - who is on the line: Get (protocol version and the
 * command list), Get Version, Get ID, and the device-table row for that
 * product ID, which gives the flash layout and the block sizes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usart.h"

int
ft_usart_get_version(struct ft_dev *dev, uint8_t *version)
{
	const struct op op = { "Get Version", 0, 0 };
	uint8_t b[5];
	int rc;

	rc = ft_usart_command(dev, &op, AN_CMD_GET_VERSION);
	if (rc < 0)
		return rc;
	rc = ft_usart_rx(dev, b, 4,
	    ACK_TIMEOUT_MS + ft_usart_wire_ms(U(dev), 4), NULL);
	if (rc == FT_E_TIMEOUT)
		return ft_usart_op_fail(dev, rc, &op, "short reply");
	if (rc == FT_E_PROTOCOL)
		return ft_usart_damaged(dev, &op, "reply");
	if (rc < 0)
		return rc;
	/*
	 * Some ROMs send a second ACK after the sync (L412/L422 V13.1:
	 * AN2606 rev 70 Table 163, FT_Q_DOUBLE_ACK): then the command's
	 * ACK we took was that one and the reply is shifted by a byte.
	 * Get Version is the first command after every sync (open,
	 * resync), so this one place copes for all; e2e 26 (l412) checks.
	 */
	if (b[0] == AN_ACK && b[3] != AN_ACK) {
		rc = ft_usart_rx(dev, b + 4, 1, ACK_TIMEOUT_MS, NULL);
		if (rc < 0)
			return ft_usart_op_fail(dev, FT_E_PROTOCOL, &op,
			    "malformed reply");
		memmove(b, b + 1, 4);
	}
	if (b[3] != AN_ACK)
		return ft_usart_op_fail(dev, FT_E_PROTOCOL, &op,
		    "got 0x%02x instead of the final ACK", b[3]);
	*version = b[0];
	ft_dbg(dev->ctx, "Get Version: %u.%u (option bytes %02x %02x)",
	    b[0] >> 4, b[0] & 15, b[1], b[2]);
	return 0;
}

int
ft_usart_get_commands(struct ft_dev *dev)
{
	const struct op op = { "Get", 0, 0 };
	struct usart *u = U(dev);
	uint8_t body[258];
	size_t len;
	int rc;

	rc = ft_usart_command(dev, &op, AN_CMD_GET);
	if (rc < 0)
		return rc;
	rc = ft_usart_read_body(dev, &op, body, &len);
	if (rc < 0)
		return rc;
	if (ft_an_parse_get(body, len, &u->get) != 0)
		return ft_usart_op_fail(dev, FT_E_PROTOCOL, &op,
		    "malformed reply");
	/*
	 * Every AN3155 ROM lists Get, Get Version, Get ID, Read and Write.
	 * A list without them was garbled on the way (the reply has no
	 * checksum): a protocol error, so that it is asked again.
	 */
	if (!ft_an_has_cmd(&u->get, AN_CMD_GET) ||
	    !ft_an_has_cmd(&u->get, AN_CMD_GET_VERSION) ||
	    !ft_an_has_cmd(&u->get, AN_CMD_GET_ID) ||
	    !ft_an_has_cmd(&u->get, AN_CMD_READ) ||
	    !ft_an_has_cmd(&u->get, AN_CMD_WRITE) || u->get.erase_cmd == 0)
		return ft_usart_op_fail(dev, FT_E_PROTOCOL, &op, "the command "
		    "list lacks basic commands (garbled on the line?)");
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

	rc = ft_usart_command(dev, &op, AN_CMD_GET_ID);
	if (rc < 0)
		return rc;
	rc = ft_usart_read_body(dev, &op, body, &len);
	if (rc < 0)
		return rc;
	if (ft_an_parse_get_id(body, len, pid) != 0)
		return ft_usart_op_fail(dev, FT_E_PROTOCOL, &op,
		    "malformed reply");
	ft_dbg(dev->ctx, "Get ID: product ID 0x%03x", *pid);
	return 0;
}

void
ft_usart_copy_commands(struct ft_dev *dev)
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
		rc = ft_usart_get_version(dev, version);
		if (rc == 0)
			rc = ft_usart_get_commands(dev);
		if (rc == 0)
			rc = get_id(dev, pid);
		if (rc == 0)
			return 0;
		if ((rc != FT_E_NACK && rc != FT_E_TIMEOUT &&
		    rc != FT_E_PROTOCOL) || attempt >= dev->retries)
			return rc;
		ft_warn(dev->ctx, "identifying the bootloader failed (%s); "
		    "resyncing and retrying", dev->ctx->detail);
		rc = ft_usart_resync(dev);
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

/* How sure the table row is: said with --debug. */
static void
log_proof(struct ft_dev *dev, const struct ft_chip *chip)
{
	char done[64] = "";
	unsigned b;

	for (b = 0; b < FT_PROVEN_COUNT; b++)
		if (chip->proven & (1u << b))
			snprintf(done + strlen(done), sizeof(done) -
			    strlen(done), "%s%s", done[0] ? ", " : "",
			    ft_proven_name(b));
	ft_dbg(dev->ctx, "device table row 0x%03x (%s): transcribed from "
	    "ST's documents; proven on silicon: %s", chip->pid, chip->name,
	    done[0] ? done : "nothing yet");
}

int
ft_usart_identify(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	const struct ft_chip *chip;
	uint16_t pid;
	uint8_t version;
	uint32_t align, maxw;
	int rc;

	rc = ask_identity(dev, &version, &pid);
	if (rc < 0)
		return rc;
	ft_usart_copy_commands(dev);

	dev->info.transport = FT_TRANSPORT_USART;
	dev->info.pid = pid;
	chip = ft_chip_by_pid(pid);
	dev->info.chip = chip;
	if (chip != NULL) {
		snprintf(dev->info.name, sizeof(dev->info.name), "%s",
		    chip->name);
		ft_chip_layout(chip, &dev->info.flash);
		log_proof(dev, chip);
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
	/* The part's own size and layout, before anything is erased. */
	rc = ft_usart_part_probe(dev, opts);
	if (rc < 0)
		return rc;

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
