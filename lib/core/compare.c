/*
 * core/compare.c - reading before erasing and verifying after writing:
 * which erase units already hold the image, which are blank, and whether
 * the flash now holds what was written.  Reads only; never erases or
 * writes.
 *
 * Invariants:
 *  - Read Memory data carries no checksum, so a difference read over a
 *    serial line counts only when every re-read in short frames shows it,
 *    or at once when the bytes read are erased (noise never makes a
 *    block of random data read as blank).
 *  - Where the device can checksum (Get Checksum) comparing costs no
 *    reading; a checksum that does not match is confirmed by reading, so
 *    that a failure names the address.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

/*
 * Over a slow line, the first read of a comparison is short: a new image
 * nearly always differs from the old within its first bytes, and 16 bytes
 * cost their round trips plus 2 ms on the wire where a 256-byte block
 * costs 25 ms (115200 baud).
 */
#define COMPARE_PROBE_BYTES 16u
/*
 * Where reading is cheap (USB), units are read in windows of up to this
 * many bytes of adjacent units: one long read keeps a DfuSe upload in one
 * run (one Set Address) where unit-sized reads shorter than a transfer
 * would each need their own.
 */
#define COMPARE_WINDOW_BYTES (64u * 1024)

static uint32_t
first_difference(const uint8_t *a, const uint8_t *b, uint32_t n)
{
	uint32_t k;

	for (k = 0; k < n; k++)
		if (a[k] != b[k])
			break;
	return k;
}

int
ft_core_flash_differs(struct ft_dev *dev, uint32_t addr, const uint8_t *want,
    uint32_t len, uint8_t *buf, uint32_t *at)
{
	uint32_t off = 0, n, k;
	unsigned again;
	int rc;

	while (off < len) {
		n = len - off < FT_SHORT_FRAME_BYTES ? len - off :
		    FT_SHORT_FRAME_BYTES;
		if (n > dev->max_read)
			n = dev->max_read;
		k = n;
		for (again = 0; again <= dev->retries; again++) {
			rc = ft_core_read_block(dev, addr + off, buf + off, n);
			if (rc < 0)
				return rc;
			k = first_difference(buf + off, want + off, n);
			if (k == n || ft_all_bytes(buf + off, n,
			    ft_core_erased(dev)))
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

/* The span's pieces inside [lo, hi): each as (addr, len, data). */
static int
next_piece(struct ft_span view, size_t *i, uint64_t lo, uint64_t hi,
    uint32_t *addr, uint32_t *len, const uint8_t **data)
{
	for (; *i < view.nseg; (*i)++) {
		const struct ft_segment *sg = &view.seg[*i];
		uint64_t a = sg->addr > lo ? sg->addr : lo;
		uint64_t b = (uint64_t)sg->addr + sg->len;

		if (b > hi)
			b = hi;
		if (b <= a)
			continue;
		*addr = (uint32_t)a;
		*len = (uint32_t)(b - a);
		*data = sg->data + (a - sg->addr);
		(*i)++;
		return 1;
	}
	return 0;
}

/*
 * Compare one erase unit with the image by device checksums: the image's
 * pieces inside the unit, then the whole unit against blank.  Pieces
 * that are not word aligned cannot be checksummed: FT_E_NOT_SUPPORTED.
 */
static int
compare_by_crc(struct ft_dev *dev, struct ft_span view,
    const struct ft_erase_unit *u, enum ft_unit_state *state)
{
	uint64_t end = (uint64_t)u->addr + u->size;
	const uint8_t *data;
	uint8_t *blank;
	uint32_t got, want, a, len;
	int all_equal = 1;
	size_t i = 0;
	int rc;

	while (all_equal && next_piece(view, &i, u->addr, end, &a, &len,
	    &data)) {
		if (a % 4 != 0 || len % 4 != 0)
			return FT_E_NOT_SUPPORTED;
		rc = ft_core_crc_block(dev, a, len, &got);
		if (rc < 0)
			return rc;
		want = ft_crc32_stm(FT_CRC32_STM_INIT, data, len);
		all_equal = got == want;
	}
	if (all_equal) {
		*state = FT_UNIT_UNCHANGED;
		return 0;
	}
	rc = ft_core_crc_block(dev, u->addr, u->size, &got);
	if (rc < 0)
		return rc;
	blank = malloc(u->size);
	if (blank == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	memset(blank, ft_core_erased(dev), u->size);
	want = ft_crc32_stm(FT_CRC32_STM_INIT, blank, u->size);
	free(blank);
	*state = got == want ? FT_UNIT_BLANK : FT_UNIT_DIFFERENT;
	return 0;
}

/* Compare [start, start+len), whose flash contents are in buf. */
static enum ft_unit_state
compare_data(struct ft_span view, uint32_t start, uint32_t len,
    const uint8_t *buf, uint8_t erased)
{
	const uint8_t *data;
	uint32_t a, n;
	size_t i = 0;

	while (next_piece(view, &i, start, (uint64_t)start + len, &a, &n,
	    &data))
		if (memcmp(buf + (a - start), data, n) != 0)
			return ft_all_bytes(buf, len, erased) ? FT_UNIT_BLANK :
			    FT_UNIT_DIFFERENT;
	return FT_UNIT_UNCHANGED;
}

/* A unit read block by block over a slow line. */
struct unit_read {
	struct ft_span view;
	uint32_t start;		/* the unit's first byte */
	const uint8_t *buf;	/* the unit's bytes, as far as read */
	enum ft_unit_state state;
};

static int
unit_block(struct ft_dev *dev, uint32_t addr, const uint8_t *block,
    uint32_t len, void *user)
{
	struct unit_read *r = user;

	(void)block;
	r->state = compare_data(r->view, addr, len, r->buf + (addr - r->start),
	    ft_core_erased(dev));
	/* A block that must be erased decides for the whole unit. */
	return r->state == FT_UNIT_DIFFERENT;
}

/*
 * Over a slow line, read a unit block by block and stop at the first
 * block that proves it must be erased (it differs from the image and is
 * not blank): a new image then costs one block, not the whole unit.
 * With probe, the first read is short (COMPARE_PROBE_BYTES); only the
 * first unit is probed: after a unit that held the image, the next one
 * most likely does too, and a probe would only add a round trip.
 */
static int
compare_by_reading(struct ft_dev *dev, struct ft_span view,
    const struct ft_erase_unit *u, int probe, enum ft_unit_state *state)
{
	uint8_t *buf = malloc(u->size);
	struct unit_read r = { view, u->addr, buf, FT_UNIT_UNCHANGED };
	int rc;

	if (buf == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	rc = ft_core_read_span(dev, "compare", u->addr, u->size, buf,
	    probe ? COMPARE_PROBE_BYTES : 0, unit_block, &r);
	*state = r.state;
	/* Read whole, judged whole: unchanged, blank or different. */
	if (rc == 0)
		*state = compare_data(view, u->addr, u->size, buf,
		    ft_core_erased(dev));
	free(buf);
	return rc < 0 ? rc : 0;
}

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
	return ft_core_read_span(dev, "compare", w->addr, w->len, w->buf, 0,
	    NULL, NULL);
}

/* One unit, by whichever means the device offers. */
static int
compare_unit(struct ft_dev *dev, struct ft_span view,
    const struct ft_erase_unit *units, size_t n, size_t i,
    struct compare_window *w, enum ft_unit_state *state)
{
	int rc = FT_E_NOT_SUPPORTED;

	if (ft_core_can_checksum(dev))
		rc = compare_by_crc(dev, view, &units[i], state);
	if (rc != FT_E_NOT_SUPPORTED)
		return rc;
	if (!dev->tr->read_is_cheap)
		return compare_by_reading(dev, view, &units[i], i == 0, state);
	rc = window_fill(dev, w, units, n, i);
	if (rc == 0)
		*state = compare_data(view, units[i].addr, units[i].size,
		    w->buf + (units[i].addr - w->addr), ft_core_erased(dev));
	return rc;
}

/*
 * Read before erase.  Where comparing is cheap (device checksums, USB
 * uploads) every unit is compared.  Where it means reading the unit over
 * a slow line, comparing goes on only while the units already hold the
 * image (a re-flash, where it saves the write and the verify); the first
 * unit that does not is a new image or a blank chip, where reading the
 * rest costs more than erasing it.
 */
int
ft_core_classify(struct ft_dev *dev, struct ft_span view,
    const struct ft_erase_unit *units, size_t n, enum ft_unit_state *state,
    int *compared)
{
	int cheap = dev->tr->read_is_cheap || ft_core_can_checksum(dev);
	uint64_t total = ft_units_bytes(units, n), done = 0;
	struct compare_window w = { NULL, 0, 0 };
	size_t i;
	int rc = 0;

	*compared = cheap;
	for (i = 0; i < n; i++)
		state[i] = FT_UNIT_DIFFERENT;
	for (i = 0; i < n; i++) {
		rc = compare_unit(dev, view, units, n, i, &w, &state[i]);
		if (rc == FT_E_NOT_SUPPORTED) {
			/* Cannot read before writing (plain DFU): write all. */
			state[i] = FT_UNIT_DIFFERENT;
			ft_clear_detail(dev->ctx);
			*compared = 0;
			rc = 0;
			break;
		}
		if (rc < 0)
			break;
		done += units[i].size;
		ft_progress(dev->ctx, FT_STAGE_READ, done, total);
		if (state[i] != FT_UNIT_UNCHANGED && !cheap)
			break;
	}
	free(w.buf);
	return rc;
}

static int
verify_by_crc(struct ft_dev *dev, const struct ft_segment *s, int *matched)
{
	uint32_t want, got;
	int rc;

	*matched = 0;
	if (!ft_core_can_checksum(dev) || s->addr % 4 != 0 || s->len % 4 != 0)
		return FT_E_NOT_SUPPORTED;
	rc = ft_core_crc_block(dev, s->addr, s->len, &got);
	if (rc < 0)
		return rc;
	want = ft_crc32_stm(FT_CRC32_STM_INIT, s->data, s->len);
	*matched = want == got;
	return 0;
}

struct verify_state {
	const struct ft_segment *seg;	/* a run of adjacent segments */
	size_t nseg;
	uint8_t *want;			/* a block's image bytes, joined */
	uint64_t *done, total;
};

/* The image's bytes for [addr, addr + len) of the run. */
static const uint8_t *
run_bytes(struct verify_state *v, uint32_t addr, uint32_t len)
{
	uint64_t end = (uint64_t)addr + len;
	size_t i;

	for (i = 0; i < v->nseg; i++) {
		const struct ft_segment *s = &v->seg[i];
		uint64_t s_end = (uint64_t)s->addr + s->len;

		if (addr >= s->addr && end <= s_end)
			return s->data + (addr - s->addr);
		/* Straddling segments: join the pieces. */
		if (addr < s_end && end > s->addr) {
			uint64_t lo = addr > s->addr ? addr : s->addr;
			uint64_t hi = end < s_end ? end : s_end;

			memcpy(v->want + (lo - addr), s->data + (lo - s->addr),
			    (size_t)(hi - lo));
		}
	}
	return v->want;
}

static int
verify_block(struct ft_dev *dev, uint32_t addr, const uint8_t *block,
    uint32_t len, void *user)
{
	struct verify_state *v = user;
	const uint8_t *want = run_bytes(v, addr, len);
	uint8_t *again;
	uint32_t k = first_difference(block, want, len);
	int rc = 0;

	/* A difference may be the line's: confirm it by reading again. */
	if (k < len) {
		again = malloc(len);
		if (again == NULL)
			return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
		rc = ft_core_flash_differs(dev, addr, want, len, again, &k);
		if (rc == 1) {
			dev->mismatch_addr = addr + k;
			rc = ft_fail_at(dev->ctx, FT_E_VERIFY, addr + k,
			    "verify failed at 0x%08x: flash has 0x%02x, image "
			    "has 0x%02x", addr + k, again[k], want[k]);
		}
		free(again);
		if (rc < 0)
			return rc;
	}
	*v->done += len;
	ft_progress(dev->ctx, FT_STAGE_VERIFY, *v->done, v->total);
	return 0;
}

/* Segments from first on that follow each other without a gap. */
static size_t
adjacent_run(struct ft_span span, size_t first, uint64_t *len)
{
	size_t j = first + 1;

	*len = span.seg[first].len;
	while (j < span.nseg && span.seg[j].alt == span.seg[first].alt &&
	    (uint64_t)span.seg[first].addr + *len == span.seg[j].addr &&
	    *len + span.seg[j].len <= UINT32_MAX) {
		*len += span.seg[j].len;
		j++;
	}
	return j - first;
}

/*
 * Where the device checksums, segment by segment; otherwise each run of
 * adjacent segments is read as one range (written-back units beside the
 * image cost no address set of their own).
 */
int
ft_core_verify(struct ft_dev *dev, struct ft_span span, uint64_t *done,
    uint64_t total)
{
	struct verify_state v = { NULL, 0, NULL, done, total };
	uint64_t len;
	size_t i, n;
	int rc = 0;

	v.want = malloc(dev->max_read);
	if (v.want == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	for (i = 0; i < span.nseg && rc >= 0; i += n) {
		const struct ft_segment *s = &span.seg[i];
		int matched;

		n = 1;
		len = s->len;
		rc = verify_by_crc(dev, s, &matched);
		if (rc == 0 && matched) {
			*done += s->len;
			ft_progress(dev->ctx, FT_STAGE_VERIFY, *done, total);
			continue;
		}
		if (rc < 0 && rc != FT_E_NOT_SUPPORTED &&
		    !ft_core_retryable(rc))
			break;
		/* A CRC mismatch or failure: read back to name the address. */
		if (rc == FT_E_NOT_SUPPORTED)
			n = adjacent_run(span, i, &len);
		v.seg = s;
		v.nseg = n;
		rc = ft_core_read_span(dev, "verify", s->addr, (uint32_t)len,
		    NULL, 0, verify_block, &v);
	}
	free(v.want);
	return rc < 0 ? rc : 0;
}

int
ft_verify(struct ft_dev *dev, const struct ft_image *img)
{
	struct ft_memories mem;
	uint64_t done = 0;
	size_t i;
	int rc;

	ft_clear_detail(dev->ctx);
	rc = ft_memories_plan(dev, img, &mem);
	if (rc == 0)
		ft_progress(dev->ctx, FT_STAGE_VERIFY, 0, mem.bytes);
	for (i = 0; rc == 0 && i < mem.n; i++) {
		rc = ft_memories_enter(dev, &mem, &mem.group[i]);
		if (rc == 0)
			rc = ft_core_verify(dev, mem.group[i].view, &done,
			    mem.bytes);
	}
	return ft_memories_done(dev, &mem, rc);
}
