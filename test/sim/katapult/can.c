/*
 * can.c - CAN 2.0A framing and the admin protocol of Katapult and
 * Klipper nodes (katapult src/generic/canserial.c, klipper
 * src/generic/canserial.c and docs/CANBUS_protocol.md).
 *
 * Katapult node: unassigned after boot; answers QUERY_UNASSIGNED only
 * while unassigned (0x20 uuid 0x11 on 0x3f1); SET_CANBOOT_NODEID with its
 * UUID takes id 2n + 0x100 (it then receives on that id and sends on the
 * next); the same command naming its current id with another UUID, a
 * CLEAR_CANBOOT_NODEID, or a frame from someone else on its transmit id
 * make it drop its id.  Data frames on its id feed the byte stream; one
 * that does not fit the 192-byte buffer is dropped whole.
 * Klipper node: the same query answer with 0x01, SET_KLIPPER_NODEID, and
 * REQUEST_BOOTLOADER with its UUID (honoured even when assigned).
 *
 * Invariants: pure functions of the device state and the frame; replies
 * are returned, not sent.
 */
#include <string.h>

#include "ksim.h"

#define CAN_NODEID_BASE 0x100u
#define CAN_UUID_CMD_DLC 7	/* can_check_uuid(): dlc >= 7 */
#define CAN_SET_CMD_DLC 8	/* a set command carries the node id */
/*
 * Bits of a base-format data frame (Davis, Burns, Bril, Lukkien, "CAN
 * schedulability analysis: refuted, revisited and revised", Real-Time
 * Systems 35, 2007, eq. 1): 47 + 8n bits including the 3-bit
 * interframe space; stuffing can add one bit per 4 of the 34 + 8n bits
 * from SOF to the CRC.  8 data bytes: 111 bits, 135 at worst.
 */
#define CAN_FIXED_BITS 47u
#define CAN_STUFFABLE_BITS 34u

uint32_t
ks_can_frame_bits(uint8_t dlc, int worst)
{
	uint32_t n = dlc > 8 ? 8 : dlc;
	uint32_t bits = CAN_FIXED_BITS + 8 * n;

	if (worst)
		bits += (CAN_STUFFABLE_BITS + 8 * n - 1) / 4;
	return bits;
}

size_t
ks_can_split(uint32_t id, const uint8_t *p, size_t n,
    struct ks_canframe *out, size_t max)
{
	size_t k = 0;

	while (n > 0 && k < max) {
		size_t len = n > 8 ? 8 : n;

		out[k].id = id;
		out[k].dlc = (uint8_t)len;
		memset(out[k].data, 0, sizeof(out[k].data));
		memcpy(out[k].data, p, len);
		p += len;
		n -= len;
		k++;
	}
	return k;
}

uint32_t
ks_can_node_rx_id(uint8_t nodeid)
{
	return ((uint32_t)nodeid << 1) + CAN_NODEID_BASE;
}

static int
uuid_match(const struct ks_dev *d, const struct ks_canframe *f)
{
	return f->dlc >= CAN_UUID_CMD_DLC &&
	    memcmp(f->data + 1, d->uuid, sizeof(d->uuid)) == 0;
}

static size_t
need_nodeid(const struct ks_dev *d, uint8_t app, struct ks_canframe *out)
{
	out->id = KS_CAN_ADMIN_RESP;
	out->dlc = 8;
	out->data[0] = KS_CAN_RESP_NEED_NODEID;
	memcpy(out->data + 1, d->uuid, sizeof(d->uuid));
	out->data[7] = app;
	return 1;
}

static void
drop_id(struct ks_dev *d, const char *why, uint64_t t)
{
	if (d->can_id != 0)
		ks_logf(t, "%sCAN id 0x%03x dropped: %s", d->name,
		    (unsigned)d->can_id, why);
	d->can_id = 0;
}

/* A set-node-id command for either firmware (its own command code). */
static void
set_nodeid(struct ks_dev *d, const struct ks_canframe *f, uint64_t t)
{
	uint32_t id;

	if (f->dlc < CAN_SET_CMD_DLC)
		return;
	id = ks_can_node_rx_id(f->data[7]);
	if (uuid_match(d, f)) {
		if (id != d->can_id)
			ks_logf(t, "%sCAN node id %u: receives 0x%03x, sends "
			    "0x%03x", d->name, f->data[7], (unsigned)id,
			    (unsigned)id + 1);
		d->can_id = id;
	} else if (id == d->can_id) {
		drop_id(d, "another node was given this id", t);
	}
}

/*
 * The admin commands one firmware knows: Katapult answers to its own set
 * and clear commands, Klipper to its set command and the bootloader
 * request; both answer a query while unassigned, naming their set
 * command as the "application" byte.
 */
static size_t
admin(struct ks_dev *d, const struct ks_canframe *f, uint64_t t,
    struct ks_canframe *out, size_t max)
{
	int katapult = d->run == KS_RUN_KATAPULT;
	uint8_t set = katapult ? KS_CAN_SET_CANBOOT_NODEID :
	    KS_CAN_SET_KLIPPER_NODEID;

	if (f->dlc == 0)
		return 0;
	if (f->data[0] == KS_CAN_QUERY_UNASSIGNED) {
		if (d->can_id != 0 || max == 0)
			return 0;
		ks_logf(t, "%sCAN query -> need nodeid (%s)", d->name,
		    katapult ? "katapult" : "klipper");
		return need_nodeid(d, set, out);
	}
	if (f->data[0] == set)
		set_nodeid(d, f, t);
	else if (katapult && f->data[0] == KS_CAN_CLEAR_CANBOOT_NODEID)
		drop_id(d, "CLEAR_CANBOOT_NODEID", t);
	else if (!katapult && f->data[0] == KS_CAN_REQUEST_BOOTLOADER &&
	    uuid_match(d, f)) {
		ks_logf(t, "%sREQUEST can bootloader", d->name);
		ks_dev_bootloader_request(d, t);
	}
	return 0;
}

size_t
ks_can_receive(struct ks_dev *d, const struct ks_canframe *f, uint64_t t,
    struct ks_canframe *out, size_t max)
{
	if (d->run != KS_RUN_KATAPULT && d->run != KS_RUN_APP)
		return 0;
	if (d->run == KS_RUN_KATAPULT && d->can_id != 0 &&
	    f->id == d->can_id) {
		if (f->dlc > ks_dev_rx_room(d)) {
			ks_logf(t, "%sCAN frame dropped: receive buffer full",
			    d->name);
			return 0;
		}
		ks_dev_input(d, f->data, f->dlc > 8 ? 8 : f->dlc, t);
		return 0;
	}
	/* Klipper also shuts down: "Another CAN node assigned this ID". */
	if (d->can_id != 0 && f->id == d->can_id + 1) {
		drop_id(d, "someone else sends on its id", t);
		return 0;
	}
	if (f->id == KS_CAN_ADMIN)
		return admin(d, f, t, out, max);
	return 0;
}
