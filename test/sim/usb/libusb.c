/*
 * libusb.c - the libusb-1.0 API of the simulator, preloaded
 * (LD_PRELOAD=libusb-sim.so) in front of the real library.  Every function
 * of <libusb.h> is defined here so that no call ever reaches the real
 * libusb with our objects; what a DFU host needs is simulated, the rest
 * answers LIBUSB_ERROR_NOT_SUPPORTED (or NULL / nothing).
 *
 * A libusb_device is a snapshot of one simulated device at enumeration:
 * the personality (run-time or DFU mode) and the generation it had.  A
 * handle whose device has since reset, re-enumerated or left answers
 * LIBUSB_ERROR_NO_DEVICE, as a vanished Linux device does.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <libusb.h>

#include "usbsim.h"

struct libusb_context {
	int dummy;
};

struct libusb_device {
	int refs;
	struct sim_dev *sd;
	int mode;
	unsigned gen;
};

struct libusb_device_handle {
	struct libusb_device *dev;
	unsigned claimed;
};

static struct libusb_context default_ctx;
static int default_refs;

static int stale(const struct libusb_device *dev)
{
	return dev->sd->mode != dev->mode || dev->sd->gen != dev->gen;
}

static int handle_ok(libusb_device_handle *h)
{
	if (!h)
		return LIBUSB_ERROR_INVALID_PARAM;
	sim_refresh(h->dev->sd);
	return stale(h->dev) ? LIBUSB_ERROR_NO_DEVICE : 0;
}

/* The model's results as libusb reports them on Linux. */
static int to_libusb(int rc)
{
	switch (rc) {
	case SIM_E_STALL: return LIBUSB_ERROR_PIPE;
	case SIM_E_IO: return LIBUSB_ERROR_IO;
	case SIM_E_TIMEOUT: return LIBUSB_ERROR_TIMEOUT;
	case SIM_E_GONE: return LIBUSB_ERROR_NO_DEVICE;
	case SIM_E_NOT_FOUND: return LIBUSB_ERROR_NOT_FOUND;
	case SIM_E_PARAM: return LIBUSB_ERROR_INVALID_PARAM;
	default: return rc < 0 ? LIBUSB_ERROR_OTHER : rc;
	}
}

/* ---- library ---- */

int LIBUSB_CALL libusb_init(libusb_context **ctx)
{
	if (sim_load_config())
		return LIBUSB_ERROR_OTHER;
	if (ctx) {
		*ctx = calloc(1, sizeof(**ctx));
		return *ctx ? 0 : LIBUSB_ERROR_NO_MEM;
	}
	default_refs++;
	return 0;
}

void LIBUSB_CALL libusb_exit(libusb_context *ctx)
{
	int i;

	for (i = 0; i < sim_ndevs; i++) {
		sim_save(sim_devs[i]);
		sim_log(sim_devs[i], "EXIT -> OK");
	}
	if (ctx && ctx != &default_ctx)
		free(ctx);
	else if (default_refs > 0)
		default_refs--;
}

void LIBUSB_CALL libusb_set_debug(libusb_context *ctx, int level)
{
	(void)ctx;
	(void)level;
}

void LIBUSB_CALL libusb_set_log_cb(libusb_context *ctx, libusb_log_cb cb,
    int mode)
{
	(void)ctx;
	(void)cb;
	(void)mode;
}

int LIBUSB_CALL libusb_set_option(libusb_context *ctx,
    enum libusb_option option, ...)
{
	(void)ctx;
	switch (option) {
	case LIBUSB_OPTION_LOG_LEVEL:
	case LIBUSB_OPTION_NO_DEVICE_DISCOVERY:
		return 0;
	default:
		return LIBUSB_ERROR_NOT_SUPPORTED;
	}
}

const struct libusb_version * LIBUSB_CALL libusb_get_version(void)
{
	static const struct libusb_version v = {
		1, 0, 26, 0, "", "flashtool usbsim"
	};

	return &v;
}

int LIBUSB_CALL libusb_has_capability(uint32_t capability)
{
	return capability == LIBUSB_CAP_HAS_CAPABILITY ||
	    capability == LIBUSB_CAP_SUPPORTS_DETACH_KERNEL_DRIVER;
}

static const struct {
	int code;
	const char *name, *text;
} errors[] = {
	{ LIBUSB_SUCCESS, "LIBUSB_SUCCESS", "Success" },
	{ LIBUSB_ERROR_IO, "LIBUSB_ERROR_IO", "Input/Output Error" },
	{ LIBUSB_ERROR_INVALID_PARAM, "LIBUSB_ERROR_INVALID_PARAM",
	  "Invalid parameter" },
	{ LIBUSB_ERROR_ACCESS, "LIBUSB_ERROR_ACCESS",
	  "Access denied (insufficient permissions)" },
	{ LIBUSB_ERROR_NO_DEVICE, "LIBUSB_ERROR_NO_DEVICE",
	  "No such device (it may have been disconnected)" },
	{ LIBUSB_ERROR_NOT_FOUND, "LIBUSB_ERROR_NOT_FOUND",
	  "Entity not found" },
	{ LIBUSB_ERROR_BUSY, "LIBUSB_ERROR_BUSY", "Resource busy" },
	{ LIBUSB_ERROR_TIMEOUT, "LIBUSB_ERROR_TIMEOUT", "Operation timed out" },
	{ LIBUSB_ERROR_OVERFLOW, "LIBUSB_ERROR_OVERFLOW", "Overflow" },
	{ LIBUSB_ERROR_PIPE, "LIBUSB_ERROR_PIPE", "Pipe error" },
	{ LIBUSB_ERROR_INTERRUPTED, "LIBUSB_ERROR_INTERRUPTED",
	  "System call interrupted (perhaps due to signal)" },
	{ LIBUSB_ERROR_NO_MEM, "LIBUSB_ERROR_NO_MEM", "Insufficient memory" },
	{ LIBUSB_ERROR_NOT_SUPPORTED, "LIBUSB_ERROR_NOT_SUPPORTED",
	  "Operation not supported or unimplemented on this platform" },
	{ LIBUSB_ERROR_OTHER, "LIBUSB_ERROR_OTHER", "Other error" },
};

const char * LIBUSB_CALL libusb_error_name(int errcode)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == errcode)
			return errors[i].name;
	return "**UNKNOWN**";
}

const char * LIBUSB_CALL libusb_strerror(int errcode)
{
	size_t i;

	for (i = 0; i < sizeof(errors) / sizeof(errors[0]); i++)
		if (errors[i].code == errcode)
			return errors[i].text;
	return "Unknown error";
}

int LIBUSB_CALL libusb_setlocale(const char *locale)
{
	(void)locale;
	return 0;
}

/* ---- enumeration ---- */

ssize_t LIBUSB_CALL libusb_get_device_list(libusb_context *ctx,
    libusb_device ***list)
{
	libusb_device **l;
	ssize_t n = 0;
	int i;

	(void)ctx;
	if (!list)
		return LIBUSB_ERROR_INVALID_PARAM;
	if (sim_load_config())
		return LIBUSB_ERROR_OTHER;
	l = calloc((size_t)sim_ndevs + 1, sizeof(*l));
	if (!l)
		return LIBUSB_ERROR_NO_MEM;
	for (i = 0; i < sim_ndevs; i++) {
		struct sim_dev *sd = sim_devs[i];

		sim_refresh(sd);
		if (sd->mode != MODE_DFU && sd->mode != MODE_RUNTIME &&
		    sd->mode != MODE_APP)
			continue;
		l[n] = calloc(1, sizeof(*l[n]));
		if (!l[n])
			break;
		l[n]->refs = 1;
		l[n]->sd = sd;
		l[n]->mode = sd->mode;
		l[n]->gen = sd->gen;
		n++;
	}
	*list = l;
	return n;
}

void LIBUSB_CALL libusb_free_device_list(libusb_device **list,
    int unref_devices)
{
	size_t i;

	if (!list)
		return;
	if (unref_devices)
		for (i = 0; list[i]; i++)
			libusb_unref_device(list[i]);
	free(list);
}

libusb_device * LIBUSB_CALL libusb_ref_device(libusb_device *dev)
{
	if (dev)
		dev->refs++;
	return dev;
}

void LIBUSB_CALL libusb_unref_device(libusb_device *dev)
{
	if (dev && --dev->refs == 0)
		free(dev);
}

uint8_t LIBUSB_CALL libusb_get_bus_number(libusb_device *dev)
{
	return dev ? dev->sd->bus : 0;
}

uint8_t LIBUSB_CALL libusb_get_port_number(libusb_device *dev)
{
	return dev ? dev->sd->ports[dev->sd->nports - 1] : 0;
}

int LIBUSB_CALL libusb_get_port_numbers(libusb_device *dev,
    uint8_t *port_numbers, int port_numbers_len)
{
	if (!dev || !port_numbers || port_numbers_len <= 0)
		return LIBUSB_ERROR_INVALID_PARAM;
	if (port_numbers_len < dev->sd->nports)
		return LIBUSB_ERROR_OVERFLOW;
	memcpy(port_numbers, dev->sd->ports, dev->sd->nports);
	return dev->sd->nports;
}

int LIBUSB_CALL libusb_get_port_path(libusb_context *ctx, libusb_device *dev,
    uint8_t *path, uint8_t path_length)
{
	(void)ctx;
	return libusb_get_port_numbers(dev, path, path_length);
}

/* Hubs are not simulated. */
libusb_device * LIBUSB_CALL libusb_get_parent(libusb_device *dev)
{
	(void)dev;
	return NULL;
}

uint8_t LIBUSB_CALL libusb_get_device_address(libusb_device *dev)
{
	return dev ? (uint8_t)(2 + ((unsigned)dev->sd->idx * 8 + dev->gen) %
	    120) : 0;
}

int LIBUSB_CALL libusb_get_device_speed(libusb_device *dev)
{
	(void)dev;
	return LIBUSB_SPEED_FULL;
}

int LIBUSB_CALL libusb_get_max_packet_size(libusb_device *dev,
    unsigned char endpoint)
{
	(void)dev;
	(void)endpoint;
	return LIBUSB_ERROR_NOT_FOUND;	/* only EP0 exists */
}

int LIBUSB_CALL libusb_get_max_iso_packet_size(libusb_device *dev,
    unsigned char endpoint)
{
	(void)dev;
	(void)endpoint;
	return LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_get_device_descriptor(libusb_device *dev,
    struct libusb_device_descriptor *desc)
{
	uint8_t b[18];

	if (!dev || !desc)
		return LIBUSB_ERROR_INVALID_PARAM;
	sim_device_bytes(dev->sd, dev->mode, b);
	desc->bLength = b[0];
	desc->bDescriptorType = b[1];
	desc->bcdUSB = (uint16_t)(b[2] | b[3] << 8);
	desc->bDeviceClass = b[4];
	desc->bDeviceSubClass = b[5];
	desc->bDeviceProtocol = b[6];
	desc->bMaxPacketSize0 = b[7];
	desc->idVendor = (uint16_t)(b[8] | b[9] << 8);
	desc->idProduct = (uint16_t)(b[10] | b[11] << 8);
	desc->bcdDevice = (uint16_t)(b[12] | b[13] << 8);
	desc->iManufacturer = b[14];
	desc->iProduct = b[15];
	desc->iSerialNumber = b[16];
	desc->bNumConfigurations = b[17];
	return 0;
}

/* One allocation holds the config, its interface, the alt settings and
 * the extra bytes, so libusb_free_config_descriptor is a single free. */
struct config_block {
	struct libusb_config_descriptor config;
	struct libusb_interface iface;
	struct libusb_interface_descriptor alts[SIM_MAX_ALTS];
	unsigned char extra[9];
};

int LIBUSB_CALL libusb_get_config_descriptor(libusb_device *dev,
    uint8_t config_index, struct libusb_config_descriptor **config)
{
	const struct sim_model *m;
	struct config_block *cb;
	uint8_t raw[9 + SIM_MAX_ALTS * 9 + 9];
	unsigned i;

	if (!dev || !config)
		return LIBUSB_ERROR_INVALID_PARAM;
	if (config_index != 0)
		return LIBUSB_ERROR_NOT_FOUND;
	m = sim_personality(dev->sd, dev->mode);
	cb = calloc(1, sizeof(*cb));
	if (!cb)
		return LIBUSB_ERROR_NO_MEM;
	sim_config_bytes(dev->sd, dev->mode, raw, sizeof(raw));
	cb->config.bLength = raw[0];
	cb->config.bDescriptorType = raw[1];
	cb->config.wTotalLength = (uint16_t)(raw[2] | raw[3] << 8);
	cb->config.bNumInterfaces = raw[4];
	cb->config.bConfigurationValue = raw[5];
	cb->config.iConfiguration = raw[6];
	cb->config.bmAttributes = raw[7];
	cb->config.MaxPower = raw[8];
	cb->config.interface = &cb->iface;
	cb->iface.altsetting = cb->alts;
	if (dev->mode == MODE_APP) {
		const uint8_t *r = raw + 9;

		cb->iface.num_altsetting = 1;
		cb->alts[0].bLength = r[0];
		cb->alts[0].bDescriptorType = r[1];
		cb->alts[0].bInterfaceClass = r[5];
		cb->alts[0].bInterfaceSubClass = r[6];
		cb->alts[0].bInterfaceProtocol = r[7];
		*config = &cb->config;
		return 0;
	}
	cb->iface.num_altsetting = (int)m->nalts;
	for (i = 0; i < m->nalts; i++) {
		const uint8_t *r = raw + 9 + 9 * i;
		struct libusb_interface_descriptor *a = &cb->alts[i];

		a->bLength = r[0];
		a->bDescriptorType = r[1];
		a->bInterfaceNumber = r[2];
		a->bAlternateSetting = r[3];
		a->bNumEndpoints = r[4];
		a->bInterfaceClass = r[5];
		a->bInterfaceSubClass = r[6];
		a->bInterfaceProtocol = r[7];
		a->iInterface = r[8];
	}
	/* The functional descriptor follows the last alt setting, so
	 * libusb reports it as that alt setting's extra bytes. */
	memcpy(cb->extra, raw + 9 + 9 * m->nalts, 9);
	cb->alts[m->nalts - 1].extra = cb->extra;
	cb->alts[m->nalts - 1].extra_length = 9;
	*config = &cb->config;
	return 0;
}

int LIBUSB_CALL libusb_get_active_config_descriptor(libusb_device *dev,
    struct libusb_config_descriptor **config)
{
	return libusb_get_config_descriptor(dev, 0, config);
}

int LIBUSB_CALL libusb_get_config_descriptor_by_value(libusb_device *dev,
    uint8_t bConfigurationValue, struct libusb_config_descriptor **config)
{
	if (bConfigurationValue != 1)
		return LIBUSB_ERROR_NOT_FOUND;
	return libusb_get_config_descriptor(dev, 0, config);
}

void LIBUSB_CALL libusb_free_config_descriptor(
    struct libusb_config_descriptor *config)
{
	free(config);	/* first member of struct config_block */
}

/* ---- handles ---- */

int LIBUSB_CALL libusb_open(libusb_device *dev,
    libusb_device_handle **dev_handle)
{
	libusb_device_handle *h;

	if (!dev || !dev_handle)
		return LIBUSB_ERROR_INVALID_PARAM;
	sim_refresh(dev->sd);
	if (stale(dev))
		return LIBUSB_ERROR_NO_DEVICE;
	if (dev->sd->access_denied) {
		sim_log(dev->sd, "OPEN -> ACCESS");
		return LIBUSB_ERROR_ACCESS;
	}
	h = calloc(1, sizeof(*h));
	if (!h)
		return LIBUSB_ERROR_NO_MEM;
	h->dev = libusb_ref_device(dev);
	dev->sd->open_count++;
	sim_log(dev->sd, "OPEN -> OK");
	*dev_handle = h;
	return 0;
}

libusb_device_handle * LIBUSB_CALL libusb_open_device_with_vid_pid(
    libusb_context *ctx, uint16_t vendor_id, uint16_t product_id)
{
	libusb_device **list;
	libusb_device_handle *h = NULL;
	ssize_t n, i;

	n = libusb_get_device_list(ctx, &list);
	if (n < 0)
		return NULL;
	for (i = 0; i < n; i++) {
		struct sim_dev *sd = list[i]->sd;

		if (sim_vid(sd, list[i]->mode) == vendor_id &&
		    sim_pid(sd, list[i]->mode) == product_id &&
		    libusb_open(list[i], &h) == 0)
			break;
	}
	libusb_free_device_list(list, 1);
	return h;
}

void LIBUSB_CALL libusb_close(libusb_device_handle *dev_handle)
{
	if (!dev_handle)
		return;
	if (dev_handle->dev->sd->open_count > 0)
		dev_handle->dev->sd->open_count--;
	/* A test checks that every claim was released before the close. */
	sim_log(dev_handle->dev->sd, "CLOSE%s -> OK",
	    (dev_handle->claimed & 1) ? " interface 0 still claimed" : "");
	sim_save(dev_handle->dev->sd);
	libusb_unref_device(dev_handle->dev);
	free(dev_handle);
}

libusb_device * LIBUSB_CALL libusb_get_device(libusb_device_handle *dev_handle)
{
	return dev_handle ? dev_handle->dev : NULL;
}

int LIBUSB_CALL libusb_wrap_sys_device(libusb_context *ctx, intptr_t sys_dev,
    libusb_device_handle **dev_handle)
{
	(void)ctx;
	(void)sys_dev;
	(void)dev_handle;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}

int LIBUSB_CALL libusb_get_configuration(libusb_device_handle *dev,
    int *config)
{
	int rc = handle_ok(dev);

	if (rc)
		return rc;
	if (config)
		*config = 1;
	return 0;
}

int LIBUSB_CALL libusb_set_configuration(libusb_device_handle *dev_handle,
    int configuration)
{
	int rc = handle_ok(dev_handle);

	if (rc)
		return rc;
	return (configuration == 1 || configuration == -1 ||
	    configuration == 0) ? 0 : LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_claim_interface(libusb_device_handle *dev_handle,
    int interface_number)
{
	int rc = handle_ok(dev_handle);

	if (rc)
		return rc;
	if (interface_number != 0)
		return LIBUSB_ERROR_NOT_FOUND;
	dev_handle->claimed |= 1;
	sim_log(dev_handle->dev->sd, "CLAIM interface 0 -> OK");
	return 0;
}

int LIBUSB_CALL libusb_release_interface(libusb_device_handle *dev_handle,
    int interface_number)
{
	int rc = handle_ok(dev_handle);

	if (dev_handle && rc == 0 &&
	    (interface_number != 0 || !(dev_handle->claimed & 1)))
		rc = LIBUSB_ERROR_NOT_FOUND;
	if (dev_handle)
		sim_log(dev_handle->dev->sd, "RELEASE interface %d -> %s",
		    interface_number, rc == 0 ? "OK" : libusb_error_name(rc));
	if (rc)
		return rc;
	dev_handle->claimed &= ~1u;
	return 0;
}

int LIBUSB_CALL libusb_set_interface_alt_setting(
    libusb_device_handle *dev_handle, int interface_number,
    int alternate_setting)
{
	int rc = handle_ok(dev_handle);

	if (rc)
		return rc;
	if (interface_number != 0)
		return LIBUSB_ERROR_NOT_FOUND;
	return to_libusb(sim_set_alt(dev_handle->dev->sd, alternate_setting));
}

int LIBUSB_CALL libusb_clear_halt(libusb_device_handle *dev_handle,
    unsigned char endpoint)
{
	int rc = handle_ok(dev_handle);

	if (rc)
		return rc;
	return endpoint == 0 || endpoint == 0x80 ? 0 : LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_reset_device(libusb_device_handle *dev_handle)
{
	int rc = handle_ok(dev_handle);

	if (rc)
		return rc;
	return to_libusb(sim_reset(dev_handle->dev->sd));
}

int LIBUSB_CALL libusb_kernel_driver_active(libusb_device_handle *dev_handle,
    int interface_number)
{
	int rc = handle_ok(dev_handle);

	if (rc)
		return rc;
	return interface_number == 0 ? 0 : LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_detach_kernel_driver(libusb_device_handle *dev_handle,
    int interface_number)
{
	int rc = handle_ok(dev_handle);

	if (rc)
		return rc;
	return interface_number == 0 ? LIBUSB_ERROR_NOT_FOUND :
	    LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_attach_kernel_driver(libusb_device_handle *dev_handle,
    int interface_number)
{
	int rc = handle_ok(dev_handle);

	(void)interface_number;
	if (rc)
		return rc;
	return LIBUSB_ERROR_NOT_FOUND;
}

int LIBUSB_CALL libusb_set_auto_detach_kernel_driver(
    libusb_device_handle *dev_handle, int enable)
{
	(void)dev_handle;
	(void)enable;
	return 0;
}

/* ---- transfers ---- */

int LIBUSB_CALL libusb_control_transfer(libusb_device_handle *dev_handle,
    uint8_t request_type, uint8_t bRequest, uint16_t wValue, uint16_t wIndex,
    unsigned char *data, uint16_t wLength, unsigned int timeout)
{
	struct libusb_device *dev;
	int rc = handle_ok(dev_handle);

	if (rc)
		return rc;
	dev = dev_handle->dev;
	return to_libusb(sim_control(dev->sd, dev->mode, request_type,
	    bRequest, wValue, wIndex, data, wLength, timeout));
}

int LIBUSB_CALL libusb_get_string_descriptor_ascii(
    libusb_device_handle *dev_handle, uint8_t desc_index,
    unsigned char *data, int length)
{
	unsigned char buf[256];
	int rc, i, n;

	if (!data || length <= 0)
		return LIBUSB_ERROR_INVALID_PARAM;
	if (desc_index == 0)
		return LIBUSB_ERROR_INVALID_PARAM;
	/*
	 * libusb 1.0.26 (descriptor.c) asks for the language list first on
	 * every call and uses its first entry: two transfers per string,
	 * which a caller pays for on a real bus.
	 */
	rc = libusb_control_transfer(dev_handle, LIBUSB_ENDPOINT_IN,
	    LIBUSB_REQUEST_GET_DESCRIPTOR, LIBUSB_DT_STRING << 8, 0, buf,
	    sizeof(buf), 1000);
	if (rc < 0)
		return rc;
	if (rc < 4 || buf[1] != LIBUSB_DT_STRING)
		return LIBUSB_ERROR_IO;
	rc = libusb_control_transfer(dev_handle, LIBUSB_ENDPOINT_IN,
	    LIBUSB_REQUEST_GET_DESCRIPTOR,
	    (uint16_t)(LIBUSB_DT_STRING << 8 | desc_index),
	    (uint16_t)(buf[2] | buf[3] << 8), buf, sizeof(buf), 1000);
	if (rc < 0)
		return rc;
	if (rc < 2 || buf[1] != LIBUSB_DT_STRING || buf[0] > rc)
		return LIBUSB_ERROR_IO;
	n = 0;
	for (i = 2; i + 1 < buf[0] && n < length - 1; i += 2)
		data[n++] = (buf[i + 1] || buf[i] & 0x80) ? '?' : buf[i];
	data[n] = '\0';
	return n;
}

int LIBUSB_CALL libusb_bulk_transfer(libusb_device_handle *dev_handle,
    unsigned char endpoint, unsigned char *data, int length,
    int *actual_length, unsigned int timeout)
{
	(void)endpoint;
	(void)data;
	(void)length;
	(void)timeout;
	if (actual_length)
		*actual_length = 0;
	return handle_ok(dev_handle) ? handle_ok(dev_handle) :
	    LIBUSB_ERROR_NOT_SUPPORTED;
}

int LIBUSB_CALL libusb_interrupt_transfer(libusb_device_handle *dev_handle,
    unsigned char endpoint, unsigned char *data, int length,
    int *actual_length, unsigned int timeout)
{
	return libusb_bulk_transfer(dev_handle, endpoint, data, length,
	    actual_length, timeout);
}

/* The asynchronous API is not simulated: transfers can be allocated and
 * freed, submitting one fails. */
struct libusb_transfer * LIBUSB_CALL libusb_alloc_transfer(int iso_packets)
{
	if (iso_packets < 0)
		return NULL;
	return calloc(1, sizeof(struct libusb_transfer) +
	    (size_t)iso_packets * sizeof(struct libusb_iso_packet_descriptor));
}

int LIBUSB_CALL libusb_submit_transfer(struct libusb_transfer *transfer)
{
	(void)transfer;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}

int LIBUSB_CALL libusb_cancel_transfer(struct libusb_transfer *transfer)
{
	(void)transfer;
	return LIBUSB_ERROR_NOT_FOUND;
}

void LIBUSB_CALL libusb_free_transfer(struct libusb_transfer *transfer)
{
	if (transfer && (transfer->flags & LIBUSB_TRANSFER_FREE_BUFFER))
		free(transfer->buffer);
	free(transfer);
}

void LIBUSB_CALL libusb_transfer_set_stream_id(
    struct libusb_transfer *transfer, uint32_t stream_id)
{
	(void)transfer;
	(void)stream_id;
}

uint32_t LIBUSB_CALL libusb_transfer_get_stream_id(
    struct libusb_transfer *transfer)
{
	(void)transfer;
	return 0;
}

int LIBUSB_CALL libusb_alloc_streams(libusb_device_handle *dev_handle,
    uint32_t num_streams, unsigned char *endpoints, int num_endpoints)
{
	(void)dev_handle;
	(void)num_streams;
	(void)endpoints;
	(void)num_endpoints;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}

int LIBUSB_CALL libusb_free_streams(libusb_device_handle *dev_handle,
    unsigned char *endpoints, int num_endpoints)
{
	(void)dev_handle;
	(void)endpoints;
	(void)num_endpoints;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}

unsigned char * LIBUSB_CALL libusb_dev_mem_alloc(
    libusb_device_handle *dev_handle, size_t length)
{
	(void)dev_handle;
	(void)length;
	return NULL;
}

int LIBUSB_CALL libusb_dev_mem_free(libusb_device_handle *dev_handle,
    unsigned char *buffer, size_t length)
{
	(void)dev_handle;
	(void)buffer;
	(void)length;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}

/* ---- events: nothing is ever pending ---- */

static int idle_events(struct timeval *tv)
{
	struct timespec ts = { 0, 1000000 };	/* 1 ms: no busy loops */

	if (tv && tv->tv_sec == 0 && tv->tv_usec < 1000)
		ts.tv_nsec = tv->tv_usec * 1000L;
	nanosleep(&ts, NULL);
	return 0;
}

int LIBUSB_CALL libusb_try_lock_events(libusb_context *ctx)
{
	(void)ctx;
	return 0;
}

void LIBUSB_CALL libusb_lock_events(libusb_context *ctx)
{
	(void)ctx;
}

void LIBUSB_CALL libusb_unlock_events(libusb_context *ctx)
{
	(void)ctx;
}

int LIBUSB_CALL libusb_event_handling_ok(libusb_context *ctx)
{
	(void)ctx;
	return 1;
}

int LIBUSB_CALL libusb_event_handler_active(libusb_context *ctx)
{
	(void)ctx;
	return 0;
}

void LIBUSB_CALL libusb_interrupt_event_handler(libusb_context *ctx)
{
	(void)ctx;
}

void LIBUSB_CALL libusb_lock_event_waiters(libusb_context *ctx)
{
	(void)ctx;
}

void LIBUSB_CALL libusb_unlock_event_waiters(libusb_context *ctx)
{
	(void)ctx;
}

int LIBUSB_CALL libusb_wait_for_event(libusb_context *ctx, struct timeval *tv)
{
	(void)ctx;
	idle_events(tv);
	return 1;	/* timed out */
}

int LIBUSB_CALL libusb_handle_events_timeout(libusb_context *ctx,
    struct timeval *tv)
{
	(void)ctx;
	return idle_events(tv);
}

int LIBUSB_CALL libusb_handle_events_timeout_completed(libusb_context *ctx,
    struct timeval *tv, int *completed)
{
	(void)ctx;
	(void)completed;
	return idle_events(tv);
}

int LIBUSB_CALL libusb_handle_events(libusb_context *ctx)
{
	(void)ctx;
	return idle_events(NULL);
}

int LIBUSB_CALL libusb_handle_events_completed(libusb_context *ctx,
    int *completed)
{
	(void)ctx;
	(void)completed;
	return idle_events(NULL);
}

int LIBUSB_CALL libusb_handle_events_locked(libusb_context *ctx,
    struct timeval *tv)
{
	(void)ctx;
	return idle_events(tv);
}

int LIBUSB_CALL libusb_pollfds_handle_timeouts(libusb_context *ctx)
{
	(void)ctx;
	return 1;
}

int LIBUSB_CALL libusb_get_next_timeout(libusb_context *ctx,
    struct timeval *tv)
{
	(void)ctx;
	(void)tv;
	return 0;
}

const struct libusb_pollfd ** LIBUSB_CALL libusb_get_pollfds(
    libusb_context *ctx)
{
	(void)ctx;
	return calloc(1, sizeof(struct libusb_pollfd *));
}

void LIBUSB_CALL libusb_free_pollfds(const struct libusb_pollfd **pollfds)
{
	free((void *)pollfds);
}

void LIBUSB_CALL libusb_set_pollfd_notifiers(libusb_context *ctx,
    libusb_pollfd_added_cb added_cb, libusb_pollfd_removed_cb removed_cb,
    void *user_data)
{
	(void)ctx;
	(void)added_cb;
	(void)removed_cb;
	(void)user_data;
}

int LIBUSB_CALL libusb_hotplug_register_callback(libusb_context *ctx,
    int events, int flags, int vendor_id, int product_id, int dev_class,
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

void LIBUSB_CALL libusb_hotplug_deregister_callback(libusb_context *ctx,
    libusb_hotplug_callback_handle callback_handle)
{
	(void)ctx;
	(void)callback_handle;
}

void * LIBUSB_CALL libusb_hotplug_get_user_data(libusb_context *ctx,
    libusb_hotplug_callback_handle callback_handle)
{
	(void)ctx;
	(void)callback_handle;
	return NULL;
}

/* ---- descriptors we never have ---- */

int LIBUSB_CALL libusb_get_ss_endpoint_companion_descriptor(
    libusb_context *ctx, const struct libusb_endpoint_descriptor *endpoint,
    struct libusb_ss_endpoint_companion_descriptor **ep_comp)
{
	(void)ctx;
	(void)endpoint;
	(void)ep_comp;
	return LIBUSB_ERROR_NOT_FOUND;
}

void LIBUSB_CALL libusb_free_ss_endpoint_companion_descriptor(
    struct libusb_ss_endpoint_companion_descriptor *ep_comp)
{
	free(ep_comp);
}

int LIBUSB_CALL libusb_get_bos_descriptor(libusb_device_handle *dev_handle,
    struct libusb_bos_descriptor **bos)
{
	(void)dev_handle;
	(void)bos;
	return LIBUSB_ERROR_PIPE;	/* USB 2.0 devices without BOS */
}

void LIBUSB_CALL libusb_free_bos_descriptor(struct libusb_bos_descriptor *bos)
{
	free(bos);
}

int LIBUSB_CALL libusb_get_usb_2_0_extension_descriptor(libusb_context *ctx,
    struct libusb_bos_dev_capability_descriptor *dev_cap,
    struct libusb_usb_2_0_extension_descriptor **usb_2_0_extension)
{
	(void)ctx;
	(void)dev_cap;
	(void)usb_2_0_extension;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}

void LIBUSB_CALL libusb_free_usb_2_0_extension_descriptor(
    struct libusb_usb_2_0_extension_descriptor *usb_2_0_extension)
{
	free(usb_2_0_extension);
}

int LIBUSB_CALL libusb_get_ss_usb_device_capability_descriptor(
    libusb_context *ctx, struct libusb_bos_dev_capability_descriptor *dev_cap,
    struct libusb_ss_usb_device_capability_descriptor **ss_usb_device_cap)
{
	(void)ctx;
	(void)dev_cap;
	(void)ss_usb_device_cap;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}

void LIBUSB_CALL libusb_free_ss_usb_device_capability_descriptor(
    struct libusb_ss_usb_device_capability_descriptor *ss_usb_device_cap)
{
	free(ss_usb_device_cap);
}

int LIBUSB_CALL libusb_get_container_id_descriptor(libusb_context *ctx,
    struct libusb_bos_dev_capability_descriptor *dev_cap,
    struct libusb_container_id_descriptor **container_id)
{
	(void)ctx;
	(void)dev_cap;
	(void)container_id;
	return LIBUSB_ERROR_NOT_SUPPORTED;
}

void LIBUSB_CALL libusb_free_container_id_descriptor(
    struct libusb_container_id_descriptor *container_id)
{
	free(container_id);
}
