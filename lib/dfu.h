/*
 * dfu.h - USB DFU 1.1 and ST DfuSe internals: the memory-layout string
 * parser (lib/dfu_layout.c), the .dfu file reader (lib/dfu_file.c) and the
 * protocol constants the transport (lib/tr_dfu.c) uses.  Internal to the
 * library and its unit tests.
 */
#ifndef FT_DFU_H
#define FT_DFU_H

#include <stddef.h>
#include <stdint.h>

#include "ft_int.h"

/*
 * DfuSe memory layout, the interface string of an alt setting (ST UM0424):
 * "@Internal Flash  /0x08000000/04*016Kg,01*064Kg".  One segment per
 * "COUNT*SIZE<mult><type>" group; zones ("/0xADDR/groups") follow each
 * other in the order the device lists them.
 */
#define FT_DFU_READABLE 0x1u	/* type letter bit 0 */
#define FT_DFU_ERASABLE 0x2u	/* type letter bit 1 */
#define FT_DFU_WRITABLE 0x4u	/* type letter bit 2 */

#define FT_DFU_MAX_SEGS 16
#define FT_DFU_NAME_MAX 64

struct ft_dfu_seg {
	uint32_t start;		/* first byte */
	uint32_t page_size;	/* bytes per page (erase unit) */
	uint32_t npages;
	unsigned attr;		/* FT_DFU_READABLE | ERASABLE | WRITABLE */
};

struct ft_dfu_layout {
	char name[FT_DFU_NAME_MAX];	/* "Internal Flash", spaces trimmed */
	size_t nseg;
	struct ft_dfu_seg seg[FT_DFU_MAX_SEGS];
};

/*
 * Parse a DfuSe layout string.  Tolerates what real ROMs send (extra
 * digits, a space for the byte multiplier, trailing spaces); anything else
 * is FT_E_FORMAT with a detail.  ctx may be NULL.
 */
int ft_dfu_layout_parse(struct ft_ctx *ctx, const char *text,
    struct ft_dfu_layout *out);
/* The segment holding addr, or NULL. */
const struct ft_dfu_seg *ft_dfu_layout_find(const struct ft_dfu_layout *l,
    uint32_t addr);
/*
 * The writable memory holding addr as an ft_layout: that segment and every
 * writable segment contiguous with it on either side, as {size, count}
 * runs from the lowest start.  FT_E_RANGE when addr is not in a writable
 * segment, FT_E_NOT_SUPPORTED when it needs more than FT_MAX_RUNS runs.
 */
int ft_dfu_layout_flash(struct ft_ctx *ctx, const struct ft_dfu_layout *l,
    uint32_t addr, struct ft_layout *out);

/*
 * DFU suffix (DFU 1.1 Appendix B), the last bLength (>= 16) bytes of a
 * .dfu file.  IDs of 0xFFFF mean "any".
 */
#define FT_DFU_SUFFIX_LEN 16
#define FT_DFU_ANY_ID 0xFFFFu
#define FT_DFU_BCD_DFUSE 0x011Au

struct ft_dfu_suffix {
	uint16_t bcd_device;
	uint16_t pid;
	uint16_t vid;
	uint16_t bcd_dfu;
	uint8_t length;		/* bLength: suffix bytes to strip */
	uint32_t crc;		/* dwCRC as stored (checked) */
};

/*
 * The suffix CRC: reflected CRC-32 (poly 0xEDB88320), start with
 * FT_DFU_CRC_INIT, no final XOR.  Chainable.
 */
#define FT_DFU_CRC_INIT 0xFFFFFFFFu
uint32_t ft_dfu_crc(uint32_t crc, const uint8_t *buf, size_t len);

/*
 * Find and check the suffix of buf.  FT_E_NOT_SUPPORTED ("no DFU suffix")
 * when the signature is absent; FT_E_FORMAT naming the file when it is
 * present but its length or CRC is wrong.
 */
int ft_dfu_suffix_parse(struct ft_ctx *ctx, const char *name,
    const uint8_t *buf, size_t len, struct ft_dfu_suffix *out);
/*
 * Like ft_dfu_image_parse() (ft_int.h), and also returns the suffix
 * (suffix may be NULL).
 */
int ft_dfu_file_parse(struct ft_ctx *ctx, const char *name,
    const uint8_t *buf, size_t len, uint32_t base, struct ft_image **out,
    struct ft_dfu_suffix *suffix);
/*
 * 0 when the suffix's VID and PID accept the device (0xFFFF matches
 * anything), FT_E_INVALID with a detail otherwise.  bcdDevice is not
 * compared: dfuse-pack writes 0x0000 there, which no ST ROM reports.
 */
int ft_dfu_suffix_check(struct ft_ctx *ctx, const struct ft_dfu_suffix *s,
    uint16_t vid, uint16_t pid);

/*
 * DFU 1.1 class requests, states and status codes (usb.org DFU 1.1,
 * sections 3, 6.1.2), and the DfuSe commands (ST AN3156).
 */
enum ft_dfu_request {
	FT_DFU_DETACH = 0,
	FT_DFU_DNLOAD = 1,
	FT_DFU_UPLOAD = 2,
	FT_DFU_GETSTATUS = 3,
	FT_DFU_CLRSTATUS = 4,
	FT_DFU_GETSTATE = 5,
	FT_DFU_ABORT = 6,
};

enum ft_dfu_state {
	FT_DFU_APP_IDLE = 0,
	FT_DFU_APP_DETACH = 1,
	FT_DFU_IDLE = 2,
	FT_DFU_DNLOAD_SYNC = 3,
	FT_DFU_DNBUSY = 4,
	FT_DFU_DNLOAD_IDLE = 5,
	FT_DFU_MANIFEST_SYNC = 6,
	FT_DFU_MANIFEST = 7,
	FT_DFU_MANIFEST_WAIT_RESET = 8,
	FT_DFU_UPLOAD_IDLE = 9,
	FT_DFU_ERROR = 10,
};

enum ft_dfu_status {
	FT_DFU_OK = 0,
	FT_DFU_ERR_TARGET = 1,
	FT_DFU_ERR_FILE = 2,
	FT_DFU_ERR_WRITE = 3,
	FT_DFU_ERR_ERASE = 4,
	FT_DFU_ERR_CHECK_ERASED = 5,
	FT_DFU_ERR_PROG = 6,
	FT_DFU_ERR_VERIFY = 7,
	FT_DFU_ERR_ADDRESS = 8,
	FT_DFU_ERR_NOTDONE = 9,
	FT_DFU_ERR_FIRMWARE = 10,
	FT_DFU_ERR_VENDOR = 11,	/* ST: read-out protection active */
	FT_DFU_ERR_USBR = 12,
	FT_DFU_ERR_POR = 13,
	FT_DFU_ERR_UNKNOWN = 14,
	FT_DFU_ERR_STALLEDPKT = 15,
};

/* DfuSe commands: DNLOAD with wValue 0, first data byte. */
#define FT_DFUSE_SET_ADDRESS 0x21
#define FT_DFUSE_ERASE 0x41
#define FT_DFUSE_READ_UNPROTECT 0x92
/* Data blocks start at wBlockNum 2: addr = pointer + (n - 2) * xfer. */
#define FT_DFUSE_FIRST_BLOCK 2

const char *ft_dfu_state_name(int state);
const char *ft_dfu_status_name(int status);

#endif /* FT_DFU_H */
