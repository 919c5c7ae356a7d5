#!/bin/sh
# The fault campaign (make faults): seeded runs of `flashtool -w` against
# both simulators with faults switched on.  Every run must end either
# with exit 0 and the simulated flash holding exactly the image, or with
# a non-zero exit and a message naming the operation (and, once the
# device is open, the address).  No run may exit 0 with wrong contents
# or outlive its bound.  At bad-cable rates at least 80% must succeed,
# and of the F401 16 KiB set (f401_16k, FAULT_RUNS_16K runs, default 40)
# at least 95%.
#
#   FT_BUILD=DIR      build directory (make O=DIR sims all)
#   FAULT_RUNS=N      runs per transport (default 200)
#   FAULT_RUNS_16K=N  runs of the F401 16 KiB bad-cable set (default 40)
#   FAULT_JOBS=N      runs at once (default 4; they mostly wait)
#   FAULT_KEEP=1      keep every run's files, not only the failures'
#
# A fourth set, "katapult", writes through Katapult (katapult-sim on a
# pty, USB CDC or UART, the four models) with the faults the firmware
# and its links can show: replies NACKed, ERROR, BUSY or lost (cable:
# 2%, 1%, 0.5%, 1% of frames; heavy: ten times that, and on a UART
# 0.1% of bytes damaged, which wedges Katapult's parser), and vanish:
# power lost in a random SEND_BLOCK.  A run that fails must not have
# sent COMPLETE.
#
# A third set of runs, "parity", reads a backup (`flashtool -r`) while
# the simulator damages reply bytes with parity errors (--parity-errors,
# seen through libft-shim.so with FT_SHIM_PARITY=1): a run that exits 0
# must have written exactly the flash contents.
#
# Run classes, by seed:
#   cable   0.1% of bytes corrupted (both ways), 0.05% dropped, 2% of
#           commands NACKed; USB: 1% of DFU requests stall, 1% time out;
#           parity: 0.1% of reply bytes fail the parity check
#   heavy   ten times worse; most runs should fail, all honestly
#   vanish  cable rates, and the device vanishes at a random moment:
#           USART: the simulator is killed (SIGKILL) or stops answering
#           (SIGSTOP); USB: disconnect=N unplugs it at request N
# Each run prints one line; the summary ends with counts per class.
top=$(cd "$(dirname "$0")/../.." && pwd)
: "${FT_BUILD:=$top}"
FLASHTOOL="$FT_BUILD/flashtool"
USART_SIM="$FT_BUILD/test/sim/stm32-usart-sim"
USB_SIM="$FT_BUILD/test/sim/libusb-sim.so"
KSIM="$FT_BUILD/test/sim/katapult-sim"
SHIM="$FT_BUILD/test/sim/libft-shim.so"
OUT="$FT_BUILD/test/faults-out"
RUNS=${FAULT_RUNS:-200}
# The F401 16 KiB bad-cable set (issue 12): its own count.
RUNS_16K=${FAULT_RUNS_16K:-40}
JOBS=${FAULT_JOBS:-4}
# A run that takes longer than this hangs.  The man page promises that a
# dead line ends a run within 30 s; a run's honest work takes < 30 s.
RUN_LIMIT_S=90

# bytes SEED COUNT: COUNT pseudo-random bytes from SEED, reproducibly.
# bytes SEED LEN: the first byte 0x00, as firmware's (the low byte of a
# Cortex-M stack pointer), never a HEX record's ':'.
bytes() {
	perl -e 'srand($ARGV[0]); my $n = $ARGV[1]; my $s = "\0";
		$s .= pack("N", int(rand(4294967296))) while length($s) < $n;
		print substr($s, 0, $n);' "$1" "$2"
}

class_of() {
	case $(($1 % 5)) in
	0|1|2) echo cable ;;
	3) echo heavy ;;
	*) echo vanish ;;
	esac
}

# verdict RC IMAGE FLASH ERRFILE: one word for the run.
verdict() {
	if [ "$1" -eq 124 ] || [ "$1" -eq 137 ]; then echo HANG; return; fi
	if [ "$1" -eq 0 ]; then
		if cmp -s -n "$(wc -c <"$2")" "$2" "$3"; then echo ok
		else echo WRONG; fi
		return
	fi
	# The error, not the remark after it (Katapult's "the board stays").
	_last=$(grep '^flashtool: ' "$4" | grep -v 'warning:' |
	    grep -v 'stays in Katapult' | tail -n 1)
	if printf '%s\n' "$_last" | grep -Eq '0x[0-9a-fA-F]{8}'; then
		echo failed
	elif ! grep -q '^Device \|^Katapult v' "$4" &&
	    printf '%s\n' "$_last" | grep -Eq '(Get|sync|Read|open|USB|DFU|resync|identif|CONNECT|Katapult)'; then
		# Failed while opening: the operation named, no address yet.
		echo failed
	else
		echo VAGUE
	fi
}

# sim_ready_and_armed DIR SEED CLASS SIM-PID SIGNAL [WINDOW-MS [FROM-MS]]:
# wait for the USART simulator's pty; for the vanish class, send SIGNAL
# to the simulator at a seeded moment within WINDOW-MS (default 2500)
# after FROM-MS (default 200) (sets kp to the pid that will, or "").
sim_ready_and_armed() {
	i=0
	while [ ! -e "$1/tty" ] && [ $i -lt 200 ]; do
		sleep 0.05; i=$((i + 1))
	done
	kp=""
	if [ "$3" = vanish ]; then
		ms=$((${7:-200} + ($2 * 7919) % ${6:-2500}))
		( sleep "$(awk -v m=$ms 'BEGIN { printf "%.3f", m / 1000 }')"
		  kill -"$5" "$4" 2>/dev/null ) &
		kp=$!
	fi
}

one_usart() {
	s=$1
	cls=$(class_of "$s")
	d="$OUT/usart-$s"
	rm -rf "$d"
	mkdir -p "$d"
	case $((s % 3)) in
	0) chip=f103 kib=128 extra="" ;;
	1) chip=g0 kib=128 extra="--checksum" ;;
	*) chip=f401 kib=256 extra="" ;;
	esac
	case $cls in
	heavy) rates="--corrupt 0.01 --drop 0.005 --nack 0.2" ;;
	*) rates="--corrupt 0.001 --drop 0.0005 --nack 0.02" ;;
	esac
	len=$((2048 + (s * 4 % 7) * 512))
	bytes "$s" "$len" >"$d/img.bin"
	bytes $((s + 100000)) $((kib * 1024)) >"$d/flash"
	# shellcheck disable=SC2086
	"$USART_SIM" --chip $chip $extra --link "$d/tty" --flash "$d/flash" \
	    --log "$d/sim.log" --seed "$s" $rates 2>"$d/sim.err" &
	sp=$!
	sig=KILL
	[ $((s % 2)) -eq 0 ] && sig=STOP
	sim_ready_and_armed "$d" "$s" "$cls" $sp $sig
	t0=$(date +%s.%N)
	timeout -s KILL $RUN_LIMIT_S "$FLASHTOOL" -w "$d/img.bin" "$d/tty" \
	    >"$d/out" 2>"$d/err"
	rc=$?
	t1=$(date +%s.%N)
	[ -n "$kp" ] && { kill $kp 2>/dev/null; wait $kp 2>/dev/null; }
	kill -CONT $sp 2>/dev/null
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
	v=$(verdict $rc "$d/img.bin" "$d/flash" "$d/err")
	report usart "$s" "$cls" "$chip" "$rc" "$v" "$t0" "$t1" "$d"
}

# The bad cable of issue 12: STM32F401, 16 KiB written and verified at
# cable rates every run.  At least 95% must succeed (19 in 20).
one_f401_16k() {
	s=$1
	d="$OUT/f401_16k-$s"
	rm -rf "$d"
	mkdir -p "$d"
	bytes "$s" 16384 >"$d/img.bin"
	bytes $((s + 100000)) $((256 * 1024)) >"$d/flash"
	"$USART_SIM" --chip f401 --link "$d/tty" --flash "$d/flash" \
	    --log "$d/sim.log" --seed "$s" \
	    --corrupt 0.001 --drop 0.0005 --nack 0.02 2>"$d/sim.err" &
	sp=$!
	sim_ready_and_armed "$d" "$s" cable $sp KILL
	t0=$(date +%s.%N)
	timeout -s KILL $RUN_LIMIT_S "$FLASHTOOL" -w "$d/img.bin" "$d/tty" \
	    >"$d/out" 2>"$d/err"
	rc=$?
	t1=$(date +%s.%N)
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
	v=$(verdict $rc "$d/img.bin" "$d/flash" "$d/err")
	report f401_16k "$s" cable f401 "$rc" "$v" "$t0" "$t1" "$d"
}

# A backup under parity errors; heavy: 1%, vanish: the simulator dies.
one_parity() {
	s=$1
	cls=$(class_of "$s")
	d="$OUT/parity-$s"
	rm -rf "$d"
	mkdir -p "$d"
	case $cls in
	heavy) rate=0.01 ;;
	*) rate=0.001 ;;
	esac
	len=$((4096 + (s * 5 % 9) * 1024))
	bytes $((s + 100000)) $((128 * 1024)) >"$d/flash"
	"$USART_SIM" --chip f103 --link "$d/tty" --flash "$d/flash" \
	    --log "$d/sim.log" --seed "$s" --parity-errors $rate 2>"$d/sim.err" &
	sp=$!
	# A backup of a few KiB takes well under a second without the
	# timing model: vanish within it.
	sim_ready_and_armed "$d" "$s" "$cls" $sp KILL 250 10
	head -c "$len" "$d/flash" >"$d/want.bin"
	t0=$(date +%s.%N)
	LD_PRELOAD="$SHIM_PRELOAD" FT_SHIM_PARITY=1 timeout -s KILL $RUN_LIMIT_S \
	    "$FLASHTOOL" -r "$d/back.bin" -S "0x08000000:$len" "$d/tty" \
	    >"$d/out" 2>"$d/err"
	rc=$?
	t1=$(date +%s.%N)
	[ -n "$kp" ] && { kill $kp 2>/dev/null; wait $kp 2>/dev/null; }
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
	# A short backup that exits 0 is as wrong as a damaged one.
	[ -f "$d/back.bin" ] || : >"$d/back.bin"
	if [ $rc -eq 0 ] && [ "$(wc -c <"$d/back.bin")" -ne "$len" ]; then
		v=WRONG
	else
		v=$(verdict $rc "$d/want.bin" "$d/back.bin" "$d/err")
	fi
	report parity "$s" "$cls" f103 "$rc" "$v" "$t0" "$t1" "$d"
}

one_dfu() {
	s=$1
	cls=$(class_of "$s")
	d="$OUT/dfu-$s"
	rm -rf "$d"
	mkdir -p "$d"
	case $((s % 2)) in
	0) model=f042 kib=32 ;;
	*) model=g431 kib=128 ;;
	esac
	case $cls in
	heavy) faults="stall=0.1 timeout=0.1" ;;
	vanish) faults="stall=0.01 timeout=0.01 disconnect=$((3 + (s * 7) % 40))" ;;
	*) faults="stall=0.01 timeout=0.01" ;;
	esac
	len=$((4096 + (s * 3 % 9) * 512))
	bytes "$s" "$len" >"$d/img.bin"
	bytes $((s + 100000)) $((kib * 1024)) >"$d/flash"
	t0=$(date +%s.%N)
	FT_USBSIM="$model path=1-1 flash=$d/flash state=$d/state log=$d/usb.log seed=$s $faults" \
	    LD_PRELOAD="$PRELOAD" timeout -s KILL $RUN_LIMIT_S \
	    "$FLASHTOOL" --dfu --stay -w "$d/img.bin" >"$d/out" 2>"$d/err"
	rc=$?
	t1=$(date +%s.%N)
	v=$(verdict $rc "$d/img.bin" "$d/flash" "$d/err")
	report dfu "$s" "$cls" "$model" "$rc" "$v" "$t0" "$t1" "$d"
}

# Katapult: where the application starts in the flash file, and its size.
kp_model() {
	case $(($1 % 4)) in
	0) echo "f042 8192 32" ;;
	1) echo "g0b1 8192 512" ;;
	2) echo "f446 32768 512" ;;
	*) echo "rp2040 16384 2048" ;;
	esac
}

one_katapult() {
	s=$1
	cls=$(class_of "$s")
	d="$OUT/katapult-$s"
	rm -rf "$d"
	mkdir -p "$d"
	set -- $(kp_model "$s")
	model=$1 off=$2 kib=$3
	link=usb
	[ $((s / 4 % 2)) -eq 1 ] && link=uart
	len=$((2048 + (s * 3 % 9) * 512))
	case $cls in
	heavy) rates="--nack 0.2 --error 0.1 --busy 0.05 --lose-ack 0.1"
	    [ $link = uart ] && rates="$rates --corrupt 0.001" ;;
	vanish) rates="--nack 0.02 --error 0.01 --busy 0.005 --lose-ack 0.01
	    --vanish-after $(((s * 7919) % (len / 64 + 4)))" ;;
	*) rates="--nack 0.02 --error 0.01 --busy 0.005 --lose-ack 0.01" ;;
	esac
	bytes "$s" "$len" >"$d/img.bin"
	mkdir -p "$d/byid"
	# The simulator makes the flash with its Katapult; an old firmware
	# then fills the application area.
	"$KSIM" --model $model --uart --link "$d/tty" --flash "$d/flash" \
	    2>/dev/null &
	sp=$!
	sim_ready_and_armed "$d" "$s" cable $sp KILL
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
	rm -f "$d/tty"
	bytes $((s + 100000)) $((kib * 1024 - off)) |
	    dd of="$d/flash" bs=4096 seek="$off" oflag=seek_bytes \
	    conv=notrunc 2>/dev/null
	# shellcheck disable=SC2086
	"$KSIM" --model $model --$link --link "$d/tty" --by-id "$d/byid" \
	    --flash "$d/flash" --log "$d/sim.log" --seed "$s" $rates \
	    2>"$d/sim.err" &
	sp=$!
	sim_ready_and_armed "$d" "$s" cable $sp KILL
	port=$d/tty
	[ $link = usb ] && port=$(ls "$d"/byid/usb-* 2>/dev/null | head -n 1)
	t0=$(date +%s.%N)
	timeout -s KILL $RUN_LIMIT_S "$FLASHTOOL" --katapult -w "$d/img.bin" \
	    "$port" >"$d/out" 2>"$d/err"
	rc=$?
	t1=$(date +%s.%N)
	kill $sp 2>/dev/null
	wait $sp 2>/dev/null
	dd if="$d/flash" of="$d/app.bin" bs=1 skip="$off" count="$len" \
	    2>/dev/null
	v=$(verdict $rc "$d/img.bin" "$d/app.bin" "$d/err")
	# A failure must leave the board in Katapult.
	[ $rc -ne 0 ] && grep -q 'COMPLETE -> ACK' "$d/sim.log" && v=WRONG
	report katapult "$s" "$cls" "$model-$link" "$rc" "$v" "$t0" "$t1" "$d"
}

report() {
	_secs=$(awk -v a="$7" -v b="$8" 'BEGIN { printf "%.1f", b - a }')
	_msg=$(grep '^flashtool: ' "$9/err" | grep -v 'warning:' |
	    grep -v 'stays in Katapult' | tail -n 1 | cut -c1-160)
	printf '%s %s %s %s rc=%s %s %ss %s\n' "$1" "$2" "$3" "$4" "$5" "$6" \
	    "$_secs" "$_msg"
	case $6 in
	ok|failed) [ -n "$FAULT_KEEP" ] || rm -rf "$9" ;;
	esac
}

if [ "$1" = one ]; then
	PRELOAD=$2
	SHIM_PRELOAD=$SHIM
	case $PRELOAD in
	*libasan*) SHIM_PRELOAD="${PRELOAD%%:*}:$SHIM" ;;
	esac
	shift 2
	"one_$1" "$2"
	exit 0
fi

for f in "$FLASHTOOL" "$USART_SIM" "$USB_SIM" "$SHIM" "$KSIM"; do
	[ -e "$f" ] || { echo "faults: $f missing (make O=DIR all sims)" >&2; exit 2; }
done
command -v perl >/dev/null || { echo "faults: perl needed" >&2; exit 2; }
PRELOAD=$USB_SIM
if ldd "$FLASHTOOL" 2>/dev/null | grep -q libasan; then
	PRELOAD="$(${CC:-cc} -print-file-name=libasan.so):$USB_SIM"
fi
rm -rf "$OUT"
mkdir -p "$OUT"
export FT_BUILD
start=$(date +%s)
for tr in usart dfu parity f401_16k katapult; do
	n=$RUNS
	[ "$tr" = f401_16k ] && n=$RUNS_16K
	seq 1 "$n" | xargs -P "$JOBS" -I{} sh "$0" one "$PRELOAD" $tr {} |
	    tee "$OUT/$tr.results" | grep -v ' ok \| failed ' || true
done
end=$(date +%s)

status=0
echo "== fault campaign: $RUNS runs per transport, $((end - start)) s"
for tr in usart dfu parity f401_16k katapult; do
	r="$OUT/$tr.results"
	want=$RUNS min_pct=80
	[ "$tr" = f401_16k ] && want=$RUNS_16K min_pct=95
	for cls in cable heavy vanish; do
		[ "$tr" = f401_16k ] && [ "$cls" != cable ] && continue
		n=$(grep -c " $cls " "$r")
		okn=$(grep " $cls " "$r" | grep -c ' ok ')
		fl=$(grep " $cls " "$r" | grep -c ' failed ')
		bad=$(grep " $cls " "$r" | grep -Ec ' (WRONG|HANG|VAGUE) ')
		slow=$(grep " $cls " "$r" | awk '{ sub("s$", "", $7); if ($7 > m) m = $7 } END { print m + 0 }')
		pct=0
		[ "$n" -gt 0 ] && pct=$((okn * 100 / n))
		printf '%-6s %-6s runs %3d: exit 0 and exact %3d (%3d%%), failed with a message %3d, wrong/hung/vague %d; slowest %s s\n' \
		    "$tr" "$cls" "$n" "$okn" "$pct" "$fl" "$bad" "$slow"
		[ "$bad" -eq 0 ] || status=1
		if [ "$cls" = cable ] && [ "$pct" -lt "$min_pct" ]; then status=1; fi
	done
	[ "$(wc -l <"$r")" -eq "$want" ] || { echo "$tr: only $(wc -l <"$r") of $want runs reported"; status=1; }
done
wrong=$(cat "$OUT"/*.results | grep -c ' WRONG ')
echo "runs that exited 0 with wrong contents: $wrong"
[ $status -eq 0 ] && echo "fault campaign: PASS" || echo "fault campaign: FAIL (files in $OUT)"
exit $status
