/*
 * image/span.c - spans and segment lists (ft_int.h): borrowed views of an
 * image's segments, and lists of segments that own their array but not
 * their data.  What the core writes, compares and verifies.
 */
#include <stdlib.h>

#include "ft_int.h"

struct ft_span
ft_image_span(const struct ft_image *img)
{
	struct ft_span s = { NULL, 0 };

	if (img != NULL) {
		s.seg = img->seg;
		s.nseg = img->nseg;
	}
	return s;
}

struct ft_span
ft_seglist_span(const struct ft_seglist *list)
{
	struct ft_span s = { list->seg, list->nseg };

	return s;
}

void
ft_seglist_free(struct ft_seglist *list)
{
	free(list->seg);
	list->seg = NULL;
	list->nseg = 0;
}

uint64_t
ft_span_bytes(struct ft_span span)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < span.nseg; i++)
		sum += span.seg[i].len;
	return sum;
}

uint64_t
ft_span_bytes_in(struct ft_span span, uint32_t addr, uint32_t len)
{
	uint64_t end = (uint64_t)addr + len, total = 0;
	size_t i;

	for (i = 0; i < span.nseg; i++) {
		uint64_t lo = span.seg[i].addr;
		uint64_t hi = lo + span.seg[i].len;

		if (lo < addr)
			lo = addr;
		if (hi > end)
			hi = end;
		if (hi > lo)
			total += hi - lo;
	}
	return total;
}
