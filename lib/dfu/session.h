/*
 * dfu/session.h - what the files of the DFU transport share: the open
 * device's private state, the candidates a scan finds, the protocol
 * constants and timeouts, and the functions one file offers the others.
 * Sectioned by the file that defines each declaration.  Internal to
 * lib/dfu/.
 */
#ifndef FT_DFU_SESSION_H
#define FT_DFU_SESSION_H

#include <libusb.h>

#include "dfu.h"
#include "transport.h"

/* USB class codes for DFU (DFU 1.1, 4.2.1 and 4.2.3). */
#define DFU_CLASS 0xFE
#define DFU_SUBCLASS 0x01
#define DFU_PROTO_RUNTIME 0x01
#define DFU_PROTO_DFU 0x02
#define DFU_FUNC_DESC_TYPE 0x21
#define DFU_FUNC_DESC_MIN_LEN 7
#define DFU_FUNC_DESC_LEN 9
#define DFU_BCD_1_1 0x0110

/* bmAttributes of the functional descriptor. */
#define DFU_ATTR_CAN_DNLOAD 0x01
#define DFU_ATTR_CAN_UPLOAD 0x02
#define DFU_ATTR_MANIFEST_TOLERANT 0x04
#define DFU_ATTR_WILL_DETACH 0x08

#define REQ_OUT (LIBUSB_ENDPOINT_OUT | LIBUSB_REQUEST_TYPE_CLASS | \
	LIBUSB_RECIPIENT_INTERFACE)
#define REQ_IN (LIBUSB_ENDPOINT_IN | LIBUSB_REQUEST_TYPE_CLASS | \
	LIBUSB_RECIPIENT_INTERFACE)

#define STATUS_LEN 6
#define ST_VID 0x0483
#define MAX_PORTS 7

/* Timeouts and poll pacing. */
#define CTRL_TIMEOUT_MS 5000		/* any single control transfer */
#define POLL_STALL_RETRIES 5		/* stalled polls tolerated per op */
#define POLL_MULT_MAX 8			/* most we stretch a poll timeout */
#define SET_ADDRESS_BUDGET_MS 2000	/* ROMs report ~104 ms */
#define WRITE_BUDGET_MS 3000		/* 2 KiB program: 8..60 ms */
#define ERASE_BUDGET_MS 1000		/* plus ERASE_MS_PER_KIB per page */
#define ERASE_MS_PER_KIB 25		/* F4 128 KiB sector: up to 2 s */
#define MASS_ERASE_BUDGET_MS 40000	/* F4 x8 mass erase: up to 32 s */
#define UNPROTECT_REENUM_MS 40000	/* unprotect = mass erase + reset */
#define MANIFEST_BUDGET_MS 5000
#define DETACH_TIMEOUT_MAX_MS 1000	/* wValue of DFU_DETACH */
/*
 * After a leave: how long the device may take to leave the bus, and how
 * long after that a ROM with BOOT0 held may take to be back: its restart
 * (tens of ms by AN2606's startup timings; 300 ms in the slowest case we
 * test) and the host's enumeration (USB 2.0's 100 ms attach debounce, a
 * port reset, the descriptors, udev: 430-460 ms measured on the QEMU
 * rig, test/usbrig).  1 s covers both with room; the man page says so.
 */
#define LEAVE_DEPART_MS 1000
#define LEAVE_BACK_MS 1000
/* After an option-byte write or a readout unprotect, the ROM that must
 * come back (BOOT0 held) or the application: the same bound. */
#define RESET_BACK_MS 1000
/* A runtime device that detached must come back as a ROM. */
#define DETACH_BACK_MS 5000
#define SCAN_INTERVAL_MS 250		/* --wait polling */
#define NORMALISE_TRIES 5

/* Plain DFU has no layout; the window we pretend to have. */
#define PLAIN_WINDOW_BYTES (16u * 1024 * 1024)

#define UDEV_HINT "install the udev rule scripts/50-flashtool.rules from " \
	"flashtool's sources with 'sudo sh scripts/install-udev-rules' (or " \
	"'sudo make install-udev'), add yourself to the plugdev group " \
	"('sudo usermod -aG plugdev $USER', then log in again) and replug " \
	"the device"
#define DFU_ENTRY_HINT "to enter DFU mode, short BOOT0 and reset, or hold " \
	"BOOT0 while plugging in"

/*
 * How long an operation of one kind (what, size) kept the device busy at
 * least (the longest such bound seen): the first re-poll of the next one
 * waits that long, instead of re-polling from 1 ms or sleeping a reported
 * timeout that may be 3x the work.
 */
#define BUSY_SLOTS 8

struct busy_seen {
	const char *what;		/* NULL: free slot */
	uint32_t size;
	uint32_t ms;
};

/* A DFU-capable device found by a scan. */
struct dfu_cand {
	libusb_device *udev;		/* referenced */
	struct ft_dfu_entry e;
	int iface;			/* bInterfaceNumber */
	uint8_t alt_str[FT_DFU_MAX_ALTS]; /* iInterface per alt */
	uint8_t attrs;			/* functional bmAttributes */
	uint16_t detach_ms;
	uint16_t bcd_dfu;
	int open_err;			/* libusb error reading strings */
};

struct dfu_priv {
	libusb_context *usb;
	libusb_device_handle *h;
	struct dfu_cand c;		/* the device in use (udev unref'd) */
	uint8_t devaddr;		/* USB address, changes on re-enum */
	int alt;
	uint16_t xfer;			/* wTransferSize */
	int dfuse;
	int have_layout;
	struct ft_dfu_layout layout;	/* of the alt in use */
	int gone;			/* the device left (go/unprotect) */
	int reset_away;			/* it reset by itself after a
					 * write (option bytes) and runs
					 * its application now */
	uint16_t rt_vid, rt_pid;	/* runtime IDs before a detach */
	int detached;
	int no_watch;			/* leave without watching */
	int strict_poll;		/* device stalls early polls */
	unsigned poll_mult;		/* its timeouts were this short */
	struct busy_seen busy[BUSY_SLOTS];	/* per kind of operation */

	/* DfuSe addressing, and the transfer open (plain DFU too). */
	struct ft_dfuse_run run;

	/* Plain DFU 1.1: one sequential transfer from block 0. */
	uint32_t plain_base;
	uint32_t plain_next;
	uint32_t plain_block;
	int plain_active;
};

/* A GETSTATUS answer. */
struct dfu_status {
	uint8_t status;
	uint32_t poll_ms;
	uint8_t state;
};

static inline void
dfu_sleep_ms(uint64_t ms)
{
	ft_sleep_us(ms * 1000);
}

/* dfu/request.c: class requests, the poll engine, state recovery. */

/* A libusb error as ours; the detail is the caller's. */
int ft_dfu_usb_err(int r);
/* Class requests: bytes transferred, or a libusb error (negative). */
int ft_dfu_ctrl(struct dfu_priv *p, uint8_t type, uint8_t req,
    uint16_t value, uint8_t *data, uint16_t len, unsigned timeout_ms);
int ft_dfu_get_status(struct dfu_priv *p, struct dfu_status *st,
    unsigned timeout_ms);
int ft_dfu_simple_req(struct dfu_priv *p, uint8_t req);
/* DNLOAD with wValue block; data may be NULL for a zero-length one. */
int ft_dfu_dnload(struct dfu_priv *p, uint16_t block, const uint8_t *data,
    uint16_t len);
/* Our error for a failed transfer or error status, naming what failed. */
int ft_dfu_fail_xfer(struct ft_dev *dev, int r, const char *what,
    uint32_t addr);
int ft_dfu_fail_status(struct ft_dev *dev, const struct dfu_status *st,
    const char *what, uint32_t addr);
/* Writing, erasing, switching after the device went away by itself. */
int ft_dfu_fail_away(struct ft_dev *dev, const char *what);
/* Poll GETSTATUS until idle again; what must be a string literal. */
int ft_dfu_wait_idle(struct ft_dev *dev, const char *what, uint32_t addr,
    uint32_t size, unsigned budget_ms, struct dfu_status *out);
/* Back to dfuIDLE from an upload or download in progress. */
int ft_dfu_to_idle(struct ft_dev *dev);
/* Bring the state machine to dfuIDLE after opening. */
int ft_dfu_normalise(struct ft_dev *dev);
/* The transport's resync op. */
int ft_dfu_resync(struct ft_dev *dev);

/* dfu/dfuse.c: DfuSe addressing and the memory operations. */
int ft_dfu_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf,
    uint32_t len);
int ft_dfu_write(struct ft_dev *dev, uint32_t addr, const uint8_t *buf,
    uint32_t len);
int ft_dfu_erase(struct ft_dev *dev, const struct ft_erase_unit *units,
    size_t n);
int ft_dfu_mass_erase(struct ft_dev *dev);
/* One leave request: 0 sent, 1 refused (try again), < 0 hard error. */
int ft_dfuse_leave_once(struct ft_dev *dev, uint32_t addr);

/* dfu/plain.c: plain DFU 1.1 (no addresses: one run from block 0). */
int ft_dfu_plain_finish(struct ft_dev *dev);
int ft_dfu_plain_write(struct ft_dev *dev, uint32_t addr,
    const uint8_t *buf, uint32_t len);
int ft_dfu_plain_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf,
    uint32_t len);

/* dfu/discovery.c: finding devices, waiting for them, listing. */

/* "1-1.2": bus and port chain. */
void ft_dfu_usb_path(libusb_device *d, char *out, size_t n);
/* The first language ID of h's strings; 0: it has none. */
uint16_t ft_dfu_langid(libusb_device_handle *h);
/* String index of h as ASCII in out ("" when absent or unreadable). */
void ft_dfu_read_string(libusb_device_handle *h, uint16_t langid,
    uint8_t index, char *out, size_t n);
/* d's first DFU interface in c: 1 when it has one. */
int ft_dfu_describe(libusb_device *d, struct dfu_cand *c);
void ft_dfu_free_cands(struct dfu_cand *c, size_t n);
/* Every DFU device matching m; candidates hold a device reference. */
int ft_dfu_scan(struct ft_ctx *ctx, libusb_context *usb,
    const struct ft_dfu_match *m, struct dfu_cand **out, size_t *n);
/* Exactly one device, waiting up to wait_ms for one to appear. */
int ft_dfu_select_one(struct ft_ctx *ctx, libusb_context *usb,
    const struct ft_dfu_match *m, unsigned wait_ms, struct dfu_cand *out);

/* dfu/watch.c: what comes back on a USB path after a reset. */

struct dfu_watch {
	libusb_context *usb;
	char path[32];
	uint8_t old_addr;		/* the device's address before */
	int hotplug;			/* events, not scans */
	libusb_hotplug_callback_handle handle;
	int departed;
	uint64_t departed_ms;
	libusb_device *arrived;		/* referenced; NULL: nothing yet */
	uint64_t arrived_ms;
	/* Filled for WATCH_OTHER: what enumerated instead of the ROM. */
	uint16_t vid, pid;
	char product[64];
	unsigned waited_ms;		/* departure to arrival (or end) */
};

enum dfu_watch_result {
	WATCH_STILL,		/* never left the bus within depart_ms */
	WATCH_NOTHING,		/* left; nothing came back within arrive_ms */
	WATCH_DFU,		/* a DFU-mode device came back: *out */
	WATCH_OTHER,		/* another device enumerated there */
	WATCH_INTERRUPTED,	/* the caller's cancel callback said stop */
};

/* Start watching path (before the request that resets the device). */
void ft_dfu_watch_begin(struct dfu_watch *w, libusb_context *usb,
    const char *path, uint8_t old_addr);
/*
 * Wait for the departure (at most depart_ms) and then, counted from the
 * departure, for an arrival (at most arrive_ms).
 */
enum dfu_watch_result ft_dfu_watch_wait(struct ft_ctx *ctx,
    struct dfu_watch *w, unsigned depart_ms, unsigned arrive_ms,
    struct dfu_cand *out);
void ft_dfu_watch_end(struct dfu_watch *w);

/* dfu/transport.c: the ops table, opening, alt settings, leaving. */

/* Release the interface and close the handle (not while gone). */
void ft_dfu_release(struct dfu_priv *p);
/* A write to memory that resets the ROM (option bytes): follow it. */
int ft_dfu_write_reset(struct ft_dev *dev, uint32_t addr);

#endif /* FT_DFU_SESSION_H */
