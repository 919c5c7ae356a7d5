/*
 * ft_int.h - internals shared by the library's modules and its unit tests.
 * Never included by cli/.
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
/* Clear the detail string. */
void ft_clear_detail(struct ft_ctx *ctx);
void ft_progress(struct ft_ctx *ctx, enum ft_stage stage, uint64_t done,
    uint64_t total);
int ft_cancelled(struct ft_ctx *ctx);

/* ft_serial_list() under other sysfs and /dev roots (tests). */
int ft_serial_list_at(struct ft_ctx *ctx, const char *sysroot,
    const char *devroot, struct ft_port_entry **out, size_t *count);

/* Monotonic clock and sleep (lib/util.c). */
uint64_t ft_now_us(void);
uint64_t ft_now_ms(void);
void ft_sleep_us(uint64_t us);

/* Image internals (lib/image/image.c). */
#define FT_IMAGE_NAME_MAX 256

struct ft_image {
	enum ft_image_format format;
	size_t nseg;
	struct ft_segment *seg;	/* sorted by (alt, addr), no overlaps */
	/*
	 * The USB IDs a .dfu file's suffix names (0xFFFF: any), set by
	 * lib/image/dfu_file.c; the DFU transport's check_image compares them
	 * with the device before anything is erased.  name is the file's
	 * name for that message (truncated).
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

/*
 * A .dfu file (DFU suffix, optional DfuSe prefix; lib/image/dfu_file.c) as an
 * image; a plain DFU payload lands at base.  FT_E_NOT_SUPPORTED ("no DFU
 * suffix") when buf has no suffix, FT_E_FORMAT when it is damaged.
 * Segments and their data are malloc'ed, freed by ft_image_free().
 */
int ft_dfu_image_parse(struct ft_ctx *ctx, const char *name,
    const uint8_t *buf, size_t len, uint32_t base, struct ft_image **out);

/* Erase planning (lib/core/plan.c): pure functions, no I/O. */
struct ft_erase_unit {
	uint32_t index;		/* unit number counted from layout base */
	uint32_t addr;		/* first byte */
	uint32_t size;		/* bytes */
};

/*
 * The units of layout that [addr, addr+len) touches, appended to *units
 * (grown with realloc) without duplicates, in ascending order.  Returns
 * FT_E_RANGE if any byte is outside the layout.
 */
int ft_plan_range(struct ft_ctx *ctx, const struct ft_layout *layout,
    uint32_t addr, uint32_t len, struct ft_erase_unit **units, size_t *n);
/* The units every segment of img touches. */
int ft_plan_image(struct ft_ctx *ctx, const struct ft_layout *layout,
    const struct ft_image *img, struct ft_erase_unit **units, size_t *n);
/*
 * out = the parts of img outside the given units (ascending, unique):
 * a new segment array pointing into img's data.  Free out->seg only.
 */
int ft_image_without_units(const struct ft_image *img,
    const struct ft_erase_unit *units, size_t n, struct ft_image *out);
/*
 * Whether one mass erase beats page erases: only on flash of small
 * uniform pages (ft_plan_mass_is_cheap), when at least 8 units need
 * erasing and the units whose contents must be rewritten afterwards
 * (kept, non-blank units) are at most an eighth of them.
 */
int ft_plan_mass_is_cheap(const struct ft_layout *flash);
int ft_plan_prefers_mass(const struct ft_layout *flash, size_t to_erase,
    size_t to_restore);
/* Bytes of img inside [addr, addr + len). */
uint64_t ft_image_bytes_in(const struct ft_image *img, uint32_t addr,
    uint32_t len);

/*
 * A transport: a const table of operations plus private state (dev->priv).
 * The core (lib/core/) owns chunking, alignment, retries, planning,
 * verify and progress; a transport owns only its wire protocol.
 *
 * Every operation returns 0 or a negative enum ft_err, and on failure
 * sets the detail string with ft_fail() naming the command and address.
 */
struct ft_dev;

struct ft_transport {
	const char *name;
	/*
	 * Reading back costs little next to programming (USB DFU uploads),
	 * so comparing every unit before erasing always pays.
	 */
	int read_is_cheap;
	/*
	 * Erase units per erase op, between which the core checks for an
	 * interrupt (0: 16).  1 where each unit is its own request anyway
	 * (DfuSe), so that Ctrl-C is honoured after the sector in progress.
	 */
	unsigned erase_batch_units;

	/*
	 * Claim the port or interface exclusively, sync with the bootloader
	 * and identify it: fill dev->info (pid, name, bl_version, commands,
	 * flash layout, chip) and dev->max_read, dev->max_write,
	 * dev->write_align.  Allocates dev->priv.  On failure everything is
	 * released again (close is not called).  Mandatory.
	 */
	int (*open)(struct ft_dev *dev, const struct ft_open_opts *opts);
	/* Restore the line or release the interface, free priv.  Mandatory. */
	void (*close)(struct ft_dev *dev);
	/* Read len <= dev->max_read bytes at addr.  Mandatory. */
	int (*read)(struct ft_dev *dev, uint32_t addr, uint8_t *buf,
	    uint32_t len);
	/*
	 * Program len <= dev->max_write bytes at addr; addr and len are
	 * multiples of dev->write_align and the range is erased.  Mandatory.
	 */
	int (*write)(struct ft_dev *dev, uint32_t addr, const uint8_t *buf,
	    uint32_t len);
	/*
	 * Erase the given units (ascending, unique).  The transport splits
	 * them into as many commands as its protocol needs and scales each
	 * command's timeout from the units' sizes.  Mandatory.
	 */
	int (*erase)(struct ft_dev *dev, const struct ft_erase_unit *units,
	    size_t n);
	/* Erase all of flash.  Optional (NULL: not supported). */
	int (*mass_erase)(struct ft_dev *dev);
	/* Device-side ft_crc32_stm of [addr, addr+len).  Optional. */
	int (*crc)(struct ft_dev *dev, uint32_t addr, uint32_t len,
	    uint32_t *out);
	/* Start code at addr.  Optional. */
	int (*go)(struct ft_dev *dev, uint32_t addr);
	/* Reset via RAM routine or protocol means.  Optional. */
	int (*reset)(struct ft_dev *dev);
	/* Protection commands; resync after the device resets.  Optional. */
	int (*protect)(struct ft_dev *dev, enum ft_protect_op op);
	/* Write-protect the given units.  Optional. */
	int (*write_protect)(struct ft_dev *dev,
	    const struct ft_erase_unit *units, size_t n);
	/*
	 * Images can name other memories of the device (DfuSe targets: alt
	 * settings).  alt_layout reports alt's layout and whether it can be
	 * erased, without switching; select_alt switches to it, updating
	 * dev->info.flash and dev->info.dfu_alt.  Optional (NULL: images
	 * that name an alt setting are refused).
	 */
	int (*alt_layout)(struct ft_dev *dev, int alt, struct ft_layout *out,
	    int *erasable);
	int (*select_alt)(struct ft_dev *dev, int alt);
	/*
	 * Is img meant for this device (a .dfu file's USB IDs)?  Called by
	 * the core before anything is erased; FT_E_INVALID naming the file
	 * and both IDs when not.  Optional (NULL: every image is).
	 */
	int (*check_image)(struct ft_dev *dev, const struct ft_image *img);
	/*
	 * Bring the link back to a known state after a failed block (NACK,
	 * timeout, garbled reply) so that the block can be retried.
	 * Optional (NULL: retry directly).
	 */
	int (*resync)(struct ft_dev *dev);
};

struct ft_dev {
	struct ft_ctx *ctx;
	const struct ft_transport *tr;
	void *priv;
	struct ft_devinfo info;
	unsigned retries;
	uint32_t max_read;	/* bytes per read op */
	uint32_t max_write;	/* bytes per write op */
	uint32_t write_align;	/* addr/len granularity of write op */
	/*
	 * Plain DFU 1.1: the image goes down as one run from the layout
	 * base, so nothing can be compared first or skipped.
	 */
	int sequential_write;
	/* Where the last verify found flash and image to differ. */
	uint32_t mismatch_addr;
};

extern const struct ft_transport ft_transport_usart;
extern const struct ft_transport ft_transport_dfu;

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
