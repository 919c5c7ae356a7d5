/*
 * dfu/discovery.c - finding DFU devices: describing every USB device's
 * DFU interface from its descriptors, matching the user's selection
 * (pure decisions in dfu/state.c), choosing exactly one, waiting for one
 * to appear or to come back after a reset, and --list.
 *
 * Invariants:
 *  - Alt settings are grouped per physical device and interface, so a
 *    ROM with three alt settings is one device; devices are told apart
 *    by USB path (F0 ROMs all report the serial FFFFFFFEFFFF).
 *  - Every wait is bounded by a named timeout.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

/*
 * Scanning.
 */

/* The DFU functional descriptor in a block of "extra" descriptor bytes. */
static int
find_func_desc(const unsigned char *x, int len, uint8_t *attrs,
    uint16_t *detach, uint16_t *xfer, uint16_t *bcd)
{
	int i = 0;

	while (x != NULL && i + 2 <= len) {
		int dl = x[i];

		if (dl < 2 || i + dl > len)
			break;
		if (x[i + 1] == DFU_FUNC_DESC_TYPE &&
		    dl >= DFU_FUNC_DESC_MIN_LEN) {
			*attrs = x[i + 2];
			*detach = (uint16_t)(x[i + 3] | (x[i + 4] << 8));
			*xfer = (uint16_t)(x[i + 5] | (x[i + 6] << 8));
			*bcd = dl >= DFU_FUNC_DESC_LEN ?
			    (uint16_t)(x[i + 7] | (x[i + 8] << 8)) : 0x0100;
			return 1;
		}
		i += dl;
	}
	return 0;
}

void
ft_dfu_usb_path(libusb_device *d, char *out, size_t n)
{
	uint8_t ports[MAX_PORTS];
	int np = libusb_get_port_numbers(d, ports, MAX_PORTS), i;
	size_t o;

	o = (size_t)snprintf(out, n, "%u", libusb_get_bus_number(d));
	for (i = 0; i < np && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%c%u", i == 0 ? '-' :
		    '.', ports[i]);
}

/*
 * Describe d's first DFU interface in c.  Returns 1 when d has one, 0
 * when not.
 */
int
ft_dfu_describe(libusb_device *d, struct dfu_cand *c)
{
	struct libusb_device_descriptor dd;
	struct libusb_config_descriptor *cfg = NULL;
	const struct libusb_interface *itf = NULL;
	int i, j, proto = -1, have_func = 0;

	memset(c, 0, sizeof(*c));
	if (libusb_get_device_descriptor(d, &dd) != 0)
		return 0;
	if (libusb_get_active_config_descriptor(d, &cfg) != 0 &&
	    libusb_get_config_descriptor(d, 0, &cfg) != 0)
		return 0;
	/* The first interface with a DFU alt setting. */
	for (i = 0; i < cfg->bNumInterfaces && itf == NULL; i++)
		for (j = 0; j < cfg->interface[i].num_altsetting; j++) {
			const struct libusb_interface_descriptor *a =
			    &cfg->interface[i].altsetting[j];

			if (a->bInterfaceClass == DFU_CLASS &&
			    a->bInterfaceSubClass == DFU_SUBCLASS) {
				itf = &cfg->interface[i];
				c->iface = a->bInterfaceNumber;
				proto = a->bInterfaceProtocol;
				break;
			}
		}
	if (itf == NULL) {
		libusb_free_config_descriptor(cfg);
		return 0;
	}
	for (j = 0; j < itf->num_altsetting; j++) {
		const struct libusb_interface_descriptor *a =
		    &itf->altsetting[j];

		if (a->bInterfaceClass != DFU_CLASS ||
		    a->bInterfaceSubClass != DFU_SUBCLASS)
			continue;
		/* Usually after the last alt setting; look at all. */
		if (!have_func)
			have_func = find_func_desc(a->extra, a->extra_length,
			    &c->attrs, &c->detach_ms, &c->e.transfer_size,
			    &c->bcd_dfu);
		if (c->e.nalts < FT_DFU_MAX_ALTS) {
			c->e.alts[c->e.nalts].alt = a->bAlternateSetting;
			c->alt_str[c->e.nalts] = a->iInterface;
			c->e.nalts++;
		}
	}
	if (!have_func)
		have_func = find_func_desc(cfg->extra, cfg->extra_length,
		    &c->attrs, &c->detach_ms, &c->e.transfer_size,
		    &c->bcd_dfu);
	libusb_free_config_descriptor(cfg);
	/* Protocol 0 is DFU mode for DfuSe devices (bcdDFU 0x011A). */
	c->e.dfu_mode = proto == DFU_PROTO_DFU ||
	    (proto == 0 && have_func && c->bcd_dfu == FT_DFUSE_BCD);
	c->e.vid = dd.idVendor;
	c->e.pid = dd.idProduct;
	c->e.bcd_device = dd.bcdDevice;
	c->e.bus = libusb_get_bus_number(d);
	c->e.address = libusb_get_device_address(d);
	c->e.dfuse = have_func && c->bcd_dfu == FT_DFUSE_BCD;
	ft_dfu_usb_path(d, c->e.path, sizeof(c->e.path));
	c->udev = d;
	/* Stash the string indexes in the name fields until opened. */
	c->e.serial[0] = (char)dd.iSerialNumber;
	c->e.product[0] = (char)dd.iProduct;
	return 1;
}

/*
 * The device's first language ID, 0 when it has no strings.  Asked for
 * once per open: libusb's ASCII helper asks again before every string,
 * one control transfer each, and a slow bus pays for every one.
 */
uint16_t
ft_dfu_langid(libusb_device_handle *h)
{
	unsigned char buf[4];
	int r;

	r = libusb_get_string_descriptor(h, 0, 0, buf, sizeof(buf));
	if (r < 4 || buf[1] != LIBUSB_DT_STRING || buf[0] < 4)
		return 0;
	return (uint16_t)(buf[2] | buf[3] << 8);
}

/*
 * String index in language langid as ASCII, "?" for anything else (as
 * libusb_get_string_descriptor_ascii); "" when absent or unreadable.
 */
void
ft_dfu_read_string(libusb_device_handle *h, uint16_t langid, uint8_t index,
    char *out, size_t n)
{
	unsigned char buf[255];
	size_t k = 0;
	int r, i;

	out[0] = '\0';
	if (index == 0 || langid == 0 || n == 0)
		return;
	r = libusb_get_string_descriptor(h, index, langid, buf, sizeof(buf));
	if (r < 2 || buf[1] != LIBUSB_DT_STRING || buf[0] > r)
		return;
	for (i = 2; i + 1 < buf[0] && k + 1 < n; i += 2)
		out[k++] = buf[i + 1] != 0 || buf[i] >= 0x80 ? '?' :
		    (char)buf[i];
	out[k] = '\0';
}

/* Open d briefly for its serial, product and alt names. */
static void
read_strings(struct dfu_cand *c)
{
	libusb_device_handle *h;
	uint8_t iserial = (uint8_t)c->e.serial[0];
	uint8_t iproduct = (uint8_t)c->e.product[0];
	uint16_t langid;
	unsigned i;

	c->e.serial[0] = c->e.product[0] = '\0';
	c->open_err = libusb_open(c->udev, &h);
	if (c->open_err != 0)
		return;
	langid = ft_dfu_langid(h);
	ft_dfu_read_string(h, langid, iserial, c->e.serial,
	    sizeof(c->e.serial));
	ft_dfu_read_string(h, langid, iproduct, c->e.product,
	    sizeof(c->e.product));
	for (i = 0; i < c->e.nalts; i++)
		ft_dfu_read_string(h, langid, c->alt_str[i],
		    c->e.alts[i].name, sizeof(c->e.alts[i].name));
	libusb_close(h);
}

void
ft_dfu_free_cands(struct dfu_cand *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (c[i].udev != NULL)
			libusb_unref_device(c[i].udev);
	free(c);
}

/*
 * Every DFU device matching m.  Candidates hold a reference on their
 * libusb device.  Devices we could not open to read their strings
 * (permissions) are included with open_err set when the strings decide
 * the match, so the caller can report the access problem.
 */
int
ft_dfu_scan(struct ft_ctx *ctx, libusb_context *usb,
    const struct ft_dfu_match *m, struct dfu_cand **out, size_t *n)
{
	libusb_device **list;
	ssize_t nd, i;
	struct dfu_cand *cs;
	size_t k = 0;

	*out = NULL;
	*n = 0;
	nd = libusb_get_device_list(usb, &list);
	if (nd < 0)
		return ft_fail(ctx, ft_dfu_usb_err((int)nd), "listing USB "
		    "devices: %s", libusb_error_name((int)nd));
	cs = calloc((size_t)nd + 1, sizeof(*cs));
	if (cs == NULL) {
		libusb_free_device_list(list, 1);
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	}
	for (i = 0; i < nd; i++) {
		struct dfu_cand *c = &cs[k];

		if (!ft_dfu_describe(list[i], c) ||
		    !ft_dfu_match_ids(m, &c->e)) {
			memset(c, 0, sizeof(*c));
			continue;
		}
		read_strings(c);
		if (ft_dfu_match_strings(m, &c->e, c->open_err != 0) == 0) {
			memset(c, 0, sizeof(*c));
			continue;
		}
		libusb_ref_device(c->udev);
		k++;
	}
	libusb_free_device_list(list, 1);
	*out = cs;
	*n = k;
	return 0;
}

int
ft_dfu_list(struct ft_ctx *ctx, const struct ft_dfu_match *m,
    struct ft_dfu_entry **out, size_t *n)
{
	libusb_context *usb;
	struct dfu_cand *cs;
	struct ft_dfu_entry *es;
	size_t k, i;
	int r;

	*out = NULL;
	*n = 0;
	r = libusb_init(&usb);
	if (r != 0)
		return ft_fail(ctx, ft_dfu_usb_err(r), "libusb_init: %s",
		    libusb_error_name(r));
	r = ft_dfu_scan(ctx, usb, m, &cs, &k);
	if (r < 0) {
		libusb_exit(usb);
		return r;
	}
	es = calloc(k + 1, sizeof(*es));
	if (es == NULL) {
		ft_dfu_free_cands(cs, k);
		libusb_exit(usb);
		return ft_fail(ctx, FT_E_NOMEM, "out of memory");
	}
	for (i = 0; i < k; i++) {
		es[i] = cs[i].e;
		if (cs[i].open_err != 0)
			ft_warn(ctx, "cannot open USB device %04x:%04x at %s "
			    "(%s): names unknown; %s", es[i].vid, es[i].pid,
			    es[i].path, libusb_error_name(cs[i].open_err),
			    UDEV_HINT);
	}
	ft_dfu_free_cands(cs, k);
	libusb_exit(usb);
	*out = es;
	*n = k;
	return 0;
}

/* "1-1.2 serial FFFFFFFEFFFF: @Internal Flash ..., @Option Bytes ..." */
static void
describe_list(const struct dfu_cand *cs, size_t n, char *out, size_t len)
{
	size_t i, o = 0;
	unsigned a;

	out[0] = '\0';
	for (i = 0; i < n && o < len; i++) {
		o += (size_t)snprintf(out + o, len - o, "%s%s %04x:%04x%s%s%s "
		    "serial %s%s", i > 0 ? "; " : "", cs[i].e.path,
		    cs[i].e.vid, cs[i].e.pid, cs[i].e.product[0] ? " \"" : "",
		    cs[i].e.product, cs[i].e.product[0] ? "\"" : "",
		    cs[i].e.serial[0] != '\0' ? cs[i].e.serial : "?",
		    cs[i].e.dfu_mode ? "" : " (runtime mode)");
		/* Layout names ("Internal Flash") keep the list short. */
		for (a = 0; a < cs[i].e.nalts && o < len; a++) {
			struct ft_dfu_layout l;
			const char *name = cs[i].e.alts[a].name;

			if (ft_dfu_layout_parse(NULL, name, &l) == 0)
				name = l.name;
			o += (size_t)snprintf(out + o, len - o, "%s%d \"%s\"",
			    a == 0 ? ", alt " : ", ", cs[i].e.alts[a].alt,
			    name);
		}
	}
}

/*
 * No device matched m, but did one match all but the alt setting?  Then
 * the alt is wrong (a usage error), not the device missing: say which
 * alt settings there are.
 */
static int
wrong_alt(struct ft_ctx *ctx, libusb_context *usb,
    const struct ft_dfu_match *m)
{
	struct ft_dfu_match any;
	char list[FT_DETAIL_MAX];
	char want[32];
	struct dfu_cand *cs;
	size_t n;
	int r;

	if (m == NULL || (m->alt < 0 && m->alt_name == NULL))
		return 0;
	any = *m;
	any.alt = -1;
	any.alt_name = NULL;
	r = ft_dfu_scan(ctx, usb, &any, &cs, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		free(cs);
		return 0;
	}
	describe_list(cs, n, list, sizeof(list));
	ft_dfu_free_cands(cs, n);
	if (m->alt_name != NULL)
		snprintf(want, sizeof(want), "\"%.24s\"", m->alt_name);
	else
		snprintf(want, sizeof(want), "%d", m->alt);
	return ft_fail(ctx, FT_E_INVALID, "no alt setting %s on %s", want,
	    list);
}

/*
 * Find exactly one device, waiting up to wait_ms for one to appear.
 */
int
ft_dfu_select_one(struct ft_ctx *ctx, libusb_context *usb,
    const struct ft_dfu_match *m, unsigned wait_ms, struct dfu_cand *out)
{
	uint64_t start = ft_now_ms();
	int told = 0;
	struct dfu_cand *cs;
	size_t n, i;
	int r;

	for (;;) {
		r = ft_dfu_scan(ctx, usb, m, &cs, &n);
		if (r < 0)
			return r;
		if (n > 0)
			break;
		free(cs);
		r = wrong_alt(ctx, usb, m);
		if (r < 0)
			return r;
		if (ft_now_ms() - start >= wait_ms)
			return ft_fail(ctx, FT_E_NO_DEVICE, "no USB device in "
			    "DFU mode found%s; %s", wait_ms > 0 ?
			    " in time" : "", DFU_ENTRY_HINT);
		if (!told) {
			ft_info(ctx, "waiting for a DFU device (%s)",
			    DFU_ENTRY_HINT);
			told = 1;
		}
		if (ft_cancelled(ctx))
			return ft_fail(ctx, FT_E_INTERRUPTED,
			    "interrupted while waiting for a DFU device");
		dfu_sleep_ms(SCAN_INTERVAL_MS);
	}
	if (n > 1) {
		char list[FT_DETAIL_MAX];
		int same_serial = 1;

		for (i = 1; i < n; i++)
			if (strcmp(cs[i].e.serial, cs[0].e.serial) != 0)
				same_serial = 0;
		describe_list(cs, n, list, sizeof(list));
		ft_dfu_free_cands(cs, n);
		return ft_fail(ctx, FT_E_MULTIPLE, "%zu DFU devices match: %s. "
		    "Choose one with --path%s", n, list, same_serial ?
		    " (their serials are identical, the USB path tells "
		    "them apart)" : " (USB path), --serial or -d vid:pid");
	}
	if (cs[0].open_err != 0) {
		struct ft_dfu_entry e = cs[0].e;

		r = cs[0].open_err;
		ft_dfu_free_cands(cs, n);
		if (r == LIBUSB_ERROR_ACCESS)
			return ft_fail(ctx, FT_E_ACCESS, "no permission to "
			    "open USB device %04x:%04x at %s; " UDEV_HINT,
			    e.vid, e.pid, e.path);
		return ft_fail(ctx, ft_dfu_usb_err(r), "cannot open USB device "
		    "%04x:%04x at %s: %s", e.vid, e.pid, e.path,
		    libusb_error_name(r));
	}
	*out = cs[0];
	free(cs);
	return 0;
}
