# flashtool - one plain Makefile.
#   make            lib/libflashtool.a and ./flashtool
#   make check      every test; ends with "N passed, N failed"
#   make demo       flash a simulated board over USART and USB DFU with the
#                   real binary, as a user sees it on hardware
#   make check SAN=1  the same under AddressSanitizer and UBSan
#   make faults     the seeded fault campaign against both simulators
#   make bench      flashtool against stm32flash and dfu-util on the
#                   simulators (minutes; not part of check)
#   make install    PREFIX (default /usr/local) and DESTDIR honoured
#   make install-udev  the udev rule for STM32 ROM DFU devices (as root)
#   make lint       header boundary, the wings' layering and symbol
#                   prefix, library purity, close-on-exec and no
#                   shell-outs, man page lint
#   make fuzz       libFuzzer targets (clang), each run FUZZ_SECONDS (60)
#   make O=DIR ...  build into DIR instead of the source tree

PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# udev reads rules from $(PREFIX)/lib/udev/rules.d when PREFIX is /usr;
# for a /usr/local build, `make install-udev` puts the rule in /etc.
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
CC ?= cc
AR ?= ar
PKG_CONFIG ?= pkg-config
CFLAGS ?= -O2 -g

WARNFLAGS = -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	-Wwrite-strings -Wformat=2 -Wundef -Wpointer-arith
STDFLAGS = -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE
USB_CFLAGS := $(shell $(PKG_CONFIG) --cflags libusb-1.0)
USB_LIBS := $(shell $(PKG_CONFIG) --libs libusb-1.0)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka)

ifeq ($(SAN),1)
SANFLAGS = -fsanitize=address,undefined -fno-omit-frame-pointer \
	-fno-sanitize-recover=undefined
endif

ALL_CFLAGS = $(STDFLAGS) $(WARNFLAGS) $(USB_CFLAGS) -Ilib $(CFLAGS) $(SANFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

O ?= .
LIB = $(O)/lib/libflashtool.a
# The library's wings live in folders (lib/core, lib/image, lib/usart,
# lib/dfu); every .c under lib/ is built (make lint fails otherwise).
LIB_SRC := $(sort $(shell find lib -name '*.c'))
LIB_OBJ := $(patsubst %.c,$(O)/%.o,$(LIB_SRC))
CLI_SRC := $(sort $(wildcard cli/*.c))
CLI_OBJ := $(patsubst %.c,$(O)/%.o,$(CLI_SRC))
UNIT_SRC := $(sort $(wildcard test/unit/test_*.c))
UNIT_BIN := $(patsubst %.c,$(O)/%,$(UNIT_SRC))
USART_SIM_SRC := $(sort $(wildcard test/sim/usart/*.c))
USART_SIM = $(O)/test/sim/stm32-usart-sim
USB_SIM_SRC := $(sort $(wildcard test/sim/usb/*.c))
USB_SIM = $(O)/test/sim/libusb-sim.so
SHIM_SRC := $(sort $(wildcard test/sim/shim/*.c))
SHIM = $(O)/test/sim/libft-shim.so
# katapult-sim is self-contained: it takes nothing from lib/.
KATSIM_SRC := $(sort $(wildcard test/sim/katapult/*.c))
KATSIM_HDR := $(wildcard test/sim/katapult/*.h)
KATSIM_CORE := $(filter-out test/sim/katapult/main.c,$(KATSIM_SRC))
KATSIM = $(O)/test/sim/katapult-sim
KATSIM_CLIENT = $(O)/test/sim/kp-client
KATSIM_TEST = $(O)/test/sim/katapult/test_katsim
KATSIM_CFLAGS = $(STDFLAGS) $(WARNFLAGS) $(CFLAGS) $(SANFLAGS)
BIN = $(O)/flashtool
HEADERS := $(sort $(shell find lib -name '*.h'))

.PHONY: all check check-run unit e2e lint install install-udev uninstall clean sims \
	bench demo faults \
	fuzz fuzz-build

all: $(LIB) $(BIN)

$(LIB): $(LIB_OBJ)
	@mkdir -p $(@D)
	rm -f $@
	$(AR) rcs $@ $(LIB_OBJ)

$(O)/lib/%.o: lib/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(O)/cli/%.o: cli/%.c lib/flashtool.h $(wildcard cli/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(USB_LIBS)

$(O)/test/unit/test_%: test/unit/test_%.c $(LIB) $(HEADERS) \
    $(wildcard test/unit/*.h)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(LIB) $(ALL_LDFLAGS) $(USB_LIBS) $(CMOCKA_LIBS)

# The USART simulator is a program of its own, with its own chip facts
# (test/sim/usart/facts.c): it neither includes nor links lib/, so the
# library's mistakes cannot become the simulator's.
$(USART_SIM): $(USART_SIM_SRC) $(SIM_OB_SRC) $(wildcard test/sim/usart/*.h) \
		$(SIM_OB_HDR)
	@mkdir -p $(@D)
	$(CC) $(STDFLAGS) $(WARNFLAGS) $(CFLAGS) $(SANFLAGS) -Itest/sim/ob \
		-o $@ $(USART_SIM_SRC) $(SIM_OB_SRC) $(ALL_LDFLAGS) -lm

# The simulators' option-byte facts (test/sim/ob), shared by both, and
# the unit test that compares them with the library's tables.
SIM_OB_SRC = test/sim/ob/obfacts.c
SIM_OB_HDR = test/sim/ob/obfacts.h
$(O)/test/unit/test_sim_obfacts: test/unit/test_sim_obfacts.c $(SIM_OB_SRC) \
		$(SIM_OB_HDR) $(LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itest/sim/ob -o $@ $< $(SIM_OB_SRC) $(LIB) \
		$(ALL_LDFLAGS) $(USB_LIBS) $(CMOCKA_LIBS)

# The library's device table against the simulator's own facts: the one
# unit test that links a piece of the simulator (its fact table).
SIM_FACTS_SRC = test/sim/usart/facts.c
$(O)/test/unit/test_sim_facts: test/unit/test_sim_facts.c $(SIM_FACTS_SRC) \
		test/sim/usart/facts.h $(LIB) $(HEADERS)
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itest/sim/usart -o $@ $< $(SIM_FACTS_SRC) $(LIB) \
		$(ALL_LDFLAGS) $(USB_LIBS) $(CMOCKA_LIBS)

# The simulated libusb is preloaded into programs that may not be built
# with sanitizers (dfu-util), so it is always built without them.
$(USB_SIM): $(USB_SIM_SRC) $(SIM_OB_SRC) $(wildcard test/sim/usb/*.h) \
		$(SIM_OB_HDR)
	@mkdir -p $(@D)
	$(CC) $(STDFLAGS) $(WARNFLAGS) $(USB_CFLAGS) $(CFLAGS) -Itest/sim/ob \
		-fPIC -shared -o $@ $(USB_SIM_SRC) $(SIM_OB_SRC) $(LDFLAGS) -ldl

# The pty/GPIO shim, preloaded like the simulated libusb: no sanitizers.
$(SHIM): $(SHIM_SRC) $(wildcard test/sim/shim/*.h)
	@mkdir -p $(@D)
	$(CC) $(STDFLAGS) $(WARNFLAGS) $(CFLAGS) -fPIC -shared \
		-o $@ $(SHIM_SRC) $(LDFLAGS) -ldl

$(KATSIM): $(KATSIM_SRC) $(KATSIM_HDR)
	@mkdir -p $(@D)
	$(CC) $(KATSIM_CFLAGS) -o $@ $(KATSIM_SRC) $(ALL_LDFLAGS)

$(KATSIM_CLIENT): test/sim/katapult/tools/kp-client.c \
		test/sim/katapult/termios2.c $(KATSIM_HDR)
	@mkdir -p $(@D)
	$(CC) $(KATSIM_CFLAGS) -Itest/sim/katapult -o $@ $< \
		test/sim/katapult/termios2.c $(ALL_LDFLAGS)

$(KATSIM_TEST): test/sim/katapult/selftest/test_katsim.c $(KATSIM_CORE) \
		$(KATSIM_HDR)
	@mkdir -p $(@D)
	$(CC) $(KATSIM_CFLAGS) -Itest/sim/katapult -o $@ $< $(KATSIM_CORE) \
		$(ALL_LDFLAGS) $(CMOCKA_LIBS)

SIMS = $(if $(USART_SIM_SRC),$(USART_SIM)) $(if $(USB_SIM_SRC),$(USB_SIM)) \
	$(if $(SHIM_SRC),$(SHIM)) $(if $(KATSIM_SRC),$(KATSIM) $(KATSIM_CLIENT))
sims: $(SIMS)

# check and demo install what is missing first (scripts/install-deps),
# then build in a second make, which finds libusb and cmocka.
check:
	@sh scripts/install-deps
	@$(MAKE) --no-print-directory check-run

check-run: all $(UNIT_BIN) $(SIMS) $(KATSIM_TEST)
	@FT_BUILD=$(abspath $(O)) sh test/run.sh $(UNIT_BIN) $(KATSIM_TEST)

# The quick start: what flashing looks like, on simulated hardware.
demo:
	@sh scripts/install-deps --build
	@$(MAKE) --no-print-directory all sims
	@sh scripts/demo $(abspath $(O))

# The seeded fault campaign (FAULT_RUNS per transport, default 200).
faults: all $(SIMS)
	FT_BUILD=$(abspath $(O)) sh test/faults/run.sh

# Benchmarks against the peers; figures in test/bench/RESULTS.md.
bench: all $(SIMS)
	sh test/bench/run.sh $(abspath $(O))

lint: $(LIB)
	sh scripts/check-boundary
	sh scripts/check-layers $(LIB)
	sh scripts/check-lib-purity $(LIB)
	sh scripts/check-hygiene
	mandoc -Tlint -W warning man/flashtool.1

# libFuzzer targets (test/fuzz/fuzz_*.c), built with clang, ASan and UBSan
# from their own copy of the library objects.  Those objects take their
# clock and sleep from test/fuzz/vclock.c (virtual time: a fuzzed poll
# timeout costs nothing), and fuzz_usart and fuzz_dfu bring their own
# serial port and libusb that answer with the fuzz input.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
FUZZ_DIR = $(O)/test/fuzz
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fno-omit-frame-pointer
FUZZ_CFLAGS = $(STDFLAGS) $(WARNFLAGS) $(USB_CFLAGS) -Ilib -Itest/fuzz \
	-O1 -g $(FUZZ_SAN)
FUZZ_VCLOCK = -Dclock_gettime=ft_fuzz_clock_gettime \
	-Dnanosleep=ft_fuzz_nanosleep
FUZZ_LIB = $(FUZZ_DIR)/libflashtool-fuzz.a
FUZZ_LIB_OBJ := $(patsubst lib/%.c,$(FUZZ_DIR)/lib/%.o,$(LIB_SRC))
FUZZ_SRC := $(sort $(wildcard test/fuzz/fuzz_*.c))
FUZZ_BIN := $(patsubst test/fuzz/%.c,$(FUZZ_DIR)/%,$(FUZZ_SRC))
FUZZ_HDR := $(wildcard test/fuzz/*.h)
FUZZ_LIBUSB = $(USB_LIBS)
FUZZ_EXTRA =

$(FUZZ_DIR)/lib/%.o: lib/%.c $(HEADERS)
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_VCLOCK) -fsanitize=fuzzer-no-link \
		-c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIB_OBJ)
	rm -f $@
	$(AR) rcs $@ $(FUZZ_LIB_OBJ)

# fuzz_dfu links test/fuzz/fake_libusb.c instead of libusb.
$(FUZZ_DIR)/fuzz_dfu: FUZZ_EXTRA = test/fuzz/fake_libusb.c
$(FUZZ_DIR)/fuzz_dfu: FUZZ_LIBUSB =
$(FUZZ_DIR)/fuzz_dfu: test/fuzz/fake_libusb.c

$(FUZZ_DIR)/fuzz_%: test/fuzz/fuzz_%.c test/fuzz/vclock.c $(FUZZ_LIB) \
		$(FUZZ_HDR) $(HEADERS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		test/fuzz/vclock.c $(FUZZ_EXTRA) $(FUZZ_LIB) \
		$(FUZZ_LIBUSB)

fuzz-build: $(FUZZ_BIN)

fuzz: $(FUZZ_BIN)
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_JOBS=$(FUZZ_JOBS) \
		sh test/fuzz/run.sh $(abspath $(FUZZ_DIR)) $(FUZZ_BIN)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(UDEVRULESDIR) \
		$(DESTDIR)$(BASHCOMPDIR)
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/flashtool
	install -m 644 man/flashtool.1 $(DESTDIR)$(MANDIR)/man1/flashtool.1
	install -m 644 $(LIB) $(DESTDIR)$(LIBDIR)/libflashtool.a
	install -m 644 lib/flashtool.h $(DESTDIR)$(INCLUDEDIR)/flashtool.h
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e "s|@VERSION@|$$(sed -n 's/^#define FT_VERSION \"\(.*\)\"/\1/p' lib/flashtool.h)|" \
		scripts/flashtool.pc.in >$(DESTDIR)$(PKGCONFIGDIR)/flashtool.pc
	install -m 644 scripts/50-flashtool.rules \
		$(DESTDIR)$(UDEVRULESDIR)/50-flashtool.rules
	install -m 644 scripts/flashtool.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/flashtool

# USB DFU access without sudo: scripts/50-flashtool.rules into
# /etc/udev/rules.d (under DESTDIR if set), then udev reloads it.
install-udev:
	DESTDIR="$(DESTDIR)" sh scripts/install-udev-rules

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/flashtool $(DESTDIR)$(MANDIR)/man1/flashtool.1 \
		$(DESTDIR)$(LIBDIR)/libflashtool.a \
		$(DESTDIR)$(INCLUDEDIR)/flashtool.h \
		$(DESTDIR)$(PKGCONFIGDIR)/flashtool.pc \
		$(DESTDIR)$(UDEVRULESDIR)/50-flashtool.rules \
		$(DESTDIR)$(BASHCOMPDIR)/flashtool

clean:
	rm -f $(LIB) $(LIB_OBJ) $(CLI_OBJ) $(BIN) $(UNIT_BIN) $(USART_SIM) $(USB_SIM) $(SHIM)
	rm -f $(KATSIM) $(KATSIM_CLIENT) $(KATSIM_TEST)
	rm -rf $(O)/test/out

# ---- The real-USB-stack rig (issue 11; test/usbrig/README) ---------------
# A QEMU guest with a Debian kernel: test/sim/usb's devices reach its
# vhci-hcd through usbip-sim, and flashtool and dfu-util run on the real
# usbfs and libusb.  `make check-usb` runs the cases; `make bench` runs
# test/bench/usbrig.sh.  rigtool is the guest's clock and hotplug watcher.
USBIP_SIM = $(O)/test/sim/usbip-sim
USBIP_SIM_SRC = test/sim/usbip/usbip-sim.c test/sim/usb/device.c \
	test/sim/usb/config.c test/sim/ob/obfacts.c
RIGTOOL = $(O)/test/usbrig/rigtool

$(USBIP_SIM): $(USBIP_SIM_SRC) $(wildcard test/sim/usb/*.h)
	@mkdir -p $(@D)
	$(CC) $(STDFLAGS) $(WARNFLAGS) $(CFLAGS) -Itest/sim/ob -o $@ \
		$(USBIP_SIM_SRC) $(LDFLAGS)

$(RIGTOOL): test/usbrig/rigtool.c
	@mkdir -p $(@D)
	$(CC) $(STDFLAGS) $(WARNFLAGS) $(USB_CFLAGS) $(CFLAGS) -o $@ $< \
		$(LDFLAGS) $(USB_LIBS)

.PHONY: check-usb usbrig-tools usbrig-clean
usbrig-tools: $(USBIP_SIM) $(RIGTOOL)

clean: usbrig-clean
usbrig-clean:
	rm -f $(USBIP_SIM) $(RIGTOOL)
	rm -rf $(O)/test/usbrig-out $(O)/test/usbrig-bench*

check-usb: all usbrig-tools $(KATSIM)
	@sh test/usbrig/run.sh $(abspath $(O)) check

# make bench measures on the rig too (test/bench/usbrig.sh).
bench: usbrig-tools
