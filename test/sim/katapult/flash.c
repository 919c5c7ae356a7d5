/*
 * flash.c - the flash array and flash_write_block() as Katapult's ports
 * implement it.
 *
 * STM32 (src/stm32/flash.c): a block must be 64-byte aligned.  The first
 * block of a page: nothing is erased if the page looks blank; if the
 * block equals flash and the rest of the page looks blank it is a
 * retransmission and succeeds untouched (not counted); else the page is
 * erased.  Each page-first block counts one page for SEND_EOF.  Any other
 * block must look blank, or equal flash (retransmission), else "out of
 * order" (-2).  After programming the block is read back (-3 on a
 * mismatch).  "Looks blank" is check_erased(), which upstream checks only
 * count/4 bytes (pointer arithmetic on void *): 16 bytes of a block, a
 * quarter of a page.  That is reproduced, not fixed.
 *
 * ECC flash (G0: ecc_once): each double word is programmed once between
 * erases; programming it again, or over data, is refused (PROGERR) and
 * the error stays latched, since Katapult never clears FLASH_SR: every
 * program step and erase after it is refused (PGSERR) until a reset
 * (ks_flash_reset()).  Which double words were programmed is kept in
 * memory only: a flash file opened again counts as freshly erased where
 * it reads blank.
 *
 * RP2040 (src/rp2040/flash.c): blocks go into one 256-byte page buffer
 * (0xFF-filled); a block outside the buffered page flushes it first.  A
 * flush erases the 4 KiB sector only when the page is the sector's first,
 * then programs the whole page; SEND_EOF flushes the last one.  No
 * read-back, no retransmission logic; REQUEST_BLOCK reads the flash, not
 * the buffer.
 *
 * Invariants: the mapping is MAP_SHARED, so a test sees every program
 * step in the file at once; nothing outside [flash_base, +size) is ever
 * touched (callers check ks_flash_in first).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ksim.h"

/* Klipper src/generic/armcm_reset.c and Katapult armcm_canboot.c. */
#define CANBOOT_SIGNATURE 0x21746f6f426e6143ull	/* "CanBoot!" */
/* Where the synthetic Katapult keeps its signature and reset handler. */
#define SYN_SIG_OFFSET 0x100u
#define SYN_HANDLER_OFFSET (SYN_SIG_OFFSET + 8u)
#define SYN_CODE_SEED 0x4B415441ull
#define RP2040_PAGE 256u
#define RP2040_SECTOR 4096u

int
ks_flash_in(const struct ks_flash *f, uint32_t addr, uint32_t len)
{
	uint64_t end = (uint64_t)addr + len;

	return addr >= f->m->flash_base &&
	    end <= (uint64_t)f->m->flash_base + f->m->flash_size;
}

static uint8_t *
at(const struct ks_flash *f, uint32_t addr)
{
	return f->mem + (addr - f->m->flash_base);
}

void
ks_flash_read(const struct ks_flash *f, uint32_t addr, uint8_t *out,
    uint32_t len)
{
	memcpy(out, at(f, addr), len);
}

/*
 * A stand-in for Katapult below the application: a vector table whose
 * reset handler has "CanBoot!" 8 bytes before it, then code-like bytes.
 * On the RP2040 the 256-byte boot2 stage sits first.
 */
void
ks_flash_bootloader(struct ks_flash *f, int present)
{
	const struct ks_model *m = f->m;
	uint32_t len = m->app_start - m->flash_base, code, i;
	uint64_t sig = CANBOOT_SIGNATURE;
	struct ks_rng rng = { SYN_CODE_SEED };
	uint8_t *b = at(f, m->flash_base), *v = at(f, m->boot_addr);

	memset(b, 0xFF, len);
	if (!present)
		return;
	/* Code fills about half of the area, as a small build does. */
	code = len / 2;
	for (i = 0; i < code; i += 8) {
		uint64_t r = ks_rng_next(&rng);

		memcpy(b + i, &r, code - i < 8 ? code - i : 8);
	}
	ks_wr32(v, m->ram_top);
	ks_wr32(v + 4, (m->boot_addr + SYN_HANDLER_OFFSET) | 1u);
	for (i = 0; i < 8; i++)
		v[SYN_SIG_OFFSET + i] = (uint8_t)(sig >> (8 * i));
}

/*
 * Klipper's canboot_reset() checks, on the flash contents: the reset
 * vector minus 9 (thumb bit, then 8 bytes) is 8-aligned and holds the
 * signature, and the initial SP (where the request word goes) is
 * 8-aligned.
 */
int
ks_flash_has_katapult(const struct ks_flash *f)
{
	const struct ks_model *m = f->m;
	uint32_t sp = ks_rd32(at(f, m->boot_addr));
	uint32_t reset = ks_rd32(at(f, m->boot_addr + 4));
	uint32_t sig_addr = reset - 9;
	uint64_t sig = 0;
	int i;

	if ((sig_addr & 7) != 0 || (sp & 7) != 0 ||
	    !ks_flash_in(f, sig_addr, 8))
		return 0;
	for (i = 0; i < 8; i++)
		sig |= (uint64_t)at(f, sig_addr)[i] << (8 * i);
	return sig == CANBOOT_SIGNATURE;
}

int
ks_flash_app_valid(const struct ks_flash *f)
{
	uint32_t w = ks_rd32(at(f, f->m->app_start));

	return w != 0 && w != 0xFFFFFFFFu;
}

/* ecc_once: one byte per program unit, all erased. */
static int
alloc_programmed(struct ks_flash *f)
{
	if (!f->m->ecc_once)
		return 0;
	f->programmed = calloc(f->m->flash_size / f->m->prog_unit, 1);
	return f->programmed != NULL ? 0 : -1;
}

void
ks_flash_reset(struct ks_flash *f)
{
	f->err_latched = 0;
}

int
ks_flash_mem(struct ks_flash *f, const struct ks_model *m)
{
	memset(f, 0, sizeof(*f));
	f->m = m;
	f->fd = -1;
	f->mem = malloc(m->flash_size);
	if (f->mem == NULL || alloc_programmed(f) != 0)
		return -1;
	memset(f->mem, 0xFF, m->flash_size);
	ks_flash_bootloader(f, 1);
	return 0;
}

int
ks_flash_open(struct ks_flash *f, const struct ks_model *m,
    const char *path, int no_katapult, char *err, size_t errlen)
{
	struct stat st;
	int fresh;

	memset(f, 0, sizeof(*f));
	f->m = m;
	f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (f->fd < 0 || fstat(f->fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	fresh = st.st_size == 0;
	if (!fresh && st.st_size != (off_t)m->flash_size) {
		snprintf(err, errlen, "%s: %lld bytes, the %s has %u", path,
		    (long long)st.st_size, m->mcu, m->flash_size);
		goto fail;
	}
	if (alloc_programmed(f) != 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (fresh && ftruncate(f->fd, (off_t)m->flash_size) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	f->mem = mmap(NULL, m->flash_size, PROT_READ | PROT_WRITE,
	    MAP_SHARED, f->fd, 0);
	if (f->mem == MAP_FAILED) {
		f->mem = NULL;
		snprintf(err, errlen, "mmap %s: %s", path, strerror(errno));
		goto fail;
	}
	if (fresh) {
		memset(f->mem, 0xFF, m->flash_size);
		ks_flash_bootloader(f, !no_katapult);
	} else if (no_katapult) {
		ks_flash_bootloader(f, 0);
	}
	return 0;
fail:
	ks_flash_close(f);
	return -1;
}

void
ks_flash_close(struct ks_flash *f)
{
	if (f->mem != NULL) {
		if (f->fd >= 0)
			munmap(f->mem, f->m->flash_size);
		else
			free(f->mem);
	}
	if (f->fd >= 0)
		close(f->fd);
	free(f->programmed);
	f->programmed = NULL;
	f->mem = NULL;
	f->fd = -1;
}

const char *
ks_wr_name(enum ks_wr r)
{
	switch (r) {
	case KS_WR_OK: return "written";
	case KS_WR_RETRANSMIT: return "retransmission";
	case KS_WR_MISALIGNED: return "misaligned";
	case KS_WR_OUT_OF_ORDER: return "out-of-order";
	case KS_WR_VERIFY: return "verify-failed";
	case KS_WR_RANGE: return "out-of-range";
	}
	return "?";
}

/* check_erased() as upstream has it: only count/4 bytes are looked at. */
static int
check_erased(const struct ks_flash *f, uint32_t addr, uint32_t count)
{
	const uint8_t *p = at(f, addr);
	uint32_t i, n = count / 4;

	for (i = 0; i < n; i++)
		if (p[i] != 0xFF)
			return 0;
	return 1;
}

static void
add_stall(struct ks_work *w, uint64_t start, uint64_t step, uint32_t n)
{
	if (w->nstall < KS_MAX_STALLS && n > 0) {
		w->stall[w->nstall].start = start;
		w->stall[w->nstall].step_ns = step;
		w->stall[w->nstall].steps = n;
		w->nstall++;
	}
	w->ns += step * n;
}

static void
erase_unit(struct ks_flash *f, uint32_t addr, uint64_t t, struct ks_work *w)
{
	uint32_t start, size;
	uint64_t ns;

	if (ks_model_unit(f->m, addr, &start, &size, &ns) != 0)
		return;
	if (f->err_latched) {
		ks_logf(t, "PGSERR erase 0x%08x refused: an earlier PROGERR is "
		    "still set (Katapult never clears FLASH_SR)", start);
		return;
	}
	ks_logf(t, "ERASE 0x%08x %u", start, size);
	memset(at(f, start), 0xFF, size);
	if (f->programmed != NULL)
		memset(f->programmed + (start - f->m->flash_base) /
		    f->m->prog_unit, 0, size / f->m->prog_unit);
	add_stall(w, t, ns, 1);
}

/*
 * Program len bytes in program steps.  A step over cells that are not
 * erased clears bits (prog_and) or is refused and logged (PGERR), as the
 * model's flash does.
 */
static void
program(struct ks_flash *f, uint32_t addr, const uint8_t *data,
    uint32_t len, uint64_t t, struct ks_work *w)
{
	const struct ks_model *m = f->m;
	uint32_t unit = m->prog_unit < len ? m->prog_unit : len, off, k;
	uint8_t *p = at(f, addr);

	ks_logf(t, "PROGRAM 0x%08x %u", addr, len);
	for (off = 0; off < len; off += unit) {
		uint8_t *once = f->programmed != NULL ? f->programmed +
		    (addr + off - m->flash_base) / m->prog_unit : NULL;
		int blank = 1, zero = 1;

		if (f->err_latched) {
			ks_logf(t, "PGSERR 0x%08x not programmed: an earlier "
			    "PROGERR is still set", addr + off);
			break;
		}
		for (k = 0; k < unit; k++) {
			blank &= p[off + k] == 0xFF;
			zero &= data[off + k] == 0x00;
		}
		if (once != NULL && *once && !(m->prog_zero_ok && zero)) {
			ks_shout(t, "PROGERR 0x%08x programmed twice without "
			    "an erase (ECC: once per erase); latched",
			    addr + off);
			f->err_latched = 1;
			continue;
		}
		if (!m->prog_and && !blank && !(m->prog_zero_ok && zero)) {
			ks_logf(t, "PROGERR 0x%08x not erased%s", addr + off,
			    once != NULL ? "; latched" : "");
			f->err_latched = once != NULL;
			continue;
		}
		for (k = 0; k < unit; k++)
			p[off + k] &= data[off + k];
		if (once != NULL)
			*once = 1;
	}
	add_stall(w, t, m->prog_ns, (len + unit - 1) / unit);
}

static enum ks_wr
stm32_write(struct ks_flash *f, uint32_t addr, const uint8_t *data,
    uint64_t t, struct ks_work *w, uint32_t cut)
{
	uint32_t psize, page;
	int need_erase = 0;

	if (addr & (KP_BLOCK_SIZE - 1))
		return KS_WR_MISALIGNED;
	psize = ks_model_page_size(f->m, addr);
	page = addr & ~(psize - 1);
	if (page == addr) {
		if (check_erased(f, addr, psize)) {
			/* looks blank: no erase */
		} else if (memcmp(data, at(f, addr), KP_BLOCK_SIZE) == 0 &&
		    check_erased(f, addr + KP_BLOCK_SIZE,
		    psize - KP_BLOCK_SIZE)) {
			return KS_WR_RETRANSMIT;
		} else {
			need_erase = 1;
		}
		f->page_writes++;
	} else if (!check_erased(f, addr, KP_BLOCK_SIZE)) {
		if (memcmp(data, at(f, addr), KP_BLOCK_SIZE) == 0)
			return KS_WR_RETRANSMIT;
		return KS_WR_OUT_OF_ORDER;
	}
	if (need_erase) {
		erase_unit(f, page, t, w);
		t += w->ns;
	}
	if (cut > 0) {
		program(f, addr, data, cut, t, w);
		return KS_WR_OK;
	}
	program(f, addr, data, KP_BLOCK_SIZE, t, w);
	if (memcmp(data, at(f, addr), KP_BLOCK_SIZE) != 0)
		return KS_WR_VERIFY;
	return KS_WR_OK;
}

static void
rp_flush(struct ks_flash *f, uint64_t t, struct ks_work *w)
{
	if (!f->buf_full)
		return;
	if (f->buf_addr % RP2040_SECTOR == 0) {
		erase_unit(f, f->buf_addr, t, w);
		t += w->ns;
	}
	program(f, f->buf_addr, f->buf, RP2040_PAGE, t, w);
	f->page_writes++;
	f->buf_full = 0;
}

static enum ks_wr
rp_write(struct ks_flash *f, uint32_t addr, const uint8_t *data,
    uint64_t t, struct ks_work *w)
{
	const struct ks_model *m = f->m;

	if (addr % KP_BLOCK_SIZE != 0)
		return KS_WR_MISALIGNED;
	if (addr < m->flash_base ||
	    (uint64_t)addr + KP_BLOCK_SIZE >
	    (uint64_t)m->flash_base + m->flash_size)
		return KS_WR_RANGE;
	if (f->buf_full && !(addr >= f->buf_addr &&
	    addr + KP_BLOCK_SIZE <= f->buf_addr + RP2040_PAGE))
		rp_flush(f, t, w);
	if (!f->buf_full) {
		f->buf_full = 1;
		f->buf_addr = addr / RP2040_PAGE * RP2040_PAGE;
		memset(f->buf, 0xFF, sizeof(f->buf));
	}
	memcpy(f->buf + (addr - f->buf_addr), data, KP_BLOCK_SIZE);
	return KS_WR_OK;
}

enum ks_wr
ks_flash_write(struct ks_flash *f, uint32_t addr, const uint8_t *data,
    uint64_t t, struct ks_work *w, uint32_t cut)
{
	memset(w, 0, sizeof(*w));
	if (f->m->family == KS_RP2040)
		return rp_write(f, addr, data, t, w);
	return stm32_write(f, addr, data, t, w, cut);
}

uint32_t
ks_flash_complete(struct ks_flash *f, uint64_t t, struct ks_work *w)
{
	memset(w, 0, sizeof(*w));
	if (f->m->family == KS_RP2040)
		rp_flush(f, t, w);
	return f->page_writes;
}
