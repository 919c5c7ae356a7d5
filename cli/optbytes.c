/*
 * optbytes.c - the option-byte verbs: --option-bytes prints the option
 * bytes of the chip field by field; --set NAME=VALUE and --boot0-pin
 * change them (a read-modify-write of the whole block, which the chip
 * loads by resetting), show what the change does, and check it by
 * reading the block back.  Also their options, their checks before the
 * device is opened, and their part of the JSON document.
 *
 * Nothing is written unless every change passed ft_ob_plan(): unknown
 * fields, bad values, RDP level 2 without --allow-rdp2 and RDP 1 -> 0
 * are refused with the block untouched.  What can be checked without
 * the chip (the NAME=VALUE form, names no family has, RDP level 2, a
 * --family that exists, and with --family every value) is checked
 * before the device is opened.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "json.h"

/* --family: the families, for its message. */
static void
family_names(char *buf, size_t size)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < ft_ob_family_count() && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s",
		    i ? ", " : "", ft_ob_family_at(i)->name);
}

int
opt_optbytes(struct options *o, struct report *rep, int c, const char *arg)
{
	char names[96];

	switch (c) {
	case OPT_OPTION_BYTES:
		break;
	case OPT_SET:
		if (o->ob_nset == OB_MAX_SET)
			fail_usage(rep, "--set: at most %d changes at once",
			    OB_MAX_SET);
		o->ob_set[o->ob_nset++] = arg;
		break;
	case OPT_BOOT0_PIN:
		o->ob_boot0_pin = 1;
		break;
	case OPT_FAMILY:
		if (ft_ob_family_find(arg) == NULL) {
			family_names(names, sizeof(names));
			fail_usage(rep, "--family: no option-byte table '%s'; "
			    "the tables are %s", arg, names);
		}
		o->ob_family = arg;
		return 1;
	case OPT_ALLOW_RDP2:
		o->ob_allow_rdp2 = 1;
		return 1;
	default:
		return 0;
	}
	if (o->action != ACT_IDENTIFY && o->action != ACT_OPTION_BYTES)
		fail_usage(rep, "choose one of -r, -w, -o, -C, -u, -j, -k, "
		    "--write-protect, --option-bytes (--set, --boot0-pin), "
		    "--list");
	o->action = ACT_OPTION_BYTES;
	return 1;
}

/* Does --set's value ask for RDP level 2 in any family's words? */
static int
asks_rdp2(const char *name, const char *value)
{
	return strcasecmp(name, "RDP") == 0 &&
	    (strcmp(value, "2") == 0 || strcasecmp(value, "level2") == 0 ||
	    strcasecmp(value, "0xcc") == 0);
}

/* One --set NAME=VALUE, as far as it can be checked without the chip. */
static int
check_set(const struct options *o, struct ft_ctx *ctx, struct report *rep,
    const char *text, int *rdp)
{
	const struct ft_ob_family *fam = o->ob_family != NULL ?
	    ft_ob_family_find(o->ob_family) : NULL;
	const struct ft_ob_field *f;
	char name[OB_NAME_MAX];
	const char *value;
	uint32_t v;

	if (ft_ob_parse_assignment(ctx, text, name, sizeof(name), &value) < 0)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--set: %s",
		    ft_errdetail(ctx));
	if (!ft_ob_field_known(name))
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--set: no family "
		    "has an option-byte field %s (--option-bytes lists the "
		    "chip's fields)", name);
	if (strcasecmp(name, "RDP") == 0)
		*rdp = 1;
	if (asks_rdp2(name, value) && !o->ob_allow_rdp2)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--set %s: RDP level "
		    "2 is permanent (no bootloader, no debug, never undone); "
		    "give --allow-rdp2 as well to set it", text);
	if (fam == NULL)
		return EXIT_OK;
	f = ft_ob_field_find(fam, name);
	if (f == NULL) {
		struct ft_ob_change ch = { name, value };
		uint8_t img[FT_OB_MAX_BYTES];

		/* The plan says which fields the family has. */
		ft_ob_factory_image(fam, img, fam->size);
		(void)ft_ob_plan(ctx, fam, img, fam->size, &ch, 1, 0, img);
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--set: %s",
		    ft_errdetail(ctx));
	}
	if (ft_ob_parse_value(ctx, fam, f, value, &v) < 0)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--set: %s",
		    ft_errdetail(ctx));
	return EXIT_OK;
}

int
check_option_bytes(const struct options *o, struct ft_ctx *ctx,
    struct report *rep)
{
	size_t i;
	int code, rdp = 0;

	if (o->action != ACT_OPTION_BYTES) {
		if (o->ob_family != NULL || o->ob_allow_rdp2)
			return fail(rep, CLI_E_USAGE, EXIT_USAGE, "%s goes "
			    "with --option-bytes, --set or --boot0-pin",
			    o->ob_family != NULL ? "--family" :
			    "--allow-rdp2");
		return EXIT_OK;
	}
	for (i = 0; i < o->ob_nset; i++)
		if ((code = check_set(o, ctx, rep, o->ob_set[i], &rdp)) !=
		    EXIT_OK)
			return code;
	if (o->ob_allow_rdp2 && !rdp)
		return fail(rep, CLI_E_USAGE, EXIT_USAGE, "--allow-rdp2 goes "
		    "with --set RDP=2");
	return EXIT_OK;
}

/* The family's field that says where BOOT0 comes from, or NULL. */
static const struct ft_ob_field *
boot_source(const struct ft_ob_family *fam)
{
	return fam->boot0_pin != NULL ?
	    ft_ob_field_find(fam, fam->boot0_pin[0].name) : NULL;
}

/*
 * Does the BOOT0 pin choose the boot: 1 yes, 0 no (the option bit does),
 * -1 the family has no such setting (the pin always does).
 */
static int
pin_decides(const struct ft_ob_image *img)
{
	const struct ft_ob_field *f = boot_source(img->fam);
	uint32_t v;

	if (f == NULL || ft_ob_get(f, img->data, img->len, &v) != 0)
		return -1;
	return v == img->fam->boot0_pin[0].value;
}

/* One line about the boot, after the fields. */
static void
print_boot(FILE *f, const struct ft_ob_image *img)
{
	const struct ft_ob_field *src = boot_source(img->fam);
	const struct ft_ob_field *nb1 = ft_ob_field_find(img->fam, "nBOOT1");
	uint32_t v = 1;

	switch (pin_decides(img)) {
	case 0:
		fprintf(f, "Boot:  the BOOT0 pin is ignored (%s): the chip "
		    "boots main flash, or its bootloader only while the flash "
		    "is empty; 'flashtool --boot0-pin' makes the pin work "
		    "again\n", src->name);
		return;
	case 1:
		fprintf(f, "Boot:  the BOOT0 pin decides (%s)", src->name);
		break;
	default:
		fprintf(f, "Boot:  the BOOT0 pin decides");
		break;
	}
	if (nb1 != NULL && ft_ob_get(nb1, img->data, img->len, &v) == 0 &&
	    v == 0)
		fprintf(f, "; BOOT0 high boots SRAM, not the bootloader "
		    "(nBOOT1 = 0)");
	fputc('\n', f);
}

static void
print_field(FILE *f, const struct ft_ob_image *img,
    const struct ft_ob_field *fd)
{
	char meaning[160];
	uint32_t v;

	if (ft_ob_get(fd, img->data, img->len, &v) != 0)
		return;
	fprintf(f, "  %-17s ", fd->name);
	if (fd->width >= 8)
		fprintf(f, "0x%-4x", (unsigned)v);
	else
		fprintf(f, "%-6u", (unsigned)v);
	fprintf(f, "%s", ft_ob_meaning(img->fam, fd, v, meaning,
	    sizeof(meaning)));
	if (v != fd->factory)
		fprintf(f, " [factory %u]", (unsigned)fd->factory);
	if (fd->parts != NULL)
		fprintf(f, " (%s only)", fd->parts);
	fputc('\n', f);
}

/* The whole block, field by field, on stdout. */
static void
print_block(FILE *f, const struct ft_ob_image *img)
{
	const struct ft_ob_field *fd;
	uint32_t bad_at = 0;
	int bad;

	fprintf(f, "Option bytes: %s table, %u bytes at 0x%08x (%s)\n",
	    img->fam->title, (unsigned)img->len, (unsigned)img->addr,
	    img->fam->source);
	for (fd = img->fam->fields; fd->name != NULL; fd++)
		print_field(f, img, fd);
	bad = ft_ob_check_complements(img->fam, img->data, img->len, &bad_at);
	if (bad != 0)
		fprintf(f, "Complements: %d pair%s do not hold, the first at "
		    "0x%08x: the chip loads such an option as protected or "
		    "erased\n", bad, bad == 1 ? "" : "s",
		    (unsigned)(img->addr + bad_at));
	print_boot(f, img);
}

/* --boot0-pin: the family's recipe as changes, after the --set ones. */
static size_t
add_recipe(const struct ft_ob_family *fam, struct ft_ob_change *ch,
    size_t n, char vals[][12])
{
	const struct ft_ob_setting *s;

	for (s = fam->boot0_pin; s != NULL && s->name != NULL; s++) {
		snprintf(vals[n], sizeof(vals[n]), "%u", (unsigned)s->value);
		ch[n].name = s->name;
		ch[n].value = vals[n];
		n++;
	}
	return n;
}

/* The changes asked for, as the plan takes them. */
static size_t
changes_of(const struct options *o, const struct ft_ob_family *fam,
    struct ft_ob_change *ch, char names[][OB_NAME_MAX],
    char vals[][12])
{
	size_t i, n = 0;
	const char *value;

	for (i = 0; i < o->ob_nset; i++) {
		if (ft_ob_parse_assignment(NULL, o->ob_set[i], names[n],
		    OB_NAME_MAX, &value) < 0)
			continue;
		ch[n].name = names[n];
		ch[n].value = value;
		n++;
	}
	if (o->ob_boot0_pin)
		n = add_recipe(fam, ch, n, vals);
	return n;
}

/* Before and after of every field the plan changed, and what it does. */
static void
say_changes(const struct report *rep, const struct ft_ob_image *before,
    const struct ft_ob_image *want)
{
	const struct ft_ob_family *fam = before->fam;
	const struct ft_ob_field *fd, *rdp = ft_ob_field_find(fam, "RDP");
	char meaning[160];
	uint32_t a, b, r;

	say(rep, "Changing the option bytes (%s, 0x%08x):", fam->title,
	    (unsigned)before->addr);
	for (fd = fam->fields; fd->name != NULL; fd++) {
		if (ft_ob_get(fd, before->data, before->len, &a) != 0 ||
		    ft_ob_get(fd, want->data, want->len, &b) != 0 || a == b)
			continue;
		say(rep, fd->width >= 8 ? "  %-17s 0x%x -> 0x%x: %s" :
		    "  %-17s %u -> %u: %s", fd->name, (unsigned)a,
		    (unsigned)b, ft_ob_meaning(fam, fd, b, meaning,
		    sizeof(meaning)));
	}
	if (ft_ob_get(rdp, want->data, want->len, &r) == 0 &&
	    ft_ob_rdp_level(fam, r) == 2)
		say(rep, "RDP level 2 destroys for good: the bootloader, the "
		    "debug port and every later change of the option bytes; "
		    "no tool can read, write or erase this chip again");
	else if (ft_ob_rdp_level(fam, r) == 1)
		say(rep, "RDP level 1: the bootloader will refuse to read or "
		    "write the flash (and these option bytes); only -k "
		    "(readout unprotect) lifts it, mass-erasing the flash");
	say(rep, "The chip resets to load them.");
}

/* Did the write check out?  The exit code and the message. */
static int
report_write(struct run *r, const struct ft_ob_image *after, int verified)
{
	const struct ft_devinfo *di = ft_dev_info(r->dev);

	if (!verified)
		return fail(r->rep, CLI_E_UNVERIFIED, EXIT_UNVERIFIED,
		    "option bytes written, not verified: %s",
		    ft_errdetail(r->ctx));
	say(r->rep, "Option bytes written and verified (read back after "
	    "the reset)");
	if (pin_decides(after) == 1 && di->transport == FT_TRANSPORT_USART)
		say(r->rep, "BOOT0 high now starts the bootloader at every "
		    "reset");
	return EXIT_OK;
}

static int
change_block(struct run *r, const struct options *o, struct result *res)
{
	const struct ft_ob_family *fam = res->ob_before.fam;
	struct ft_ob_change ch[OB_MAX_SET + 4];
	char names[OB_MAX_SET + 4][OB_NAME_MAX];
	char vals[OB_MAX_SET + 4][12];
	size_t n;
	int rc, verified;

	if (o->ob_boot0_pin && fam->boot0_pin == NULL && o->ob_nset == 0) {
		say(r->rep, "%s always takes BOOT0 from its pin: --boot0-pin "
		    "has nothing to change", fam->title);
		return EXIT_OK;
	}
	n = changes_of(o, fam, ch, names, vals);
	res->ob_want = res->ob_before;
	rc = ft_ob_plan(r->ctx, fam, res->ob_before.data, res->ob_before.len,
	    ch, n, o->ob_allow_rdp2 ? FT_OB_ALLOW_RDP2 : 0,
	    res->ob_want.data);
	if (rc < 0)
		return fail(r->rep, rc, EXIT_USAGE, "%s; nothing was written",
		    ft_errdetail(r->ctx));
	if (memcmp(res->ob_want.data, res->ob_before.data,
	    res->ob_before.len) == 0) {
		say(r->rep, "The option bytes already hold %s: nothing was "
		    "written", o->ob_boot0_pin && o->ob_nset == 0 ?
		    "the BOOT0-pin setting" : "these values");
		return EXIT_OK;
	}
	say_changes(r->rep, &res->ob_before, &res->ob_want);
	rc = ft_ob_write(r->dev, &res->ob_before, &res->ob_want,
	    &res->ob_after, &verified);
	if (rc < 0)
		return fail_lib(r->rep, r->ctx, rc, "writing the option bytes");
	res->ob_written = 1;
	res->ob_verified = verified;
	return report_write(r, &res->ob_after, verified);
}

int
act_option_bytes(struct run *r, const struct options *o, struct result *res)
{
	const struct ft_ob_family *fam = o->ob_family != NULL ?
	    ft_ob_family_find(o->ob_family) : NULL;
	int rc;

	rc = ft_ob_read(r->dev, fam, &res->ob_before);
	if (rc < 0) {
		fail_lib(r->rep, r->ctx, rc, NULL);
		if (rc == FT_E_PROTECTED)
			note(r->rep, "readout protection keeps the bootloader "
			    "from reading the option bytes; -k removes it and "
			    "mass-erases the flash");
		return exit_code_for(rc);
	}
	res->ob_read = 1;
	if (o->ob_nset == 0 && !o->ob_boot0_pin) {
		if (!r->rep->json)
			print_block(stdout, &res->ob_before);
		return EXIT_OK;
	}
	return change_block(r, o, res);
}

/* --- JSON ----------------------------------------------------------- */

/* "values": what a choice field takes, or null. */
static void
json_values(struct json *j, const struct ft_ob_field *fd)
{
	const struct ft_ob_value *v;

	json_key(j, "values");
	if (fd->kind != FT_OB_CHOICE) {
		json_null(j);
		return;
	}
	json_arr_begin(j);
	for (v = fd->values; v->name != NULL; v++) {
		json_obj_begin(j);
		json_ku64(j, "value", v->value);
		json_kstr(j, "name", v->name);
		json_obj_end(j);
	}
	json_arr_end(j);
}

static void
json_block(struct json *j, const struct ft_ob_image *img)
{
	const struct ft_ob_field *fd;
	char meaning[160], hex[2 * FT_OB_MAX_BYTES + 1];
	uint32_t v, bad_at = 0, i;
	int pin = pin_decides(img);

	json_obj_begin(j);
	json_kstr(j, "family", img->fam->name);
	json_kstr(j, "title", img->fam->title);
	json_kstr(j, "source", img->fam->source);
	json_ku64(j, "address", img->addr);
	json_ku64(j, "length", img->len);
	for (i = 0; i < img->len; i++)
		snprintf(hex + 2 * i, 3, "%02x", img->data[i]);
	hex[2 * img->len] = '\0';
	json_kstr(j, "hex", hex);
	json_kbool(j, "complements_ok", ft_ob_check_complements(img->fam,
	    img->data, img->len, &bad_at) == 0);
	json_key(j, "boot0_pin_decides");
	if (pin < 0)
		json_bool(j, 1);
	else
		json_bool(j, pin);
	json_key(j, "fields");
	json_arr_begin(j);
	for (fd = img->fam->fields; fd->name != NULL; fd++) {
		if (ft_ob_get(fd, img->data, img->len, &v) != 0)
			continue;
		json_obj_begin(j);
		json_kstr(j, "name", fd->name);
		json_ku64(j, "value", v);
		json_ku64(j, "factory", fd->factory);
		json_kstr(j, "meaning", ft_ob_meaning(img->fam, fd, v, meaning,
		    sizeof(meaning)));
		json_ku64(j, "offset", fd->offset);
		json_ku64(j, "shift", fd->shift);
		json_ku64(j, "width", fd->width);
		json_key(j, "parts");
		if (fd->parts != NULL)
			json_str(j, fd->parts);
		else
			json_null(j);
		json_kbool(j, "read_only", (fd->flags & FT_OB_READONLY) != 0);
		json_ku64(j, "max", ft_ob_field_max(fd));
		json_values(j, fd);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_obj_end(j);
}

void
json_option_bytes(struct json *j, const struct options *o,
    const struct result *res)
{
	size_t i;

	if (o->action != ACT_OPTION_BYTES)
		return;
	json_key(j, "option_bytes");
	if (res->ob_read)
		json_block(j, &res->ob_before);
	else
		json_null(j);
	json_key(j, "set");
	json_arr_begin(j);
	for (i = 0; i < o->ob_nset; i++)
		json_str(j, o->ob_set[i]);
	json_arr_end(j);
	json_kbool(j, "boot0_pin", o->ob_boot0_pin);
	json_kbool(j, "written", res->ob_written);
	json_kbool(j, "verified", res->ob_written && res->ob_verified);
	json_key(j, "option_bytes_after");
	if (res->ob_written && res->ob_after.len != 0)
		json_block(j, &res->ob_after);
	else
		json_null(j);
}
