/*
 * katapult/transport.c - the Katapult bootloader behind the core's
 * operations.
 *
 * Katapult has no erase command: flash_write_block() erases a page
 * when the page's first block arrives and differs from what is there
 * (src/stm32/flash.c), and the RP2040 erases a 4 KiB sector when the
 * sector's first 256-byte page is flushed (src/rp2040/flash.c).  So:
 *  - erase units are those pages and sectors, from the application
 *    start (which CONNECT reports) to the end of the flash; the layout
 *    starts there, so the core refuses image data below it;
 *  - erase marks units; the first write into a marked unit starts at
 *    the unit's first block: the image's, or all 0xFF when the core
 *    skips it as blank, which erases just the same;
 *  - a unit still marked when it is read (verify) or when the session
 *    ends is opened the same way, so that it reads erased;
 *  - check_erased() looks at a quarter of a page only (katapult.md
 *    1.12): a page whose first quarter is blank is taken as erased and
 *    a later block lands on old data, which Katapult refuses (ERROR).
 *    The unit is then erased for certain (force_erase) and written
 *    again from its first block; a unit the core finds wrong at verify
 *    is erased the same way when the core writes it again.
 *  - program once (ECC flash: G0, G4, H7): a double word (H7: a flash
 *    word) takes one program between erases, even all ones; a second
 *    is refused with PROGERR and, as Katapult never clears FLASH_SR,
 *    every later program and erase fails (PGSERR) until a reset: the
 *    board is stuck in Katapult, and the same page refuses again after
 *    the reset (RM0440 3.3.7; Katapult src/stm32/flash.c).  Opening a
 *    unit with all 0xFF programs its first block, and a page that reads
 *    blank is not erased by Katapult: -o, then -w into the same page,
 *    programmed that block twice and stopped the board.  So there, every
 *    unit is erased for certain before anything is programmed into it
 *    (open_once), whether or not the core asked for an erase;
 *  - read is REQUEST_BLOCK, never outside the flash (reading unmapped
 *    memory hard-faults the MCU), after SEND_EOF when blocks were sent
 *    (the RP2040 buffers its last page until then);
 *  - go and reset are COMPLETE.  The transport never sends it by itself:
 *    after a failure the board stays in Katapult, ready for a retry.
 */
#include <stdlib.h>
#include <string.h>

#include "katapult.h"
#include "dict.h"

/* The RP2040's page buffer (src/rp2040/flash.c PAGE_SIZE). */
/* MCUs not in the table whose flash programs once (ECC), by name. */
static const char *const once_prefixes[] = { "stm32g0", "stm32g4",
    "stm32h7" };
#define RP2040_PAGE 256u
/* Where Cortex-M stacks live (a vector table's first word). */
#define SRAM_BASE 0x20000000u
#define SRAM_SPAN 0x00200000u

static struct ft_kp_session *
sess(struct ft_dev *dev)
{
	return dev->priv;
}

static int
all_ff(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return 0;
	return 1;
}

/* The units of full from start on; start inside a unit cuts it. */
static void
trim_layout(const struct ft_layout *full, uint32_t start,
    struct ft_layout *out)
{
	uint32_t a = full->base;
	unsigned i;

	memset(out, 0, sizeof(*out));
	out->base = start;
	for (i = 0; i < full->nruns && out->nruns < FT_MAX_RUNS; i++) {
		const struct ft_run *r = &full->runs[i];
		uint64_t end = (uint64_t)a + (uint64_t)r->size * r->count;
		uint32_t skip, part;

		if (end <= start) {
			a = (uint32_t)end;
			continue;
		}
		skip = start > a ? (start - a) / r->size : 0;
		part = start > a ? (start - a) % r->size : 0;
		if (part != 0) {
			out->runs[out->nruns].size = r->size - part;
			out->runs[out->nruns++].count = 1;
			skip++;
		}
		if (r->count > skip && out->nruns < FT_MAX_RUNS) {
			out->runs[out->nruns].size = r->size;
			out->runs[out->nruns++].count = r->count - skip;
		}
		a = (uint32_t)end;
	}
}

/* The flash as Katapult's table (or --layout) knows it. */
static int
set_layout(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	struct ft_kp_session *s = sess(dev);
	struct ft_layout full;
	unsigned i;

	memset(&full, 0, sizeof(full));
	if (opts->layout != NULL) {
		full = *opts->layout;
	} else if (s->mcu != NULL) {
		full.base = s->mcu->flash_base;
		for (i = 0; i < FT_MAX_RUNS && s->mcu->runs[i].count > 0; i++)
			full.runs[full.nruns++] = s->mcu->runs[i];
	} else {
		ft_warn(dev->ctx, "MCU \"%s\" is not in flashtool's Katapult "
		    "table: give its flash with --layout BASE:RUNS to read "
		    "or write it", s->conn.mcu);
		return 0;
	}
	s->flash_base = full.base;
	s->flash_end = (uint32_t)(full.base + ft_layout_size(&full));
	if (s->conn.app_start < full.base ||
	    s->conn.app_start >= s->flash_end)
		return ft_fail(dev->ctx, FT_E_PROTOCOL, "Katapult's "
		    "application start 0x%08x is outside the flash "
		    "0x%08x-0x%08x",
		    s->conn.app_start, s->flash_base, s->flash_end - 1);
	trim_layout(&full, s->conn.app_start, &dev->info.flash);
	if (dev->info.flash.nruns > 0 &&
	    dev->info.flash.runs[0].count == 1 &&
	    full.nruns > 0 && dev->info.flash.runs[0].size < full.runs[0].size)
		ft_warn(dev->ctx, "the application start 0x%08x is not at a "
		    "page boundary: Katapult cannot erase its first page",
		    s->conn.app_start);
	s->nunits = ft_layout_units(&dev->info.flash);
	s->unit_state = calloc(s->nunits + 1, 1);
	if (s->unit_state == NULL)
		return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
	return 0;
}

static void
fill_info(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	struct ft_kp_session *s = sess(dev);
	struct ft_katapult_info *kp = &dev->info.kp;

	dev->info.transport = FT_TRANSPORT_KATAPULT;
	ft_strlcpy(dev->info.name, s->conn.mcu, sizeof(dev->info.name));
	dev->info.bl_version = (uint8_t)((s->conn.proto >> 12 & 0xF0) |
	    (s->conn.proto >> 8 & 0x0F));
	kp->proto = s->conn.proto;
	kp->app_start = s->conn.app_start;
	kp->block_size = s->conn.block_size;
	ft_strlcpy(kp->version, s->conn.version, sizeof(kp->version));
	kp->has_version = s->conn.has_version;
	kp->flash_base = s->flash_base;
	kp->flash_size = s->flash_end - s->flash_base;
	kp->known_mcu = s->mcu != NULL;
	if (s->link.can) {
		ft_strlcpy(kp->link, "can", sizeof(kp->link));
		ft_strlcpy(kp->can_iface, s->link.name, sizeof(kp->can_iface));
	} else {
		ft_strlcpy(kp->link, s->usb ? "usb" : "uart",
		    sizeof(kp->link));
		ft_strlcpy(kp->port, s->link.name, sizeof(kp->port));
		kp->baud = s->link.baud;
	}
	memcpy(kp->uuid, s->uuid, sizeof(kp->uuid));
	kp->has_uuid = s->has_uuid;
	kp->requested = s->requested;
	(void)opts;
}

static int
kp_open(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	struct ft_kp_session *s = sess(dev);
	int rc;

	ft_kp_link_init(&s->link, dev->ctx);
	s->shadow_unit = -1;
	ft_kp_rx_reset(&s->rx);
	rc = ft_kp_enter(s, opts);
	if (rc < 0)
		return rc;
	s->block = s->conn.block_size;
	s->mcu = ft_kp_mcu_find(s->conn.mcu);
	rc = set_layout(dev, opts);
	if (rc < 0)
		return rc;
	fill_info(dev, opts);
	dev->max_read = s->block;
	dev->max_write = s->block;
	dev->write_align = s->block;
	return 0;
}

/* Does this flash take one program per double word between erases? */
static int
program_once(const struct ft_kp_session *s)
{
	size_t i;

	if (s->mcu != NULL)
		return s->mcu->program_once;
	for (i = 0; i < sizeof(once_prefixes) / sizeof(once_prefixes[0]);
	    i++)
		if (strncmp(s->conn.mcu, once_prefixes[i],
		    strlen(once_prefixes[i])) == 0)
			return 1;
	return 0;
}

/* A block that differs from want and is not blank (force_erase). */
static void
make_marker(uint8_t *z, const uint8_t *want, const uint8_t *have, size_t n)
{
	static const uint8_t fills[] = { 0x00, 0x55, 0xAA };
	size_t i;

	for (i = 0; i < sizeof(fills); i++) {
		memset(z, fills[i], n);
		if (memcmp(z, want, n) != 0 &&
		    (have == NULL || memcmp(z, have, n) != 0))
			return;
	}
}

/* Find the unit holding addr: its index and start. */
static int
unit_of(struct ft_dev *dev, uint32_t addr, uint32_t *idx, uint32_t *start,
    uint32_t *size)
{
	if (ft_layout_find(&dev->info.flash, addr, idx, start, size) != 0 ||
	    *idx >= sess(dev)->nunits)
		return ft_fail_at(dev->ctx, FT_E_RANGE, addr, "0x%08x is not "
		    "in Katapult's application area 0x%08x-0x%08llx", addr,
		    dev->info.flash.base, (unsigned long long)
		    dev->info.flash.base + ft_layout_size(&dev->info.flash) -
		    1);
	return 0;
}

static unsigned
block_timeout(struct ft_kp_session *s, int may_erase)
{
	(void)s;
	return may_erase ? KP_ERASE_TIMEOUT_MS : KP_WRITE_TIMEOUT_MS;
}

/* The shadow follows the unit being written (for force_erase). */
static int
shadow_for(struct ft_dev *dev, uint32_t idx, uint32_t start, uint32_t size)
{
	struct ft_kp_session *s = sess(dev);
	uint8_t *grown, *have;

	if (s->shadow_unit == (int64_t)idx)
		return 0;
	s->rewrite_pending = 0;
	if (size > s->shadow_size) {
		grown = realloc(s->shadow, size);
		if (grown == NULL)
			return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
		s->shadow = grown;
		have = realloc(s->shadow_have, size / s->block + 1);
		if (have == NULL)
			return ft_fail(dev->ctx, FT_E_NOMEM, "out of memory");
		s->shadow_have = have;
	}
	s->shadow_size = size;
	s->shadow_start = start;
	s->shadow_unit = idx;
	memset(s->shadow_have, 0, size / s->block + 1);
	return 0;
}

static void
shadow_keep(struct ft_kp_session *s, uint32_t addr, const uint8_t *data)
{
	uint32_t k = (addr - s->shadow_start) / s->block;

	memcpy(s->shadow + (addr - s->shadow_start), data, s->block);
	s->shadow_have[k] = 1;
}

/*
 * Erase the unit for certain, ending with its first block first (its
 * data, or 0xFF).  Katapult erases when the first block differs from
 * flash, unless check_erased() finds the first quarter blank: then the
 * quarter is made non-blank first, with a marker block where nothing
 * was programmed since the last erase, so that no cell is programmed
 * twice (the first block may have been: all ones, by an opening).  Not
 * needed on the RP2040, whose flush always erases.  read: the first
 * block as read already, or NULL.
 */
static int
force_erase(struct ft_dev *dev, uint32_t idx, uint32_t start, uint32_t size,
    const uint8_t *first, const uint8_t *read)
{
	struct ft_kp_session *s = sess(dev);
	uint8_t have[FT_KP_BLOCK_MAX], z[FT_KP_BLOCK_MAX];
	uint32_t k, quarter = size / 4 / s->block;
	int rc;

	if (s->mcu != NULL && s->mcu->model == FT_KP_WRITE_SECTOR_BUFFER)
		return ft_kp_send_block(s, start, first, KP_ERASE_TIMEOUT_MS);
	if (read != NULL)
		memcpy(have, read, s->block);
	else if ((rc = ft_kp_request_block(s, start, have)) < 0)
		return rc;
	if (!all_ff(have, s->block)) {
		make_marker(z, first, have, s->block);
		rc = ft_kp_send_block(s, start, z, KP_ERASE_TIMEOUT_MS);
	} else {
		/* A block of the quarter this session left alone. */
		for (k = 1; k < quarter; k++)
			if (s->shadow_unit != (int64_t)idx ||
			    !s->shadow_have[k])
				break;
		make_marker(z, first, NULL, s->block);
		rc = k < quarter ? ft_kp_send_block(s, start + k * s->block,
		    z, KP_WRITE_TIMEOUT_MS) : 0;
		/* Refused: that block holds data, the quarter is not blank. */
		if (rc == FT_E_NACK && s->frame.code == FT_KP_ERROR)
			rc = 0;
	}
	if (rc == 0)
		rc = ft_kp_send_block(s, start, first, KP_ERASE_TIMEOUT_MS);
	return rc;
}

/*
 * Program-once flash: erase the unit for certain before its first block
 * goes in.  Katapult erases when the first block differs from flash and
 * check_erased() sees data in the first quarter; a first block that
 * reads blank may still have been programmed (all ones: an opening here
 * or by -o, or flashtool.py, which sends blank blocks too), and one
 * equal to ours is taken as a retransmission over whatever the rest of
 * the page holds.  Only a first block holding other data is sent as it
 * is.  Cost: a read of the first block (none when the core's compare
 * just read it), and a marker and an erase for a unit that reads blank.
 */
static int
open_once(struct ft_dev *dev, uint32_t idx, uint32_t start, uint32_t size,
    const uint8_t *first)
{
	struct ft_kp_session *s = sess(dev);
	uint8_t have[FT_KP_BLOCK_MAX];
	int rc = 0;

	if (s->cache_valid && s->cache_addr == start)
		memcpy(have, s->cache, s->block);
	else
		rc = ft_kp_request_block(s, start, have);
	if (rc < 0)
		return rc;
	if (!all_ff(have, s->block) && memcmp(have, first, s->block) != 0)
		return ft_kp_send_block(s, start, first, block_timeout(s, 1));
	return force_erase(dev, idx, start, size, first, have);
}

/*
 * The first block into a marked unit: its own data (first), or 0xFF.
 * Katapult erases the unit then (or knows it blank).
 */
static int
open_unit(struct ft_dev *dev, uint32_t idx, uint32_t start, uint32_t size,
    const uint8_t *first)
{
	struct ft_kp_session *s = sess(dev);
	uint8_t ff[FT_KP_BLOCK_MAX];
	int rc;

	memset(ff, 0xFF, sizeof(ff));
	if (first == NULL)
		first = ff;
	rc = shadow_for(dev, idx, start, size);
	if (rc == 0 && (s->unit_state[idx] & KP_UNIT_FORCE))
		rc = force_erase(dev, idx, start, size, first, NULL);
	else if (rc == 0 && program_once(s))
		rc = open_once(dev, idx, start, size, first);
	else if (rc == 0)
		rc = ft_kp_send_block(s, start, first, block_timeout(s, 1));
	if (rc < 0)
		return rc;
	s->unit_state[idx] = KP_UNIT_OPENED;
	memset(s->shadow_have, 0, size / s->block + 1);
	shadow_keep(s, start, first);
	return 0;
}

/*
 * A block refused on a unit that was opened: the unit was not erased
 * (check_erased() saw a blank first quarter over old data).  Erase it
 * for certain and send again what this session wrote into it.
 */
static int
rewrite_unit(struct ft_dev *dev, uint32_t idx, uint32_t addr,
    const uint8_t *data)
{
	struct ft_kp_session *s = sess(dev);
	uint8_t first[FT_KP_BLOCK_MAX];
	uint32_t k, nblocks = s->shadow_size / s->block;
	int rc;

	if (!s->rewrite_pending)
		ft_warn(dev->ctx, "block 0x%08x refused: the page "
		    "0x%08x-0x%08x was not erased (Katapult looks at a quarter "
		    "of a page to decide); erasing it and writing it again "
		    "from its first block", addr, s->shadow_start,
		    s->shadow_start + s->shadow_size - 1);
	/* Until all of it is back, the next attempt starts over. */
	s->rewrite_pending = 1;
	memcpy(first, s->shadow, s->block);
	if (!s->shadow_have[0])
		memset(first, 0xFF, s->block);
	rc = force_erase(dev, idx, s->shadow_start, s->shadow_size, first,
	    NULL);
	for (k = 1; rc == 0 && k < nblocks; k++)
		if (s->shadow_have[k])
			rc = ft_kp_send_block(s, s->shadow_start + k * s->block,
			    s->shadow + k * s->block, KP_WRITE_TIMEOUT_MS);
	if (rc == 0)
		rc = ft_kp_send_block(s, addr, data, KP_WRITE_TIMEOUT_MS);
	if (rc == 0) {
		shadow_keep(s, addr, data);
		s->rewrite_pending = 0;
	}
	return rc;
}

static int
write_one(struct ft_dev *dev, uint32_t addr, const uint8_t *data)
{
	struct ft_kp_session *s = sess(dev);
	uint32_t idx, start, size;
	int rc;

	rc = unit_of(dev, addr, &idx, &start, &size);
	if (rc < 0)
		return rc;
	/* Program once: a unit written unerased is opened all the same. */
	if ((s->unit_state[idx] & KP_UNIT_PENDING) || (program_once(s) &&
	    !(s->unit_state[idx] & KP_UNIT_OPENED))) {
		rc = open_unit(dev, idx, start, size, addr == start ? data :
		    NULL);
		if (rc < 0 || addr == start)
			goto done;
	}
	rc = shadow_for(dev, idx, start, size);
	if (rc == 0 && s->rewrite_pending && addr != start) {
		rc = rewrite_unit(dev, idx, addr, data);
		goto done;
	}
	s->rewrite_pending = 0;
	if (rc == 0)
		rc = ft_kp_send_block(s, addr, data, block_timeout(s,
		    addr == start));
	if (rc == FT_E_NACK && s->frame.code == FT_KP_ERROR && addr != start)
		rc = rewrite_unit(dev, idx, addr, data);
	if (rc == 0) {
		shadow_keep(s, addr, data);
		if (addr == start)
			s->unit_state[idx] |= KP_UNIT_OPENED;
	}
done:
	s->has_failed = rc < 0;
	s->failed_addr = addr;
	if (rc == FT_E_NACK && s->frame.code == FT_KP_ERROR && program_once(s))
		(void)ft_fail_more(dev->ctx, rc, " (on this ECC flash one "
		    "refused program makes Katapult refuse every write until "
		    "a reset: if it keeps refusing, press reset twice quickly "
		    "and run the same command)");
	return rc;
}

static int
kp_write(struct ft_dev *dev, uint32_t addr, const uint8_t *buf, uint32_t len)
{
	struct ft_kp_session *s = sess(dev);
	uint32_t off;
	int rc = 0;

	if (addr % s->block != 0 || len % s->block != 0)
		return ft_fail_at(dev->ctx, FT_E_INVALID, addr, "write "
		    "0x%08x+%u is not in whole %u-byte blocks", addr, len,
		    s->block);
	for (off = 0; off < len && rc == 0; off += s->block)
		rc = write_one(dev, addr + off, buf + off);
	if (rc < 0)
		s->failed = 1;
	return rc;
}

static int
kp_erase(struct ft_dev *dev, const struct ft_erase_unit *units, size_t n)
{
	struct ft_kp_session *s = sess(dev);
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t *st;

		if (units[i].index >= s->nunits)
			return ft_fail_at(dev->ctx, FT_E_RANGE, units[i].addr,
			    "erase 0x%08x: outside Katapult's application "
			    "area", units[i].addr);
		st = &s->unit_state[units[i].index];
		*st |= KP_UNIT_PENDING;
		/* Opened before: make sure the next opening erases. */
		if (*st & KP_UNIT_OPENED)
			*st |= KP_UNIT_FORCE;
	}
	/* The cache stays: marking changes no flash (a send clears it). */
	return 0;
}

/* Unit idx of the layout: its start and size (walking the runs). */
static int
unit_at(const struct ft_layout *l, uint32_t idx, uint32_t *start,
    uint32_t *size)
{
	uint64_t a = l->base;
	unsigned i;

	for (i = 0; i < l->nruns; i++) {
		if (idx < l->runs[i].count) {
			*start = (uint32_t)(a + (uint64_t)idx *
			    l->runs[i].size);
			*size = l->runs[i].size;
			return 0;
		}
		idx -= l->runs[i].count;
		a += (uint64_t)l->runs[i].count * l->runs[i].size;
	}
	return -1;
}

/* Open every marked unit that starts below end (all: UINT64_MAX). */
static int
open_marked(struct ft_dev *dev, uint64_t end, int64_t except)
{
	struct ft_kp_session *s = sess(dev);
	uint32_t idx, start, size;
	int rc = 0;

	for (idx = 0; idx < s->nunits && rc == 0; idx++) {
		if (!(s->unit_state[idx] & KP_UNIT_PENDING))
			continue;
		if (unit_at(&dev->info.flash, idx, &start, &size) != 0 ||
		    start >= end)
			break;
		if ((int64_t)start == except)
			continue;
		rc = open_unit(dev, idx, start, size, NULL);
	}
	return rc;
}

/* Is addr in the RP2040 page the last block went to? */
static int
in_buffered_page(const struct ft_kp_session *s, uint32_t addr)
{
	return s->mcu != NULL && s->mcu->model == FT_KP_WRITE_SECTOR_BUFFER &&
	    addr / RP2040_PAGE == s->failed_addr / RP2040_PAGE;
}

/*
 * Before a read: marked units up to addr are opened (the core is done
 * writing there: what it skipped is blank), except the unit whose first
 * block the core is about to send again after a failure; then blocks
 * still buffered reach the flash (SEND_EOF), unless the read is the
 * core's look at a block that failed in the RP2040's page buffer, which
 * the next attempt completes without a second erase of its sector.
 */
static int
settle(struct ft_dev *dev, uint32_t addr)
{
	struct ft_kp_session *s = sess(dev);
	uint32_t pages;
	int rc;

	rc = open_marked(dev, (uint64_t)addr + 1, s->has_failed ?
	    (int64_t)s->failed_addr : -1);
	/* One try: the core retries the read, and with it this. */
	if (rc == 0 && s->dirty && !(s->has_failed &&
	    in_buffered_page(s, addr)))
		rc = ft_kp_send_eof(s, 1, &pages);
	return rc;
}

static int
kp_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	struct ft_kp_session *s = sess(dev);
	uint32_t a, off, n;
	int rc;

	if (s->flash_end == 0)
		return ft_fail_at(dev->ctx, FT_E_NOT_SUPPORTED, addr, "read "
		    "0x%08x: the flash of \"%s\" is unknown (--layout)", addr,
		    s->conn.mcu);
	if (addr < s->flash_base || (uint64_t)addr + len > s->flash_end)
		return ft_fail_at(dev->ctx, FT_E_RANGE, addr, "read 0x%08x+%u: "
		    "outside the flash 0x%08x-0x%08x (REQUEST_BLOCK there "
		    "would hard-fault the MCU)", addr, len, s->flash_base,
		    s->flash_end - 1);
	rc = settle(dev, addr);
	for (off = 0; rc == 0 && off < len; off += n) {
		a = addr + off - (addr + off) % s->block;
		n = a + s->block - (addr + off);
		if (n > len - off)
			n = len - off;
		if (!s->cache_valid || s->cache_addr != a) {
			s->cache_valid = 0;
			rc = ft_kp_request_block(s, a, s->cache);
			if (rc < 0)
				break;
			s->cache_addr = a;
			s->cache_valid = 1;
		}
		memcpy(buf + off, s->cache + (addr + off - a), n);
	}
	return rc;
}

/* After COMPLETE went unanswered: did the application start? */
static int
left_after_all(struct ft_dev *dev)
{
	struct ft_kp_session *s = sess(dev);
	int rc;

	ft_sleep_us(200 * 1000);
	ft_kp_link_drain(&s->link);
	ft_kp_rx_reset(&s->rx);
	rc = ft_kp_connect(s, 1, KP_PROBE_TIMEOUT_MS);
	if (rc == 0)
		return ft_fail(dev->ctx, FT_E_STAYED, "COMPLETE: no answer, "
		    "and Katapult still answers CONNECT: the application did "
		    "not start");
	ft_warn(dev->ctx, "COMPLETE was not acknowledged, but Katapult no "
	    "longer answers: the application started");
	return 0;
}

static int
kp_go(struct ft_dev *dev, uint32_t addr)
{
	struct ft_kp_session *s = sess(dev);
	uint32_t pages;
	int rc;

	if (addr != 0 && addr != s->conn.app_start)
		return ft_fail(dev->ctx, FT_E_NOT_SUPPORTED, "Katapult starts "
		    "only its application, at 0x%08x", s->conn.app_start);
	rc = open_marked(dev, UINT64_MAX, -1);
	if (rc == 0 && s->dirty)
		rc = ft_kp_send_eof(s, KP_COMMAND_TRIES, &pages);
	if (rc < 0)
		return rc;
	rc = ft_kp_complete(s);
	if (rc == FT_E_TIMEOUT)
		rc = left_after_all(dev);
	else if (rc == FT_E_IO && !s->link.can)
		/* A USB device that reset at once took its tty along. */
		rc = 0;
	if (rc == 0)
		s->completed = 1;
	return rc;
}

static int
kp_reset(struct ft_dev *dev)
{
	return kp_go(dev, 0);
}

static int
kp_resync(struct ft_dev *dev)
{
	struct ft_kp_session *s = sess(dev);

	ft_kp_link_drain(&s->link);
	ft_kp_rx_reset(&s->rx);
	s->cache_valid = 0;
	return 0;
}

/* A vector table whose reset vector points below the application. */
static int
linked_below(const struct ft_kp_session *s, const struct ft_segment *first)
{
	uint32_t sp, reset;

	if (first->addr != s->conn.app_start || first->len < 8)
		return 0;
	sp = ft_get_le32(first->data);
	reset = ft_get_le32(first->data + 4);
	return sp > SRAM_BASE && sp <= SRAM_BASE + SRAM_SPAN && sp % 4 == 0 &&
	    (reset & 1) && (reset & ~1u) >= s->flash_base &&
	    (reset & ~1u) < s->conn.app_start;
}

/*
 * Before anything is erased: the flash must be known, the image must
 * start at or above the application start and fit, its vector table
 * must not point into Katapult, and a Klipper build must be for this
 * MCU (its data dictionary says which).
 */
static int
kp_check_image(struct ft_dev *dev, const struct ft_image *img)
{
	struct ft_kp_session *s = sess(dev);
	const struct ft_segment *first = &img->seg[0], *last;
	uint64_t end = (uint64_t)dev->info.flash.base +
	    ft_layout_size(&dev->info.flash);
	struct ft_kp_dict d;
	size_t i;

	if (dev->info.flash.nruns == 0)
		return ft_fail(dev->ctx, FT_E_UNKNOWN_CHIP, "\"%s\" is not in "
		    "flashtool's Katapult table: give its flash layout with "
		    "--layout BASE:RUNS", s->conn.mcu);
	last = first;
	for (i = 1; i < img->nseg; i++) {
		if (img->seg[i].addr < first->addr)
			first = &img->seg[i];
		if ((uint64_t)img->seg[i].addr + img->seg[i].len >
		    (uint64_t)last->addr + last->len)
			last = &img->seg[i];
	}
	if (first->addr < s->conn.app_start)
		return ft_fail_at(dev->ctx, FT_E_RANGE, first->addr, "the "
		    "image starts at 0x%08x, below Katapult's application "
		    "start 0x%08x: it is built for a board without this "
		    "bootloader (in Klipper's menuconfig, the bootloader "
		    "offset must be %u KiB)", first->addr, s->conn.app_start,
		    (s->conn.app_start - s->flash_base) / 1024);
	if ((uint64_t)last->addr + last->len > end)
		return ft_fail_at(dev->ctx, FT_E_RANGE, (uint32_t)end, "the "
		    "image ends at 0x%08llx, past the end of the flash "
		    "0x%08llx: %llu bytes do not fit in Katapult's %llu-byte "
		    "application area", (unsigned long long)last->addr +
		    last->len - 1, (unsigned long long)end - 1,
		    (unsigned long long)last->addr + last->len - end,
		    (unsigned long long)end - s->conn.app_start);
	if (linked_below(s, first))
		return ft_fail_at(dev->ctx, FT_E_INVALID, first->addr, "the "
		    "image's reset vector 0x%08x points into Katapult "
		    "(below 0x%08x): it is linked for a board without the "
		    "bootloader and would not start",
		    ft_get_le32(first->data + 4), s->conn.app_start);
	if (ft_kp_dict_of_image(img, &d) == 1 && d.mcu[0] != '\0' &&
	    strcmp(d.mcu, s->conn.mcu) != 0)
		return ft_fail(dev->ctx, FT_E_INVALID, "the image is Klipper "
		    "%s built for %s, but the device is %s: rebuild it for "
		    "%s (make menuconfig)", d.version[0] ? d.version : "",
		    d.mcu, s->conn.mcu, s->conn.mcu);
	return 0;
}

/*
 * Marked units are opened, buffered blocks flushed: an erase asked for
 * happens, and the RP2040's last page reaches its flash.  Not after a
 * failure or a signal: the device may be gone, and what is left stays
 * as it is (the board stays in Katapult for the next attempt).
 */
static void
kp_close(struct ft_dev *dev)
{
	struct ft_kp_session *s = sess(dev);
	uint32_t pages;

	if ((s->link.tty != NULL || s->link.fd >= 0) &&
	    !ft_cancelled(dev->ctx)) {
		if (!s->failed && !s->completed && s->unit_state != NULL &&
		    open_marked(dev, UINT64_MAX, -1) == 0 && s->dirty)
			(void)ft_kp_send_eof(s, KP_COMMAND_TRIES, &pages);
	}
	ft_kp_link_close(&s->link);
	free(s->unit_state);
	free(s->shadow);
	free(s->shadow_have);
	s->unit_state = NULL;
	s->shadow = NULL;
	s->shadow_have = NULL;
}

const struct ft_transport ft_transport_katapult = {
	.name = "katapult",
	/* Every block read costs a round trip, as a write does. */
	.read_is_cheap = 0,
	.erase_deferred = 1,
	.erase_batch_units = 0,
	.priv_size = sizeof(struct ft_kp_session),
	.open = kp_open,
	.close = kp_close,
	.read = kp_read,
	.write = kp_write,
	.erase = kp_erase,
	.go = kp_go,
	.reset = kp_reset,
	.check_image = kp_check_image,
	.resync = kp_resync,
};
