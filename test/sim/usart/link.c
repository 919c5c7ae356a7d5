/*
 * link.c - the device end of the serial line: a pty pair, the wire-time
 * model and byte-level fault injection.
 *
 * Invariants: the simulator keeps its own slave descriptor open, so the
 * master never reads EIO or hangup between clients; clients coming and
 * going are seen through inotify on the slave.  With --timing every host
 * byte "arrives" no earlier than the end of its 11 bit times after the
 * previous one, and every reply burst is written at one absolute deadline:
 * request end + work + reply bytes on the wire + adapter latency.  Host
 * bytes that reach the pty while a reply waits for its deadline (a host
 * that sends before it has the previous ACK) count from when they
 * arrived, not from when the device got round to reading them.
 */
#define _GNU_SOURCE		/* ppoll; with it posix_openpt, ptsname */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define WRITE_STALL_MS 1000	/* give up on a client that reads nothing */
/*
 * FTDI adapters hold a short reply until their latency timer runs out:
 * 16 ms by default (FTDI AN232B-04), 1 ms once ftdi_sio sees
 * ASYNC_LOW_LATENCY (its set_serial_info() then writes a 1 ms timer).
 */
#define FTDI_LATENCY_NS (16 * NS_PER_MS)
#define FTDI_LOW_LATENCY_NS (1 * NS_PER_MS)
#define ASYNC_LOW_LATENCY_FLAG 0x2000u	/* <linux/serial.h> */

uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void
sleep_until(const struct link *l, uint64_t deadline)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(deadline / NS_PER_S);
	ts.tv_nsec = (long)(deadline % NS_PER_S);
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
	    EINTR && !*l->stop)
		;
}

/*
 * sleep_until for a reply: meanwhile note when host bytes first became
 * readable (rx_seen_ns), without reading them, so that link_getc keeps
 * their order against client opens and board changes.  A UART receives
 * while it transmits; without this the bytes would look as if they had
 * left the host only after the reply's deadline.
 */
static void
wait_reply(struct link *l, uint64_t deadline)
{
	while (l->rx_seen_ns == 0 && !*l->stop) {
		struct pollfd pfd = { .fd = l->master, .events = POLLIN };
		struct timespec ts;
		uint64_t now = now_ns();
		int r;

		if (now >= deadline)
			return;
		ts.tv_sec = (time_t)((deadline - now) / NS_PER_S);
		ts.tv_nsec = (long)((deadline - now) % NS_PER_S);
		r = ppoll(&pfd, 1, &ts, NULL);
		if (r > 0 && (pfd.revents & POLLIN))
			l->rx_seen_ns = now_ns();
		else if (r != 0 && !(r < 0 && errno == EINTR))
			break;
	}
	sleep_until(l, deadline);
}

/* Raw 8-bit line on the slave, as a real UART would be. */
static int
set_raw(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) != 0)
		return -1;
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	cfsetispeed(&t, B115200);
	cfsetospeed(&t, B115200);
	return tcsetattr(fd, TCSANOW, &t);
}

static int
publish(struct link *l, char *err, size_t errlen)
{
	char tmp[4096];

	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", l->link_path,
	    (long)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "--link path too long");
		return -1;
	}
	(void)unlink(tmp);
	/* rename() makes the link appear complete or not at all. */
	if (symlink(l->slave_name, tmp) != 0 ||
	    rename(tmp, l->link_path) != 0) {
		snprintf(err, errlen, "symlink %s: %s", l->link_path,
		    strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

int
link_open(struct link *l, const char *link_path, char *err, size_t errlen)
{
	l->master = l->slave = l->ino_fd = -1;
	l->link_path = link_path;
	l->master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (l->master < 0 || grantpt(l->master) != 0 ||
	    unlockpt(l->master) != 0 || ptsname(l->master) == NULL) {
		snprintf(err, errlen, "pty: %s", strerror(errno));
		goto fail;
	}
	snprintf(l->slave_name, sizeof(l->slave_name), "%s",
	    ptsname(l->master));
	l->slave = open(l->slave_name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (l->slave < 0 || set_raw(l->slave) != 0) {
		snprintf(err, errlen, "%s: %s", l->slave_name,
		    strerror(errno));
		goto fail;
	}
	if (fcntl(l->master, F_SETFL, fcntl(l->master, F_GETFL) |
	    O_NONBLOCK) != 0) {
		snprintf(err, errlen, "pty: %s", strerror(errno));
		goto fail;
	}
	/* Watch only after our own open, so it is not counted. */
	l->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (l->ino_fd < 0 || inotify_add_watch(l->ino_fd, l->slave_name,
	    IN_OPEN | IN_CLOSE) < 0) {
		snprintf(err, errlen, "inotify %s: %s", l->slave_name,
		    strerror(errno));
		goto fail;
	}
	return 0;
fail:
	link_close(l);
	return -1;
}

int
link_publish(struct link *l, char *err, size_t errlen)
{
	return publish(l, err, errlen);
}

/* Bytes sent before a reset never reach the chip that comes out of it. */
void
link_discard_input(void *link)
{
	struct link *l = link;
	uint8_t junk[4096];

	l->rxpos = l->rxlen;
	l->rx_seen_ns = 0;
	while (read(l->master, junk, sizeof(junk)) > 0)
		;
}

void
link_close(struct link *l)
{
	if (l->ino_fd >= 0)
		close(l->ino_fd);
	if (l->slave >= 0)
		close(l->slave);
	if (l->master >= 0)
		close(l->master);
	l->ino_fd = l->slave = l->master = -1;
}

/*
 * Clients opening and closing the slave.  When the last one closes,
 * replies it never read are dropped so that the next client starts with
 * an empty input queue, as it would on a real port.
 */
static void
drain_inotify(struct link *l)
{
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;

	while ((n = read(l->ino_fd, buf, sizeof(buf))) > 0) {
		ssize_t off = 0;

		while (off + (ssize_t)sizeof(struct inotify_event) <= n) {
			struct inotify_event ev;

			memcpy(&ev, buf + off, sizeof(ev));
			if (ev.mask & IN_OPEN) {
				l->clients++;
				l->new_client = 1;
			}
			if (ev.mask & IN_CLOSE) {
				if (--l->clients <= 0) {
					l->clients = 0;
					(void)tcflush(l->slave, TCIFLUSH);
				}
			}
			off += (ssize_t)sizeof(ev) + ev.len;
		}
	}
}

int
link_getc(struct link *l, uint8_t *c)
{
	for (;;) {
		struct pollfd pfd[2 + BOARD_POLLFDS];
		ssize_t n;
		int nb;

		if (*l->stop)
			return LINK_STOP;
		if (l->rxpos < l->rxlen) {
			uint8_t b = l->rxbuf[l->rxpos++];
			uint64_t start = l->rx_read_ns > l->rx_end_ns ?
			    l->rx_read_ns : l->rx_end_ns;

			/* Lost or garbled bytes still took their wire time. */
			l->rx_end_ns = start + l->byte_ns;
			if (rng_chance(l->rng, l->drop))
				continue;
			if (rng_chance(l->rng, l->corrupt))
				b ^= (uint8_t)(1u << (rng_next(l->rng) & 7));
			*c = b;
			return LINK_OK;
		}
		if (l->new_client) {
			l->new_client = 0;
			return LINK_NEWCLIENT;
		}
		pfd[0].fd = l->ino_fd;
		pfd[0].events = POLLIN;
		pfd[1].fd = l->master;
		pfd[1].events = POLLIN;
		nb = l->board != NULL ? board_pollfds(l->board, pfd + 2) : 0;
		if (poll(pfd, (nfds_t)(2 + nb), -1) < 0) {
			if (errno == EINTR)
				continue;
			return LINK_STOP;
		}
		/* An open is queued before the bytes the client then writes. */
		if (pfd[0].revents & POLLIN)
			drain_inotify(l);
		if (l->new_client)
			continue;
		/*
		 * Board changes before the bytes: the host waited for them.
		 * The input was dropped at the edge itself (on_reset), not
		 * here: the host may already have sent its next byte.
		 */
		if (nb > 0) {
			board_service(l->board, pfd + 2, nb);
			if (l->board->resets != l->board_resets) {
				l->board_resets = l->board->resets;
				return LINK_BOARD;
			}
		}
		if (!(pfd[1].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		n = read(l->master, l->rxbuf, sizeof(l->rxbuf));
		if (n > 0) {
			uint64_t t = now_ns();

			l->rx_read_ns = l->rx_seen_ns != 0 &&
			    l->rx_seen_ns < t ? l->rx_seen_ns : t;
			l->rx_seen_ns = 0;
			l->rxlen = (size_t)n;
			l->rxpos = 0;
		} else if (n < 0 && errno != EAGAIN && errno != EINTR &&
		    errno != EIO) {
			return LINK_STOP;
		}
	}
}

static int
write_all(struct link *l, const uint8_t *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(l->master, buf, n);

		if (w > 0) {
			buf += w;
			n -= (size_t)w;
		} else if (w < 0 && errno == EAGAIN) {
			struct pollfd pfd = { .fd = l->master,
			    .events = POLLOUT };

			/* Nobody reads: the bytes are lost, as on a wire. */
			if (poll(&pfd, 1, WRITE_STALL_MS) <= 0 && !*l->stop)
				return 0;
			if (*l->stop)
				return -1;
		} else if (w < 0 && errno != EINTR) {
			return -1;
		}
	}
	return 0;
}

/* Device-to-host latency of the adapter for the next reply. */
static uint64_t
latency_ns(const struct link *l)
{
	if (!l->ftdi)
		return l->latency_ns;
	if (l->board != NULL &&
	    (l->board->serial_flags & ASYNC_LOW_LATENCY_FLAG))
		return FTDI_LOW_LATENCY_NS;
	return FTDI_LATENCY_NS;
}

/*
 * Queue reply byte b, with --parity-errors in the escaped form (sim.h):
 * now and then one bit flipped and marked as failing the parity check.
 * At most LINK_PAR_MAX_BYTES bytes per reply byte.
 */
#define LINK_PAR_MAX_BYTES 3u

static size_t
put_reply_byte(struct link *l, uint8_t *out, size_t m, uint8_t b)
{
	if (l->parity <= 0.0) {
		out[m++] = b;
	} else if (rng_chance(l->rng, l->parity)) {
		out[m++] = LINK_PAR_ESC;
		out[m++] = LINK_PAR_ERROR;
		out[m++] = b ^ (uint8_t)(1u << (rng_next(l->rng) & 7));
	} else if (b == LINK_PAR_ESC) {
		out[m++] = LINK_PAR_ESC;
		out[m++] = LINK_PAR_LITERAL;
	} else {
		out[m++] = b;
	}
	return m;
}

int
link_reply(struct link *l, const uint8_t *buf, size_t n, uint64_t work_ns)
{
	uint8_t out[512 * LINK_PAR_MAX_BYTES];
	size_t i, m = 0;

	if (l->timing) {
		uint64_t start = l->rx_end_ns + work_ns;
		uint64_t end;

		if (start < l->tx_free_ns)
			start = l->tx_free_ns;
		end = start + n * l->byte_ns;
		l->tx_free_ns = end;
		wait_reply(l, end + latency_ns(l));
	}
	for (i = 0; i < n && m + LINK_PAR_MAX_BYTES <= sizeof(out); i++) {
		uint8_t b = buf[i];

		if (rng_chance(l->rng, l->drop))
			continue;
		if (rng_chance(l->rng, l->corrupt))
			b ^= (uint8_t)(1u << (rng_next(l->rng) & 7));
		m = put_reply_byte(l, out, m, b);
	}
	return write_all(l, out, m);
}
