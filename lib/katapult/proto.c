/*
 * katapult/proto.c - Katapult's frames, CRC, CONNECT reply, UUIDs and CAN
 * admin messages (see proto.h).  Pure: no I/O, no context beyond the
 * detail string of a parse failure.
 *
 * Invariants: the decoder's buffer never holds more than its size; every
 * frame it returns passed the header, length, trailer and CRC checks;
 * garbage costs one byte per failed check, so a good frame behind
 * garbage is always found.
 */
#include <stdio.h>
#include <string.h>

#include "proto.h"

#define CRC_POLY_REFLECTED 0x8408u
#define CRC_INIT 0xFFFFu
#define FASTHASH_M 0x880355f21e6d1965ull
#define FASTHASH_MIX 0x2127599bf4325c37ull
#define UUID_SEED 0xA16231A7u
/* The shortest CONNECT payload: protocol, start, block, a name word. */
#define CONNECT_FIXED_BYTES 12u
#define CHIP_ID_MAX 32u

uint16_t
ft_kp_crc16(const uint8_t *p, size_t n)
{
	uint16_t crc = CRC_INIT;
	size_t i;
	int bit;

	for (i = 0; i < n; i++) {
		crc ^= p[i];
		for (bit = 0; bit < 8; bit++)
			crc = (crc & 1) ? (uint16_t)((crc >> 1) ^
			    CRC_POLY_REFLECTED) : (uint16_t)(crc >> 1);
	}
	return crc;
}

size_t
ft_kp_frame(uint8_t *out, uint8_t cmd, const uint8_t *payload, size_t len)
{
	uint16_t crc;

	if (len % 4 != 0 || len > 4u * 255)
		return 0;
	out[0] = FT_KP_SYNC;
	out[1] = FT_KP_SYNC2;
	out[2] = cmd;
	out[3] = (uint8_t)(len / 4);
	if (len > 0)
		memcpy(out + 4, payload, len);
	crc = ft_kp_crc16(out + 2, len + 2);
	out[4 + len] = (uint8_t)crc;
	out[5 + len] = (uint8_t)(crc >> 8);
	out[6 + len] = FT_KP_TRAIL;
	out[7 + len] = FT_KP_TRAIL2;
	return len + FT_KP_OVERHEAD;
}

void
ft_kp_rx_reset(struct ft_kp_rx *rx)
{
	rx->len = 0;
	rx->dropped = 0;
}

size_t
ft_kp_rx_push(struct ft_kp_rx *rx, const uint8_t *p, size_t n)
{
	size_t room = sizeof(rx->buf) - rx->len;

	if (n > room)
		n = room;
	memcpy(rx->buf + rx->len, p, n);
	rx->len += n;
	return n;
}

static void
drop(struct ft_kp_rx *rx, size_t n)
{
	memmove(rx->buf, rx->buf + n, rx->len - n);
	rx->len -= n;
	rx->dropped += n;
}

int
ft_kp_rx_next(struct ft_kp_rx *rx, struct ft_kp_frame *f)
{
	for (;;) {
		const uint8_t *sync = memchr(rx->buf, FT_KP_SYNC, rx->len);
		size_t flen, words;

		if (sync == NULL) {
			drop(rx, rx->len);
			return 0;
		}
		if (sync != rx->buf)
			drop(rx, (size_t)(sync - rx->buf));
		if (rx->len < 2)
			return 0;
		if (rx->buf[1] != FT_KP_SYNC2) {
			drop(rx, 1);
			continue;
		}
		if (rx->len < 4)
			return 0;
		words = rx->buf[3];
		if (words > FT_KP_REPLY_WORDS_MAX) {
			drop(rx, 1);
			continue;
		}
		flen = FT_KP_OVERHEAD + 4 * words;
		if (rx->len < flen)
			return 0;
		if (rx->buf[flen - 2] != FT_KP_TRAIL ||
		    rx->buf[flen - 1] != FT_KP_TRAIL2 ||
		    ft_kp_crc16(rx->buf + 2, flen - 6) !=
		    (uint16_t)(rx->buf[flen - 4] | rx->buf[flen - 3] << 8)) {
			drop(rx, 1);
			continue;
		}
		f->code = rx->buf[2];
		f->len = 4 * words;
		memcpy(f->payload, rx->buf + 4, f->len);
		memmove(rx->buf, rx->buf + flen, rx->len - flen);
		rx->len -= flen;
		return 1;
	}
}

int
ft_kp_rx_stale(struct ft_kp_rx *rx)
{
	if (rx->len == 0)
		return 0;
	drop(rx, 1);
	return 1;
}

uint32_t
ft_kp_acked(const struct ft_kp_frame *f)
{
	return f->len >= 4 ? ft_get_le32(f->payload) : 0;
}

/* Copy a NUL-terminated or word-padded string; -1 if not printable. */
static int
take_string(const uint8_t *p, size_t n, char *out, size_t size,
    size_t *used)
{
	size_t k = 0;

	while (k < n && p[k] != 0) {
		if (p[k] < 0x20 || p[k] > 0x7E || k + 1 >= size)
			return -1;
		out[k] = (char)p[k];
		k++;
	}
	out[k] = '\0';
	*used = k;
	return 0;
}

static int
block_size_ok(uint32_t b)
{
	return b == 64 || b == 128 || b == 256 || b == 512;
}

int
ft_kp_parse_connect(struct ft_ctx *ctx, const uint8_t *p, size_t n,
    struct ft_kp_connect *out)
{
	size_t used, at;

	memset(out, 0, sizeof(*out));
	if (n < CONNECT_FIXED_BYTES + 4)
		return ft_fail(ctx, FT_E_PROTOCOL, "CONNECT reply too short "
		    "(%zu bytes)", n);
	out->proto = ft_get_le32(p);
	out->app_start = ft_get_le32(p + 4);
	out->block_size = ft_get_le32(p + 8);
	if (!block_size_ok(out->block_size))
		return ft_fail(ctx, FT_E_PROTOCOL, "CONNECT reply: block size "
		    "%u (Katapult uses 64; 128, 256 or 512 at most)",
		    out->block_size);
	if (out->app_start % out->block_size != 0)
		return ft_fail(ctx, FT_E_PROTOCOL, "CONNECT reply: application "
		    "start 0x%08x is not a multiple of the block size %u",
		    out->app_start, out->block_size);
	at = CONNECT_FIXED_BYTES;
	if (take_string(p + at, n - at, out->mcu, sizeof(out->mcu),
	    &used) != 0 || used == 0)
		return ft_fail(ctx, FT_E_PROTOCOL, "CONNECT reply: the MCU "
		    "name is missing or not text");
	at += used;
	/* Protocol 1.0.x ends here; 1.1.0 adds a zero word and a version. */
	if (out->proto < FT_KP_PROTO_WITH_VERSION)
		return 0;
	while (at < n && p[at] == 0)
		at++;
	if (at == n)
		return 0;
	if (take_string(p + at, n - at, out->version, sizeof(out->version),
	    &used) != 0)
		return ft_fail(ctx, FT_E_PROTOCOL, "CONNECT reply: the "
		    "software version is not text");
	out->has_version = 1;
	return 0;
}

void
ft_kp_proto_str(uint32_t proto, char *buf, size_t size)
{
	snprintf(buf, size, "%u.%u.%u", (unsigned)(proto >> 16) & 0xFF,
	    (unsigned)(proto >> 8) & 0xFF, (unsigned)proto & 0xFF);
}

void
ft_kp_uuid_str(const uint8_t *uuid, char *buf, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char tmp[2 * FT_KP_UUID_LEN + 1];
	size_t i;

	for (i = 0; i < FT_KP_UUID_LEN; i++) {
		tmp[2 * i] = hex[uuid[i] >> 4];
		tmp[2 * i + 1] = hex[uuid[i] & 0xF];
	}
	tmp[sizeof(tmp) - 1] = '\0';
	ft_strlcpy(buf, tmp, size);
}

/*
 * As flashtool.py's int(text, 16): up to 12 hex digits, "0x" allowed,
 * leading zeros implied; the most significant byte travels first.
 */
int
ft_katapult_uuid_parse(const char *text, uint8_t *uuid)
{
	uint64_t v = 0;
	size_t n = 0;

	if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
		text += 2;
	for (; *text != '\0'; text++, n++) {
		int d = ft_hex_digit(*text);

		if (d < 0 || n >= 2 * FT_KP_UUID_LEN)
			return FT_E_INVALID;
		v = v << 4 | (uint64_t)d;
	}
	if (n == 0)
		return FT_E_INVALID;
	for (n = 0; n < FT_KP_UUID_LEN; n++)
		uuid[n] = (uint8_t)(v >> (8 * (FT_KP_UUID_LEN - 1 - n)));
	return 0;
}

static uint64_t
fasthash_mix(uint64_t h)
{
	h ^= h >> 23;
	h *= FASTHASH_MIX;
	h ^= h >> 47;
	return h;
}

/* fasthash64 (Zilong Tan): 8-byte words little endian, then the tail. */
uint64_t
ft_kp_fasthash64(const uint8_t *p, size_t n, uint64_t seed)
{
	uint64_t h = seed ^ ((uint64_t)n * FASTHASH_M), v;
	size_t i, k;

	for (i = 0; i + 8 <= n; i += 8) {
		v = 0;
		for (k = 0; k < 8; k++)
			v |= (uint64_t)p[i + k] << (8 * k);
		h ^= fasthash_mix(v);
		h *= FASTHASH_M;
	}
	if (i < n) {
		v = 0;
		for (k = 0; i + k < n; k++)
			v |= (uint64_t)p[i + k] << (8 * k);
		h ^= fasthash_mix(v);
		h *= FASTHASH_M;
	}
	return fasthash_mix(h);
}

int
ft_kp_uuid_from_serial(const char *serial, uint8_t *uuid)
{
	uint8_t id[CHIP_ID_MAX];
	size_t n = 0, i;
	uint64_t h;

	for (i = 0; serial[i] != '\0'; i += 2) {
		int hi = ft_hex_digit(serial[i]), lo;

		if (hi < 0 || serial[i + 1] == '\0' || n >= sizeof(id))
			return -1;
		lo = ft_hex_digit(serial[i + 1]);
		if (lo < 0)
			return -1;
		id[n++] = (uint8_t)(hi << 4 | lo);
	}
	if (n == 0)
		return -1;
	h = ft_kp_fasthash64(id, n, UUID_SEED);
	for (i = 0; i < FT_KP_UUID_LEN; i++)
		uuid[i] = (uint8_t)(h >> (8 * i));
	return 0;
}

size_t
ft_kp_can_admin(uint8_t *out, uint8_t msg, const uint8_t *uuid, int nodeid)
{
	size_t n = 1;

	out[0] = msg;
	if (uuid != NULL) {
		memcpy(out + 1, uuid, FT_KP_UUID_LEN);
		n += FT_KP_UUID_LEN;
	}
	if (nodeid >= 0)
		out[n++] = (uint8_t)nodeid;
	return n;
}

int
ft_kp_can_parse_need_nodeid(const uint8_t *data, size_t dlc, uint8_t *uuid,
    int *app)
{
	if (dlc < 1 + FT_KP_UUID_LEN || data[0] != FT_KP_CAN_RESP_NEED_NODEID)
		return 0;
	memcpy(uuid, data + 1, FT_KP_UUID_LEN);
	*app = dlc > 1 + FT_KP_UUID_LEN ? data[1 + FT_KP_UUID_LEN] : -1;
	return 1;
}

uint32_t
ft_kp_can_rx_id(uint8_t nodeid)
{
	return FT_KP_CAN_NODEID_BASE + 2u * nodeid;
}
