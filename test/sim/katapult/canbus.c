/*
 * canbus.c - several devices on one CAN bus: a SocketCAN raw socket on
 * an interface (vcan0 in the QEMU rig), or, where the kernel has no
 * vcan, a unix datagram socket ("unix:PATH") that carries the same
 * 16-byte struct can_frame each way (tools/kp-client speaks it).
 *
 * Timing (--timing): the bus carries one frame at a time at --can-bitrate
 * with the bit count of can.c (worst-case stuffing unless --can-stuffing
 * none).  Frames take the bus in the order the simulator learns of them;
 * arbitration between the host and the nodes is not modelled, nor two
 * nodes answering a query in the same slot (on real buses their
 * identical ids collide; katapult.md 1.6).  A node's replies leave
 * through Katapult's 96-byte transmit buffer; while its MCU stalls on the
 * flash, its CAN controller keeps only its RX FIFO of host frames.
 *
 * A USB-to-CAN bridge board (--bridge) is the host's adapter and a node:
 * it sees the host's frames only and answers the host only, and while
 * its Klipper does not run (it left USB for Katapult or the ROM) the
 * host's interface is gone: the unix socket is closed and unlinked, and
 * bound again when the bridge comes back as Klipper.
 *
 * Invariants: every node sees every frame on the bus except its own,
 * at the model time the frame ends; the host sees the nodes' frames; a
 * bridge node is on the bus only while its Klipper runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/can.h>
#include <linux/can/raw.h>

#include "canbus.h"

#define KATAPULT_TX_BUF 96	/* canserial.c transmit_buf */
#define FRAME_WIRE_BYTES 16	/* struct can_frame */

static uint64_t
frame_ns(const struct kc_bus *b, uint8_t dlc)
{
	if (!b->timing || b->bitrate == 0)
		return 0;
	return (uint64_t)ks_can_frame_bits(dlc, b->worst_stuff) * NS_PER_S /
	    b->bitrate;
}

static void
to_host(struct kc_bus *b, const struct ks_canframe *f, uint64_t at)
{
	if (b->nout == KC_OUTQ) {
		ks_logf(at, "CAN host queue full: frame 0x%03x lost",
		    (unsigned)f->id);
		return;
	}
	b->out[b->nout].f = *f;
	b->out[b->nout].at = at;
	b->nout++;
}

static void bus_frame(struct kc_bus *b, const struct ks_canframe *f,
    uint64_t end, int from);

/* A node puts a frame on the bus (after the bus is free). */
static void
node_send(struct kc_bus *b, int from, const struct ks_canframe *f,
    uint64_t t)
{
	uint64_t start = t > b->bus_free ? t : b->bus_free;
	uint64_t end = start + frame_ns(b, f->dlc);

	if (from >= 0 && b->node[from].bridge) {
		/* Over USB to the host, not onto the bus. */
		to_host(b, f, t);
		return;
	}
	b->bus_free = end;
	to_host(b, f, end);
	bus_frame(b, f, end, from);
}

/* Every node but the sender sees a frame that ended at `end`. */
static void
bus_frame(struct kc_bus *b, const struct ks_canframe *f, uint64_t end,
    int from)
{
	struct ks_canframe rep[4];
	size_t i, k, n;

	for (i = 0; i < b->nnodes; i++) {
		struct kc_node *nd = &b->node[i];

		if ((int)i == from)
			continue;
		if (nd->bridge && (from >= 0 || nd->dev.run != KS_RUN_APP))
			continue;
		if (from < 0 && b->timing) {
			uint64_t step = ks_dev_stall_step(&nd->dev, end);

			if (step != 0) {
				if (step != nd->stall_step) {
					nd->stall_step = step;
					nd->stall_count = 0;
				}
				if (++nd->stall_count >
				    nd->dev.m->can_rx_fifo) {
					ks_logf(end, "%sCAN RX FIFO overrun: "
					    "frame 0x%03x lost while the flash "
					    "stalls the CPU", nd->dev.name,
					    (unsigned)f->id);
					continue;
				}
			}
		}
		n = ks_can_receive(&nd->dev, f, end, rep, 4);
		for (k = 0; k < n; k++)
			node_send(b, (int)i, &rep[k], end);
	}
}

/* Device callback: Katapult reply bytes, cut into frames. */
static void
node_emit(void *ctx, const uint8_t *p, size_t n, uint64_t t)
{
	struct kc_node *nd = ctx;
	struct kc_bus *b = nd->bus;
	struct ks_canframe f[KP_FRAME_MAX / 8 + 1];
	uint64_t per = frame_ns(b, 8) / 8, unsent = 0;
	size_t k, i;

	if (nd->dev.can_id == 0) {
		/* canserial_tx_task(): no id, the output is dropped. */
		ks_logf(t, "%sCAN reply dropped: no node id", nd->dev.name);
		return;
	}
	if (per > 0 && nd->tx_end > t)
		unsent = (nd->tx_end - t + per - 1) / per;
	if (unsent + n > KATAPULT_TX_BUF) {
		ks_logf(t, "%sCAN TX buffer full: %zu-byte reply dropped",
		    nd->dev.name, n);
		return;
	}
	k = ks_can_split(nd->dev.can_id + 1, p, n, f, sizeof(f) /
	    sizeof(f[0]));
	for (i = 0; i < k; i++)
		node_send(b, nd->index, &f[i], t);
	nd->tx_end = b->bus_free;
}

static void
node_act(void *ctx, enum ks_action a, uint64_t t)
{
	(void)ctx;
	(void)a;
	(void)t;
}

static int
add_node(struct kc_bus *b, const struct ks_devcfg *cfg,
    enum ks_link_kind link, char *err, size_t errlen)
{
	struct kc_node *nd;

	if (b->nnodes == KC_MAX_NODES) {
		snprintf(err, errlen, "at most %d nodes", KC_MAX_NODES);
		return -1;
	}
	nd = &b->node[b->nnodes];
	memset(nd, 0, sizeof(*nd));
	if (ks_dev_init(&nd->dev, cfg, link, err, errlen) != 0)
		return -1;
	nd->bus = b;
	nd->index = (int)b->nnodes;
	snprintf(nd->name, sizeof(nd->name), "node%d ", nd->index);
	nd->dev.name = nd->name;
	nd->dev.emit = node_emit;
	nd->dev.act = node_act;
	nd->dev.link_ctx = nd;
	b->nnodes++;
	return 0;
}

int
kc_add(struct kc_bus *b, const struct ks_devcfg *cfg, char *err,
    size_t errlen)
{
	return add_node(b, cfg, KS_LINK_CAN, err, errlen);
}

int
kc_add_bridge(struct kc_bus *b, const struct ks_devcfg *cfg, char *err,
    size_t errlen)
{
	if (add_node(b, cfg, KS_LINK_USB, err, errlen) != 0)
		return -1;
	b->node[b->nnodes - 1].bridge = 1;
	return 0;
}

static int
open_unix(struct kc_bus *b, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	(void)unlink(path);
	b->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (b->fd < 0 || bind(b->fd, (struct sockaddr *)&sa,
	    sizeof(sa)) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	b->unix_path = path;
	return 0;
}

static int
open_socketcan(struct kc_bus *b, const char *ifname, char *err,
    size_t errlen)
{
	struct sockaddr_can sa;
	unsigned idx = if_nametoindex(ifname);

	if (idx == 0) {
		snprintf(err, errlen, "%s: no such CAN interface (this "
		    "kernel may lack vcan; try --can unix:PATH)", ifname);
		return -1;
	}
	b->fd = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    CAN_RAW);
	memset(&sa, 0, sizeof(sa));
	sa.can_family = AF_CAN;
	sa.can_ifindex = (int)idx;
	if (b->fd < 0 || bind(b->fd, (struct sockaddr *)&sa,
	    sizeof(sa)) != 0) {
		snprintf(err, errlen, "%s: %s", ifname, strerror(errno));
		return -1;
	}
	return 0;
}

int
kc_open(struct kc_bus *b, const char *spec, char *err, size_t errlen)
{
	b->fd = -1;
	b->spec = spec;
	if (strncmp(spec, "unix:", 5) == 0)
		return open_unix(b, spec + 5, err, errlen);
	return open_socketcan(b, spec, err, errlen);
}

void
kc_iface(struct kc_bus *b, int up, uint64_t t)
{
	char err[256];

	if (up == !b->down)
		return;
	b->down = !up;
	ks_logf(t, "CAN interface %s %s", b->spec, up ? "up" : "gone");
	if (b->unix_path == NULL)
		return;
	if (!up) {
		if (b->fd >= 0)
			close(b->fd);
		(void)unlink(b->unix_path);
		b->fd = -1;
		b->peer_len = 0;
		b->nout = 0;
		return;
	}
	if (open_unix(b, b->unix_path, err, sizeof(err)) != 0)
		ks_shout(t, "CAN interface: %s", err);
}

void
kc_close(struct kc_bus *b)
{
	size_t i;

	if (b->fd >= 0)
		close(b->fd);
	if (b->unix_path != NULL)
		(void)unlink(b->unix_path);
	b->fd = -1;
	for (i = 0; i < b->nnodes; i++)
		ks_dev_free(&b->node[i].dev);
}

static void
wire_to_frame(const struct can_frame *cf, struct ks_canframe *f)
{
	f->id = cf->can_id & CAN_SFF_MASK;
	f->dlc = cf->can_dlc > 8 ? 8 : cf->can_dlc;
	memset(f->data, 0, sizeof(f->data));
	memcpy(f->data, cf->data, f->dlc);
}

void
kc_read(struct kc_bus *b)
{
	struct can_frame cf;
	struct ks_canframe f;
	struct sockaddr_un from;
	socklen_t fl;
	uint64_t now = ks_now(), start, end;
	ssize_t n;

	for (;;) {
		fl = sizeof(from);
		n = recvfrom(b->fd, &cf, sizeof(cf), 0,
		    (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if (n != (ssize_t)sizeof(cf))
			continue;
		if (b->unix_path != NULL && fl > sizeof(sa_family_t)) {
			b->peer = from;
			b->peer_len = fl;
		}
		/* No adapter, no frame (SocketCAN: the bus stays up). */
		if (b->down)
			continue;
		/* Extended, remote and error frames are not Katapult's. */
		if (cf.can_id & (CAN_EFF_FLAG | CAN_RTR_FLAG | CAN_ERR_FLAG))
			continue;
		wire_to_frame(&cf, &f);
		start = now > b->bus_free ? now : b->bus_free;
		end = start + frame_ns(b, f.dlc);
		b->bus_free = end;
		bus_frame(b, &f, end, -1);
	}
}

uint64_t
kc_flush(struct kc_bus *b, uint64_t now)
{
	while (b->nout > 0) {
		struct can_frame cf;
		ssize_t w;

		if (b->fd < 0) {
			b->nout = 0;
			return 0;
		}
		if (b->out[0].at > now)
			return b->out[0].at;
		memset(&cf, 0, sizeof(cf));
		cf.can_id = b->out[0].f.id;
		cf.can_dlc = b->out[0].f.dlc;
		memcpy(cf.data, b->out[0].f.data, sizeof(cf.data));
		if (b->unix_path != NULL) {
			w = b->peer_len > 0 ? sendto(b->fd, &cf, sizeof(cf), 0,
			    (struct sockaddr *)&b->peer, b->peer_len) :
			    (ssize_t)sizeof(cf);
		} else {
			w = write(b->fd, &cf, sizeof(cf));
		}
		if (w < 0 && (errno == EAGAIN || errno == ENOBUFS))
			return now + NS_PER_MS;
		memmove(&b->out[0], &b->out[1],
		    (b->nout - 1) * sizeof(b->out[0]));
		b->nout--;
	}
	return 0;
}

uint64_t
kc_next_event(const struct kc_bus *b)
{
	uint64_t next = b->nout > 0 ? b->out[0].at : 0;
	size_t i;

	for (i = 0; i < b->nnodes; i++) {
		uint64_t t = ks_dev_next_timer(&b->node[i].dev);

		if (t != 0 && (next == 0 || t < next))
			next = t;
	}
	return next;
}

void
kc_service(struct kc_bus *b, uint64_t now)
{
	size_t i;

	for (i = 0; i < b->nnodes; i++)
		ks_dev_run_timers(&b->node[i].dev, now);
	(void)kc_flush(b, now);
}
