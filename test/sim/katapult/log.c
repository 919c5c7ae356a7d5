/*
 * log.c - the request log and the fault dice.
 *
 * One line per event, flushed at once, so that a test can read it while
 * the simulator runs:  <ms since start, 3 decimals> <EVENT> [args] [-> R]
 * The time is model time (when the command ended on the wire, when the
 * flash step ran), which with --timing can be a little ahead of the
 * moment the line is written.
 */
#include <stdarg.h>
#include <time.h>

#include "ksim.h"

struct ks_log ks_log;

uint64_t
ks_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

static void vlog(FILE *f, uint64_t t, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static void
vlog(FILE *f, uint64_t t, const char *fmt, va_list ap)
{
	uint64_t rel = t > ks_log.t0 ? t - ks_log.t0 : 0;

	fprintf(f, "%llu.%03llu ", (unsigned long long)(rel / NS_PER_MS),
	    (unsigned long long)(rel % NS_PER_MS / NS_PER_US));
	vfprintf(f, fmt, ap);
	fputc('\n', f);
	fflush(f);
}

void
ks_logf(uint64_t t, const char *fmt, ...)
{
	va_list ap;

	if (ks_log.f == NULL)
		return;
	va_start(ap, fmt);
	vlog(ks_log.f, t, fmt, ap);
	va_end(ap);
}

void
ks_shout(uint64_t t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (ks_log.f != NULL)
		vlog(ks_log.f, t, fmt, ap);
	va_end(ap);
	va_start(ap, fmt);
	fputs("katapult-sim: ", stderr);
	vlog(stderr, t, fmt, ap);
	va_end(ap);
}

/* xorshift64* (Vigna); a zero state would stick, so it is avoided. */
uint64_t
ks_rng_next(struct ks_rng *r)
{
	uint64_t x = r->state != 0 ? r->state : 0x853C49E6748FEA9Bull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

int
ks_rng_chance(struct ks_rng *r, double p)
{
	if (p <= 0.0)
		return 0;
	return (double)(ks_rng_next(r) >> 11) * (1.0 / 9007199254740992.0) < p;
}
