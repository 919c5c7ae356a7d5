/*
 * ksim.h - katapult-sim: a Katapult bootloader device (and the Klipper
 * application that requests it) for flashtool's tests.
 *
 * The facts come from Katapult's and Klipper's sources and the
 * datasheets (see README and the tables in model.c), never from
 * flashtool's lib/.  One header, sectioned by the file that defines each
 * declaration.  Times are nanoseconds on CLOCK_MONOTONIC ("model time":
 * when a byte is on the wire or the flash is busy, which with --timing is
 * later than when the simulator computed it).
 */
#ifndef KSIM_H
#define KSIM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define NS_PER_US 1000ull
#define NS_PER_MS 1000000ull
#define NS_PER_S 1000000000ull

/*
 * proto.c - frames, CRC and the two firmware parsers.
 */

/* Katapult frame (src/command.h): 01 88 cmd len(words) payload crc 99 03 */
#define KP_STX1 0x01
#define KP_STX2 0x88
#define KP_SYNC2 0x99
#define KP_SYNC 0x03
#define KP_FRAME_MIN 8		/* MESSAGE_MIN */
#define KP_FRAME_MAX 128	/* MESSAGE_MAX */
#define KP_PROTO_1_1_0 0x00010100u
#define KP_PROTO_1_0_0 0x00010000u

/* Commands (command.h) and responses. */
#define KP_CMD_CONNECT 0x11
#define KP_CMD_SEND_BLOCK 0x12
#define KP_CMD_SEND_EOF 0x13
#define KP_CMD_REQUEST_BLOCK 0x14
#define KP_CMD_COMPLETE 0x15
#define KP_CMD_GET_CANBUS_ID 0x16
#define KP_ACK 0xA0
#define KP_NACK 0xF1
#define KP_ERROR 0xF2
#define KP_BUSY 0xF3		/* host knows it; firmware never sends it */
#define KP_BLOCK_SIZE 64	/* config BLOCK_SIZE, default 64, no prompt */

/* Klipper's own framing (klipper src/command.h), for the application. */
#define KL_SYNC 0x7E
#define KL_FRAME_MIN 5
#define KL_FRAME_MAX 64
#define KL_SEQ_MASK 0x0F
#define KL_DEST 0x10
/* klipper src/generic/serial_irq.c: the 32 bytes after the leading '~'. */
#define KL_SERIAL_REQUEST " \x1c Request Serial Bootloader!! ~"
#define KL_SERIAL_REQUEST_LEN 32

/* Little-endian words, as Katapult's payloads carry them. */
uint32_t ks_rd32(const uint8_t *p);
void ks_wr32(uint8_t *p, uint32_t v);
/* CRC-16/MCRF4XX (Klipper's "crc16_ccitt"): poly 0x8408, init 0xFFFF. */
uint16_t ks_crc16(const uint8_t *p, size_t n);
/* Build a frame; payload is nwords little-endian words.  Returns bytes. */
size_t ks_frame(uint8_t *out, uint8_t cmd, const uint8_t *payload,
    size_t nwords);

/*
 * Katapult's command_find_block() over a receive buffer.  The upstream
 * parser (KS_PARSER_KATAPULT) looks for the next 0x01 from buf[0], so a
 * bad frame that starts with 0x01 pops nothing and the device re-parses
 * it for ever: the wedge of katapult.md 1.12.  KS_PARSER_FIXED pops the
 * first byte too, as Klipper's parser does with its own sync byte.
 */
enum ks_parser_kind { KS_PARSER_KATAPULT, KS_PARSER_FIXED };

struct ks_rx {
	uint8_t buf[192];
	size_t len;
	size_t cap;		/* 192 UART/CAN, 128 USB (usb_cdc.c) */
	uint8_t sync_state;	/* CF_NEED_SYNC | CF_NEED_VALID */
	enum ks_parser_kind kind;
	int wedged;		/* latched: a pop of 0 on an error */
};

enum ks_find {
	KS_FIND_MORE = 0,	/* need more data */
	KS_FIND_FRAME = 1,	/* *pop bytes from buf[0] form a frame */
	KS_FIND_ERROR = -1,	/* *pop bytes are garbage */
};

void ks_rx_init(struct ks_rx *rx, size_t cap, enum ks_parser_kind kind);
/* Append what fits; returns bytes taken (the rest is dropped). */
size_t ks_rx_push(struct ks_rx *rx, const uint8_t *p, size_t n);
void ks_rx_pop(struct ks_rx *rx, size_t n);
/* One call of command_find_block(); *nack set when it sends a NACK. */
enum ks_find ks_rx_find(struct ks_rx *rx, size_t *pop, int *nack);

/* Klipper's parser, for the application: garbage NAKs and the request. */
struct kl_rx {
	uint8_t buf[192];
	size_t len;
	uint8_t sync_state;
	uint8_t next_seq;
};

enum kl_event {
	KL_NONE,
	KL_FRAME,		/* a valid Klipper frame (ignored) */
	KL_GARBAGE,		/* discarded bytes */
	KL_REQUEST,		/* the 32-byte serial bootloader request */
};

void kl_rx_init(struct kl_rx *rx);
size_t kl_rx_push(struct kl_rx *rx, const uint8_t *p, size_t n);
/* One console_task() pass; *nak = Klipper's 5-byte nak when one is sent. */
enum kl_event kl_rx_step(struct kl_rx *rx, uint8_t *nak, size_t *naklen);

/*
 * model.c - the chip models and chip identities.
 */
struct ks_run {
	uint32_t size;		/* bytes per erase unit; 0 ends */
	uint32_t count;
};

enum ks_family { KS_STM32, KS_RP2040 };

struct ks_model {
	const char *key;	/* f042, g0b1, f446, rp2040 */
	const char *mcu;	/* CONFIG_MCU: CONNECT and USB product */
	enum ks_family family;
	uint32_t flash_base;
	uint32_t flash_size;
	uint32_t boot_addr;	/* CONFIG_FLASH_BOOT_ADDRESS */
	uint32_t app_start;	/* CONFIG_LAUNCH_APP_ADDRESS */
	uint32_t ram_top;	/* RAM start + size: the synthetic SP */
	struct ks_run layout[4];
	uint32_t prog_unit;	/* bytes per flash program step */
	uint64_t prog_ns;	/* per step (rp2040: per 256-byte page) */
	/*
	 * How a program step meets a cell that is not erased: 0 refuses the
	 * step (F0 PGERR, G0 PROGERR; F0 still writes 0x0000), 1 clears
	 * bits as NOR does (F4, the RP2040's SPI flash).
	 */
	int prog_and;
	int prog_zero_ok;
	/*
	 * ECC flash (G0, G4): a program unit (a double word plus its ECC
	 * bits) is programmed once between erases, whatever it reads: a
	 * second program is refused (PROGERR), even over all ones.  The
	 * error flags then stay set, as Katapult never clears FLASH_SR, and
	 * every later program and erase is refused (PGSERR) until a reset.
	 */
	int ecc_once;
	uint64_t erase_ns[4];	/* per layout run */
	int usbfs;		/* STM32 "usbfs": first IN packet held */
	uint32_t uart_rx_fifo;	/* bytes the UART keeps while stalled */
	uint32_t can_rx_fifo;	/* frames the CAN RX FIFO keeps */
	uint32_t uid_len;	/* chip UID bytes (stm32 12, rp2040 8) */
	uint8_t uid[12];	/* a default UID */
	uint32_t dfu_vidpid;	/* ROM bootloader without Katapult */
};

const struct ks_model *ks_model_find(const char *key);
const struct ks_model *ks_model_at(size_t i);	/* NULL past the end */
/* Erase unit holding addr: start, size, erase time; -1 outside flash. */
int ks_model_unit(const struct ks_model *m, uint32_t addr,
    uint32_t *start, uint32_t *size, uint64_t *erase_ns);
/* Katapult's flash_get_page_size(): what the firmware believes. */
uint32_t ks_model_page_size(const struct ks_model *m, uint32_t addr);

/* fast-hash's fasthash64 (Zilong Tan); canserial_set_uuid() uses it. */
uint64_t ks_fasthash64(const uint8_t *p, size_t n, uint64_t seed);
#define KS_UUID_SEED 0xA16231A7u
/* CAN UUID: first 6 bytes of the hash in memory (little-endian) order. */
void ks_uuid(const uint8_t *uid, size_t n, uint8_t uuid[6]);
/* USB serial (usb_fill_serial): upper-case hex, high nibble first. */
void ks_usb_serial(const uint8_t *uid, size_t n, char *out, size_t outlen);

/*
 * log.c - the request log.
 */
struct ks_log {
	FILE *f;
	uint64_t t0;
};

extern struct ks_log ks_log;
uint64_t ks_now(void);
/* "<ms since start> <text>", one line, flushed. */
void ks_logf(uint64_t t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Log and print on stderr: faults a client must avoid. */
void ks_shout(uint64_t t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Deterministic random numbers for the faults (splitmix64). */
struct ks_rng {
	uint64_t state;
};

uint64_t ks_rng_next(struct ks_rng *r);
int ks_rng_chance(struct ks_rng *r, double p);

/*
 * flash.c - the flash array (a file, mmap MAP_SHARED) and the firmware's
 * write semantics.
 */

/* A stretch of model time in which the CPU stalls on the flash: a link
 * keeps only its hardware FIFO of what arrives in each step. */
struct ks_stall {
	uint64_t start;
	uint64_t step_ns;	/* one erase or one program step */
	uint32_t steps;
};

#define KS_MAX_STALLS 4

struct ks_work {
	uint64_t ns;		/* total time the command kept the CPU */
	struct ks_stall stall[KS_MAX_STALLS];
	size_t nstall;
};

struct ks_flash {
	const struct ks_model *m;
	uint8_t *mem;
	int fd;
	uint32_t page_writes;	/* page_write_count */
	/* ecc_once: units programmed since their erase; the latched error */
	uint8_t *programmed;
	int err_latched;
	/* rp2040 flash.c: one 256-byte page buffered until flushed */
	int buf_full;
	uint32_t buf_addr;
	uint8_t buf[256];
};

int ks_flash_open(struct ks_flash *f, const struct ks_model *m,
    const char *path, int no_katapult, char *err, size_t errlen);
void ks_flash_close(struct ks_flash *f);
/* In-memory flash for the unit tests (erased, with the bootloader). */
int ks_flash_mem(struct ks_flash *f, const struct ks_model *m);
/* A reset: the flash interface's error flags clear (FLASH_SR). */
void ks_flash_reset(struct ks_flash *f);
/* Write the synthetic Katapult (vector table, signature) or erase it. */
void ks_flash_bootloader(struct ks_flash *f, int present);
int ks_flash_has_katapult(const struct ks_flash *f);
/* application_check_valid(): first word not 0 and not all ones. */
int ks_flash_app_valid(const struct ks_flash *f);
int ks_flash_in(const struct ks_flash *f, uint32_t addr, uint32_t len);
void ks_flash_read(const struct ks_flash *f, uint32_t addr, uint8_t *out,
    uint32_t len);

/* flash_write_block() results (stm32 flash.c returns -1, -2, -3). */
enum ks_wr {
	KS_WR_OK = 0,
	KS_WR_RETRANSMIT = 1,	/* identical data already there: success */
	KS_WR_MISALIGNED = -1,
	KS_WR_OUT_OF_ORDER = -2,
	KS_WR_VERIFY = -3,
	KS_WR_RANGE = -4,	/* rp2040 address checks */
};

/*
 * flash_write_block() of the model's family.  t is when it starts; the
 * erase and program steps are logged at their model times and returned
 * in *w.  cut > 0 programs only the first cut bytes (power lost).
 */
enum ks_wr ks_flash_write(struct ks_flash *f, uint32_t addr,
    const uint8_t *data, uint64_t t, struct ks_work *w, uint32_t cut);
/* flash_complete(): rp2040 flushes its buffer; returns page count. */
uint32_t ks_flash_complete(struct ks_flash *f, uint64_t t,
    struct ks_work *w);
const char *ks_wr_name(enum ks_wr r);

/*
 * device.c - the MCU: Katapult's commands, the Klipper application and
 * what moves between them.
 */
enum ks_link_kind { KS_LINK_UART, KS_LINK_USB, KS_LINK_CAN };

enum ks_runstate {
	KS_RUN_KATAPULT,
	KS_RUN_APP,		/* Klipper */
	KS_RUN_BOOTING,		/* reset in progress, deaf */
	KS_RUN_ROM,		/* ROM DFU / BOOTSEL: gone from this link */
	KS_RUN_DEAD,		/* hard fault: attached but silent */
	KS_RUN_OFF,		/* power lost (a vanish fault) */
};

struct ks_faults {
	double nack;		/* a good frame NACKed, not run */
	double error;		/* a good command answered ERROR, not run */
	double busy;		/* BUSY, not run */
	double lose_ack;	/* run, reply lost */
	long vanish_after;	/* SEND_BLOCKs before power is lost; -1 off */
	long wedge_after;	/* frames before the parser wedges; -1 off */
};

struct ks_devcfg {
	const char *model;
	const char *flash;
	const char *uid_hex;	/* NULL: the model's */
	const char *version;	/* software version string */
	const char *app_image;
	int old_proto;		/* 1.0.0: no version string */
	int start_app;		/* --start app */
	int no_katapult;
	enum ks_parser_kind parser;
};

/* What the device asks of its link. */
enum ks_action {
	KS_ACT_NONE,		/* only the run state changed */
	KS_ACT_DETACH,		/* USB leaves (reset, ROM, vanish) */
	KS_ACT_ATTACH,		/* USB comes back as the current runstate */
};

typedef void (*ks_emit_fn)(void *link, const uint8_t *p, size_t n,
    uint64_t t);
typedef void (*ks_act_fn)(void *link, enum ks_action a, uint64_t t);

#define KS_STALL_RING 8

struct ks_dev {
	const struct ks_model *m;
	struct ks_devcfg cfg;
	struct ks_flash flash;
	enum ks_link_kind link;
	enum ks_runstate run;
	enum ks_runstate after_boot;
	uint64_t boot_done;	/* KS_RUN_BOOTING ends */
	uint64_t complete_at;	/* COMPLETE pending: app jump; 0 none */
	uint8_t uid[12];
	uint32_t uid_len;
	uint8_t uuid[6];
	char serial[32];
	const char *name;	/* for the log: "" or "node N " */
	/* Katapult */
	struct ks_rx rx;
	uint64_t free_at;	/* CPU busy until */
	long blocks_seen;
	long frames_seen;
	/* Klipper application */
	struct kl_rx app_rx;
	/* CAN */
	uint32_t can_id;	/* assigned data id (2n + 0x100); 0 none */
	/* faults */
	struct ks_faults fault;
	struct ks_rng rng;
	int timing;
	uint32_t boot_ms;	/* reset to running firmware */
	/* Output: reply bytes at model time t (the link queues them). */
	ks_emit_fn emit;
	ks_act_fn act;
	void *link_ctx;
	/* Flash stalls still ahead of the link's arrivals (oldest first). */
	struct ks_stall stalls[KS_STALL_RING];
	size_t nstalls;
};

int ks_dev_init(struct ks_dev *d, const struct ks_devcfg *cfg,
    enum ks_link_kind link, char *err, size_t errlen);
void ks_dev_free(struct ks_dev *d);
/*
 * Katapult bytes from the link, arrived at model time t (the link has
 * already applied its own losses).  Parses as the firmware's task loop
 * does and emits replies.  Returns how many bytes the receive buffer
 * took (USB flow control: the rest must wait).
 */
size_t ks_dev_input(struct ks_dev *d, const uint8_t *p, size_t n,
    uint64_t t);
/* Room left in the Katapult receive buffer. */
size_t ks_dev_rx_room(const struct ks_dev *d);
/*
 * If model time t falls in a flash stall (the CPU cannot run the receive
 * interrupt), the start of that erase or program step, else 0.  Calls
 * must come with t not decreasing: older stalls are dropped.
 */
uint64_t ks_dev_stall_step(struct ks_dev *d, uint64_t t);
/* Klipper application bytes (UART/USB). */
void ks_dev_app_input(struct ks_dev *d, const uint8_t *p, size_t n,
    uint64_t t);
/* USB line state seen by the application (check_reboot()). */
void ks_dev_usb_line(struct ks_dev *d, uint32_t rate, int dtr, uint64_t t);
/* Timers: COMPLETE's app jump, end of a reset.  Next due time or 0. */
uint64_t ks_dev_next_timer(const struct ks_dev *d);
void ks_dev_run_timers(struct ks_dev *d, uint64_t now);
/* Reset button: once (bootentry), twice (double reset: Katapult). */
void ks_dev_reset(struct ks_dev *d, int twice, uint64_t t);
/* bootloader_request() of the running Klipper. */
void ks_dev_bootloader_request(struct ks_dev *d, uint64_t t);
const char *ks_run_name(enum ks_runstate r);

/*
 * wire.c - the serial line and the USB bulk pipe.
 */
/* Bit time of one 8N1 character: start, 8 data, stop. */
#define KS_UART_BITS 10u
uint64_t ks_uart_byte_ns(uint32_t baud);
/*
 * What a receiver at rx_baud reads from a back-to-back 8N1 stream sent at
 * tx_baud (the line idles high between bursts): resampled at mid-bit,
 * framing errors delivered as read.  Returns bytes written to out.
 */
size_t ks_uart_resample(const uint8_t *in, size_t n, uint32_t tx_baud,
    uint32_t rx_baud, uint8_t *out, size_t outcap);

#define KS_USB_PACKET 64u
uint64_t ks_usb_packet_ns(size_t len);
/* Next frame start (SOF) at or after t; frame_ns 0: t. */
uint64_t ks_usb_next_frame(uint64_t t, uint64_t frame_ns);

/*
 * termios2.c - any baud rate (TCGETS2/TCSETS2).
 */
/* The tty's output baud and HUPCL; on a pty master, the slave's. */
int ks_tty_get(int fd, uint32_t *baud, int *hupcl);
int ks_tty_set_baud(int fd, uint32_t baud);

/*
 * can.c - CAN 2.0A framing, the admin protocol and the bus.
 */
#define KS_CAN_ADMIN 0x3f0
#define KS_CAN_ADMIN_RESP 0x3f1
#define KS_CAN_QUERY_UNASSIGNED 0x00
#define KS_CAN_SET_KLIPPER_NODEID 0x01
#define KS_CAN_REQUEST_BOOTLOADER 0x02
#define KS_CAN_SET_CANBOOT_NODEID 0x11
#define KS_CAN_CLEAR_CANBOOT_NODEID 0x12
#define KS_CAN_RESP_NEED_NODEID 0x20

struct ks_canframe {
	uint32_t id;
	uint8_t dlc;
	uint8_t data[8];
};

/* Bits on the bus of an 11-bit frame; worst: worst-case stuffing. */
uint32_t ks_can_frame_bits(uint8_t dlc, int worst);
/* Cut a byte stream into <= 8-byte frames; returns frames written. */
size_t ks_can_split(uint32_t id, const uint8_t *p, size_t n,
    struct ks_canframe *out, size_t max);
/* The data id of node id n: 2n + 0x100 (host to node). */
uint32_t ks_can_node_rx_id(uint8_t nodeid);
/*
 * One frame seen by a device on the bus (admin or data).  Replies are
 * written to out (at most max); returns their count.  Data bytes for
 * Katapult go to ks_dev_input (called from here).
 */
size_t ks_can_receive(struct ks_dev *d, const struct ks_canframe *f,
    uint64_t t, struct ks_canframe *out, size_t max);

/*
 * sysfs.c - the kernel's view of one USB device (sysfs and /dev) in a
 * folder that stands for /, for a USB-to-CAN bridge board.
 */
#define KS_SYSFS_PATH 1600

enum ks_usb_class {
	KS_USB_NONE,		/* nothing on the port */
	KS_USB_NET,		/* gs_usb: a CAN network interface */
	KS_USB_TTY,		/* cdc_acm: ttyACM0 */
	KS_USB_PLAIN,		/* no class device (the ROM DFU bootloader) */
};

struct ks_usb_id {
	uint16_t vid, pid;
	const char *manufacturer;
	const char *product;
	const char *serial;	/* NULL or "": no serial attribute */
};

struct ks_sysfs {
	char root[1024];
	char port[32];		/* "1-1.3" */
	char iface[16];		/* "can0" */
	unsigned devnum;
	enum ks_usb_class kind;
};

/* Make the tree's folders under root (created if need be), port empty. */
int ks_sysfs_init(struct ks_sysfs *fs, const char *root, const char *port,
    const char *iface);
/* A device arrives on the port; slave: the pty behind ttyACM0. */
void ks_sysfs_add(struct ks_sysfs *fs, const struct ks_usb_id *id,
    enum ks_usb_class kind, const char *slave);
/* The device leaves. */
void ks_sysfs_remove(struct ks_sysfs *fs);
/* The tty's name under dev/ and sys/class/tty/. */
const char *ks_sysfs_tty(void);

#endif /* KSIM_H */
