/*
 * katapult/mcus.c - what the host must know of a Katapult MCU that
 * CONNECT does not say: where flash is, how large Katapult assumes it
 * to be, and the erase units its flash_write_block() works in.  Data
 * only, one row per CONFIG_MCU string.
 *
 * Sources: Katapult src/stm32/Kconfig and src/rp2040/Kconfig (MCU,
 * FLASH_START, FLASH_SIZE: the smallest part of the family, which
 * bounds every read so that REQUEST_BLOCK never reaches unmapped
 * memory, a hard fault), src/stm32/flash.c flash_get_page_size() (the
 * unit a page-first block erases) and src/rp2040/flash.c (4 KiB
 * sectors erased when their first 256-byte page is flushed), at
 * Arksine/katapult 902f335.  A bigger part of the family is given with
 * --layout.  STM32L412 is left out: that flash.c has no page size for
 * it.  program_once: flash with ECC programmed a double word at a time
 * (RM0444 G0, RM0440 3.3.7 G4) or a 256-bit flash word (H7 [not
 * re-read]), which refuses a second program between erases.  proven: 0
 * everywhere (simulator only).
 */
#include <string.h>

#include "katapult.h"

#define KIB 1024u

static const struct ft_kp_mcu mcus[] = {
	{ "stm32f031x6", 0x08000000, 16 * KIB, { { 1 * KIB, 16 } },
	    FT_KP_WRITE_PAGES, 0 },
	{ "stm32f042x6", 0x08000000, 32 * KIB, { { 1 * KIB, 32 } },
	    FT_KP_WRITE_PAGES, 0 },
	{ "stm32f070xb", 0x08000000, 128 * KIB, { { 2 * KIB, 64 } },
	    FT_KP_WRITE_PAGES, 0 },
	{ "stm32f072xb", 0x08000000, 128 * KIB, { { 2 * KIB, 64 } },
	    FT_KP_WRITE_PAGES, 0 },
	/* F103: 1 KiB pages below 256 KiB of flash; Kconfig assumes 64. */
	{ "stm32f103xe", 0x08000000, 64 * KIB, { { 1 * KIB, 64 } },
	    FT_KP_WRITE_PAGES, 0 },
	{ "stm32f207xx", 0x08000000, 256 * KIB,
	    { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 1 } },
	    FT_KP_WRITE_PAGES, 0 },
	{ "stm32f401xc", 0x08000000, 256 * KIB,
	    { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 1 } },
	    FT_KP_WRITE_PAGES, 0 },
	{ "stm32f405xx", 0x08000000, 512 * KIB,
	    { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 } },
	    FT_KP_WRITE_PAGES, 0 },
	{ "stm32f407xx", 0x08000000, 512 * KIB,
	    { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 } },
	    FT_KP_WRITE_PAGES, 0 },
	{ "stm32f429xx", 0x08000000, 512 * KIB,
	    { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 } },
	    FT_KP_WRITE_PAGES, 0 },
	{ "stm32f446xx", 0x08000000, 512 * KIB,
	    { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 } },
	    FT_KP_WRITE_PAGES, 0 },
	{ "stm32g0b0xx", 0x08000000, 128 * KIB, { { 2 * KIB, 64 } },
	    FT_KP_WRITE_PAGES, 1 },
	{ "stm32g0b1xx", 0x08000000, 128 * KIB, { { 2 * KIB, 64 } },
	    FT_KP_WRITE_PAGES, 1 },
	{ "stm32g431xx", 0x08000000, 128 * KIB, { { 2 * KIB, 64 } },
	    FT_KP_WRITE_PAGES, 1 },
	{ "stm32h723xx", 0x08000000, 256 * KIB, { { 128 * KIB, 2 } },
	    FT_KP_WRITE_PAGES, 1 },
	{ "stm32h743xx", 0x08000000, 2048 * KIB, { { 128 * KIB, 16 } },
	    FT_KP_WRITE_PAGES, 1 },
	{ "stm32h750xx", 0x08000000, 128 * KIB, { { 128 * KIB, 1 } },
	    FT_KP_WRITE_PAGES, 1 },
	{ "rp2040", 0x10000000, 2048 * KIB, { { 4 * KIB, 512 } },
	    FT_KP_WRITE_SECTOR_BUFFER, 0 },
	{ "rp2350", 0x10000000, 2048 * KIB, { { 4 * KIB, 512 } },
	    FT_KP_WRITE_SECTOR_BUFFER, 0 },
};

const struct ft_kp_mcu *
ft_kp_mcu_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(mcus) / sizeof(mcus[0]); i++)
		if (strcmp(mcus[i].name, name) == 0)
			return &mcus[i];
	return NULL;
}
