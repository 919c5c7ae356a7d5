/*
 * termios2.c - baud rates without a Bnnn constant (Katapult's default
 * 250000, Klipper's 500000 on some boards) through Linux's termios2
 * ioctls (TCGETS2/TCSETS2 with BOTHER), which carry the rate as a
 * number.  Kept apart from lib/serial.c because <asm/termbits.h> and
 * glibc's <termios.h> define the same names and cannot share a file.
 *
 * Invariants: only the speed fields and the CBAUD bits are touched; the
 * rest of the line settings stay as lib/serial.c set them.  Elsewhere
 * than on Linux every call fails with -1 (the caller then reports the
 * rate as unsupported).
 */
#include "serial.h"

#ifdef __linux__
#include <asm/ioctls.h>
#include <asm/termbits.h>
#include <sys/ioctl.h>

int
ft_tty_custom_get(int fd, unsigned *ispeed, unsigned *ospeed, int *custom)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) != 0)
		return -1;
	*ispeed = t.c_ispeed;
	*ospeed = t.c_ospeed;
	*custom = (t.c_cflag & CBAUD) == BOTHER;
	return 0;
}

int
ft_tty_custom_set(int fd, unsigned ispeed, unsigned ospeed)
{
	struct termios2 t;

	if (ioctl(fd, TCGETS2, &t) != 0)
		return -1;
	t.c_cflag &= ~(tcflag_t)(CBAUD | (CBAUD << IBSHIFT));
	t.c_cflag |= BOTHER | (BOTHER << IBSHIFT);
	t.c_ispeed = ispeed;
	t.c_ospeed = ospeed;
	return ioctl(fd, TCSETS2, &t);
}

#else

int
ft_tty_custom_get(int fd, unsigned *ispeed, unsigned *ospeed, int *custom)
{
	(void)fd;
	*ispeed = *ospeed = 0;
	*custom = 0;
	return -1;
}

int
ft_tty_custom_set(int fd, unsigned ispeed, unsigned ospeed)
{
	(void)fd;
	(void)ispeed;
	(void)ospeed;
	return -1;
}

#endif
