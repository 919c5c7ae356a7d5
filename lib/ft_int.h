/*
 * ft_int.h - internals shared by every wing of the library (lib/core,
 * lib/image, lib/usart, lib/dfu) and its unit tests: the context and its
 * errors, clock and strings, images and spans, erase units, byte order.
 * The transport contract is lib/transport.h.  Never included by cli/.
 */
#ifndef FT_INT_H
#define FT_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <stddef.h>

#include "flashtool.h"

#define FT_DETAIL_MAX 512
#define FT_DEFAULT_RETRIES 3

struct ft_ctx {
	ft_log_fn log_fn;
	void *log_user;
	enum ft_log_level log_max;
	ft_progress_fn progress_fn;
	void *progress_user;
	ft_cancel_fn cancel_fn;
	void *cancel_user;
	char detail[FT_DETAIL_MAX];
	/*
	 * The detail already names the address where it failed
	 * (ft_fail_at), so that a caller higher up does not name it again.
	 */
	int detail_placed;
	uint32_t detail_addr;
};

#if defined(__GNUC__)
#define FT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FT_PRINTF(a, b)
#endif

void ft_log(struct ft_ctx *ctx, enum ft_log_level level, const char *fmt, ...)
    FT_PRINTF(3, 4);
#define ft_err_log(ctx, ...) ft_log((ctx), FT_LOG_ERROR, __VA_ARGS__)
#define ft_warn(ctx, ...) ft_log((ctx), FT_LOG_WARN, __VA_ARGS__)
#define ft_info(ctx, ...) ft_log((ctx), FT_LOG_INFO, __VA_ARGS__)
#define ft_dbg(ctx, ...) ft_log((ctx), FT_LOG_DEBUG, __VA_ARGS__)
#define ft_trace(ctx, ...) ft_log((ctx), FT_LOG_TRACE, __VA_ARGS__)

/*
 * Record what failed in ctx's detail string and return err, so that a
 * failure reads: return ft_fail(ctx, FT_E_NACK, "write at 0x%08x: NACK", a);
 * ctx may be NULL (pure parsers called without a context).
 */
int ft_fail(struct ft_ctx *ctx, int err, const char *fmt, ...) FT_PRINTF(3, 4);
/* The same for a failure at addr, which the detail names. */
int ft_fail_at(struct ft_ctx *ctx, int err, uint32_t addr, const char *fmt,
    ...) FT_PRINTF(4, 5);
/*
 * A failure that ends an operation says which operation and where, even
 * when the layer below knew only "port closed": the detail becomes
 * "what at 0xADDR: <detail>" unless it already names addr (ft_fail_at).
 */
int ft_fail_place(struct ft_ctx *ctx, int err, const char *what,
    uint32_t addr);
/* Add words to the end of the detail ("; erased but not written: ..."). */
int ft_fail_more(struct ft_ctx *ctx, int err, const char *fmt, ...)
    FT_PRINTF(3, 4);
/* Clear the detail string. */
void ft_clear_detail(struct ft_ctx *ctx);
void ft_progress(struct ft_ctx *ctx, enum ft_stage stage, uint64_t done,
    uint64_t total);
int ft_cancelled(struct ft_ctx *ctx);

/* Copy src into dst (size bytes, NUL included), cut if it is longer. */
void ft_strlcpy(char *dst, const char *src, size_t size);
/* The value of a hex digit, -1 when c is none. */
int ft_hex_digit(char c);

/* Monotonic clock and sleep (lib/util.c). */
uint64_t ft_now_us(void);
uint64_t ft_now_ms(void);
void ft_sleep_us(uint64_t us);

/*
 * Images (lib/image/).  An ft_image owns its segments and their data; it
 * is built only by the image builder (image/image.h).  A span borrows
 * segments from an image or a segment list and is never freed through;
 * a segment list owns its array of segments but borrows their data.
 * The core writes, compares and verifies spans.
 */
#define FT_IMAGE_NAME_MAX 256

struct ft_image {
	enum ft_image_format format;
	size_t nseg;
	struct ft_segment *seg;	/* sorted by (alt, addr), no overlaps */
	/*
	 * The USB IDs a .dfu file's suffix names, set by
	 * lib/image/dfu_file.c; the DFU transport's check_image compares
	 * them with the device before anything is erased.  name is the
	 * file's name for that message (truncated).
	 */
	int has_usb_ids;
	uint16_t usb_vid, usb_pid;	/* FT_USB_ANY_ID: any */
	char name[FT_IMAGE_NAME_MAX];
};

/*
 * A USB ID of 0xFFFF in a .dfu suffix accepts any device (DFU 1.1,
 * Appendix B); bcdDFUVersion 0x011A marks ST's DfuSe extension, in a
 * device's functional descriptor and in a .dfu suffix alike (UM0391).
 */
#define FT_USB_ANY_ID 0xFFFFu
#define FT_DFUSE_BCD 0x011Au

struct ft_span {
	const struct ft_segment *seg;	/* sorted by (alt, addr) */
	size_t nseg;
};

struct ft_seglist {
	struct ft_segment *seg;		/* malloc'ed; data borrowed */
	size_t nseg;
};

/* The whole image as a span. */
struct ft_span ft_image_span(const struct ft_image *img);
/* A segment list as a span. */
struct ft_span ft_seglist_span(const struct ft_seglist *list);
/* Free the list's array (never its data); the list becomes empty. */
void ft_seglist_free(struct ft_seglist *list);
/* Bytes of data in the span, and of it inside [addr, addr + len). */
uint64_t ft_span_bytes(struct ft_span span);
uint64_t ft_span_bytes_in(struct ft_span span, uint32_t addr, uint32_t len);

/* An erase unit of a layout, as the planner and the transports see it. */
struct ft_erase_unit {
	uint32_t index;		/* unit number counted from layout base */
	uint32_t addr;		/* first byte */
	uint32_t size;		/* bytes */
};

/* Big-endian helpers for protocol framing. */
static inline void
ft_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline uint32_t
ft_get_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
}

static inline uint32_t
ft_get_le32(const uint8_t *p)
{
	return ((uint32_t)p[3] << 24) | ((uint32_t)p[2] << 16) |
	    ((uint32_t)p[1] << 8) | p[0];
}

static inline void
ft_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif /* FT_INT_H */
