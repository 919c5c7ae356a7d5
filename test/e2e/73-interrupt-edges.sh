# End-to-end: signals at the edges that 71-interrupts.sh leaves out, over
# USART, FT_EDGE_TRIALS times each (default 10, 5 under valgrind):
#  - sync: the chip runs its application and never answers 0x7F; a signal
#    during the 2.5 s of sync tries ends the run within SYNC_STOP_MS with
#    status 10, "nothing was changed", the port's settings restored and
#    no -r target or temporary;
#  - open: with an entry sequence, a signal during the entry half, the
#    settle, the sync or the identification ends the run with status 10
#    (or 0 if the write was over first); nothing is erased, the exit half
#    runs in full (the chip is back in its application) and DTR/RTS are
#    as before;
#  - exit half: a signal during the exit sequence changes nothing (man
#    page, EXIT STATUS 10): status 0, the image in flash, and the exit
#    half's reset pulse keeps its full 100 ms;
#  - dead line: the chip stops answering in the middle of a write (the
#    simulator is frozen with SIGSTOP), so flashtool is waiting, retrying
#    or resyncing; a signal then ends the run within DEAD_STOP_MS with
#    status 10, naming where it stopped and the ranges erased but not
#    yet written, not after the retries run out;
#  - Katapult: a signal while flashtool looks for Katapult behind a
#    Klipper that ignores the request, and on a dead line mid-write.
. "$FT_TOP/test/e2e/lib.sh"
[ -x "$USART_SIM" ] || { fail "edges: $USART_SIM not built"; exit 1; }
[ -f "$SHIM" ] || { fail "edges: $SHIM not built"; exit 1; }
T="$FT_OUT/edges"
rm -rf "$T"
mkdir -p "$T"
TRIALS=${FT_EDGE_TRIALS:-10}
DFU_TRIALS=${FT_EDGE_DFU_TRIALS:-4}
# A sync try waits 500 ms; a write attempt's reply wait about 1 s.
SYNC_STOP_MS=800 DEAD_STOP_MS=1500
if [ "${VALGRIND:-0}" = 1 ]; then
	# Memory checks, not timing, are the point here: fewer trials.
	TRIALS=${FT_EDGE_TRIALS:-5} DFU_TRIALS=${FT_EDGE_DFU_TRIALS:-2}
	SYNC_STOP_MS=3000 DEAD_STOP_MS=4000
fi
SEQ='dtr&-rts,-dtr:dtr&rts,-dtr,-rts'
randimg 4096 >"$T/img.bin"
randimg 1024 >"$T/small.bin"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

pick_signal() {
	case $(($1 % 3)) in
	0) echo TERM ;;
	1) echo INT ;;
	*) echo HUP ;;
	esac
}

# wait_after LOG FROM PID FIRST THEN: as wait_start, for a line matching
# THEN that comes after a line matching FIRST.
wait_after() {
	_w=0
	while [ "$_w" -lt 6000 ]; do
		tail -n +"$2" "$1" 2>/dev/null | awk -v a="$4" -v b="$5" \
		    'seen && $0 ~ b { f = 1; exit } $0 ~ a { seen = 1 }
		    END { exit !f }' && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.005
		_w=$((_w + 1))
	done
	return 1
}

# signal_then_reap SALT MAX_MS MISSING: the wait that ran just before
# succeeded ($? 0): sleep 0..MAX_MS ms and send $sig to $p; else note
# MISSING in why.  Then reap $p into rc and keep this run's log lines in
# $T/$part-$i.seg.
signal_then_reap() {
	if [ "$4" -eq 0 ]; then
		sleep "$(pick "$i" "$1" "$2")"
		kill -"$sig" "$p" 2>/dev/null
	else
		why="; $3"
	fi
	wait "$p"
	rc=$?
	tail -n +"$n0" "$SIM_LOG" >"$T/$part-$i.seg"
}

# stop_timed SIG PID BOUND_MS: send SIG to PID, wait for it, and hold it
# to status 10 within BOUND_MS; sets rc and ms, raises worst, adds to why.
stop_timed() {
	_t=$(now_ms)
	kill -"$1" "$2" 2>/dev/null
	wait "$2"
	rc=$?
	ms=$(($(now_ms) - _t))
	[ "$ms" -gt "$worst" ] && worst=$ms
	[ "$rc" -eq 10 ] || why="$why; exit $rc, wanted 10"
	[ "$ms" -le "$3" ] || why="$why; exited $ms ms after the signal"
}

# report PART BAD DETAIL: one PASS line for a part whose trials were all
# good.
report() {
	[ "$2" -eq 0 ] && pass "edges-$1: $TRIALS trials, $3"
}

# --- sync: a chip that runs its application (nothing wired), no sequence.
sim_start edge-sync --chip f103 --timing --board-socket "$FT_OUT/edge-sync.sock" \
	--board-start app
BOARD_SOCK="$FT_OUT/edge-sync.sock"
before=$(stty -g -F "$SIM_TTY" 2>/dev/null)
bad=0 worst=0
i=1
while [ "$i" -le "$TRIALS" ]; do
	sig=$(pick_signal "$i")
	n0=$(($(wc -l <"$SIM_LOG") + 1))
	# shellcheck disable=SC2046
	env $(shim_env "$FLASHTOOL") "$FLASHTOOL" -r "$T/sync-$i.bin" \
	    "$SIM_TTY" >"$T/sync-$i.out" 2>"$T/sync-$i.err" &
	p=$!
	why=""
	if wait_start "$SIM_LOG" "$n0" "$p" 'BOARD dtr=1 rts=1 \(open\)'; then
		sleep "$(pick "$i" 1 2400)"
	else
		why="; the port was never opened"
	fi
	stop_timed "$sig" "$p" "$SYNC_STOP_MS"
	grep -q 'nothing was changed' "$T/sync-$i.err" ||
		why="$why; no 'nothing was changed'"
	[ -e "$T/sync-$i.bin" ] && why="$why; -r target created"
	ls "$T"/sync-$i.bin.* >/dev/null 2>&1 && why="$why; temporary left"
	[ "$(stty -g -F "$SIM_TTY" 2>/dev/null)" = "$before" ] ||
		why="$why; port settings changed"
	trial_verdict "edge-sync-$i ($sig)" "$T/sync-$i.err"
	i=$((i + 1))
done
echo "sync: $TRIALS trials, slowest exit $worst ms after the signal, $bad bad"
report sync "$bad" "status 10 within $worst ms (bound $SYNC_STOP_MS ms), port restored"
sim_stop

# --- open and exit half: DTR# on NRST, RTS# on BOOT0, the application at
# power-on, the dtr-rts preset written out as -i, a port with -hupcl.
sim_start edge-seq --chip f103 --timing --board-socket "$FT_OUT/edge-seq.sock" \
	--board nrst=dtr,boot0=rts --board-start app
BOARD_SOCK="$FT_OUT/edge-seq.sock"
stty -F "$SIM_TTY" -hupcl
before=$(stty -g -F "$SIM_TTY" 2>/dev/null)
bad=0 stopped=0 acted=0
i=1
while [ "$i" -le "$TRIALS" ]; do
	sig=$(pick_signal "$i")
	n0=$(($(wc -l <"$SIM_LOG") + 1))
	lines0=$(modem_state "$SIM_LOG")
	# shellcheck disable=SC2046
	env $(shim_env "$FLASHTOOL") "$FLASHTOOL" -i "$SEQ" -w "$T/img.bin" \
	    --no-diff "$SIM_TTY" >"$T/open-$i.out" 2>"$T/open-$i.err" &
	p=$!
	why=""
	# From the open on: the entry half takes 100 ms, the settle 50 ms.
	wait_start "$SIM_LOG" "$n0" "$p" 'BOARD dtr=1 rts=1 \(open\)'
	part=open signal_then_reap 2 200 "the port was never opened" $?
	case $rc in
	0) ;;
	10)
		if grep -q 'nothing was changed' "$T/open-$i.err"; then
			stopped=$((stopped + 1))
			grep -Eq ' (ERASE|MASS_ERASE|WRITE) ' \
			    "$T/open-$i.seg" && why="$why; the flash was touched"
		elif grep -q ' interrupted before 0x' "$T/open-$i.err"; then
			# Late: the write had begun (71-interrupts.sh's case).
			acted=$((acted + 1))
		else
			why="$why; neither 'nothing was changed' nor 'interrupted before'"
		fi
		;;
	*) why="$why; exit $rc" ;;
	esac
	lines=$(modem_state "$SIM_LOG")
	[ "$lines" = "dtr=0 rts=0" ] && [ "$lines" = "$lines0" ] ||
		why="$why; $lines after the run, $lines0 before"
	why="$why$(back_in_app "$T/open-$i.seg")"
	[ "$(stty -g -F "$SIM_TTY" 2>/dev/null)" = "$before" ] ||
		why="$why; port settings changed"
	trial_verdict "edge-open-$i ($sig)" "$T/open-$i.err"
	i=$((i + 1))
done
echo "open: $TRIALS trials, $stopped interrupted while opening, $acted" \
	"after the write began, $bad bad"
report open "$bad" "$stopped stopped while opening, nothing erased, exit half run"
[ "$stopped" -gt 0 ] && pass "edges-open-some-stopped" ||
	fail "edges-open: no trial was interrupted while opening"

# The exit half: 'dtr&rts' (reset held, BOOT0 low), 100 ms, '-dtr'.
bad=0
i=1
while [ "$i" -le "$TRIALS" ]; do
	sig=$(pick_signal "$i")
	n0=$(($(wc -l <"$SIM_LOG") + 1))
	# shellcheck disable=SC2046
	env $(shim_env "$FLASHTOOL") "$FLASHTOOL" -i "$SEQ" -w "$T/small.bin" \
	    --no-diff "$SIM_TTY" >"$T/exit-$i.out" 2>"$T/exit-$i.err" &
	p=$!
	why=""
	wait_after "$SIM_LOG" "$n0" "$p" ' (WRITE|READ) ' \
	    'BOARD dtr=1 rts=1 -> nrst=0 boot0=0$'
	part=exit signal_then_reap 3 90 "the exit half did not start" $?
	[ "$rc" -eq 0 ] || why="$why; exit $rc, wanted 0"
	cmp -s -n 1024 "$T/small.bin" "$SIM_FLASH" || why="$why; flash differs"
	# The reset pulse of the exit half: from 'dtr&rts' to '-dtr'.
	t1=$(grep -E 'BOARD dtr=1 rts=1 -> nrst=0 boot0=0$' "$T/exit-$i.seg" |
	    tail -n 1 | cut -d' ' -f1)
	t2=$(grep -E 'BOARD dtr=0 rts=1 -> nrst=1 boot0=0$' "$T/exit-$i.seg" |
	    tail -n 1 | cut -d' ' -f1)
	if [ -z "$t1" ] || [ -z "$t2" ] ||
	    ! awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(b - a >= 90) }'; then
		why="$why; exit half's reset pulse '$t1'..'$t2' is not 100 ms"
	fi
	why="$why$(back_in_app "$T/exit-$i.seg")"
	[ "$(modem_state "$SIM_LOG")" = "dtr=0 rts=0" ] ||
		why="$why; $(modem_state "$SIM_LOG") after the run"
	trial_verdict "edge-exit-$i ($sig)" "$T/exit-$i.err"
	i=$((i + 1))
done
echo "exit half: $TRIALS trials, $bad bad"
report exit "$bad" "status 0, the exit half ran in full"
sim_stop

# --- dead line: no board (a frozen simulator could not answer the
# shim), a plain pty.
bad=0 worst=0
i=1
while [ "$i" -le "$TRIALS" ]; do
	sig=$(pick_signal "$i")
	# The simulator appends to its log: a fresh one counts the blocks.
	rm -f "$FT_OUT/edge-dead.flash" "$FT_OUT/edge-dead.simlog"
	sim_start edge-dead --chip f103 --timing
	# Freeze after the Nth block: 1..8 of the 16.
	nth=$((1 + i % 8))
	"$FLASHTOOL" -w "$T/img.bin" --no-diff "$SIM_TTY" \
	    >"$T/dead-$i.out" 2>"$T/dead-$i.err" &
	p=$!
	why=""
	_w=0
	while [ "$(grep -c ' WRITE ' "$SIM_LOG" 2>/dev/null)" -lt "$nth" ] &&
	    kill -0 "$p" 2>/dev/null && [ $_w -lt 6000 ]; do
		sleep 0.002
		_w=$((_w + 1))
	done
	kill -STOP "$SIM_PID"
	# Into the reply wait, the retries or the resync.
	sleep "$(pick "$i" 4 2500)"
	stop_timed "$sig" "$p" "$DEAD_STOP_MS"
	kill -CONT "$SIM_PID"
	grep -Eq 'write interrupted before 0x080[0-9a-f]{5}' "$T/dead-$i.err" ||
		why="$why; no 'write interrupted before ADDR'"
	grep -q 'erased but not yet written: 0x080' "$T/dead-$i.err" ||
		why="$why; no 'erased but not yet written'"
	trial_verdict "edge-dead-$i ($sig, frozen after block $nth)" "$T/dead-$i.err"
	sim_stop
	i=$((i + 1))
done
echo "dead line: $TRIALS trials, slowest exit $worst ms after the signal, $bad bad"
report dead "$bad" "status 10 within $worst ms (bound $DEAD_STOP_MS ms)"

# --- A USB device that stops answering: 30% of DFU requests time out
# after the full 5 s control-transfer timeout.  A signal lets the
# transfer under way and the cleanup's ABORT run out (each bounded), not
# the three retries (before: 17-27 s, status 1).
if [ -f "$USB_SIM" ]; then
	PRE=$(usb_preload)
	DFU_STOP_MS=11000
	randimg 32768 >"$T/dimg.bin"
	bad=0 worst=0
	i=1
	while [ "$i" -le "$DFU_TRIALS" ]; do
		sig=$(pick_signal "$i")
		log="$T/ddead-$i.log"
		rm -f "$T/ddead.state"
		cfg="g431 path=1-1 flash=$T/ddead.flash state=$T/ddead.state log=$log timing=1 timeout=0.3 seed=$i"
		FT_USBSIM="$cfg" LD_PRELOAD="$PRE" "$FLASHTOOL" --dfu --stay \
		    -w "$T/dimg.bin" >"$T/ddead-$i.out" 2>"$T/ddead-$i.err" &
		p=$!
		why=""
		if wait_start "$log" 1 "$p" ' (DNLOAD|UPLOAD) '; then
			sleep "$(pick "$i" 5 2000)"
		else
			why="; the operation did not start"
		fi
		stop_timed "$sig" "$p" "$DFU_STOP_MS"
		grep -Eq 'interrupted before 0x080[0-9a-f]{5}' "$T/ddead-$i.err" ||
			why="$why; no 'interrupted before ADDR'"
		seq=$(grep -E '^[0-9]+ [^ ]+ (CLAIM|RELEASE|CLOSE|EXIT) ' "$log" |
		    cut -d' ' -f3- | tail -n 3 | tr '\n' '|')
		[ "$seq" = "RELEASE interface 0 -> OK|CLOSE -> OK|EXIT -> OK|" ] ||
			why="$why; interface not released, closed and exited: '$seq'"
			trial_verdict "edge-dfu-dead-$i ($sig)" "$T/ddead-$i.err"
		i=$((i + 1))
	done
	echo "dfu dead: $DFU_TRIALS trials, slowest exit $worst ms after the signal, $bad bad"
	[ "$bad" -eq 0 ] && pass "edges-dfu-dead: $DFU_TRIALS trials, status 10 within $worst ms (bound $DFU_STOP_MS ms), interface released"
fi

# --- Katapult (katapult-sim over a UART, timing on):
#  - looking: a UART Klipper without Katapult ignores the bootloader
#    request, so flashtool sends CONNECT for 3 s; a signal then ends the
#    run within KP_STOP_MS with status 10 and "nothing was changed";
#  - dead line: Katapult stops answering in the middle of a write (the
#    simulator frozen); a signal ends the run within KP_STOP_MS with
#    status 10, naming the block, without COMPLETE.
KSIM="$FT_BUILD/test/sim/katapult-sim"
KP_STOP_MS=800
# kp_fresh NAME MODEL: a Katapult simulator over a UART with a blank
# flash, its files $T/NAME.*; kpid is its process.
kp_fresh() {
	rm -f "$T/$1.flash" "$T/$1.log" "$T/$1.tty"
	"$KSIM" --uart --model "$2" --timing --link "$T/$1.tty" \
	    --flash "$T/$1.flash" --log "$T/$1.log" 2>"$T/$1.err" &
	kpid=$!
	n=0
	while [ ! -e "$T/$1.tty" ] && [ $n -lt 100 ]; do
		sleep 0.05
		n=$((n + 1))
	done
}
[ "${VALGRIND:-0}" = 1 ] && KP_STOP_MS=3000
if [ -x "$KSIM" ]; then
	randimg 8192 >"$T/kp-app.bin"
	rm -f "$T/kp-look.flash"
	"$KSIM" --uart --model f042 --timing --start app --no-katapult \
	    --app-image "$T/kp-app.bin" --link "$T/kp-look.tty" \
	    --flash "$T/kp-look.flash" --log "$T/kp-look.log" \
	    2>"$T/kp-look.err" &
	kpid=$!
	SIM_PIDS="$SIM_PIDS $kpid"
	n=0
	while [ ! -e "$T/kp-look.tty" ] && [ $n -lt 100 ]; do sleep 0.05; n=$((n + 1)); done
	before=$(stty -g -F "$T/kp-look.tty" 2>/dev/null)
	bad=0 worst=0
	i=1
	while [ "$i" -le "$TRIALS" ]; do
		sig=$(pick_signal "$i")
		n0=$(($(wc -l <"$T/kp-look.log") + 1))
		"$FLASHTOOL" --katapult -w "$T/small.bin" "$T/kp-look.tty" \
		    >"$T/kl-$i.out" 2>"$T/kl-$i.err" &
		p=$!
		why=""
		wait_start "$T/kp-look.log" "$n0" "$p" 'REQUEST serial' ||
			why="; the request never came"
		sleep "$(pick "$i" 9 2500)"
		stop_timed "$sig" "$p" "$KP_STOP_MS"
		grep -q 'nothing was changed' "$T/kl-$i.err" ||
			why="$why; no 'nothing was changed'"
		[ "$(stty -g -F "$T/kp-look.tty" 2>/dev/null)" = "$before" ] ||
			why="$why; port settings changed"
		trial_verdict "edge-kp-look-$i ($sig)" "$T/kl-$i.err"
		i=$((i + 1))
	done
	kill $kpid 2>/dev/null
	wait $kpid 2>/dev/null
	echo "katapult looking: $TRIALS trials, slowest exit $worst ms, $bad bad"
	report kp-look "$bad" "status 10 within $worst ms (bound $KP_STOP_MS ms), port restored"

	bad=0 worst=0
	i=1
	while [ "$i" -le "$TRIALS" ]; do
		sig=$(pick_signal "$i")
		kp_fresh kp-dead f042
		"$FLASHTOOL" --katapult -w "$T/img.bin" --no-diff "$T/kp-dead.tty" \
		    >"$T/kd-$i.out" 2>"$T/kd-$i.err" &
		p=$!
		why=""
		nth=$((1 + i % 40))
		_w=0
		while [ "$(grep -c 'SEND_BLOCK 0x' "$T/kp-dead.log" 2>/dev/null)" -lt "$nth" ] &&
		    kill -0 "$p" 2>/dev/null && [ $_w -lt 6000 ]; do
			sleep 0.002
			_w=$((_w + 1))
		done
		kill -STOP "$kpid"
		sleep "$(pick "$i" 13 2500)"
		stop_timed "$sig" "$p" "$KP_STOP_MS"
		kill -CONT "$kpid"
		grep -Eq 'write interrupted before 0x080[0-9a-f]{5}' "$T/kd-$i.err" ||
			why="$why; no 'write interrupted before ADDR'"
		grep -q 'COMPLETE' "$T/kp-dead.log" && why="$why; COMPLETE sent"
		grep -q 'erased but not yet written' "$T/kd-$i.err" &&
			why="$why; claims pages erased that Katapult only marked"
		trial_verdict "edge-kp-dead-$i ($sig, frozen after block $nth)" \
		    "$T/kd-$i.err"
		kill $kpid 2>/dev/null
		wait $kpid 2>/dev/null
		i=$((i + 1))
	done
	echo "katapult dead line: $TRIALS trials, slowest exit $worst ms, $bad bad"
	report kp-dead "$bad" "status 10 within $worst ms (bound $KP_STOP_MS ms), no COMPLETE"

	# A G0B1 (one program per double word between erases) on a blank
	# flash: opening the first page sends a marker block into its first
	# quarter, then the page's first block, which makes Katapult erase.
	# Frozen between the two, a signal names the page's start, not the
	# marker, and says the pages past it were not erased.
	kp_fresh kp-mark g0b1
	"$FLASHTOOL" --katapult -w "$T/img.bin" --no-diff "$T/kp-mark.tty" \
	    >"$T/km.out" 2>"$T/km.err" &
	p=$!
	bad=0 worst=0 why=""
	_w=0
	while ! grep -q 'SEND_BLOCK 0x08002040 -> ACK' "$T/kp-mark.log" 2>/dev/null &&
	    kill -0 "$p" 2>/dev/null && [ $_w -lt 6000 ]; do
		sleep 0.002
		_w=$((_w + 1))
	done
	kill -STOP "$kpid"
	sleep 0.2
	stop_timed INT "$p" "$KP_STOP_MS"
	kill -CONT "$kpid"
	grep -q 'SEND_BLOCK 0x08002040 -> ACK' "$T/kp-mark.log" ||
		why="$why; no marker block at 0x08002040"
	grep -q 'write interrupted before 0x08002000; not yet written: 0x08002000-0x08002fff (the bootloader erases a page when its first block arrives' "$T/km.err" ||
		why="$why; the stop does not name 0x08002000 and the pages not reached"
	grep -q 'COMPLETE' "$T/kp-mark.log" && why="$why; COMPLETE sent"
	trial_verdict "edge-kp-marker (INT after the marker block)" "$T/km.err"
	kill $kpid 2>/dev/null
	wait $kpid 2>/dev/null
	[ "$bad" -eq 0 ] && pass "edges-kp-marker: status 10 naming the page under the marker"
fi
