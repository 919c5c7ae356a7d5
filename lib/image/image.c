/*
 * image/image.c - loading an image from a file, standard input or memory:
 * the size limits, format detection, raw binary, and the accessors.  The
 * readers live beside it: ihex.c, srec.c, elf.c and dfu_file.c, all
 * building through builder.c; vectors.c judges whether an image fits
 * where it goes.
 *
 * Every struct ft_image handed out keeps these invariants:
 *  - seg[] is sorted by (alt, addr) and alt is -1 (none of these formats
 *    names a DfuSe alt setting);
 *  - segments are never empty, never overlap and never touch: adjacent
 *    runs are merged into one segment;
 *  - addr + len <= 2^32.  The last segment may end exactly at 4 GiB, so
 *    callers compute ends in uint64_t;
 *  - each seg[i].data is its own malloc'd block (builder.c);
 *    ft_image_free() frees them and seg[].
 *
 * Text formats are read strictly: one bad checksum, bad digit, wrong
 * length, missing end record, data after it, two records writing the same
 * byte or an address past 4 GiB fails the whole load with FT_E_FORMAT and
 * a "name:line: what" detail.  A file that was meant to be HEX never
 * falls back to binary.  LF and CRLF line ends, trailing blanks and blank
 * lines (anywhere, also after the end record) are accepted; hex digits
 * may be either case.  A file with an end record but no data is refused
 * too: flashing nothing is never what was meant.
 *
 * Which format a file is, and whether a raw binary looks like firmware at
 * all, is decided in detect.c.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "image.h"

/* Images larger than this are refused: no STM32 has that much flash. */
#define IMAGE_MAX_BYTES (64u * 1024 * 1024)
#define IMAGE_MAX_TEXT "64 MiB"
/* How much of a text file's first line a refusal quotes. */
#define TEXT_QUOTE_BYTES 48
/* First read buffer for pipes; it doubles up to the cap. */
#define READ_CHUNK_BYTES (64u * 1024)

/*
 * Raw binary: the whole buffer, one segment at base.
 */
static int
parse_binary(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, uint32_t base, struct ft_image *img)
{
	struct ft_builder b = { 0 };
	struct ft_clash cl;
	int rc;

	if ((uint64_t)base + len > FT_ADDR_SPACE_END)
		return ft_fail(ctx, FT_E_RANGE,
		    "%s: %zu bytes at 0x%08X run past the 4 GiB address "
		    "space", name, len, (unsigned)base);
	rc = ft_build_add(&b, -1, base, (uint32_t)len, 0, 0);
	if (rc == 0)
		rc = ft_build_finish(&b, buf, img, &cl);
	ft_build_free(&b);
	if (rc != 0)
		return ft_fail(ctx, FT_E_NOMEM, "%s: out of memory", name);
	return 0;
}

/* What a format is called in messages. */
static const char *
format_title(enum ft_image_format format)
{
	switch (format) {
	case FT_FMT_IHEX:
		return "Intel HEX";
	case FT_FMT_SREC:
		return "an S-record file";
	case FT_FMT_ELF:
		return "an ELF executable";
	case FT_FMT_DFU:
		return "a DFU file";
	default:
		return "a raw binary";
	}
}

/*
 * The format by content, checked against the name and, for a raw
 * binary, against what firmware looks like (image/detect.c).
 */
static int
choose_format(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, enum ft_image_format *out)
{
	enum ft_image_format content = ft_detect_format(buf, len);
	enum ft_image_format named = ft_detect_by_name(name);
	char quote[TEXT_QUOTE_BYTES], what[TEXT_QUOTE_BYTES + 200];
	const char *kind;

	*out = content;
	/* A clear format under another name: said once it has loaded. */
	if (content != FT_FMT_BINARY)
		return 0;
	kind = ft_detect_not_firmware(buf, len, quote, sizeof(quote));
	if (quote[0] != '\0')
		snprintf(what, sizeof(what), "%s (it starts \"%s\")", kind,
		    quote);
	else
		snprintf(what, sizeof(what), "%s", kind != NULL ? kind :
		    "binary data");
	if (named != FT_FMT_AUTO && named != FT_FMT_BINARY)
		return ft_fail(ctx, FT_E_FORMAT, "%s: named like %s, but %sit "
		    "is %s; refusing to guess (give --format binary to write "
		    "it as a raw binary)", name, format_title(named),
		    named == FT_FMT_IHEX || named == FT_FMT_SREC ? "it does "
		    "not start with a record: " : "", what);
	if (kind != NULL)
		return ft_fail(ctx, FT_E_FORMAT, "%s: this is %s, not "
		    "firmware; refusing to flash it (give --format binary to "
		    "write it anyway)", name, what);
	return 0;
}

/* The name promised another format than the content, which loaded. */
static void
warn_name(struct ft_ctx *ctx, const char *name, enum ft_image_format format)
{
	enum ft_image_format named = ft_detect_by_name(name);

	if (named != FT_FMT_AUTO && named != format)
		ft_warn(ctx, "%s: named like %s, but it is %s: read as such",
		    name, format_title(named), format_title(format));
}

/*
 * Public functions.
 */
int
ft_image_from_buffer(struct ft_ctx *ctx, const char *name,
    const uint8_t *buf, size_t len, enum ft_image_format format,
    uint32_t base, struct ft_image **out)
{
	struct ft_image *img;
	int rc, auto_format;

	if (out == NULL)
		return ft_fail(ctx, FT_E_INVALID, "image: no result pointer");
	*out = NULL;
	if (name == NULL)
		name = "image";
	if (buf == NULL && len > 0)
		return ft_fail(ctx, FT_E_INVALID, "%s: no buffer", name);
	if (len > IMAGE_MAX_BYTES)
		return ft_fail(ctx, FT_E_INVALID,
		    "%s: %zu bytes; images larger than %s are refused",
		    name, len, IMAGE_MAX_TEXT);
	if (len == 0)
		return ft_fail(ctx, FT_E_FORMAT, "%s: empty image", name);
	auto_format = format == FT_FMT_AUTO;
	if (format == FT_FMT_AUTO) {
		rc = choose_format(ctx, name, buf, len, &format);
		if (rc < 0)
			return rc;
	}
	/* A text file saved with a byte-order mark: records after it. */
	if (format == FT_FMT_IHEX || format == FT_FMT_SREC) {
		size_t bom = ft_detect_bom(buf, len);

		buf += bom;
		len -= bom;
	}
	if (format == FT_FMT_DFU) {
		rc = ft_dfu_image_parse(ctx, name, buf, len, base, out);
		if (rc == 0 && auto_format)
			warn_name(ctx, name, format);
		return rc;
	}

	img = calloc(1, sizeof(*img));
	if (img == NULL)
		return ft_fail(ctx, FT_E_NOMEM, "%s: out of memory", name);
	img->format = format;
	switch (format) {
	case FT_FMT_BINARY:
		rc = parse_binary(ctx, name, buf, len, base, img);
		break;
	case FT_FMT_IHEX:
		rc = ft_read_ihex(ctx, name, buf, len, img);
		break;
	case FT_FMT_SREC:
		rc = ft_read_srec(ctx, name, buf, len, img);
		break;
	case FT_FMT_ELF:
		rc = ft_read_elf(ctx, name, buf, len, img);
		break;
	default:
		rc = ft_fail(ctx, FT_E_INVALID, "%s: unknown image format %d",
		    name, (int)format);
		break;
	}
	if (rc < 0) {
		ft_image_free(img);
		return rc;
	}
	if (auto_format)
		warn_name(ctx, name, format);
	*out = img;
	return 0;
}

/* Read fd to the end, refusing more than IMAGE_MAX_BYTES. */
static int
read_all(struct ft_ctx *ctx, const char *name, int fd, size_t hint,
    uint8_t **out, size_t *outlen)
{
	uint8_t *buf = NULL, *nb;
	size_t cap, len = 0;
	ssize_t r;

	cap = hint > 0 && hint <= IMAGE_MAX_BYTES ? hint + 1 : READ_CHUNK_BYTES;
	for (;;) {
		if (len == cap || buf == NULL) {
			if (buf != NULL)
				cap = cap * 2 > IMAGE_MAX_BYTES + 1 ?
				    IMAGE_MAX_BYTES + 1 : cap * 2;
			nb = realloc(buf, cap);
			if (nb == NULL) {
				free(buf);
				return ft_fail(ctx, FT_E_NOMEM,
				    "%s: out of memory", name);
			}
			buf = nb;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;

			free(buf);
			return ft_fail(ctx, FT_E_IO, "%s: %s", name,
			    strerror(e));
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > IMAGE_MAX_BYTES) {
			free(buf);
			return ft_fail(ctx, FT_E_INVALID,
			    "%s: larger than %s; images that big are refused",
			    name, IMAGE_MAX_TEXT);
		}
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* Regular files and pipes (named or not) may hold an image. */
static int
check_file_type(struct ft_ctx *ctx, const char *name, const struct stat *st)
{
	if (S_ISDIR(st->st_mode))
		return ft_fail(ctx, FT_E_INVALID,
		    "%s: is a directory, not an image file", name);
	if (!S_ISREG(st->st_mode) && !S_ISFIFO(st->st_mode))
		return ft_fail(ctx, FT_E_INVALID,
		    "%s: not a regular file (device or other special file); "
		    "give an image file", name);
	if (S_ISREG(st->st_mode) && (uint64_t)st->st_size > IMAGE_MAX_BYTES)
		return ft_fail(ctx, FT_E_INVALID,
		    "%s: %llu bytes; images larger than %s are refused",
		    name, (unsigned long long)st->st_size, IMAGE_MAX_TEXT);
	return 0;
}

int
ft_image_load(struct ft_ctx *ctx, const char *path,
    enum ft_image_format format, uint32_t base, struct ft_image **out)
{
	struct stat st;
	const char *name;
	uint8_t *buf = NULL;
	size_t len = 0;
	int fd, rc;

	if (out == NULL || path == NULL)
		return ft_fail(ctx, FT_E_INVALID, "image: no file name");
	*out = NULL;
	if (strcmp(path, "-") == 0) {
		/* Standard input may be a pipe, a file or a terminal; only a
		 * directory makes no sense.  The size cap bounds the rest. */
		name = "<stdin>";
		if (fstat(STDIN_FILENO, &st) < 0)
			return ft_fail(ctx, FT_E_IO, "%s: %s", name,
			    strerror(errno));
		if (S_ISDIR(st.st_mode))
			return ft_fail(ctx, FT_E_INVALID,
			    "%s: is a directory, not an image file", name);
		rc = read_all(ctx, name, STDIN_FILENO,
		    S_ISREG(st.st_mode) ? (size_t)st.st_size : 0, &buf, &len);
	} else {
		/* stat before open: opening a device (a serial port) can
		 * have side effects. */
		name = path;
		if (stat(path, &st) < 0)
			return ft_fail(ctx, FT_E_IO, "%s: %s", name,
			    strerror(errno));
		if ((rc = check_file_type(ctx, name, &st)) < 0)
			return rc;
		fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return ft_fail(ctx, FT_E_IO, "%s: %s", name,
			    strerror(errno));
		/* The name may have been replaced in between. */
		if (fstat(fd, &st) < 0) {
			rc = ft_fail(ctx, FT_E_IO, "%s: %s", name,
			    strerror(errno));
		} else if ((rc = check_file_type(ctx, name, &st)) == 0) {
			rc = read_all(ctx, name, fd,
			    S_ISREG(st.st_mode) ? (size_t)st.st_size : 0,
			    &buf, &len);
		}
		close(fd);
	}
	if (rc < 0)
		return rc;
	rc = ft_image_from_buffer(ctx, name, buf, len, format, base, out);
	free(buf);
	return rc;
}

void
ft_image_free(struct ft_image *img)
{
	size_t i;

	if (img == NULL)
		return;
	for (i = 0; i < img->nseg; i++)
		free(img->seg[i].data);
	free(img->seg);
	free(img);
}

enum ft_image_format
ft_image_format(const struct ft_image *img)
{
	return img ? img->format : FT_FMT_AUTO;
}

const char *
ft_format_name(enum ft_image_format format)
{
	switch (format) {
	case FT_FMT_AUTO:
		return "auto";
	case FT_FMT_BINARY:
		return "binary";
	case FT_FMT_IHEX:
		return "ihex";
	case FT_FMT_SREC:
		return "srec";
	case FT_FMT_ELF:
		return "elf";
	case FT_FMT_DFU:
		return "dfu";
	}
	return "unknown";
}

size_t
ft_image_nsegments(const struct ft_image *img)
{
	return img ? img->nseg : 0;
}

const struct ft_segment *
ft_image_segment(const struct ft_image *img, size_t index)
{
	if (img == NULL || index >= img->nseg)
		return NULL;
	return &img->seg[index];
}

uint64_t
ft_image_bytes(const struct ft_image *img)
{
	return ft_span_bytes(ft_image_span(img));
}

int
ft_image_relocate(struct ft_ctx *ctx, struct ft_image *img,
    uint32_t new_base)
{
	uint64_t lo, hi, end;
	size_t i;

	if (img == NULL)
		return ft_fail(ctx, FT_E_INVALID, "relocate: no image");
	if (img->nseg == 0)
		return 0;
	/* Sorted by (alt, addr): with several alts the lowest address is
	 * not necessarily seg[0], so scan them all. */
	lo = UINT32_MAX;
	hi = 0;
	for (i = 0; i < img->nseg; i++) {
		end = (uint64_t)img->seg[i].addr + img->seg[i].len;
		if (img->seg[i].addr < lo)
			lo = img->seg[i].addr;
		if (end > hi)
			hi = end;
	}
	if ((uint64_t)new_base + (hi - lo) > FT_ADDR_SPACE_END)
		return ft_fail(ctx, FT_E_RANGE,
		    "relocate: %llu bytes from 0x%08X would run past the "
		    "4 GiB address space", (unsigned long long)(hi - lo),
		    (unsigned)new_base);
	/* Every segment moves by the same amount, so order and gaps stay. */
	for (i = 0; i < img->nseg; i++)
		img->seg[i].addr = (uint32_t)(img->seg[i].addr - lo + new_base);
	return 0;
}
