/*
 * mem.c - the simulated chip's memory map: flash (a file mapped
 * MAP_SHARED, so the file is current after every write or erase), RAM,
 * system memory, option bytes and a few words readable on their own (the
 * flash-size register, an option register outside the option bytes).
 *
 * Invariants: flash behaves as NOR (erasing sets the chip's erased value,
 * programming only moves bits away from it); units are found by the page
 * index the ROM gives them (facts.c banks), never by their position;
 * write-protected units ignore writes and erases; the secure area (WB)
 * cannot be read, written or erased; RAM below the chip's free range
 * belongs to the ROM and is neither readable nor writable through the
 * protocol (AN3155 v2.2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sim.h"

#define KIB 1024u

static const struct sim_unit *
unit_by_page(const struct sim_mem *mem, uint32_t page)
{
	uint32_t i;

	for (i = 0; i < mem->nunits; i++)
		if (mem->units[i].page == page)
			return &mem->units[i];
	return NULL;
}

static const struct sim_unit *
unit_by_addr(const struct sim_mem *mem, uint32_t addr)
{
	uint32_t i;

	for (i = 0; i < mem->nunits; i++)
		if (addr >= mem->units[i].start &&
		    addr - mem->units[i].start < mem->units[i].size)
			return &mem->units[i];
	return NULL;
}

int
mem_unit(const struct sim_mem *mem, uint32_t page, uint32_t *start,
    uint32_t *size)
{
	const struct sim_unit *u = unit_by_page(mem, page);

	if (u == NULL || u->start >= mem->secure_start)
		return -1;
	*start = u->start;
	*size = u->size;
	return 0;
}

int
mem_page_bank(const struct sim_mem *mem, uint32_t page)
{
	const struct sim_unit *u = unit_by_page(mem, page);

	if (u == NULL)
		return 0;
	return fact_nbanks(mem->banks) == 2 && u->start >= mem->banks[1].base ?
	    2 : 1;
}

/* Write-protect unit of a flash address: the page, or a fixed size. */
static uint32_t
wrp_index(const struct sim_mem *mem, uint32_t addr)
{
	const struct sim_unit *u;

	if (mem->model->wrp_unit != 0)
		return (addr - mem->flash_base) / mem->model->wrp_unit;
	u = unit_by_addr(mem, addr);
	return u != NULL ? u->page : UINT32_MAX;
}

static int
wrp_at(const struct sim_mem *mem, uint32_t addr)
{
	uint32_t i = wrp_index(mem, addr);

	return i < mem->nwrp && mem->wrp[i];
}

/* The units of banks, in address order (banks are in address order). */
static int
build_units(struct sim_mem *mem, const struct fact_bank *banks)
{
	uint32_t n = 0, i, start, size, page;
	unsigned b;

	for (b = 0; b < fact_nbanks(banks); b++)
		n += fact_bank_units(&banks[b]);
	free(mem->units);
	mem->units = calloc(n, sizeof(*mem->units));
	if (mem->units == NULL)
		return -1;
	memcpy(mem->banks, banks, sizeof(mem->banks));
	mem->nunits = 0;
	mem->npages = 0;
	for (b = 0; b < fact_nbanks(banks); b++) {
		uint64_t at = banks[b].base;

		for (i = 0; i < fact_bank_units(&banks[b]); i++) {
			if (fact_unit_at(banks, (uint32_t)at, &start, &size,
			    &page) != 0)
				return -1;
			mem->units[mem->nunits++] = (struct sim_unit){
				start, size, page };
			if (page + 1 > mem->npages)
				mem->npages = page + 1;
			at += size;
		}
	}
	return 0;
}

static uint32_t
word_get(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
word_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* The stand-alone word holding addr, made on first use when make. */
static struct sim_word *
word_at(struct sim_mem *mem, uint32_t addr, int make)
{
	uint32_t base = addr & ~3u;
	unsigned i;

	for (i = 0; i < mem->nwords; i++)
		if (mem->words[i].addr == base)
			return &mem->words[i];
	if (!make || mem->nwords == SIM_MAX_WORDS)
		return NULL;
	mem->words[mem->nwords].addr = base;
	memset(mem->words[mem->nwords].bytes, 0xFF, 4);
	return &mem->words[mem->nwords++];
}

/* [addr, addr+len) inside [start, end)? */
static int
inside(uint32_t addr, uint32_t len, uint32_t start, uint32_t end)
{
	return addr >= start && addr < end && len <= end - addr;
}

/*
 * Where the bytes at addr live outside flash and RAM: system memory,
 * option bytes or a stand-alone word (make: create the word).
 */
static uint8_t *
info_ptr(struct sim_mem *mem, uint32_t addr, int make)
{
	const struct chip_fact *f = mem->fact;
	struct sim_word *w;

	if (inside(addr, 1, f->sysmem.start, f->sysmem.end))
		return mem->sysmem + (addr - f->sysmem.start);
	if (inside(addr, 1, f->sysmem2.start, f->sysmem2.end))
		return mem->sysmem2 + (addr - f->sysmem2.start);
	if (inside(addr, 1, f->opt.start, f->opt.end))
		return mem->opt + (addr - f->opt.start);
	w = word_at(mem, addr, make);
	return w != NULL ? w->bytes + (addr & 3u) : NULL;
}

/* Read the option word; NULL-safe for a chip without an option. */
static uint32_t
option_word(struct sim_mem *mem)
{
	const struct fact_option *o = mem->fact->option;
	uint8_t *p;

	if (o == NULL || (p = info_ptr(mem, o->addr, 1)) == NULL)
		return 0;
	return word_get(p);
}

void
mem_apply_option(struct sim_mem *mem)
{
	const struct fact_option *o = mem->fact->option;
	const struct fact_bank *banks = mem->fact->bank;
	uint32_t field, end = mem->flash_base + mem->flash_size;

	mem->secure_start = end;
	if (o != NULL) {
		field = fact_opt_field(o, option_word(mem));
		if (o->kind == OPT_LAYOUT && field == o->alt_value)
			banks = o->alt;
		if (o->kind == OPT_SECURE_START &&
		    (uint64_t)field * o->unit < mem->flash_size)
			mem->secure_start = mem->flash_base + field * o->unit;
	}
	if (build_units(mem, banks) != 0)
		mem->nunits = 0;
}

static int
map_flash(struct sim_mem *mem, const char *path, char *err, size_t errlen)
{
	struct stat st;
	void *p;
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > mem->flash_size) {
		snprintf(err, errlen, "%s: %lld bytes, larger than the %u "
		    "bytes of flash of this chip", path,
		    (long long)st.st_size, mem->flash_size);
		close(fd);
		return -1;
	}
	if (ftruncate(fd, mem->flash_size) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	p = mmap(NULL, mem->flash_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    fd, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "mmap %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	mem->flash = p;
	mem->flash_fd = fd;
	/* A new or short file: the missing part is erased flash. */
	if ((uint64_t)st.st_size < mem->flash_size)
		memset(mem->flash + st.st_size, mem->erased,
		    mem->flash_size - (size_t)st.st_size);
	return 0;
}

/*
 * Fixed contents: system memory holds a recognisable pattern, with the
 * bootloader ID where AN2606 puts it; option bytes hold value/complement
 * pairs with the RDP byte at level 0, then the model's option field; the
 * flash-size word holds the part's size in KiB.
 */
static void
fill_info(struct sim_mem *mem, long opt_value)
{
	const struct chip_fact *f = mem->fact;
	const struct fact_option *o = f->option;
	uint32_t i, n, word, field, shift;
	uint8_t *p;

	n = f->sysmem.end - f->sysmem.start;
	for (i = 0; i < n; i++)
		mem->sysmem[i] = (uint8_t)(0xA5 ^ (i * 13));
	n = f->sysmem2.end - f->sysmem2.start;
	for (i = 0; i < n; i++)
		mem->sysmem2[i] = (uint8_t)(0x5A ^ (i * 7));
	n = f->opt.end - f->opt.start;
	for (i = 0; i < n; i++)
		mem->opt[i] = (i & 1) ? 0x00 : 0xFF;
	if (n >= 2) {
		mem->opt[0] = 0xAA;
		mem->opt[1] = 0x55;
	}
	/* A chip with an option-byte model starts as ST ships it. */
	if (mem->ob != NULL)
		ob_factory(mem->ob, mem->opt, n);
	if (f->blid_addr != 0 && (p = info_ptr(mem, f->blid_addr, 0)) != NULL)
		*p = f->bl_id;
	if (f->size_reg != 0 && (p = info_ptr(mem, f->size_reg, 1)) != NULL) {
		p[0] = (uint8_t)(mem->flash_size / KIB);
		p[1] = (uint8_t)(mem->flash_size / KIB >> 8);
	}
	if (o != NULL && (p = info_ptr(mem, o->addr, 1)) != NULL) {
		field = opt_value >= 0 ? (uint32_t)opt_value : o->factory;
		for (shift = 0; ((o->mask >> shift) & 1u) == 0; shift++)
			;
		word = (word_get(p) & ~o->mask) | ((field << shift) & o->mask);
		word_put(p, word);
		if (mem->ob != NULL && inside(o->addr, 4, f->opt.start,
		    f->opt.end))
			ob_fix_pairs(mem->ob, mem->opt, n,
			    o->addr - f->opt.start);
	}
}

int
mem_open(struct sim_mem *mem, const struct sim_model *model,
    const char *flash_path, long opt_value, char *err, size_t errlen)
{
	const struct chip_fact *f = model->fact;
	const struct fact_option *o = f->option;
	uint32_t alt_pages = 0;
	unsigned b;

	memset(mem, 0, sizeof(*mem));
	mem->flash_fd = -1;
	mem->model = model;
	mem->fact = f;
	mem->ob = f->opt.end > f->opt.start ? ob_model_for_pid(f->pid) : NULL;
	mem->flash_base = f->bank[0].base;
	mem->flash_size = f->flash_size;
	mem->erased = f->erased;
	mem->ram_start = f->ram.start;
	mem->ram_end = f->ram.end;
	mem->ram = calloc(1, f->ram.end > RAM_BASE ? f->ram.end - RAM_BASE :
	    1);
	mem->sysmem = calloc(1, f->sysmem.end - f->sysmem.start + 1);
	mem->sysmem2 = calloc(1, f->sysmem2.end - f->sysmem2.start + 1);
	mem->opt = calloc(1, f->opt.end - f->opt.start + 1);
	if (mem->ram == NULL || mem->sysmem == NULL || mem->sysmem2 == NULL ||
	    mem->opt == NULL) {
		snprintf(err, errlen, "out of memory");
		mem_close(mem);
		return -1;
	}
	if (o != NULL && opt_value >= 0 &&
	    (uint32_t)opt_value > fact_opt_field(o, o->mask)) {
		snprintf(err, errlen, "--option %s=%ld: the field holds 0..%u",
		    o->name, opt_value, fact_opt_field(o, o->mask));
		mem_close(mem);
		return -1;
	}
	fill_info(mem, opt_value);
	mem_apply_option(mem);
	if (mem->nunits == 0) {
		snprintf(err, errlen, "chip 0x%03x has no flash layout",
		    f->pid);
		mem_close(mem);
		return -1;
	}
	/* Write-protect flags for the highest page of either layout. */
	if (o != NULL && o->kind == OPT_LAYOUT)
		for (b = 0; b < fact_nbanks(o->alt); b++)
			if (o->alt[b].first_page + fact_bank_units(&o->alt[b]) >
			    alt_pages)
				alt_pages = o->alt[b].first_page +
				    fact_bank_units(&o->alt[b]);
	mem->nwrp = model->wrp_unit ? mem->flash_size / model->wrp_unit :
	    (mem->npages > alt_pages ? mem->npages : alt_pages);
	mem->wrp = calloc(1, mem->nwrp + 1);
	if (mem->wrp == NULL) {
		snprintf(err, errlen, "out of memory");
		mem_close(mem);
		return -1;
	}
	if (map_flash(mem, flash_path, err, errlen) != 0) {
		mem_close(mem);
		return -1;
	}
	return 0;
}

void
mem_close(struct sim_mem *mem)
{
	if (mem->flash != NULL)
		munmap(mem->flash, mem->flash_size);
	if (mem->flash_fd >= 0)
		close(mem->flash_fd);
	free(mem->ram);
	free(mem->sysmem);
	free(mem->sysmem2);
	free(mem->opt);
	free(mem->wrp);
	free(mem->units);
	free(mem->pending);
	mem->flash = NULL;
	mem->flash_fd = -1;
	mem->ram = mem->sysmem = mem->sysmem2 = mem->opt = mem->wrp = NULL;
	mem->units = NULL;
	mem->pending = NULL;
	mem->npending = 0;
}

enum region
mem_readable(const struct sim_mem *mem, uint32_t addr, uint32_t len)
{
	const struct chip_fact *f = mem->fact;
	unsigned i;

	if (inside(addr, len, mem->flash_base, mem->secure_start))
		return REG_FLASH;
	if (inside(addr, len, mem->ram_start, mem->ram_end))
		return REG_RAM;
	if (inside(addr, len, f->sysmem.start, f->sysmem.end) ||
	    inside(addr, len, f->sysmem2.start, f->sysmem2.end))
		return REG_SYSMEM;
	if (f->opt.end > f->opt.start &&
	    inside(addr, len, f->opt.start, f->opt.end))
		return REG_OPT;
	for (i = 0; i < mem->nwords; i++)
		if (inside(addr, len, mem->words[i].addr,
		    mem->words[i].addr + 4))
			return REG_WORD;
	return REG_NONE;
}

enum region
mem_writable(const struct sim_mem *mem, uint32_t addr, uint32_t len)
{
	enum region r = mem_readable(mem, addr, len);

	if (r == REG_SYSMEM || r == REG_WORD)
		return REG_NONE;
	/* AN3155 3.6: option-byte writes start at the area's base. */
	if (r == REG_OPT && addr != mem->fact->opt.start)
		return REG_NONE;
	return r;
}

static uint8_t *
ptr(const struct sim_mem *mem, enum region r, uint32_t addr)
{
	switch (r) {
	case REG_FLASH:
		return mem->flash + (addr - mem->flash_base);
	case REG_RAM:
		return mem->ram + (addr - RAM_BASE);
	case REG_SYSMEM:
	case REG_OPT:
	case REG_WORD:
		/* Finds, never makes: the cast only satisfies info_ptr. */
		return info_ptr((struct sim_mem *)mem, addr, 0);
	case REG_NONE:
		break;
	}
	return NULL;
}

void
mem_read(const struct sim_mem *mem, uint32_t addr, uint8_t *buf,
    uint32_t len)
{
	uint8_t *p = ptr(mem, mem_readable(mem, addr, len), addr);

	if (p != NULL)
		memcpy(buf, p, len);
}

void
mem_write(struct sim_mem *mem, uint32_t addr, const uint8_t *buf,
    uint32_t len)
{
	enum region r = mem_writable(mem, addr, len);
	uint8_t *p = ptr(mem, r, addr);
	uint32_t i;

	if (p == NULL)
		return;
	if (r != REG_FLASH) {
		memcpy(p, buf, len);
		return;
	}
	/* Programming moves bits away from the erased state only. */
	for (i = 0; i < len; i++)
		if (!wrp_at(mem, addr + i))
			p[i] = mem->erased ? (uint8_t)(p[i] & buf[i]) :
			    (uint8_t)(p[i] | buf[i]);
}

uint32_t
mem_erase_unit(struct sim_mem *mem, uint32_t page)
{
	uint32_t start, size;

	if (mem_unit(mem, page, &start, &size) != 0)
		return 0;
	if (!wrp_at(mem, start))
		memset(mem->flash + (start - mem->flash_base), mem->erased,
		    size);
	return size;
}

void
mem_erase_all(struct sim_mem *mem, int force)
{
	uint32_t i;

	if (force) {
		memset(mem->flash, mem->erased,
		    mem->secure_start - mem->flash_base);
		return;
	}
	for (i = 0; i < mem->nunits; i++)
		(void)mem_erase_unit(mem, mem->units[i].page);
}

void
mem_clear_ram(struct sim_mem *mem)
{
	if (mem->ram_end > RAM_BASE)
		memset(mem->ram, 0, mem->ram_end - RAM_BASE);
}

int
mem_set_wrp_list(struct sim_mem *mem, const char *list, char *err,
    size_t errlen)
{
	const char *p = list;

	while (*p != '\0') {
		char *end;
		unsigned long v = strtoul(p, &end, 0);

		if (end == p || v >= mem->nwrp) {
			snprintf(err, errlen, "--write-protect '%s': units "
			    "are 0..%u", list, mem->nwrp - 1);
			return -1;
		}
		mem->wrp[v] = 1;
		p = end;
		if (*p == ',')
			p++;
		else if (*p != '\0') {
			snprintf(err, errlen, "--write-protect '%s': expected "
			    "a comma-separated list", list);
			return -1;
		}
	}
	return 0;
}

int
mem_pending_add(struct sim_mem *mem, uint32_t page, uint64_t done_ns)
{
	struct sim_pending *p = realloc(mem->pending,
	    (mem->npending + 1) * sizeof(*p));

	if (p == NULL)
		return -1;
	mem->pending = p;
	p[mem->npending++] = (struct sim_pending){ page, done_ns };
	return 0;
}

/*
 * An erase finishes when its time is up: whatever was programmed into
 * the page meanwhile is erased with it.
 */
void
mem_pending_settle(struct sim_mem *mem)
{
	uint64_t now = now_ns();
	size_t i = 0;

	while (i < mem->npending) {
		if (mem->pending[i].done_ns <= now) {
			(void)mem_erase_unit(mem, mem->pending[i].page);
			mem->pending[i] = mem->pending[--mem->npending];
		} else {
			i++;
		}
	}
}

/* A flash read stalls while the flash is busy erasing (RM0444). */
void
mem_pending_wait(struct sim_mem *mem)
{
	uint64_t last = 0, now;
	size_t i;

	for (i = 0; i < mem->npending; i++)
		if (mem->pending[i].done_ns > last)
			last = mem->pending[i].done_ns;
	now = now_ns();
	if (last > now) {
		struct timespec ts = {
			(time_t)((last - now) / NS_PER_S),
			(long)((last - now) % NS_PER_S),
		};

		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			;
	}
	mem_pending_settle(mem);
}
