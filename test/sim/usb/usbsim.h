/*
 * usbsim.h - the simulated STM32 DFU devices (device.c, config.c) and
 * what their front ends call: the simulated libusb (libusb.c, preloaded)
 * and the USB/IP device server (test/sim/usbip/), which puts the same
 * devices on a real kernel's USB host stack.  The model is transport
 * neutral: it takes control requests and answers bytes or a SIM_E_*
 * result, and says through mode and gen when it left or rejoined the bus.
 * See README in this directory for the configuration language and the
 * device models.  Nothing here is part of flashtool.
 */
#ifndef USBSIM_H
#define USBSIM_H

#include <stddef.h>
#include <stdint.h>

/* Internal symbols must not leak into the program we are preloaded into. */
#define SIM_HIDDEN __attribute__((visibility("hidden")))

enum {
	SIM_MAX_DEVS = 16,
	SIM_MAX_ALTS = 4,
	SIM_MAX_RUNS = 4,
	SIM_MAX_PORTS = 7,
	SIM_OPT_MAX = 64,	/* largest option-byte area of any model */
	SIM_OTP_MAX = 1024	/* largest OTP area of any model */
};

/*
 * Results of a request other than a byte count.  Each front end maps them
 * onto what its host sees (libusb errors, or URB status codes).
 */
enum sim_err {
	SIM_E_STALL = -1,	/* STALL handshake */
	SIM_E_IO = -2,		/* no handshake: the device reset mid-request */
	SIM_E_TIMEOUT = -3,	/* NAKed until the host's timeout expired */
	SIM_E_GONE = -4,	/* no longer on the bus */
	SIM_E_NOT_FOUND = -5,	/* no such alt setting; a reset re-enumerated */
	SIM_E_PARAM = -6	/* a data stage without a buffer */
};

/* USB 2.0 chapter 9: request types, requests, descriptor types, classes. */
enum {
	USB_DIR_IN = 0x80,
	USB_TYPE_MASK = 0x60,
	USB_TYPE_STANDARD = 0x00,
	USB_TYPE_CLASS = 0x20,
	USB_REQ_GET_STATUS = 0,
	USB_REQ_SET_ADDRESS = 5,
	USB_REQ_GET_DESCRIPTOR = 6,
	USB_REQ_GET_CONFIGURATION = 8,
	USB_REQ_SET_CONFIGURATION = 9,
	USB_REQ_GET_INTERFACE = 10,
	USB_REQ_SET_INTERFACE = 11,
	USB_DT_DEVICE = 1,
	USB_DT_CONFIG = 2,
	USB_DT_STRING = 3,
	USB_DT_INTERFACE = 4,
	USB_CLASS_COMM = 0x02,
	USB_CLASS_APP_SPEC = 0xfe
};

/* DFU 1.1 bState values. */
enum sim_dfu_state {
	ST_APP_IDLE = 0,
	ST_APP_DETACH = 1,
	ST_IDLE = 2,
	ST_DNLOAD_SYNC = 3,
	ST_DNBUSY = 4,
	ST_DNLOAD_IDLE = 5,
	ST_MANIFEST_SYNC = 6,
	ST_MANIFEST = 7,
	ST_MANIFEST_WAIT_RESET = 8,
	ST_UPLOAD_IDLE = 9,
	ST_ERROR = 10
};

/* DFU 1.1 bStatus values. */
enum sim_dfu_status {
	SS_OK = 0,
	SS_TARGET = 1,
	SS_WRITE = 3,
	SS_ERASE = 4,
	SS_PROG = 6,
	SS_ADDRESS = 8,
	SS_FIRMWARE = 10,
	SS_VENDOR = 11,
	SS_STALLEDPKT = 15
};

/* Which backing store an alternate setting addresses. */
enum sim_mem { MEM_FLASH, MEM_OPT, MEM_OTP, MEM_FEATURE };

/* Access bits of a memory region, as in the DfuSe layout letters. */
enum { ACC_R = 1, ACC_E = 2, ACC_W = 4 };

/* Model flags. */
enum {
	MF_DFUSE = 1 << 0,	/* ST DfuSe extensions (bcdDFU 0x011A) */
	MF_START_ERROR = 1 << 1,	/* enters DFU in dfuERROR/errFIRMWARE */
	MF_STRICT_POLL = 1 << 2,	/* STALLs GETSTATUS polled too early */
	MF_RUNTIME = 1 << 3	/* run-time personality (appIDLE) */
};

/* Device presence, persisted in the state file. */
enum sim_mode { MODE_OFF, MODE_GONE, MODE_DFU, MODE_RUNTIME, MODE_APP };

struct sim_run {
	uint32_t count;
	uint32_t size;
};

struct sim_alt {
	const char *name;	/* interface string, DfuSe layout included */
	enum sim_mem mem;
	uint32_t base;
	uint32_t size;		/* bytes */
	unsigned access;	/* ACC_* */
	struct sim_run runs[SIM_MAX_RUNS];	/* erase units, flash only */
};

/*
 * One USB personality: descriptors, memory map and default timings.
 * Timings are in ms unless the name says otherwise; "poll" is what the
 * device reports in bwPollTimeout, "busy" how long it really works.
 */
struct sim_model {
	const char *name;
	uint16_t vid, pid, bcd_device;
	const char *manufacturer, *product, *serial;
	unsigned flags;		/* MF_* */
	uint8_t attrs;		/* DFU functional bmAttributes */
	uint16_t detach_ms;
	uint16_t xfer;		/* wTransferSize */
	uint16_t bcd_dfu;
	uint8_t rdp_off;	/* RDP byte in the option bytes */
	/* The option-byte model (test/sim/ob/obfacts.c) of the option
	 * bytes alt; NULL: 0xFF with RDP at rdp_off (and F0 complements). */
	const char *ob_family;
	unsigned nalts;
	struct sim_alt alts[SIM_MAX_ALTS];
	unsigned erase_poll_ms, erase_busy_ms, erase_busy_per_kib_ms;
	unsigned write_poll_ms, write_busy_us_per_kib;
	unsigned cmd_poll_ms, cmd_busy_ms;
	unsigned mass_poll_ms, mass_busy_ms;
	unsigned manifest_ms;
	const char *dfu_model;	/* run-time: model it detaches into */
};

/* A pending DFU operation, executed at the first GETSTATUS. */
enum sim_op {
	OP_NONE, OP_SETADDR, OP_ERASE, OP_MASS, OP_UNPROTECT, OP_WRITE,
	OP_BADCMD, OP_LEAVE, OP_MANIFEST
};

struct sim_dev {
	int idx;
	char path[32];
	uint8_t bus, nports, ports[SIM_MAX_PORTS];
	const struct sim_model *rt;	/* personality in MODE_RUNTIME */
	const struct sim_model *dfu;	/* personality in MODE_DFU */
	char *flash_path, *state_path, *log_path;
	int log_fd;
	char serial[64];	/* "" = the model's */
	int have_id;
	uint16_t id_vid, id_pid;	/* override of the main personality */
	int have_app;		/* app=: the application enumerates */
	uint16_t app_vid, app_pid;	/* as this non-DFU device (CDC) */

	/* Behaviour switches from the configuration line. */
	int timing, boot0_held, rdp_init, access_denied, leave_drop;
	int stall_err, tolerant, will_detach;
	double stall_rate, timeout_rate;
	long disconnect_after;
	uint64_t rng;
	long reenum_ms;
	long plug_ms;		/* plug=: first on the bus this long after
				 * power-on (-1: at once) */
	long erase_poll, erase_busy, write_poll, write_busy;
	long cmd_poll, cmd_busy, mass_poll, mass_busy, manifest;

	/* Memories. */
	uint8_t *flash;
	size_t flash_size;
	uint8_t opt[SIM_OPT_MAX];
	uint8_t otp[SIM_OTP_MAX];
	uint8_t feature[4];

	/* Persistent state (state file). */
	int mode, pending_mode;
	int64_t pending_at_ms;	/* CLOCK_REALTIME, shared by processes */
	unsigned gen;
	uint8_t state, status;
	uint32_t ptr;

	/* Volatile state. */
	int alt;
	int open_count;
	unsigned long dfu_requests;
	int64_t detach_deadline_ms;
	enum sim_op op;
	uint32_t op_addr;
	uint16_t op_len;
	uint8_t op_buf[4096];
	uint8_t op_status;
	int op_first;		/* plain DFU: first block erases */
	int64_t busy_until_ms, poll_until_ms;	/* CLOCK_MONOTONIC */
	char saved[8192];	/* last state file text written */
};

/* config.c */
SIM_HIDDEN int sim_load_config(void);
SIM_HIDDEN extern struct sim_dev *sim_devs[SIM_MAX_DEVS];
SIM_HIDDEN extern int sim_ndevs;
SIM_HIDDEN const struct sim_model *sim_find_model(const char *name);

/* device.c */
SIM_HIDDEN int sim_dev_init(struct sim_dev *sd);
SIM_HIDDEN void sim_refresh(struct sim_dev *sd);
SIM_HIDDEN void sim_save(struct sim_dev *sd);
SIM_HIDDEN const struct sim_model *sim_personality(const struct sim_dev *sd,
    int mode);
SIM_HIDDEN uint16_t sim_vid(const struct sim_dev *sd, int mode);
SIM_HIDDEN uint16_t sim_pid(const struct sim_dev *sd, int mode);
SIM_HIDDEN const char *sim_string(const struct sim_dev *sd, int mode,
    unsigned idx);
SIM_HIDDEN size_t sim_config_bytes(const struct sim_dev *sd, int mode,
    uint8_t *buf, size_t len);
SIM_HIDDEN void sim_dfu_functional(const struct sim_dev *sd, int mode,
    uint8_t out[9]);
SIM_HIDDEN size_t sim_device_bytes(const struct sim_dev *sd, int mode,
    uint8_t out[18]);
SIM_HIDDEN int sim_control(struct sim_dev *sd, int mode, uint8_t rtype,
    uint8_t req, uint16_t wvalue, uint16_t windex, uint8_t *data,
    uint16_t wlength, unsigned timeout_ms);
SIM_HIDDEN int sim_set_alt(struct sim_dev *sd, int alt);
SIM_HIDDEN int sim_reset(struct sim_dev *sd);
SIM_HIDDEN void sim_log(struct sim_dev *sd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
SIM_HIDDEN int64_t sim_mono_ms(void);
SIM_HIDDEN int64_t sim_real_ms(void);

#endif
