/*
 * facts.h - what the simulator knows about each STM32 with a USART ROM
 * bootloader, in its own words and tables (facts.c).
 *
 * Nothing here comes from lib/: a wrong row in the library's device table
 * must show up as a disagreement with these facts (test/unit/
 * test_sim_facts.c), not be reproduced by the simulator.  The sources are
 * ST's documents: AN2606 (bootloader parameters, per-product tables),
 * the reference manuals, STM32CubeProgrammer's device database (ST's own
 * per-interface memory maps) and, for the ROM quirks, AN2606's known
 * limitations tables.  facts.c cites them row by row.
 *
 * This header and facts.c depend on nothing but the C library, so the
 * unit test can link facts.o next to libflashtool.a.
 */
#ifndef SIM_FACTS_H
#define SIM_FACTS_H

#include <stddef.h>
#include <stdint.h>

#define FACT_MAX_RUNS 4
#define FACT_MAX_BANKS 2
#define FACT_FLASH_BASE 0x08000000u

/* Erase units of one size, laid end to end. */
struct fact_run {
	uint32_t size;		/* bytes; 0 ends the list */
	uint32_t count;
};

/*
 * One flash bank as the ROM numbers it: the unit at base is Extended
 * Erase page first_page, the next one first_page + 1, and so on.  A bank
 * with no runs does not exist.
 */
struct fact_bank {
	uint32_t base;
	uint32_t first_page;
	struct fact_run runs[FACT_MAX_RUNS];
};

/* [start, end); start == end means there is none. */
struct fact_area {
	uint32_t start;
	uint32_t end;
};

/* What a ROM does beyond plain AN3155. */
enum fact_rom {
	/* Mass and bank erase are refused (L0/L1: the ROM's mass erase
	 * does not work there, see facts.c). */
	ROM_NO_MASS_ERASE = 1u << 0,
	/* An Extended Erase listing more than one bank-2 page erases the
	 * first bank-2 page and fails (AN2606 G0B0/G0B1/G0C1 limitations:
	 * "erase only by one sector when targeting Bank2"). */
	ROM_BANK2_ONE_PAGE = 1u << 1,
	/* A page erase is acknowledged at once and goes on after the ACK
	 * (AN2606 G07x V11.3 limitations). */
	ROM_ERASE_EARLY_ACK = 1u << 2,
	/* The connect byte 0x7F is answered with two ACKs (AN2606 L412/
	 * L422 V13.1 limitations). */
	ROM_DOUBLE_ACK = 1u << 3,
	/* A Write Memory to flash whose address is not a multiple of the
	 * alignment fails, and so does every later program operation until
	 * the chip resets (AN2606 Table 7 note on STM32F7). */
	ROM_ALIGN_STICKY = 1u << 4,
};

/*
 * An option that changes what the ROM does with the flash, stored in a
 * 32-bit little-endian word the ROM lets Read Memory reach.  The field is
 * (word & mask) >> (lowest set bit of mask).
 */
enum fact_opt_kind {
	/* field == alt_value: the banks become alt[]. */
	OPT_LAYOUT,
	/* flash from base + field * unit up is secure: the ROM cannot
	 * read, write or erase it (STM32WB wireless stack and FUS). */
	OPT_SECURE_START,
};

struct fact_option {
	const char *name;	/* as the reference manual spells it */
	enum fact_opt_kind kind;
	uint32_t addr;
	uint32_t mask;
	uint32_t factory;	/* the field as shipped (or as the model
				 * stands: see the row) */
	uint32_t alt_value;	/* OPT_LAYOUT */
	struct fact_bank alt[FACT_MAX_BANKS];	/* OPT_LAYOUT */
	uint32_t unit;		/* OPT_SECURE_START: bytes per step */
};

struct chip_fact {
	/*
	 * --chip name besides "0xPID".  A variant (a smaller part, or
	 * another ROM version, of the same product ID) has only this name;
	 * the PID model is the largest part with the factory options.
	 */
	const char *alias;
	int variant;
	uint16_t pid;
	const char *name;
	uint32_t flash_size;	/* bytes of flash on this part */
	struct fact_bank bank[FACT_MAX_BANKS];
	struct fact_area ram;	/* RAM the ROM leaves to the host */
	struct fact_area sysmem;
	struct fact_area sysmem2;	/* a second system-memory area */
	struct fact_area opt;	/* option bytes Read/Write Memory reach */
	uint32_t size_reg;	/* 16-bit flash size in KiB; 0: none known */
	uint32_t blid_addr;	/* AN2606 bootloader ID byte; 0: unknown */
	uint8_t bl_id;		/* its value: 0x92 is bootloader V9.2 */
	uint16_t align;		/* Write Memory address and length, bytes */
	uint8_t erased;		/* what erased flash reads: 0xFF or 0x00 */
	uint8_t usart_version;	/* AN3155 protocol version in Get: 0x31 */
	uint32_t rom;		/* enum fact_rom bits */
	const struct fact_option *option;	/* NULL: none */
};

size_t fact_count(void);
const struct chip_fact *fact_at(size_t index);
/* By alias, or "0xPID" for the PID model; NULL when unknown. */
const struct chip_fact *fact_find(const char *key);

/* Units in bank b; the bank's bytes. */
uint32_t fact_bank_units(const struct fact_bank *b);
uint64_t fact_bank_bytes(const struct fact_bank *b);
/* Banks in use: 1 or 2. */
unsigned fact_nbanks(const struct fact_bank *banks);
/*
 * The unit holding addr under the given banks: its start, size and the
 * ROM's page index.  -1 when no bank holds addr.
 */
int fact_unit_at(const struct fact_bank *banks, uint32_t addr,
    uint32_t *start, uint32_t *size, uint32_t *page);
/* The unit the ROM calls page; -1 when there is none. */
int fact_page_unit(const struct fact_bank *banks, uint32_t page,
    uint32_t *start, uint32_t *size);
/* The option's field in word. */
uint32_t fact_opt_field(const struct fact_option *o, uint32_t word);

/*
 * ST's CRC-32 as the CRC unit and Get Checksum compute it: polynomial
 * 0x04C11DB7, no reflection, no final XOR, fed 32-bit little-endian
 * words most significant bit first.  len is a multiple of 4.
 */
#define SIM_CRC_POLY 0x04C11DB7u
#define SIM_CRC_INIT 0xFFFFFFFFu
uint32_t sim_crc32_stm(uint32_t crc, const uint8_t *buf, size_t len);
/* The same register fed bytes, most significant bit first: the CRC-32/
 * MPEG-2 of the CRC catalogues. */
uint32_t sim_crc32_msb_bytes(uint32_t crc, const uint8_t *buf, size_t len);

#endif /* SIM_FACTS_H */
