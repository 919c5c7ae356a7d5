/*
 * canbus.h - the CAN bus link (canbus.c): several devices behind one
 * SocketCAN or unix datagram socket.
 */
#ifndef KSIM_CANBUS_H
#define KSIM_CANBUS_H

#include <sys/socket.h>
#include <sys/un.h>

#include "ksim.h"

#define KC_MAX_NODES 8
#define KC_OUTQ 256

struct kc_bus;

struct kc_node {
	struct ks_dev dev;
	struct kc_bus *bus;
	int index;
	char name[16];
	uint64_t tx_end;	/* this node's frames on the bus until */
	uint64_t stall_step;	/* RX FIFO overrun bookkeeping */
	uint32_t stall_count;
	/*
	 * The host's own USB-to-CAN adapter (a Klipper bridge board): its
	 * node sees only the host's frames and answers only the host
	 * (usb_canbus.c routes admin frames to the bus and to the local
	 * canserial, and the local replies to USB alone); it is on the bus
	 * only while its Klipper runs.
	 */
	int bridge;
};

struct kc_bus {
	/* Configuration, set before kc_open(). */
	uint32_t bitrate;
	int worst_stuff;
	int timing;

	int fd;
	const char *spec;	/* what kc_open() was given */
	const char *unix_path;	/* NULL: SocketCAN */
	int down;		/* the host's interface is gone (bridge) */
	struct sockaddr_un peer;	/* unix: the last host that wrote */
	socklen_t peer_len;
	uint64_t bus_free;
	struct kc_node node[KC_MAX_NODES];
	size_t nnodes;
	struct {
		struct ks_canframe f;
		uint64_t at;
	} out[KC_OUTQ];
	size_t nout;
};

/* "IFACE" (SocketCAN) or "unix:PATH". */
int kc_open(struct kc_bus *b, const char *spec, char *err, size_t errlen);
int kc_add(struct kc_bus *b, const struct ks_devcfg *cfg, char *err,
    size_t errlen);
/* The host's adapter itself, a node whose Katapult is a USB build. */
int kc_add_bridge(struct kc_bus *b, const struct ks_devcfg *cfg, char *err,
    size_t errlen);
/*
 * The bridge's USB device came (1) or went (0): the host's interface
 * with it.  A unix bus closes its socket (a host's sends then fail, as
 * on an interface that is gone) and binds it again when it comes back.
 */
void kc_iface(struct kc_bus *b, int up, uint64_t t);
void kc_close(struct kc_bus *b);
void kc_read(struct kc_bus *b);
uint64_t kc_flush(struct kc_bus *b, uint64_t now);
uint64_t kc_next_event(const struct kc_bus *b);
void kc_service(struct kc_bus *b, uint64_t now);

#endif /* KSIM_CANBUS_H */
