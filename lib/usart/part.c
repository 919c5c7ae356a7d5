/*
 * usart/part.c - the part on the line beyond its product ID.  A table
 * row describes the largest part with its ID in the factory option
 * setting; before anything is erased, Read Memory asks the part itself
 * what the row cannot know: its flash size (the flash-size word), the
 * option bit that selects its flash layout (dual or single bank, DB1M),
 * where its secure area starts (STM32WB SFSA), and its bootloader
 * version (the ID byte).  From those come the layout the core plans with,
 * the Extended Erase page number of each unit, and how erases are split
 * into commands.
 *
 * Invariants:
 *  - dev->info.flash is this part's layout unit by unit (its size, in the
 *    layout its option word selects, below its secure area), built by
 *    walking ft_chip_rom_page(), which numbers the units as the ROM does.
 *  - Where the numbering depends on a word that could not be read, the
 *    row's layout stays for reading and writing and every erase is
 *    refused, naming the word and the chip, unless the user gave
 *    --layout.  A wrong guess would erase the wrong sectors.
 *  - The choice (ft_usart_part_choose) is pure: unit tests drive it with
 *    the words a part could answer.
 *
 * Sources: the words' addresses and meanings are the device table's,
 * each cited in lib/devices.c (AN2606 rev 70, the reference manuals,
 * STM32CubeProgrammer's Bootloader maps; audit findings A1-A3, D5, D9,
 * D10); the ROM quirks are AN2606's known limitations (Tables 108, 110,
 * 112).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "usart.h"

/* Attempts at reading one word: a bad line may hit any exchange. */
#define PART_READ_ATTEMPTS 3u

static void
note_add(char *note, size_t len, const char *fmt, ...) FT_PRINTF(3, 4);

static void
note_add(char *note, size_t len, const char *fmt, ...)
{
	size_t used = strlen(note);
	va_list ap;

	if (used + 2 >= len)
		return;
	if (used > 0) {
		memcpy(note + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(note + used, len - used, fmt, ap);
	va_end(ap);
}

/*
 * The layout of a part of size bytes in layout alt, cut at cap (0: no
 * cap) before the unit that holds it, unit by unit as the ROM numbers
 * them.  -1 when the units do not end exactly at size (a size word that
 * does not fit the row) or need more runs than a layout holds.
 */
static int
walk_layout(const struct ft_chip *c, const struct ft_opt_layout *alt,
    uint32_t size, uint32_t cap, struct ft_layout *out)
{
	uint64_t a = c->flash_base, end = (uint64_t)c->flash_base + size;
	uint32_t start, usize;

	*out = (struct ft_layout){ .base = c->flash_base };
	while (a < end) {
		struct ft_run *last = out->nruns > 0 ?
		    &out->runs[out->nruns - 1] : NULL;

		if (ft_chip_rom_page(c, alt, size, (uint32_t)a, NULL, &start,
		    &usize) != 0 || start != a || a + usize > end)
			return -1;
		if (cap != 0 && a + usize > cap)
			break;
		if (last != NULL && last->size == usize) {
			last->count++;
		} else {
			if (out->nruns == FT_MAX_RUNS)
				return -1;
			out->runs[out->nruns++] = (struct ft_run){ usize, 1 };
		}
		a += usize;
	}
	return out->nruns > 0 ? 0 : -1;
}

/* "DUALBANK" out of "DUALBANK = 0 (single bank)". */
static int
opt_name_len(const struct ft_chip *c)
{
	return (int)strcspn(c->opt_layouts[0].what, " ");
}

/*
 * Does any option layout match word on some part size, being one that
 * applies only to parts of one size?  Then the size must be known.
 */
static int
alt_needs_size(const struct ft_chip *c, uint32_t word)
{
	const struct ft_opt_layout *o;

	for (o = c->opt_layouts; o != NULL && o->opt_addr != 0; o++)
		if ((word & o->opt_mask) == o->opt_value && o->flash_size != 0)
			return 1;
	return 0;
}

static void
refuse(struct usart_part *p, const struct ft_chip *c, const char *fmt, ...)
    FT_PRINTF(3, 4);

static void
refuse(struct usart_part *p, const struct ft_chip *c, const char *fmt, ...)
{
	size_t used;
	va_list ap;

	if (p->refused[0] != '\0')
		return;
	ft_strlcpy(p->refused, c->name, sizeof(p->refused));
	used = strlen(p->refused);
	if (used + 2 < sizeof(p->refused)) {
		memcpy(p->refused + used, ": ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(p->refused + used, sizeof(p->refused) - used, fmt, ap);
	va_end(ap);
}

void
ft_usart_part_needs(const struct ft_chip *c, int user_layout,
    struct part_words *w)
{
	memset(w, 0, sizeof(*w));
	w->user_layout = user_layout;
	if (c == NULL)
		return;
	if (!user_layout) {
		/* The size picks bank 2's start where bank 2 is numbered
		 * apart, and which option layouts apply. */
		w->want_size = c->flash_size_reg != 0 && (c->bank2_page != 0 ||
		    c->opt_layouts != NULL ||
		    (c->quirks & FT_Q_BANK2_ERASE_ONE));
		w->want_opt = c->opt_layouts != NULL;
		w->want_sfsa = c->secure != NULL;
	}
	w->want_blid = (c->quirks & FT_Q_ERASE_EARLY_ACK) &&
	    c->bl_id_addr != 0;
}

/* The secure area from SFSA, and the layout cut below it. */
static void
choose_secure(const struct ft_chip *c, const struct part_words *w,
    struct usart_part *p, struct ft_layout *flash, char *note, size_t len)
{
	const struct ft_secure_area *s = c->secure;
	uint32_t shift, field;
	uint64_t start;

	if (!w->want_sfsa)
		return;
	if (!w->has_sfsa) {
		note_add(note, len, "SFSA (0x%08x) unreadable: the secure "
		    "area is not known", s->opt_addr);
		return;
	}
	for (shift = 0; shift < 32 && !((s->opt_mask >> shift) & 1u); shift++)
		;
	field = (w->sfsa & s->opt_mask) >> shift;
	start = (uint64_t)c->flash_base + (uint64_t)field * s->unit;
	if (start >= (uint64_t)flash->base + ft_layout_size(flash)) {
		note_add(note, len, "SFSA = 0x%02x: no secure area", field);
		return;
	}
	p->secure_start = (uint32_t)start;
	p->secure_field = field;
	note_add(note, len, "SFSA = 0x%02x: 0x%08x up is the secure area "
	    "(wireless stack and FUS), not the bootloader's", field,
	    p->secure_start);
	if (walk_layout(c, p->alt, p->flash_size, p->secure_start,
	    flash) != 0)
		/* Secure from the first unit: nothing is left to show. */
		*flash = (struct ft_layout){ .base = c->flash_base };
}

/*
 * How erases are split (ROM quirks), for flash of size bytes from base
 * (size_known 0: the row's largest size, not the part's).
 */
static void
choose_quirks(const struct ft_chip *c, const struct part_words *w,
    struct usart_part *p, uint32_t base, uint64_t size, int size_known,
    char *note, size_t len)
{
	if (c->quirks & FT_Q_BANK2_ERASE_ONE) {
		/* AN2606 Tables 110 and 112 (audit A3). */
		p->alone_from = size_known ? base + (uint32_t)(size / 2) :
		    base;
		note_add(note, len, "bank-2 pages erased one per command%s",
		    size_known ? "" : " (all pages: the size is unknown)");
	}
	if (w->want_blid) {
		/* AN2606 Table 108 (audit D10): V11.3 only, 0xB3. */
		p->early_ack = !w->has_blid ||
		    w->bl_id < FT_EARLY_ACK_FIXED_BL_ID;
		if (w->has_blid)
			note_add(note, len, "bootloader ID 0x%02x", w->bl_id);
		else
			note_add(note, len, "bootloader ID unreadable");
		if (p->early_ack)
			note_add(note, len, "one page per erase, %u ms after "
			    "each", FT_EARLY_ACK_ERASE_WAIT_MS);
	}
}

int
ft_usart_part_choose(const struct ft_chip *c, const struct part_words *w,
    struct usart_part *p, struct ft_layout *flash, char *note, size_t len)
{
	uint32_t size = c->flash_size;
	int size_known = 0;
	uint16_t bank2_page;

	memset(p, 0, sizeof(*p));
	p->alone_from = AN_ERASE_NONE_ALONE;
	note[0] = '\0';
	if (w->user_layout) {
		/* The user's layout as given, numbered flat. */
		note_add(note, len, "--layout");
		choose_quirks(c, w, p, flash->base, ft_layout_size(flash), 1,
		    note, len);
		return 0;
	}
	p->rom_pages = 1;
	if (w->want_size && w->has_size) {
		uint32_t kib = w->size_kib;

		if (kib > 0 && kib <= c->flash_size / 1024 &&
		    walk_layout(c, NULL, kib * 1024u, 0, flash) == 0) {
			size = kib * 1024u;
			size_known = 1;
			note_add(note, len, "flash-size word: %u KiB",
			    (unsigned)kib);
		} else {
			note_add(note, len, "flash-size word reads %u KiB, "
			    "which %s cannot have: ignored", (unsigned)kib,
			    c->name);
		}
	} else if (w->want_size) {
		note_add(note, len, "flash-size word (0x%08x) unreadable",
		    c->flash_size_reg);
	}
	if (w->want_opt && !w->has_opt) {
		refuse(p, c, "the option word at 0x%08x, whose %.*s bit "
		    "selects the flash layout, could not be read",
		    c->opt_layouts[0].opt_addr, opt_name_len(c),
		    c->opt_layouts[0].what);
	} else if (w->want_opt) {
		p->alt = ft_chip_opt_layout(c, size, w->opt);
		note_add(note, len, "option word 0x%08x = 0x%08x: %s",
		    c->opt_layouts[0].opt_addr, w->opt,
		    p->alt != NULL ? p->alt->what : "factory layout");
		if (!size_known && alt_needs_size(c, w->opt))
			refuse(p, c, "the flash-size word at 0x%08x, which "
			    "tells whether %.*s applies, could not be read",
			    c->flash_size_reg, opt_name_len(c),
			    c->opt_layouts[0].what);
	}
	bank2_page = p->alt != NULL ? p->alt->bank2_page : c->bank2_page;
	if (bank2_page != 0 && !size_known)
		refuse(p, c, "the flash-size word at 0x%08x, which says where "
		    "bank 2 (ROM pages from %u) starts, could not be read",
		    c->flash_size_reg, bank2_page);
	else if (bank2_page != 0)
		note_add(note, len, "bank 2 from 0x%08x is ROM page %u on",
		    c->flash_base + size / 2, bank2_page);
	p->flash_size = size;
	if (walk_layout(c, p->alt, size, 0, flash) != 0) {
		/* A table row that does not walk is a table bug. */
		ft_chip_layout(c, flash);
		refuse(p, c, "its layout (%s) does not add up to %u KiB",
		    p->alt != NULL ? p->alt->what : "factory",
		    (unsigned)(size / 1024));
	}
	choose_secure(c, w, p, flash, note, len);
	choose_quirks(c, w, p, c->flash_base, size, size_known, note, len);
	if (p->refused[0] != '\0')
		note_add(note, len, "erasing refused");
	return 0;
}

/* One word (len bytes) at addr, retried after a resync. */
static int
read_word(struct ft_dev *dev, const char *what, uint32_t addr, uint8_t *buf,
    uint32_t len, char *why, size_t why_len)
{
	unsigned attempt;
	int rc, r;

	for (attempt = 1;; attempt++) {
		rc = ft_usart_read(dev, addr, buf, len);
		if (rc == 0)
			return 0;
		ft_strlcpy(why, dev->ctx->detail, why_len);
		if (rc != FT_E_NACK && rc != FT_E_TIMEOUT &&
		    rc != FT_E_PROTOCOL && rc != FT_E_PROTECTED)
			return rc;
		ft_dbg(dev->ctx, "reading the %s: %s%s", what, why,
		    rc != FT_E_PROTECTED && attempt < PART_READ_ATTEMPTS ?
		    "; resyncing and trying again" : "");
		/* The link must be clean for what follows, failed or not. */
		r = ft_usart_resync(dev);
		if (r < 0 && r != FT_E_NACK && r != FT_E_TIMEOUT &&
		    r != FT_E_PROTOCOL)
			return r;
		if (rc == FT_E_PROTECTED || attempt >= PART_READ_ATTEMPTS)
			break;
	}
	ft_clear_detail(dev->ctx);
	return 1;
}

/*
 * Read what the choice needs.  A word that cannot be read is noted, not
 * fatal: the part may be protected and the user about to unprotect it.
 * Only a port that fails ends the open.
 */
static int
read_words(struct ft_dev *dev, struct part_words *w, char *why, size_t len)
{
	const struct ft_chip *c = dev->info.chip;
	uint8_t b[4];
	int rc;

	if (w->want_size) {
		rc = read_word(dev, "flash-size word", c->flash_size_reg, b, 2,
		    why, len);
		if (rc < 0)
			return rc;
		w->has_size = rc == 0;
		w->size_kib = (uint32_t)b[0] | (uint32_t)b[1] << 8;
	}
	if (w->want_opt) {
		rc = read_word(dev, "option word",
		    c->opt_layouts[0].opt_addr, b, 4, why, len);
		if (rc < 0)
			return rc;
		w->has_opt = rc == 0;
		w->opt = ft_get_le32(b);
	}
	if (w->want_sfsa) {
		rc = read_word(dev, "SFSA option word", c->secure->opt_addr,
		    b, 4, why, len);
		if (rc < 0)
			return rc;
		w->has_sfsa = rc == 0;
		w->sfsa = ft_get_le32(b);
	}
	if (w->want_blid) {
		rc = read_word(dev, "bootloader ID", c->bl_id_addr, b, 1, why,
		    len);
		if (rc < 0)
			return rc;
		w->has_blid = rc == 0;
		w->bl_id = b[0];
	}
	return 0;
}

int
ft_usart_part_probe(struct ft_dev *dev, const struct ft_open_opts *opts)
{
	const struct ft_chip *c = dev->info.chip;
	struct usart_part *p = &U(dev)->part;
	struct part_words w;
	char why[FT_DETAIL_MAX / 2] = "";
	int rc;

	*p = (struct usart_part){ .alone_from = AN_ERASE_NONE_ALONE };
	if (c == NULL)
		return 0;
	ft_usart_part_needs(c, opts->layout != NULL, &w);
	rc = read_words(dev, &w, why, sizeof(why));
	if (rc < 0)
		return rc;
	ft_usart_part_choose(c, &w, p, &dev->info.flash,
	    dev->info.flash_notes, sizeof(dev->info.flash_notes));
	if (p->refused[0] != '\0' && why[0] != '\0') {
		size_t used = strlen(p->refused);

		snprintf(p->refused + used, sizeof(p->refused) - used,
		    " (%s)", why);
	}
	if (dev->info.flash_notes[0] != '\0')
		ft_dbg(dev->ctx, "flash layout: %s", dev->info.flash_notes);
	if (p->refused[0] != '\0')
		ft_dbg(dev->ctx, "erasing will be refused: %s", p->refused);
	return 0;
}

int
ft_usart_part_erasable(struct ft_dev *dev, uint32_t addr)
{
	const struct usart_part *p = &U(dev)->part;

	if (p->refused[0] != '\0')
		return ft_fail_at(dev->ctx, FT_E_UNKNOWN_CHIP, addr,
		    "erase at 0x%08x: %s: erasing is refused, since the wrong "
		    "sectors could be erased; give the flash layout with "
		    "--layout", addr, p->refused);
	return 0;
}

int
ft_usart_rom_page(struct ft_dev *dev, const struct ft_erase_unit *unit,
    uint32_t *page)
{
	const struct usart_part *p = &U(dev)->part;
	const struct ft_chip *c = dev->info.chip;

	if (c == NULL || !p->rom_pages) {
		*page = unit->index;
		return 0;
	}
	if (ft_chip_rom_page(c, p->alt, p->flash_size, unit->addr, page,
	    NULL, NULL) != 0)
		return ft_fail_at(dev->ctx, FT_E_RANGE, unit->addr,
		    "erase at 0x%08x: outside the flash of %s", unit->addr,
		    c->name);
	return 0;
}

/*
 * Flash above SFSA belongs to CPU2 (RM0434; audit D9): the ROM NACKs
 * every access there, which alone would read as a bare NACK or as
 * readout protection.
 */
int
ft_usart_check_secure(struct ft_dev *dev, const char *what, uint32_t addr,
    uint32_t len)
{
	const struct usart_part *p = &U(dev)->part;
	const struct ft_chip *c = dev->info.chip;
	uint64_t end = (uint64_t)addr + len;
	uint64_t flash_end;

	if (p->secure_start == 0 || c == NULL)
		return 0;
	flash_end = (uint64_t)c->flash_base + p->flash_size;
	if (end <= p->secure_start || addr >= flash_end)
		return 0;
	if (addr < p->secure_start)
		addr = p->secure_start;
	return ft_fail_at(dev->ctx, FT_E_RANGE, addr, "%s at 0x%08x: "
	    "0x%08x-0x%08llx is the secure area of %s (SFSA = 0x%02x): it "
	    "holds the wireless stack and FUS, and the bootloader can "
	    "neither read, write nor erase it", what, addr, p->secure_start,
	    (unsigned long long)flash_end - 1, c->name, p->secure_field);
}
