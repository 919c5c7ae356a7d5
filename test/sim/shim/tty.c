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
 *
 * Parity errors (FT_SHIM_PARITY=1, with stm32-usart-sim --parity-errors):
 * a pty has no parity, so the simulator sends a byte that failed the
 * check behind an in-band escape, ESC 0x01 X, and a good ESC as ESC 0x00
 * (ESC is LINK_PAR_ESC in test/sim/usart/sim.h).  read() on the pty
 * takes the escapes out and delivers what the Linux line discipline
 * (n_tty) would, given the input flags the program set:
 *   good byte c:  ISTRIP: c & 0x7F; then PARMRK and c == 0xFF: 0xFF 0xFF;
 *   damaged X:    no INPCK: X; INPCK and IGNPAR: nothing; INPCK and
 *                 PARMRK: 0xFF 0x00 X; INPCK alone: 0x00.
 * A pty would double 0xFF under PARMRK and strip under ISTRIP by itself,
 * before the escapes are seen, so tcsetattr() passes the pty a copy
 * without PARMRK and ISTRIP and remembers them; tcgetattr() puts them
 * back.  Without FT_SHIM_PARITY nothing of this happens.  Limit: output
 * held back for a read(2) of fewer than 3 bytes is not seen by poll(2).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/serial.h>
#include <linux/tty_flags.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <dlfcn.h>
#include <stdlib.h>
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

/* The simulator's parity escape (LINK_PAR_ESC in test/sim/usart/sim.h). */
#define PAR_ESC 0xF5u
#define PAR_LITERAL 0x00u
#define PAR_ERROR 0x01u
/* What PARMRK puts in front of a damaged byte (termios(3)). */
#define MARK_ESC 0xFFu
#define MARK_ERR 0x00u
/* One input byte can finish ESC 0x01 X and come out as 0xFF 0x00 X. */
#define PAR_MAX_OUT_PER_BYTE 3u
#define PAR_READ_CHUNK 1024u
/* Input flags the shim plays instead of the pty. */
#define PAR_PLAYED_IFLAGS ((tcflag_t)(PARMRK | ISTRIP))

static int local_dtr, local_rts, local_brk;
static int local_serial_flags;
static int opens;		/* this process's opens of the device */

static int parity_on = -1;	/* FT_SHIM_PARITY, read once */
static tcflag_t played_iflags;	/* PARMRK/ISTRIP as the program set them */
static enum { PS_DATA, PS_ESC, PS_ERROR } par_state;
static uint8_t par_pend[PAR_MAX_OUT_PER_BYTE];	/* decoded, not yet read */
static size_t par_npend;
static _Thread_local int in_read_hook;

static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_read_chk)(int, void *, size_t, size_t);
static int (*real_tcsetattr)(int, int, const struct termios *);
static int (*real_tcgetattr)(int, struct termios *);

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
	/* Nothing of an earlier client's escapes reaches this one. */
	par_state = PS_DATA;
	par_npend = 0;
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

/*
 * Parity errors (see the top of the file).
 */
static void
resolve_par(void)
{
	const char *e;

	if (real_read != NULL)
		return;
	*(void **)&real_read_chk = dlsym(RTLD_NEXT, "__read_chk");
	*(void **)&real_tcsetattr = dlsym(RTLD_NEXT, "tcsetattr");
	*(void **)&real_tcgetattr = dlsym(RTLD_NEXT, "tcgetattr");
	e = getenv("FT_SHIM_PARITY");
	parity_on = e != NULL && *e != '\0' && *e != '0';
	/* Last: it doubles as the "resolved" flag. */
	*(void **)&real_read = dlsym(RTLD_NEXT, "read");
}

/* What n_tty queues for one byte, given the program's input flags. */
static size_t
deliver(tcflag_t iflag, uint8_t c, int damaged, uint8_t *out)
{
	size_t n = 0;

	if (damaged) {
		if (!(iflag & INPCK)) {
			out[n++] = c;
		} else if (iflag & IGNPAR) {
			/* dropped */
		} else if (iflag & PARMRK) {
			out[n++] = MARK_ESC;
			out[n++] = MARK_ERR;
			out[n++] = c;
		} else {
			out[n++] = 0;
		}
		return n;
	}
	if (iflag & ISTRIP)
		c &= 0x7F;
	if ((iflag & PARMRK) && c == MARK_ESC)
		out[n++] = MARK_ESC;
	out[n++] = c;
	return n;
}

/* Decode one escaped byte from the simulator into out. */
static size_t
unescape(tcflag_t iflag, uint8_t c, uint8_t *out)
{
	switch (par_state) {
	case PS_DATA:
		if (c == PAR_ESC) {
			par_state = PS_ESC;
			return 0;
		}
		return deliver(iflag, c, 0, out);
	case PS_ESC:
		par_state = c == PAR_ERROR ? PS_ERROR : PS_DATA;
		if (c == PAR_ERROR)
			return 0;
		return deliver(iflag, c == PAR_LITERAL ? PAR_ESC : c, 0,
		    out);
	default:
		par_state = PS_DATA;
		return deliver(iflag, c, 1, out);
	}
}

static size_t
take_pending(uint8_t *buf, size_t n)
{
	size_t k = par_npend < n ? par_npend : n;

	memcpy(buf, par_pend, k);
	memmove(par_pend, par_pend + k, par_npend - k);
	par_npend -= k;
	return k;
}

/*
 * Read from the pty at most a third of what fits, so that the decoded
 * bytes fit too; a read of fewer than 3 bytes may leave some for the
 * next call.  A raw read that decodes to nothing (an escape cut in two,
 * a byte IGNPAR drops) is followed by another, which returns 0 or
 * EAGAIN when nothing more is there, as the pty itself would.
 */
static ssize_t
par_read(int fd, uint8_t *buf, size_t n)
{
	uint8_t raw[PAR_READ_CHUNK], dec[PAR_READ_CHUNK * PAR_MAX_OUT_PER_BYTE];
	struct termios t;
	tcflag_t iflag = 0;
	size_t want, i, m, k;
	ssize_t r;

	if (par_npend > 0)
		return (ssize_t)take_pending(buf, n);
	if (n == 0)
		return real_read(fd, buf, 0);
	if (real_tcgetattr(fd, &t) == 0)
		iflag = (t.c_iflag & ~PAR_PLAYED_IFLAGS) | played_iflags;
	want = n / PAR_MAX_OUT_PER_BYTE;
	if (want == 0)
		want = 1;
	if (want > sizeof(raw))
		want = sizeof(raw);
	for (;;) {
		r = real_read(fd, raw, want);
		if (r <= 0)
			return r;
		for (i = 0, m = 0; i < (size_t)r; i++)
			m += unescape(iflag, raw[i], dec + m);
		if (m > 0)
			break;
	}
	k = m < n ? m : n;
	memcpy(buf, dec, k);
	memcpy(par_pend, dec + k, m - k);
	par_npend = m - k;
	return (ssize_t)k;
}

/* Is fd the simulator's pty, with parity errors played? */
static int
par_fd(int fd)
{
	int ours;

	resolve_par();
	if (!parity_on || in_read_hook)
		return 0;
	/* tty_is_ours may talk to the simulator, which reads a socket. */
	in_read_hook = 1;
	ours = tty_is_ours(fd);
	in_read_hook = 0;
	return ours;
}

ssize_t
read(int fd, void *buf, size_t n)
{
	ssize_t r;
	int saved;

	shim_lock();
	if (!par_fd(fd)) {
		shim_unlock();
		return real_read(fd, buf, n);
	}
	in_read_hook = 1;
	r = par_read(fd, buf, n);
	saved = errno;
	in_read_hook = 0;
	shim_unlock();
	errno = saved;
	return r;
}

/* _FORTIFY_SOURCE builds read through __read_chk. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	shim_lock();
	if (!par_fd(fd)) {
		shim_unlock();
		if (real_read_chk != NULL)
			return real_read_chk(fd, buf, n, buflen);
		return real_read(fd, buf, n < buflen ? n : buflen);
	}
	shim_unlock();
	if (n > buflen)
		abort();
	return read(fd, buf, n);
}

int
tcsetattr(int fd, int when, const struct termios *t)
{
	struct termios pty;
	int r;

	shim_lock();
	if (t == NULL || !par_fd(fd)) {
		shim_unlock();
		return real_tcsetattr(fd, when, t);
	}
	pty = *t;
	pty.c_iflag &= ~PAR_PLAYED_IFLAGS;
	r = real_tcsetattr(fd, when, &pty);
	if (r == 0)
		played_iflags = t->c_iflag & PAR_PLAYED_IFLAGS;
	shim_unlock();
	return r;
}

int
tcgetattr(int fd, struct termios *t)
{
	int r;

	shim_lock();
	if (t == NULL || !par_fd(fd)) {
		shim_unlock();
		return real_tcgetattr(fd, t);
	}
	r = real_tcgetattr(fd, t);
	if (r == 0)
		t->c_iflag = (t->c_iflag & ~PAR_PLAYED_IFLAGS) |
		    played_iflags;
	shim_unlock();
	return r;
}
