/*
 * board.h - the board around the simulated chip: NRST and BOOT0 wired to
 * the adapter's DTR/RTS or to GPIO lines (board.c).
 */
#ifndef BOARD_H
#define BOARD_H

#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define BOARD_MAX_CONNS 16
#define BOARD_MAX_SYSFS 16
#define BOARD_NAME_MAX 32
#define BOARD_POLLFDS (2 + BOARD_MAX_CONNS)

enum src_kind {
	SRC_NONE,		/* unwired: the pin's pull */
	SRC_CONST,		/* tied high or low */
	SRC_DTR,
	SRC_RTS,
	SRC_SYSFS,		/* /sys/class/gpio/gpioN */
	SRC_CDEV,		/* gpiochipX line (offset or name) */
};

struct wire {
	const char *pin;	/* "nrst" or "boot0" */
	enum src_kind kind;
	int invert;		/* pin = source XOR invert */
	int pull;		/* pin level while the source floats */
	int tied;		/* SRC_CONST level */
	unsigned sysfs;
	char chip[BOARD_NAME_MAX];
	char line[BOARD_NAME_MAX];
	int src;		/* source level 0/1, -1 floating */
	int owner;		/* SRC_CDEV: connection that drives it */
};

enum board_run {
	RUN_HELD,		/* NRST low */
	RUN_APP,		/* application: deaf on the UART */
	RUN_BOOTLOADER,		/* ROM bootloader, waiting for 0x7F */
};

struct board_conn {
	int fd;
	int opens;		/* its opens of the tty, minus closes */
	size_t len;
	char buf[1024];
};

struct sysfs_line {
	unsigned n;
	int wd;			/* inotify watch on gpioN/ */
	int out;
	int value;		/* logical */
	int active_low;
};

struct board {
	int active;
	struct wire nrst, boot0;
	int start_bootloader;
	int dtr, rts, brk;	/* modem lines, 1 = asserted */
	unsigned serial_flags;
	int opens;		/* tty opens by all clients */
	int pin_nrst, pin_boot0;
	enum board_run run;
	unsigned resets;	/* NRST edges so far */
	/*
	 * Called at each NRST edge, before the request that caused it is
	 * answered: the chip drops what reached its UART until then, and
	 * the host's next byte, sent after the answer, must survive.
	 */
	void (*on_reset)(void *ctx);
	void *reset_ctx;
	/*
	 * Where NRST rising boots, from the BOOT0 pin's level: the chip's
	 * option bytes may ignore the pin (G0 nBOOT_SEL) or an empty flash
	 * may boot the ROM anyway; why says so for the log.  NULL: BOOT0
	 * high runs the bootloader, low the application.
	 */
	enum board_run (*boot_select)(void *ctx, int boot0, char *why,
	    size_t whylen);
	void *boot_ctx;
	dev_t rdev;		/* the pty slave the shim must watch */
	int slave;		/* to read HUPCL from the shared termios */
	FILE *log;
	uint64_t t0_ns;
	char pending[512];	/* RESET lines logged after their BOARD line */

	const char *sock_path;
	int listen_fd;
	struct board_conn conns[BOARD_MAX_CONNS];

	const char *sysfs_dir;
	int ino_fd;
	int dir_wd;
	struct sysfs_line sysfs[BOARD_MAX_SYSFS];
	size_t nsysfs;
};

struct sim_opts;

/* Parse --board SPEC into b (see README); -1 with a message in err. */
int board_parse(struct board *b, const char *spec, char *err,
    size_t errlen);
/* Power on: socket, sysfs tree, first pin levels and run state. */
int board_open(struct board *b, int slave_fd, FILE *log, uint64_t t0_ns,
    char *err, size_t errlen);
void board_close(struct board *b);
/* Descriptors to poll; returns how many were filled (<= BOARD_POLLFDS). */
int board_pollfds(struct board *b, struct pollfd *p);
/* Handle what poll reported in p[0..n). */
void board_service(struct board *b, const struct pollfd *p, int n);
/* The chip ran Go: it is in the application now. */
void board_go(struct board *b);

#endif /* BOARD_H */
