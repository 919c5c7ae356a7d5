/*
 * fuzz_kp_connect.c - the CONNECT reply parser (lib/katapult/proto.c):
 * any payload; what it accepts must be a block size the host can use,
 * an aligned application start, and NUL-terminated printable names.
 */
#include "fuzz.h"
#include "katapult/proto.h"

static void
printable(const char *s, size_t size)
{
	size_t i;

	for (i = 0; i < size && s[i] != '\0'; i++)
		if (s[i] < 0x20 || s[i] > 0x7E)
			abort();
	if (i == size)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ft_kp_connect c;
	char proto[16];

	if (ft_kp_parse_connect(NULL, data, size, &c) != 0)
		return 0;
	if (c.block_size != 64 && c.block_size != 128 &&
	    c.block_size != 256 && c.block_size != 512)
		abort();
	if (c.app_start % c.block_size != 0 || c.mcu[0] == '\0')
		abort();
	printable(c.mcu, sizeof(c.mcu));
	printable(c.version, sizeof(c.version));
	if (c.has_version != (c.version[0] != '\0'))
		abort();
	ft_kp_proto_str(c.proto, proto, sizeof(proto));
	return 0;
}
