/*
 * Unit tests for the option-byte tables and their pure functions
 * (lib/optbytes.c): every field of every family against its family's
 * factory image, the table's own invariants (fields inside the block,
 * one word each, no overlap, no complement covered), round trips of
 * every value of every field with the complements they need, the
 * checks of a change (unknown field, bad value, read-only field, RDP
 * level 2 and 1 -> 0) and the BOOT0 recipes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "ft_int.h"

#define IMG_MAX FT_OB_MAX_BYTES

static void
factory(const struct ft_ob_family *fam, uint8_t *img)
{
	ft_ob_factory_image(fam, img, fam->size);
}

/* Every field's value in the factory image is its factory value. */
static void
test_factory_values(void **state)
{
	uint8_t img[IMG_MAX];
	size_t i;
	uint32_t v, bad;

	(void)state;
	assert_true(ft_ob_family_count() >= 5);
	for (i = 0; i < ft_ob_family_count(); i++) {
		const struct ft_ob_family *fam = ft_ob_family_at(i);
		const struct ft_ob_field *f;

		factory(fam, img);
		for (f = fam->fields; f->name != NULL; f++) {
			assert_int_equal(ft_ob_get(f, img, fam->size, &v), 0);
			if (v != f->factory)
				fail_msg("%s %s: factory image holds 0x%x, "
				    "field says 0x%x", fam->name, f->name,
				    (unsigned)v, (unsigned)f->factory);
		}
		/* A factory image keeps its complements. */
		assert_int_equal(ft_ob_check_complements(fam, img, fam->size,
		    &bad), 0);
		/* RDP reads level 0 from the factory. */
		f = ft_ob_field_find(fam, "RDP");
		assert_non_null(f);
		assert_int_equal(ft_ob_get(f, img, fam->size, &v), 0);
		assert_int_equal(ft_ob_rdp_level(fam, v), 0);
	}
}

/* Known words of the factory images, written out from the manuals. */
static void
test_factory_words(void **state)
{
	static const struct {
		const char *fam;
		uint16_t off;
		uint32_t word;
	} want[] = {
		/* RM0091 4.1.1: ST production value 0x00FF55AA. */
		{ "f0", 0, 0x00FF55AA }, { "f0", 8, 0x00FF00FF },
		/* PM0075: RDP key 0xA5 with its complement. */
		{ "f1", 0, 0x00FF5AA5 },
		/* RM0090 FLASH_OPTCR reset 0x0FFFAAED: USER 0xEC, RDP 0xAA;
		 * the upper half-word (reserved) read as 0xFF: assumed. */
		{ "f4", 0, 0xFFFFAAEC }, { "f4", 8, 0xFFFF0FFF },
		/* RM0444: OPTR 0xFFFFFEAA and its complement. */
		{ "g0", 0, 0xFFFFFEAA }, { "g0", 4, 0x00000155 },
		{ "g0", 0x18, 0x000000FF }, { "g0", 0x1C, 0xFFFFFF00 },
		/* RM0440: OPTR 0xFFEFF8AA and its complement. */
		{ "g4", 0, 0xFFEFF8AA }, { "g4", 4, 0x00100755 },
	};
	uint8_t img[IMG_MAX];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const struct ft_ob_family *fam = ft_ob_family_find(want[i].fam);

		assert_non_null(fam);
		factory(fam, img);
		if (ft_get_le32(img + want[i].off) != want[i].word)
			fail_msg("%s word at 0x%02x: 0x%08x, want 0x%08x",
			    want[i].fam, want[i].off,
			    (unsigned)ft_get_le32(img + want[i].off),
			    (unsigned)want[i].word);
	}
}

/* The complement bytes or words a family keeps in its block. */
static int
is_complement(const struct ft_ob_family *fam, unsigned off)
{
	switch (fam->pairs) {
	case FT_OB_BYTE_COMPLEMENT:
		return off % 2 == 1;
	case FT_OB_WORD_COMPLEMENT:
		return off % 8 >= 4;
	case FT_OB_NO_COMPLEMENT:
		break;
	}
	return 0;
}

/* Fields lie in the block, in one word, apart, never on a complement. */
static void
test_table_invariants(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ft_ob_family_count(); i++) {
		const struct ft_ob_family *fam = ft_ob_family_at(i);
		const struct ft_ob_field *f, *g;
		const struct ft_ob_setting *s;

		assert_true(fam->size <= FT_OB_MAX_BYTES);
		assert_non_null(ft_ob_family_find(fam->name));
		assert_ptr_equal(ft_ob_family_by_pid(fam->pids[0]), fam);
		for (f = fam->fields; f->name != NULL; f++) {
			uint64_t m = ((1ull << f->width) - 1) << f->shift;
			unsigned b;

			assert_int_equal(f->offset % 4, 0);
			assert_true(f->offset + 4u <= fam->size);
			assert_true(f->width >= 1);
			assert_true(f->shift + f->width <= 32);
			assert_true(f->factory <= ft_ob_field_max(f));
			assert_non_null(f->what);
			for (b = 0; b < 4; b++)
				if ((m >> (8 * b)) & 0xFF)
					assert_false(is_complement(fam,
					    f->offset + b));
			if (f->kind == FT_OB_CHOICE)
				assert_non_null(f->values);
			for (g = f + 1; g->name != NULL; g++) {
				uint64_t n = ((1ull << g->width) - 1) <<
				    g->shift;

				assert_false(strcasecmp(f->name, g->name) == 0);
				if (g->offset == f->offset && (m & n))
					fail_msg("%s: %s and %s overlap",
					    fam->name, f->name, g->name);
			}
			assert_ptr_equal(ft_ob_field_find(fam, f->name), f);
			assert_true(ft_ob_field_known(f->name));
		}
		for (s = fam->boot0_pin; s != NULL && s->name != NULL; s++)
			assert_non_null(ft_ob_field_find(fam, s->name));
	}
	assert_false(ft_ob_field_known("nBOOT_SEX"));
	assert_null(ft_ob_family_find("f9"));
	assert_null(ft_ob_family_by_pid(0x999));
}

/*
 * Every value of every field: put, get back, nothing else changed but
 * the complements of the word, and the complements hold.
 */
static void
test_round_trips(void **state)
{
	uint8_t img[IMG_MAX], was[IMG_MAX];
	uint32_t v, bad, max, x;
	size_t i, k;

	(void)state;
	for (i = 0; i < ft_ob_family_count(); i++) {
		const struct ft_ob_family *fam = ft_ob_family_at(i);
		const struct ft_ob_field *f;

		for (f = fam->fields; f->name != NULL; f++) {
			max = ft_ob_field_max(f);
			for (x = 0; x <= max; x = x < 64 ? x + 1 : x * 2 + 1) {
				factory(fam, img);
				memcpy(was, img, fam->size);
				assert_int_equal(ft_ob_put(fam, f, img,
				    fam->size, x), 0);
				assert_int_equal(ft_ob_get(f, img, fam->size,
				    &v), 0);
				assert_int_equal(v, x);
				assert_int_equal(ft_ob_check_complements(fam,
				    img, fam->size, &bad), 0);
				for (k = 0; k < fam->size; k++) {
					if (img[k] == was[k])
						continue;
					/* Only the field's word and its
					 * complement may change. */
					if (k / 4 != f->offset / 4 &&
					    !(fam->pairs ==
					    FT_OB_WORD_COMPLEMENT &&
					    k / 4 == f->offset / 4 + 1u) &&
					    !(fam->pairs ==
					    FT_OB_BYTE_COMPLEMENT &&
					    k / 4 == f->offset / 4))
						fail_msg("%s %s=%u changed "
						    "byte %zu", fam->name,
						    f->name, (unsigned)x, k);
				}
				if (max == 0xFFFFFFFFu || x == max)
					break;
			}
			if (max != 0xFFFFFFFFu)
				assert_int_equal(ft_ob_put(fam, f, img,
				    fam->size, max + 1), FT_E_INVALID);
			/* A field beyond a short image. */
			assert_int_equal(ft_ob_get(f, img, f->offset + 3u, &v),
			    FT_E_RANGE);
		}
	}
}

static void
test_complement_errors(void **state)
{
	const struct ft_ob_family *f0 = ft_ob_family_find("f0");
	const struct ft_ob_family *g0 = ft_ob_family_find("g0");
	const struct ft_ob_family *f4 = ft_ob_family_find("f4");
	uint8_t img[IMG_MAX];
	uint32_t bad = 0;

	(void)state;
	factory(f0, img);
	img[5] ^= 0x10;		/* nDATA0 */
	assert_int_equal(ft_ob_check_complements(f0, img, 16, &bad), 1);
	assert_int_equal(bad, 4);
	/* Both erased is the erased state, not an error. */
	factory(f0, img);
	img[4] = img[5] = 0xFF;
	assert_int_equal(ft_ob_check_complements(f0, img, 16, &bad), 0);
	factory(g0, img);
	img[0x1C] ^= 1;
	assert_int_equal(ft_ob_check_complements(g0, img, g0->size, &bad),
	    1);
	assert_int_equal(bad, 0x18);
	/* The G0 SECR word's complement lies past the 0x74 bytes. */
	factory(g0, img);
	ft_put_le32(img + 0x70, 0x00010000);
	assert_int_equal(ft_ob_check_complements(g0, img, g0->size, &bad),
	    0);
	/* F4 keeps no complements: any image passes. */
	memset(img, 0x5A, 16);
	assert_int_equal(ft_ob_check_complements(f4, img, 16, &bad), 0);
}

static void
test_meanings(void **state)
{
	const struct ft_ob_family *g0 = ft_ob_family_find("g0");
	const struct ft_ob_family *g4 = ft_ob_family_find("g4");
	const struct ft_ob_family *f1 = ft_ob_family_find("f1");
	const struct ft_ob_family *f4 = ft_ob_family_find("f4");
	char buf[160];

	(void)state;
	assert_non_null(strstr(ft_ob_meaning(g0, ft_ob_field_find(g0,
	    "nBOOT_SEL"), 1, buf, sizeof(buf)), "pin is ignored"));
	assert_non_null(strstr(ft_ob_meaning(g0, ft_ob_field_find(g0,
	    "nBOOT_SEL"), 0, buf, sizeof(buf)), "PA14-BOOT0 pin"));
	/* G4's bit has the opposite polarity. */
	assert_non_null(strstr(ft_ob_meaning(g4, ft_ob_field_find(g4,
	    "nSWBOOT0"), 1, buf, sizeof(buf)), "PB8-BOOT0 pin"));
	assert_non_null(strstr(ft_ob_meaning(g4, ft_ob_field_find(g4,
	    "nSWBOOT0"), 0, buf, sizeof(buf)), "pin is ignored"));
	assert_non_null(strstr(ft_ob_meaning(g0, ft_ob_field_find(g0, "RDP"),
	    0xCC, buf, sizeof(buf)), "level 2"));
	assert_non_null(strstr(ft_ob_meaning(g0, ft_ob_field_find(g0, "RDP"),
	    0x12, buf, sizeof(buf)), "level 1"));
	assert_int_equal(ft_ob_rdp_level(f1, 0xA5), 0);
	assert_int_equal(ft_ob_rdp_level(f1, 0xAA), 1);
	/* F1 has no level 2: 0xCC is level 1 there. */
	assert_int_equal(ft_ob_rdp_level(f1, 0xCC), 1);
	assert_string_equal(ft_ob_meaning(f4, ft_ob_field_find(f4, "nWRP"),
	    0xFF0 | 0x4, buf, sizeof(buf)), "protected: 0-1,3");
	assert_string_equal(ft_ob_meaning(f4, ft_ob_field_find(f4, "nWRP"),
	    0xFFF, buf, sizeof(buf)), "protected: none");
	assert_string_equal(ft_ob_meaning(g4, ft_ob_field_find(g4, "BOR_LEV"),
	    7, buf, sizeof(buf)), "reserved value");
}

static void
test_parse_values(void **state)
{
	const struct ft_ob_family *g0 = ft_ob_family_find("g0");
	const struct ft_ob_family *f1 = ft_ob_family_find("f1");
	struct ft_ctx *ctx = ft_ctx_new();
	uint32_t v;

	(void)state;
	assert_int_equal(ft_ob_parse_value(ctx, g0, ft_ob_field_find(g0,
	    "nBOOT_SEL"), "pin", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(ft_ob_parse_value(ctx, g0, ft_ob_field_find(g0,
	    "nBOOT_SEL"), "1", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ft_ob_parse_value(ctx, g0, ft_ob_field_find(g0,
	    "nBOOT_SEL"), "2", &v), FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "0 (pin), 1 (option)"));
	/* NRST_MODE 0 is reserved. */
	assert_int_equal(ft_ob_parse_value(ctx, g0, ft_ob_field_find(g0,
	    "NRST_MODE"), "0", &v), FT_E_INVALID);
	assert_int_equal(ft_ob_parse_value(ctx, g0, ft_ob_field_find(g0,
	    "RDP"), "1", &v), 0);
	assert_int_equal(v, 0xBB);
	assert_int_equal(ft_ob_parse_value(ctx, g0, ft_ob_field_find(g0,
	    "RDP"), "0x55", &v), 0);
	assert_int_equal(v, 0x55);
	assert_int_equal(ft_ob_parse_value(ctx, g0, ft_ob_field_find(g0,
	    "RDP"), "170", &v), FT_E_INVALID);
	assert_int_equal(ft_ob_parse_value(ctx, f1, ft_ob_field_find(f1,
	    "RDP"), "2", &v), FT_E_INVALID);
	assert_int_equal(ft_ob_parse_value(ctx, f1, ft_ob_field_find(f1,
	    "RDP"), "level0", &v), 0);
	assert_int_equal(v, 0xA5);
	assert_int_equal(ft_ob_parse_value(ctx, g0, ft_ob_field_find(g0,
	    "WRP1A_END"), "127", &v), 0);
	assert_int_equal(ft_ob_parse_value(ctx, g0, ft_ob_field_find(g0,
	    "WRP1A_END"), "128", &v), FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "0 to 127"));
	ft_ctx_free(ctx);
}

static void
test_assignment(void **state)
{
	char name[32];
	const char *value;

	(void)state;
	assert_int_equal(ft_ob_parse_assignment(NULL, "nBOOT_SEL=0", name,
	    sizeof(name), &value), 0);
	assert_string_equal(name, "nBOOT_SEL");
	assert_string_equal(value, "0");
	assert_int_equal(ft_ob_parse_assignment(NULL, "nBOOT_SEL", name,
	    sizeof(name), &value), FT_E_INVALID);
	assert_int_equal(ft_ob_parse_assignment(NULL, "=1", name,
	    sizeof(name), &value), FT_E_INVALID);
	assert_int_equal(ft_ob_parse_assignment(NULL, "X=", name,
	    sizeof(name), &value), FT_E_INVALID);
	assert_int_equal(ft_ob_parse_assignment(NULL,
	    "A_NAME_MUCH_LONGER_THAN_ANY_FIELD_HAS=1", name, sizeof(name),
	    &value), FT_E_INVALID);
}

static void
test_plan(void **state)
{
	const struct ft_ob_family *g0 = ft_ob_family_find("g0");
	struct ft_ctx *ctx = ft_ctx_new();
	uint8_t before[IMG_MAX], after[IMG_MAX];
	struct ft_ob_change two[] = {
		{ "nBOOT_SEL", "0" }, { "nrst_stop", "reset" },
	};
	struct ft_ob_change bad[] = {
		{ "nBOOT_SEL", "0" }, { "nBOOT_SEX", "0" },
	};
	struct ft_ob_change rdp2[] = { { "RDP", "2" } };
	struct ft_ob_change rdp0[] = { { "RDP", "0" } };
	struct ft_ob_change lock[] = { { "BOOT_LOCK", "0" } };
	struct ft_ob_change wrp[] = { { "WRP1A_END", "3" } };
	uint32_t v;

	(void)state;
	factory(g0, before);
	assert_int_equal(ft_ob_plan(ctx, g0, before, g0->size, two, 2, 0,
	    after), 0);
	assert_int_equal(ft_get_le32(after), 0xFEFFDEAA);
	assert_int_equal(ft_get_le32(after + 4), ~0xFEFFDEAAu);
	/* One bad change keeps the whole plan from happening. */
	assert_int_equal(ft_ob_plan(ctx, g0, before, g0->size, bad, 2, 0,
	    after), FT_E_INVALID);
	assert_memory_equal(before, after, g0->size);
	assert_non_null(strstr(ft_errdetail(ctx), "no option-byte field "
	    "nBOOT_SEX"));
	assert_non_null(strstr(ft_errdetail(ctx), "nBOOT_SEL"));
	assert_int_equal(ft_ob_plan(ctx, g0, before, g0->size, rdp2, 1, 0,
	    after), FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "--allow-rdp2"));
	assert_int_equal(ft_ob_plan(ctx, g0, before, g0->size, rdp2, 1,
	    FT_OB_ALLOW_RDP2, after), 0);
	assert_int_equal(ft_ob_get(ft_ob_field_find(g0, "RDP"), after,
	    g0->size, &v), 0);
	assert_int_equal(v, 0xCC);
	/* Level 1 to 0: only readout unprotect. */
	before[0] = 0xBB;
	before[4] = 0x44;
	assert_int_equal(ft_ob_plan(ctx, g0, before, g0->size, rdp0, 1, 0,
	    after), FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "-k"));
	assert_int_equal(ft_ob_plan(ctx, g0, before, g0->size, lock, 1, 0,
	    after), FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "never changed"));
	/* A field past what the interface reaches (DFU: 40 bytes). */
	assert_int_equal(ft_ob_plan(ctx, g0, before, 16, wrp, 1, 0, after),
	    FT_E_INVALID);
	assert_non_null(strstr(ft_errdetail(ctx), "outside the 16"));
	ft_ctx_free(ctx);
}

/* The BOOT0 recipes turn a factory G0 or G4 into one that obeys the pin. */
static void
test_boot0_recipes(void **state)
{
	static const char *const names[] = { "g0", "g4", "f0" };
	struct ft_ctx *ctx = ft_ctx_new();
	uint8_t before[IMG_MAX], after[IMG_MAX];
	struct ft_ob_change ch[4];
	char vals[4][12];
	size_t i, n;
	uint32_t v;

	(void)state;
	for (i = 0; i < 3; i++) {
		const struct ft_ob_family *fam = ft_ob_family_find(names[i]);
		const struct ft_ob_setting *s;
		const struct ft_ob_field *sel;

		assert_non_null(fam->boot0_pin);
		factory(fam, before);
		for (n = 0, s = fam->boot0_pin; s->name != NULL; s++, n++) {
			snprintf(vals[n], sizeof(vals[n]), "%u",
			    (unsigned)s->value);
			ch[n].name = s->name;
			ch[n].value = vals[n];
		}
		assert_int_equal(ft_ob_plan(ctx, fam, before, fam->size, ch, n,
		    0, after), 0);
		sel = ft_ob_field_find(fam, fam->boot0_pin[0].name);
		assert_int_equal(ft_ob_get(sel, after, fam->size, &v), 0);
		assert_int_equal(v, fam->boot0_pin[0].value);
	}
	/* G0 needs a change from the factory; F0 and G4 do not. */
	factory(ft_ob_family_find("g0"), before);
	assert_int_equal(ft_ob_get(ft_ob_field_find(ft_ob_family_find("g0"),
	    "nBOOT_SEL"), before, 0x74, &v), 0);
	assert_int_equal(v, 1);
	assert_null(ft_ob_family_find("f4")->boot0_pin);
	assert_null(ft_ob_family_find("f1")->boot0_pin);
	ft_ctx_free(ctx);
}

/*
 * Every product ID of a family is in the device table, whose option area
 * starts at the family's base and holds every field.
 */
static void
test_device_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ft_ob_family_count(); i++) {
		const struct ft_ob_family *fam = ft_ob_family_at(i);
		const struct ft_ob_field *f;
		const uint16_t *p;

		for (p = fam->pids; *p != 0; p++) {
			const struct ft_chip *c = ft_chip_by_pid(*p);

			if (c == NULL)
				fail_msg("%s: PID 0x%03x is not in the device "
				    "table", fam->name, *p);
			assert_int_equal(c->opt_start, fam->base);
			for (f = fam->fields; f->name != NULL; f++)
				if (c->opt_start + f->offset + 4u > c->opt_end)
					fail_msg("%s on 0x%03x: %s lies past "
					    "the option area", fam->name, *p,
					    f->name);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_factory_values),
		cmocka_unit_test(test_factory_words),
		cmocka_unit_test(test_table_invariants),
		cmocka_unit_test(test_round_trips),
		cmocka_unit_test(test_complement_errors),
		cmocka_unit_test(test_meanings),
		cmocka_unit_test(test_parse_values),
		cmocka_unit_test(test_assignment),
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_boot0_recipes),
		cmocka_unit_test(test_device_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
