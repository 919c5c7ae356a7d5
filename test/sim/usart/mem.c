/*
 * mem.c - the simulated chip's memory map: flash (a file mapped
 * MAP_SHARED, so the file is current after every write or erase), RAM,
 * system memory and option bytes.
 *
 * Invariants: flash behaves as NOR (erased = 0xFF, programming only
 * clears bits); write-protected units ignore writes and erases; RAM below
 * the chip's ram_start belongs to the ROM and is neither readable nor
 * writable through the protocol (AN3155 v2.2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim.h"

int
mem_unit(const struct sim_mem *mem, uint32_t index, uint32_t *start,
    uint32_t *size)
{
	uint32_t addr = mem->layout.base;
	unsigned i;

	for (i = 0; i < mem->layout.nruns; i++) {
		const struct ft_run *r = &mem->layout.runs[i];

		if (index < r->count) {
			*start = addr + index * r->size;
			*size = r->size;
			return 0;
		}
		index -= r->count;
		addr += r->count * r->size;
	}
	return -1;
}

/* Write-protect unit of a flash address. */
static uint32_t
wrp_index(const struct sim_mem *mem, uint32_t addr)
{
	uint32_t idx = 0;

	if (mem->model->wrp_unit != 0)
		return (addr - mem->flash_base) / mem->model->wrp_unit;
	(void)ft_layout_find(&mem->layout, addr, &idx, NULL, NULL);
	return idx;
}

static int
wrp_at(const struct sim_mem *mem, uint32_t addr)
{
	uint32_t i = wrp_index(mem, addr);

	return i < mem->nwrp && mem->wrp[i];
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
		memset(mem->flash + st.st_size, 0xFF,
		    mem->flash_size - (size_t)st.st_size);
	return 0;
}

/*
 * Fixed contents: system memory holds a recognisable pattern; option
 * bytes hold value/complement pairs with the RDP byte at level 0.
 */
static void
fill_info(struct sim_mem *mem)
{
	const struct ft_chip *c = mem->model->chip;
	uint32_t i, n;

	n = c->sysmem_end - c->sysmem_start;
	for (i = 0; i < n; i++)
		mem->sysmem[i] = (uint8_t)(0xA5 ^ (i * 13));
	n = c->opt_end - c->opt_start;
	for (i = 0; i < n; i++)
		mem->opt[i] = (i & 1) ? 0x00 : 0xFF;
	if (n >= 2) {
		mem->opt[0] = 0xAA;
		mem->opt[1] = 0x55;
	}
}

int
mem_open(struct sim_mem *mem, const struct sim_model *model,
    const char *flash_path, char *err, size_t errlen)
{
	const struct ft_chip *c = model->chip;

	memset(mem, 0, sizeof(*mem));
	mem->flash_fd = -1;
	mem->model = model;
	ft_chip_layout(c, &mem->layout);
	mem->nunits = ft_layout_units(&mem->layout);
	mem->flash_base = mem->layout.base;
	mem->flash_size = (uint32_t)ft_layout_size(&mem->layout);
	if (mem->nunits == 0 || mem->flash_size == 0) {
		snprintf(err, errlen, "chip 0x%03x has no flash layout",
		    c->pid);
		return -1;
	}
	mem->ram_start = c->ram_start;
	mem->ram_end = c->ram_end;
	mem->nwrp = model->wrp_unit ? mem->flash_size / model->wrp_unit :
	    mem->nunits;
	mem->ram = calloc(1, c->ram_end > RAM_BASE ? c->ram_end - RAM_BASE :
	    1);
	mem->sysmem = calloc(1, c->sysmem_end - c->sysmem_start + 1);
	mem->opt = calloc(1, c->opt_end - c->opt_start + 1);
	mem->wrp = calloc(1, mem->nwrp + 1);
	if (mem->ram == NULL || mem->sysmem == NULL || mem->opt == NULL ||
	    mem->wrp == NULL) {
		snprintf(err, errlen, "out of memory");
		mem_close(mem);
		return -1;
	}
	fill_info(mem);
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
	free(mem->opt);
	free(mem->wrp);
	mem->flash = NULL;
	mem->flash_fd = -1;
	mem->ram = mem->sysmem = mem->opt = mem->wrp = NULL;
}

/* [addr, addr+len) inside [start, end)? */
static int
inside(uint32_t addr, uint32_t len, uint32_t start, uint32_t end)
{
	return addr >= start && addr < end && len <= end - addr;
}

enum region
mem_readable(const struct sim_mem *mem, uint32_t addr, uint32_t len)
{
	const struct ft_chip *c = mem->model->chip;

	if (inside(addr, len, mem->flash_base, mem->flash_base +
	    mem->flash_size))
		return REG_FLASH;
	if (inside(addr, len, mem->ram_start, mem->ram_end))
		return REG_RAM;
	if (inside(addr, len, c->sysmem_start, c->sysmem_end))
		return REG_SYSMEM;
	if (c->opt_end > c->opt_start &&
	    inside(addr, len, c->opt_start, c->opt_end))
		return REG_OPT;
	return REG_NONE;
}

enum region
mem_writable(const struct sim_mem *mem, uint32_t addr, uint32_t len)
{
	enum region r = mem_readable(mem, addr, len);

	if (r == REG_SYSMEM)
		return REG_NONE;
	/* AN3155 3.6: option-byte writes start at the area's base. */
	if (r == REG_OPT && addr != mem->model->chip->opt_start)
		return REG_NONE;
	return r;
}

static uint8_t *
ptr(const struct sim_mem *mem, enum region r, uint32_t addr)
{
	const struct ft_chip *c = mem->model->chip;

	switch (r) {
	case REG_FLASH:
		return mem->flash + (addr - mem->flash_base);
	case REG_RAM:
		return mem->ram + (addr - RAM_BASE);
	case REG_SYSMEM:
		return mem->sysmem + (addr - c->sysmem_start);
	case REG_OPT:
		return mem->opt + (addr - c->opt_start);
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
	for (i = 0; i < len; i++)
		if (!wrp_at(mem, addr + i))
			p[i] &= buf[i];
}

uint32_t
mem_erase_unit(struct sim_mem *mem, uint32_t index)
{
	uint32_t start, size;

	if (mem_unit(mem, index, &start, &size) != 0)
		return 0;
	if (!wrp_at(mem, start))
		memset(mem->flash + (start - mem->flash_base), 0xFF, size);
	return size;
}

void
mem_erase_all(struct sim_mem *mem, int force)
{
	uint32_t i;

	if (force) {
		memset(mem->flash, 0xFF, mem->flash_size);
		return;
	}
	for (i = 0; i < mem->nunits; i++)
		(void)mem_erase_unit(mem, i);
}

void
mem_clear_ram(struct sim_mem *mem)
{
	const struct ft_chip *c = mem->model->chip;

	if (c->ram_end > RAM_BASE)
		memset(mem->ram, 0, c->ram_end - RAM_BASE);
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
