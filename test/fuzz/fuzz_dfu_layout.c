/*
 * fuzz_dfu_layout.c - DfuSe layout strings (ft_dfu_layout_parse), the
 * lookups on what it returns, the erase planner on the flash layout it
 * yields, and ft_dfu_choose_alt with the string as an alt's name.
 */
#include "fuzz.h"
#include "dfu/dfu.h"

static void
probe(const struct ft_dfu_layout *l, uint32_t addr)
{
	struct ft_layout fl;
	struct ft_erase_unit *units = NULL;
	size_t n = 0;
	const struct ft_dfu_seg *s = ft_dfu_layout_find(l, addr);

	if (s != NULL && (addr < s->start ||
	    (uint64_t)addr - s->start >= (uint64_t)s->page_size * s->npages))
		abort();
	if (ft_dfu_layout_flash(NULL, l, addr, &fl) != 0)
		return;
	if (fl.nruns == 0 || fl.nruns > FT_MAX_RUNS)
		abort();
	(void)ft_layout_size(&fl);
	(void)ft_layout_units(&fl);
	/* A small range at addr: the planner must stay inside the layout. */
	if (ft_plan_range(NULL, &fl, addr, 1, &units, &n) == 0 && n != 1)
		abort();
	free(units);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_str(data, size);
	struct ft_dfu_layout l;
	struct ft_dfu_entry *e;
	struct ft_dfu_match m = { -1, -1, -1, -1, NULL, NULL, -1, NULL };
	unsigned idx;
	size_t i;

	if (ft_dfu_layout_parse(NULL, text, &l) == 0) {
		if (l.nseg > FT_DFU_MAX_SEGS ||
		    strnlen(l.name, sizeof(l.name)) == sizeof(l.name))
			abort();
		for (i = 0; i < l.nseg; i++) {
			probe(&l, l.seg[i].start);
			probe(&l, l.seg[i].start + l.seg[i].page_size);
		}
		probe(&l, 0x08000000u);
	}
	/* The same string as the interface string of a device's alt 0. */
	e = calloc(1, sizeof(*e));
	if (e == NULL)
		abort();
	e->dfuse = 1;
	e->nalts = 2;
	e->alts[0].alt = 0;
	snprintf(e->alts[0].name, sizeof(e->alts[0].name), "%s", text);
	e->alts[1].alt = 1;
	snprintf(e->alts[1].name, sizeof(e->alts[1].name), "%s",
	    "@Option Bytes  /0x1FFFC000/01*016 e");
	(void)ft_dfu_choose_alt(NULL, e, &m, 0x08000000u, &idx);
	m.alt_name = text;
	(void)ft_dfu_choose_alt(NULL, e, &m, 0x08000000u, &idx);
	(void)ft_dfu_match_alt(&m, &e->alts[0]);
	free(e);
	free(text);
	return 0;
}
