/*
 * katapult/session.c - Katapult's commands as exchanges on the link:
 * one frame out, then frames in until the one that answers it.
 *
 * Invariants:
 *  - One command in flight at a time, always: on a UART the STM32's
 *    RX interrupt stalls with the CPU during each erase and program
 *    step, so a frame sent behind a SEND_BLOCK is overrun, and its
 *    surviving 0x01 wedges the parser (katapult-sim README, "UART").
 *  - A reply is taken only when it answers this command (and, for
 *    blocks, this address): a late answer to an earlier attempt is
 *    skipped, never mistaken for this one.
 *  - After a NACK, KP_WEDGE_SILENCES timeouts in a row without a byte
 *    back mean the device's parser is stuck on the damaged frame
 *    (katapult.md 1.12); KP_GONE_SILENCES such timeouts without a NACK
 *    mean that, or a device that lost power or its link.  Retrying
 *    cannot help either way, so that ends at once with FT_E_IO and the
 *    remedy.
 */
#include <stdio.h>
#include <string.h>

#include "katapult.h"

static const char *
cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case FT_KP_CONNECT: return "CONNECT";
	case FT_KP_SEND_BLOCK: return "SEND_BLOCK";
	case FT_KP_SEND_EOF: return "SEND_EOF";
	case FT_KP_REQUEST_BLOCK: return "REQUEST_BLOCK";
	case FT_KP_COMPLETE: return "COMPLETE";
	case FT_KP_GET_CANBUS_ID: return "GET_CANBUS_ID";
	default: return "command";
	}
}

/*
 * A failure of cmd, named with its address when it has one (so that the
 * core does not name it again): "SEND_BLOCK 0x08002040: no answer".
 */
static int
fail_cmd(struct ft_kp_session *s, int err, uint8_t cmd, int64_t echo,
    const char *msg)
{
	if (echo < 0)
		return ft_fail(s->link.ctx, err, "%s: %s", cmd_name(cmd), msg);
	return ft_fail_at(s->link.ctx, err, (uint32_t)echo, "%s 0x%08x: %s",
	    cmd_name(cmd), (uint32_t)echo, msg);
}

/* Is f the answer to cmd (at addr when echo >= 0)? */
static int
answers(const struct ft_kp_frame *f, uint8_t cmd, int64_t echo)
{
	if (f->code != FT_KP_ACK || ft_kp_acked(f) != cmd)
		return 0;
	if (echo < 0)
		return 1;
	return f->len >= 8 && ft_get_le32(f->payload + 4) == (uint32_t)echo;
}

static int
wedged(struct ft_kp_session *s, uint8_t cmd, int64_t echo)
{
	char msg[400];

	if (s->nacked)
		return fail_cmd(s, FT_E_IO, cmd, echo, "Katapult stopped "
		    "answering after it refused a damaged frame: its parser "
		    "is stuck on it (a known fault of Katapult's command.c) "
		    "and only a reset frees it.  Press the board's reset "
		    "button twice quickly (a double reset keeps it in "
		    "Katapult), then run the same command again");
	snprintf(msg, sizeof(msg), "Katapult stopped answering (%u tries in "
	    "a row got nothing back): the board lost power or its link, or "
	    "its parser is stuck on a damaged frame (a known Katapult "
	    "fault).  Check power and cable, press reset twice quickly (a "
	    "double reset keeps it in Katapult), then run the same command "
	    "again", s->silences);
	return fail_cmd(s, FT_E_IO, cmd, echo, msg);
}

/* A frame that is not the answer: ERROR (once skipped), NACK, BUSY. */
static int
refusal(struct ft_kp_session *s, uint8_t cmd, int64_t echo,
    const struct ft_kp_frame *f, unsigned *skip_errors)
{
	switch (f->code) {
	case FT_KP_ERROR:
		if (*skip_errors > 0) {
			(*skip_errors)--;
			return 0;
		}
		return fail_cmd(s, FT_E_NACK, cmd, echo, "the device answered "
		    "ERROR");
	case FT_KP_NACK:
		s->nacked = 1;
		return fail_cmd(s, FT_E_NACK, cmd, echo, "the device answered "
		    "NACK (it received a damaged frame)");
	case FT_KP_BUSY:
		ft_sleep_us(KP_BUSY_WAIT_MS * 1000);
		return fail_cmd(s, FT_E_NACK, cmd, echo, "the device answered "
		    "BUSY");
	default:
		ft_dbg(s->link.ctx, "%s: skipping a late or unknown reply "
		    "0x%02x", cmd_name(cmd), f->code);
		return 0;
	}
}

/* Frames until the answer, a refusal, or the deadline. */
static int
await(struct ft_kp_session *s, uint8_t cmd, int64_t echo, uint64_t deadline,
    unsigned skip_errors)
{
	uint8_t buf[256];
	uint64_t now;
	size_t got;
	int rc;

	for (;;) {
		while (ft_kp_rx_next(&s->rx, &s->frame) == 1) {
			s->nacked = 0;
			s->silences = 0;
			if (answers(&s->frame, cmd, echo))
				return 0;
			rc = refusal(s, cmd, echo, &s->frame, &skip_errors);
			if (rc < 0)
				return rc;
		}
		now = ft_now_ms();
		/* A signal ends the wait: the core then stops at this block. */
		if (now >= deadline || ft_cancelled(s->link.ctx))
			break;
		rc = ft_kp_link_recv(&s->link, buf, sizeof(buf),
		    deadline - now < KP_CANCEL_SLICE_MS ?
		    (unsigned)(deadline - now) : KP_CANCEL_SLICE_MS, &got);
		if (got > 0) {
			(void)ft_kp_rx_push(&s->rx, buf, got);
			s->heard = 1;
		}
		if (rc == FT_E_TIMEOUT)
			continue;
		if (rc < 0 && rc != FT_E_PROTOCOL)
			return ft_fail_place(s->link.ctx, rc, cmd_name(cmd),
			    echo >= 0 ? (uint32_t)echo : 0);
	}
	/* A partial frame that stopped is garbage: look behind it. */
	while (ft_kp_rx_stale(&s->rx))
		if (ft_kp_rx_next(&s->rx, &s->frame) == 1 &&
		    answers(&s->frame, cmd, echo))
			return 0;
	return fail_cmd(s, FT_E_TIMEOUT, cmd, echo, "no answer");
}

int
ft_kp_exchange(struct ft_kp_session *s, uint8_t cmd, const uint8_t *payload,
    size_t len, int64_t echo, unsigned timeout_ms, unsigned skip_errors)
{
	uint8_t out[FT_KP_OVERHEAD + 4 + FT_KP_BLOCK_MAX];
	size_t n = ft_kp_frame(out, cmd, payload, len);
	uint64_t deadline;
	int rc;

	if (n == 0 || n > sizeof(out))
		return ft_fail(s->link.ctx, FT_E_INVALID, "%s: %zu bytes of "
		    "payload", cmd_name(cmd), len);
	ft_trace(s->link.ctx, "-> %s, %zu bytes", cmd_name(cmd), n);
	rc = ft_kp_link_send(&s->link, out, n, timeout_ms);
	if (rc < 0)
		return ft_fail_place(s->link.ctx, rc, cmd_name(cmd),
		    echo >= 0 ? (uint32_t)echo : 0);
	deadline = ft_now_ms() + timeout_ms + ft_kp_link_wire_ms(&s->link,
	    n + FT_KP_OVERHEAD + 8 + s->block);
	s->heard = 0;
	rc = await(s, cmd, echo, deadline, skip_errors);
	if (rc != FT_E_TIMEOUT || ft_cancelled(s->link.ctx))
		return rc;
	if (!s->heard)
		s->silences++;
	if (s->silences >= (s->nacked ? KP_WEDGE_SILENCES : KP_GONE_SILENCES))
		return wedged(s, cmd, echo);
	return rc;
}

int
ft_kp_connect(struct ft_kp_session *s, unsigned tries, unsigned timeout_ms)
{
	uint8_t out[2 * FT_KP_OVERHEAD];
	size_t n;
	unsigned i;
	int rc = 0;

	for (i = 0; i < tries; i++) {
		/*
		 * The prime and CONNECT in one write: a usbfs part holds the
		 * prime's ERROR until CONNECT's ACK queues behind it, and
		 * both come; elsewhere the ERROR comes first and is skipped.
		 */
		n = ft_kp_frame(out, FT_KP_PRIME, NULL, 0);
		n += ft_kp_frame(out + n, FT_KP_CONNECT, NULL, 0);
		rc = ft_kp_link_send(&s->link, out, n, timeout_ms);
		if (rc < 0)
			return rc;
		rc = await(s, FT_KP_CONNECT, -1, ft_now_ms() + timeout_ms +
		    ft_kp_link_wire_ms(&s->link, 96), 1);
		if (rc == 0)
			break;
		if (rc != FT_E_TIMEOUT && rc != FT_E_NACK)
			return rc;
	}
	if (rc < 0)
		return rc;
	return ft_kp_parse_connect(s->link.ctx, s->frame.payload + 4,
	    s->frame.len - 4, &s->conn);
}

int
ft_kp_send_block(struct ft_kp_session *s, uint32_t addr, const uint8_t *data,
    unsigned timeout_ms)
{
	uint8_t payload[4 + FT_KP_BLOCK_MAX];

	ft_put_le32(payload, addr);
	memcpy(payload + 4, data, s->block);
	s->dirty = 1;
	s->cache_valid = 0;
	return ft_kp_exchange(s, FT_KP_SEND_BLOCK, payload, 4 + s->block, addr,
	    timeout_ms, 0);
}

int
ft_kp_request_block(struct ft_kp_session *s, uint32_t addr, uint8_t *out)
{
	uint8_t payload[4];
	int rc;

	ft_put_le32(payload, addr);
	rc = ft_kp_exchange(s, FT_KP_REQUEST_BLOCK, payload, 4, addr,
	    KP_REPLY_TIMEOUT_MS, 0);
	if (rc < 0)
		return rc;
	if (s->frame.len < 8 + s->block)
		return ft_fail_at(s->link.ctx, FT_E_PROTOCOL, addr,
		    "REQUEST_BLOCK 0x%08x: %zu bytes of data, not %u", addr,
		    s->frame.len - 8, s->block);
	memcpy(out, s->frame.payload + 8, s->block);
	return 0;
}

/* A command without payload, tried up to tries times. */
static int
retried(struct ft_kp_session *s, uint8_t cmd, unsigned tries,
    unsigned timeout_ms)
{
	unsigned i;
	int rc = 0;

	for (i = 0; i < tries; i++) {
		rc = ft_kp_exchange(s, cmd, NULL, 0, -1, timeout_ms, 0);
		if (rc == 0 || (rc != FT_E_TIMEOUT && rc != FT_E_NACK))
			break;
	}
	return rc;
}

int
ft_kp_send_eof(struct ft_kp_session *s, unsigned tries, uint32_t *pages)
{
	int rc = retried(s, FT_KP_SEND_EOF, tries, KP_WRITE_TIMEOUT_MS);

	if (rc < 0)
		return rc;
	s->dirty = 0;
	*pages = s->frame.len >= 8 ? ft_get_le32(s->frame.payload + 4) : 0;
	return 0;
}

/*
 * COMPLETE again after a refusal (NACK, ERROR, BUSY: not run), never
 * after a timeout: the ACK may be what was lost, and the application
 * already running (the caller finds out).
 */
int
ft_kp_complete(struct ft_kp_session *s)
{
	unsigned i;
	int rc = 0;

	for (i = 0; i < KP_COMMAND_TRIES; i++) {
		rc = ft_kp_exchange(s, FT_KP_COMPLETE, NULL, 0, -1,
		    KP_REPLY_TIMEOUT_MS, 0);
		if (rc != FT_E_NACK)
			break;
	}
	return rc;
}

int
ft_kp_get_uuid(struct ft_kp_session *s, uint8_t *uuid)
{
	int rc = retried(s, FT_KP_GET_CANBUS_ID, KP_COMMAND_TRIES,
	    KP_REPLY_TIMEOUT_MS);

	if (rc < 0)
		return rc;
	if (s->frame.len < 4 + FT_KP_UUID_LEN)
		return ft_fail(s->link.ctx, FT_E_PROTOCOL, "GET_CANBUS_ID: "
		    "%zu bytes, no UUID", s->frame.len);
	memcpy(uuid, s->frame.payload + 4, FT_KP_UUID_LEN);
	return 0;
}
