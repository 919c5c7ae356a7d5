/*
 * core/core.c - the transport-independent half of every operation: opening a
 * transport, chunking and alignment, the erase plan, skipping blank
 * blocks, retries after a resync, verify, progress and cancellation.
 *
 * Invariants:
 *  - A transport op only ever sees ranges it declared it can take:
 *    reads of at most max_read bytes, writes of at most max_write bytes
 *    aligned to write_align, erase units in ascending order.
 *  - Nothing is erased before every segment of the image has been checked
 *    against the flash layout.
 *  - Every loop over blocks checks the cancel callback between blocks, so
 *    an interrupt stops at a block boundary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ft_int.h"

/*
 * Erase units per erase op by default: small enough for steady progress
 * reports.
 */
#define ERASE_BATCH_UNITS 16u

/* What erased flash reads as: 0xFF, except on L0/L1 (0x00). */
static uint8_t
erased_byte(const struct ft_dev *dev)
{
	const struct ft_chip *c = dev->info.chip;

	return c != NULL && (c->quirks & FT_Q_ERASED_ZERO) ? 0x00 : 0xFF;
}

static const struct ft_transport *
transport_for(enum ft_transport_kind kind)
{
	switch (kind) {
	case FT_TRANSPORT_USART:
		return &ft_transport_usart;
	case FT_TRANSPORT_DFU:
		return &ft_transport_dfu;
	}
	return NULL;
}

int
ft_open(struct ft_ctx *ctx, const struct ft_open_opts *opts,
    struct ft_dev **out)
{
	const struct ft_transport *tr;
	struct ft_dev *dev;
	int rc;

	*out = NULL;
	ft_clear_detail(ctx);
	tr = transport_for(opts->transport);
	if (tr == NULL)
		return ft_fail(ctx, FT_E_INVALID, "unknown transport %d",
		    (int)opts->transport);
	/* Mandatory operations; a table without them is a programming error. */
	if (tr->open == NULL || tr->close == NULL || tr->read == NULL ||
	    tr->write == NULL || tr->erase == NULL)
		return ft_fail(ctx, FT_E_NOT_SUPPORTED,
		    "transport %s lacks a mandatory operation", tr->name);
	dev = calloc(1, sizeof(*dev));
	if (dev == NULL)
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	dev->ctx = ctx;
	dev->tr = tr;
	dev->retries = opts->retries != 0 ? opts->retries :
	    FT_DEFAULT_RETRIES;
	rc = tr->open(dev, opts);
	if (rc < 0) {
		free(dev);
		return rc;
	}
	if (dev->max_read == 0 || dev->write_align == 0 ||
	    dev->max_write < dev->write_align) {
		tr->close(dev);
		free(dev);
		return ft_fail(ctx, FT_E_PROTOCOL,
		    "transport %s reported unusable block sizes", tr->name);
	}
	*out = dev;
	return 0;
}

const struct ft_devinfo *
ft_dev_info(const struct ft_dev *dev)
{
	return &dev->info;
}

void
ft_close(struct ft_dev *dev)
{
	if (dev == NULL)
		return;
	dev->tr->close(dev);
	free(dev);
}

static int
retryable(int rc)
{
	return rc == FT_E_NACK || rc == FT_E_TIMEOUT || rc == FT_E_PROTOCOL;
}

static int
check_cancel(struct ft_dev *dev, const char *what, uint32_t addr)
{
	if (!ft_cancelled(dev->ctx))
		return 0;
	return ft_fail(dev->ctx, FT_E_INTERRUPTED,
	    "%s interrupted before 0x%08x", what, addr);
}

/*
 * A failure that ends the operation says which operation and where, even
 * when the layer below knew only "port closed" or "device gone".
 */
static int
with_place(struct ft_dev *dev, int rc, const char *what, uint32_t addr)
{
	char why[FT_DETAIL_MAX], place[16];

	snprintf(place, sizeof(place), "0x%08x", addr);
	if (strstr(dev->ctx->detail, place) != NULL)
		return rc;
	snprintf(why, sizeof(why), "%s", dev->ctx->detail);
	return ft_fail(dev->ctx, rc, "%s at %s: %s", what, place,
	    why[0] != '\0' ? why : ft_strerror(rc));
}

/*
 * After a failed attempt: log it, resync the link, and tell whether the
 * caller may try again.  Returns 0 to retry or the error to give up with.
 */
static int
prepare_retry(struct ft_dev *dev, int rc, unsigned attempt, const char *what,
    uint32_t addr)
{
	char why[FT_DETAIL_MAX];
	int r;

	if (!retryable(rc))
		return with_place(dev, rc, what, addr);
	/* A retry can wait long on a dead line: a signal stops it here. */
	if (ft_cancelled(dev->ctx))
		return check_cancel(dev, what, addr);
	if (attempt >= dev->retries) {
		snprintf(why, sizeof(why), "%s", dev->ctx->detail);
		return ft_fail(dev->ctx, rc, "%s (gave up after %u retries)",
		    why, dev->retries);
	}
	ft_warn(dev->ctx, "%s at 0x%08x failed (%s); resyncing and retrying",
	    what, addr, dev->ctx->detail);
	if (dev->tr->resync != NULL) {
		r = dev->tr->resync(dev);
		/* A signal during the resync stops here, as between blocks. */
		if (ft_cancelled(dev->ctx))
			return check_cancel(dev, what, addr);
		if (r < 0 && !retryable(r))
			return with_place(dev, r, what, addr);
	}
	return 0;
}

/* A serial read that keeps failing is not split below this. */
#define READ_SPLIT_MIN_BYTES 32u

static int
read_block(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	unsigned attempt;
	int rc;

	for (attempt = 0;; attempt++) {
		rc = dev->tr->read(dev, addr, buf, len);
		if (rc >= 0)
			return 0;
		rc = prepare_retry(dev, rc, attempt, "read", addr);
		if (rc < 0)
			return rc;
		/*
		 * On a serial line the chance that a reply is hit grows with
		 * its length (Read Memory data has no checksum, only parity
		 * per byte): after a failure, read a long block in halves,
		 * each with its own retries.
		 */
		if (!dev->tr->read_is_cheap &&
		    len >= 2 * READ_SPLIT_MIN_BYTES) {
			uint32_t half = len / 2;

			rc = read_block(dev, addr, buf, half);
			if (rc == 0)
				rc = read_block(dev, addr + half, buf + half,
				    len - half);
			return rc;
		}
	}
}

int
ft_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	uint64_t done = 0;
	int rc;

	ft_clear_detail(dev->ctx);
	if ((uint64_t)addr + len > (uint64_t)UINT32_MAX + 1)
		return ft_fail(dev->ctx, FT_E_RANGE,
		    "read 0x%08x+%u runs past 4 GiB", addr, len);
	ft_progress(dev->ctx, FT_STAGE_READ, 0, len);
	while (done < len) {
		uint32_t a = addr + (uint32_t)done;
		/* Keep reads aligned to max_read after the first one. */
		uint32_t n = dev->max_read - (a % dev->max_read);

		if (n > len - done)
			n = (uint32_t)(len - done);
		rc = check_cancel(dev, "read", a);
		if (rc == 0)
			rc = read_block(dev, a, buf + done, n);
		if (rc < 0)
			return rc;
		done += n;
		ft_progress(dev->ctx, FT_STAGE_READ, done, len);
	}
	return 0;
}

static uint64_t
units_bytes(const struct ft_erase_unit *u, size_t n)
{
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < n; i++)
		total += u[i].size;
	return total;
}

/* *erased (may be NULL) counts the units erased, also after a failure. */
static int
erase_units(struct ft_dev *dev, const struct ft_erase_unit *units, size_t n,
    size_t *erased)
{
	uint64_t total = units_bytes(units, n), done = 0;
	size_t i = 0, dummy, per_op = dev->tr->erase_batch_units > 0 ?
	    dev->tr->erase_batch_units : ERASE_BATCH_UNITS;
	int rc;

	if (erased == NULL)
		erased = &dummy;
	*erased = 0;
	ft_progress(dev->ctx, FT_STAGE_ERASE, 0, total);
	while (i < n) {
		size_t batch = n - i < per_op ? n - i : per_op;
		unsigned attempt;

		rc = check_cancel(dev, "erase", units[i].addr);
		if (rc < 0)
			return rc;
		for (attempt = 0;; attempt++) {
			rc = dev->tr->erase(dev, &units[i], batch);
			if (rc >= 0)
				break;
			rc = prepare_retry(dev, rc, attempt, "erase",
			    units[i].addr);
			if (rc < 0)
				return rc;
		}
		done += units_bytes(&units[i], batch);
		i += batch;
		*erased = i;
		ft_progress(dev->ctx, FT_STAGE_ERASE, done, total);
	}
	return 0;
}

/* All erase units of the flash, for chips without a mass erase. */
static int
all_units(struct ft_dev *dev, struct ft_erase_unit **units, size_t *n)
{
	const struct ft_layout *l = &dev->info.flash;
	uint64_t size = ft_layout_size(l);
	uint32_t half = 0x80000000u;
	int rc;

	if (size == 0)
		return ft_fail(dev->ctx, FT_E_INVALID, "the flash layout is "
		    "empty");
	if (size <= UINT32_MAX)
		return ft_plan_range(dev->ctx, l, l->base, (uint32_t)size,
		    units, n);
	/* All 4 GiB from address 0: too long for one 32-bit length. */
	rc = ft_plan_range(dev->ctx, l, l->base, half, units, n);
	if (rc == 0)
		rc = ft_plan_range(dev->ctx, l, l->base + half,
		    (uint32_t)(size - half), units, n);
	return rc;
}

static int
mass_erase(struct ft_dev *dev, uint32_t *units_erased)
{
	struct ft_erase_unit *units = NULL;
	size_t n = 0;
	uint64_t size = ft_layout_size(&dev->info.flash);
	unsigned attempt;
	int rc = FT_E_NOT_SUPPORTED;

	if (dev->tr->mass_erase != NULL) {
		ft_progress(dev->ctx, FT_STAGE_ERASE, 0, size);
		for (attempt = 0;; attempt++) {
			rc = dev->tr->mass_erase(dev);
			if (rc >= 0) {
				ft_progress(dev->ctx, FT_STAGE_ERASE, size,
				    size);
				*units_erased = ft_layout_units(
				    &dev->info.flash);
				return 0;
			}
			rc = prepare_retry(dev, rc, attempt, "mass erase",
			    dev->info.flash.base);
			if (rc < 0)
				break;
		}
	}
	if (rc != FT_E_NOT_SUPPORTED)
		return rc;
	/* No mass erase on this part (L0/L1): erase every unit instead. */
	ft_info(dev->ctx, "no mass erase on this device: erasing every page");
	rc = all_units(dev, &units, &n);
	if (rc == 0)
		rc = erase_units(dev, units, n, NULL);
	if (rc == 0)
		*units_erased = (uint32_t)n;
	free(units);
	return rc;
}

int
ft_mass_erase(struct ft_dev *dev)
{
	uint32_t n;

	ft_clear_detail(dev->ctx);
	return mass_erase(dev, &n);
}

int
ft_erase(struct ft_dev *dev, uint32_t addr, uint32_t len)
{
	struct ft_erase_unit *units = NULL;
	size_t n = 0;
	int rc;

	ft_clear_detail(dev->ctx);
	if (len == 0)
		return ft_fail(dev->ctx, FT_E_INVALID, "erase: empty range");
	rc = ft_plan_range(dev->ctx, &dev->info.flash, addr, len, &units, &n);
	if (rc == 0 && (units[0].addr != addr ||
	    (uint64_t)units[n - 1].addr + units[n - 1].size !=
	    (uint64_t)addr + len))
		rc = ft_fail(dev->ctx, FT_E_INVALID,
		    "erase 0x%08x-0x%08llx is not page aligned: it would "
		    "erase 0x%08x-0x%08llx", addr,
		    (unsigned long long)addr + len - 1, units[0].addr,
		    (unsigned long long)units[n - 1].addr +
		    units[n - 1].size - 1);
	if (rc == 0)
		rc = erase_units(dev, units, n, NULL);
	free(units);
	return rc;
}

static int
all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/*
 * Fill buf with the image's bytes for [start, start+size), pad where the
 * image has none.  Returns 1 and the data extent [*first, *last] when any
 * byte of the window belongs to the image, else 0 and *next_addr = the
 * next image address after the window (or 0 when there is none).
 */
static int
fill_window(const struct ft_image *img, uint32_t start, uint32_t size,
    uint8_t pad, uint8_t *buf, uint32_t *first, uint32_t *last,
    uint64_t *next_addr)
{
	uint64_t end = (uint64_t)start + size;
	int any = 0;
	size_t i;

	memset(buf, pad, size);
	*next_addr = 0;
	for (i = 0; i < img->nseg; i++) {
		const struct ft_segment *s = &img->seg[i];
		uint64_t s_end = (uint64_t)s->addr + s->len;
		uint64_t lo, hi;

		if (s_end <= start)
			continue;
		if (s->addr >= end) {
			if (*next_addr == 0 || s->addr < *next_addr)
				*next_addr = s->addr;
			continue;
		}
		lo = s->addr > start ? s->addr : start;
		hi = s_end < end ? s_end : end;
		memcpy(buf + (lo - start), s->data + (lo - s->addr),
		    (size_t)(hi - lo));
		if (!any || lo - start < *first)
			*first = (uint32_t)(lo - start);
		if (!any || hi - 1 - start > *last)
			*last = (uint32_t)(hi - 1 - start);
		any = 1;
	}
	return any;
}

/*
 * Bytes per read or write frame once the line has garbled one: on a bad
 * line (0.1% of bytes corrupted) a 256-byte frame is hit 23% of the
 * time, a 64-byte one 6%, so the short frames get through where retrying
 * the long one would use up the retries.
 */
#define SHORT_FRAME_BYTES 64u

static uint32_t first_difference(const uint8_t *a, const uint8_t *b,
    uint32_t n);

/*
 * Does the flash at [addr, addr+len) differ from want?  0: it holds want;
 * 1: it differs at addr + *at (buf holds what was read), negative: the
 * read failed.  Read Memory data carries no checksum, so a difference
 * may be the line's: it counts when every read in short frames shows it,
 * or at once when the bytes read are erased (noise never makes a block
 * of random data read as blank).
 */
static int
flash_differs(struct ft_dev *dev, uint32_t addr, const uint8_t *want,
    uint32_t len, uint8_t *buf, uint32_t *at)
{
	uint32_t off = 0, n, k;
	unsigned again;
	int rc;

	while (off < len) {
		n = len - off < SHORT_FRAME_BYTES ? len - off :
		    SHORT_FRAME_BYTES;
		if (n > dev->max_read)
			n = dev->max_read;
		k = n;
		for (again = 0; again <= dev->retries; again++) {
			rc = read_block(dev, addr + off, buf + off, n);
			if (rc < 0)
				return rc;
			k = first_difference(buf + off, want + off, n);
			if (k == n || all_bytes(buf + off, n,
			    erased_byte(dev)))
				break;
		}
		if (k < n) {
			*at = off + k;
			return 1;
		}
		off += n;
	}
	return 0;
}

/*
 * A failed write: send the block again in short frames.  The failed
 * attempt may have programmed a piece already (a lost final ACK), and
 * programming twice fails on most STM32 flash, so each piece is looked
 * at first.  A piece whose read fails is written regardless; verify has
 * the last word.
 */
static int
write_piece(struct ft_dev *dev, uint32_t addr, const uint8_t *data,
    uint32_t len, uint8_t *scratch)
{
	unsigned attempt;
	uint32_t at;
	int rc;

	for (attempt = 1;; attempt++) {
		if (flash_differs(dev, addr, data, len, scratch, &at) == 0)
			return 0;
		rc = check_cancel(dev, "write", addr);
		if (rc < 0)
			return rc;
		rc = dev->tr->write(dev, addr, data, len);
		if (rc >= 0)
			return 0;
		rc = prepare_retry(dev, rc, attempt, "write", addr);
		if (rc < 0)
			return rc;
	}
}

static int
write_block(struct ft_dev *dev, uint32_t addr, const uint8_t *data,
    uint32_t len, uint8_t *scratch)
{
	uint32_t piece = SHORT_FRAME_BYTES - SHORT_FRAME_BYTES %
	    dev->write_align, off, n;
	int rc;

	rc = dev->tr->write(dev, addr, data, len);
	if (rc >= 0)
		return 0;
	rc = prepare_retry(dev, rc, 0, "write", addr);
	if (rc < 0)
		return rc;
	if (piece == 0)
		piece = dev->write_align;
	for (off = 0; off < len; off += n) {
		n = len - off < piece ? len - off : piece;
		rc = write_piece(dev, addr + off, data + off, n,
		    scratch + off);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static uint32_t
align_down(uint32_t v, uint32_t a)
{
	return v - v % a;
}

/*
 * Count the erase units a written block lands in, once each: blocks go
 * in ascending order, so a unit is new when its index passes *last.
 */
static void
count_units(const struct ft_dev *dev, uint32_t addr, uint32_t len,
    int64_t *last, struct ft_write_stats *st)
{
	uint32_t first_idx, last_idx;

	if (ft_layout_find(&dev->info.flash, addr, &first_idx, NULL,
	    NULL) != 0 || ft_layout_find(&dev->info.flash, addr + len - 1,
	    &last_idx, NULL, NULL) != 0)
		return;
	if ((int64_t)first_idx <= *last)
		first_idx = (uint32_t)(*last + 1);
	if (last_idx >= first_idx)
		st->units_written += last_idx - first_idx + 1;
	if ((int64_t)last_idx > *last)
		*last = last_idx;
}

/*
 * Walk the image in write blocks; write every block that is not blank.
 * After a failure *stop is the address of the first block not known to
 * be written (blocks go in ascending order).
 */
static int
write_image(struct ft_dev *dev, const struct ft_image *img, int skip_blank,
    struct ft_write_stats *st, uint32_t *stop)
{
	uint32_t block = align_down(dev->max_write, dev->write_align);
	uint64_t total = ft_image_bytes(img), done = 0;
	uint8_t *buf, *scratch;
	uint8_t erased = erased_byte(dev);
	uint64_t a;
	int64_t last_unit = -1;
	int rc = 0;

	if (img->nseg == 0)
		return 0;
	buf = malloc(block);
	scratch = malloc(block);
	if (buf == NULL || scratch == NULL) {
		free(buf);
		free(scratch);
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	}
	ft_progress(dev->ctx, FT_STAGE_WRITE, 0, total);
	a = align_down(img->seg[0].addr, block);
	*stop = (uint32_t)a;
	while (rc == 0) {
		uint32_t first = 0, last = 0, wstart, wlen;
		uint64_t next;

		if (!fill_window(img, (uint32_t)a, block, erased, buf, &first,
		    &last, &next)) {
			if (next == 0)
				break;
			a = align_down((uint32_t)next, block);
			continue;
		}
		/* Trim the window to the aligned extent of the data. */
		wstart = align_down(first, dev->write_align);
		wlen = align_down(last, dev->write_align) +
		    dev->write_align - wstart;
		*stop = (uint32_t)a + wstart;
		rc = check_cancel(dev, "write", (uint32_t)a + wstart);
		if (rc < 0)
			break;
		if (skip_blank && all_bytes(buf + wstart, wlen, erased)) {
			st->bytes_skipped += wlen;
		} else {
			rc = write_block(dev, (uint32_t)a + wstart,
			    buf + wstart, wlen, scratch);
			st->bytes_written += wlen;
			count_units(dev, (uint32_t)a + wstart, wlen,
			    &last_unit, st);
		}
		done += last - first + 1;
		if (done > total)
			done = total;
		ft_progress(dev->ctx, FT_STAGE_WRITE, done, total);
		a += block;
		if (a > UINT32_MAX)
			break;
	}
	free(buf);
	free(scratch);
	return rc;
}

/*
 * Images may name several memories (DfuSe targets on alt settings).  A
 * group is a run of segments for one memory; segments are sorted by
 * (alt, addr), so each group is a contiguous slice of the image.
 */
struct mem_group {
	int alt;		/* -1: the memory opened */
	struct ft_image view;	/* the group's segments */
	struct ft_layout layout;
	int erasable;
};

static int
same_memory(const struct ft_dev *dev, int alt)
{
	return alt < 0 || alt == dev->info.dfu_alt;
}

/*
 * Split img into memory groups and check every segment against its
 * memory's layout: all before anything is erased.
 */
static int
plan_groups(struct ft_dev *dev, const struct ft_image *img,
    struct mem_group **out, size_t *ngroups)
{
	struct mem_group *g = NULL;
	size_t n = 0, i, k;
	int rc = 0;

	*out = NULL;
	*ngroups = 0;
	if (img->nseg == 0)
		return ft_fail(dev->ctx, FT_E_INVALID, "image is empty");
	if (dev->tr->check_image != NULL) {
		rc = dev->tr->check_image(dev, img);
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < img->nseg && rc == 0; i = k) {
		struct mem_group *grown, *cur;
		uint64_t end;
		size_t j;

		for (k = i; k < img->nseg && img->seg[k].alt == img->seg[i].alt;
		    k++)
			;
		grown = realloc(g, (n + 1) * sizeof(*g));
		if (grown == NULL) {
			rc = ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
			break;
		}
		g = grown;
		cur = &g[n++];
		cur->alt = img->seg[i].alt;
		cur->view.format = img->format;
		cur->view.nseg = k - i;
		cur->view.seg = &img->seg[i];
		cur->layout = dev->info.flash;
		cur->erasable = 1;
		if (!same_memory(dev, cur->alt)) {
			if (dev->tr->alt_layout == NULL) {
				rc = ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
				    "image targets alt setting %d, which %s "
				    "devices do not have", cur->alt,
				    dev->tr->name);
				break;
			}
			rc = dev->tr->alt_layout(dev, cur->alt, &cur->layout,
			    &cur->erasable);
			if (rc < 0)
				break;
		}
		end = (uint64_t)cur->layout.base +
		    ft_layout_size(&cur->layout);
		for (j = 0; j < cur->view.nseg; j++) {
			const struct ft_segment *sg = &cur->view.seg[j];

			if (sg->addr < cur->layout.base ||
			    (uint64_t)sg->addr + sg->len > end) {
				rc = ft_fail(dev->ctx, FT_E_RANGE,
				    "image data at 0x%08x-0x%08llx lies "
				    "outside %s 0x%08x-0x%08llx (%llu KiB)",
				    sg->addr, (unsigned long long)sg->addr +
				    sg->len - 1, same_memory(dev, cur->alt) ?
				    "flash" : "the alt setting's memory",
				    cur->layout.base,
				    (unsigned long long)end - 1,
				    (unsigned long long)ft_layout_size(
				    &cur->layout) / 1024);
				break;
			}
		}
	}
	if (rc < 0) {
		free(g);
		return rc;
	}
	*out = g;
	*ngroups = n;
	return 0;
}

/* Switch to the group's memory; *switched tells whether we moved. */
static int
enter_group(struct ft_dev *dev, const struct mem_group *g, int *switched)
{
	if (same_memory(dev, g->alt))
		return 0;
	*switched = 1;
	return dev->tr->select_alt(dev, g->alt);
}

static int
verify_segments(struct ft_dev *dev, const struct ft_image *img,
    uint64_t *done, uint64_t total);

static int crc_block(struct ft_dev *dev, uint32_t addr, uint32_t len,
    uint32_t *out);

enum unit_state {
	UNIT_DIFFERENT,		/* erase and write */
	UNIT_BLANK,		/* write without erasing */
	UNIT_UNCHANGED,		/* already holds the image: leave alone */
};

/* The device can checksum ranges, so comparing costs no reading. */
static int
can_checksum(const struct ft_dev *dev)
{
	return dev->tr->crc != NULL && dev->info.has_checksum;
}

/*
 * Compare one erase unit with the image by device checksums: the image's
 * pieces inside the unit, then the whole unit against blank.  Pieces
 * that are not word aligned cannot be checksummed: FT_E_NOT_SUPPORTED.
 */
static int
compare_unit_by_crc(struct ft_dev *dev, const struct ft_image *view,
    const struct ft_erase_unit *u, uint8_t erased, enum unit_state *state)
{
	uint64_t end = (uint64_t)u->addr + u->size;
	uint8_t *blank;
	uint32_t got, want;
	int all_equal = 1;
	size_t i;
	int rc;

	for (i = 0; i < view->nseg && all_equal; i++) {
		const struct ft_segment *sg = &view->seg[i];
		uint64_t lo = sg->addr > u->addr ? sg->addr : u->addr;
		uint64_t hi = (uint64_t)sg->addr + sg->len;

		if (hi > end)
			hi = end;
		if (hi <= lo)
			continue;
		if (lo % 4 != 0 || hi % 4 != 0)
			return FT_E_NOT_SUPPORTED;
		rc = crc_block(dev, (uint32_t)lo, (uint32_t)(hi - lo), &got);
		if (rc < 0)
			return rc;
		want = ft_crc32_stm(FT_CRC32_STM_INIT,
		    sg->data + (lo - sg->addr), (size_t)(hi - lo));
		all_equal = got == want;
	}
	if (all_equal) {
		*state = UNIT_UNCHANGED;
		return 0;
	}
	rc = crc_block(dev, u->addr, u->size, &got);
	if (rc < 0)
		return rc;
	blank = malloc(u->size);
	if (blank == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	memset(blank, erased, u->size);
	want = ft_crc32_stm(FT_CRC32_STM_INIT, blank, u->size);
	free(blank);
	*state = got == want ? UNIT_BLANK : UNIT_DIFFERENT;
	return 0;
}

/* Compare one erase unit, whose flash contents are in buf, with the image. */
static void
compare_unit_data(const struct ft_image *view, const struct ft_erase_unit *u,
    const uint8_t *buf, uint8_t erased, enum unit_state *state)
{
	int all_equal = 1;
	size_t i;

	for (i = 0; i < view->nseg && all_equal; i++) {
		const struct ft_segment *sg = &view->seg[i];
		uint64_t lo = sg->addr > u->addr ? sg->addr : u->addr;
		uint64_t hi = (uint64_t)sg->addr + sg->len;

		if (hi > (uint64_t)u->addr + u->size)
			hi = (uint64_t)u->addr + u->size;
		if (hi > lo)
			all_equal = memcmp(buf + (lo - u->addr),
			    sg->data + (lo - sg->addr), (size_t)(hi - lo)) == 0;
	}
	*state = all_equal ? UNIT_UNCHANGED :
	    all_bytes(buf, u->size, erased) ? UNIT_BLANK : UNIT_DIFFERENT;
}

/*
 * Over a slow line, read a unit block by block and stop at the first
 * block that proves it must be erased (it differs from the image and is
 * not blank): a new image then costs one block, not the whole unit.
 * With probe, the first read is short: a new image nearly always
 * differs from the old within its first bytes, and 16 bytes cost their
 * round trips plus 2 ms on the wire where a 256-byte block costs 25 ms
 * (115200 baud).  When they match, the reads go on in whole blocks.  Only
 * the first unit is probed: after a unit that held the image, the next
 * one most likely does too, and a probe would only add a round trip.
 */
#define COMPARE_PROBE_BYTES 16u

static int
compare_unit_by_reading(struct ft_dev *dev, const struct ft_image *view,
    const struct ft_erase_unit *u, uint8_t erased, int probe,
    enum unit_state *state)
{
	uint8_t *buf = malloc(u->size);
	struct ft_erase_unit part;
	uint32_t off = 0;
	int rc = 0;

	if (buf == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	while (off < u->size && rc == 0) {
		uint32_t n = dev->max_read - ((u->addr + off) % dev->max_read);

		if (n > u->size - off)
			n = u->size - off;
		if (probe && off == 0 && n > COMPARE_PROBE_BYTES)
			n = COMPARE_PROBE_BYTES;
		rc = check_cancel(dev, "compare", u->addr + off);
		if (rc == 0)
			rc = read_block(dev, u->addr + off, buf + off, n);
		if (rc < 0)
			break;
		part.addr = u->addr + off;
		part.size = n;
		compare_unit_data(view, &part, buf + off, erased, state);
		off += n;
		if (*state == UNIT_DIFFERENT)
			break;
	}
	if (rc == 0 && off == u->size)
		compare_unit_data(view, u, buf, erased, state);
	free(buf);
	return rc;
}

/* Read [addr, addr+len) in max_read blocks aligned as ft_read aligns. */
static int
read_span(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	uint32_t off = 0;
	int rc = 0;

	while (off < len && rc == 0) {
		uint32_t a = addr + off;
		uint32_t n = dev->max_read - (a % dev->max_read);

		if (n > len - off)
			n = len - off;
		rc = check_cancel(dev, "compare", a);
		if (rc == 0)
			rc = read_block(dev, a, buf + off, n);
		off += n;
	}
	return rc;
}

/*
 * Where reading is cheap (USB), units are read in windows of up to
 * COMPARE_WINDOW_BYTES of adjacent units: one long read keeps a DfuSe
 * upload in one run (one Set Address) where unit-sized reads shorter than
 * a transfer would each need their own.
 */
#define COMPARE_WINDOW_BYTES (64u * 1024)

struct compare_window {
	uint8_t *buf;
	uint32_t addr;		/* flash address of buf[0] */
	uint32_t len;		/* bytes held */
};

/* Make the window hold units[i] (and what follows it, while it fits). */
static int
window_fill(struct ft_dev *dev, struct compare_window *w,
    const struct ft_erase_unit *units, size_t n, size_t i)
{
	uint64_t end = (uint64_t)units[i].addr + units[i].size;
	size_t k;
	uint8_t *grown;

	if (w->buf != NULL && units[i].addr >= w->addr &&
	    end <= (uint64_t)w->addr + w->len)
		return 0;
	for (k = i + 1; k < n && units[k].addr == end &&
	    end + units[k].size - units[i].addr <= COMPARE_WINDOW_BYTES; k++)
		end += units[k].size;
	w->addr = units[i].addr;
	w->len = (uint32_t)(end - units[i].addr);
	grown = realloc(w->buf, w->len);
	if (grown == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	w->buf = grown;
	return read_span(dev, w->addr, w->buf, w->len);
}

/*
 * Read before erase.  Where comparing is cheap (device checksums, USB
 * uploads) every unit is compared.  Where it means reading the unit over
 * a slow line, comparing goes on only while the units already hold the
 * image (a re-flash, where it saves the write and the verify); the first
 * unit that does not is a new image or a blank chip, where reading the
 * rest costs more than erasing it.
 */
static int
classify_units(struct ft_dev *dev, const struct ft_image *view,
    const struct ft_erase_unit *units, size_t n, enum unit_state *state,
    int *compared)
{
	uint8_t erased = erased_byte(dev);
	int cheap = dev->tr->read_is_cheap || can_checksum(dev);
	int comparing = 1;
	uint64_t total = units_bytes(units, n), done = 0;
	struct compare_window w = { NULL, 0, 0 };
	size_t i;
	int rc = 0;

	*compared = comparing && cheap;
	for (i = 0; i < n; i++) {
		state[i] = UNIT_DIFFERENT;
		if (!comparing)
			continue;
		rc = FT_E_NOT_SUPPORTED;
		if (can_checksum(dev))
			rc = compare_unit_by_crc(dev, view, &units[i], erased,
			    &state[i]);
		if (rc == FT_E_NOT_SUPPORTED && !dev->tr->read_is_cheap) {
			rc = compare_unit_by_reading(dev, view, &units[i],
			    erased, i == 0, &state[i]);
		} else if (rc == FT_E_NOT_SUPPORTED) {
			rc = window_fill(dev, &w, units, n, i);
			if (rc == 0)
				compare_unit_data(view, &units[i],
				    w.buf + (units[i].addr - w.addr), erased,
				    &state[i]);
		}
		if (rc == FT_E_NOT_SUPPORTED) {
			/* Cannot read before writing (plain DFU): write all. */
			state[i] = UNIT_DIFFERENT;
			ft_clear_detail(dev->ctx);
			free(w.buf);
			*compared = 0;
			return 0;
		}
		if (rc < 0) {
			free(w.buf);
			return rc;
		}
		done += units[i].size;
		ft_progress(dev->ctx, FT_STAGE_READ, done, total);
		if (state[i] != UNIT_UNCHANGED && !cheap)
			comparing = 0;
	}
	free(w.buf);
	return 0;
}

/*
 * After a write that stopped part way (interrupted, or failed for good):
 * add to the detail which erased ranges hold neither the old contents nor
 * the image yet, so that the user knows the chip will not boot as it is
 * and what a rerun must fill.  Units are written in ascending order, so
 * those are the erased units from stop on (a unit straddling stop from
 * stop on).  n erased units; stop 0: nothing was written yet.
 */
#define UNWRITTEN_LIST_MAX 200

static void copy_truncated(char *dst, size_t size, const char *src);

static void
note_unwritten(struct ft_dev *dev, int rc, const struct ft_erase_unit *u,
    size_t n, uint32_t stop)
{
	char list[UNWRITTEN_LIST_MAX], why[FT_DETAIL_MAX];
	size_t used = 0, i = 0;
	int len;

	if (dev->ctx == NULL)
		return;
	list[0] = '\0';
	while (i < n) {
		uint64_t lo = u[i].addr, hi = (uint64_t)u[i].addr + u[i].size;

		/* Join adjacent units into one range. */
		for (i++; i < n && u[i].addr == hi; i++)
			hi += u[i].size;
		if (hi <= stop)
			continue;
		if (lo < stop)
			lo = stop;
		len = snprintf(list + used, sizeof(list) - used,
		    "%s0x%08llx-0x%08llx", used > 0 ? ", " : "",
		    (unsigned long long)lo, (unsigned long long)hi - 1);
		if (len < 0 || (size_t)len >= sizeof(list) - used) {
			/* Mark the cut; the list starts where it matters. */
			snprintf(list + (used > sizeof(list) - 6 ?
			    sizeof(list) - 6 : used), 6, ", ...");
			break;
		}
		used += (size_t)len;
	}
	if (used == 0)
		return;
	copy_truncated(why, sizeof(why), dev->ctx->detail);
	(void)ft_fail(dev->ctx, rc, "%s; erased but not yet written: %s", why,
	    list);
}

/*
 * Mass erase in place of page erases, where it is cheap (ft_plan_prefers_
 * mass): every unit the page plan would leave alone and that holds data
 * (units already holding the image, non-blank units outside it) is read
 * first and written back right after the mass erase, before the image.
 * Only where reading is cheap (USB), and only after the plan's units were
 * compared, so that what must survive is known.
 */
struct mass_plan {
	struct ft_image kept;	/* contents to write back; data in buf */
	uint8_t *buf;
	size_t nerase;		/* page erases it replaces */
};

static void
mass_plan_free(struct mass_plan *mp)
{
	free(mp->kept.seg);
	free(mp->buf);
	memset(mp, 0, sizeof(*mp));
}

/* The units of the flash that are not in the (ascending) plan. */
static int
units_outside(struct ft_dev *dev, const struct ft_erase_unit *plan, size_t n,
    struct ft_erase_unit **out, size_t *nout)
{
	struct ft_erase_unit *all = NULL;
	size_t nall = 0, i, k = 0, j = 0;
	int rc = all_units(dev, &all, &nall);

	if (rc < 0) {
		free(all);
		return rc;
	}
	for (i = 0; i < nall; i++) {
		while (j < n && plan[j].index < all[i].index)
			j++;
		if (j < n && plan[j].index == all[i].index)
			continue;
		all[k++] = all[i];
	}
	*out = all;
	*nout = k;
	return 0;
}

/*
 * Decide; when a mass erase pays, read what must survive it into mp.
 * Returns 0 with mp->kept.seg NULL when the page plan stays.
 */
static int
plan_mass(struct ft_dev *dev, const struct ft_erase_unit *units, size_t n,
    const enum unit_state *state, size_t nwipe, struct mass_plan *mp)
{
	struct ft_erase_unit *out = NULL, *save = NULL;
	size_t nout = 0, nsave = 0, i, k;
	uint64_t off = 0, out_bytes, wipe_bytes = 0;
	uint8_t erased = erased_byte(dev);
	int rc = 0;

	memset(mp, 0, sizeof(*mp));
	for (i = 0, k = 0; i < n; i++)
		k += state[i] == UNIT_UNCHANGED;
	if (!ft_plan_prefers_mass(&dev->info.flash, nwipe, k))
		return 0;
	/* A layout too big to plan whole (a device's claim) keeps pages. */
	if (units_outside(dev, units, n, &out, &nout) < 0) {
		ft_clear_detail(dev->ctx);
		return 0;
	}
	/* Reading the rest of the flash must cost less than the erases. */
	out_bytes = units_bytes(out, nout);
	save = calloc(n + nout + 1, sizeof(*save));
	if (save == NULL) {
		free(out);
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	}
	for (i = 0; i < n; i++)
		if (state[i] == UNIT_DIFFERENT)
			wipe_bytes += units[i].size;
	if (out_bytes > wipe_bytes)
		goto keep_pages;
	/* Every candidate unit, ascending: kept plan units and the rest. */
	for (i = 0, k = 0; i < n || k < nout;) {
		if (k >= nout || (i < n && units[i].addr < out[k].addr)) {
			if (state[i] == UNIT_UNCHANGED)
				save[nsave++] = units[i];
			i++;
		} else {
			save[nsave++] = out[k++];
		}
	}
	mp->buf = malloc(units_bytes(save, nsave) + 1);
	if (mp->buf == NULL) {
		rc = ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
		goto keep_pages;
	}
	for (i = 0; i < nsave && rc == 0; i++) {
		rc = read_span(dev, save[i].addr, mp->buf + off, save[i].size);
		off += save[i].size;
	}
	if (rc < 0)
		goto keep_pages;
	/* Blank units need nothing written back. */
	mp->kept.seg = calloc(nsave + 1, sizeof(*mp->kept.seg));
	if (mp->kept.seg == NULL) {
		rc = ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
		goto keep_pages;
	}
	mp->kept.format = FT_FMT_BINARY;
	for (i = 0, off = 0; i < nsave; off += save[i].size, i++) {
		if (all_bytes(mp->buf + off, save[i].size, erased))
			continue;
		mp->kept.seg[mp->kept.nseg].addr = save[i].addr;
		mp->kept.seg[mp->kept.nseg].len = save[i].size;
		mp->kept.seg[mp->kept.nseg].data = mp->buf + off;
		mp->kept.seg[mp->kept.nseg].alt = -1;
		mp->kept.nseg++;
	}
	if (!ft_plan_prefers_mass(&dev->info.flash, nwipe, mp->kept.nseg))
		goto keep_pages;
	mp->nerase = nwipe;
	free(out);
	free(save);
	return 0;
keep_pages:
	free(out);
	free(save);
	mass_plan_free(mp);
	return rc;
}

/*
 * Run a mass plan: the mass erase, then the kept contents back.  *erased
 * tells whether the flash was erased (so that a failure must list it).
 * FT_E_NOT_SUPPORTED from the device: nothing was erased, use the pages.
 */
static int
run_mass_plan(struct ft_dev *dev, struct mass_plan *mp,
    struct ft_write_stats *st, int *erased, uint32_t *stop)
{
	uint64_t size = ft_layout_size(&dev->info.flash);
	unsigned attempt;
	int rc;

	*erased = 0;
	*stop = 0;
	ft_info(dev->ctx, "one mass erase instead of %zu page erases; "
	    "first writing back the %zu pages of data it must keep",
	    mp->nerase, mp->kept.nseg);
	rc = check_cancel(dev, "mass erase", dev->info.flash.base);
	if (rc < 0)
		return rc;
	ft_progress(dev->ctx, FT_STAGE_ERASE, 0, size);
	for (attempt = 0;; attempt++) {
		rc = dev->tr->mass_erase(dev);
		if (rc >= 0 || rc == FT_E_NOT_SUPPORTED)
			break;
		rc = prepare_retry(dev, rc, attempt, "mass erase",
		    dev->info.flash.base);
		if (rc < 0) {
			/* It may or may not have happened. */
			*erased = 1;
			return rc;
		}
	}
	if (rc < 0)
		return rc;
	*erased = 1;
	ft_progress(dev->ctx, FT_STAGE_ERASE, size, size);
	st->units_erased += ft_layout_units(&dev->info.flash);
	rc = write_image(dev, &mp->kept, 1, st, stop);
	if (rc == 0)
		st->units_restored += (uint32_t)mp->kept.nseg;
	return rc;
}

/*
 * After a failure past a mass erase: every unit of the flash from stop on
 * is erased and unwritten, except the kept units written back (those that
 * end at or before kept_upto).
 */
static void
note_mass_unwritten(struct ft_dev *dev, int rc, const struct mass_plan *mp,
    uint64_t kept_upto, uint32_t stop)
{
	struct ft_erase_unit *all = NULL;
	size_t nall = 0, i, k = 0, j = 0;
	char why[FT_DETAIL_MAX];

	copy_truncated(why, sizeof(why), dev->ctx->detail);
	if (all_units(dev, &all, &nall) < 0) {
		/* Keep the failure's own detail; no list then. */
		(void)ft_fail(dev->ctx, rc, "%s", why);
		free(all);
		return;
	}
	for (i = 0; i < nall; i++) {
		const struct ft_segment *ks = mp->kept.seg;

		while (j < mp->kept.nseg && ks[j].addr < all[i].addr)
			j++;
		if (j < mp->kept.nseg && ks[j].addr == all[i].addr &&
		    (uint64_t)ks[j].addr + ks[j].len <= kept_upto)
			continue;
		all[k++] = all[i];
	}
	note_unwritten(dev, rc, all, k, stop);
	free(all);
}

/* out = a and b merged by address (disjoint); data stays where it is. */
static int
merge_images(struct ft_dev *dev, const struct ft_image *a,
    const struct ft_image *b, struct ft_image *out)
{
	size_t i = 0, k = 0, m = 0;

	out->format = a->format;
	out->nseg = a->nseg + b->nseg;
	out->seg = calloc(out->nseg + 1, sizeof(*out->seg));
	if (out->seg == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	while (i < a->nseg || k < b->nseg)
		if (k >= b->nseg || (i < a->nseg &&
		    a->seg[i].addr < b->seg[k].addr))
			out->seg[m++] = a->seg[i++];
		else
			out->seg[m++] = b->seg[k++];
	return 0;
}

/*
 * Erase and write one memory group.  *rest receives the part of the image
 * that was written (and so still needs verifying): units found unchanged
 * were compared already.  Free rest->seg.
 */
static int
write_group(struct ft_dev *dev, const struct mem_group *g,
    const struct ft_write_opts *opts, struct ft_write_stats *st,
    struct ft_image *rest, struct mass_plan *mp)
{
	struct ft_erase_unit *units = NULL, *keep = NULL, *wipe = NULL;
	enum unit_state *state = NULL;
	size_t n = 0, nkeep = 0, nwipe = 0, i, done = 0;
	uint32_t erased = 0, stop = 0;
	int rc = 0, mass = 0, compared = 0;

	rest->format = g->view.format;
	rest->nseg = 0;
	rest->seg = NULL;
	memset(mp, 0, sizeof(*mp));
	if (g->erasable && opts->mass_erase && same_memory(dev, g->alt)) {
		rc = mass_erase(dev, &erased);
		/* Room for the one range note_unwritten reports. */
		wipe = calloc(1, sizeof(*wipe));
		mass = 1;
		if (rc == 0 && wipe == NULL)
			rc = ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	} else if (g->erasable && !opts->no_erase) {
		rc = ft_plan_image(dev->ctx, &dev->info.flash, &g->view,
		    &units, &n);
		if (rc == 0 && n > 0) {
			state = calloc(n, sizeof(*state));
			keep = calloc(n, sizeof(*keep));
			wipe = calloc(n, sizeof(*wipe));
			if (state == NULL || keep == NULL || wipe == NULL)
				rc = ft_fail(dev->ctx, FT_E_NOMEM,
				    "out of memory");
		}
		if (rc == 0 && n > 0 && !opts->no_diff &&
		    !dev->sequential_write)
			rc = classify_units(dev, &g->view, units, n, state,
			    &compared);
		for (i = 0; rc == 0 && i < n; i++) {
			if (state[i] == UNIT_UNCHANGED)
				keep[nkeep++] = units[i];
			else if (state[i] == UNIT_DIFFERENT)
				wipe[nwipe++] = units[i];
		}
		if (rc == 0 && compared && nwipe > 0 && !opts->page_erase &&
		    dev->tr->read_is_cheap && dev->tr->mass_erase != NULL &&
		    same_memory(dev, g->alt))
			rc = plan_mass(dev, units, n, state, nwipe, mp);
		if (rc == 0 && mp->kept.seg != NULL) {
			int wiped;

			rc = run_mass_plan(dev, mp, st, &wiped, &stop);
			if (rc == FT_E_NOT_SUPPORTED && !wiped) {
				ft_clear_detail(dev->ctx);
				mass_plan_free(mp);
				rc = 0;
			} else {
				mass = wiped;
			}
			if (rc < 0 && mass)
				note_mass_unwritten(dev, rc, mp, stop, 0);
		}
		if (rc == 0 && !mass) {
			for (i = 0; i < nkeep; i++)
				st->bytes_unchanged += ft_image_bytes_in(
				    &g->view, keep[i].addr, keep[i].size);
			st->units_unchanged += (uint32_t)nkeep;
			if (nwipe > 0) {
				rc = erase_units(dev, wipe, nwipe, &done);
				if (rc < 0)
					note_unwritten(dev, rc, wipe, done, 0);
			}
			erased = (uint32_t)nwipe;
		}
	}
	if (rc == 0)
		rc = ft_image_without_units(&g->view, keep, nkeep, rest);
	if (rc == FT_E_NOMEM)
		rc = ft_fail(dev->ctx, rc, "out of memory");
	free(units);
	free(keep);
	free(state);
	if (rc == 0) {
		st->units_erased += erased;
		/* Blank blocks need no programming only where erased means
		 * blank. */
		rc = write_image(dev, rest, g->erasable &&
		    !dev->sequential_write, st, &stop);
		if (rc < 0 && mp->kept.seg != NULL) {
			note_mass_unwritten(dev, rc, mp, UINT64_MAX, stop);
		} else if (rc < 0 && mass) {
			wipe[0].addr = dev->info.flash.base;
			wipe[0].size = (uint32_t)(ft_layout_size(
			    &dev->info.flash) - 1) + 1;
			note_unwritten(dev, rc, wipe, 1, stop);
		} else if (rc < 0) {
			note_unwritten(dev, rc, wipe, nwipe, stop);
		}
	}
	/* What was written back is verified with the image. */
	if (rc == 0 && mp->kept.nseg > 0) {
		struct ft_image merged;

		rc = merge_images(dev, rest, &mp->kept, &merged);
		if (rc == 0) {
			free(rest->seg);
			*rest = merged;
		}
	}
	free(wipe);
	return rc;
}

/*
 * A verify difference in erasable flash: the block went down wrong (two
 * flips in one bit position pass Write Memory's XOR).  Erase the unit
 * holding it, write the image's part of that unit again and verify the
 * group again, a bounded number of times; only then give up.
 */
static int
repair_group(struct ft_dev *dev, const struct mem_group *g,
    const struct ft_write_opts *opts, const struct ft_image *rest, int rc,
    struct ft_write_stats *st)
{
	unsigned attempt;

	for (attempt = 0; rc == FT_E_VERIFY && attempt < dev->retries &&
	    g->erasable && !opts->no_erase && !dev->sequential_write;
	    attempt++) {
		struct ft_erase_unit *unit = NULL, *others = NULL;
		struct ft_image part = { 0 };
		size_t n = 0, nothers = 0, k;
		uint64_t done = 0;
		uint32_t stop_at;
		int r;

		ft_warn(dev->ctx, "%s; erasing that page and writing it again",
		    dev->ctx->detail);
		r = ft_plan_range(dev->ctx, &dev->info.flash,
		    dev->mismatch_addr, 1, &unit, &n);
		/* The image's part of that unit: the rest minus every other
		 * unit of the flash. */
		if (r == 0)
			r = all_units(dev, &others, &nothers);
		for (k = 0; r == 0 && k < nothers; k++)
			if (others[k].index == unit[0].index) {
				memmove(&others[k], &others[k + 1],
				    (nothers - k - 1) * sizeof(*others));
				nothers--;
				break;
			}
		if (r == 0)
			r = ft_image_without_units(rest, others, nothers, &part);
		if (r == FT_E_NOMEM)
			r = ft_fail(dev->ctx, r, "out of memory");
		if (r == 0)
			r = erase_units(dev, unit, 1, NULL);
		if (r == 0) {
			st->units_erased++;
			r = write_image(dev, &part, 1, st, &stop_at);
		}
		if (r == 0)
			r = verify_segments(dev, rest, &done,
			    ft_image_bytes(rest));
		free(part.seg);
		free(unit);
		free(others);
		rc = r;
	}
	return rc;
}

/*
 * Write order: erasable memories (flash) first, then the others (option
 * bytes, OTP), whose writes may reset the chip; each memory is verified
 * right after it is written, while the device can still be read.
 */
static void
copy_truncated(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static int
group_order(const struct mem_group *groups, size_t n, size_t *order)
{
	size_t i, k = 0;
	int pass;

	for (pass = 1; pass >= 0; pass--)
		for (i = 0; i < n; i++)
			if (groups[i].erasable == pass)
				order[k++] = i;
	return 0;
}

int
ft_write(struct ft_dev *dev, const struct ft_image *img,
    const struct ft_write_opts *opts, struct ft_write_stats *stats)
{
	struct ft_write_stats st;
	struct mem_group *groups = NULL;
	size_t ngroups = 0, i, *order = NULL;
	int home_alt = dev->info.dfu_alt, switched = 0;
	uint64_t done = 0, total = ft_image_bytes(img);
	int rc;

	memset(&st, 0, sizeof(st));
	ft_clear_detail(dev->ctx);
	rc = plan_groups(dev, img, &groups, &ngroups);
	if (rc == 0) {
		order = calloc(ngroups, sizeof(*order));
		if (order == NULL)
			rc = ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
		else
			group_order(groups, ngroups, order);
	}
	for (i = 0; rc == 0 && i < ngroups; i++) {
		const struct mem_group *g = &groups[order[i]];
		struct ft_image rest = { 0 };
		struct mass_plan mp;
		uint64_t kept;

		memset(&mp, 0, sizeof(mp));
		rc = enter_group(dev, g, &switched);
		if (rc == 0)
			rc = write_group(dev, g, opts, &st, &rest, &mp);
		kept = ft_image_bytes(&mp.kept);
		if (rc == 0 && opts->verify) {
			/* Units found unchanged were compared already;
			 * contents written back count on top. */
			done += ft_image_bytes(&g->view) + kept -
			    ft_image_bytes(&rest);
			total += kept;
			rc = verify_segments(dev, &rest, &done, total);
			rc = repair_group(dev, g, opts, &rest, rc, &st);
			if (rc == FT_E_NOT_SUPPORTED) {
				/* Written; this device cannot show it back. */
				st.bytes_unverified += ft_image_bytes(&rest);
				copy_truncated(st.unverified_why,
				    sizeof(st.unverified_why),
				    dev->ctx->detail);
				rc = 0;
			}
		}
		free(rest.seg);
		mass_plan_free(&mp);
	}
	st.verified = rc == 0 && opts->verify && st.bytes_unverified == 0;
	/* Go back to the memory we opened, so that leaving starts it. */
	if (switched && dev->info.dfu_alt != home_alt) {
		int r = dev->tr->select_alt(dev, home_alt);

		if (rc == 0 && r != FT_E_NOT_SUPPORTED)
			rc = r;
	}
	free(order);
	free(groups);
	if (stats != NULL)
		*stats = st;
	return rc;
}

static int
crc_block(struct ft_dev *dev, uint32_t addr, uint32_t len, uint32_t *out)
{
	unsigned attempt;
	int rc;

	for (attempt = 0;; attempt++) {
		rc = dev->tr->crc(dev, addr, len, out);
		if (rc >= 0 || rc == FT_E_NOT_SUPPORTED)
			return rc;
		rc = prepare_retry(dev, rc, attempt, "checksum", addr);
		if (rc < 0 && retryable(rc)) {
			/*
			 * Stm32flash 0.7 frames Get Checksum differently from
			 * AN3155 rev 20 (length in bytes, no polynomial or
			 * initial value); a ROM that answers neither way
			 * every time is not trusted again: reading back is
			 * slower but sure.
			 */
			ft_warn(dev->ctx, "%s; Get Checksum does not answer as "
			    "expected: comparing by reading from now on",
			    dev->ctx->detail);
			dev->info.has_checksum = 0;
			ft_clear_detail(dev->ctx);
			(void)(dev->tr->resync != NULL ? dev->tr->resync(dev) :
			    0);
			return FT_E_NOT_SUPPORTED;
		}
		if (rc < 0)
			return rc;
	}
}

static int
verify_by_crc(struct ft_dev *dev, const struct ft_segment *s, int *matched)
{
	uint32_t want, got;
	int rc;

	*matched = 0;
	if (dev->tr->crc == NULL || !dev->info.has_checksum ||
	    s->addr % 4 != 0 || s->len % 4 != 0)
		return FT_E_NOT_SUPPORTED;
	rc = crc_block(dev, s->addr, s->len, &got);
	if (rc < 0)
		return rc;
	want = ft_crc32_stm(FT_CRC32_STM_INIT, s->data, s->len);
	*matched = want == got;
	return 0;
}

static uint32_t
first_difference(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	uint32_t k;

	for (k = 0; k < n; k++)
		if (a[k] != b[k])
			break;
	return k;
}

static int
verify_by_reading(struct ft_dev *dev, const struct ft_segment *s,
    uint64_t *done, uint64_t total)
{
	uint8_t *buf = malloc(dev->max_read);
	uint32_t off = 0;
	int rc = 0;

	if (buf == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	while (off < s->len) {
		uint32_t a = s->addr + off;
		uint32_t n = dev->max_read - (a % dev->max_read);
		uint32_t k;

		if (n > s->len - off)
			n = s->len - off;
		rc = check_cancel(dev, "verify", a);
		if (rc == 0)
			rc = read_block(dev, a, buf, n);
		if (rc < 0)
			break;
		k = first_difference(buf, s->data + off, n);
		/* A difference may be the line's: confirm it (flash_differs). */
		if (k < n) {
			rc = flash_differs(dev, a, s->data + off, n, buf, &k);
			if (rc < 0)
				break;
			if (rc == 0)
				k = n;
			rc = 0;
		}
		if (k < n) {
			dev->mismatch_addr = a + k;
			rc = ft_fail(dev->ctx, FT_E_VERIFY,
			    "verify failed at 0x%08x: flash has 0x%02x, image "
			    "has 0x%02x", a + k, buf[k], s->data[off + k]);
			break;
		}
		off += n;
		*done += n;
		ft_progress(dev->ctx, FT_STAGE_VERIFY, *done, total);
	}
	free(buf);
	return rc;
}

static int
verify_segments(struct ft_dev *dev, const struct ft_image *img,
    uint64_t *done, uint64_t total)
{
	size_t i;
	int rc;

	for (i = 0; i < img->nseg; i++) {
		const struct ft_segment *s = &img->seg[i];
		int matched;

		rc = verify_by_crc(dev, s, &matched);
		if (rc == 0 && matched) {
			*done += s->len;
			ft_progress(dev->ctx, FT_STAGE_VERIFY, *done, total);
			continue;
		}
		if (rc < 0 && rc != FT_E_NOT_SUPPORTED && !retryable(rc))
			return rc;
		/* A CRC mismatch or failure: read back to name the address. */
		rc = verify_by_reading(dev, s, done, total);
		if (rc < 0)
			return rc;
	}
	return 0;
}

int
ft_verify(struct ft_dev *dev, const struct ft_image *img)
{
	struct mem_group *groups = NULL;
	size_t ngroups = 0, i;
	uint64_t done = 0, total = ft_image_bytes(img);
	int home_alt = dev->info.dfu_alt, switched = 0;
	int rc;

	ft_clear_detail(dev->ctx);
	rc = plan_groups(dev, img, &groups, &ngroups);
	if (rc == 0)
		ft_progress(dev->ctx, FT_STAGE_VERIFY, 0, total);
	for (i = 0; rc == 0 && i < ngroups; i++) {
		rc = enter_group(dev, &groups[i], &switched);
		if (rc == 0)
			rc = verify_segments(dev, &groups[i].view, &done,
			    total);
	}
	if (switched && dev->info.dfu_alt != home_alt) {
		int r = dev->tr->select_alt(dev, home_alt);

		if (rc == 0)
			rc = r;
	}
	free(groups);
	return rc;
}

int
ft_crc(struct ft_dev *dev, uint32_t addr, uint32_t len, uint32_t *crc)
{
	uint8_t *buf;
	uint32_t off = 0;
	uint32_t c = FT_CRC32_STM_INIT;
	int rc;

	ft_clear_detail(dev->ctx);
	if (addr % 4 != 0 || len % 4 != 0 || len == 0)
		return ft_fail(dev->ctx, FT_E_INVALID,
		    "CRC range 0x%08x+%u: address and length must be "
		    "non-zero multiples of 4", addr, len);
	if (dev->tr->crc != NULL && dev->info.has_checksum) {
		rc = crc_block(dev, addr, len, crc);
		if (rc != FT_E_NOT_SUPPORTED)
			return rc;
	}
	buf = malloc(dev->max_read);
	if (buf == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	ft_progress(dev->ctx, FT_STAGE_READ, 0, len);
	rc = 0;
	while (off < len) {
		uint32_t n = dev->max_read;

		if (n > len - off)
			n = len - off;
		rc = check_cancel(dev, "CRC", addr + off);
		if (rc == 0)
			rc = read_block(dev, addr + off, buf, n);
		if (rc < 0)
			break;
		c = ft_crc32_stm(c, buf, n);
		off += n;
		ft_progress(dev->ctx, FT_STAGE_READ, off, len);
	}
	free(buf);
	if (rc == 0)
		*crc = c;
	return rc;
}

int
ft_go(struct ft_dev *dev, uint32_t addr)
{
	ft_clear_detail(dev->ctx);
	if (dev->tr->go == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "%s: no way to start code", dev->tr->name);
	return dev->tr->go(dev, addr);
}

int
ft_reset(struct ft_dev *dev)
{
	ft_clear_detail(dev->ctx);
	if (dev->tr->reset == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "%s: no way to reset the chip", dev->tr->name);
	return dev->tr->reset(dev);
}

int
ft_protect(struct ft_dev *dev, enum ft_protect_op op)
{
	ft_clear_detail(dev->ctx);
	if (dev->tr->protect == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "%s: protection commands not supported", dev->tr->name);
	return dev->tr->protect(dev, op);
}

int
ft_write_protect(struct ft_dev *dev, uint32_t addr, uint32_t len)
{
	struct ft_erase_unit *units = NULL;
	size_t n = 0;
	int rc;

	ft_clear_detail(dev->ctx);
	if (dev->tr->write_protect == NULL)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED,
		    "%s: write protection not supported", dev->tr->name);
	rc = ft_plan_range(dev->ctx, &dev->info.flash, addr, len, &units, &n);
	if (rc == 0)
		rc = dev->tr->write_protect(dev, units, n);
	free(units);
	return rc;
}
