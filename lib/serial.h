/*
 * serial.h - the termios seam under the transports that talk over a tty
 * (lib/serial.c): the USART bootloader's port and Katapult's USB CDC or
 * UART link; and the serial ports the kernel knows (lib/ports.c).
 *
 * A port is opened exclusively, put in raw mode with the requested frame
 * format and restored exactly as found when it is closed.  Reads wait with
 * poll() deadlines; nothing here ever blocks without a bound.
 */
#ifndef FT_SERIAL_H
#define FT_SERIAL_H

#include <stddef.h>
#include <stdint.h>

#include "ft_int.h"

struct ft_serial;

struct ft_serial_cfg {
	unsigned baud;		/* 0: 115200 */
	unsigned data_bits;	/* 5..8; 0: 8 */
	char parity;		/* 'n', 'e', 'o'; 0: 'e' */
	unsigned stop_bits;	/* 1 or 2; 0: 1 */
};

/*
 * Open path exclusively and configure it.  Errors: FT_E_NO_DEVICE,
 * FT_E_ACCESS, FT_E_BUSY, FT_E_INVALID (bad settings or not a tty),
 * FT_E_NOT_SUPPORTED (the port refused the baud rate), FT_E_IO,
 * FT_E_NOMEM.  A port that drops parity is accepted with one warning.
 */
int ft_serial_open(struct ft_ctx *ctx, const char *path,
    const struct ft_serial_cfg *cfg, struct ft_serial **out);
/* Restore termios and modem lines, release the lock, close; NULL is ok. */
void ft_serial_close(struct ft_serial *s);

/* Write all of buf within timeout_ms.  FT_E_TIMEOUT or FT_E_IO. */
int ft_serial_write(struct ft_serial *s, const void *buf, size_t len,
    unsigned timeout_ms);
/*
 * Read exactly len bytes within timeout_ms (a deadline for the whole
 * read, not per byte).  On FT_E_TIMEOUT, *got (if not NULL) tells how
 * many bytes did arrive; they are in buf.
 */
int ft_serial_read(struct ft_serial *s, void *buf, size_t len,
    unsigned timeout_ms, size_t *got);
/*
 * Whatever has arrived, up to max bytes: at least one byte, or
 * FT_E_TIMEOUT when nothing came within timeout_ms.  *got tells how
 * many are in buf (also on a line error, FT_E_PROTOCOL).
 */
int ft_serial_read_some(struct ft_serial *s, void *buf, size_t max,
    unsigned timeout_ms, size_t *got);
/* Drop everything received so far (driver queue and our buffer). */
int ft_serial_flush_input(struct ft_serial *s);
/*
 * Read and drop bytes until the line has been quiet for quiet_ms, or
 * max_ms passed.  Returns the number of bytes dropped (or an error).
 */
int ft_serial_discard(struct ft_serial *s, unsigned quiet_ms,
    unsigned max_ms);
/* Wait until everything written has left the UART. */
int ft_serial_drain(struct ft_serial *s);

/*
 * Modem lines, for entry/exit sequences: set DTR and/or RTS (1 asserted,
 * 0 de-asserted, -1 unchanged).  FT_E_NOT_SUPPORTED on ports without
 * modem lines (ptys).
 */
int ft_serial_set_lines(struct ft_serial *s, int dtr, int rts);
/*
 * Leave DTR and RTS as they are at close instead of restoring the levels
 * found at open (an exit sequence has put them where the target wants).
 */
void ft_serial_keep_lines(struct ft_serial *s);
/* Change the speed of the open port (any rate, as at open). */
int ft_serial_set_baud(struct ft_serial *s, unsigned baud);
/*
 * Close without restoring the line settings or modem lines: after
 * Klipper's 1200-baud touch the device is gone, and a restored DTR or
 * speed must not reach whatever enumerates next.
 */
void ft_serial_keep_settings(struct ft_serial *s);
/* Hold the line in BREAK for ms milliseconds. */
int ft_serial_break(struct ft_serial *s, unsigned ms);

/* Bit times per character of the configured frame (start+data+parity+stop). */
unsigned ft_serial_char_bits(const struct ft_serial *s);
unsigned ft_serial_baud(const struct ft_serial *s);
const char *ft_serial_path(const struct ft_serial *s);

/*
 * Speeds through Linux's termios2 (lib/termios2.c), for rates without a
 * Bnnn constant; -1 (errno set) when the port or system has none.
 */
int ft_tty_custom_get(int fd, unsigned *ispeed, unsigned *ospeed,
    int *custom);
int ft_tty_custom_set(int fd, unsigned ispeed, unsigned ospeed);

/* ft_serial_list() under other sysfs and /dev roots (lib/ports.c). */
int ft_serial_list_at(struct ft_ctx *ctx, const char *sysroot,
    const char *devroot, struct ft_port_entry **out, size_t *count);

#endif /* FT_SERIAL_H */
