/*
 * reset-sync.c - resets the simulated chip into its bootloader with the
 * modem lines and sends 0x7F the moment the reset ioctl returns, ROUNDS
 * times, as stm32flash does after an entry sequence.  A real chip hears
 * a byte sent after NRST rose; the simulator once dropped it when the
 * byte beat its own bookkeeping of the edge (test/sim/usart/board.c,
 * on_reset).  Built and run by test/e2e/50-board-sim.sh under the shim.
 *
 * usage: reset-sync TTY ROUNDS
 * Wiring: NRST on DTR# and BOOT0 on RTS#, no transistors (asserted DTR
 * holds the chip, RTS released raises BOOT0).  Prints "ROUNDS synced,
 * N lost" and exits 0 only when every round got an ACK.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define ACK 0x79

static int
set_lines(int fd, int bits)
{
	return ioctl(fd, TIOCMSET, &bits);
}

/* One reply byte within timeout_ms, or -1. */
static int
read_byte(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned char c;

	if (poll(&p, 1, timeout_ms) != 1 || read(fd, &c, 1) != 1)
		return -1;
	return c;
}

int
main(int argc, char **argv)
{
	struct termios t;
	long rounds, i, lost = 0;
	unsigned char sync = 0x7F;
	int fd;

	if (argc != 3 || (rounds = strtol(argv[2], NULL, 10)) <= 0) {
		fprintf(stderr, "usage: reset-sync TTY ROUNDS\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0 || tcgetattr(fd, &t) != 0) {
		perror(argv[1]);
		return 1;
	}
	cfmakeraw(&t);
	t.c_cflag |= CLOCAL | CREAD;
	if (tcsetattr(fd, TCSANOW, &t) != 0) {
		perror("tcsetattr");
		return 1;
	}
	for (i = 0; i < rounds; i++) {
		/* Held with BOOT0 high, then released: the bootloader. */
		if (set_lines(fd, TIOCM_DTR) != 0 || set_lines(fd, 0) != 0) {
			perror("TIOCMSET");
			return 1;
		}
		if (write(fd, &sync, 1) != 1) {
			perror("write");
			return 1;
		}
		if (read_byte(fd, 500) != ACK)
			lost++;
		(void)tcflush(fd, TCIFLUSH);
	}
	printf("%ld synced, %ld lost\n", rounds - lost, lost);
	return lost == 0 ? 0 : 1;
}
