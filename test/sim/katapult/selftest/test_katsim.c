/*
 * test_katsim.c - katapult-sim's own unit tests: frames and CRC against
 * the worked frames of katapult.md 1.1 (computed here with the
 * simulator's code, compared with the document's bytes), both firmware
 * parsers, the write semantics of the STM32 and RP2040 ports, the device's
 * commands, the CAN admin state machine, the identities and the wires.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ksim.h"
#include "tty.h"

#define B(...) ((const uint8_t[]){ __VA_ARGS__ })
#define NB(...) sizeof((const uint8_t[]){ __VA_ARGS__ })
#define T0 (1000 * NS_PER_MS)	/* model times start here, not at 0 */

/* got_len bytes at got must be the want_len bytes at want. */
#define same(got, got_len, want, want_len) do {			\
	assert_int_equal((got_len), (want_len));			\
	assert_memory_equal((got), (want), (want_len));			\
} while (0)

/* What a device sent, for the device tests. */
static uint8_t cap[4096];
static size_t ncap;
static int nacts;
static enum ks_action last_act;

static void
capture(void *ctx, const uint8_t *p, size_t n, uint64_t t)
{
	(void)ctx;
	(void)t;
	memcpy(cap + ncap, p, n);
	ncap += n;
}

static void
capture_act(void *ctx, enum ks_action a, uint64_t t)
{
	(void)ctx;
	(void)t;
	nacts++;
	last_act = a;
}

static void
dev_new(struct ks_dev *d, const char *model, enum ks_link_kind link,
    int start_app)
{
	struct ks_devcfg c;
	char err[256];

	memset(&c, 0, sizeof(c));
	c.model = model;
	c.start_app = start_app;
	c.version = "v0.0.1-110-gb0bf421";
	assert_int_equal(ks_dev_init(d, &c, link, err, sizeof(err)), 0);
	d->emit = capture;
	d->act = capture_act;
	d->boot_ms = 10;
	ncap = 0;
	nacts = 0;
}

/* Feed a frame built by ks_frame to the device. */
static void
send(struct ks_dev *d, uint8_t cmd, const uint8_t *pl, size_t words,
    uint64_t t)
{
	uint8_t f[KP_FRAME_MAX];
	size_t n = ks_frame(f, cmd, pl, words);

	assert_int_equal(ks_dev_input(d, f, n, t), n);
}

static void
send_block(struct ks_dev *d, uint32_t addr, uint8_t fill, uint64_t t)
{
	uint8_t pl[4 + KP_BLOCK_SIZE];

	ks_wr32(pl, addr);
	memset(pl + 4, fill, KP_BLOCK_SIZE);
	send(d, KP_CMD_SEND_BLOCK, pl, 17, t);
}

static void
test_crc_check_value(void **state)
{
	(void)state;
	/* CRC-16/MCRF4XX catalogue check value. */
	assert_int_equal(ks_crc16((const uint8_t *)"123456789", 9), 0x6F91);
}

/* katapult.md 1.1 "Worked frames", each built with ks_frame(). */
static void
test_worked_frames(void **state)
{
	uint8_t f[KP_FRAME_MAX], p[8];
	size_t n;

	(void)state;
	n = ks_frame(f, KP_CMD_CONNECT, NULL, 0);
	same(f, n, B(0x01, 0x88, 0x11, 0x00, 0xf1, 0x7c, 0x99, 0x03), 8);
	n = ks_frame(f, KP_CMD_SEND_EOF, NULL, 0);
	same(f, n, B(0x01, 0x88, 0x13, 0x00, 0x41, 0x4f, 0x99, 0x03), 8);
	n = ks_frame(f, KP_CMD_COMPLETE, NULL, 0);
	same(f, n, B(0x01, 0x88, 0x15, 0x00, 0x91, 0x1b, 0x99, 0x03), 8);
	n = ks_frame(f, KP_CMD_GET_CANBUS_ID, NULL, 0);
	same(f, n, B(0x01, 0x88, 0x16, 0x00, 0xf9, 0x31, 0x99, 0x03), 8);
	ks_wr32(p, 0x08002000);
	n = ks_frame(f, KP_CMD_REQUEST_BLOCK, p, 1);
	same(f, n, B(0x01, 0x88, 0x14, 0x01, 0x00, 0x20, 0x00, 0x08, 0x5b,
	    0xde, 0x99, 0x03), 12);
	n = ks_frame(f, KP_NACK, NULL, 0);
	same(f, n, B(0x01, 0x88, 0xf1, 0x00, 0x68, 0x95, 0x99, 0x03), 8);
	n = ks_frame(f, KP_ERROR, NULL, 0);
	same(f, n, B(0x01, 0x88, 0xf2, 0x00, 0x00, 0xbf, 0x99, 0x03), 8);
	/* protocol.md prints 00 bf for BUSY too: a copy error. */
	n = ks_frame(f, KP_BUSY, NULL, 0);
	same(f, n, B(0x01, 0x88, 0xf3, 0x00, 0xd8, 0xa6, 0x99, 0x03), 8);
	ks_wr32(p, KP_CMD_SEND_BLOCK);
	ks_wr32(p + 4, 0x08002000);
	n = ks_frame(f, KP_ACK, p, 2);
	same(f, n, B(0x01, 0x88, 0xa0, 0x02, 0x12, 0x00, 0x00, 0x00, 0x00,
	    0x20, 0x00, 0x08, 0x5a, 0xd6, 0x99, 0x03), 16);
	ks_wr32(p, KP_CMD_SEND_EOF);
	ks_wr32(p + 4, 30);
	n = ks_frame(f, KP_ACK, p, 2);
	same(f, n, B(0x01, 0x88, 0xa0, 0x02, 0x13, 0x00, 0x00, 0x00, 0x1e,
	    0x00, 0x00, 0x00, 0x75, 0xb5, 0x99, 0x03), 16);
	ks_wr32(p, KP_CMD_COMPLETE);
	n = ks_frame(f, KP_ACK, p, 1);
	same(f, n, B(0x01, 0x88, 0xa0, 0x01, 0x15, 0x00, 0x00, 0x00, 0x00,
	    0x2e, 0x99, 0x03), 12);
}

/* katapult.md 1.2: stm32f042x6 + v0.0.1-110-gb0bf421 is 60 bytes, 0x0d. */
static void
test_connect_reply(void **state)
{
	struct ks_dev d;

	(void)state;
	dev_new(&d, "f042", KS_LINK_USB, 0);
	send(&d, KP_CMD_CONNECT, NULL, 0, T0);
	assert_int_equal(ncap, 60);
	assert_int_equal(cap[2], KP_ACK);
	assert_int_equal(cap[3], 0x0d);
	assert_int_equal(ks_rd32(cap + 4), KP_CMD_CONNECT);
	assert_int_equal(ks_rd32(cap + 8), 0x00010100);
	assert_int_equal(ks_rd32(cap + 12), 0x08002000);
	assert_int_equal(ks_rd32(cap + 16), 64);
	assert_memory_equal(cap + 20, "stm32f042x6\0", 12);
	/* One all-zero word, then the version, NUL-padded. */
	assert_int_equal(ks_rd32(cap + 32), 0);
	assert_memory_equal(cap + 36, "v0.0.1-110-gb0bf421\0", 20);
	assert_int_equal(ks_crc16(cap + 2, 54), cap[56] | cap[57] << 8);
	ks_dev_free(&d);
	/* Protocol 1.0.0 ends after the name. */
	dev_new(&d, "f042", KS_LINK_USB, 0);
	d.cfg.old_proto = 1;
	send(&d, KP_CMD_CONNECT, NULL, 0, T0);
	assert_int_equal(ncap, 8 + 4 * 7);
	assert_int_equal(ks_rd32(cap + 8), 0x00010000);
	ks_dev_free(&d);
}

static void
test_parser_resync(void **state)
{
	struct ks_rx rx;
	uint8_t f[KP_FRAME_MAX];
	size_t n = ks_frame(f, KP_CMD_CONNECT, NULL, 0), pop;
	int nack;

	(void)state;
	ks_rx_init(&rx, 192, KS_PARSER_KATAPULT);
	/* Fewer than 8 bytes: wait, even for garbage. */
	ks_rx_push(&rx, B(0xAA, 0xBB, 0xCC), 3);
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_MORE);
	ks_rx_push(&rx, f, n);
	/* Garbage up to the next 0x01: one NACK. */
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_ERROR);
	assert_int_equal(pop, 3);
	assert_int_equal(nack, 1);
	ks_rx_pop(&rx, pop);
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_FRAME);
	assert_int_equal(pop, n);
	assert_int_equal(nack, 0);
	ks_rx_pop(&rx, pop);
	/* Two stretches of garbage with no good frame between: one NACK. */
	ks_rx_push(&rx, B(0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55), 8);
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_ERROR);
	assert_int_equal(nack, 1);
	ks_rx_pop(&rx, pop);
	ks_rx_push(&rx, B(0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66), 8);
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_ERROR);
	assert_int_equal(nack, 0);
	assert_int_equal(pop, 8);
	ks_rx_pop(&rx, pop);
	/* Still hunting: a frame's 0x01 ends the hunt (a pop of 0, no
	 * wedge), then the frame is found. */
	ks_rx_push(&rx, f, n);
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_ERROR);
	assert_int_equal(pop, 0);
	assert_false(rx.wedged);
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_FRAME);
	ks_rx_pop(&rx, pop);
	/* A length beyond MESSAGE_MAX is garbage. */
	ks_rx_pop(&rx, pop);
	ks_rx_push(&rx, B(0x02, 0x01, 0x88, 0x11, 0x1f, 0, 0, 0, 0, 0), 10);
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_ERROR);
	assert_int_equal(pop, 1);
	assert_int_equal(rx.wedged, 0);
	ks_rx_pop(&rx, pop);
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_ERROR);
	assert_int_equal(pop, 0);
	assert_true(rx.wedged);
}

/* katapult.md 1.12: a bad frame that starts with 0x01 is never popped. */
static void
test_parser_wedge(void **state)
{
	struct ks_rx rx;
	uint8_t f[KP_FRAME_MAX], bad[KP_FRAME_MAX];
	size_t n = ks_frame(f, KP_CMD_CONNECT, NULL, 0), pop;
	int nack, i;

	(void)state;
	memcpy(bad, f, n);
	bad[4] ^= 0x01;		/* CRC off by one bit */
	ks_rx_init(&rx, 192, KS_PARSER_KATAPULT);
	ks_rx_push(&rx, bad, n);
	ks_rx_push(&rx, f, n);
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_ERROR);
	assert_int_equal(nack, 1);
	assert_int_equal(pop, 0);
	assert_true(rx.wedged);
	/* The good frame behind it is never reached, and no more NACKs. */
	for (i = 0; i < 5; i++) {
		assert_int_equal(ks_rx_find(&rx, &pop, &nack),
		    KS_FIND_ERROR);
		assert_int_equal(pop, 0);
		assert_int_equal(nack, 0);
	}
	/* The fixed parser pops the 0x01 and finds the good frame. */
	ks_rx_init(&rx, 192, KS_PARSER_FIXED);
	ks_rx_push(&rx, bad, n);
	ks_rx_push(&rx, f, n);
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_ERROR);
	assert_int_equal(pop, n);
	ks_rx_pop(&rx, pop);
	assert_int_equal(ks_rx_find(&rx, &pop, &nack), KS_FIND_FRAME);
	assert_false(rx.wedged);
}

/* The device answers one NACK and then nothing once wedged. */
static void
test_device_wedge(void **state)
{
	struct ks_dev d;
	uint8_t f[KP_FRAME_MAX];
	size_t n = ks_frame(f, KP_CMD_CONNECT, NULL, 0);

	(void)state;
	dev_new(&d, "f042", KS_LINK_UART, 0);
	f[5] ^= 0x80;
	ks_dev_input(&d, f, n, T0);
	same(cap, ncap, B(0x01, 0x88, 0xf1, 0x00, 0x68, 0x95, 0x99, 0x03), 8);
	ncap = 0;
	send(&d, KP_CMD_CONNECT, NULL, 0, T0 + NS_PER_MS);
	send(&d, KP_CMD_CONNECT, NULL, 0, T0 + 2 * NS_PER_MS);
	assert_int_equal(ncap, 0);
	/* A reset recovers. */
	ks_dev_reset(&d, 1, T0 + 3 * NS_PER_MS);
	ks_dev_run_timers(&d, T0 + 20 * NS_PER_MS);
	assert_int_equal(d.run, KS_RUN_KATAPULT);
	send(&d, KP_CMD_CONNECT, NULL, 0, T0 + 30 * NS_PER_MS);
	assert_int_equal(ncap, 60);
	ks_dev_free(&d);
}

static void
test_klipper_request(void **state)
{
	struct kl_rx rx;
	uint8_t nak[8];
	size_t naklen;
	const char *req = "~" KL_SERIAL_REQUEST;

	(void)state;
	kl_rx_init(&rx);
	kl_rx_push(&rx, (const uint8_t *)req, strlen(req));
	/* The leading '~' goes without a NAK. */
	assert_int_equal(kl_rx_step(&rx, nak, &naklen), KL_GARBAGE);
	assert_int_equal(naklen, 0);
	assert_int_equal(kl_rx_step(&rx, nak, &naklen), KL_REQUEST);
	/* Klipper NAKs the stretch first: 05 10 crc 7e. */
	assert_int_equal(naklen, 5);
	assert_int_equal(nak[0], 0x05);
	assert_int_equal(nak[1], 0x10);
	assert_int_equal(nak[4], 0x7e);
	assert_int_equal(ks_crc16(nak, 2), nak[2] << 8 | nak[3]);
	assert_int_equal(rx.len, 0);
	/* Other garbage is not a request. */
	kl_rx_init(&rx);
	kl_rx_push(&rx, (const uint8_t *)" \x1c Request Serial Bootloader!? ~",
	    32);
	assert_int_equal(kl_rx_step(&rx, nak, &naklen), KL_GARBAGE);
	/* A Klipper frame: len 5, seq 0x10, crc, 7e. */
	kl_rx_init(&rx);
	kl_rx_push(&rx, B(0x05, 0x10, 0, 0, 0x7e), 5);
	{
		uint16_t c = ks_crc16(B(0x05, 0x10), 2);

		rx.buf[2] = (uint8_t)(c >> 8);
		rx.buf[3] = (uint8_t)c;
	}
	assert_int_equal(kl_rx_step(&rx, nak, &naklen), KL_FRAME);
	assert_int_equal(rx.next_seq, 0x11);
}

static uint8_t *
mem(struct ks_flash *f, uint32_t addr)
{
	return f->mem + (addr - f->m->flash_base);
}

/* katapult.md 1.3, src/stm32/flash.c flash_write_block(). */
static void
test_stm32_write_rules(void **state)
{
	const struct ks_model *m = ks_model_find("f042");
	struct ks_flash f;
	struct ks_work w;
	uint8_t a[64], b[64];
	uint32_t page = 0x08002000, next = 0x08002400;

	(void)state;
	assert_int_equal(ks_flash_mem(&f, m), 0);
	memset(a, 0x11, sizeof(a));
	memset(b, 0x22, sizeof(b));
	assert_int_equal(ks_flash_write(&f, page + 1, a, T0, &w, 0),
	    KS_WR_MISALIGNED);
	/* Page-first block on a blank page: no erase, counted. */
	assert_int_equal(ks_flash_write(&f, page, a, T0, &w, 0), KS_WR_OK);
	assert_int_equal(w.nstall, 1);
	assert_int_equal(w.ns, 32 * 53500);
	assert_int_equal(f.page_writes, 1);
	/* The same block again, rest of the page blank: retransmission. */
	assert_int_equal(ks_flash_write(&f, page, a, T0, &w, 0),
	    KS_WR_RETRANSMIT);
	assert_int_equal(w.ns, 0);
	assert_int_equal(f.page_writes, 1);
	/* A later block: blank is fine; identical again is fine; other
	 * data where it was written is out of order. */
	assert_int_equal(ks_flash_write(&f, page + 64, a, T0, &w, 0),
	    KS_WR_OK);
	assert_int_equal(ks_flash_write(&f, page + 64, a, T0, &w, 0),
	    KS_WR_RETRANSMIT);
	assert_int_equal(ks_flash_write(&f, page + 64, b, T0, &w, 0),
	    KS_WR_OUT_OF_ORDER);
	/* The page's first block with other data: erase, then program;
	 * the page's later blocks are gone. */
	memset(mem(&f, next), 0x33, 1024);
	assert_int_equal(ks_flash_write(&f, page, b, T0, &w, 0), KS_WR_OK);
	assert_int_equal(w.nstall, 2);
	assert_int_equal(w.ns, 20 * NS_PER_MS + 32 * 53500);
	assert_int_equal(f.page_writes, 2);
	assert_int_equal(mem(&f, page + 64)[0], 0xFF);
	assert_int_equal(mem(&f, page)[0], 0x22);
	/* The next page was not touched: it keeps its old contents. */
	assert_int_equal(mem(&f, next)[1023], 0x33);
	ks_flash_close(&f);
}

/* check_erased() looks at count/4 bytes only (katapult.md 1.12). */
static void
test_check_erased_quarter(void **state)
{
	const struct ks_model *m = ks_model_find("f042");
	struct ks_flash f;
	struct ks_work w;
	uint8_t a[64];
	uint32_t page = 0x08003000;

	(void)state;
	assert_int_equal(ks_flash_mem(&f, m), 0);
	memset(a, 0x5A, sizeof(a));
	/* Old data from byte 300 on; the first 256 bytes are blank. */
	memset(mem(&f, page + 300), 0x00, 1024 - 300);
	assert_int_equal(ks_flash_write(&f, page, a, T0, &w, 0), KS_WR_OK);
	assert_int_equal(w.nstall, 1);	/* taken as blank: no erase */
	/* Block 320 holds old data in its first 16 bytes: out of order. */
	assert_int_equal(ks_flash_write(&f, page + 320, a, T0, &w, 0),
	    KS_WR_OUT_OF_ORDER);
	/* Block 256 looks blank (256..271) but 300..319 are not: the F0
	 * refuses those halfwords and the read-back fails. */
	assert_int_equal(ks_flash_write(&f, page + 256, a, T0, &w, 0),
	    KS_WR_VERIFY);
	ks_flash_close(&f);
	/* The F4 programs over old data: bits clear, the read-back fails. */
	m = ks_model_find("f446");
	assert_int_equal(ks_flash_mem(&f, m), 0);
	page = 0x08008000;
	memset(mem(&f, page + 16), 0x0F, 48);
	assert_int_equal(ks_flash_write(&f, page + 64 * 4, a, T0, &w, 0),
	    KS_WR_OK);
	memset(mem(&f, page + 512 + 16), 0x0F, 48);
	assert_int_equal(ks_flash_write(&f, page + 512, a, T0, &w, 0),
	    KS_WR_VERIFY);
	assert_int_equal(mem(&f, page + 512 + 16)[0], 0x0A);
	ks_flash_close(&f);
}

static void
test_f446_sectors(void **state)
{
	const struct ks_model *m = ks_model_find("f446");
	struct ks_flash f;
	struct ks_work w;
	uint8_t a[64];
	uint32_t start, size;
	uint64_t ns;

	(void)state;
	assert_int_equal(ks_model_unit(m, 0x08008000, &start, &size, &ns), 0);
	assert_int_equal(size, 16384);
	assert_int_equal(ks_model_unit(m, 0x08010040, &start, &size, &ns), 0);
	assert_int_equal(start, 0x08010000);
	assert_int_equal(size, 65536);
	assert_int_equal(ks_model_unit(m, 0x08060000, &start, &size, &ns), 0);
	assert_int_equal(start, 0x08060000);
	assert_int_equal(size, 131072);
	assert_int_equal(ns, 1000 * NS_PER_MS);
	assert_int_equal(ks_model_unit(m, 0x08080000, &start, &size, &ns),
	    -1);
	assert_int_equal(ks_model_page_size(m, 0x0801FFC0), 65536);
	assert_int_equal(ks_flash_mem(&f, m), 0);
	memset(a, 0x77, sizeof(a));
	memset(mem(&f, 0x08008000), 0x00, 16);
	assert_int_equal(ks_flash_write(&f, 0x08008000, a, T0, &w, 0),
	    KS_WR_OK);
	assert_int_equal(w.ns, 250 * NS_PER_MS + 16 * 16 * NS_PER_US);
	ks_flash_close(&f);
}

/* src/rp2040/flash.c: one 256-byte page buffered, flushed at EOF. */
static void
test_rp2040_buffer(void **state)
{
	const struct ks_model *m = ks_model_find("rp2040");
	struct ks_flash f;
	struct ks_work w;
	uint8_t a[64];
	uint32_t app = 0x10004000;

	(void)state;
	assert_int_equal(ks_flash_mem(&f, m), 0);
	memset(a, 0x42, sizeof(a));
	memset(mem(&f, app + 256), 0xF0, 256);	/* old data, next page */
	assert_int_equal(ks_flash_write(&f, app, a, T0, &w, 0), KS_WR_OK);
	assert_int_equal(ks_flash_write(&f, app + 64, a, T0, &w, 0),
	    KS_WR_OK);
	/* Nothing reaches the flash while the page is buffered. */
	assert_int_equal(mem(&f, app)[0], 0xFF);
	assert_int_equal(w.ns, 0);
	/* The next page flushes the first: sector-first, so erased. */
	assert_int_equal(ks_flash_write(&f, app + 256, a, T0, &w, 0),
	    KS_WR_OK);
	assert_int_equal(w.ns, 45 * NS_PER_MS + 400 * NS_PER_US);
	assert_int_equal(mem(&f, app)[0], 0x42);
	assert_int_equal(mem(&f, app + 128)[0], 0xFF);
	/* The erase took the old data of the second page too. */
	assert_int_equal(mem(&f, app + 256)[0], 0xFF);
	assert_int_equal(ks_flash_complete(&f, T0, &w), 2);
	assert_int_equal(w.ns, 400 * NS_PER_US);	/* not sector-first */
	assert_int_equal(mem(&f, app + 256)[0], 0x42);
	/* A page that is not the first of its sector is not erased: the
	 * program only clears bits. */
	memset(mem(&f, app + 512), 0x0F, 64);
	assert_int_equal(ks_flash_write(&f, app + 512, a, T0, &w, 0),
	    KS_WR_OK);
	assert_int_equal(ks_flash_complete(&f, T0, &w), 3);
	assert_int_equal(mem(&f, app + 512)[0], 0x02);
	/* Range checks of check_valid_flash_address(). */
	assert_int_equal(ks_flash_write(&f, 0x10000000 + 2048 * 1024, a, T0,
	    &w, 0), KS_WR_RANGE);
	assert_int_equal(ks_flash_write(&f, app + 8, a, T0, &w, 0),
	    KS_WR_MISALIGNED);
	ks_flash_close(&f);
}

static void
test_device_commands(void **state)
{
	struct ks_dev d;
	uint8_t p[8];

	(void)state;
	dev_new(&d, "f042", KS_LINK_UART, 0);
	/* Below the application: ERROR. */
	send_block(&d, 0x08001FC0, 0xAB, T0);
	same(cap, ncap, B(0x01, 0x88, 0xf2, 0x00, 0x00, 0xbf, 0x99, 0x03), 8);
	ncap = 0;
	/* Wrong length: ERROR. */
	ks_wr32(p, 0x08002000);
	send(&d, KP_CMD_SEND_BLOCK, p, 1, T0);
	assert_int_equal(cap[2], KP_ERROR);
	ncap = 0;
	/* A good block: ACK with the address echoed (katapult.md 1.1). */
	send_block(&d, 0x08002000, 0xAB, T0);
	same(cap, ncap, B(0x01, 0x88, 0xa0, 0x02, 0x12, 0x00, 0x00, 0x00,
	    0x00, 0x20, 0x00, 0x08, 0x5a, 0xd6, 0x99, 0x03), 16);
	ncap = 0;
	send(&d, KP_CMD_SEND_EOF, NULL, 0, T0);
	assert_int_equal(ks_rd32(cap + 8), 1);
	ncap = 0;
	ks_wr32(p, 0x08002000);
	send(&d, KP_CMD_REQUEST_BLOCK, p, 1, T0);
	assert_int_equal(ncap, 80);
	assert_int_equal(ks_rd32(cap + 8), 0x08002000);
	assert_int_equal(cap[12], 0xAB);
	ncap = 0;
	/* Not a CAN build; an unknown command (flashtool.py's prime). */
	send(&d, KP_CMD_GET_CANBUS_ID, NULL, 0, T0);
	assert_int_equal(cap[2], KP_ERROR);
	ncap = 0;
	send(&d, 0x90, NULL, 0, T0);
	assert_int_equal(cap[2], KP_ERROR);
	ncap = 0;
	/* COMPLETE: ACK, then the application 100 ms later. */
	send(&d, KP_CMD_COMPLETE, NULL, 0, T0);
	same(cap, ncap, B(0x01, 0x88, 0xa0, 0x01, 0x15, 0x00, 0x00, 0x00,
	    0x00, 0x2e, 0x99, 0x03), 12);
	assert_int_equal(ks_dev_next_timer(&d), T0 + 100 * NS_PER_MS);
	ks_dev_run_timers(&d, T0 + 99 * NS_PER_MS);
	assert_int_equal(d.run, KS_RUN_KATAPULT);
	ks_dev_run_timers(&d, T0 + 100 * NS_PER_MS);
	assert_int_equal(d.run, KS_RUN_BOOTING);
	ks_dev_run_timers(&d, T0 + 110 * NS_PER_MS);
	assert_int_equal(d.run, KS_RUN_APP);
	ks_dev_free(&d);
}

static void
test_device_faults(void **state)
{
	struct ks_dev d;
	uint8_t p[4];

	(void)state;
	/* Reading outside the flash: a hard fault, then silence. */
	dev_new(&d, "g0b1", KS_LINK_USB, 0);
	ks_wr32(p, 0x20000000);
	send(&d, KP_CMD_REQUEST_BLOCK, p, 1, T0);
	assert_int_equal(ncap, 0);
	assert_int_equal(d.run, KS_RUN_DEAD);
	send(&d, KP_CMD_CONNECT, NULL, 0, T0);
	assert_int_equal(ncap, 0);
	ks_dev_free(&d);
	/* Writing past the flash end: the STM32 port reads it first. */
	dev_new(&d, "f042", KS_LINK_USB, 0);
	send_block(&d, 0x08008000, 0x01, T0);
	assert_int_equal(d.run, KS_RUN_DEAD);
	ks_dev_free(&d);
	/* Power lost in the middle of a block: half of it programmed. */
	dev_new(&d, "f042", KS_LINK_USB, 0);
	d.fault.vanish_after = 1;
	send_block(&d, 0x08002000, 0x01, T0);
	ncap = 0;
	send_block(&d, 0x08002040, 0x02, T0);
	assert_int_equal(ncap, 0);
	assert_int_equal(d.run, KS_RUN_OFF);
	assert_int_equal(last_act, KS_ACT_DETACH);
	assert_int_equal(d.flash.mem[0x2040 + 31], 0x02);
	assert_int_equal(d.flash.mem[0x2040 + 32], 0xFF);
	ks_dev_free(&d);
	/* Injected BUSY: the command does not run. */
	dev_new(&d, "f042", KS_LINK_USB, 0);
	d.fault.busy = 1.0;
	send_block(&d, 0x08002000, 0x01, T0);
	same(cap, ncap, B(0x01, 0x88, 0xf3, 0x00, 0xd8, 0xa6, 0x99, 0x03), 8);
	assert_int_equal(d.flash.mem[0x2000], 0xFF);
	ks_dev_free(&d);
}

/* The Klipper application's three ways into Katapult. */
static void
test_app_requests(void **state)
{
	struct ks_dev d;
	const char *req = "~" KL_SERIAL_REQUEST;

	(void)state;
	dev_new(&d, "f042", KS_LINK_USB, 0);
	ks_wr32(d.flash.mem + 0x2000, 0x20001800);	/* a valid vector */
	ks_dev_reset(&d, 0, T0);
	ks_dev_run_timers(&d, T0 + 10 * NS_PER_MS);
	assert_int_equal(d.run, KS_RUN_APP);
	/* 1200 baud with DTR set is not yet a request. */
	ks_dev_usb_line(&d, 1200, 1, T0);
	assert_int_equal(d.run, KS_RUN_APP);
	ks_dev_usb_line(&d, 1200, 0, T0);
	assert_int_equal(d.run, KS_RUN_BOOTING);
	assert_int_equal(last_act, KS_ACT_DETACH);
	ks_dev_run_timers(&d, T0 + 20 * NS_PER_MS);
	assert_int_equal(d.run, KS_RUN_KATAPULT);
	assert_int_equal(last_act, KS_ACT_ATTACH);
	/* Katapult's own check_reboot() is empty. */
	ks_dev_usb_line(&d, 1200, 0, T0);
	assert_int_equal(d.run, KS_RUN_KATAPULT);
	ks_dev_free(&d);

	/* The serial request means nothing on USB (usb_cdc.c). */
	dev_new(&d, "f042", KS_LINK_USB, 0);
	ks_wr32(d.flash.mem + 0x2000, 0x20001800);
	d.run = KS_RUN_APP;
	ks_dev_app_input(&d, (const uint8_t *)req, strlen(req), T0);
	assert_int_equal(d.run, KS_RUN_APP);
	ks_dev_free(&d);

	/* UART: the serial request. */
	dev_new(&d, "f446", KS_LINK_UART, 0);
	ks_wr32(d.flash.mem + 0x8000, 0x20020000);
	d.run = KS_RUN_APP;
	ks_dev_app_input(&d, (const uint8_t *)req, strlen(req), T0);
	assert_int_equal(d.run, KS_RUN_BOOTING);
	ks_dev_free(&d);

	/* No Katapult: nothing on a UART stm32, ROM DFU on USB. */
	dev_new(&d, "f446", KS_LINK_UART, 0);
	ks_flash_bootloader(&d.flash, 0);
	d.run = KS_RUN_APP;
	ks_dev_app_input(&d, (const uint8_t *)req, strlen(req), T0);
	assert_int_equal(d.run, KS_RUN_APP);
	ks_dev_free(&d);
	dev_new(&d, "f042", KS_LINK_USB, 0);
	ks_flash_bootloader(&d.flash, 0);
	d.run = KS_RUN_APP;
	ks_dev_usb_line(&d, 1200, 0, T0);
	assert_int_equal(d.run, KS_RUN_ROM);
	ks_dev_free(&d);
}

static void
test_can_framing(void **state)
{
	struct ks_canframe f[16];
	uint8_t s[76];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(s); i++)
		s[i] = (uint8_t)i;
	assert_int_equal(ks_can_split(0x203, s, sizeof(s), f, 16), 10);
	assert_int_equal(f[0].dlc, 8);
	assert_int_equal(f[9].dlc, 4);
	assert_int_equal(f[9].data[3], 75);
	assert_int_equal(f[9].id, 0x203);
	assert_int_equal(ks_can_frame_bits(8, 0), 111);
	assert_int_equal(ks_can_frame_bits(8, 1), 135);
	assert_int_equal(ks_can_frame_bits(0, 1), 55);
	assert_int_equal(ks_can_node_rx_id(129), 0x202);
}

static size_t
can_rx(struct ks_dev *d, uint32_t id, const uint8_t *data, uint8_t dlc,
    struct ks_canframe *out)
{
	struct ks_canframe f;

	f.id = id;
	f.dlc = dlc;
	memset(f.data, 0, 8);
	memcpy(f.data, data, dlc);
	return ks_can_receive(d, &f, T0, out, 4);
}

static void
test_can_admin(void **state)
{
	struct ks_dev d;
	struct ks_canframe out[4];
	uint8_t cmd[8];

	(void)state;
	dev_new(&d, "g0b1", KS_LINK_CAN, 0);
	/* Query: unassigned Katapult answers 20 uuid 11 on 0x3f1. */
	assert_int_equal(can_rx(&d, 0x3f0, B(0x00), 1, out), 1);
	assert_int_equal(out[0].id, 0x3f1);
	assert_int_equal(out[0].dlc, 8);
	assert_int_equal(out[0].data[0], 0x20);
	assert_memory_equal(out[0].data + 1, d.uuid, 6);
	assert_int_equal(out[0].data[7], 0x11);
	/* Set with another UUID: nothing. */
	cmd[0] = 0x11;
	memset(cmd + 1, 0xEE, 6);
	cmd[7] = 129;
	can_rx(&d, 0x3f0, cmd, 8, out);
	assert_int_equal(d.can_id, 0);
	/* Set with ours: node 129 receives on 0x202. */
	memcpy(cmd + 1, d.uuid, 6);
	can_rx(&d, 0x3f0, cmd, 8, out);
	assert_int_equal(d.can_id, 0x202);
	assert_int_equal(can_rx(&d, 0x3f0, B(0x00), 1, out), 0);
	/* Katapult over CAN: CONNECT in 8-byte pieces, reply on 0x203. */
	ncap = 0;
	can_rx(&d, 0x202, B(0x01, 0x88, 0x16, 0x00, 0xf9, 0x31, 0x99, 0x03),
	    8, out);
	assert_int_equal(ncap, 20);
	assert_int_equal(cap[3], 3);
	assert_memory_equal(cap + 8, d.uuid, 6);
	assert_int_equal(cap[14], 0);
	assert_int_equal(cap[15], 0);
	/* Another UUID given our id: we drop it. */
	memset(cmd + 1, 0xEE, 6);
	can_rx(&d, 0x3f0, cmd, 8, out);
	assert_int_equal(d.can_id, 0);
	memcpy(cmd + 1, d.uuid, 6);
	can_rx(&d, 0x3f0, cmd, 8, out);
	assert_int_equal(d.can_id, 0x202);
	/* Someone else on our transmit id: dropped. */
	can_rx(&d, 0x203, B(0x01), 1, out);
	assert_int_equal(d.can_id, 0);
	can_rx(&d, 0x3f0, cmd, 8, out);
	/* CLEAR_CANBOOT_NODEID drops every Katapult node's id. */
	can_rx(&d, 0x3f0, B(0x12), 1, out);
	assert_int_equal(d.can_id, 0);
	ks_dev_free(&d);

	/* A Klipper node: app byte 01, and the bootloader request. */
	dev_new(&d, "f446", KS_LINK_CAN, 0);
	ks_wr32(d.flash.mem + 0x8000, 0x20020000);
	d.run = KS_RUN_APP;
	assert_int_equal(can_rx(&d, 0x3f0, B(0x00), 1, out), 1);
	assert_int_equal(out[0].data[7], 0x01);
	cmd[0] = 0x01;
	memcpy(cmd + 1, d.uuid, 6);
	cmd[7] = 5;
	can_rx(&d, 0x3f0, cmd, 8, out);
	assert_int_equal(d.can_id, 0x10a);
	/* Honoured although assigned; another UUID is not. */
	cmd[0] = 0x02;
	cmd[1] ^= 1;
	can_rx(&d, 0x3f0, cmd, 7, out);
	assert_int_equal(d.run, KS_RUN_APP);
	cmd[1] ^= 1;
	can_rx(&d, 0x3f0, cmd, 7, out);
	assert_int_equal(d.run, KS_RUN_BOOTING);
	ks_dev_run_timers(&d, T0 + 10 * NS_PER_MS);
	assert_int_equal(d.run, KS_RUN_KATAPULT);
	assert_int_equal(d.can_id, 0);
	ks_dev_free(&d);
}

/*
 * UUIDs as Katapult's flashtool.py derives them from a USB serial
 * (convert_usbsn_to_uuid()), for the models' UIDs: computed once with
 * upstream's Python port, so this checks ks_fasthash64 against it.
 */
static void
test_identity(void **state)
{
	static const struct {
		const char *model, *serial;
		uint8_t uuid[6];
	} v[] = {
		{ "f042", "42003D000D514B4E31373520",
		    { 0xec, 0x1f, 0xfe, 0xe9, 0x9d, 0x35 } },
		{ "g0b1", "2C00210012504E3638323620",
		    { 0x46, 0x4f, 0xb7, 0x4c, 0x0d, 0x35 } },
		{ "f446", "3E002F000951333033333838",
		    { 0x92, 0x88, 0x76, 0xa7, 0x48, 0xf1 } },
		{ "rp2040", "E6613852832A7E28",
		    { 0x6d, 0x3d, 0xa2, 0x32, 0x67, 0xdd } },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const struct ks_model *m = ks_model_find(v[i].model);
		uint8_t uuid[6];
		char serial[32];

		ks_usb_serial(m->uid, m->uid_len, serial, sizeof(serial));
		assert_string_equal(serial, v[i].serial);
		ks_uuid(m->uid, m->uid_len, uuid);
		assert_memory_equal(uuid, v[i].uuid, 6);
	}
}

static void
test_uart_resample(void **state)
{
	uint8_t out[64];
	size_t n;

	(void)state;
	n = ks_uart_resample(B(0x12, 0x34), 2, 250000, 250000, out, 64);
	same(out, n, B(0x12, 0x34), 2);
	/* 0x00 sent at B read at 2B: the low stretch reads as 00 (framing
	 * error), then the receiver restarts in it and reads 80. */
	n = ks_uart_resample(B(0x00), 1, 125000, 250000, out, 64);
	same(out, n, B(0x00, 0x80), 2);
	/* A request sent at the wrong baud is not the request. */
	n = ks_uart_resample((const uint8_t *)KL_SERIAL_REQUEST, 32, 115200,
	    250000, out, 64);
	assert_true(n != 32 || memcmp(out, KL_SERIAL_REQUEST, 32) != 0);
	assert_int_equal(ks_uart_byte_ns(250000), 40000);
}

static void
test_usb_wire(void **state)
{
	(void)state;
	assert_int_equal(ks_usb_packet_ns(64), 51333);
	assert_int_equal(ks_usb_next_frame(1000 * NS_PER_US + 1, NS_PER_MS),
	    2 * NS_PER_MS);
	assert_int_equal(ks_usb_next_frame(2 * NS_PER_MS, NS_PER_MS),
	    2 * NS_PER_MS);
	assert_int_equal(ks_usb_next_frame(12345, 0), 12345);
}

/* usbfs.c: the first IN packet after enumeration waits for a second. */
static void
test_usbfs_hold(void **state)
{
	static struct kt_link l;
	struct ks_dev d;
	uint8_t err[8] = { 0x01, 0x88, 0xf2, 0x00, 0x00, 0xbf, 0x99, 0x03 };

	(void)state;
	dev_new(&d, "f042", KS_LINK_USB, 0);
	memset(&l, 0, sizeof(l));
	l.dev = &d;
	l.kind = KS_LINK_USB;
	l.master = 99;		/* never written: only queued */
	l.clients = 1;
	l.hold_first = 1;
	kt_emit(&l, err, sizeof(err), T0);
	assert_int_equal(l.nout, 0);
	kt_emit(&l, err, sizeof(err), T0);
	assert_int_equal(l.nout, 2);
	/* Later packets go at once; more than 64 bytes is two packets. */
	kt_emit(&l, cap, 80, T0);
	assert_int_equal(l.nout, 4);
	assert_int_equal(l.out[2].n, 64);
	assert_int_equal(l.out[3].n, 16);
	/* No client: packets wait in the device. */
	l.clients = 0;
	kt_emit(&l, err, sizeof(err), T0);
	assert_int_equal(l.nout, 4);
	assert_int_equal(l.nhw, 1);
	ks_dev_free(&d);
}

/* serial_irq.c: a reply that does not fit the 96-byte buffer is lost. */
static void
test_uart_tx_buffer(void **state)
{
	static struct kt_link l;
	struct ks_dev d;

	(void)state;
	dev_new(&d, "f042", KS_LINK_UART, 0);
	memset(&l, 0, sizeof(l));
	l.dev = &d;
	l.kind = KS_LINK_UART;
	l.master = -1;
	l.kp_baud = 250000;
	l.timing = 1;
	kt_emit(&l, cap, 80, T0);
	assert_int_equal(l.tx_wire, T0 + 80 * 40000);
	kt_emit(&l, cap, 80, T0 + 40000);
	assert_int_equal(l.tx_wire, T0 + 80 * 40000);
	kt_emit(&l, cap, 16, T0 + 40000);
	assert_int_equal(l.tx_wire, T0 + 96 * 40000);
	ks_dev_free(&d);
}

/* The CPU stalls on the flash: the UART keeps one byte per step. */
static void
test_stall_steps(void **state)
{
	struct ks_dev d;
	uint64_t s1, s2;

	(void)state;
	dev_new(&d, "f042", KS_LINK_UART, 0);
	d.timing = 1;
	memset(d.flash.mem + 0x2000, 0x00, 1024);
	send_block(&d, 0x08002000, 0x01, T0);	/* erase + 32 programs */
	assert_int_equal(d.free_at, T0 + 20 * NS_PER_MS + 32 * 53500);
	assert_int_equal(ks_dev_stall_step(&d, T0 - 1), 0);
	s1 = ks_dev_stall_step(&d, T0 + 5 * NS_PER_MS);
	assert_int_equal(s1, T0);
	s2 = ks_dev_stall_step(&d, T0 + 20 * NS_PER_MS + 60000);
	assert_int_equal(s2, T0 + 20 * NS_PER_MS + 53500);
	assert_int_equal(ks_dev_stall_step(&d, d.free_at), 0);
	ks_dev_free(&d);
}

/*
 * G0 ECC flash: a page-first block of all ones on a blank page is
 * programmed (no erase); the real block over it later, the page still
 * blank to check_erased(), is refused (PROGERR), the error latches and
 * even the erase a page-first block with data would bring is refused;
 * a reset clears it, and the same page then takes an erase and data.
 */
static void
test_g0_program_once(void **state)
{
	const struct ks_model *m = ks_model_find("g0b1");
	struct ks_flash f;
	struct ks_work w;
	uint8_t ff[64], a[64];
	uint32_t page = 0x08002000, next = 0x08002800;

	(void)state;
	assert_int_equal(ks_flash_mem(&f, m), 0);
	memset(ff, 0xFF, sizeof(ff));
	memset(a, 0x11, sizeof(a));
	assert_int_equal(ks_flash_write(&f, page, ff, T0, &w, 0), KS_WR_OK);
	assert_int_equal(w.ns, 8 * 85 * NS_PER_US);
	assert_int_equal(ks_flash_write(&f, page, a, T0, &w, 0),
	    KS_WR_VERIFY);
	assert_int_equal(f.mem[page - m->flash_base], 0xFF);
	assert_true(f.err_latched);
	/* Latched: another page's first block, erase included, fails. */
	memset(f.mem + (next - m->flash_base), 0x00, 64);
	assert_int_equal(ks_flash_write(&f, next, a, T0, &w, 0),
	    KS_WR_VERIFY);
	assert_int_equal(f.mem[next - m->flash_base], 0x00);
	ks_flash_reset(&f);
	assert_int_equal(ks_flash_write(&f, next, a, T0, &w, 0), KS_WR_OK);
	assert_memory_equal(f.mem + (next - m->flash_base), a, 64);
	/* An erase makes a double word programmable once more. */
	memset(f.mem + (page + 64 - m->flash_base), 0x00, 16);
	assert_int_equal(ks_flash_write(&f, page, a, T0, &w, 0), KS_WR_OK);
	assert_memory_equal(f.mem + (page - m->flash_base), a, 64);
	assert_false(f.err_latched);
	/* F0 (no ECC): all ones programmed, then data: fine. */
	ks_flash_close(&f);
	assert_int_equal(ks_flash_mem(&f, ks_model_find("f042")), 0);
	assert_int_equal(ks_flash_write(&f, page, ff, T0, &w, 0), KS_WR_OK);
	assert_int_equal(ks_flash_write(&f, page, a, T0, &w, 0), KS_WR_OK);
	assert_false(f.err_latched);
	ks_flash_close(&f);
}

/* The first line of ROOT/rel, without its newline ("" when absent). */
static void
tree_read(const char *root, const char *rel, char *out, size_t size)
{
	char path[PATH_MAX];
	FILE *f;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "r");
	if (f == NULL)
		return;
	if (fgets(out, (int)size, f) == NULL)
		out[0] = '\0';
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

static int
tree_has(const char *root, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return access(path, F_OK) == 0;
}

/*
 * The kernel's view of the bridge's USB port: the gs_usb device with
 * can0 (whose sysfs device leads to the USB device, as host tools walk
 * it), then Katapult's tty on the same port, then nothing.
 */
static void
test_sysfs_tree(void **state)
{
	static const struct ks_usb_id bridge = { 0x1d50, 0x606f, "Klipper",
	    "stm32g0b1xx", "2C00210012504E3638323620" };
	static const struct ks_usb_id kp = { 0x1d50, 0x6177, "katapult",
	    "stm32g0b1xx", "2C00210012504E3638323620" };
	struct ks_sysfs fs;
	char root[] = "/tmp/ksim-sysfs-XXXXXX", path[PATH_MAX];
	char real[PATH_MAX], buf[128], cmd[256];
	ssize_t n;

	(void)state;
	assert_non_null(mkdtemp(root));
	assert_int_equal(ks_sysfs_init(&fs, root, "1-1.3", "can0"), 0);
	ks_sysfs_add(&fs, &bridge, KS_USB_NET, NULL);
	snprintf(path, sizeof(path), "%s/sys/class/net/can0/device/..", root);
	assert_non_null(realpath(path, real));
	assert_string_equal(strrchr(real, '/'), "/1-1.3");
	tree_read(root, "sys/bus/usb/devices/1-1.3/idVendor", buf,
	    sizeof(buf));
	assert_string_equal(buf, "1d50");
	tree_read(root, "sys/bus/usb/devices/1-1.3/idProduct", buf,
	    sizeof(buf));
	assert_string_equal(buf, "606f");
	tree_read(root, "sys/bus/usb/devices/1-1.3/manufacturer", buf,
	    sizeof(buf));
	assert_string_equal(buf, "Klipper");
	tree_read(root, "sys/bus/usb/devices/1-1.3/serial", buf, sizeof(buf));
	assert_string_equal(buf, "2C00210012504E3638323620");
	tree_read(root, "sys/bus/usb/devices/1-1.3/devnum", buf, sizeof(buf));
	assert_string_equal(buf, "1");
	assert_false(tree_has(root, "sys/class/tty/ttyACM0"));
	/* The same port, now Katapult's tty; can0 is gone. */
	ks_sysfs_add(&fs, &kp, KS_USB_TTY, "/dev/pts/99");
	assert_false(tree_has(root, "sys/class/net/can0"));
	tree_read(root, "sys/bus/usb/devices/1-1.3/idProduct", buf,
	    sizeof(buf));
	assert_string_equal(buf, "6177");
	tree_read(root, "sys/bus/usb/devices/1-1.3/devnum", buf, sizeof(buf));
	assert_string_equal(buf, "2");
	snprintf(path, sizeof(path), "%s/sys/class/tty/ttyACM0/device/..",
	    root);
	assert_non_null(realpath(path, real));
	assert_string_equal(strrchr(real, '/'), "/1-1.3");
	snprintf(path, sizeof(path), "%s/dev/ttyACM0", root);
	n = readlink(path, buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "/dev/pts/99");
	ks_sysfs_remove(&fs);
	assert_false(tree_has(root, "sys/bus/usb/devices/1-1.3"));
	assert_false(tree_has(root, "sys/class/tty/ttyACM0"));
	assert_false(tree_has(root, "dev/ttyACM0"));
	assert_false(tree_has(root, "sys/devices/usb1/1-1/1-1.3"));
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_check_value),
		cmocka_unit_test(test_worked_frames),
		cmocka_unit_test(test_connect_reply),
		cmocka_unit_test(test_parser_resync),
		cmocka_unit_test(test_parser_wedge),
		cmocka_unit_test(test_device_wedge),
		cmocka_unit_test(test_klipper_request),
		cmocka_unit_test(test_stm32_write_rules),
		cmocka_unit_test(test_check_erased_quarter),
		cmocka_unit_test(test_f446_sectors),
		cmocka_unit_test(test_rp2040_buffer),
		cmocka_unit_test(test_device_commands),
		cmocka_unit_test(test_device_faults),
		cmocka_unit_test(test_app_requests),
		cmocka_unit_test(test_can_framing),
		cmocka_unit_test(test_can_admin),
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_uart_resample),
		cmocka_unit_test(test_usb_wire),
		cmocka_unit_test(test_usbfs_hold),
		cmocka_unit_test(test_uart_tx_buffer),
		cmocka_unit_test(test_stall_steps),
		cmocka_unit_test(test_g0_program_once),
		cmocka_unit_test(test_sysfs_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
