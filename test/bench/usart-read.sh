#!/bin/sh
# Benchmark, not a test: read 256 KiB from the simulated STM32F401 at
# 115200 baud with the timing model on, and compare with the wire floor:
# every 256-byte Read Memory moves 268 bytes (9 from the host, 3 ACKs and
# 256 data bytes back) of 11 bits each.
# Usage: sh test/bench/usart-read.sh [BUILD-DIR] [LATENCY-MS]
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top}
latency=${2:-1}
work=$(mktemp -d)
trap 'kill $sim 2>/dev/null; rm -rf "$work"' EXIT
"$build/test/sim/stm32-usart-sim" --chip f401 --timing --baud 115200 \
	--latency-ms "$latency" --link "$work/tty" --flash "$work/flash" \
	--log "$work/log" 2>/dev/null &
sim=$!
while [ ! -e "$work/tty" ]; do sleep 0.05; done
start=$(date +%s.%N)
"$build/flashtool" -q -b 115200 -r "$work/out.bin" "$work/tty" || exit 1
end=$(date +%s.%N)
awk -v s="$start" -v e="$end" -v lat="$latency" 'BEGIN {
	blocks = 262144 / 256
	floor = blocks * 268 * 11 / 115200
	t = e - s
	printf "read 256 KiB, f401 model, 115200 8E1, latency %s ms: %.2f s; wire floor %.2f s; ratio %.3f\n", lat, t, floor, t / floor
}'
