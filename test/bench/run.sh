#!/bin/sh
# Benchmarks, not tests: flashtool against its peers (Debian's stm32flash
# and dfu-util) on the same simulators, timing models on, one case at a
# time, each tool on a fresh simulator with the same flash contents.
# Prints one table row per case: flashtool time, peer time, ratio, the
# modeled floor and flashtool's ratio to it (floor.awk says what the
# floor counts).  A time below the floor would mean a wrong simulator.
#
# Usage: sh test/bench/run.sh [BUILD-DIR] [CASE...]
#   cases: usart usart-pipe usart-ftdi usart-same usart-same-crc
#          usart-read usart-read-off dfu100 dfu-busy dfu-same dfu-read
#          dfu-blank mem usbrig katapult  (default: all)
#   usbrig: the DFU cases on a real kernel's USB stack (test/bench/usbrig.sh)
#   katapult: Katapult over USB, UART and CAN (test/bench/katapult.sh)
#   usart-pipe is usart with flashtool's --pipeline (stm32flash the same).
#   usart-read: 64 KiB read from the F401 model (reads go in bursts by
#   default); usart-read-off the same with --pipeline=off.
# Environment: BENCH_KEEP=1 keeps the work directory (logs).
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top}" && pwd)
[ $# -gt 0 ] && shift
FLASHTOOL=$build/flashtool
USART_SIM=$build/test/sim/stm32-usart-sim
USB_SIM=$build/test/sim/libusb-sim.so
SHIM=$build/test/sim/libft-shim.so
work=$(mktemp -d /tmp/ft-bench.XXXXXX)
sim=
cleanup() {
	[ -n "$sim" ] && kill "$sim" 2>/dev/null && wait "$sim" 2>/dev/null
	[ -n "$BENCH_KEEP" ] && echo "logs in $work" >&2 && return
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

for t in "$FLASHTOOL" "$USART_SIM" "$USB_SIM" "$SHIM"; do
	[ -e "$t" ] || { echo "missing $t: run make bench" >&2; exit 1; }
done
cases=${*:-usart usart-pipe usart-ftdi usart-same usart-same-crc usart-read \
usart-read-off dfu100 dfu-busy dfu-same dfu-read dfu-blank mem usbrig katapult}

# Deterministic contents: an image and an "old firmware" that differs
# from it in every page.
bytes() { # bytes FILE SIZE SEED; the first byte 0x00, as firmware's
	# (a Cortex-M stack pointer's low byte), never a HEX record's ':'
	LC_ALL=C awk -v n="$2" -v s="$3" 'BEGIN { srand(s); printf "%c", 0
	    for (i = 1; i < n; i++) printf "%c", int(rand() * 256) }' > "$1"
}

now() { date +%s.%N; }

# --- USART ---------------------------------------------------------------
# usart_sim CHIP FLASH-FILE SIM-ARGS...: start the AN3155 simulator on a
# board (socket for the shim), bootloader running.
usart_sim() {
	_chip=$1 _flash=$2
	shift 2
	rm -f "$work/tty" "$work/sock"
	"$USART_SIM" --chip "$_chip" --timing --baud 115200 \
	    --board-socket "$work/sock" --board-start bootloader \
	    --link "$work/tty" --flash "$_flash" --log "$work/usart.log" \
	    "$@" 2>>"$work/sim.err" &
	sim=$!
	while [ ! -e "$work/tty" ]; do sleep 0.02; done
}
usart_stop() { kill "$sim" 2>/dev/null; wait "$sim" 2>/dev/null; sim=; }

# timed VAR CMD...: run CMD with the shim, set VAR to its wall time.
timed() {
	_v=$1
	shift
	_s=$(now)
	env LD_PRELOAD="$SHIM" FT_BOARD_SOCKET="$work/sock" "$@" \
	    >>"$work/out" 2>&1 || echo "FAILED: $*" >&2
	eval "$_v=\$(echo \"\$(now) - $_s\" | bc)"
}

# usart_case NAME CHIP IMG-SIZE OLD(diff|same) FLOOR-ARGS -- SIM-ARGS
# ($ft_extra: more flashtool options, one word or none)
usart_case() {
	_name=$1 _chip=$2 _size=$3 _old=$4 _fk=$5
	shift 6
	bytes "$work/img.bin" "$_size" 1
	if [ "$_old" = same ]; then
		cp "$work/img.bin" "$work/old.bin"
	else
		bytes "$work/old.bin" "$_size" 2
	fi
	cp "$work/old.bin" "$work/flash"
	usart_sim "$_chip" "$work/flash" "$@"
	timed ft "$FLASHTOOL" -q -b 115200 -v $ft_extra -w "$work/img.bin" \
	    "$work/tty"
	usart_stop
	cmp -s -n "$_size" "$work/img.bin" "$work/flash" ||
	    echo "$_name: flashtool left the wrong image" >&2
	cp "$work/old.bin" "$work/flash"
	usart_sim "$_chip" "$work/flash" "$@"
	# stm32flash needs 8N1 on a pty (the simulator ignores parity).
	timed peer stm32flash -m 8n1 -b 115200 -w "$work/img.bin" -v \
	    "$work/tty"
	usart_stop
	row "$_name" "$ft" "$peer" \
	    "$(awk -f "$top/test/bench/floor.awk" -v kind="$_fk" \
	    -v size="$_size")"
}

# usart_read_case NAME CHIP SIZE -- SIM-ARGS: read SIZE bytes from the
# flash base with each tool ($ft_extra: more flashtool options).
usart_read_case() {
	_name=$1 _chip=$2 _size=$3
	shift 4
	bytes "$work/old.bin" "$_size" 2
	cp "$work/old.bin" "$work/flash"
	rm -f "$work/r1.bin" "$work/r2.bin"
	usart_sim "$_chip" "$work/flash" "$@"
	timed ft "$FLASHTOOL" -q -b 115200 $ft_extra -r "$work/r1.bin" \
	    -S "0x08000000:$_size" "$work/tty"
	usart_stop
	usart_sim "$_chip" "$work/flash" "$@"
	timed peer stm32flash -m 8n1 -b 115200 -r "$work/r2.bin" \
	    -S "0x08000000:$_size" "$work/tty"
	usart_stop
	cmp -s "$work/r1.bin" "$work/old.bin" ||
	    echo "$_name: flashtool read the wrong bytes" >&2
	row "$_name" "$ft" "$peer" \
	    "$(awk -f "$top/test/bench/floor.awk" -v kind=usart-read \
	    -v size="$_size")"
}

# --- DFU -----------------------------------------------------------------
# dfu_case NAME IMG-SIZE OLD FLOOR-KIND FT-ARGS -- CONFIG-EXTRA
dfu_run() { # dfu_run VAR CONFIG CMD...
	_v=$1 _c=$2
	shift 2
	rm -f "$work/state"
	_s=$(now)
	env FT_USBSIM="$_c" LD_PRELOAD="$USB_SIM" "$@" >>"$work/out" 2>&1 ||
	    echo "FAILED: $*" >&2
	eval "$_v=\$(echo \"\$(now) - $_s\" | bc)"
}

dfu_case() {
	_name=$1 _size=$2 _old=$3 _fk=$4 _extra=$5
	bytes "$work/img.bin" "$_size" 1
	case $_old in
	same) bytes "$work/old.bin" 32768 3
	      dd if="$work/img.bin" of="$work/old.bin" conv=notrunc \
	          2>/dev/null ;;
	blank) LC_ALL=C awk 'BEGIN { for (i = 0; i < 32768; i++)
	          printf "%c", 255 }' > "$work/old.bin" ;;
	*) bytes "$work/old.bin" 32768 2 ;;
	esac
	cfg="f042 path=1-1.2 flash=$work/f042.bin state=$work/state"
	cfg="$cfg log=$work/usb.log timing=1 app=1d50:614e $_extra"
	cp "$work/old.bin" "$work/f042.bin"
	dfu_run ft "$cfg" "$FLASHTOOL" --dfu -q -v -w "$work/img.bin"
	# The image, and the old contents after it kept.
	{ cat "$work/img.bin"; tail -c $((32768 - _size)) "$work/old.bin"; } \
	    >"$work/want.bin"
	cmp -s "$work/want.bin" "$work/f042.bin" ||
	    echo "$_name: flashtool left the wrong flash contents" >&2
	cp "$work/old.bin" "$work/f042.bin"
	dfu_run peer "$cfg" dfu-util -a 0 -s 0x08000000:leave \
	    -D "$work/img.bin"
	row "$_name" "$ft" "$peer" \
	    "$(awk -f "$top/test/bench/floor.awk" -v kind="$_fk" \
	    -v size="$_size" -v flash=32768 -v old="$_old")"
}

dfu_read_case() {
	bytes "$work/old.bin" 1048576 2
	cp "$work/old.bin" "$work/f4.bin"
	cfg="f4 path=1-1.2 flash=$work/f4.bin state=$work/state"
	cfg="$cfg log=$work/usb.log timing=1"
	rm -f "$work/r1.bin" "$work/r2.bin"
	dfu_run ft "$cfg" "$FLASHTOOL" --dfu -q --stay -r "$work/r1.bin"
	dfu_run peer "$cfg" dfu-util -a 0 -s 0x08000000:1048576 \
	    -U "$work/r2.bin"
	cmp -s "$work/r1.bin" "$work/old.bin" ||
	    echo "dfu-read: flashtool read the wrong bytes" >&2
	row "dfu-read" "$ft" "$peer" \
	    "$(awk -f "$top/test/bench/floor.awk" -v kind=dfu-read \
	    -v size=1048576)"
}

# Peak memory writing a 2 MiB image (no timing: the size is the point).
mem_case() {
	bytes "$work/big.bin" 2097152 4
	bytes "$work/flash" 2097152 5
	rm -f "$work/tty"
	"$USART_SIM" --chip 0x419 --link "$work/tty" --flash "$work/flash" \
	    2>>"$work/sim.err" &
	sim=$!
	while [ ! -e "$work/tty" ]; do sleep 0.02; done
	/usr/bin/time -f "%M" -o "$work/rss" "$FLASHTOOL" -q -v \
	    -w "$work/big.bin" "$work/tty" >>"$work/out" 2>&1 ||
	    echo "mem: flashtool failed" >&2
	usart_stop
	printf '%-16s peak RSS %s KiB writing+verifying a 2 MiB image ' \
	    "mem" "$(cat "$work/rss")"
	printf '(target <= 8192 KiB)\n'
}

row() { # row NAME FT PEER FLOOR
	awk -v n="$1" -v f="$2" -v p="$3" -v fl="$4" 'BEGIN {
		printf "%-16s %8.2f %8.2f %7.2fx %8.2f %7.2fx%s\n", n, f, p,
		    f / p, fl, f / fl, f < fl ? "  BELOW FLOOR" : ""
	}'
}

printf '%-16s %8s %8s %8s %8s %8s\n' case flashtool peer ratio floor \
    "to floor"
for c in $cases; do
	ft_extra=
	case $c in
	usart) usart_case usart f103 65536 diff usart-f103 -- \
	    --latency-ms 1 ;;
	usart-pipe) ft_extra=--pipeline
	    usart_case usart-pipe f103 65536 diff usart-f103 -- \
	    --latency-ms 1 ;;
	usart-ftdi) usart_case usart-ftdi f103 65536 diff usart-f103 -- \
	    --adapter ftdi ;;
	usart-same) usart_case usart-same f103 65536 same usart-same -- \
	    --latency-ms 1 ;;
	usart-same-crc) usart_case usart-same-crc g0 65536 same \
	    usart-same-crc -- --latency-ms 1 --checksum ;;
	usart-read) usart_read_case usart-read f401 65536 -- \
	    --latency-ms 1 ;;
	usart-read-off) ft_extra=--pipeline=off
	    usart_read_case usart-read-off f401 65536 -- --latency-ms 1 ;;
	dfu100) dfu_case dfu100 30720 diff dfu \
	    "erase_poll=100 write_poll=100 cmd_poll=100 mass_poll=100" ;;
	dfu-busy) dfu_case dfu-busy 30720 diff dfu \
	    "erase_poll=30 write_poll=55 cmd_poll=0 mass_poll=40" ;;
	dfu-blank) dfu_case dfu-blank 30720 blank dfu-blank \
	    "erase_poll=100 write_poll=100 cmd_poll=100 mass_poll=100" ;;
	dfu-same) dfu_case dfu-same 30720 same dfu-same \
	    "erase_poll=100 write_poll=100 cmd_poll=100 mass_poll=100" ;;
	dfu-read) dfu_read_case ;;
	usbrig) sh "$top/test/bench/usbrig.sh" "$build" ;;
	katapult) sh "$top/test/bench/katapult.sh" "$build" ;;
	mem) mem_case ;;
	*) echo "unknown case $c" >&2; exit 2 ;;
	esac
done
