/*
 * katapult/katapult.h - what the files of the Katapult transport share:
 * the session's private state, the link under it (a tty or a CAN node),
 * the MCU table, timeouts, and the functions one file offers the
 * others.  Sectioned by the file that defines each declaration.
 * Internal to lib/katapult/.
 *
 * How Katapult maps onto the core (README-level summary; transport.c
 * has the details):
 *  - erase units are the MCU's pages (sectors on F2/F4/H7, 4 KiB on the
 *    RP2040), from the application start to the end of the flash;
 *  - Katapult erases a page when the page's first block is written and
 *    differs, so "erase" only marks units, and the first write into a
 *    marked unit starts at its first block (all 0xFF when the image
 *    has nothing there);
 *  - read is REQUEST_BLOCK, bounded to the flash (the bootloader area
 *    included, for backups);
 *  - go and reset are COMPLETE, which the front end sends only after a
 *    write that verified.
 */
#ifndef FT_KATAPULT_KATAPULT_H
#define FT_KATAPULT_KATAPULT_H

#include <limits.h>

#include "transport.h"
#include "serial.h"
#include "proto.h"

/*
 * Timeouts, each plus the wire time of the bytes in flight (UART).
 *  - A reply without flash work (CONNECT, REQUEST_BLOCK, COMPLETE,
 *    GET_CANBUS_ID): the device answers within a millisecond; 500 ms
 *    leaves room for a loaded host.
 *  - SEND_BLOCK that may erase (a unit's first block): the largest
 *    sector erase in the table, 128 KiB on F4/H7, takes up to 2 s (F4
 *    x32, DS10693; flashtool.py went to 5 s after H723 timeouts,
 *    katapult #128): 5 s.
 *  - Other SEND_BLOCKs program 64 bytes (1.7 ms on F0); SEND_EOF may
 *    flush an RP2040 page with a sector erase (45 ms): 1 s.
 *  - The probe of a port that may not be Katapult at all: short.
 */
#define KP_REPLY_TIMEOUT_MS 500u
#define KP_ERASE_TIMEOUT_MS 5000u
#define KP_WRITE_TIMEOUT_MS 1000u
#define KP_PROBE_TIMEOUT_MS 300u
/* Attempts at a command the transport sends on its own (not blocks). */
#define KP_COMMAND_TRIES 3u
/*
 * Timeouts in a row after a NACK before the parser is taken to be
 * wedged (katapult.md 1.12: a damaged frame that starts with 0x01 makes
 * command_find_block() pop nothing, and the device answers nothing more
 * until it is reset).
 */
#define KP_WEDGE_SILENCES 2u
/* Timeouts in a row without a byte back, without a NACK before. */
#define KP_GONE_SILENCES 3u
/* BUSY (0xF3): Katapult never sends it; flashtool.py waits 1.5 s. */
#define KP_BUSY_WAIT_MS 100u
/* Resync: input drained until quiet this long, at most the max. */
#define KP_DRAIN_QUIET_MS 20u
#define KP_DRAIN_MAX_MS 300u
#define KP_DEFAULT_BAUD 250000u
/* Waits are cut into slices this long to see a signal. */
#define KP_CANCEL_SLICE_MS 100u

/* How a Katapult build writes flash (src/<arch>/flash.c). */
enum ft_kp_write_model {
	/*
	 * stm32: a unit's first block erases it unless it is blank (by
	 * check_erased(), which looks at a quarter of it) or a
	 * retransmission; other blocks must land on blank flash.
	 */
	FT_KP_WRITE_PAGES,
	/*
	 * rp2040: blocks collect in a 256-byte page buffer; a flushed page
	 * that starts a 4 KiB sector erases it first; SEND_EOF flushes.
	 */
	FT_KP_WRITE_SECTOR_BUFFER,
};

struct ft_kp_mcu {
	const char *name;		/* CONFIG_MCU, as CONNECT says it */
	uint32_t flash_base;
	uint32_t flash_size;		/* Katapult's FLASH_SIZE */
	struct ft_run runs[FT_MAX_RUNS];	/* erase units from base */
	enum ft_kp_write_model model;
	/*
	 * ECC flash: each double word (H7: flash word) is programmed once
	 * between erases, even with all ones (transport.c, "program once").
	 */
	int program_once;
};

/* The byte link under the protocol: a tty, or a node on a CAN bus. */
struct ft_kp_link {
	struct ft_ctx *ctx;
	int can;			/* else a tty */
	struct ft_serial *tty;
	unsigned baud;
	char name[PATH_MAX];		/* port path, or CAN interface */
	int fd;				/* CAN socket; -1 when none */
	int unix_dgram;			/* "unix:PATH": simulated */
	uint32_t tx_id, rx_id;		/* CAN: host sends, node sends */
};

/* Unit state bits (session unit_state). */
#define KP_UNIT_PENDING 0x01u	/* erase asked for, first block not sent */
#define KP_UNIT_OPENED 0x02u	/* its first block went in this session */
#define KP_UNIT_FORCE 0x04u	/* make sure the next opening erases */

struct ft_kp_session {
	struct ft_kp_link link;
	struct ft_kp_rx rx;
	struct ft_kp_frame frame;	/* the last reply */
	struct ft_kp_connect conn;
	const struct ft_kp_mcu *mcu;	/* NULL: unknown (--layout) */
	uint32_t flash_base, flash_end;	/* what reads may touch */
	uint32_t block;
	uint8_t uuid[FT_KP_UUID_LEN];
	int has_uuid;
	/* Units of dev->info.flash and what this session did to them. */
	uint32_t nunits;
	uint8_t *unit_state;
	int dirty;			/* blocks sent since SEND_EOF */
	/* The unit being written, block by block, for a rewrite. */
	int64_t shadow_unit;
	uint32_t shadow_start, shadow_size;
	uint8_t *shadow;
	uint8_t *shadow_have;		/* one byte per block */
	int rewrite_pending;		/* its rewrite stopped halfway */
	uint32_t failed_addr;		/* a SEND_BLOCK that did not go */
	int has_failed;
	/* One block read back, kept until the next write. */
	uint32_t cache_addr;
	int cache_valid;
	uint8_t cache[FT_KP_BLOCK_MAX];
	/* The wedge watch. */
	int nacked;
	unsigned silences;	/* timeouts in a row with nothing back */
	int heard;		/* bytes came during this attempt */
	int failed;			/* an operation failed: close sends
					 * nothing more */
	int completed;			/* COMPLETE went: the app runs */
	int requested;			/* Klipper was asked first */
	int usb;			/* the tty is a USB device */
};

/* katapult/mcus.c */
const struct ft_kp_mcu *ft_kp_mcu_find(const char *name);

/* katapult/link.c: the byte link. */
void ft_kp_link_init(struct ft_kp_link *l, struct ft_ctx *ctx);
int ft_kp_link_open_tty(struct ft_kp_link *l, const char *path,
    unsigned baud);
/* A node on CAN: the socket open and bound, ids set by node id. */
int ft_kp_link_open_can(struct ft_kp_link *l, const char *iface);
void ft_kp_link_set_node(struct ft_kp_link *l, uint8_t nodeid);
void ft_kp_link_close(struct ft_kp_link *l);
/* One Katapult frame out (a tty gets it in one write()). */
int ft_kp_link_send(struct ft_kp_link *l, const uint8_t *p, size_t n,
    unsigned timeout_ms);
/* What the node sent: some bytes, or FT_E_TIMEOUT. */
int ft_kp_link_recv(struct ft_kp_link *l, uint8_t *p, size_t max,
    unsigned timeout_ms, size_t *got);
/* The wire time of n bytes (UART: 10 bit times each), in ms. */
unsigned ft_kp_link_wire_ms(const struct ft_kp_link *l, size_t n);
/* Drop input until the line is quiet. */
void ft_kp_link_drain(struct ft_kp_link *l);

/* katapult/can.c: SocketCAN (or a simulator's unix datagram bus). */
int ft_kp_can_open(struct ft_ctx *ctx, const char *iface, int *fd,
    int *unix_dgram);
int ft_kp_can_close(int fd);
int ft_kp_can_send(struct ft_ctx *ctx, int fd, uint32_t id,
    const uint8_t *data, size_t dlc, unsigned timeout_ms);
/* One frame: 1, 0 on timeout, or an error. */
int ft_kp_can_recv(struct ft_ctx *ctx, int fd, uint32_t *id, uint8_t *data,
    size_t *dlc, unsigned timeout_ms);
/* Admin: give the node with uuid the node id (SET_CANBOOT_NODEID). */
int ft_kp_can_assign(struct ft_kp_link *l, const uint8_t *uuid,
    uint8_t nodeid);
/* Admin: Klipper's REQUEST_BOOTLOADER for uuid. */
int ft_kp_can_request(struct ft_kp_link *l, const uint8_t *uuid);
/* The node id this host gives uuid's node. */
uint8_t ft_kp_can_nodeid(const uint8_t *uuid);

/* katapult/session.c: commands and replies. */
/*
 * One command, one attempt: send it, wait for its ACK (for SEND_BLOCK
 * and REQUEST_BLOCK, with the address echoed), skipping late replies to
 * earlier attempts and, skip_errors times, an ERROR (the prime's).
 * FT_E_NACK (NACK, ERROR, BUSY), FT_E_TIMEOUT, FT_E_IO (link gone, or
 * the parser wedged), FT_E_PROTOCOL.
 */
int ft_kp_exchange(struct ft_kp_session *s, uint8_t cmd,
    const uint8_t *payload, size_t len, int64_t echo, unsigned timeout_ms,
    unsigned skip_errors);
/* Prime, CONNECT and parse, tries attempts; into s->conn. */
int ft_kp_connect(struct ft_kp_session *s, unsigned tries,
    unsigned timeout_ms);
int ft_kp_send_block(struct ft_kp_session *s, uint32_t addr,
    const uint8_t *data, unsigned timeout_ms);
int ft_kp_request_block(struct ft_kp_session *s, uint32_t addr,
    uint8_t *out);
/* SEND_EOF (tries attempts): the pages the device counted. */
int ft_kp_send_eof(struct ft_kp_session *s, unsigned tries,
    uint32_t *pages);
int ft_kp_complete(struct ft_kp_session *s);
int ft_kp_get_uuid(struct ft_kp_session *s, uint8_t *uuid);

/* katapult/entry.c: reaching the bootloader from a running Klipper. */
/*
 * Find Katapult behind opts (a port or a CAN node), asking a running
 * Klipper for it first where needed; on success the session's link is
 * open and CONNECT answered (s->conn).
 */
int ft_kp_enter(struct ft_kp_session *s, const struct ft_open_opts *opts);

#endif /* FT_KATAPULT_KATAPULT_H */
