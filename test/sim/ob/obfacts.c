/*
 * obfacts.c - the simulators' option-byte facts (obfacts.h), transcribed
 * from ST's reference manuals for this table, in its own form (masks,
 * not positions), apart from the library's.
 *
 * Sources:
 *  [RM0091] STM32F0x1/x2/x8, section 4 (Table 11, 4.1.1: each byte
 *           followed by its complement; production value of the first
 *           word 0x00FF55AA, of the others 0x00FF00FF); "Boot
 *           configuration" (BOOT_SEL, nBOOT0, nBOOT1; the empty check of
 *           the F04x/F09x).
 *  [PM0075] STM32F10xxx flash programming manual: RDP 0xA5 is "no
 *           protection", anything else protects; USER bits 0-2.
 *  [RM0316] STM32F303 and its siblings (RM0313, RM0364-RM0366 section
 *           4 or 5), option byte description: the F0 organization
 *           without nBOOT0/BOOT_SEL.
 *  [RM0090] STM32F4, option bytes: USER and RDP in the low half-word
 *           at 0x1FFFC000, nWRP at 0x1FFFC008; FLASH_OPTCR reset value
 *           0x0FFFAAED.  The reserved bytes' contents are not given;
 *           the model fills them with 0xFF.
 *  [RM0444] STM32G0x1 rev 5, option bytes (option word, then its
 *           complement, at 0x1FFF7800 + 8n: OPTR, PCROP1A start, end,
 *           WRP1A, WRP1B; SECR at 0x1FFF7870, where the ROM's 0x74-byte
 *           block ends), FLASH_OPTR (reset 0xFFFFFEAA), "Boot modes"
 *           (nBOOT_SEL = 0: the PA14-BOOT0 pin; 1: nBOOT0; an empty
 *           main flash boots the ROM).
 *  [RM0440] STM32G4, option bytes (as G0) and FLASH_OPTR (reset
 *           0xFFEFF8AA), boot configuration (nSWBOOT0 = 1: the PB8-BOOT0
 *           pin; 0:
 *           nBOOT0).  Area words after OPTR (PCROP, WRP) as the G47x
 *           defaults Black Magic Probe lists (no RM text found for them).
 */
#include <string.h>
#include <strings.h>

#include "obfacts.h"

#define END_BITS { NULL, 0, 0, 0 }

/* USER byte of F0/F1/F3: the word at 0 holds it in bits 23:16. */
#define USER(bit) (1u << (16 + (bit)))
#define RESET_BITS \
	{ "WDG_SW", 0, USER(0), 1 }, \
	{ "nRST_STOP", 0, USER(1), 1 }, \
	{ "nRST_STDBY", 0, USER(2), 1 }
/* The data bytes and WRP0-3, each in the low byte of a half-word. */
#define WRP_BYTES \
	{ "WRP0", 8, 0x000000FFu, 0xFF }, \
	{ "WRP1", 8, 0x00FF0000u, 0xFF }, \
	{ "WRP2", 12, 0x000000FFu, 0xFF }, \
	{ "WRP3", 12, 0x00FF0000u, 0xFF }
#define DATA_AND_WRP \
	{ "DATA0", 4, 0x000000FFu, 0xFF }, \
	{ "DATA1", 4, 0x00FF0000u, 0xFF }, \
	WRP_BYTES

static const struct ob_bits f0_bits[] = {
	{ "RDP", 0, 0x000000FFu, 0xAA },
	RESET_BITS,
	{ "nBOOT0", 0, USER(3), 1 },		/* F04x, F09x */
	{ "nBOOT1", 0, USER(4), 1 },
	{ "VDDA_MONITOR", 0, USER(5), 1 },
	{ "RAM_PARITY_CHECK", 0, USER(6), 1 },
	{ "BOOT_SEL", 0, USER(7), 1 },		/* F04x, F09x */
	DATA_AND_WRP,
	END_BITS,
};

static const struct ob_bits f1_bits[] = {
	{ "RDP", 0, 0x000000FFu, 0xA5 },
	RESET_BITS,
	DATA_AND_WRP,
	END_BITS,
};

static const struct ob_bits f3_bits[] = {
	{ "RDP", 0, 0x000000FFu, 0xAA },
	RESET_BITS,
	{ "nBOOT1", 0, USER(4), 1 },
	{ "VDDA_MONITOR", 0, USER(5), 1 },
	{ "SRAM_PE", 0, USER(6), 1 },
	DATA_AND_WRP,
	END_BITS,
};

/* Write Unprotect: every WRP byte back to 0xFF (no protection). */
static const struct ob_bits pair_wrp[] = {
	WRP_BYTES,
	END_BITS,
};

static const struct ob_word f0_factory[] = {
	{ 0, 0x00FF55AAu }, { 4, 0x00FF00FFu }, { 8, 0x00FF00FFu },
	{ 12, 0x00FF00FFu }, { 0xFFFF, 0 },
};
static const struct ob_word f1_factory[] = {
	{ 0, 0x00FF5AA5u }, { 4, 0x00FF00FFu }, { 8, 0x00FF00FFu },
	{ 12, 0x00FF00FFu }, { 0xFFFF, 0 },
};

/* F2/F4: FLASH_OPTCR bits 15:0 and 31:16 as two half-words. */
static const struct ob_bits f4_bits[] = {
	{ "BOR_LEV", 0, 0x0000000Cu, 3 },
	{ "BFB2", 0, 0x00000010u, 0 },
	{ "WDG_SW", 0, 0x00000020u, 1 },
	{ "nRST_STOP", 0, 0x00000040u, 1 },
	{ "nRST_STDBY", 0, 0x00000080u, 1 },
	{ "RDP", 0, 0x0000FF00u, 0xAA },
	{ "nWRP", 8, 0x00000FFFu, 0xFFF },
	{ "DB1M", 8, 0x00004000u, 0 },
	{ "SPRMOD", 8, 0x00008000u, 0 },
	END_BITS,
};

static const struct ob_bits f4_wrp[] = {
	{ "nWRP", 8, 0x00000FFFu, 0xFFF },
	END_BITS,
};

static const struct ob_word f4_factory[] = {
	{ 0, 0xFFFFAAECu }, { 4, 0xFFFFFFFFu }, { 8, 0xFFFF0FFFu },
	{ 12, 0xFFFFFFFFu }, { 0xFFFF, 0 },
};

/* G0: FLASH_OPTR at 0, WRP1AR at 0x18, WRP1BR at 0x20, SECR at 0x70. */
static const struct ob_bits g0_bits[] = {
	{ "RDP", 0, 0x000000FFu, 0xAA },
	{ "BOR_EN", 0, 0x00000100u, 0 },
	{ "BORR_LEV", 0, 0x00000600u, 3 },
	{ "BORF_LEV", 0, 0x00001800u, 3 },
	{ "nRST_STOP", 0, 0x00002000u, 1 },
	{ "nRST_STDBY", 0, 0x00004000u, 1 },
	{ "nRST_SHDW", 0, 0x00008000u, 1 },
	{ "IWDG_SW", 0, 0x00010000u, 1 },
	{ "IWDG_STOP", 0, 0x00020000u, 1 },
	{ "IWDG_STDBY", 0, 0x00040000u, 1 },
	{ "WWDG_SW", 0, 0x00080000u, 1 },
	{ "nSWAP_BANK", 0, 0x00100000u, 1 },
	{ "DUAL_BANK", 0, 0x00200000u, 1 },
	{ "RAM_PARITY_CHECK", 0, 0x00400000u, 1 },
	{ "nBOOT_SEL", 0, 0x01000000u, 1 },
	{ "nBOOT1", 0, 0x02000000u, 1 },
	{ "nBOOT0", 0, 0x04000000u, 1 },
	{ "NRST_MODE", 0, 0x18000000u, 3 },
	{ "IRHEN", 0, 0x20000000u, 1 },
	{ "WRP1A_STRT", 0x18, 0x0000007Fu, 0x7F },
	{ "WRP1A_END", 0x18, 0x007F0000u, 0 },
	{ "WRP1B_STRT", 0x20, 0x0000007Fu, 0x7F },
	{ "WRP1B_END", 0x20, 0x007F0000u, 0 },
	{ "SEC_SIZE", 0x70, 0x000000FFu, 0 },
	{ "BOOT_LOCK", 0x70, 0x00010000u, 0 },
	END_BITS,
};

/* Write Unprotect on G0/G4: both areas start past their end. */
static const struct ob_bits optr_wrp[] = {
	{ "WRP1A_STRT", 0x18, 0x0000007Fu, 0x7F },
	{ "WRP1A_END", 0x18, 0x007F0000u, 0 },
	{ "WRP1B_STRT", 0x20, 0x0000007Fu, 0x7F },
	{ "WRP1B_END", 0x20, 0x007F0000u, 0 },
	END_BITS,
};

/* The programmed words (complements follow); the rest is erased. */
static const struct ob_word g0_factory[] = {
	{ 0x00, 0xFFFFFEAAu }, { 0x08, 0xFFFFFFFFu }, { 0x10, 0x00000000u },
	{ 0x18, 0x000000FFu }, { 0x20, 0x000000FFu }, { 0x70, 0x00000000u },
	{ 0xFFFF, 0 },
};

static const struct ob_bits g4_bits[] = {
	{ "RDP", 0, 0x000000FFu, 0xAA },
	{ "BOR_LEV", 0, 0x00000700u, 0 },
	{ "nRST_STOP", 0, 0x00001000u, 1 },
	{ "nRST_STDBY", 0, 0x00002000u, 1 },
	{ "nRST_SHDW", 0, 0x00004000u, 1 },
	{ "IWDG_SW", 0, 0x00010000u, 1 },
	{ "IWDG_STOP", 0, 0x00020000u, 1 },
	{ "IWDG_STDBY", 0, 0x00040000u, 1 },
	{ "WWDG_SW", 0, 0x00080000u, 1 },
	{ "BFB2", 0, 0x00100000u, 0 },
	{ "DBANK", 0, 0x00400000u, 1 },
	{ "nBOOT1", 0, 0x00800000u, 1 },
	{ "SRAM_PE", 0, 0x01000000u, 1 },
	{ "CCMSRAM_RST", 0, 0x02000000u, 1 },
	{ "nSWBOOT0", 0, 0x04000000u, 1 },
	{ "nBOOT0", 0, 0x08000000u, 1 },
	{ "NRST_MODE", 0, 0x30000000u, 3 },
	{ "IRHEN", 0, 0x40000000u, 1 },
	{ "WRP1A_STRT", 0x18, 0x0000007Fu, 0x7F },
	{ "WRP1A_END", 0x18, 0x007F0000u, 0 },
	{ "WRP1B_STRT", 0x20, 0x0000007Fu, 0x7F },
	{ "WRP1B_END", 0x20, 0x007F0000u, 0 },
	END_BITS,
};

static const struct ob_word g4_factory[] = {
	{ 0x00, 0xFFEFF8AAu }, { 0x08, 0xFFFFFFFFu }, { 0x10, 0x00FF0000u },
	{ 0x18, 0xFF00FFFFu }, { 0x20, 0xFF00FFFFu }, { 0xFFFF, 0 },
};

static const uint16_t f0_pids[] = { 0x440, 0x444, 0x442, 0x445, 0x448, 0 };
static const uint16_t f1_pids[] = { 0x410, 0x412, 0x414, 0x418, 0x420,
	0x428, 0x430, 0 };
static const uint16_t f3_pids[] = { 0x422, 0x432, 0x438, 0x439, 0x446,
	0 };
static const uint16_t f4_pids[] = { 0x411, 0x413, 0x419, 0x421, 0x423,
	0x431, 0x433, 0x434, 0x441, 0x458, 0x463, 0 };
static const uint16_t g0_pids[] = { 0x456, 0x460, 0x466, 0x467, 0 };
static const uint16_t g4_pids[] = { 0x468, 0x469, 0x479, 0 };

static const struct ob_model models[] = {
	{
		.family = "f0", .base = 0x1FFFF800, .pairing = OB_PAIR_BYTES,
		.described = 16, .factory = f0_factory,
		.rdp_at = 0, .rdp_l0 = 0xAA, .rdp_l2 = 0xCC, .rdp_l1 = 0xBB,
		.wrp = pair_wrp,
		/* [RM0091]: BOOT_SEL = 1 is the pin; the F04x/F09x
		 * empty check. */
		.boot = { "BOOT_SEL", 1, "nBOOT0", "nBOOT1", 1 },
		.bits = f0_bits, .pids = f0_pids,
	},
	{
		.family = "f1", .base = 0x1FFFF800, .pairing = OB_PAIR_BYTES,
		.described = 16, .factory = f1_factory,
		.rdp_at = 0, .rdp_l0 = 0xA5, .rdp_l2 = 0xA5, .rdp_l1 = 0x00,
		.wrp = pair_wrp,
		/* F1: BOOT0 and BOOT1 are both pins; BOOT1 is taken high. */
		.boot = { NULL, 0, NULL, NULL, 0 },
		.bits = f1_bits, .pids = f1_pids,
	},
	{
		.family = "f3", .base = 0x1FFFF800, .pairing = OB_PAIR_BYTES,
		.described = 16, .factory = f0_factory,
		.rdp_at = 0, .rdp_l0 = 0xAA, .rdp_l2 = 0xCC, .rdp_l1 = 0xBB,
		.wrp = pair_wrp,
		.boot = { NULL, 0, NULL, "nBOOT1", 0 },
		.bits = f3_bits, .pids = f3_pids,
	},
	{
		.family = "f4", .base = 0x1FFFC000, .pairing = OB_PAIR_NONE,
		.described = 16, .factory = f4_factory,
		.rdp_at = 1, .rdp_l0 = 0xAA, .rdp_l2 = 0xCC, .rdp_l1 = 0x55,
		.wrp = f4_wrp,
		.boot = { NULL, 0, NULL, NULL, 0 },
		.bits = f4_bits, .pids = f4_pids,
	},
	{
		.family = "g0", .base = 0x1FFF7800, .pairing = OB_PAIR_WORDS,
		.described = 0x74, .factory = g0_factory,
		.rdp_at = 0, .rdp_l0 = 0xAA, .rdp_l2 = 0xCC, .rdp_l1 = 0xBB,
		.wrp = optr_wrp,
		/* [RM0444] "Boot modes": nBOOT_SEL = 0 is the pin. */
		.boot = { "nBOOT_SEL", 0, "nBOOT0", "nBOOT1", 1 },
		.bits = g0_bits, .pids = g0_pids,
	},
	{
		.family = "g4", .base = 0x1FFF7800, .pairing = OB_PAIR_WORDS,
		.described = 40, .factory = g4_factory,
		.rdp_at = 0, .rdp_l0 = 0xAA, .rdp_l2 = 0xCC, .rdp_l1 = 0xBB,
		.wrp = optr_wrp,
		/* [RM0440]: nSWBOOT0 = 1 is the pin. */
		.boot = { "nSWBOOT0", 1, "nBOOT0", "nBOOT1", 1 },
		.bits = g4_bits, .pids = g4_pids,
	},
};

#define NMODELS (sizeof(models) / sizeof(models[0]))

size_t
ob_model_count(void)
{
	return NMODELS;
}

const struct ob_model *
ob_model_at(size_t i)
{
	return i < NMODELS ? &models[i] : NULL;
}

const struct ob_model *
ob_model_for_pid(uint16_t pid)
{
	const uint16_t *p;
	size_t i;

	for (i = 0; i < NMODELS; i++)
		for (p = models[i].pids; *p != 0; p++)
			if (*p == pid)
				return &models[i];
	return NULL;
}

const struct ob_model *
ob_model_named(const char *family)
{
	size_t i;

	for (i = 0; i < NMODELS; i++)
		if (strcmp(models[i].family, family) == 0)
			return &models[i];
	return NULL;
}

const struct ob_bits *
ob_bits_named(const struct ob_model *m, const char *name)
{
	const struct ob_bits *b;

	for (b = m->bits; b->name != NULL; b++)
		if (strcasecmp(b->name, name) == 0)
			return b;
	return NULL;
}

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static unsigned
low_bit(uint32_t mask)
{
	unsigned s = 0;

	while (s < 31 && !(mask & (1u << s)))
		s++;
	return s;
}

void
ob_fix_pairs(const struct ob_model *m, uint8_t *area, size_t len, size_t off)
{
	size_t i;

	if (m->pairing == OB_PAIR_WORDS) {
		if (off % 8 == 0 && off + 8 <= len)
			put32(area + off + 4, ~get32(area + off));
		return;
	}
	if (m->pairing == OB_PAIR_BYTES)
		for (i = off; i + 1 < off + 4 && i + 1 < len; i += 2)
			area[i + 1] = (uint8_t)~area[i];
}

void
ob_factory(const struct ob_model *m, uint8_t *area, size_t len)
{
	const struct ob_word *w;

	memset(area, 0xFF, len);
	for (w = m->factory; w->at != 0xFFFF; w++) {
		if ((size_t)w->at + 4 > len)
			continue;
		put32(area + w->at, w->v);
		ob_fix_pairs(m, area, len, w->at);
	}
}

long
ob_read(const struct ob_model *m, const struct ob_bits *b,
    const uint8_t *area, size_t len)
{
	(void)m;
	if ((size_t)b->at + 4 > len)
		return -1;
	return (long)((get32(area + b->at) & b->mask) >> low_bit(b->mask));
}

void
ob_write(const struct ob_model *m, const struct ob_bits *b, uint8_t *area,
    size_t len, uint32_t v)
{
	uint32_t w;

	if ((size_t)b->at + 4 > len)
		return;
	w = get32(area + b->at) & ~b->mask;
	put32(area + b->at, w | ((v << low_bit(b->mask)) & b->mask));
	ob_fix_pairs(m, area, len, b->at);
}

int
ob_rdp_level(const struct ob_model *m, const uint8_t *area, size_t len)
{
	uint8_t rdp;

	if (m->rdp_at >= len)
		return 0;
	rdp = area[m->rdp_at];
	if (rdp == m->rdp_l0)
		return 0;
	return m->rdp_l2 != m->rdp_l0 && rdp == m->rdp_l2 ? 2 : 1;
}

int
ob_pairs_ok(const struct ob_model *m, const uint8_t *area, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (m->pairing == OB_PAIR_BYTES && i % 2 == 0 && i + 1 < len &&
		    (uint8_t)(area[i] ^ area[i + 1]) != 0xFF &&
		    !(area[i] == 0xFF && area[i + 1] == 0xFF))
			return 0;
		if (m->pairing == OB_PAIR_WORDS && i % 8 == 0 && i + 8 <= len &&
		    get32(area + i) != ~get32(area + i + 4) &&
		    !(get32(area + i) == 0xFFFFFFFFu &&
		    get32(area + i + 4) == 0xFFFFFFFFu))
			return 0;
	}
	return 1;
}

static long
bit_value(const struct ob_model *m, const char *name, const uint8_t *area,
    size_t len, long dflt)
{
	const struct ob_bits *b;
	long v;

	if (name == NULL || (b = ob_bits_named(m, name)) == NULL)
		return dflt;
	v = ob_read(m, b, area, len);
	return v < 0 ? dflt : v;
}

enum ob_boot_to
ob_boot(const struct ob_model *m, const uint8_t *area, size_t len,
    int boot0_pin, int flash_empty)
{
	const struct ob_boot *b = &m->boot;
	int boot0 = boot0_pin;

	if (b->src_bit != NULL &&
	    bit_value(m, b->src_bit, area, len, b->src_pin_when) !=
	    b->src_pin_when)
		boot0 = !bit_value(m, b->nboot0, area, len, 1);
	/* G0's BOOT_LOCK forces main flash whatever the rest says. */
	if (bit_value(m, "BOOT_LOCK", area, len, 0) == 1)
		return OB_BOOT_FLASH;
	if (boot0)
		return bit_value(m, b->nboot1, area, len, 1) ? OB_BOOT_ROM :
		    OB_BOOT_SRAM;
	return b->empty_check && flash_empty ? OB_BOOT_ROM : OB_BOOT_FLASH;
}

const char *
ob_boot_name(enum ob_boot_to to)
{
	switch (to) {
	case OB_BOOT_ROM:
		return "bootloader";
	case OB_BOOT_SRAM:
		return "sram";
	case OB_BOOT_FLASH:
		break;
	}
	return "application";
}
