/*
 * obfacts.h - the simulators' own option-byte facts: for each family the
 * block as the ROM lets a host read it, where its complements are, its
 * factory contents, the named bits the chip acts on (boot source,
 * readout protection) and the rest of its named bits, transcribed from
 * ST's reference manuals (obfacts.c cites them) without looking at the
 * project's lib/.
 *
 * Both simulators use it: the USART simulator (test/sim/usart) fills a
 * chip's option area from it and decides from it where a reset boots;
 * the USB simulator (test/sim/usb) fills its option-byte alt settings.
 * test/unit/test_sim_obfacts.c compares it, bit by bit, with the
 * library's tables (lib/optbytes.c): a difference fails the build.
 *
 * Depends on nothing but the C library.
 */
#ifndef SIM_OBFACTS_H
#define SIM_OBFACTS_H

#include <stddef.h>
#include <stdint.h>

enum ob_pairing {
	OB_PAIR_NONE,		/* F2/F4: no complements */
	OB_PAIR_BYTES,		/* F0/F1/F3: value byte, complement byte */
	OB_PAIR_WORDS,		/* G0/G4: value word, complement word */
};

/* A named bit field: (word at byte offset `at`, little endian) & mask. */
struct ob_bits {
	const char *name;
	uint16_t at;
	uint32_t mask;
	uint32_t factory;	/* the field, shifted down */
};

/* Where BOOT0 comes from and what it boots (see ob_boot()). */
struct ob_boot {
	const char *src_bit;	/* NULL: the BOOT0 pin, always */
	int src_pin_when;	/* src_bit == this: the pin; else nBOOT0 */
	const char *nboot0;	/* the option BOOT0 (inverted) */
	const char *nboot1;	/* 0: BOOT0 = 1 boots SRAM */
	/* A chip whose main flash is empty boots the ROM (empty check). */
	int empty_check;
};

/* A programmed word of the factory contents; at 0xFFFF ends a list. */
struct ob_word {
	uint16_t at;
	uint32_t v;
};

struct ob_model {
	const char *family;	/* "f0", "g0": lib/optbytes.c's names */
	uint32_t base;
	enum ob_pairing pairing;
	uint16_t described;	/* bytes the bits below are read from */
	/* Factory words, values only: their complements follow from
	 * pairing, and what is not listed is erased (0xFF). */
	const struct ob_word *factory;
	/* RDP: the byte's offset, level 0 and level 2 values (no level 2:
	 * rdp_l2 == rdp_l0), what Readout Protect (0x82) writes. */
	uint16_t rdp_at;
	uint8_t rdp_l0, rdp_l2, rdp_l1;
	/* Write Unprotect (0x73) sets these bits' words to no protection:
	 * a list of (offset, mask, value-when-unprotected). */
	const struct ob_bits *wrp;
	struct ob_boot boot;
	const struct ob_bits *bits;	/* every named field; NULL ends */
	const uint16_t *pids;		/* 0 ends */
};

size_t ob_model_count(void);
const struct ob_model *ob_model_at(size_t i);
/* The model of a product ID, or NULL. */
const struct ob_model *ob_model_for_pid(uint16_t pid);
const struct ob_model *ob_model_named(const char *family);
/* The bits of that name, or NULL. */
const struct ob_bits *ob_bits_named(const struct ob_model *m,
    const char *name);

/* Fill len bytes of area (from base) with the factory contents. */
void ob_factory(const struct ob_model *m, uint8_t *area, size_t len);
/* A field's value in area, or -1 when the area is too short. */
long ob_read(const struct ob_model *m, const struct ob_bits *b,
    const uint8_t *area, size_t len);
/* Set a field and its complement (where the area holds one). */
void ob_write(const struct ob_model *m, const struct ob_bits *b,
    uint8_t *area, size_t len, uint32_t v);
/* Recompute the complements of the value word at byte offset off. */
void ob_fix_pairs(const struct ob_model *m, uint8_t *area, size_t len,
    size_t off);
/* 0, 1 or 2: the readout protection level area holds. */
int ob_rdp_level(const struct ob_model *m, const uint8_t *area, size_t len);
/* Do the complements hold (erased pairs count as holding)? */
int ob_pairs_ok(const struct ob_model *m, const uint8_t *area, size_t len);

enum ob_boot_to {
	OB_BOOT_FLASH,
	OB_BOOT_ROM,		/* system memory: the bootloader */
	OB_BOOT_SRAM,
};

/*
 * Where a reset boots: the BOOT0 pin's level, the option bytes and
 * whether the main flash's first word is erased.
 */
enum ob_boot_to ob_boot(const struct ob_model *m, const uint8_t *area,
    size_t len, int boot0_pin, int flash_empty);
const char *ob_boot_name(enum ob_boot_to to);

#endif /* SIM_OBFACTS_H */
