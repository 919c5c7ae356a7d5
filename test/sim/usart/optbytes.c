/*
 * optbytes.c - what the simulated chip does with its option bytes
 * (test/sim/ob/obfacts.c has the facts): the option area starts in its
 * factory state, the readout-protection level and the boot source come
 * from it at every reset, the protection commands change it, and a
 * reset boots where the option bytes, the BOOT0 pin and the empty check
 * say.
 *
 * Invariants: for a chip with a model, s->rdp is set from the option
 * area at power-on and at every reset (complement pairs that do not hold
 * count as level 1: RM0091 section 4 forces a mismatched byte to 0xFF,
 * RM0444's "Modifying user options" loads "a secure configuration");
 * a chip without an option-byte model (L0, L4, F7, ...) keeps the old
 * behaviour: its area is a fixed pattern, and every reset with BOOT0
 * high runs the bootloader.  Without a board (README) the chip is in
 * its bootloader after every reset whatever the option bytes say,
 * except at readout protection level 2, which closes it for good.
 */
#include <stdio.h>
#include <string.h>

#include "sim.h"

/* The first word of main flash is erased (the empty check). */
static int
flash_empty(const struct sim_mem *mem)
{
	static const uint8_t erased[4] = { 0xFF, 0xFF, 0xFF, 0xFF };

	return memcmp(mem->flash, erased, sizeof(erased)) == 0;
}

static uint32_t
area_len(const struct sim_mem *mem)
{
	return mem->fact->opt.end - mem->fact->opt.start;
}

/* The protection level the option area holds now. */
static int
area_rdp(const struct sim_mem *mem)
{
	if (mem->ob == NULL)
		return -1;
	if (!ob_pairs_ok(mem->ob, mem->opt, area_len(mem)))
		return 1;
	return ob_rdp_level(mem->ob, mem->opt, area_len(mem));
}

void
chip_ob_power_on(struct sim *s)
{
	const struct ob_model *m = s->mem.ob;

	if (m == NULL)
		return;
	if (s->opts->rdp)
		ob_write(m, ob_bits_named(m, "RDP"), s->mem.opt,
		    area_len(&s->mem), m->rdp_l1);
	s->rdp = area_rdp(&s->mem) != 0;
}

void
chip_ob_set_rdp(struct sim *s, int level)
{
	const struct ob_model *m = s->mem.ob;

	if (m == NULL)
		return;
	ob_write(m, ob_bits_named(m, "RDP"), s->mem.opt, area_len(&s->mem),
	    level == 0 ? m->rdp_l0 : m->rdp_l1);
}

void
chip_ob_write_unprotect(struct sim *s)
{
	const struct ob_model *m = s->mem.ob;
	const struct ob_bits *b;

	if (m == NULL)
		return;
	for (b = m->wrp; b->name != NULL; b++)
		ob_write(m, ob_bits_named(m, b->name), s->mem.opt,
		    area_len(&s->mem), b->factory);
}

/*
 * Where a reset boots with BOOT0 at boot0.  Level 2 readout protection
 * closes the bootloader for good (AN2606: boot from system memory is
 * not possible at level 2).
 */
static enum board_run
boot_to(struct sim *s, int boot0, char *why, size_t whylen)
{
	const struct ob_model *m = s->mem.ob;
	enum ob_boot_to to;

	if (m == NULL)
		return boot0 ? RUN_BOOTLOADER : RUN_APP;
	if (area_rdp(&s->mem) == 2) {
		snprintf(why, whylen, "(RDP level 2)");
		return RUN_APP;
	}
	to = ob_boot(m, s->mem.opt, area_len(&s->mem), boot0,
	    flash_empty(&s->mem));
	if ((to == OB_BOOT_ROM) != (boot0 != 0))
		snprintf(why, whylen, "(option bytes%s)", to == OB_BOOT_ROM &&
		    flash_empty(&s->mem) ? ", empty flash" : "");
	/* SRAM holds nothing to run: as deaf as an application. */
	return to == OB_BOOT_ROM ? RUN_BOOTLOADER : RUN_APP;
}

/* The board's hook: NRST rose. */
static enum board_run
board_boot(void *ctx, int boot0, char *why, size_t whylen)
{
	struct sim *s = ctx;

	s->rdp = area_rdp(&s->mem) > 0;
	return boot_to(s, boot0, why, whylen);
}

void
chip_ob_attach_board(struct sim *s)
{
	s->board.boot_select = board_boot;
	s->board.boot_ctx = s;
}

enum bl_state
chip_ob_reset(struct sim *s, char *why, size_t whylen)
{
	enum board_run run;

	why[0] = '\0';
	mem_apply_option(&s->mem);
	if (s->mem.ob != NULL)
		s->rdp = area_rdp(&s->mem) > 0;
	/*
	 * Without a board the chip is always in its bootloader (README),
	 * unless level 2 closed it for good.
	 */
	if (!s->board.active) {
		if (area_rdp(&s->mem) != 2)
			return ST_WAIT_SYNC;
		snprintf(why, whylen, "(RDP level 2)");
		return ST_GONE;
	}
	run = boot_to(s, s->board.pin_boot0, why, whylen);
	s->board.run = run;
	return run == RUN_BOOTLOADER ? ST_WAIT_SYNC : ST_APP;
}

enum bl_state
chip_ob_new_client(struct sim *s)
{
	if (s->mem.ob != NULL)
		s->rdp = area_rdp(&s->mem) > 0;
	return area_rdp(&s->mem) == 2 ? ST_GONE : ST_WAIT_SYNC;
}
