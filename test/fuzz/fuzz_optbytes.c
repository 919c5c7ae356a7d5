/*
 * fuzz_optbytes.c - option-byte changes as --set takes them: the first
 * byte picks a family and a starting image (its factory image, or the
 * input's bytes), the rest is lines of NAME=VALUE for ft_ob_plan.  A
 * plan that succeeds must keep every complement the family holds where
 * the start kept them, touch no byte outside the fields' words and
 * their complements, and never reach RDP level 2 without the flag; one
 * that fails must leave the image as it was.
 */
#include "fuzz.h"

#define MAX_CHANGES 8

/* Bytes some field of the family (or its complement) may change. */
static int
may_change(const struct ft_ob_family *fam, size_t off)
{
	const struct ft_ob_field *f;

	for (f = fam->fields; f->name != NULL; f++) {
		size_t w = f->offset;

		if (off >= w && off < w + 4)
			return 1;
		if (fam->pairs == FT_OB_WORD_COMPLEMENT && off >= w + 4 &&
		    off < w + 8)
			return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ft_ob_family *fam;
	struct ft_ob_change ch[MAX_CHANGES];
	uint8_t before[FT_OB_MAX_BYTES], after[FT_OB_MAX_BYTES];
	char *text, *line, *save = NULL;
	char names[MAX_CHANGES][32];
	const struct ft_ob_field *rdp;
	size_t n = 0, len, i;
	unsigned flags;
	uint32_t v, bad, bad2;
	int rc, pairs_ok;

	if (size < 1)
		return 0;
	fam = ft_ob_family_at(data[0] % ft_ob_family_count());
	flags = data[0] & 0x80 ? FT_OB_ALLOW_RDP2 : 0;
	len = fam->size;
	ft_ob_factory_image(fam, before, len);
	/* Bit 6: start from the input's bytes, complements or not. */
	if ((data[0] & 0x40) && size > len) {
		memcpy(before, data + 1, len);
		data += len;
		size -= len;
	}
	text = fuzz_str(data + 1, size - 1);
	for (line = strtok_r(text, "\n", &save); line != NULL &&
	    n < MAX_CHANGES; line = strtok_r(NULL, "\n", &save)) {
		const char *value;

		if (ft_ob_parse_assignment(NULL, line, names[n],
		    sizeof(names[n]), &value) != 0)
			continue;
		ch[n].name = names[n];
		ch[n].value = value;
		n++;
	}
	pairs_ok = ft_ob_check_complements(fam, before, len, &bad) == 0;
	rc = ft_ob_plan(NULL, fam, before, len, ch, n, flags, after);
	if (rc != 0) {
		if (memcmp(before, after, len) != 0)
			abort();
	} else {
		for (i = 0; i < len; i++)
			if (before[i] != after[i] && !may_change(fam, i))
				abort();
		if (pairs_ok &&
		    ft_ob_check_complements(fam, after, len, &bad2) != 0)
			abort();
		rdp = ft_ob_field_find(fam, "RDP");
		if (!(flags & FT_OB_ALLOW_RDP2) &&
		    ft_ob_get(rdp, before, len, &v) == 0 &&
		    ft_ob_rdp_level(fam, v) != 2 &&
		    ft_ob_get(rdp, after, len, &v) == 0 &&
		    ft_ob_rdp_level(fam, v) == 2)
			abort();
	}
	free(text);
	return 0;
}
