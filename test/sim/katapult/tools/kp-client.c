/*
 * kp-client.c - a raw byte client for katapult-sim's smoke tests.  Not a
 * flashing client: it sends the bytes a step names and checks what comes
 * back byte for byte, so the tests can hold the simulator to the frames
 * written in katapult.md.
 *
 *   kp-client [-t MS] DEVICE STEP...       (a tty)
 *   kp-client [-t MS] unix:PATH STEP...    (katapult-sim --can unix:PATH)
 *   kp-client crc HEX                      (print the 2 CRC bytes, LE)
 *
 * Steps (each one argument):
 *   baud N          set the tty's speed (raw 8N1); the first step opens
 *   tx HEX          write bytes
 *   cmd CC [HEX]    write a Katapult frame: command CC, payload HEX
 *                   (whole words); the CRC is computed here, not taken
 *                   from the simulator's code
 *   rx HEX          the next bytes must be exactly HEX (-t MS each)
 *   frame           read one Katapult frame (resyncing on 01 88) and
 *                   print it as hex on stdout
 *   quiet MS        nothing may arrive for MS
 *   noframe MS      no valid Katapult frame may arrive for MS (garbage
 *                   may: a host at the wrong baud reads some)
 *   sleep MS
 *   dtr 0|1         TIOCMBIC / TIOCMBIS (needs libft-shim.so on a pty)
 *   touch           Klipper's 1200-baud request: DTR on, 1200 baud,
 *                   DTR off, close (as flashtool.py does it)
 *   close           close the device (a later tty step opens it again)
 *   CAN (unix:PATH): ctx ID HEX (one frame), crx ID HEX (the next frame
 *   must be it), ccmd ID CC [HEX] (a Katapult frame cut into 8-byte
 *   frames on ID), cframe ID (collect frames on ID into one Katapult
 *   frame and print it).
 * Exit 0 when every step passed, 1 on the first mismatch or timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ksim.h"

#define MAX_BYTES 512
#define CAN_WIRE 16		/* struct can_frame */

static const char *dev;
static int fd = -1;
static int is_can;
static int timeout_ms = 2000;
static uint32_t baud = 250000;

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Klipper's byte-wise crc16_ccitt (scripts/msgproto.py, flashtool.py). */
static uint16_t
crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = 0xFFFF;

	while (n--) {
		uint8_t d = *p++;

		d ^= (uint8_t)(crc & 0xFF);
		d ^= (uint8_t)((d & 0x0F) << 4);
		crc = (uint16_t)(((uint16_t)d << 8 | crc >> 8) ^ (d >> 4) ^
		    ((uint16_t)d << 3));
	}
	return crc;
}

static size_t
hex(const char *s, uint8_t *out, size_t max)
{
	size_t n = 0;

	while (*s != '\0' && n < max) {
		unsigned v;

		if (*s == ' ' || *s == ':') {
			s++;
			continue;
		}
		if (sscanf(s, "%2x", &v) != 1 || s[1] == '\0') {
			fprintf(stderr, "kp-client: bad hex at '%s'\n", s);
			exit(2);
		}
		out[n++] = (uint8_t)v;
		s += 2;
	}
	return n;
}

static void
print_hex(const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		printf("%s%02x", i ? " " : "", p[i]);
	printf("\n");
	fflush(stdout);
}

static int
open_dev(void)
{
	struct termios t;

	if (fd >= 0)
		return 0;
	if (is_can) {
		struct sockaddr_un sa, me;

		fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		memset(&me, 0, sizeof(me));
		me.sun_family = AF_UNIX;
		/* An abstract address, so the simulator can answer. */
		snprintf(me.sun_path + 1, sizeof(me.sun_path) - 1,
		    "kp-client-%ld", (long)getpid());
		memset(&sa, 0, sizeof(sa));
		sa.sun_family = AF_UNIX;
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", dev + 5);
		if (fd < 0 || bind(fd, (struct sockaddr *)&me,
		    sizeof(me)) != 0 || connect(fd, (struct sockaddr *)&sa,
		    sizeof(sa)) != 0) {
			fprintf(stderr, "kp-client: %s: %s\n", dev,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	fd = open(dev, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || tcgetattr(fd, &t) != 0) {
		fprintf(stderr, "kp-client: %s: %s\n", dev, strerror(errno));
		return -1;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	t.c_cc[VMIN] = 0;
	t.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &t) != 0)
		return -1;
	/* Any baud, as pyserial sets it (TCSETS2, BOTHER). */
	return ks_tty_set_baud(fd, baud);
}

static int
write_all(const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			fprintf(stderr, "kp-client: write: %s\n",
			    strerror(errno));
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Read up to n bytes (tty) or one frame (CAN) before the deadline. */
static ssize_t
read_some(uint8_t *p, size_t n, uint64_t deadline)
{
	for (;;) {
		struct pollfd pf = { fd, POLLIN, 0 };
		uint64_t now = now_ms();
		ssize_t r;

		if (now >= deadline)
			return 0;
		if (poll(&pf, 1, (int)(deadline - now)) <= 0)
			continue;
		r = read(fd, p, n);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		return r;
	}
}

static int
expect(const uint8_t *want, size_t n)
{
	uint8_t got[MAX_BYTES];
	size_t have = 0;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	while (have < n) {
		ssize_t r = read_some(got + have, n - have, deadline);

		if (r <= 0)
			break;
		have += (size_t)r;
	}
	if (have == n && memcmp(got, want, n) == 0)
		return 0;
	fprintf(stderr, "kp-client: wanted ");
	print_hex(want, n);
	fprintf(stderr, "kp-client: got    ");
	fflush(stdout);
	fprintf(stdout, "GOT ");
	print_hex(got, have);
	return 1;
}

static size_t
build(uint8_t *out, const char *cc, const char *payload)
{
	uint8_t pl[MAX_BYTES];
	size_t n = payload ? hex(payload, pl, sizeof(pl)) : 0, k = 0;
	uint16_t crc;

	if (n % 4 != 0 || n > 120) {
		fprintf(stderr, "kp-client: payload must be whole words\n");
		exit(2);
	}
	out[k++] = 0x01;
	out[k++] = 0x88;
	out[k++] = (uint8_t)strtoul(cc, NULL, 16);
	out[k++] = (uint8_t)(n / 4);
	memcpy(out + k, pl, n);
	k += n;
	crc = crc16(out + 2, n + 2);
	out[k++] = (uint8_t)(crc & 0xFF);
	out[k++] = (uint8_t)(crc >> 8);
	out[k++] = 0x99;
	out[k++] = 0x03;
	return k;
}

/* Read one Katapult frame from a byte stream (resync on 01 88). */
static int
read_frame(void)
{
	uint8_t b[MAX_BYTES];
	size_t have = 0, want = 0;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	for (;;) {
		ssize_t r;

		while (have >= 2 && (b[0] != 0x01 || b[1] != 0x88)) {
			memmove(b, b + 1, --have);
		}
		if (have >= 4)
			want = (size_t)b[3] * 4 + 8;
		if (want != 0 && have >= want) {
			print_hex(b, want);
			return 0;
		}
		r = read_some(b + have, want ? want - have : 1, deadline);
		if (r <= 0) {
			fprintf(stderr, "kp-client: no frame\n");
			return 1;
		}
		have += (size_t)r;
	}
}

static int
quiet(int ms)
{
	uint8_t b[MAX_BYTES];
	ssize_t r = read_some(b, sizeof(b), now_ms() + (uint64_t)ms);

	if (r <= 0)
		return 0;
	fprintf(stderr, "kp-client: wanted silence, got ");
	print_hex(b, (size_t)r);
	return 1;
}

/* Is there a whole frame with a good CRC anywhere in p? */
static int
has_frame(const uint8_t *p, size_t n)
{
	size_t i, len;

	for (i = 0; i + 8 <= n; i++) {
		if (p[i] != 0x01 || p[i + 1] != 0x88)
			continue;
		len = (size_t)p[i + 3] * 4 + 8;
		if (i + len <= n && p[i + len - 2] == 0x99 &&
		    p[i + len - 1] == 0x03 &&
		    crc16(p + i + 2, len - 6) == (p[i + len - 4] |
		    p[i + len - 3] << 8))
			return 1;
	}
	return 0;
}

static int
noframe(int ms)
{
	uint8_t b[MAX_BYTES];
	size_t have = 0;
	uint64_t deadline = now_ms() + (uint64_t)ms;
	ssize_t r;

	while (have < sizeof(b) &&
	    (r = read_some(b + have, sizeof(b) - have, deadline)) > 0)
		have += (size_t)r;
	if (!has_frame(b, have))
		return 0;
	fprintf(stderr, "kp-client: wanted no frame, got ");
	print_hex(b, have);
	return 1;
}

static int
modem(int on)
{
	int bits = TIOCM_DTR;

	if (ioctl(fd, on ? TIOCMBIS : TIOCMBIC, &bits) != 0) {
		fprintf(stderr, "kp-client: dtr: %s\n", strerror(errno));
		return 1;
	}
	return 0;
}

/* flashtool.py _request_usb_bootloader(): errors are ignored there. */
static int
touch(void)
{
	struct termios t;
	int bits = TIOCM_DTR;

	if (fd >= 0)
		close(fd);
	fd = open(dev, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (ioctl(fd, TIOCMBIS, &bits) == 0 && tcgetattr(fd, &t) == 0) {
		cfsetispeed(&t, B1200);
		cfsetospeed(&t, B1200);
		if (tcsetattr(fd, TCSANOW, &t) == 0)
			(void)ioctl(fd, TIOCMBIC, &bits);
	}
	close(fd);
	fd = -1;
	return 0;
}

static int
can_tx(uint32_t id, const uint8_t *p, size_t n)
{
	uint8_t w[CAN_WIRE];

	memset(w, 0, sizeof(w));
	memcpy(w, &id, 4);
	w[4] = (uint8_t)n;
	memcpy(w + 8, p, n);
	return write_all(w, sizeof(w));
}

/* The next CAN frame, any id: returns dlc, -1 on timeout. */
static int
can_rx(uint32_t *id, uint8_t *data, uint64_t deadline)
{
	uint8_t w[CAN_WIRE];
	ssize_t r = read_some(w, sizeof(w), deadline);

	if (r != CAN_WIRE)
		return -1;
	memcpy(id, w, 4);
	memcpy(data, w + 8, 8);
	return w[4] > 8 ? 8 : w[4];
}

static int
can_frame(uint32_t want_id)
{
	uint8_t b[MAX_BYTES], d[8];
	size_t have = 0, need = 0;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	uint32_t id;
	int n;

	while (need == 0 || have < need) {
		n = can_rx(&id, d, deadline);
		if (n < 0) {
			fprintf(stderr, "kp-client: no frame on 0x%03x\n",
			    want_id);
			return 1;
		}
		if (id != want_id || have + (size_t)n > sizeof(b))
			continue;
		memcpy(b + have, d, (size_t)n);
		have += (size_t)n;
		if (have >= 4)
			need = (size_t)b[3] * 4 + 8;
	}
	print_hex(b, need);
	return 0;
}

/* Copy the first word of s into w; returns the rest, or NULL. */
static const char *
word(const char *s, char *w, size_t wlen)
{
	size_t n;

	while (*s == ' ')
		s++;
	n = strcspn(s, " ");
	if (n == 0 || n >= wlen)
		return NULL;
	memcpy(w, s, n);
	w[n] = '\0';
	s += n;
	while (*s == ' ')
		s++;
	return s;
}

static int
can_expect(uint32_t id, const char *rest)
{
	uint8_t b[8], d[8];
	uint32_t got = 0;
	size_t k = hex(rest, b, 8);
	int dn = can_rx(&got, d, now_ms() + (uint64_t)timeout_ms);

	if (dn == (int)k && got == id && memcmp(d, b, k) == 0)
		return 0;
	fprintf(stderr, "kp-client: wanted 0x%03x ", id);
	print_hex(b, k);
	if (dn >= 0) {
		printf("GOT 0x%03x ", got);
		print_hex(d, (size_t)dn);
	}
	return 1;
}

/* ctx, crx, ccmd, cframe: the CAN steps. */
static int
can_step(const char *verb, const char *rest)
{
	uint8_t b[MAX_BYTES];
	char a1[32], cc[32];
	uint32_t id;
	size_t k, i;

	if ((rest = word(rest, a1, sizeof(a1))) == NULL)
		return 2;
	id = (uint32_t)strtoul(a1, NULL, 16);
	if (strcmp(verb, "cframe") == 0)
		return can_frame(id);
	if (strcmp(verb, "ctx") == 0)
		return can_tx(id, b, hex(rest, b, 8)) != 0;
	if (strcmp(verb, "crx") == 0)
		return can_expect(id, rest);
	if (strcmp(verb, "ccmd") != 0 ||
	    (rest = word(rest, cc, sizeof(cc))) == NULL)
		return 2;
	k = build(b, cc, *rest ? rest : NULL);
	for (i = 0; i < k; i += 8)
		if (can_tx(id, b + i, k - i > 8 ? 8 : k - i) != 0)
			return 1;
	return 0;
}

static int
step(const char *s)
{
	uint8_t b[MAX_BYTES];
	char verb[16], a1[32];
	const char *rest = word(s, verb, sizeof(verb));

	if (rest == NULL)
		return 2;
	if (strcmp(verb, "sleep") == 0) {
		struct timespec ts = { atoi(rest) / 1000,
		    (long)(atoi(rest) % 1000) * 1000000L };

		nanosleep(&ts, NULL);
		return 0;
	}
	if (strcmp(verb, "close") == 0) {
		if (fd >= 0)
			close(fd);
		fd = -1;
		return 0;
	}
	if (strcmp(verb, "touch") == 0)
		return touch();
	if (strcmp(verb, "baud") == 0) {
		baud = (uint32_t)strtoul(rest, NULL, 0);
		if (baud == 0)
			return 2;
		if (fd >= 0) {
			close(fd);
			fd = -1;
		}
		return open_dev() != 0;
	}
	if (open_dev() != 0)
		return 1;
	if (strcmp(verb, "tx") == 0)
		return write_all(b, hex(rest, b, sizeof(b))) != 0;
	if (strcmp(verb, "rx") == 0)
		return expect(b, hex(rest, b, sizeof(b)));
	if (strcmp(verb, "cmd") == 0) {
		if ((rest = word(rest, a1, sizeof(a1))) == NULL)
			return 2;
		return write_all(b, build(b, a1, *rest ? rest : NULL)) != 0;
	}
	if (strcmp(verb, "frame") == 0)
		return read_frame();
	if (strcmp(verb, "quiet") == 0)
		return quiet(atoi(rest));
	if (strcmp(verb, "noframe") == 0)
		return noframe(atoi(rest));
	if (strcmp(verb, "dtr") == 0)
		return modem(atoi(rest));
	if (verb[0] == 'c')
		return can_step(verb, rest);
	return 2;
}

int
main(int argc, char **argv)
{
	int i = 1, r;

	if (argc > 2 && strcmp(argv[1], "-t") == 0) {
		timeout_ms = atoi(argv[2]);
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: kp-client [-t MS] DEVICE|unix:PATH "
		    "STEP...\n");
		return 2;
	}
	if (strcmp(argv[i], "crc") == 0 && i + 1 < argc) {
		uint8_t b[MAX_BYTES];
		uint16_t c = crc16(b, hex(argv[i + 1], b, sizeof(b)));

		printf("%02x%02x\n", c & 0xFF, c >> 8);
		return 0;
	}
	dev = argv[i++];
	is_can = strncmp(dev, "unix:", 5) == 0;
	for (; i < argc; i++) {
		r = step(argv[i]);
		if (r == 2)
			fprintf(stderr, "kp-client: bad step '%s'\n", argv[i]);
		if (r != 0) {
			fprintf(stderr, "kp-client: step %d '%s' failed\n",
			    i, argv[i]);
			return r == 2 ? 2 : 1;
		}
	}
	return 0;
}
