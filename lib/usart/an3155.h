/*
 * usart/an3155.h - protocol constants and pure framing helpers for the STM32
 * USART bootloader (ST AN3155), used by lib/usart/transport.c and unit tests.
 *
 * Nothing here does I/O.  Multi-byte fields are big-endian on the wire;
 * every parameter block ends with the XOR of its bytes; a command is its
 * code followed by the code's complement.
 */
#ifndef FT_AN3155_H
#define FT_AN3155_H

#include <stddef.h>
#include <stdint.h>

#include "ft_int.h"

/* Link bytes (AN3155 section 2). */
#define AN_SYNC 0x7F		/* autobaud byte, once per reset */
#define AN_ACK 0x79
#define AN_NACK 0x1F
#define AN_BUSY 0x76		/* I2C/SPI only; tolerated as "wait on" */

/* Command codes (AN3155 section 3, table "USART bootloader commands"). */
#define AN_CMD_GET 0x00
#define AN_CMD_GET_VERSION 0x01
#define AN_CMD_GET_ID 0x02
#define AN_CMD_READ 0x11
#define AN_CMD_GO 0x21
#define AN_CMD_WRITE 0x31
#define AN_CMD_ERASE 0x43		/* legacy: 1-byte page numbers */
#define AN_CMD_EXT_ERASE 0x44		/* 2-byte page numbers */
#define AN_CMD_SPECIAL 0x50
#define AN_CMD_EXT_SPECIAL 0x51
#define AN_CMD_WRITE_PROTECT 0x63
#define AN_CMD_WRITE_UNPROTECT 0x73
#define AN_CMD_READOUT_PROTECT 0x82
#define AN_CMD_READOUT_UNPROTECT 0x92
#define AN_CMD_GET_CHECKSUM 0xA1

/* Limits. */
#define AN_MAX_READ 256u		/* Read Memory: N+1 <= 256 */
#define AN_MAX_WRITE 256u		/* Write Memory: N+1 <= 256 */
/* Legacy Erase: the count byte is N-1 with 0xFF reserved for "all",
 * page numbers are one byte. */
#define AN_ERASE_MAX_PAGES 255u
#define AN_ERASE_MAX_PAGE_NO 255u
/* Extended Erase: counts and page numbers are 16 bits, 0xFFF0..0xFFFF
 * reserved for special erases.  ROMs cap the list (L152 at 512, L082 at
 * 511 pages per command), so lists are split at a safe 256. */
#define AN_EXT_ERASE_MAX_PAGES 256u
#define AN_EXT_ERASE_MAX_PAGE_NO 0xFFEFu
#define AN_EXT_ERASE_MASS 0xFFFFu
#define AN_EXT_ERASE_BANK1 0xFFFEu
#define AN_EXT_ERASE_BANK2 0xFFFDu
/* Write Protect: count byte N-1, one byte per sector code. */
#define AN_WP_MAX_SECTORS 256u
#define AN_WP_MAX_SECTOR_NO 255u

/* Frame sizes. */
#define AN_CMD_FRAME_LEN 2
#define AN_ADDR_FRAME_LEN 5
#define AN_READ_LEN_FRAME_LEN 2
#define AN_WRITE_FRAME_MAX (1 + AN_MAX_WRITE + 1)
#define AN_ERASE_FRAME_MAX (1 + AN_ERASE_MAX_PAGES + 1)
#define AN_EXT_ERASE_FRAME_MAX (2 + 2 * AN_EXT_ERASE_MAX_PAGES + 1)
#define AN_WP_FRAME_MAX (1 + AN_WP_MAX_SECTORS + 1)

/* XOR of len bytes. */
uint8_t ft_an_xor(const uint8_t *p, size_t len);

/* cmd, ~cmd. */
void ft_an_cmd_frame(uint8_t out[AN_CMD_FRAME_LEN], uint8_t cmd);
/* 4 address bytes MSB first, then their XOR.  Also the Get Checksum
 * length frame (a 32-bit value framed the same way). */
void ft_an_u32_frame(uint8_t out[AN_ADDR_FRAME_LEN], uint32_t value);
/* Read Memory length: N-1 and its complement; len 1..256.
 * FT_E_INVALID otherwise. */
int ft_an_read_len_frame(uint8_t out[AN_READ_LEN_FRAME_LEN], uint32_t len);
/* Write Memory data: N-1, data, XOR(N-1, data); len 4..256, multiple of
 * 4.  Returns the frame length or FT_E_INVALID. */
int ft_an_write_frame(uint8_t *out, const uint8_t *data, uint32_t len);

/*
 * Legacy Erase (0x43) page list: N-1, page numbers (1 byte), XOR.
 * n 1..255 and every page <= 255, else FT_E_NOT_SUPPORTED with the
 * offending page (or n) in *bad.  Returns the frame length.
 */
int ft_an_erase_frame(uint8_t *out, const uint32_t *pages, size_t n,
    uint32_t *bad);
/* Legacy global erase: 0xFF 0x00. */
void ft_an_erase_all_frame(uint8_t out[2]);
/*
 * Extended Erase (0x44) page list: (N-1) as 16 bits, 16-bit page
 * numbers, XOR of all.  n 1..AN_EXT_ERASE_MAX_PAGES, pages <= 0xFFEF.
 */
int ft_an_ext_erase_frame(uint8_t *out, const uint32_t *pages, size_t n,
    uint32_t *bad);
/* Extended Erase special code (0xFFFF mass, 0xFFFE/0xFFFD bank): code
 * MSB first and the XOR of the two bytes. */
void ft_an_ext_erase_special_frame(uint8_t out[3], uint16_t code);
/* Write Protect (0x63): N-1, sector codes (1 byte), XOR. */
int ft_an_wp_frame(uint8_t *out, const uint32_t *sectors, size_t n,
    uint32_t *bad);

/*
 * How a page list is split into erase commands: at most max pages per
 * command, and ROM quirks that want some pages alone.
 *  - one_each: every page alone (G07x V11.3 acknowledges a multi-page
 *    erase before it ends: FT_Q_ERASE_EARLY_ACK);
 *  - alone_from: units starting at or above this address go alone, and
 *    a command that starts below it stops before it (G0B1 bank 2 fails
 *    any erase that lists several pages and one of its pages:
 *    FT_Q_BANK2_ERASE_ONE).  AN_ERASE_NONE_ALONE: no such address.
 */
#define AN_ERASE_NONE_ALONE UINT32_MAX
struct an_erase_rules {
	size_t max;
	int one_each;
	uint32_t alone_from;
};
/* How many of the n units (ascending) the next command takes (>= 1). */
size_t ft_an_erase_take(const struct ft_erase_unit *units, size_t n,
    const struct an_erase_rules *rules);

/*
 * Worst-case erase time of the given units in milliseconds (the wait for
 * the final ACK of one erase command, wire time not included).
 */
uint32_t ft_an_erase_timeout_ms(const struct ft_erase_unit *units, size_t n);
/* Worst-case mass erase (and Readout Unprotect) time for flash_bytes. */
uint32_t ft_an_mass_erase_timeout_ms(uint64_t flash_bytes);

/* What the Get command told us. */
struct an_get {
	uint8_t version;	/* 0x31 = v3.1 */
	uint8_t ncmds;
	uint8_t cmds[32];	/* first 32 codes, in reply order */
	uint8_t erase_cmd;	/* 0x44, 0x43 or 0 if neither */
	int has_checksum;	/* 0xA1 listed */
};

/*
 * Parse a Get reply body: [N, version, N command codes] (the bytes between
 * the two ACKs).  FT_E_PROTOCOL if len does not match N.
 */
int ft_an_parse_get(const uint8_t *body, size_t len, struct an_get *out);
int ft_an_has_cmd(const struct an_get *g, uint8_t cmd);
/*
 * Parse a Get ID body: [N, PID MSB, PID LSB, ...] with N+1 >= 2 bytes of
 * ID.  FT_E_PROTOCOL if malformed.
 */
int ft_an_parse_get_id(const uint8_t *body, size_t len, uint16_t *pid);

/*
 * Bursts, for pipelining (ft_open_opts.usart_pipeline): a Read or Write
 * Memory command's frames back to back, sent before any ACK comes.
 */
#define AN_READ_BURST_LEN \
	(AN_CMD_FRAME_LEN + AN_ADDR_FRAME_LEN + AN_READ_LEN_FRAME_LEN)
#define AN_WRITE_BURST_MAX \
	(AN_CMD_FRAME_LEN + AN_ADDR_FRAME_LEN + AN_WRITE_FRAME_MAX)
/* 11 EE, the address frame, the length frame; len 1..256, else
 * FT_E_INVALID. */
int ft_an_read_burst(uint8_t out[AN_READ_BURST_LEN], uint32_t addr,
    uint32_t len);
/* 31 CE, the address frame, the data frame (as ft_an_write_frame).
 * Returns the burst length or FT_E_INVALID. */
int ft_an_write_burst(uint8_t *out, uint32_t addr, const uint8_t *data,
    uint32_t len);
/*
 * A ROM that refuses a burst's command or address is back to waiting for
 * a command and takes the rest of the burst as command pairs (code,
 * ~code).  True when burst[1..n) holds such a pair for a command that
 * changes the chip (every AN3155 command and every other one g lists,
 * but Get, Get Version, Get ID, Read Memory and Get Checksum): that burst
 * must go frame by frame.  Pairs at odd offsets count too, since a lost
 * byte shifts the ROM's pairing.  g may be NULL.
 */
int ft_an_burst_risky(const struct an_get *g, const uint8_t *burst, size_t n);

/*
 * Get Checksum (AN3155 rev 20, section 3.13).  After A1 5E the host sends
 * four frames of 4 bytes MSB first plus their XOR, each answered by ACK:
 * the address, the size in 32-bit words (not bytes), the CRC polynomial
 * and the CRC initial value.  The ROM then sends ACK, the CRC MSB first
 * and the XOR of those four bytes.  (stm32flash sends the size in bytes
 * and no polynomial/initial value: the note wins.)
 */
#define AN_CRC_POLY 0x04C11DB7u
#define AN_CRC_INIT 0xFFFFFFFFu
#define AN_CRC_PARAM_FRAMES 4
#define AN_CRC_REPLY_LEN 6
/* The four parameter frames; addr and len must be non-zero multiples of
 * 4 (FT_E_INVALID otherwise). */
int ft_an_crc_frames(uint8_t out[AN_CRC_PARAM_FRAMES][AN_ADDR_FRAME_LEN],
    uint32_t addr, uint32_t len);
/* Parse [ACK, CRC x4, XOR]: 0 and *crc, FT_E_NACK, or FT_E_PROTOCOL. */
int ft_an_parse_crc_reply(const uint8_t b[AN_CRC_REPLY_LEN], uint32_t *crc);

/*
 * The RAM reset routine.  Layout at ram: initial SP, reset vector (Thumb
 * bit set) pointing at ram + 8, then the code and its literal pool; Go
 * (0x21) to ram loads SP and jumps.  The code uses only ARMv6-M Thumb
 * instructions so it runs on every Cortex-M.
 */
enum an_reset_kind {
	AN_RESET_SYSRESETREQ,	/* AIRCR = VECTKEY | SYSRESETREQ */
	AN_RESET_OBL_LAUNCH,	/* FLASH_CR OBL_LAUNCH, then SYSRESETREQ */
};
#define AN_RESET_CODE_MAX 96
/*
 * Write the routine for kind into out (AN_RESET_CODE_MAX bytes) with
 * sp as the initial stack pointer; returns its length (a multiple of 4)
 * or FT_E_INVALID if ram is not 4-aligned.
 */
int ft_an_reset_code(uint8_t *out, uint32_t ram, uint32_t sp,
    enum an_reset_kind kind);

#endif /* FT_AN3155_H */
