/*
 * tty.c - modem lines, BREAK and serial_struct on the simulator's pty.
 *
 * A pty answers TIOCMGET/TIOCMSET/TIOCMBIS/TIOCMBIC and TIOCGSERIAL with
 * ENOTTY and drops breaks on the floor.  On the simulator's pty slave
 * (the st_rdev its HELLO names; without a simulator, any Unix98 pty
 * slave) this file plays a USB-serial adapter as the Linux tty layer
 * drives it:
 *   - every open raises DTR and RTS unless the stored speed is B0
 *     (tty_port_block_til_ready), the last close lowers both if HUPCL
 *     is set (tty_port_shutdown);
 *   - TCSBRK with 0 and TCSBRKP send a break of 250 ms or arg * 100 ms
 *     after draining output, blocking the caller that long; TIOCSBRK
 *     and TIOCCBRK switch it on and off;
 *   - TIOCGSERIAL/TIOCSSERIAL keep one serial_struct per device.
 * The device state lives in the simulator (it is the hardware); this
 * file keeps a copy for when no simulator is listening.  Open counts
 * are per process: the simulator adds up its clients.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/serial.h>
#include <linux/tty_flags.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "shim.h"

#define PTY_SLAVE_MAJOR_FIRST 136	/* UNIX98_PTY_SLAVE_MAJOR */
#define PTY_SLAVE_MAJORS 8
#define BREAK_DEFAULT_MS 250		/* TCSBRK 0, TCSBRKP 0 */
#define BREAK_UNIT_MS 100		/* TCSBRKP counts deciseconds */
#define MS_PER_TCSENDBREAK_UNIT 100	/* glibc: duration rounded up */
/* What ftdi_sio reports for an FT232R: 48 MHz / 2, 16550A-like. */
#define FTDI_BAUD_BASE 24000000
#define SERIAL_TYPE_16550A 4
#define SERIAL_CLOSE_DELAY_CS 50
#define SERIAL_CLOSING_WAIT_CS 3000

static int local_dtr, local_rts, local_brk;
static int local_serial_flags;
static int opens;		/* this process's opens of the device */

int
tty_is_ours(int fd)
{
	struct stat st;
	dev_t want;

	if (fd < 0 || gpio_tracked(fd) || shim_real.fstat(fd, &st) != 0 ||
	    !S_ISCHR(st.st_mode))
		return 0;
	want = shim_sim_rdev();
	if (want != 0)
		return st.st_rdev == want;
	return major(st.st_rdev) >= PTY_SLAVE_MAJOR_FIRST &&
	    major(st.st_rdev) < PTY_SLAVE_MAJOR_FIRST + PTY_SLAVE_MAJORS;
}

/* Copy the device state from a simulator reply. */
static void
take_reply(const char *reply)
{
	long v;

	if ((v = shim_reply_num(reply, "dtr")) >= 0)
		local_dtr = v != 0;
	if ((v = shim_reply_num(reply, "rts")) >= 0)
		local_rts = v != 0;
	if ((v = shim_reply_num(reply, "serial")) >= 0)
		local_serial_flags = (int)v;
}

static void
set_lines(int dtr, int rts)
{
	char reply[SHIM_REPLY_MAX];
	uint64_t t = shim_now_us();

	local_dtr = dtr;
	local_rts = rts;
	if (shim_request(reply, sizeof(reply), "TTY SET t=%llu dtr=%d rts=%d",
	    (unsigned long long)t, dtr, rts) == 1)
		take_reply(reply);
}

static void
refresh(void)
{
	char reply[SHIM_REPLY_MAX];

	if (shim_request(reply, sizeof(reply), "TTY GET") == 1)
		take_reply(reply);
}

void
tty_after_open(int fd)
{
	char reply[SHIM_REPLY_MAX];
	struct termios t;
	uint64_t now = shim_now_us();
	int baud0;

	if (!tty_is_ours(fd))
		return;
	opens++;
	baud0 = tcgetattr(fd, &t) == 0 && cfgetospeed(&t) == B0;
	if (!baud0)
		local_dtr = local_rts = 1;
	if (shim_request(reply, sizeof(reply), "TTY OPEN t=%llu baud0=%d",
	    (unsigned long long)now, baud0) == 1)
		take_reply(reply);
}

int
tty_before_close(int fd, int *hupcl)
{
	struct termios t;

	if (!tty_is_ours(fd))
		return 0;
	*hupcl = tcgetattr(fd, &t) == 0 && (t.c_cflag & HUPCL) != 0;
	return 1;
}

void
tty_after_close(int hupcl)
{
	char reply[SHIM_REPLY_MAX];
	uint64_t now = shim_now_us();

	if (opens > 0)
		opens--;
	if (opens == 0 && hupcl)
		local_dtr = local_rts = 0;
	if (shim_request(reply, sizeof(reply), "TTY CLOSE t=%llu hupcl=%d",
	    (unsigned long long)now, hupcl) == 1)
		take_reply(reply);
}

static void
report_break(int on)
{
	char reply[SHIM_REPLY_MAX];

	local_brk = on;
	(void)shim_request(reply, sizeof(reply), "TTY BREAK t=%llu on=%d",
	    (unsigned long long)shim_now_us(), on);
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { (time_t)(ms / 1000),
	    (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* The kernel's send_break(): drain, break on, sleep, break off. */
static int
timed_break(int fd, unsigned ms)
{
	(void)tcdrain(fd);
	report_break(1);
	sleep_ms(ms);
	report_break(0);
	return 0;
}

int
tty_send_break(int fd, int duration)
{
	/* glibc: 0 or less is TCSBRK 0, else TCSBRKP in deciseconds. */
	if (duration <= 0)
		return timed_break(fd, BREAK_DEFAULT_MS);
	return timed_break(fd, (unsigned)((duration +
	    MS_PER_TCSENDBREAK_UNIT - 1) / MS_PER_TCSENDBREAK_UNIT) *
	    BREAK_UNIT_MS);
}

static void
get_serial(struct serial_struct *ss)
{
	memset(ss, 0, sizeof(*ss));
	ss->type = SERIAL_TYPE_16550A;
	ss->line = 0;
	ss->flags = local_serial_flags;
	ss->xmit_fifo_size = 0;
	ss->baud_base = FTDI_BAUD_BASE;
	ss->close_delay = SERIAL_CLOSE_DELAY_CS;
	ss->closing_wait = SERIAL_CLOSING_WAIT_CS;
}

static int
set_serial(const struct serial_struct *ss)
{
	char reply[SHIM_REPLY_MAX];

	local_serial_flags = ss->flags;
	(void)shim_request(reply, sizeof(reply),
	    "TTY SERIAL t=%llu flags=0x%x low_latency=%d",
	    (unsigned long long)shim_now_us(), (unsigned)ss->flags,
	    (ss->flags & ASYNC_LOW_LATENCY) != 0);
	return 0;
}

static int
modem_bits(void)
{
	return (local_dtr ? TIOCM_DTR : 0) | (local_rts ? TIOCM_RTS : 0);
}

int
tty_ioctl(int fd, unsigned long req, void *arg, int *ret)
{
	int bits;

	switch (req) {
	case TIOCMGET: case TIOCMSET: case TIOCMBIS: case TIOCMBIC:
	case TCSBRK: case TCSBRKP: case TIOCSBRK: case TIOCCBRK:
	case TIOCGSERIAL: case TIOCSSERIAL:
		break;
	default:
		return 0;
	}
	if (!tty_is_ours(fd))
		return 0;
	*ret = 0;
	if (arg == NULL && req != TCSBRK && req != TCSBRKP &&
	    req != TIOCSBRK && req != TIOCCBRK) {
		errno = EFAULT;
		*ret = -1;
		return 1;
	}
	switch (req) {
	case TIOCMGET:
		refresh();
		*(int *)arg = modem_bits();
		break;
	case TIOCMSET:
	case TIOCMBIS:
	case TIOCMBIC:
		refresh();
		memcpy(&bits, arg, sizeof(bits));
		if (req == TIOCMSET)
			bits = bits & (TIOCM_DTR | TIOCM_RTS);
		else if (req == TIOCMBIS)
			bits = modem_bits() | bits;
		else
			bits = modem_bits() & ~bits;
		set_lines((bits & TIOCM_DTR) != 0, (bits & TIOCM_RTS) != 0);
		break;
	case TCSBRK:
		/* A nonzero argument only waits for the output to drain. */
		if ((unsigned long)arg != 0)
			*ret = shim_real.ioctl(fd, TCSBRK, arg);
		else
			*ret = timed_break(fd, BREAK_DEFAULT_MS);
		break;
	case TCSBRKP:
		*ret = timed_break(fd, (unsigned long)arg != 0 ?
		    (unsigned)(unsigned long)arg * BREAK_UNIT_MS :
		    BREAK_DEFAULT_MS);
		break;
	case TIOCSBRK:
		report_break(1);
		break;
	case TIOCCBRK:
		report_break(0);
		break;
	case TIOCGSERIAL:
		refresh();
		get_serial(arg);
		break;
	case TIOCSSERIAL:
		*ret = set_serial(arg);
		break;
	}
	(void)local_brk;
	return 1;
}
