/*
 * optbytes.c - the option bytes of each STM32 family as a host reads them
 * (USART Read Memory of the option area, a DfuSe upload of the "Option
 * Bytes" alt setting), named field by field, and pure functions that
 * decode an image of them, change fields and check a change before
 * anything is written.
 *
 * The tables are data: for each family the block's base, how its
 * complements are laid out, its factory image (words of the block as ST
 * ships it) and its fields (word, bits, kind, factory value, values and
 * what they mean), each table citing the reference-manual sections it is
 * transcribed from.  Bit positions were checked against ST's CMSIS
 * device headers (STMicroelectronics/cmsis-device-f0, -f1, -f4, -g0,
 * -g4: the FLASH_OBR, FLASH_OPTCR and FLASH_OPTR bit definitions), and
 * the polarity of the boot-source bits against ST's HAL headers
 * (stm32g0xx_hal_flash.h: OB_BOOT0_FROM_PIN is nBOOT_SEL = 0;
 * stm32g4xx_hal_flash.h: OB_BOOT0_FROM_PIN is nSWBOOT0 = 1; the two
 * families have opposite polarities).  test/unit/test_optbytes.c checks
 * every field against its family's factory image, and
 * test/unit/test_sim_obfacts.c against the simulators' own transcription.
 *
 * Invariants: a field lies inside its family's block and inside one
 * 32-bit little-endian word at a multiple of 4; fields never overlap;
 * no field covers a complement byte or word; a choice field lists every
 * value it accepts.  Nothing here knows a device or a transport: the
 * core reads and writes the block (core/option_io.c).
 *
 * The file is past 1,000 lines because it is mostly the tables (data,
 * exempt from the budget); the functions are its last 350 lines.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ft_int.h"

#define END_WORDS { 0xFFFF, 0 }
#define F_RO FT_OB_READONLY

/* The values of a one-bit field, 0 then 1. */
#define BIT_VALUES(name0, meaning0, name1, meaning1) \
	{ { 0, name0, meaning0 }, { 1, name1, meaning1 }, { 0, NULL, NULL } }

/* Values shared by several families. */
static const struct ft_ob_value v_wdg_sw[] = BIT_VALUES(
    "hardware", "hardware watchdog: runs from reset, always",
    "software", "software watchdog: off until the firmware starts it");
static const struct ft_ob_value v_rst_stop[] = BIT_VALUES(
    "reset", "entering Stop mode resets the chip",
    "no-reset", "entering Stop mode does not reset");
static const struct ft_ob_value v_rst_stdby[] = BIT_VALUES(
    "reset", "entering Standby mode resets the chip",
    "no-reset", "entering Standby mode does not reset");
static const struct ft_ob_value v_rst_shdw[] = BIT_VALUES(
    "reset", "entering Shutdown mode resets the chip",
    "no-reset", "entering Shutdown mode does not reset");
static const struct ft_ob_value v_nboot1[] = BIT_VALUES(
    "sram", "BOOT0 = 1 boots the embedded SRAM",
    "system", "BOOT0 = 1 boots system memory (the ROM bootloader)");
static const struct ft_ob_value v_nboot0[] = BIT_VALUES(
    "boot0-high", "BOOT0 = 1 when the option bit is the BOOT0 source",
    "boot0-low", "BOOT0 = 0 (main flash) when the option bit is the "
    "BOOT0 source");
static const struct ft_ob_value v_vdda[] = BIT_VALUES(
    "off", "VDDA supply monitor off",
    "on", "VDDA supply monitor on");
static const struct ft_ob_value v_parity[] = BIT_VALUES(
    "on", "RAM parity check enabled",
    "off", "RAM parity check disabled");
static const struct ft_ob_value v_iwdg_sw[] = BIT_VALUES(
    "hardware", "hardware independent watchdog: runs from reset",
    "software", "software independent watchdog: off until started");
static const struct ft_ob_value v_iwdg_stop[] = BIT_VALUES(
    "frozen", "independent watchdog frozen in Stop mode",
    "running", "independent watchdog runs in Stop mode");
static const struct ft_ob_value v_iwdg_stdby[] = BIT_VALUES(
    "frozen", "independent watchdog frozen in Standby mode",
    "running", "independent watchdog runs in Standby mode");
static const struct ft_ob_value v_wwdg_sw[] = BIT_VALUES(
    "hardware", "hardware window watchdog: runs from reset",
    "software", "software window watchdog: off until started");
/* G0 and G4: RM0444 and RM0440 FLASH_OPTR NRST_MODE; 0 is reserved. */
static const struct ft_ob_value v_nrst_mode[] = {
	{ 1, "input", "NRST is a reset input only" },
	{ 2, "gpio", "NRST is a GPIO: no reset pin (entry sequences that "
	    "pulse NRST stop working)" },
	{ 3, "bidirectional", "NRST is a reset input and output" },
	{ 0, NULL, NULL },
};
static const struct ft_ob_value v_irhen[] = BIT_VALUES(
    "no", "internal resets do not drive the NRST pin",
    "yes", "internal resets drive the NRST pin low");

/*
 * The rows F0, F1 and F3 share (USER bits 0-2, the data bytes, WRP0-3),
 * each 8-bit option followed by its complement.
 */
#define PAIR_RESET_BITS \
	{ .name = "WDG_SW", .offset = 0, .shift = 16, .width = 1, \
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_wdg_sw, \
	  .what = "independent watchdog started by hardware or software" }, \
	{ .name = "nRST_STOP", .offset = 0, .shift = 17, .width = 1, \
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_rst_stop, \
	  .what = "reset on entering Stop mode" }, \
	{ .name = "nRST_STDBY", .offset = 0, .shift = 18, .width = 1, \
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_rst_stdby, \
	  .what = "reset on entering Standby mode" }
#define PAIR_BYTE(nm, off, sh, kd, wh) \
	{ .name = nm, .offset = off, .shift = sh, .width = 8, .kind = kd, \
	  .factory = 0xFF, .what = wh }
#define PAIR_DATA_WRP \
	PAIR_BYTE("DATA0", 4, 0, FT_OB_NUMBER, "user data byte 0"), \
	PAIR_BYTE("DATA1", 4, 16, FT_OB_NUMBER, "user data byte 1"), \
	PAIR_BYTE("WRP0", 8, 0, FT_OB_WRP_BITS, \
	    "write protection, sector groups 0-7 (0 protects)"), \
	PAIR_BYTE("WRP1", 8, 16, FT_OB_WRP_BITS, \
	    "write protection, sector groups 8-15 (0 protects)"), \
	PAIR_BYTE("WRP2", 12, 0, FT_OB_WRP_BITS, \
	    "write protection, sector groups 16-23 (0 protects)"), \
	PAIR_BYTE("WRP3", 12, 16, FT_OB_WRP_BITS, \
	    "write protection, sector groups 24-31 (0 protects)")

/*
 * The rows G0 and G4 share: the watchdog bits of FLASH_OPTR (16-19) and
 * the write-protection areas A and B (start and end page, 7 bits).
 */
#define OPTR_WATCHDOG_BITS \
	{ .name = "IWDG_SW", .offset = 0, .shift = 16, .width = 1, \
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_iwdg_sw, \
	  .what = "independent watchdog started by hardware or software" }, \
	{ .name = "IWDG_STOP", .offset = 0, .shift = 17, .width = 1, \
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_iwdg_stop, \
	  .what = "independent watchdog in Stop mode" }, \
	{ .name = "IWDG_STDBY", .offset = 0, .shift = 18, .width = 1, \
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_iwdg_stdby, \
	  .what = "independent watchdog in Standby mode" }, \
	{ .name = "WWDG_SW", .offset = 0, .shift = 19, .width = 1, \
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_wwdg_sw, \
	  .what = "window watchdog started by hardware or software" }
#define WRP_PAGE(nm, off, sh, fac, wh) \
	{ .name = nm, .offset = off, .shift = sh, .width = 7, \
	  .kind = FT_OB_PAGE, .factory = fac, .what = wh }
#define OPTR_WRP_AREAS \
	WRP_PAGE("WRP1A_STRT", 0x18, 0, 0x7F, "write-protected area A: " \
	    "first page (none when past WRP1A_END)"), \
	WRP_PAGE("WRP1A_END", 0x18, 16, 0, \
	    "write-protected area A: last page"), \
	WRP_PAGE("WRP1B_STRT", 0x20, 0, 0x7F, "write-protected area B: " \
	    "first page (none when past WRP1B_END)"), \
	WRP_PAGE("WRP1B_END", 0x20, 16, 0, \
	    "write-protected area B: last page")

/*
 * STM32F0 (PIDs 0x440, 0x444, 0x442, 0x445, 0x448).  RM0091 section 4
 * "Option bytes": Table 11 (organization: every byte followed by its
 * complement), 4.1.1 "User and read protection option byte" (ST
 * production value 0x00FF55AA), then user data and write protection
 * (production value 0x00FF00FF each, as the same section gives them);
 * bit positions as in stm32f042x6.h FLASH_OBR (USER at bit 8).  nBOOT0
 * and BOOT_SEL exist on F04x and F09x only (CMSIS: stm32f042x6.h,
 * stm32f091xc.h); elsewhere the bits are reserved and kept as read.  One
 * WRP bit covers 4 pages of 1 KiB (up to 64 KiB parts) or 2 pages of 2
 * KiB.
 */
static const struct ft_ob_value v_f0_boot_sel[] = BIT_VALUES(
    "option", "BOOT0 comes from the nBOOT0 option bit: the BOOT0 pin is "
    "ignored",
    "pin", "BOOT0 comes from the BOOT0 pin");

static const struct ft_ob_field f0_fields[] = {
	{ .name = "RDP", .offset = 0, .shift = 0, .width = 8,
	  .kind = FT_OB_RDP, .factory = 0xAA,
	  .what = "readout protection level" },
	PAIR_RESET_BITS,
	{ .name = "nBOOT0", .offset = 0, .shift = 19, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_nboot0,
	  .parts = "F04x, F09x",
	  .what = "BOOT0 value when BOOT_SEL = 0" },
	{ .name = "nBOOT1", .offset = 0, .shift = 20, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_nboot1,
	  .what = "what BOOT0 = 1 boots" },
	{ .name = "VDDA_MONITOR", .offset = 0, .shift = 21, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_vdda,
	  .what = "VDDA power supply supervisor" },
	{ .name = "RAM_PARITY_CHECK", .offset = 0, .shift = 22, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_parity,
	  .what = "RAM parity check (0 enables it)" },
	{ .name = "BOOT_SEL", .offset = 0, .shift = 23, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_f0_boot_sel,
	  .parts = "F04x, F09x",
	  .what = "where BOOT0 comes from" },
	PAIR_DATA_WRP,
	{ .name = NULL },
};

static const struct ft_ob_word f0_factory[] = {
	{ 0, 0x00FF55AA }, { 4, 0x00FF00FF }, { 8, 0x00FF00FF },
	{ 12, 0x00FF00FF }, END_WORDS,
};

static const uint16_t f0_pids[] = { 0x440, 0x444, 0x442, 0x445, 0x448, 0 };

/* The BOOT0 pin decides (and BOOT0 = 1 runs the bootloader). */
static const struct ft_ob_setting f0_boot0_pin[] = {
	{ "BOOT_SEL", 1 }, { "nBOOT1", 1 }, { NULL, 0 },
};

/*
 * STM32F1 (PIDs 0x412, 0x410, 0x414, 0x430, 0x418, 0x420, 0x428).  The
 * option bytes are described in PM0075 (STM32F10xxx flash programming
 * manual), "Option byte description" (RM0008 refers to it; the section
 * was not re-read for this table): the F0 organization, but RDP 0xA5
 * is level 0 and there is no level 2; USER bits 0-2 (FLASH_OBR bits 2-4
 * in stm32f103xe.h).
 * XL density (0x430) adds BFB2 in USER bit 3 (stm32f103xg.h), not named
 * here: it is kept as read.  The factory image (RDP 0xA5, everything
 * else erased with its complement) is PM0075's "reset state"; ST gives
 * no separate production value for F1.
 */
static const struct ft_ob_field f1_fields[] = {
	{ .name = "RDP", .offset = 0, .shift = 0, .width = 8,
	  .kind = FT_OB_RDP, .factory = 0xA5,
	  .what = "readout protection (0xA5: off)" },
	PAIR_RESET_BITS,
	PAIR_DATA_WRP,
	{ .name = NULL },
};

static const struct ft_ob_word f1_factory[] = {
	{ 0, 0x00FF5AA5 }, { 4, 0x00FF00FF }, { 8, 0x00FF00FF },
	{ 12, 0x00FF00FF }, END_WORDS,
};

static const uint16_t f1_pids[] = { 0x412, 0x410, 0x414, 0x430, 0x418,
	0x420, 0x428, 0 };

/*
 * STM32F3 (PIDs 0x422, 0x432, 0x438, 0x439, 0x446).  "Option byte
 * description" of RM0313 (section 4), RM0364 (4), RM0365 (5), RM0366
 * (4) and RM0316: the F0 organization and RDP values;
 * USER has no nBOOT0 or BOOT_SEL (bit 3 reserved), bit 6 is SRAM_PE
 * (F303xB/C/D/E, F334, F37x), bit 7 SDADC12_VDD_MONITOR on F37x only
 * (not named here: kept as read).  Production values as F0.
 */
static const struct ft_ob_field f3_fields[] = {
	{ .name = "RDP", .offset = 0, .shift = 0, .width = 8,
	  .kind = FT_OB_RDP, .factory = 0xAA,
	  .what = "readout protection level" },
	PAIR_RESET_BITS,
	{ .name = "nBOOT1", .offset = 0, .shift = 20, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_nboot1,
	  .what = "what BOOT0 = 1 boots" },
	{ .name = "VDDA_MONITOR", .offset = 0, .shift = 21, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_vdda,
	  .what = "VDDA power supply supervisor" },
	{ .name = "SRAM_PE", .offset = 0, .shift = 22, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_parity,
	  .parts = "F303xB/C/D/E, F334, F37x",
	  .what = "SRAM parity check (0 enables it)" },
	PAIR_DATA_WRP,
	{ .name = NULL },
};

static const uint16_t f3_pids[] = { 0x422, 0x432, 0x438, 0x439, 0x446,
	0 };

/*
 * STM32F2/F4 (PIDs 0x411 F2 per RM0033, and the F4s 0x413, 0x419, 0x423,
 * 0x433, 0x431, 0x458, 0x441, 0x421, 0x434, 0x463).  RM0090 "Option
 * bytes" ("Option byte organization" table): the low half-word
 * of the double word at 0x1FFFC000 holds USER (bits 7:2) and RDP (15:8),
 * that at 0x1FFFC008 nWRP (bits 11:0, 1 = not protected), DB1M (bit 14,
 * F42x/F43x) and SPRMOD (bit 15); no complements, and the other bytes
 * are reserved: they are written back as read.  Bits as FLASH_OPTCR
 * ("Flash option control register", stm32f429xx.h), whose reset value
 * 0x0FFFAAED is the
 * factory setting (bits 1:0 are OPTLOCK/OPTSTRT there, not option bits).
 * RM0368 (F401) and RM0383 (F411) are the same without BFB2,
 * DB1M.  What the reserved bytes read is not documented; the factory
 * image gives them as 0xFF (an assumption, flagged in the test).
 */
static const struct ft_ob_value v_f4_bor[] = {
	{ 0, "3", "brown-out reset level 3 (about 2.7 V)" },
	{ 1, "2", "brown-out reset level 2 (about 2.4 V)" },
	{ 2, "1", "brown-out reset level 1 (about 2.1 V)" },
	{ 3, "off", "brown-out reset off (power-on reset at about 1.8 V)" },
	{ 0, NULL, NULL },
};
static const struct ft_ob_value v_f4_bfb2[] = BIT_VALUES(
    "bank1", "boot from bank 1",
    "bank2", "boot from bank 2 when it holds a valid vector table");
static const struct ft_ob_value v_f4_db1m[] = BIT_VALUES(
    "single", "1 MiB parts: one bank of 12 sectors",
    "dual", "1 MiB parts: two banks of 8 sectors (bank 2 from sector 12)");
static const struct ft_ob_value v_f4_sprmod[] = BIT_VALUES(
    "wrp", "nWRP bits are write protection",
    "pcrop", "nWRP bits are proprietary-code read protection (PCROP)");

static const struct ft_ob_field f4_fields[] = {
	{ .name = "BOR_LEV", .offset = 0, .shift = 2, .width = 2,
	  .kind = FT_OB_CHOICE, .factory = 3, .values = v_f4_bor,
	  .what = "brown-out reset threshold" },
	{ .name = "BFB2", .offset = 0, .shift = 4, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 0, .values = v_f4_bfb2,
	  .parts = "F42x, F43x, F469, F479",
	  .what = "dual-bank boot" },
	{ .name = "WDG_SW", .offset = 0, .shift = 5, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_wdg_sw,
	  .what = "independent watchdog started by hardware or software" },
	{ .name = "nRST_STOP", .offset = 0, .shift = 6, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_rst_stop,
	  .what = "reset on entering Stop mode" },
	{ .name = "nRST_STDBY", .offset = 0, .shift = 7, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_rst_stdby,
	  .what = "reset on entering Standby mode" },
	{ .name = "RDP", .offset = 0, .shift = 8, .width = 8,
	  .kind = FT_OB_RDP, .factory = 0xAA,
	  .what = "readout protection level" },
	{ .name = "nWRP", .offset = 8, .shift = 0, .width = 12,
	  .kind = FT_OB_WRP_BITS, .factory = 0xFFF,
	  .what = "write protection of sectors 0-11 (0 protects)" },
	{ .name = "DB1M", .offset = 8, .shift = 14, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 0, .values = v_f4_db1m,
	  .parts = "F42x, F43x, F469, F479 with 1 MiB",
	  .what = "bank layout of 1 MiB parts" },
	{ .name = "SPRMOD", .offset = 8, .shift = 15, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 0, .values = v_f4_sprmod,
	  .parts = "not F2, F40x, F41x",
	  .what = "what the nWRP bits protect" },
	{ .name = NULL },
};

static const struct ft_ob_word f4_factory[] = {
	{ 0, 0xFFFFAAEC }, { 4, 0xFFFFFFFF }, { 8, 0xFFFF0FFF },
	{ 12, 0xFFFFFFFF }, END_WORDS,
};

static const uint16_t f4_pids[] = { 0x411, 0x413, 0x419, 0x423, 0x433,
	0x431, 0x458, 0x441, 0x421, 0x434, 0x463, 0 };

/*
 * STM32G0 (PIDs 0x466, 0x456, 0x460, 0x467).  RM0444 rev 5 (G0x1;
 * RM0454 for G0x0), "Embedded flash memory", option bytes: each
 * option register is a 32-bit word at 0x1FFF7800 + 8n followed by its
 * complement (the flash computes the complement when it programs them:
 * "Modifying user options", RM0444 rev 5 page 90), OPTR first, then
 * PCROP1A start/end, WRP area A, WRP area B (the 40 bytes of the G0B1
 * ROM's DFU "Option Bytes" alt); SECR is the word at 0x1FFF7870
 * (inferred from the end of the 0x74 bytes the USART ROM reads, not from
 * the RM's table).  Bits of FLASH_OPTR as stm32g0b1xx.h defines them
 * (BORR_LEV at 9, BORF_LEV at 11).  nBOOT_SEL = 0 takes BOOT0 from the
 * PA14-BOOT0 pin
 * (stm32g0xx_hal_flash.h: OB_BOOT0_FROM_PIN is 0, OB_BOOT0_FROM_OB is
 * the nBOOT_SEL bit; RM0444 "Boot configuration"); the factory value
 * is 1, so once the flash is programmed the pin is ignored (the empty
 * check only helps a blank chip).  Factory OPTR: 0xFFFFFEAA on G0x1,
 * 0xDFFFE1AA on G0x0 (RM0444 and RM0454 FLASH_OPTR reset values, as
 * Black Magic Probe's stm32g0.c also transcribes them), whose BOR_EN,
 * BORR_LEV, BORF_LEV, nRST_SHDW, NRST_MODE and IRHEN bits are reserved;
 * the table gives the G0x1 value.  WRP areas: factory start 0x7F past
 * end 0 (no protection), WRP1AR reset value 0x000000FF; the start and
 * end are 5 bits (G03x/G04x), 6 (G05x-G08x) or 7 bits (G0B0-G0C1) wide:
 * the table reads 7.  BOOT_LOCK and SEC_SIZE (SECR) are shown, never
 * changed: BOOT_LOCK = 1 forces every boot into main flash.
 */
static const struct ft_ob_value v_g0_bor_en[] = BIT_VALUES(
    "off", "brown-out reset off",
    "on", "brown-out reset on, thresholds BORR_LEV and BORF_LEV");
static const struct ft_ob_value v_g0_borr[] = {
	{ 0, "1", "rising threshold level 1 (about 2.1 V)" },
	{ 1, "2", "rising threshold level 2 (about 2.3 V)" },
	{ 2, "3", "rising threshold level 3 (about 2.6 V)" },
	{ 3, "4", "rising threshold level 4 (about 2.9 V)" },
	{ 0, NULL, NULL },
};
static const struct ft_ob_value v_g0_borf[] = {
	{ 0, "1", "falling threshold level 1 (about 2.0 V)" },
	{ 1, "2", "falling threshold level 2 (about 2.2 V)" },
	{ 2, "3", "falling threshold level 3 (about 2.5 V)" },
	{ 3, "4", "falling threshold level 4 (about 2.8 V)" },
	{ 0, NULL, NULL },
};
static const struct ft_ob_value v_g0_swap[] = BIT_VALUES(
    "swapped", "bank 2 is mapped at 0x08000000",
    "normal", "bank 1 is mapped at 0x08000000");
static const struct ft_ob_value v_g0_dual[] = BIT_VALUES(
    "single", "one bank",
    "dual", "two banks");
static const struct ft_ob_value v_g0_boot_sel[] = BIT_VALUES(
    "pin", "BOOT0 comes from the PA14-BOOT0 pin",
    "option", "BOOT0 comes from the nBOOT0 option bit: the BOOT0 pin is "
    "ignored");
static const struct ft_ob_value v_boot_lock[] = BIT_VALUES(
    "off", "boot as the boot-source bits say",
    "on", "every boot goes to main flash: the bootloader is never "
    "reached");

static const struct ft_ob_field g0_fields[] = {
	{ .name = "RDP", .offset = 0, .shift = 0, .width = 8,
	  .kind = FT_OB_RDP, .factory = 0xAA,
	  .what = "readout protection level" },
	{ .name = "BOR_EN", .offset = 0, .shift = 8, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 0, .values = v_g0_bor_en,
	  .parts = "G0x1",
	  .what = "brown-out reset" },
	{ .name = "BORR_LEV", .offset = 0, .shift = 9, .width = 2,
	  .kind = FT_OB_CHOICE, .factory = 3, .values = v_g0_borr,
	  .parts = "G0x1",
	  .what = "brown-out reset rising threshold" },
	{ .name = "BORF_LEV", .offset = 0, .shift = 11, .width = 2,
	  .kind = FT_OB_CHOICE, .factory = 3, .values = v_g0_borf,
	  .parts = "G0x1",
	  .what = "brown-out reset falling threshold" },
	{ .name = "nRST_STOP", .offset = 0, .shift = 13, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_rst_stop,
	  .what = "reset on entering Stop mode" },
	{ .name = "nRST_STDBY", .offset = 0, .shift = 14, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_rst_stdby,
	  .what = "reset on entering Standby mode" },
	{ .name = "nRST_SHDW", .offset = 0, .shift = 15, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_rst_shdw,
	  .parts = "G0x1",
	  .what = "reset on entering Shutdown mode" },
	OPTR_WATCHDOG_BITS,
	{ .name = "nSWAP_BANK", .offset = 0, .shift = 20, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_g0_swap,
	  .parts = "G0B0, G0B1, G0C1",
	  .what = "which bank is mapped at 0x08000000" },
	{ .name = "DUAL_BANK", .offset = 0, .shift = 21, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_g0_dual,
	  .parts = "G0B0, G0B1, G0C1",
	  .what = "one or two flash banks" },
	{ .name = "RAM_PARITY_CHECK", .offset = 0, .shift = 22, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_parity,
	  .what = "SRAM parity check (0 enables it)" },
	{ .name = "nBOOT_SEL", .offset = 0, .shift = 24, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_g0_boot_sel,
	  .what = "where BOOT0 comes from" },
	{ .name = "nBOOT1", .offset = 0, .shift = 25, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_nboot1,
	  .what = "what BOOT0 = 1 boots" },
	{ .name = "nBOOT0", .offset = 0, .shift = 26, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_nboot0,
	  .what = "BOOT0 value when nBOOT_SEL = 1" },
	{ .name = "NRST_MODE", .offset = 0, .shift = 27, .width = 2,
	  .kind = FT_OB_CHOICE, .factory = 3, .values = v_nrst_mode,
	  .parts = "G0x1",
	  .what = "what the NRST pin is" },
	{ .name = "IRHEN", .offset = 0, .shift = 29, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_irhen,
	  .parts = "G0x1",
	  .what = "internal resets drive NRST" },
	OPTR_WRP_AREAS,
	{ .name = "SEC_SIZE", .offset = 0x70, .shift = 0, .width = 8,
	  .kind = FT_OB_NUMBER, .factory = 0, .flags = F_RO,
	  .what = "pages of securable memory from the start of flash" },
	{ .name = "BOOT_LOCK", .offset = 0x70, .shift = 16, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 0, .values = v_boot_lock,
	  .flags = F_RO,
	  .what = "force boot from main flash" },
	{ .name = NULL },
};

static const struct ft_ob_word g0_factory[] = {
	{ 0x00, 0xFFFFFEAA }, { 0x08, 0xFFFFFFFF }, { 0x10, 0x00000000 },
	{ 0x18, 0x000000FF }, { 0x20, 0x000000FF }, { 0x70, 0x00000000 },
	END_WORDS,
};

static const uint16_t g0_pids[] = { 0x466, 0x456, 0x460, 0x467, 0 };

static const struct ft_ob_setting g0_boot0_pin[] = {
	{ "nBOOT_SEL", 0 }, { "nBOOT1", 1 }, { NULL, 0 },
};

/*
 * STM32G4 (PIDs 0x468, 0x469, 0x479).  RM0440 "Embedded flash memory",
 * option bytes (the G0 scheme: word at 0x1FFF7800 + 8n,
 * its complement in the next word; OPTR, PCROP1 start/end, WRP area A,
 * WRP area B are the first 40 bytes, which the G431 ROM's DFU alt
 * uploads, per an ST community thread "Uploading option bytes over DFU",
 * 2023), bits of FLASH_OPTR as stm32g474xx.h defines them.
 * nSWBOOT0 = 1 takes BOOT0 from the PB8-BOOT0 pin and is the factory
 * value (stm32g4xx_hal_flash.h: OB_BOOT0_FROM_PIN is the nSWBOOT0 bit,
 * OB_BOOT0_FROM_OB is 0): the opposite polarity of G0's nBOOT_SEL.
 * Factory OPTR 0xFFEFF8AA (the FLASH_OPTR reset value); PCROP1 start
 * 0xFFFFFFFF past end, WRP area A and B start 0x7F past end 0 with the
 * reserved bits set (0xFF00FFFF), as Black Magic Probe's stm32l4.c
 * lists the G47x defaults; the other words are transcribed from that
 * list, not from RM0440 itself.  BFB2 and DBANK exist on G47x/G48x only.
 */
static const struct ft_ob_value v_g4_bor[] = {
	{ 0, "0", "brown-out reset level 0 (about 1.7 V)" },
	{ 1, "1", "brown-out reset level 1 (about 2.0 V)" },
	{ 2, "2", "brown-out reset level 2 (about 2.2 V)" },
	{ 3, "3", "brown-out reset level 3 (about 2.5 V)" },
	{ 4, "4", "brown-out reset level 4 (about 2.8 V)" },
	{ 0, NULL, NULL },
};
static const struct ft_ob_value v_g4_bfb2[] = BIT_VALUES(
    "bank1", "boot from bank 1",
    "bank2", "boot from bank 2");
static const struct ft_ob_value v_g4_dbank[] = BIT_VALUES(
    "single", "one bank of 4 KiB pages",
    "dual", "two banks of 2 KiB pages");
static const struct ft_ob_value v_g4_sram_pe[] = BIT_VALUES(
    "on", "SRAM1 and CCM SRAM parity check enabled",
    "off", "SRAM1 and CCM SRAM parity check disabled");
static const struct ft_ob_value v_g4_ccm_rst[] = BIT_VALUES(
    "erase", "CCM SRAM erased on system reset",
    "keep", "CCM SRAM kept on system reset");
static const struct ft_ob_value v_g4_swboot0[] = BIT_VALUES(
    "option", "BOOT0 comes from the nBOOT0 option bit: the BOOT0 pin is "
    "ignored",
    "pin", "BOOT0 comes from the PB8-BOOT0 pin");

static const struct ft_ob_field g4_fields[] = {
	{ .name = "RDP", .offset = 0, .shift = 0, .width = 8,
	  .kind = FT_OB_RDP, .factory = 0xAA,
	  .what = "readout protection level" },
	{ .name = "BOR_LEV", .offset = 0, .shift = 8, .width = 3,
	  .kind = FT_OB_CHOICE, .factory = 0, .values = v_g4_bor,
	  .what = "brown-out reset threshold" },
	{ .name = "nRST_STOP", .offset = 0, .shift = 12, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_rst_stop,
	  .what = "reset on entering Stop mode" },
	{ .name = "nRST_STDBY", .offset = 0, .shift = 13, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_rst_stdby,
	  .what = "reset on entering Standby mode" },
	{ .name = "nRST_SHDW", .offset = 0, .shift = 14, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_rst_shdw,
	  .what = "reset on entering Shutdown mode" },
	OPTR_WATCHDOG_BITS,
	{ .name = "BFB2", .offset = 0, .shift = 20, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 0, .values = v_g4_bfb2,
	  .parts = "G47x, G48x",
	  .what = "dual-bank boot" },
	{ .name = "DBANK", .offset = 0, .shift = 22, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_g4_dbank,
	  .parts = "G47x, G48x",
	  .what = "one or two flash banks" },
	{ .name = "nBOOT1", .offset = 0, .shift = 23, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_nboot1,
	  .what = "what BOOT0 = 1 boots" },
	{ .name = "SRAM_PE", .offset = 0, .shift = 24, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_g4_sram_pe,
	  .what = "SRAM parity check (0 enables it)" },
	{ .name = "CCMSRAM_RST", .offset = 0, .shift = 25, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_g4_ccm_rst,
	  .what = "CCM SRAM erased on system reset" },
	{ .name = "nSWBOOT0", .offset = 0, .shift = 26, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_g4_swboot0,
	  .what = "where BOOT0 comes from" },
	{ .name = "nBOOT0", .offset = 0, .shift = 27, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_nboot0,
	  .what = "BOOT0 value when nSWBOOT0 = 0" },
	{ .name = "NRST_MODE", .offset = 0, .shift = 28, .width = 2,
	  .kind = FT_OB_CHOICE, .factory = 3, .values = v_nrst_mode,
	  .what = "what the NRST pin is" },
	{ .name = "IRHEN", .offset = 0, .shift = 30, .width = 1,
	  .kind = FT_OB_CHOICE, .factory = 1, .values = v_irhen,
	  .what = "internal resets drive NRST" },
	OPTR_WRP_AREAS,
	{ .name = NULL },
};

static const struct ft_ob_word g4_factory[] = {
	{ 0x00, 0xFFEFF8AA }, { 0x08, 0xFFFFFFFF }, { 0x10, 0x00FF0000 },
	{ 0x18, 0xFF00FFFF }, { 0x20, 0xFF00FFFF }, END_WORDS,
};

static const uint16_t g4_pids[] = { 0x468, 0x469, 0x479, 0 };

static const struct ft_ob_setting g4_boot0_pin[] = {
	{ "nSWBOOT0", 1 }, { "nBOOT1", 1 }, { NULL, 0 },
};

static const struct ft_ob_family families[] = {
	{
		.name = "f0", .title = "STM32F0",
		.source = "RM0091 section 4",
		.pairs = FT_OB_BYTE_COMPLEMENT, .base = 0x1FFFF800,
		.size = 16, .rdp_level0 = 0xAA, .rdp_level1 = 0xBB,
		.rdp_level2 = 0xCC, .pids = f0_pids, .fields = f0_fields,
		.factory = f0_factory, .boot0_pin = f0_boot0_pin,
	},
	{
		.name = "f1", .title = "STM32F1",
		.source = "PM0075 option byte description (RM0008)",
		.pairs = FT_OB_BYTE_COMPLEMENT, .base = 0x1FFFF800,
		.size = 16, .rdp_level0 = 0xA5, .rdp_level1 = 0x00,
		.rdp_level2 = 0, .pids = f1_pids, .fields = f1_fields,
		.factory = f1_factory,
	},
	{
		.name = "f3", .title = "STM32F3",
		.source = "RM0316, RM0313, RM0364-RM0366: option bytes",
		.pairs = FT_OB_BYTE_COMPLEMENT, .base = 0x1FFFF800,
		.size = 16, .rdp_level0 = 0xAA, .rdp_level1 = 0xBB,
		.rdp_level2 = 0xCC, .pids = f3_pids, .fields = f3_fields,
		.factory = f0_factory,
	},
	{
		.name = "f4", .title = "STM32F2/F4",
		.source = "RM0090 option bytes and FLASH_OPTCR "
		    "(RM0033, RM0368, RM0383)",
		.pairs = FT_OB_NO_COMPLEMENT, .base = 0x1FFFC000,
		.size = 16, .rdp_level0 = 0xAA, .rdp_level1 = 0x55,
		.rdp_level2 = 0xCC, .pids = f4_pids, .fields = f4_fields,
		.factory = f4_factory,
	},
	{
		.name = "g0", .title = "STM32G0",
		.source = "RM0444 rev 5 (RM0454): option bytes, FLASH_OPTR, "
		    "boot configuration",
		.pairs = FT_OB_WORD_COMPLEMENT, .base = 0x1FFF7800,
		.size = 0x74, .rdp_level0 = 0xAA, .rdp_level1 = 0xBB,
		.rdp_level2 = 0xCC, .pids = g0_pids, .fields = g0_fields,
		.factory = g0_factory, .boot0_pin = g0_boot0_pin,
	},
	{
		.name = "g4", .title = "STM32G4",
		.source = "RM0440: option bytes, FLASH_OPTR, boot "
		    "configuration",
		.pairs = FT_OB_WORD_COMPLEMENT, .base = 0x1FFF7800,
		.size = 40, .rdp_level0 = 0xAA, .rdp_level1 = 0xBB,
		.rdp_level2 = 0xCC, .pids = g4_pids, .fields = g4_fields,
		.factory = g4_factory, .boot0_pin = g4_boot0_pin,
	},
};

#define NFAMILIES (sizeof(families) / sizeof(families[0]))

size_t
ft_ob_family_count(void)
{
	return NFAMILIES;
}

const struct ft_ob_family *
ft_ob_family_at(size_t index)
{
	return index < NFAMILIES ? &families[index] : NULL;
}

const struct ft_ob_family *
ft_ob_family_find(const char *name)
{
	size_t i;

	for (i = 0; i < NFAMILIES; i++)
		if (strcasecmp(families[i].name, name) == 0)
			return &families[i];
	return NULL;
}

const struct ft_ob_family *
ft_ob_family_by_pid(uint16_t pid)
{
	const uint16_t *p;
	size_t i;

	for (i = 0; i < NFAMILIES; i++)
		for (p = families[i].pids; *p != 0; p++)
			if (*p == pid)
				return &families[i];
	return NULL;
}

const struct ft_ob_field *
ft_ob_field_find(const struct ft_ob_family *fam, const char *name)
{
	const struct ft_ob_field *f;

	for (f = fam->fields; f->name != NULL; f++)
		if (strcasecmp(f->name, name) == 0)
			return f;
	return NULL;
}

int
ft_ob_field_known(const char *name)
{
	size_t i;

	for (i = 0; i < NFAMILIES; i++)
		if (ft_ob_field_find(&families[i], name) != NULL)
			return 1;
	return 0;
}

static uint32_t
field_mask(const struct ft_ob_field *f)
{
	return (f->width >= 32 ? 0xFFFFFFFFu : (1u << f->width) - 1u) <<
	    f->shift;
}

uint32_t
ft_ob_field_max(const struct ft_ob_field *f)
{
	return field_mask(f) >> f->shift;
}

int
ft_ob_field_in(const struct ft_ob_field *f, size_t len)
{
	return (size_t)f->offset + 4 <= len;
}

int
ft_ob_get(const struct ft_ob_field *f, const uint8_t *img, size_t len,
    uint32_t *value)
{
	if (!ft_ob_field_in(f, len))
		return FT_E_RANGE;
	*value = (ft_get_le32(img + f->offset) & field_mask(f)) >> f->shift;
	return 0;
}

/*
 * The complement of the byte or word at off, where the family keeps one
 * inside the image: its offset, or -1.
 */
static long
complement_of(const struct ft_ob_family *fam, size_t off, size_t len)
{
	switch (fam->pairs) {
	case FT_OB_BYTE_COMPLEMENT:
		return off % 2 == 0 && off + 1 < len ? (long)off + 1 : -1;
	case FT_OB_WORD_COMPLEMENT:
		return off % 8 == 0 && off + 8 <= len ? (long)off + 4 : -1;
	case FT_OB_NO_COMPLEMENT:
		break;
	}
	return -1;
}

/* Set the complement of every byte (or word) of the field's word. */
static void
put_complements(const struct ft_ob_family *fam, const struct ft_ob_field *f,
    uint8_t *img, size_t len)
{
	size_t off;
	long c;

	if (fam->pairs == FT_OB_WORD_COMPLEMENT) {
		c = complement_of(fam, f->offset, len);
		if (c >= 0)
			ft_put_le32(img + c, ~ft_get_le32(img + f->offset));
		return;
	}
	for (off = f->offset; off < (size_t)f->offset + 4; off++) {
		if (!((field_mask(f) >> (8 * (off - f->offset))) & 0xFFu))
			continue;
		c = complement_of(fam, off, len);
		if (c >= 0)
			img[c] = (uint8_t)~img[off];
	}
}

int
ft_ob_put(const struct ft_ob_family *fam, const struct ft_ob_field *f,
    uint8_t *img, size_t len, uint32_t value)
{
	uint32_t w, m = field_mask(f);

	if (!ft_ob_field_in(f, len))
		return FT_E_RANGE;
	if (value > ft_ob_field_max(f))
		return FT_E_INVALID;
	w = ft_get_le32(img + f->offset);
	w = (w & ~m) | ((value << f->shift) & m);
	ft_put_le32(img + f->offset, w);
	put_complements(fam, f, img, len);
	return 0;
}

void
ft_ob_factory_image(const struct ft_ob_family *fam, uint8_t *img,
    size_t len)
{
	const struct ft_ob_word *w;
	long c;

	memset(img, 0xFF, len);
	for (w = fam->factory; w->offset != 0xFFFF; w++) {
		size_t i;

		if ((size_t)w->offset + 4 > len)
			continue;
		ft_put_le32(img + w->offset, w->value);
		if (fam->pairs == FT_OB_WORD_COMPLEMENT) {
			c = complement_of(fam, w->offset, len);
			if (c >= 0)
				ft_put_le32(img + c, ~w->value);
			continue;
		}
		for (i = w->offset; i < (size_t)w->offset + 4; i++) {
			c = complement_of(fam, i, len);
			if (c >= 0 && (size_t)c < (size_t)w->offset + 4)
				img[c] = (uint8_t)~img[i];
		}
	}
}

int
ft_ob_check_complements(const struct ft_ob_family *fam, const uint8_t *img,
    size_t len, uint32_t *first_bad)
{
	size_t off;
	long c;
	int bad = 0;

	for (off = 0; off < len; off++) {
		c = complement_of(fam, off, len);
		if (c < 0)
			continue;
		if (fam->pairs == FT_OB_WORD_COMPLEMENT) {
			uint32_t v = ft_get_le32(img + off);
			uint32_t n = ft_get_le32(img + c);

			/* Both erased: a word never programmed (RM0091
			 * 4: no option error then). */
			if (v != ~n && !(v == 0xFFFFFFFFu && n == v))
				goto mismatch;
			continue;
		}
		if ((uint8_t)(img[off] ^ img[c]) != 0xFF &&
		    !(img[off] == 0xFF && img[c] == 0xFF))
			goto mismatch;
		continue;
mismatch:
		if (bad++ == 0 && first_bad != NULL)
			*first_bad = (uint32_t)off;
	}
	return bad;
}

int
ft_ob_rdp_level(const struct ft_ob_family *fam, uint32_t rdp)
{
	if (rdp == fam->rdp_level0)
		return 0;
	if (fam->rdp_level2 != 0 && rdp == fam->rdp_level2)
		return 2;
	return 1;
}

/* The value's entry of a choice field, or NULL. */
static const struct ft_ob_value *
choice_of(const struct ft_ob_field *f, uint32_t value)
{
	const struct ft_ob_value *v;

	if (f->values == NULL)
		return NULL;
	for (v = f->values; v->name != NULL; v++)
		if (v->value == value)
			return v;
	return NULL;
}

/* Protected groups of an active-low mask, "0-3,7" or "none". */
static void
wrp_groups(const struct ft_ob_field *f, uint32_t value, char *buf,
    size_t size)
{
	size_t used = 0;
	unsigned i, first, n = f->width;
	int any = 0;

	buf[0] = '\0';
	for (i = 0; i < n && used < size; i++) {
		if (value & (1u << i))
			continue;
		first = i;
		while (i + 1 < n && !(value & (1u << (i + 1))))
			i++;
		used += (size_t)snprintf(buf + used, size - used,
		    first == i ? "%s%u" : "%s%u-%u", any ? "," : "", first, i);
		any = 1;
	}
	if (!any)
		snprintf(buf, size, "none");
}

const char *
ft_ob_meaning(const struct ft_ob_family *fam, const struct ft_ob_field *f,
    uint32_t value, char *buf, size_t size)
{
	const struct ft_ob_value *v;
	char groups[96];

	switch (f->kind) {
	case FT_OB_RDP:
		switch (ft_ob_rdp_level(fam, value)) {
		case 0:
			snprintf(buf, size, "level 0: no readout protection");
			break;
		case 2:
			snprintf(buf, size, "level 2: chip protection, "
			    "permanent (no bootloader, no debug)");
			break;
		default:
			snprintf(buf, size, "level 1: the bootloader and a "
			    "debugger cannot read the flash");
			break;
		}
		return buf;
	case FT_OB_CHOICE:
		v = choice_of(f, value);
		snprintf(buf, size, "%s", v != NULL ? v->meaning :
		    "reserved value");
		return buf;
	case FT_OB_WRP_BITS:
		wrp_groups(f, value, groups, sizeof(groups));
		snprintf(buf, size, "protected: %s", groups);
		return buf;
	case FT_OB_PAGE:
		snprintf(buf, size, "page %u", (unsigned)value);
		return buf;
	case FT_OB_NUMBER:
		break;
	}
	snprintf(buf, size, "%u (0x%02x)", (unsigned)value, (unsigned)value);
	return buf;
}

/* A number, decimal or 0x hex, no suffix. */
static int
parse_number(const char *text, uint32_t *out)
{
	return ft_parse_u32(text, 0, out);
}

/* "0".."2", "level0".."level2": an RDP level; -1 if text is none. */
static int
rdp_level_word(const char *text)
{
	if (strncasecmp(text, "level", 5) == 0)
		text += 5;
	if (text[0] >= '0' && text[0] <= '2' && text[1] == '\0')
		return text[0] - '0';
	return -1;
}

/* The accepted values of f, "0 (pin), 1 (option)", into buf. */
static void
list_values(const struct ft_ob_family *fam, const struct ft_ob_field *f,
    char *buf, size_t size)
{
	const struct ft_ob_value *v;
	size_t used = 0;

	buf[0] = '\0';
	switch (f->kind) {
	case FT_OB_RDP:
		snprintf(buf, size, "0 (level 0), 1 (level 1)%s, or a byte "
		    "written 0xNN", fam->rdp_level2 ? ", 2 (level 2: "
		    "permanent)" : "");
		return;
	case FT_OB_CHOICE:
		for (v = f->values; v->name != NULL && used < size; v++)
			used += (size_t)snprintf(buf + used, size - used,
			    "%s%u (%s)", used ? ", " : "",
			    (unsigned)v->value, v->name);
		return;
	case FT_OB_WRP_BITS:
	case FT_OB_PAGE:
	case FT_OB_NUMBER:
		break;
	}
	snprintf(buf, size, "0 to %u (0x%x)", (unsigned)ft_ob_field_max(f),
	    (unsigned)ft_ob_field_max(f));
}

int
ft_ob_parse_value(struct ft_ctx *ctx, const struct ft_ob_family *fam,
    const struct ft_ob_field *f, const char *text, uint32_t *out)
{
	const struct ft_ob_value *v;
	char list[256];
	int level;

	if (f->kind == FT_OB_RDP) {
		level = rdp_level_word(text);
		if (level == 0 || level == 1 || (level == 2 &&
		    fam->rdp_level2 != 0)) {
			*out = level == 0 ? fam->rdp_level0 : level == 1 ?
			    fam->rdp_level1 : fam->rdp_level2;
			return 0;
		}
		if (strncasecmp(text, "0x", 2) == 0 &&
		    parse_number(text, out) == 0 && *out <= 0xFF)
			return 0;
	} else if (f->kind == FT_OB_CHOICE) {
		for (v = f->values; v->name != NULL; v++)
			if (strcasecmp(text, v->name) == 0) {
				*out = v->value;
				return 0;
			}
		if (parse_number(text, out) == 0 && choice_of(f, *out) != NULL)
			return 0;
	} else if (parse_number(text, out) == 0 &&
	    *out <= ft_ob_field_max(f)) {
		return 0;
	}
	list_values(fam, f, list, sizeof(list));
	return ft_fail(ctx, FT_E_INVALID, "%s=%s: %s %s takes %s", f->name,
	    text, fam->title, f->name, list);
}

int
ft_ob_parse_assignment(struct ft_ctx *ctx, const char *text, char *name,
    size_t name_size, const char **value)
{
	const char *eq = strchr(text, '=');
	size_t n;

	if (eq == NULL || eq == text || eq[1] == '\0')
		return ft_fail(ctx, FT_E_INVALID, "'%s' is not NAME=VALUE",
		    text);
	n = (size_t)(eq - text);
	if (n >= name_size)
		return ft_fail(ctx, FT_E_INVALID, "'%s': no option-byte field "
		    "has so long a name", text);
	memcpy(name, text, n);
	name[n] = '\0';
	*value = eq + 1;
	return 0;
}

/* Every field name of the family, for "unknown field" messages. */
static void
list_fields(const struct ft_ob_family *fam, char *buf, size_t size)
{
	const struct ft_ob_field *f;
	size_t used = 0;

	buf[0] = '\0';
	for (f = fam->fields; f->name != NULL && used < size; f++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
		    used ? " " : "", f->name);
}

/*
 * One change, checked: the field exists and may be changed, the value
 * parses, and the readout-protection rules hold.
 */
static int
plan_one(struct ft_ctx *ctx, const struct ft_ob_family *fam,
    const uint8_t *before, size_t len, const char *name, const char *text,
    unsigned flags, uint8_t *after)
{
	const struct ft_ob_field *f = ft_ob_field_find(fam, name);
	char list[512];
	uint32_t value, old;
	int rc;

	if (f == NULL) {
		list_fields(fam, list, sizeof(list));
		return ft_fail(ctx, FT_E_INVALID, "%s has no option-byte "
		    "field %s; its fields are: %s", fam->title, name, list);
	}
	if (f->flags & FT_OB_READONLY)
		return ft_fail(ctx, FT_E_INVALID, "%s is shown but never "
		    "changed by flashtool (%s)", f->name, f->what);
	if (!ft_ob_field_in(f, len))
		return ft_fail(ctx, FT_E_INVALID, "%s lies outside the %zu "
		    "option bytes this interface reaches", f->name, len);
	if ((rc = ft_ob_parse_value(ctx, fam, f, text, &value)) != 0)
		return rc;
	if (f->kind != FT_OB_RDP)
		return ft_ob_put(fam, f, after, len, value);
	(void)ft_ob_get(f, before, len, &old);
	if (ft_ob_rdp_level(fam, value) == 2 && !(flags & FT_OB_ALLOW_RDP2))
		return ft_fail(ctx, FT_E_INVALID, "RDP level 2 is permanent: "
		    "it disables the bootloader and debug for good and can "
		    "never be undone; give --allow-rdp2 as well to set it");
	if (ft_ob_rdp_level(fam, old) != 0 &&
	    ft_ob_rdp_level(fam, value) == 0)
		return ft_fail(ctx, FT_E_INVALID, "RDP level %d to 0 goes "
		    "only through readout unprotect (-k), which mass-erases "
		    "the flash", ft_ob_rdp_level(fam, old));
	return ft_ob_put(fam, f, after, len, value);
}

int
ft_ob_plan(struct ft_ctx *ctx, const struct ft_ob_family *fam,
    const uint8_t *before, size_t len, const struct ft_ob_change *changes,
    size_t n, unsigned flags, uint8_t *after)
{
	size_t i;
	int rc;

	memcpy(after, before, len);
	for (i = 0; i < n; i++) {
		rc = plan_one(ctx, fam, before, len, changes[i].name,
		    changes[i].value, flags, after);
		if (rc != 0) {
			/* Nothing of a plan that fails is kept. */
			memcpy(after, before, len);
			return rc;
		}
	}
	return 0;
}
