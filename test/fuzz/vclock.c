/*
 * vclock.c - virtual time for the fuzz targets.  The library's copy
 * built for fuzzing calls these instead of clock_gettime(2) and
 * nanosleep(2) (see FUZZ_VCLOCK in the Makefile): a sleep returns at
 * once and moves the clock on, so a device that asks for a 16-minute
 * poll timeout costs nothing, while deadlines still expire in order.
 * The fake serial port and libusb advance it for timeouts too.
 */
#include <stdint.h>
#include <time.h>

#include "vclock.h"

static uint64_t vclock_ns;

int ft_fuzz_clock_gettime(clockid_t id, struct timespec *ts);
int ft_fuzz_nanosleep(const struct timespec *req, struct timespec *rem);

void
vclock_advance_ms(uint64_t ms)
{
	vclock_ns += ms * 1000000u;
}

int
ft_fuzz_clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc = clock_gettime(id, ts);
	uint64_t ns;

	if (rc != 0)
		return rc;
	ns = (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec +
	    vclock_ns;
	ts->tv_sec = (time_t)(ns / 1000000000u);
	ts->tv_nsec = (long)(ns % 1000000000u);
	return 0;
}

int
ft_fuzz_nanosleep(const struct timespec *req, struct timespec *rem)
{
	vclock_ns += (uint64_t)req->tv_sec * 1000000000u +
	    (uint64_t)req->tv_nsec;
	if (rem != NULL) {
		rem->tv_sec = 0;
		rem->tv_nsec = 0;
	}
	return 0;
}
