#!/bin/sh
# Keeps the board model honest (stm32-usart-sim --board, libft-shim.so):
# Debian's stm32flash 0.7, which drives DTR/RTS with TIOCMGET/TIOCMSET,
# sends BREAK with tcsendbreak() and drives sysfs GPIOs by writing
# "high"/"low" to direction, must bring the chip into its bootloader only
# with an entry sequence that suits the wiring, and back to the
# application with the exit sequence; the delays between the edges in
# the simulator's log must be what the sequence says (100 ms per ',')
# within +-20 ms.  A small C client checks the fake GPIO character device
# against the kernel's rules (EBUSY, ENOENT, EINVAL, EPERM) and drives a
# board wired to chardev lines.
. "$FT_TOP/test/e2e/lib.sh"
vg_skip "it runs stm32flash on the board model, not flashtool"

STM32FLASH=${STM32FLASH:-stm32flash}
TOL=20
[ -x "$USART_SIM" ] || { fail "board: $USART_SIM not built"; exit 1; }
[ -f "$SHIM" ] || { fail "board: $SHIM not built"; exit 1; }

have_sf=1
if ! command -v "$STM32FLASH" >/dev/null 2>&1; then
	echo "SKIP: $STM32FLASH not installed; stm32flash cases skipped"
	have_sf=0
fi

# sf ARGS...: stm32flash under the shim.  -m 8n1: a pty refuses 8E1.
sf() {
	env $(shim_env) timeout 30 "$STM32FLASH" -m 8n1 -b 115200 "$@"
}

out_has() {
	if cat "$FT_OUT/$1.out" "$FT_OUT/$1.err" | grep -Eq "$2"; then
		pass "$1 says /$2/"
	else
		fail "$1 does not say /$2/"
	fi
}

# last_reset_is NAME WORD: the last RESET line of the log ends in WORD.
last_reset_is() {
	_l=$(grep -E '^[0-9.]+ RESET ' "$SIM_LOG" | tail -n 1)
	case "$_l" in
	*"-> $2") pass "$1: chip left in $2 ($_l)" ;;
	*) fail "$1: last reset is '$_l', wanted $2" ;;
	esac
}

if [ $have_sf -eq 1 ]; then
	# --- DTR/RTS, the wiring stm32flash's own example assumes: "rts"
	# raises BOOT0, "-dtr" pulls NRST low (a transistor on each line
	# inverts the adapter's active-low pins).
	n=50-naive
	board_sim_start $n --board nrst=dtr:inverted,boot0=rts:inverted \
		--board-start app
	log_has "$n-power-on" "^0\.0 RESET power-on -> held$"
	expect_rc "$n-no-entry" 1 sf "$SIM_TTY"
	log_lacks "$n-no-entry-silent" "SYNC"
	# Opening raises DTR before RTS (ftdi_sio order): the application.
	log_has "$n-open-runs-app" "BOARD dtr=1 rts=1 \(open\)"
	log_has "$n-open-app" "RESET boot0=0 -> application"

	expect_rc "$n-entry" 0 sf -i 'rts,-dtr,dtr:-rts,-dtr,dtr' "$SIM_TTY"
	out_has "$n-entry" "Device ID *: 0x0410"
	log_has "$n-entry-bootloader" "RESET boot0=1 -> bootloader"
	log_has "$n-entry-get-id" "GET_ID 0x410 -> ACK"
	t1=$(board_t 'BOARD dtr=1 rts=1 -> nrst=1 boot0=1$' 1)
	t2=$(board_t 'BOARD dtr=0 rts=1 -> nrst=0 boot0=1$' 1)
	t3=$(board_t_after "$t2" 'RESET boot0=1 -> bootloader')
	near "$n-entry-rts-to-reset" "$t1" "$t2" 100 $TOL
	near "$n-entry-reset-pulse" "$t2" "$t3" 100 $TOL
	t4=$(board_t 'BOARD dtr=1 rts=0 -> nrst=1 boot0=0$' 1)
	t5=$(board_t 'BOARD dtr=0 rts=0 -> nrst=0 boot0=0$' 1)
	t6=$(board_t_after "$t5" 'RESET boot0=0 -> application')
	near "$n-exit-boot0-to-reset" "$t4" "$t5" 100 $TOL
	near "$n-exit-reset-pulse" "$t5" "$t6" 100 $TOL
	# HUPCL drops DTR at close: with this wiring that holds the chip.
	log_has "$n-hangup" "BOARD dtr=0 rts=0 \(hangup\)"
	last_reset_is "$n-hangup-holds" held

	# Without HUPCL (stty -hupcl) the lines stay: application.
	stty -F "$SIM_TTY" -hupcl
	expect_rc "$n-entry-nohup" 0 sf -i 'rts,-dtr,dtr:-rts,-dtr,dtr' \
		"$SIM_TTY"
	out_has "$n-entry-nohup" "Device ID *: 0x0410"
	last_reset_is "$n-exit-nohup" application
	sim_stop

	# --- The same wiring without transistors: DTR# to NRST and RTS# to
	# BOOT0, both at 0 V while asserted.
	n=50-plain
	board_sim_start $n --board nrst=dtr,boot0=rts --board-start app
	log_has "$n-power-on" "^0\.0 RESET power-on -> application$"
	expect_rc "$n-no-entry" 1 sf "$SIM_TTY"
	log_has "$n-open-holds" "RESET nrst=0 -> held"
	log_lacks "$n-no-entry-silent" "SYNC"
	last_reset_is "$n-hangup-runs-app" application
	expect_rc "$n-entry" 0 sf -i '-rts&dtr,-dtr:rts&dtr,-dtr' "$SIM_TTY"
	out_has "$n-entry" "Device ID *: 0x0410"
	log_has "$n-entry-bootloader" "RESET boot0=1 -> bootloader"
	t1=$(board_t 'BOARD dtr=1 rts=0 -> nrst=0 boot0=1$' 1)
	t2=$(board_t_after "$t1" 'RESET boot0=1 -> bootloader')
	near "$n-entry-reset-pulse" "$t1" "$t2" 100 $TOL
	t3=$(board_t_after "$t2" 'BOARD dtr=1 rts=1 -> nrst=0 boot0=0$')
	t4=$(board_t_after "$t3" 'RESET boot0=0 -> application')
	near "$n-exit-reset-pulse" "$t3" "$t4" 100 $TOL
	last_reset_is "$n-exit" application
	# The application ignores the next sync.
	expect_rc "$n-after-exit" 1 sf "$SIM_TTY"

	# BREAK: tcsendbreak(fd, 1) is TCSBRKP 1, 100 ms; no effect.
	resets=$(grep -c ' RESET ' "$SIM_LOG")
	expect_rc "$n-break" 1 sf -i 'brk,' "$SIM_TTY"
	t1=$(board_t 'BOARD brk=1 ' 1)
	t2=$(board_t 'BOARD brk=0 ' 1)
	near "$n-break-length" "$t1" "$t2" 100 $TOL
	# The open and hangup of that run reset the chip twice; the break
	# itself adds nothing (the chip comes back in the application).
	[ "$(grep -c ' RESET ' "$SIM_LOG")" -eq $((resets + 2)) ] &&
		pass "$n-break-no-reset" ||
		fail "$n-break-no-reset: $(grep -c ' RESET ' "$SIM_LOG") resets, wanted $((resets + 2))"
	last_reset_is "$n-break-app" application
	sim_stop

	# --- The Elegoo Neptune 4 guide: GPIO 2 (low = BOOT0 high, through
	# an inverter) and GPIO 1 on NRST, through sysfs in a namespace.
	n=50-neptune
	if gpio_ns_ok; then
		board_sim_start $n --board nrst=1,boot0=2:inverted \
			--board-start app
		run "$n-no-entry" in_gpio_ns "$SYSFS_DIR" env $(shim_env) \
			timeout 30 "$STM32FLASH" -m 8n1 -b 115200 "$SIM_TTY"
		[ "$RC" -eq 1 ] && pass "$n-no-entry" ||
			fail "$n-no-entry: exit $RC, wanted 1"
		log_lacks "$n-no-entry-silent" "SYNC"
		run "$n-entry" in_gpio_ns "$SYSFS_DIR" env $(shim_env) \
			timeout 30 "$STM32FLASH" -m 8n1 -b 115200 \
			-i '-2,-1,1:2,-1,,,1' "$SIM_TTY"
		[ "$RC" -eq 0 ] && pass "$n-entry" ||
			fail "$n-entry: exit $RC, wanted 0"
		out_has "$n-entry" "Device ID *: 0x0410"
		log_has "$n-export" "BOARD export gpio2$"
		log_has "$n-unexport" "BOARD unexport gpio1$"
		t1=$(board_t 'BOARD gpio2=0 ' 1)
		t2=$(board_t 'BOARD gpio1=0 ' 1)
		t3=$(board_t_after "$t2" 'RESET boot0=1 -> bootloader')
		near "$n-entry-boot0-to-reset" "$t1" "$t2" 100 $TOL
		near "$n-entry-reset-pulse" "$t2" "$t3" 100 $TOL
		t4=$(board_t 'BOARD gpio2=1 ' 1)
		t5=$(board_t 'BOARD gpio1=0 ' 2)
		t6=$(board_t_after "$t5" 'RESET boot0=0 -> application')
		near "$n-exit-boot0-to-reset" "$t4" "$t5" 100 $TOL
		near "$n-exit-reset-pulse" "$t5" "$t6" 300 $TOL
		last_reset_is "$n-exit" application
		ok "$n-tree-clean" test ! -e "$SYSFS_DIR/gpio1"
		sim_stop
	else
		echo "SKIP: no private mount namespace (unshare -m); sysfs cases skipped"
	fi
fi

# --- The GPIO character device fake, through a C client.
n=50-cdev
GC="$FT_OUT/gpio-client"
if ! ${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$GC" \
	"$FT_TOP/test/sim/shim/tools/gpio-client.c" 2>"$FT_OUT/$n.cc.err"; then
	fail "$n: gpio-client does not build"; cat "$FT_OUT/$n.cc.err"
	exit 1
fi
CHIPS='gpiochip0=label=pinctrl-bcm2711,lines=58,names=ID_SDA;ID_SCL;GPIO2;GPIO3;GPIO4;GPIO5;GPIO6;GPIO7;GPIO8;GPIO9;GPIO10;GPIO11;GPIO12;GPIO13;GPIO14;GPIO15;GPIO16;GPIO17;GPIO18;GPIO19;GPIO20;GPIO21;GPIO22;GPIO23;GPIO24;GPIO25;GPIO26;GPIO27,used=4@onewire gpiochip1=label:raspberrypi-exp-gpio,lines=8'
board_sim_start $n --board nrst=gpiochip0:GPIO17,boot0=gpiochip0:27 \
	--board-start app
gc() {
	env $(shim_env) FT_GPIO_CHIPS="$CHIPS" "$GC" "$@"
}
expect_rc "$n-info" 0 gc /dev/gpiochip0 info find GPIO17 line 4
ok "$n-chipinfo" grep -qx 'chip gpiochip0 label=pinctrl-bcm2711 lines=58' "$FT_OUT/$n-info.out"
ok "$n-find-name" grep -qx '17' "$FT_OUT/$n-info.out"
ok "$n-used-line" grep -qx 'line 4 name=GPIO4 consumer=onewire flags=used,input' "$FT_OUT/$n-info.out"
expect_rc "$n-chip1" 0 gc /dev/gpiochip1 info
expect_rc "$n-missing-chip" 1 gc /dev/gpiochip2 info
err_has "$n-missing-chip" '^open: ENOENT$'
expect_rc "$n-busy-used" 1 gc /dev/gpiochip0 out 4 1
err_has "$n-busy-used" '^out: EBUSY$'
expect_rc "$n-busy-twice" 1 gc /dev/gpiochip0 out 22 1 out 22 0
err_has "$n-busy-twice" '^out: EBUSY$'
expect_rc "$n-bad-offset" 1 gc /dev/gpiochip0 out 58 1
err_has "$n-bad-offset" '^out: EINVAL$'
expect_rc "$n-bad-padding" 1 gc /dev/gpiochip0 badpad 3
err_has "$n-bad-padding" '^badpad: EINVAL$'
expect_rc "$n-set-input" 1 gc /dev/gpiochip0 in 3 set 1
err_has "$n-set-input" '^set: EPERM$'
expect_rc "$n-values" 0 gc /dev/gpiochip0 out 5,6 1,0 get set 0,1 get \
	line 5 release line 5
ok "$n-values-read" sh -c "grep -x '1,0' '$FT_OUT/$n-values.out' >/dev/null && grep -x '0,1' '$FT_OUT/$n-values.out' >/dev/null"
ok "$n-requested-info" grep -qx 'line 5 name=GPIO5 consumer=gpio-client flags=used,output' "$FT_OUT/$n-values.out"
ok "$n-released-info" grep -qx 'line 5 name=GPIO5 consumer=- flags=output' "$FT_OUT/$n-values.out"
log_has "$n-unwired-logged" "BOARD gpiochip0:5=1 \(not wired\)"

# Enter: BOOT0 (27) high, NRST (17) low for 50 ms, then released.
expect_rc "$n-enter" 0 gc /dev/gpiochip0 out 27,17 1,0 sleep 50 set 1,1 \
	sleep 10
log_has "$n-enter" "RESET boot0=1 -> bootloader"
t1=$(board_t 'BOARD gpiochip0:17=0 ' 1)
t2=$(board_t 'BOARD gpiochip0:17=1 ' 1)
near "$n-enter-pulse" "$t1" "$t2" 50 $TOL
log_has "$n-release-floats" "BOARD gpiochip0:27=float .*-> nrst=1 boot0=0"
if [ $have_sf -eq 1 ]; then
	expect_rc "$n-identify" 0 sf "$SIM_TTY"
	out_has "$n-identify" "Device ID *: 0x0410"
fi
expect_rc "$n-leave" 0 gc /dev/gpiochip0 out 27,17 0,0 sleep 30 set 0,1
last_reset_is "$n-leave" application
if [ $have_sf -eq 1 ]; then
	expect_rc "$n-app-silent" 1 sf "$SIM_TTY"
fi
sim_stop

# --- A sync sent the moment the reset ioctl returns is heard: the chip
# drops only what reached it before NRST rose.  stm32flash sends its
# 0x7F that way; the simulator once lost it a few times in a thousand.
n=50-reset-sync
RS="$FT_OUT/reset-sync"
if ! ${CC:-cc} -std=c11 -Wall -Wextra -Werror -o "$RS" \
	"$FT_TOP/test/sim/shim/tools/reset-sync.c" 2>"$FT_OUT/$n.cc.err"; then
	fail "$n: reset-sync does not build"; cat "$FT_OUT/$n.cc.err"
	exit 1
fi
board_sim_start $n --board nrst=dtr,boot0=rts --board-start app
expect_rc "$n" 0 env $(shim_env) "$RS" "$SIM_TTY" 300
ok "$n-all" grep -qx '300 synced, 0 lost' "$FT_OUT/$n.out"
sim_stop
