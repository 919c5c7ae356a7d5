#!/bin/sh
# End-to-end: the real flashtool binary (--dfu) against every device of the
# simulated libusb (test/sim/usb): write + verify + leave, read, mass
# erase, the runtime detach flow, plain DFU 1.1, .dfu files with several
# targets, selection and its refusals, --wait, BOOT0 held, permissions,
# and the must-fail cases, which must leave no ERASE or WRITE in the
# simulator's log.  Then conformance with Debian's dfu-util on the same
# simulator: the same devices listed, and each tool reads back what the
# other wrote.
. "$FT_TOP/test/e2e/lib.sh"

if [ ! -f "$USB_SIM" ]; then
	fail "dfu: $USB_SIM not built (make sims)"
	exit 0
fi
PRE=$(usb_preload)
T="$FT_OUT/dfu"
rm -rf "$T"
mkdir -p "$T"
DATA="$FT_TOP/test/data"
CFG="$T/devices.cfg"

cat >"$CFG" <<EOF
f042 path=1-1.2 flash=$T/a.flash state=$T/a.state log=$T/a.log
g431 path=1-2 flash=$T/g.flash state=$T/g.state log=$T/g.log
f4 path=1-3 flash=$T/f4.flash state=$T/f4.state log=$T/f4.log timing=1
l4 path=1-4 flash=$T/l4.flash state=$T/l4.state log=$T/l4.log timing=1 stallerr=1
runtime path=1-5 flash=$T/rt.flash state=$T/rt.state log=$T/rt.log
dfu11 path=1-6 flash=$T/d11.flash state=$T/d11.state log=$T/d11.log tolerant=1
dfu11 path=1-7 id=1209:0003 flash=$T/d12.flash state=$T/d12.state log=$T/d12.log
f042 path=1-8 flash=$T/h.flash state=$T/h.state log=$T/h.log boot0=held
EOF

# ft NAME RC ARGS...: flashtool --dfu against the simulator ($CFG).
ft() {
	_n=$1; _rc=$2; shift 2
	expect_rc "$_n" "$_rc" env FT_USBSIM_CONFIG="$CFG" LD_PRELOAD="$PRE" \
	    "$FLASHTOOL" --dfu "$@"
}
# ftc CONFIG NAME RC ARGS...: the same against another device set.
ftc() {
	_c=$1; _n=$2; _rc=$3; shift 3
	expect_rc "$_n" "$_rc" env FT_USBSIM_CONFIG="$_c" LD_PRELOAD="$PRE" \
	    "$FLASHTOOL" --dfu "$@"
}
# du NAME RC ARGS...: dfu-util against the simulator ($CFG).
du() {
	_n=$1; _rc=$2; shift 2
	expect_rc "$_n" "$_rc" env FT_USBSIM_CONFIG="$CFG" \
	    LD_PRELOAD="$USB_SIM" dfu-util "$@"
}
# on DEV: check the log of simulated device DEV (a, g, f4, ...) next.
on() { SIM_LOG="$T/$1.log"; : >"$SIM_LOG"; }
# power_cycle DEV...: the devices come back in DFU mode.
power_cycle() { for _d in "$@"; do rm -f "$T/$_d.state"; done; }
# expected FILE SIZE [OFFSET]: FILE at OFFSET in SIZE bytes of 0xFF.
expected() {
	_len=$(wc -c <"$1")
	_off=${3:-0}
	{
		head -c "$_off" /dev/zero | tr '\000' '\377'
		cat "$1"
		head -c $(($2 - _off - _len)) /dev/zero | tr '\000' '\377'
	} >"$T/expected.bin"
	echo "$T/expected.bin"
}
# erased_only NAME "ADDR ...": the ERASE commands in the log were exactly
# for these pages (each at least once; retries may repeat one).
erased_only() {
	_got=$(sed -n 's/.* ERASE \(0x[0-9A-F]*\) .*/\1/p' "$SIM_LOG" |
	    sort -u | tr '\n' ' ' | sed 's/ $//')
	if [ "$_got" = "$2" ]; then pass "$1: erased exactly $2"
	else fail "$1: erased '$_got', wanted '$2'"; fi
}
# address_runs NAME N: the WRITEs form N contiguous runs, each opened by
# exactly one SET_ADDRESS; within a run blocks follow each other with no
# SET_ADDRESS in between.
address_runs() {
	_got=$(awk 'function hex(s,  i, v) {
		v = 0; s = tolower(substr(s, 3))
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	    }
	    / SET_ADDRESS / {sa = 1; next}
	    / WRITE / {
		for (i = 1; i < NF; i++) if ($i == "WRITE") break
		a = hex($(i + 1)); n = $(i + 2)
		if (sa) runs++; else if (a != next_a) bad++
		next_a = a + n; sa = 0; next
	    }
	    / (READ|LEAVE|ERASE|MASS_ERASE) / {sa = 0}
	    END {print runs + 0, bad + 0}' "$SIM_LOG")
	if [ "$_got" = "$2 0" ]; then pass "$1: one SET_ADDRESS per run ($2)"
	else fail "$1: runs and gaps '$_got', wanted '$2 0'"; fi
}
# all_ff NAME FILE: FILE is all 0xFF.
all_ff() {
	if [ -z "$(od -An -v -tx1 "$2" | tr -d ' \nf')" ]; then pass "$1"
	else fail "$1: $2 is not erased"; fi
}
elapsed_ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

t_start=$(date +%s%N)
randimg 5000 >"$T/img.bin"
randimg 8192 >"$T/img8k.bin"
randimg 5000 >"$T/img-b.bin"
randimg 8192 >"$T/img8k-b.bin"
randimg 3000 >"$T/p1.bin"
randimg 500 >"$T/p2.bin"
randimg 64 >"$T/otp.bin"

# --- write + verify + leave on every DfuSe model -------------------------
# dev path flash-bytes image offset "pages the image touches"
for m in \
    "a 1-1.2 32768 img.bin 0 0x08000000 0x08000400 0x08000800 0x08000C00 0x08001000" \
    "g 1-2 131072 img.bin 0 0x08000000 0x08000800 0x08001000" \
    "f4 1-3 1048576 img8k.bin 12288 0x08000000 0x08004000" \
    "l4 1-4 65536 img.bin 0 0x08000000 0x08000800 0x08001000"; do
	set -- $m
	dev=$1 path=$2 size=$3 img=$4 off=$5
	shift 5
	pages=$*
	img2=$(echo "$img" | sed 's/\.bin$/-b.bin/')
	# A blank device: the pages are read first, found blank, and
	# written without an erase.
	on "$dev"
	ft "$dev-blank-write" 0 --path "$path" -S $((0x08000000 + off)) -w "$T/$img"
	err_has "$dev-blank-write" "verified"
	err_has "$dev-blank-write" "Left DFU mode"
	same_bytes "$dev-blank-write: flash file is the image" \
	    "$(expected "$T/$img" "$size" "$off")" "$T/$dev.flash"
	erased_only "$dev-blank-write" ""
	power_cycle "$dev"
	# Another image over it: exactly the pages it touches are erased.
	on "$dev"
	ft "$dev-write" 0 --path "$path" -S $((0x08000000 + off)) -w "$T/$img2"
	err_has "$dev-write" "verified"
	err_has "$dev-write" "Left DFU mode"
	same_bytes "$dev-write: flash file is the image" \
	    "$(expected "$T/$img2" "$size" "$off")" "$T/$dev.flash"
	erased_only "$dev-write" "$pages"
	[ "$dev" != l4 ] || log_has "l4: early polls stalled and were survived" "early poll"
	log_lacks "$dev-write: no mass erase" "MASS_ERASE"
	[ "$dev" = l4 ] || address_runs "$dev-write" 1
	log_has "$dev-write: leaves" "$path DNLOAD wValue=2 wLength=0 LEAVE 0x08000000 -> OK"
	log_has "$dev-write: gone" "$path DISCONNECT -> gone"
	power_cycle "$dev"
	# The same image again: nothing is erased or written.
	on "$dev"
	ft "$dev-unchanged" 0 --path "$path" --stay -S $((0x08000000 + off)) -w "$T/$img2"
	log_lacks "$dev-unchanged: nothing erased or written" " (ERASE|WRITE) "
	err_has "$dev-unchanged" "unchanged"
	power_cycle "$dev"
	ft "$dev-read" 0 --path "$path" -r "$T/$dev-read.bin"
	same_bytes "$dev-read: whole flash" "$T/$dev.flash" "$T/$dev-read.bin"
done

# --- mass erase ----------------------------------------------------------
on a
ft f042-erase-all 0 --path 1-1.2 -o
log_has f042-erase-all "1-1.2 DNLOAD wValue=0 wLength=1 MASS_ERASE -> OK"
all_ff "f042-erase-all: flash erased" "$T/a.flash"
on g
ft g431-mass-erase 0 --path 1-2 -o --mass-erase
log_has g431-mass-erase "MASS_ERASE -> OK"
all_ff "g431-mass-erase: flash erased" "$T/g.flash"
on a
ft f042-write-mass 0 --path 1-1.2 --stay --mass-erase -w "$T/img.bin"
log_has f042-write-mass "MASS_ERASE -> OK"
erased_only f042-write-mass ""
same_bytes "f042-write-mass: flash" "$(expected "$T/img.bin" 32768)" "$T/a.flash"
log_lacks "f042-write-mass: --stay stays" "LEAVE"

# --- one mass erase in place of page erases -----------------------------
# F042 (32 x 1 KiB pages): an older firmware fills the flash and a 30 KiB
# image changes 30 pages.  One mass erase replaces them; the 2 KiB after
# the image must survive it, written back and verified.
randimg 30720 >"$T/img30k.bin"
randimg 32768 >"$T/old32k.bin"
{ cat "$T/img30k.bin"; tail -c 2048 "$T/old32k.bin"; } >"$T/want30k.bin"
cp "$T/old32k.bin" "$T/a.flash"
on a
ft swap-mass 0 --path 1-1.2 --stay --json -w "$T/img30k.bin"
log_has swap-mass "MASS_ERASE -> OK"
erased_only swap-mass ""
log_has "swap-mass: the kept 2 KiB written back" "WRITE 0x08007800 2048 -> OK"
same_bytes "swap-mass: image and the data after it" "$T/want30k.bin" "$T/a.flash"
ok "swap-mass: JSON counts 2 units written back" \
    grep -q '"units_restored":2' "$FT_OUT/swap-mass.out"
ok "swap-mass: verified" grep -q '"verified":true' "$FT_OUT/swap-mass.out"
# Written back before the image: the kept data is at risk the shortest time.
ok "swap-mass: kept data written first" sh -c "grep -E 'MASS_ERASE|WRITE 0x' \
    '$SIM_LOG' | sed -n 2p | grep -q 'WRITE 0x08007800'"
# --page-erase keeps to pages.
cp "$T/old32k.bin" "$T/a.flash"
on a
ft swap-pages 0 --path 1-1.2 --stay --page-erase -w "$T/img30k.bin"
log_lacks "swap-pages: no mass erase" "MASS_ERASE"
ok "swap-pages: 30 pages erased" test "$(grep -c ' ERASE 0x' "$SIM_LOG")" -ge 30
same_bytes "swap-pages: flash" "$T/want30k.bin" "$T/a.flash"
# A small change keeps to pages: 8 KiB over old data.
cp "$T/old32k.bin" "$T/a.flash"
on a
ft small-pages 0 --path 1-1.2 --stay -w "$T/img8k.bin"
log_lacks "small-pages: no mass erase" "MASS_ERASE"
erased_only small-pages "0x08000000 0x08000400 0x08000800 0x08000C00 0x08001000 0x08001400 0x08001800 0x08001C00"
# Too much to keep: a 24 KiB image leaves 8 KiB of data (> 24 / 8).
randimg 24576 >"$T/img24k.bin"
cp "$T/old32k.bin" "$T/a.flash"
on a
ft keep-too-much 0 --path 1-1.2 --stay -w "$T/img24k.bin"
log_lacks "keep-too-much: no mass erase" "MASS_ERASE"
{ cat "$T/img24k.bin"; tail -c 8192 "$T/old32k.bin"; } >"$T/want24k.bin"
same_bytes "keep-too-much: flash" "$T/want24k.bin" "$T/a.flash"
# Sector flash (F4) never trades sectors for a mass erase.
randimg 65536 >"$T/img64k.bin"
randimg 1048576 >"$T/f4.flash"
on f4
ft f4-sectors 0 --path 1-3 --stay -w "$T/img64k.bin"
log_lacks "f4-sectors: no mass erase" "MASS_ERASE"
# Ctrl-C during a DfuSe erase is honoured after the sector in progress:
# each sector is its own request (F4 model, timing on: 16 KiB sectors take
# 250 ms and more).
randimg 262144 >"$T/img256k.bin"
randimg 1048576 >"$T/f4.flash"
on f4
env FT_USBSIM_CONFIG="$CFG" LD_PRELOAD="$PRE" "$FLASHTOOL" --dfu --path 1-3 \
    -w "$T/img256k.bin" >"$FT_OUT/erase-intr.out" 2>"$FT_OUT/erase-intr.err" &
p=$!
i=0
while ! grep -q " ERASE 0x" "$SIM_LOG" && [ $i -lt 500 ]; do
	sleep 0.01; i=$((i + 1))
done
kill -INT $p
wait $p
rc=$?
ok "erase-intr: exit 10 (got $rc)" test "$rc" -eq 10
err_has erase-intr "erase interrupted before 0x0800[0-9a-f]{4}; erased but not yet written: 0x08000000-"
ok "erase-intr: stopped after at most two sectors" \
    test "$(grep -c ' ERASE 0x' "$SIM_LOG")" -le 2
power_cycle f4

# Must-fail: the device vanishes just after the mass erase.  The message
# names what is erased and not yet written: the whole flash, kept part
# included.
cp "$T/old32k.bin" "$T/a.flash"
on a
ft swap-count 0 --path 1-1.2 --stay -w "$T/img30k.bin"
n=$(awk '/MASS_ERASE/ { print NR; exit }' "$SIM_LOG")
n=$(head -n "$n" "$SIM_LOG" |
    grep -cE ' (DNLOAD|UPLOAD|GETSTATUS|GETSTATE|CLRSTATUS|ABORT) ')
echo "f042 path=1-1.2 flash=$T/a.flash state=$T/v.state log=$T/a.log" \
    "disconnect=$((n + 3))" >"$T/vanish.cfg"
cp "$T/old32k.bin" "$T/a.flash"
rm -f "$T/v.state"
on a
ftc "$T/vanish.cfg" swap-vanish 1 --path 1-1.2 --stay -w "$T/img30k.bin"
log_has swap-vanish "MASS_ERASE -> OK"
err_has swap-vanish "erased but not yet written: 0x08000000-0x08007fff"

# --- runtime device: DFU_DETACH, USB reset, DFU mode on the same path ----
on rt
ft detach 0 -d 1209:0001 -w "$T/img.bin"
err_has detach 'detaching 1209:0001 "usbsim runtime app" at 1-5 \(in runtime mode\) into DFU mode'
err_has detach "Left DFU mode"
log_has detach "1-5 DETACH wValue=1000"
log_has detach "1-5 USB_RESET in appDETACH -> DFU mode"
same_bytes "detach: flash file is the image" \
    "$(expected "$T/img.bin" 32768)" "$T/rt.flash"
ft detach-no-id 4 -w "$T/img.bin" --path 1-5 -d ,0483:df11
ft list-after-detach 0 --list
if grep -q 'path 1-5 .*runtime mode' "$FT_OUT/list-after-detach.out"; then
	pass "detach: the application is back in runtime mode"
else fail "detach: 1-5 not back in runtime mode"; fi

# --- plain DFU 1.1 -------------------------------------------------------
on d12
ft dfu11-wait-reset 0 --path 1-7 -w "$T/img.bin"
err_has dfu11-wait-reset "not verified.*not manifestation tolerant"
err_has dfu11-wait-reset "not verified$"
log_has dfu11-wait-reset "1-7 DNLOAD wValue=5 wLength=0 MANIFEST -> OK"
same_bytes "dfu11-wait-reset: image written" "$T/img.bin" "$T/d12.flash" 0 5000
power_cycle d12
ft dfu11-explicit-v 1 --path 1-7 -v -w "$T/img.bin"
err_has dfu11-explicit-v "verify: .*cannot be read back"
on d11
ft dfu11-tolerant 0 --path 1-6 --stay -w "$T/img.bin"
err_has dfu11-tolerant ", verified"
log_has dfu11-tolerant "1-6 UPLOAD wValue=4 wLength=904"
ft dfu11-read 0 --path 1-6 -r "$T/d11-read.bin" -S 0x08000000:65536
same_bytes "dfu11-read: whole flash" "$T/d11.flash" "$T/d11-read.bin"
ft dfu11-stays 7 --path 1-6 -w "$T/img.bin"
err_has dfu11-stays "manifestation tolerant"

# --- BOOT0 held: the ROM comes straight back in DFU mode -----------------
on h
ft boot0-held 7 --path 1-8 -w "$T/img.bin"
err_has boot0-held "BOOT0"
same_bytes "boot0-held: written anyway" "$(expected "$T/img.bin" 32768)" "$T/h.flash"

# --- after the leave: what comes back on the path, watched ---------------
# The application enumerates 200 ms after the leave; nothing comes back;
# the ROM is back (BOOT0, above); not watched at all.  Each says so, in
# words and in --json, and a device that stays gone costs at most the
# 1 s watch from the moment it left.
LV="$T/leave.cfg"
cat >"$LV" <<EOF
f042 path=2-1 flash=$T/lv1.flash state=$T/lv1.state log=$T/lv1.log app=1d50:614e reenum=200
f042 path=2-2 flash=$T/lv2.flash state=$T/lv2.state log=$T/lv2.log
f042 path=2-3 flash=$T/lv3.flash state=$T/lv3.state log=$T/lv3.log boot0=held
EOF
ftc "$LV" leave-app 0 --path 2-1 --json -w "$T/img.bin"
err_has leave-app 'Left DFU mode, starting at 0x08000000: 1d50:614e .*enumerated on 2-1 [0-9]+ ms after it left the bus'
json_is leave-app '.leave.outcome == "application" and .leave.id == "1d50:614e" and .leave.path == "2-1" and .leave.ms >= 150' \
    'd["leave"]["outcome"] == "application" and d["leave"]["id"] == "1d50:614e" and d["leave"]["ms"] >= 150'
t0=$(date +%s%N)
ftc "$LV" leave-gone 0 --path 2-2 --json -w "$T/img.bin"
gone_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
err_has leave-gone 'Left DFU mode, starting at 0x08000000: it left the bus and nothing came back on 2-2 within 1[0-9][0-9][0-9] ms'
json_is leave-gone '.leave.outcome == "gone" and .leave.ms >= 1000 and .leave.ms < 1300' \
    'd["leave"]["outcome"] == "gone" and 1000 <= d["leave"]["ms"] < 1300'
ok "leave-gone: the watch is bounded ($gone_ms ms for the whole run)" test "$gone_ms" -lt 2500
ftc "$LV" leave-boot0-json 7 --path 2-3 --json -w "$T/img.bin"
json_is leave-boot0-json '.leave.outcome == "stayed" and .error.name == "FT_E_STAYED" and .exit == 7' \
    'd["leave"]["outcome"] == "stayed" and d["exit"] == 7'
rm -f "$T/lv3.state"
t0=$(date +%s%N)
ftc "$LV" leave-no-watch 0 --path 2-3 --no-watch --json -w "$T/img.bin"
nw_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
err_has leave-no-watch 'Left DFU mode, starting at 0x08000000: not watched'
json_is leave-no-watch '.leave.outcome == "not_watched"' 'd["leave"]["outcome"] == "not_watched"'
ok "leave-no-watch: no watch time ($nw_ms ms)" test "$nw_ms" -lt 1000
ftc "$LV" no-watch-and-stay 2 --path 2-1 --no-watch --stay -w "$T/img.bin"
err_has no-watch-and-stay "choose one"

# --- a runtime-mode device is a candidate without -d -----------------------
RT="$T/runtime.cfg"
echo "runtime path=3-1 flash=$T/rt2.flash state=$T/rt2.state log=$T/rt2.log" >"$RT"
ftc "$RT" runtime-alone 0 -w "$T/img.bin"
err_has runtime-alone 'detaching 1209:0001 "usbsim runtime app" at 3-1 \(in runtime mode\) into DFU mode'
err_has runtime-alone 'Device 0483:df11 "STM32  BOOTLOADER" at 3-1, serial FFFFFFFEFFFF: Internal Flash, 32 KiB at 0x08000000'
rm -f "$T/rt2.state"
printf '%s\n%s\n' "runtime path=3-1 flash=$T/rt2.flash state=$T/rt2.state log=$T/rt2.log" \
    "f042 path=3-2 flash=$T/rt3.flash state=$T/rt3.state log=$T/rt3.log" >"$RT"
SIM_LOG="$T/rt2.log"; : >"$SIM_LOG"
ftc "$RT" runtime-and-rom 5 -w "$T/img.bin"
err_has runtime-and-rom '3-1 1209:0001 "usbsim runtime app" serial [^ ]* \(runtime mode\)'
err_has runtime-and-rom '3-2 0483:df11 "STM32  BOOTLOADER" serial FFFFFFFEFFFF'
log_lacks runtime-and-rom-not-detached "DETACH"
# Identify names what a DFU device is: no chip ID, its USB strings and
# its memory.
ftc "$RT" dfu-json-identify-names 0 --path 3-2 --json
json_is dfu-json-identify-names '.device.pid == null and .device.name == "STM32  BOOTLOADER" and .device.usb.product == "STM32  BOOTLOADER" and .device.usb.memory == "Internal Flash"' \
    'd["device"]["pid"] is None and d["device"]["usb"]["memory"] == "Internal Flash"'

# --- .dfu files with several targets ------------------------------------
# The fixture: alt 0 at 0x08000000 (40 bytes) and 0x08001000 (17), alt 1
# the F0 option bytes (16): written, never erased; the ROM then resets to
# load them and, its flash no longer empty, runs the application.
power_cycle a
# An older firmware fills the flash, so the elements' pages need erasing.
randimg 32768 >"$T/a.flash"
on a
ft dfuse-fixture 0 --path 1-1.2 -w "$DATA/dfu-dfuse.bin"
erased_only dfuse-fixture "0x08000000 0x08001000"
log_lacks "dfuse-fixture: option bytes not erased" "ERASE 0x1FFF"
log_has dfuse-fixture "1-1.2 SET_INTERFACE alt=1 -> OK"
log_has dfuse-fixture "1-1.2 DNLOAD wValue=2 wLength=16 WRITE 0x1FFFF800 16 -> OK"
address_runs dfuse-fixture 3
err_has dfuse-fixture "resets to load"
err_has dfuse-fixture "not verified \(16 bytes\)"
ok "dfuse-fixture: option bytes stored" \
    grep -q '^opt=AA55AA55AA55AA55AA55AA55AA55AA55' "$T/a.state"
ok "dfuse-fixture: element 1" test "$(od -An -tx1 -N4 "$T/a.flash" | tr -d ' ')" = 00010203
ok "dfuse-fixture: element 2" test "$(od -An -tx1 -j4096 -N2 "$T/a.flash" | tr -d ' ')" = a0a1
power_cycle a
if command -v dfuse-pack >/dev/null 2>&1; then
	# G431: two runs of flash on alt 0, 64 bytes of OTP on alt 2.
	dfuse-pack -b "0x08000000:$T/p1.bin" -b "0x08010000:$T/p2.bin" \
	    -b "0x1FFF7000@2:$T/otp.bin" "$T/multi.dfu" >/dev/null 2>&1
	# An older firmware fills the flash, so every touched page differs.
	randimg 131072 >"$T/g.flash"
	on g
	ft dfuse-g431 0 --path 1-2 -w "$T/multi.dfu"
	err_has dfuse-g431 ", verified"
	erased_only dfuse-g431 "0x08000000 0x08000800 0x08010000"
	log_lacks "dfuse-g431: OTP not erased" "ERASE 0x1FFF"
	log_has dfuse-g431 "1-2 SET_INTERFACE alt=2 -> OK"
	log_has dfuse-g431 "WRITE 0x1FFF7000 64 -> OK"
	address_runs dfuse-g431 3
	same_bytes "dfuse-g431: run 1" "$T/p1.bin" "$T/g.flash" 0 3000
	dd if="$T/g.flash" of="$T/g-p2.bin" bs=1 skip=65536 count=500 2>/dev/null
	same_bytes "dfuse-g431: run 2" "$T/p2.bin" "$T/g-p2.bin"
	want=$(od -An -v -tx1 "$T/otp.bin" | tr -d ' \n' | tr a-f A-F)
	ok "dfuse-g431: OTP written" grep -q "^otp=$want" "$T/g.state"
	power_cycle g
	# A target on an alt setting the device lacks.
	dfuse-pack -b "0x08000000@5:$T/p1.bin" "$T/alt5.dfu" >/dev/null 2>&1
	on g
	ft dfuse-alt5 2 --path 1-2 -w "$T/alt5.dfu"
	err_has dfuse-alt5 "alt5.dfu has data for alt setting 5, which the device at 1-2 does not have"
	log_lacks "dfuse-alt5: nothing touched" "ERASE|WRITE"
else
	echo "SKIP: dfuse-pack not installed"
fi

# --- must-fail cases: nothing erased or written --------------------------
on a
randimg $((32768 + 1024)) >"$T/big.bin"
ft too-big 2 --path 1-1.2 -w "$T/big.bin"
err_has too-big "outside flash"
cp "$DATA/dfu-dfuse.bin" "$T/badcrc.dfu"
printf '\125' | dd of="$T/badcrc.dfu" bs=1 seek=300 conv=notrunc 2>/dev/null
ft bad-crc 2 --path 1-1.2 -w "$T/badcrc.dfu"
err_has bad-crc "badcrc.dfu: DFU suffix CRC"
ft wrong-alt 2 --path 1-1.2 -a 5 -w "$T/img.bin"
err_has wrong-alt "no alt setting 5 on 1-1.2"
ft wrong-alt-name 2 --path 1-1.2 -a Nope -r "$T/x.bin"
cp "$T/img.bin" "$T/other.dfu"
dfu-suffix -v 1234 -p 5678 -a "$T/other.dfu" >/dev/null 2>&1
ft suffix-ids 2 --path 1-1.2 -w "$T/other.dfu"
err_has suffix-ids "other.dfu is for USB device 1234:5678 .* is 0483:df11"
cp "$T/img.bin" "$T/any.dfu"
dfu-suffix -v ffff -p ffff -a "$T/any.dfu" >/dev/null 2>&1
log_lacks "must-fail: nothing touched" "ERASE|WRITE"
ft suffix-any 0 --path 1-1.2 --stay -w "$T/any.dfu"

# --- selection: two identical F042s --------------------------------------
TWO="$T/two.cfg"
cat >"$TWO" <<EOF
f042 path=1-1.2 flash=$T/a.flash state=$T/a.state log=$T/a.log
f042 path=1-1.3 flash=$T/b.flash state=$T/b.state log=$T/b.log
EOF
on b
ftc "$TWO" ambiguous 5 -w "$T/img.bin"
err_has ambiguous '1-1\.2 0483:df11 "STM32  BOOTLOADER" serial FFFFFFFEFFFF'
err_has ambiguous '1-1\.3 0483:df11 "STM32  BOOTLOADER" serial FFFFFFFEFFFF'
err_has ambiguous "--path"
log_lacks "ambiguous: nothing touched" "ERASE|WRITE"
cp "$T/a.flash" "$T/a-before.bin"
ftc "$TWO" by-path 0 --path 1-1.3 --stay -w "$T/img8k.bin"
same_bytes "by-path: the chosen one written" \
    "$(expected "$T/img8k.bin" 32768)" "$T/b.flash"
same_bytes "by-path: the other untouched" "$T/a-before.bin" "$T/a.flash"

# --- waiting, permissions --------------------------------------------------
printf '# no devices\n' >"$T/none.cfg"
t0=$(date +%s%N)
ftc "$T/none.cfg" wait-1s 4 --wait=1 -w "$T/img.bin"
ms=$(elapsed_ms "$t0")
err_has wait-1s "waiting for a DFU device"
err_has wait-1s "BOOT0"
if [ "$ms" -ge 900 ] && [ "$ms" -le 2500 ]; then pass "wait-1s: gave up after $ms ms"
else fail "wait-1s: took $ms ms"; fi
printf 'f042 path=2-2 state=%s access=denied\n' "$T/acc.state" >"$T/acc.cfg"
ftc "$T/acc.cfg" access 6 -w "$T/img.bin"
err_has access "0483:df11 at 2-2"
err_has access "scripts/50-flashtool.rules"
err_has access "install-udev-rules"
err_has access "plugdev"

# --- conformance with dfu-util ---------------------------------------------
if command -v dfu-util >/dev/null 2>&1; then
	power_cycle a g f4 l4 rt d11 d12 h
	ft conf-list 0 --list
	du conf-dfu-util-list 0 -l
	awk '/ path / {p = $3} /^  alt / {a = $2; sub(":", "", a);
	    n = $0; sub(/^[^"]*"/, "", n); sub(/"$/, "", n);
	    print "path=" p " alt=" a " name=" n}' \
	    "$FT_OUT/conf-list.out" | sort >"$T/ours.txt"
	sed -n 's/.*path="\([^"]*\)", alt=\([0-9]*\), name="\([^"]*\)".*/path=\1 alt=\2 name=\3/p' \
	    "$FT_OUT/conf-dfu-util-list.out" | sort >"$T/theirs.txt"
	ok "conf-list: non-empty" test -s "$T/ours.txt"
	same_bytes "conf-list: same devices, paths and alt names as dfu-util -l" \
	    "$T/ours.txt" "$T/theirs.txt"

	on a
	ft conf-ours 0 --path 1-1.2 --stay -w "$T/img8k.bin"
	du conf-dfu-util-reads 0 -p 1-1.2 -a 0 -s 0x08000000:32768 -U "$T/du-up.bin"
	same_bytes "conf: dfu-util reads back what flashtool wrote" \
	    "$T/a.flash" "$T/du-up.bin"
	same_bytes "conf: ... which holds the image" "$T/img8k.bin" "$T/du-up.bin" 0 8192
	du conf-dfu-util-writes 0 -p 1-1.2 -a 0 -s 0x08000000:leave -D "$T/img.bin"
	power_cycle a
	ft conf-we-read 0 --path 1-1.2 -r "$T/ft-up.bin"
	same_bytes "conf: flashtool reads back what dfu-util wrote" \
	    "$T/a.flash" "$T/ft-up.bin"
	same_bytes "conf: ... which is the image" "$T/img.bin" "$T/ft-up.bin" 0 5000
else
	echo "SKIP: dfu-util not installed"
fi

echo "40-dfu: $(elapsed_ms "$t_start") ms"
