/*
 * flashtool.h - the one public interface of libflashtool.
 *
 * libflashtool reads, writes, verifies and erases STM32 flash through the
 * ROM bootloaders (USART, ST AN3155; USB DFU/DfuSe) and the Katapult
 * bootloader (USB CDC, UART, CAN).  Every transport sits behind the same
 * operations, so a front end never needs to know which one it drives.
 *
 * Conventions:
 *  - Every fallible function returns 0 (or a non-negative count) on success
 *    and a negative enum ft_err on failure.  What failed and where (command,
 *    address, reply) is kept in the context's detail string, ft_errdetail().
 *  - The library never prints and never exits.  Messages and progress reach
 *    the caller only through the callbacks registered on the context.
 *  - Everything public starts with ft_ or FT_.
 *
 * Past 1,000 lines because it is the whole public interface, each type
 * documented where it is declared; splitting it would only make front
 * ends include several headers for one library.
 */
#ifndef FLASHTOOL_H
#define FLASHTOOL_H

#include <stddef.h>
#include <stdint.h>

#define FT_VERSION "0.1.0"

/*
 * Errors.  Keep ft_strerror() and ft_errname() in lib/error.c in step with
 * this list, and exit_code_for() in cli/report.c too.
 */
enum ft_err {
	FT_OK = 0,
	FT_E_INVALID = -1,	/* bad argument or input (file, address,
				 * option) */
	FT_E_FORMAT = -2,	/* image file malformed */
	FT_E_IO = -3,		/* operating-system I/O failure */
	FT_E_TIMEOUT = -4,	/* the device did not answer in time */
	FT_E_NACK = -5,		/* the device refused a command */
	FT_E_PROTOCOL = -6,	/* the device answered something unexpected */
	FT_E_PROTECTED = -7,	/* readout or write protection is active */
	FT_E_VERIFY = -8,	/* flash contents differ from the image */
	FT_E_NOT_SUPPORTED = -9, /* the device or transport cannot do this */
	FT_E_NO_DEVICE = -10,	/* no port, no USB device, nothing answering */
	FT_E_MULTIPLE = -11,	/* several devices match the selection */
	FT_E_ACCESS = -12,	/* permission denied on port or USB device */
	FT_E_BUSY = -13,	/* port or interface already in use */
	FT_E_NOMEM = -14,	/* out of memory */
	FT_E_RANGE = -15,	/* address or length outside the memory */
	FT_E_UNKNOWN_CHIP = -16, /* product ID not in the table, no layout */
	FT_E_STAYED = -17,	/* written, but the device did not leave the
				 * bootloader (BOOT0 still held) */
	FT_E_INTERRUPTED = -18,	/* cancelled by the caller (signal) */
	FT_E_LEAVE = -19,	/* written, but the leave/go step failed */
};
#define FT_ERR_COUNT 20

/* Failed attempts in a row before an operation gives up (-n). */
#define FT_DEFAULT_FAIL_STREAK 8u
/* An operation without one successful block for this long gives up. */
#define FT_STALL_LIMIT_MS 30000u

/* A sentence for users ("the device did not answer in time"). */
const char *ft_strerror(int err);
/* The symbol for logs and JSON ("FT_E_TIMEOUT"). */
const char *ft_errname(int err);

/* Context: callbacks, cancellation and the last error's detail. */
enum ft_log_level {
	FT_LOG_ERROR,
	FT_LOG_WARN,
	FT_LOG_INFO,
	FT_LOG_DEBUG,
	FT_LOG_TRACE,
};

enum ft_stage {
	FT_STAGE_READ,
	FT_STAGE_ERASE,
	FT_STAGE_WRITE,
	FT_STAGE_VERIFY,
};

typedef void (*ft_log_fn)(enum ft_log_level level, const char *msg,
    void *user);
/* done and total are bytes (erase: bytes of the erase units). */
typedef void (*ft_progress_fn)(enum ft_stage stage, uint64_t done,
    uint64_t total, void *user);
/* Return non-zero to stop at the next block boundary. */
typedef int (*ft_cancel_fn)(void *user);

struct ft_ctx;

struct ft_ctx *ft_ctx_new(void);
void ft_ctx_free(struct ft_ctx *ctx);
/* Messages up to and including max_level reach fn. */
void ft_set_log(struct ft_ctx *ctx, enum ft_log_level max_level,
    ft_log_fn fn, void *user);
void ft_set_progress(struct ft_ctx *ctx, ft_progress_fn fn, void *user);
void ft_set_cancel(struct ft_ctx *ctx, ft_cancel_fn fn, void *user);
/* What the last failure was about; "" when nothing failed. */
const char *ft_errdetail(const struct ft_ctx *ctx);

/*
 * Memory layouts: erase units as {size, count} runs laid end to end from
 * base.  The same structure describes a device-table chip and a parsed
 * DfuSe layout string, so the planner never knows which transport it
 * serves.
 */
#define FT_MAX_RUNS 8

struct ft_run {
	uint32_t size;		/* bytes per erase unit */
	uint32_t count;		/* units of that size */
};

struct ft_layout {
	uint32_t base;
	unsigned nruns;
	struct ft_run runs[FT_MAX_RUNS];
};

/* Total bytes covered by the layout. */
uint64_t ft_layout_size(const struct ft_layout *layout);
/* Number of erase units. */
uint32_t ft_layout_units(const struct ft_layout *layout);
/*
 * Find the erase unit holding addr: its index (counted from base), start
 * and size.  FT_E_RANGE when addr is outside the layout.
 */
int ft_layout_find(const struct ft_layout *layout, uint32_t addr,
    uint32_t *index, uint32_t *unit_start, uint32_t *unit_size);
/*
 * Parse "BASE:RUNS", RUNS being comma-separated "COUNTxSIZE" with an
 * optional K or M suffix on SIZE, for example "0x08000000:4x16K,1x64K,3x128K"
 * or "0x08000000:64x1K".  Details go to ctx (may be NULL).
 */
int ft_layout_parse(struct ft_ctx *ctx, const char *text,
    struct ft_layout *out);

/*
 * The device table (lib/devices.c): one row per product ID with a USART
 * ROM bootloader in ST's AN2606.  Rows are plain data.
 */
enum ft_quirk {
	/* No mass erase: erase every page instead (stm32flash F_NO_ME). */
	FT_Q_NO_MASS_ERASE = 1u << 0,
	/* Reset via option-byte reload (FLASH_CR OBL_LAUNCH), RM0360. */
	FT_Q_RESET_OBL_LAUNCH = 1u << 1,
	/* Reset must fix FLASH_SR PEMPTY first, RM0394. */
	FT_Q_RESET_PEMPTY = 1u << 2,
	/* Read-back right after a write is unreliable: verify at the end. */
	FT_Q_VERIFY_AFTER_ALL = 1u << 3,
	/* Two flash banks; Extended Erase 0xFFFE/0xFFFD erase one bank. */
	FT_Q_DUAL_BANK = 1u << 4,
	/* Bootloader is reached only through an empty-flash check or
	 * nBOOT_SEL option (G0/C0 pattern); BOOT0 pin may be ignored. */
	FT_Q_BOOT0_OPTION = 1u << 5,
	/* Erased flash reads 0x00, not 0xFF (L0/L1: RM0377, RM0038). */
	FT_Q_ERASED_ZERO = 1u << 6,
	/*
	 * An Extended Erase listing more than one page of bank 2 (the upper
	 * half of the part's flash) fails after the first: erase bank 2 one
	 * page per command (G0B0 V13.0, G0B1/G0C1 V9.2: AN2606 rev 70
	 * Tables 110 and 112).
	 */
	FT_Q_BANK2_ERASE_ONE = 1u << 7,
	/*
	 * The ROM acknowledges a page erase before the erase has ended:
	 * erase one page per command and wait FT_EARLY_ACK_ERASE_WAIT_MS
	 * after it (G07x ROM V11.3, bootloader ID 0xB3 at 0x1FFF6FFE;
	 * fixed in V11.4: AN2606 rev 70 Table 108).
	 */
	FT_Q_ERASE_EARLY_ACK = 1u << 8,
	/*
	 * The connect byte 0x7F is answered with two ACKs instead of one
	 * (L412/L422 ROM V13.1: AN2606 rev 70 Table 163).
	 */
	FT_Q_DOUBLE_ACK = 1u << 9,
};

/* AN2606 Table 108's workaround for FT_Q_ERASE_EARLY_ACK. */
#define FT_EARLY_ACK_ERASE_WAIT_MS 40u
/*
 * The first bootloader ID without that bug: V11.4 (AN2606 rev 70 Table
 * 108 lists the limitation for V11.3 only; Table 226 gives ID 0xB4).
 */
#define FT_EARLY_ACK_FIXED_BL_ID 0xB4u

/*
 * A layout an option bit selects (dual or single bank, DB1M), instead
 * of the row's factory one.  The option word is 32 bits, little endian,
 * and the ROM lets Read Memory reach it; a host reads it (and, where
 * flash_size is set, the flash-size word) before it erases anything.
 */
struct ft_opt_layout {
	const char *what;	/* "nDBANK = 0 (dual bank)", for messages */
	uint32_t opt_addr;
	uint32_t opt_mask;
	uint32_t opt_value;	/* applies when (word & mask) == value */
	uint32_t flash_size;	/* ... on parts this large; 0: any size */
	struct ft_run runs[FT_MAX_RUNS]; /* from flash_base, as in a row */
	uint32_t bank2_base;	/* 0: one bank in this setting */
	uint16_t bank2_page;	/* as struct ft_chip's */
};

/*
 * Flash the ROM cannot read, write or erase because another core owns it
 * (STM32WB: FUS and wireless stack).  It runs from flash_base +
 * field * unit to the end, field being (word & opt_mask) shifted down
 * to bit 0, read from the option word at opt_addr.
 */
struct ft_secure_area {
	uint32_t opt_addr;
	uint32_t opt_mask;
	uint32_t unit;
};

struct ft_chip {
	uint16_t pid;		/* product ID answered by Get ID */
	const char *name;	/* "STM32F401xB/C" */
	uint32_t flash_base;
	uint32_t flash_size;	/* largest part with this ID */
	struct ft_run runs[FT_MAX_RUNS]; /* erase units from flash_base */
	uint32_t bank2_base;	/* second bank start, 0 when single bank */
	uint32_t ram_start;	/* first RAM byte the ROM leaves free */
	uint32_t ram_end;	/* exclusive; == ram_start: none free */
	uint32_t sysmem_start;
	uint32_t sysmem_end;	/* exclusive */
	uint32_t opt_start;
	uint32_t opt_end;	/* exclusive; 0/0 when not memory mapped */
	uint16_t write_unit;	/* flash programming granularity, bytes */
	uint32_t quirks;	/* enum ft_quirk bits */
	/*
	 * Added with the device-table audit (issue 12); zero/NULL in rows
	 * that need none of them.
	 *
	 * flash_size_reg: the 16-bit flash size in KiB, readable with Read
	 * Memory (0: unknown).  The row describes the largest part with its
	 * ID; this word tells a smaller one.
	 *
	 * bank2_page: the ROM's Extended Erase page number for bank 2's
	 * first unit when the ROM keeps it on every flash size although a
	 * smaller part's bank 2 starts lower, at half its flash (L47x and
	 * L496: 256, so a 512 KiB part's bank 2 at 0x08040000 is page 256).
	 * 0: pages are numbered on from bank 1 (the flat index).
	 *
	 * opt_layouts: other layouts chosen by an option bit; an entry with
	 * opt_addr 0 ends the list.  NULL: none.
	 *
	 * secure: flash above an option-defined boundary is not the ROM's.
	 *
	 * bl_id_addr: the bootloader ID byte (AN2606: 0xB3 is V11.3),
	 * readable with Read Memory; set where a quirk depends on the ROM
	 * version (0: not needed).
	 */
	uint32_t flash_size_reg;
	uint16_t bank2_page;
	const struct ft_opt_layout *opt_layouts;
	const struct ft_secure_area *secure;
	uint32_t bl_id_addr;
	uint32_t proven;	/* enum ft_proven bits; 0 in every row today */
};

/*
 * What has been proven on real silicon for a table row (flashrom marks
 * its chip rows tested per operation): each bit an operation that worked
 * end to end on a chip answering that product ID.  A row without bits is
 * transcribed from ST's documents (AN2606, reference manuals,
 * datasheets) and proven on no chip yet.
 */
enum ft_proven {
	FT_PROVEN_IDENTIFY = 1u << 0,
	FT_PROVEN_READ = 1u << 1,
	FT_PROVEN_ERASE = 1u << 2,
	FT_PROVEN_WRITE = 1u << 3,
};
#define FT_PROVEN_COUNT 4
/* The name of proven bit i ("identify", "read", ...), or NULL. */
const char *ft_proven_name(unsigned bit);

size_t ft_chip_count(void);
const struct ft_chip *ft_chip_at(size_t index);
const struct ft_chip *ft_chip_by_pid(uint16_t pid);
/* The chip's flash as a layout. */
void ft_chip_layout(const struct ft_chip *chip, struct ft_layout *out);
/* Layout alt of the chip (NULL: the row's own) as a layout. */
void ft_chip_layout_opt(const struct ft_chip *chip,
    const struct ft_opt_layout *alt, struct ft_layout *out);
/*
 * The layout a part with flash_size bytes is in when its option word
 * (opt_layouts' opt_addr: one word per chip) reads word; NULL: the row's
 * own layout.
 */
const struct ft_opt_layout *ft_chip_opt_layout(const struct ft_chip *chip,
    uint32_t flash_size, uint32_t word);
/*
 * The erase unit holding addr on a part of this chip with flash_size
 * bytes (0: the row's flash_size) in layout alt (NULL: the row's own):
 * the Extended Erase page number the ROM gives it, its start and size
 * (any output may be NULL).  FT_E_RANGE when addr is outside the flash.
 * With bank2_page set, bank 2 is the upper half of flash_size, laid out
 * as bank 1 and numbered from bank2_page; otherwise the unit is the one
 * of the row's layout and its number the index there, which for the
 * rows of the table is what the ROM uses on every flash size (AN2606,
 * STM32CubeProgrammer's Bootloader maps).
 */
int ft_chip_rom_page(const struct ft_chip *chip,
    const struct ft_opt_layout *alt, uint32_t flash_size, uint32_t addr,
    uint32_t *page, uint32_t *unit_start, uint32_t *unit_size);

/*
 * Images: sparse, sorted, non-overlapping segments.  Gaps are neither
 * written nor erased.
 */
enum ft_image_format {
	FT_FMT_AUTO,		/* recognise by content */
	FT_FMT_BINARY,
	FT_FMT_IHEX,
	FT_FMT_SREC,
	FT_FMT_ELF,
	FT_FMT_DFU,		/* DFU suffix and/or DfuSe prefix */
};

struct ft_segment {
	uint32_t addr;
	uint32_t len;
	uint8_t *data;
	int alt;		/* DfuSe target alt setting; -1 if none */
};

struct ft_image;

/*
 * Load an image.  path "-" reads standard input.  base is where a raw
 * binary starts (ignored for formats that carry addresses).  Errors name
 * the file and, for text formats, the line.
 */
int ft_image_load(struct ft_ctx *ctx, const char *path,
    enum ft_image_format format, uint32_t base, struct ft_image **out);
/* Same, from memory; name is used in messages. */
int ft_image_from_buffer(struct ft_ctx *ctx, const char *name,
    const uint8_t *buf, size_t len, enum ft_image_format format,
    uint32_t base, struct ft_image **out);
void ft_image_free(struct ft_image *img);
enum ft_image_format ft_image_format(const struct ft_image *img);
const char *ft_format_name(enum ft_image_format format);
size_t ft_image_nsegments(const struct ft_image *img);
const struct ft_segment *ft_image_segment(const struct ft_image *img,
    size_t index);
/* Bytes of data (sum of segment lengths). */
uint64_t ft_image_bytes(const struct ft_image *img);
/* Move the whole image so that its lowest address becomes new_base. */
int ft_image_relocate(struct ft_ctx *ctx, struct ft_image *img,
    uint32_t new_base);

/*
 * Argument mini-languages, pure parsers shared by every front end.
 */
/* A 32-bit number: decimal, 0x hex, optional K/M suffix if allow_suffix. */
int ft_parse_u32(const char *text, int allow_suffix, uint32_t *out);
/* "ADDR[:LEN]"; has_len tells whether LEN was given. */
int ft_parse_addr_len(struct ft_ctx *ctx, const char *text, uint32_t *addr,
    uint32_t *len, int *has_len);

/*
 * Entry and exit sequences (lib/usart/seq.c): stm32flash's -i grammar.
 *
 *   SEQ    := [ENTRY] [':' [EXIT]]
 *   ENTRY, EXIT := item*
 *   item   := ['-'] signal | ',' | '&'
 *   signal := dtr | rts | brk          modem lines, BREAK (lower case)
 *           | NUMBER                   sysfs GPIO number
 *           | gpiochipN:LINE           character-device line
 *           | NAME                     line name ([A-Za-z_][A-Za-z0-9_.]*)
 *
 * A signal alone sets it high (dtr/rts: asserted), '-' sets it low
 * (de-asserted); ',' waits 100 ms (runs of commas add up), '&' waits
 * nothing.  A ':' directly after gpiochipN always joins chip and line;
 * every other ':' separates entry from exit.  Keywords win: a name never
 * starts with lower-case dtr, rts or brk ("rts1" is rts, then GPIO 1).
 */
#define FT_SEQ_MAX_SIGNALS 16
#define FT_SEQ_MAX_STEPS 64
#define FT_SEQ_NAME_MAX 32	/* with the NUL, as the kernel's names */
#define FT_SEQ_COMMA_MS 100u
#define FT_SEQ_BREAK_MS 100u	/* how long brk holds the line in BREAK */

enum ft_sig_kind {
	FT_SIG_DTR,
	FT_SIG_RTS,
	FT_SIG_BRK,
	FT_SIG_SYSFS,		/* /sys/class/gpio/gpioN */
	FT_SIG_CHIP_LINE,	/* /dev/gpiochipN, line offset */
	FT_SIG_LINE_NAME,	/* a line name, looked up on every chip */
};

struct ft_seq_signal {
	enum ft_sig_kind kind;
	unsigned chip;		/* FT_SIG_CHIP_LINE: N of gpiochipN */
	unsigned num;		/* sysfs GPIO number or line offset */
	char name[FT_SEQ_NAME_MAX]; /* FT_SIG_LINE_NAME */
};

enum ft_seq_op {
	FT_SEQ_SET,		/* drive signal to level */
	FT_SEQ_BREAK,		/* BREAK for FT_SEQ_BREAK_MS */
	FT_SEQ_WAIT,		/* sleep ms */
};

struct ft_seq_step {
	enum ft_seq_op op;
	unsigned signal;	/* SET, BREAK: index into signals[] */
	int level;		/* SET: 1 high/asserted, 0 low/de-asserted */
	unsigned ms;		/* WAIT */
	unsigned col;		/* 1-based column in the text */
};

struct ft_seq_half {
	unsigned nsteps;
	struct ft_seq_step steps[FT_SEQ_MAX_STEPS];
};

struct ft_seq {
	unsigned nsignals;	/* every signal of both halves, once */
	struct ft_seq_signal signals[FT_SEQ_MAX_SIGNALS];
	struct ft_seq_half entry;
	struct ft_seq_half exit;
	int has_exit;		/* the text had a ':' */
	unsigned err_col;	/* after FT_E_INVALID: the column at fault */
};

/* FT_E_INVALID with "column N: ..." in the detail and out->err_col. */
int ft_seq_parse(struct ft_ctx *ctx, const char *text, struct ft_seq *out);
/* "dtr", "17", "gpiochip1:14", "GPIO17"; returns buf. */
const char *ft_seq_signal_str(const struct ft_seq_signal *sig, char *buf,
    size_t len);

/* Named sequences for common wirings (--entry NAME). */
struct ft_seq_preset {
	const char *name;
	const char *seq;	/* in the grammar above, with its exit half */
	const char *wiring;	/* one line: what it assumes */
};

size_t ft_seq_preset_count(void);
const struct ft_seq_preset *ft_seq_preset_at(size_t index);
/* NULL when there is no such preset. */
const struct ft_seq_preset *ft_seq_preset_find(const char *name);

/*
 * A Katapult node's CAN UUID as flashtool.py's -u takes it: up to 12 hex
 * digits ("0x" allowed, leading zeros implied), the first byte on the
 * bus first.  FT_E_INVALID otherwise.
 */
int ft_katapult_uuid_parse(const char *text, uint8_t *uuid);

/* ST's CRC-32 (poly 0x04C11DB7, init 0xFFFFFFFF, 32-bit LE words, MSB
 * first, no reflection, no final XOR), as Get Checksum computes it. */
uint32_t ft_crc32_stm(uint32_t crc, const uint8_t *buf, size_t len);
#define FT_CRC32_STM_INIT 0xFFFFFFFFu

/*
 * Devices.
 */
enum ft_transport_kind {
	FT_TRANSPORT_USART,
	FT_TRANSPORT_DFU,
	FT_TRANSPORT_KATAPULT,
};

/* DFU device selection, as dfu-util's -d, -p, -S and -a. */
struct ft_dfu_match {
	int vid, pid;		/* runtime or any-mode IDs; -1: any */
	int dfu_vid, dfu_pid;	/* DFU-mode IDs (",vid:pid" form); -1: any */
	const char *path;	/* USB path "1-1.2"; NULL: any */
	const char *serial;	/* serial string; NULL: any */
	int alt;		/* alt setting number; -1: choose */
	const char *alt_name;	/* alt setting name; NULL: choose */
};

#define FT_DFU_MAX_ALTS 8

struct ft_dfu_alt {
	int alt;
	char name[128];		/* interface string (DfuSe layout) */
};

struct ft_dfu_entry {
	uint16_t vid, pid, bcd_device;
	uint8_t bus, address;
	char path[32];		/* "1-1.2" */
	char serial[64];
	char product[64];
	int dfu_mode;		/* 1: DFU mode, 0: runtime */
	int dfuse;		/* bcdDFUVersion 0x011A */
	uint16_t transfer_size;
	unsigned nalts;
	struct ft_dfu_alt alts[FT_DFU_MAX_ALTS];
};

/* Every DFU-capable interface matching m (NULL: all).  Free with free(). */
int ft_dfu_list(struct ft_ctx *ctx, const struct ft_dfu_match *m,
    struct ft_dfu_entry **out, size_t *n);

/*
 * How a tty reaches the MCU, for Katapult's bootloader request: by
 * default sysfs tells (a USB CDC device), then the name (ttyACM*,
 * /dev/serial/by-id/usb-*); anything else is a UART.
 */
enum ft_kp_link_kind {
	FT_KP_LINK_AUTO,
	FT_KP_LINK_USB,
	FT_KP_LINK_UART,
};

/* Whether to ask a running Klipper for the bootloader first. */
enum ft_kp_request {
	FT_KP_REQUEST_AUTO,	/* when what answers is not Katapult */
	FT_KP_REQUEST_NEVER,	/* Katapult must answer as it is */
};

struct ft_katapult_opts {
	const char *can_iface;	/* "can0" ("unix:PATH"): CAN, by uuid */
	int has_uuid;
	uint8_t uuid[6];	/* ft_katapult_uuid_parse() */
	enum ft_kp_link_kind link;
	enum ft_kp_request request;
	/* Wait for the device to come back after a request (0: 5 s). */
	unsigned wait_ms;
	/* Where sysfs and /dev are (NULL: "/sys", "/dev"): for tests. */
	const char *sysfs_root;
	const char *dev_root;
};

/*
 * ft_open_opts.usart_pipeline.  Reads go in one burst by default: a Read
 * Memory changes nothing, whatever a ROM makes of a refused burst's
 * bytes (a guard keeps them from forming a command that acts, see
 * usart_pipeline below).  Writes only when asked: a ROM that takes a
 * write's data for commands is not known to be harmless on every part.
 */
enum ft_usart_pipeline {
	FT_PIPELINE_READS = 0,	/* Read Memory in bursts (the default) */
	FT_PIPELINE_ALL = 1,	/* Read and Write Memory (--pipeline) */
	FT_PIPELINE_OFF = 2,	/* every frame waits for its ACK */
};

struct ft_open_opts {
	enum ft_transport_kind transport;

	/* USART */
	const char *port;	/* "/dev/ttyS0" */
	unsigned baud;		/* 0: 115200 */
	unsigned data_bits;	/* 0: 8 */
	char parity;		/* 'n', 'e', 'o'; 0: 'e' */
	unsigned stop_bits;	/* 0: 1 */
	int no_sync;		/* -c: the bootloader is already synced */
	unsigned max_read;	/* -F rx: 0 default (256) */
	unsigned max_write;	/* -F tx payload: 0 default (256) */
	/*
	 * Entry/exit sequence (ft_seq_parse grammar; NULL: none).  It is
	 * parsed and its GPIO lines requested before the port is opened;
	 * the entry half runs after the port is opened (not with no_sync),
	 * the exit half when the device is closed, after failures too,
	 * or at ft_reset().
	 */
	const char *entry_seq;
	int settle_ms;		/* after the entry half: 0 default
				 * (50 ms), negative: none */
	/*
	 * Which exchanges send their command, address and last frame in
	 * one go and collect the ACKs afterwards, two round trips fewer per
	 * block (enum ft_usart_pipeline; 0: reads only).  A burst that holds
	 * the byte pair of a command that changes the chip goes frame by
	 * frame, and the first failure turns bursts off for the session.
	 */
	int usart_pipeline;

	/* DFU */
	struct ft_dfu_match dfu;
	unsigned wait_ms;	/* wait this long for a device to appear */
	/*
	 * After the leave (ft_go), return at once instead of watching what
	 * comes back on the USB path (ft_devinfo.leave says FT_LEAVE_SENT).
	 */
	int dfu_no_watch;
	uint32_t target_addr;	/* where the write starts: picks the alt */

	/* Katapult: port and baud above (baud 0: 250000), or a CAN node. */
	struct ft_katapult_opts kp;

	/* Both */
	/*
	 * Failed attempts in a row, with no block succeeding in between,
	 * after which an operation gives up (0: FT_DEFAULT_FAIL_STREAK).
	 * While blocks keep succeeding the operation goes on, up to
	 * FT_STALL_LIMIT_MS without any progress.
	 */
	unsigned retries;
	const struct ft_layout *layout; /* for chips not in the table */
};

/*
 * How a DFU device left DFU mode (ft_go): what enumerated on its USB path
 * afterwards, watched from the moment it left the bus.
 */
enum ft_leave_outcome {
	FT_LEAVE_NONE,		/* not left */
	FT_LEAVE_APP,		/* another device enumerated there: vid, pid,
				 * product say which (the application) */
	FT_LEAVE_GONE,		/* it left the bus and nothing came back
				 * within the watch (an application without
				 * USB, or a slow one) */
	FT_LEAVE_STAYED,	/* it came back in DFU mode: BOOT0 held */
	FT_LEAVE_SENT,		/* asked to leave, not watched */
};

struct ft_leave {
	enum ft_leave_outcome outcome;
	uint16_t vid, pid;	/* FT_LEAVE_APP */
	char product[64];	/* FT_LEAVE_APP, when it could be read */
	char path[32];		/* the USB path watched */
	unsigned ms;		/* from leaving the bus to the arrival, or
				 * the whole watch */
};

/* What Katapult's CONNECT said, and how it was reached. */
struct ft_katapult_info {
	uint32_t proto;		/* 0x00010100: 1.1.0 */
	uint32_t app_start;	/* where the application starts */
	uint32_t block_size;
	char version[64];	/* software version; "" when not reported */
	int has_version;
	uint32_t flash_base;	/* the whole flash: reads reach all of it */
	uint32_t flash_size;	/* 0 when unknown */
	int known_mcu;		/* the MCU is in flashtool's table */
	char link[8];		/* "usb", "uart", "can" */
	char port[256];		/* the tty ("" on CAN) */
	unsigned baud;
	char can_iface[64];
	int has_uuid;
	uint8_t uuid[6];
	int requested;		/* Klipper was asked for the bootloader */
};

/* What the device told us, filled by ft_open(). */
struct ft_devinfo {
	enum ft_transport_kind transport;
	uint16_t pid;
	char name[64];
	uint8_t bl_version;	/* USART: 0x31 = v3.1; DFU: bcdDevice >> 8 */
	uint8_t ncmds;		/* USART Get reply */
	uint8_t cmds[32];
	int has_checksum;	/* USART Get listed Get Checksum (0xA1) */
	int extended_erase;	/* USART erases with 0x44, not 0x43 */
	struct ft_layout flash;
	/*
	 * What the part said beyond its table row and what follows from
	 * it (USART: the flash-size word, the option bit that selects the
	 * layout, the secure area, ROM quirks in force, erasing refused);
	 * "" when the part was not asked.
	 */
	char flash_notes[256];
	const struct ft_chip *chip;	/* NULL when not from the table */
	struct ft_dfu_entry dfu;	/* DFU: the device chosen */
	int dfu_alt;			/* DFU: the alt setting in use */
	char memory[64];		/* DFU: its memory's name in the
					 * DfuSe layout ("Internal Flash") */
	struct ft_leave leave;		/* DFU: after ft_go */
	struct ft_katapult_info kp;	/* Katapult */
};

struct ft_dev;

/* A serial port and what the kernel knows about it (sysfs). */
struct ft_port_entry {
	char path[64];		/* /dev/ttyUSB0 */
	char by_id[320];	/* /dev/serial/by-id/usb-...; "" if none */
	char driver[32];	/* ftdi_sio, cp210x, ch341, cdc_acm, ... */
	int usb;		/* the fields below are set */
	uint16_t vid, pid;
	char serial[64];
	char product[64];
	char usb_path[32];	/* "1-1.3" */
};

/* Every serial port with a device behind it, sorted.  Free with free(). */
int ft_serial_list(struct ft_ctx *ctx, struct ft_port_entry **out,
    size_t *n);

/*
 * Does img's vector table fit the address it is written to?  Judges only
 * data that looks like a Cortex-M vector table (stack pointer in RAM, odd
 * reset vector in flash): FT_E_INVALID, with the address the image is
 * probably linked for, when its reset vector lies outside the image.
 */
int ft_image_check_vectors(struct ft_ctx *ctx, const struct ft_image *img,
    const struct ft_devinfo *info);

/*
 * Katapult's bootloader request, alone: ask what runs behind opts (a
 * port, or a CAN node by UUID) for Katapult, the way its link needs
 * (1200-baud touch, serial request, CAN request), and wait (bounded) for
 * what comes back.  Nothing is asked when Katapult answers already.
 * ft_open() does the same as its first step; this is for a front end
 * that wants to go on with whatever came (ROM DFU), or only to ask.
 */
enum ft_kp_found {
	FT_KP_FOUND_NOTHING,	/* nothing came back in time */
	FT_KP_FOUND_KATAPULT,	/* Katapult answers (port: where) */
	FT_KP_FOUND_DFU,	/* ST's ROM DFU bootloader (usb_path) */
	FT_KP_FOUND_OTHER,	/* another USB device (vid, pid) */
};

struct ft_katapult_arrival {
	enum ft_kp_found found;
	int requested;		/* a request was sent */
	int usb;		/* the port is a USB device */
	int bridge;		/* a USB-to-CAN bridge left CAN for USB */
	char port[256];		/* Katapult's tty ("" on CAN, but for a
				 * bridge) */
	char usb_path[32];	/* the USB port, when sysfs knows it */
	uint16_t vid, pid;	/* what enumerated there (sysfs) */
};

int ft_katapult_request(struct ft_ctx *ctx, const struct ft_open_opts *opts,
    struct ft_katapult_arrival *out);

/*
 * Katapult and Klipper devices (--list): with opts->kp.can_iface the
 * nodes on that bus that answer a query (only nodes without a node id
 * answer; several answering at once can collide on a busy bus), else
 * the USB serial devices Katapult (1d50:6177) and Klipper (1d50:614e)
 * enumerate as.  Free with free().
 */
enum ft_kp_app {
	FT_KP_APP_UNKNOWN,
	FT_KP_APP_KATAPULT,
	FT_KP_APP_KLIPPER,
};

struct ft_katapult_entry {
	enum ft_kp_app app;
	int can;		/* a CAN node: uuid; else a USB tty: port */
	uint8_t uuid[6];
	char port[64];		/* /dev/ttyACM0, or the CAN interface */
	char by_id[320];
	char usb_path[32];
	char serial[64];
	char mcu[64];		/* the USB product string */
};

int ft_katapult_list(struct ft_ctx *ctx, const struct ft_open_opts *opts,
    struct ft_katapult_entry **out, size_t *n);

/* Open, enter and identify.  Nothing is erased or written. */
int ft_open(struct ft_ctx *ctx, const struct ft_open_opts *opts,
    struct ft_dev **out);
const struct ft_devinfo *ft_dev_info(const struct ft_dev *dev);
/* Restore the port or release the interface; always safe. */
void ft_close(struct ft_dev *dev);

/* Read any range; chunked, retried, with progress. */
int ft_read(struct ft_dev *dev, uint32_t addr, uint8_t *buf, uint32_t len);

struct ft_write_opts {
	int verify;		/* compare the flash with the image after */
	int mass_erase;		/* mass erase instead of the erase plan */
	int no_erase;		/* the flash is already erased */
	/*
	 * By default each erase unit is compared with the image first:
	 * units that already hold it are left alone, blank ones are written
	 * without an erase.  no_diff erases and writes every unit.
	 */
	int no_diff;
	/*
	 * Where the flash has small uniform pages and reading is cheap
	 * (DfuSe), a write whose changes span most of the flash uses one
	 * mass erase and writes back what lay outside the changes.
	 * page_erase keeps to page erases.
	 */
	int page_erase;
};

struct ft_write_stats {
	uint64_t bytes_written;	/* bytes sent to the device */
	uint64_t bytes_skipped;	/* all-0xFF blocks not sent after erase */
	uint32_t units_erased;
	uint32_t units_written;	/* erase units data was written into */
	uint32_t units_unchanged; /* already held the image: not touched */
	uint64_t bytes_unchanged; /* image bytes in those units */
	uint32_t units_restored; /* written back after a mass erase */
	int verified;		/* every byte was compared */
	/*
	 * Bytes the device could not read back (FT_E_NOT_SUPPORTED from a
	 * plain DFU device, or memory that resets the chip when written),
	 * and why; ft_write still returns 0 for them.
	 */
	uint64_t bytes_unverified;
	char unverified_why[160];
};

/*
 * Erase what the image touches (only those units, or everything with
 * mass_erase), write it, and verify if asked.  Every segment must lie in
 * flash; FT_E_RANGE before anything is erased otherwise.
 */
int ft_write(struct ft_dev *dev, const struct ft_image *img,
    const struct ft_write_opts *opts, struct ft_write_stats *stats);
/* Compare flash with the image: FT_E_VERIFY names the first difference. */
int ft_verify(struct ft_dev *dev, const struct ft_image *img);
/* Erase the units covering [addr, addr+len); both must be unit aligned. */
int ft_erase(struct ft_dev *dev, uint32_t addr, uint32_t len);
int ft_mass_erase(struct ft_dev *dev);
/* CRC (ft_crc32_stm) of [addr, addr+len): device-side when it can. */
int ft_crc(struct ft_dev *dev, uint32_t addr, uint32_t len, uint32_t *crc);
/*
 * Start the code at addr: USART Go; DFU leave (set address, zero-length
 * download).  DFU: the device vanishing is success; FT_E_STAYED when it
 * came back in DFU mode (BOOT0 still held).
 */
int ft_go(struct ft_dev *dev, uint32_t addr);
/*
 * Reset the chip: through the session's exit sequence when it has a
 * non-empty one (which then does not run again at close), otherwise
 * through a routine in RAM (FT_E_NOT_SUPPORTED on chips without free RAM,
 * such as the F04x).
 */
int ft_reset(struct ft_dev *dev);

enum ft_protect_op {
	FT_WRITE_UNPROTECT,
	FT_READOUT_PROTECT,
	FT_READOUT_UNPROTECT,	/* mass-erases the flash */
};
/* The device resets afterwards; the library resyncs where it can. */
int ft_protect(struct ft_dev *dev, enum ft_protect_op op);
/* Write-protect the erase units covering [addr, addr+len). */
int ft_write_protect(struct ft_dev *dev, uint32_t addr, uint32_t len);

/*
 * Option bytes (lib/optbytes.c: tables and pure functions; core/
 * option_io.c: reading and writing them on a device).  An image is the
 * option-byte block as a host reads it, from the family's base; fields
 * are bits of its little-endian 32-bit words.
 */
enum ft_ob_pairs {
	FT_OB_NO_COMPLEMENT,	/* F2/F4 */
	FT_OB_BYTE_COMPLEMENT,	/* F0/F1/F3: byte 2n+1 is ~byte 2n */
	FT_OB_WORD_COMPLEMENT,	/* G0/G4: word 8n+4 is ~word 8n */
};

enum ft_ob_kind {
	FT_OB_CHOICE,		/* named values (values[]) */
	FT_OB_RDP,		/* the readout protection byte */
	FT_OB_NUMBER,		/* any value of the width */
	FT_OB_WRP_BITS,		/* a bit per sector (group), 0 protects */
	FT_OB_PAGE,		/* a page number */
};

#define FT_OB_READONLY 1u	/* shown, never changed */

struct ft_ob_value {
	uint32_t value;
	const char *name;	/* accepted by --set beside the number */
	const char *meaning;
};

struct ft_ob_field {
	const char *name;	/* as the reference manual spells it */
	uint16_t offset;	/* of its 32-bit word in the image */
	uint8_t shift;
	uint8_t width;
	enum ft_ob_kind kind;
	uint32_t factory;
	unsigned flags;		/* FT_OB_READONLY */
	const char *what;
	const char *parts;	/* the parts that have it; NULL: all */
	const struct ft_ob_value *values; /* CHOICE: ends at name NULL */
};

/* A word of a factory image; offset 0xFFFF ends a list. */
struct ft_ob_word {
	uint16_t offset;
	uint32_t value;
};

/* A field's value, by name (the BOOT0 recipe). */
struct ft_ob_setting {
	const char *name;
	uint32_t value;
};

struct ft_ob_family {
	const char *name;	/* "g0", for --family */
	const char *title;	/* "STM32G0" */
	const char *source;	/* reference-manual sections */
	enum ft_ob_pairs pairs;
	uint32_t base;
	uint16_t size;		/* bytes the table describes */
	uint8_t rdp_level0;	/* RDP byte of level 0 */
	uint8_t rdp_level1;	/* the byte written for level 1 */
	uint8_t rdp_level2;	/* 0: the family has no level 2 */
	const uint16_t *pids;	/* Get ID answers; 0 ends */
	const struct ft_ob_field *fields;	/* ends at name NULL */
	const struct ft_ob_word *factory;
	/* Settings that make the BOOT0 pin choose the boot (and BOOT0 = 1
	 * the bootloader); NULL: the pin always does. */
	const struct ft_ob_setting *boot0_pin;
};

size_t ft_ob_family_count(void);
const struct ft_ob_family *ft_ob_family_at(size_t index);
const struct ft_ob_family *ft_ob_family_find(const char *name);
const struct ft_ob_family *ft_ob_family_by_pid(uint16_t pid);
/* By name, case-insensitive; NULL when the family has none. */
const struct ft_ob_field *ft_ob_field_find(const struct ft_ob_family *fam,
    const char *name);
/* Does any family have a field of that name? */
int ft_ob_field_known(const char *name);
uint32_t ft_ob_field_max(const struct ft_ob_field *f);
/* Does an image of len bytes hold the field? */
int ft_ob_field_in(const struct ft_ob_field *f, size_t len);
/* FT_E_RANGE when the image is too short for the field. */
int ft_ob_get(const struct ft_ob_field *f, const uint8_t *img, size_t len,
    uint32_t *value);
/* Set the field and the complements of the bytes (words) it touches. */
int ft_ob_put(const struct ft_ob_family *fam, const struct ft_ob_field *f,
    uint8_t *img, size_t len, uint32_t value);
/* The factory image; bytes the table does not describe read 0xFF. */
void ft_ob_factory_image(const struct ft_ob_family *fam, uint8_t *img,
    size_t len);
/*
 * Complement pairs that do not hold (both halves erased is no error):
 * how many, and the first one's offset.
 */
int ft_ob_check_complements(const struct ft_ob_family *fam,
    const uint8_t *img, size_t len, uint32_t *first_bad);
/* 0, 1 or 2 for an RDP byte. */
int ft_ob_rdp_level(const struct ft_ob_family *fam, uint32_t rdp);
/* What a value of the field means, in a sentence; returns buf. */
const char *ft_ob_meaning(const struct ft_ob_family *fam,
    const struct ft_ob_field *f, uint32_t value, char *buf, size_t size);
/*
 * A value as --set takes it: a number, a value's name, for RDP a level
 * (0, 1, 2) or a byte written 0xNN.  FT_E_INVALID lists what the field
 * takes.
 */
int ft_ob_parse_value(struct ft_ctx *ctx, const struct ft_ob_family *fam,
    const struct ft_ob_field *f, const char *text, uint32_t *out);
/* "NAME=VALUE": the name copied into name, *value into text. */
int ft_ob_parse_assignment(struct ft_ctx *ctx, const char *text, char *name,
    size_t name_size, const char **value);

struct ft_ob_change {
	const char *name;
	const char *value;	/* as ft_ob_parse_value takes it */
};

#define FT_OB_ALLOW_RDP2 1u	/* a change may set RDP level 2 */

/*
 * after = before with every change made, complements included, or
 * FT_E_INVALID and after = before when any change fails: an unknown
 * field (the detail lists the family's), a read-only one, a bad value
 * (it lists the values), RDP level 2 without FT_OB_ALLOW_RDP2, or RDP
 * from level 1 to 0 (only readout unprotect does that, mass-erasing).
 */
int ft_ob_plan(struct ft_ctx *ctx, const struct ft_ob_family *fam,
    const uint8_t *before, size_t len, const struct ft_ob_change *changes,
    size_t n, unsigned flags, uint8_t *after);

#define FT_OB_MAX_BYTES 256u

/* The option bytes of a device: where they were read, and how many. */
struct ft_ob_image {
	const struct ft_ob_family *fam;
	uint32_t addr;
	uint32_t len;
	uint8_t data[FT_OB_MAX_BYTES];
};

/*
 * Read the device's option bytes.  fam NULL: the family of the chip's
 * product ID (USART), or of the option-byte alt setting's address (DFU,
 * FT_E_INVALID when two families share it: name one).  Over DFU the
 * session moves to the option-byte alt setting.  FT_E_PROTECTED when
 * readout protection keeps the ROM from reading them.
 */
int ft_ob_read(struct ft_dev *dev, const struct ft_ob_family *fam,
    struct ft_ob_image *out);
/*
 * Program want (the block ft_ob_read gave as before, changed) whole,
 * follow the reset that loads it and read it back into after.  Returns
 * 0 once the ROM took the block; *verified says whether after equals
 * want, and when not the detail says why (the chip did not come back to
 * its bootloader, readout protection, a difference).  On failure the
 * detail says whether the option bytes read back unchanged.
 */
int ft_ob_write(struct ft_dev *dev, const struct ft_ob_image *before,
    const struct ft_ob_image *want, struct ft_ob_image *after,
    int *verified);

#endif /* FLASHTOOL_H */
