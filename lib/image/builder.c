/*
 * image/builder.c - the one way an image is made.  Every reader adds
 * pieces of data (one per HEX/S-record record, ELF program header or
 * DfuSe element) in file order; the builder sorts them by (alt, addr),
 * rejects overlaps, merges adjacent pieces into segments and copies each
 * segment's bytes into its own block.
 *
 * Invariants of every image it makes (image/image.h): segments sorted by
 * (alt, addr), never empty, never overlapping, never touching in the
 * same alt; addr + len <= 2^32.
 */
#include <stdlib.h>
#include <string.h>

#include "image.h"

int
ft_build_add(struct ft_builder *b, int alt, uint32_t addr, uint32_t len,
    size_t off, unsigned where)
{
	struct ft_piece *np;
	size_t ncap;

	if (len == 0)
		return 0;
	if (b->n == b->cap) {
		ncap = b->cap ? b->cap * 2 : 64;
		np = realloc(b->p, ncap * sizeof(*np));
		if (np == NULL)
			return FT_E_NOMEM;
		b->p = np;
		b->cap = ncap;
	}
	b->p[b->n].addr = addr;
	b->p[b->n].len = len;
	b->p[b->n].off = off;
	b->p[b->n].where = where;
	b->p[b->n].alt = alt;
	b->n++;
	return 0;
}

void
ft_build_free(struct ft_builder *b)
{
	free(b->p);
	free(b->pool);
	memset(b, 0, sizeof(*b));
}

static int
piece_cmp(const void *va, const void *vb)
{
	const struct ft_piece *a = va, *b = vb;

	if (a->alt != b->alt)
		return a->alt < b->alt ? -1 : 1;
	if (a->addr != b->addr)
		return a->addr < b->addr ? -1 : 1;
	if (a->where != b->where)
		return a->where < b->where ? -1 : 1;
	return 0;
}

/* Pieces are sorted: does p start a new segment after the one ending at
 * end (exclusive, alt alt)? */
static int
starts_segment(const struct ft_piece *p, int alt, uint64_t end)
{
	return p->alt != alt || p->addr != end;
}

int
ft_build_finish(struct ft_builder *b, const uint8_t *src, struct ft_image *img,
    struct ft_clash *cl)
{
	struct ft_segment *seg;
	size_t i, nseg, k, fill;
	uint64_t end;
	size_t end_piece;
	int alt;

	/* qsort wants a real array even for no pieces (a plain DFU file
	 * with an empty payload). */
	if (b->n > 0)
		qsort(b->p, b->n, sizeof(*b->p), piece_cmp);

	/* Pass 1: overlaps and the number of segments. */
	nseg = 0;
	end = 0;
	end_piece = 0;
	alt = 0;
	for (i = 0; i < b->n; i++) {
		const struct ft_piece *p = &b->p[i];

		if (i > 0 && p->alt == alt && p->addr < end) {
			const struct ft_piece *q = &b->p[end_piece];

			cl->first = q->where < p->where ? q->where : p->where;
			cl->second = q->where < p->where ? p->where : q->where;
			cl->addr = p->addr;
			cl->alt = p->alt;
			return 1;
		}
		if (i == 0 || starts_segment(p, alt, end))
			nseg++;
		alt = p->alt;
		end = (uint64_t)p->addr + p->len;
		end_piece = i;
	}

	seg = calloc(nseg ? nseg : 1, sizeof(*seg));
	if (seg == NULL)
		return FT_E_NOMEM;

	/* Pass 2: segment bounds, then one block per segment. */
	k = 0;
	for (i = 0; i < b->n; i++) {
		const struct ft_piece *p = &b->p[i];

		if (i == 0 || starts_segment(p, seg[k - 1].alt,
		    (uint64_t)seg[k - 1].addr + seg[k - 1].len)) {
			seg[k].addr = p->addr;
			seg[k].len = 0;
			seg[k].alt = p->alt;
			k++;
		}
		/* Cannot wrap: every piece ends at or below 2^32. */
		seg[k - 1].len += p->len;
	}
	for (k = 0; k < nseg; k++) {
		seg[k].data = malloc(seg[k].len);
		if (seg[k].data == NULL) {
			while (k > 0)
				free(seg[--k].data);
			free(seg);
			return FT_E_NOMEM;
		}
	}
	k = 0;
	fill = 0;
	for (i = 0; i < b->n; i++) {
		const struct ft_piece *p = &b->p[i];

		if (fill == seg[k].len) {
			k++;
			fill = 0;
		}
		memcpy(seg[k].data + fill, src + p->off, p->len);
		fill += p->len;
	}
	img->seg = seg;
	img->nseg = nseg;
	return 0;
}
