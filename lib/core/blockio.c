/*
 * core/blockio.c - the core's block I/O: every transport op the core
 * calls goes through here, retried after a resync, chunked to the sizes
 * the transport declared, and stopped at a block boundary on request.
 * Also the public read, erase, mass erase and CRC calls, which are
 * nothing more than that.
 *
 * Invariants:
 *  - A transport op only ever sees ranges it declared it can take:
 *    reads of at most max_read bytes (aligned to max_read after the
 *    first), erase units in ascending order.
 *  - Every loop over blocks checks the cancel callback between blocks, so
 *    an interrupt stops at a block boundary.
 *  - A failure that ends an operation names the operation and address
 *    (ft_fail_place).
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

/*
 * Erase units per erase op by default: small enough for steady progress
 * reports.
 */
#define ERASE_BATCH_UNITS 16u
/* A serial read that keeps failing is not split below this. */
#define READ_SPLIT_MIN_BYTES 32u
/* Blocks that go in short frames after a failure. */
#define SHORT_FRAMES_AFTER_FAILURE 32u

uint8_t
ft_core_erased(const struct ft_dev *dev)
{
	const struct ft_chip *c = dev->info.chip;

	return c != NULL && (c->quirks & FT_Q_ERASED_ZERO) ? 0x00 : 0xFF;
}

int
ft_all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

int
ft_core_retryable(int rc)
{
	return rc == FT_E_NACK || rc == FT_E_TIMEOUT || rc == FT_E_PROTOCOL;
}

int
ft_core_cancel_point(struct ft_dev *dev, const char *what, uint32_t addr)
{
	if (!ft_cancelled(dev->ctx))
		return 0;
	return ft_fail_at(dev->ctx, FT_E_INTERRUPTED, addr,
	    "%s interrupted before 0x%08x", what, addr);
}

/* Shift one frame's outcome into the rate window. */
static void
note_frame(struct ft_dev *dev, int failed)
{
	dev->recent_fails = dev->recent_fails << 1 | (failed ? 1u : 0u);
	/* FT_RATE_WINDOW is the width of recent_fails. */
	if (dev->recent_frames < FT_RATE_WINDOW)
		dev->recent_frames++;
}

/* Failures among the frames in the window. */
static unsigned
recent_failures(const struct ft_dev *dev)
{
	uint64_t bits = dev->recent_fails;
	unsigned n = 0;

	while (bits != 0) {
		bits &= bits - 1;
		n++;
	}
	return n;
}

void
ft_core_progress(struct ft_dev *dev)
{
	if (!dev->looking)
		note_frame(dev, 0);
	dev->fail_streak = 0;
	dev->progress_ms = ft_now_ms();
	if (dev->short_frames > 0)
		dev->short_frames--;
}

int
ft_core_retry(struct ft_dev *dev, int rc, const char *what, uint32_t addr)
{
	uint64_t stalled;
	int r;

	if (!ft_core_retryable(rc))
		return ft_fail_place(dev->ctx, rc, what, addr);
	/* A retry can wait long on a dead line: a signal stops it here. */
	if (ft_cancelled(dev->ctx))
		return ft_core_cancel_point(dev, what, addr);
	/*
	 * The budget follows progress: while blocks keep succeeding the
	 * operation goes on; a run of failures with none in between, a
	 * long time without one success, or most recent frames failing
	 * ends it.
	 */
	dev->fail_streak++;
	note_frame(dev, 1);
	stalled = ft_now_ms() - dev->progress_ms;
	/*
	 * Giving up ends the operation: its message names it and the
	 * address even when the last failure was the port's own ("write
	 * timed out"), as every other way out does.
	 */
	if (dev->fail_streak > dev->fail_limit) {
		(void)ft_fail_place(dev->ctx, rc, what, addr);
		return ft_fail_more(dev->ctx, rc, " (gave up after %u failures "
		    "in a row)", dev->fail_streak);
	}
	if (dev->recent_frames == FT_RATE_WINDOW &&
	    recent_failures(dev) > FT_RATE_FAIL_MAX) {
		(void)ft_fail_place(dev->ctx, rc, what, addr);
		return ft_fail_more(dev->ctx, rc, " (gave up: %u of the last "
		    "%u frames failed; the line is too noisy)",
		    recent_failures(dev), FT_RATE_WINDOW);
	}
	if (stalled > FT_STALL_LIMIT_MS) {
		(void)ft_fail_place(dev->ctx, rc, what, addr);
		return ft_fail_more(dev->ctx, rc, " (gave up: no block went "
		    "through for %llu s)", (unsigned long long)stalled / 1000);
	}
	dev->short_frames = SHORT_FRAMES_AFTER_FAILURE;
	ft_warn(dev->ctx, "%s at 0x%08x failed (%s); resyncing and retrying",
	    what, addr, dev->ctx->detail);
	if (dev->tr->resync != NULL) {
		r = dev->tr->resync(dev);
		/* A signal during the resync stops here, as between blocks. */
		if (ft_cancelled(dev->ctx))
			return ft_core_cancel_point(dev, what, addr);
		if (r < 0 && !ft_core_retryable(r))
			return ft_fail_place(dev->ctx, r, what, addr);
	}
	return 0;
}

int
ft_core_read_block(struct ft_dev *dev, uint32_t addr, uint8_t *buf,
    uint32_t len)
{
	int rc;

	for (;;) {
		rc = dev->tr->read(dev, addr, buf, len);
		if (rc >= 0) {
			ft_core_progress(dev);
			return 0;
		}
		rc = ft_core_retry(dev, rc, "read", addr);
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

			rc = ft_core_read_block(dev, addr, buf, half);
			if (rc == 0)
				rc = ft_core_read_block(dev, addr + half,
				    buf + half, len - half);
			return rc;
		}
	}
}

int
ft_core_read_span(struct ft_dev *dev, const char *what, uint32_t addr,
    uint32_t len, uint8_t *buf, uint32_t first_max, ft_block_fn fn,
    void *user)
{
	uint8_t *scratch = NULL;
	uint32_t off = 0;
	int rc = 0;

	if (buf == NULL) {
		scratch = malloc(dev->max_read);
		if (scratch == NULL)
			return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	}
	while (off < len && rc == 0) {
		uint32_t a = addr + off;
		/* Keep reads aligned to max_read after the first one. */
		uint32_t n = dev->max_read - (a % dev->max_read);
		uint8_t *block = buf != NULL ? buf + off : scratch;

		if (dev->short_frames > 0 && !dev->tr->read_is_cheap &&
		    n > FT_SHORT_FRAME_BYTES - a % FT_SHORT_FRAME_BYTES)
			n = FT_SHORT_FRAME_BYTES - a % FT_SHORT_FRAME_BYTES;
		if (n > len - off)
			n = len - off;
		if (off == 0 && first_max != 0 && n > first_max)
			n = first_max;
		rc = ft_core_cancel_point(dev, what, a);
		if (rc == 0)
			rc = ft_core_read_block(dev, a, block, n);
		if (rc == 0 && fn != NULL)
			rc = fn(dev, a, block, n, user);
		off += n;
	}
	free(scratch);
	return rc;
}

/* ft_read's progress, block by block. */
static int
read_progress(struct ft_dev *dev, uint32_t addr, const uint8_t *block,
    uint32_t len, void *user)
{
	const uint32_t *start_len = user;

	(void)block;
	ft_progress(dev->ctx, FT_STAGE_READ, (uint64_t)addr + len -
	    start_len[0], start_len[1]);
	return 0;
}

int
ft_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	uint32_t start_len[2] = { addr, len };

	ft_clear_detail(dev->ctx);
	if ((uint64_t)addr + len > (uint64_t)UINT32_MAX + 1)
		return ft_fail(dev->ctx, FT_E_RANGE,
		    "read 0x%08x+%u runs past 4 GiB", addr, len);
	ft_progress(dev->ctx, FT_STAGE_READ, 0, len);
	return ft_core_read_span(dev, "read", addr, len, buf, 0,
	    read_progress, start_len);
}

int
ft_core_erase_units(struct ft_dev *dev, const struct ft_erase_unit *units,
    size_t n, size_t *erased)
{
	uint64_t total = ft_units_bytes(units, n), done = 0;
	size_t i = 0, dummy, per_op = dev->tr->erase_batch_units > 0 ?
	    dev->tr->erase_batch_units : ERASE_BATCH_UNITS;
	int rc;

	if (erased == NULL)
		erased = &dummy;
	*erased = 0;
	ft_progress(dev->ctx, FT_STAGE_ERASE, 0, total);
	while (i < n) {
		size_t batch = n - i < per_op ? n - i : per_op;

		rc = ft_core_cancel_point(dev, "erase", units[i].addr);
		if (rc < 0)
			return rc;
		for (;;) {
			rc = dev->tr->erase(dev, &units[i], batch);
			if (rc >= 0)
				break;
			rc = ft_core_retry(dev, rc, "erase", units[i].addr);
			if (rc < 0)
				return rc;
		}
		ft_core_progress(dev);
		done += ft_units_bytes(&units[i], batch);
		i += batch;
		*erased = i;
		ft_progress(dev->ctx, FT_STAGE_ERASE, done, total);
	}
	return 0;
}

int
ft_core_all_units(struct ft_dev *dev, struct ft_erase_unit **units,
    size_t *n)
{
	return ft_plan_all(dev->ctx, &dev->info.flash, units, n);
}

int
ft_core_mass_erase(struct ft_dev *dev, uint32_t *units_erased)
{
	struct ft_erase_unit *units = NULL;
	size_t n = 0;
	uint64_t size = ft_layout_size(&dev->info.flash);
	int rc = FT_E_NOT_SUPPORTED;

	if (dev->tr->mass_erase != NULL) {
		ft_progress(dev->ctx, FT_STAGE_ERASE, 0, size);
		for (;;) {
			rc = dev->tr->mass_erase(dev);
			if (rc >= 0) {
				ft_core_progress(dev);
				ft_progress(dev->ctx, FT_STAGE_ERASE, size,
				    size);
				*units_erased = ft_layout_units(
				    &dev->info.flash);
				return 0;
			}
			rc = ft_core_retry(dev, rc, "mass erase",
			    dev->info.flash.base);
			if (rc < 0)
				break;
		}
	}
	if (rc != FT_E_NOT_SUPPORTED)
		return rc;
	/* No mass erase on this part (L0/L1): erase every unit instead. */
	ft_info(dev->ctx, "no mass erase on this device: erasing every page");
	rc = ft_core_all_units(dev, &units, &n);
	if (rc == 0)
		rc = ft_core_erase_units(dev, units, n, NULL);
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
	return ft_core_mass_erase(dev, &n);
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
		rc = ft_core_erase_units(dev, units, n, NULL);
	free(units);
	return rc;
}

void
ft_core_note_unwritten(struct ft_dev *dev, int rc,
    const struct ft_erase_unit *units, size_t n, uint32_t stop)
{
	/* Room for the first ranges; the list starts where it matters. */
	char list[200];

	if (ft_plan_unwritten(units, n, stop, list, sizeof(list)) <= 0)
		return;
	if (dev->tr->erase_deferred)
		(void)ft_fail_more(dev->ctx, rc, "; not yet written: %s (the "
		    "bootloader erases a page when its first block arrives: "
		    "pages not reached keep their old contents)", list);
	else
		(void)ft_fail_more(dev->ctx, rc, "; erased but not yet "
		    "written: %s", list);
}

int
ft_core_can_checksum(const struct ft_dev *dev)
{
	return dev->tr->crc != NULL && dev->info.has_checksum;
}

int
ft_core_crc_block(struct ft_dev *dev, uint32_t addr, uint32_t len,
    uint32_t *out)
{
	unsigned failures;
	int rc;

	for (failures = 0;; failures++) {
		rc = dev->tr->crc(dev, addr, len, out);
		if (rc >= 0) {
			ft_core_progress(dev);
			return rc;
		}
		if (rc == FT_E_NOT_SUPPORTED)
			return rc;
		/* A checksum that keeps failing is given up on sooner than
		 * the session: reading back works where it does not. */
		if (failures >= dev->retries && ft_core_retryable(rc))
			rc = ft_fail_more(dev->ctx, rc, " (%u failures)",
			    failures + 1);
		else
			rc = ft_core_retry(dev, rc, "checksum", addr);
		if (rc < 0 && ft_core_retryable(rc)) {
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

/* ft_crc's host-side CRC and progress, block by block. */
struct crc_sum {
	uint32_t crc;
	uint32_t start, len;
};

static int
crc_add(struct ft_dev *dev, uint32_t addr, const uint8_t *block, uint32_t len,
    void *user)
{
	struct crc_sum *c = user;

	c->crc = ft_crc32_stm(c->crc, block, len);
	ft_progress(dev->ctx, FT_STAGE_READ, (uint64_t)addr + len - c->start,
	    c->len);
	return 0;
}

int
ft_crc(struct ft_dev *dev, uint32_t addr, uint32_t len, uint32_t *crc)
{
	struct crc_sum c = { FT_CRC32_STM_INIT, addr, len };
	int rc;

	ft_clear_detail(dev->ctx);
	if (addr % 4 != 0 || len % 4 != 0 || len == 0)
		return ft_fail(dev->ctx, FT_E_INVALID,
		    "CRC range 0x%08x+%u: address and length must be "
		    "non-zero multiples of 4", addr, len);
	if (ft_core_can_checksum(dev)) {
		rc = ft_core_crc_block(dev, addr, len, crc);
		if (rc != FT_E_NOT_SUPPORTED)
			return rc;
	}
	ft_progress(dev->ctx, FT_STAGE_READ, 0, len);
	rc = ft_core_read_span(dev, "CRC", addr, len, NULL, 0, crc_add, &c);
	if (rc == 0)
		*crc = c.crc;
	return rc;
}
