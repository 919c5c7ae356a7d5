/*
 * katapult/can.c - CAN 2.0A frames through SocketCAN (a raw socket bound
 * to the interface), or through "unix:PATH": a unix datagram socket to a
 * simulator's bus carrying one struct can_frame per datagram (for
 * kernels without vcan; katapult-sim --can unix:PATH); and the admin
 * messages Katapult and Klipper nodes take on 0x3f0 (canserial.c).
 *
 * Invariants: only standard data frames are passed up (extended, remote
 * and error frames are not Katapult's); every wait is bounded; a full
 * transmit queue (ENOBUFS) is waited out, not dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/can.h>
#include <linux/can/raw.h>

#include "katapult.h"

#define UNIX_PREFIX "unix:"
/* A transmit queue that stays full is retried this often. */
#define TXQ_RETRY_MS 1u
/*
 * Node ids this host hands out: flashtool.py counts from 129; a bus
 * with two hosts flashing at once is less likely to see both pick the
 * same one when it follows the UUID.
 */
#define NODEID_FIRST 129u
#define NODEID_SPREAD 64u

static int
open_unix(struct ft_ctx *ctx, const char *path, int *fd)
{
	struct sockaddr_un sa;

	if (strlen(path) >= sizeof(sa.sun_path))
		return ft_fail(ctx, FT_E_INVALID, "%s: path too long", path);
	*fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (*fd < 0)
		return ft_fail(ctx, FT_E_IO, "socket: %s", strerror(errno));
	/* An autobound (abstract) address, so that the bus can answer. */
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (bind(*fd, (struct sockaddr *)&sa, sizeof(sa_family_t)) != 0)
		return ft_fail(ctx, FT_E_IO, "%s: bind: %s", path,
		    strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (connect(*fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return ft_fail(ctx, errno == ENOENT || errno == ECONNREFUSED ?
		    FT_E_NO_DEVICE : FT_E_IO, "%s: %s", path, strerror(errno));
	return 0;
}

static int
open_socketcan(struct ft_ctx *ctx, const char *iface, int *fd)
{
	struct sockaddr_can sa;
	unsigned idx;

	if (strlen(iface) >= IFNAMSIZ)
		return ft_fail(ctx, FT_E_INVALID, "%s: not a network interface "
		    "name", iface);
	idx = if_nametoindex(iface);
	if (idx == 0)
		return ft_fail(ctx, FT_E_NO_DEVICE, "%s: no such CAN interface "
		    "(is it up? ip link set %s up type can bitrate 1000000)",
		    iface, iface);
	*fd = socket(PF_CAN, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, CAN_RAW);
	if (*fd < 0)
		return ft_fail(ctx, errno == EPERM || errno == EACCES ?
		    FT_E_ACCESS : FT_E_NOT_SUPPORTED, "CAN socket: %s (is the "
		    "can-raw module loaded?)", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.can_family = AF_CAN;
	sa.can_ifindex = (int)idx;
	if (bind(*fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return ft_fail(ctx, FT_E_IO, "%s: bind: %s", iface,
		    strerror(errno));
	return 0;
}

int
ft_kp_can_open(struct ft_ctx *ctx, const char *iface, int *fd,
    int *unix_dgram)
{
	int rc;

	*fd = -1;
	*unix_dgram = strncmp(iface, UNIX_PREFIX, strlen(UNIX_PREFIX)) == 0;
	rc = *unix_dgram ? open_unix(ctx, iface + strlen(UNIX_PREFIX), fd) :
	    open_socketcan(ctx, iface, fd);
	if (rc < 0 && *fd >= 0) {
		(void)close(*fd);
		*fd = -1;
	}
	return rc;
}

int
ft_kp_can_close(int fd)
{
	return close(fd);
}

static int
wait_fd(int fd, short events, unsigned timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	uint64_t end = ft_now_ms() + timeout_ms;
	int r;

	for (;;) {
		uint64_t now = ft_now_ms();

		r = poll(&pfd, 1, now >= end ? 0 : (int)(end - now));
		if (r < 0 && errno == EINTR)
			continue;
		return r;
	}
}

int
ft_kp_can_send(struct ft_ctx *ctx, int fd, uint32_t id, const uint8_t *data,
    size_t dlc, unsigned timeout_ms)
{
	struct can_frame cf;
	uint64_t end = ft_now_ms() + timeout_ms;
	ssize_t n;

	memset(&cf, 0, sizeof(cf));
	cf.can_id = id & CAN_SFF_MASK;
	cf.can_dlc = (uint8_t)(dlc > CAN_MAX_DLEN ? CAN_MAX_DLEN : dlc);
	memcpy(cf.data, data, cf.can_dlc);
	for (;;) {
		n = write(fd, &cf, sizeof(cf));
		if (n == (ssize_t)sizeof(cf))
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != ENOBUFS)
			return ft_fail(ctx, errno == ENETDOWN ? FT_E_NO_DEVICE :
			    FT_E_IO, "CAN send on 0x%03x: %s%s",
			    (unsigned)cf.can_id, strerror(errno),
			    errno == ENETDOWN ? " (the interface is down, or "
			    "bus-off)" : "");
		if (n >= 0)
			return ft_fail(ctx, FT_E_IO, "CAN send: short write");
		if (ft_now_ms() >= end)
			return ft_fail(ctx, FT_E_TIMEOUT, "CAN send on 0x%03x: "
			    "the transmit queue stayed full (no other node "
			    "acknowledges? bus-off?)", (unsigned)cf.can_id);
		/* ENOBUFS does not wake poll(); a short sleep does. */
		if (errno == ENOBUFS)
			ft_sleep_us(TXQ_RETRY_MS * 1000);
		else
			(void)wait_fd(fd, POLLOUT, TXQ_RETRY_MS);
	}
}

int
ft_kp_can_recv(struct ft_ctx *ctx, int fd, uint32_t *id, uint8_t *data,
    size_t *dlc, unsigned timeout_ms)
{
	uint64_t end = ft_now_ms() + timeout_ms;
	struct can_frame cf;
	ssize_t n;

	for (;;) {
		n = read(fd, &cf, sizeof(cf));
		if (n == (ssize_t)sizeof(cf)) {
			if (cf.can_id & (CAN_EFF_FLAG | CAN_RTR_FLAG |
			    CAN_ERR_FLAG))
				continue;
			*id = cf.can_id & CAN_SFF_MASK;
			*dlc = cf.can_dlc > CAN_MAX_DLEN ? CAN_MAX_DLEN :
			    cf.can_dlc;
			memcpy(data, cf.data, *dlc);
			return 1;
		}
		if (n >= 0)
			continue;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return ft_fail(ctx, FT_E_IO, "CAN receive: %s",
			    strerror(errno));
		{
			uint64_t now = ft_now_ms();
			int r;

			if (now >= end)
				return 0;
			r = wait_fd(fd, POLLIN, (unsigned)(end - now));
			if (r < 0)
				return ft_fail(ctx, FT_E_IO, "poll: %s",
				    strerror(errno));
			if (r == 0)
				return 0;
		}
	}
}

int
ft_kp_can_assign(struct ft_kp_link *l, const uint8_t *uuid, uint8_t nodeid)
{
	uint8_t msg[8];
	size_t n = ft_kp_can_admin(msg, FT_KP_CAN_SET_CANBOOT_NODEID, uuid,
	    nodeid);

	ft_kp_link_set_node(l, nodeid);
	return ft_kp_can_send(l->ctx, l->fd, FT_KP_CAN_ADMIN_ID, msg, n,
	    KP_REPLY_TIMEOUT_MS);
}

int
ft_kp_can_request(struct ft_kp_link *l, const uint8_t *uuid)
{
	uint8_t msg[8];
	size_t n = ft_kp_can_admin(msg, FT_KP_CAN_REQUEST_BOOTLOADER, uuid, -1);

	return ft_kp_can_send(l->ctx, l->fd, FT_KP_CAN_ADMIN_ID, msg, n,
	    KP_REPLY_TIMEOUT_MS);
}

uint8_t
ft_kp_can_nodeid(const uint8_t *uuid)
{
	return (uint8_t)(NODEID_FIRST + ft_kp_fasthash64(uuid,
	    FT_KP_UUID_LEN, 0) % NODEID_SPREAD);
}
