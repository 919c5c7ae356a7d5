/*
 * Unit tests for the PARMRK decoder (lib/parmrk.c): what the tty layer
 * sends under INPCK|PARMRK, whole and cut at every possible point
 * between two read(2) calls; and the serial layer on a real pty, whose
 * line discipline doubles every 0xFF once PARMRK is set.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ft_int.h"
#include "parmrk.h"
#include "serial.h"

#define PTY_READ_MS 1000u

#define MAX_BYTES 64

struct result {
	uint8_t data[MAX_BYTES];
	int bad[MAX_BYTES];
	size_t n, nbad;
};

/* Decode in, handed over in pieces cut at the offsets in cuts[]. */
static void
decode_cut(const uint8_t *in, size_t n, const size_t *cuts, size_t ncuts,
    struct result *r)
{
	struct ft_parmrk st;
	size_t from = 0, c, i;

	memset(&st, 0, sizeof(st));
	memset(r, 0, sizeof(*r));
	for (c = 0; c <= ncuts; c++) {
		size_t to = c < ncuts ? cuts[c] : n;
		uint8_t buf[MAX_BYTES], bad[MAX_BYTES / 8];
		size_t got, nbad;

		memcpy(buf, in + from, to - from);
		got = ft_parmrk_decode(&st, buf, to - from, bad, &nbad);
		assert_true(got <= to - from);
		for (i = 0; i < got; i++) {
			r->data[r->n + i] = buf[i];
			r->bad[r->n + i] = (bad[i / 8] >> (i % 8)) & 1;
		}
		r->n += got;
		r->nbad += nbad;
		from = to;
	}
}

static void
decode_all(const uint8_t *in, size_t n, struct result *r)
{
	decode_cut(in, n, NULL, 0, r);
}

static void
check(const struct result *r, const uint8_t *want, size_t n,
    const int *bad)
{
	size_t i, nbad = 0;

	assert_int_equal(r->n, n);
	assert_memory_equal(r->data, want, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(r->bad[i], bad[i]);
		nbad += (size_t)bad[i];
	}
	assert_int_equal(r->nbad, nbad);
}

static void
test_plain_bytes(void **state)
{
	const uint8_t in[] = { 0x79, 0x00, 0x11, 0xFE, 0x1F };
	const int bad[5] = { 0 };
	struct result r;

	(void)state;
	decode_all(in, sizeof(in), &r);
	check(&r, in, sizeof(in), bad);
}

static void
test_doubled_ff(void **state)
{
	const uint8_t in[] = { 0xFF, 0xFF, 0x01, 0xFF, 0xFF, 0xFF, 0xFF };
	const uint8_t want[] = { 0xFF, 0x01, 0xFF, 0xFF };
	const int bad[4] = { 0 };
	struct result r;

	(void)state;
	decode_all(in, sizeof(in), &r);
	check(&r, want, sizeof(want), bad);
}

static void
test_marked_bytes(void **state)
{
	/* A damaged 0x42, a good 0xFF, a damaged 0xFF, a damaged 0x00. */
	const uint8_t in[] = { 0x10, 0xFF, 0x00, 0x42, 0xFF, 0xFF,
	    0xFF, 0x00, 0xFF, 0xFF, 0x00, 0x00, 0x20 };
	const uint8_t want[] = { 0x10, 0x42, 0xFF, 0xFF, 0x00, 0x20 };
	const int bad[] = { 0, 1, 0, 1, 1, 0 };
	struct result r;

	(void)state;
	decode_all(in, sizeof(in), &r);
	check(&r, want, sizeof(want), bad);
}

static void
test_break(void **state)
{
	/* BREAK under PARMRK (IGNBRK and BRKINT clear): 0xFF 0x00 0x00. */
	const uint8_t in[] = { 0x79, 0xFF, 0x00, 0x00, 0x79 };
	const uint8_t want[] = { 0x79, 0x00, 0x79 };
	const int bad[] = { 0, 1, 0 };
	struct result r;

	(void)state;
	decode_all(in, sizeof(in), &r);
	check(&r, want, sizeof(want), bad);
}

/* Every single cut and every pair of cuts gives the same result. */
static void
test_split_everywhere(void **state)
{
	const uint8_t in[] = { 0xFF, 0xFF, 0xFF, 0x00, 0x42, 0x33,
	    0xFF, 0x00, 0x00, 0xFF, 0x00, 0xFF, 0xFF, 0xFF };
	const uint8_t want[] = { 0xFF, 0x42, 0x33, 0x00, 0xFF, 0xFF };
	const int bad[] = { 0, 1, 0, 1, 1, 0 };
	struct result r;
	size_t a, b, cuts[2];

	(void)state;
	for (a = 0; a <= sizeof(in); a++) {
		cuts[0] = a;
		decode_cut(in, sizeof(in), cuts, 1, &r);
		check(&r, want, sizeof(want), bad);
		for (b = a; b <= sizeof(in); b++) {
			cuts[1] = b;
			decode_cut(in, sizeof(in), cuts, 2, &r);
			check(&r, want, sizeof(want), bad);
		}
	}
}

/* Byte by byte, as a read(2) of one byte at a time would hand it over. */
static void
test_one_byte_reads(void **state)
{
	const uint8_t in[] = { 0xFF, 0x00, 0x7F, 0xFF, 0xFF, 0x79 };
	const uint8_t want[] = { 0x7F, 0xFF, 0x79 };
	const int bad[] = { 1, 0, 0 };
	size_t cuts[sizeof(in) - 1], i;
	struct result r;

	(void)state;
	for (i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
		cuts[i] = i + 1;
	decode_cut(in, sizeof(in), cuts, sizeof(cuts) / sizeof(cuts[0]), &r);
	check(&r, want, sizeof(want), bad);
}

/*
 * 0xFF before anything but 0xFF or 0x00 never comes from the tty layer:
 * the byte after it counts as damaged, one byte out for one in, also
 * when the 0xFF ended the previous read.
 */
static void
test_stray_escape(void **state)
{
	const uint8_t in[] = { 0x01, 0xFF, 0x79, 0x02 };
	const uint8_t want[] = { 0x01, 0x79, 0x02 };
	const int bad[] = { 0, 1, 0 };
	const size_t cut = 2;
	struct result r;

	(void)state;
	decode_all(in, sizeof(in), &r);
	check(&r, want, sizeof(want), bad);
	decode_cut(in, sizeof(in), &cut, 1, &r);
	check(&r, want, sizeof(want), bad);
}

/* After a reset a lone 0x00 is data again, not the end of a marker. */
static void
test_reset(void **state)
{
	struct ft_parmrk st;
	uint8_t buf[2] = { 0xFF, 0x00 }, bad[1];
	size_t nbad, n;

	(void)state;
	memset(&st, 0, sizeof(st));
	n = ft_parmrk_decode(&st, buf, 1, bad, &nbad);
	assert_int_equal(n, 0);
	ft_parmrk_reset(&st);
	n = ft_parmrk_decode(&st, buf + 1, 1, bad, &nbad);
	assert_int_equal(n, 1);
	assert_int_equal(buf[1], 0x00);
	assert_int_equal(nbad, 0);
	assert_int_equal(bad[0], 0);
}

/* The bitmap covers more than one byte, and bits past the data stay 0. */
static void
test_bitmap_positions(void **state)
{
	uint8_t buf[40], bad[5];
	size_t i, n, nbad;
	struct ft_parmrk st;

	(void)state;
	memset(&st, 0, sizeof(st));
	for (i = 0; i < 37; i++)
		buf[i] = (uint8_t)i;
	/* Data byte 10 damaged: bytes 10, 11, 12 become 0xFF 0x00 0x0A. */
	memmove(buf + 12, buf + 10, 27);
	buf[10] = 0xFF;
	buf[11] = 0x00;
	memset(bad, 0xAA, sizeof(bad));
	n = ft_parmrk_decode(&st, buf, 39, bad, &nbad);
	assert_int_equal(n, 37);
	assert_int_equal(nbad, 1);
	for (i = 0; i < 37; i++) {
		assert_int_equal(buf[i], i);
		assert_int_equal((bad[i / 8] >> (i % 8)) & 1, i == 10);
	}
}

static int
open_pty(char *name, size_t len)
{
	int m = posix_openpt(O_RDWR | O_NOCTTY);

	assert_true(m >= 0);
	assert_int_equal(grantpt(m), 0);
	assert_int_equal(unlockpt(m), 0);
	assert_int_equal(ptsname_r(m, name, len), 0);
	return m;
}

/*
 * 8E1 on a pty: the pty drops PARENB but keeps PARMRK, so the kernel
 * doubles 0xFF and the serial layer must undo it.  8N1: no PARMRK, and
 * 0xFF comes through single.
 */
static void
serial_roundtrip(char parity)
{
	const uint8_t sent[] = { 0x79, 0xFF, 0x00, 0xFF, 0xFF, 0x1F };
	struct ft_serial_cfg cfg = { 115200, 8, parity, 1 };
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_serial *s = NULL;
	uint8_t got[sizeof(sent)];
	char name[64];
	size_t n = 0;
	int m;

	assert_non_null(ctx);
	m = open_pty(name, sizeof(name));
	assert_int_equal(ft_serial_open(ctx, name, &cfg, &s), 0);
	assert_int_equal(write(m, sent, sizeof(sent)), (ssize_t)sizeof(sent));
	assert_int_equal(ft_serial_read(s, got, sizeof(got), PTY_READ_MS,
	    &n), 0);
	assert_int_equal(n, sizeof(sent));
	assert_memory_equal(got, sent, sizeof(sent));
	/* Nothing left over: the doubled bytes were all taken out. */
	assert_int_equal(ft_serial_read(s, got, 1, 50, &n), FT_E_TIMEOUT);
	assert_int_equal(n, 0);
	ft_serial_close(s);
	close(m);
	ft_ctx_free(ctx);
}

static void
test_serial_pty_even(void **state)
{
	(void)state;
	serial_roundtrip('e');
}

static void
test_serial_pty_none(void **state)
{
	(void)state;
	serial_roundtrip('n');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_bytes),
		cmocka_unit_test(test_doubled_ff),
		cmocka_unit_test(test_marked_bytes),
		cmocka_unit_test(test_break),
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_one_byte_reads),
		cmocka_unit_test(test_stray_escape),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_bitmap_positions),
		cmocka_unit_test(test_serial_pty_even),
		cmocka_unit_test(test_serial_pty_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
