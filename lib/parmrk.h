/*
 * parmrk.h - undo the tty layer's PARMRK marking (lib/parmrk.c).
 *
 * With INPCK and PARMRK set (IGNPAR and ISTRIP clear), the Linux line
 * discipline passes a byte received with a parity or framing error as
 * 0xFF 0x00 X, a BREAK as 0xFF 0x00 0x00, and a good 0xFF as 0xFF 0xFF;
 * every other byte as itself (termios(3), PARMRK).  The decoder turns
 * that back into the bytes on the wire and says which of them arrived
 * damaged.  Pure: no I/O, state only in struct ft_parmrk.
 */
#ifndef FT_PARMRK_H
#define FT_PARMRK_H

#include <stddef.h>
#include <stdint.h>

#define FT_PARMRK_ESC 0xFFu	/* first byte of every marked sequence */
#define FT_PARMRK_ERR 0x00u	/* after ESC: a damaged byte follows */

/* Where a marked sequence stands; all zero is "between bytes". */
struct ft_parmrk {
	unsigned state;
};

/*
 * Decode n bytes of buf in place.  Returns how many data bytes are now
 * at the front of buf (never more than n).  bad, a bitmap with room for
 * n bits, gets bit i (bad[i / 8] & 1 << i % 8) set for each data byte i
 * that arrived with a line error (parity, framing, BREAK); the others
 * are cleared.  *nbad is the number of bits set.  A sequence split over
 * two calls is completed from st; a damaged byte is returned as it was
 * received, so the data keep their count and positions.
 */
size_t ft_parmrk_decode(struct ft_parmrk *st, uint8_t *buf, size_t n,
    uint8_t *bad, size_t *nbad);

/* Forget a half-received sequence (after the input queue was flushed). */
void ft_parmrk_reset(struct ft_parmrk *st);

#endif /* FT_PARMRK_H */
