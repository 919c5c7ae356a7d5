/*
 * parmrk.c - decode the PARMRK marking of a tty's input (see parmrk.h).
 *
 * Invariants: every input byte yields at most one data byte, written at
 * or before its own position, so the decoding can share one buffer and
 * never outgrows it; a sequence cut by the end of a read waits in struct
 * ft_parmrk for the next call.
 */
#include <string.h>

#include "parmrk.h"

enum {
	PM_DATA,		/* the next byte is data or ESC */
	PM_ESC,			/* seen ESC */
	PM_ESC_ERR,		/* seen ESC 0x00: the damaged byte follows */
};

static void
mark_bad(uint8_t *bad, size_t i, size_t *nbad)
{
	bad[i / 8] |= (uint8_t)(1u << (i % 8));
	(*nbad)++;
}

size_t
ft_parmrk_decode(struct ft_parmrk *st, uint8_t *buf, size_t n, uint8_t *bad,
    size_t *nbad)
{
	size_t in, out = 0;

	memset(bad, 0, (n + 7) / 8);
	*nbad = 0;
	for (in = 0; in < n; in++) {
		uint8_t c = buf[in];

		switch (st->state) {
		case PM_DATA:
			if (c == FT_PARMRK_ESC)
				st->state = PM_ESC;
			else
				buf[out++] = c;
			break;
		case PM_ESC:
			if (c == FT_PARMRK_ESC) {
				buf[out++] = c;
				st->state = PM_DATA;
			} else if (c == FT_PARMRK_ERR) {
				st->state = PM_ESC_ERR;
			} else {
				/* The tty layer never sends ESC before
				 * anything else: the stream is not what we
				 * think it is.  Pass c on as damaged; the
				 * ESC is dropped, so that one byte in never
				 * makes two out (the ESC may have come in
				 * the previous call). */
				mark_bad(bad, out, nbad);
				buf[out++] = c;
				st->state = PM_DATA;
			}
			break;
		default:
			/* ESC 0x00 X: X arrived with a parity or framing
			 * error; X == 0x00 may also be a BREAK. */
			mark_bad(bad, out, nbad);
			buf[out++] = c;
			st->state = PM_DATA;
			break;
		}
	}
	return out;
}

void
ft_parmrk_reset(struct ft_parmrk *st)
{
	st->state = PM_DATA;
}
