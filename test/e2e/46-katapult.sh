#!/bin/sh
# flashtool's Katapult transport against katapult-sim (test/sim/katapult):
#  - every model (f042, g0b1, f446, rp2040) over USB CDC and UART on a
#    pty and over CAN (the simulator's unix-socket bus: this kernel has
#    no vcan; test/usbrig runs the same over vcan0): a write checked in
#    the flash file and the request log, COMPLETE only after it; the
#    same image again from a running Klipper (1200-baud touch, serial
#    request, CAN request), left alone (no SEND_BLOCK); a backup (-r)
#    that matches; the CAN query;
#  - skipping unchanged units: whole 4 KiB sectors on the RP2040, and a
#    page whose first quarter is blank over old data (check_erased())
#    erased for certain and written again;
#  - must-fail: an image for another MCU (Klipper's data dictionary,
#    any file name), below the application start, linked below it, too
#    large, a device answering garbage, a device that vanishes mid-write
#    or whose parser wedges: no COMPLETE, exit code and message naming
#    the address or the remedy;
#  - --request-bootloader, --auto (Katapult, ROM DFU through the libusb
#    simulator, nothing), flashtool.py's command line, --json;
#  - USB-to-CAN bridge boards (in a mount namespace where the simulator's
#    sysfs tree is /sys): the bridge asked, followed to its Katapult tty,
#    written; a node behind it on the normal CAN path; a bridge that never
#    comes back, one that comes back as ROM DFU (--auto goes on over DFU),
#    one whose USB serial is not a chip id.
. "$FT_TOP/test/e2e/lib.sh"

KSIM="$FT_BUILD/test/sim/katapult-sim"
[ -x "$KSIM" ] || { fail "katapult: $KSIM not built"; exit 1; }
DATA="$FT_TOP/test/data"

# ks_start NAME SIM-ARGS...: the simulator on a pty, with a by-id folder
# (USB); sets KS_TTY (the link), KS_BYID, KS_FLASH, SIM_LOG, KS_STATE,
# KS_PID.  The flash file is kept when it exists (KS_KEEP=1).
ks_start() {
	_n=$1; shift
	KS_TTY="$FT_OUT/$_n.tty"
	KS_BYID="$FT_OUT/$_n.byid"
	KS_FLASH="$FT_OUT/$_n.flash"
	KS_STATE="$FT_OUT/$_n.state"
	SIM_LOG="$FT_OUT/$_n.simlog"
	rm -rf "$KS_BYID" "$KS_STATE" "$SIM_LOG"
	[ "${KS_KEEP:-0}" = 1 ] || rm -f "$KS_FLASH"
	mkdir -p "$KS_BYID"
	"$KSIM" --link "$KS_TTY" --flash "$KS_FLASH" --log "$SIM_LOG" \
		--state "$KS_STATE" --by-id "$KS_BYID" "$@" \
		2>"$FT_OUT/$_n.simerr" &
	KS_PID=$!
	SIM_PIDS="$SIM_PIDS $KS_PID"
	_i=0
	while [ ! -e "$KS_TTY" ] && [ $_i -lt 100 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	[ -e "$KS_TTY" ] || fail "$_n: simulator did not start"
}

ks_stop() {
	kill "$KS_PID" 2>/dev/null
	wait "$KS_PID" 2>/dev/null
}

# The port a user gives: the by-id name on USB (once the device is back
# after a reset), the tty on a UART.
ks_port() {
	if [ "$1" = usb ]; then
		_i=0
		while ! ls "$KS_BYID"/usb-* >/dev/null 2>&1 && [ $_i -lt 60 ]; do
			sleep 0.05; _i=$((_i + 1))
		done
		ls "$KS_BYID"/usb-* 2>/dev/null | head -n 1
	else
		echo "$KS_TTY"
	fi
}

# app_offset MODEL: the application start's offset in the flash file.
app_offset() {
	case $1 in
	f446) echo 32768 ;;
	rp2040) echo 16384 ;;
	*) echo 8192 ;;
	esac
}

app_start() {
	case $1 in
	f446) echo 0x08008000 ;;
	rp2040) echo 0x10004000 ;;
	*) echo 0x08002000 ;;
	esac
}

# oct32 V: a little-endian word as printf octal escapes.
oct32() {
	printf '\\%03o\\%03o\\%03o\\%03o' $(($1 & 255)) $((($1 >> 8) & 255)) \
		$((($1 >> 16) & 255)) $((($1 >> 24) & 255))
}

# vecimg N RESET: N bytes that start with a vector table (stack pointer
# in SRAM, reset vector RESET), the rest random.
vecimg() {
	# shellcheck disable=SC2059
	printf "$(oct32 0x20001000)$(oct32 "$2")"
	head -c $(($1 - 8)) /dev/urandom
}

# flash_has NAME MODEL IMAGE: the flash file holds IMAGE at the app start.
flash_has() {
	same_bytes "$1" "$KS_FLASH" "$3" "$(app_offset "$2")" \
		"$(wc -c <"$3")"
}

# count REGEX: lines of the simulator log matching REGEX.
count() {
	grep -Ec -e "$1" "$SIM_LOG"
}

# The simulator's state after it booted (the USB link comes back late).
state_is() {
	_i=0
	while ! grep -q "^state=$2\$" "$KS_STATE" && [ $_i -lt 60 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	ok "$1: state $2" grep -q "^state=$2\$" "$KS_STATE"
}

# --- Every model over USB CDC and a UART ----------------------------------
for model in f042 g0b1 f446 rp2040; do
	for link in usb uart; do
		n=46-$model-$link
		ks_start "$n" --$link --model "$model"
		port=$(ks_port $link)
		randimg 20480 >"$FT_OUT/$n.img"
		expect_rc "$n-write" 0 "$FLASHTOOL" --katapult -w \
			"$FT_OUT/$n.img" "$port"
		flash_has "$n-flash" "$model" "$FT_OUT/$n.img"
		log_has "$n-connect" "CONNECT -> ACK .*app=$(app_start $model)"
		log_has "$n-eof" "SEND_EOF -> ACK"
		log_lacks "$n-no-refusal" "SEND_BLOCK .*-> ERROR"
		ok "$n-complete-last" sh -c "grep -E 'SEND_BLOCK|REQUEST_BLOCK|COMPLETE' '$SIM_LOG' | tail -n 1 | grep -q COMPLETE"
		state_is "$n" klipper
		# The same image again, from the running Klipper.
		blocks=$(count "SEND_BLOCK")
		expect_rc "$n-again" 0 "$FLASHTOOL" --katapult --json -w \
			"$FT_OUT/$n.img" "$(ks_port $link)"
		if [ $link = usb ]; then
			log_has "$n-touch" "REQUEST usb 1200-baud touch"
		else
			log_has "$n-serial-request" "REQUEST serial bootloader"
		fi
		ok "$n-unchanged-no-block" [ "$(count "SEND_BLOCK")" -eq "$blocks" ]
		ok "$n-unchanged-json" grep -q '"bytes_written":0,.*"units_unchanged":[1-9]' "$FT_OUT/$n-again.out"
		ok "$n-json-katapult" grep -q '"transport":"katapult".*"requested":true' "$FT_OUT/$n-again.out"
		ok "$n-json-link" grep -q "\"link\":\"$link\"" "$FT_OUT/$n-again.out"
		state_is "$n-again" klipper
		# A backup of what was written (and the bootloader below it).
		expect_rc "$n-read" 0 "$FLASHTOOL" --katapult -r \
			"$FT_OUT/$n.back" -S "$(app_start $model):20480" \
			"$(ks_port $link)"
		same_bytes "$n-read-matches" "$FT_OUT/$n.back" "$FT_OUT/$n.img"
		base=$(( $(app_start $model) - $(app_offset $model) ))
		expect_rc "$n-read-bootloader" 0 "$FLASHTOOL" --katapult -r \
			"$FT_OUT/$n.boot" -S "$base:$(app_offset $model)" \
			"$(ks_port $link)"
		same_bytes "$n-bootloader" "$FT_OUT/$n.boot" "$KS_FLASH" 0 \
			"$(app_offset $model)"
		log_lacks "$n-no-fault" "FAULT|WEDGE"
		state_is "$n-read" katapult
		ks_stop
	done
done

# --- CAN: four nodes on the simulator's bus (unix socket) ------------------
n=46-can
CAN_SOCK="$FT_OUT/$n.sock"
SIM_LOG="$FT_OUT/$n.simlog"
rm -f "$SIM_LOG" "$FT_OUT/$n".flash*
"$KSIM" --can "unix:$CAN_SOCK" --flash "$FT_OUT/$n.flash0" --model g0b1 \
	--log "$SIM_LOG" --node "model=f446,flash=$FT_OUT/$n.flash1" \
	--node "model=rp2040,flash=$FT_OUT/$n.flash2" \
	--node "model=f042,flash=$FT_OUT/$n.flash3" 2>"$FT_OUT/$n.simerr" &
SIM_PIDS="$SIM_PIDS $!"
i=0
while [ ! -S "$CAN_SOCK" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
expect_rc "$n-query" 0 "$FLASHTOOL" --list --can "unix:$CAN_SOCK"
ok "$n-four-nodes" [ "$(grep -c '^katapult ' "$FT_OUT/$n-query.out")" -eq 4 ]
err_has "$n-query" "busy bus .* collide"
k=0
for model in g0b1 f446 rp2040 f042; do
	uuid=$(sed -n "s/.*START node$k $(echo "$model" | sed 's/f042/stm32f042/;s/g0b1/stm32g0b1/;s/f446/stm32f446/').* uuid \([0-9a-f]*\).*/\1/p" "$SIM_LOG")
	randimg 16384 >"$FT_OUT/$n-$model.img"
	expect_rc "$n-$model-write" 0 "$FLASHTOOL" --can "unix:$CAN_SOCK" \
		--uuid "$uuid" -w "$FT_OUT/$n-$model.img"
	same_bytes "$n-$model-flash" "$FT_OUT/$n.flash$k" \
		"$FT_OUT/$n-$model.img" "$(app_offset $model)" 16384
	log_has "$n-$model-uuid" "node$k GET_CANBUS_ID -> ACK"
	# Klipper runs now: the same command asks it for the bootloader.
	sleep 0.2
	expect_rc "$n-$model-again" 0 "$FLASHTOOL" --can "unix:$CAN_SOCK" \
		--uuid "$uuid" --json -w "$FT_OUT/$n-$model.img"
	log_has "$n-$model-request" "node$k REQUEST can bootloader"
	ok "$n-$model-unchanged" grep -q '"bytes_written":0' "$FT_OUT/$n-$model-again.out"
	k=$((k + 1))
done
# --auto over CAN: a node stays on CAN (only a bridge becomes a tty).
uuid=$(sed -n "s/.*START node0 .* uuid \([0-9a-f]*\).*/\1/p" "$SIM_LOG")
randimg 8192 >"$FT_OUT/$n-auto.img"
expect_rc "$n-auto" 0 "$FLASHTOOL" --auto --can "unix:$CAN_SOCK" \
	--uuid "$uuid" --json -w "$FT_OUT/$n-auto.img"
ok "$n-auto-can" grep -q '"link":"can"' "$FT_OUT/$n-auto.out"
same_bytes "$n-auto-flash" "$FT_OUT/$n.flash0" "$FT_OUT/$n-auto.img" 8192 8192
expect_rc "$n-no-such-node" 4 "$FLASHTOOL" --can "unix:$CAN_SOCK" \
	--uuid 0102030405ff -w "$FT_OUT/$n-f042.img"
err_has "$n-no-such-node" "no Katapult node with UUID 0102030405ff"
expect_rc "$n-no-uuid" 2 "$FLASHTOOL" --can "unix:$CAN_SOCK" -w \
	"$FT_OUT/$n-f042.img"

# --- USB-to-CAN bridge boards ---------------------------------------------
# The simulator's bridge (--bridge) is the host's CAN adapter and a Klipper
# node; on the request for its own UUID it leaves CAN and comes back on
# the same USB port as Katapult's tty (or ROM DFU without Katapult).  Its
# --sysfs tree is the kernel's view; flashtool runs in a private mount
# namespace where that tree is /sys and /dev, so it finds the bridge
# (can0's sysfs device: 1d50:606f, manufacturer Klipper, serial = chip
# id) and its tty as on a real host.  unix:DIR/can0 stands for can0.

# in_usb_ns ROOT CMD...: CMD with ROOT/sys as /sys and ROOT/dev as /dev
# (the host's pts, null, zero, random, urandom, tty and ptmx bound in).
in_usb_ns() {
	_r=$1; shift
	unshare -m sh -c '
		r=$1; shift
		for d in null zero full random urandom tty ptmx; do
			[ -e "$r/dev/$d" ] || : >"$r/dev/$d"
			mount --bind "/dev/$d" "$r/dev/$d" || exit 125
		done
		mkdir -p "$r/dev/pts" "$r/dev/shm"
		mount --bind /dev/pts "$r/dev/pts" || exit 125
		mount --bind /dev/shm "$r/dev/shm" || exit 125
		[ -e "$r/dev/fd" ] || ln -s /proc/self/fd "$r/dev/fd"
		mount --rbind "$r/dev" /dev && mount --bind "$r/sys" /sys ||
			exit 125
		exec "$@"' sh "$_r" "$@"
}

# br_start NAME SIM-ARGS...: a bridge (the first device) and SIM-ARGS'
# nodes on unix:$FT_OUT/NAME.d/can0; sets BR_CAN, BR_ROOT, BR_FLASH,
# BR_STATE, BR_UUID, SIM_LOG, BR_PID.
br_start() {
	_n=$1; shift
	_d="$FT_OUT/$_n.d"
	rm -rf "$_d"
	mkdir -p "$_d"
	BR_CAN="unix:$_d/can0"
	BR_ROOT="$_d/root"
	BR_FLASH="$_d/bridge.flash"
	BR_STATE="$_d/state"
	SIM_LOG="$FT_OUT/$_n.simlog"
	rm -f "$SIM_LOG"
	"$KSIM" --can "$BR_CAN" --bridge --sysfs "$BR_ROOT" --flash \
		"$BR_FLASH" --state "$BR_STATE" --log "$SIM_LOG" "$@" \
		2>"$FT_OUT/$_n.simerr" &
	BR_PID=$!
	SIM_PIDS="$SIM_PIDS $BR_PID"
	_i=0
	while ! grep -q '^state=' "$BR_STATE" 2>/dev/null && [ $_i -lt 100 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	BR_UUID=$(sed -n 's/.*START node0 .* uuid \([0-9a-f]*\).*/\1/p' "$SIM_LOG")
	[ -n "$BR_UUID" ] || fail "$_n: bridge simulator did not start"
}

br_stop() {
	kill "$BR_PID" 2>/dev/null
	wait "$BR_PID" 2>/dev/null
}

# br_back NAME: the bridge runs Klipper again, its can0 is back.
br_back() {
	_i=0
	while ! grep -q '^iface=can0$' "$BR_STATE" && [ $_i -lt 60 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	ok "$1: the bridge is can0 again" sh -c "grep -q '^state=klipper\$' '$BR_STATE' && grep -q '^usb=1d50:606f\$' '$BR_STATE' && [ -S '${BR_CAN#unix:}' ] && [ -L '$BR_ROOT/sys/class/net/can0' ]"
}

if ! unshare -m true 2>/dev/null; then
	echo "SKIP: no private mount namespace (unshare -m); bridge cases skipped"
	echo "SKIP 46 bridge: no private mount namespace (unshare -m)" >>"$FT_RESULTS"
else
vecimg 8192 0x08002101 >"$FT_OUT/46-br.app"

# The bridge is the node: requested, followed to its tty, written,
# verified, COMPLETE; a node behind it stays on CAN.
n=46-br
br_start "$n" --model g0b1 --start app --app-image "$FT_OUT/46-br.app" \
	--node "model=f042,flash=$FT_OUT/$n.node1,start=app,app-image=$FT_OUT/46-br.app"
node1=$(sed -n 's/.*START node1 .* uuid \([0-9a-f]*\).*/\1/p' "$SIM_LOG")
ok "$n-can0" [ -L "$BR_ROOT/sys/class/net/can0" ]
randimg 20480 >"$FT_OUT/$n.img"
expect_rc "$n-write" 0 in_usb_ns "$BR_ROOT" "$FLASHTOOL" -v --can "$BR_CAN" \
	--uuid "$BR_UUID" --json -w "$FT_OUT/$n.img"
err_has "$n-write" "$BR_UUID is the USB-CAN bridge at USB 1-1.3 \\(serial 2C00210012504E3638323620\\)"
err_has "$n-write" "came back as Katapult on /dev/ttyACM0"
ok "$n-json-tty" grep -q '"link":"usb","port":"/dev/ttyACM0"' "$FT_OUT/$n-write.out"
same_bytes "$n-flash" "$BR_FLASH" "$FT_OUT/$n.img" 8192 20480
log_has "$n-request" "node0 REQUEST can bootloader"
log_has "$n-left" "USB detach 1d50:606f"
log_has "$n-katapult-tty" "USB attach 1d50:6177 stm32g0b1xx as /dev/pts/"
log_lacks "$n-no-node-id" "node0 CAN node id"
ok "$n-complete-last" sh -c "grep -E 'node0 (SEND_BLOCK|REQUEST_BLOCK|COMPLETE)' '$SIM_LOG' | tail -n 1 | grep -q COMPLETE"
log_lacks "$n-node1-untouched" "node1 (REQUEST|SEND_BLOCK)"
br_back "$n"
# Again, unchanged: through Katapult once more, nothing written.
blocks=$(count "node0 SEND_BLOCK")
expect_rc "$n-again" 0 in_usb_ns "$BR_ROOT" "$FLASHTOOL" --can "$BR_CAN" \
	--uuid "$BR_UUID" --json -w "$FT_OUT/$n.img"
ok "$n-again-unchanged" grep -q '"bytes_written":0' "$FT_OUT/$n-again.out"
ok "$n-again-no-block" [ "$(count "node0 SEND_BLOCK")" -eq "$blocks" ]
br_back "$n-again"
# A UUID that is not the bridge's: the normal CAN path, through the
# bridge as an adapter; the bridge itself is not asked and stays.
detach=$(count "USB detach")
randimg 8192 >"$FT_OUT/$n-node1.img"
expect_rc "$n-node1" 0 in_usb_ns "$BR_ROOT" "$FLASHTOOL" -v --can "$BR_CAN" \
	--uuid "$node1" -w "$FT_OUT/$n-node1.img"
err_has "$n-node1" "is a Klipper USB-CAN bridge \\(USB 1-1.3\\) with UUID $BR_UUID: node $node1 is on the bus behind it"
same_bytes "$n-node1-flash" "$FT_OUT/$n.node1" "$FT_OUT/$n-node1.img" 8192 8192
log_has "$n-node1-request" "node1 REQUEST can bootloader"
log_has "$n-node1-uuid" "node1 GET_CANBUS_ID -> ACK"
ok "$n-node1-bridge-stays" [ "$(count "USB detach")" -eq "$detach" ]
ok "$n-node1-one-request" [ "$(count "node0 REQUEST can")" -eq 2 ]
# --request-bootloader: ask and stop; the JSON says where it went.
expect_rc "$n-request" 0 in_usb_ns "$BR_ROOT" "$FLASHTOOL" --can "$BR_CAN" \
	--uuid "$BR_UUID" --request-bootloader --json
ok "$n-request-json" grep -q '"arrival":{"found":"katapult","requested":true,"bridge":true,"port":"/dev/ttyACM0","usb_path":"1-1.3","usb_id":"1d50:6177"}' "$FT_OUT/$n-request.out"
ok "$n-request-stays" grep -q '^state=katapult$' "$BR_STATE"
br_stop

# Never back (re-enumeration beyond the wait): a bounded wait and a
# message that names the USB port and what was expected.
n=46-br-gone
br_start "$n" --model g0b1 --start app --app-image "$FT_OUT/46-br.app" \
	--reenum-ms 60000
t0=$(date +%s)
expect_rc "$n" 4 in_usb_ns "$BR_ROOT" "$FLASHTOOL" --can "$BR_CAN" \
	--uuid "$BR_UUID" -w "$FT_OUT/46-br.img"
t1=$(date +%s)
err_has "$n" "asked the USB-CAN bridge for the bootloader; it left USB 1-1.3 and nothing came back there within 5000 ms \\(expected Katapult, 1d50:6177, or without it the ROM DFU bootloader, 0483:df11\\)"
ok "$n-bounded" [ $((t1 - t0)) -lt 9 ]
log_lacks "$n-no-block" "SEND_BLOCK"
br_stop

# No Katapult: the bridge's USB build reboots into ROM DFU on the same
# port.  Said so; with --auto the write goes on over DFU (the libusb
# simulator's F042 on path 1-1.3).
n=46-br-dfu
br_start "$n" --model f042 --start app --app-image "$FT_OUT/46-br.app" \
	--no-katapult
expect_rc "$n" 4 in_usb_ns "$BR_ROOT" "$FLASHTOOL" --can "$BR_CAN" \
	--uuid "$BR_UUID" -w "$FT_OUT/46-br.img"
err_has "$n" "the USB-CAN bridge came back as the ROM DFU bootloader \\(0483:df11, USB 1-1.3\\), not Katapult"
err_has "$n" "--dfu --path 1-1.3"
ok "$n-rom-sysfs" grep -q '^0483$' "$BR_ROOT/sys/bus/usb/devices/1-1.3/idVendor"
br_stop
br_start "$n-auto" --model f042 --start app --app-image "$FT_OUT/46-br.app" \
	--no-katapult
rm -f "$FT_OUT/$n.dfu"
randimg 8192 >"$FT_OUT/$n.img"
expect_rc "$n-auto" 0 in_usb_ns "$BR_ROOT" env \
	FT_USBSIM="f042 path=1-1.3 flash=$FT_OUT/$n.dfu plug=800" \
	LD_PRELOAD="$(usb_preload)" "$FLASHTOOL" --auto --can "$BR_CAN" \
	--uuid "$BR_UUID" -w "$FT_OUT/$n.img"
err_has "$n-auto" "ROM DFU bootloader \\(0483:df11\\) came back on USB 1-1.3 \\(the USB-CAN bridge\\)"
err_has "$n-auto" "Going on over USB DFU"
same_bytes "$n-auto-flash" "$FT_OUT/$n.dfu" "$FT_OUT/$n.img" 0 8192
br_stop

# A bridge whose USB serial is not a chip id (Klipper's
# USB_SERIAL_NUMBER): not identified beforehand; the normal path asks,
# sees the bridge leave USB, follows it.  A node behind it still works.
n=46-br-serial
br_start "$n" --model g0b1 --start app --app-image "$FT_OUT/46-br.app" \
	--usb-serial 12345 \
	--node "model=f042,flash=$FT_OUT/$n.node1,start=app,app-image=$FT_OUT/46-br.app"
node1=$(sed -n 's/.*START node1 .* uuid \([0-9a-f]*\).*/\1/p' "$SIM_LOG")
expect_rc "$n" 0 in_usb_ns "$BR_ROOT" "$FLASHTOOL" -v --can "$BR_CAN" \
	--uuid "$BR_UUID" -w "$FT_OUT/46-br.img"
err_has "$n" "whose USB serial \"12345\" is not a chip ID"
err_has "$n" "left USB after the request: $BR_UUID is the bridge itself"
same_bytes "$n-flash" "$BR_FLASH" "$FT_OUT/46-br.img" 8192 20480
br_back "$n"
expect_rc "$n-node1" 0 in_usb_ns "$BR_ROOT" "$FLASHTOOL" --can "$BR_CAN" \
	--uuid "$node1" -w "$FT_OUT/46-br-node1.img"
same_bytes "$n-node1-flash" "$FT_OUT/$n.node1" "$FT_OUT/46-br-node1.img" 8192 8192
br_stop
fi

# --- Skipping unchanged units ----------------------------------------------
# RP2040: whole 4 KiB sectors; a change in the third rewrites it from its
# first page (the flush of a sector's first page erases it).
n=46-rp2040-sectors
ks_start "$n" --uart --model rp2040
randimg 16384 >"$FT_OUT/$n.a"
{ head -c 9000 "$FT_OUT/$n.a"; head -c 100 /dev/urandom
  tail -c +9101 "$FT_OUT/$n.a"; } >"$FT_OUT/$n.b"
expect_rc "$n-a" 0 "$FLASHTOOL" --katapult --stay -w "$FT_OUT/$n.a" "$KS_TTY"
erases=$(count "ERASE")
expect_rc "$n-b" 0 "$FLASHTOOL" --katapult --stay --json -w "$FT_OUT/$n.b" \
	"$KS_TTY"
flash_has "$n-flash" rp2040 "$FT_OUT/$n.b"
ok "$n-two-unchanged" grep -q '"units_unchanged":2,' "$FT_OUT/$n-b.out"
ok "$n-no-erase-before" sh -c "tail -n +$((erases + 1)) '$SIM_LOG' | grep 'ERASE' | grep -Eqv 'ERASE 0x1000[45]'"
log_has "$n-third-sector" "ERASE 0x10006000 4096"
ks_stop

# STM32: a page whose first quarter is blank over old data is taken as
# erased by check_erased(); the refused block makes flashtool erase it
# for certain and write it again from its first block.
n=46-quarter
ks_start "$n" --uart --model f042
ks_stop
dd if=/dev/urandom of="$KS_FLASH" bs=1 seek=$((0x3100)) count=768 conv=notrunc 2>/dev/null
KS_KEEP=1 ks_start "$n" --uart --model f042
randimg 8192 >"$FT_OUT/$n.img"
expect_rc "$n-write" 0 "$FLASHTOOL" --katapult --stay -w "$FT_OUT/$n.img" \
	"$KS_TTY"
flash_has "$n-flash" f042 "$FT_OUT/$n.img"
log_has "$n-refused" "SEND_BLOCK 0x08003100 -> ERROR"
ok "$n-erased-twice" [ "$(count 'ERASE 0x08003000')" -ge 1 ]
err_has "$n-write" "0x08003100 refused: the page 0x08003000-0x080033ff was not erased"
ks_stop

# G0 flash (ECC) takes one program per double word between erases; a
# second is refused (PROGERR) and, as Katapult never clears it, stops
# every later write until a reset.  -o opens each page with a blank
# first block, which programs it; a later -w into those pages (which
# read blank, so Katapult would not erase them) must erase them first.
n=46-once
ks_start "$n" --uart --model g0b1
expect_rc "$n-erase" 0 "$FLASHTOOL" --katapult --stay -o \
	-S 0x08002000:8192 "$KS_TTY"
randimg 8192 >"$FT_OUT/$n.img"
expect_rc "$n-write" 0 "$FLASHTOOL" --katapult --stay -w "$FT_OUT/$n.img" \
	"$KS_TTY"
flash_has "$n-flash" g0b1 "$FT_OUT/$n.img"
log_lacks "$n-no-progerr" "PROGERR|PGSERR"
ok "$n-erased-first" [ "$(count 'ERASE 0x08002000')" -ge 2 ]
ks_stop
# Old data under a page whose first quarter reads blank (0x08004000):
# erased before any block goes in, so nothing is refused (F0 above
# needed a refusal and a rewrite) and nothing programmed twice.
dd if=/dev/urandom of="$KS_FLASH" bs=1 seek=$((0x4200)) count=1536 \
	conv=notrunc 2>/dev/null
KS_KEEP=1 ks_start "$n" --uart --model g0b1
randimg 12288 >"$FT_OUT/$n-q.img"
expect_rc "$n-quarter" 0 "$FLASHTOOL" --katapult --stay -w \
	"$FT_OUT/$n-q.img" "$KS_TTY"
flash_has "$n-quarter-flash" g0b1 "$FT_OUT/$n-q.img"
log_lacks "$n-quarter-no-refusal" "PROGERR|PGSERR|SEND_BLOCK .*-> ERROR"
ks_stop

# --- Must fail ---------------------------------------------------------------
n=46-fail
ks_start "$n" --usb --model f042
port=$(ks_port usb)
# Klipper built for another MCU: its dictionary says so, any file name.
{ randimg 4096; cat "$DATA/kp-dict-stm32g0b1xx.z"; head -c 2000 /dev/urandom; } \
	>"$FT_OUT/$n-firmware.bin"
expect_rc "$n-wrong-mcu" 2 "$FLASHTOOL" --katapult -w "$FT_OUT/$n-firmware.bin" \
	"$port"
err_has "$n-wrong-mcu" "built for stm32g0b1xx, but the device is stm32f042x6"
err_has "$n-wrong-mcu" "nothing was written; the board stays in Katapult"
# The right MCU goes (the same dictionary, naming stm32f042x6).
{ randimg 4096; cat "$DATA/kp-dict-9.z"; head -c 2000 /dev/urandom; } \
	>"$FT_OUT/$n-ok.bin"
expect_rc "$n-right-mcu" 0 "$FLASHTOOL" --katapult --stay -w "$FT_OUT/$n-ok.bin" \
	"$port"
blocks=$(count "SEND_BLOCK")
randimg 4096 >"$FT_OUT/$n-small.img"
expect_rc "$n-below-start" 2 "$FLASHTOOL" --katapult -S 0x08000000 -w \
	"$FT_OUT/$n-small.img" "$port"
err_has "$n-below-start" "starts at 0x08000000, below Katapult's application start 0x08002000"
vecimg 4096 0x08000135 >"$FT_OUT/$n-linked.img"
expect_rc "$n-linked-below" 2 "$FLASHTOOL" --katapult -w "$FT_OUT/$n-linked.img" \
	"$port"
err_has "$n-linked-below" "reset vector 0x08000135 points into Katapult"
randimg 32768 >"$FT_OUT/$n-big.img"
expect_rc "$n-too-large" 2 "$FLASHTOOL" --katapult -w "$FT_OUT/$n-big.img" \
	"$port"
err_has "$n-too-large" "do not fit in Katapult's 24576-byte application area"
expect_rc "$n-outside-read" 2 "$FLASHTOOL" --katapult -r "$FT_OUT/$n.x" \
	-S 0x08007f00:512 "$port"
err_has "$n-outside-read" "outside the flash 0x08000000-0x08007fff"
ok "$n-nothing-written" [ "$(count "SEND_BLOCK")" -eq "$blocks" ]
log_lacks "$n-no-fault" "FAULT"
log_lacks "$n-no-complete" "COMPLETE"
ks_stop

# A device that vanishes in the middle of a write: USB detaches, a UART
# just stops answering.  The message names the block; no COMPLETE.
# (G0 pages that read blank are erased first: a marker block each.)
for v in "usb g0b1 100 0x08003800" "uart f446 40 0x08008a00"; do
	set -- $v
	n=46-vanish-$1
	ks_start "$n" --$1 --model "$2" --vanish-after "$3"
	randimg 20480 >"$FT_OUT/$n.img"
	expect_rc "$n" 1 "$FLASHTOOL" --katapult -w "$FT_OUT/$n.img" \
		"$(ks_port "$1")"
	err_has "$n" "at $4"
	err_has "$n" "stays in Katapult .COMPLETE was not sent"
	log_has "$n-vanished" "VANISH"
	log_lacks "$n-no-complete" "COMPLETE"
	ks_stop
done

# A parser that wedges (one NACK, then silence): stop, say what to do.
n=46-wedge
ks_start "$n" --uart --model f042 --wedge-after 30
randimg 20480 >"$FT_OUT/$n.img"
expect_rc "$n" 1 "$FLASHTOOL" --katapult -w "$FT_OUT/$n.img" "$KS_TTY"
err_has "$n" "twice quickly"
log_lacks "$n-no-complete" "COMPLETE"
ks_stop

# A device that answers garbage: every byte corrupted both ways.
n=46-garbage
ks_start "$n" --uart --model f042 --corrupt 1 --seed 3
randimg 4096 >"$FT_OUT/$n.img"
t0=$(date +%s)
expect_rc "$n" 4 "$FLASHTOOL" --katapult -w "$FT_OUT/$n.img" "$KS_TTY"
t1=$(date +%s)
err_has "$n" "neither Katapult nor Klipper answered"
ok "$n-bounded" [ $((t1 - t0)) -lt 20 ]
log_lacks "$n-no-block" "SEND_BLOCK 0x"
ks_stop

# --- Requests, --auto, flashtool.py ----------------------------------------
n=46-request
vecimg 8192 0x08002101 >"$FT_OUT/$n.app"
ks_start "$n" --uart --model f042 --start app --app-image "$FT_OUT/$n.app"
expect_rc "$n" 0 "$FLASHTOOL" --katapult --request-bootloader --json "$KS_TTY"
ok "$n-json" grep -q '"arrival":{"found":"katapult","requested":true' "$FT_OUT/$n.out"
state_is "$n" katapult
expect_rc "$n-already" 0 "$FLASHTOOL" --katapult --request-bootloader "$KS_TTY"
err_has "$n-already" "already running"
ks_stop

n=46-auto-katapult
ks_start "$n" --usb --model f042 --start app --app-image "$FT_OUT/46-request.app"
randimg 8192 >"$FT_OUT/$n.img"
expect_rc "$n" 0 "$FLASHTOOL" --auto -w "$FT_OUT/$n.img" "$(ks_port usb)"
flash_has "$n-flash" f042 "$FT_OUT/$n.img"
ks_stop

# Without Katapult, a USB build of Klipper reboots into the ROM DFU
# bootloader: --auto goes on over DFU (the libusb simulator's F042).
n=46-auto-dfu
ks_start "$n" --usb --model f042 --start app --no-katapult \
	--app-image "$FT_OUT/46-request.app"
rm -f "$FT_OUT/$n.dfu"
randimg 8192 >"$FT_OUT/$n.img"
expect_rc "$n" 0 env FT_USBSIM="f042 path=1-4 flash=$FT_OUT/$n.dfu plug=800" \
	LD_PRELOAD="$(usb_preload)" "$FLASHTOOL" --auto -w "$FT_OUT/$n.img" \
	"$(ks_port usb)"
err_has "$n" "Going on over USB DFU"
same_bytes "$n-dfu-flash" "$FT_OUT/$n.dfu" "$FT_OUT/$n.img" 0 8192
state_is "$n" rom
ks_stop

n=46-auto-nothing
ks_start "$n" --uart --model f042 --start app --no-katapult \
	--app-image "$FT_OUT/46-request.app"
expect_rc "$n" 4 "$FLASHTOOL" --auto -w "$FT_OUT/46-auto-dfu.img" "$KS_TTY"
err_has "$n" "neither Katapult nor"
ks_stop

# flashtool.py's command line, by the name it is run under.
n=46-flashtool-py
mkdir -p "$FT_OUT/$n.bin"
ln -sf "$FT_REAL_FLASHTOOL" "$FT_OUT/$n.bin/flashtool.py"
ks_start "$n" --usb --model g0b1
randimg 8192 >"$FT_OUT/$n.img"
expect_rc "$n-d-f" 0 "$FT_OUT/$n.bin/flashtool.py" -d "$(ks_port usb)" -f \
	"$FT_OUT/$n.img"
flash_has "$n-flash" g0b1 "$FT_OUT/$n.img"
expect_rc "$n-r" 0 "$FT_OUT/$n.bin/flashtool.py" -d "$(ks_port usb)" -r
state_is "$n-r" katapult
expect_rc "$n-s" 0 "$FT_OUT/$n.bin/flashtool.py" -d "$(ks_port usb)" -s
ok "$n-status" grep -q 'MCU: *stm32g0b1xx' "$FT_OUT/$n-s.out"
expect_rc "$n-bad" 2 "$FT_OUT/$n.bin/flashtool.py" -Z
err_has "$n-bad" "^flashtool.py \\(flashtool\\): "
ks_stop
