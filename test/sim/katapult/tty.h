/*
 * tty.h - the pty link (tty.c): one device as a UART or a USB CDC-ACM
 * device on the master side of a pseudo-terminal.
 */
#ifndef KSIM_TTY_H
#define KSIM_TTY_H

#include <sys/types.h>

#include "ksim.h"

#define KT_READ_MAX 256		/* bytes per read of the master */
#define KT_WIRE_MAX 256		/* bytes per reply burst */
#define KT_RESAMPLE_FACTOR 12	/* a slow sender read fast: 12 per char */
#define KT_OUTQ 64
#define KT_SHIM_CONNS 8

struct kt_out {
	uint64_t at;		/* model time it reaches the host */
	size_t n;
	uint8_t b[KT_WIRE_MAX];
};

struct kt_packet {
	uint8_t b[KS_USB_PACKET];
	size_t n;
	uint64_t ready;
	int held;		/* usbfs: first packet waits for a second */
};

struct kt_conn {
	int fd;
	char buf[512];
	size_t len;
};

struct kt_link {
	/* Configuration, set before kt_open(). */
	struct ks_dev *dev;
	enum ks_link_kind kind;	/* KS_LINK_UART or KS_LINK_USB */
	const char *link_path;
	const char *byid_dir;	/* NULL: no by-id symlink */
	const char *state_path;	/* NULL: no state file */
	const char *shim_path;	/* libft-shim.so socket; NULL: none */
	uint32_t kp_baud;	/* Katapult's UART baud */
	uint32_t app_baud;	/* Klipper's */
	uint64_t reenum_ns;	/* USB: reset to the new tty */
	uint64_t frame_ns;	/* USB frame; 0: no alignment */
	int usb_hold;		/* usbfs first-IN hold (model default) */
	int timing;
	double corrupt;		/* UART byte faults, both directions */
	double drop;
	struct ks_rng *rng;
	/*
	 * A USB-to-CAN bridge board (--bridge): while Klipper runs, the USB
	 * device is a gs_usb CAN adapter (1d50:606f) with no tty; the hook
	 * is told when it comes (1) and goes (0), so that the bus brings
	 * the host's interface up and down.
	 */
	int gs_usb;
	void (*usb_hook)(void *ctx, int attached, uint64_t t);
	void *hook_ctx;
	/* --sysfs: the kernel's view of the USB device, kept in step. */
	struct ks_sysfs *sysfs;

	/* The pty. */
	int master;		/* -1 while detached */
	char slave[64];
	dev_t rdev;
	int ino_fd;
	int clients;
	int own_opens, own_closes;	/* our touch_slave() events */
	char byid_path[4200];
	uint64_t attach_at;	/* USB: re-enumeration due; 0 none */
	uint64_t rom_at;	/* USB: the ROM bootloader shows; 0 none */
	int netdev;		/* gs_usb: the CAN adapter is attached */

	/* What the host set. */
	int dtr, rts;
	uint32_t host_baud;
	uint32_t seen_baud;	/* line state the device last saw */
	int seen_dtr;

	/* libft-shim.so */
	int shim_listen;
	struct kt_conn conn[KT_SHIM_CONNS];

	/* Host to device. */
	uint64_t rx_wire;	/* UART: end of the last host byte */
	uint64_t stall_step;	/* UART overrun bookkeeping */
	uint32_t stall_count;
	uint8_t pend[KT_READ_MAX];	/* USB: bytes waiting for room */
	size_t npend;
	uint64_t pend_t;
	uint64_t out_bus;	/* USB: OUT packets on the bus until */
	int out_stalled;

	/* Device to host. */
	uint64_t tx_wire;	/* UART: TX line busy until */
	uint8_t usb_tx[192];
	size_t usb_txlen;
	uint64_t usb_tx_t;
	struct kt_packet hw[2];
	size_t nhw;
	uint64_t hw_free;
	uint64_t in_bus;
	int hold_first;
	struct kt_out out[KT_OUTQ];
	size_t nout;
	size_t out_off;		/* bytes of out[0] already written */
};

int kt_open(struct kt_link *l, char *err, size_t errlen);
void kt_close(struct kt_link *l);
/* Device callbacks (ks_dev.emit, ks_dev.act). */
void kt_emit(void *ctx, const uint8_t *p, size_t n, uint64_t t);
void kt_act(void *ctx, enum ks_action a, uint64_t t);
int kt_want_read(const struct kt_link *l);
void kt_read(struct kt_link *l);
void kt_line_check(struct kt_link *l, uint64_t t);
void kt_shim_accept(struct kt_link *l);
void kt_shim_read(struct kt_link *l, size_t i);
/* Write what is due; returns the next due time, 0 when idle. */
uint64_t kt_flush(struct kt_link *l, uint64_t now);
uint64_t kt_next_event(struct kt_link *l, uint64_t now);
void kt_service(struct kt_link *l, uint64_t now, int ino_ready);

#endif /* KSIM_TTY_H */
