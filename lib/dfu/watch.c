/*
 * dfu/watch.c - what happens on a USB path after a device there resets:
 * it leaves the bus (or does not), and then either the ROM comes back in
 * DFU mode, another device enumerates there (the application), or
 * nothing does.  The leave, an option-byte write, a detach and a readout
 * unprotect all end this way.
 *
 * Arrivals and departures are taken as they happen from libusb's hotplug
 * events where the platform has them (udev or netlink on Linux); without
 * them the bus is scanned every WATCH_POLL_MS.  A device that comes back
 * between two scans is still seen: its USB address has changed.
 *
 * Invariants:
 *  - The watch is registered before the request that makes the device
 *    reset, so a departure is never missed.
 *  - The time allowed for something to come back counts from the
 *    departure, not from the request: a slow leave costs no watch time.
 *  - Every wait is bounded by the caller's two bounds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "session.h"

/* Scan interval without hotplug events. */
#define WATCH_POLL_MS 25u
/* Longest single wait for events, so that a signal is seen. */
#define WATCH_SLICE_MS 100u

static int LIBUSB_CALL
on_hotplug(libusb_context *usb, libusb_device *d, libusb_hotplug_event ev,
    void *user)
{
	struct dfu_watch *w = user;
	char path[sizeof(w->path)];

	(void)usb;
	ft_dfu_usb_path(d, path, sizeof(path));
	if (strcmp(path, w->path) != 0)
		return 0;
	if (ev == LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT && !w->departed) {
		w->departed = 1;
		w->departed_ms = ft_now_ms();
	} else if (ev == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED &&
	    w->arrived == NULL) {
		/* Looked at after the event loop returns, not in here. */
		w->arrived = libusb_ref_device(d);
		w->arrived_ms = ft_now_ms();
		if (!w->departed) {
			w->departed = 1;
			w->departed_ms = w->arrived_ms;
		}
	}
	return 0;
}

static void poll_bus(struct dfu_watch *w);

void
ft_dfu_watch_begin(struct dfu_watch *w, libusb_context *usb,
    const char *path, uint8_t old_addr)
{
	memset(w, 0, sizeof(*w));
	w->usb = usb;
	ft_strlcpy(w->path, path, sizeof(w->path));
	w->old_addr = old_addr;
	if (libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) &&
	    libusb_hotplug_register_callback(usb,
	    LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED |
	    LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0, LIBUSB_HOTPLUG_MATCH_ANY,
	    LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, on_hotplug, w,
	    &w->handle) == LIBUSB_SUCCESS)
		w->hotplug = 1;
	/* Begun after the reset: what the bus shows now counts. */
	poll_bus(w);
}

void
ft_dfu_watch_end(struct dfu_watch *w)
{
	if (w->hotplug)
		libusb_hotplug_deregister_callback(w->usb, w->handle);
	w->hotplug = 0;
	if (w->arrived != NULL)
		libusb_unref_device(w->arrived);
	w->arrived = NULL;
}

/* One look at the bus without events: departures and new arrivals. */
static void
poll_bus(struct dfu_watch *w)
{
	libusb_device **list;
	ssize_t nd, i;
	int present = 0;

	nd = libusb_get_device_list(w->usb, &list);
	if (nd < 0)
		return;
	for (i = 0; i < nd; i++) {
		char where[sizeof(w->path)];

		ft_dfu_usb_path(list[i], where, sizeof(where));
		if (strcmp(where, w->path) != 0)
			continue;
		present = 1;
		/* A new address is a new enumeration, even unseen gone. */
		if ((w->departed || libusb_get_device_address(list[i]) !=
		    w->old_addr) && w->arrived == NULL) {
			w->arrived = libusb_ref_device(list[i]);
			w->arrived_ms = ft_now_ms();
		}
	}
	libusb_free_device_list(list, 1);
	if ((!present || w->arrived != NULL) && !w->departed) {
		w->departed = 1;
		w->departed_ms = ft_now_ms();
	}
}

/* Wait for events (or scan) for at most ms. */
static void
watch_step(struct dfu_watch *w, uint64_t ms)
{
	struct timeval tv;

	if (ms > WATCH_SLICE_MS)
		ms = WATCH_SLICE_MS;
	if (!w->hotplug) {
		poll_bus(w);
		if (w->arrived == NULL)
			ft_sleep_us((ms < WATCH_POLL_MS ? ms : WATCH_POLL_MS) *
			    1000);
		return;
	}
	tv.tv_sec = 0;
	tv.tv_usec = (suseconds_t)(ms * 1000);
	(void)libusb_handle_events_timeout_completed(w->usb, &tv, NULL);
}

/*
 * The product string of a device that is not ours to open: sysfs first
 * (readable by anyone on Linux), then its string descriptor.
 */
static void
product_of(libusb_device *d, const char *path, char *out, size_t n)
{
	char file[96];
	FILE *f;
	libusb_device_handle *h;
	struct libusb_device_descriptor dd;

	out[0] = '\0';
	snprintf(file, sizeof(file), "/sys/bus/usb/devices/%s/product", path);
	f = fopen(file, "re");
	if (f != NULL) {
		if (fgets(out, (int)n, f) == NULL)
			out[0] = '\0';
		fclose(f);
		out[strcspn(out, "\r\n")] = '\0';
		if (out[0] != '\0')
			return;
	}
	if (libusb_get_device_descriptor(d, &dd) != 0 || dd.iProduct == 0 ||
	    libusb_open(d, &h) != 0)
		return;
	ft_dfu_read_string(h, ft_dfu_langid(h), dd.iProduct, out, n);
	libusb_close(h);
}

/* What arrived: a DFU-mode device (the ROM) or another one. */
static enum dfu_watch_result
classify(struct ft_ctx *ctx, struct dfu_watch *w, struct dfu_cand *out)
{
	struct ft_dfu_match m = { -1, -1, -1, -1, w->path, NULL, -1, NULL };
	struct libusb_device_descriptor dd;
	struct dfu_cand c, *cs;
	size_t n;

	if (ft_dfu_describe(w->arrived, &c) && c.e.dfu_mode &&
	    ft_dfu_scan(ctx, w->usb, &m, &cs, &n) == 0) {
		if (n == 1 && cs[0].e.dfu_mode) {
			*out = cs[0];
			free(cs);
			return WATCH_DFU;
		}
		ft_dfu_free_cands(cs, n);
	}
	if (libusb_get_device_descriptor(w->arrived, &dd) == 0) {
		w->vid = dd.idVendor;
		w->pid = dd.idProduct;
	}
	product_of(w->arrived, w->path, w->product, sizeof(w->product));
	return WATCH_OTHER;
}

enum dfu_watch_result
ft_dfu_watch_wait(struct ft_ctx *ctx, struct dfu_watch *w,
    unsigned depart_ms, unsigned arrive_ms, struct dfu_cand *out)
{
	uint64_t start = ft_now_ms(), now;

	for (;;) {
		now = ft_now_ms();
		if (w->arrived != NULL) {
			w->waited_ms = (unsigned)(w->arrived_ms -
			    w->departed_ms);
			return classify(ctx, w, out);
		}
		if (!w->departed && now - start >= depart_ms)
			return WATCH_STILL;
		if (w->departed && now - w->departed_ms >= arrive_ms) {
			w->waited_ms = (unsigned)(now - w->departed_ms);
			return WATCH_NOTHING;
		}
		if (ft_cancelled(ctx))
			return WATCH_INTERRUPTED;
		watch_step(w, w->departed ? w->departed_ms + arrive_ms - now :
		    start + depart_ms - now);
	}
}
