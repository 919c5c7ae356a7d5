/*
 * usart/gpio.c - host GPIO lines for entry/exit sequences.
 *
 * gpiochipN:LINE and line names go through the GPIO character device,
 * uAPI v2: lines are looked up with GPIO_V2_GET_LINEINFO_IOCTL, requested
 * with GPIO_V2_GET_LINE_IOCTL (one request per chip, consumer
 * "flashtool"), switched to output by GPIO_V2_LINE_SET_CONFIG_IOCTL on
 * their first set and driven with GPIO_V2_LINE_SET_VALUES_IOCTL after
 * that.  Plain numbers keep stm32flash's sysfs meaning: export, write
 * "high"/"low" to direction, unexport at the end.
 *
 * Invariants:
 *  - Every line is claimed in ft_gpio_open, before any serial port is
 *    touched, and held until ft_gpio_close; nothing is driven until the
 *    sequence says so (requests leave the direction as it is).
 *  - A failed open leaves nothing claimed or exported.
 *  - Two signals naming the same chip line (by name and by number) share
 *    one slot, so the line is requested once.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/gpio.h>

#include "gpio.h"

#define GPIO_CONSUMER "flashtool"
#define DEFAULT_SYSFS "/sys/class/gpio"
#define DEFAULT_DEV "/dev"
/*
 * After an export, udev may still be changing the new directory's owner
 * and mode: retry opening direction for this long, every poll interval.
 */
#define SYSFS_EXPORT_WAIT_MS 1000u
#define SYSFS_EXPORT_POLL_MS 10u
/* Chips scanned when looking a line name up. */
#define MAX_CHIPS 32
#define PATH_BYTES 256

enum slot_kind {
	SLOT_NONE,		/* not a GPIO signal (dtr, rts, brk) */
	SLOT_CDEV,
	SLOT_SYSFS,
};

struct slot {
	enum slot_kind kind;
	/* SLOT_CDEV */
	unsigned req;		/* index into reqs[] */
	unsigned bit;		/* index of the line in that request */
	/* SLOT_SYSFS */
	unsigned num;
	int exported;		/* we exported it: unexport at close */
	int was_input;		/* direction was "in" before we drove */
	int driven;
};

struct request {
	unsigned chip;
	int fd;			/* the request's line fd; -1: not yet */
	unsigned nlines;
	uint32_t offsets[GPIO_V2_LINES_MAX];
	uint64_t outputs;	/* lines switched to output */
	uint64_t values;	/* their levels */
};

struct ft_gpio {
	struct ft_ctx *ctx;
	char sysfs[PATH_BYTES];
	char dev[PATH_BYTES];
	unsigned nslots;
	struct slot slots[FT_SEQ_MAX_SIGNALS];
	char names[FT_SEQ_MAX_SIGNALS][FT_SEQ_NAME_MAX + 16];
	unsigned nreqs;
	struct request reqs[FT_SEQ_MAX_SIGNALS];
};

/* An open chip, while lines are being looked up. */
struct chip {
	unsigned num;
	int fd;
	struct gpiochip_info info;
};

struct chips {
	unsigned n;
	struct chip c[MAX_CHIPS];
};

static int
chip_open_errno(struct ft_gpio *g, const char *sig, unsigned num, int e);

static void
chips_close(struct chips *cs)
{
	unsigned i;

	for (i = 0; i < cs->n; i++)
		if (cs->c[i].fd >= 0)
			(void)close(cs->c[i].fd);
	cs->n = 0;
}

static int
cmp_unsigned(const void *a, const void *b)
{
	unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

	return x < y ? -1 : x > y;
}

/* The N of every gpiochipN in the dev directory, ascending. */
static unsigned
list_chips(const char *dev, unsigned *nums, unsigned max)
{
	DIR *d = opendir(dev);
	struct dirent *de;
	unsigned n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL && n < max) {
		const char *p = de->d_name;
		unsigned long v;
		char *end;

		if (strncmp(p, "gpiochip", 8) != 0 || p[8] < '0' || p[8] > '9')
			continue;
		v = strtoul(p + 8, &end, 10);
		if (*end != '\0' || v > 0xFFFF)
			continue;
		nums[n++] = (unsigned)v;
	}
	closedir(d);
	qsort(nums, n, sizeof(nums[0]), cmp_unsigned);
	return n;
}

/* "gpiochip0 gpiochip1" or "none", for messages. */
static void
chip_list_str(const char *dev, char *buf, size_t len)
{
	unsigned nums[MAX_CHIPS], n, i;
	size_t used = 0;

	n = list_chips(dev, nums, MAX_CHIPS);
	snprintf(buf, len, "none");
	for (i = 0; i < n && used < len; i++) {
		int k = snprintf(buf + used, len - used, "%sgpiochip%u",
		    i ? " " : "", nums[i]);

		if (k < 0)
			break;
		used += (size_t)k;
	}
}

/* Open gpiochipN (once) and read its info. */
static int
chip_get(struct ft_gpio *g, struct chips *cs, unsigned num, const char *sig,
    struct chip **out)
{
	char path[PATH_BYTES + 32];
	struct chip *c;
	unsigned i;

	for (i = 0; i < cs->n; i++) {
		if (cs->c[i].num == num) {
			*out = &cs->c[i];
			return 0;
		}
	}
	if (cs->n == MAX_CHIPS)
		return ft_fail(g->ctx, FT_E_NOT_SUPPORTED,
		    "%s: more than %u GPIO chips", sig, MAX_CHIPS);
	c = &cs->c[cs->n];
	snprintf(path, sizeof(path), "%s/gpiochip%u", g->dev, num);
	c->num = num;
	c->fd = open(path, O_RDWR | O_CLOEXEC);
	if (c->fd < 0)
		return chip_open_errno(g, sig, num, errno);
	cs->n++;
	memset(&c->info, 0, sizeof(c->info));
	if (ioctl(c->fd, GPIO_GET_CHIPINFO_IOCTL, &c->info) != 0)
		return ft_fail(g->ctx, FT_E_IO, "%s: %s: GPIO_GET_CHIPINFO: %s "
		    "(not a GPIO chip?)", sig, path, strerror(errno));
	*out = c;
	return 0;
}

static int
chip_open_errno(struct ft_gpio *g, const char *sig, unsigned num, int e)
{
	char list[160];

	switch (e) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		chip_list_str(g->dev, list, sizeof(list));
		return ft_fail(g->ctx, FT_E_NO_DEVICE, "%s: no GPIO chip "
		    "%s/gpiochip%u (chips here: %s)", sig, g->dev, num, list);
	case EACCES:
	case EPERM:
		return ft_fail(g->ctx, FT_E_ACCESS, "%s: permission denied on "
		    "%s/gpiochip%u (add your user to the group owning it, "
		    "often 'gpio', or add a udev rule)", sig, g->dev, num);
	default:
		return ft_fail(g->ctx, FT_E_IO, "%s: %s/gpiochip%u: %s", sig,
		    g->dev, num, strerror(e));
	}
}

static int
line_info(struct chip *c, unsigned offset, struct gpio_v2_line_info *li)
{
	memset(li, 0, sizeof(*li));
	li->offset = offset;
	return ioctl(c->fd, GPIO_V2_GET_LINEINFO_IOCTL, li);
}

/* A line somebody else holds: say who, the way gpioinfo would. */
static int
line_busy(struct ft_gpio *g, const char *sig, const struct chip *c,
    unsigned offset, const struct gpio_v2_line_info *li)
{
	char who[GPIO_MAX_NAME_SIZE + 16];

	if (li != NULL && li->consumer[0] != '\0')
		snprintf(who, sizeof(who), "\"%.*s\"", GPIO_MAX_NAME_SIZE,
		    li->consumer);
	else
		snprintf(who, sizeof(who), "the kernel or another program");
	return ft_fail(g->ctx, FT_E_BUSY, "%s: line %u of gpiochip%u is in "
	    "use by %s", sig, offset, c->num, who);
}

/* Find the chip and offset of a character-device signal. */
static int
resolve_cdev(struct ft_gpio *g, struct chips *cs,
    const struct ft_seq_signal *s, const char *sig, struct chip **chip,
    unsigned *offset)
{
	struct gpio_v2_line_info li;
	unsigned nums[MAX_CHIPS], n, i, k;
	int rc;

	if (s->kind == FT_SIG_CHIP_LINE) {
		rc = chip_get(g, cs, s->chip, sig, chip);
		if (rc < 0)
			return rc;
		if (s->num >= (*chip)->info.lines)
			return ft_fail(g->ctx, FT_E_NO_DEVICE, "%s: gpiochip%u "
			    "(%.*s) has %u lines, 0 to %u", sig, s->chip,
			    GPIO_MAX_NAME_SIZE, (*chip)->info.label,
			    (*chip)->info.lines,
			    (*chip)->info.lines ? (*chip)->info.lines - 1 : 0);
		*offset = s->num;
		return 0;
	}
	n = list_chips(g->dev, nums, MAX_CHIPS);
	for (i = 0; i < n; i++) {
		rc = chip_get(g, cs, nums[i], sig, chip);
		if (rc < 0)
			return rc;
		for (k = 0; k < (*chip)->info.lines; k++) {
			if (line_info(*chip, k, &li) != 0)
				return ft_fail(g->ctx, FT_E_IO, "%s: "
				    "gpiochip%u line %u: LINEINFO: %s", sig,
				    nums[i], k, strerror(errno));
			if (strncmp(li.name, s->name, sizeof(li.name)) == 0) {
				*offset = k;
				ft_dbg(g->ctx, "GPIO line %s is gpiochip%u:%u",
				    s->name, nums[i], k);
				return 0;
			}
		}
	}
	if (n == 0)
		return ft_fail(g->ctx, FT_E_NO_DEVICE, "%s: no GPIO line of "
		    "that name: there is no GPIO chip in %s", sig, g->dev);
	if (strcmp(s->name, "DTR") == 0 || strcmp(s->name, "RTS") == 0 ||
	    strcmp(s->name, "BRK") == 0)
		return ft_fail(g->ctx, FT_E_NO_DEVICE, "%s: no GPIO line of "
		    "that name (the serial lines are written in lower case: "
		    "dtr, rts, brk)", sig);
	return ft_fail(g->ctx, FT_E_NO_DEVICE, "%s: no GPIO line of that "
	    "name on gpiochip%u to gpiochip%u (gpioinfo lists them; or "
	    "write gpiochipN:LINE)", sig, nums[0], nums[n - 1]);
}

/* Slot for a chip line: share the request of its chip, once per line. */
static int
add_cdev_line(struct ft_gpio *g, struct slot *sl, const struct chip *c,
    unsigned offset, const char *sig)
{
	struct request *r = NULL;
	unsigned i;

	for (i = 0; i < g->nreqs; i++)
		if (g->reqs[i].chip == c->num)
			r = &g->reqs[i];
	if (r == NULL) {
		r = &g->reqs[g->nreqs];
		memset(r, 0, sizeof(*r));
		r->chip = c->num;
		r->fd = -1;
		g->nreqs++;
	}
	sl->kind = SLOT_CDEV;
	sl->req = (unsigned)(r - g->reqs);
	for (i = 0; i < r->nlines; i++) {
		if (r->offsets[i] == offset) {
			sl->bit = i;
			return 0;
		}
	}
	if (r->nlines == GPIO_V2_LINES_MAX)
		return ft_fail(g->ctx, FT_E_NOT_SUPPORTED, "%s: too many lines "
		    "on gpiochip%u", sig, c->num);
	sl->bit = r->nlines;
	r->offsets[r->nlines++] = offset;
	return 0;
}

/* Find the signal naming line bit of request r, for messages. */
static const char *
req_line_name(const struct ft_gpio *g, unsigned req, unsigned bit)
{
	unsigned i;

	for (i = 0; i < g->nslots; i++)
		if (g->slots[i].kind == SLOT_CDEV && g->slots[i].req == req &&
		    g->slots[i].bit == bit)
			return g->names[i];
	return "?";
}

static int
request_lines(struct ft_gpio *g, struct chips *cs)
{
	struct gpio_v2_line_request lr;
	unsigned i, k;

	for (i = 0; i < g->nreqs; i++) {
		struct request *r = &g->reqs[i];
		struct chip *c = NULL;
		struct gpio_v2_line_info li;
		int rc;

		rc = chip_get(g, cs, r->chip, req_line_name(g, i, 0), &c);
		if (rc < 0)
			return rc;
		/* Say who holds a busy line before the request fails. */
		for (k = 0; k < r->nlines; k++) {
			if (line_info(c, r->offsets[k], &li) == 0 &&
			    (li.flags & GPIO_V2_LINE_FLAG_USED))
				return line_busy(g, req_line_name(g, i, k), c,
				    r->offsets[k], &li);
		}
		memset(&lr, 0, sizeof(lr));
		memcpy(lr.offsets, r->offsets,
		    r->nlines * sizeof(r->offsets[0]));
		snprintf(lr.consumer, sizeof(lr.consumer), "%s",
		    GPIO_CONSUMER);
		/* No direction flag: "as is" until the first set. */
		lr.config.flags = 0;
		lr.num_lines = r->nlines;
		if (ioctl(c->fd, GPIO_V2_GET_LINE_IOCTL, &lr) != 0) {
			int e = errno;

			if (e == EBUSY)
				return line_busy(g, req_line_name(g, i, 0), c,
				    r->offsets[0], NULL);
			return ft_fail(g->ctx, e == EACCES || e == EPERM ?
			    FT_E_ACCESS : FT_E_IO, "%s: requesting gpiochip%u "
			    "lines: %s", req_line_name(g, i, 0), c->num,
			    strerror(e));
		}
		r->fd = lr.fd;
		ft_dbg(g->ctx, "gpiochip%u: %u line(s) requested", c->num,
		    r->nlines);
	}
	return 0;
}

/* Write text to a sysfs attribute; returns 0 or an errno value. */
static int
sysfs_write(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, e = 0;

	/* O_TRUNC as a shell's '>' does: sysfs ignores it, and a plain
	 * file standing in for sysfs (unit tests) ends up holding text. */
	fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);
	if (fd < 0)
		return errno;
	n = write(fd, text, len);
	if (n < 0)
		e = errno;
	else if ((size_t)n != len)
		e = EIO;
	(void)close(fd);
	return e;
}

static int
sysfs_fail(struct ft_gpio *g, const char *what, unsigned num, int e)
{
	switch (e) {
	case EACCES:
	case EPERM:
		return ft_fail(g->ctx, FT_E_ACCESS, "GPIO %u: permission "
		    "denied on %s (add your user to the group owning it, "
		    "often 'gpio', or add a udev rule)", num, what);
	case EBUSY:
		return ft_fail(g->ctx, FT_E_BUSY, "GPIO %u is in use (a "
		    "driver or a program holding it through the GPIO "
		    "character device)", num);
	case EINVAL:
	case ENODEV:
	case ENXIO:
		return ft_fail(g->ctx, FT_E_NO_DEVICE, "GPIO %u does not "
		    "exist (sysfs numbers start at each chip's base, see "
		    "%s/gpiochip*/base; gpiochipN:LINE avoids that)", num,
		    g->sysfs);
	default:
		return ft_fail(g->ctx, FT_E_IO, "GPIO %u: %s: %s", num, what,
		    strerror(e));
	}
}

static int
sysfs_claim(struct ft_gpio *g, struct slot *sl, unsigned num)
{
	char path[PATH_BYTES + 32], text[16];
	struct stat st;
	unsigned waited = 0;
	int fd, e;

	sl->kind = SLOT_SYSFS;
	sl->num = num;
	if (stat(g->sysfs, &st) != 0 || !S_ISDIR(st.st_mode))
		return ft_fail(g->ctx, FT_E_NOT_SUPPORTED, "GPIO %u: %s does "
		    "not exist, so plain GPIO numbers cannot be used (the "
		    "sysfs interface is gone from newer kernels, e.g. "
		    "Raspberry Pi 6.6 and later): name the line as "
		    "gpiochipN:LINE or by its name (gpioinfo lists both)",
		    num, g->sysfs);
	snprintf(path, sizeof(path), "%s/gpio%u", g->sysfs, num);
	if (stat(path, &st) != 0) {
		snprintf(path, sizeof(path), "%s/export", g->sysfs);
		snprintf(text, sizeof(text), "%u", num);
		e = sysfs_write(path, text);
		if (e != 0)
			return sysfs_fail(g, path, num, e);
		sl->exported = 1;
		ft_dbg(g->ctx, "GPIO %u exported", num);
	}
	snprintf(path, sizeof(path), "%s/gpio%u/direction", g->sysfs, num);
	for (;;) {
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd >= 0)
			break;
		e = errno;
		if ((e != ENOENT && e != EACCES) ||
		    waited >= SYSFS_EXPORT_WAIT_MS)
			return sysfs_fail(g, path, num, e);
		ft_sleep_us(SYSFS_EXPORT_POLL_MS * 1000u);
		waited += SYSFS_EXPORT_POLL_MS;
	}
	if (read(fd, text, 1) == 1 && text[0] == 'i')
		sl->was_input = 1;
	(void)close(fd);
	return 0;
}

static void
sysfs_release(struct ft_gpio *g, struct slot *sl)
{
	char path[PATH_BYTES + 32], text[16];

	if (sl->was_input && sl->driven) {
		snprintf(path, sizeof(path), "%s/gpio%u/direction", g->sysfs,
		    sl->num);
		(void)sysfs_write(path, "in");
	}
	if (sl->exported) {
		snprintf(path, sizeof(path), "%s/unexport", g->sysfs);
		snprintf(text, sizeof(text), "%u", sl->num);
		(void)sysfs_write(path, text);
		sl->exported = 0;
	}
}

int
ft_gpio_open(struct ft_ctx *ctx, const struct ft_seq *seq,
    const struct ft_gpio_paths *paths, struct ft_gpio **out)
{
	struct chips cs;
	struct ft_gpio *g;
	unsigned i;
	int rc = 0, any = 0;

	*out = NULL;
	for (i = 0; i < seq->nsignals; i++)
		if (seq->signals[i].kind >= FT_SIG_SYSFS)
			any = 1;
	if (!any)
		return 0;
	g = calloc(1, sizeof(*g));
	if (g == NULL)
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	g->ctx = ctx;
	snprintf(g->sysfs, sizeof(g->sysfs), "%s",
	    paths != NULL && paths->sysfs != NULL ? paths->sysfs :
	    DEFAULT_SYSFS);
	snprintf(g->dev, sizeof(g->dev), "%s",
	    paths != NULL && paths->dev != NULL ? paths->dev : DEFAULT_DEV);
	g->nslots = seq->nsignals;
	cs.n = 0;
	/* Character-device lines first: they need no cleanup but close. */
	for (i = 0; i < seq->nsignals && rc == 0; i++) {
		const struct ft_seq_signal *s = &seq->signals[i];
		struct chip *c = NULL;
		unsigned offset = 0;

		ft_seq_signal_str(s, g->names[i], sizeof(g->names[i]));
		if (s->kind != FT_SIG_CHIP_LINE && s->kind != FT_SIG_LINE_NAME)
			continue;
		rc = resolve_cdev(g, &cs, s, g->names[i], &c, &offset);
		if (rc == 0)
			rc = add_cdev_line(g, &g->slots[i], c, offset,
			    g->names[i]);
	}
	if (rc == 0)
		rc = request_lines(g, &cs);
	chips_close(&cs);
	for (i = 0; i < seq->nsignals && rc == 0; i++)
		if (seq->signals[i].kind == FT_SIG_SYSFS)
			rc = sysfs_claim(g, &g->slots[i],
			    seq->signals[i].num);
	if (rc < 0) {
		ft_gpio_close(g);
		return rc;
	}
	*out = g;
	return 0;
}

static int
cdev_set(struct ft_gpio *g, struct slot *sl, const char *sig, int level)
{
	struct request *r = &g->reqs[sl->req];
	uint64_t bit = (uint64_t)1 << sl->bit;

	if (level)
		r->values |= bit;
	else
		r->values &= ~bit;
	if (!(r->outputs & bit)) {
		struct gpio_v2_line_config lc;

		/* First set: this line becomes an output at its level;
		 * lines already out keep theirs, the rest stay as they are. */
		memset(&lc, 0, sizeof(lc));
		lc.flags = 0;
		lc.num_attrs = 2;
		lc.attrs[0].attr.id = GPIO_V2_LINE_ATTR_ID_FLAGS;
		lc.attrs[0].attr.flags = GPIO_V2_LINE_FLAG_OUTPUT;
		lc.attrs[0].mask = r->outputs | bit;
		lc.attrs[1].attr.id = GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES;
		lc.attrs[1].attr.values = r->values;
		lc.attrs[1].mask = r->outputs | bit;
		if (ioctl(r->fd, GPIO_V2_LINE_SET_CONFIG_IOCTL, &lc) != 0)
			return ft_fail(g->ctx, FT_E_IO, "%s: making the line "
			    "an output: %s", sig, strerror(errno));
		r->outputs |= bit;
		return 0;
	} else {
		struct gpio_v2_line_values lv;

		memset(&lv, 0, sizeof(lv));
		lv.mask = bit;
		lv.bits = level ? bit : 0;
		if (ioctl(r->fd, GPIO_V2_LINE_SET_VALUES_IOCTL, &lv) != 0)
			return ft_fail(g->ctx, FT_E_IO, "%s: setting the line "
			    "%s: %s", sig, level ? "high" : "low",
			    strerror(errno));
	}
	return 0;
}

int
ft_gpio_set(struct ft_gpio *g, unsigned signal, int level)
{
	char path[PATH_BYTES + 32];
	struct slot *sl;
	int e;

	if (g == NULL || signal >= g->nslots ||
	    g->slots[signal].kind == SLOT_NONE)
		return ft_fail(g != NULL ? g->ctx : NULL, FT_E_INVALID,
		    "signal %u is not a GPIO line", signal);
	sl = &g->slots[signal];
	if (sl->kind == SLOT_CDEV)
		return cdev_set(g, sl, g->names[signal], level);
	snprintf(path, sizeof(path), "%s/gpio%u/direction", g->sysfs,
	    sl->num);
	/* "high"/"low" make the line an output at that level in one write. */
	e = sysfs_write(path, level ? "high" : "low");
	if (e != 0)
		return sysfs_fail(g, path, sl->num, e);
	sl->driven = 1;
	return 0;
}

void
ft_gpio_close(struct ft_gpio *g)
{
	unsigned i;

	if (g == NULL)
		return;
	for (i = 0; i < g->nreqs; i++)
		if (g->reqs[i].fd >= 0)
			(void)close(g->reqs[i].fd);
	for (i = 0; i < g->nslots; i++)
		if (g->slots[i].kind == SLOT_SYSFS)
			sysfs_release(g, &g->slots[i]);
	free(g);
}
