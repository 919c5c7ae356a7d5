/*
 * shim.h - libft-shim.so, an LD_PRELOAD library that gives a host tool
 * (flashtool, stm32flash) the parts of a real board that a pty and an
 * empty /dev cannot: modem lines, BREAK and serial_struct on the
 * simulator's pty (tty.c), and fake GPIO character devices (gpio.c).
 * Every change is reported to stm32-usart-sim over a unix socket
 * (core.c), one request line and one reply line each, so the simulator
 * has seen the change before the tool's next byte reaches the pty.
 *
 * Environment:
 *   FT_BOARD_SOCKET=PATH  the simulator's board socket; unset: modem
 *                         lines on every pty slave are kept locally and
 *                         reported nowhere
 *   FT_GPIO_CHIPS=SPEC    fake /dev/gpiochipN devices (see gpio.c)
 *   FT_SHIM_DEBUG=1       trace requests on stderr
 *   FT_SHIM_PARITY=1      decode stm32-usart-sim --parity-errors escapes
 *                         into what n_tty delivers for the program's
 *                         termios (tty.c)
 *
 * The shim is test code loaded into foreign programs: it keeps its state
 * in file-scope variables behind one mutex, and calls the real libc
 * functions through pointers from dlsym(RTLD_NEXT) so that its own
 * open/close/ioctl never recurse into the hooks.
 */
#ifndef FT_SHIM_H
#define FT_SHIM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#define SHIM_REPLY_MAX 256

/* Real libc entry points (core.c resolves them once). */
struct shim_real {
	int (*openat)(int, const char *, int, ...);
	int (*close)(int);
	int (*ioctl)(int, unsigned long, ...);
	int (*fstat)(int, struct stat *);
	int (*fstatat)(int, const char *, struct stat *, int);
	int (*faccessat)(int, const char *, int, int);
};

extern struct shim_real shim_real;

void shim_lock(void);
void shim_unlock(void);
uint64_t shim_now_us(void);
void shim_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Send one request line (without '\n') and read the reply line into
 * reply.  Returns 1 on "OK ...", 0 on "ERR ...", -1 when there is no
 * simulator to ask (FT_BOARD_SOCKET unset or unreachable).  Call with
 * the lock held.
 */
int shim_request(char *reply, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The simulator's pty slave, from its HELLO reply; 0: none known. */
dev_t shim_sim_rdev(void);
int shim_connected(void);
/* Value of KEY=... in a reply line; -1 if absent. */
long shim_reply_num(const char *reply, const char *key);

/* tty.c */
int tty_is_ours(int fd);
void tty_after_open(int fd);
/* Before the real close: 1 if fd is our tty (and *hupcl is set). */
int tty_before_close(int fd, int *hupcl);
void tty_after_close(int hupcl);
/* Returns 1 when handled (*ret set, errno set on failure). */
int tty_ioctl(int fd, unsigned long req, void *arg, int *ret);
int tty_send_break(int fd, int duration);

/* gpio.c */
/* 1: path names a configured chip (fd or -1 in *ret); 0: not ours. */
int gpio_open(const char *path, int flags, int *ret);
int gpio_tracked(int fd);
int gpio_ioctl(int fd, unsigned long req, void *arg, int *ret);
void gpio_after_close(int fd);
/* stat/access of /dev/gpiochipN: 1 handled (*ret, errno), 0 not ours. */
int gpio_stat_path(const char *path, struct stat *st, int *ret);
int gpio_fstat(int fd, struct stat *st);
/* Extra /dev entries for readdir: the chip name at index i or NULL. */
const char *gpio_chip_name(size_t i);

#endif /* FT_SHIM_H */
