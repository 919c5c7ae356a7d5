/*
 * usart/entry.c - runs entry/exit sequences (lib/usart/seq.c grammar) on
 * a serial port's modem lines, its BREAK and host GPIO lines
 * (lib/usart/gpio.c).
 *
 * Invariants:
 *  - ft_entry_prepare does everything that can fail without hardware
 *    side effects on the target (parsing, finding and claiming GPIO
 *    lines) before the caller opens the port.
 *  - Steps run in text order; a WAIT is the only sleep, so the delays the
 *    target sees are the grammar's (100 ms per ',') plus the few
 *    microseconds a syscall takes.
 *  - The exit half runs at most once per session.
 *  - Once a sequence has driven DTR or RTS, the port is told to leave
 *    them as the sequence left them at close (restoring the levels found
 *    at open could reset the chip again).
 */
#include <stdlib.h>
#include <string.h>

#include "entry.h"

struct ft_entry {
	struct ft_ctx *ctx;
	struct ft_seq seq;
	struct ft_gpio *gpio;
	int exit_done;
};

int
ft_entry_prepare(struct ft_ctx *ctx, const char *text,
    const struct ft_gpio_paths *paths, struct ft_entry **out)
{
	struct ft_entry *e;
	int rc;

	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	e->ctx = ctx;
	rc = ft_seq_parse(ctx, text, &e->seq);
	if (rc == 0)
		rc = ft_gpio_open(ctx, &e->seq, paths, &e->gpio);
	if (rc < 0) {
		free(e);
		return rc;
	}
	*out = e;
	return 0;
}

static int
run_step(struct ft_entry *e, struct ft_serial *port,
    const struct ft_seq_step *st)
{
	const struct ft_seq_signal *sig;
	int rc;

	switch (st->op) {
	case FT_SEQ_WAIT:
		ft_sleep_us((uint64_t)st->ms * 1000u);
		return 0;
	case FT_SEQ_BREAK:
		return ft_serial_break(port, FT_SEQ_BREAK_MS);
	case FT_SEQ_SET:
		break;
	}
	sig = &e->seq.signals[st->signal];
	switch (sig->kind) {
	case FT_SIG_DTR:
	case FT_SIG_RTS:
		ft_serial_keep_lines(port);
		rc = ft_serial_set_lines(port,
		    sig->kind == FT_SIG_DTR ? st->level : -1,
		    sig->kind == FT_SIG_RTS ? st->level : -1);
		return rc;
	case FT_SIG_BRK:
		return ft_serial_break(port, FT_SEQ_BREAK_MS);
	default:
		return ft_gpio_set(e->gpio, st->signal, st->level);
	}
}

/* Modem lines are asserted or not; what the pin does is the adapter's. */
static const char *
level_word(const struct ft_seq_signal *sig, int level)
{
	if (sig->kind == FT_SIG_DTR || sig->kind == FT_SIG_RTS)
		return level ? "asserted" : "de-asserted";
	return level ? "high" : "low";
}

static int
run_half(struct ft_entry *e, struct ft_serial *port,
    const struct ft_seq_half *h, const char *which)
{
	uint64_t t0 = ft_now_us();
	unsigned i;
	char name[FT_SEQ_NAME_MAX + 16];

	for (i = 0; i < h->nsteps; i++) {
		const struct ft_seq_step *st = &h->steps[i];
		unsigned ms = (unsigned)((ft_now_us() - t0) / 1000u);
		int rc;

		if (st->op == FT_SEQ_WAIT)
			ft_dbg(e->ctx, "%s sequence +%u ms: wait %u ms", which,
			    ms, st->ms);
		else if (st->op == FT_SEQ_BREAK)
			ft_dbg(e->ctx, "%s sequence +%u ms: break %u ms",
			    which, ms, FT_SEQ_BREAK_MS);
		else
			ft_dbg(e->ctx, "%s sequence +%u ms: %s %s", which, ms,
			    ft_seq_signal_str(&e->seq.signals[st->signal],
			    name, sizeof(name)), level_word(
			    &e->seq.signals[st->signal], st->level));
		rc = run_step(e, port, st);
		if (rc < 0) {
			/* Keep the step's own detail, say where it was. */
			char detail[FT_DETAIL_MAX];

			if (e->ctx != NULL) {
				memcpy(detail, e->ctx->detail, sizeof(detail));
				ft_fail(e->ctx, rc, "%s sequence, column %u: "
				    "%s", which, st->col, detail);
			}
			return rc;
		}
	}
	return 0;
}

int
ft_entry_run_entry(struct ft_entry *e, struct ft_serial *port)
{
	return run_half(e, port, &e->seq.entry, "entry");
}

int
ft_entry_run_exit(struct ft_entry *e, struct ft_serial *port)
{
	if (e == NULL || e->exit_done)
		return 0;
	e->exit_done = 1;
	return run_half(e, port, &e->seq.exit, "exit");
}

int
ft_entry_has_exit(const struct ft_entry *e)
{
	return e != NULL && e->seq.exit.nsteps > 0;
}

int
ft_entry_exit_done(const struct ft_entry *e)
{
	return e != NULL && e->exit_done;
}

const struct ft_seq *
ft_entry_seq(const struct ft_entry *e)
{
	return &e->seq;
}

void
ft_entry_free(struct ft_entry *e)
{
	if (e == NULL)
		return;
	ft_gpio_close(e->gpio);
	free(e);
}
