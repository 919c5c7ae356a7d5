/*
 * usbip-sim.c - the simulated STM32 DFU devices of test/sim/usb on a real
 * kernel's USB host stack.  Each configured device gets a socketpair; one
 * end goes to the kernel's vhci-hcd through its sysfs "attach" file, the
 * other stays here and answers the USB/IP requests the kernel sends: the
 * kernel enumerates the device, binds usbfs, and libusb (unmodified) sees
 * a USB device like any other.  Runs as root inside the rig's guest
 * (test/usbrig/), never on a developer's machine.
 *
 * Protocol facts: Linux Documentation/usb/usbip_protocol.rst.  Every
 * field is big-endian; a CMD_SUBMIT or CMD_UNLINK is 48 bytes (20-byte
 * basic header + 28), followed by the OUT data of a submit; the answer
 * is RET_SUBMIT (48 bytes + IN data) or RET_UNLINK (48 bytes).  The
 * kernel handles SET_ADDRESS and the root hub's port requests (reset)
 * itself; everything else on EP0 reaches us.
 *
 * Invariants: requests are answered in order, one at a time, by the
 * model's sim_control(); a device the model takes off the bus (leave,
 * reset, detach) is detached from its port at once, right after the
 * answer went out, and attached again in its new personality when the
 * model's re-enumeration time has come.  Unplugging = the port's
 * "detach" file, the socket closed.
 *
 * Usage: usbip-sim [-r READY-FILE]   (devices from FT_USBSIM_CONFIG or
 * FT_USBSIM, as for libusb-sim.so; path=1-N puts a device on vhci port
 * N-1).  READY-FILE is created once every device present at start is
 * enumerated by the kernel.  SIGTERM or SIGINT: unplug all and exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <linux/sockios.h>

#include "../usb/usbsim.h"

#define VHCI_DIR "/sys/devices/platform/vhci_hcd.0"
#define USB_DEVICES_DIR "/sys/bus/usb/devices"

enum {
	USBIP_CMD_SUBMIT = 1,
	USBIP_CMD_UNLINK = 2,
	USBIP_RET_SUBMIT = 3,
	USBIP_RET_UNLINK = 4,
	USBIP_PDU_LEN = 48,	/* every command and reply header */
	USBIP_DIR_IN = 1,
	SPEED_FULL = 2,		/* enum usb_device_speed: USB_SPEED_FULL */
	/* Linux errno values, as URB status codes in RET_*. */
	URB_EPIPE = 32,		/* STALL */
	URB_EPROTO = 71,	/* transaction error (no handshake) */
	URB_ENODEV = 19,
	URB_EINVAL = 22,
	URB_ECONNRESET = 104,	/* unlinked before it completed */
	MAX_XFER = 4096,	/* the largest control transfer usbfs sends */
	MAX_DROPPED = 16,	/* unanswered requests (timeouts) per port */
	/* How long the kernel gets to free a port after a detach, and to
	 * enumerate a device after an attach, before we give up. */
	PORT_FREE_MS = 2000,
	DRAIN_MS = 200,
	PORT_RETRY_MS = 2,
	ENUM_WAIT_MS = 20000,
	READY_POLL_MS = 5,
	/* Control transfers carry no timeout over USB/IP; the model only
	 * uses it to sleep through a simulated NAK, which we never want. */
	CTRL_TIMEOUT_MS = 5000
};

struct port {
	struct sim_dev *sd;
	int port;		/* vhci port, 0-based */
	int fd;			/* our end of the socket; -1: unplugged */
	int mode;		/* model's mode and generation when attached */
	unsigned gen;
	uint32_t dropped[MAX_DROPPED];	/* seqnums we never answered */
	int ndropped;
	int broken;		/* attach failed or the kernel hung up on a
				 * device still present: never retried */
};

static struct port ports[SIM_MAX_DEVS];
static int nports;
static volatile sig_atomic_t quit;

static void on_signal(int sig)
{
	(void)sig;
	quit = 1;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR && !quit)
		;
}

static int write_sysfs(const char *file, const char *text)
{
	int fd = open(file, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	e = errno;
	close(fd);
	return n < 0 ? -e : 0;
}

static int full_read(int fd, uint8_t *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n < 0 && errno == EINTR && !quit)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int full_write(int fd, const uint8_t *buf, size_t len)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, buf + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

/* Is the model's device on the bus in a mode it can be attached in? */
static int present(const struct sim_dev *sd)
{
	return sd->mode == MODE_DFU || sd->mode == MODE_RUNTIME ||
	    sd->mode == MODE_APP;
}

static void unplug(struct port *p, const char *why)
{
	char text[16];
	int rc;

	if (p->fd < 0)
		return;
	snprintf(text, sizeof(text), "%d", p->port);
	rc = write_sysfs(VHCI_DIR "/detach", text);
	close(p->fd);
	p->fd = -1;
	p->ndropped = 0;
	sim_log(p->sd, "USBIP DETACH port %d (%s)%s", p->port, why,
	    rc ? " -> kernel had let go already" : " -> OK");
}

/* Hands a new socket to vhci-hcd on the device's port.  The kernel frees
 * a port asynchronously after a detach, so "port in use" is retried. */
static int plug(struct port *p)
{
	char text[64];
	int sv[2], rc = -1;
	long waited = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -1;
	snprintf(text, sizeof(text), "%d %d %u %d", p->port, sv[1],
	    (unsigned)(p->sd->bus << 16 | (p->port + 2)), SPEED_FULL);
	while (waited <= PORT_FREE_MS) {
		rc = write_sysfs(VHCI_DIR "/attach", text);
		if (rc != -EINVAL && rc != -EBUSY && rc != -EAGAIN)
			break;
		sleep_ms(PORT_RETRY_MS);
		waited += PORT_RETRY_MS;
	}
	/* The kernel holds its own reference to the socket now. */
	close(sv[1]);
	if (rc) {
		close(sv[0]);
		sim_log(p->sd, "USBIP ATTACH port %d -> %s", p->port,
		    strerror(-rc));
		fprintf(stderr, "usbip-sim: attach port %d: %s\n", p->port,
		    strerror(-rc));
		return -1;
	}
	p->fd = sv[0];
	p->mode = p->sd->mode;
	p->gen = p->sd->gen;
	p->ndropped = 0;
	sim_log(p->sd, "USBIP ATTACH port %d %04x:%04x %s mode%s", p->port,
	    sim_vid(p->sd, p->sd->mode), sim_pid(p->sd, p->sd->mode),
	    p->sd->mode == MODE_DFU ? "dfu" : p->sd->mode == MODE_RUNTIME ?
	    "runtime" : "app", waited ? " (port was busy)" : "");
	return 0;
}

/* Waits until the kernel has read every reply we sent: the device that
 * answered a request and then resets must not lose that answer to its
 * own unplug (the model says when a reply is lost: leave=drop).  On a
 * Unix stream socket SIOCOUTQ counts what the peer has not read yet. */
static void drain(struct port *p)
{
	int n = 0, waited = 0;

	while (waited < DRAIN_MS && ioctl(p->fd, SIOCOUTQ, &n) == 0 && n > 0) {
		sleep_ms(1);
		waited++;
	}
}

/* After a request, and on the timer: follow the model on and off the
 * bus. */
static void follow(struct port *p)
{
	if (p->fd >= 0 && (p->sd->mode != p->mode || p->sd->gen != p->gen)) {
		drain(p);
		unplug(p, present(p->sd) ? "re-enumerates" : "left the bus");
	}
	if (p->fd < 0 && !p->broken) {
		sim_refresh(p->sd);
		if (present(p->sd) && plug(p))
			p->broken = 1;
	}
}

static int urb_status(int rc)
{
	switch (rc) {
	case SIM_E_STALL:
	case SIM_E_NOT_FOUND:
		return -URB_EPIPE;
	case SIM_E_IO:
		return -URB_EPROTO;
	case SIM_E_GONE:
		return -URB_ENODEV;
	default:
		return -URB_EINVAL;
	}
}

static int reply(struct port *p, const uint8_t *cmd, uint32_t command,
    int32_t status, uint32_t actual, const uint8_t *data, uint32_t ndata)
{
	uint8_t pdu[USBIP_PDU_LEN + MAX_XFER];

	memset(pdu, 0, USBIP_PDU_LEN);
	put32(pdu, command);
	memcpy(pdu + 4, cmd + 4, 4);	/* seqnum */
	put32(pdu + 20, (uint32_t)status);
	put32(pdu + 24, actual);
	if (ndata)
		memcpy(pdu + USBIP_PDU_LEN, data, ndata);
	return full_write(p->fd, pdu, USBIP_PDU_LEN + ndata);
}

static int submit(struct port *p, const uint8_t *cmd)
{
	uint8_t data[MAX_XFER];
	const uint8_t *setup = cmd + 40;
	uint32_t seq = get32(cmd + 4), dir = get32(cmd + 12);
	uint32_t ep = get32(cmd + 16), len = get32(cmd + 24);
	uint16_t wvalue, windex, wlength;
	int in, rc;

	if (len > MAX_XFER)
		return -1;
	if (dir != USBIP_DIR_IN && len && full_read(p->fd, data, len))
		return -1;
	if (ep != 0)
		return reply(p, cmd, USBIP_RET_SUBMIT, -URB_EPIPE, 0, NULL, 0);
	wvalue = (uint16_t)(setup[2] | setup[3] << 8);
	windex = (uint16_t)(setup[4] | setup[5] << 8);
	wlength = (uint16_t)(setup[6] | setup[7] << 8);
	in = (setup[0] & USB_DIR_IN) != 0;
	if (wlength > len)
		wlength = (uint16_t)len;
	rc = sim_control(p->sd, p->mode, setup[0], setup[1], wvalue, windex,
	    wlength ? data : NULL, wlength, CTRL_TIMEOUT_MS);
	if (rc == SIM_E_TIMEOUT) {
		/* NAKed until the host gives up: no answer, ever.  The
		 * kernel's timeout unlinks it. */
		if (p->ndropped < MAX_DROPPED)
			p->dropped[p->ndropped++] = seq;
		return 0;
	}
	if (rc < 0)
		return reply(p, cmd, USBIP_RET_SUBMIT, urb_status(rc), 0, NULL,
		    0);
	if (in)
		return reply(p, cmd, USBIP_RET_SUBMIT, 0, (uint32_t)rc, data,
		    (uint32_t)rc);
	return reply(p, cmd, USBIP_RET_SUBMIT, 0, wlength, NULL, 0);
}

static int unlink_urb(struct port *p, const uint8_t *cmd)
{
	uint32_t victim = get32(cmd + 20);
	int i;

	for (i = 0; i < p->ndropped; i++)
		if (p->dropped[i] == victim) {
			p->dropped[i] = p->dropped[--p->ndropped];
			return reply(p, cmd, USBIP_RET_UNLINK,
			    -URB_ECONNRESET, 0, NULL, 0);
		}
	/* Answered already: the kernel has its RET_SUBMIT. */
	return reply(p, cmd, USBIP_RET_UNLINK, 0, 0, NULL, 0);
}

/* One PDU from the kernel; -1 when the connection is gone. */
static int serve(struct port *p)
{
	uint8_t cmd[USBIP_PDU_LEN];

	if (full_read(p->fd, cmd, sizeof(cmd)))
		return -1;
	switch (get32(cmd)) {
	case USBIP_CMD_SUBMIT:
		return submit(p, cmd);
	case USBIP_CMD_UNLINK:
		return unlink_urb(p, cmd);
	default:
		fprintf(stderr, "usbip-sim: port %d: command %u?\n", p->port,
		    get32(cmd));
		return -1;
	}
}

/* Milliseconds until the next re-enumeration is due; -1: none. */
static int next_timeout(void)
{
	int64_t now = sim_real_ms(), best = -1, d;
	int i;

	for (i = 0; i < nports; i++) {
		struct sim_dev *sd = ports[i].sd;

		if (ports[i].fd >= 0 || ports[i].broken ||
		    sd->pending_mode < 0)
			continue;
		d = sd->pending_at_ms > now ? sd->pending_at_ms - now : 0;
		if (best < 0 || d < best)
			best = d;
	}
	return best > 60000 ? 60000 : (int)best;
}

/* The kernel has enumerated every attached device: its sysfs node exists
 * with our IDs (path 1-N: bus 1 is vhci's high-speed root hub, the only
 * USB bus of the guest). */
static int enumerated(void)
{
	char file[96], text[16];
	unsigned v;
	int i, fd;
	ssize_t n;

	for (i = 0; i < nports; i++) {
		struct port *p = &ports[i];

		if (p->fd < 0)
			continue;
		snprintf(file, sizeof(file), USB_DEVICES_DIR "/%s/idProduct",
		    p->sd->path);
		fd = open(file, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return 0;
		n = read(fd, text, sizeof(text) - 1);
		close(fd);
		if (n <= 0)
			return 0;
		text[n] = '\0';
		if (sscanf(text, "%x", &v) != 1 ||
		    v != sim_pid(p->sd, p->sd->mode))
			return 0;
	}
	return 1;
}

static int setup_ports(void)
{
	int i;

	for (i = 0; i < sim_ndevs; i++) {
		struct sim_dev *sd = sim_devs[i];
		struct port *p = &ports[nports];

		if (sd->nports != 1) {
			fprintf(stderr, "usbip-sim: %s: a vhci device sits "
			    "on a root port: path=1-N\n", sd->path);
			return -1;
		}
		p->sd = sd;
		p->port = sd->ports[0] - 1;
		p->fd = -1;
		/* The server holds the device for good: the model never
		 * reloads its state file under us. */
		sd->open_count = 1;
		nports++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct pollfd pfd[SIM_MAX_DEVS];
	int who[SIM_MAX_DEVS];
	const char *ready = NULL;
	struct sigaction sa;
	int64_t start;
	int i, n, c, timeout;

	while ((c = getopt(argc, argv, "r:")) != -1) {
		if (c != 'r') {
			fprintf(stderr, "usage: usbip-sim [-r READY-FILE]\n");
			return 2;
		}
		ready = optarg;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (sim_load_config() || setup_ports())
		return 1;
	for (i = 0; i < nports; i++)
		follow(&ports[i]);
	start = sim_mono_ms();
	while (!quit) {
		for (i = n = 0; i < nports; i++)
			if (ports[i].fd >= 0) {
				pfd[n].fd = ports[i].fd;
				pfd[n].events = POLLIN;
				who[n++] = i;
			}
		/* Until the kernel has enumerated the devices present at
		 * start, look every few ms: the ready file is due then. */
		timeout = next_timeout();
		if (ready && (timeout < 0 || timeout > READY_POLL_MS))
			timeout = READY_POLL_MS;
		c = poll(pfd, (nfds_t)n, timeout);
		if (c < 0 && errno != EINTR)
			break;
		for (i = 0; c > 0 && i < n; i++) {
			struct port *p = &ports[who[i]];

			if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (serve(p)) {
				unplug(p, "the kernel closed the connection");
				p->broken = 1;
			}
		}
		for (i = 0; i < nports; i++)
			follow(&ports[i]);
		if (ready && (enumerated() ||
		    sim_mono_ms() - start > ENUM_WAIT_MS)) {
			c = open(ready, O_WRONLY | O_CREAT | O_TRUNC |
			    O_CLOEXEC, 0644);
			if (c >= 0)
				close(c);
			ready = NULL;
		}
	}
	for (i = 0; i < nports; i++) {
		unplug(&ports[i], "server stops");
		sim_save(ports[i].sd);
		sim_log(ports[i].sd, "EXIT -> OK");
	}
	return 0;
}
