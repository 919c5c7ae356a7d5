/*
 * core/write.c - the write path: for each memory of the image, erase what
 * it needs (only the units that differ, one mass erase where that pays,
 * or nothing), write the blocks, verify, and repair a unit that verify
 * finds wrong.
 *
 * Invariants:
 *  - Nothing is erased before every segment of the image has been checked
 *    against its memory's layout (ft_memories_plan).
 *  - Writes are at most max_write bytes, aligned to write_align, in
 *    ascending order, so that after a failure everything below the stop
 *    address is written and the failure can list what is erased but not
 *    yet written.
 *  - A block that failed is sent again in short frames, each first
 *    compared with the flash: programming twice fails on most STM32s.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

static uint32_t
align_down(uint32_t v, uint32_t a)
{
	return v - v % a;
}

/*
 * Fill buf with the span's bytes for [start, start+size), pad where the
 * span has none.  Returns 1 and the data extent [*first, *last] when any
 * byte of the window belongs to the span, else 0 and *next_addr = the
 * next span address after the window (or 0 when there is none).
 */
static int
fill_window(struct ft_span span, uint32_t start, uint32_t size, uint8_t pad,
    uint8_t *buf, uint32_t *first, uint32_t *last, uint64_t *next_addr)
{
	uint64_t end = (uint64_t)start + size;
	int any = 0;
	size_t i;

	memset(buf, pad, size);
	*next_addr = 0;
	for (i = 0; i < span.nseg; i++) {
		const struct ft_segment *s = &span.seg[i];
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
 * A failed write: send the piece again until it is in.  The failed
 * attempt may have programmed it already (a lost final ACK), and
 * programming twice fails on most STM32 flash, so it is looked at first.
 * A piece whose read fails is written regardless; verify has the last
 * word.
 */
static int
rewrite_piece(struct ft_dev *dev, uint32_t addr, const uint8_t *data,
    uint32_t len, uint8_t *scratch)
{
	unsigned streak, frames;
	uint32_t fails;
	uint64_t since;
	uint32_t at;
	int rc;

	for (;;) {
		/*
		 * Looking is not progress, nor a frame that got through for
		 * the failure rate; failures while looking count.
		 */
		streak = dev->fail_streak;
		since = dev->progress_ms;
		fails = dev->recent_fails;
		frames = dev->recent_frames;
		rc = ft_core_flash_differs(dev, addr, data, len, scratch, &at);
		if (rc == 0)
			return 0;
		if (dev->fail_streak < streak) {
			dev->fail_streak = streak;
			dev->progress_ms = since;
			dev->recent_fails = fails;
			dev->recent_frames = frames;
		}
		rc = ft_core_cancel_point(dev, "write", addr);
		if (rc < 0)
			return rc;
		rc = dev->tr->write(dev, addr, data, len);
		if (rc >= 0) {
			ft_core_progress(dev);
			return 0;
		}
		rc = ft_core_retry(dev, rc, "write", addr);
		if (rc < 0)
			return rc;
	}
}

/* Bytes per frame while the line is bad: short, whole write units. */
static uint32_t
short_piece(const struct ft_dev *dev)
{
	uint32_t piece = FT_SHORT_FRAME_BYTES - FT_SHORT_FRAME_BYTES %
	    dev->write_align;

	return piece > 0 ? piece : dev->write_align;
}

/*
 * One frame: sent once; after a failure, again in short pieces, each
 * looked at before it is sent again.
 */
static int
write_frame(struct ft_dev *dev, uint32_t addr, const uint8_t *data,
    uint32_t len, uint8_t *scratch)
{
	uint32_t piece, off, n;
	int rc;

	rc = dev->tr->write(dev, addr, data, len);
	if (rc >= 0) {
		ft_core_progress(dev);
		return 0;
	}
	rc = ft_core_retry(dev, rc, "write", addr);
	if (rc < 0)
		return rc;
	piece = short_piece(dev);
	for (off = 0; off < len; off += n) {
		n = len - off < piece ? len - off : piece;
		rc = rewrite_piece(dev, addr + off, data + off, n,
		    scratch + off);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/*
 * A block, in one frame, or in short frames while the line has been
 * failing lately (dev->short_frames).
 */
static int
write_block(struct ft_dev *dev, uint32_t addr, const uint8_t *data,
    uint32_t len, uint8_t *scratch)
{
	uint32_t piece = dev->short_frames > 0 ? short_piece(dev) : len;
	uint32_t off, n;
	int rc;

	for (off = 0; off < len; off += n) {
		n = len - off < piece ? len - off : piece;
		rc = write_frame(dev, addr + off, data + off, n,
		    scratch + off);
		if (rc < 0)
			return rc;
	}
	return 0;
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

int
ft_core_write_span(struct ft_dev *dev, struct ft_span span, int skip_blank,
    struct ft_write_stats *st, uint32_t *stop)
{
	uint32_t block = align_down(dev->max_write, dev->write_align);
	uint64_t total = ft_span_bytes(span), done = 0;
	uint8_t erased = ft_core_erased(dev);
	uint8_t *buf, *scratch;
	int64_t last_unit = -1;
	uint64_t a;
	int rc = 0;

	if (span.nseg == 0)
		return 0;
	buf = malloc(block);
	scratch = malloc(block);
	if (buf == NULL || scratch == NULL) {
		free(buf);
		free(scratch);
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	}
	ft_progress(dev->ctx, FT_STAGE_WRITE, 0, total);
	a = align_down(span.seg[0].addr, block);
	*stop = (uint32_t)a;
	while (rc == 0) {
		uint32_t first = 0, last = 0, wstart, wlen;
		uint64_t next;

		if (!fill_window(span, (uint32_t)a, block, erased, buf, &first,
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
		rc = ft_core_cancel_point(dev, "write", (uint32_t)a + wstart);
		if (rc < 0)
			break;
		if (skip_blank && ft_all_bytes(buf + wstart, wlen, erased)) {
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
 * How one memory is erased before it is written, and what that left:
 * the units erased (so that a failure can list what is blank), the units
 * already holding the image (left alone), and a mass erase in place of
 * the pages with the contents it keeps.
 */
enum erase_kind {
	ERASE_NONE,		/* not erasable, or -e 0 */
	ERASE_ALL,		/* --mass-erase */
	ERASE_PAGES,		/* the units the image touches that differ */
};

struct erase_step {
	enum erase_kind kind;
	struct ft_erase_unit *wiped;	/* erased units, ascending */
	size_t nwiped;
	struct ft_erase_unit *keep;	/* units that hold the image */
	size_t nkeep;
	struct ft_mass_plan mp;		/* kept.seg non-NULL: mass erase */
	int mass_wiped;			/* mp's mass erase happened */
};

static void
erase_step_free(struct erase_step *e)
{
	free(e->wiped);
	free(e->keep);
	ft_mass_plan_free(&e->mp);
	memset(e, 0, sizeof(*e));
}

/* --mass-erase: everything, then the image. */
static int
erase_all(struct ft_dev *dev, struct ft_write_stats *st, struct erase_step *e)
{
	uint32_t erased = 0;
	int rc = ft_core_mass_erase(dev, &erased);

	if (rc == 0)
		rc = ft_core_all_units(dev, &e->wiped, &e->nwiped);
	if (rc == 0)
		st->units_erased += erased;
	return rc;
}

/* Compare the units and sort them into those to keep and to erase. */
static int
sort_units(struct ft_dev *dev, const struct ft_memory *g,
    const struct ft_write_opts *opts, const struct ft_erase_unit *units,
    size_t n, enum ft_unit_state *state, struct erase_step *e,
    int *compared)
{
	size_t i;
	int rc = 0;

	*compared = 0;
	for (i = 0; i < n; i++)
		state[i] = FT_UNIT_DIFFERENT;
	if (!opts->no_diff && !dev->sequential_write)
		rc = ft_core_classify(dev, g->view, units, n, state,
		    compared);
	e->keep = calloc(n + 1, sizeof(*e->keep));
	e->wiped = calloc(n + 1, sizeof(*e->wiped));
	if (rc == 0 && (e->keep == NULL || e->wiped == NULL))
		rc = ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	for (i = 0; rc == 0 && i < n; i++) {
		if (state[i] == FT_UNIT_UNCHANGED)
			e->keep[e->nkeep++] = units[i];
		else if (state[i] == FT_UNIT_DIFFERENT)
			e->wiped[e->nwiped++] = units[i];
	}
	return rc;
}

/* A mass erase in place of the page erases, where it pays. */
static int
try_mass(struct ft_dev *dev, const struct ft_memory *g,
    const struct ft_write_opts *opts, const struct ft_erase_unit *units,
    size_t n, const enum ft_unit_state *state, struct ft_write_stats *st,
    struct erase_step *e)
{
	uint32_t stop = 0;
	int rc;

	if (e->nwiped == 0 || opts->page_erase || !dev->tr->read_is_cheap ||
	    dev->tr->mass_erase == NULL || !ft_memories_is_home(dev, g))
		return 0;
	rc = ft_mass_plan(dev, units, n, state, e->nwiped, &e->mp);
	if (rc < 0 || e->mp.kept.seg == NULL)
		return rc;
	rc = ft_mass_erase_planned(dev, &e->mp, st, &e->mass_wiped);
	if (rc == 0) {
		/* The contents kept come back before the image. */
		rc = ft_core_write_span(dev, ft_seglist_span(&e->mp.kept), 1,
		    st, &stop);
		if (rc == 0)
			st->units_restored += (uint32_t)e->mp.kept.nseg;
	}
	if (rc == FT_E_NOT_SUPPORTED && !e->mass_wiped) {
		/* The device has no mass erase after all: erase pages. */
		ft_clear_detail(dev->ctx);
		ft_mass_plan_free(&e->mp);
		return 0;
	}
	if (rc < 0 && e->mass_wiped) {
		struct ft_erase_unit *u = NULL;
		size_t nu = 0;

		if (ft_mass_unrestored(dev, &e->mp, stop, &u, &nu) == 0)
			ft_core_note_unwritten(dev, rc, u, nu, 0);
		free(u);
	}
	return rc;
}

/* Compare, then erase only the units that differ (or all at once). */
static int
erase_pages(struct ft_dev *dev, const struct ft_memory *g,
    const struct ft_write_opts *opts, struct ft_write_stats *st,
    struct erase_step *e)
{
	struct ft_erase_unit *units = NULL;
	enum ft_unit_state *state = NULL;
	size_t n = 0, i, done = 0;
	int compared = 0, rc;

	rc = ft_plan_span(dev->ctx, &dev->info.flash, g->view, &units, &n);
	if (rc == 0) {
		state = calloc(n + 1, sizeof(*state));
		if (state == NULL)
			rc = ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	}
	if (rc == 0)
		rc = sort_units(dev, g, opts, units, n, state, e, &compared);
	if (rc == 0 && compared)
		rc = try_mass(dev, g, opts, units, n, state, st, e);
	if (rc == 0 && e->mp.kept.seg == NULL) {
		for (i = 0; i < e->nkeep; i++)
			st->bytes_unchanged += ft_span_bytes_in(g->view,
			    e->keep[i].addr, e->keep[i].size);
		st->units_unchanged += (uint32_t)e->nkeep;
		rc = ft_core_erase_units(dev, e->wiped, e->nwiped, &done);
		if (rc < 0)
			ft_core_note_unwritten(dev, rc, e->wiped, done, 0);
		else
			st->units_erased += (uint32_t)e->nwiped;
	}
	free(units);
	free(state);
	return rc;
}

/* After a failed write: what is erased and not yet written. */
static void
note_write_failure(struct ft_dev *dev, int rc, const struct erase_step *e,
    uint32_t stop)
{
	struct ft_erase_unit *u = NULL;
	size_t nu = 0;

	if (e->mp.kept.seg != NULL) {
		if (ft_mass_unrestored(dev, &e->mp, UINT64_MAX, &u, &nu) == 0)
			ft_core_note_unwritten(dev, rc, u, nu, stop);
		free(u);
		return;
	}
	ft_core_note_unwritten(dev, rc, e->wiped, e->nwiped, stop);
}

/*
 * Erase and write one memory.  *rest receives what was written (and so
 * still needs verifying): units found unchanged were compared already,
 * contents written back after a mass erase are added, and their data
 * stays in *kept until the caller frees it.
 */
static int
write_memory(struct ft_dev *dev, const struct ft_memory *g,
    const struct ft_write_opts *opts, struct ft_write_stats *st,
    struct ft_seglist *rest, struct ft_mass_plan *kept)
{
	struct erase_step e;
	struct ft_seglist merged;
	uint32_t stop = 0;
	int rc = 0;

	memset(&e, 0, sizeof(e));
	memset(rest, 0, sizeof(*rest));
	e.kind = !g->erasable || opts->no_erase ? ERASE_NONE :
	    opts->mass_erase && ft_memories_is_home(dev, g) ? ERASE_ALL :
	    ERASE_PAGES;
	if (e.kind == ERASE_ALL)
		rc = erase_all(dev, st, &e);
	else if (e.kind == ERASE_PAGES)
		rc = erase_pages(dev, g, opts, st, &e);
	if (rc == 0 && ft_span_without_units(g->view, e.keep, e.nkeep,
	    rest) != 0)
		rc = ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	/* Blank blocks need no programming only where erased is blank. */
	if (rc == 0) {
		rc = ft_core_write_span(dev, ft_seglist_span(rest),
		    g->erasable && !dev->sequential_write, st, &stop);
		if (rc < 0)
			note_write_failure(dev, rc, &e, stop);
	}
	/* What was written back is verified with the image. */
	if (rc == 0 && e.mp.kept.nseg > 0) {
		if (ft_span_merge(ft_seglist_span(rest),
		    ft_seglist_span(&e.mp.kept), &merged) != 0) {
			rc = ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
		} else {
			ft_seglist_free(rest);
			*rest = merged;
		}
	}
	*kept = e.mp;
	memset(&e.mp, 0, sizeof(e.mp));
	erase_step_free(&e);
	return rc;
}

/*
 * A verify difference in erasable flash: the block went down wrong (two
 * flips in one bit position pass Write Memory's XOR).  Erase the unit
 * holding it, write the image's part of that unit again and verify the
 * memory again, a bounded number of times; only then give up.
 */
static int
repair_unit(struct ft_dev *dev, struct ft_span rest, struct ft_write_stats *st)
{
	struct ft_erase_unit *unit = NULL, *others = NULL;
	struct ft_seglist part = { NULL, 0 };
	size_t n = 0, nothers = 0;
	uint64_t done = 0;
	uint32_t stop;
	int rc;

	ft_warn(dev->ctx, "%s; erasing that page and writing it again",
	    dev->ctx->detail);
	rc = ft_plan_range(dev->ctx, &dev->info.flash, dev->mismatch_addr, 1,
	    &unit, &n);
	/* The image's part of that unit: the rest minus every other unit. */
	if (rc == 0)
		rc = ft_plan_outside(dev->ctx, &dev->info.flash, unit, n,
		    &others, &nothers);
	if (rc == 0 && ft_span_without_units(rest, others, nothers,
	    &part) != 0)
		rc = ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	if (rc == 0)
		rc = ft_core_erase_units(dev, unit, 1, NULL);
	if (rc == 0) {
		st->units_erased++;
		rc = ft_core_write_span(dev, ft_seglist_span(&part), 1, st,
		    &stop);
	}
	if (rc == 0)
		rc = ft_core_verify(dev, rest, &done, ft_span_bytes(rest));
	ft_seglist_free(&part);
	free(unit);
	free(others);
	return rc;
}

static int
verify_memory(struct ft_dev *dev, const struct ft_memory *g,
    const struct ft_write_opts *opts, struct ft_span rest, uint64_t *done,
    uint64_t total, struct ft_write_stats *st)
{
	unsigned attempt;
	int rc = ft_core_verify(dev, rest, done, total);

	for (attempt = 0; rc == FT_E_VERIFY && attempt < dev->retries &&
	    g->erasable && !opts->no_erase && !dev->sequential_write;
	    attempt++)
		rc = repair_unit(dev, rest, st);
	if (rc == FT_E_NOT_SUPPORTED) {
		/* Written; this device cannot show it back. */
		st->bytes_unverified += ft_span_bytes(rest);
		ft_strlcpy(st->unverified_why, dev->ctx->detail,
		    sizeof(st->unverified_why));
		rc = 0;
	}
	return rc;
}

int
ft_write(struct ft_dev *dev, const struct ft_image *img,
    const struct ft_write_opts *opts, struct ft_write_stats *stats)
{
	struct ft_write_stats st;
	struct ft_memories mem;
	uint64_t done = 0, total;
	size_t i;
	int rc;

	memset(&st, 0, sizeof(st));
	ft_clear_detail(dev->ctx);
	rc = ft_memories_plan(dev, img, &mem);
	total = mem.bytes;
	for (i = 0; rc == 0 && i < mem.n; i++) {
		const struct ft_memory *g = &mem.group[i];
		struct ft_seglist rest = { NULL, 0 };
		struct ft_mass_plan kept;
		uint64_t kept_bytes;

		memset(&kept, 0, sizeof(kept));
		rc = ft_memories_enter(dev, &mem, g);
		if (rc == 0)
			rc = write_memory(dev, g, opts, &st, &rest, &kept);
		kept_bytes = ft_span_bytes(ft_seglist_span(&kept.kept));
		if (rc == 0 && opts->verify) {
			/* Units found unchanged were compared already;
			 * contents written back count on top. */
			done += ft_span_bytes(g->view) + kept_bytes -
			    ft_span_bytes(ft_seglist_span(&rest));
			total += kept_bytes;
			rc = verify_memory(dev, g, opts,
			    ft_seglist_span(&rest), &done, total, &st);
		}
		ft_seglist_free(&rest);
		ft_mass_plan_free(&kept);
	}
	st.verified = rc == 0 && opts->verify && st.bytes_unverified == 0;
	rc = mem.group != NULL ? ft_memories_done(dev, &mem, rc) : rc;
	if (stats != NULL)
		*stats = st;
	return rc;
}
