/*
 * serial.c - the POSIX termios port under the USART and Katapult
 * transports.
 *
 * Invariants:
 *  - The port is opened O_NOCTTY|O_NONBLOCK and owned exclusively: an
 *    flock(LOCK_EX) against cooperating programs, then TIOCEXCL against
 *    everybody else.  TIOCEXCL is set only once the flock is ours, so a
 *    failed open never clears another program's exclusivity.
 *  - The original termios and modem lines are saved before anything is
 *    changed and put back on every path out (close and failed open);
 *    the modem lines not once an entry/exit sequence has set them, since
 *    their old levels could reset the target again.
 *  - VMIN/VTIME are both 0: every wait is a poll() with a deadline, so no
 *    read can hang on a silent device whatever the port was left in.
 *  - Reads go through a small buffer so that a reply arriving in one piece
 *    costs one read(2), not one per byte.
 *  - A rate without a Bnnn constant (Katapult's 250000) is set through
 *    termios2 (lib/termios2.c) after the rest of the settings, and a
 *    port found at such a rate gets it back at close the same way.
 *  - Where the driver has a serial_struct (USB-serial adapters, 8250s),
 *    ASYNC_LOW_LATENCY is set while the port is ours and the old flags
 *    are put back at close: every exchange is a short reply the host waits
 *    for, and an FTDI adapter otherwise holds each one for its 16 ms
 *    latency timer (ftdi_sio programs 1 ms under ASYNC_LOW_LATENCY).
 *    Ports without it (ptys, some drivers) are used as they are.
 *  - With parity on, INPCK|PARMRK make the driver mark each byte that
 *    failed the parity check (or framing, or a BREAK) instead of passing
 *    it on as a silent 0x00: AN3155 Read Memory data carry no checksum,
 *    so this is the only way to tell a damaged block from a good one.
 *    The marking is decoded as the bytes are read (lib/parmrk.c); a read
 *    that hands out a damaged byte fails with FT_E_PROTOCOL after it has
 *    taken all its bytes, so the caller can retry the whole exchange.
 *    Without parity neither flag is set and nothing is decoded.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/serial.h>
#endif

#include "parmrk.h"
#include "serial.h"

#define SERIAL_DEFAULT_BAUD 115200u
#define SERIAL_RX_BUF_BYTES 4096
/* Upper bound for tcdrain-like waits we do by hand. */
#define SERIAL_BREAK_MAX_MS 5000u
/* A rate set through termios2 may come back rounded by the driver; a
 * UART link tolerates a few percent of mismatch. */
#define CUSTOM_RATE_TOLERANCE_PCT 2u
/* Rates outside this range are typing mistakes, not UARTs. */
#define CUSTOM_RATE_MIN 50u
#define CUSTOM_RATE_MAX 16000000u

struct ft_serial {
	struct ft_ctx *ctx;
	int fd;
	char *path;
	struct termios saved;
	int modem_saved;	/* TIOCMGET worked: restore the lines */
	int modem;		/* saved modem lines */
	int saved_custom;	/* the port was at a termios2 rate: */
	unsigned saved_ispeed, saved_ospeed;	/* ... these */
	int custom;		/* our rate is set through termios2 */
	int keep_settings;	/* close without restoring anything */
	int keep_lines;		/* a sequence set DTR/RTS: keep them */
	int excl;		/* we set TIOCEXCL */
	int low_latency_set;	/* we set ASYNC_LOW_LATENCY: clear it */
	unsigned baud;
	unsigned char_bits;
	int parmrk;		/* the driver marks line errors: decode */
	struct ft_parmrk pm;
	size_t rpos, rlen;
	size_t rnbad;		/* damaged bytes in rbuf[0..rlen) */
	uint8_t rbuf[SERIAL_RX_BUF_BYTES];
	uint8_t rbad[SERIAL_RX_BUF_BYTES / 8]; /* one bit per rbuf byte */
};

struct baud_map {
	unsigned rate;
	speed_t code;
};

/* Every rate Linux has a Bxxxx constant for (B0 excluded: it hangs up). */
static const struct baud_map bauds[] = {
	{ 50, B50 }, { 75, B75 }, { 110, B110 }, { 134, B134 },
	{ 150, B150 }, { 200, B200 }, { 300, B300 }, { 600, B600 },
	{ 1200, B1200 }, { 1800, B1800 }, { 2400, B2400 },
	{ 4800, B4800 }, { 9600, B9600 }, { 19200, B19200 },
	{ 38400, B38400 },
#ifdef B57600
	{ 57600, B57600 },
#endif
#ifdef B115200
	{ 115200, B115200 },
#endif
#ifdef B230400
	{ 230400, B230400 },
#endif
#ifdef B460800
	{ 460800, B460800 },
#endif
#ifdef B500000
	{ 500000, B500000 },
#endif
#ifdef B576000
	{ 576000, B576000 },
#endif
#ifdef B921600
	{ 921600, B921600 },
#endif
#ifdef B1000000
	{ 1000000, B1000000 },
#endif
#ifdef B1152000
	{ 1152000, B1152000 },
#endif
#ifdef B1500000
	{ 1500000, B1500000 },
#endif
#ifdef B2000000
	{ 2000000, B2000000 },
#endif
#ifdef B2500000
	{ 2500000, B2500000 },
#endif
#ifdef B3000000
	{ 3000000, B3000000 },
#endif
#ifdef B3500000
	{ 3500000, B3500000 },
#endif
#ifdef B4000000
	{ 4000000, B4000000 },
#endif
};

static int
baud_code(unsigned rate, speed_t *code)
{
	size_t i;

	for (i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++) {
		if (bauds[i].rate == rate) {
			*code = bauds[i].code;
			return 0;
		}
	}
	return -1;
}

/* Append the decimal rate to list (no stdio in the library's hot files). */
static size_t
put_rate(char *list, size_t off, size_t cap, unsigned rate)
{
	char tmp[12];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + rate % 10);
		rate /= 10;
	} while (rate > 0);
	if (off > 0 && off + 1 < cap)
		list[off++] = ' ';
	while (n > 0 && off + 1 < cap)
		list[off++] = tmp[--n];
	list[off] = '\0';
	return off;
}

static int
bad_baud(struct ft_ctx *ctx, unsigned rate)
{
	char list[400];
	size_t i, off = 0;

	list[0] = '\0';
	for (i = 0; i < sizeof(bauds) / sizeof(bauds[0]); i++)
		off = put_rate(list, off, sizeof(list), bauds[i].rate);
	return ft_fail(ctx, FT_E_INVALID,
	    "baud rate %u is not supported; use one of: %s", rate, list);
}

static int
open_errno(struct ft_ctx *ctx, const char *path, int e)
{
	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return ft_fail(ctx, FT_E_NO_DEVICE, "%s: no such port (%s)",
		    path, strerror(e));
	case EACCES:
	case EPERM:
		return ft_fail(ctx, FT_E_ACCESS,
		    "%s: permission denied (is your user in the dialout "
		    "group?)", path);
	case EBUSY:
#if EWOULDBLOCK != EBUSY
	case EWOULDBLOCK:
#endif
		return ft_fail(ctx, FT_E_BUSY,
		    "%s: port is in use by another program", path);
	default:
		return ft_fail(ctx, FT_E_IO, "%s: %s", path, strerror(e));
	}
}

/*
 * The speed code for rate: its Bnnn constant, or (*custom set) a
 * placeholder that termios2 replaces once the port is configured.
 */
static int
speed_for(struct ft_ctx *ctx, unsigned rate, speed_t *code, int *custom)
{
	*custom = 0;
	*code = B38400;
	if (baud_code(rate, code) == 0)
		return 0;
	if (rate < CUSTOM_RATE_MIN || rate > CUSTOM_RATE_MAX)
		return bad_baud(ctx, rate);
	*custom = 1;
	return 0;
}

/*
 * Set both speeds of t to code.  The input speed bits (CIBAUD) go: a
 * port left at a termios2 rate keeps BOTHER there, and the kernel would
 * go on receiving at the old rate.
 */
static int
set_speeds(struct termios *t, speed_t code)
{
#ifdef CIBAUD
	t->c_cflag &= ~(tcflag_t)CIBAUD;
#endif
	return cfsetispeed(t, code) != 0 || cfsetospeed(t, code) != 0 ? -1 :
	    0;
}

/* Build the raw termios for cfg on top of the port's current one. */
static int
make_termios(struct ft_ctx *ctx, const char *path,
    const struct ft_serial_cfg *cfg, struct termios *t, unsigned *baud,
    unsigned *char_bits, int *custom)
{
	unsigned rate = cfg->baud ? cfg->baud : SERIAL_DEFAULT_BAUD;
	unsigned bits = cfg->data_bits ? cfg->data_bits : 8;
	unsigned stop = cfg->stop_bits ? cfg->stop_bits : 1;
	char par = cfg->parity ? cfg->parity : 'e';
	speed_t code;

	if (speed_for(ctx, rate, &code, custom) != 0)
		return FT_E_INVALID;
	if (bits < 5 || bits > 8)
		return ft_fail(ctx, FT_E_INVALID,
		    "%s: %u data bits: use 5, 6, 7 or 8", path, bits);
	if (stop != 1 && stop != 2)
		return ft_fail(ctx, FT_E_INVALID,
		    "%s: %u stop bits: use 1 or 2", path, stop);
	if (par >= 'A' && par <= 'Z')
		par = (char)(par - 'A' + 'a');
	if (par != 'n' && par != 'e' && par != 'o')
		return ft_fail(ctx, FT_E_INVALID,
		    "%s: parity '%c': use n, e or o", path, par);

	cfmakeraw(t);
	/* cfmakeraw keeps PARODD, CSTOPB and flow control from whoever had
	 * the port before; clear every frame and flow bit explicitly. */
	t->c_cflag &= ~(tcflag_t)(CSIZE | PARENB | PARODD | CSTOPB | CRTSCTS);
	t->c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY | IGNPAR | PARMRK |
	    INPCK | ISTRIP | IGNBRK | BRKINT);
	switch (bits) {
	case 5: t->c_cflag |= CS5; break;
	case 6: t->c_cflag |= CS6; break;
	case 7: t->c_cflag |= CS7; break;
	default: t->c_cflag |= CS8; break;
	}
	/* IGNPAR and ISTRIP stay clear: a damaged byte must be marked, not
	 * dropped, and no 0xFF may lose its top bit (PARMRK's escape). */
	if (par != 'n') {
		t->c_cflag |= PARENB;
		t->c_iflag |= INPCK | PARMRK;
		if (par == 'o')
			t->c_cflag |= PARODD;
	}
	if (stop == 2)
		t->c_cflag |= CSTOPB;
	t->c_cflag |= CLOCAL | CREAD;
	t->c_cc[VMIN] = 0;
	t->c_cc[VTIME] = 0;
	if (set_speeds(t, code) != 0)
		return bad_baud(ctx, rate);
	*baud = rate;
	*char_bits = 1 + bits + (par != 'n') + stop;
	return 0;
}

/* Is the port at rate (termios2), within what a UART tolerates? */
static int
custom_rate_is(const struct ft_serial *s, unsigned rate)
{
	unsigned is, os;
	uint64_t lo, hi;
	int custom;

	if (ft_tty_custom_get(s->fd, &is, &os, &custom) != 0)
		return 0;
	lo = (uint64_t)rate * (100 - CUSTOM_RATE_TOLERANCE_PCT) / 100;
	hi = (uint64_t)rate * (100 + CUSTOM_RATE_TOLERANCE_PCT) / 100;
	return os >= lo && os <= hi && is >= lo && is <= hi;
}

/* Put the port at the termios2 rate (after the rest of the settings). */
static int
set_custom_rate(struct ft_serial *s, unsigned rate)
{
	if (ft_tty_custom_set(s->fd, rate, rate) == 0)
		return 0;
	return ft_fail(s->ctx, FT_E_NOT_SUPPORTED, "%s: the port did not "
	    "accept %u baud (%s)", s->path, rate, strerror(errno));
}

/*
 * Compare what the driver kept with what we asked for.  A wrong speed is
 * fatal; a lost frame setting (ptys and some UARTs cannot do parity) is
 * worth one warning only: the far end of a pty is usually configured
 * elsewhere (socat, ser2net), which is why we do not refuse such ports.
 */
static int
check_termios(struct ft_serial *s, const struct termios *want)
{
	struct termios got;
	const tcflag_t frame = CSIZE | PARENB | PARODD | CSTOPB;

	if (tcgetattr(s->fd, &got) != 0)
		return ft_fail(s->ctx, FT_E_IO, "%s: tcgetattr: %s", s->path,
		    strerror(errno));
	if (s->custom ? !custom_rate_is(s, s->baud) :
	    cfgetospeed(&got) != cfgetospeed(want) ||
	    cfgetispeed(&got) != cfgetispeed(want))
		return ft_fail(s->ctx, FT_E_NOT_SUPPORTED,
		    "%s: the port did not accept %u baud", s->path, s->baud);
	/*
	 * Decode what the driver will really mark.  A pty drops PARENB but
	 * keeps PARMRK, and then doubles every 0xFF all the same.
	 */
	s->parmrk = (got.c_iflag & PARMRK) != 0 &&
	    (got.c_iflag & ISTRIP) == 0;
	if ((want->c_iflag & PARMRK) && !s->parmrk)
		ft_warn(s->ctx, "%s: the port does not mark parity errors "
		    "(PARMRK); a damaged byte reads as 0x00", s->path);
	if ((got.c_cflag & frame) != (want->c_cflag & frame)) {
		if ((want->c_cflag & PARENB) && !(got.c_cflag & PARENB))
			ft_warn(s->ctx, "%s: the port does not do parity "
			    "(a pty, or a UART without it); carrying on "
			    "without it: the bootloader needs 8E1 on the "
			    "wire, so the far end must add it", s->path);
		else
			ft_warn(s->ctx, "%s: the port changed the frame "
			    "format (cflag %#lo, wanted %#lo); carrying on",
			    s->path, (unsigned long)(got.c_cflag & frame),
			    (unsigned long)(want->c_cflag & frame));
	}
	return 0;
}

/*
 * Ask the driver for low latency.  Failure is normal (ptys, drivers
 * without a serial_struct) and only worth a debug line.
 */
static void
low_latency_on(struct ft_serial *s)
{
#if defined(TIOCGSERIAL) && defined(TIOCSSERIAL) && \
    defined(ASYNC_LOW_LATENCY)
	struct serial_struct ss;

	memset(&ss, 0, sizeof(ss));
	if (ioctl(s->fd, TIOCGSERIAL, &ss) != 0) {
		ft_dbg(s->ctx, "%s: TIOCGSERIAL: %s; latency left as it is",
		    s->path, strerror(errno));
		return;
	}
	if (ss.flags & ASYNC_LOW_LATENCY) {
		ft_dbg(s->ctx, "%s: low latency already on", s->path);
		return;
	}
	ss.flags |= ASYNC_LOW_LATENCY;
	if (ioctl(s->fd, TIOCSSERIAL, &ss) != 0) {
		ft_dbg(s->ctx, "%s: TIOCSSERIAL ASYNC_LOW_LATENCY: %s", s->path,
		    strerror(errno));
		return;
	}
	s->low_latency_set = 1;
	ft_dbg(s->ctx, "%s: low latency on", s->path);
#else
	(void)s;
#endif
}

static void
low_latency_restore(struct ft_serial *s)
{
#if defined(TIOCGSERIAL) && defined(TIOCSSERIAL) && \
    defined(ASYNC_LOW_LATENCY)
	struct serial_struct ss;

	if (!s->low_latency_set)
		return;
	memset(&ss, 0, sizeof(ss));
	if (ioctl(s->fd, TIOCGSERIAL, &ss) == 0) {
		ss.flags &= ~ASYNC_LOW_LATENCY;
		(void)ioctl(s->fd, TIOCSSERIAL, &ss);
	}
	s->low_latency_set = 0;
#else
	(void)s;
#endif
}

/* Undo everything a (possibly partial) open did, then free s. */
static void
serial_release(struct ft_serial *s, int restore)
{
	if (s->fd >= 0) {
		low_latency_restore(s);
		if (restore && !s->keep_settings) {
			if (s->modem_saved && !s->keep_lines)
				(void)ioctl(s->fd, TIOCMSET, &s->modem);
			(void)tcsetattr(s->fd, TCSANOW, &s->saved);
			if (s->saved_custom)
				(void)ft_tty_custom_set(s->fd, s->saved_ispeed,
				    s->saved_ospeed);
		}
		if (s->excl)
			(void)ioctl(s->fd, TIOCNXCL);
		(void)flock(s->fd, LOCK_UN);
		(void)close(s->fd);
	}
	free(s->path);
	free(s);
}

int
ft_serial_open(struct ft_ctx *ctx, const char *path,
    const struct ft_serial_cfg *cfg, struct ft_serial **out)
{
	struct ft_serial *s;
	struct termios want;
	int rc;

	*out = NULL;
	if (path == NULL || *path == '\0')
		return ft_fail(ctx, FT_E_INVALID, "no serial port given");
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	s->ctx = ctx;
	s->fd = -1;
	s->path = strdup(path);
	if (s->path == NULL) {
		free(s);
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	}

	s->fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (s->fd < 0) {
		rc = open_errno(ctx, path, errno);
		serial_release(s, 0);
		return rc;
	}
	if (!isatty(s->fd)) {
		rc = ft_fail(ctx, FT_E_INVALID, "%s: not a serial port", path);
		serial_release(s, 0);
		return rc;
	}
	if (flock(s->fd, LOCK_EX | LOCK_NB) != 0) {
		rc = open_errno(ctx, path, errno);
		serial_release(s, 0);
		return rc;
	}
	if (ioctl(s->fd, TIOCEXCL) == 0)
		s->excl = 1;
	else
		ft_dbg(ctx, "%s: TIOCEXCL: %s", path, strerror(errno));
	if (tcgetattr(s->fd, &s->saved) != 0) {
		rc = ft_fail(ctx, FT_E_IO, "%s: tcgetattr: %s", path,
		    strerror(errno));
		serial_release(s, 0);
		return rc;
	}
	(void)ft_tty_custom_get(s->fd, &s->saved_ispeed, &s->saved_ospeed,
	    &s->saved_custom);
	if (ioctl(s->fd, TIOCMGET, &s->modem) == 0)
		s->modem_saved = 1;
	else if (errno != ENOTTY && errno != EINVAL)
		ft_dbg(ctx, "%s: TIOCMGET: %s", path, strerror(errno));

	want = s->saved;
	rc = make_termios(ctx, path, cfg, &want, &s->baud, &s->char_bits,
	    &s->custom);
	if (rc != 0) {
		serial_release(s, 1);
		return rc;
	}
	if (tcsetattr(s->fd, TCSANOW, &want) != 0) {
		rc = ft_fail(ctx, FT_E_IO, "%s: tcsetattr: %s", path,
		    strerror(errno));
		serial_release(s, 1);
		return rc;
	}
	rc = s->custom ? set_custom_rate(s, s->baud) : 0;
	if (rc == 0)
		rc = check_termios(s, &want);
	if (rc != 0) {
		serial_release(s, 1);
		return rc;
	}
	low_latency_on(s);
	(void)tcflush(s->fd, TCIOFLUSH);
	ft_dbg(ctx, "%s: open at %u baud, %u bit times per character",
	    path, s->baud, s->char_bits);
	*out = s;
	return 0;
}

void
ft_serial_close(struct ft_serial *s)
{
	if (s == NULL)
		return;
	serial_release(s, 1);
}

static int
remaining_ms(uint64_t deadline)
{
	uint64_t now = ft_now_ms();

	if (now >= deadline)
		return 0;
	if (deadline - now > 0x7fffffff)
		return 0x7fffffff;
	return (int)(deadline - now);
}

int
ft_serial_write(struct ft_serial *s, const void *buf, size_t len,
    unsigned timeout_ms)
{
	const uint8_t *p = buf;
	uint64_t deadline = ft_now_ms() + timeout_ms;

	while (len > 0) {
		ssize_t n = write(s->fd, p, len);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return ft_fail(s->ctx, FT_E_IO, "%s: write: %s",
			    s->path, strerror(errno));
		for (;;) {
			struct pollfd pfd = { .fd = s->fd, .events = POLLOUT };
			int ms = remaining_ms(deadline);
			int r;

			if (ms == 0)
				return ft_fail(s->ctx, FT_E_TIMEOUT,
				    "%s: write timed out (%zu bytes left)",
				    s->path, len);
			r = poll(&pfd, 1, ms);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0)
				return ft_fail(s->ctx, FT_E_IO, "%s: poll: %s",
				    s->path, strerror(errno));
			if (r > 0 && (pfd.revents & (POLLERR | POLLHUP |
			    POLLNVAL)))
				return ft_fail(s->ctx, FT_E_IO,
				    "%s: port closed or failed", s->path);
			break;
		}
	}
	return 0;
}

/*
 * Wait until data is readable or the deadline passes, then fill rbuf with
 * whatever is there.  Returns 1 if bytes arrived, 0 on timeout.
 */
static int
fill(struct ft_serial *s, uint64_t deadline)
{
	for (;;) {
		struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
		int ms = remaining_ms(deadline);
		ssize_t n;
		int r;

		/* Try the read first: with a reply already queued this
		 * saves the poll(2). */
		n = read(s->fd, s->rbuf, sizeof(s->rbuf));
		if (n > 0 && s->parmrk) {
			s->rpos = 0;
			s->rlen = ft_parmrk_decode(&s->pm, s->rbuf, (size_t)n,
			    s->rbad, &s->rnbad);
			/* Only the start of a marked sequence: wait on. */
			if (s->rlen == 0)
				continue;
			return 1;
		}
		if (n > 0) {
			s->rpos = 0;
			s->rlen = (size_t)n;
			s->rnbad = 0;
			return 1;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return ft_fail(s->ctx, FT_E_IO, "%s: read: %s",
			    s->path, strerror(errno));
		if (ms == 0)
			return 0;
		r = poll(&pfd, 1, ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return ft_fail(s->ctx, FT_E_IO, "%s: poll: %s",
			    s->path, strerror(errno));
		if (r == 0)
			return 0;
		if ((pfd.revents & (POLLERR | POLLNVAL)) ||
		    ((pfd.revents & POLLHUP) && !(pfd.revents & POLLIN)))
			return ft_fail(s->ctx, FT_E_IO,
			    "%s: port closed or failed", s->path);
	}
}

/* Damaged bytes among rbuf[from, from + n). */
static size_t
count_bad(const struct ft_serial *s, size_t from, size_t n)
{
	size_t i, bad = 0;

	if (s->rnbad == 0)
		return 0;
	for (i = from; i < from + n; i++)
		if (s->rbad[i / 8] & (1u << (i % 8)))
			bad++;
	return bad;
}

static int
line_error(struct ft_serial *s, size_t bad, size_t done)
{
	return ft_fail(s->ctx, FT_E_PROTOCOL, "%s: %zu of %zu bytes received "
	    "with a parity or framing error (noisy line, or wrong baud "
	    "rate)", s->path, bad, done);
}

int
ft_serial_read(struct ft_serial *s, void *buf, size_t len,
    unsigned timeout_ms, size_t *got)
{
	uint8_t *p = buf;
	size_t done = 0, bad = 0;
	uint64_t deadline = 0;
	int have_deadline = 0;

	while (done < len) {
		size_t take;

		if (s->rpos == s->rlen) {
			int r;

			if (!have_deadline) {
				deadline = ft_now_ms() + timeout_ms;
				have_deadline = 1;
			}
			r = fill(s, deadline);
			if (r < 0) {
				if (got)
					*got = done;
				return r;
			}
			if (r == 0) {
				if (got)
					*got = done;
				/* Damage explains a short reply best. */
				return bad > 0 ? line_error(s, bad, done) :
				    FT_E_TIMEOUT;
			}
		}
		take = s->rlen - s->rpos;
		if (take > len - done)
			take = len - done;
		memcpy(p + done, s->rbuf + s->rpos, take);
		bad += count_bad(s, s->rpos, take);
		s->rpos += take;
		done += take;
	}
	if (got)
		*got = done;
	return bad > 0 ? line_error(s, bad, done) : 0;
}

int
ft_serial_flush_input(struct ft_serial *s)
{
	s->rpos = s->rlen = 0;
	s->rnbad = 0;
	/* A marked sequence cut by the flush would swallow a good byte. */
	ft_parmrk_reset(&s->pm);
	if (tcflush(s->fd, TCIFLUSH) != 0)
		return ft_fail(s->ctx, FT_E_IO, "%s: tcflush: %s", s->path,
		    strerror(errno));
	return 0;
}

int
ft_serial_discard(struct ft_serial *s, unsigned quiet_ms, unsigned max_ms)
{
	uint64_t end = ft_now_ms() + max_ms;
	int dropped = (int)(s->rlen - s->rpos);

	s->rpos = s->rlen = 0;
	for (;;) {
		uint64_t now = ft_now_ms();
		uint64_t until = now + quiet_ms;
		int r;

		if (now >= end)
			break;
		if (until > end)
			until = end;
		r = fill(s, until);
		if (r < 0)
			return r;
		if (r == 0)
			break;
		dropped += (int)s->rlen;
		s->rpos = s->rlen = 0;
	}
	return dropped;
}

int
ft_serial_drain(struct ft_serial *s)
{
	if (tcdrain(s->fd) != 0)
		return ft_fail(s->ctx, FT_E_IO, "%s: tcdrain: %s", s->path,
		    strerror(errno));
	return 0;
}

int
ft_serial_set_lines(struct ft_serial *s, int dtr, int rts)
{
	int lines;

	if (ioctl(s->fd, TIOCMGET, &lines) != 0) {
		if (errno == ENOTTY || errno == EINVAL)
			return ft_fail(s->ctx, FT_E_NOT_SUPPORTED,
			    "%s: the port has no modem lines (DTR/RTS)",
			    s->path);
		return ft_fail(s->ctx, FT_E_IO, "%s: TIOCMGET: %s", s->path,
		    strerror(errno));
	}
	if (dtr == 1)
		lines |= TIOCM_DTR;
	else if (dtr == 0)
		lines &= ~TIOCM_DTR;
	if (rts == 1)
		lines |= TIOCM_RTS;
	else if (rts == 0)
		lines &= ~TIOCM_RTS;
	if (ioctl(s->fd, TIOCMSET, &lines) != 0)
		return ft_fail(s->ctx, FT_E_IO, "%s: TIOCMSET: %s", s->path,
		    strerror(errno));
	return 0;
}

void
ft_serial_keep_lines(struct ft_serial *s)
{
	s->keep_lines = 1;
}

int
ft_serial_break(struct ft_serial *s, unsigned ms)
{
	int rc = 0;

	if (ms > SERIAL_BREAK_MAX_MS)
		ms = SERIAL_BREAK_MAX_MS;
	if (ioctl(s->fd, TIOCSBRK) != 0)
		return ft_fail(s->ctx, FT_E_IO, "%s: TIOCSBRK: %s", s->path,
		    strerror(errno));
	ft_sleep_us((uint64_t)ms * 1000);
	if (ioctl(s->fd, TIOCCBRK) != 0)
		rc = ft_fail(s->ctx, FT_E_IO, "%s: TIOCCBRK: %s", s->path,
		    strerror(errno));
	return rc;
}

unsigned
ft_serial_char_bits(const struct ft_serial *s)
{
	return s->char_bits;
}

unsigned
ft_serial_baud(const struct ft_serial *s)
{
	return s->baud;
}

const char *
ft_serial_path(const struct ft_serial *s)
{
	return s->path;
}

int
ft_serial_set_baud(struct ft_serial *s, unsigned baud)
{
	struct termios t;
	speed_t code;
	int custom, rc;

	if (speed_for(s->ctx, baud, &code, &custom) != 0)
		return FT_E_INVALID;
	if (tcgetattr(s->fd, &t) != 0)
		return ft_fail(s->ctx, FT_E_IO, "%s: tcgetattr: %s", s->path,
		    strerror(errno));
	if (set_speeds(&t, code) != 0)
		return bad_baud(s->ctx, baud);
	if (tcsetattr(s->fd, TCSANOW, &t) != 0)
		return ft_fail(s->ctx, FT_E_IO, "%s: tcsetattr: %s", s->path,
		    strerror(errno));
	s->custom = custom;
	if (custom && (rc = set_custom_rate(s, baud)) != 0)
		return rc;
	s->baud = baud;
	return 0;
}

void
ft_serial_keep_settings(struct ft_serial *s)
{
	s->keep_settings = 1;
}

int
ft_serial_read_some(struct ft_serial *s, void *buf, size_t max,
    unsigned timeout_ms, size_t *got)
{
	size_t take, bad;
	int r;

	*got = 0;
	if (max == 0)
		return 0;
	if (s->rpos == s->rlen) {
		r = fill(s, ft_now_ms() + timeout_ms);
		if (r < 0)
			return r;
		if (r == 0)
			return FT_E_TIMEOUT;
	}
	take = s->rlen - s->rpos;
	if (take > max)
		take = max;
	memcpy(buf, s->rbuf + s->rpos, take);
	bad = count_bad(s, s->rpos, take);
	r = bad > 0 ? line_error(s, bad, take) : 0;
	s->rpos += take;
	*got = take;
	return r;
}
