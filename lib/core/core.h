/*
 * core/core.h - what the files of the core share.  The core is the
 * transport-independent half of every operation: chunking and alignment,
 * retries, the erase plan, compare before erase, write, verify and
 * repair, progress and cancellation.  It reaches a transport only through
 * struct ft_transport (lib/transport.h) and includes nothing from a
 * transport wing.
 *
 * Sectioned by the file that defines each declaration; the calls go one
 * way: write.c -> mass.c and compare.c -> memories.c and blockio.c, and
 * all of them use plan.c, which does no I/O; open.c dispatches.
 */
#ifndef FT_CORE_H
#define FT_CORE_H

#include "transport.h"

/* core/plan.c: pure planning, no I/O (tested by tables). */

/*
 * The units of layout that [addr, addr+len) touches, appended to *units
 * (grown with realloc) without duplicates, in ascending order.  Returns
 * FT_E_RANGE if any byte is outside the layout.
 */
int ft_plan_range(struct ft_ctx *ctx, const struct ft_layout *layout,
    uint32_t addr, uint32_t len, struct ft_erase_unit **units, size_t *n);
/* The units every segment of span touches. */
int ft_plan_span(struct ft_ctx *ctx, const struct ft_layout *layout,
    struct ft_span span, struct ft_erase_unit **units, size_t *n);
/* Every unit of the layout (FT_E_INVALID when it is empty). */
int ft_plan_all(struct ft_ctx *ctx, const struct ft_layout *layout,
    struct ft_erase_unit **units, size_t *n);
/* The units of the layout that are not in plan (ascending, unique). */
int ft_plan_outside(struct ft_ctx *ctx, const struct ft_layout *layout,
    const struct ft_erase_unit *plan, size_t n, struct ft_erase_unit **out,
    size_t *nout);
/*
 * out = the parts of span outside the given units (ascending, unique):
 * segments pointing into span's data.  FT_E_NOMEM, no detail.
 */
int ft_span_without_units(struct ft_span span,
    const struct ft_erase_unit *units, size_t n, struct ft_seglist *out);
/* out = two disjoint spans merged by address; data stays where it is. */
int ft_span_merge(struct ft_span a, struct ft_span b, struct ft_seglist *out);
/*
 * Whether one mass erase beats page erases: only on flash of small
 * uniform pages (ft_plan_mass_is_cheap), when at least 8 units need
 * erasing and the units whose contents must be rewritten afterwards
 * (kept, non-blank units) are at most an eighth of them.
 */
int ft_plan_mass_is_cheap(const struct ft_layout *flash);
int ft_plan_prefers_mass(const struct ft_layout *flash, size_t to_erase,
    size_t to_restore);

/* What comparing an erase unit with the image found. */
enum ft_unit_state {
	FT_UNIT_DIFFERENT,	/* erase and write */
	FT_UNIT_BLANK,		/* write without erasing */
	FT_UNIT_UNCHANGED,	/* already holds the image: leave alone */
};

/*
 * The units a mass erase in place of the plan's page erases must read
 * first and write back: the plan's units found unchanged and every unit
 * outside the plan, ascending.  *save is NULL (nothing to do) when
 * reading those costs more than the erases saved, that is when the units
 * outside hold more bytes than the plan's units to erase.
 */
int ft_plan_mass_saves(const struct ft_erase_unit *plan,
    const enum ft_unit_state *state, size_t n,
    const struct ft_erase_unit *outside, size_t nout,
    struct ft_erase_unit **save, size_t *nsave);
/* Bytes of the units. */
uint64_t ft_units_bytes(const struct ft_erase_unit *u, size_t n);
/*
 * After a write that stopped part way (interrupted, or failed for good):
 * the erased ranges that hold neither the old contents nor the image yet,
 * as "0x08000000-0x080007ff, ..." in buf: the units from stop on (a unit
 * straddling stop from stop on), adjacent units joined, cut with ", ..."
 * when buf is full.  stop 0: nothing was written yet.  Returns 0 when no
 * range is left.
 */
size_t ft_plan_unwritten(const struct ft_erase_unit *units, size_t n,
    uint32_t stop, char *buf, size_t size);

/* core/blockio.c: block I/O with retries, erase, checksum. */

/* What erased flash reads as: 0xFF, except on L0/L1 (0x00). */
uint8_t ft_core_erased(const struct ft_dev *dev);
/* Do the n bytes at p all equal v? */
int ft_all_bytes(const uint8_t *p, size_t n, uint8_t v);
/* Stop here (FT_E_INTERRUPTED) if the caller asked to. */
int ft_core_cancel_point(struct ft_dev *dev, const char *what, uint32_t addr);
/*
 * After a failed attempt: log it, resync the link, and tell whether the
 * caller may try again.  Returns 0 to retry or the error to give up with:
 * after fail_limit failures in a row with no success in between,
 * FT_STALL_LIMIT_MS without one, or more than FT_RATE_FAIL_MAX failures
 * among the last FT_RATE_WINDOW frames.
 */
int ft_core_retry(struct ft_dev *dev, int rc, const char *what,
    uint32_t addr);
/* A block went through: the failure run ends, short frames count down. */
void ft_core_progress(struct ft_dev *dev);
/*
 * Bytes per read or write frame once the line has garbled one: on a bad
 * line (0.1% of bytes corrupted) a 256-byte frame is hit 23% of the
 * time, a 64-byte one 6%.
 */
#define FT_SHORT_FRAME_BYTES 64u
int ft_core_retryable(int rc);
/*
 * A line on which more than half the frames fail is not worth going on
 * with: at that rate a 16 KiB write takes minutes, and a bad cable (one
 * frame in four hit at 256 bytes) stays far below it.
 */
#define FT_RATE_WINDOW 32u
#define FT_RATE_FAIL_MAX 16u
/* Read one block of at most max_read bytes, retried (split on a line). */
int ft_core_read_block(struct ft_dev *dev, uint32_t addr, uint8_t *buf,
    uint32_t len);
/*
 * What ft_core_read_span does with each block it read: 0 to go on, 1 to
 * stop early (the span is judged), negative to fail.
 */
typedef int (*ft_block_fn)(struct ft_dev *dev, uint32_t addr,
    const uint8_t *block, uint32_t len, void *user);
/*
 * The one aligned-read loop: read [addr, addr+len) in blocks aligned to
 * max_read (the first at most first_max bytes when non-zero), checking
 * for an interrupt between blocks.  With buf the data lands at buf + the
 * offset; without, each block passes through a scratch buffer.  fn (may
 * be NULL) sees every block.  Returns 0, 1 (fn stopped it) or an error.
 */
int ft_core_read_span(struct ft_dev *dev, const char *what, uint32_t addr,
    uint32_t len, uint8_t *buf, uint32_t first_max, ft_block_fn fn,
    void *user);
/* Erase units in batches; *erased (may be NULL) counts those done. */
int ft_core_erase_units(struct ft_dev *dev, const struct ft_erase_unit *units,
    size_t n, size_t *erased);
/* Every unit of the device's flash. */
int ft_core_all_units(struct ft_dev *dev, struct ft_erase_unit **units,
    size_t *n);
/* The device's checksum of a range, retried; FT_E_NOT_SUPPORTED when it
 * cannot (or no longer can) compute one. */
int ft_core_crc_block(struct ft_dev *dev, uint32_t addr, uint32_t len,
    uint32_t *out);
/* The device lists a checksum command the transport implements. */
int ft_core_can_checksum(const struct ft_dev *dev);
/* A mass erase (-o, --mass-erase), page by page where the part has none. */
int ft_core_mass_erase(struct ft_dev *dev, uint32_t *units_erased);
/* Add the unwritten ranges (ft_plan_unwritten) to the detail. */
void ft_core_note_unwritten(struct ft_dev *dev, int rc,
    const struct ft_erase_unit *units, size_t n, uint32_t stop);

/* core/memories.c: images that name several memories (alt settings). */

struct ft_memory {
	int alt;		/* -1: the memory the device was opened on */
	struct ft_span view;	/* the image's segments for it */
	struct ft_layout layout;
	int erasable;
};

struct ft_memories {
	struct ft_memory *group;	/* erasable memories first */
	size_t n;
	uint64_t bytes;		/* of the whole image */
	int home_alt;		/* the alt setting the device was opened on */
	int switched;
};

/*
 * Split img into memories and check every segment against its memory's
 * layout (and the transport's check_image): all before anything is
 * erased.  Free with ft_memories_done.
 */
int ft_memories_plan(struct ft_dev *dev, const struct ft_image *img,
    struct ft_memories *mem);
/* Switch the device to g's memory. */
int ft_memories_enter(struct ft_dev *dev, struct ft_memories *mem,
    const struct ft_memory *g);
/* g is the memory the device was opened on (the flash). */
int ft_memories_is_home(const struct ft_dev *dev, const struct ft_memory *g);
/* Back to the home memory, free; returns rc or the switch's failure. */
int ft_memories_done(struct ft_dev *dev, struct ft_memories *mem, int rc);

/* core/compare.c: read before erase, verify. */

/*
 * Compare each unit with the image and set state[i].  *compared tells
 * whether the states are known (0: the device cannot be read first, so
 * every unit is FT_UNIT_DIFFERENT).
 */
int ft_core_classify(struct ft_dev *dev, struct ft_span view,
    const struct ft_erase_unit *units, size_t n, enum ft_unit_state *state,
    int *compared);
/*
 * Does the flash at [addr, addr+len) differ from want?  0: it holds want;
 * 1: it differs at addr + *at (buf holds what was read); negative: the
 * read failed.
 */
int ft_core_flash_differs(struct ft_dev *dev, uint32_t addr,
    const uint8_t *want, uint32_t len, uint8_t *buf, uint32_t *at);
/*
 * Verify the span; FT_E_VERIFY names the first difference and sets
 * dev->mismatch_addr.  *done counts verified bytes for progress.
 */
int ft_core_verify(struct ft_dev *dev, struct ft_span span, uint64_t *done,
    uint64_t total);

/* core/mass.c: one mass erase in place of many page erases. */

struct ft_mass_plan {
	struct ft_seglist kept;	/* contents to write back; data in buf */
	uint8_t *buf;
	size_t nerase;		/* page erases it replaces */
};

/*
 * Decide, and when a mass erase pays, read what must survive it into mp.
 * Returns 0 with mp->kept.seg NULL when the page plan stays.
 */
int ft_mass_plan(struct ft_dev *dev, const struct ft_erase_unit *units,
    size_t n, const enum ft_unit_state *state, size_t nwipe,
    struct ft_mass_plan *mp);
/*
 * The plan's mass erase, retried.  *wiped tells whether the flash was (or
 * may have been) erased; FT_E_NOT_SUPPORTED with *wiped 0: nothing
 * happened, the pages can still be erased one by one.
 */
int ft_mass_erase_planned(struct ft_dev *dev, struct ft_mass_plan *mp,
    struct ft_write_stats *st, int *wiped);
/*
 * The flash's units that are erased and not written back: all of them
 * but the kept units that end at or before kept_upto.
 */
int ft_mass_unrestored(struct ft_dev *dev, const struct ft_mass_plan *mp,
    uint64_t kept_upto, struct ft_erase_unit **units, size_t *n);
void ft_mass_plan_free(struct ft_mass_plan *mp);

/* core/write.c: the write path, and repair after verify. */

/*
 * Write the span's blocks in ascending order, skipping blank blocks when
 * skip_blank.  After a failure *stop is the address of the first block
 * not known to be written.
 */
int ft_core_write_span(struct ft_dev *dev, struct ft_span span,
    int skip_blank, struct ft_write_stats *st, uint32_t *stop);

#endif /* FT_CORE_H */
