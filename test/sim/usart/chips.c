/*
 * chips.c - chip models: the chip's facts (facts.c) plus what the
 * simulator adds: the Get command list and, for the named models, the
 * write-protect granularity and datasheet flash program/erase times.
 *
 * Invariant: a model's command list is what the real ROM's Get answers
 * (AN3155 3.1: v2.x lists 0x43, v3.x lists 0x44, v3.3 adds 0xA1).
 */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "sim.h"

/* Get lists (AN3155 3.1, "Bootloader protocol versions"). */
static const uint8_t cmds_v2[] = {
	CMD_GET, CMD_GET_VERSION, CMD_GET_ID, CMD_READ, CMD_GO, CMD_WRITE,
	CMD_ERASE, CMD_WRITE_PROTECT, CMD_WRITE_UNPROTECT,
	CMD_READOUT_PROTECT, CMD_READOUT_UNPROTECT,
};

static const uint8_t cmds_v3[] = {
	CMD_GET, CMD_GET_VERSION, CMD_GET_ID, CMD_READ, CMD_GO, CMD_WRITE,
	CMD_EXT_ERASE, CMD_WRITE_PROTECT, CMD_WRITE_UNPROTECT,
	CMD_READOUT_PROTECT, CMD_READOUT_UNPROTECT,
};

#define BL_V30 0x30		/* first version with Extended Erase */
#define BL_V33 0x33		/* first version with Get Checksum */

/*
 * Named models.  Timings are the datasheets' typical values:
 *  - STM32F103x8/B (DS5319): 16-bit program 52.5 us; 1 KiB page erase and
 *    mass erase 20 ms (min; max 40 ms).
 *  - STM32F401xB/C (DS9716), x32 parallelism: 32-bit program 16 us;
 *    sector erase 16 KiB 250 ms, 64 KiB 550 ms, 128 KiB 1 s; mass erase
 *    of 256 KiB taken as 2 s (scaled from the 1 MiB parts' 8 s; recalled,
 *    not re-read).
 *  - STM32G071 (DS12232): 64-bit program 85 us; 2 KiB page erase and mass
 *    erase 22 ms.
 *  - STM32F042 (DS10152): 16-bit program 53.5 us; 1 KiB page and mass
 *    erase 20 ms (min; max 40 ms).
 * The real STM32G0 ROM reports protocol v3.1 without Get Checksum as far
 * as we could find (AN3155 adds 0xA1 only with v3.3, a 2020 revision that
 * post-dates the G0 ROM); --checksum models a v3.3 ROM.
 */
struct named {
	const char *key;	/* an alias in facts.c */
	int has_checksum;
	uint32_t wrp_unit;
	uint32_t prog_unit;
	uint64_t prog_ns;
	struct erase_time erase[4];
	uint64_t mass_erase_ns;
};

static const struct named named_models[] = {
	{
		.key = "f103", .has_checksum = 0,
		.wrp_unit = 4096,	/* 4 pages per WRP bit (RM0008) */
		.prog_unit = 2, .prog_ns = 52500,
		.erase = { { 1024, 20 * NS_PER_MS } },
		.mass_erase_ns = 20 * NS_PER_MS,
	},
	{
		.key = "f401", .has_checksum = 0,
		.wrp_unit = 0,		/* nWRP bit per sector (RM0368) */
		.prog_unit = 4, .prog_ns = 16 * NS_PER_US,
		.erase = {
			{ 16 * 1024, 250 * NS_PER_MS },
			{ 64 * 1024, 550 * NS_PER_MS },
			{ 128 * 1024, 1000 * NS_PER_MS },
		},
		.mass_erase_ns = 2 * NS_PER_S,
	},
	{
		.key = "g0", .has_checksum = 0,
		.wrp_unit = 2048,	/* WRP areas: page ranges (RM0444) */
		.prog_unit = 8, .prog_ns = 85 * NS_PER_US,
		.erase = { { 2048, 22 * NS_PER_MS } },
		.mass_erase_ns = 22 * NS_PER_MS,
	},
	{
		.key = "f042", .has_checksum = 0,
		.wrp_unit = 4096,	/* 4 pages per WRP bit (RM0091) */
		.prog_unit = 2, .prog_ns = 53500,
		.erase = { { 1024, 20 * NS_PER_MS } },
		.mass_erase_ns = 20 * NS_PER_MS,
	},
};

static void
set_cmds(struct sim_model *m)
{
	const uint8_t *src = m->ext_erase ? cmds_v3 : cmds_v2;
	size_t n = m->ext_erase ? sizeof(cmds_v3) : sizeof(cmds_v2);

	memcpy(m->cmds, src, n);
	m->ncmds = (uint8_t)n;
	if (m->has_checksum)
		m->cmds[m->ncmds++] = CMD_GET_CHECKSUM;
}

/*
 * A chip without datasheet timings here: rough ones, 16 us per word, and
 * model_erase_ns's 22 ms per small page or 250 ms per 16 KiB of sector.
 */
static void
generic_model(struct sim_model *m)
{
	m->wrp_unit = 0;
	m->prog_unit = 4;
	m->prog_ns = 16 * NS_PER_US;
	m->erase[0].unit_size = 0;
	m->mass_erase_ns = 22 * NS_PER_MS;
}

int
model_init(struct sim_model *m, const char *key, int checksum, char *err,
    size_t errlen)
{
	const struct named *nm = NULL;
	size_t i;

	memset(m, 0, sizeof(*m));
	m->key = key;
	m->fact = fact_find(key);
	if (m->fact == NULL) {
		snprintf(err, errlen, "unknown chip '%s': an alias such as "
		    "f103, f401, g0, f042 or l476-512k, or a product ID such "
		    "as 0x468 (--list-chips shows them all)", key);
		return -1;
	}
	for (i = 0; i < sizeof(named_models) / sizeof(named_models[0]); i++)
		if (strcmp(named_models[i].key, key) == 0)
			nm = &named_models[i];
	m->bl_version = m->fact->usart_version;
	m->ext_erase = m->bl_version >= BL_V30;
	if (nm != NULL) {
		m->has_checksum = nm->has_checksum;
		m->wrp_unit = nm->wrp_unit;
		m->prog_unit = nm->prog_unit;
		m->prog_ns = nm->prog_ns;
		memcpy(m->erase, nm->erase, sizeof(m->erase));
		m->mass_erase_ns = nm->mass_erase_ns;
	} else {
		generic_model(m);
	}
	if (checksum >= 0)
		m->has_checksum = checksum;
	/* AN3155 ties Get Checksum to protocol v3.3. */
	if (m->has_checksum && m->bl_version >= BL_V30 &&
	    m->bl_version < BL_V33)
		m->bl_version = BL_V33;
	set_cmds(m);
	return 0;
}

int
model_has_cmd(const struct sim_model *m, uint8_t cmd)
{
	unsigned i;

	for (i = 0; i < m->ncmds; i++)
		if (m->cmds[i] == cmd)
			return 1;
	return 0;
}

uint64_t
model_erase_ns(const struct sim_model *m, uint32_t unit_size)
{
	unsigned i;

	for (i = 0; i < 4 && m->erase[i].unit_size != 0; i++)
		if (m->erase[i].unit_size == unit_size)
			return m->erase[i].ns;
	/* Not in the table: small pages 22 ms, sectors 250 ms per 16 KiB. */
	if (unit_size <= 4096)
		return 22 * NS_PER_MS;
	return (uint64_t)unit_size / 16384 * 250 * NS_PER_MS;
}

uint64_t
model_prog_ns(const struct sim_model *m, uint32_t len)
{
	return (uint64_t)((len + m->prog_unit - 1) / m->prog_unit) *
	    m->prog_ns;
}
