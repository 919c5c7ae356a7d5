/*
 * gpio-client.c - a tiny GPIO character-device (uAPI v2) client for the
 * end-to-end tests of libft-shim.so's fake chips; it talks to the real
 * kernel interface only, so it works on a real /dev/gpiochipN too.
 * Built by test/e2e/50-board-sim.sh (not by the Makefile: the shim's
 * directory is compiled into the shim).
 *
 * usage: gpio-client [-c CONSUMER] CHIP STEP...
 *   info            print "chip NAME label=LABEL lines=N"
 *   line OFF        print "line OFF name=N consumer=C flags=F"
 *   find NAME       print the offset of the line called NAME
 *   out OFFS VALS   request lines (1,2,...) as outputs set to VALS (0,1)
 *   in OFFS         request lines as inputs
 *   set VALS        set the values of the last request
 *   get             print the values of the last request
 *   tostr           reconfigure the last request as inputs
 *   release         close the last request
 *   sleep MS
 *   badpad OFF      a request with nonzero padding (kernel: EINVAL)
 * A failing step prints "STEP: ERRNO-NAME" on stderr and exits 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static int chip_fd = -1, req_fd = -1;
static unsigned req_n;
static const char *consumer = "gpio-client";

static const char *
errname(int e)
{
	switch (e) {
	case EBUSY: return "EBUSY";
	case ENOENT: return "ENOENT";
	case EINVAL: return "EINVAL";
	case EPERM: return "EPERM";
	case ENOTTY: return "ENOTTY";
	case EFAULT: return "EFAULT";
	default: return strerror(e);
	}
}

static void
die(const char *step)
{
	fprintf(stderr, "%s: %s\n", step, errname(errno));
	exit(1);
}

static unsigned
list(const char *s, unsigned *out)
{
	unsigned n = 0;
	char *end;

	while (*s != '\0' && n < GPIO_V2_LINES_MAX) {
		out[n++] = (unsigned)strtoul(s, &end, 10);
		s = *end == ',' ? end + 1 : end;
		if (end == s && *s != '\0')
			break;
	}
	return n;
}

static void
request(const char *offs, const char *vals, int out, int badpad)
{
	struct gpio_v2_line_request r;
	unsigned o[GPIO_V2_LINES_MAX], v[GPIO_V2_LINES_MAX], i, nv = 0;

	memset(&r, 0, sizeof(r));
	r.num_lines = list(offs, o);
	for (i = 0; i < r.num_lines; i++)
		r.offsets[i] = o[i];
	snprintf(r.consumer, sizeof(r.consumer), "%s", consumer);
	r.config.flags = out ? GPIO_V2_LINE_FLAG_OUTPUT :
	    GPIO_V2_LINE_FLAG_INPUT;
	if (vals != NULL) {
		nv = list(vals, v);
		r.config.num_attrs = 1;
		r.config.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
		for (i = 0; i < nv && i < r.num_lines; i++) {
			r.config.attrs[0].mask |= 1ull << i;
			if (v[i])
				r.config.attrs[0].attr.values |= 1ull << i;
		}
	}
	if (badpad)
		r.padding[2] = 1;
	if (ioctl(chip_fd, GPIO_V2_GET_LINE_IOCTL, &r) != 0)
		die(badpad ? "badpad" : out ? "out" : "in");
	req_fd = r.fd;
	req_n = r.num_lines;
	printf("requested %u lines\n", req_n);
}

static void
set_values(const char *vals)
{
	struct gpio_v2_line_values lv;
	unsigned v[GPIO_V2_LINES_MAX], n = list(vals, v), i;

	memset(&lv, 0, sizeof(lv));
	for (i = 0; i < n && i < req_n; i++) {
		lv.mask |= 1ull << i;
		if (v[i])
			lv.bits |= 1ull << i;
	}
	if (ioctl(req_fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &lv) != 0)
		die("set");
}

static void
line_info(unsigned off, int quiet, const char *want)
{
	struct gpio_v2_line_info li;

	memset(&li, 0, sizeof(li));
	li.offset = off;
	if (ioctl(chip_fd, GPIO_V2_GET_LINEINFO_IOCTL, &li) != 0)
		die("line");
	if (want != NULL) {
		if (strcmp(li.name, want) == 0)
			printf("%u\n", off);
		return;
	}
	if (!quiet)
		printf("line %u name=%s consumer=%s flags=%s%s%s%s\n", off,
		    li.name[0] ? li.name : "-",
		    li.consumer[0] ? li.consumer : "-",
		    li.flags & GPIO_V2_LINE_FLAG_USED ? "used," : "",
		    li.flags & GPIO_V2_LINE_FLAG_OUTPUT ? "output" : "",
		    li.flags & GPIO_V2_LINE_FLAG_INPUT ? "input" : "",
		    li.flags & GPIO_V2_LINE_FLAG_ACTIVE_LOW ?
		    ",active-low" : "");
}

int
main(int argc, char **argv)
{
	struct gpiochip_info ci;
	int i = 1;

	if (argc > 2 && strcmp(argv[1], "-c") == 0) {
		consumer = argv[2];
		i = 3;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: gpio-client [-c CONSUMER] CHIP "
		    "STEP...\n");
		return 2;
	}
	chip_fd = open(argv[i], O_RDWR | O_CLOEXEC);
	if (chip_fd < 0)
		die("open");
	for (i++; i < argc; i++) {
		const char *s = argv[i];
		const char *a = i + 1 < argc ? argv[i + 1] : "";

		if (strcmp(s, "info") == 0) {
			memset(&ci, 0, sizeof(ci));
			if (ioctl(chip_fd, GPIO_GET_CHIPINFO_IOCTL, &ci) != 0)
				die("info");
			printf("chip %s label=%s lines=%u\n", ci.name,
			    ci.label, ci.lines);
		} else if (strcmp(s, "line") == 0) {
			line_info((unsigned)atoi(a), 0, NULL);
			i++;
		} else if (strcmp(s, "find") == 0) {
			unsigned off;

			memset(&ci, 0, sizeof(ci));
			if (ioctl(chip_fd, GPIO_GET_CHIPINFO_IOCTL, &ci) != 0)
				die("find");
			for (off = 0; off < ci.lines; off++)
				line_info(off, 1, a);
			i++;
		} else if (strcmp(s, "out") == 0) {
			request(a, i + 2 < argc ? argv[i + 2] : "", 1, 0);
			i += 2;
		} else if (strcmp(s, "in") == 0) {
			request(a, NULL, 0, 0);
			i++;
		} else if (strcmp(s, "badpad") == 0) {
			request(a, NULL, 0, 1);
			i++;
		} else if (strcmp(s, "set") == 0) {
			set_values(a);
			i++;
		} else if (strcmp(s, "get") == 0) {
			struct gpio_v2_line_values lv = { 0, ~0ull };
			unsigned k;

			if (ioctl(req_fd, GPIO_V2_LINE_GET_VALUES_IOCTL,
			    &lv) != 0)
				die("get");
			for (k = 0; k < req_n; k++)
				printf("%s%u", k ? "," : "",
				    (unsigned)(lv.bits >> k & 1));
			printf("\n");
		} else if (strcmp(s, "tostr") == 0) {
			struct gpio_v2_line_config c;

			memset(&c, 0, sizeof(c));
			c.flags = GPIO_V2_LINE_FLAG_INPUT;
			if (ioctl(req_fd, GPIO_V2_LINE_SET_CONFIG_IOCTL,
			    &c) != 0)
				die("tostr");
		} else if (strcmp(s, "release") == 0) {
			close(req_fd);
			req_fd = -1;
		} else if (strcmp(s, "sleep") == 0) {
			struct timespec ts;
			long ms = atol(a);

			ts.tv_sec = ms / 1000;
			ts.tv_nsec = ms % 1000 * 1000000L;
			nanosleep(&ts, NULL);
			i++;
		} else {
			fprintf(stderr, "gpio-client: unknown step '%s'\n", s);
			return 2;
		}
		fflush(stdout);
	}
	return 0;
}
