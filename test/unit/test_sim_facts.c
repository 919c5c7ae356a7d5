/*
 * test_sim_facts.c - the library's device table (lib/devices.c) against
 * the USART simulator's own chip facts (test/sim/usart/facts.c), which
 * are transcribed from ST's documents independently of lib/.
 *
 * Every library row must have a simulator model and every model a row
 * (the three IDs no ST document lists were removed from both).  Each
 * model's facts are compared field by field with its row, and the ROM's
 * page numbering unit by unit through ft_chip_rom_page(), for the PID
 * model, for each variant (a smaller part, another ROM version) and for
 * each option setting a model can be switched to.  A difference fails
 * with the PID, the row name, the model and the field, unless the
 * exception table below gives the reason the two may differ; an
 * exception nothing needs fails too.
 *
 * The simulator's CRC-32 is checked against published test vectors here
 * as well, and the library's against the same vectors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "facts.h"
#include "ft_int.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define WRITE_ALIGN_MIN 4	/* AN3155: Write Memory in 4-byte units */

/*
 * Where the library may legitimately differ from the documents the
 * simulator models, and why.  A difference in (pid, field) is accepted
 * only if listed here, and only of the kind the reason describes
 * (checked by the comparison that consults it).
 */
struct exception {
	uint16_t pid;
	const char *field;
	const char *why;
	int used;
};

static struct exception exceptions[] = {
	{ 0x454, "write_unit", "U3: AN2606 Table 7 asks 8-byte alignment, "
	    "CubeProgrammer 16; the library keeps 16, a multiple the ROM "
	    "also takes", 0 },
	{ 0x42A, "write_unit", "U3: as 0x454", 0 },
	{ 0x467, "sysmem2", "G0B0/B1/C1: the library lists one system-memory "
	    "range; the second area (0x1FFF8000-0x1FFFEFFF, AN2606 Table "
	    "111) is for display only (audit B3)", 0 },
};

/* Removed from both tables: no ST document lists them (audit B9). */
static const uint16_t removed_pids[] = { 0x641, 0x9A8, 0x9B0 };

static unsigned nfail;

static void
differ(const struct chip_fact *f, const struct ft_chip *c, const char *field,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* One difference: say it, count it; the test fails at its end. */
static void
differ(const struct chip_fact *f, const struct ft_chip *c, const char *field,
    const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	print_error("pid 0x%03x (%s) [simulator model %s]: %s: %s\n", f->pid,
	    c != NULL ? c->name : "no library row",
	    f->alias != NULL ? f->alias : "PID", field, what);
	nfail++;
}

static struct exception *
excepted(uint16_t pid, const char *field)
{
	size_t i;

	for (i = 0; i < NELEM(exceptions); i++)
		if (exceptions[i].pid == pid &&
		    strcmp(exceptions[i].field, field) == 0) {
			exceptions[i].used = 1;
			return &exceptions[i];
		}
	return NULL;
}

static void
same_u32(const struct chip_fact *f, const struct ft_chip *c,
    const char *field, uint32_t lib, uint32_t sim)
{
	if (lib != sim)
		differ(f, c, field, "library 0x%08x, simulator 0x%08x", lib,
		    sim);
}

/* The simulator's field word for an option value. */
static uint32_t
opt_word(const struct fact_option *o, uint32_t value)
{
	uint32_t shift = 0;

	while (((o->mask >> shift) & 1u) == 0)
		shift++;
	return (value << shift) & o->mask;
}

/*
 * Walk every erase unit of the simulator's banks and ask the library for
 * the same unit: its start and size in the library's layout, and the page
 * number ft_chip_rom_page() gives it on a part of f's size.
 */
static void
same_pages(const struct chip_fact *f, const struct ft_chip *c,
    const struct fact_bank *banks, const struct ft_opt_layout *alt,
    const char *setting)
{
	uint32_t units = 0, lib_units = 0;
	unsigned b;
	uint64_t at;

	for (b = 0; b < fact_nbanks(banks); b++) {
		at = banks[b].base;
		while (at < banks[b].base + fact_bank_bytes(&banks[b])) {
			uint32_t start, size, page, lpage = 0, lstart = 0;
			uint32_t lsize = 0;
			int rc;

			if (fact_unit_at(banks, (uint32_t)at, &start, &size,
			    &page) != 0) {
				differ(f, c, "runs", "%s: simulator bank %u "
				    "has a hole at 0x%08x", setting, b + 1,
				    (unsigned)at);
				return;
			}
			rc = ft_chip_rom_page(c, alt, f->flash_size,
			    (uint32_t)at, &lpage, &lstart, &lsize);
			if (rc == 0 && (lstart != start || lsize != size)) {
				differ(f, c, "runs", "%s: the unit at 0x%08x "
				    "is %u bytes in the simulator, not so in "
				    "the library", setting, (unsigned)at,
				    (unsigned)size);
				return;
			}
			if (rc != 0 || lpage != page) {
				differ(f, c, "rom page", "%s: 0x%08x is page "
				    "%u for the ROM (simulator), %u for the "
				    "library (rc %d)", setting, (unsigned)at,
				    (unsigned)page, (unsigned)lpage, rc);
				return;
			}
			units++;
			at += size;
		}
	}
	/* No library unit the simulator lacks (on the same size). */
	for (at = c->flash_base; at < (uint64_t)c->flash_base +
	    f->flash_size; lib_units++) {
		uint32_t lsize;

		if (ft_chip_rom_page(c, alt, f->flash_size, (uint32_t)at,
		    NULL, NULL, &lsize) != 0)
			break;
		at += lsize;
	}
	if (lib_units != units)
		differ(f, c, "runs", "%s: %u units in the first %u KiB of the "
		    "library's layout, %u in the simulator's", setting,
		    (unsigned)lib_units, (unsigned)(f->flash_size / 1024),
		    (unsigned)units);
}


static void
same_option(const struct chip_fact *f, const struct ft_chip *c)
{
	const struct fact_option *o = f->option;
	const struct ft_opt_layout *alt;

	if (o == NULL)
		return;
	if (o->kind == OPT_SECURE_START) {
		if (c->secure == NULL) {
			differ(f, c, "secure", "the simulator has a secure "
			    "area from %s, the library none", o->name);
			return;
		}
		same_u32(f, c, "secure.opt_addr", c->secure->opt_addr,
		    o->addr);
		same_u32(f, c, "secure.opt_mask", c->secure->opt_mask,
		    o->mask);
		same_u32(f, c, "secure.unit", c->secure->unit, o->unit);
		return;
	}
	/* As shipped: the factory layout, no alternative. */
	alt = ft_chip_opt_layout(c, f->flash_size, opt_word(o, o->factory));
	if (alt != NULL)
		differ(f, c, "opt_layouts", "%s as shipped (%u) selects the "
		    "library's \"%s\"", o->name, (unsigned)o->factory,
		    alt->what);
	/* Switched: the library must pick a layout that numbers alike. */
	alt = ft_chip_opt_layout(c, f->flash_size, opt_word(o, o->alt_value));
	if (alt == NULL) {
		differ(f, c, "opt_layouts", "%s = %u changes the layout; the "
		    "library has no layout for it on %u KiB", o->name,
		    (unsigned)o->alt_value, (unsigned)(f->flash_size / 1024));
		return;
	}
	same_u32(f, c, "opt_layouts.opt_addr", alt->opt_addr, o->addr);
	same_pages(f, c, o->alt, alt, o->name);
}

/* ROM behaviours of every model with this ID: the row must cover all. */
static uint32_t
rom_union(uint16_t pid)
{
	uint32_t rom = 0;
	size_t i;

	for (i = 0; i < fact_count(); i++)
		if (fact_at(i)->pid == pid)
			rom |= fact_at(i)->rom;
	return rom;
}

static void
same_quirk(const struct chip_fact *f, const struct ft_chip *c,
    const char *field, int lib, int sim)
{
	if (lib != sim)
		differ(f, c, field, "library %s, simulator %s",
		    lib ? "set" : "clear", sim ? "set" : "clear");
}

static void
compare_model(const struct chip_fact *f, const struct ft_chip *c)
{
	unsigned lib_align = c->write_unit > WRITE_ALIGN_MIN ?
	    c->write_unit : WRITE_ALIGN_MIN;
	uint32_t rom = rom_union(f->pid);

	same_u32(f, c, "flash_base", c->flash_base, f->bank[0].base);
	if (f->variant ? f->flash_size > c->flash_size :
	    f->flash_size != c->flash_size)
		differ(f, c, "flash_size", "library %u KiB, simulator %u KiB",
		    (unsigned)(c->flash_size / 1024),
		    (unsigned)(f->flash_size / 1024));
	same_pages(f, c, f->bank, NULL, "factory options");
	if (!f->variant) {
		same_u32(f, c, "bank2_base", c->bank2_base,
		    fact_nbanks(f->bank) == 2 ? f->bank[1].base : 0);
		same_quirk(f, c, "FT_Q_DUAL_BANK",
		    (c->quirks & FT_Q_DUAL_BANK) != 0,
		    fact_nbanks(f->bank) == 2);
	}
	same_u32(f, c, "ram_start", c->ram_start, f->ram.start);
	same_u32(f, c, "ram_end", c->ram_end, f->ram.end);
	same_u32(f, c, "sysmem_start", c->sysmem_start, f->sysmem.start);
	same_u32(f, c, "sysmem_end", c->sysmem_end, f->sysmem.end);
	if (f->sysmem2.end != f->sysmem2.start &&
	    excepted(f->pid, "sysmem2") == NULL)
		differ(f, c, "sysmem2", "the simulator has a second system "
		    "memory area the library does not list");
	same_u32(f, c, "opt_start", c->opt_start, f->opt.start);
	same_u32(f, c, "opt_end", c->opt_end, f->opt.end);
	same_u32(f, c, "flash_size_reg", c->flash_size_reg, f->size_reg);
	/* Where the library reads the bootloader ID, it must be there. */
	if (c->bl_id_addr != 0)
		same_u32(f, c, "bl_id_addr", c->bl_id_addr, f->blid_addr);
	/* A stricter alignment than the ROM's must be a documented one. */
	if (lib_align != f->align &&
	    (lib_align % f->align != 0 ||
	    excepted(f->pid, "write_unit") == NULL))
		differ(f, c, "write_unit", "library aligns to %u, the ROM "
		    "wants %u", lib_align, (unsigned)f->align);
	same_quirk(f, c, "FT_Q_ERASED_ZERO",
	    (c->quirks & FT_Q_ERASED_ZERO) != 0, f->erased == 0x00);
	same_quirk(f, c, "FT_Q_NO_MASS_ERASE",
	    (c->quirks & FT_Q_NO_MASS_ERASE) != 0,
	    (rom & ROM_NO_MASS_ERASE) != 0);
	same_quirk(f, c, "FT_Q_BANK2_ERASE_ONE",
	    (c->quirks & FT_Q_BANK2_ERASE_ONE) != 0,
	    (rom & ROM_BANK2_ONE_PAGE) != 0);
	same_quirk(f, c, "FT_Q_ERASE_EARLY_ACK",
	    (c->quirks & FT_Q_ERASE_EARLY_ACK) != 0,
	    (rom & ROM_ERASE_EARLY_ACK) != 0);
	same_quirk(f, c, "FT_Q_DOUBLE_ACK",
	    (c->quirks & FT_Q_DOUBLE_ACK) != 0,
	    (rom & ROM_DOUBLE_ACK) != 0);
	same_option(f, c);
}

/*
 * Every library option layout and secure area must be one the simulator
 * can be switched to, so that none stands untested.
 */
static void
lib_options_modelled(const struct ft_chip *c)
{
	const struct ft_opt_layout *o;
	size_t i;

	for (o = c->opt_layouts; o != NULL && o->opt_addr != 0; o++) {
		int found = 0;

		for (i = 0; i < fact_count(); i++) {
			const struct chip_fact *f = fact_at(i);
			const struct fact_option *fo = f->option;

			if (f->pid == c->pid && fo != NULL &&
			    fo->kind == OPT_LAYOUT && fo->addr == o->opt_addr &&
			    fo->mask == o->opt_mask &&
			    opt_word(fo, fo->alt_value) == o->opt_value &&
			    (o->flash_size == 0 ||
			    o->flash_size == f->flash_size))
				found = 1;
		}
		if (!found) {
			print_error("pid 0x%03x (%s): library layout \"%s\" "
			    "(%u KiB) has no simulator model\n", c->pid,
			    c->name, o->what,
			    (unsigned)(o->flash_size / 1024));
			nfail++;
		}
	}
	if (c->secure != NULL) {
		const struct chip_fact *f = NULL;

		for (i = 0; i < fact_count(); i++)
			if (fact_at(i)->pid == c->pid && !fact_at(i)->variant)
				f = fact_at(i);
		if (f == NULL || f->option == NULL ||
		    f->option->kind != OPT_SECURE_START) {
			print_error("pid 0x%03x (%s): library secure area "
			    "has no simulator model\n", c->pid, c->name);
			nfail++;
		}
	}
}

static void
test_every_model_matches_its_row(void **state)
{
	size_t i;

	(void)state;
	nfail = 0;
	for (i = 0; i < fact_count(); i++) {
		const struct chip_fact *f = fact_at(i);
		const struct ft_chip *c = ft_chip_by_pid(f->pid);

		if (c == NULL) {
			differ(f, NULL, "row", "the simulator models this ID, "
			    "the library has no row");
			continue;
		}
		compare_model(f, c);
	}
	for (i = 0; i < ft_chip_count(); i++)
		lib_options_modelled(ft_chip_at(i));
	for (i = 0; i < NELEM(exceptions); i++)
		if (!exceptions[i].used) {
			print_error("exception for pid 0x%03x %s is not "
			    "needed any more: %s\n", exceptions[i].pid,
			    exceptions[i].field, exceptions[i].why);
			nfail++;
		}
	if (nfail != 0)
		fail_msg("%u differences between lib/devices.c and "
		    "test/sim/usart/facts.c", nfail);
}

static void
test_every_row_has_a_model(void **state)
{
	size_t i, j;

	(void)state;
	nfail = 0;
	for (i = 0; i < ft_chip_count(); i++) {
		const struct ft_chip *c = ft_chip_at(i);
		int found = 0;
		char key[8];

		for (j = 0; j < fact_count(); j++)
			if (fact_at(j)->pid == c->pid && !fact_at(j)->variant)
				found = 1;
		snprintf(key, sizeof(key), "0x%03x", c->pid);
		if (!found || fact_find(key) == NULL) {
			print_error("pid 0x%03x (%s): no simulator model\n",
			    c->pid, c->name);
			nfail++;
		}
	}
	for (i = 0; i < NELEM(removed_pids); i++) {
		char key[8];

		snprintf(key, sizeof(key), "0x%03x", removed_pids[i]);
		assert_null(ft_chip_by_pid(removed_pids[i]));
		assert_null(fact_find(key));
	}
	if (nfail != 0)
		fail_msg("%u library rows without a simulator model", nfail);
}

/* The fact table's own invariants (facts.c header). */
static void
test_facts_consistent(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < fact_count(); i++) {
		const struct chip_fact *f = fact_at(i);
		uint64_t sum = 0, at = FACT_FLASH_BASE;
		unsigned b;

		for (b = 0; b < fact_nbanks(f->bank); b++) {
			if (f->bank[b].base != at)
				fail_msg("pid 0x%03x %s: bank %u not "
				    "contiguous", f->pid,
				    f->alias ? f->alias : "", b + 1);
			at += fact_bank_bytes(&f->bank[b]);
			sum += fact_bank_bytes(&f->bank[b]);
		}
		if (sum != f->flash_size)
			fail_msg("pid 0x%03x %s: banks do not sum to "
			    "flash_size", f->pid, f->alias ? f->alias : "");
		if (f->variant && f->alias == NULL)
			fail_msg("pid 0x%03x: a variant without a name",
			    f->pid);
		if (f->align < WRITE_ALIGN_MIN || f->ram.start > f->ram.end)
			fail_msg("pid 0x%03x: alignment or RAM wrong", f->pid);
		for (j = i + 1; j < fact_count(); j++) {
			if (f->alias != NULL && fact_at(j)->alias != NULL &&
			    strcmp(f->alias, fact_at(j)->alias) == 0)
				fail_msg("alias %s twice", f->alias);
			if (!f->variant && !fact_at(j)->variant &&
			    f->pid == fact_at(j)->pid)
				fail_msg("pid 0x%03x: two PID models", f->pid);
		}
	}
	assert_null(fact_find(""));
	assert_null(fact_find("0x999"));
	assert_non_null(fact_find("f103"));
	assert_int_equal(fact_find("0x410")->pid, 0x410);
	assert_int_equal(fact_find("l476-512k")->flash_size, 512 * 1024);
}

/*
 * Published vectors: CRC-32/MPEG-2 (polynomial 0x04C11DB7, init
 * 0xFFFFFFFF, no reflection, no final XOR) of "123456789" is 0x0376E6E7
 * (the CRC catalogue's check value); an STM32G491 CRC unit fed the word
 * 5 reads 0xD0C1B610 (ST community, "CRC problem", 2024).
 */
static void
test_crc_vectors(void **state)
{
	static const uint8_t check[] = "123456789";
	static const uint8_t word5[] = { 0x05, 0x00, 0x00, 0x00 };
	uint8_t buf[64];
	size_t i;

	(void)state;
	assert_int_equal(sim_crc32_msb_bytes(SIM_CRC_INIT, check, 9),
	    0x0376E6E7);
	assert_int_equal(sim_crc32_stm(SIM_CRC_INIT, word5, 4), 0xD0C1B610);
	assert_int_equal(ft_crc32_stm(FT_CRC32_STM_INIT, word5, 4),
	    0xD0C1B610);
	/* Words are fed most significant byte first. */
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 37 + 11);
	for (i = 0; i < sizeof(buf); i += 4) {
		uint8_t be[4] = { buf[i + 3], buf[i + 2], buf[i + 1],
		    buf[i] };
		uint32_t a = sim_crc32_stm(SIM_CRC_INIT, buf, i + 4);
		uint32_t b = sim_crc32_msb_bytes(i == 0 ? SIM_CRC_INIT :
		    sim_crc32_stm(SIM_CRC_INIT, buf, i), be, 4);

		assert_int_equal(a, b);
	}
	assert_int_equal(sim_crc32_stm(SIM_CRC_INIT, buf, sizeof(buf)),
	    ft_crc32_stm(FT_CRC32_STM_INIT, buf, sizeof(buf)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_facts_consistent),
		cmocka_unit_test(test_every_row_has_a_model),
		cmocka_unit_test(test_every_model_matches_its_row),
		cmocka_unit_test(test_crc_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
