/*
 * rigtool.c - small helpers the rig's guest needs that busybox lacks:
 * a monotonic clock with sub-millisecond resolution, a timed command run,
 * and a libusb hotplug watcher that stamps arrivals and departures on the
 * same clock as the USB/IP server's log (CLOCK_MONOTONIC).
 *
 *   rigtool now                      seconds, 6 decimals
 *   rigtool time FILE CMD [ARG...]   run CMD, write its wall time in
 *                                    seconds to FILE, exit as CMD did
 *   rigtool hotplug SECONDS          one line per hotplug event for
 *                                    SECONDS: "T arrived|left VID:PID
 *                                    B-P"; "ready" on stderr once
 *                                    registered
 *   rigtool probe N                  calibration: median, mean, min and
 *                                    max of N DFU GETSTATE round trips to
 *                                    the first 0483:df11 device, and of
 *                                    N 1 ms and 5 ms nanosleeps
 *   rigtool dfuse OUT ADDR:FILE...   a DfuSe file (ST UM0391), one
 *                                    target (alt 0), an element per
 *                                    FILE, for 0483:df11
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libusb.h>

enum {
	EXIT_USAGE = 2,
	EXIT_NOEXEC = 127,
	/* UM0391 (research/dfu.md 4.1, 4.3). */
	DFUSE_PREFIX_LEN = 11,
	DFUSE_TARGET_LEN = 274,
	DFUSE_TARGET_NAME = 255,
	DFU_SUFFIX_LEN = 16,
	DFUSE_MAX = 1 << 20,
	DFU_GETSTATE = 5	/* DFU 1.1 request code */
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int run_timed(const char *file, char **argv)
{
	double t0 = now_s(), t;
	int status;
	pid_t pid;
	FILE *f;

	pid = fork();
	if (pid < 0)
		return EXIT_NOEXEC;
	if (pid == 0) {
		execvp(argv[0], argv);
		fprintf(stderr, "rigtool: %s: %s\n", argv[0], strerror(errno));
		_exit(EXIT_NOEXEC);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return EXIT_NOEXEC;
	t = now_s() - t0;
	f = fopen(file, "w");
	if (f) {
		/* Then start and end in the simulators' log clock (ms). */
		fprintf(f, "%.6f\nspan %.0f %.0f\n", t, t0 * 1000,
		    (t0 + t) * 1000);
		fclose(f);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}

static int LIBUSB_CALL on_event(libusb_context *ctx, libusb_device *dev,
    libusb_hotplug_event event, void *user)
{
	struct libusb_device_descriptor d;
	uint8_t pn[8];
	int n, i;

	(void)ctx;
	(void)user;
	if (libusb_get_device_descriptor(dev, &d))
		memset(&d, 0, sizeof(d));
	printf("%.6f %s %04x:%04x %u-", now_s(),
	    event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED ? "arrived" : "left",
	    d.idVendor, d.idProduct, libusb_get_bus_number(dev));
	n = libusb_get_port_numbers(dev, pn, (int)sizeof(pn));
	for (i = 0; i < n; i++)
		printf(i ? ".%u" : "%u", pn[i]);
	printf("\n");
	fflush(stdout);
	return 0;
}

static int hotplug(double seconds)
{
	libusb_context *ctx;
	libusb_hotplug_callback_handle h;
	double end = now_s() + seconds;
	struct timeval tv;
	int rc;

	if (libusb_init(&ctx))
		return 1;
	rc = libusb_hotplug_register_callback(ctx,
	    LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED |
	    LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0, LIBUSB_HOTPLUG_MATCH_ANY,
	    LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, on_event, NULL,
	    &h);
	if (rc) {
		fprintf(stderr, "rigtool: hotplug: %s\n",
		    libusb_error_name(rc));
		libusb_exit(ctx);
		return 1;
	}
	fprintf(stderr, "ready\n");
	while (now_s() < end) {
		tv.tv_sec = 0;
		tv.tv_usec = 100000;
		libusb_handle_events_timeout_completed(ctx, &tv, NULL);
	}
	libusb_hotplug_deregister_callback(ctx, h);
	libusb_exit(ctx);
	return 0;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median, mean, min and max of F() over N calls, in ms. */
static void stats(const char *what, int n, double (*f)(void *), void *arg)
{
	double *t = calloc((size_t)n, sizeof(*t)), sum = 0;
	int i;

	if (!t)
		return;
	for (i = 0; i < n; i++) {
		t[i] = f(arg);
		sum += t[i];
	}
	qsort(t, (size_t)n, sizeof(*t), by_value);
	printf("%s median %.3f mean %.3f min %.3f max %.3f ms (n=%d)\n", what,
	    t[n / 2], sum / n, t[0], t[n - 1], n);
	free(t);
}

static double one_getstate(void *arg)
{
	unsigned char state;
	double t0 = now_s();

	if (libusb_control_transfer(arg, LIBUSB_ENDPOINT_IN |
	    LIBUSB_REQUEST_TYPE_CLASS | LIBUSB_RECIPIENT_INTERFACE,
	    DFU_GETSTATE, 0, 0, &state, 1, 1000) != 1)
		return 1e9;
	return (now_s() - t0) * 1000;
}

static double one_nap(void *arg)
{
	long ms = *(long *)arg;
	struct timespec ts = { 0, ms * 1000000L };
	double t0 = now_s();

	nanosleep(&ts, NULL);
	return (now_s() - t0) * 1000;
}

static int probe(int n)
{
	libusb_context *ctx;
	libusb_device_handle *h;
	long one = 1, five = 5;

	if (n <= 0 || libusb_init(&ctx))
		return 1;
	h = libusb_open_device_with_vid_pid(ctx, 0x0483, 0xdf11);
	if (!h || libusb_claim_interface(h, 0)) {
		fprintf(stderr, "rigtool: probe: no 0483:df11 to claim\n");
		if (h)
			libusb_close(h);
		libusb_exit(ctx);
		return 1;
	}
	stats("getstate", n, one_getstate, h);
	stats("nanosleep-1ms", n, one_nap, &one);
	stats("nanosleep-5ms", n, one_nap, &five);
	libusb_release_interface(h, 0);
	libusb_close(h);
	libusb_exit(ctx);
	return 0;
}

static void le(uint8_t *p, uint32_t v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* The DFU suffix CRC: reflected CRC-32, no final XOR (DFU 1.1 B.1). */
static uint32_t dfu_crc(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;
	int k;

	while (n--) {
		c ^= *p++;
		for (k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & -(c & 1));
	}
	return c;
}

static int dfuse(const char *out, int n, char **elems)
{
	static uint8_t buf[DFUSE_MAX];
	size_t at = DFUSE_PREFIX_LEN + DFUSE_TARGET_LEN, got;
	unsigned long addr;
	char *colon;
	FILE *f;
	int i;

	memset(buf, 0, at);
	for (i = 0; i < n; i++) {
		addr = strtoul(elems[i], &colon, 0);
		if (*colon != ':' || !(f = fopen(colon + 1, "rb")))
			return EXIT_USAGE;
		got = fread(buf + at + 8, 1, sizeof(buf) - at - 8 -
		    DFU_SUFFIX_LEN, f);
		fclose(f);
		le(buf + at, (uint32_t)addr, 4);
		le(buf + at + 4, (uint32_t)got, 4);
		at += 8 + got;
	}
	memcpy(buf, "DfuSe", 5);
	buf[5] = 1;
	le(buf + 6, (uint32_t)(at + DFU_SUFFIX_LEN), 4);
	buf[10] = 1;
	memcpy(buf + DFUSE_PREFIX_LEN, "Target", 6);
	le(buf + DFUSE_PREFIX_LEN + 7, 1, 4);
	strcpy((char *)buf + DFUSE_PREFIX_LEN + 11, "ST...");
	le(buf + DFUSE_PREFIX_LEN + 11 + DFUSE_TARGET_NAME,
	    (uint32_t)(at - DFUSE_PREFIX_LEN - DFUSE_TARGET_LEN), 4);
	le(buf + DFUSE_PREFIX_LEN + 15 + DFUSE_TARGET_NAME, (uint32_t)n, 4);
	le(buf + at, 0xffff, 2);
	le(buf + at + 2, 0xdf11, 2);
	le(buf + at + 4, 0x0483, 2);
	le(buf + at + 6, 0x011a, 2);
	memcpy(buf + at + 8, "UFD", 3);
	buf[at + 11] = DFU_SUFFIX_LEN;
	le(buf + at + 12, dfu_crc(buf, at + 12), 4);
	f = fopen(out, "wb");
	if (!f || fwrite(buf, 1, at + DFU_SUFFIX_LEN, f) !=
	    at + DFU_SUFFIX_LEN || fclose(f))
		return 1;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "now") == 0) {
		printf("%.6f\n", now_s());
		return 0;
	}
	if (argc >= 4 && strcmp(argv[1], "time") == 0)
		return run_timed(argv[2], argv + 3);
	if (argc == 3 && strcmp(argv[1], "hotplug") == 0)
		return hotplug(atof(argv[2]));
	if (argc == 3 && strcmp(argv[1], "probe") == 0)
		return probe(atoi(argv[2]));
	if (argc >= 4 && strcmp(argv[1], "dfuse") == 0)
		return dfuse(argv[2], argc - 3, argv + 3);
	fprintf(stderr, "usage: rigtool now | time FILE CMD [ARG...] | "
	    "hotplug SECONDS | probe N | dfuse OUT ADDR:FILE...\n");
	return EXIT_USAGE;
}
