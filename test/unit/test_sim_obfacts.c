/*
 * test_sim_obfacts.c - the library's option-byte tables (lib/optbytes.c)
 * against the simulators' own (test/sim/ob/obfacts.c), transcribed from
 * the same reference manuals apart from lib/.
 *
 * Both must name the same families, product IDs, bases and complement
 * layouts; every field of one must be a bit field of the other at the
 * same word and mask with the same factory value; the factory images
 * must agree byte for byte; the RDP bytes must agree; and what the
 * library's BOOT0 recipe writes must make the simulated chip boot its
 * ROM from the pin, where the factory setting of a G0 ignores the pin.
 * A difference fails with the family and the field.
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
#include "obfacts.h"

static enum ob_pairing
pairing_of(enum ft_ob_pairs p)
{
	switch (p) {
	case FT_OB_BYTE_COMPLEMENT:
		return OB_PAIR_BYTES;
	case FT_OB_WORD_COMPLEMENT:
		return OB_PAIR_WORDS;
	case FT_OB_NO_COMPLEMENT:
		break;
	}
	return OB_PAIR_NONE;
}

static int
pid_listed(const uint16_t *pids, uint16_t pid)
{
	for (; *pids != 0; pids++)
		if (*pids == pid)
			return 1;
	return 0;
}

static void
test_families(void **state)
{
	size_t i;
	const uint16_t *p;

	(void)state;
	assert_int_equal(ft_ob_family_count(), ob_model_count());
	for (i = 0; i < ft_ob_family_count(); i++) {
		const struct ft_ob_family *f = ft_ob_family_at(i);
		const struct ob_model *m = ob_model_named(f->name);

		if (m == NULL)
			fail_msg("family %s: no simulator model", f->name);
		assert_int_equal(f->base, m->base);
		assert_int_equal(pairing_of(f->pairs), m->pairing);
		assert_int_equal(f->size, m->described);
		for (p = f->pids; *p != 0; p++)
			if (!pid_listed(m->pids, *p))
				fail_msg("%s: PID 0x%03x only in the library",
				    f->name, *p);
		for (p = m->pids; *p != 0; p++)
			if (!pid_listed(f->pids, *p))
				fail_msg("%s: PID 0x%03x only in the "
				    "simulator", f->name, *p);
	}
}

static void
test_fields(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ft_ob_family_count(); i++) {
		const struct ft_ob_family *fam = ft_ob_family_at(i);
		const struct ob_model *m = ob_model_named(fam->name);
		const struct ft_ob_field *f;
		const struct ob_bits *b;

		for (f = fam->fields; f->name != NULL; f++) {
			uint32_t mask = (uint32_t)(((1ull << f->width) - 1) <<
			    f->shift);

			b = ob_bits_named(m, f->name);
			if (b == NULL)
				fail_msg("%s %s: not in the simulator",
				    fam->name, f->name);
			if (b->at != f->offset || b->mask != mask ||
			    b->factory != f->factory)
				fail_msg("%s %s: library word 0x%02x mask "
				    "0x%08x factory 0x%x, simulator 0x%02x "
				    "0x%08x 0x%x", fam->name, f->name,
				    f->offset, (unsigned)mask,
				    (unsigned)f->factory, b->at,
				    (unsigned)b->mask, (unsigned)b->factory);
		}
		for (b = m->bits; b->name != NULL; b++)
			if (ft_ob_field_find(fam, b->name) == NULL)
				fail_msg("%s %s: only in the simulator",
				    fam->name, b->name);
	}
}

static void
test_factory_images(void **state)
{
	uint8_t a[FT_OB_MAX_BYTES], b[FT_OB_MAX_BYTES];
	size_t i, k;

	(void)state;
	for (i = 0; i < ft_ob_family_count(); i++) {
		const struct ft_ob_family *fam = ft_ob_family_at(i);
		const struct ob_model *m = ob_model_named(fam->name);

		ft_ob_factory_image(fam, a, fam->size);
		ob_factory(m, b, fam->size);
		for (k = 0; k < fam->size; k++)
			if (a[k] != b[k])
				fail_msg("%s factory byte 0x%02zx: library "
				    "0x%02x, simulator 0x%02x", fam->name, k,
				    a[k], b[k]);
		assert_true(ob_pairs_ok(m, b, fam->size));
		assert_int_equal(ob_rdp_level(m, b, fam->size), 0);
		assert_int_equal(fam->rdp_level0, m->rdp_l0);
		assert_int_equal(fam->rdp_level1, m->rdp_l1);
		assert_int_equal(fam->rdp_level2 != 0, m->rdp_l2 != m->rdp_l0);
		if (fam->rdp_level2 != 0)
			assert_int_equal(fam->rdp_level2, m->rdp_l2);
	}
}

/* A field changed by the library reads back the same in the simulator. */
static void
test_library_writes(void **state)
{
	uint8_t img[FT_OB_MAX_BYTES];
	size_t i;

	(void)state;
	for (i = 0; i < ft_ob_family_count(); i++) {
		const struct ft_ob_family *fam = ft_ob_family_at(i);
		const struct ob_model *m = ob_model_named(fam->name);
		const struct ft_ob_field *f;

		for (f = fam->fields; f->name != NULL; f++) {
			uint32_t v = f->factory ^ 1u;

			ft_ob_factory_image(fam, img, fam->size);
			assert_int_equal(ft_ob_put(fam, f, img, fam->size, v),
			    0);
			assert_int_equal(ob_read(m, ob_bits_named(m, f->name),
			    img, fam->size), v);
			if (!ob_pairs_ok(m, img, fam->size))
				fail_msg("%s %s: the simulator finds the "
				    "library's complements wrong", fam->name,
				    f->name);
		}
	}
}

/*
 * The story of issue 15: a programmed G0 ignores BOOT0 until the
 * library's recipe is written; a G4 and an F0 follow the pin from the
 * factory; after the recipe every family with one boots the ROM with
 * BOOT0 high and the application with BOOT0 low.
 */
static void
test_boot0_story(void **state)
{
	uint8_t img[FT_OB_MAX_BYTES], after[FT_OB_MAX_BYTES];
	struct ft_ctx *ctx = ft_ctx_new();
	struct ft_ob_change ch[4];
	char vals[4][12];
	size_t i, n;

	(void)state;
	for (i = 0; i < ft_ob_family_count(); i++) {
		const struct ft_ob_family *fam = ft_ob_family_at(i);
		const struct ob_model *m = ob_model_named(fam->name);
		const struct ft_ob_setting *s;
		int g0 = strcmp(fam->name, "g0") == 0;

		ft_ob_factory_image(fam, img, fam->size);
		/* A blank chip boots its ROM where there is an empty check. */
		if (m->boot.empty_check)
			assert_int_equal(ob_boot(m, img, fam->size, 0, 1),
			    OB_BOOT_ROM);
		assert_int_equal(ob_boot(m, img, fam->size, 1, 0),
		    g0 ? OB_BOOT_FLASH : OB_BOOT_ROM);
		assert_int_equal(ob_boot(m, img, fam->size, 0, 0),
		    OB_BOOT_FLASH);
		if (fam->boot0_pin == NULL)
			continue;
		for (n = 0, s = fam->boot0_pin; s->name != NULL; s++, n++) {
			snprintf(vals[n], sizeof(vals[n]), "%u",
			    (unsigned)s->value);
			ch[n].name = s->name;
			ch[n].value = vals[n];
		}
		/* From the other source, the recipe brings the pin back. */
		ob_write(m, ob_bits_named(m, m->boot.src_bit), img, fam->size,
		    !m->boot.src_pin_when);
		assert_int_equal(ob_boot(m, img, fam->size, 1, 0),
		    OB_BOOT_FLASH);
		assert_int_equal(ft_ob_plan(ctx, fam, img, fam->size, ch, n, 0,
		    after), 0);
		assert_int_equal(ob_boot(m, after, fam->size, 1, 0),
		    OB_BOOT_ROM);
		assert_int_equal(ob_boot(m, after, fam->size, 0, 0),
		    OB_BOOT_FLASH);
	}
	ft_ctx_free(ctx);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_families),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_factory_images),
		cmocka_unit_test(test_library_writes),
		cmocka_unit_test(test_boot0_story),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
