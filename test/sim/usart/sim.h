/*
 * sim.h - the STM32 USART ROM bootloader simulator (ST AN3155).
 *
 * The simulator plays the device end of a pseudo-terminal.  It is split
 * into a link layer (link.c: pty, wire-time model, fault injection), chip
 * models (chips.c, built from the fact table in facts.c), a memory map
 * (mem.c) and the protocol state machine (proto.c); main.c parses options
 * and wires them together.  Nothing here includes the project's lib/: the
 * simulator is a program of its own with its own facts, so that a mistake
 * in the library is never reproduced by the device it is tested against.
 */
#ifndef SIM_H
#define SIM_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "board.h"
#include "facts.h"
#include "obfacts.h"

/* AN3155 framing bytes. */
#define BL_ACK 0x79
#define BL_NACK 0x1F
#define BL_SYNC 0x7F

/* AN3155 command codes. */
#define CMD_GET 0x00
#define CMD_GET_VERSION 0x01
#define CMD_GET_ID 0x02
#define CMD_READ 0x11
#define CMD_GO 0x21
#define CMD_WRITE 0x31
#define CMD_ERASE 0x43
#define CMD_EXT_ERASE 0x44
#define CMD_WRITE_PROTECT 0x63
#define CMD_WRITE_UNPROTECT 0x73
#define CMD_READOUT_PROTECT 0x82
#define CMD_READOUT_UNPROTECT 0x92
#define CMD_GET_CHECKSUM 0xA1

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

/* Deterministic pseudo-random numbers for fault injection (splitmix64). */
struct sim_rng {
	uint64_t state;
};

static inline uint64_t
rng_next(struct sim_rng *r)
{
	uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* True with probability p (0..1). */
static inline int
rng_chance(struct sim_rng *r, double p)
{
	if (p <= 0.0)
		return 0;
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0) < p;
}

/*
 * Chip model: the chip's facts (facts.c) plus what the simulator adds:
 * the Get command list and datasheet flash timings.
 */
struct erase_time {
	uint32_t unit_size;	/* bytes; 0 ends the table */
	uint64_t ns;
};

struct sim_model {
	const char *key;	/* "f103", "l476-512k" or "0x468" */
	const struct chip_fact *fact;
	uint8_t bl_version;	/* AN3155 protocol version, 0x22 = v2.2 */
	int ext_erase;		/* 0x44 instead of 0x43 */
	int has_checksum;	/* Get lists 0xA1 */
	/*
	 * 0xA1 as stm32flash 0.7 sends it (size in bytes, no polynomial or
	 * initial value, an ACK before the CRC) instead of as AN3155 rev 20
	 * describes it: which one real v3.3 ROMs speak is not settled.
	 */
	int checksum_bytes;
	uint8_t ncmds;
	uint8_t cmds[16];
	uint32_t wrp_unit;	/* WRP unit bytes; 0: the erase unit */
	uint32_t prog_unit;	/* bytes programmed in one step */
	uint64_t prog_ns;	/* time per step */
	struct erase_time erase[4];
	uint64_t mass_erase_ns;
};

/*
 * Build the model named by key (an alias such as "f103" or "l476-512k",
 * or a product ID such as "0x468": see facts.c).  checksum: -1 keep the
 * ROM default, 0 hide 0xA1, 1 list 0xA1.  Returns -1 with a message in
 * err when unknown.
 */
int model_init(struct sim_model *m, const char *key, int checksum,
    char *err, size_t errlen);
int model_has_cmd(const struct sim_model *m, uint8_t cmd);
uint64_t model_erase_ns(const struct sim_model *m, uint32_t unit_size);
uint64_t model_prog_ns(const struct sim_model *m, uint32_t len);

/* Memory map. */
enum region {
	REG_NONE,
	REG_FLASH,
	REG_RAM,
	REG_SYSMEM,
	REG_OPT,
	REG_WORD,		/* a register or the flash-size word */
};

#define RAM_BASE 0x20000000u
#define SIM_MAX_WORDS 4

/* A flash erase unit: where it is and what the ROM calls it. */
struct sim_unit {
	uint32_t start;
	uint32_t size;
	uint32_t page;		/* Extended Erase page index */
};

/* A word readable on its own: a register, the flash-size word. */
struct sim_word {
	uint32_t addr;		/* 4-aligned */
	uint8_t bytes[4];
};

/* An erase the ROM acknowledged before it ended (ROM_ERASE_EARLY_ACK). */
struct sim_pending {
	uint32_t page;
	uint64_t done_ns;	/* CLOCK_MONOTONIC */
};

struct sim_mem {
	const struct sim_model *model;
	const struct chip_fact *fact;
	/* The option-byte model of the chip (obfacts.h); NULL: none. */
	const struct ob_model *ob;
	/* The banks in force: the fact's, or its option's alternative. */
	struct fact_bank banks[FACT_MAX_BANKS];
	struct sim_unit *units;	/* by address */
	uint32_t nunits;
	uint32_t npages;	/* highest page index + 1 */
	uint32_t flash_base;
	uint32_t flash_size;
	uint32_t secure_start;	/* flash from here is secure; or its end */
	uint8_t erased;		/* 0xFF or 0x00 */
	uint8_t *flash;		/* mmap of the flash file, MAP_SHARED */
	int flash_fd;
	uint8_t *ram;		/* from RAM_BASE; the ROM owns the start */
	uint32_t ram_start;
	uint32_t ram_end;
	uint8_t *sysmem;
	uint8_t *sysmem2;
	uint8_t *opt;
	struct sim_word words[SIM_MAX_WORDS];
	unsigned nwords;
	uint32_t nwrp;		/* write-protect units */
	uint8_t *wrp;		/* one flag per write-protect unit */
	struct sim_pending *pending;
	size_t npending;
};

/*
 * Open the memory of model.  opt_value >= 0 sets the model's option field
 * (facts.h struct fact_option) to that value instead of the factory one.
 */
int mem_open(struct sim_mem *mem, const struct sim_model *model,
    const char *flash_path, long opt_value, char *err, size_t errlen);
void mem_close(struct sim_mem *mem);
/* Re-read the option word after the option bytes changed: the banks and
 * the secure area follow it. */
void mem_apply_option(struct sim_mem *mem);
/* The region holding all of [addr, addr+len) that the ROM lets a host
 * read, or REG_NONE. */
enum region mem_readable(const struct sim_mem *mem, uint32_t addr,
    uint32_t len);
/* Same for Write Memory; option bytes only from their first byte. */
enum region mem_writable(const struct sim_mem *mem, uint32_t addr,
    uint32_t len);
void mem_read(const struct sim_mem *mem, uint32_t addr, uint8_t *buf,
    uint32_t len);
/* Flash: program NOR cells (only away from the erased value), skipping
 * write-protected units. */
void mem_write(struct sim_mem *mem, uint32_t addr, const uint8_t *buf,
    uint32_t len);
/* Start and size of the unit the ROM calls page; -1 when there is none
 * or it lies in the secure area. */
int mem_unit(const struct sim_mem *mem, uint32_t page, uint32_t *start,
    uint32_t *size);
/* Bank (1 or 2) of a page; 0 when there is no such page. */
int mem_page_bank(const struct sim_mem *mem, uint32_t page);
/* Erase one unit (by page) unless it is write protected; returns its
 * size in bytes. */
uint32_t mem_erase_unit(struct sim_mem *mem, uint32_t page);
/* Erase every unit outside the secure area; force also erases
 * write-protected ones. */
void mem_erase_all(struct sim_mem *mem, int force);
void mem_clear_ram(struct sim_mem *mem);
/* Parse "0,1,5" into write-protect flags. */
int mem_set_wrp_list(struct sim_mem *mem, const char *list, char *err,
    size_t errlen);
/* Early-acknowledged erases: finish those due by now; wait for all. */
void mem_pending_settle(struct sim_mem *mem);
void mem_pending_wait(struct sim_mem *mem);
int mem_pending_add(struct sim_mem *mem, uint32_t page, uint64_t done_ns);

/* Link layer. */
enum {
	LINK_OK = 0,
	LINK_STOP = -1,		/* SIGTERM/SIGINT or fatal I/O error */
	LINK_NEWCLIENT = -2,	/* a client opened the slave */
	LINK_BOARD = -3,	/* the board reset or released the chip */
};

struct link {
	int master;
	int slave;		/* kept open: the master never sees hangup */
	int ino_fd;		/* inotify on the slave: client open/close */
	int clients;		/* opens minus closes seen by inotify */
	int new_client;
	char slave_name[128];
	const char *link_path;
	volatile sig_atomic_t *stop;
	struct board *board;	/* NULL without --board */
	unsigned board_resets;	/* board->resets already reported */

	/* Wire-time model (--timing). */
	int timing;
	uint64_t byte_ns;	/* 11 bit times (8E1) */
	uint64_t latency_ns;	/* adapter latency per reply */
	/*
	 * --adapter ftdi: the latency is FTDI_LATENCY_NS (the FT232's
	 * default 16 ms latency timer) until the host sets ASYNC_LOW_LATENCY
	 * with TIOCSSERIAL (seen through the shim: board->serial_flags),
	 * then FTDI_LOW_LATENCY_NS: ftdi_sio then programs a 1 ms timer.
	 */
	int ftdi;
	uint64_t rx_end_ns;	/* wire end of the last byte consumed */
	uint64_t tx_free_ns;	/* device TX line idle from here */

	uint8_t rxbuf[4096];
	size_t rxlen;
	size_t rxpos;
	uint64_t rx_read_ns;	/* when the buffered batch arrived */
	uint64_t rx_seen_ns;	/* host bytes waiting since; 0: none seen */

	/* Fault injection. */
	struct sim_rng *rng;
	double corrupt;
	double drop;
	/*
	 * --parity-errors: this share of reply bytes gets one bit flipped,
	 * which a parity check always catches, and goes out behind an
	 * in-band escape (LINK_PAR_ESC) that libft-shim.so, run with
	 * FT_SHIM_PARITY=1, turns into what the tty layer would deliver
	 * under the host's termios (test/sim/shim/tty.c).  A reply byte
	 * equal to the escape is escaped as well while this is on.
	 */
	double parity;
};

/* The parity escape: ESC 0x00 is a good ESC, ESC 0x01 X is X received
 * with a parity error.  Keep in step with test/sim/shim/tty.c. */
#define LINK_PAR_ESC 0xF5u
#define LINK_PAR_LITERAL 0x00u
#define LINK_PAR_ERROR 0x01u

uint64_t now_ns(void);
int link_open(struct link *l, const char *link_path, char *err,
    size_t errlen);
/* Make --link appear (last: tests wait for it as "ready"). */
int link_publish(struct link *l, char *err, size_t errlen);
void link_close(struct link *l);
/* Next host byte (after drop/corrupt faults). */
int link_getc(struct link *l, uint8_t *c);
/* Drop host bytes received so far (the board's on_reset hook). */
void link_discard_input(void *link);
/*
 * Send one reply burst.  With timing, it leaves at
 * request end + work_ns + n byte times + latency (absolute deadline).
 */
int link_reply(struct link *l, const uint8_t *buf, size_t n,
    uint64_t work_ns);

/* Protocol engine. */
struct sim_opts {
	const char *link_path;
	const char *flash_path;
	const char *log_path;
	const char *chip;
	const char *write_protect;
	int timing;
	unsigned baud;
	double latency_ms;
	int adapter_ftdi;	/* --adapter ftdi */
	uint64_t seed;
	double corrupt;
	double drop;
	double parity;		/* --parity-errors RATE; 0: no escapes */
	double nack;
	int nack_storm;
	int rdp;
	int checksum;		/* -1 default */
	int checksum_bytes;	/* --checksum-bytes */
	const char *option;	/* --option NAME=VALUE */
	/* --ob-reset-mid-write: an option-byte write resets the chip
	 * before anything is programmed, without an ACK. */
	int ob_reset_mid_write;
	long option_value;	/* its VALUE; -1: factory */
	int exit_on_go;
	unsigned report_pid;	/* answer Get ID with this; 0: the chip's */
	int has_unreadable;	/* --unreadable ADDR given */
	uint32_t unreadable;	/* Read Memory covering it is NACKed */
	const char *board;	/* --board SPEC */
	const char *board_socket;
	const char *sysfs_gpio;
	int board_start_bootloader;
	int board_on;		/* any board option given */
};

enum bl_state {
	ST_WAIT_SYNC,		/* after reset: only 0x7F means anything */
	ST_READY,		/* synced, waiting for a command */
	ST_GONE,		/* ran Go: deaf until a client opens */
	ST_APP,			/* board: the application runs, deaf */
	ST_HELD,		/* board: NRST is low */
};

struct sim {
	const struct sim_opts *opts;
	struct sim_model model;
	struct sim_mem mem;
	struct link link;
	struct board board;
	struct sim_rng rng;
	FILE *log;
	uint64_t t0_ns;
	enum bl_state state;
	int rdp;
	/* ROM_ALIGN_STICKY: an unaligned write failed; every program
	 * operation fails until the next reset. */
	int prog_locked;
};

/* Run until stopped; returns the process exit status. */
int proto_run(struct sim *s);

/* Option bytes (optbytes.c). */
/* Power-on: --rdp into the option area; the level from it. */
void chip_ob_power_on(struct sim *s);
/* The board asks the option bytes where a reset boots. */
void chip_ob_attach_board(struct sim *s);
/* Readout protect (level 1) or unprotect (0) in the option area. */
void chip_ob_set_rdp(struct sim *s, int level);
/* Write Unprotect: every write-protection field to "none". */
void chip_ob_write_unprotect(struct sim *s);
/*
 * The chip reset itself (a protection command, an option-byte write):
 * reload the options, and say where it runs now (the bootloader waiting
 * for 0x7F, or the application) and in why, when the option bytes
 * decided it.
 */
enum bl_state chip_ob_reset(struct sim *s, char *why, size_t whylen);
/* A client opened the port of a chip that ran Go (no board): back in the
 * bootloader, unless level 2 closed it. */
enum bl_state chip_ob_new_client(struct sim *s);

#endif /* SIM_H */
