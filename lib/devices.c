/*
 * devices.c - the STM32 device table: one row per product ID (the 12-bit
 * answer to Get ID) whose ROM bootloader speaks USART, per ST AN2606.
 *
 * Rows are plain data, checked by test/unit/test_devices.c.  Invariants
 * every row keeps:
 *  - runs[] lists the erase units from flash_base as explicit {size, count}
 *    runs; the leading non-empty runs sum exactly to flash_size, and no
 *    "last value repeats" shorthand is used.
 *  - flash_size, RAM and runs describe the largest part sharing the ID.
 *  - every end (ram_end, sysmem_end, opt_end) is exclusive;
 *    ram_start == ram_end means the ROM leaves no RAM free, and
 *    opt_start == opt_end == 0 means the option bytes are not memory
 *    mapped for the bootloader.
 *  - bank2_base is set exactly when FT_Q_DUAL_BANK is, and is the start
 *    of the second half of the flash in the factory option-byte setting.
 *  - write_unit is the flash programming granularity in bytes.
 *
 * Where a row's facts come from is said in the comment above its family;
 * "stm32flash" means the facts were checked against stm32flash's
 * dev_table.c (development tree, 2022-12), whose values are themselves
 * taken from AN2606's "device-dependent bootloader parameters" table.
 * Its known mistakes are corrected, each with a note.
 *
 * The table was audited against AN2606 rev 70, STM32CubeProgrammer
 * v2.23's device database ("CP 0xNNN": its Bootloader-interface flash
 * maps, whose sectorN names are the ROM's page numbers, its FlashSize
 * address and first Bootloader option-byte block) and stm32flash
 * (shared/research/device-table-audit.md, findings A1-A4, B1-B11, C,
 * D1-D12, cited by number).  test/unit/test_sim_facts.c compares every
 * row with the USART simulator's own fact table, transcribed from the
 * same documents.
 *
 * Removed (audit B9): 0x641 ("medium-density PL" in stm32flash), 0x9A8
 * and 0x9B0 (STM32W108, discontinued).  No ST document checked (AN2606
 * rev 70, CubeProgrammer 2.23) lists them, so their facts could not be
 * checked beyond stm32flash; such a chip now needs --layout.
 *
 * Deliberately kept: RAM ends and bank-2 bases are the largest part's
 * (audit B10, B11).  Only the reset routine's stack word and the
 * vector-table check use ram_end, and a smaller part's bank 2 is found
 * through flash_size_reg (bank2_page rows) or numbered flat anyway.
 */
#include <stddef.h>
#include <stdint.h>

#include "ft_int.h"

#define KIB 1024u
#define MIB (1024u * 1024u)

#define FLASH_BASE 0x08000000u

/*
 * Option-byte and system-memory ranges shared by whole families.  Ends
 * are exclusive (stm32flash writes the last byte; add one).
 */
#define F0_F1_F3_OPT_START 0x1FFFF800u
#define F0_F1_F3_OPT_END 0x1FFFF810u	/* 8 half-word pairs */
#define F2_F4_OPT_START 0x1FFFC000u
#define F2_F4_OPT_END 0x1FFFC010u
/* F7: 0x2C bytes (CP 0x449/0x451/0x452; audit B5). */
#define F7_OPT_START 0x1FFF0000u
#define F7_OPT_END 0x1FFF002Cu
#define L0_L1_OPT_START 0x1FF80000u
/* G0/C0: CP's Bootloader block is 0x74 bytes (CP 0x460/0x467/0x443). */
#define G0_C0_OPT_START 0x1FFF7800u
#define G0_C0_OPT_END 0x1FFF7874u
/* L4/G4/WB/WL: bank 1's option bytes start here (sizes per row, CP). */
#define L4_OPT_START 0x1FFF7800u
#define L4_OPT_END 0x1FFF7824u
/* L4+: bank 1's block (CP 0x470/0x471; RM0432). */
#define L4P_OPT_START 0x1FF00000u
#define L4P_OPT_END 0x1FF00024u

/* F2/F4: system memory 0x1FFF0000-0x1FFF77FF (30 KiB). */
#define F2_F4_SYSMEM_START 0x1FFF0000u
#define F2_F4_SYSMEM_END 0x1FFF7800u
/* F7: the ROM is seen through ITCM at 0x1FF00000 (AN2606). */
#define F7_SYSMEM_START 0x1FF00000u
#define F7_SYSMEM_END 0x1FF0EDC0u
/* G0 (larger parts), G4, L4, WB: 28 KiB from 0x1FFF0000. */
#define SYSMEM_28K_START 0x1FFF0000u
#define SYSMEM_28K_END 0x1FFF7000u
/* TrustZone parts (L5, U5): system memory in the 0x0BFx region. */
#define TZ_SYSMEM_START 0x0BF90000u

/*
 * Flash-size words (16 bits, KiB): CP's FlashSize address per ID, the
 * reference manuals' "Flash size data register".
 */
#define FSR_F0_F3 0x1FFFF7CCu
#define FSR_F1 0x1FFFF7E0u
#define FSR_F4 0x1FFF7A22u
#define FSR_F7 0x1FF0F442u
#define FSR_G_L4 0x1FFF75E0u	/* G0, G4, L4, L4+, WB, WL */
#define FSR_C0 0x1FFF75A0u
#define FSR_L0 0x1FF8007Cu
#define FSR_H7 0x1FF1E880u
#define FSR_H5 0x08FFF80Cu	/* H5, H7A3/B3, H7R/S, C5 */
#define FSR_U5 0x0BFA07A0u	/* U5, U3, WBA6 */

/*
 * Option-selected layouts (audit D5).  Each names the option word the
 * ROM lets Read Memory reach (CubeProgrammer reads the same word through
 * its Bootloader interface to pick its own map: CP Bootloader
 * configurations).
 *
 * F42x/F43x, F469/F479 1 MiB parts with DB1M (bit 14 of 0x1FFFC008,
 * RM0090/RM0386): two banks of 4 x 16 KiB, 64 KiB, 3 x 128 KiB, bank 2
 * from sector 12 at 0x08080000 (RM0090 "1 Mbyte dual bank organization";
 * OpenOCD stm32f2x.c agrees; CP 0x419's own map for it does not).
 */
static const struct ft_opt_layout f4_db1m[] = {
	{
		.what = "DB1M = 1 (1 MiB dual bank)",
		.opt_addr = 0x1FFFC008, .opt_mask = 1u << 14,
		.opt_value = 1u << 14, .flash_size = 1 * MIB,
		.runs = {
			{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 },
			{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 },
		},
		.bank2_base = 0x08080000, .bank2_page = 12,
	},
	{ .opt_addr = 0 },
};

/*
 * F76x/F77x nDBANK = 0 (bit 13 of 0x1FFF0008: CP 0x451 Bootloader
 * configurations 6-9; RM0410): two banks of 4 x 16 KiB, 64 KiB, 7 (1 MiB
 * parts: 3) x 128 KiB, bank 2 from sector 12 at half the flash.
 */
static const struct ft_opt_layout f7_ndbank[] = {
	{
		.what = "nDBANK = 0 (dual bank)",
		.opt_addr = 0x1FFF0008, .opt_mask = 1u << 13, .opt_value = 0,
		.runs = {
			{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 7 },
			{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 7 },
		},
		.bank2_base = 0x08100000, .bank2_page = 12,
	},
	{ .opt_addr = 0 },
};

/* G47x/G48x DBANK = 0 (bit 22 of 0x1FFF7800; CP 0x469 configs 0/7/10,
 * RM0440): one bank of 128 x 4 KiB. */
static const struct ft_opt_layout g4_dbank[] = {
	{
		.what = "DBANK = 0 (single bank)",
		.opt_addr = 0x1FFF7800, .opt_mask = 1u << 22, .opt_value = 0,
		.runs = { { 4 * KIB, 128 } },
	},
	{ .opt_addr = 0 },
};

/*
 * L47x/L48x and L496/L4A6 512 and 256 KiB parts with DUALBANK = 0 (bit
 * 21 of 0x1FFF7800; CP 0x461 configs 5/6, CP 0x415 configs 2 and 4,
 * RM0351): one bank numbered 0-255 (0-127).  1 MiB parts ignore the bit.
 */
static const struct ft_opt_layout l4_dualbank[] = {
	{
		.what = "DUALBANK = 0 (single bank)",
		.opt_addr = 0x1FFF7800, .opt_mask = 1u << 21, .opt_value = 0,
		.flash_size = 512 * KIB,
		.runs = { { 2 * KIB, 256 } },
	},
	{
		.what = "DUALBANK = 0 (single bank)",
		.opt_addr = 0x1FFF7800, .opt_mask = 1u << 21, .opt_value = 0,
		.flash_size = 256 * KIB,
		.runs = { { 2 * KIB, 128 } },
	},
	{ .opt_addr = 0 },
};

/* L4R/L4S DBANK = 0 (bit 22 of 0x1FF00000; CP 0x470 config 0, RM0432):
 * one bank of 8 KiB pages. */
static const struct ft_opt_layout l4r_dbank[] = {
	{
		.what = "DBANK = 0 (single bank)",
		.opt_addr = 0x1FF00000, .opt_mask = 1u << 22, .opt_value = 0,
		.runs = { { 8 * KIB, 256 } },
	},
	{ .opt_addr = 0 },
};

/* L4P5/L4Q5 DBANK = 0 (CP 0x471 config 2, RM0432). */
static const struct ft_opt_layout l4p_dbank[] = {
	{
		.what = "DBANK = 0 (single bank)",
		.opt_addr = 0x1FF00000, .opt_mask = 1u << 22, .opt_value = 0,
		.runs = { { 8 * KIB, 128 } },
	},
	{ .opt_addr = 0 },
};

/*
 * L552/L562 DBANK = 0: bit 22 of FLASH_OPTR, a register (0x40022040)
 * that CubeProgrammer reads through the ROM (CP 0x472 Bootloader
 * configurations 6-9); one bank of 128 x 4 KiB (CP 0x472 config 0).
 */
static const struct ft_opt_layout l5_dbank[] = {
	{
		.what = "DBANK = 0 (single bank)",
		.opt_addr = 0x40022040, .opt_mask = 1u << 22, .opt_value = 0,
		.runs = { { 4 * KIB, 128 } },
	},
	{ .opt_addr = 0 },
};

/*
 * STM32WB: FLASH_SFR.SFSA (bits 7:0) in the option bytes the ROM reads
 * (CP 0x494/0x495 Bootloader blocks); the FUS and wireless stack above
 * it belong to CPU2, and the ROM cannot touch them (RM0434/RM0473; an ST
 * moderator: "Any sector above the one pointed by the SFSA option byte is
 * not accessible", community.st.com 2020; audit D9).  On WL the area
 * exists only with ESE set and CP's address for SFSA there is doubtful,
 * so no WL entry.
 */
static const struct ft_secure_area wb1_secure = {
	.opt_addr = 0x1FFF7870, .opt_mask = 0xFF, .unit = 2 * KIB,
};
static const struct ft_secure_area wb5_secure = {
	.opt_addr = 0x1FFF8070, .opt_mask = 0xFF, .unit = 4 * KIB,
};

static const struct ft_chip chips[] = {
	/*
	 * STM32F0.  AN2606 "STM32F03xx4/6", "STM32F05xxx/F030x8",
	 * "STM32F04xxx/F070x6", "STM32F07xxx/F070xB", "STM32F09xxx/F030xC"
	 * device-dependent parameters; RM0091/RM0360 flash chapters for the
	 * page sizes (1 KiB up to 64 KiB parts, 2 KiB above).  Half-word
	 * programming.  Checked against stm32flash.
	 */
	{
		.pid = 0x440,
		.name = "STM32F030x8/F05xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 64 * KIB,
		.runs = { { 1 * KIB, 64 } },
		.ram_start = 0x20000800, .ram_end = 0x20002000,
		.sysmem_start = 0x1FFFEC00, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F0_F3,
	},
	{
		.pid = 0x444,
		.name = "STM32F03xx4/6",
		.flash_base = FLASH_BASE,
		.flash_size = 32 * KIB,
		.runs = { { 1 * KIB, 32 } },
		.ram_start = 0x20000800, .ram_end = 0x20001000,
		.sysmem_start = 0x1FFFEC00, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F0_F3,
	},
	{
		.pid = 0x442,
		.name = "STM32F030xC/F09xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 256 * KIB,
		.runs = { { 2 * KIB, 128 } },
		.ram_start = 0x20001800, .ram_end = 0x20008000,
		.sysmem_start = 0x1FFFD800, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F0_F3,
		/*
		 * These parts boot the ROM from an empty-flash check that is
		 * only redone on an option-byte reload, so a plain reset
		 * comes back to the bootloader; reset with OBL_LAUNCH
		 * (RM0091 FLASH_CR, stm32flash F_OBLL).
		 */
		.quirks = FT_Q_RESET_OBL_LAUNCH,
	},
	{
		/*
		 * The ROM claims all 6 KiB of the F042's RAM: nothing is free
		 * for a RAM routine (stm32flash lists 0x20001800 twice).
		 */
		.pid = 0x445,
		.name = "STM32F04xxx/F070x6",
		.flash_base = FLASH_BASE,
		.flash_size = 32 * KIB,
		.runs = { { 1 * KIB, 32 } },
		.ram_start = 0x20001800, .ram_end = 0x20001800,
		.sysmem_start = 0x1FFFC400, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F0_F3,
	},
	{
		.pid = 0x448,
		.name = "STM32F070xB/F071xx/F072xx",
		.flash_base = FLASH_BASE,
		.flash_size = 128 * KIB,
		.runs = { { 2 * KIB, 64 } },
		.ram_start = 0x20001800, .ram_end = 0x20004000,
		.sysmem_start = 0x1FFFC800, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F0_F3,
	},

	/*
	 * STM32F1.  AN2606 STM32F10xxx sections (low/medium/high/XL density,
	 * value line, connectivity line); RM0008 for the page sizes (1 KiB up
	 * to 128 KiB parts, 2 KiB above).  Half-word programming.  Checked
	 * against stm32flash.
	 */
	{
		.pid = 0x412,
		.name = "STM32F10xxx low-density",
		.flash_base = FLASH_BASE,
		.flash_size = 32 * KIB,
		.runs = { { 1 * KIB, 32 } },
		.ram_start = 0x20000200, .ram_end = 0x20002800,
		.sysmem_start = 0x1FFFF000, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F1,
	},
	{
		/*
		 * F103x8/xB: 128 KiB although the datasheet promises 64 KiB
		 * on x8 parts; 128 pages of 1 KiB as stm32flash (and the
		 * project's simulator) count them.
		 */
		.pid = 0x410,
		.name = "STM32F10xxx medium-density",
		.flash_base = FLASH_BASE,
		.flash_size = 128 * KIB,
		.runs = { { 1 * KIB, 128 } },
		.ram_start = 0x20000200, .ram_end = 0x20005000,
		.sysmem_start = 0x1FFFF000, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F1,
	},
	{
		.pid = 0x414,
		.name = "STM32F10xxx high-density",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 2 * KIB, 256 } },
		.ram_start = 0x20000200, .ram_end = 0x20010000,
		.sysmem_start = 0x1FFFF000, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F1,
	},
	{
		.pid = 0x420,
		.name = "STM32F10xxx medium-density value line",
		.flash_base = FLASH_BASE,
		.flash_size = 128 * KIB,
		.runs = { { 1 * KIB, 128 } },
		.ram_start = 0x20000200, .ram_end = 0x20002000,
		.sysmem_start = 0x1FFFF000, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F1,
	},
	{
		.pid = 0x428,
		.name = "STM32F10xxx high-density value line",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 2 * KIB, 256 } },
		.ram_start = 0x20000200, .ram_end = 0x20008000,
		.sysmem_start = 0x1FFFF000, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F1,
	},
	{
		.pid = 0x418,
		.name = "STM32F105xx/F107xx",
		.flash_base = FLASH_BASE,
		.flash_size = 256 * KIB,
		.runs = { { 2 * KIB, 128 } },
		.ram_start = 0x20001000, .ram_end = 0x20010000,
		.sysmem_start = 0x1FFFB000, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F1,
	},
	{
		/*
		 * XL density: two banks of 512 KiB (RM0008 "XL-density"),
		 * bank 2 numbered on from page 256 (CP 0x430).  The ROM
		 * speaks USART protocol V3.0 (AN2606 Table 3), so it erases
		 * with Extended Erase; the comment used to say the legacy
		 * Erase (audit B1).
		 */
		.pid = 0x430,
		.name = "STM32F10xxx XL-density",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 2 * KIB, 512 } },
		.bank2_base = 0x08080000,
		.ram_start = 0x20000800, .ram_end = 0x20018000,
		.sysmem_start = 0x1FFFE000, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F1,
		.quirks = FT_Q_DUAL_BANK,
	},

	/*
	 * STM32F2.  AN2606 "STM32F2xxxx"; RM0033 sector map: 4 x 16 KiB,
	 * 1 x 64 KiB, then 128 KiB sectors.  Writes are 4-byte aligned
	 * (AN2606 Table 7); the ROM programs bytes until a host sets the
	 * voltage range through virtual address 0xFFFF0000 (AN2606 section
	 * 4.4, Table 4; audit B2).  Checked against stm32flash.
	 */
	{
		.pid = 0x411,
		.name = "STM32F2xxxx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 7 } },
		.ram_start = 0x20002000, .ram_end = 0x20020000,
		.sysmem_start = F2_F4_SYSMEM_START,
		.sysmem_end = F2_F4_SYSMEM_END,
		.opt_start = F2_F4_OPT_START, .opt_end = F2_F4_OPT_END,
		.write_unit = 4,
		.flash_size_reg = FSR_F4,
	},

	/*
	 * STM32F3.  AN2606 STM32F301/302/303/318/328/334/358/373/378/398
	 * sections; RM0316/RM0313/RM0364/RM0365/RM0366: 2 KiB pages, half-word
	 * programming; the host aligns writes to 4 bytes, as AN2606 Table 7
	 * asks (CP says 8; audit D8).  Where two bootloader versions share an
	 * ID, the RAM start is the larger (stricter) of the two.  Checked
	 * against stm32flash.
	 */
	{
		.pid = 0x432,
		.name = "STM32F373xx/F378xx",
		.flash_base = FLASH_BASE,
		.flash_size = 256 * KIB,
		.runs = { { 2 * KIB, 128 } },
		.ram_start = 0x20001400, .ram_end = 0x20008000,
		.sysmem_start = 0x1FFFD800, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F0_F3,
	},
	{
		.pid = 0x422,
		.name = "STM32F302xB/C/F303xB/C/F358xx",
		.flash_base = FLASH_BASE,
		.flash_size = 256 * KIB,
		.runs = { { 2 * KIB, 128 } },
		.ram_start = 0x20001400, .ram_end = 0x2000A000,
		.sysmem_start = 0x1FFFD800, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F0_F3,
	},
	{
		.pid = 0x439,
		.name = "STM32F301xx/F302x4/6/8/F318xx",
		.flash_base = FLASH_BASE,
		.flash_size = 64 * KIB,
		.runs = { { 2 * KIB, 32 } },
		.ram_start = 0x20001800, .ram_end = 0x20004000,
		.sysmem_start = 0x1FFFD800, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F0_F3,
	},
	{
		.pid = 0x438,
		.name = "STM32F303x4/6/8/F334xx/F328xx",
		.flash_base = FLASH_BASE,
		.flash_size = 64 * KIB,
		.runs = { { 2 * KIB, 32 } },
		.ram_start = 0x20001800, .ram_end = 0x20003000,
		.sysmem_start = 0x1FFFD800, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F0_F3,
	},
	{
		.pid = 0x446,
		.name = "STM32F302xD/E/F303xD/E/F398xx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 2 * KIB, 256 } },
		.ram_start = 0x20001800, .ram_end = 0x20010000,
		.sysmem_start = 0x1FFFD800, .sysmem_end = 0x1FFFF800,
		.opt_start = F0_F1_F3_OPT_START, .opt_end = F0_F1_F3_OPT_END,
		.write_unit = 2,
		.flash_size_reg = FSR_F0_F3,
	},

	/*
	 * STM32F4.  AN2606 STM32F40x/41x, F42x/43x, F401, F410, F411, F412,
	 * F413/423, F446, F469/479 sections; RM0090/RM0368/RM0383/RM0401/
	 * RM0402/RM0430/RM0390/RM0386 sector maps: 4 x 16 KiB, 1 x 64 KiB,
	 * then 128 KiB sectors, per bank.  Writes are 4-byte aligned (AN2606
	 * Table 7); as on F2 the ROM programs bytes unless the voltage range is
	 * set (audit B2).  RAM starts at 0x20003000 (the later bootloader
	 * versions use 12 KiB).
	 * Checked against stm32flash, except the 2 MiB sector maps.
	 */
	{
		.pid = 0x413,
		.name = "STM32F40xxx/F41xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 7 } },
		.ram_start = 0x20003000, .ram_end = 0x20020000,
		.sysmem_start = F2_F4_SYSMEM_START,
		.sysmem_end = F2_F4_SYSMEM_END,
		.opt_start = F2_F4_OPT_START, .opt_end = F2_F4_OPT_END,
		.write_unit = 4,
		.flash_size_reg = FSR_F4,
	},
	{
		/*
		 * 2 MiB dual bank (RM0090 table "Flash module - 2 Mbyte dual
		 * bank organization"): sectors 0-11 in bank 1, 12-23 in bank 2
		 * from 0x08100000.  stm32flash models the 1 MiB DB1M layout
		 * instead and numbers everything above 512 KiB wrongly.
		 * Bank 2's option bytes sit at 0x1FFEC000, below the system
		 * memory; one range cannot hold both banks' bytes without
		 * covering the ROM, so only bank 1's (RDP, USER, WRP for
		 * sectors 0-11) are listed.
		 */
		.pid = 0x419,
		.name = "STM32F42xxx/F43xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 2 * MIB,
		.runs = {
			{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 7 },
			{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 7 },
		},
		.bank2_base = 0x08100000,
		.ram_start = 0x20003000, .ram_end = 0x20030000,
		.sysmem_start = F2_F4_SYSMEM_START,
		.sysmem_end = F2_F4_SYSMEM_END,
		.opt_start = F2_F4_OPT_START, .opt_end = F2_F4_OPT_END,
		.write_unit = 4,
		.flash_size_reg = FSR_F4,
		.quirks = FT_Q_DUAL_BANK,
		.opt_layouts = f4_db1m,
	},
	{
		/* 256 KiB: sectors 0-5 (RM0368). */
		.pid = 0x423,
		.name = "STM32F401xB/C",
		.flash_base = FLASH_BASE,
		.flash_size = 256 * KIB,
		.runs = { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 1 } },
		.ram_start = 0x20003000, .ram_end = 0x20010000,
		.sysmem_start = F2_F4_SYSMEM_START,
		.sysmem_end = F2_F4_SYSMEM_END,
		.opt_start = F2_F4_OPT_START, .opt_end = F2_F4_OPT_END,
		.write_unit = 4,
		.flash_size_reg = FSR_F4,
	},
	{
		/* 512 KiB: sectors 0-7 (RM0368). */
		.pid = 0x433,
		.name = "STM32F401xD/E",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 } },
		.ram_start = 0x20003000, .ram_end = 0x20018000,
		.sysmem_start = F2_F4_SYSMEM_START,
		.sysmem_end = F2_F4_SYSMEM_END,
		.opt_start = F2_F4_OPT_START, .opt_end = F2_F4_OPT_END,
		.write_unit = 4,
		.flash_size_reg = FSR_F4,
	},
	{
		/* 128 KiB: sectors 0-4 (RM0401). */
		.pid = 0x458,
		.name = "STM32F410xx",
		.flash_base = FLASH_BASE,
		.flash_size = 128 * KIB,
		.runs = { { 16 * KIB, 4 }, { 64 * KIB, 1 } },
		.ram_start = 0x20003000, .ram_end = 0x20008000,
		.sysmem_start = F2_F4_SYSMEM_START,
		.sysmem_end = F2_F4_SYSMEM_END,
		.opt_start = F2_F4_OPT_START, .opt_end = F2_F4_OPT_END,
		.write_unit = 4,
		.flash_size_reg = FSR_F4,
	},
	{
		.pid = 0x431,
		.name = "STM32F411xx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 } },
		.ram_start = 0x20003000, .ram_end = 0x20020000,
		.sysmem_start = F2_F4_SYSMEM_START,
		.sysmem_end = F2_F4_SYSMEM_END,
		.opt_start = F2_F4_OPT_START, .opt_end = F2_F4_OPT_END,
		.write_unit = 4,
		.flash_size_reg = FSR_F4,
	},
	{
		.pid = 0x441,
		.name = "STM32F412xx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 7 } },
		.ram_start = 0x20003000, .ram_end = 0x20040000,
		.sysmem_start = F2_F4_SYSMEM_START,
		.sysmem_end = F2_F4_SYSMEM_END,
		.opt_start = F2_F4_OPT_START, .opt_end = F2_F4_OPT_END,
		.write_unit = 4,
		.flash_size_reg = FSR_F4,
	},
	{
		.pid = 0x421,
		.name = "STM32F446xx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 } },
		.ram_start = 0x20003000, .ram_end = 0x20020000,
		.sysmem_start = F2_F4_SYSMEM_START,
		.sysmem_end = F2_F4_SYSMEM_END,
		.opt_start = F2_F4_OPT_START, .opt_end = F2_F4_OPT_END,
		.write_unit = 4,
		.flash_size_reg = FSR_F4,
	},
	{
		/* Same 2 MiB dual-bank map as 0x419 (RM0386). */
		.pid = 0x434,
		.name = "STM32F469xx/F479xx",
		.flash_base = FLASH_BASE,
		.flash_size = 2 * MIB,
		.runs = {
			{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 7 },
			{ 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 7 },
		},
		.bank2_base = 0x08100000,
		.ram_start = 0x20003000, .ram_end = 0x20060000,
		.sysmem_start = F2_F4_SYSMEM_START,
		.sysmem_end = F2_F4_SYSMEM_END,
		.opt_start = F2_F4_OPT_START, .opt_end = F2_F4_OPT_END,
		.write_unit = 4,
		.flash_size_reg = FSR_F4,
		.quirks = FT_Q_DUAL_BANK,
		.opt_layouts = f4_db1m,
	},
	{
		/* 1.5 MiB single bank: sectors 0-15 (RM0430). */
		.pid = 0x463,
		.name = "STM32F413xx/F423xx",
		.flash_base = FLASH_BASE,
		.flash_size = 1536 * KIB,
		.runs = { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 11 } },
		.ram_start = 0x20003000, .ram_end = 0x20050000,
		.sysmem_start = F2_F4_SYSMEM_START,
		.sysmem_end = F2_F4_SYSMEM_END,
		.opt_start = F2_F4_OPT_START, .opt_end = F2_F4_OPT_END,
		.write_unit = 4,
		.flash_size_reg = FSR_F4,
	},

	/*
	 * STM32F7.  AN2606 STM32F72xxx/73xxx, F74xxx/75xxx, F76xxx/77xxx
	 * sections; RM0431 (F72x: 4 x 16 KiB, 64 KiB, 128 KiB sectors) and
	 * RM0385/RM0410 (F74x/F76x: 4 x 32 KiB, 128 KiB, 256 KiB sectors).
	 * Checked against stm32flash.
	 *
	 * Writes 8-byte aligned: AN2606 Table 7, "STM32F7: 8 bytes.  If
	 * the address is not aligned, the operation fails, and all
	 * following program operations fail as well" (CP asks 16/32;
	 * audit A4).
	 */
	{
		.pid = 0x452,
		.name = "STM32F72xxx/F73xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 16 * KIB, 4 }, { 64 * KIB, 1 }, { 128 * KIB, 3 } },
		.ram_start = 0x20004000, .ram_end = 0x20040000,
		.sysmem_start = F7_SYSMEM_START, .sysmem_end = F7_SYSMEM_END,
		.opt_start = F7_OPT_START, .opt_end = F7_OPT_END,
		.write_unit = 8,
		.flash_size_reg = 0x1FF07A22,
	},
	{
		.pid = 0x449,
		.name = "STM32F74xxx/F75xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 32 * KIB, 4 }, { 128 * KIB, 1 }, { 256 * KIB, 3 } },
		.ram_start = 0x20004000, .ram_end = 0x20050000,
		.sysmem_start = F7_SYSMEM_START, .sysmem_end = F7_SYSMEM_END,
		.opt_start = F7_OPT_START, .opt_end = F7_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_F7,
	},
	{
		/*
		 * Single-bank mode, the factory setting (nDBANK = 1, RM0410).
		 * With nDBANK cleared the sectors become 2 x (4 x 16 KiB,
		 * 64 KiB, 7 x 128 KiB): f7_ndbank.
		 */
		.pid = 0x451,
		.name = "STM32F76xxx/F77xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 2 * MIB,
		.runs = { { 32 * KIB, 4 }, { 128 * KIB, 1 }, { 256 * KIB, 7 } },
		.ram_start = 0x20004000, .ram_end = 0x20080000,
		.sysmem_start = F7_SYSMEM_START, .sysmem_end = F7_SYSMEM_END,
		.opt_start = F7_OPT_START, .opt_end = F7_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_F7,
		.opt_layouts = f7_ndbank,
	},

	/*
	 * STM32G0.  AN2606 STM32G03xxx/04xxx, G05xxx/061xx, G07xxx/08xxx,
	 * G0B0/B1/C1xx sections; RM0444/RM0454: 2 KiB pages, 64-bit
	 * programming.  Checked against stm32flash.
	 *
	 * Factory nBOOT_SEL = 1 makes the ROM ignore the BOOT0 pin: a blank
	 * part enters it through the empty check, a programmed one never
	 * does until nBOOT_SEL or nBOOT0 is changed (RM0444 "Boot
	 * configuration"; AN2606 pattern 11).
	 */
	{
		.pid = 0x466,
		.name = "STM32G03xxx/G04xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 64 * KIB,
		.runs = { { 2 * KIB, 32 } },
		.ram_start = 0x20001000, .ram_end = 0x20002000,
		.sysmem_start = 0x1FFF0000, .sysmem_end = 0x1FFF2000,
		.opt_start = G0_C0_OPT_START, .opt_end = G0_C0_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
		.quirks = FT_Q_BOOT0_OPTION,
	},
	{
		/*
		 * Free RAM ends at 0x20002000 (AN2606 Table 226; Table 113:
		 * 4 KiB used; stm32flash's 0x20004800 is the SRAM end;
		 * audit D3): the lower figure is kept.
		 */
		.pid = 0x456,
		.name = "STM32G05xxx/G061xx",
		.flash_base = FLASH_BASE,
		.flash_size = 64 * KIB,
		.runs = { { 2 * KIB, 32 } },
		.ram_start = 0x20001000, .ram_end = 0x20002000,
		.sysmem_start = 0x1FFF0000, .sysmem_end = 0x1FFF2000,
		.opt_start = G0_C0_OPT_START, .opt_end = G0_C0_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
		.quirks = FT_Q_BOOT0_OPTION,
	},
	{
		/*
		 * Free RAM from 0x20003000: AN2606 rev 70 Table 107 says "12
		 * Kbytes, starting from 0x20000000, are used by the
		 * bootloader"; its Table 226 says 0x20002700, which would put
		 * the reset routine inside the ROM's working RAM (audit D1).
		 */
		.pid = 0x460,
		.name = "STM32G07xxx/G08xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 128 * KIB,
		.runs = { { 2 * KIB, 64 } },
		.ram_start = 0x20003000, .ram_end = 0x20009000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = G0_C0_OPT_START, .opt_end = G0_C0_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
		/*
		 * ROM V11.3 acknowledges page erases before they end (AN2606
		 * Table 108; audit D10); V11.4 does not, but both answer
		 * with this ID: the bootloader ID byte, at the end of the
		 * system memory (AN2606 "bootloader version" for G07x/G08x,
		 * Table 226), tells them apart.  Unread, the worst is
		 * assumed.
		 */
		.quirks = FT_Q_BOOT0_OPTION | FT_Q_ERASE_EARLY_ACK,
		.bl_id_addr = 0x1FFF6FFE,
	},
	{
		/*
		 * 512 KiB in two banks of 128 pages (DUAL_BANK set in the
		 * factory option bytes of G0B1/G0C1, RM0444); the ROM
		 * numbers bank 2 on from page 128 on every size (CP 0x467
		 * sector128, sector64 on 256 KiB), not from RM0444's
		 * hardware page 256.  Every listed ROM fails a multi-page
		 * erase in bank 2 (AN2606 Tables 110, 112; audit A3).  The
		 * system memory has a second area, 0x1FFF8000-0x1FFFEFFF
		 * (AN2606 Tables 111, 226), not listed (audit B3).
		 */
		.pid = 0x467,
		.name = "STM32G0B0/G0B1/G0C1xx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 2 * KIB, 256 } },
		.bank2_base = 0x08040000,
		.ram_start = 0x20004000, .ram_end = 0x20020000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = G0_C0_OPT_START, .opt_end = G0_C0_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
		.quirks = FT_Q_BOOT0_OPTION | FT_Q_DUAL_BANK |
		    FT_Q_BANK2_ERASE_ONE,
	},

	/*
	 * STM32C0.  Not in stm32flash (placeholders only).  IDs, flash size
	 * and system memory (0x1FFF0000, 6 KiB) from AN2606 "STM32C011xx"
	 * and "STM32C031xx" as transcribed by stm32loader, cross-checked
	 * with OpenOCD's stm32l4x driver (0x443 and 0x453, 32 KiB, 2 KiB
	 * pages); RM0490 for the option bytes at 0x1FFF7800, 64-bit
	 * programming and the G0-style nBOOT_SEL boot selection.
	 * Free RAM: AN2606 Table 226's ranges for C011/C031 are broken
	 * (one runs backwards), but their configuration tables (Tables 10,
	 * 12) say the ROM uses 3.5 KiB, so RAM is free from 0x20000E00 to
	 * the end of SRAM (audit B6).  C051, C071, C091/C092: AN2606 Table
	 * 226 and CP 0x44C/0x493/0x44D (audit section C); Tables 15, 17, 19
	 * say their ROMs clear the empty-check flag at start-up, a G0-like
	 * boot selection.
	 */
	{
		.pid = 0x443,
		.name = "STM32C011xx",
		.flash_base = FLASH_BASE,
		.flash_size = 32 * KIB,
		.runs = { { 2 * KIB, 16 } },
		.ram_start = 0x20000E00, .ram_end = 0x20001800,
		.sysmem_start = 0x1FFF0000, .sysmem_end = 0x1FFF1800,
		.opt_start = G0_C0_OPT_START, .opt_end = G0_C0_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_C0,
		.quirks = FT_Q_BOOT0_OPTION,
	},
	{
		.pid = 0x453,
		.name = "STM32C031xx",
		.flash_base = FLASH_BASE,
		.flash_size = 32 * KIB,
		.runs = { { 2 * KIB, 16 } },
		.ram_start = 0x20000E00, .ram_end = 0x20003000,
		.sysmem_start = 0x1FFF0000, .sysmem_end = 0x1FFF1800,
		.opt_start = G0_C0_OPT_START, .opt_end = G0_C0_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_C0,
		.quirks = FT_Q_BOOT0_OPTION,
	},
	{
		.pid = 0x44C,
		.name = "STM32C051xx",
		.flash_base = FLASH_BASE,
		.flash_size = 64 * KIB,
		.runs = { { 2 * KIB, 32 } },
		.ram_start = 0x20001400, .ram_end = 0x20003000,
		.sysmem_start = 0x1FFF0000, .sysmem_end = 0x1FFF3000,
		.opt_start = G0_C0_OPT_START, .opt_end = G0_C0_OPT_END,
		.write_unit = 8,
		.quirks = FT_Q_BOOT0_OPTION,
		.flash_size_reg = FSR_C0,
	},
	{
		.pid = 0x493,
		.name = "STM32C071xx",
		.flash_base = FLASH_BASE,
		.flash_size = 128 * KIB,
		.runs = { { 2 * KIB, 64 } },
		.ram_start = 0x20002300, .ram_end = 0x20006000,
		.sysmem_start = 0x1FFF0000, .sysmem_end = 0x1FFF7000,
		.opt_start = G0_C0_OPT_START, .opt_end = G0_C0_OPT_END,
		.write_unit = 8,
		.quirks = FT_Q_BOOT0_OPTION,
		.flash_size_reg = FSR_C0,
	},
	{
		.pid = 0x44D,
		.name = "STM32C091xx/C092xx",
		.flash_base = FLASH_BASE,
		.flash_size = 256 * KIB,
		.runs = { { 2 * KIB, 128 } },
		.ram_start = 0x20002400, .ram_end = 0x20007800,
		.sysmem_start = 0x1FFF0000, .sysmem_end = 0x1FFF4000,
		.opt_start = G0_C0_OPT_START, .opt_end = G0_C0_OPT_END,
		.write_unit = 8,
		.quirks = FT_Q_BOOT0_OPTION,
		.flash_size_reg = FSR_C0,
	},

	/*
	 * STM32G4.  AN2606 STM32G431xx/441xx, G47xxx/48xxx, G491xx/4A1xx
	 * sections; RM0440: 2 KiB pages (category 3 in its factory dual-bank
	 * mode), 64-bit programming.  Checked against stm32flash.  The ROM
	 * numbers G47x bank 2 from 128 on every flash size (CP 0x469
	 * Bootloader configurations 0xB/0xD/0xF), the flat index.  Option
	 * blocks: CP's first Bootloader block per ID (audit B5).
	 */
	{
		.pid = 0x468,
		.name = "STM32G431xx/G441xx",
		.flash_base = FLASH_BASE,
		.flash_size = 128 * KIB,
		.runs = { { 2 * KIB, 64 } },
		.ram_start = 0x20004000, .ram_end = 0x20005800,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = L4_OPT_START, .opt_end = 0x1FFF782C,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
	},
	{
		/*
		 * Factory DBANK = 1: two banks of 128 x 2 KiB, bank 2 at
		 * 0x08040000 (RM0440).  With DBANK = 0 the pages are 4 KiB:
		 * g4_dbank.
		 */
		.pid = 0x469,
		.name = "STM32G47xxx/G48xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 2 * KIB, 256 } },
		.bank2_base = 0x08040000,
		.ram_start = 0x20004000, .ram_end = 0x20018000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = L4_OPT_START, .opt_end = L4_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
		.quirks = FT_Q_DUAL_BANK,
		.opt_layouts = g4_dbank,
	},
	{
		.pid = 0x479,
		.name = "STM32G491xx/G4A1xx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 2 * KIB, 256 } },
		.ram_start = 0x20004000, .ram_end = 0x2001C000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = L4_OPT_START, .opt_end = 0x1FFF7830,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
	},

	/*
	 * STM32H7.  AN2606 STM32H72xxx/73xxx, H74xxx/75xxx, H7A3xx/B3xx
	 * sections; RM0468/RM0433/RM0455 for the sectors.  The option bytes
	 * are registers, not memory.  The ROM writes whole flash words (256
	 * bits on H72x-H75x, 128 bits on H7A3/B3), and a read-back straight
	 * after a block write is unreliable (SourceForge stm32flash ticket
	 * #161), hence verify at the end.  RAM: the DTCM range the ROM
	 * leaves free (it also leaves part of AXI SRAM free; one range only).
	 */
	{
		/*
		 * 1 MiB single bank of 8 x 128 KiB from 0x08000000
		 * (stm32flash's row has 0x80000000, a typo).
		 */
		.pid = 0x483,
		.name = "STM32H72xxx/H73xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 128 * KIB, 8 } },
		.ram_start = 0x20004100, .ram_end = 0x20020000,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF1E800,
		.write_unit = 32,
		.flash_size_reg = FSR_H7,
		.quirks = FT_Q_VERIFY_AFTER_ALL,
	},
	{
		/* Two banks of 8 x 128 KiB; bank 2 at 0x08100000. */
		.pid = 0x450,
		.name = "STM32H74xxx/H75xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 2 * MIB,
		.runs = { { 128 * KIB, 16 } },
		.bank2_base = 0x08100000,
		.ram_start = 0x20004100, .ram_end = 0x20020000,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF1E800,
		.write_unit = 32,
		.flash_size_reg = FSR_H7,
		.quirks = FT_Q_VERIFY_AFTER_ALL | FT_Q_DUAL_BANK,
	},
	{
		/*
		 * H7A3xI/H7B3xI: 2 MiB in two banks of 128 x 8 KiB sectors,
		 * bank 2 at 0x08100000 (RM0455); stm32flash stops at 1 MiB.
		 * 128-bit flash words.  The H7B0 (128 KiB) shares the ID
		 * (AN2606 Tables 3, 226; audit B8).
		 */
		.pid = 0x480,
		.name = "STM32H7A3xx/H7B3xx/H7B0xx",
		.flash_base = FLASH_BASE,
		.flash_size = 2 * MIB,
		.runs = { { 8 * KIB, 256 } },
		.bank2_base = 0x08100000,
		.ram_start = 0x20004100, .ram_end = 0x20020000,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF14000,
		.write_unit = 16,
		.flash_size_reg = FSR_H5,
		.quirks = FT_Q_VERIFY_AFTER_ALL | FT_Q_DUAL_BANK,
	},
	{
		/*
		 * H7R/S (audit section C): 64 KiB of 8 KiB sectors (CP
		 * 0x485), 16-byte alignment (AN2606 Table 7, CP); Table 226
		 * lists three free RAM ranges, the first is given here.
		 */
		.pid = 0x485,
		.name = "STM32H7R3/R7/S3/S7xx",
		.flash_base = FLASH_BASE,
		.flash_size = 64 * KIB,
		.runs = { { 8 * KIB, 8 } },
		.ram_start = 0x20000000, .ram_end = 0x20030000,
		.sysmem_start = 0x1FF18000, .sysmem_end = 0x1FF20000,
		.write_unit = 16,
		.flash_size_reg = FSR_H5,
	},

	/*
	 * STM32H5.  Not in stm32flash.  IDs and system memory from AN2606
	 * "STM32H503xx" and "STM32H56xxx/57xxx" as transcribed by
	 * stm32loader; RM0492 (H503) and RM0481 (H56x/H57x): two banks of
	 * 8 KiB sectors, 128-bit (quad-word) programming, option bytes only
	 * as registers.  H56x/H57x free RAM: Table 226's range starts at
	 * 0x20000000, but Table 127 says the ROM uses 16 KiB, so it is free
	 * from 0x20004000 (audit B6).  H523/H533 and H5E/H5F: AN2606 Table
	 * 226 and CP 0x478/0x47A (audit section C); bank 2 numbered on.
	 */
	{
		.pid = 0x474,
		.name = "STM32H503xx",
		.flash_base = FLASH_BASE,
		.flash_size = 128 * KIB,
		.runs = { { 8 * KIB, 16 } },
		.bank2_base = 0x08010000,
		.ram_start = 0x20004000, .ram_end = 0x20008000,
		.sysmem_start = 0x0BF87000, .sysmem_end = 0x0BF90000,
		.write_unit = 16,
		.flash_size_reg = FSR_H5,
		.quirks = FT_Q_DUAL_BANK,
	},
	{
		.pid = 0x484,
		.name = "STM32H56xxx/H57xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 2 * MIB,
		.runs = { { 8 * KIB, 256 } },
		.bank2_base = 0x08100000,
		.ram_start = 0x20004000, .ram_end = 0x200A0000,
		.sysmem_start = 0x0BF97000, .sysmem_end = 0x0BFA0000,
		.write_unit = 16,
		.flash_size_reg = FSR_H5,
		.quirks = FT_Q_DUAL_BANK,
	},
	{
		.pid = 0x478,
		.name = "STM32H523xx/H533xx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 8 * KIB, 64 } },
		.bank2_base = 0x08040000,
		.ram_start = 0x20004000, .ram_end = 0x20044000,
		.sysmem_start = 0x0BF97000, .sysmem_end = 0x0BFA0000,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_H5,
	},
	{
		.pid = 0x47A,
		.name = "STM32H5E4/H5E5/H5F4/H5F5xx",
		.flash_base = FLASH_BASE,
		.flash_size = 4 * MIB,
		.runs = { { 8 * KIB, 512 } },
		.bank2_base = 0x08200000,
		.ram_start = 0x20004000, .ram_end = 0x20180000,
		.sysmem_start = 0x0BFAC000, .sysmem_end = 0x0BFB8000,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_H5,
	},

	/*
	 * STM32L0.  AN2606 STM32L01xxx/02xxx, L031xx/041xx, L05xxx/06xxx,
	 * L07xxx/08xxx sections; RM0377/RM0367/RM0376: 128-byte pages, word
	 * programming.  Checked against stm32flash.
	 *
	 * No mass erase: the ROM's mass erase does not work on these parts
	 * (stm32flash F_NO_ME, reported for L0 and L1 from 2016 on), so
	 * erase page by page.  Erased flash reads 0x00 on L0 and L1
	 * (RM0377 and RM0038, "Flash program and erase operations").
	 *
	 * Writes 8-byte aligned: AN2606 Table 7 says "STM32L0: 8 bytes"
	 * (and the same for L1) where CP says 4 and the hardware programs
	 * words; the stricter figure costs nothing (audit D7).  Option
	 * blocks: CP's Bootloader blocks (audit B5).
	 */
	{
		/* The ROM uses all 2 KiB of RAM. */
		.pid = 0x457,
		.name = "STM32L01xxx/L02xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 16 * KIB,
		.runs = { { 128, 128 } },
		.ram_start = 0x20000800, .ram_end = 0x20000800,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF01000,
		.opt_start = L0_L1_OPT_START, .opt_end = 0x1FF80010,
		.write_unit = 8,
		.flash_size_reg = FSR_L0,
		.quirks = FT_Q_NO_MASS_ERASE | FT_Q_ERASED_ZERO,
	},
	{
		.pid = 0x425,
		.name = "STM32L031xx/L041xx",
		.flash_base = FLASH_BASE,
		.flash_size = 32 * KIB,
		.runs = { { 128, 256 } },
		.ram_start = 0x20001000, .ram_end = 0x20002000,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF01000,
		.opt_start = L0_L1_OPT_START, .opt_end = 0x1FF80014,
		.write_unit = 8,
		.flash_size_reg = FSR_L0,
		.quirks = FT_Q_NO_MASS_ERASE | FT_Q_ERASED_ZERO,
	},
	{
		.pid = 0x417,
		.name = "STM32L05xxx/L06xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 64 * KIB,
		.runs = { { 128, 512 } },
		.ram_start = 0x20001000, .ram_end = 0x20002000,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF01000,
		.opt_start = L0_L1_OPT_START, .opt_end = 0x1FF80014,
		.write_unit = 8,
		.flash_size_reg = FSR_L0,
		.quirks = FT_Q_NO_MASS_ERASE | FT_Q_ERASED_ZERO,
	},
	{
		/*
		 * 192 KiB in two banks of 96 KiB, bank 2 at 0x08018000
		 * (RM0367 category 5).  The ROM has no bank erase here
		 * either; the bank split matters only for read-while-write.
		 * Free RAM from 0x20001400: AN2606 Table 226 gives 0x20001000
		 * for bootloader ID 0x41 and 0x20001400 for 0xB2; stm32flash's
		 * 0x20002000 was needlessly strict (audit B7).
		 */
		.pid = 0x447,
		.name = "STM32L07xxx/L08xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 192 * KIB,
		.runs = { { 128, 1536 } },
		.bank2_base = 0x08018000,
		.ram_start = 0x20001400, .ram_end = 0x20005000,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF02000,
		.opt_start = L0_L1_OPT_START, .opt_end = 0x1FF80014,
		.write_unit = 8,
		.flash_size_reg = FSR_L0,
		.quirks = FT_Q_NO_MASS_ERASE | FT_Q_ERASED_ZERO |
		    FT_Q_DUAL_BANK,
	},

	/*
	 * STM32L1.  AN2606 STM32L1xxx6/8/B, 6/8/BA, C, D, E sections; RM0038:
	 * 256-byte pages, word programming; 8-byte aligned writes and no
	 * mass erase, as for L0.  Bank 2 of categories 4 and 5 is numbered
	 * on from bank 1 (CP 0x436 sector768, 0x437 sector1024).  Checked
	 * against stm32flash.  Option blocks from CP (audit B5): on L1xxxE
	 * the second block (0x1FF80080, WRP of the upper sectors) is joined
	 * to the first; on L1xxxD there is none, so stm32flash 0.7's 0xA0
	 * bytes covered 0x80 that do not exist.
	 */
	{
		.pid = 0x416,
		.name = "STM32L1xxx6/8/B",
		.flash_base = FLASH_BASE,
		.flash_size = 128 * KIB,
		.runs = { { 256, 512 } },
		.ram_start = 0x20000800, .ram_end = 0x20004000,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF01000,
		.opt_start = L0_L1_OPT_START, .opt_end = 0x1FF80010,
		.write_unit = 8,
		.flash_size_reg = 0x1FF8004C,
		.quirks = FT_Q_NO_MASS_ERASE | FT_Q_ERASED_ZERO,
	},
	{
		.pid = 0x429,
		.name = "STM32L1xxx6/8/BA",
		.flash_base = FLASH_BASE,
		.flash_size = 128 * KIB,
		.runs = { { 256, 512 } },
		.ram_start = 0x20001000, .ram_end = 0x20008000,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF01000,
		.opt_start = L0_L1_OPT_START, .opt_end = 0x1FF80018,
		.write_unit = 8,
		.flash_size_reg = 0x1FF8004C,
		.quirks = FT_Q_NO_MASS_ERASE | FT_Q_ERASED_ZERO,
	},
	{
		.pid = 0x427,
		.name = "STM32L1xxxC",
		.flash_base = FLASH_BASE,
		.flash_size = 256 * KIB,
		.runs = { { 256, 1024 } },
		.ram_start = 0x20001000, .ram_end = 0x20008000,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF02000,
		.opt_start = L0_L1_OPT_START, .opt_end = 0x1FF80018,
		.write_unit = 8,
		.flash_size_reg = 0x1FF800CC,
		.quirks = FT_Q_NO_MASS_ERASE | FT_Q_ERASED_ZERO,
	},
	{
		/* Category 4: two banks of 192 KiB (RM0038). */
		.pid = 0x436,
		.name = "STM32L1xxxD",
		.flash_base = FLASH_BASE,
		.flash_size = 384 * KIB,
		.runs = { { 256, 1536 } },
		.bank2_base = 0x08030000,
		.ram_start = 0x20001000, .ram_end = 0x2000C000,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF02000,
		.opt_start = L0_L1_OPT_START, .opt_end = 0x1FF80020,
		.write_unit = 8,
		.flash_size_reg = 0x1FF800CC,
		.quirks = FT_Q_NO_MASS_ERASE | FT_Q_ERASED_ZERO |
		    FT_Q_DUAL_BANK,
	},
	{
		/* Category 5: two banks of 256 KiB (RM0038). */
		.pid = 0x437,
		.name = "STM32L1xxxE",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 256, 2048 } },
		.bank2_base = 0x08040000,
		.ram_start = 0x20001000, .ram_end = 0x20014000,
		.sysmem_start = 0x1FF00000, .sysmem_end = 0x1FF02000,
		.opt_start = L0_L1_OPT_START, .opt_end = 0x1FF80088,
		.write_unit = 8,
		.flash_size_reg = 0x1FF800CC,
		.quirks = FT_Q_NO_MASS_ERASE | FT_Q_ERASED_ZERO |
		    FT_Q_DUAL_BANK,
	},

	/*
	 * STM32L4 and L4+.  AN2606 STM32L412/422, L43x/44x, L45x/46x,
	 * L47x/48x, L496/4A6, L4Rx/4Sx, L4P5/Q5 sections; RM0394 (single
	 * bank, 2 KiB pages), RM0351 (1 MiB parts: two banks of 2 KiB
	 * pages), RM0432 (L4+: 4 KiB pages in the factory dual-bank mode).
	 * 64-bit programming.  Checked against stm32flash except where noted.
	 * Option blocks: CP's first Bootloader block, 0x24 bytes (0x28 on
	 * L47x), where the rows had 0x10 (audit B5).
	 *
	 * L41x-L46x enter the ROM through the empty check of AN2606's
	 * pattern 16 (RM0394 FLASH_SR PEMPTY), not only L45x/L46x as
	 * stm32flash marks them: FT_Q_RESET_PEMPTY on all three (audit B4).
	 */
	{
		.pid = 0x464,
		.name = "STM32L412xx/L422xx",
		.flash_base = FLASH_BASE,
		.flash_size = 128 * KIB,
		.runs = { { 2 * KIB, 64 } },
		.ram_start = 0x20003100, .ram_end = 0x20008000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = L4_OPT_START, .opt_end = L4_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
		/*
		 * ROM V13.1: "On connection phase, USART responds with two
		 * ACK bytes (0x79) instead of one" (AN2606 Table 163; audit
		 * D11).
		 */
		.quirks = FT_Q_RESET_PEMPTY | FT_Q_DOUBLE_ACK,
	},
	{
		.pid = 0x435,
		.name = "STM32L43xxx/L44xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 256 * KIB,
		.runs = { { 2 * KIB, 128 } },
		.ram_start = 0x20003100, .ram_end = 0x2000C000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = L4_OPT_START, .opt_end = L4_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
		.quirks = FT_Q_RESET_PEMPTY,
	},
	{
		.pid = 0x462,
		.name = "STM32L45xxx/L46xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 2 * KIB, 256 } },
		.ram_start = 0x20003100, .ram_end = 0x20020000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = L4_OPT_START, .opt_end = L4_OPT_END,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
		/*
		 * The empty-check flag (FLASH_SR PEMPTY) survives a reset and
		 * sends the part back to the ROM; the reset routine must
		 * update it first (RM0394, stm32flash F_PEMPTY).
		 */
		.quirks = FT_Q_RESET_PEMPTY,
	},
	{
		/*
		 * 1 MiB parts are always dual bank, bank 2 at 0x08080000.
		 * On the 512 and 256 KiB parts (factory DUALBANK = 1) bank 2
		 * starts at half the flash, 0x08040000 or 0x08020000, and
		 * the ROM still numbers it from page 256 (CP 0x415 sector256
		 * in configurations 1/6 and 3/7; RM0351's 128-page offset,
		 * ST forum on the L496VE; audit A1): bank2_page.  Bank 2's
		 * option block (0x1FFFF800) is not listed, as on F42x.
		 */
		.pid = 0x415,
		.name = "STM32L47xxx/L48xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 2 * KIB, 512 } },
		.bank2_base = 0x08080000,
		.ram_start = 0x20003100, .ram_end = 0x20018000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = L4_OPT_START, .opt_end = 0x1FFF7828,
		.write_unit = 8,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_G_L4,
		.bank2_page = 256,
		.opt_layouts = l4_dualbank,
	},
	{
		/* As L47x: bank 2 from page 256 on the 512 KiB L496xE too
		 * (CP 0x461 configuration 1; audit A2). */
		.pid = 0x461,
		.name = "STM32L496xx/L4A6xx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 2 * KIB, 512 } },
		.bank2_base = 0x08080000,
		.ram_start = 0x20003100, .ram_end = 0x20040000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = L4_OPT_START, .opt_end = L4_OPT_END,
		.write_unit = 8,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_G_L4,
		.bank2_page = 256,
		.opt_layouts = l4_dualbank,
	},
	{
		/*
		 * L4R/L4S go to 2 MiB: factory DBANK = 1 gives two banks of
		 * 256 x 4 KiB, bank 2 at 0x08100000 (RM0432).  stm32flash
		 * stops at 1 MiB with 2 KiB pages.  RM0432 puts the L4+
		 * option bytes at 0x1FF00000 (bank 1's block listed).  With
		 * DBANK = 0 the pages are 8 KiB: l4r_dbank.
		 */
		.pid = 0x470,
		.name = "STM32L4Rxx/L4Sxx",
		.flash_base = FLASH_BASE,
		.flash_size = 2 * MIB,
		.runs = { { 4 * KIB, 512 } },
		.bank2_base = 0x08100000,
		.ram_start = 0x20003200, .ram_end = 0x200A0000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = L4P_OPT_START, .opt_end = L4P_OPT_END,
		.write_unit = 8,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_G_L4,
		.opt_layouts = l4r_dbank,
	},
	{
		/* 1 MiB, factory dual bank: 2 x 128 x 4 KiB (RM0432). */
		.pid = 0x471,
		.name = "STM32L4P5xx/L4Q5xx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 4 * KIB, 256 } },
		.bank2_base = 0x08080000,
		.ram_start = 0x20004000, .ram_end = 0x20050000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = L4P_OPT_START, .opt_end = L4P_OPT_END,
		.write_unit = 8,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_G_L4,
		.opt_layouts = l4p_dbank,
	},

	/*
	 * STM32L5.  AN2606 STM32L552xx/562xx; RM0438: factory DBANK = 1,
	 * two banks of 128 x 2 KiB, bank 2 at 0x08040000; 64-bit
	 * programming; option bytes as registers only.  System memory
	 * 0x0BF90000, 32 KiB.  Checked against stm32flash.  Writes 16-byte
	 * aligned: AN2606 Table 7 "STM32L5: 16 bytes" (CP says 8; the
	 * stricter figure is safe either way; audit D6).  With DBANK = 0
	 * the pages are 4 KiB: l5_dbank.
	 */
	{
		.pid = 0x472,
		.name = "STM32L552xx/L562xx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 2 * KIB, 256 } },
		.bank2_base = 0x08040000,
		.ram_start = 0x20004000, .ram_end = 0x20040000,
		.sysmem_start = TZ_SYSMEM_START, .sysmem_end = 0x0BF98000,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = 0x0BFA05E0,
		.opt_layouts = l5_dbank,
	},

	/*
	 * STM32U5.  AN2606 STM32U535/545, U575/585, U59x/5Ax sections (IDs
	 * also in OpenOCD's stm32l4x driver); RM0456: full-size parts are
	 * always dual bank, 8 KiB pages, 128-bit (quad-word) programming,
	 * option bytes as registers only.  System memory 0x0BF90000, 64 KiB.
	 * 0x482 checked against stm32flash; 0x481 and 0x455 are not in it.
	 */
	{
		/*
		 * AN2606 Table 226's free-RAM end for U535/545 lies past the
		 * part's SRAM; Table 127's 16 KiB used and the end of SRAM2
		 * give 0x20004000-0x2003FFFF (audit B6).
		 */
		.pid = 0x455,
		.name = "STM32U535xx/U545xx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 8 * KIB, 64 } },
		.bank2_base = 0x08040000,
		.ram_start = 0x20004000, .ram_end = 0x20040000,
		.sysmem_start = TZ_SYSMEM_START, .sysmem_end = 0x0BFA0000,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_U5,
	},
	{
		.pid = 0x482,
		.name = "STM32U575xx/U585xx",
		.flash_base = FLASH_BASE,
		.flash_size = 2 * MIB,
		.runs = { { 8 * KIB, 256 } },
		.bank2_base = 0x08100000,
		.ram_start = 0x20004000, .ram_end = 0x200C0000,
		.sysmem_start = TZ_SYSMEM_START, .sysmem_end = 0x0BFA0000,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_U5,
	},
	{
		.pid = 0x481,
		.name = "STM32U595xx/U599xx/U5A5xx/U5A9xx",
		.flash_base = FLASH_BASE,
		.flash_size = 4 * MIB,
		.runs = { { 8 * KIB, 512 } },
		.bank2_base = 0x08200000,
		.ram_start = 0x20004000, .ram_end = 0x20270000,
		.sysmem_start = TZ_SYSMEM_START, .sysmem_end = 0x0BFA0000,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_U5,
	},
	{
		.pid = 0x476,
		.name = "STM32U5F7/U5F9/U5G7/U5G9xx",
		.flash_base = FLASH_BASE,
		.flash_size = 4 * MIB,
		.runs = { { 8 * KIB, 512 } },
		.bank2_base = 0x08200000,
		.ram_start = 0x20004000, .ram_end = 0x202F0000,
		.sysmem_start = TZ_SYSMEM_START, .sysmem_end = 0x0BFA0000,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_U5,
	},

	/*
	 * STM32U3, U0 and C5 (audit section C): free RAM and system memory
	 * from AN2606 Table 226, flash maps and alignment from CP 0x454,
	 * 0x42A, 0x459, 0x489, 0x44E, 0x44F, 0x45A.  U3 and C5 are dual bank,
	 * bank 2 numbered on; option bytes are registers on all of them.
	 * U3: AN2606 Table 7 says 8 bytes, CP 16; 16 is kept.  The U0 ROMs
	 * clear the empty-check flag at start-up (AN2606 Tables 205, 207)
	 * and boot as G0/C0 do (nBOOT_SEL, RM0503).
	 */
	{
		.pid = 0x454,
		.name = "STM32U375xx/U385xx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 4 * KIB, 256 } },
		.bank2_base = 0x08080000,
		.ram_start = 0x20004000, .ram_end = 0x20040000,
		.sysmem_start = 0x0BF8F000, .sysmem_end = 0x0BFA0000,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_U5,
	},
	{
		.pid = 0x42A,
		.name = "STM32U3B5xx/U3C5xx",
		.flash_base = FLASH_BASE,
		.flash_size = 2 * MIB,
		.runs = { { 4 * KIB, 512 } },
		.bank2_base = 0x08100000,
		.ram_start = 0x20004000, .ram_end = 0x200A0000,
		.sysmem_start = 0x0BF8F000, .sysmem_end = 0x0BFA0000,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_U5,
	},
	{
		.pid = 0x459,
		.name = "STM32U031xx",
		.flash_base = FLASH_BASE,
		.flash_size = 64 * KIB,
		.runs = { { 2 * KIB, 32 } },
		.ram_start = 0x20001500, .ram_end = 0x20003000,
		.sysmem_start = 0x1FFF0000, .sysmem_end = 0x1FFF3800,
		.write_unit = 8,
		.quirks = FT_Q_BOOT0_OPTION,
		.flash_size_reg = 0x1FFF777C,
	},
	{
		.pid = 0x489,
		.name = "STM32U073xx/U083xx",
		.flash_base = FLASH_BASE,
		.flash_size = 256 * KIB,
		.runs = { { 2 * KIB, 128 } },
		.ram_start = 0x20002170, .ram_end = 0x2000A000,
		.sysmem_start = 0x1FFF0000, .sysmem_end = 0x1FFF6800,
		.write_unit = 8,
		.quirks = FT_Q_BOOT0_OPTION,
		.flash_size_reg = 0x1FFF777C,
	},
	{
		.pid = 0x44E,
		.name = "STM32C55xxx/C562xx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 8 * KIB, 64 } },
		.bank2_base = 0x08040000,
		.ram_start = 0x20003C40, .ram_end = 0x20020000,
		.sysmem_start = 0x0BF80080, .sysmem_end = 0x0BF88600,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_H5,
	},
	{
		.pid = 0x44F,
		.name = "STM32C53xxx/C542xx",
		.flash_base = FLASH_BASE,
		.flash_size = 256 * KIB,
		.runs = { { 8 * KIB, 32 } },
		.bank2_base = 0x08020000,
		.ram_start = 0x20003C00, .ram_end = 0x20010000,
		.sysmem_start = 0x0BF80080, .sysmem_end = 0x0BF88600,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_H5,
	},
	{
		.pid = 0x45A,
		.name = "STM32C59xxx/C5A3xx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 8 * KIB, 128 } },
		.bank2_base = 0x08080000,
		.ram_start = 0x20003C00, .ram_end = 0x20040000,
		.sysmem_start = 0x0BF80080, .sysmem_end = 0x0BF88600,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_H5,
	},

	/*
	 * STM32WB and WL.  AN2606 STM32WB10xx/15xx, WB30xx/35xx/50xx/55xx and
	 * STM32WLE5xx/WL55xx sections; RM0473/RM0478 (WB1x: 2 KiB pages),
	 * RM0434 (WB5x: 4 KiB pages), RM0453/RM0461 (WL: 2 KiB pages); all
	 * single bank, 64-bit programming.  Checked against stm32flash.  On
	 * WB the flash above SFSA is CPU2's (wb1_secure, wb5_secure; audit
	 * D9).
	 */
	{
		/*
		 * AN2606's free-RAM range for WB1x (0x20005000-0x2003FFFF, as
		 * in stm32flash) runs across SRAM holes on these 48 KiB
		 * parts, so none is claimed.
		 */
		.pid = 0x494,
		.name = "STM32WB10xx/WB15xx",
		.flash_base = FLASH_BASE,
		.flash_size = 320 * KIB,
		.runs = { { 2 * KIB, 160 } },
		.ram_start = 0x20005000, .ram_end = 0x20005000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = 0x1FFF7800, .opt_end = 0x1FFF7880,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
		.secure = &wb1_secure,
	},
	{
		/*
		 * Free RAM from 0x20005000: AN2606 Table 183 says the ROM
		 * uses 20 KiB from 0x20000000; Table 226's 0x20004000 lies
		 * inside it (audit D2).
		 */
		.pid = 0x495,
		.name = "STM32WB30xx/WB35xx/WB50xx/WB55xx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 4 * KIB, 256 } },
		.ram_start = 0x20005000, .ram_end = 0x2000C000,
		.sysmem_start = SYSMEM_28K_START, .sysmem_end = SYSMEM_28K_END,
		.opt_start = 0x1FFF8000, .opt_end = 0x1FFF8080,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
		.secure = &wb5_secure,
	},
	{
		/*
		 * Option bytes: CP 0x497's Bootloader block, 0x6C bytes from
		 * 0x1FFF7800 (the row had the whole 2 KiB block; audit B5).
		 */
		.pid = 0x497,
		.name = "STM32WLE5xx/WL55xx",
		.flash_base = FLASH_BASE,
		.flash_size = 256 * KIB,
		.runs = { { 2 * KIB, 128 } },
		.ram_start = 0x20002000, .ram_end = 0x20010000,
		.sysmem_start = 0x1FFF0000, .sysmem_end = 0x1FFF4000,
		.opt_start = L4_OPT_START, .opt_end = 0x1FFF786C,
		.write_unit = 8,
		.flash_size_reg = FSR_G_L4,
	},

	/*
	 * STM32WBA (audit section C): AN2606 Table 226 free RAM and system
	 * memory; CP 0x4B2, 0x492, 0x4B0 flash maps (WBA6: dual bank, bank 2
	 * numbered on) and 16-byte alignment; option bytes are registers.
	 */
	{
		.pid = 0x4B2,
		.name = "STM32WBA2xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 512 * KIB,
		.runs = { { 4 * KIB, 128 } },
		.ram_start = 0x20003000, .ram_end = 0x20018000,
		.sysmem_start = 0x0BF85000, .sysmem_end = 0x0BF8CE00,
		.write_unit = 16,
		.flash_size_reg = 0x0BF802A0,
	},
	{
		.pid = 0x492,
		.name = "STM32WBA5xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 1 * MIB,
		.runs = { { 8 * KIB, 128 } },
		.ram_start = 0x20001800, .ram_end = 0x20002000,
		.sysmem_start = 0x0BF88000, .sysmem_end = 0x0BF90000,
		.write_unit = 16,
		.flash_size_reg = 0x0BF907A0,
	},
	{
		.pid = 0x4B0,
		.name = "STM32WBA6xxx",
		.flash_base = FLASH_BASE,
		.flash_size = 2 * MIB,
		.runs = { { 8 * KIB, 256 } },
		.bank2_base = 0x08100000,
		.ram_start = 0x20003000, .ram_end = 0x20080000,
		.sysmem_start = 0x0BF90000, .sysmem_end = 0x0BFA0000,
		.write_unit = 16,
		.quirks = FT_Q_DUAL_BANK,
		.flash_size_reg = FSR_U5,
	},

};

size_t
ft_chip_count(void)
{
	return sizeof(chips) / sizeof(chips[0]);
}

const char *
ft_proven_name(unsigned bit)
{
	static const char *const names[FT_PROVEN_COUNT] = {
		"identify", "read", "erase", "write",
	};

	return bit < FT_PROVEN_COUNT ? names[bit] : NULL;
}

const struct ft_chip *
ft_chip_at(size_t index)
{
	if (index >= ft_chip_count())
		return NULL;
	return &chips[index];
}

const struct ft_chip *
ft_chip_by_pid(uint16_t pid)
{
	size_t i;

	for (i = 0; i < ft_chip_count(); i++)
		if (chips[i].pid == pid)
			return &chips[i];
	return NULL;
}

void
ft_chip_layout_opt(const struct ft_chip *chip,
    const struct ft_opt_layout *alt, struct ft_layout *out)
{
	const struct ft_run *runs = alt != NULL ? alt->runs : chip->runs;
	unsigned i;

	*out = (struct ft_layout){ .base = chip->flash_base };
	/* The table ends its run list with the first empty run. */
	for (i = 0; i < FT_MAX_RUNS && runs[i].count != 0; i++)
		out->runs[i] = runs[i];
	out->nruns = i;
}

void
ft_chip_layout(const struct ft_chip *chip, struct ft_layout *out)
{
	ft_chip_layout_opt(chip, NULL, out);
}

const struct ft_opt_layout *
ft_chip_opt_layout(const struct ft_chip *chip, uint32_t flash_size,
    uint32_t word)
{
	const struct ft_opt_layout *o;

	for (o = chip->opt_layouts; o != NULL && o->opt_addr != 0; o++)
		if ((word & o->opt_mask) == o->opt_value &&
		    (o->flash_size == 0 || o->flash_size == flash_size))
			return o;
	return NULL;
}

int
ft_chip_rom_page(const struct ft_chip *chip, const struct ft_opt_layout *alt,
    uint32_t flash_size, uint32_t addr, uint32_t *page, uint32_t *unit_start,
    uint32_t *unit_size)
{
	uint32_t bank2_base = alt != NULL ? alt->bank2_base : chip->bank2_base;
	uint16_t first = alt != NULL ? alt->bank2_page : chip->bank2_page;
	struct ft_layout l;
	uint32_t off, half, k, start;
	int rc;

	ft_chip_layout_opt(chip, alt, &l);
	if (first == 0 || bank2_base == 0)
		return ft_layout_find(&l, addr, page, unit_start, unit_size);
	if (flash_size == 0)
		flash_size = chip->flash_size;
	if (addr < chip->flash_base || addr - chip->flash_base >= flash_size)
		return FT_E_RANGE;
	/*
	 * Bank 2 is the upper half of this part's flash, laid out as bank 1
	 * is (the rows describe bank 1 first), and numbered from first.
	 */
	off = addr - chip->flash_base;
	half = flash_size / 2;
	if (off < half)
		return ft_layout_find(&l, addr, page, unit_start, unit_size);
	rc = ft_layout_find(&l, addr - half, &k, &start, unit_size);
	if (rc < 0)
		return rc;
	if (page != NULL)
		*page = first + k;
	if (unit_start != NULL)
		*unit_start = start + half;
	return 0;
}
