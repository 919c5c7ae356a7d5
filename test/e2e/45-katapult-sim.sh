#!/bin/sh
# Smoke test of katapult-sim with a raw client (kp-client, not a flashing
# client): the replies must be the bytes katapult.md 1.1 writes down; the
# flash file and the request log must show what was written and erased;
# the usbfs hold, re-enumeration after COMPLETE, the wedge and a double
# reset, a wrong baud, the Klipper application's three bootloader
# requests (with and without Katapult), the USB OUT stall and the UART
# overrun a client must avoid, a hard fault and its reset, and the CAN
# admin protocol of Katapult and Klipper nodes (over --can unix:PATH,
# since this kernel has no vcan) behave as the firmware sources say.
. "$FT_TOP/test/e2e/lib.sh"
vg_skip "it runs katapult-sim and kp-client, not flashtool"

KSIM="$FT_BUILD/test/sim/katapult-sim"
KPC="$FT_BUILD/test/sim/kp-client"
[ -x "$KSIM" ] || { fail "katapult: $KSIM not built"; exit 1; }
[ -x "$KPC" ] || { fail "katapult: $KPC not built"; exit 1; }

# Frames from katapult.md 1.1.
NACK="01 88 f1 00 68 95 99 03"
ERROR="01 88 f2 00 00 bf 99 03"
ACK_BLOCK_2000="01 88 a0 02 12 00 00 00 00 20 00 08 5a d6 99 03"
ACK_EOF_30="01 88 a0 02 13 00 00 00 1e 00 00 00 75 b5 99 03"
ACK_COMPLETE="01 88 a0 01 15 00 00 00 00 2e 99 03"
VERSION=v0.0.1-110-gb0bf421
# "~ \x1c Request Serial Bootloader!! ~" (Klipper serial_irq.c).
REQUEST="7e 20 1c 20 52 65 71 75 65 73 74 20 53 65 72 69 61 6c 20 42 6f 6f"
REQUEST="$REQUEST 74 6c 6f 61 64 65 72 21 21 20 7e"

# ks_start NAME SIM-ARGS...: start the simulator; sets KS_TTY, KS_FLASH,
# SIM_LOG (for log_has), KS_STATE, KS_PID.
ks_start() {
	_n=$1; shift
	KS_TTY="$FT_OUT/$_n.tty"
	KS_FLASH="$FT_OUT/$_n.flash"
	KS_STATE="$FT_OUT/$_n.state"
	SIM_LOG="$FT_OUT/$_n.simlog"
	rm -f "$KS_TTY" "$KS_FLASH" "$KS_STATE" "$SIM_LOG"
	"$KSIM" --link "$KS_TTY" --flash "$KS_FLASH" --log "$SIM_LOG" \
		--state "$KS_STATE" --version "$VERSION" "$@" \
		2>"$FT_OUT/$_n.simerr" &
	KS_PID=$!
	SIM_PIDS="$SIM_PIDS $KS_PID"
	ks_wait_link || fail "$_n: simulator did not start"
}

ks_wait_link() {
	_i=0
	while [ ! -e "$KS_TTY" ] && [ $_i -lt 100 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	[ -e "$KS_TTY" ]
}

ks_stop() {
	kill "$KS_PID" 2>/dev/null
	wait "$KS_PID" 2>/dev/null
}

# kp NAME STEP...: run kp-client on the link; pass when it exits 0.
kp() {
	_n=$1; shift
	if "$KPC" -t 1000 "$KS_TTY" "$@" >"$FT_OUT/$_n.out" 2>"$FT_OUT/$_n.err"
	then
		pass "$_n"
	else
		fail "$_n: $(tail -n 3 "$FT_OUT/$_n.err" | tr '\n' ' ')"
	fi
}

# block HEXBYTE: 64 bytes of one value, as hex.
block() {
	_b=""
	_i=0
	while [ $_i -lt 64 ]; do _b="$_b$1"; _i=$((_i + 1)); done
	echo "$_b"
}

# send_block_frame ADDR-LE-HEX FILL: a whole SEND_BLOCK frame as hex.
send_block_frame() {
	_body="1211$1$(block "$2")"
	echo "0188$_body$("$KPC" crc "$_body")9903"
}

# le32 N: a little-endian word as hex.
le32() {
	printf '%08x' "$1" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/'
}

# --- USB CDC, F042 (Cartographer v3): the usbfs hold, then a session.
n=45-usb-f042
ks_start $n --usb --model f042
# Without a prime the CONNECT reply is held back...
kp "$n-hold" "cmd 11" "quiet 300"
# ...until a second reply releases both.
kp "$n-released" "cmd 11" "frame" "frame"
first=$(head -n 1 "$FT_OUT/$n-released.out")
ok "$n-connect-60-bytes" [ "$(echo "$first" | wc -w)" -eq 60 ]
# ACK, 13 words: 0x11, proto 1.1.0, app start, 64, the MCU name padded,
# one zero word, the version padded (katapult.md 1.2).
hdr="01 88 a0 0d 11 00 00 00 00 01 01 00 00 20 00 08 40 00 00 00"
mcu="73 74 6d 33 32 66 30 34 32 78 36 00 00 00 00 00"
ver="76 30 2e 30 2e 31 2d 31 31 30 2d 67 62 30 62 66 34 32 31 00"
ok "$n-connect-fields" [ "${first#"$hdr $mcu $ver "}" != "$first" ]
kp "$n-block" "cmd 12 00200008$(block a5)" "rx $ACK_BLOCK_2000"
kp "$n-retransmit" "cmd 12 00200008$(block a5)" "rx $ACK_BLOCK_2000"
kp "$n-not-can" "cmd 16" "rx $ERROR"
kp "$n-below-app" "cmd 12 c01f0008$(block a5)" "rx $ERROR"
kp "$n-unknown" "cmd 90" "rx $ERROR"
kp "$n-read" "cmd 14 00200008" "rx 01 88 a0 12 14 00 00 00 00 20 00 08 $(block a5)"
printf '\245%.0s' $(seq 64) >"$FT_OUT/$n.a5"
same_bytes "$n-flash-file" "$KS_FLASH" "$FT_OUT/$n.a5" 8192 64
log_has "$n-log-program" "PROGRAM 0x08002000 64$"
log_has "$n-log-ack" "SEND_BLOCK 0x08002000 -> ACK written$"
log_has "$n-log-retransmission" "SEND_BLOCK 0x08002000 -> ACK retransmission$"
log_lacks "$n-no-erase" "ERASE"
# A client that holds the port across the reset sees it hang up.
exec 3<"$KS_TTY"
kp "$n-complete" "cmd 15" "rx $ACK_COMPLETE"
# The MCU resets 100 ms later: the tty goes, Klipper comes back on a new one.
sleep 0.2
ok "$n-detached" [ ! -e "$KS_TTY" ]
timeout 2 cat <&3 >/dev/null 2>&1
ok "$n-hangup" [ $? -ne 124 ]
exec 3<&-
ks_wait_link
ok "$n-klipper-back" grep -q '^state=klipper$' "$KS_STATE"
ok "$n-usb-id" grep -q '^usb=1d50:614e$' "$KS_STATE"
log_has "$n-app-start" "APP start$"
ks_stop

# --- G0B1 over USB: 30 pages for SEND_EOF, erase on rewrite.
n=45-usb-g0b1
ks_start $n --usb --model g0b1
# One page-first block per page counts a page (flash.c page_write_count).
# The prime's ERROR is held until the first ACK releases it.
steps="cmd 90"
i=0
while [ $i -lt 30 ]; do
	a=$((0x08002000 + i * 2048))
	steps="$steps|cmd 12 $(le32 $a)$(block 3c)"
	[ $i -eq 0 ] && steps="$steps|rx $ERROR"
	steps="$steps|frame"
	i=$((i + 1))
done
IFS='|'
# shellcheck disable=SC2086
kp "$n-30-pages" $steps
unset IFS
kp "$n-eof-30" "cmd 13" "rx $ACK_EOF_30"
kp "$n-rewrite" "cmd 12 00200008$(block 5a)" "rx $ACK_BLOCK_2000"
log_has "$n-erase" "ERASE 0x08002000 2048$"
ks_stop

# --- UART, F446: the wedge after a bad frame at 0x01, a wrong baud.
n=45-uart-f446
ks_start $n --uart --model f446 --timing
kp "$n-connect" "baud 250000" "cmd 11" "frame"
ok "$n-app-8000" grep -q '^01 88 a0 0d 11 00 00 00 00 01 01 00 00 80 00 08 ' "$FT_OUT/$n-connect.out"
kp "$n-wedge" "baud 250000" "tx 01 88 11 00 f1 7d 99 03" "rx $NACK" "cmd 11" "quiet 300"
log_has "$n-wedge-logged" "WEDGE"
kill -USR2 "$KS_PID"
sleep 0.1
kp "$n-double-reset" "baud 250000" "cmd 11" "frame"
kp "$n-wrong-baud" "baud 115200" "cmd 11" "noframe 300"
ks_stop

# --- UART with Klipper running: the serial request.
n=45-uart-request
printf '\000\030\000\040' >"$FT_OUT/$n.app"
head -c 4096 /dev/urandom >>"$FT_OUT/$n.app"
ks_start $n --uart --model f042 --start app --app-image "$FT_OUT/$n.app"
# Klipper NAKs a Katapult frame as garbage (05 10 crc 7e), once.
kp "$n-ignored" "baud 250000" "cmd 11" "rx 05 10 9e 81 7e" "cmd 11" "quiet 200"
kp "$n-request" "baud 250000" "tx $REQUEST" "sleep 100"
log_has "$n-logged" "REQUEST serial bootloader"
kp "$n-katapult" "baud 250000" "cmd 11" "frame"
ks_stop

# --- UART, no Katapult: a request does nothing.
n=45-uart-no-katapult
ks_start $n --uart --model f042 --start app --no-katapult \
	--app-image "$FT_OUT/45-uart-request.app"
kp "$n-request" "baud 250000" "tx $REQUEST" "sleep 100"
log_has "$n-ignored" "BOOTLOADER_REQUEST -> ignored"
ks_stop

# --- USB with Klipper running: the 1200-baud touch (DTR via the shim).
n=45-usb-touch
BOARD_SOCK="$FT_OUT/$n.sock"
ks_start $n --usb --model f042 --start app --reenum-ms 200 \
	--app-image "$FT_OUT/45-uart-request.app" --board-socket "$BOARD_SOCK"
ok "$n-klipper" grep -q '^usb=1d50:614e$' "$KS_STATE"
if env $(shim_env "$KPC") "$KPC" "$KS_TTY" touch >"$FT_OUT/$n.out" 2>&1; then
	pass "$n-touch"
else
	fail "$n-touch"
fi
sleep 0.1
ok "$n-gone" [ ! -e "$KS_TTY" ]
ks_wait_link
ok "$n-katapult" grep -q '^usb=1d50:6177$' "$KS_STATE"
log_has "$n-logged" "REQUEST usb 1200-baud touch"
kp "$n-connect" "cmd 90" "cmd 11" "rx $ERROR" "frame"
ks_stop

# --- Hazards a client must avoid (README "Findings").
# USB: a frame written in pieces whose first two packets hold more than
# 64 bytes never completes (usb_cdc.c reads a packet only with 64 bytes
# free of 128): the OUT pipe stalls for good.
n=45-usb-split
ks_start $n --usb --model f446
frame=$(send_block_frame 00800008 5a)
kp "$n-stall" "tx $(echo "$frame" | cut -c1-80)" "sleep 50" \
	"tx $(echo "$frame" | cut -c81-140)" "sleep 50" \
	"tx $(echo "$frame" | cut -c141-)" "quiet 300"
log_has "$n-logged" "USB OUT stalled: 70 bytes"
ks_stop
# UART: bytes sent while the flash erases are overrun (one byte kept).
n=45-uart-overrun
ks_start $n --uart --model f042 --timing --app-image "$FT_OUT/45-uart-request.app"
frame=$(send_block_frame 00200008 5a)
kp "$n-pipelined" "baud 250000" "tx $frame 01881100f17c9903" \
	"rx $ACK_BLOCK_2000" "quiet 200"
log_has "$n-logged" "UART overrun"
ks_stop

# --- REQUEST_BLOCK outside the flash: a hard fault, then silence.
n=45-fault
ks_start $n --usb --model f446
kp "$n-ram" "cmd 14 00000020" "quiet 300"
log_has "$n-logged" "FAULT REQUEST_BLOCK 0x20000000"
kp "$n-silent" "cmd 11" "quiet 300"
ok "$n-state" grep -q '^state=hard-fault$' "$KS_STATE"
# A reset recovers: no application, so Katapult; USB comes back.
kill -USR1 "$KS_PID"
sleep 0.1
ks_wait_link
kp "$n-recovered" "cmd 11" "frame"
ok "$n-state-katapult" grep -q '^state=katapult$' "$KS_STATE"
ks_stop

# --- CAN over a unix socket: two nodes, the admin protocol.
n=45-can
CAN_SOCK="$FT_OUT/$n.can"
SIM_LOG="$FT_OUT/$n.simlog"
rm -f "$SIM_LOG" "$FT_OUT/$n.flash0" "$FT_OUT/$n.flash1"
"$KSIM" --can "unix:$CAN_SOCK" --flash "$FT_OUT/$n.flash0" --model g0b1 \
	--log "$SIM_LOG" --node "model=f446,flash=$FT_OUT/$n.flash1" \
	2>"$FT_OUT/$n.simerr" &
KS_PID=$!
SIM_PIDS="$SIM_PIDS $KS_PID"
i=0
while [ ! -S "$CAN_SOCK" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
# UUIDs as flashtool.py's fasthash port derives them (test_katsim.c).
G0=464fb74c0d35
F4=928876a748f1
KS_TTY="unix:$CAN_SOCK"
kp "$n-query" "ctx 3f0 00" "crx 3f1 20 $G0 11" "crx 3f1 20 $F4 11"
kp "$n-assign" "ctx 3f0 11 $G0 81" "ctx 3f0 00" "crx 3f1 20 $F4 11"
kp "$n-connect" "ccmd 202 11" "cframe 203"
ok "$n-connect-g0b1" grep -q ' 73 74 6d 33 32 67 30 62 31 78 78 00 ' "$FT_OUT/$n-connect.out"
kp "$n-uuid" "ccmd 202 16" "cframe 203"
ok "$n-uuid-bytes" grep -q "^01 88 a0 03 16 00 00 00 46 4f b7 4c 0d 35 00 00 " "$FT_OUT/$n-uuid.out"
kp "$n-clear" "ctx 3f0 12" "ctx 3f0 00" "crx 3f1 20 $G0 11" "crx 3f1 20 $F4 11"
log_has "$n-dropped" "node0 CAN id 0x202 dropped: CLEAR_CANBOOT_NODEID"
ks_stop
# A Klipper node (application byte 01) asked into Katapult by UUID.
n=45-can-klipper
SIM_LOG="$FT_OUT/$n.simlog"
rm -f "$SIM_LOG" "$FT_OUT/$n.flash0"
"$KSIM" --can "unix:$CAN_SOCK" --flash "$FT_OUT/$n.flash0" --model f042 \
	--start app --app-image "$FT_OUT/45-uart-request.app" \
	--log "$SIM_LOG" 2>"$FT_OUT/$n.simerr" &
KS_PID=$!
SIM_PIDS="$SIM_PIDS $KS_PID"
i=0
while [ ! -S "$CAN_SOCK" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
F0=ec1ffee99d35
kp "$n-query" "ctx 3f0 00" "crx 3f1 20 $F0 01"
kp "$n-request" "ctx 3f0 02 $F0" "sleep 100" "ctx 3f0 00" "crx 3f1 20 $F0 11"
log_has "$n-logged" "REQUEST can bootloader"
ks_stop
