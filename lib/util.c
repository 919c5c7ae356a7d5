/*
 * util.c - clock, sleep, strings, number parsing and ST's CRC-32.
 * Stateless.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ft_int.h"

void
ft_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

uint64_t
ft_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t
ft_now_ms(void)
{
	return ft_now_us() / 1000u;
}

void
ft_sleep_us(uint64_t us)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(us / 1000000u);
	ts.tv_nsec = (long)(us % 1000000u) * 1000;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

int
ft_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
ft_parse_u32(const char *text, int allow_suffix, uint32_t *out)
{
	unsigned long long v;
	char *end;
	int base = 10;
	const char *p = text;

	if (text == NULL || *text == '\0')
		return FT_E_INVALID;
	/* strtoull accepts signs and blanks; a number here has neither. */
	if (*p < '0' || *p > '9')
		return FT_E_INVALID;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') ||
		    (*p >= 'A' && *p <= 'F')))
			return FT_E_INVALID;
	}
	errno = 0;
	v = strtoull(p, &end, base);
	if (errno != 0 || end == p)
		return FT_E_INVALID;
	if (allow_suffix && (*end == 'K' || *end == 'k')) {
		v *= 1024u;
		end++;
	} else if (allow_suffix && (*end == 'M' || *end == 'm')) {
		v *= 1024u * 1024u;
		end++;
	}
	if (*end != '\0' || v > UINT32_MAX)
		return FT_E_INVALID;
	*out = (uint32_t)v;
	return 0;
}

int
ft_parse_addr_len(struct ft_ctx *ctx, const char *text, uint32_t *addr,
    uint32_t *len, int *has_len)
{
	char buf[64];
	char *colon;

	if (text == NULL || strlen(text) >= sizeof(buf))
		return ft_fail(ctx, FT_E_INVALID, "'%s': expected ADDR[:LEN]",
		    text != NULL ? text : "");
	strcpy(buf, text);
	colon = strchr(buf, ':');
	if (colon != NULL)
		*colon++ = '\0';
	if (ft_parse_u32(buf, 0, addr) != 0)
		return ft_fail(ctx, FT_E_INVALID,
		    "'%s': bad address '%s' (decimal or 0x hex)", text, buf);
	*has_len = colon != NULL;
	*len = 0;
	if (colon == NULL)
		return 0;
	if (ft_parse_u32(colon, 1, len) != 0 || *len == 0)
		return ft_fail(ctx, FT_E_INVALID,
		    "'%s': bad length '%s' (a positive number, K or M suffix "
		    "allowed)",
		    text, colon);
	if ((uint64_t)*addr + *len > (uint64_t)UINT32_MAX + 1)
		return ft_fail(ctx, FT_E_INVALID,
		    "'%s': range runs past the 4 GiB address space", text);
	return 0;
}

/*
 * ST's CRC unit and the bootloader's Get Checksum: CRC-32/MPEG-2 style
 * (poly 0x04C11DB7, MSB first, no reflection, no final XOR) fed with
 * 32-bit little-endian words, i.e. each word's most significant byte
 * first.  A tail shorter than a word is padded with 0xFF, which is what
 * erased flash would hold; callers normally pass multiples of 4.
 */
uint32_t
ft_crc32_stm(uint32_t crc, const uint8_t *buf, size_t len)
{
	size_t i;
	int b, k;

	for (i = 0; i < len; i += 4) {
		uint8_t w[4];

		for (k = 0; k < 4; k++)
			w[k] = i + (size_t)k < len ? buf[i + (size_t)k] : 0xFF;
		for (k = 3; k >= 0; k--) {
			crc ^= (uint32_t)w[k] << 24;
			for (b = 0; b < 8; b++)
				crc = (crc & 0x80000000u) ?
				    (crc << 1) ^ 0x04C11DB7u : crc << 1;
		}
	}
	return crc;
}
