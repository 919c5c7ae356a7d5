/*
 * katapult/proto.h - the Katapult bootloader's protocol as pure code
 * (lib/katapult/proto.c): frames and their CRC, the host's frame
 * decoder with resync, the CONNECT reply, UUIDs, and the CAN admin
 * messages of Katapult and Klipper.  No I/O; tested by tables
 * (test/unit/test_katapult.c) and fuzzed (test/fuzz/fuzz_kp_*.c).
 *
 * Facts from Katapult's src/command.[ch], src/flashcmd.c,
 * src/generic/canserial.c and scripts/flashtool.py, and Klipper's
 * src/generic/canserial.c and serial_irq.c (Arksine/katapult 902f335,
 * Klipper3d/klipper 84104bbb); shared/research/katapult.md 1.1-1.6.
 */
#ifndef FT_KATAPULT_PROTO_H
#define FT_KATAPULT_PROTO_H

#include "ft_int.h"

/*
 * Frame: 01 88 | command | payload words | payload (LE) | CRC16 (LE) |
 * 99 03.  The CRC covers the command byte, the length byte and the
 * payload; it is CRC-16/MCRF4XX (reflected 0x8408, init 0xFFFF, no final
 * XOR), what Klipper calls crc16_ccitt.
 */
#define FT_KP_SYNC 0x01u
#define FT_KP_SYNC2 0x88u
#define FT_KP_TRAIL 0x99u
#define FT_KP_TRAIL2 0x03u
#define FT_KP_OVERHEAD 8u		/* header 4, CRC 2, trailer 2 */
/* The device takes frames of at most this (command.h MESSAGE_MAX). */
#define FT_KP_DEVICE_FRAME_MAX 128u
/*
 * The longest reply the host takes: REQUEST_BLOCK's at the largest block
 * (512: flashtool.py's limit) is 2 words + 128 words.  A header claiming
 * more is garbage.
 */
#define FT_KP_BLOCK_MAX 512u
#define FT_KP_REPLY_WORDS_MAX (2u + FT_KP_BLOCK_MAX / 4)
#define FT_KP_FRAME_MAX (FT_KP_OVERHEAD + 4u * FT_KP_REPLY_WORDS_MAX)

enum ft_kp_cmd {
	FT_KP_CONNECT = 0x11,
	FT_KP_SEND_BLOCK = 0x12,
	FT_KP_SEND_EOF = 0x13,
	FT_KP_REQUEST_BLOCK = 0x14,
	FT_KP_COMPLETE = 0x15,
	FT_KP_GET_CANBUS_ID = 0x16,
	/*
	 * flashtool.py's "prime": an unknown command, answered with ERROR,
	 * sent first so that an STM32 usbfs part's first IN packet (which
	 * it holds until a second is queued: usbfs.c usb_send_bulk_in())
	 * goes out with the CONNECT reply.
	 */
	FT_KP_PRIME = 0x90,
};

enum ft_kp_resp {
	FT_KP_ACK = 0xA0,
	FT_KP_NACK = 0xF1,	/* framing or CRC error */
	FT_KP_ERROR = 0xF2,	/* unknown command, bad argument, flash */
	FT_KP_BUSY = 0xF3,	/* handled by flashtool.py; never sent by
				 * Katapult's own firmware */
};

/* PROTO_VERSION 1.1.0 added the software version to CONNECT. */
#define FT_KP_PROTO_WITH_VERSION 0x00010100u

uint16_t ft_kp_crc16(const uint8_t *p, size_t n);
/*
 * Build a frame into out (room for FT_KP_OVERHEAD + len bytes); len is a
 * multiple of 4, at most 4 * 255.  Returns the frame's length, or 0 when
 * len is not.
 */
size_t ft_kp_frame(uint8_t *out, uint8_t cmd, const uint8_t *payload,
    size_t len);

/* A frame as the decoder found it. */
struct ft_kp_frame {
	uint8_t code;		/* FT_KP_ACK, NACK, ERROR, BUSY, other */
	size_t len;		/* payload bytes (4 per word) */
	uint8_t payload[4 * FT_KP_REPLY_WORDS_MAX];
};

/*
 * The host's decoder: bytes in, whole frames out.  Unlike the device's
 * parser it never wedges: whatever fails a check (header, length,
 * trailer, CRC) loses one byte and the search goes on from the next
 * 0x01.
 */
struct ft_kp_rx {
	uint8_t buf[2 * FT_KP_FRAME_MAX];
	size_t len;
	uint64_t dropped;	/* bytes thrown away as garbage */
};

void ft_kp_rx_reset(struct ft_kp_rx *rx);
/* Append up to n bytes; returns how many fitted. */
size_t ft_kp_rx_push(struct ft_kp_rx *rx, const uint8_t *p, size_t n);
/* The next whole frame into *f: 1, or 0 when more bytes are needed. */
int ft_kp_rx_next(struct ft_kp_rx *rx, struct ft_kp_frame *f);
/*
 * Nothing more arrived: a partial frame at the front is garbage.  Drops
 * its first byte so that the search resumes behind it; 1 if something
 * was dropped.
 */
int ft_kp_rx_stale(struct ft_kp_rx *rx);

/* The acknowledged command of an ACK (its first word); 0 if none. */
uint32_t ft_kp_acked(const struct ft_kp_frame *f);

/* CONNECT's reply (after the acknowledged command word). */
#define FT_KP_NAME_MAX 64
struct ft_kp_connect {
	uint32_t proto;		/* 0x00MMmmpp */
	uint32_t app_start;
	uint32_t block_size;
	char mcu[FT_KP_NAME_MAX];
	char version[FT_KP_NAME_MAX];	/* "" when not reported */
	int has_version;
};

/*
 * Parse the payload after the command word: protocol, application start,
 * block size, MCU name padded with NULs, and from protocol 1.1.0 a zero
 * word and the software version (older firmware has none: accepted).
 * FT_E_PROTOCOL naming what is wrong.
 */
int ft_kp_parse_connect(struct ft_ctx *ctx, const uint8_t *p, size_t n,
    struct ft_kp_connect *out);

/* "1.1.0" */
void ft_kp_proto_str(uint32_t proto, char *buf, size_t size);

/*
 * UUIDs: 6 bytes in the order they travel on the bus, written as 12 hex
 * digits in that order (flashtool.py's -u and its query output).
 */
#define FT_KP_UUID_LEN 6
void ft_kp_uuid_str(const uint8_t *uuid, char *buf, size_t size);
/*
 * The UUID Klipper derives from its chip ID: the first 6 bytes of
 * fasthash64(chip ID, 0xA16231A7) in memory order; a USB-CAN bridge's
 * USB serial string is that chip ID in hex (flashtool.py
 * convert_usbsn_to_uuid).  -1 when serial is not hex.
 */
int ft_kp_uuid_from_serial(const char *serial, uint8_t *uuid);
uint64_t ft_kp_fasthash64(const uint8_t *p, size_t n, uint64_t seed);

/*
 * CAN (canserial.c): admin frames on 0x3f0, answers on 0x3f1; a node with
 * id n receives on 2n + 0x100 and sends on 2n + 0x101.
 */
#define FT_KP_CAN_ADMIN_ID 0x3F0u
#define FT_KP_CAN_ADMIN_RESP_ID 0x3F1u
#define FT_KP_CAN_NODEID_BASE 0x100u
enum ft_kp_can_admin {
	FT_KP_CAN_QUERY_UNASSIGNED = 0x00,
	FT_KP_CAN_SET_KLIPPER_NODEID = 0x01,
	FT_KP_CAN_REQUEST_BOOTLOADER = 0x02,
	FT_KP_CAN_SET_CANBOOT_NODEID = 0x11,
	FT_KP_CAN_CLEAR_CANBOOT_NODEID = 0x12,
	FT_KP_CAN_RESP_NEED_NODEID = 0x20,
};

/* An admin message with a UUID (and node id for SET): its length. */
size_t ft_kp_can_admin(uint8_t *out, uint8_t msg, const uint8_t *uuid,
    int nodeid);
/*
 * An answer to QUERY_UNASSIGNED: 1 with the UUID and the application
 * byte (0x01 Klipper, 0x11 Katapult; -1 when the frame has none).
 */
int ft_kp_can_parse_need_nodeid(const uint8_t *data, size_t dlc,
    uint8_t *uuid, int *app);
uint32_t ft_kp_can_rx_id(uint8_t nodeid);

/*
 * Klipper's serial bootloader request (serial_irq.c): the 32-byte
 * stretch after a '~' that resyncs its framer.
 */
#define FT_KP_SERIAL_REQUEST "~ \x1c Request Serial Bootloader!! ~"
#define FT_KP_SERIAL_REQUEST_LEN 33u

#endif /* FT_KATAPULT_PROTO_H */
