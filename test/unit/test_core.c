/*
 * test_core.c - the core's write, compare, verify and repair logic
 * against a fake transport (ft_open_transport), which keeps a NOR flash
 * in memory (erase sets 0xFF, programming ANDs) and injects NACKs,
 * timeouts, wrong reads and bad programming on the operations a test
 * names.  Every case checks the flash afterwards, not only the return
 * code, and the operations the core asked for.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/core.h"

#define FLASH_BASE 0x08000000u
#define PAGE 1024u
#define PAGES 32u
#define FLASH_SIZE (PAGE * PAGES)
#define BLOCK 256u

/* What the fake does; one per test, reset by setup. */
struct fake {
	uint8_t flash[FLASH_SIZE];
	int read_is_cheap;		/* copied into the table per test */
	int has_mass;
	int has_crc;
	/* Counters. */
	unsigned opens, closes, reads, writes, erases, units_erased;
	unsigned masses, resyncs, crcs;
	/* Faults: the Nth call of an op (1-based; 0: none) fails once. */
	unsigned nack_write_at;
	unsigned nack_write_run;	/* with it: this many in a row */
	/* Write number w fails when w % mod < fails (a noisy line). */
	unsigned nack_write_mod, nack_write_fails;
	unsigned timeout_read_at;
	unsigned garble_read_at;	/* one wrong byte, flash unchanged */
	unsigned nack_erase_always;
	int port_dead;			/* every read: the port's own error */
	/* Writes at this address program a flipped bit (0: none). */
	uint32_t bad_program_addr;
	unsigned bad_program_times;	/* how often; ~0u: always */
	int fail_open;			/* open returns this after claiming */
	int cancel_after_writes;	/* cancel once writes reach it */
	uint32_t write_align;		/* 0: 4 */
	uint32_t max_read;		/* 0: BLOCK */
	/* Every read's address and length, in order (as many as fit). */
	uint32_t read_addr[256], read_len[256];
};

static struct fake F;
static struct ft_ctx *ctx;

struct fake_priv {
	int claimed;		/* what close must release */
};

static int
fake_open(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	struct fake_priv *p = dev->priv;

	(void)opts;
	F.opens++;
	p->claimed = 1;
	if (F.fail_open != 0)
		return ft_fail(dev->ctx, F.fail_open, "fake open fails");
	dev->info.flash.base = FLASH_BASE;
	dev->info.flash.nruns = 1;
	dev->info.flash.runs[0].size = PAGE;
	dev->info.flash.runs[0].count = PAGES;
	dev->info.has_checksum = F.has_crc;
	dev->max_read = F.max_read != 0 ? F.max_read : BLOCK;
	dev->max_write = BLOCK;
	dev->write_align = F.write_align != 0 ? F.write_align : 4;
	return 0;
}

static void
fake_close(struct ft_dev *dev)
{
	struct fake_priv *p = dev->priv;

	/* The core calls close once per open, failed or not. */
	assert_int_equal(p->claimed, 1);
	p->claimed = 0;
	F.closes++;
}

static int
in_flash(uint32_t addr, uint32_t len)
{
	return addr >= FLASH_BASE &&
	    (uint64_t)addr + len <= (uint64_t)FLASH_BASE + FLASH_SIZE;
}

static int
fake_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len)
{
	if (F.reads < 256) {
		F.read_addr[F.reads] = addr;
		F.read_len[F.reads] = len;
	}
	F.reads++;
	assert_true(len <= dev->max_read);
	assert_true(in_flash(addr, len));
	if (F.port_dead)
		return ft_fail(dev->ctx, FT_E_TIMEOUT,
		    "/dev/ttyFAKE: write timed out (2 bytes left)");
	if (F.reads == F.timeout_read_at)
		return ft_fail_at(dev->ctx, FT_E_TIMEOUT, addr,
		    "fake read at 0x%08x: timeout", addr);
	memcpy(buf, F.flash + (addr - FLASH_BASE), len);
	if (F.reads == F.garble_read_at)
		buf[len / 2] ^= 0x10;
	return 0;
}

static int
fake_write(struct ft_dev *dev, uint32_t addr, const uint8_t *buf,
    uint32_t len)
{
	uint32_t i;

	F.writes++;
	assert_true(len <= dev->max_write);
	assert_int_equal(addr % dev->write_align, 0);
	assert_int_equal(len % dev->write_align, 0);
	assert_true(in_flash(addr, len));
	if (F.nack_write_at != 0 && F.writes >= F.nack_write_at &&
	    F.writes < F.nack_write_at + (F.nack_write_run ?
	    F.nack_write_run : 1))
		return ft_fail_at(dev->ctx, FT_E_NACK, addr,
		    "fake write at 0x%08x: NACK", addr);
	if (F.nack_write_mod != 0 &&
	    F.writes % F.nack_write_mod < F.nack_write_fails)
		return ft_fail_at(dev->ctx, FT_E_NACK, addr,
		    "fake write at 0x%08x: NACK", addr);
	for (i = 0; i < len; i++) {
		uint8_t v = buf[i];

		if (addr + i == F.bad_program_addr &&
		    F.bad_program_times > 0) {
			v ^= 0x01;
			if (F.bad_program_times != ~0u)
				F.bad_program_times--;
		}
		/* NOR flash: programming only clears bits. */
		F.flash[addr - FLASH_BASE + i] &= v;
	}
	if (F.cancel_after_writes != 0 &&
	    F.writes >= (unsigned)F.cancel_after_writes)
		F.cancel_after_writes = -1;
	return 0;
}

static int
fake_erase(struct ft_dev *dev, const struct ft_erase_unit *units, size_t n)
{
	size_t i;

	F.erases++;
	if (F.nack_erase_always)
		return ft_fail_at(dev->ctx, FT_E_NACK, units[0].addr,
		    "fake erase at 0x%08x: NACK", units[0].addr);
	for (i = 0; i < n; i++) {
		assert_true(in_flash(units[i].addr, units[i].size));
		if (i > 0)
			assert_true(units[i].addr > units[i - 1].addr);
		memset(F.flash + (units[i].addr - FLASH_BASE), 0xFF,
		    units[i].size);
		F.units_erased++;
	}
	return 0;
}

static int
fake_mass_erase(struct ft_dev *dev)
{
	(void)dev;
	F.masses++;
	memset(F.flash, 0xFF, sizeof(F.flash));
	return 0;
}

static int
fake_crc(struct ft_dev *dev, uint32_t addr, uint32_t len, uint32_t *out)
{
	(void)dev;
	F.crcs++;
	assert_true(in_flash(addr, len));
	*out = ft_crc32_stm(FT_CRC32_STM_INIT, F.flash + (addr - FLASH_BASE),
	    len);
	return 0;
}

static int
fake_resync(struct ft_dev *dev)
{
	(void)dev;
	F.resyncs++;
	return 0;
}

static struct ft_transport fake_tr = {
	.name = "fake",
	.priv_size = sizeof(struct fake_priv),
	.open = fake_open,
	.close = fake_close,
	.read = fake_read,
	.write = fake_write,
	.erase = fake_erase,
	.resync = fake_resync,
};

static int
cancel_now(void *user)
{
	(void)user;
	return F.cancel_after_writes < 0;
}

static int
setup(void **state)
{
	(void)state;
	memset(&F, 0, sizeof(F));
	memset(F.flash, 0xFF, sizeof(F.flash));
	fake_tr.read_is_cheap = 0;
	fake_tr.mass_erase = NULL;
	fake_tr.crc = NULL;
	ctx = ft_ctx_new();
	assert_non_null(ctx);
	ft_set_cancel(ctx, cancel_now, NULL);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ft_ctx_free(ctx);
	return 0;
}

static struct ft_dev *
open_fake(void)
{
	struct ft_open_opts o;
	struct ft_dev *dev = NULL;

	memset(&o, 0, sizeof(o));
	fake_tr.read_is_cheap = F.read_is_cheap;
	fake_tr.mass_erase = F.has_mass ? fake_mass_erase : NULL;
	fake_tr.crc = F.has_crc ? fake_crc : NULL;
	assert_int_equal(ft_open_transport(ctx, &fake_tr, &o, &dev), 0);
	return dev;
}

/* An image of n bytes at addr with a pattern that is never blank. */
static struct ft_image *
make_image(uint32_t addr, uint32_t n, uint8_t seed)
{
	struct ft_image *img = NULL;
	uint8_t *buf = malloc(n);
	uint32_t i;

	assert_non_null(buf);
	for (i = 0; i < n; i++)
		buf[i] = (uint8_t)(i * 7 + seed) | 0x01;
	assert_int_equal(ft_image_from_buffer(ctx, "test.bin", buf, n,
	    FT_FMT_BINARY, addr, &img), 0);
	free(buf);
	return img;
}

/* The flash holds img and, outside it, what was there before. */
static void
assert_flash_holds(const struct ft_image *img)
{
	const struct ft_segment *s = ft_image_segment(img, 0);

	assert_memory_equal(F.flash + (s->addr - FLASH_BASE), s->data,
	    s->len);
}

static void
test_write_blank(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE + 100, 3000, 1);
	struct ft_dev *dev = open_fake();

	(void)state;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_flash_holds(img);
	/*
	 * 100..3099 touches pages 0-3.  Over a slow line only the first
	 * page is read: blank, so it is written without an erase; reading
	 * the rest would cost more than erasing them.
	 */
	assert_int_equal(st.units_erased, 3);
	assert_int_equal(F.units_erased, 3);
	assert_int_equal(st.units_written, 4);
	assert_true(st.verified);
	ft_close(dev);
	assert_int_equal(F.closes, 1);
	ft_image_free(img);
}

/*
 * A segment that starts at 4 mod 8 on a part that programs 8-byte units
 * (F7: AN2606 Table 7, where an unaligned write fails and so does every
 * later one): the write starts on the unit below, padded with the
 * erased value, which programs nothing.
 */
static void
test_write_aligns_segment_start(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE + 2052, 60, 3);
	struct ft_dev *dev;

	(void)state;
	F.write_align = 8;
	dev = open_fake();
	/* fake_write asserts every address and length is 8-aligned. */
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_flash_holds(img);
	assert_int_equal(st.bytes_written, 64);
	assert_int_equal(F.flash[2048], 0xFF);
	assert_int_equal(F.flash[2051], 0xFF);
	assert_int_equal(F.flash[2112], 0xFF);
	ft_close(dev);
	ft_image_free(img);
}

static void
test_rewrite_unchanged(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE, 4096, 2);
	struct ft_dev *dev = open_fake();
	unsigned writes;

	(void)state;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	writes = F.writes;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_int_equal(F.writes, writes);
	assert_int_equal(st.units_unchanged, 4);
	assert_int_equal(st.units_erased, 0);
	assert_int_equal(st.bytes_written, 0);
	assert_true(st.verified);
	ft_close(dev);
	ft_image_free(img);
}

static void
test_new_image_over_old(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *old = make_image(FLASH_BASE, 8192, 3);
	struct ft_image *img = make_image(FLASH_BASE, 3000, 4);
	struct ft_dev *dev = open_fake();
	uint8_t page7[PAGE];

	(void)state;
	assert_int_equal(ft_write(dev, old, &wo, &st), 0);
	memcpy(page7, F.flash + 7 * PAGE, PAGE);
	F.units_erased = 0;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_flash_holds(img);
	/* Exactly pages 0-2 erased; page 7 of the old image kept. */
	assert_int_equal(F.units_erased, 3);
	assert_memory_equal(F.flash + 7 * PAGE, page7, PAGE);
	ft_close(dev);
	ft_image_free(old);
	ft_image_free(img);
}

static void
test_write_nack_retried(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE, 2048, 5);
	struct ft_dev *dev = open_fake();

	(void)state;
	F.nack_write_at = 3;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_flash_holds(img);
	assert_true(F.resyncs >= 1);
	assert_true(st.verified);
	ft_close(dev);
	ft_image_free(img);
}

/*
 * The retry budget follows progress: seven failures in a row at one
 * block still end in a written flash; a bad line that lets blocks
 * through between failures never exhausts it.
 */
static void
test_retries_follow_progress(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE, 8192, 20);
	struct ft_dev *dev = open_fake();

	(void)state;
	F.nack_write_at = 5;
	F.nack_write_run = 7;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_flash_holds(img);
	assert_true(st.verified);
	/* After the failures the next blocks went in short frames. */
	assert_true(F.writes > 8192 / BLOCK + 7);
	ft_close(dev);
	ft_image_free(img);
}

/* Nine failures in a row (the default eight retries) end it. */
static void
test_retries_run_out(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE, 8192, 21);
	struct ft_dev *dev = open_fake();

	(void)state;
	F.nack_write_at = 5;
	F.nack_write_run = 100;
	assert_int_equal(ft_write(dev, img, &wo, &st), FT_E_NACK);
	assert_non_null(strstr(ft_errdetail(ctx), "gave up after 9 failures "
	    "in a row"));
	assert_int_equal(F.writes, 4 + 9);
	ft_close(dev);
	ft_image_free(img);
}

/*
 * A line that loses three frames in four still lets blocks through, so
 * no run of failures is long; the failure rate ends it.  One in four
 * (a bad cable at 256-byte frames) does not.
 */
static void
test_retries_stop_on_noisy_line(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE, 16384, 22);
	struct ft_dev *dev = open_fake();

	(void)state;
	F.nack_write_mod = 4;
	F.nack_write_fails = 3;
	assert_int_equal(ft_write(dev, img, &wo, &st), FT_E_NACK);
	assert_non_null(strstr(ft_errdetail(ctx), "of the last 64 frames "
	    "failed; the line is too noisy"));
	/* It stopped early, not at the end of the image. */
	assert_true(F.writes < 200);
	ft_close(dev);
	ft_image_free(img);
}

static void
test_retries_carry_on_bad_cable(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE, 16384, 23);
	struct ft_dev *dev = open_fake();

	(void)state;
	F.nack_write_mod = 4;
	F.nack_write_fails = 1;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_flash_holds(img);
	assert_true(st.verified);
	ft_close(dev);
	ft_image_free(img);
}

static void
test_read_timeout_and_garble(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE, 2048, 6);
	struct ft_dev *dev = open_fake();

	(void)state;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	/* A verify read times out; a later one comes back with a flipped
	 * byte (the line's, not the flash's): both are read again and the
	 * flash verifies, with nothing erased or written. */
	F.reads = F.writes = F.units_erased = 0;
	F.timeout_read_at = 2;
	F.garble_read_at = 5;
	assert_int_equal(ft_verify(dev, img), 0);
	assert_true(F.resyncs >= 1);
	assert_true(F.reads > 8);
	assert_int_equal(F.units_erased + F.writes, 0);
	/*
	 * The same faults while comparing before a rewrite: a wrong byte
	 * read there makes the page look changed, which costs an erase and
	 * a write but never a wrong flash.
	 */
	F.reads = 0;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_true(st.verified);
	assert_flash_holds(img);
	ft_close(dev);
	ft_image_free(img);
}

static void
test_repair_once(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE, 4096, 7);
	struct ft_dev *dev = open_fake();

	(void)state;
	/* One byte of page 2 goes down wrong once: verify finds it, the
	 * page is erased and written again. */
	F.bad_program_addr = FLASH_BASE + 2 * PAGE + 10;
	F.bad_program_times = 1;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_flash_holds(img);
	/* Pages 1-3 before writing (see test_write_blank), page 2 again. */
	assert_int_equal(F.units_erased, 3 + 1);
	assert_int_equal(st.units_erased, 3 + 1);
	assert_true(st.verified);
	ft_close(dev);
	ft_image_free(img);
}

static void
test_repair_gives_up(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE, 4096, 8);
	struct ft_dev *dev = open_fake();

	(void)state;
	F.bad_program_addr = FLASH_BASE + 3 * PAGE + 4;
	F.bad_program_times = ~0u;
	assert_int_equal(ft_write(dev, img, &wo, &st), FT_E_VERIFY);
	assert_non_null(strstr(ft_errdetail(ctx), "0x08000c04"));
	/* Bounded: the default 3 repairs, each one erase of that page (on
	 * top of pages 1-3 before writing). */
	assert_int_equal(F.units_erased, 3 + 3);
	assert_false(st.verified);
	ft_close(dev);
	ft_image_free(img);
}

/*
 * A port that stops taking bytes fails with its own words, which name
 * no address: giving up still names the operation and where it was.
 */
static void
test_give_up_names_place(void **state)
{
	uint8_t buf[BLOCK];
	struct ft_dev *dev = open_fake();

	(void)state;
	F.port_dead = 1;
	assert_int_equal(ft_read(dev, FLASH_BASE + 0x400, buf, BLOCK),
	    FT_E_TIMEOUT);
	assert_non_null(strstr(ft_errdetail(ctx), "read at 0x08000400: "
	    "/dev/ttyFAKE: write timed out"));
	assert_non_null(strstr(ft_errdetail(ctx), "(gave up after 9 "
	    "failures in a row)"));
	ft_close(dev);
}

static void
test_erase_gives_up(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *old = make_image(FLASH_BASE, 2048, 9);
	struct ft_image *img = make_image(FLASH_BASE, 2048, 10);
	struct ft_dev *dev = open_fake();

	(void)state;
	assert_int_equal(ft_write(dev, old, &wo, &st), 0);
	F.nack_erase_always = 1;
	F.writes = 0;
	assert_int_equal(ft_write(dev, img, &wo, &st), FT_E_NACK);
	assert_non_null(strstr(ft_errdetail(ctx),
	    "gave up after 9 failures in a row"));
	assert_non_null(strstr(ft_errdetail(ctx), "0x08000000"));
	/* Nothing was written over a page that could not be erased. */
	assert_int_equal(F.writes, 0);
	ft_close(dev);
	ft_image_free(old);
	ft_image_free(img);
}

static void
test_interrupt_names_unwritten(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *old = make_image(FLASH_BASE, 8192, 11);
	struct ft_image *img = make_image(FLASH_BASE, 8192, 12);
	struct ft_dev *dev = open_fake();

	(void)state;
	assert_int_equal(ft_write(dev, old, &wo, &st), 0);
	F.writes = 0;
	F.cancel_after_writes = 4;
	assert_int_equal(ft_write(dev, img, &wo, &st), FT_E_INTERRUPTED);
	/* 4 blocks of 256 went down: 0x08000400 on is erased, unwritten. */
	assert_non_null(strstr(ft_errdetail(ctx), "erased but not yet "
	    "written: 0x08000400-0x08001fff"));
	ft_close(dev);
	ft_image_free(old);
	ft_image_free(img);
}

static void
test_crc_compare(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE, 4096, 13);
	struct ft_dev *dev;
	unsigned reads;

	(void)state;
	F.has_crc = 1;
	dev = open_fake();
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	reads = F.reads;
	/* Unchanged, by checksums alone: not one byte read back. */
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_int_equal(F.reads, reads);
	assert_int_equal(st.units_unchanged, 4);
	assert_true(F.crcs > 0);
	ft_close(dev);
	ft_image_free(img);
}

/* A fake with cheap reads and a mass erase, holding old. */
static struct ft_dev *
open_mass_fake(const struct ft_image *old, uint32_t max_read)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_dev *dev;

	F.read_is_cheap = 1;
	F.has_mass = 1;
	F.max_read = max_read;
	dev = open_fake();
	assert_int_equal(ft_write(dev, old, &wo, &st), 0);
	return dev;
}

static void
test_mass_plan_keeps_data(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *old = make_image(FLASH_BASE, FLASH_SIZE, 14);
	struct ft_image *img = make_image(FLASH_BASE, 30 * PAGE, 15);
	struct ft_dev *dev;
	uint8_t tail[2 * PAGE];

	(void)state;
	dev = open_mass_fake(old, 0);
	memcpy(tail, F.flash + 30 * PAGE, sizeof(tail));
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	/* 30 page erases became one mass erase; pages 30-31 came back. */
	assert_int_equal(F.masses, 1);
	assert_int_equal(st.units_restored, 2);
	assert_flash_holds(img);
	assert_memory_equal(F.flash + 30 * PAGE, tail, sizeof(tail));
	assert_true(st.verified);
	ft_close(dev);
	ft_image_free(old);
	ft_image_free(img);
}

static void
test_page_erase_option(void **state)
{
	struct ft_write_opts wo = { .verify = 1, .page_erase = 1 };
	struct ft_write_stats st;
	struct ft_image *old = make_image(FLASH_BASE, FLASH_SIZE, 16);
	struct ft_image *img = make_image(FLASH_BASE, 30 * PAGE, 17);
	struct ft_dev *dev;

	(void)state;
	dev = open_mass_fake(old, 0);
	F.units_erased = 0;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_int_equal(F.masses, 0);
	assert_int_equal(F.units_erased, 30);
	assert_flash_holds(img);
	ft_close(dev);
	ft_image_free(old);
	ft_image_free(img);
}

/* The reads that started at addr, and their lengths' sum. */
static unsigned
reads_at(uint32_t addr, uint32_t *len)
{
	unsigned i, n = 0;

	*len = 0;
	for (i = 0; i < F.reads && i < 256; i++)
		if (F.read_addr[i] == addr) {
			n++;
			*len += F.read_len[i];
		}
	return n;
}

/*
 * Reads as long as two pages (DfuSe uploads of 2 KiB over 1 KiB pages):
 * the two pages kept beside the image are read in one upload before the
 * mass erase, and verified with the image in one more, not page by page
 * (each upload at an address off the read grid costs a Set Address).
 */
static void
test_mass_keeps_read_whole(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *old = make_image(FLASH_BASE, FLASH_SIZE, 18);
	struct ft_image *img = make_image(FLASH_BASE, 30 * PAGE, 19);
	struct ft_dev *dev;
	uint32_t len;
	unsigned i;

	(void)state;
	dev = open_mass_fake(old, 2 * PAGE);
	F.reads = 0;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	assert_int_equal(F.masses, 1);
	assert_int_equal(st.units_restored, 2);
	assert_true(st.verified);
	/* Compare (pages 0-29), the kept pages 30-31, verify of all 32. */
	assert_int_equal(reads_at(FLASH_BASE + 30 * PAGE, &len), 2);
	assert_int_equal(len, 2 * 2 * PAGE);
	assert_int_equal(reads_at(FLASH_BASE + 31 * PAGE, &len), 0);
	for (i = 0; i < F.reads; i++)
		assert_int_equal(F.read_addr[i] % (2 * PAGE), 0);
	ft_close(dev);
	ft_image_free(old);
	ft_image_free(img);
}

/*
 * A verify read that spans the image's end and a kept page still names
 * the byte that differs, in either of them.
 */
static void
test_verify_across_segments(void **state)
{
	static const uint32_t bad[] = { 30 * PAGE + 5, 31 * PAGE + 9 };
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	char want[32];
	unsigned k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct ft_image *old = make_image(FLASH_BASE, FLASH_SIZE, 20);
		struct ft_image *img = make_image(FLASH_BASE, 30 * PAGE, 21);
		struct ft_dev *dev;

		/* A fresh fake and context for each. */
		if (k > 0) {
			teardown(NULL);
			setup(NULL);
		}
		dev = open_mass_fake(old, 2 * PAGE);
		F.bad_program_addr = FLASH_BASE + bad[k];
		F.bad_program_times = ~0u;
		assert_int_equal(ft_write(dev, img, &wo, &st), FT_E_VERIFY);
		snprintf(want, sizeof(want), "0x%08x", FLASH_BASE + bad[k]);
		assert_non_null(strstr(ft_errdetail(ctx), want));
		ft_close(dev);
		ft_image_free(old);
		ft_image_free(img);
	}
}

static void
test_image_outside_flash(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE + FLASH_SIZE - 16, 64, 18);
	struct ft_dev *dev = open_fake();

	(void)state;
	assert_int_equal(ft_write(dev, img, &wo, &st), FT_E_RANGE);
	assert_int_equal(F.erases + F.writes, 0);
	ft_close(dev);
	ft_image_free(img);
}

static void
test_failed_open_is_closed(void **state)
{
	struct ft_open_opts o;
	struct ft_dev *dev = NULL;

	(void)state;
	memset(&o, 0, sizeof(o));
	F.fail_open = FT_E_NO_DEVICE;
	assert_int_equal(ft_open_transport(ctx, &fake_tr, &o, &dev),
	    FT_E_NO_DEVICE);
	assert_null(dev);
	/* The core called close for what open claimed, and freed priv
	 * (the sanitizer build checks the freeing). */
	assert_int_equal(F.opens, 1);
	assert_int_equal(F.closes, 1);
}

static void
test_mandatory_ops(void **state)
{
	struct ft_transport bad = fake_tr;
	struct ft_open_opts o;
	struct ft_dev *dev = NULL;

	(void)state;
	memset(&o, 0, sizeof(o));
	bad.erase = NULL;
	assert_int_equal(ft_open_transport(ctx, &bad, &o, &dev),
	    FT_E_NOT_SUPPORTED);
	assert_int_equal(F.opens, 0);
}

static void
test_verify_names_difference(void **state)
{
	struct ft_write_opts wo = { .verify = 1 };
	struct ft_write_stats st;
	struct ft_image *img = make_image(FLASH_BASE, 2048, 19);
	struct ft_dev *dev = open_fake();

	(void)state;
	assert_int_equal(ft_write(dev, img, &wo, &st), 0);
	F.flash[1500] &= 0x7E;
	assert_int_equal(ft_verify(dev, img), FT_E_VERIFY);
	assert_non_null(strstr(ft_errdetail(ctx), "0x080005dc"));
	ft_close(dev);
	ft_image_free(img);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_blank, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_write_aligns_segment_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_unchanged, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_new_image_over_old, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_write_nack_retried, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retries_follow_progress,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_retries_run_out, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_retries_stop_on_noisy_line, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_retries_carry_on_bad_cable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_timeout_and_garble,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_repair_once, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_repair_gives_up, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_give_up_names_place,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_erase_gives_up, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_interrupt_names_unwritten,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_crc_compare, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mass_plan_keeps_data,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_page_erase_option, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mass_keeps_read_whole,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_across_segments,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_image_outside_flash, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failed_open_is_closed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_mandatory_ops, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_verify_names_difference,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
