/*
 * gpio.c - fake GPIO character devices (Linux uAPI v2, linux/gpio.h).
 *
 * FT_GPIO_CHIPS describes the chips, separated by spaces:
 *   CHIP  := gpiochipN '=' ATTR (',' ATTR)*
 *   ATTR  := label=TEXT            chip label (default "ft-sim")
 *          | lines=N               number of lines (default 32, max 256)
 *          | names=NAME(;NAME)*    names of lines 0, 1, ...; empty = none
 *          | used=USE(;USE)*       lines the kernel already holds
 *   USE   := OFFSET['@'CONSUMER]   (consumer default "kernel")
 * ':' may stand for '=' inside an ATTR ("label:pinctrl-bcm2711").
 * Example:
 *   FT_GPIO_CHIPS='gpiochip0=label=pinctrl-bcm2711,lines=58,
 *     names=ID_SDA;ID_SCL;GPIO2;GPIO3,used=4@onewire'   (one line)
 *
 * While FT_GPIO_CHIPS is set, /dev/gpiochipN that it does not name does
 * not exist (ENOENT from open/stat/access), whatever the host has.  A
 * chip descriptor is an eventfd that fstat reports as a character device
 * (major 254); a line request is another eventfd (never readable: no
 * edge events are generated).  The ioctls check their arguments as
 * drivers/gpio/gpiolib-cdev.c does: nonzero padding, bad offsets, bad
 * flag combinations and empty masks give EINVAL, setting an input gives
 * EPERM, a line that is used or already requested gives EBUSY.  The v1
 * ioctls answer EINVAL, as a kernel built without CONFIG_GPIO_CDEV_V1.
 *
 * Every change of a line's physical level is reported to the simulator:
 * an output's level (value XOR active-low), or "float" when the line is
 * an input or released.  A released line floats: the uAPI leaves its
 * state undefined, and a board must not rely on it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "shim.h"

#define MAX_CHIPS 8
#define MAX_CHIP_LINES 256
#define DEFAULT_CHIP_LINES 32
#define MAX_FDS 64
#define GPIO_CDEV_MAJOR 254
#define DEV_PREFIX "/dev/"
#define CHIP_PREFIX "gpiochip"

#define EDGE_FLAGS (GPIO_V2_LINE_FLAG_EDGE_RISING | \
	GPIO_V2_LINE_FLAG_EDGE_FALLING)
#define DIR_FLAGS (GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_OUTPUT)
#define DRIVE_FLAGS (GPIO_V2_LINE_FLAG_OPEN_DRAIN | \
	GPIO_V2_LINE_FLAG_OPEN_SOURCE)
#define BIAS_FLAGS (GPIO_V2_LINE_FLAG_BIAS_PULL_UP | \
	GPIO_V2_LINE_FLAG_BIAS_PULL_DOWN | GPIO_V2_LINE_FLAG_BIAS_DISABLED)
#define CLOCK_FLAGS (GPIO_V2_LINE_FLAG_EVENT_CLOCK_REALTIME | \
	GPIO_V2_LINE_FLAG_EVENT_CLOCK_HTE)
#define VALID_FLAGS (GPIO_V2_LINE_FLAG_ACTIVE_LOW | EDGE_FLAGS | \
	CLOCK_FLAGS | DIR_FLAGS | BIAS_FLAGS | DRIVE_FLAGS)

struct line {
	char name[GPIO_MAX_NAME_SIZE];
	char consumer[GPIO_MAX_NAME_SIZE];
	int used;		/* held by the "kernel" (config) */
	int req;		/* index into reqs + 1; 0: free */
	uint64_t flags;		/* as requested, while requested */
	int out;		/* direction, kept after release */
	int phys;		/* physical level of an output */
	int reported;		/* last level sent: 0, 1, -1 float */
	uint32_t debounce_us;
};

struct chip {
	char name[GPIO_MAX_NAME_SIZE];
	char label[GPIO_MAX_NAME_SIZE];
	unsigned num;		/* N of gpiochipN */
	unsigned nlines;
	struct line lines[MAX_CHIP_LINES];
};

enum fd_kind { FD_NONE, FD_CHIP, FD_REQ };

struct tracked {
	int fd;
	enum fd_kind kind;
	int chip;
	unsigned n;				/* request: lines */
	uint32_t offsets[GPIO_V2_LINES_MAX];
};

static struct chip chips[MAX_CHIPS];
static size_t nchips;
static int parsed;
static int configured;		/* FT_GPIO_CHIPS is set */
static struct tracked fds[MAX_FDS];

static void
copy_name(char *dst, const char *src, size_t n)
{
	size_t len = n < GPIO_MAX_NAME_SIZE - 1 ? n : GPIO_MAX_NAME_SIZE - 1;

	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* A chip name gpiochipN: N, or -1. */
static long
chip_number(const char *name, size_t len)
{
	size_t pl = strlen(CHIP_PREFIX), i;

	if (len <= pl || strncmp(name, CHIP_PREFIX, pl) != 0)
		return -1;
	for (i = pl; i < len; i++)
		if (name[i] < '0' || name[i] > '9')
			return -1;
	return strtol(name + pl, NULL, 10);
}

static void
parse_used(struct chip *c, const char *v, size_t vl)
{
	while (vl > 0) {
		const char *semi = memchr(v, ';', vl);
		size_t tl = semi != NULL ? (size_t)(semi - v) : vl;
		const char *at = memchr(v, '@', tl);
		char *end;
		unsigned long off = strtoul(v, &end, 10);

		if (end != v && off < c->nlines) {
			c->lines[off].used = 1;
			if (at != NULL)
				copy_name(c->lines[off].consumer, at + 1,
				    tl - (size_t)(at + 1 - v));
			else
				copy_name(c->lines[off].consumer, "kernel", 6);
		} else {
			fprintf(stderr, "ft-shim: FT_GPIO_CHIPS: %s: bad used "
			    "line '%.*s'\n", c->name, (int)tl, v);
		}
		if (semi == NULL)
			break;
		vl -= tl + 1;
		v = semi + 1;
	}
}

static void
parse_names(struct chip *c, const char *v, size_t vl)
{
	unsigned i = 0;

	while (i < c->nlines) {
		const char *semi = memchr(v, ';', vl);
		size_t tl = semi != NULL ? (size_t)(semi - v) : vl;

		copy_name(c->lines[i++].name, v, tl);
		if (semi == NULL)
			break;
		vl -= tl + 1;
		v = semi + 1;
	}
}

/* One "gpiochipN=..." word. */
static void
parse_chip(const char *w, size_t wl)
{
	const char *eq = memchr(w, '=', wl);
	const char *names = NULL, *used = NULL;
	size_t names_len = 0, used_len = 0;
	struct chip *c;
	const char *p, *end = w + wl;
	long num;
	size_t i;

	if (eq == NULL || (num = chip_number(w, (size_t)(eq - w))) < 0 ||
	    nchips == MAX_CHIPS) {
		fprintf(stderr, "ft-shim: FT_GPIO_CHIPS: cannot use '%.*s'\n",
		    (int)wl, w);
		return;
	}
	c = &chips[nchips++];
	memset(c, 0, sizeof(*c));
	copy_name(c->name, w, (size_t)(eq - w));
	copy_name(c->label, "ft-sim", 6);
	c->num = (unsigned)num;
	c->nlines = DEFAULT_CHIP_LINES;
	for (i = 0; i < MAX_CHIP_LINES; i++)
		c->lines[i].reported = -1;
	for (p = eq + 1; p < end; ) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *ae = comma != NULL ? comma : end;
		size_t kl = strcspn(p, "=:");
		const char *v = p + kl + 1;
		size_t vl;

		if (p + kl >= ae) {
			fprintf(stderr, "ft-shim: FT_GPIO_CHIPS: %s: '%.*s' "
			    "wants KEY=VALUE\n", c->name, (int)(ae - p), p);
			p = ae + 1;
			continue;
		}
		vl = (size_t)(ae - v);
		if (kl == 5 && strncmp(p, "label", 5) == 0) {
			copy_name(c->label, v, vl);
		} else if (kl == 5 && strncmp(p, "lines", 5) == 0) {
			c->nlines = (unsigned)strtoul(v, NULL, 10);
			if (c->nlines == 0 || c->nlines > MAX_CHIP_LINES)
				c->nlines = DEFAULT_CHIP_LINES;
		} else if (kl == 5 && strncmp(p, "names", 5) == 0) {
			names = v;
			names_len = vl;
		} else if (kl == 4 && strncmp(p, "used", 4) == 0) {
			used = v;
			used_len = vl;
		} else {
			fprintf(stderr, "ft-shim: FT_GPIO_CHIPS: %s: unknown "
			    "'%.*s'\n", c->name, (int)kl, p);
		}
		p = ae + 1;
	}
	/* After lines=, wherever it came. */
	if (names != NULL)
		parse_names(c, names, names_len);
	if (used != NULL)
		parse_used(c, used, used_len);
}

static void
parse_config(void)
{
	const char *s = getenv("FT_GPIO_CHIPS");

	if (parsed)
		return;
	parsed = 1;
	if (s == NULL)
		return;
	configured = 1;
	while (*s != '\0') {
		size_t wl;

		s += strspn(s, " \t\n");
		wl = strcspn(s, " \t\n");
		if (wl > 0)
			parse_chip(s, wl);
		s += wl;
	}
}

const char *
gpio_chip_name(size_t i)
{
	parse_config();
	return i < nchips ? chips[i].name : NULL;
}

/* "/dev/gpiochipN": 1 and the chip index (or -1: not configured). */
static int
match_path(const char *path, int *idx)
{
	size_t dl = strlen(DEV_PREFIX), i;
	long num;

	parse_config();
	if (!configured || strncmp(path, DEV_PREFIX, dl) != 0)
		return 0;
	num = chip_number(path + dl, strlen(path + dl));
	if (num < 0)
		return 0;
	*idx = -1;
	for (i = 0; i < nchips; i++)
		if (chips[i].num == (unsigned)num)
			*idx = (int)i;
	return 1;
}

static struct tracked *
find_fd(int fd)
{
	size_t i;

	if (fd < 0)
		return NULL;
	for (i = 0; i < MAX_FDS; i++)
		if (fds[i].kind != FD_NONE && fds[i].fd == fd)
			return &fds[i];
	return NULL;
}

static struct tracked *
new_fd(int cloexec)
{
	size_t i;
	int fd;

	for (i = 0; i < MAX_FDS; i++)
		if (fds[i].kind == FD_NONE)
			break;
	if (i == MAX_FDS) {
		errno = EMFILE;
		return NULL;
	}
	fd = eventfd(0, cloexec ? EFD_CLOEXEC : 0);
	if (fd < 0)
		return NULL;
	memset(&fds[i], 0, sizeof(fds[i]));
	fds[i].fd = fd;
	return &fds[i];
}

int
gpio_tracked(int fd)
{
	return find_fd(fd) != NULL;
}

int
gpio_open(const char *path, int flags, int *ret)
{
	struct tracked *t;
	int idx;

	if (!match_path(path, &idx))
		return 0;
	*ret = -1;
	if (idx < 0) {
		errno = ENOENT;
		return 1;
	}
	if ((flags & O_ACCMODE) == O_WRONLY) {
		/* Not a kernel rule, but no real tool does it. */
		errno = EINVAL;
		return 1;
	}
	if ((t = new_fd((flags & O_CLOEXEC) != 0)) == NULL)
		return 1;
	t->kind = FD_CHIP;
	t->chip = idx;
	*ret = t->fd;
	shim_debug("open %s -> fd %d", path, t->fd);
	return 1;
}

static void
fake_stat(const struct chip *c, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = S_IFCHR | 0600;
	st->st_nlink = 1;
	st->st_rdev = makedev(GPIO_CDEV_MAJOR, c->num);
	st->st_dev = makedev(0, 5);
	st->st_ino = 1000 + c->num;
	st->st_blksize = 4096;
}

int
gpio_stat_path(const char *path, struct stat *st, int *ret)
{
	int idx;

	if (!match_path(path, &idx))
		return 0;
	if (idx < 0) {
		errno = ENOENT;
		*ret = -1;
		return 1;
	}
	fake_stat(&chips[idx], st);
	*ret = 0;
	return 1;
}

int
gpio_fstat(int fd, struct stat *st)
{
	struct tracked *t = find_fd(fd);

	if (t == NULL || t->kind != FD_CHIP)
		return shim_real.fstat(fd, st);
	fake_stat(&chips[t->chip], st);
	return 0;
}

/* Send a line's physical level to the simulator if it changed. */
static void
report(const struct chip *c, unsigned off, struct line *l, int level)
{
	char reply[SHIM_REPLY_MAX];
	char val[8];

	if (l->reported == level)
		return;
	l->reported = level;
	snprintf(val, sizeof(val), "%s", level < 0 ? "float" :
	    level ? "1" : "0");
	(void)shim_request(reply, sizeof(reply), "GPIO t=%llu chip=%s "
	    "line=%u name=%s value=%s consumer=%s",
	    (unsigned long long)shim_now_us(), c->name, off,
	    l->name[0] != '\0' ? l->name : "-", val,
	    l->consumer[0] != '\0' ? l->consumer : "-");
}

static void
report_line(const struct chip *c, unsigned off)
{
	struct line *l = (struct line *)&c->lines[off];

	report(c, off, l, l->req != 0 && l->out ? l->phys : -1);
}

/* gpio_v2_line_flags_validate() */
static int
flags_valid(uint64_t f)
{
	if (f & ~(uint64_t)VALID_FLAGS)
		return 0;
	if ((f & CLOCK_FLAGS) == CLOCK_FLAGS)
		return 0;
	if ((f & DIR_FLAGS) == DIR_FLAGS)
		return 0;
	if ((f & EDGE_FLAGS) && !(f & GPIO_V2_LINE_FLAG_INPUT))
		return 0;
	if ((f & DRIVE_FLAGS) && !(f & GPIO_V2_LINE_FLAG_OUTPUT))
		return 0;
	if ((f & DRIVE_FLAGS) == DRIVE_FLAGS)
		return 0;
	if ((f & BIAS_FLAGS) && !(f & DIR_FLAGS))
		return 0;
	if (__builtin_popcountll(f & BIAS_FLAGS) > 1)
		return 0;
	return 1;
}

static int
zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}

/* Flags for line index i of a request (attributes override). */
static uint64_t
line_flags(const struct gpio_v2_line_config *cfg, unsigned i)
{
	uint64_t f = cfg->flags;
	unsigned a;

	for (a = 0; a < cfg->num_attrs; a++)
		if (cfg->attrs[a].attr.id == GPIO_V2_LINE_ATTR_ID_FLAGS &&
		    (cfg->attrs[a].mask >> i & 1))
			f = cfg->attrs[a].attr.flags;
	return f;
}

/* Output value (logical) for line index i; -1 when none is given. */
static int
line_value(const struct gpio_v2_line_config *cfg, unsigned i)
{
	unsigned a;
	int v = -1;

	for (a = 0; a < cfg->num_attrs; a++)
		if (cfg->attrs[a].attr.id ==
		    GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES &&
		    (cfg->attrs[a].mask >> i & 1))
			v = (int)(cfg->attrs[a].attr.values >> i & 1);
	return v;
}

static uint32_t
line_debounce(const struct gpio_v2_line_config *cfg, unsigned i)
{
	unsigned a;
	uint32_t d = 0;

	for (a = 0; a < cfg->num_attrs; a++)
		if (cfg->attrs[a].attr.id == GPIO_V2_LINE_ATTR_ID_DEBOUNCE &&
		    (cfg->attrs[a].mask >> i & 1))
			d = cfg->attrs[a].attr.debounce_period_us;
	return d;
}

static int
config_valid(const struct gpio_v2_line_config *cfg, unsigned n)
{
	unsigned i;

	if (cfg->num_attrs > GPIO_V2_LINE_NUM_ATTRS_MAX ||
	    !zero(cfg->padding, sizeof(cfg->padding)))
		return 0;
	for (i = 0; i < n; i++)
		if (!flags_valid(line_flags(cfg, i)))
			return 0;
	return 1;
}

/* Apply a validated config to the lines of a request. */
static void
apply_config(struct chip *c, const struct tracked *t,
    const struct gpio_v2_line_config *cfg)
{
	unsigned i;

	for (i = 0; i < t->n; i++) {
		struct line *l = &c->lines[t->offsets[i]];
		uint64_t f = line_flags(cfg, i);
		int v = line_value(cfg, i);
		int active_low = (f & GPIO_V2_LINE_FLAG_ACTIVE_LOW) != 0;

		l->flags = f;
		l->debounce_us = line_debounce(cfg, i);
		if (f & GPIO_V2_LINE_FLAG_OUTPUT) {
			/* The kernel drives an unset value as inactive. */
			l->out = 1;
			l->phys = (v > 0) ^ active_low;
		} else if (f & GPIO_V2_LINE_FLAG_INPUT) {
			l->out = 0;
		}
		report_line(c, t->offsets[i]);
	}
}

static int
get_line(struct chip *c, int cidx, struct gpio_v2_line_request *req,
    int *ret)
{
	struct tracked *t;
	unsigned i, j;

	if (!zero(req->padding, sizeof(req->padding)) ||
	    req->num_lines == 0 || req->num_lines > GPIO_V2_LINES_MAX)
		goto inval;
	for (i = 0; i < req->num_lines; i++)
		if (req->offsets[i] >= c->nlines)
			goto inval;
	if (!config_valid(&req->config, req->num_lines))
		goto inval;
	for (i = 0; i < req->num_lines; i++) {
		struct line *l = &c->lines[req->offsets[i]];

		if (l->used || l->req != 0)
			goto busy;
		for (j = 0; j < i; j++)
			if (req->offsets[j] == req->offsets[i])
				goto busy;
	}
	if ((t = new_fd(1)) == NULL) {
		*ret = -1;
		return 1;
	}
	t->kind = FD_REQ;
	t->chip = cidx;
	t->n = req->num_lines;
	memcpy(t->offsets, req->offsets, sizeof(t->offsets));
	for (i = 0; i < t->n; i++) {
		struct line *l = &c->lines[t->offsets[i]];

		l->req = (int)(t - fds) + 1;
		if (req->consumer[0] != '\0')
			copy_name(l->consumer, req->consumer,
			    strnlen(req->consumer, sizeof(req->consumer)));
		else
			copy_name(l->consumer, "?", 1);
	}
	apply_config(c, t, &req->config);
	req->fd = t->fd;
	*ret = 0;
	shim_debug("request %u lines on %s -> fd %d", t->n, c->name, t->fd);
	return 1;
inval:
	errno = EINVAL;
	*ret = -1;
	return 1;
busy:
	errno = EBUSY;
	*ret = -1;
	return 1;
}

static int
line_info(const struct chip *c, struct gpio_v2_line_info *info, int *ret)
{
	const struct line *l;
	uint32_t off = info->offset;

	if (!zero(info->padding, sizeof(info->padding)) ||
	    off >= c->nlines) {
		errno = EINVAL;
		*ret = -1;
		return 1;
	}
	l = &c->lines[off];
	memset(info, 0, sizeof(*info));
	info->offset = off;
	memcpy(info->name, l->name, sizeof(info->name));
	if (l->used || l->req != 0) {
		memcpy(info->consumer, l->consumer, sizeof(info->consumer));
		info->flags |= GPIO_V2_LINE_FLAG_USED;
	}
	if (l->req != 0)
		info->flags |= l->flags & ~(uint64_t)DIR_FLAGS;
	info->flags |= l->out ? GPIO_V2_LINE_FLAG_OUTPUT :
	    GPIO_V2_LINE_FLAG_INPUT;
	if (l->req != 0 && l->debounce_us != 0) {
		info->num_attrs = 1;
		info->attrs[0].id = GPIO_V2_LINE_ATTR_ID_DEBOUNCE;
		info->attrs[0].debounce_period_us = l->debounce_us;
	}
	*ret = 0;
	return 1;
}

static int
chip_ioctl(struct tracked *t, unsigned long req, void *arg, int *ret)
{
	struct chip *c = &chips[t->chip];
	struct gpiochip_info ci;

	*ret = 0;
	switch (req) {
	case GPIO_GET_CHIPINFO_IOCTL:
		memset(&ci, 0, sizeof(ci));
		memcpy(ci.name, c->name, sizeof(ci.name));
		memcpy(ci.label, c->label, sizeof(ci.label));
		ci.lines = c->nlines;
		memcpy(arg, &ci, sizeof(ci));
		return 1;
	case GPIO_V2_GET_LINEINFO_IOCTL:
	case GPIO_V2_GET_LINEINFO_WATCH_IOCTL:
		return line_info(c, arg, ret);
	case GPIO_GET_LINEINFO_UNWATCH_IOCTL:
		return 1;
	case GPIO_V2_GET_LINE_IOCTL:
		return get_line(c, t->chip, arg, ret);
	default:
		errno = EINVAL;
		*ret = -1;
		return 1;
	}
}

static int
physical_in(const struct line *l)
{
	if (l->out)
		return l->phys;
	/* An input reads its bias; unbiased it reads low. */
	return (l->flags & GPIO_V2_LINE_FLAG_BIAS_PULL_UP) != 0;
}

static int
req_ioctl(struct tracked *t, unsigned long req, void *arg, int *ret)
{
	struct chip *c = &chips[t->chip];
	struct gpio_v2_line_values *lv = arg;
	struct gpio_v2_line_config *cfg = arg;
	unsigned i;

	*ret = 0;
	switch (req) {
	case GPIO_V2_LINE_SET_VALUES_IOCTL:
		if ((lv->mask & (t->n < 64 ? (1ull << t->n) - 1 : ~0ull)) ==
		    0)
			goto inval;
		for (i = 0; i < t->n; i++)
			if ((lv->mask >> i & 1) &&
			    !c->lines[t->offsets[i]].out) {
				errno = EPERM;
				*ret = -1;
				return 1;
			}
		for (i = 0; i < t->n; i++) {
			struct line *l = &c->lines[t->offsets[i]];

			if (!(lv->mask >> i & 1))
				continue;
			l->phys = (int)(lv->bits >> i & 1) ^
			    ((l->flags & GPIO_V2_LINE_FLAG_ACTIVE_LOW) != 0);
			report_line(c, t->offsets[i]);
		}
		return 1;
	case GPIO_V2_LINE_GET_VALUES_IOCTL:
		if ((lv->mask & (t->n < 64 ? (1ull << t->n) - 1 : ~0ull)) ==
		    0)
			goto inval;
		lv->bits = 0;
		for (i = 0; i < t->n; i++) {
			const struct line *l = &c->lines[t->offsets[i]];
			int v;

			if (!(lv->mask >> i & 1))
				continue;
			v = physical_in(l) ^
			    ((l->flags & GPIO_V2_LINE_FLAG_ACTIVE_LOW) != 0);
			lv->bits |= (uint64_t)v << i;
		}
		return 1;
	case GPIO_V2_LINE_SET_CONFIG_IOCTL:
		if (!config_valid(cfg, t->n))
			goto inval;
		apply_config(c, t, cfg);
		return 1;
	default:
		goto inval;
	}
inval:
	errno = EINVAL;
	*ret = -1;
	return 1;
}

int
gpio_ioctl(int fd, unsigned long req, void *arg, int *ret)
{
	struct tracked *t = find_fd(fd);

	if (t == NULL)
		return 0;
	if (arg == NULL) {
		errno = EFAULT;
		*ret = -1;
		return 1;
	}
	if (t->kind == FD_CHIP)
		return chip_ioctl(t, req, arg, ret);
	return req_ioctl(t, req, arg, ret);
}

/* After the real close: a request gives its lines back. */
void
gpio_after_close(int fd)
{
	struct tracked *t = find_fd(fd);
	unsigned i;

	if (t == NULL)
		return;
	if (t->kind == FD_REQ) {
		struct chip *c = &chips[t->chip];

		for (i = 0; i < t->n; i++) {
			struct line *l = &c->lines[t->offsets[i]];

			l->req = 0;
			l->flags = 0;
			l->consumer[0] = '\0';
			l->debounce_us = 0;
			report_line(c, t->offsets[i]);
		}
	}
	t->kind = FD_NONE;
	t->fd = -1;
}
