/*
 * termios2.c - the host's line settings through the kernel's termios2
 * (TCGETS2), which carries any baud rate: Katapult's default 250000 has
 * no Bnnn constant in glibc 2.36, so pyserial and other hosts set it
 * with BOTHER and TCSETS2.  Kept apart because <asm/termbits.h> and
 * <termios.h> cannot share a file.  On a pty master Linux answers with
 * the slave's settings (tty_mode_ioctl() uses the other end of a pty).
 */
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <sys/ioctl.h>

#include "ksim.h"

int
ks_tty_get(int fd, uint32_t *baud, int *hupcl)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) != 0)
		return -1;
	*baud = t.c_ospeed;
	*hupcl = (t.c_cflag & HUPCL) != 0;
	return 0;
}

int
ks_tty_set_baud(int fd, uint32_t baud)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) != 0)
		return -1;
	t.c_cflag &= ~(tcflag_t)CBAUD;
	t.c_cflag |= BOTHER;
	t.c_ispeed = baud;
	t.c_ospeed = baud;
	return ioctl(fd, TCSETS2, &t);
}
