/*
 * usart/seq.c - the entry/exit sequence language (stm32flash's -i grammar plus
 * gpiochipN:LINE and line names) and the table of named presets.
 *
 * Invariants:
 *  - Pure: no I/O.  Parsing fills a caller's struct ft_seq or fails with
 *    FT_E_INVALID, a detail "column N: ..." and out->err_col = N (1-based).
 *  - Every signal appears once in signals[], whichever half and however
 *    often it is used, so that a line is requested once per session.
 *  - Runs of ',' (also across '&') become one WAIT step whose ms is the
 *    sum; no WAIT step has ms 0.
 *  - Presets are plain rows in the same grammar; the unit tests parse
 *    every one of them.
 */
#include <stdio.h>
#include <string.h>

#include "ft_int.h"

/* GPIO numbers, chip numbers and line offsets above this are typos. */
#define SEQ_NUMBER_MAX 65535u

static const char chip_prefix[] = "gpiochip";

static const struct ft_seq_preset presets[] = {
	{
		/*
		 * Straight wires from a TTL USB-serial adapter, whose DTR#
		 * and RTS# pins are active low: asserting DTR pulls NRST to
		 * 0 V (reset), asserting RTS puts 0 V on BOOT0.  Entry:
		 * reset with BOOT0 high, release.  Exit: reset with BOOT0
		 * low, release, then de-assert RTS too, so that both lines
		 * end where a close with HUPCL leaves them.
		 */
		.name = "dtr-rts",
		.seq = "dtr&-rts,-dtr:dtr&rts,-dtr,-rts",
		.wiring = "DTR# to NRST, RTS# to BOOT0 (asserted = 0 V)",
	},
	{
		/* The same with an inverting transistor on BOOT0 (RTS
		 * asserted = BOOT0 high), the usual "auto-boot" pair. */
		.name = "dtr-nrts",
		.seq = "dtr&rts,-dtr:dtr&-rts,-dtr",
		.wiring = "DTR# to NRST, RTS# inverted to BOOT0 "
		    "(asserted RTS = BOOT0 high)",
	},
	{
		/*
		 * The Makerbase client (Elegoo Neptune 4, ZNP-K1) toggles
		 * DTR low and back high; the r6e guide reproduces it with
		 * picocom's Ctrl-A Ctrl-P, which lowers DTR for 1 s.  No exit
		 * half is known: leave with -g or -R.
		 */
		.name = "makerbase",
		.seq = "-dtr,,,,,,,,,,dtr",
		.wiring = "DTR pulse: de-asserted 1 s, asserted again "
		    "(picocom Ctrl-A Ctrl-P)",
	},
	{
		/*
		 * OpenNept4une's alt method on a ZNP-K1 v1.0 with its two
		 * jumper pads bridged: gpiochip1 line 15 is NRST (0 holds
		 * the MCU in reset), line 14 is BOOT0; 0.5 s pauses.
		 */
		.name = "neptune4",
		.seq = "-gpiochip1:15&gpiochip1:14,,,,,gpiochip1:15"
		    ":-gpiochip1:14&-gpiochip1:15,,,,,gpiochip1:15",
		.wiring = "gpiochip1:15 to NRST, gpiochip1:14 to BOOT0 "
		    "(ZNP-K1 v1.0, pads bridged)",
	},
};

size_t
ft_seq_preset_count(void)
{
	return sizeof(presets) / sizeof(presets[0]);
}

const struct ft_seq_preset *
ft_seq_preset_at(size_t index)
{
	return index < ft_seq_preset_count() ? &presets[index] : NULL;
}

const struct ft_seq_preset *
ft_seq_preset_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < ft_seq_preset_count(); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

const char *
ft_seq_signal_str(const struct ft_seq_signal *sig, char *buf, size_t len)
{
	switch (sig->kind) {
	case FT_SIG_DTR:
		snprintf(buf, len, "dtr");
		break;
	case FT_SIG_RTS:
		snprintf(buf, len, "rts");
		break;
	case FT_SIG_BRK:
		snprintf(buf, len, "brk");
		break;
	case FT_SIG_SYSFS:
		snprintf(buf, len, "%u", sig->num);
		break;
	case FT_SIG_CHIP_LINE:
		snprintf(buf, len, "%s%u:%u", chip_prefix, sig->chip,
		    sig->num);
		break;
	case FT_SIG_LINE_NAME:
		snprintf(buf, len, "%s", sig->name);
		break;
	}
	return buf;
}

struct parser {
	struct ft_ctx *ctx;
	const char *text;
	size_t pos;		/* 0-based index of the next character */
	struct ft_seq *seq;
	struct ft_seq_half *half;
};

static int
bad(struct parser *p, size_t at, const char *fmt, ...) FT_PRINTF(3, 4);

/* Fail with "column N: <why>"; at is a 0-based index into the text. */
static int
bad(struct parser *p, size_t at, const char *fmt, ...)
{
	char why[FT_DETAIL_MAX - 32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	p->seq->err_col = (unsigned)at + 1;
	return ft_fail(p->ctx, FT_E_INVALID, "sequence '%s', column %u: %s",
	    p->text, (unsigned)at + 1, why);
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
is_name_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int
is_name_char(char c)
{
	return is_name_start(c) || is_digit(c) || c == '.';
}

static int
read_number(struct parser *p, unsigned *out)
{
	size_t start = p->pos;
	unsigned long v = 0;

	while (is_digit(p->text[p->pos])) {
		v = v * 10 + (unsigned long)(p->text[p->pos] - '0');
		if (v > SEQ_NUMBER_MAX)
			return bad(p, start, "number %.*s... is larger than "
			    "%u", (int)(p->pos - start + 1), p->text + start,
			    SEQ_NUMBER_MAX);
		p->pos++;
	}
	*out = (unsigned)v;
	return 0;
}

static int
same_signal(const struct ft_seq_signal *a, const struct ft_seq_signal *b)
{
	if (a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case FT_SIG_SYSFS:
		return a->num == b->num;
	case FT_SIG_CHIP_LINE:
		return a->chip == b->chip && a->num == b->num;
	case FT_SIG_LINE_NAME:
		return strcmp(a->name, b->name) == 0;
	default:
		return 1;
	}
}

/* Index of sig in the signal table, adding it when new. */
static int
signal_index(struct parser *p, const struct ft_seq_signal *sig, size_t col,
    unsigned *index)
{
	struct ft_seq *s = p->seq;
	unsigned i;

	for (i = 0; i < s->nsignals; i++) {
		if (same_signal(&s->signals[i], sig)) {
			*index = i;
			return 0;
		}
	}
	if (s->nsignals == FT_SEQ_MAX_SIGNALS)
		return bad(p, col, "more than %u different signals",
		    FT_SEQ_MAX_SIGNALS);
	s->signals[s->nsignals] = *sig;
	*index = s->nsignals++;
	return 0;
}

static int
add_step(struct parser *p, const struct ft_seq_step *step)
{
	struct ft_seq_half *h = p->half;

	if (step->op == FT_SEQ_WAIT && h->nsteps > 0 &&
	    h->steps[h->nsteps - 1].op == FT_SEQ_WAIT) {
		h->steps[h->nsteps - 1].ms += step->ms;
		return 0;
	}
	if (h->nsteps == FT_SEQ_MAX_STEPS)
		return bad(p, step->col - 1, "more than %u steps in the %s "
		    "sequence", FT_SEQ_MAX_STEPS,
		    h == &p->seq->entry ? "entry" : "exit");
	h->steps[h->nsteps++] = *step;
	return 0;
}

/*
 * A word starting at p->pos: a keyword, gpiochipN:LINE or a line name.
 * Fills sig and leaves p->pos after it.
 */
static int
read_word(struct parser *p, struct ft_seq_signal *sig)
{
	static const struct {
		const char *word;
		enum ft_sig_kind kind;
	} keywords[] = {
		{ "dtr", FT_SIG_DTR }, { "rts", FT_SIG_RTS },
		{ "brk", FT_SIG_BRK },
	};
	const char *t = p->text;
	size_t start = p->pos, len, i;

	memset(sig, 0, sizeof(*sig));
	/* stm32flash reads a keyword wherever one starts: "rts1" is rts
	 * and then GPIO 1, so a keyword is never the head of a name. */
	for (i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++) {
		if (strncmp(t + start, keywords[i].word, 3) == 0) {
			sig->kind = keywords[i].kind;
			p->pos += 3;
			return 0;
		}
	}
	while (is_name_char(t[p->pos]))
		p->pos++;
	len = p->pos - start;
	if (len > sizeof(chip_prefix) - 1 &&
	    strncmp(t + start, chip_prefix, sizeof(chip_prefix) - 1) == 0) {
		size_t d = start + sizeof(chip_prefix) - 1;

		while (is_digit(t[d]))
			d++;
		if (d == p->pos) {
			unsigned chip, line;
			int rc;

			p->pos = start + sizeof(chip_prefix) - 1;
			rc = read_number(p, &chip);
			if (rc < 0)
				return rc;
			if (t[p->pos] != ':' || !is_digit(t[p->pos + 1]))
				return bad(p, p->pos, "%.*s needs a line "
				    "number: write %.*s:LINE", (int)len,
				    t + start, (int)len, t + start);
			p->pos++;
			rc = read_number(p, &line);
			if (rc < 0)
				return rc;
			sig->kind = FT_SIG_CHIP_LINE;
			sig->chip = chip;
			sig->num = line;
			return 0;
		}
	}
	if (len >= FT_SEQ_NAME_MAX)
		return bad(p, start, "line name '%.*s' is longer than %u "
		    "characters", (int)len, t + start, FT_SEQ_NAME_MAX - 1);
	sig->kind = FT_SIG_LINE_NAME;
	memcpy(sig->name, t + start, len);
	sig->name[len] = '\0';
	return 0;
}

static int
bad_char(struct parser *p, size_t at)
{
	unsigned char c = (unsigned char)p->text[at];

	if (c == ' ' || c == '\t')
		return bad(p, at, "blank: the sequence has no spaces "
		    "(use ',' to wait or '&' to separate)");
	if (c < 0x20 || c >= 0x7f)
		return bad(p, at, "byte 0x%02x is not a signal or separator",
		    c);
	return bad(p, at, "'%c' is not a signal or separator (signals: "
	    "dtr, rts, brk, a GPIO number, gpiochipN:LINE or a line name; "
	    "separators: ',' '&' ':')", c);
}

int
ft_seq_parse(struct ft_ctx *ctx, const char *text, struct ft_seq *out)
{
	struct parser p = { ctx, text, 0, out, &out->entry };
	size_t minus_at = 0;
	int minus = 0, rc;

	memset(out, 0, sizeof(*out));
	if (text == NULL)
		return ft_fail(ctx, FT_E_INVALID, "no sequence given");
	for (;;) {
		char c = text[p.pos];
		struct ft_seq_step step;
		struct ft_seq_signal sig;
		size_t at = p.pos;

		if (minus && (c == '\0' || c == ',' || c == '&' ||
		    c == ':' || c == '-'))
			return bad(&p, minus_at, "'-' must be followed by a "
			    "signal");
		if (c == '\0')
			break;
		memset(&step, 0, sizeof(step));
		step.col = (unsigned)at + 1;
		if (c == ':') {
			if (out->has_exit)
				return bad(&p, at, "a second ':' (one ':' "
				    "separates entry from exit; a chip line "
				    "is gpiochipN:LINE)");
			out->has_exit = 1;
			p.half = &out->exit;
			p.pos++;
			continue;
		}
		if (c == ',') {
			step.op = FT_SEQ_WAIT;
			step.ms = FT_SEQ_COMMA_MS;
			rc = add_step(&p, &step);
			if (rc < 0)
				return rc;
			p.pos++;
			continue;
		}
		if (c == '&') {
			p.pos++;
			continue;
		}
		if (c == '-') {
			minus = 1;
			minus_at = at;
			p.pos++;
			continue;
		}
		if (is_digit(c)) {
			memset(&sig, 0, sizeof(sig));
			sig.kind = FT_SIG_SYSFS;
			rc = read_number(&p, &sig.num);
		} else if (is_name_start(c)) {
			rc = read_word(&p, &sig);
		} else {
			return bad_char(&p, at);
		}
		if (rc < 0)
			return rc;
		if (sig.kind == FT_SIG_BRK && minus)
			return bad(&p, minus_at, "'-brk': brk sends a BREAK "
			    "and has no low level");
		step.op = sig.kind == FT_SIG_BRK ? FT_SEQ_BREAK : FT_SEQ_SET;
		step.level = !minus;
		if (minus)
			step.col = (unsigned)minus_at + 1;
		minus = 0;
		rc = signal_index(&p, &sig, at, &step.signal);
		if (rc == 0)
			rc = add_step(&p, &step);
		if (rc < 0)
			return rc;
	}
	return 0;
}
