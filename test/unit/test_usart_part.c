/*
 * test_usart_part.c - the USART transport's choice of a part's layout
 * (lib/usart/part.c, ft_usart_part_choose): from a table row and the
 * words the part answered (flash-size word, option word, SFSA, the
 * bootloader ID), the layout the core plans with, the ROM page numbers,
 * how erases are split, and when erasing must be refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "usart/usart.h"

#define KIB 1024u

struct choice {
	struct usart_part p;
	struct ft_layout flash;
	char note[256];
};

/* The words chip pid asks for, answered as given (has_* set by them). */
static const struct ft_chip *
ask(uint16_t pid, struct part_words *w)
{
	const struct ft_chip *c = ft_chip_by_pid(pid);

	assert_non_null(c);
	ft_usart_part_needs(c, 0, w);
	return c;
}

static void
choose(const struct ft_chip *c, const struct part_words *w,
    struct choice *ch)
{
	memset(ch, 0, sizeof(*ch));
	assert_int_equal(ft_usart_part_choose(c, w, &ch->p, &ch->flash,
	    ch->note, sizeof(ch->note)), 0);
}

static void
size_word(struct part_words *w, uint32_t kib)
{
	assert_true(w->want_size);
	w->has_size = 1;
	w->size_kib = kib;
}

static void
opt_word(struct part_words *w, uint32_t word)
{
	assert_true(w->want_opt);
	w->has_opt = 1;
	w->opt = word;
}

/* The layout is runs[0..n) of {size, count}. */
static void
expect_runs(const struct ft_layout *l, const uint32_t (*runs)[2], unsigned n)
{
	unsigned i;

	assert_int_equal(l->base, 0x08000000u);
	assert_int_equal(l->nruns, n);
	for (i = 0; i < n; i++) {
		assert_int_equal(l->runs[i].size, runs[i][0]);
		assert_int_equal(l->runs[i].count, runs[i][1]);
	}
}

static uint32_t
page_of(const struct ft_chip *c, const struct choice *ch, uint32_t addr)
{
	uint32_t page = 0;

	assert_int_equal(ft_chip_rom_page(c, ch->p.alt, ch->p.flash_size,
	    addr, &page, NULL, NULL), 0);
	return page;
}

static void
expect_refused(const struct choice *ch, const char *what)
{
	if (strstr(ch->p.refused, what) == NULL)
		print_error("refusal '%s' lacks '%s'\n", ch->p.refused, what);
	assert_non_null(strstr(ch->p.refused, what));
}

/*
 * Chip pid, answering the size word with kib (0: unread) and the option
 * word with opt (NO_OPT: unread), chosen into *ch.
 */
#define NO_OPT 0xDEADBEEFu

static const struct ft_chip *
answer(uint16_t pid, uint32_t kib, uint32_t opt, struct part_words *w,
    struct choice *ch)
{
	const struct ft_chip *c = ask(pid, w);

	if (kib != 0)
		size_word(w, kib);
	if (opt != NO_OPT)
		opt_word(w, opt);
	choose(c, w, ch);
	return c;
}

/*
 * L47x 512 KiB: in the factory dual bank, bank 2 at 0x08040000 is page
 * 256; with DUALBANK (bit 21) = 0 it is one bank of pages 0-255.
 */
static void
test_l47x_512k(void **state)
{
	static const uint32_t runs[][2] = { { 2 * KIB, 256 } };
	struct part_words w;
	struct choice ch;
	const struct ft_chip *c = answer(0x415, 512, 0xFFEFF8AAu, &w, &ch);

	(void)state;
	assert_string_equal(ch.p.refused, "");
	assert_null(ch.p.alt);
	assert_true(ch.p.rom_pages);
	expect_runs(&ch.flash, runs, 1);
	assert_int_equal(page_of(c, &ch, 0x0803F800), 127);
	assert_int_equal(page_of(c, &ch, 0x08040000), 256);
	assert_int_equal(page_of(c, &ch, 0x0807F800), 383);
	assert_non_null(strstr(ch.note, "flash-size word: 512 KiB"));

	answer(0x415, 512, 0xFFCFF8AAu, &w, &ch);
	assert_string_equal(ch.p.refused, "");
	assert_non_null(ch.p.alt);
	expect_runs(&ch.flash, runs, 1);
	assert_int_equal(page_of(c, &ch, 0x08040000), 128);
	assert_non_null(strstr(ch.note, "DUALBANK = 0"));
}

/*
 * Must refuse: without the size word bank 2 cannot be placed (page 256
 * is 0x08040000 on a 512 KiB part, 0x08080000 on a 1 MiB one), and a
 * size the row cannot have is no better.
 */
static void
test_l47x_size_unknown(void **state)
{
	struct part_words w;
	struct choice ch;
	const struct ft_chip *c = answer(0x415, 0, 0xFFEFF8AAu, &w, &ch);

	(void)state;
	expect_refused(&ch, "STM32L47xxx/L48xxx: the flash-size word");
	expect_refused(&ch, "could not be read");
	/* The row's layout stays for reading and writing. */
	assert_int_equal(ft_layout_size(&ch.flash), 1024 * KIB);

	size_word(&w, 4096);
	choose(c, &w, &ch);
	expect_refused(&ch, "flash-size word");
	assert_non_null(strstr(ch.note, "ignored"));
}

/* F76x: nDBANK = 0 selects two banks; bank 2 is sector 12 on. */
static void
test_f76x_dual(void **state)
{
	static const uint32_t runs_2m[][2] = {
		{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 7 },
		{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 7 },
	};
	static const uint32_t runs_1m[][2] = {
		{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 },
		{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 },
	};
	static const uint32_t runs_1m_single[][2] = {
		{ 32 * KIB, 4 }, { 128 * KIB, 1 }, { 256 * KIB, 3 },
	};
	struct part_words w;
	struct choice ch;
	const struct ft_chip *c = answer(0x451, 2048,
	    0x00FF00FFu & ~(1u << 13), &w, &ch);

	(void)state;
	assert_string_equal(ch.p.refused, "");
	expect_runs(&ch.flash, runs_2m, 6);
	assert_int_equal(page_of(c, &ch, 0x08100000), 12);

	size_word(&w, 1024);
	choose(c, &w, &ch);
	expect_runs(&ch.flash, runs_1m, 6);
	assert_int_equal(page_of(c, &ch, 0x08080000), 12);
	assert_int_equal(page_of(c, &ch, 0x080E0000), 19);

	/* nDBANK = 1 on a 1 MiB part: the row's sectors, cut at 1 MiB. */
	opt_word(&w, 0x00FF00FFu | (1u << 13));
	choose(c, &w, &ch);
	assert_null(ch.p.alt);
	expect_runs(&ch.flash, runs_1m_single, 3);
}

/* Must refuse: the option word unreadable, naming the bit and chip. */
static void
test_f76x_option_unreadable(void **state)
{
	struct part_words w;
	struct choice ch;

	(void)state;
	answer(0x451, 2048, NO_OPT, &w, &ch);
	expect_refused(&ch, "STM32F76xxx/F77xxx: the option word at "
	    "0x1fff0008, whose nDBANK bit selects the flash layout");
	assert_non_null(strstr(ch.note, "erasing refused"));
}

/*
 * F42x/F43x (0x419): DB1M applies to 1 MiB parts only, so with DB1M set
 * the size must be known; with it clear the row numbers flat anyway.
 */
static void
test_f42x_db1m(void **state)
{
	static const uint32_t runs[][2] = {
		{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 },
		{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 },
	};
	struct part_words w;
	struct choice ch;
	const struct ft_chip *c = answer(0x419, 1024, 1u << 14, &w, &ch);

	(void)state;
	assert_string_equal(ch.p.refused, "");
	expect_runs(&ch.flash, runs, 6);
	assert_int_equal(page_of(c, &ch, 0x08080000), 12);

	/* DB1M on a 2 MiB part means nothing: the row's map. */
	size_word(&w, 2048);
	choose(c, &w, &ch);
	assert_null(ch.p.alt);

	w.has_size = 0;
	choose(c, &w, &ch);
	expect_refused(&ch, "flash-size word");
	expect_refused(&ch, "DB1M");
	opt_word(&w, 0);
	choose(c, &w, &ch);
	assert_string_equal(ch.p.refused, "");
}

/* WB55: flash from SFSA up is the radio core's, and not shown. */
static void
test_wb_secure(void **state)
{
	static const uint32_t runs[][2] = { { 4 * KIB, 0xCB } };
	struct part_words w;
	struct choice ch;
	const struct ft_chip *c = ask(0x495, &w);

	(void)state;
	assert_false(w.want_size);
	assert_true(w.want_sfsa);
	w.has_sfsa = 1;
	w.sfsa = 0xFFFFFFCBu;
	choose(c, &w, &ch);
	assert_string_equal(ch.p.refused, "");
	assert_int_equal(ch.p.secure_start, 0x080CB000u);
	assert_int_equal(ch.p.secure_field, 0xCB);
	expect_runs(&ch.flash, runs, 1);
	/* Unread: the whole array, nothing refused (the chip protects it). */
	w.has_sfsa = 0;
	choose(c, &w, &ch);
	assert_int_equal(ch.p.secure_start, 0);
	assert_int_equal(ft_layout_size(&ch.flash), 1024 * KIB);
	assert_string_equal(ch.p.refused, "");
}

/* G07x: one page per erase on V11.3 or when the ID cannot be read. */
static void
test_g07x_early_ack(void **state)
{
	struct part_words w;
	struct choice ch;
	const struct ft_chip *c = ask(0x460, &w);

	(void)state;
	assert_true(w.want_blid);
	w.has_blid = 1;
	w.bl_id = 0xB3;
	choose(c, &w, &ch);
	assert_true(ch.p.early_ack);
	w.bl_id = 0xB4;
	choose(c, &w, &ch);
	assert_false(ch.p.early_ack);
	w.has_blid = 0;
	choose(c, &w, &ch);
	assert_true(ch.p.early_ack);
	/* Not a quirk of its neighbours. */
	ask(0x466, &w);
	assert_false(w.want_blid);
}

/* G0B1: bank 2 (upper half of this part) one page per command. */
static void
test_g0b1_bank2(void **state)
{
	struct part_words w;
	struct choice ch;
	const struct ft_chip *c = answer(0x467, 512, NO_OPT, &w, &ch);

	(void)state;
	assert_int_equal(ch.p.alone_from, 0x08040000u);
	size_word(&w, 256);
	choose(c, &w, &ch);
	assert_int_equal(ch.p.alone_from, 0x08020000u);
	assert_int_equal(ft_layout_size(&ch.flash), 256 * KIB);
	/* Size unknown: every page alone, slower but safe. */
	w.has_size = 0;
	choose(c, &w, &ch);
	assert_int_equal(ch.p.alone_from, 0x08000000u);
	assert_string_equal(ch.p.refused, "");
}

/* Plain rows ask nothing and keep their layout. */
static void
test_plain_rows(void **state)
{
	struct part_words w;
	struct choice ch;
	const struct ft_chip *c = ask(0x410, &w);

	(void)state;
	assert_false(w.want_size || w.want_opt || w.want_sfsa ||
	    w.want_blid);
	choose(c, &w, &ch);
	assert_string_equal(ch.note, "");
	assert_int_equal(ft_layout_size(&ch.flash), c->flash_size);
	assert_int_equal(ch.p.alone_from, AN_ERASE_NONE_ALONE);
}

/* --layout: the user's layout stays, numbered flat; nothing refused. */
static void
test_user_layout(void **state)
{
	const struct ft_chip *c = ft_chip_by_pid(0x415);
	struct part_words w;
	struct choice ch;

	(void)state;
	ft_usart_part_needs(c, 1, &w);
	assert_false(w.want_size || w.want_opt || w.want_sfsa);
	memset(&ch, 0, sizeof(ch));
	ch.flash = (struct ft_layout){ 0x08000000, 1, { { 2 * KIB, 256 } } };
	assert_int_equal(ft_usart_part_choose(c, &w, &ch.p, &ch.flash,
	    ch.note, sizeof(ch.note)), 0);
	assert_false(ch.p.rom_pages);
	assert_string_equal(ch.p.refused, "");
	assert_int_equal(ft_layout_size(&ch.flash), 512 * KIB);
	/* G0B1's quirk still applies, from the user's half way. */
	c = ft_chip_by_pid(0x467);
	ft_usart_part_needs(c, 1, &w);
	assert_int_equal(ft_usart_part_choose(c, &w, &ch.p, &ch.flash,
	    ch.note, sizeof(ch.note)), 0);
	assert_int_equal(ch.p.alone_from, 0x08040000u);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_l47x_512k),
		cmocka_unit_test(test_l47x_size_unknown),
		cmocka_unit_test(test_f76x_dual),
		cmocka_unit_test(test_f76x_option_unreadable),
		cmocka_unit_test(test_f42x_db1m),
		cmocka_unit_test(test_wb_secure),
		cmocka_unit_test(test_g07x_early_ack),
		cmocka_unit_test(test_g0b1_bank2),
		cmocka_unit_test(test_plain_rows),
		cmocka_unit_test(test_user_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
