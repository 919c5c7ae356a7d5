/*
 * model.c - the chip models, one row each, and the chip identities
 * (UID, CAN UUID, USB serial string) derived from them.
 *
 * Sources of each value (README has the same table):
 *  - mcu, flash size, app start, RAM size: Katapult src/stm32/Kconfig and
 *    src/rp2040/Kconfig (CONFIG_MCU, FLASH_SIZE, LAUNCH_APP_ADDRESS,
 *    RAM_SIZE), the same MCU strings in Klipper's Kconfig; the G0B1 row
 *    models the 512 KiB G0B1xE (DS13560) of the boards that carry it,
 *    Katapult's Kconfig only assumes 128 KiB.
 *  - layout: RM0091 3.2.1 (F042: 1 KiB pages), RM0444 (G0B1: 2 KiB
 *    pages), RM0390 (F446: 4x16, 64, 3x128 KiB sectors), Katapult
 *    src/rp2040/flash.c (4 KiB sectors, 256-byte pages); Katapult's own
 *    flash_get_page_size() agrees for the three STM32 rows.
 *  - program unit: Katapult src/stm32/flash.c write_block() (halfwords on
 *    F0, words with PSIZE x32 on F4, doublewords on G0); rp2040 programs
 *    a 256-byte page per flash_range_program().
 *  - times, datasheet typical values [recall: from the "Flash memory
 *    characteristics" tables; not re-read for this file]: DS10152 F042
 *    16-bit program 53.5 us, 1 KiB page erase 20 ms (min; 40 max);
 *    DS13560 G0B1 64-bit program 85 us, 2 KiB page 22 ms; DS10693 F446
 *    x32 word 16 us, sectors 250 ms / 550 ms / 1 s; Winbond W25Q16JV
 *    (Raspberry Pi Pico) page program 0.4 ms, 4 KiB sector erase 45 ms.
 *  - program rules: RM0091 3.2.2 (F0: a halfword that is not erased is
 *    not programmed, PGERR, unless 0x0000 is written), RM0444 (G0:
 *    PROGERR), RM0390 (F4 programs over old data: bits only clear), and
 *    NOR page program on the RP2040's flash [recall].  G0 (ecc_once):
 *    "the flash memory is programmed 72 bits at a time (64 bits + 8
 *    bits ECC).  Programming in a previously programmed address is not
 *    allowed except if the data to write are all 0" and sets PROGERR;
 *    "in case of error, the flash operation is aborted"; "PGSERR is set
 *    also if PROGERR ... is set due to a previous programming error",
 *    and program and erase both start by clearing those flags "If not,
 *    PGSERR is set" (RM0440 3.3.7, the G4's; RM0444 3.3.8 has the same
 *    rule for G0 [as quoted by others; not re-read]).  Katapult's
 *    src/stm32/flash.c never writes FLASH_SR (wait_flash() polls BSY),
 *    so one PROGERR stops its flash writes until a reset.  The all-0
 *    exception is not modelled (prog_zero_ok 0): ES0548 2.2.3 says it
 *    fails on some G0B1 silicon [as quoted by others].
 *  - usbfs: Katapult src/stm32/Kconfig HAVE_STM32_USBFS (F0x2, G0Bx);
 *    F4 has USB OTG.  The hold is src/stm32/usbfs.c usb_send_bulk_in().
 *  - FIFOs: STM32 USARTs hold one received byte (RDR, no FIFO enabled);
 *    bxCAN/FDCAN RX FIFO 0 has 3 elements (RM0091, RM0390, RM0444);
 *    RP2040 PL011 UART 32 bytes (RP2040 datasheet 4.2); can2040 [?] 8.
 *  - UIDs are made up (12 bytes STM32 UID_BASE, 8 bytes RP2040 flash
 *    unique id, as chipid.c reads them).
 */
#include <stdio.h>
#include <string.h>

#include "ksim.h"

#define KIB 1024u
#define STM32_FLASH_BASE 0x08000000u
#define STM32_RAM_BASE 0x20000000u
#define RP2040_FLASH_BASE 0x10000000u
#define ROM_DFU_STM32 0x0483df11u	/* ST ROM DFU */
#define ROM_BOOTSEL_RP2040 0x2e8a0003u	/* RP2040 USB boot ROM */
#define STM32_UART_RDR_BYTES 1u
#define BXCAN_FIFO_FRAMES 3u
#define PL011_FIFO_BYTES 32u
#define CAN2040_FIFO_FRAMES 8u		/* [?] */

static const struct ks_model models[] = {
	{
		.key = "f042", .mcu = "stm32f042x6", .family = KS_STM32,
		.flash_base = STM32_FLASH_BASE, .flash_size = 32 * KIB,
		.boot_addr = STM32_FLASH_BASE, .app_start = 0x08002000u,
		.ram_top = STM32_RAM_BASE + 0x1800u,
		.layout = { { 1 * KIB, 32 } },
		.prog_unit = 2, .prog_ns = 53500, .prog_zero_ok = 1,
		.erase_ns = { 20 * NS_PER_MS },
		.usbfs = 1, .uart_rx_fifo = STM32_UART_RDR_BYTES,
		.can_rx_fifo = BXCAN_FIFO_FRAMES,
		.uid_len = 12,
		.uid = { 0x42, 0x00, 0x3d, 0x00, 0x0d, 0x51, 0x4b, 0x4e,
		    0x31, 0x37, 0x35, 0x20 },
		.dfu_vidpid = ROM_DFU_STM32,
	},
	{
		.key = "g0b1", .mcu = "stm32g0b1xx", .family = KS_STM32,
		.flash_base = STM32_FLASH_BASE, .flash_size = 512 * KIB,
		.boot_addr = STM32_FLASH_BASE, .app_start = 0x08002000u,
		.ram_top = STM32_RAM_BASE + 0x24000u,
		.layout = { { 2 * KIB, 256 } },
		.prog_unit = 8, .prog_ns = 85 * NS_PER_US, .ecc_once = 1,
		.erase_ns = { 22 * NS_PER_MS },
		.usbfs = 1, .uart_rx_fifo = STM32_UART_RDR_BYTES,
		.can_rx_fifo = BXCAN_FIFO_FRAMES,
		.uid_len = 12,
		.uid = { 0x2c, 0x00, 0x21, 0x00, 0x12, 0x50, 0x4e, 0x36,
		    0x38, 0x32, 0x36, 0x20 },
		.dfu_vidpid = ROM_DFU_STM32,
	},
	{
		.key = "f446", .mcu = "stm32f446xx", .family = KS_STM32,
		.flash_base = STM32_FLASH_BASE, .flash_size = 512 * KIB,
		.boot_addr = STM32_FLASH_BASE, .app_start = 0x08008000u,
		.ram_top = STM32_RAM_BASE + 0x20000u,
		.layout = { { 16 * KIB, 4 }, { 64 * KIB, 1 },
		    { 128 * KIB, 3 } },
		.prog_unit = 4, .prog_ns = 16 * NS_PER_US, .prog_and = 1,
		.erase_ns = { 250 * NS_PER_MS, 550 * NS_PER_MS,
		    1000 * NS_PER_MS },
		.usbfs = 0, .uart_rx_fifo = STM32_UART_RDR_BYTES,
		.can_rx_fifo = BXCAN_FIFO_FRAMES,
		.uid_len = 12,
		.uid = { 0x3e, 0x00, 0x2f, 0x00, 0x09, 0x51, 0x33, 0x30,
		    0x33, 0x33, 0x38, 0x38 },
		.dfu_vidpid = ROM_DFU_STM32,
	},
	{
		.key = "rp2040", .mcu = "rp2040", .family = KS_RP2040,
		.flash_base = RP2040_FLASH_BASE, .flash_size = 2048 * KIB,
		.boot_addr = 0x10000100u, .app_start = 0x10004000u,
		.ram_top = STM32_RAM_BASE + 0x42000u,
		.layout = { { 4 * KIB, 512 } },
		.prog_unit = 256, .prog_ns = 400 * NS_PER_US, .prog_and = 1,
		.erase_ns = { 45 * NS_PER_MS },
		.usbfs = 0, .uart_rx_fifo = PL011_FIFO_BYTES,
		.can_rx_fifo = CAN2040_FIFO_FRAMES,
		.uid_len = 8,
		.uid = { 0xe6, 0x61, 0x38, 0x52, 0x83, 0x2a, 0x7e, 0x28 },
		.dfu_vidpid = ROM_BOOTSEL_RP2040,
	},
};

const struct ks_model *
ks_model_at(size_t i)
{
	return i < sizeof(models) / sizeof(models[0]) ? &models[i] : NULL;
}

const struct ks_model *
ks_model_find(const char *key)
{
	const struct ks_model *m;
	size_t i;

	for (i = 0; (m = ks_model_at(i)) != NULL; i++)
		if (strcmp(m->key, key) == 0 || strcmp(m->mcu, key) == 0)
			return m;
	return NULL;
}

int
ks_model_unit(const struct ks_model *m, uint32_t addr, uint32_t *start,
    uint32_t *size, uint64_t *erase_ns)
{
	uint32_t base = m->flash_base;
	size_t r;

	if (addr < m->flash_base)
		return -1;
	for (r = 0; r < 4 && m->layout[r].size != 0; r++) {
		uint64_t span = (uint64_t)m->layout[r].size *
		    m->layout[r].count;

		if ((uint64_t)addr < (uint64_t)base + span) {
			uint32_t idx = (addr - base) / m->layout[r].size;

			*start = base + idx * m->layout[r].size;
			*size = m->layout[r].size;
			*erase_ns = m->erase_ns[r];
			return 0;
		}
		base += (uint32_t)span;
	}
	return -1;
}

/*
 * Katapult src/stm32/flash.c flash_get_page_size(): F4 by address
 * (16 KiB below 0x08010000, 64 KiB below 0x08020000, else 128 KiB),
 * F042 1 KiB, G0 2 KiB.  Outside the flash the firmware still answers,
 * so this does too.
 */
uint32_t
ks_model_page_size(const struct ks_model *m, uint32_t addr)
{
	uint32_t start, size;
	uint64_t ns;

	if (strcmp(m->key, "f446") == 0) {
		if (addr < 0x08010000u)
			return 16 * KIB;
		if (addr < 0x08020000u)
			return 64 * KIB;
		return 128 * KIB;
	}
	if (ks_model_unit(m, addr, &start, &size, &ns) == 0)
		return size;
	return m->layout[0].size;
}

/*
 * fasthash64: a Merkle-Damgard hash over 64-bit little-endian words with
 * one mixing step per word; the tail of 1-7 bytes forms one last word.
 * Constants from fast-hash (Zilong Tan, MIT), as Katapult and Klipper
 * vendor it in lib/fast-hash.
 */
#define FH_M 0x880355f21e6d1965ull
#define FH_MIX_MUL 0x2127599bf4325c37ull

static uint64_t
fh_mix(uint64_t h)
{
	h ^= h >> 23;
	h *= FH_MIX_MUL;
	h ^= h >> 47;
	return h;
}

uint64_t
ks_fasthash64(const uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t h = seed ^ ((uint64_t)n * FH_M), v;
	size_t i, k, words = n / 8;

	for (i = 0; i < words; i++) {
		v = 0;
		for (k = 0; k < 8; k++)
			v |= (uint64_t)p[i * 8 + k] << (8 * k);
		h ^= fh_mix(v);
		h *= FH_M;
	}
	if (n % 8 != 0) {
		v = 0;
		for (k = 0; k < n % 8; k++)
			v |= (uint64_t)p[words * 8 + k] << (8 * k);
		h ^= fh_mix(v);
		h *= FH_M;
	}
	return fh_mix(h);
}

void
ks_uuid(const uint8_t *uid, size_t n, uint8_t uuid[6])
{
	uint64_t h = ks_fasthash64(uid, n, KS_UUID_SEED);
	int i;

	/* memcpy of the first 6 bytes on a little-endian MCU. */
	for (i = 0; i < 6; i++)
		uuid[i] = (uint8_t)(h >> (8 * i));
}

void
ks_usb_serial(const uint8_t *uid, size_t n, char *out, size_t outlen)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, o = 0;

	for (i = 0; i < n && o + 2 < outlen; i++) {
		out[o++] = hex[uid[i] >> 4];
		out[o++] = hex[uid[i] & 0x0F];
	}
	if (outlen > 0)
		out[o] = '\0';
}
