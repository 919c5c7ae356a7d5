/*
 * test_devices.c - self-check of the device table (lib/devices.c): every
 * row must be internally consistent, and a few rows are compared with
 * the exact facts the rest of the project relies on.
 *
 * The unit walk is done here rather than through ft_layout_find() so
 * that the table is checked independently of the layout module.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ft_int.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

#define KNOWN_QUIRKS (FT_Q_NO_MASS_ERASE | FT_Q_RESET_OBL_LAUNCH | \
    FT_Q_RESET_PEMPTY | FT_Q_VERIFY_AFTER_ALL | FT_Q_DUAL_BANK | \
    FT_Q_BOOT0_OPTION | FT_Q_ERASED_ZERO | FT_Q_BANK2_ERASE_ONE | \
    FT_Q_ERASE_EARLY_ACK | FT_Q_DOUBLE_ACK)

/*
 * Every ID stm32flash's development tree knows (research doc 5.2) that an
 * ST document confirms; its 0x641, 0x9A8 and 0x9B0 are in none (audit
 * B9) and were removed.
 */
static const uint16_t stm32flash_pids[] = {
	0x440, 0x444, 0x442, 0x445, 0x448, 0x412, 0x410, 0x414, 0x420,
	0x428, 0x418, 0x430, 0x411, 0x432, 0x422, 0x439, 0x438, 0x446,
	0x413, 0x419, 0x423, 0x433, 0x458, 0x431, 0x441, 0x421, 0x434,
	0x463, 0x452, 0x449, 0x451, 0x466, 0x460, 0x467, 0x456, 0x468,
	0x469, 0x479, 0x483, 0x450, 0x480, 0x457, 0x425, 0x417, 0x447,
	0x416, 0x429, 0x427, 0x436, 0x437, 0x464, 0x435, 0x462, 0x415,
	0x461, 0x470, 0x471, 0x472, 0x494, 0x495, 0x497, 0x482,
};

static const uint16_t removed_pids[] = { 0x641, 0x9A8, 0x9B0 };

/* AN2606 rev 70 USART bootloaders the table lacked (audit section C). */
static const uint16_t audit_c_pids[] = {
	0x44C, 0x493, 0x44D, 0x44E, 0x44F, 0x45A, 0x478, 0x47A, 0x485,
	0x459, 0x489, 0x454, 0x42A, 0x476, 0x4B2, 0x492, 0x4B0,
};

/* L0 and L1: the ROM cannot mass erase. */
static const uint16_t l0_l1_pids[] = {
	0x457, 0x425, 0x417, 0x447, 0x416, 0x429, 0x427, 0x436, 0x437,
};

/* G0, C0 and U0: BOOT0 pin ignored by factory option bytes. */
static const uint16_t g0_c0_pids[] = {
	0x466, 0x456, 0x460, 0x467, 0x443, 0x453, 0x44C, 0x493, 0x44D,
	0x459, 0x489,
};

/* L41x-L46x: the empty-check entry (AN2606 pattern 16; audit B4). */
static const uint16_t pempty_pids[] = { 0x464, 0x435, 0x462 };

static const uint16_t h7_pids[] = { 0x483, 0x450, 0x480 };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct range {
	const char *what;
	uint64_t start;
	uint64_t end;		/* exclusive */
};

static int
is_pow2(uint64_t v)
{
	return v != 0 && (v & (v - 1)) == 0;
}

/* Number of leading non-empty runs. */
static unsigned
chip_nruns(const struct ft_chip *c)
{
	unsigned n = 0;

	while (n < FT_MAX_RUNS && c->runs[n].count != 0)
		n++;
	return n;
}

static uint64_t
chip_runs_bytes(const struct ft_chip *c)
{
	uint64_t sum = 0;
	unsigned i;

	for (i = 0; i < chip_nruns(c); i++)
		sum += (uint64_t)c->runs[i].size * c->runs[i].count;
	return sum;
}

/*
 * Walk the erase units of c to the one holding addr: 0 and its index,
 * start and size, or -1 when addr is outside the flash.
 */
static int
chip_find(const struct ft_chip *c, uint32_t addr, uint32_t *index,
    uint32_t *start, uint32_t *size)
{
	uint64_t at = c->flash_base;
	uint32_t n = 0;
	unsigned i;

	for (i = 0; i < chip_nruns(c); i++) {
		uint64_t len = (uint64_t)c->runs[i].size * c->runs[i].count;

		if (addr >= at && addr < at + len) {
			uint32_t k = (uint32_t)((addr - at) / c->runs[i].size);

			*index = n + k;
			*start = (uint32_t)(at + (uint64_t)k * c->runs[i].size);
			*size = c->runs[i].size;
			return 0;
		}
		at += len;
		n += c->runs[i].count;
	}
	return -1;
}

static void
fail_row(const struct ft_chip *c, const char *why)
{
	fail_msg("pid 0x%03x (%s): %s", c->pid, c->name ? c->name : "?", why);
}

static void
check_runs(const struct ft_chip *c)
{
	unsigned i, n = chip_nruns(c);
	uint64_t off = 0;
	uint32_t smallest = UINT32_MAX;

	if (n == 0)
		fail_row(c, "no erase units");
	for (i = n; i < FT_MAX_RUNS; i++)
		if (c->runs[i].count != 0 || c->runs[i].size != 0)
			fail_row(c, "non-empty run after the end of the list");
	for (i = 0; i < n; i++) {
		uint32_t size = c->runs[i].size;

		/* Every STM32 erase unit is a power of two >= 128 bytes. */
		if (!is_pow2(size) || size < 128)
			fail_row(c, "run size not a power of two >= 128");
		/* ...and starts at a multiple of its own size. */
		if (off % size != 0)
			fail_row(c, "erase unit not aligned to its size");
		off += (uint64_t)size * c->runs[i].count;
		if (size < smallest)
			smallest = size;
	}
	if (chip_runs_bytes(c) != c->flash_size)
		fail_row(c, "runs do not sum to flash_size");
	if ((uint64_t)c->flash_base + c->flash_size > 0x100000000ull)
		fail_row(c, "flash runs past the 4 GiB address space");

	if (!is_pow2(c->write_unit) || c->write_unit < 2 ||
	    c->write_unit > 32)
		fail_row(c, "write_unit not a power of two in 2..32");
	if (n != 0 && smallest % c->write_unit != 0)
		fail_row(c, "write_unit does not divide the erase unit");
	/* Every STM32 with a USART ROM has a flash-size word (CP). */
	if (c->flash_size_reg == 0 || c->flash_size_reg % 2 != 0)
		fail_row(c, "no flash_size_reg, or an odd one");
}

static void
check_bank2(const struct ft_chip *c)
{
	uint32_t index = 0, start = 0, size = 0;
	int dual = (c->quirks & FT_Q_DUAL_BANK) != 0;

	if (dual != (c->bank2_base != 0))
		fail_row(c, "bank2_base and FT_Q_DUAL_BANK disagree");
	if (c->bank2_base == 0)
		return;
	if (c->bank2_base <= c->flash_base ||
	    chip_find(c, c->bank2_base, &index, &start, &size) != 0)
		fail_row(c, "bank2_base not inside flash after its start");
	if (start != c->bank2_base)
		fail_row(c, "bank2_base not on an erase-unit boundary");
	/* Every dual-bank STM32 splits its flash into equal halves. */
	if (c->bank2_base != c->flash_base + c->flash_size / 2)
		fail_row(c, "bank2_base not at half the flash");
	/* A ROM bank-2 number never falls among bank 1's pages. */
	if (c->bank2_page != 0 && c->bank2_page < index)
		fail_row(c, "bank2_page below bank 2's flat index");
}

/*
 * Option layouts: a word the ROM reads as a whole, a mask that holds the
 * value, runs that tile the flash of the parts they apply to, bank 2 at
 * their half.
 */
static void
check_opt_layouts(const struct ft_chip *c)
{
	const struct ft_opt_layout *o;
	unsigned i;

	if (c->opt_layouts == NULL)
		return;
	if (c->opt_layouts[0].opt_addr == 0)
		fail_row(c, "empty opt_layouts list");
	for (o = c->opt_layouts; o->opt_addr != 0; o++) {
		uint64_t sum = 0, want;

		if (o->what == NULL || o->opt_addr % 4 != 0 ||
		    o->opt_mask == 0 || (o->opt_value & ~o->opt_mask) != 0)
			fail_row(c, "opt_layout word, mask or value wrong");
		/* ft_chip_opt_layout() reads one word per chip. */
		if (o->opt_addr != c->opt_layouts[0].opt_addr)
			fail_row(c, "opt_layouts read different words");
		for (i = 0; i < FT_MAX_RUNS && o->runs[i].count != 0; i++) {
			if (!is_pow2(o->runs[i].size) ||
			    o->runs[i].size % c->write_unit != 0)
				fail_row(c, "opt_layout run size wrong");
			sum += (uint64_t)o->runs[i].size * o->runs[i].count;
		}
		want = o->flash_size != 0 ? o->flash_size : c->flash_size;
		if (sum != want || want > c->flash_size)
			fail_row(c, "opt_layout runs do not tile its flash");
		if ((o->bank2_base != 0) != (o->bank2_page != 0) ||
		    (o->bank2_base != 0 &&
		    o->bank2_base != c->flash_base + want / 2))
			fail_row(c, "opt_layout bank 2 not at its half");
	}
	if (c->secure != NULL && (c->secure->opt_mask == 0 ||
	    !is_pow2(c->secure->unit) || c->secure->opt_addr % 4 != 0))
		fail_row(c, "secure area descriptor wrong");
}

static void
check_ranges(const struct ft_chip *c)
{
	struct range r[4];
	size_t n = 0, i, j;

	if (c->ram_start > c->ram_end)
		fail_row(c, "ram_start > ram_end");
	if (c->sysmem_start >= c->sysmem_end)
		fail_row(c, "empty or reversed system memory");
	if (c->opt_start > c->opt_end)
		fail_row(c, "opt_start > opt_end");
	if ((c->opt_start == 0) != (c->opt_end == 0))
		fail_row(c, "option bytes half given");

	r[n++] = (struct range){ "flash", c->flash_base,
	    (uint64_t)c->flash_base + c->flash_size };
	r[n++] = (struct range){ "sysmem", c->sysmem_start, c->sysmem_end };
	if (c->opt_end != 0)
		r[n++] = (struct range){ "opt", c->opt_start, c->opt_end };
	if (c->ram_end != c->ram_start)
		r[n++] = (struct range){ "ram", c->ram_start, c->ram_end };
	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++)
			if (r[i].start < r[j].end && r[j].start < r[i].end)
				fail_msg("pid 0x%03x: %s overlaps %s", c->pid,
				    r[i].what, r[j].what);
	/* RAM, when some is free, is in the SRAM region. */
	if (c->ram_end != c->ram_start &&
	    (c->ram_start < 0x20000000u || c->ram_end > 0x40000000u))
		fail_row(c, "free RAM outside the SRAM region");
}

static void
test_every_row(void **state)
{
	size_t i;

	(void)state;
	assert_true(ft_chip_count() >= 65);
	for (i = 0; i < ft_chip_count(); i++) {
		const struct ft_chip *c = ft_chip_at(i);

		assert_non_null(c);
		if (c->name == NULL || c->name[0] == '\0')
			fail_msg("row %zu: no name", i);
		/* struct ft_devinfo keeps the name in 64 bytes. */
		if (strlen(c->name) >= sizeof(((struct ft_devinfo *)0)->name))
			fail_row(c, "name too long for ft_devinfo");
		if (c->pid == 0 || c->pid > 0xFFF)
			fail_row(c, "pid not a 12-bit product ID");
		if (c->flash_base != 0x08000000u)
			fail_row(c, "flash not at 0x08000000");
		if ((c->quirks & ~(uint32_t)KNOWN_QUIRKS) != 0)
			fail_row(c, "unknown quirk bits");
		check_runs(c);
		check_bank2(c);
		check_ranges(c);
		check_opt_layouts(c);
	}
	assert_null(ft_chip_at(ft_chip_count()));
	assert_null(ft_chip_at((size_t)-1));
}

static void
test_unique_and_lookup(void **state)
{
	size_t i, j;

	(void)state;
	for (i = 0; i < ft_chip_count(); i++) {
		const struct ft_chip *c = ft_chip_at(i);

		for (j = i + 1; j < ft_chip_count(); j++)
			if (ft_chip_at(j)->pid == c->pid)
				fail_row(c, "pid listed twice");
		assert_ptr_equal(ft_chip_by_pid(c->pid), c);
	}
	assert_null(ft_chip_by_pid(0xFFF));
	assert_null(ft_chip_by_pid(0x000));
	assert_null(ft_chip_by_pid(0x1410));
}

/*
 * The layout module (lib/layout.c) must see the same units as the walk
 * above: the total, the unit count, and the unit at every unit start,
 * at every unit's last byte, and just past the end.
 */
static void
check_layout_module(const struct ft_chip *c, const struct ft_layout *l)
{
	uint32_t units = 0, k, want_i, want_s, want_z, got_i, got_s, got_z;
	uint64_t at = c->flash_base;
	unsigned r;

	assert_int_equal(ft_layout_size(l), c->flash_size);
	for (r = 0; r < chip_nruns(c); r++)
		units += c->runs[r].count;
	assert_int_equal(ft_layout_units(l), units);
	for (k = 0; k < units; k++) {
		uint32_t a = (uint32_t)at;

		assert_int_equal(chip_find(c, a, &want_i, &want_s, &want_z), 0);
		assert_int_equal(ft_layout_find(l, a, &got_i, &got_s, &got_z),
		    0);
		assert_int_equal(got_i, k);
		assert_int_equal(want_i, k);
		assert_int_equal(got_s, a);
		assert_int_equal(got_z, want_z);
		assert_int_equal(ft_layout_find(l, a + want_z - 1, &got_i,
		    &got_s, &got_z), 0);
		assert_int_equal(got_i, k);
		at += want_z;
	}
	assert_int_equal(at, (uint64_t)c->flash_base + c->flash_size);
	assert_int_equal(ft_layout_find(l, (uint32_t)at, &got_i, &got_s,
	    &got_z), FT_E_RANGE);
	assert_int_equal(ft_layout_find(l, c->flash_base - 1, &got_i,
	    &got_s, &got_z), FT_E_RANGE);
}

static void
test_layout_roundtrip(void **state)
{
	size_t i;
	unsigned k;

	(void)state;
	for (i = 0; i < ft_chip_count(); i++) {
		const struct ft_chip *c = ft_chip_at(i);
		struct ft_layout l;
		uint64_t sum = 0;

		memset(&l, 0xA5, sizeof(l));
		ft_chip_layout(c, &l);
		assert_int_equal(l.base, c->flash_base);
		assert_int_equal(l.nruns, chip_nruns(c));
		for (k = 0; k < l.nruns; k++) {
			assert_int_equal(l.runs[k].size, c->runs[k].size);
			assert_int_equal(l.runs[k].count, c->runs[k].count);
			sum += (uint64_t)l.runs[k].size * l.runs[k].count;
		}
		/* Slots past nruns are cleared, not left as garbage. */
		for (; k < FT_MAX_RUNS; k++) {
			assert_int_equal(l.runs[k].size, 0);
			assert_int_equal(l.runs[k].count, 0);
		}
		assert_int_equal(sum, c->flash_size);
		check_layout_module(c, &l);
	}
}

static const struct ft_chip *
must_find(uint16_t pid)
{
	const struct ft_chip *c = ft_chip_by_pid(pid);

	if (c == NULL)
		fail_msg("pid 0x%03x missing", pid);
	return c;
}

static void
test_coverage(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(stm32flash_pids); i++)
		must_find(stm32flash_pids[i]);
	/* AN2606 IDs stm32flash lacks. */
	must_find(0x443);
	must_find(0x453);
	must_find(0x455);
	must_find(0x481);
	must_find(0x474);
	must_find(0x484);
	for (i = 0; i < NELEM(audit_c_pids); i++)
		must_find(audit_c_pids[i]);
	for (i = 0; i < NELEM(removed_pids); i++)
		assert_null(ft_chip_by_pid(removed_pids[i]));
	assert_int_equal(ft_chip_count(), 85);
}

static void
test_quirk_families(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(l0_l1_pids); i++) {
		const struct ft_chip *c = must_find(l0_l1_pids[i]);

		assert_true(c->quirks & FT_Q_NO_MASS_ERASE);
		assert_true(c->quirks & FT_Q_ERASED_ZERO);
		/* AN2606 Table 7 (audit D7). */
		assert_int_equal(c->write_unit, 8);
	}
	for (i = 0; i < NELEM(g0_c0_pids); i++) {
		const struct ft_chip *c = must_find(g0_c0_pids[i]);

		assert_true(c->quirks & FT_Q_BOOT0_OPTION);
		assert_int_equal(c->write_unit, 8);
	}
	for (i = 0; i < NELEM(h7_pids); i++) {
		const struct ft_chip *c = must_find(h7_pids[i]);

		assert_true(c->quirks & FT_Q_VERIFY_AFTER_ALL);
		/* Option bytes are registers on H7. */
		assert_int_equal(c->opt_start, 0);
		assert_int_equal(c->opt_end, 0);
	}
	for (i = 0; i < NELEM(pempty_pids); i++)
		assert_true(must_find(pempty_pids[i])->quirks &
		    FT_Q_RESET_PEMPTY);
	/* The quirks stay where they belong. */
	for (i = 0; i < ft_chip_count(); i++) {
		const struct ft_chip *c = ft_chip_at(i);

		if (c->quirks & FT_Q_RESET_OBL_LAUNCH)
			assert_int_equal(c->pid, 0x442);
		if (c->quirks & FT_Q_RESET_PEMPTY)
			assert_true(c->pid == 0x464 || c->pid == 0x435 ||
			    c->pid == 0x462);
		if (c->quirks & FT_Q_BANK2_ERASE_ONE)
			assert_int_equal(c->pid, 0x467);
		if (c->quirks & FT_Q_ERASE_EARLY_ACK)
			assert_int_equal(c->pid, 0x460);
		if (c->quirks & FT_Q_DOUBLE_ACK)
			assert_int_equal(c->pid, 0x464);
		if (c->quirks & FT_Q_ERASED_ZERO)
			assert_true(c->quirks & FT_Q_NO_MASS_ERASE);
	}
	assert_true(must_find(0x442)->quirks & FT_Q_RESET_OBL_LAUNCH);
	assert_true(must_find(0x467)->quirks & FT_Q_BANK2_ERASE_ONE);
	assert_true(must_find(0x460)->quirks & FT_Q_ERASE_EARLY_ACK);
	assert_true(must_find(0x464)->quirks & FT_Q_DOUBLE_ACK);
	assert_int_equal(must_find(0x413)->quirks, 0);
	/* AN2606 Table 7: F7 8 bytes (audit A4), L5 16 (audit D6). */
	assert_int_equal(must_find(0x452)->write_unit, 8);
	assert_int_equal(must_find(0x449)->write_unit, 8);
	assert_int_equal(must_find(0x451)->write_unit, 8);
	assert_int_equal(must_find(0x472)->write_unit, 16);
}

static void
test_f103_medium(void **state)
{
	const struct ft_chip *c = must_find(0x410);

	(void)state;
	assert_int_equal(c->flash_base, 0x08000000);
	assert_int_equal(c->flash_size, 128 * KIB);
	assert_int_equal(c->runs[0].size, 1 * KIB);
	assert_int_equal(c->runs[0].count, 128);
	assert_int_equal(chip_nruns(c), 1);
	assert_int_equal(c->ram_start, 0x20000200);
	assert_int_equal(c->ram_end, 0x20005000);
	assert_int_equal(c->sysmem_start, 0x1FFFF000);
	assert_int_equal(c->sysmem_end, 0x1FFFF800);
	assert_int_equal(c->opt_start, 0x1FFFF800);
	assert_int_equal(c->opt_end, 0x1FFFF810);
	assert_int_equal(c->write_unit, 2);
	assert_int_equal(c->bank2_base, 0);
	assert_int_equal(c->quirks, 0);
}

static void
test_f401_bc(void **state)
{
	const struct ft_chip *c = must_find(0x423);
	uint32_t index, start, size;

	(void)state;
	assert_int_equal(c->flash_size, 256 * KIB);
	assert_int_equal(chip_nruns(c), 3);
	assert_int_equal(c->runs[0].size, 16 * KIB);
	assert_int_equal(c->runs[0].count, 4);
	assert_int_equal(c->runs[1].size, 64 * KIB);
	assert_int_equal(c->runs[1].count, 1);
	assert_int_equal(c->runs[2].size, 128 * KIB);
	assert_int_equal(c->runs[2].count, 1);
	assert_int_equal(c->write_unit, 4);
	assert_int_equal(chip_find(c, 0x08020000, &index, &start, &size), 0);
	assert_int_equal(index, 5);
	assert_int_equal(size, 128 * KIB);
	assert_int_equal(chip_find(c, 0x08040000, &index, &start, &size), -1);

	c = must_find(0x433);
	assert_int_equal(c->flash_size, 512 * KIB);
}

/* RM0090: 2 MiB dual bank, sectors 12..23 in bank 2. */
static void
check_f4_2m(uint16_t pid)
{
	const struct ft_chip *c = must_find(pid);
	uint32_t index, start, size;

	assert_int_equal(c->flash_size, 2 * MIB);
	assert_int_equal(c->bank2_base, 0x08100000);
	assert_true(c->quirks & FT_Q_DUAL_BANK);
	assert_int_equal(c->write_unit, 4);

	assert_int_equal(chip_find(c, 0x08100000, &index, &start, &size), 0);
	assert_int_equal(index, 12);
	assert_int_equal(start, 0x08100000);
	assert_int_equal(size, 16 * KIB);

	/* Sector 11, the last of bank 1: 128 KiB at 0x080E0000. */
	assert_int_equal(chip_find(c, 0x080FFFFF, &index, &start, &size), 0);
	assert_int_equal(index, 11);
	assert_int_equal(start, 0x080E0000);
	assert_int_equal(size, 128 * KIB);

	/* Sector 16 (bank 2's 64 KiB one) at 0x08110000. */
	assert_int_equal(chip_find(c, 0x08110000, &index, &start, &size), 0);
	assert_int_equal(index, 16);
	assert_int_equal(size, 64 * KIB);

	/* Above 512 KiB the sectors are 128 KiB (stm32flash's mistake). */
	assert_int_equal(chip_find(c, 0x08080000, &index, &start, &size), 0);
	assert_int_equal(index, 8);
	assert_int_equal(size, 128 * KIB);

	assert_int_equal(chip_find(c, 0x081FFFFF, &index, &start, &size), 0);
	assert_int_equal(index, 23);
	assert_int_equal(start, 0x081E0000);
	assert_int_equal(chip_find(c, 0x08200000, &index, &start, &size), -1);
}

static void
test_f4_dual_bank(void **state)
{
	(void)state;
	check_f4_2m(0x419);
	check_f4_2m(0x434);
}

static void
test_f04x(void **state)
{
	const struct ft_chip *c = must_find(0x445);

	(void)state;
	assert_int_equal(c->flash_size, 32 * KIB);
	assert_int_equal(c->runs[0].size, 1 * KIB);
	assert_int_equal(c->runs[0].count, 32);
	/* The ROM leaves no RAM free. */
	assert_int_equal(c->ram_start, c->ram_end);
	assert_int_equal(c->sysmem_start, 0x1FFFC400);
	assert_int_equal(c->sysmem_end, 0x1FFFF800);
	assert_int_equal(c->write_unit, 2);

	c = must_find(0x457);
	assert_int_equal(c->ram_start, c->ram_end);
	assert_int_equal(c->flash_size, 16 * KIB);
	assert_int_equal(c->runs[0].size, 128);
}

static void
test_g07x(void **state)
{
	const struct ft_chip *c = must_find(0x460);

	(void)state;
	assert_int_equal(c->flash_size, 128 * KIB);
	assert_int_equal(chip_nruns(c), 1);
	assert_int_equal(c->runs[0].size, 2 * KIB);
	assert_int_equal(c->runs[0].count, 64);
	assert_int_equal(c->opt_start, 0x1FFF7800);
	assert_int_equal(c->opt_end, 0x1FFF7874);
	assert_int_equal(c->write_unit, 8);
	assert_int_equal(c->quirks, FT_Q_BOOT0_OPTION | FT_Q_ERASE_EARLY_ACK);
	/* AN2606 Table 107: the ROM uses 12 KiB (audit D1). */
	assert_int_equal(c->ram_start, 0x20003000);
}

static void
test_h7(void **state)
{
	const struct ft_chip *c = must_find(0x450);
	uint32_t index, start, size;

	(void)state;
	assert_int_equal(c->flash_size, 2 * MIB);
	assert_int_equal(c->runs[0].size, 128 * KIB);
	assert_int_equal(c->runs[0].count, 16);
	assert_int_equal(c->bank2_base, 0x08100000);
	assert_int_equal(c->write_unit, 32);
	assert_int_equal(c->quirks,
	    FT_Q_VERIFY_AFTER_ALL | FT_Q_DUAL_BANK);
	assert_int_equal(chip_find(c, 0x08100000, &index, &start, &size), 0);
	assert_int_equal(index, 8);

	c = must_find(0x483);
	assert_int_equal(c->flash_base, 0x08000000);
	assert_int_equal(c->flash_size, 1 * MIB);
	assert_int_equal(c->write_unit, 32);
	assert_int_equal(c->bank2_base, 0);

	c = must_find(0x480);
	assert_int_equal(c->runs[0].size, 8 * KIB);
}

static void
test_g431(void **state)
{
	const struct ft_chip *c = must_find(0x468);

	(void)state;
	assert_int_equal(c->flash_size, 128 * KIB);
	assert_int_equal(c->runs[0].size, 2 * KIB);
	assert_int_equal(c->runs[0].count, 64);
	assert_int_equal(c->ram_start, 0x20004000);
	assert_int_equal(c->ram_end, 0x20005800);
	assert_int_equal(c->sysmem_start, 0x1FFF0000);
	assert_int_equal(c->sysmem_end, 0x1FFF7000);
	assert_int_equal(c->opt_start, 0x1FFF7800);
	assert_int_equal(c->opt_end, 0x1FFF782C);
	assert_int_equal(c->write_unit, 8);
	assert_int_equal(c->bank2_base, 0);
	assert_int_equal(c->quirks, 0);
	assert_int_equal(c->flash_size_reg, 0x1FFF75E0);
}

static uint32_t
rom_page(const struct ft_chip *c, const struct ft_opt_layout *alt,
    uint32_t flash_size, uint32_t addr)
{
	uint32_t page = 0xDEAD;

	assert_int_equal(ft_chip_rom_page(c, alt, flash_size, addr, &page,
	    NULL, NULL), 0);
	return page;
}


/*
 * L47x/L496: bank 2 is page 256 on at whatever address it starts (CP
 * 0x415/0x461 sector256; audit A1, A2).
 */
static void
test_rom_page_l4_dual(void **state)
{
	static const uint16_t pids[] = { 0x415, 0x461 };
	const struct ft_opt_layout *o;
	const struct ft_chip *c;
	uint32_t page;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(pids); i++) {
		c = must_find(pids[i]);
		assert_int_equal(c->bank2_page, 256);
		/* 1 MiB: the flat index and the ROM's agree. */
		assert_int_equal(rom_page(c, NULL, 0, 0x08080000), 256);
		assert_int_equal(rom_page(c, NULL, 1 * MIB, 0x080FF800), 511);
		assert_int_equal(rom_page(c, NULL, 1 * MIB, 0x0807F800), 255);
		/* 512 KiB: bank 2 at 0x08040000 is still page 256. */
		assert_int_equal(rom_page(c, NULL, 512 * KIB, 0x0803F800),
		    127);
		assert_int_equal(rom_page(c, NULL, 512 * KIB, 0x08040000),
		    256);
		assert_int_equal(rom_page(c, NULL, 512 * KIB, 0x0807FFFF),
		    383);
		assert_int_equal(ft_chip_rom_page(c, NULL, 512 * KIB,
		    0x08080000, &page, NULL, NULL), FT_E_RANGE);
		/* 256 KiB: bank 2 at 0x08020000. */
		assert_int_equal(rom_page(c, NULL, 256 * KIB, 0x08020000),
		    256);
		/* DUALBANK = 0 on 512 KiB: one bank, flat. */
		assert_null(ft_chip_opt_layout(c, 512 * KIB, 1u << 21));
		assert_null(ft_chip_opt_layout(c, 1 * MIB, 0));
		assert_non_null(ft_chip_opt_layout(c, 512 * KIB, 0));
		o = ft_chip_opt_layout(c, 512 * KIB, 0);
		assert_int_equal(rom_page(c, o, 512 * KIB, 0x08040000), 128);
	}
	/* Everything else below the line keeps flat numbering: G0B1. */
	c = must_find(0x467);
	assert_int_equal(c->bank2_page, 0);
	assert_int_equal(rom_page(c, NULL, 256 * KIB, 0x08020000), 64);
	assert_int_equal(rom_page(c, NULL, 0, 0x08040000), 128);
}

/* F42x/F469 1 MiB DB1M and F76x nDBANK: bank 2 from sector 12. */
static void
test_rom_page_option_layouts(void **state)
{
	static const uint16_t db1m_pids[] = { 0x419, 0x434 };
	const struct ft_opt_layout *o;
	const struct ft_chip *c;
	uint32_t page, start, size;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(db1m_pids); i++) {
		c = must_find(db1m_pids[i]);
		/* 2 MiB parts ignore DB1M. */
		assert_null(ft_chip_opt_layout(c, 2 * MIB, 1u << 14));
		assert_null(ft_chip_opt_layout(c, 1 * MIB, 0));
		o = ft_chip_opt_layout(c, 1 * MIB, 1u << 14);
		assert_non_null(o);
		/* Without DB1M the 1 MiB part is sectors 0-11. */
		assert_int_equal(rom_page(c, NULL, 1 * MIB, 0x08080000), 8);
		assert_int_equal(rom_page(c, o, 1 * MIB, 0x0807FFFF), 7);
		assert_int_equal(rom_page(c, o, 1 * MIB, 0x08080000), 12);
		assert_int_equal(rom_page(c, o, 1 * MIB, 0x08090000), 16);
		assert_int_equal(rom_page(c, o, 1 * MIB, 0x080E0000), 19);
	}
	c = must_find(0x451);
	assert_null(ft_chip_opt_layout(c, 2 * MIB, 1u << 13));
	o = ft_chip_opt_layout(c, 2 * MIB, 0);
	assert_non_null(o);
	assert_int_equal(rom_page(c, NULL, 0, 0x08100000), 8);
	assert_int_equal(rom_page(c, o, 2 * MIB, 0x08010000), 4);
	assert_int_equal(rom_page(c, o, 2 * MIB, 0x08100000), 12);
	assert_int_equal(rom_page(c, o, 2 * MIB, 0x081E0000), 23);
	/* A 1 MiB F767: bank 2 at 0x08080000, still sector 12, 16 KiB. */
	assert_int_equal(rom_page(c, o, 1 * MIB, 0x08080000), 12);
	assert_int_equal(rom_page(c, o, 1 * MIB, 0x080A0000), 17);
	assert_int_equal(ft_chip_rom_page(c, o, 1 * MIB, 0x08084000, &page,
	    &start, &size), 0);
	assert_int_equal(page, 13);
	assert_int_equal(start, 0x08084000);
	assert_int_equal(size, 16 * KIB);
	/* G47x, L4R, L4P5, L5 DBANK = 0: one bank of bigger pages. */
	o = ft_chip_opt_layout(must_find(0x469), 512 * KIB, 0);
	assert_non_null(o);
	assert_int_equal(o->runs[0].size, 4 * KIB);
	assert_int_equal(rom_page(must_find(0x469), o, 0, 0x08040000), 64);
	assert_null(ft_chip_opt_layout(must_find(0x469), 512 * KIB, 1u << 22));
	o = ft_chip_opt_layout(must_find(0x470), 2 * MIB, 0);
	assert_int_equal(o->runs[0].size, 8 * KIB);
	o = ft_chip_opt_layout(must_find(0x471), 1 * MIB, 0);
	assert_int_equal(o->runs[0].size, 8 * KIB);
	assert_int_equal(ft_chip_opt_layout(must_find(0x472), 512 * KIB,
	    0)->runs[0].size, 4 * KIB);
	/* WB: the secure area is read from SFSA. */
	assert_non_null(must_find(0x494)->secure);
	assert_int_equal(must_find(0x495)->secure->opt_addr, 0x1FFF8070);
	assert_int_equal(must_find(0x495)->secure->unit, 4 * KIB);
}

/*
 * Nothing in the table has been proven on silicon yet: a row that claims
 * it must name its evidence (update this test with the row and where it
 * was proven).  The names of the bits are what --json prints.
 */
static void
test_proven(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ft_chip_count(); i++)
		assert_int_equal(ft_chip_at(i)->proven, 0);
	assert_string_equal(ft_proven_name(0), "identify");
	assert_string_equal(ft_proven_name(1), "read");
	assert_string_equal(ft_proven_name(2), "erase");
	assert_string_equal(ft_proven_name(3), "write");
	assert_null(ft_proven_name(FT_PROVEN_COUNT));
	assert_int_equal(1u << (FT_PROVEN_COUNT - 1), FT_PROVEN_WRITE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_row),
		cmocka_unit_test(test_proven),
		cmocka_unit_test(test_unique_and_lookup),
		cmocka_unit_test(test_layout_roundtrip),
		cmocka_unit_test(test_coverage),
		cmocka_unit_test(test_quirk_families),
		cmocka_unit_test(test_f103_medium),
		cmocka_unit_test(test_f401_bc),
		cmocka_unit_test(test_f4_dual_bank),
		cmocka_unit_test(test_f04x),
		cmocka_unit_test(test_g07x),
		cmocka_unit_test(test_h7),
		cmocka_unit_test(test_g431),
		cmocka_unit_test(test_rom_page_l4_dual),
		cmocka_unit_test(test_rom_page_option_layouts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
