/*
 * transport.h - the contract between the core (lib/core/) and a transport
 * wing (lib/usart/, lib/dfu/): the operations table, the device handle
 * they share, and the registry.  A new transport is one more wing with
 * one const ft_transport and one line in the registry (core/open.c).
 */
#ifndef FT_TRANSPORT_H
#define FT_TRANSPORT_H

#include "ft_int.h"

/*
 * A transport: a const table of operations plus private state (dev->priv).
 * The core (lib/core/) owns chunking, alignment, retries, planning,
 * verify and progress; a transport owns only its wire protocol.
 *
 * Every operation returns 0 or a negative enum ft_err, and on failure
 * sets the detail string with ft_fail_at() (or ft_fail() where there is
 * no address) naming the command and address.
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
	 * Erase only marks units; each is erased when its first block
	 * arrives (Katapult).  After a stop the units not reached keep
	 * their old contents, and the failure message says so.
	 */
	int erase_deferred;

	/*
	 * Bytes of private state: the core allocates them zeroed as
	 * dev->priv before open and frees them after close.
	 */
	size_t priv_size;

	/*
	 * Claim the port or interface exclusively, sync with the bootloader
	 * and identify it: fill dev->info (pid, name, bl_version, commands,
	 * flash layout, chip) and dev->max_read, dev->max_write,
	 * dev->write_align.  Its first step makes priv safe for close
	 * (nothing held), because the core calls close after every open,
	 * failed or not.  Mandatory.
	 */
	int (*open)(struct ft_dev *dev, const struct ft_open_opts *opts);
	/*
	 * Restore the line or release the interface: whatever open got
	 * before it returned, success or not.  Never frees priv.  Mandatory.
	 */
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
	/*
	 * The chip reset itself after a write that reloads its options
	 * (option bytes): wait for the ROM and talk to it again.  Optional
	 * (NULL: the write op follows such a reset itself, as DfuSe does).
	 */
	int (*reconnect)(struct ft_dev *dev);
};

struct ft_dev {
	struct ft_ctx *ctx;
	const struct ft_transport *tr;
	void *priv;
	struct ft_devinfo info;
	unsigned retries;	/* attempts at one stubborn thing (repair,
				 * confirm a difference, a transport's own
				 * request): FT_DEFAULT_RETRIES */
	unsigned fail_limit;	/* failures in a row before giving up */
	unsigned fail_streak;	/* failures since the last success */
	uint64_t progress_ms;	/* when a block last succeeded */
	/*
	 * The last FT_RATE_WINDOW frames, newest in bit 0, a set bit for a
	 * failure: a line that loses most frames is given up on even while
	 * some still go through.
	 */
	uint64_t recent_fails;
	unsigned recent_frames;	/* frames seen, up to FT_RATE_WINDOW */
	int looking;		/* a success now is not one for the rate */
	/*
	 * Blocks to go in short frames after a failure: on a bad line a
	 * short frame gets through where a long one would keep failing.
	 */
	unsigned short_frames;
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
extern const struct ft_transport ft_transport_katapult;

/*
 * Open the core on any transport (ft_open picks one from the registry):
 * what unit tests use to hand the core a fake transport.
 */
int ft_open_transport(struct ft_ctx *ctx, const struct ft_transport *tr,
    const struct ft_open_opts *opts, struct ft_dev **out);

#endif /* FT_TRANSPORT_H */
