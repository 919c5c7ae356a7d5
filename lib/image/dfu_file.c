/*
 * image/dfu_file.c - .dfu files: the DFU 1.1 suffix (Appendix B) and the ST
 * DfuSe prefix (UM0391), pure parsers over a buffer in memory.
 *
 * A file with a valid suffix and a "DfuSe" prefix becomes one segment per
 * non-empty element, tagged with its target's alt setting and sorted by
 * (alt, addr); a file with a suffix and no prefix (plain DFU) becomes one
 * segment at the caller's base with alt -1.  A buffer without the suffix
 * signature is not ours: FT_E_NOT_SUPPORTED, so the image reader can try
 * other formats.  The suffix's VID/PID stay with the image (has_usb_ids)
 * for the transport to check against the device.  Every length field is
 * checked against the bytes that are really there before it is used;
 * nothing is read past len.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dfu_file.h"
#include "image.h"

#define CRC_POLY_REFLECTED 0xEDB88320u

/* Offsets inside the 16-byte suffix. */
#define SFX_BCD_DEVICE 0
#define SFX_PID 2
#define SFX_VID 4
#define SFX_BCD_DFU 6
#define SFX_SIGNATURE 8		/* "UFD" */
#define SFX_LENGTH 11
#define SFX_CRC 12

/* DfuSe prefix, target prefix and element header sizes (UM0391). */
#define PREFIX_LEN 11
#define PREFIX_VERSION 0x01
#define TARGET_LEN 274
#define TARGET_NAME_LEN 255
#define ELEMENT_HDR_LEN 8

static uint16_t
get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t
ft_dfu_crc(uint32_t crc, const uint8_t *buf, size_t len)
{
	size_t i;
	int b;

	for (i = 0; i < len; i++) {
		crc ^= buf[i];
		for (b = 0; b < 8; b++)
			crc = (crc >> 1) ^
			    ((crc & 1u) != 0 ? CRC_POLY_REFLECTED : 0);
	}
	return crc;
}

int
ft_dfu_suffix_parse(struct ft_ctx *ctx, const char *name,
    const uint8_t *buf, size_t len, struct ft_dfu_suffix *out)
{
	const uint8_t *s;
	uint32_t crc;

	if (len < FT_DFU_SUFFIX_LEN)
		return ft_fail(ctx, FT_E_NOT_SUPPORTED,
		    "%s: no DFU suffix (file shorter than 16 bytes)", name);
	s = buf + len - FT_DFU_SUFFIX_LEN;
	if (memcmp(s + SFX_SIGNATURE, "UFD", 3) != 0)
		return ft_fail(ctx, FT_E_NOT_SUPPORTED, "%s: no DFU suffix",
		    name);
	memset(out, 0, sizeof(*out));
	out->bcd_device = get_le16(s + SFX_BCD_DEVICE);
	out->pid = get_le16(s + SFX_PID);
	out->vid = get_le16(s + SFX_VID);
	out->bcd_dfu = get_le16(s + SFX_BCD_DFU);
	out->length = s[SFX_LENGTH];
	out->crc = ft_get_le32(s + SFX_CRC);
	if (out->length < FT_DFU_SUFFIX_LEN || out->length > len)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: DFU suffix length %u is invalid", name,
		    (unsigned)out->length);
	crc = ft_dfu_crc(FT_DFU_CRC_INIT, buf, len - 4);
	if (crc != out->crc)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: DFU suffix CRC is 0x%08x, the file gives 0x%08x "
		    "(file damaged?)", name, out->crc, crc);
	return 0;
}

int
ft_dfu_suffix_check(struct ft_ctx *ctx, const struct ft_dfu_suffix *s,
    uint16_t vid, uint16_t pid)
{
	if ((s->vid != FT_USB_ANY_ID && s->vid != vid) ||
	    (s->pid != FT_USB_ANY_ID && s->pid != pid))
		return ft_fail(ctx, FT_E_INVALID,
		    "the file is for USB device %04x:%04x, this one is "
		    "%04x:%04x", s->vid, s->pid, vid, pid);
	return 0;
}

/*
 * Walk the targets and elements of a DfuSe payload (prefix included,
 * suffix excluded), adding each non-empty element to the builder: its
 * bytes stay in p until the builder copies them.
 */
static int
walk_dfuse(struct ft_ctx *ctx, const char *name, const uint8_t *p,
    size_t len, struct ft_builder *b)
{
	size_t off = PREFIX_LEN;
	unsigned t, ntargets = p[10], nelem_all = 0;

	for (t = 0; t < ntargets; t++) {
		const uint8_t *tp = p + off;
		uint32_t tsize, nelem, e;
		size_t tend;
		int alt;

		if (len - off < TARGET_LEN)
			return ft_fail(ctx, FT_E_FORMAT,
			    "%s: DfuSe target %u header truncated at offset "
			    "%zu", name, t, off);
		if (memcmp(tp, "Target", 6) != 0)
			return ft_fail(ctx, FT_E_FORMAT,
			    "%s: DfuSe target %u: no \"Target\" signature at "
			    "offset %zu", name, t, off);
		alt = tp[6];
		tsize = ft_get_le32(tp + 11 + TARGET_NAME_LEN);
		nelem = ft_get_le32(tp + 15 + TARGET_NAME_LEN);
		off += TARGET_LEN;
		if (tsize > len - off)
			return ft_fail(ctx, FT_E_FORMAT,
			    "%s: DfuSe target %u (alt %d) says %u bytes, only "
			    "%zu left", name, t, alt, tsize, len - off);
		tend = off + tsize;
		for (e = 0; e < nelem; e++) {
			uint32_t addr, size;

			if (tend - off < ELEMENT_HDR_LEN)
				return ft_fail(ctx, FT_E_FORMAT,
				    "%s: DfuSe target %u element %u header "
				    "runs past the target", name, t, e);
			addr = ft_get_le32(p + off);
			size = ft_get_le32(p + off + 4);
			off += ELEMENT_HDR_LEN;
			if (size > tend - off)
				return ft_fail(ctx, FT_E_FORMAT,
				    "%s: DfuSe target %u element %u says %u "
				    "bytes, only %zu left in the target",
				    name, t, e, size, tend - off);
			if ((uint64_t)addr + size > (uint64_t)UINT32_MAX + 1)
				return ft_fail(ctx, FT_E_FORMAT,
				    "%s: DfuSe element at 0x%08x (%u bytes) "
				    "runs past 4 GiB", name, addr, size);
			if (ft_build_add(b, alt, addr, size, off,
			    nelem_all++) != 0)
				return ft_fail(ctx, FT_E_NOMEM, "%s: out of "
				    "memory", name);
			off += size;
		}
		if (off != tend)
			return ft_fail(ctx, FT_E_FORMAT,
			    "%s: DfuSe target %u (alt %d): %zu bytes not "
			    "covered by its %u elements", name, t, alt,
			    tend - off, nelem);
	}
	if (off != len)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: %zu stray bytes after the last DfuSe target", name,
		    len - off);
	return 0;
}

static int
parse_dfuse(struct ft_ctx *ctx, const char *name, const uint8_t *p,
    size_t len, struct ft_image *img)
{
	struct ft_builder b = { 0 };
	struct ft_clash cl;
	int rc;

	if (len < PREFIX_LEN)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: DfuSe prefix truncated", name);
	if (p[5] != PREFIX_VERSION)
		return ft_fail(ctx, FT_E_FORMAT,
		    "%s: DfuSe version %u, only 1 is supported", name, p[5]);
	/*
	 * DFUImageSize (p + 6) is not checked: dfuse-pack up to 0.9 left the
	 * suffix out of it, later versions count it.
	 */
	rc = walk_dfuse(ctx, name, p, len, &b);
	if (rc == 0) {
		rc = ft_build_finish(&b, p, img, &cl);
		if (rc == 1)
			rc = ft_fail(ctx, FT_E_FORMAT, "%s: DfuSe elements "
			    "overlap at 0x%08x (alt %d)", name, cl.addr,
			    cl.alt);
		else if (rc < 0)
			rc = ft_fail(ctx, rc, "%s: out of memory", name);
	}
	ft_build_free(&b);
	return rc;
}

/*
 * Keep the suffix's IDs with the image: the device is not known yet, so
 * the transport checks them before it erases anything.
 */
static void
note_ids(struct ft_image *img, const char *name,
    const struct ft_dfu_suffix *s)
{
	img->has_usb_ids = 1;
	img->usb_vid = s->vid;
	img->usb_pid = s->pid;
	snprintf(img->name, sizeof(img->name), "%s", name);
}

int
ft_dfu_file_parse(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, uint32_t base, struct ft_image **out,
    struct ft_dfu_suffix *suffix)
{
	struct ft_dfu_suffix sfx;
	struct ft_builder b = { 0 };
	struct ft_clash cl;
	struct ft_image *img;
	size_t plen;
	int rc;

	*out = NULL;
	if (name == NULL)
		name = "(buffer)";
	rc = ft_dfu_suffix_parse(ctx, name, buf, len, &sfx);
	if (rc < 0)
		return rc;
	if (suffix != NULL)
		*suffix = sfx;
	plen = len - sfx.length;
	if (plen < 5 || memcmp(buf, "DfuSe", 5) != 0) {
		if (sfx.bcd_dfu == FT_DFUSE_BCD)
			return ft_fail(ctx, FT_E_FORMAT, "%s: DfuSe suffix "
			    "(bcdDFU 0x011a) but no DfuSe prefix", name);
		if ((uint64_t)base + plen > (uint64_t)UINT32_MAX + 1)
			return ft_fail(ctx, FT_E_RANGE, "%s: %zu bytes at "
			    "0x%08x run past 4 GiB", name, plen, base);
	}
	img = calloc(1, sizeof(*img));
	if (img == NULL)
		return ft_fail(ctx, FT_E_NOMEM, "%s", name);
	img->format = FT_FMT_DFU;
	if (plen >= 5 && memcmp(buf, "DfuSe", 5) == 0) {
		rc = parse_dfuse(ctx, name, buf, plen, img);
	} else {
		/* Plain DFU: the payload, in one piece at base. */
		rc = ft_build_add(&b, -1, base, (uint32_t)plen, 0, 0);
		if (rc == 0)
			rc = ft_build_finish(&b, buf, img, &cl);
		ft_build_free(&b);
		if (rc != 0)
			rc = ft_fail(ctx, FT_E_NOMEM, "%s: %zu bytes", name,
			    plen);
	}
	if (rc < 0) {
		ft_image_free(img);
		return rc;
	}
	note_ids(img, name, &sfx);
	*out = img;
	return 0;
}

int
ft_dfu_image_parse(struct ft_ctx *ctx, const char *name, const uint8_t *buf,
    size_t len, uint32_t base, struct ft_image **out)
{
	return ft_dfu_file_parse(ctx, name, buf, len, base, out, NULL);
}
