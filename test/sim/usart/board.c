/*
 * board.c - the board around the simulated chip.
 *
 * NRST and BOOT0 are wired (--board) to the adapter's DTR or RTS, to a
 * GPIO character-device line or to a sysfs GPIO number, each through a
 * polarity, or tied high or low.  The chip runs what a real STM32 would:
 * held while NRST is low; on the NRST rising edge it samples BOOT0 and
 * runs the ROM bootloader (BOOT0 high) or the application (BOOT0 low),
 * which ignores the UART.  A break reaches the chip's RX pin only, so it
 * changes nothing (but is logged).
 *
 * Changes arrive from libft-shim.so in the host tool over a unix socket
 * (--board-socket; protocol in README and test/sim/shim/core.c), and
 * from the sysfs tree (--sysfs-gpio DIR) that the tool sees mounted over
 * /sys/class/gpio, through inotify: a write to DIR/export creates
 * DIR/gpioN/{direction,value,active_low,edge} as the kernel does.
 *
 * Invariants: every request gets one reply after its change has been
 * applied, so the host's next byte on the pty meets the new state; each
 * change is one "BOARD" log line stamped with the time the host made it
 * (CLOCK_MONOTONIC, ms with 0.1 ms), followed by the RESET lines of the
 * NRST edges it caused.  When DTR and RTS change together (open, hangup)
 * DTR is applied first, as ftdi_sio's update_mctrl() sends them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "board.h"

#define NS_PER_US_B 1000ull
#define NS_PER_MS_B 1000000.0
#define TMP_NAME ".sim-tmp"

static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/*
 * The spec.
 */
static int
parse_wire(struct wire *w, const char *text, char *err, size_t errlen)
{
	char buf[128], *save = NULL, *tok;
	int invert_flip = 0, polarity = -1;

	if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "--board: '%s' is too long", text);
		return -1;
	}
	tok = strtok_r(buf, ":", &save);
	if (tok == NULL)
		goto bad;
	w->src = -1;
	if (strcmp(tok, "dtr") == 0 || strcmp(tok, "rts") == 0) {
		w->kind = tok[0] == 'd' ? SRC_DTR : SRC_RTS;
		/* USB-serial DTR#/RTS# pins are low while asserted. */
		w->invert = 1;
		w->src = 0;
	} else if (strcmp(tok, "high") == 0 || strcmp(tok, "low") == 0) {
		w->kind = SRC_CONST;
		w->tied = tok[0] == 'h';
	} else if (strncmp(tok, "gpiochip", 8) == 0) {
		w->kind = SRC_CDEV;
		snprintf(w->chip, sizeof(w->chip), "%s", tok);
		tok = strtok_r(NULL, ":", &save);
		if (tok == NULL) {
			snprintf(err, errlen, "--board: %s wants gpiochipN:LINE",
			    w->pin);
			return -1;
		}
		snprintf(w->line, sizeof(w->line), "%s", tok);
	} else if (tok[0] >= '0' && tok[0] <= '9') {
		char *end;

		w->kind = SRC_SYSFS;
		w->sysfs = (unsigned)strtoul(tok, &end, 10);
		if (*end != '\0')
			goto bad;
	} else {
		goto bad;
	}
	while ((tok = strtok_r(NULL, ":", &save)) != NULL) {
		if (strcmp(tok, "active-low") == 0)
			polarity = 0;
		else if (strcmp(tok, "active-high") == 0)
			polarity = 1;
		else if (strcmp(tok, "inverted") == 0)
			invert_flip = 1;
		else if (strcmp(tok, "pull-up") == 0)
			w->pull = 1;
		else if (strcmp(tok, "pull-down") == 0)
			w->pull = 0;
		else
			goto bad;
	}
	if (polarity >= 0)
		w->invert = polarity == 0;
	w->invert ^= invert_flip;
	return 0;
bad:
	snprintf(err, errlen, "--board: cannot read '%s' (want dtr, rts, "
	    "high, low, N or gpiochipN:LINE, then :active-low, "
	    ":active-high, :inverted, :pull-up or :pull-down)", text);
	return -1;
}

int
board_parse(struct board *b, const char *spec, char *err, size_t errlen)
{
	char buf[512], *save = NULL, *item;

	b->active = 1;
	if (snprintf(buf, sizeof(buf), "%s", spec) >= (int)sizeof(buf)) {
		snprintf(err, errlen, "--board: spec too long");
		return -1;
	}
	for (item = strtok_r(buf, ",", &save); item != NULL;
	    item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		struct wire *w;

		if (eq == NULL)
			goto bad;
		*eq = '\0';
		if (strcmp(item, "nrst") == 0)
			w = &b->nrst;
		else if (strcmp(item, "boot0") == 0)
			w = &b->boot0;
		else
			goto bad;
		if (parse_wire(w, eq + 1, err, errlen) != 0)
			return -1;
	}
	return 0;
bad:
	snprintf(err, errlen, "--board: '%s' is not nrst=SOURCE or "
	    "boot0=SOURCE", item);
	return -1;
}

/*
 * Logging.
 */
static double
ms_since(const struct board *b, uint64_t t_ns)
{
	return t_ns > b->t0_ns ? (double)(t_ns - b->t0_ns) / NS_PER_MS_B : 0;
}

static void
logf_at(struct board *b, uint64_t t_ns, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
logf_at(struct board *b, uint64_t t_ns, const char *fmt, ...)
{
	va_list ap;

	if (b->log == NULL)
		return;
	fprintf(b->log, "%.1f ", ms_since(b, t_ns));
	va_start(ap, fmt);
	vfprintf(b->log, fmt, ap);
	va_end(ap);
	fputc('\n', b->log);
	fflush(b->log);
}

static void
flush_pending(struct board *b)
{
	if (b->log != NULL && b->pending[0] != '\0') {
		fputs(b->pending, b->log);
		fflush(b->log);
	}
	b->pending[0] = '\0';
}

static void
pend(struct board *b, uint64_t t_ns, const char *text)
{
	size_t n = strlen(b->pending);

	snprintf(b->pending + n, sizeof(b->pending) - n, "%.1f %s\n",
	    ms_since(b, t_ns), text);
}

/*
 * Pins and the chip.
 */
static int
pin_level(const struct board *b, const struct wire *w)
{
	int s;

	switch (w->kind) {
	case SRC_NONE:
		return w->pull;
	case SRC_CONST:
		return w->tied;
	case SRC_DTR:
		s = b->dtr;
		break;
	case SRC_RTS:
		s = b->rts;
		break;
	default:
		s = w->src;
		break;
	}
	if (s < 0)
		return w->pull;
	return s ^ w->invert;
}

/* Recompute the pins; NRST edges move the chip (RESET lines pend). */
static void
evaluate(struct board *b, uint64_t t_ns)
{
	int nrst = pin_level(b, &b->nrst);
	int boot0 = pin_level(b, &b->boot0);

	if (b->pin_nrst && !nrst) {
		b->run = RUN_HELD;
		b->resets++;
		if (b->on_reset != NULL)
			b->on_reset(b->reset_ctx);
		pend(b, t_ns, "RESET nrst=0 -> held");
	} else if (!b->pin_nrst && nrst) {
		char why[128] = "";
		char line[192];

		b->run = b->boot_select != NULL ?
		    b->boot_select(b->boot_ctx, boot0, why, sizeof(why)) :
		    boot0 ? RUN_BOOTLOADER : RUN_APP;
		b->resets++;
		if (b->on_reset != NULL)
			b->on_reset(b->reset_ctx);
		snprintf(line, sizeof(line), "RESET boot0=%d -> %s%s%s", boot0,
		    b->run == RUN_BOOTLOADER ? "bootloader" : "application",
		    why[0] ? " " : "", why);
		pend(b, t_ns, line);
	}
	b->pin_nrst = nrst;
	b->pin_boot0 = boot0;
}

static void
log_change(struct board *b, uint64_t t_ns, const char *what)
{
	logf_at(b, t_ns, "BOARD %s -> nrst=%d boot0=%d", what, b->pin_nrst,
	    b->pin_boot0);
	flush_pending(b);
}

static void
set_modem(struct board *b, uint64_t t_ns, int dtr, int rts,
    const char *why)
{
	char what[64];

	b->dtr = dtr;
	evaluate(b, t_ns);
	b->rts = rts;
	evaluate(b, t_ns);
	snprintf(what, sizeof(what), "dtr=%d rts=%d%s", dtr, rts, why);
	log_change(b, t_ns, what);
}

void
board_go(struct board *b)
{
	if (b->active)
		b->run = RUN_APP;
}

/*
 * Sysfs tree.
 */
static int
sysfs_path(const struct board *b, char *buf, size_t len, const char *name)
{
	return snprintf(buf, len, "%s/%s", b->sysfs_dir, name) >= (int)len ?
	    -1 : 0;
}

/* Replace a file whole without a close-after-write on the watched dir. */
static void
sysfs_put(struct board *b, const char *name, const char *text)
{
	char tmp[4096], dst[4096];
	int fd;

	if (sysfs_path(b, tmp, sizeof(tmp), TMP_NAME) != 0 ||
	    sysfs_path(b, dst, sizeof(dst), name) != 0)
		return;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) < 0) {
		/* The tree is ours; a failure shows up as a wrong read. */
	}
	close(fd);
	(void)rename(tmp, dst);
}

static size_t
sysfs_read(struct board *b, const char *name, char *buf, size_t len)
{
	char path[4096];
	ssize_t n;
	int fd;

	buf[0] = '\0';
	if (sysfs_path(b, path, sizeof(path), name) != 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return (size_t)n;
}

static struct sysfs_line *
sysfs_find(struct board *b, unsigned n)
{
	size_t i;

	for (i = 0; i < b->nsysfs; i++)
		if (b->sysfs[i].n == n)
			return &b->sysfs[i];
	return NULL;
}

static void
sysfs_write_attrs(struct board *b, const struct sysfs_line *g)
{
	char name[64];

	snprintf(name, sizeof(name), "gpio%u/direction", g->n);
	sysfs_put(b, name, g->out ? "out\n" : "in\n");
	snprintf(name, sizeof(name), "gpio%u/value", g->n);
	sysfs_put(b, name, g->value ? "1\n" : "0\n");
	snprintf(name, sizeof(name), "gpio%u/active_low", g->n);
	sysfs_put(b, name, g->active_low ? "1\n" : "0\n");
}

/* The level a sysfs line puts on its wires, and the log. */
static void
sysfs_drive(struct board *b, struct sysfs_line *g, uint64_t t_ns)
{
	char what[64];
	int level = g->out ? g->value ^ g->active_low : -1;

	if (b->nrst.kind == SRC_SYSFS && b->nrst.sysfs == g->n)
		b->nrst.src = level;
	if (b->boot0.kind == SRC_SYSFS && b->boot0.sysfs == g->n)
		b->boot0.src = level;
	evaluate(b, t_ns);
	if (level < 0)
		snprintf(what, sizeof(what), "gpio%u=float", g->n);
	else
		snprintf(what, sizeof(what), "gpio%u=%d", g->n, level);
	log_change(b, t_ns, what);
}

static unsigned
parse_num(const char *s, int *ok)
{
	char *end;
	unsigned long v;

	s += strspn(s, " \t");
	v = strtoul(s, &end, 10);
	*ok = end != s && (*end == '\0' || *end == '\n');
	return (unsigned)v;
}

static void
sysfs_export(struct board *b, uint64_t t_ns)
{
	char buf[64], path[4096], name[32];
	struct sysfs_line *g;
	unsigned n;
	int ok;

	sysfs_read(b, "export", buf, sizeof(buf));
	if (sysfs_path(b, path, sizeof(path), "export") == 0)
		(void)truncate(path, 0);
	if (buf[0] == '\0')
		return;
	n = parse_num(buf, &ok);
	if (!ok) {
		logf_at(b, t_ns, "BOARD export '%.*s' invalid",
		    (int)strcspn(buf, "\n"), buf);
		return;
	}
	if (sysfs_find(b, n) != NULL || b->nsysfs == BOARD_MAX_SYSFS) {
		logf_at(b, t_ns, "BOARD export gpio%u busy", n);
		return;
	}
	g = &b->sysfs[b->nsysfs++];
	memset(g, 0, sizeof(*g));
	g->n = n;
	snprintf(name, sizeof(name), "gpio%u", n);
	if (sysfs_path(b, path, sizeof(path), name) != 0 ||
	    (mkdir(path, 0755) != 0 && errno != EEXIST)) {
		b->nsysfs--;
		return;
	}
	/* A fresh line is an input reading its pull. */
	sysfs_write_attrs(b, g);
	snprintf(name, sizeof(name), "gpio%u/edge", n);
	sysfs_put(b, name, "none\n");
	g->wd = inotify_add_watch(b->ino_fd, path, IN_CLOSE_WRITE);
	logf_at(b, t_ns, "BOARD export gpio%u", n);
}

static void
sysfs_unexport(struct board *b, uint64_t t_ns)
{
	static const char *const attrs[] = {
		"direction", "value", "active_low", "edge",
	};
	char buf[64], path[4096], name[64];
	struct sysfs_line *g;
	unsigned n;
	size_t i;
	int ok;

	sysfs_read(b, "unexport", buf, sizeof(buf));
	if (sysfs_path(b, path, sizeof(path), "unexport") == 0)
		(void)truncate(path, 0);
	if (buf[0] == '\0')
		return;
	n = parse_num(buf, &ok);
	if (!ok || (g = sysfs_find(b, n)) == NULL) {
		logf_at(b, t_ns, "BOARD unexport '%.*s' invalid",
		    (int)strcspn(buf, "\n"), buf);
		return;
	}
	if (g->wd >= 0)
		(void)inotify_rm_watch(b->ino_fd, g->wd);
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		snprintf(name, sizeof(name), "gpio%u/%s", n, attrs[i]);
		if (sysfs_path(b, path, sizeof(path), name) == 0)
			(void)unlink(path);
	}
	snprintf(name, sizeof(name), "gpio%u", n);
	if (sysfs_path(b, path, sizeof(path), name) == 0)
		(void)rmdir(path);
	logf_at(b, t_ns, "BOARD unexport gpio%u", n);
	/* An output that is unexported floats; an input already did. */
	if (g->out) {
		g->out = 0;
		sysfs_drive(b, g, t_ns);
	}
	*g = b->sysfs[--b->nsysfs];
}

/*
 * A write to gpioN/ATTR.  Writers need not truncate (stm32flash does
 * not), so "in" over "out\n" reads "int\n": the attribute is the
 * keyword the file starts with, as the kernel would have received it.
 */
static void
sysfs_attr(struct board *b, struct sysfs_line *g, const char *attr,
    uint64_t t_ns)
{
	char name[64], buf[64];

	snprintf(name, sizeof(name), "gpio%u/%s", g->n, attr);
	sysfs_read(b, name, buf, sizeof(buf));
	if (strcmp(attr, "direction") == 0) {
		if (strncmp(buf, "high", 4) == 0) {
			g->out = 1;
			g->value = !g->active_low;
		} else if (strncmp(buf, "low", 3) == 0) {
			g->out = 1;
			g->value = g->active_low;
		} else if (strncmp(buf, "out", 3) == 0) {
			/* The kernel drives plain "out" low (raw). */
			g->out = 1;
			g->value = g->active_low;
		} else if (strncmp(buf, "in", 2) == 0) {
			g->out = 0;
		} else {
			logf_at(b, t_ns, "BOARD gpio%u direction '%.*s' "
			    "invalid", g->n, (int)strcspn(buf, "\n"), buf);
		}
	} else if (strcmp(attr, "value") == 0) {
		if (!g->out)
			logf_at(b, t_ns, "BOARD gpio%u value on an input "
			    "(EPERM)", g->n);
		else
			g->value = buf[0] != '0';
	} else if (strcmp(attr, "active_low") == 0) {
		g->active_low = buf[0] != '0';
	} else {
		return;
	}
	sysfs_write_attrs(b, g);
	sysfs_drive(b, g, t_ns);
}

static void
sysfs_drain(struct board *b)
{
	char buf[4096] __attribute__((aligned(8)));
	ssize_t n;

	if (b->ino_fd < 0)
		return;
	while ((n = read(b->ino_fd, buf, sizeof(buf))) > 0) {
		uint64_t t_ns = mono_ns();
		ssize_t off = 0;

		while (off + (ssize_t)sizeof(struct inotify_event) <= n) {
			struct inotify_event ev;
			const char *name = buf + off + sizeof(ev);
			size_t i;

			memcpy(&ev, buf + off, sizeof(ev));
			off += (ssize_t)sizeof(ev) + ev.len;
			if (ev.len == 0 || !(ev.mask & IN_CLOSE_WRITE) ||
			    name[0] == '.')
				continue;
			if (ev.wd == b->dir_wd) {
				if (strcmp(name, "export") == 0)
					sysfs_export(b, t_ns);
				else if (strcmp(name, "unexport") == 0)
					sysfs_unexport(b, t_ns);
				continue;
			}
			for (i = 0; i < b->nsysfs; i++)
				if (b->sysfs[i].wd == ev.wd) {
					sysfs_attr(b, &b->sysfs[i], name,
					    t_ns);
					break;
				}
		}
	}
}

static int
sysfs_open(struct board *b, char *err, size_t errlen)
{
	char path[4096];

	if (mkdir(b->sysfs_dir, 0755) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "--sysfs-gpio %s: %s", b->sysfs_dir,
		    strerror(errno));
		return -1;
	}
	sysfs_put(b, "export", "");
	sysfs_put(b, "unexport", "");
	b->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	b->dir_wd = b->ino_fd < 0 ? -1 :
	    inotify_add_watch(b->ino_fd, b->sysfs_dir, IN_CLOSE_WRITE);
	if (b->dir_wd < 0 || sysfs_path(b, path, sizeof(path), "x") != 0) {
		snprintf(err, errlen, "inotify %s: %s", b->sysfs_dir,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Socket requests.
 */
static uint64_t
req_time(const char *line)
{
	const char *p = strstr(line, " t=");

	if (p == NULL)
		return mono_ns();
	return strtoull(p + 3, NULL, 10) * NS_PER_US_B;
}

static long
req_num(const char *line, const char *key)
{
	size_t kl = strlen(key);
	const char *p = line;

	while ((p = strstr(p, key)) != NULL) {
		if (p > line && p[-1] == ' ' && p[kl] == '=')
			return strtol(p + kl + 1, NULL, 0);
		p += kl;
	}
	return -1;
}

/* Copy the value of KEY=VALUE (up to a space) into out. */
static void
req_str(const char *line, const char *key, char *out, size_t len)
{
	size_t kl = strlen(key);
	const char *p = line;

	out[0] = '\0';
	while ((p = strstr(p, key)) != NULL) {
		if (p > line && p[-1] == ' ' && p[kl] == '=') {
			size_t n = strcspn(p + kl + 1, " ");

			if (n >= len)
				n = len - 1;
			memcpy(out, p + kl + 1, n);
			out[n] = '\0';
			return;
		}
		p += kl;
	}
}

static int
hupcl_set(const struct board *b)
{
	struct termios t;

	return tcgetattr(b->slave, &t) == 0 && (t.c_cflag & HUPCL) != 0;
}

static int
cdev_match(const struct wire *w, const char *chip, const char *line,
    const char *name)
{
	return w->kind == SRC_CDEV && strcmp(w->chip, chip) == 0 &&
	    (strcmp(w->line, line) == 0 || strcmp(w->line, name) == 0);
}

static void
req_gpio(struct board *b, int conn, const char *line, uint64_t t_ns)
{
	char chip[BOARD_NAME_MAX], off[BOARD_NAME_MAX], name[BOARD_NAME_MAX];
	char val[8], what[128];
	int level, wired = 0;

	req_str(line, "chip", chip, sizeof(chip));
	req_str(line, "line", off, sizeof(off));
	req_str(line, "name", name, sizeof(name));
	req_str(line, "value", val, sizeof(val));
	level = strcmp(val, "float") == 0 ? -1 : atoi(val) != 0;
	if (cdev_match(&b->nrst, chip, off, name)) {
		b->nrst.src = level;
		b->nrst.owner = conn;
		wired = 1;
	}
	if (cdev_match(&b->boot0, chip, off, name)) {
		b->boot0.src = level;
		b->boot0.owner = conn;
		wired = 1;
	}
	evaluate(b, t_ns);
	snprintf(what, sizeof(what), "%s:%s=%s%s", chip, off, val,
	    wired ? "" : " (not wired)");
	log_change(b, t_ns, what);
}

static void
reply(struct board_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
reply(struct board_conn *c, const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	/* The shim waits for this line; a short write means it is gone. */
	if (write(c->fd, buf, (size_t)n) != n) {
		/* EOF handling closes the connection on the next poll. */
	}
}

static void
handle_line(struct board *b, int ci, const char *line)
{
	struct board_conn *c = &b->conns[ci];
	uint64_t t_ns = req_time(line);
	char what[96];

	if (strncmp(line, "HELLO", 5) == 0) {
		reply(c, "OK rdev=%u:%u dtr=%d rts=%d serial=0x%x",
		    major(b->rdev), minor(b->rdev), b->dtr, b->rts,
		    b->serial_flags);
	} else if (strncmp(line, "TTY OPEN", 8) == 0) {
		c->opens++;
		b->opens++;
		/* Raised on every open unless the speed is B0. */
		if (req_num(line, "baud0") != 1)
			set_modem(b, t_ns, 1, 1, " (open)");
		reply(c, "OK dtr=%d rts=%d", b->dtr, b->rts);
	} else if (strncmp(line, "TTY CLOSE", 9) == 0) {
		if (c->opens > 0) {
			c->opens--;
			b->opens--;
		}
		if (b->opens == 0 && req_num(line, "hupcl") == 1)
			set_modem(b, t_ns, 0, 0, " (hangup)");
		reply(c, "OK dtr=%d rts=%d", b->dtr, b->rts);
	} else if (strncmp(line, "TTY GET", 7) == 0) {
		reply(c, "OK dtr=%d rts=%d serial=0x%x", b->dtr, b->rts,
		    b->serial_flags);
	} else if (strncmp(line, "TTY SET", 7) == 0) {
		set_modem(b, t_ns, req_num(line, "dtr") == 1,
		    req_num(line, "rts") == 1, "");
		reply(c, "OK dtr=%d rts=%d", b->dtr, b->rts);
	} else if (strncmp(line, "TTY BREAK", 9) == 0) {
		b->brk = req_num(line, "on") == 1;
		snprintf(what, sizeof(what), "brk=%d", b->brk);
		log_change(b, t_ns, what);
		reply(c, "OK");
	} else if (strncmp(line, "TTY SERIAL", 10) == 0) {
		b->serial_flags = (unsigned)req_num(line, "flags");
		logf_at(b, t_ns, "BOARD serial flags=0x%x low_latency=%ld",
		    b->serial_flags, req_num(line, "low_latency"));
		reply(c, "OK");
	} else if (strncmp(line, "GPIO", 4) == 0) {
		req_gpio(b, ci, line, t_ns);
		reply(c, "OK");
	} else if (strncmp(line, "SYNC", 4) == 0) {
		sysfs_drain(b);
		reply(c, "OK");
	} else {
		reply(c, "ERR unknown request");
	}
}

/* A chardev line whose requester died floats, as a released line. */
static void
release_owned(struct board *b, struct wire *w, int ci, uint64_t t_ns)
{
	char what[96];

	if (w->kind != SRC_CDEV || w->owner != ci || w->src < 0)
		return;
	w->src = -1;
	evaluate(b, t_ns);
	snprintf(what, sizeof(what), "%s:%s=float (client gone)", w->chip,
	    w->line);
	log_change(b, t_ns, what);
}

/* A client process is gone: the kernel closes its files for it. */
static void
conn_gone(struct board *b, int ci)
{
	struct board_conn *c = &b->conns[ci];
	uint64_t t_ns = mono_ns();

	close(c->fd);
	c->fd = -1;
	if (c->opens > 0) {
		b->opens -= c->opens;
		c->opens = 0;
		if (b->opens <= 0 && hupcl_set(b)) {
			b->opens = 0;
			set_modem(b, t_ns, 0, 0, " (hangup, client gone)");
		}
	}
	release_owned(b, &b->nrst, ci, t_ns);
	release_owned(b, &b->boot0, ci, t_ns);
}

static void
conn_read(struct board *b, int ci)
{
	struct board_conn *c = &b->conns[ci];
	ssize_t n = read(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len);
	char *nl;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		conn_gone(b, ci);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	while ((nl = strchr(c->buf, '\n')) != NULL) {
		*nl = '\0';
		handle_line(b, ci, c->buf);
		c->len -= (size_t)(nl + 1 - c->buf);
		memmove(c->buf, nl + 1, c->len + 1);
	}
	if (c->len == sizeof(c->buf) - 1)
		c->len = 0;	/* an overlong line: drop it */
}

static void
accept_conn(struct board *b)
{
	int fd = accept4(b->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	size_t i;

	if (fd < 0)
		return;
	for (i = 0; i < BOARD_MAX_CONNS; i++)
		if (b->conns[i].fd < 0) {
			b->conns[i].fd = fd;
			b->conns[i].len = 0;
			b->conns[i].opens = 0;
			return;
		}
	close(fd);
}

static int
socket_open(struct board *b, char *err, size_t errlen)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", b->sock_path) >=
	    (int)sizeof(sa.sun_path)) {
		snprintf(err, errlen, "--board-socket path too long");
		return -1;
	}
	(void)unlink(b->sock_path);
	b->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (b->listen_fd < 0 ||
	    bind(b->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    listen(b->listen_fd, BOARD_MAX_CONNS) != 0) {
		snprintf(err, errlen, "--board-socket %s: %s", b->sock_path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

int
board_open(struct board *b, int slave_fd, FILE *log, uint64_t t0_ns,
    char *err, size_t errlen)
{
	struct termios t;
	struct stat st;
	size_t i;

	b->listen_fd = b->ino_fd = b->dir_wd = -1;
	for (i = 0; i < BOARD_MAX_CONNS; i++)
		b->conns[i].fd = -1;
	if (!b->active)
		return 0;
	b->slave = slave_fd;
	b->log = log;
	b->t0_ns = t0_ns;
	if (fstat(slave_fd, &st) == 0)
		b->rdev = st.st_rdev;
	/* A serial port's default termios has HUPCL; a pty's has not. */
	if (tcgetattr(slave_fd, &t) == 0) {
		t.c_cflag |= HUPCL;
		(void)tcsetattr(slave_fd, TCSANOW, &t);
	}
	if (b->sock_path != NULL && socket_open(b, err, errlen) != 0)
		return -1;
	if (b->sysfs_dir != NULL && sysfs_open(b, err, errlen) != 0)
		return -1;
	/* Power on: NRST low holds the chip, else it runs the start. */
	b->pin_nrst = pin_level(b, &b->nrst);
	b->pin_boot0 = pin_level(b, &b->boot0);
	b->run = !b->pin_nrst ? RUN_HELD : b->start_bootloader ?
	    RUN_BOOTLOADER : RUN_APP;
	logf_at(b, t0_ns, "BOARD power-on -> nrst=%d boot0=%d", b->pin_nrst,
	    b->pin_boot0);
	logf_at(b, t0_ns, "RESET power-on -> %s", b->run == RUN_HELD ?
	    "held" : b->run == RUN_APP ? "application" : "bootloader");
	return 0;
}

void
board_close(struct board *b)
{
	size_t i;

	for (i = 0; i < BOARD_MAX_CONNS; i++)
		if (b->conns[i].fd >= 0)
			close(b->conns[i].fd);
	if (b->listen_fd >= 0) {
		close(b->listen_fd);
		(void)unlink(b->sock_path);
	}
	if (b->ino_fd >= 0)
		close(b->ino_fd);
	b->listen_fd = b->ino_fd = -1;
}

int
board_pollfds(struct board *b, struct pollfd *p)
{
	int n = 0;
	size_t i;

	if (!b->active)
		return 0;
	if (b->listen_fd >= 0) {
		p[n].fd = b->listen_fd;
		p[n++].events = POLLIN;
	}
	if (b->ino_fd >= 0) {
		p[n].fd = b->ino_fd;
		p[n++].events = POLLIN;
	}
	for (i = 0; i < BOARD_MAX_CONNS; i++)
		if (b->conns[i].fd >= 0) {
			p[n].fd = b->conns[i].fd;
			p[n++].events = POLLIN;
		}
	return n;
}

void
board_service(struct board *b, const struct pollfd *p, int n)
{
	int i, ci;

	for (i = 0; i < n; i++) {
		if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		if (p[i].fd == b->listen_fd) {
			accept_conn(b);
		} else if (p[i].fd == b->ino_fd) {
			sysfs_drain(b);
		} else {
			for (ci = 0; ci < BOARD_MAX_CONNS; ci++)
				if (b->conns[ci].fd == p[i].fd) {
					conn_read(b, ci);
					break;
				}
		}
	}
}
