/* vclock.h - virtual time for the fuzz targets (test/fuzz/vclock.c). */
#ifndef FT_FUZZ_VCLOCK_H
#define FT_FUZZ_VCLOCK_H

#include <stdint.h>

/* Move the clock on, as if ms had passed (a timed-out wait). */
void vclock_advance_ms(uint64_t ms);

#endif
