/*
 * usart/gpio.h - host GPIO lines for entry/exit sequences
 * (lib/usart/gpio.c): the GPIO character device (uAPI v2) for
 * gpiochipN:LINE and line names, the sysfs interface for plain numbers.
 */
#ifndef FT_GPIO_H
#define FT_GPIO_H

#include "ft_int.h"

/* Where the kernel interfaces live; tests point these at a scratch tree. */
struct ft_gpio_paths {
	const char *sysfs;	/* NULL: "/sys/class/gpio" */
	const char *dev;	/* NULL: "/dev" (holds gpiochipN) */
};

struct ft_gpio;

/*
 * Find and claim every GPIO signal of seq: character-device lines are
 * requested (one request per chip, direction left as it is until the
 * first set), sysfs numbers exported when they are not yet.  Nothing is
 * driven.  Errors, with the signal named in the detail: FT_E_NO_DEVICE
 * (no such chip, line or name), FT_E_BUSY (line in use), FT_E_ACCESS,
 * FT_E_NOT_SUPPORTED (a plain number without /sys/class/gpio), FT_E_IO.
 * On failure nothing stays claimed.  *out is NULL when seq has no GPIO
 * signal.
 */
int ft_gpio_open(struct ft_ctx *ctx, const struct ft_seq *seq,
    const struct ft_gpio_paths *paths, struct ft_gpio **out);
/* Drive signal (an index into seq->signals) to level: output from now. */
int ft_gpio_set(struct ft_gpio *g, unsigned signal, int level);
/*
 * Release the requests; sysfs lines that were inputs go back to "in" and
 * the ones we exported are unexported (as stm32flash does).  NULL is ok.
 */
void ft_gpio_close(struct ft_gpio *g);

#endif /* FT_GPIO_H */
