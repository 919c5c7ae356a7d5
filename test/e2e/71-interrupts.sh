# End-to-end: SIGINT, SIGTERM or SIGHUP at a random moment of a write or a
# read, FT_INTR_TRIALS times per transport (default 50; Katapult, over a
# UART and over USB: FT_INTR_KP_TRIALS, default half that).
#
# The signal goes out only once the operation is under way - the
# simulator has logged the last identification command (USART) or the
# first erase, write or read request (DFU) of this run - and then after a
# pseudo-random delay spanning the operation.  So every trial lands in
# the erase, write, verify or read phase, never in the start-up of the
# process (under VALGRIND=1 that start-up is valgrind's, before flashtool
# has a handler).  A trial must end with status 0 (the run was over
# first) or 10, and after status 10:
#  - the message names where it stopped ("... interrupted before ADDR"),
#    and ADDR is where the last block in the simulator's log ended;
#  - a write names the ranges erased but not yet written, from ADDR on;
#  - a read leaves neither the -r target nor a temporary beside it.
# After every trial, USART: the port's termios is as before, and DTR/RTS
# are as the man page says (ENTRY SEQUENCES): without a sequence, the
# hangup of flashtool's own last close drops both, as they were before
# the run; with -i, the exit half ran (the chip is back in its
# application) and left both de-asserted, as before the run (the port
# has -hupcl there, so the levels are the sequence's, not the kernel's).
# DFU: the log of the simulated libusb shows the interface claimed, then
# released, the handle closed and libusb_exit called, in that order, and
# the device is left dfuIDLE.
. "$FT_TOP/test/e2e/lib.sh"
[ -x "$USART_SIM" ] || { fail "intr: $USART_SIM not built"; exit 1; }
[ -f "$SHIM" ] || { fail "intr: $SHIM not built"; exit 1; }
T="$FT_OUT/intr"
rm -rf "$T"
mkdir -p "$T"
TRIALS=${FT_INTR_TRIALS:-50}

# pick_signal N: the signal of trial N: INT, TERM or HUP (a closed ssh
# session); 5 is prime to the 3 and 4 that pick the action and board,
# so every signal meets every combination.
pick_signal() {
	case $(($1 % 5)) in
	0|3) echo TERM ;;
	4) echo HUP ;;
	*) echo INT ;;
	esac
}
# stop_at ERRFILE: "KIND ADDR" from "KIND interrupted before ADDR".
stop_at() {
	sed -n 's/.* \([a-z]*\) interrupted before \(0x[0-9a-f]*\).*/\1 \2/p' \
	    "$1" | head -n 1
}

# block_end SEG KIND BASE UNIT: where the last block of KIND in the log
# lines SEG ended (BASE if there is none); UNIT is the erase unit size.
block_end() {
	awk -v k="$2" -v base="$(($3))" -v unit="$4" '
	function hex(s,  i, v) {
		v = 0; s = tolower(substr(s, 3))
		for (i = 1; i <= length(s); i++)
			v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
		return v
	}
	{
		for (i = 1; i < NF; i++) {
			if ($i == "WRITE" && k == "write" && $(i + 1) ~ /^0x/)
				end = hex($(i + 1)) + $(i + 2)
			else if ($i == "READ" && (k == "read" || k == "verify") &&
			    $(i + 1) ~ /^0x/)
				end = hex($(i + 1)) + $(i + 2)
			else if ($i == "ERASE" && k == "erase" && $(i + 1) ~ /^0x/)
				end = hex($(i + 1)) + unit
			else if ($i == "ERASE" && k == "erase" &&
			    $(i + 1) ~ /^pages=/) {
				n = split(substr($(i + 1), 7), pg, ",")
				end = base + (pg[n] + 1) * unit
			}
		}
	}
	END { printf "0x%08x\n", end ? end : base }' "$1"
}

# check_stop ERR SEG ACT BASE UNIT: the reasons (empty: none) why the
# stop of an interrupted run is not what it must be.
check_stop() {
	_at=$(stop_at "$1")
	if [ -z "$_at" ]; then
		echo "; no 'interrupted before ADDR'"
		return
	fi
	_k=${_at% *} _a=${_at#* }
	_e=$(block_end "$2" "$_k" "$4" "$5")
	[ $((_a)) -eq $((_e)) ] ||
		echo "; stopped before $_a, the last $_k block ended at $_e"
	case $3 in -r*) return ;; esac
	# Nothing erased yet: nothing to name.
	grep -Eq ' (ERASE|MASS_ERASE) ' "$2" || return
	case $_k in
	write) _from=$_a ;;
	erase) _from=$(printf '0x%08x' $(($4))) ;;
	*) return ;;
	esac
	[ "$_k" = erase ] && [ $((_a)) -eq $(($4)) ] && return
	grep -q "erased but not yet written: $_from-" "$1" ||
		echo "; no 'erased but not yet written: $_from-...'"
}

# count KIND: how many of the interrupted trials stopped in KIND.
count() {
	echo "$KINDS" | tr ' ' '\n' | grep -c "^$1\$"
}

# --- USART: two boards.  A: nothing wired to DTR/RTS, the chip always in
# its bootloader; runs without a sequence.  B: DTR# to NRST, RTS# to
# BOOT0 (the dtr-rts preset's wiring), the application at power-on;
# runs with that preset written out as -i, on a port with -hupcl.
UIMG=4096
randimg $UIMG >"$T/img.bin"
SEQ='dtr&-rts,-dtr:dtr&rts,-dtr,-rts'
rm -f "$FT_OUT/intr-a.flash" "$FT_OUT/intr-b.flash"
sim_start intr-a --chip f103 --timing --board-socket "$FT_OUT/intr-a.sock" \
	--board-start bootloader
A_TTY=$SIM_TTY A_LOG=$SIM_LOG A_FLASH=$SIM_FLASH A_PID=$SIM_PID
sim_start intr-b --chip f103 --timing --board-socket "$FT_OUT/intr-b.sock" \
	--board nrst=dtr,boot0=rts --board-start app
B_TTY=$SIM_TTY B_LOG=$SIM_LOG B_FLASH=$SIM_FLASH B_PID=$SIM_PID
stty -F "$B_TTY" -hupcl
A_BEFORE=$(stty -g -F "$A_TTY" 2>/dev/null)
B_BEFORE=$(stty -g -F "$B_TTY" 2>/dev/null)

t0=$(date +%s)
bad=0 stopped=0 seqs=0 KINDS=""
i=1
while [ "$i" -le "$TRIALS" ]; do
	sig=$(pick_signal "$i")
	if [ $((i % 3)) -eq 0 ]; then
		act="-r $T/read-$i.bin -S 0x08000000:$UIMG" max=520
	else
		act="-w $T/img.bin --no-diff" max=1200
	fi
	case $((i % 4)) in
	0|3) b=B seq=$SEQ tty=$B_TTY log=$B_LOG flash=$B_FLASH before=$B_BEFORE
		BOARD_SOCK="$FT_OUT/intr-b.sock" seqs=$((seqs + 1)) ;;
	*) b=A seq="" tty=$A_TTY log=$A_LOG flash=$A_FLASH before=$A_BEFORE
		BOARD_SOCK="$FT_OUT/intr-a.sock" ;;
	esac
	n0=$(($(wc -l <"$log") + 1))
	lines0=$(modem_state "$log")
	# shellcheck disable=SC2046,SC2086
	if [ -n "$seq" ]; then
		env $(shim_env "$FLASHTOOL") "$FLASHTOOL" -i "$seq" $act \
		    "$tty" >"$T/$i.out" 2>"$T/$i.err" &
	else
		env $(shim_env "$FLASHTOOL") "$FLASHTOOL" $act \
		    "$tty" >"$T/$i.out" 2>"$T/$i.err" &
	fi
	p=$!
	why=""
	if wait_start "$log" "$n0" "$p" '^[0-9.]+ GET_ID '; then
		sleep "$(pick "$i" 0 $max)"
		kill -$sig $p 2>/dev/null
	else
		why="; the operation did not start"
		kill -KILL $p 2>/dev/null
	fi
	wait $p
	rc=$?
	tail -n +"$n0" "$log" >"$T/$i.seg"
	case $rc in
	0) ;;
	10)
		stopped=$((stopped + 1))
		grep -q 'interrupted' "$T/$i.err" || why="$why; no 'interrupted' message"
		why="$why$(check_stop "$T/$i.err" "$T/$i.seg" "$act" 0x08000000 1024)"
		at=$(stop_at "$T/$i.err")
		KINDS="$KINDS ${at% *}"
		;;
	*) why="$why; exit $rc" ;;
	esac
	case $act in
	-r*)
		if [ "$rc" -ne 0 ]; then
			[ -e "$T/read-$i.bin" ] && why="$why; partial -r target"
		else
			cmp -s -n $UIMG "$T/read-$i.bin" "$flash" ||
				why="$why; -r target differs from the flash"
		fi
		ls "$T"/read-$i.bin.* >/dev/null 2>&1 && why="$why; temporary left"
		;;
	esac
	now=$(stty -g -F "$tty" 2>/dev/null)
	[ "$now" = "$before" ] || why="$why; port settings changed"
	lines=$(modem_state "$log")
	grep -q 'client gone' "$T/$i.seg" &&
		why="$why; the port was still open when flashtool exited"
	if [ "$b" = A ]; then
		[ "$lines" = "$lines0" ] ||
			why="$why; $lines after the run, $lines0 before"
		grep -Eq ' BOARD dtr=0 rts=0 \(hangup\) ' "$T/$i.seg" ||
			why="$why; no hangup at flashtool's close"
	else
		[ "$lines" = "dtr=0 rts=0" ] && [ "$lines" = "$lines0" ] ||
			why="$why; $lines after the run, $lines0 before, want dtr=0 rts=0"
		# The exit half's work.
		why="$why$(back_in_app "$T/$i.seg")"
	fi
	trial_verdict "usart-intr-$i ($sig, board $b${seq:+ -i $seq}, $act)" \
	    "$T/$i.err"
	i=$((i + 1))
done
secs=$(($(date +%s) - t0))
echo "usart: $TRIALS trials ($seqs with -i) in $secs s: $stopped interrupted" \
	"(erase $(count erase), write $(count write), verify $(count verify)," \
	"read $(count read)), $((TRIALS - stopped)) finished first, $bad bad"
[ "$bad" -eq 0 ] && pass "usart-interrupts: $TRIALS trials, $stopped stopped at a block boundary with status 10"
[ "$stopped" -gt 0 ] && pass "usart-interrupts-some-stopped" || fail "usart-interrupts: no trial was interrupted"
[ "$(count write)" -gt 0 ] && pass "usart-interrupts-some-in-write" ||
	fail "usart-interrupts: no trial stopped in the write phase"
[ "$(count read)" -gt 0 ] && pass "usart-interrupts-some-in-read" ||
	fail "usart-interrupts: no trial stopped in a read"
grep -l 'erased but not yet written' "$T"/*.err >/dev/null 2>&1 &&
	pass "usart-intr-names-erased-ranges" || fail "usart-intr: no 'erased but not yet written'"
# A last write repairs, on either board.
BOARD_SOCK="$FT_OUT/intr-a.sock"
# shellcheck disable=SC2046
expect_rc usart-intr-repair 0 env $(shim_env "$FLASHTOOL") "$FLASHTOOL" \
	-w "$T/img.bin" "$A_TTY"
same_bytes usart-intr-repair-flash "$T/img.bin" "$A_FLASH" 0 $UIMG
BOARD_SOCK="$FT_OUT/intr-b.sock"
# shellcheck disable=SC2046
expect_rc usart-intr-repair-seq 0 env $(shim_env "$FLASHTOOL") "$FLASHTOOL" \
	-i "$SEQ" -w "$T/img.bin" "$B_TTY"
same_bytes usart-intr-repair-seq-flash "$T/img.bin" "$B_FLASH" 0 $UIMG
SIM_PID=$A_PID; sim_stop
SIM_PID=$B_PID; sim_stop

# --- USB DFU: a g431 (1 KiB transfers, 2 KiB pages, 128 KiB to read).
if [ -f "$USB_SIM" ]; then
	PRE=$(usb_preload)
	DIMG=32768
	randimg $DIMG >"$T/dimg.bin"
	t0=$(date +%s)
	bad=0 stopped=0 KINDS=""
	i=1
	while [ "$i" -le "$TRIALS" ]; do
		sig=$(pick_signal "$i")
		if [ $((i % 3)) -eq 0 ]; then
			act="-r $T/dread-$i.bin" max=330
		else
			act="-w $T/dimg.bin --no-diff --stay" max=1100
		fi
		log="$T/d$i.log"
		cfg="g431 path=1-1 flash=$T/d.flash state=$T/d.state log=$log timing=1"
		# shellcheck disable=SC2086
		FT_USBSIM="$cfg" LD_PRELOAD="$PRE" "$FLASHTOOL" --dfu $act \
		    >"$T/d$i.out" 2>"$T/d$i.err" &
		p=$!
		why=""
		if wait_start "$log" 1 "$p" \
		    ' (ERASE|MASS_ERASE|SET_ADDRESS|WRITE|READ)( |$)'; then
			sleep "$(pick "$i" 7 $max)"
			kill -$sig $p 2>/dev/null
		else
			why="; the operation did not start"
			kill -KILL $p 2>/dev/null
		fi
		wait $p
		rc=$?
		case $rc in
		0) ;;
		10)
			stopped=$((stopped + 1))
			grep -q 'interrupted' "$T/d$i.err" || why="$why; no 'interrupted' message"
			why="$why$(check_stop "$T/d$i.err" "$log" "$act" 0x08000000 2048)"
			at=$(stop_at "$T/d$i.err")
			KINDS="$KINDS ${at% *}"
			;;
		*) why="$why; exit $rc" ;;
		esac
		case $act in
		-r*)
			if [ "$rc" -ne 0 ]; then
				[ -e "$T/dread-$i.bin" ] && why="$why; partial -r target"
			else
				cmp -s "$T/dread-$i.bin" "$T/d.flash" ||
					why="$why; -r target differs from the flash"
			fi
			ls "$T"/dread-$i.bin.* >/dev/null 2>&1 && why="$why; temporary left"
			;;
		esac
		# The last claim, then release, close, exit: nothing else.
		seq=$(grep -E '^[0-9]+ [^ ]+ (CLAIM|RELEASE|CLOSE|EXIT) ' "$log" |
		    cut -d' ' -f3- | tail -n 4 | tr '\n' '|')
		[ "$seq" = "CLAIM interface 0 -> OK|RELEASE interface 0 -> OK|CLOSE -> OK|EXIT -> OK|" ] ||
			why="$why; interface not released, closed and exited: '$seq'"
		grep -q 'still claimed' "$log" && why="$why; a handle closed with the interface claimed"
		grep -q '^state=2$' "$T/d.state" || why="$why; device not left dfuIDLE ($(grep '^state=' "$T/d.state"))"
		trial_verdict "dfu-intr-$i ($sig, $act)" "$T/d$i.err"
		i=$((i + 1))
	done
	secs=$(($(date +%s) - t0))
	echo "dfu: $TRIALS trials in $secs s: $stopped interrupted" \
		"(erase $(count erase), write $(count write), verify $(count verify)," \
		"read $(count read)), $((TRIALS - stopped)) finished first, $bad bad"
	[ "$bad" -eq 0 ] && pass "dfu-interrupts: $TRIALS trials, $stopped stopped at a block boundary with status 10, interface released"
	[ "$stopped" -gt 0 ] && pass "dfu-interrupts-some-stopped" || fail "dfu-interrupts: no trial was interrupted"
	[ "$(count write)" -gt 0 ] && pass "dfu-interrupts-some-in-write" ||
		fail "dfu-interrupts: no trial stopped in the write phase"
	[ "$(count read)" -gt 0 ] && pass "dfu-interrupts-some-in-read" ||
		fail "dfu-interrupts: no trial stopped in a read"
	grep -l 'erased but not yet written' "$T"/d*.err >/dev/null 2>&1 &&
		pass "dfu-intr-names-erased-ranges" || fail "dfu-intr: no 'erased but not yet written'"
	cfg="g431 path=1-1 flash=$T/d.flash state=$T/d.state log=$T/d.log timing=1"
	run dfu-intr-repair env FT_USBSIM="$cfg" LD_PRELOAD="$PRE" "$FLASHTOOL" --dfu --stay -w "$T/dimg.bin"
	[ "$RC" -eq 0 ] && pass dfu-intr-repair || fail "dfu-intr-repair: exit $RC"
	same_bytes dfu-intr-repair-flash "$T/dimg.bin" "$T/d.flash" 0 $DIMG
fi

# --- Katapult: an F042 over a UART and a G0B1 over USB CDC (katapult-sim,
# timing on).  A stop names the block: the end of the last block the
# device acknowledged, or the start of the one in flight when the signal
# came.  COMPLETE never goes after a stop, the board stays in Katapult,
# the port's settings are as before, and a read leaves no file.
KSIM="$FT_BUILD/test/sim/katapult-sim"
KTRIALS=${FT_INTR_KP_TRIALS:-$((TRIALS / 2))}
# kp_stop_ok ERR SEG: the reasons (empty: none) a stop is wrong.
kp_stop_ok() {
	_at=$(stop_at "$1")
	[ -n "$_at" ] || { echo "; no 'interrupted before ADDR'"; return; }
	_k=${_at% *} _a=$((${_at#* }))
	case $_k in
	write) _cmd=SEND_BLOCK ;;
	*) _cmd=REQUEST_BLOCK ;;
	esac
	_last=$(sed -n "s/.* $_cmd \(0x[0-9a-f]*\) -> ACK.*/\1/p" "$2" |
	    tail -n 1)
	[ -n "$_last" ] || _last=$KBASE
	_last=$((_last))
	# Opening a unit that reads blank sends a marker block into its
	# first quarter before the first block (so that Katapult erases):
	# a stop there names the unit's start, the marker lies beyond it.
	[ "$_a" -eq $((_last + 64)) ] || [ "$_a" -eq "$_last" ] ||
	    { [ "$_k" = write ] && [ $((_a % KUNIT)) -eq 0 ] &&
	    [ "$_last" -gt "$_a" ] &&
	    [ "$_last" -lt $((_a + KUNIT / 4)) ]; } ||
		echo "; stopped before ${_at#* }, the last $_cmd was $(printf 0x%08x "$_last")"
	# Katapult erases a page as its first block arrives: the pages
	# past the stop were not erased, and the message must not say so.
	if [ "$_k" = write ]; then
		grep -q 'erased but not yet written' "$1" &&
			echo "; claims pages erased that Katapult only marked"
		grep -q 'not yet written: 0x.*keep their old contents' "$1" ||
			echo "; does not name what is not yet written"
	fi
}
if [ -x "$KSIM" ]; then
	KIMG=16384 KBASE=0x08002000
	randimg $KIMG >"$T/kimg.bin"
	for kl in uart usb; do
		# The models' flash page sizes (RM0091, RM0444).
		model=f042 KUNIT=1024
		[ $kl = usb ] && model=g0b1 KUNIT=2048
		rm -rf "$T/kp-byid" "$T/kp.flash"
		mkdir -p "$T/kp-byid"
		"$KSIM" --$kl --model $model --timing --link "$T/kp.tty" \
		    --by-id "$T/kp-byid" --flash "$T/kp.flash" \
		    --log "$T/kp-$kl.log" --state "$T/kp.state" \
		    2>"$T/kp.err" &
		kpid=$!
		SIM_PIDS="$SIM_PIDS $kpid"
		n=0
		while [ ! -e "$T/kp.tty" ] && [ $n -lt 100 ]; do
			sleep 0.05; n=$((n + 1))
		done
		port=$T/kp.tty
		[ $kl = usb ] && port=$(ls "$T"/kp-byid/usb-*)
		before=$(stty -g -F "$port" 2>/dev/null)
		bad=0 stopped=0 KINDS=""
		i=1
		while [ "$i" -le "$KTRIALS" ]; do
			sig=$(pick_signal "$i")
			if [ $((i % 3)) -eq 0 ]; then
				act="-r $T/kread-$i.bin -S $KBASE:$KIMG" max=1200
			else
				act="-w $T/kimg.bin --no-diff --stay" max=2500
			fi
			log="$T/kp-$kl.log"
			n0=$(($(wc -l <"$log") + 1))
			# shellcheck disable=SC2086
			"$FLASHTOOL" --katapult $act "$port" >"$T/k$i.out" \
			    2>"$T/k$i.err" &
			p=$!
			why=""
			if wait_start "$log" "$n0" "$p" 'CONNECT -> ACK'; then
				sleep "$(pick "$i" 11 $max)"
				kill -$sig $p 2>/dev/null
			else
				why="; the operation did not start"
				kill -KILL $p 2>/dev/null
			fi
			wait $p
			rc=$?
			tail -n +"$n0" "$log" >"$T/k$i.seg"
			case $rc in
			0) ;;
			10)
				stopped=$((stopped + 1))
				why="$why$(kp_stop_ok "$T/k$i.err" "$T/k$i.seg")"
				at=$(stop_at "$T/k$i.err")
				KINDS="$KINDS ${at% *}"
				grep -q 'COMPLETE' "$T/k$i.seg" &&
					why="$why; COMPLETE after the stop"
				;;
			*) why="$why; exit $rc" ;;
			esac
			case $act in
			-r*)
				[ "$rc" -ne 0 ] && [ -e "$T/kread-$i.bin" ] &&
					why="$why; partial -r target"
				ls "$T"/kread-$i.bin.* >/dev/null 2>&1 &&
					why="$why; temporary left"
				;;
			esac
			grep -q '^state=katapult$' "$T/kp.state" ||
				why="$why; the board left Katapult"
			[ "$(stty -g -F "$port" 2>/dev/null)" = "$before" ] ||
				why="$why; port settings changed"
			trial_verdict "katapult-$kl-intr-$i ($sig, $act)" \
			    "$T/k$i.err"
			i=$((i + 1))
		done
		echo "katapult $kl: $KTRIALS trials: $stopped interrupted" \
			"(write $(count write), verify $(count verify)," \
			"read $(count read)), $bad bad"
		[ "$bad" -eq 0 ] && pass "katapult-$kl-interrupts: $KTRIALS trials, $stopped stopped at a block with status 10, no COMPLETE"
		[ "$stopped" -gt 0 ] && pass "katapult-$kl-some-stopped" ||
			fail "katapult-$kl-interrupts: no trial was interrupted"
		expect_rc "katapult-$kl-intr-repair" 0 "$FLASHTOOL" --katapult \
		    --stay -w "$T/kimg.bin" "$port"
		same_bytes "katapult-$kl-intr-repair-flash" "$T/kp.flash" \
		    "$T/kimg.bin" 8192 $KIMG
		kill $kpid 2>/dev/null
		wait $kpid 2>/dev/null
	done
fi
