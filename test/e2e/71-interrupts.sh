# End-to-end: SIGINT or SIGTERM at a random moment of a write or a read,
# FT_INTR_TRIALS times per transport (default 50).  Every trial must end
# with status 0 (the run was over first) or 10; an interrupted write names
# what it stopped before; an interrupted read leaves neither the -r target
# nor a temporary beside it; the serial port's settings are as before.
. "$FT_TOP/test/e2e/lib.sh"
vg_skip "a signal at a random moment lands in valgrind's own start-up, before flashtool has a handler; interrupts are checked in the -Werror and sanitizer runs"
T="$FT_OUT/intr"
rm -rf "$T"
mkdir -p "$T"
TRIALS=${FT_INTR_TRIALS:-50}

# delay N: a pseudo-random pause of 20..800 ms for trial N.
delay() { awk -v n="$1" 'BEGIN { srand(n); printf "%.3f", 0.02 + rand() * 0.78 }'; }

head -c 24576 /dev/urandom >"$T/img.bin"
rm -f "$FT_OUT/intr.flash"
sim_start intr --chip f103 --timing
before=$(stty -g -F "$SIM_TTY" 2>/dev/null)
bad=0 stopped=0
i=1
while [ "$i" -le "$TRIALS" ]; do
	sig=INT
	[ $((i % 2)) -eq 0 ] && sig=TERM
	if [ $((i % 3)) -eq 0 ]; then
		act="-r $T/read-$i.bin"
	else
		act="-w $T/img.bin --no-diff"
	fi
	# shellcheck disable=SC2086
	"$FLASHTOOL" $act "$SIM_TTY" >"$T/$i.out" 2>"$T/$i.err" &
	p=$!
	sleep "$(delay "$i")"
	kill -$sig $p 2>/dev/null
	wait $p
	rc=$?
	why=""
	case $rc in
	0) ;;
	10)
		stopped=$((stopped + 1))
		grep -q 'interrupted' "$T/$i.err" || why="no 'interrupted' message"
		;;
	*) why="exit $rc" ;;
	esac
	if [ "$act" != "${act#-r}" ] && [ "$rc" -ne 0 ]; then
		[ -e "$T/read-$i.bin" ] && why="$why; partial -r target"
	fi
	ls "$T"/read-$i.bin.* >/dev/null 2>&1 && why="$why; temporary left"
	now=$(stty -g -F "$SIM_TTY" 2>/dev/null)
	[ "$now" = "$before" ] || why="$why; port settings changed"
	if [ -n "$why" ]; then
		bad=$((bad + 1))
		fail "usart-intr-$i ($sig, $act): $why"
		sed 's/^/   err: /' "$T/$i.err" | tail -n 3
	fi
	i=$((i + 1))
done
echo "usart: $TRIALS trials, $stopped interrupted, $bad bad"
[ "$bad" -eq 0 ] && pass "usart-interrupts: $TRIALS trials, $stopped stopped at a block boundary with status 10"
[ "$stopped" -gt 0 ] && pass "usart-interrupts-some-stopped" || fail "usart-interrupts: no trial was interrupted"
# The interrupted writes said what was left erased; a last write repairs.
grep -l 'erased but not yet written' "$T"/*.err >/dev/null 2>&1 &&
	pass "usart-intr-names-erased-ranges" || fail "usart-intr: no 'erased but not yet written'"
expect_rc usart-intr-repair 0 "$FLASHTOOL" -w "$T/img.bin" "$SIM_TTY"
same_bytes usart-intr-repair-flash "$T/img.bin" "$SIM_FLASH" 0 24576
sim_stop

# USB DFU: the interface is released on every path out (the simulated
# libusb fails a second claim while a handle still holds it).
if [ -f "$USB_SIM" ]; then
	PRE=$(usb_preload)
	cfg="f042 path=1-1 flash=$T/d.flash state=$T/d.state log=$T/d.log timing=1"
	head -c 16384 /dev/urandom >"$T/dimg.bin"
	bad=0 stopped=0
	i=1
	while [ "$i" -le "$TRIALS" ]; do
		sig=INT
		[ $((i % 2)) -eq 0 ] && sig=TERM
		if [ $((i % 3)) -eq 0 ]; then
			act="-r $T/dread-$i.bin -S 0x08000000:16384"
		else
			act="-w $T/dimg.bin --no-diff --stay"
		fi
		# shellcheck disable=SC2086
		FT_USBSIM="$cfg" LD_PRELOAD="$PRE" "$FLASHTOOL" --dfu $act \
		    >"$T/d$i.out" 2>"$T/d$i.err" &
		p=$!
		sleep "$(awk -v n="$i" 'BEGIN { srand(n + 7); printf "%.3f", 0.02 + rand() * 0.5 }')"
		kill -$sig $p 2>/dev/null
		wait $p
		rc=$?
		why=""
		case $rc in
		0) ;;
		10)
			stopped=$((stopped + 1))
			grep -q 'interrupted' "$T/d$i.err" || why="no 'interrupted' message"
			;;
		*) why="exit $rc" ;;
		esac
		if [ "$act" != "${act#-r}" ] && [ "$rc" -ne 0 ]; then
			[ -e "$T/dread-$i.bin" ] && why="$why; partial -r target"
		fi
		ls "$T"/dread-$i.bin.* >/dev/null 2>&1 && why="$why; temporary left"
		if [ -n "$why" ]; then
			bad=$((bad + 1))
			fail "dfu-intr-$i ($sig, $act): $why"
			sed 's/^/   err: /' "$T/d$i.err" | tail -n 3
		fi
		i=$((i + 1))
	done
	echo "dfu: $TRIALS trials, $stopped interrupted, $bad bad"
	[ "$bad" -eq 0 ] && pass "dfu-interrupts: $TRIALS trials, $stopped stopped with status 10"
	[ "$stopped" -gt 0 ] && pass "dfu-interrupts-some-stopped" || fail "dfu-interrupts: no trial was interrupted"
	run dfu-intr-repair env FT_USBSIM="$cfg" LD_PRELOAD="$PRE" "$FLASHTOOL" --dfu --stay -w "$T/dimg.bin"
	[ "$RC" -eq 0 ] && pass dfu-intr-repair || fail "dfu-intr-repair: exit $RC"
	same_bytes dfu-intr-repair-flash "$T/dimg.bin" "$T/d.flash" 0 16384
fi
