/*
 * image/detect.c - what a file is: its format by content, whether its
 * name agrees, and whether data about to be written as a raw binary is
 * plausibly firmware at all.  Pure: works on the bytes and the name.
 *
 * Format by content (FT_FMT_AUTO), in this order:
 *  1. ELF: the file starts with the magic 0x7F 'E' 'L' 'F'.
 *  2. DFU: the file starts with the DfuSe prefix "DfuSe" 0x01, or ends
 *     with a DFU suffix (signature "UFD" and bLength 16).
 *  3. Intel HEX: the first character that is not blank (after a UTF-8
 *     byte-order mark and blank lines) is ':'.
 *  4. S-record: that character is 'S' and a decimal digit follows.
 *  5. Raw binary: anything else.
 * A file that starts like a record is read as one, strictly, however
 * short it is: a record cut short is a broken record, never data.  That
 * one character may decide because a Cortex-M image starts with its
 * initial stack pointer, which is 8-aligned, so its first byte is never
 * ':' (0x3A) or 'S' (0x53), nor a blank (0x09, 0x0A, 0x0D) other than
 * the space 0x20 (a stack pointer ending in 0x20 is followed by 0x00 or
 * a RAM address byte, never by a record).
 *
 * A raw binary must look like firmware.  Refused, with what it looks
 * like: a document, archive or image known by its signature; text (no
 * NUL byte in its first KiB, where a vector table always has some, and
 * nine in ten of its first 4 KiB printable or UTF-8), with a pointer
 * file or web page named as such; a file of one byte value (0xFF is
 * erased flash).  An explicit format (--format binary, -f) skips all of
 * this: the user has looked.
 *
 * The name: .hex names Intel HEX, .s19 an S-record, .elf ELF, .dfu DFU,
 * .bin a raw binary (the full list is below).  When the name promises a
 * text format and the content is a raw binary, the file is refused: a
 * broken HEX file is never flashed as binary.  Any other disagreement is
 * reported and the content wins.
 */
#include <string.h>

#include "image.h"

/* DFU 1.1 suffix (16 bytes at the end) and DfuSe prefix (UM0391). */
#define DFU_SUFFIX_BYTES 16
#define DFUSE_PREFIX "DfuSe\x01"
#define DFUSE_PREFIX_BYTES 6

/* How much of a binary the text test looks at. */
#define TEXT_SAMPLE_BYTES 4096u
#define TEXT_NUL_WINDOW_BYTES 1024u
#define TEXT_PRINTABLE_PERCENT 90u

static const uint8_t utf8_bom[] = { 0xEF, 0xBB, 0xBF };

size_t
ft_detect_bom(const uint8_t *buf, size_t len)
{
	return len >= sizeof(utf8_bom) &&
	    memcmp(buf, utf8_bom, sizeof(utf8_bom)) == 0 ? sizeof(utf8_bom) :
	    0;
}

static int
looks_like_dfu(const uint8_t *buf, size_t len)
{
	if (len >= DFUSE_PREFIX_BYTES &&
	    memcmp(buf, DFUSE_PREFIX, DFUSE_PREFIX_BYTES) == 0)
		return 1;
	/* Suffix: ... ucDfuSignature "UFD", bLength 16, dwCRC. */
	return len >= DFU_SUFFIX_BYTES && buf[len - 8] == 'U' &&
	    buf[len - 7] == 'F' && buf[len - 6] == 'D' &&
	    buf[len - 5] == DFU_SUFFIX_BYTES;
}

enum ft_image_format
ft_detect_format(const uint8_t *buf, size_t len)
{
	size_t i;

	if (len >= 4 && memcmp(buf, "\177ELF", 4) == 0)
		return FT_FMT_ELF;
	if (looks_like_dfu(buf, len))
		return FT_FMT_DFU;
	i = ft_detect_bom(buf, len);
	i += ft_text_skip_blank(buf + i, len - i);
	if (i < len && buf[i] == ':')
		return FT_FMT_IHEX;
	if (i + 1 < len && buf[i] == 'S' && buf[i + 1] >= '0' &&
	    buf[i + 1] <= '9')
		return FT_FMT_SREC;
	return FT_FMT_BINARY;
}

/* What a file name's extension promises (FT_FMT_AUTO: nothing). */
struct ext_format {
	const char *ext;
	enum ft_image_format format;
};

static const struct ext_format ext_formats[] = {
	{ "hex", FT_FMT_IHEX }, { "ihex", FT_FMT_IHEX },
	{ "ihx", FT_FMT_IHEX }, { "h86", FT_FMT_IHEX },
	{ "s19", FT_FMT_SREC }, { "s28", FT_FMT_SREC },
	{ "s37", FT_FMT_SREC }, { "srec", FT_FMT_SREC },
	{ "mot", FT_FMT_SREC }, { "sx", FT_FMT_SREC },
	{ "elf", FT_FMT_ELF }, { "axf", FT_FMT_ELF },
	{ "dfu", FT_FMT_DFU },
	{ "bin", FT_FMT_BINARY },
};

enum ft_image_format
ft_detect_by_name(const char *name)
{
	const char *dot = name != NULL ? strrchr(name, '.') : NULL;
	const char *slash = name != NULL ? strrchr(name, '/') : NULL;
	size_t i, k;
	char ext[8];

	if (dot == NULL || (slash != NULL && slash > dot) || dot[1] == '\0' ||
	    strlen(dot + 1) >= sizeof(ext))
		return FT_FMT_AUTO;
	for (k = 0; dot[1 + k] != '\0'; k++)
		ext[k] = (char)(dot[1 + k] >= 'A' && dot[1 + k] <= 'Z' ?
		    dot[1 + k] - 'A' + 'a' : dot[1 + k]);
	ext[k] = '\0';
	for (i = 0; i < sizeof(ext_formats) / sizeof(ext_formats[0]); i++)
		if (strcmp(ext, ext_formats[i].ext) == 0)
			return ext_formats[i].format;
	return FT_FMT_AUTO;
}

/* Documents, archives and images known by their first bytes. */
struct signature {
	size_t offset;
	const char *bytes;
	size_t len;
	const char *what;
};

#define SIG(off, s, what) { off, s, sizeof(s) - 1, what }

static const struct signature signatures[] = {
	SIG(0, "%PDF-", "a PDF document"),
	SIG(0, "PK\003\004", "a ZIP archive (unpack it and give the "
	    "firmware file inside)"),
	SIG(0, "\037\213", "a gzip-compressed file (decompress it first)"),
	SIG(0, "BZh", "a bzip2-compressed file (decompress it first)"),
	SIG(0, "\3757zXZ\000", "an xz-compressed file (decompress it first)"),
	SIG(0, "7z\274\257\047\034", "a 7-Zip archive"),
	SIG(0, "Rar!\032\007", "a RAR archive"),
	SIG(257, "ustar", "a tar archive"),
	SIG(0, "\211PNG\r\n\032\n", "a PNG image"),
	SIG(0, "\377\330\377", "a JPEG image"),
	SIG(0, "GIF8", "a GIF image"),
	SIG(0, "MZ", "a Windows or DOS executable"),
	SIG(0, "\317\372\355\376", "a macOS executable"),
};

/* Text that is a known kind of file; matched at its first non-blank. */
static const struct signature text_kinds[] = {
	SIG(0, "version https://git-lfs.github.com/spec/", "a Git LFS "
	    "pointer file: the firmware itself was never downloaded (run "
	    "'git lfs pull' in its repository)"),
	SIG(0, "<!DOCTYPE html", "an HTML page (a web page saved instead of "
	    "the file it links to?)"),
	SIG(0, "<!doctype html", "an HTML page (a web page saved instead of "
	    "the file it links to?)"),
	SIG(0, "<html", "an HTML page (a web page saved instead of the file "
	    "it links to?)"),
	SIG(0, "<?xml", "an XML document"),
	SIG(0, "#!", "a script"),
	SIG(0, "{", "a JSON document"),
};

/* The length of the UTF-8 sequence at p (2-4), or 0 when it is none. */
static size_t
utf8_len(const uint8_t *p, size_t left)
{
	size_t n, i;

	if (p[0] >= 0xC2 && p[0] <= 0xDF)
		n = 2;
	else if (p[0] >= 0xE0 && p[0] <= 0xEF)
		n = 3;
	else if (p[0] >= 0xF0 && p[0] <= 0xF4)
		n = 4;
	else
		return 0;
	if (n > left)
		return 0;
	for (i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	return n;
}

/* Is buf text: no NUL early, and mostly printable ASCII or UTF-8? */
static int
is_text(const uint8_t *buf, size_t len)
{
	size_t n = len < TEXT_SAMPLE_BYTES ? len : TEXT_SAMPLE_BYTES;
	size_t nul = len < TEXT_NUL_WINDOW_BYTES ? len : TEXT_NUL_WINDOW_BYTES;
	size_t i = 0, printable = 0, k;

	if (memchr(buf, 0, nul) != NULL)
		return 0;
	while (i < n) {
		uint8_t c = buf[i];

		if ((c >= 0x20 && c < 0x7F) || c == '\t' || c == '\n' ||
		    c == '\r') {
			printable++;
			i++;
		} else if ((k = utf8_len(buf + i, n - i)) > 0) {
			printable += k;
			i += k;
		} else {
			i++;
		}
	}
	return printable * 100 >= (uint64_t)n * TEXT_PRINTABLE_PERCENT;
}

static int
matches(const struct signature *s, const uint8_t *buf, size_t len)
{
	return len >= s->offset + s->len &&
	    memcmp(buf + s->offset, s->bytes, s->len) == 0;
}

/* The first line, printable ASCII and whole UTF-8 characters, cut to fit. */
static void
first_line(const uint8_t *buf, size_t len, char *quote, size_t size)
{
	size_t i = 0, k = 0, n;

	while (i < len && buf[i] != '\n' && buf[i] != '\r') {
		n = buf[i] >= 0x80 ? utf8_len(buf + i, len - i) : 1;
		if (n == 0 || (n == 1 && (buf[i] < 0x20 || buf[i] == 0x7F ||
		    buf[i] == '"'))) {
			i += n == 0 ? 1 : n;
			continue;
		}
		if (k + n >= size)
			break;
		memcpy(quote + k, buf + i, n);
		k += n;
		i += n;
	}
	quote[k] = '\0';
}

const char *
ft_detect_not_firmware(const uint8_t *buf, size_t len, char *quote,
    size_t qsize)
{
	size_t i, start;

	quote[0] = '\0';
	for (i = 0; i < sizeof(signatures) / sizeof(signatures[0]); i++)
		if (matches(&signatures[i], buf, len))
			return signatures[i].what;
	for (i = 1; i < len && buf[i] == buf[0]; i++)
		;
	if (i == len && len > 1 && (buf[0] == 0xFF || buf[0] == 0x00))
		return buf[0] == 0xFF ? "nothing but 0xFF bytes: erased flash "
		    "(a backup of an empty chip?)" : "nothing but zero bytes";
	if (!is_text(buf, len))
		return NULL;
	start = ft_detect_bom(buf, len);
	start += ft_text_skip_blank(buf + start, len - start);
	for (i = 0; i < sizeof(text_kinds) / sizeof(text_kinds[0]); i++)
		if (matches(&text_kinds[i], buf + start, len - start))
			return text_kinds[i].what;
	first_line(buf + start, len - start, quote, qsize);
	return "text";
}
