#!/bin/sh
# Katapult benchmark (not a test): flashtool against katapult-sim with
# its timing model, a 30 KiB image over an old firmware that differs in
# every page of an STM32G0B1 (2 KiB pages), written and verified, then
# the same image again (found unchanged: read once, nothing written),
# over USB CDC, a UART at 250000 baud and CAN at 1 Mbit/s.  The time is
# the write's own (--json "seconds": compare, write, verify; not the
# connect or COMPLETE), best of BENCH_REPS (3).  The floors are the
# simulator's model (test/sim/katapult/README, "Timing model"), per
# 64-byte block, stop and wait (one command in flight: Katapult's UART
# overruns behind a flash operation, and its CAN RX FIFO holds 3 frames):
#   UART 250000 8N1: 40 us a byte; SEND_BLOCK 76 + ACK 16 bytes, then
#     8 double words programmed at 85 us (DS13560); REQUEST_BLOCK 12 +
#     reply 80 bytes.
#   USB full speed, 1 ms frames: a SEND_BLOCK and its ACK take 2 frames,
#     a REQUEST_BLOCK and its reply 2 (README table; programming fits).
#   CAN 1 Mbit/s, worst-case stuffing: 135 bits for 8 data bytes, 47 +
#     8n + (33 + 8n) / 4 for fewer: SEND_BLOCK 1.31 ms + ACK 0.27 ms +
#     programming; REQUEST_BLOCK 0.23 ms + reply 1.35 ms.
#   Every page of the old firmware erased once: 22 ms per 2 KiB page.
# Usage: sh test/bench/katapult.sh [BUILD-DIR]; BENCH_KEEP=1 keeps logs.
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top}" && pwd)
FLASHTOOL=$build/flashtool
KSIM=$build/test/sim/katapult-sim
REPS=${BENCH_REPS:-3}
SIZE=30720
work=$(mktemp -d /tmp/ft-bench-kp.XXXXXX)
sim=
cleanup() {
	[ -n "$sim" ] && kill "$sim" 2>/dev/null && wait "$sim" 2>/dev/null
	[ -n "$BENCH_KEEP" ] && echo "logs in $work" >&2 && return
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
for t in "$FLASHTOOL" "$KSIM"; do
	[ -e "$t" ] || { echo "missing $t: run make bench" >&2; exit 1; }
done

bytes() { # bytes FILE SIZE SEED (the first byte 0x00, as firmware's)
	LC_ALL=C awk -v n="$2" -v s="$3" 'BEGIN { srand(s); printf "%c", 0
	    for (i = 1; i < n; i++) printf "%c", int(rand() * 256) }' > "$1"
}
bytes "$work/old.bin" $SIZE 11
bytes "$work/new.bin" $SIZE 12

# floor LINK KIND: milliseconds of the model for 480 blocks.
floor() {
	awk -v link="$1" -v kind="$2" -v n=$((SIZE / 64)) 'BEGIN {
		prog = 8 * 0.085; erase = 22 * n / 32
		if (link == "uart") { w = 92 * 0.04 + prog; r = 92 * 0.04 }
		if (link == "usb") { w = 2; r = 2 }
		if (link == "can") { w = 1.31 + 0.27 + prog; r = 0.23 + 1.35 }
		if (kind == "same") print n * r
		else print n * (w + r) + erase
	}'
}

# start LINK: the simulator with timing; sets port.
start() {
	rm -rf "$work/byid" "$work/tty" "$work/bus" "$work/flash"
	mkdir -p "$work/byid"
	if [ "$1" = can ]; then
		"$KSIM" --can "unix:$work/bus" --flash "$work/flash" \
		    --model g0b1 --timing --log "$work/$1.log" \
		    2>>"$work/sim.err" &
		sim=$!
		while [ ! -S "$work/bus" ]; do sleep 0.02; done
		uuid=$(sed -n 's/.*uuid \([0-9a-f]*\).*/\1/p' "$work/$1.log" |
		    head -n 1)
		set -- --can "unix:$work/bus" --uuid "$uuid"
	else
		"$KSIM" --link "$work/tty" --"$1" --flash "$work/flash" \
		    --model g0b1 --timing --by-id "$work/byid" \
		    --log "$work/$1.log" 2>>"$work/sim.err" &
		sim=$!
		while [ ! -e "$work/tty" ]; do sleep 0.02; done
		p=$work/tty
		[ "$1" = usb ] && p=$(ls "$work"/byid/usb-*)
		set -- --katapult "$p"
	fi
	port="$*"
}

stop() {
	kill "$sim" 2>/dev/null
	wait "$sim" 2>/dev/null
	sim=
}

# seconds FILE: the write's time from a --json document.
seconds() {
	sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p' "$1"
}

# best LINK IMAGE: best of REPS writes of IMAGE (first -w old.bin when
# KIND is new), the write's seconds.
best() {
	_b=
	_r=0
	while [ $_r -lt "$REPS" ]; do
		# shellcheck disable=SC2086
		[ "$2" = new ] && "$FLASHTOOL" --stay -w "$work/old.bin" $port \
		    >/dev/null 2>&1
		# shellcheck disable=SC2086
		"$FLASHTOOL" --stay --json -w "$work/new.bin" $port \
		    >"$work/out.json" 2>"$work/out.err" || {
			echo "flashtool failed:" >&2; cat "$work/out.err" >&2
			exit 1; }
		_s=$(seconds "$work/out.json")
		_b=$(awk -v a="$_b" -v b="$_s" \
		    'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }')
		_r=$((_r + 1))
	done
	cmp -s -i 8192:0 -n $SIZE "$work/flash" "$work/new.bin" || {
		echo "flash does not hold the image" >&2; exit 1; }
	echo "$_b"
}

printf '%-22s %8s %8s %8s\n' case seconds floor "to floor"
for link in usb uart can; do
	start $link
	full=$(best $link new)
	fl=$(floor $link new)
	awk -v n="katapult-$link" -v s="$full" -v f="$fl" 'BEGIN {
		printf "%-22s %8.3f %8.3f %7.2fx%s\n", n, s, f / 1000,
		    s * 1000 / f, s * 1000 < f ? "  BELOW FLOOR" : "" }'
	same=$(best $link same)
	fl=$(floor $link same)
	awk -v n="katapult-$link-same" -v s="$same" -v f="$fl" -v w="$full" \
	    'BEGIN { printf "%-22s %8.3f %8.3f %7.2fx  %.2f of the write\n",
		n, s, f / 1000, s * 1000 / f, s / w }'
	stop
done
