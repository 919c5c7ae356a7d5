/*
 * katapult/list.c - Katapult and Klipper devices for --list: USB serial
 * devices by their IDs (Katapult 1d50:6177, Klipper 1d50:614e; sysfs via
 * lib/ports.c), and on a CAN bus the nodes that answer QUERY_UNASSIGNED
 * (katapult.md 1.6), Katapult's and Klipper's alike, told apart by the
 * application byte of their answer.
 *
 * The query is what flashtool.py -q sends, without its broadcast
 * CLEAR_CANBOOT_NODEID first: that would break another host's session
 * on the bus.  Only unassigned nodes answer, and several answering at
 * once collide on the bus (their frames have the same id); the caller
 * warns about both.
 */
#include <stdlib.h>
#include <string.h>

#include "katapult.h"

/* flashtool.py collects answers for 2 s; nodes answer within ms. */
#define QUERY_COLLECT_MS 1000u
#define USB_VID_OPENMOKO 0x1d50u
#define USB_PID_KATAPULT 0x6177u
#define USB_PID_KLIPPER 0x614eu
#define APP_KLIPPER 0x01
#define APP_KATAPULT 0x11

static int
add(struct ft_katapult_entry **list, size_t *n, size_t *cap,
    const struct ft_katapult_entry *e)
{
	struct ft_katapult_entry *grown;

	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		grown = realloc(*list, *cap * sizeof(**list));
		if (grown == NULL)
			return FT_E_NOMEM;
		*list = grown;
	}
	(*list)[(*n)++] = *e;
	return 0;
}

static int
usb_devices(struct ft_ctx *ctx, const char *sysroot, const char *devroot,
    struct ft_katapult_entry **list, size_t *n, size_t *cap)
{
	struct ft_port_entry *ports = NULL;
	struct ft_katapult_entry e;
	size_t np = 0, i;
	int rc;

	rc = ft_serial_list_at(ctx, sysroot != NULL ? sysroot : "/sys",
	    devroot != NULL ? devroot : "/dev", &ports, &np);
	if (rc < 0)
		return rc;
	for (i = 0; i < np && rc == 0; i++) {
		const struct ft_port_entry *p = &ports[i];

		if (!p->usb || p->vid != USB_VID_OPENMOKO ||
		    (p->pid != USB_PID_KATAPULT && p->pid != USB_PID_KLIPPER))
			continue;
		memset(&e, 0, sizeof(e));
		e.app = p->pid == USB_PID_KATAPULT ? FT_KP_APP_KATAPULT :
		    FT_KP_APP_KLIPPER;
		ft_strlcpy(e.port, p->path, sizeof(e.port));
		ft_strlcpy(e.by_id, p->by_id, sizeof(e.by_id));
		ft_strlcpy(e.usb_path, p->usb_path, sizeof(e.usb_path));
		ft_strlcpy(e.serial, p->serial, sizeof(e.serial));
		ft_strlcpy(e.mcu, p->product, sizeof(e.mcu));
		rc = add(list, n, cap, &e);
	}
	free(ports);
	return rc < 0 ? ft_fail(ctx, rc, "out of memory") : 0;
}

static int
known(const struct ft_katapult_entry *list, size_t n, const uint8_t *uuid)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].can && memcmp(list[i].uuid, uuid,
		    FT_KP_UUID_LEN) == 0)
			return 1;
	return 0;
}

static int
can_nodes(struct ft_ctx *ctx, const char *iface,
    struct ft_katapult_entry **list, size_t *n, size_t *cap)
{
	uint8_t msg[8], data[8];
	uint64_t end;
	struct ft_katapult_entry e;
	uint32_t id;
	size_t dlc;
	int fd, unix_dgram, app, rc;

	rc = ft_kp_can_open(ctx, iface, &fd, &unix_dgram);
	if (rc < 0)
		return rc;
	rc = ft_kp_can_send(ctx, fd, FT_KP_CAN_ADMIN_ID, msg,
	    ft_kp_can_admin(msg, FT_KP_CAN_QUERY_UNASSIGNED, NULL, -1),
	    KP_REPLY_TIMEOUT_MS);
	end = ft_now_ms() + QUERY_COLLECT_MS;
	while (rc == 0 && ft_now_ms() < end && !ft_cancelled(ctx)) {
		rc = ft_kp_can_recv(ctx, fd, &id, data, &dlc,
		    (unsigned)(end - ft_now_ms()));
		if (rc <= 0)
			break;
		rc = 0;
		memset(&e, 0, sizeof(e));
		if (id != FT_KP_CAN_ADMIN_RESP_ID ||
		    !ft_kp_can_parse_need_nodeid(data, dlc, e.uuid, &app) ||
		    known(*list, *n, e.uuid))
			continue;
		e.can = 1;
		e.app = app == APP_KATAPULT ? FT_KP_APP_KATAPULT :
		    app == APP_KLIPPER ? FT_KP_APP_KLIPPER : FT_KP_APP_UNKNOWN;
		ft_strlcpy(e.port, iface, sizeof(e.port));
		if (add(list, n, cap, &e) != 0)
			rc = ft_fail(ctx, FT_E_NOMEM, "out of memory");
	}
	if (fd >= 0)
		(void)ft_kp_can_close(fd);
	return rc < 0 ? rc : 0;
}

int
ft_katapult_list(struct ft_ctx *ctx, const struct ft_open_opts *opts,
    struct ft_katapult_entry **out, size_t *n)
{
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	ft_clear_detail(ctx);
	if (opts->kp.can_iface != NULL)
		rc = can_nodes(ctx, opts->kp.can_iface, out, n, &cap);
	else
		rc = usb_devices(ctx, opts->kp.sysfs_root, opts->kp.dev_root,
		    out, n, &cap);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}
