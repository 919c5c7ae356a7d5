/*
 * fuzz_args.c - the argument mini-languages: ft_parse_u32 (with and
 * without suffixes), ft_parse_addr_len and ft_layout_parse, then the
 * layout lookups and the erase planner on a layout that parsed.
 */
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	struct ft_layout l;
	uint32_t v, addr, len, idx, start, usize;
	int has_len;

	if (ft_parse_u32(text, 0, &v) == 0 && ft_parse_u32(text, 1, &v) != 0)
		abort();
	(void)ft_parse_u32(text, 1, &v);
	if (ft_parse_addr_len(NULL, text, &addr, &len, &has_len) == 0 &&
	    has_len && (len == 0 ||
	    (uint64_t)addr + len > (uint64_t)UINT32_MAX + 1))
		abort();
	if (ft_layout_parse(NULL, text, &l) == 0) {
		struct ft_erase_unit *units = NULL;
		size_t n = 0;
		uint64_t total = ft_layout_size(&l);

		if (l.nruns == 0 || l.nruns > FT_MAX_RUNS)
			abort();
		if (ft_layout_find(&l, l.base, &idx, &start, &usize) == 0 &&
		    (idx != 0 || start != l.base || usize == 0))
			abort();
		if (total > 0 && (uint64_t)l.base + total - 1 <= UINT32_MAX)
			(void)ft_layout_find(&l, (uint32_t)(l.base + total - 1),
			    &idx, &start, &usize);
		/* Plan the first 64 KiB at most: bounded work per input (the
		 * planner grows its list one unit at a time, and ASan's
		 * realloc always copies). */
		if (total > 0)
			(void)ft_plan_range(NULL, &l, l.base,
			    total > 0x10000 ? 0x10000 : (uint32_t)total,
			    &units, &n);
		free(units);
	}
	free(text);
	return 0;
}
