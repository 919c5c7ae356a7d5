/*
 * fake_libusb.c - just enough of libusb-1.0 for lib/dfu/transport.c, with one
 * device whose descriptors, strings and control-transfer replies all
 * come from the fuzz input (fake_usb_start()).  Replies stay within
 * libusb's own contract (an IN transfer never returns more than wLength,
 * an ASCII string is NUL-terminated within its buffer): what the device
 * controls is every byte and length inside those bounds, every stall,
 * timeout and disappearance.  When the input runs out the device is
 * gone: transfers fail with LIBUSB_ERROR_NO_DEVICE and scans find
 * nothing, so every loop in the transport ends.
 *
 * Handles, contexts, device references and config descriptors are
 * counted; fake_usb_check() aborts if the transport leaked any.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libusb.h>

#include "fake_libusb.h"
#include "fuzz.h"
#include "vclock.h"

struct libusb_context {
	int dummy;
};

struct libusb_device {
	int refs;
};

struct libusb_device_handle {
	libusb_device *dev;
};

#define FAKE_MAX_ALTS 10
#define FAKE_EXTRA_MAX 32

struct fake_alt {
	uint8_t cls, subcls, proto, istr;
	uint8_t extra_len;
	uint8_t extra[FAKE_EXTRA_MAX];
};

struct fake {
	struct fuzz_in in;
	struct libusb_device dev;
	struct libusb_device_descriptor dd;
	unsigned nalts;
	struct fake_alt alt[FAKE_MAX_ALTS];
	uint8_t cfg_extra_len;
	uint8_t cfg_extra[FAKE_EXTRA_MAX];
	int contexts, handles, configs, lists;
	int trace;		/* FAKE_USB_TRACE set: log every call */
};

static struct fake F;

void
fake_usb_start(const uint8_t *data, size_t size)
{
	unsigned i;

	memset(&F, 0, sizeof(F));
	F.in.p = data;
	F.in.len = size;
	F.dev.refs = 1;		/* ours: the "bus" holds it */
	/* For writing seeds: which call consumed which input offset. */
	F.trace = getenv("FAKE_USB_TRACE") != NULL;
	F.dd.bLength = LIBUSB_DT_DEVICE_SIZE;
	F.dd.bDescriptorType = LIBUSB_DT_DEVICE;
	F.dd.bNumConfigurations = 1;
	F.dd.idVendor = fuzz_u16(&F.in);
	F.dd.idProduct = fuzz_u16(&F.in);
	F.dd.bcdDevice = fuzz_u16(&F.in);
	F.dd.iProduct = fuzz_u8(&F.in);
	F.dd.iSerialNumber = fuzz_u8(&F.in);
	F.nalts = 1 + fuzz_u8(&F.in) % FAKE_MAX_ALTS;
	for (i = 0; i < F.nalts; i++) {
		struct fake_alt *a = &F.alt[i];
		uint8_t k = fuzz_u8(&F.in);

		/* Mostly DFU interfaces; now and then something else. */
		a->cls = k < 0xF0 ? 0xFE : fuzz_u8(&F.in);
		a->subcls = k < 0xF0 ? 0x01 : fuzz_u8(&F.in);
		a->proto = k % 3;
		a->istr = fuzz_u8(&F.in);
		a->extra_len = (uint8_t)fuzz_bytes(&F.in, a->extra,
		    fuzz_u8(&F.in) % (FAKE_EXTRA_MAX + 1));
	}
	F.cfg_extra_len = (uint8_t)fuzz_bytes(&F.in, F.cfg_extra,
	    fuzz_u8(&F.in) % (FAKE_EXTRA_MAX + 1));
}

void
fake_usb_check(void)
{
	if (F.contexts != 0 || F.handles != 0 || F.configs != 0 ||
	    F.lists != 0 || F.dev.refs != 1)
		abort();
}

static int
gone(void)
{
	return fuzz_empty(&F.in);
}

/* Scans and opens find the device; in trace mode, at the input's end
 * too, so that a seed can be grown one reply at a time. */
static int
present(void)
{
	return !gone() || F.trace;
}

int
libusb_init(libusb_context **ctx)
{
	*ctx = malloc(sizeof(**ctx));
	if (*ctx == NULL)
		return LIBUSB_ERROR_NO_MEM;
	F.contexts++;
	return 0;
}

void
libusb_exit(libusb_context *ctx)
{
	if (ctx == NULL)
		abort();
	free(ctx);
	F.contexts--;
}

const char *
libusb_error_name(int errcode)
{
	switch (errcode) {
	case LIBUSB_ERROR_PIPE:
		return "LIBUSB_ERROR_PIPE";
	case LIBUSB_ERROR_TIMEOUT:
		return "LIBUSB_ERROR_TIMEOUT";
	case LIBUSB_ERROR_NO_DEVICE:
		return "LIBUSB_ERROR_NO_DEVICE";
	default:
		return "LIBUSB_ERROR_OTHER";
	}
}

ssize_t
libusb_get_device_list(libusb_context *ctx, libusb_device ***list)
{
	libusb_device **l = calloc(2, sizeof(*l));

	(void)ctx;
	if (l == NULL)
		return LIBUSB_ERROR_NO_MEM;
	F.lists++;
	if (present()) {
		l[0] = &F.dev;
		F.dev.refs++;
	}
	*list = l;
	return l[0] != NULL ? 1 : 0;
}

void
libusb_free_device_list(libusb_device **list, int unref_devices)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; unref_devices && list[i] != NULL; i++)
		libusb_unref_device(list[i]);
	free(list);
	F.lists--;
}

libusb_device *
libusb_ref_device(libusb_device *dev)
{
	dev->refs++;
	return dev;
}

void
libusb_unref_device(libusb_device *dev)
{
	if (dev == NULL)
		return;
	if (dev->refs <= 1)
		abort();	/* more unrefs than refs */
	dev->refs--;
}

int
libusb_get_device_descriptor(libusb_device *dev,
    struct libusb_device_descriptor *desc)
{
	(void)dev;
	*desc = F.dd;
	return 0;
}

static int
make_config(struct libusb_config_descriptor **out)
{
	struct libusb_config_descriptor *c = calloc(1, sizeof(*c));
	struct libusb_interface *itf = calloc(1, sizeof(*itf));
	struct libusb_interface_descriptor *alts =
	    calloc(F.nalts, sizeof(*alts));
	unsigned i;

	if (c == NULL || itf == NULL || alts == NULL) {
		free(c);
		free(itf);
		free(alts);
		return LIBUSB_ERROR_NO_MEM;
	}
	for (i = 0; i < F.nalts; i++) {
		alts[i].bLength = LIBUSB_DT_INTERFACE_SIZE;
		alts[i].bDescriptorType = LIBUSB_DT_INTERFACE;
		alts[i].bInterfaceNumber = 0;
		alts[i].bAlternateSetting = (uint8_t)i;
		alts[i].bInterfaceClass = F.alt[i].cls;
		alts[i].bInterfaceSubClass = F.alt[i].subcls;
		alts[i].bInterfaceProtocol = F.alt[i].proto;
		alts[i].iInterface = F.alt[i].istr;
		/* A copy of exactly extra_len bytes: ASan sees overruns. */
		if (F.alt[i].extra_len > 0) {
			unsigned char *x = malloc(F.alt[i].extra_len);

			if (x == NULL)
				abort();
			memcpy(x, F.alt[i].extra, F.alt[i].extra_len);
			alts[i].extra = x;
			alts[i].extra_length = F.alt[i].extra_len;
		}
	}
	itf->altsetting = alts;
	itf->num_altsetting = (int)F.nalts;
	c->bLength = LIBUSB_DT_CONFIG_SIZE;
	c->bDescriptorType = LIBUSB_DT_CONFIG;
	c->bNumInterfaces = 1;
	c->bConfigurationValue = 1;
	c->interface = itf;
	if (F.cfg_extra_len > 0) {
		unsigned char *x = malloc(F.cfg_extra_len);

		if (x == NULL)
			abort();
		memcpy(x, F.cfg_extra, F.cfg_extra_len);
		c->extra = x;
		c->extra_length = F.cfg_extra_len;
	}
	F.configs++;
	*out = c;
	return 0;
}

int
libusb_get_active_config_descriptor(libusb_device *dev,
    struct libusb_config_descriptor **config)
{
	(void)dev;
	return make_config(config);
}

int
libusb_get_config_descriptor(libusb_device *dev, uint8_t config_index,
    struct libusb_config_descriptor **config)
{
	(void)dev;
	if (config_index != 0)
		return LIBUSB_ERROR_NOT_FOUND;
	return make_config(config);
}

void
libusb_free_config_descriptor(struct libusb_config_descriptor *config)
{
	int i;

	if (config == NULL)
		return;
	for (i = 0; i < config->interface->num_altsetting; i++)
		free((void *)(uintptr_t)config->interface->altsetting[i].extra);
	free((void *)(uintptr_t)config->interface->altsetting);
	free((void *)(uintptr_t)config->interface);
	free((void *)(uintptr_t)config->extra);
	free(config);
	F.configs--;
}

uint8_t
libusb_get_bus_number(libusb_device *dev)
{
	(void)dev;
	return 1;
}

uint8_t
libusb_get_device_address(libusb_device *dev)
{
	(void)dev;
	return 7;
}

int
libusb_get_port_numbers(libusb_device *dev, uint8_t *port_numbers,
    int port_numbers_len)
{
	static const uint8_t ports[] = { 1, 4, 2 };
	int n = (int)sizeof(ports);

	(void)dev;
	if (port_numbers_len < n)
		return LIBUSB_ERROR_OVERFLOW;
	memcpy(port_numbers, ports, sizeof(ports));
	return n;
}

int
libusb_open(libusb_device *dev, libusb_device_handle **dev_handle)
{
	libusb_device_handle *h;

	if (!present())
		return LIBUSB_ERROR_NO_DEVICE;
	h = malloc(sizeof(*h));
	if (h == NULL)
		return LIBUSB_ERROR_NO_MEM;
	h->dev = libusb_ref_device(dev);
	F.handles++;
	*dev_handle = h;
	return 0;
}

void
libusb_close(libusb_device_handle *dev_handle)
{
	if (dev_handle == NULL)
		return;
	libusb_unref_device(dev_handle->dev);
	free(dev_handle);
	F.handles--;
}

/* A request that the device may refuse: 0 or a libusb error. */
static int
verdict(void)
{
	uint8_t b;

	if (F.trace)
		fprintf(stderr, "fake-usb @%zu verdict\n", F.in.pos);
	if (gone())
		return LIBUSB_ERROR_NO_DEVICE;
	b = fuzz_u8(&F.in);
	switch (b) {
	case 0xFF:
		return LIBUSB_ERROR_NO_DEVICE;
	case 0xFE:
		return LIBUSB_ERROR_PIPE;
	case 0xFD:
		return LIBUSB_ERROR_BUSY;
	case 0xFC:
		return LIBUSB_ERROR_NOT_FOUND;
	default:
		return 0;
	}
}

int
libusb_claim_interface(libusb_device_handle *dev_handle, int iface)
{
	(void)dev_handle;
	(void)iface;
	return verdict();
}

int
libusb_release_interface(libusb_device_handle *dev_handle, int iface)
{
	(void)dev_handle;
	(void)iface;
	return 0;
}

int
libusb_set_interface_alt_setting(libusb_device_handle *dev_handle,
    int iface, int alt)
{
	(void)dev_handle;
	(void)iface;
	(void)alt;
	return verdict();
}

int
libusb_set_auto_detach_kernel_driver(libusb_device_handle *dev_handle,
    int enable)
{
	(void)dev_handle;
	(void)enable;
	return 0;
}

int
libusb_reset_device(libusb_device_handle *dev_handle)
{
	(void)dev_handle;
	return verdict();
}

int
libusb_get_string_descriptor_ascii(libusb_device_handle *dev_handle,
    uint8_t desc_index, unsigned char *data, int length)
{
	int n, i;

	(void)dev_handle;
	(void)desc_index;
	if (length <= 0)
		return LIBUSB_ERROR_INVALID_PARAM;
	if (F.trace)
		fprintf(stderr, "fake-usb string %u:\n", desc_index);
	n = verdict();
	if (n != 0)
		return n;
	/* bLength from the device; libusb keeps the string inside data. */
	n = fuzz_u8(&F.in);
	if (n > length - 1)
		n = length - 1;
	for (i = 0; i < n; i++) {
		uint8_t c = fuzz_u8(&F.in);

		data[i] = c < 0x80 ? c : '?';
	}
	data[n] = '\0';
	return n;
}

int
libusb_control_transfer(libusb_device_handle *dev_handle,
    uint8_t request_type, uint8_t bRequest, uint16_t wValue, uint16_t wIndex,
    unsigned char *data, uint16_t wLength, unsigned int timeout)
{
	uint8_t k;
	size_t n;

	(void)dev_handle;
	(void)bRequest;
	(void)wValue;
	(void)wIndex;
	if (F.trace)
		fprintf(stderr, "fake-usb @%zu ctrl type 0x%02x req %u "
		    "value 0x%04x len %u\n", F.in.pos, request_type, bRequest,
		    wValue, wLength);
	if (gone())
		return LIBUSB_ERROR_NO_DEVICE;
	k = fuzz_u8(&F.in);
	switch (k) {
	case 0xFF:
		return LIBUSB_ERROR_NO_DEVICE;
	case 0xFE:
		return LIBUSB_ERROR_PIPE;
	case 0xFD:
		vclock_advance_ms(timeout);
		return LIBUSB_ERROR_TIMEOUT;
	case 0xFC:
		return LIBUSB_ERROR_IO;
	case 0xFB:
		return LIBUSB_ERROR_OVERFLOW;
	case 0xFA:
		/* IN: a full reply of one repeated byte (erased flash). */
		if (request_type & LIBUSB_ENDPOINT_IN) {
			memset(data, fuzz_u8(&F.in), wLength);
			return wLength;
		}
		break;
	default:
		break;
	}
	if (!(request_type & LIBUSB_ENDPOINT_IN)) {
		volatile uint8_t sink = 0;

		/* OUT: the host's bytes must all be readable. */
		for (n = 0; n < wLength; n++)
			sink ^= data[n];
		(void)sink;
		return wLength;
	}
	/* IN: a full reply (k < 0x80) or a short one of k & 0x7F bytes. */
	n = k < 0x80 ? wLength : (size_t)(k & 0x7F);
	if (n > wLength)
		n = wLength;
	memset(data, 0, n);
	(void)fuzz_bytes(&F.in, data, n);
	return (int)n;
}

/*
 * No hotplug here: the transport's watch then scans the device list,
 * whose answers come from the fuzz input like everything else.
 */
int
libusb_has_capability(uint32_t capability)
{
	(void)capability;
	return 0;
}

int
libusb_hotplug_register_callback(libusb_context *ctx, int events, int flags,
    int vendor_id, int product_id, int dev_class,
    libusb_hotplug_callback_fn cb_fn, void *user_data,
    libusb_hotplug_callback_handle *callback_handle)
{
	(void)ctx;
	(void)events;
	(void)flags;
	(void)vendor_id;
	(void)product_id;
	(void)dev_class;
	(void)cb_fn;
	(void)user_data;
	(void)callback_handle;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}

void
libusb_hotplug_deregister_callback(libusb_context *ctx,
    libusb_hotplug_callback_handle callback_handle)
{
	(void)ctx;
	(void)callback_handle;
}

int
libusb_handle_events_timeout_completed(libusb_context *ctx,
    struct timeval *tv, int *completed)
{
	(void)ctx;
	(void)tv;
	(void)completed;
	return 0;
}
