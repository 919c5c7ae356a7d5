/*
 * usart/entry.h - running entry/exit sequences on a serial port and host GPIO
 * lines (lib/usart/entry.c).  Used by the USART transport.
 */
#ifndef FT_ENTRY_H
#define FT_ENTRY_H

#include "gpio.h"
#include "serial.h"

/* Wait after the entry half before the sync, unless the caller says. */
#define FT_ENTRY_SETTLE_MS 50u

struct ft_entry;

/*
 * Parse text and claim its GPIO lines (paths: NULL for the real ones).
 * Called before the serial port is opened, so that a bad sequence, a
 * missing chip or a busy line fail with the port untouched.
 */
int ft_entry_prepare(struct ft_ctx *ctx, const char *text,
    const struct ft_gpio_paths *paths, struct ft_entry **out);
/* Run the entry half on port (which must stay open while it runs). */
int ft_entry_run_entry(struct ft_entry *e, struct ft_serial *port);
/*
 * Run the exit half, at most once per session; later calls return 0 and
 * do nothing.  Runs even when the entry half failed part way.
 */
int ft_entry_run_exit(struct ft_entry *e, struct ft_serial *port);
/* The sequence has a non-empty exit half (-R resets through it). */
int ft_entry_has_exit(const struct ft_entry *e);
/* The exit half has run. */
int ft_entry_exit_done(const struct ft_entry *e);
const struct ft_seq *ft_entry_seq(const struct ft_entry *e);
/* Release the GPIO lines; NULL is ok.  Does not run the exit half. */
void ft_entry_free(struct ft_entry *e);

#endif /* FT_ENTRY_H */
