/*
 * image/elf.c - ELF32 little-endian ARM executables.  Each PT_LOAD header
 * with file bytes contributes p_filesz bytes at its physical (load)
 * address: that is where the linker puts initialised data for the startup
 * code to copy, and where flash holds it.  The zero-filled p_memsz tail
 * (.bss) is RAM and is not part of the image.
 */
#include <stdlib.h>
#include <string.h>

#include "image.h"

/* ELF32 (System V gABI, ARM ELF supplement). */
#define ELF_EHDR_BYTES 52
#define ELF_PHDR_BYTES 32
#define ELFCLASS32 1
#define ELFCLASS64 2
#define ELFDATA2LSB 1
#define ELFDATA2MSB 2
#define EV_CURRENT 1
#define ET_REL 1
#define ET_EXEC 2
#define ET_DYN 3
#define EM_ARM 40
#define PT_LOAD 1
#define PN_XNUM 0xFFFF

static uint16_t
get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static int
elf_header(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len)
{
	unsigned type, machine;

	if (len < 4 || memcmp(buf, "\177ELF", 4) != 0)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: not an ELF file (no ELF magic)", name);
	if (len < 6)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: truncated ELF header (%zu bytes)", name, len);
	if (buf[4] == ELFCLASS64)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: 64-bit ELF is not supported (expected a 32-bit ARM "
		    "executable)", name);
	if (buf[4] != ELFCLASS32)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: bad ELF class %u", name, buf[4]);
	if (buf[5] == ELFDATA2MSB)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: big-endian ELF is not supported (expected a "
		    "little-endian ARM executable)", name);
	if (buf[5] != ELFDATA2LSB)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: bad ELF data encoding %u", name, buf[5]);
	if (len < ELF_EHDR_BYTES)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: truncated ELF header (%zu of %u bytes)", name, len,
		    ELF_EHDR_BYTES);
	if (buf[6] != EV_CURRENT || ft_get_le32(buf + 20) != EV_CURRENT)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: unknown ELF version", name);
	type = get_le16(buf + 16);
	machine = get_le16(buf + 18);
	if (type == ET_REL)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF relocatable object, not an executable (link it "
		    "first)", name);
	if (type != ET_EXEC)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF type %u is not an executable", name, type);
	if (machine != EM_ARM)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF machine %u is not ARM (%u)", name, machine,
		    EM_ARM);
	return 0;
}

/* One program header: its file bytes, if it loads any, to the builder. */
static int
load_segment(struct ft_ctx *ctx, const char *name, const uint8_t *ph,
    unsigned i, size_t len, struct ft_builder *b)
{
	uint32_t off = ft_get_le32(ph + 4);
	uint32_t paddr = ft_get_le32(ph + 12);
	uint32_t filesz = ft_get_le32(ph + 16);
	uint32_t memsz = ft_get_le32(ph + 20);

	if (ft_get_le32(ph) != PT_LOAD || filesz == 0)
		return 0;
	if (filesz > memsz)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF program header %u: file size %u exceeds "
		    "memory size %u", name, i, (unsigned)filesz,
		    (unsigned)memsz);
	if ((uint64_t)off + filesz > len)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF program header %u: %u bytes at offset %u "
		    "run past the end of the file (%zu bytes)", name,
		    i, (unsigned)filesz, (unsigned)off, len);
	if ((uint64_t)paddr + filesz > FT_ADDR_SPACE_END)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF program header %u: %u bytes at 0x%08X "
		    "run past the 4 GiB address space", name, i,
		    (unsigned)filesz, (unsigned)paddr);
	if (ft_build_add(b, -1, paddr, filesz, off, i) < 0)
		return ft_fail(ctx, FT_E_NOMEM, "%s: out of memory", name);
	return 0;
}

int
ft_read_elf(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, struct ft_image *img)
{
	struct ft_builder b = { 0 };
	struct ft_clash cl;
	uint32_t phoff;
	unsigned phentsize, phnum, i;
	int rc;

	if ((rc = elf_header(ctx, name, buf, len)) < 0)
		return rc;
	phoff = ft_get_le32(buf + 28);
	phentsize = get_le16(buf + 42);
	phnum = get_le16(buf + 44);
	if (phnum == 0)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF has no program headers", name);
	if (phnum == PN_XNUM)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF with 65535 or more program headers is not "
		    "supported", name);
	if (phentsize < ELF_PHDR_BYTES)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF program header size %u is too small (%u)", name,
		    phentsize, ELF_PHDR_BYTES);
	if ((uint64_t)phoff + (uint64_t)phnum * phentsize > len)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF program headers (%u at offset %u) run past the "
		    "end of the file (%zu bytes)", name, phnum,
		    (unsigned)phoff, len);
	for (i = 0; i < phnum && rc == 0; i++)
		rc = load_segment(ctx, name, buf + phoff + (size_t)i *
		    phentsize, i, len, &b);
	if (rc == 0 && b.n == 0)
		rc = ft_fail(ctx, FT_E_FORMAT,
		    "%s: ELF has no loadable segment with file data", name);
	if (rc == 0) {
		rc = ft_build_finish(&b, buf, img, &cl);
		if (rc == 1)
			rc = ft_fail(ctx, FT_E_FORMAT, "%s: ELF program "
			    "headers %u and %u overlap at 0x%08X", name,
			    cl.first, cl.second, (unsigned)cl.addr);
		else if (rc < 0)
			rc = ft_fail(ctx, rc, "%s: out of memory", name);
	}
	ft_build_free(&b);
	return rc;
}
