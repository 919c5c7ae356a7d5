/*
 * usart/usart.h - what the files of the USART transport share: the
 * session's private state, the operation names failures carry, the
 * timeouts, and the functions one file offers the others.  Sectioned by
 * the file that defines each declaration.  Internal to lib/usart/.
 */
#ifndef FT_USART_USART_H
#define FT_USART_USART_H

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
 *  - Erase: see ft_an_erase_timeout_ms() in lib/usart/an3155.c (per unit, from
 *    its size; F4 128 KiB sector 4 s at x8).
 *  - Mass erase and Readout Unprotect: ft_an_mass_erase_timeout_ms(), from
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

/*
 * What the part on the line is beyond its product ID (usart/part.c): the
 * layout chosen, how its erase units are numbered and split.
 */
struct usart_part {
	const struct ft_opt_layout *alt; /* NULL: the row's own layout */
	uint32_t flash_size;	/* bytes: the part's, or the row's */
	int rom_pages;		/* number units with ft_chip_rom_page() */
	uint32_t secure_start;	/* first byte of the secure area; 0: none */
	uint32_t secure_field;	/* SFSA, for messages */
	int early_ack;		/* one page per erase, then a wait */
	uint32_t alone_from;	/* units from here erased one per command */
	/* Non-empty: every erase is refused, and why (names the chip). */
	char refused[FT_DETAIL_MAX / 2];
};

/* The words a part is asked, and what it answered. */
struct part_words {
	int user_layout;	/* --layout given: the user's layout stays */
	int want_size, has_size;
	uint32_t size_kib;
	int want_opt, has_opt;
	uint32_t opt;
	int want_sfsa, has_sfsa;
	uint32_t sfsa;
	int want_blid, has_blid;
	uint8_t bl_id;
};

struct usart {
	struct ft_serial *port;
	struct ft_entry *entry;	/* NULL: no entry/exit sequence */
	unsigned settle_ms;	/* after the entry half */
	unsigned baud;
	unsigned char_bits;
	struct an_get get;
	/* Byte values sent since the current command began (a bitmap). */
	uint8_t sent_values[32];
	/* Bursts (ft_open_opts.usart_pipeline), until one fails. */
	int read_burst;
	int write_burst;
	int asked_pipeline;	/* --pipeline: the user asked for writes */
	/*
	 * The last failure was a Read Memory whose data all arrived, some
	 * of it damaged on the line: the ROM has finished its reply and
	 * waits for a command, so the retry needs no resync.
	 */
	int idle_after_damage;
	/* Memory commands NACKed in a row, each after a resync. */
	unsigned refusals;
	struct usart_part part;
};

/* Whole resyncs after one failure whose own check came back damaged. */
#define RESYNC_ATTEMPTS 3u

/* What a failure names: the command and, where it has one, the address. */
struct op {
	const char *cmd;	/* "Write Memory" */
	uint32_t addr;
	int has_addr;
};

static inline struct usart *
U(struct ft_dev *dev)
{
	return dev->priv;
}

/* usart/link.c: the AN3155 conversation on the wire. */

/* Milliseconds that nbytes take on the wire, rounded up, plus one. */
unsigned ft_usart_wire_ms(const struct usart *u, size_t nbytes);
/* Fail naming op ("Write Memory at 0x08004000: ..."). */
int ft_usart_op_fail(struct ft_dev *dev, int err, const struct op *op,
    const char *fmt, ...) FT_PRINTF(4, 5);
int ft_usart_tx(struct ft_dev *dev, const uint8_t *b, size_t n);
int ft_usart_rx(struct ft_dev *dev, uint8_t *b, size_t n, unsigned ms,
    size_t *got);
/* A reply damaged on the line (parity): FT_E_PROTOCOL naming it. */
int ft_usart_damaged(struct ft_dev *dev, const struct op *op,
    const char *what);
/* Wait up to ms for ACK; NACK, timeout or garbage name the stage. */
int ft_usart_wait_ack(struct ft_dev *dev, const struct op *op,
    const char *stage, unsigned ms);
/* Send a command byte and its complement, wait for the ACK. */
int ft_usart_command(struct ft_dev *dev, const struct op *op, uint8_t cmd);
/* The same for a memory command, which a protected chip refuses. */
int ft_usart_mem_command(struct ft_dev *dev, const struct op *op,
    uint8_t cmd);
int ft_usart_send_u32(struct ft_dev *dev, const struct op *op, uint32_t v,
    const char *stage);
/* 0x7F until the bootloader ACKs (or NACKs: already synced). */
int ft_usart_sync(struct ft_dev *dev, unsigned tries);
/* A length-prefixed reply body (Get, Get ID) and its final ACK. */
int ft_usart_read_body(struct ft_dev *dev, const struct op *op,
    uint8_t *body, size_t *len);
/* Pipelining (see link.c): may this burst go in one piece? */
int ft_usart_burst_ok(struct ft_dev *dev, const struct op *op,
    const uint8_t *b, size_t n);
int ft_usart_send_burst(struct ft_dev *dev, const struct op *op,
    const uint8_t *b, size_t n, const char *last, unsigned last_ms);
int ft_usart_read_frames(struct ft_dev *dev, const struct op *op,
    const uint8_t f[AN_READ_LEN_FRAME_LEN]);
/* The transport's resync op. */
int ft_usart_resync(struct ft_dev *dev);

/* usart/transport.c: the ops the other files use. */
int ft_usart_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf,
    uint32_t len);

/* usart/part.c: the part's own layout, numbering and erase quirks. */
/* Which words the choice needs for chip c (NULL: none). */
void ft_usart_part_needs(const struct ft_chip *c, int user_layout,
    struct part_words *w);
/*
 * The pure choice: from the row and the words read, the part's state
 * *p, its layout *flash (in: the user's with --layout) and a note that
 * says how they were found.  Always 0.
 */
int ft_usart_part_choose(const struct ft_chip *c, const struct part_words *w,
    struct usart_part *p, struct ft_layout *flash, char *note, size_t len);
/* Read the words (Read Memory, retried) and choose; after identify. */
int ft_usart_part_probe(struct ft_dev *dev, const struct ft_open_opts *opts);
/* 0, or FT_E_UNKNOWN_CHIP when the layout is too uncertain to erase. */
int ft_usart_part_erasable(struct ft_dev *dev, uint32_t addr);
/* The Extended Erase page number the ROM gives unit. */
int ft_usart_rom_page(struct ft_dev *dev, const struct ft_erase_unit *unit,
    uint32_t *page);
/* FT_E_RANGE naming the secure area when [addr, addr+len) reaches it. */
int ft_usart_check_secure(struct ft_dev *dev, const char *what,
    uint32_t addr, uint32_t len);

/* usart/identify.c: Get, Get Version, Get ID and the table row. */
int ft_usart_get_version(struct ft_dev *dev, uint8_t *version);
int ft_usart_get_commands(struct ft_dev *dev);
void ft_usart_copy_commands(struct ft_dev *dev);
/* Identify the chip and fill dev->info and the block sizes. */
int ft_usart_identify(struct ft_dev *dev, const struct ft_open_opts *opts);

/* usart/transport.c: the reconnect op, after the chip reset itself. */
int ft_usart_reconnect(struct ft_dev *dev);

#endif /* FT_USART_USART_H */
