/* fake_libusb.h - the fuzzed libusb device (test/fuzz/fake_libusb.c). */
#ifndef FT_FUZZ_FAKE_LIBUSB_H
#define FT_FUZZ_FAKE_LIBUSB_H

#include <stddef.h>
#include <stdint.h>

/* A new device described and driven by data (not copied: keep it). */
void fake_usb_start(const uint8_t *data, size_t size);
/* Abort if a context, handle, device reference or descriptor leaked. */
void fake_usb_check(void);

#endif
