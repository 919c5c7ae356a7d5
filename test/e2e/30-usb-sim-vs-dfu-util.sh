#!/bin/sh
# Keeps the USB DFU simulator (test/sim/usb, $USB_SIM) honest: Debian's
# dfu-util 0.11, a real libusb program, must list, write, read and erase
# the simulated ST ROMs the way the research notes say it does on real
# hardware, including its exit codes:
#   0  flash + leave when the ROM answers the final GETSTATUS
#   74 flash + leave when the ROM resets first (leave=drop), any I/O error,
#      "More than one DFU capable USB device found!", and a plain DFU
#      download whose device re-enumerates after the manifestation reset
#      (libusb_reset_device says LIBUSB_ERROR_NOT_FOUND)
. "$FT_TOP/test/e2e/lib.sh"
vg_skip "it runs dfu-util, not flashtool"

if ! command -v dfu-util >/dev/null 2>&1; then
	echo "SKIP: dfu-util not installed"
	pass "usb-sim: skipped, dfu-util not installed"
	exit 0
fi
if [ ! -f "$USB_SIM" ]; then
	fail "usb-sim: $USB_SIM not built (make sims)"
	exit 0
fi

D="$FT_OUT/usbsim"
rm -rf "$D"
mkdir -p "$D"
SIM_LOG="$D/usb.log"
CFG="$D/devices.cfg"

# du NAME RC ARGS...: run dfu-util against the simulator, check exit code.
du() {
	_n=$1; _rc=$2; shift 2
	expect_rc "$_n" "$_rc" env FT_USBSIM_CONFIG="$CFG" \
	    LD_PRELOAD="$USB_SIM" dfu-util "$@"
}
out_has() {
	if grep -Fq -- "$2" "$FT_OUT/$1.out"; then pass "$1 prints '$2'"
	else fail "$1 does not print '$2'"; fi
}
out_lacks() {
	if grep -Fq -- "$2" "$FT_OUT/$1.out"; then fail "$1 prints '$2'"
	else pass "$1 does not print '$2'"; fi
}
erased() {	# erased NAME FILE OFFSET: FILE is all 0xFF from OFFSET on
	if [ -z "$(od -An -v -tx1 -j "$3" "$2" | tr -d ' \nf')" ]; then
		pass "$1"
	else
		fail "$1: $2 not erased from $3"
	fi
}

cat >"$CFG" <<EOF
# Two Cartographer v3 probes: same serial, told apart by path only.
f042 path=1-1.2 flash=$D/a.flash state=$D/a.state log=$SIM_LOG
f042 path=1-1.3 flash=$D/b.flash state=$D/b.state log=$SIM_LOG
g431 path=1-2 flash=$D/g.flash state=$D/g.state log=$SIM_LOG
f4 path=1-3 flash=$D/f4.flash state=$D/f4.state log=$SIM_LOG timing=1
l4 path=1-4 flash=$D/l4.flash state=$D/l4.state log=$SIM_LOG timing=1
runtime path=1-5 flash=$D/rt.flash state=$D/rt.state log=$SIM_LOG
dfu11 path=1-6 flash=$D/d11.flash state=$D/d11.state log=$SIM_LOG tolerant=1
dfu11 path=1-7 id=1209:0003 flash=$D/d12.flash state=$D/d12.state log=$SIM_LOG
f042 path=1-8 flash=$D/h.flash state=$D/h.state log=$SIM_LOG boot0=held
f042 path=1-9 flash=$D/x.flash state=$D/x.state log=$SIM_LOG leave=drop
f042 path=1-10 flash=$D/p.flash state=$D/p.state log=$SIM_LOG rdp=1
EOF

randimg 30000 >"$D/img.bin"
randimg 10000 >"$D/small.bin"

# --- listing, and listing touches nothing ---
du list 0 -l
out_has list 'Found DFU: [0483:df11] ver=2200, devnum=2, cfg=1, intf=0, path="1-1.2", alt=0, name="@Internal Flash  /0x08000000/032*0001Kg", serial="FFFFFFFEFFFF"'
out_has list 'path="1-1.2", alt=1, name="@Option Bytes  /0x1FFFF800/01*016 e", serial="FFFFFFFEFFFF"'
out_has list 'path="1-1.3", alt=0, name="@Internal Flash  /0x08000000/032*0001Kg", serial="FFFFFFFEFFFF"'
out_has list 'path="1-2", alt=0, name="@Internal Flash   /0x08000000/64*02Kg"'
out_has list 'path="1-2", alt=2, name="@OTP Memory   /0x1FFF7000/01*0001Ke"'
out_has list 'ver=2100, devnum=26, cfg=1, intf=0, path="1-3", alt=0, name="@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg"'
out_has list 'path="1-3", alt=3, name="@Device Feature/0xFFFF0000/01*004 e"'
out_has list 'Found Runtime: [1209:0001] ver=0100, devnum=42, cfg=1, intf=0, path="1-5", alt=0'
out_has list 'Found DFU: [1209:0002] ver=0100, devnum=50, cfg=1, intf=0, path="1-6", alt=0, name="usbsim flash", serial="DFU11-0001"'
log_lacks "list" 'ERASE|WRITE|DNLOAD'

# --- two identical F042s: ambiguous without a path ---
du ambiguous 74 -d ,0483:df11 -a 0 -s 0x08000000 -D "$D/img.bin"
err_has ambiguous 'More than one DFU capable USB device found'

# --- f042: flash + leave; the ROM answers dfuMANIFEST, then resets ---
: >"$SIM_LOG"
du f042-leave 0 -p 1-1.2 -a 0 -s 0x08000000:leave -D "$D/img.bin"
out_has f042-leave 'Transitioning to dfuMANIFEST state'
same_bytes "f042-leave: flash holds the image" "$D/img.bin" "$D/a.flash" 0 30000
erased "f042-leave: rest of the flash is erased" "$D/a.flash" 30000
ok "f042-leave: flash file is 32 KiB" test "$(wc -c <"$D/a.flash")" -eq 32768
log_has "f042-leave" '1-1\.2 DNLOAD wValue=0 wLength=5 ERASE 0x08007400 -> OK'
log_has "f042-leave" '1-1\.2 DNLOAD wValue=2 wLength=1328 WRITE 0x08007000 1328 -> OK'
log_has "f042-leave" '1-1\.2 DNLOAD wValue=2 wLength=0 LEAVE 0x08000000 -> OK'
log_lacks "f042-leave: other probe untouched" '1-1\.3 .*(ERASE|WRITE)'
du after-leave 0 -l
out_lacks after-leave 'path="1-1.2"'
out_has after-leave 'path="1-1.3", alt=0'

# --- deleting the state file power-cycles it; read back ---
rm -f "$D/a.state" "$D/up.bin"
du f042-upload 0 -p 1-1.2 -a 0 -s 0x08000000:32768 -U "$D/up.bin"
same_bytes "f042-upload: read back equals the flash" "$D/a.flash" "$D/up.bin"
du f042-optbytes 0 -p 1-1.2 -a 1 -s 0x1FFFF800:16 -U "$D/opt.bin"
ok "f042-optbytes: RDP level 0 pattern" \
    test "$(od -An -tx1 -N4 "$D/opt.bin" | tr -d ' ')" = "aa55ff00"

# --- mass erase ---
: >"$SIM_LOG"
du f042-mass 0 -p 1-1.2 -a 0 -s 0x08000000:mass-erase:force
log_has "f042-mass" '1-1\.2 DNLOAD wValue=0 wLength=1 MASS_ERASE -> OK'
erased "f042-mass: flash erased" "$D/a.flash" 0

# --- leave where the ROM resets before the last GETSTATUS: exit 74 ---
du f042-leave-drop 74 -p 1-9 -a 0 -s 0x08000000:leave -D "$D/small.bin"
err_has f042-leave-drop 'Error during download get_status'
same_bytes "f042-leave-drop: image written anyway" "$D/small.bin" "$D/x.flash" 0 10000

# --- BOOT0 held: leave brings it straight back in DFU mode ---
du f042-boot0 0 -p 1-8 -a 0 -s 0x08000000:leave -D "$D/small.bin"
du after-boot0 0 -l
out_has after-boot0 'path="1-8", alt=0'

# --- read-out protection: reads fail with errVENDOR, nothing erased ---
: >"$SIM_LOG"
du rdp-upload 74 -p 1-10 -a 0 -s 0x08000000:1024 -U "$D/rdp.bin"
log_has "rdp-upload" '1-10 UPLOAD wValue=2 wLength=1024 READ 0x08000000 1024 -> STALL'
du rdp-write 74 -p 1-10 -a 0 -s 0x08000000 -D "$D/small.bin"
err_has rdp-write 'ERASE_PAGE not correctly executed'
erased "rdp-write: flash untouched" "$D/p.flash" 0

# --- run-time device: DETACH + USB reset -> F042 ROM on the same path ---
: >"$SIM_LOG"
du runtime 0 -d 1209:0001,0483:df11 -p 1-5 -E 0 -a 0 -s 0x08000000:leave \
    -D "$D/img.bin"
out_has runtime 'Device really in Run-Time Mode, send DFU detach request...'
log_has "runtime" '1-5 DETACH wValue=1000 wLength=0 timeout 1000 ms -> OK'
log_has "runtime" '1-5 USB_RESET in appDETACH -> DFU mode'
same_bytes "runtime: flash holds the image" "$D/img.bin" "$D/rt.flash" 0 30000
du after-runtime 0 -l
out_has after-runtime 'Found Runtime: [1209:0001]'

# --- plain DFU 1.1: blocks from 0, manifestation, upload to short block ---
du dfu11-tolerant 0 -d ,1209:0002 -a 0 -D "$D/small.bin"
out_has dfu11-tolerant 'DFU state(7) = dfuMANIFEST'
same_bytes "dfu11: flash holds the image" "$D/small.bin" "$D/d11.flash" 0 10000
du dfu11-upload 0 -p 1-6 -a 0 -U "$D/d11up.bin"
same_bytes "dfu11-upload: whole flash read back" "$D/d11.flash" "$D/d11up.bin"
du dfu11-wait-reset 74 -d ,1209:0003 -a 0 -D "$D/small.bin"
out_has dfu11-wait-reset 'DFU state(8) = dfuMANIFEST-WAIT-RESET'
out_has dfu11-wait-reset 'Resetting USB to switch back to runtime mode'
same_bytes "dfu11-wait-reset: image written" "$D/small.bin" "$D/d12.flash" 0 10000

# --- l4: early polls STALL; dfu-util's workaround copes ---
: >"$SIM_LOG"
du l4 0 -v -p 1-4 -a 0 -s 0x08000000:leave -D "$D/small.bin"
err_has l4 'Device stalled USB pipe, reusing last poll timeout'
log_has "l4" '1-4 GETSTATUS wValue=0 wLength=6 early poll'
same_bytes "l4: flash holds the image" "$D/small.bin" "$D/l4.flash" 0 10000

# --- f4: starts in dfuERROR, 100 ms polls, 16 KiB sector erase ---
: >"$SIM_LOG"
du f4 0 -p 1-3 -a 0 -s 0x08000000:leave -D "$D/small.bin"
out_has f4 'DFU state(10) = dfuERROR, status(10)'
log_has "f4" '1-3 CLRSTATUS wValue=0 wLength=0 -> OK'
log_has "f4" '1-3 GETSTATUS wValue=0 wLength=6 dfuDNBUSY status=0 poll=100 -> OK'
same_bytes "f4: flash holds the image" "$D/small.bin" "$D/f4.flash" 0 10000
erased "f4: rest of sector 0 erased" "$D/f4.flash" 10000

# --- faults: unplug mid-flash, permission denied ---
CFG="$D/faults.cfg"
cat >"$CFG" <<EOF2
f042 path=2-1 flash=$D/u.flash state=$D/u.state log=$SIM_LOG disconnect=20
f042 path=2-2 state=$D/acc.state access=denied
EOF2
: >"$SIM_LOG"
du unplug 74 -p 2-1 -a 0 -s 0x08000000 -D "$D/img.bin"
log_has "unplug" '2-1 DISCONNECT -> off'
du after-unplug 0 -l
out_lacks after-unplug 'path="2-1"'
err_has after-unplug 'Cannot open DFU device 0483:df11 found on devnum [0-9]+ \(LIBUSB_ERROR_ACCESS\)'
rm -f "$D/u.state"
du replug 0 -l
out_has replug 'path="2-1", alt=0'
