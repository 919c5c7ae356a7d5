/*
 * katapult/link.c - the bytes under Katapult's frames: a tty (USB CDC or
 * a UART, through lib/serial.c at 8N1) or a node on a CAN bus, where a
 * frame travels cut into 8-byte CAN frames on the node's ids.
 *
 * Invariants: a frame goes to a tty in one write() (Katapult's USB CDC
 * takes an OUT packet only with 64 of its 128 bytes free, so a frame
 * written in pieces can stall the pipe for good: katapult-sim README,
 * "USB OUT"); nothing here waits without a bound.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "katapult.h"

#define CAN_DATA_MAX 8u
#define BITS_PER_UART_CHAR 10u

void
ft_kp_link_init(struct ft_kp_link *l, struct ft_ctx *ctx)
{
	memset(l, 0, sizeof(*l));
	l->ctx = ctx;
	l->fd = -1;
}

int
ft_kp_link_open_tty(struct ft_kp_link *l, const char *path, unsigned baud)
{
	struct ft_serial_cfg cfg = { baud, 8, 'n', 1 };
	int rc;

	ft_kp_link_close(l);
	rc = ft_serial_open(l->ctx, path, &cfg, &l->tty);
	if (rc < 0)
		return rc;
	l->can = 0;
	l->baud = baud;
	ft_strlcpy(l->name, path, sizeof(l->name));
	return 0;
}

int
ft_kp_link_open_can(struct ft_kp_link *l, const char *iface)
{
	int rc;

	ft_kp_link_close(l);
	rc = ft_kp_can_open(l->ctx, iface, &l->fd, &l->unix_dgram);
	if (rc < 0)
		return rc;
	l->can = 1;
	ft_strlcpy(l->name, iface, sizeof(l->name));
	return 0;
}

void
ft_kp_link_set_node(struct ft_kp_link *l, uint8_t nodeid)
{
	l->tx_id = ft_kp_can_rx_id(nodeid);
	l->rx_id = l->tx_id + 1;
}

void
ft_kp_link_close(struct ft_kp_link *l)
{
	if (l->tty != NULL)
		ft_serial_close(l->tty);
	l->tty = NULL;
	if (l->fd >= 0)
		(void)close(l->fd);
	l->fd = -1;
}

int
ft_kp_link_send(struct ft_kp_link *l, const uint8_t *p, size_t n,
    unsigned timeout_ms)
{
	size_t off, k;
	int rc;

	if (!l->can)
		return l->tty == NULL ? ft_fail(l->ctx, FT_E_IO, "the port "
		    "is closed") : ft_serial_write(l->tty, p, n, timeout_ms);
	for (off = 0; off < n; off += k) {
		k = n - off < CAN_DATA_MAX ? n - off : CAN_DATA_MAX;
		rc = ft_kp_can_send(l->ctx, l->fd, l->tx_id, p + off, k,
		    timeout_ms);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
ft_kp_link_recv(struct ft_kp_link *l, uint8_t *p, size_t max,
    unsigned timeout_ms, size_t *got)
{
	uint64_t deadline = ft_now_ms() + timeout_ms;
	uint8_t data[CAN_DATA_MAX];
	uint32_t id;
	size_t dlc;
	int rc;

	*got = 0;
	if (!l->can)
		return l->tty == NULL ? ft_fail(l->ctx, FT_E_IO, "the port "
		    "is closed") : ft_serial_read_some(l->tty, p, max,
		    timeout_ms, got);
	for (;;) {
		uint64_t now = ft_now_ms();

		if (now >= deadline)
			return FT_E_TIMEOUT;
		rc = ft_kp_can_recv(l->ctx, l->fd, &id, data, &dlc,
		    (unsigned)(deadline - now));
		if (rc <= 0)
			return rc == 0 ? FT_E_TIMEOUT : rc;
		if (id != l->rx_id || dlc == 0)
			continue;
		if (dlc > max)
			dlc = max;
		memcpy(p, data, dlc);
		*got = dlc;
		return 0;
	}
}

unsigned
ft_kp_link_wire_ms(const struct ft_kp_link *l, size_t n)
{
	if (l->can || l->baud == 0)
		return 0;
	return (unsigned)((uint64_t)n * BITS_PER_UART_CHAR * 1000 / l->baud +
	    1);
}

void
ft_kp_link_drain(struct ft_kp_link *l)
{
	uint64_t end = ft_now_ms() + KP_DRAIN_MAX_MS;
	uint8_t buf[256];
	size_t got;

	while (ft_now_ms() < end) {
		if (ft_kp_link_recv(l, buf, sizeof(buf), KP_DRAIN_QUIET_MS,
		    &got) != 0 && got == 0)
			break;
	}
}
