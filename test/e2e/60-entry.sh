# End-to-end: entry/exit sequences (-i, --entry) drive the simulator's
# board model (stm32-usart-sim --board, libft-shim.so) into the ROM
# bootloader and back to the application.  Every preset and the Neptune 4
# guide's sequence (by sysfs number, by chip:line and by line name); the
# delays between edges in the simulator's log must be what the grammar
# says within +-TOL ms.  Must-fail cases (grammar, missing chip, busy
# line, no sysfs) fail with a clear message and the port never opened.
. "$FT_TOP/test/e2e/lib.sh"

TOL=20
[ -x "$USART_SIM" ] || { fail "entry: $USART_SIM not built"; exit 1; }
[ -f "$SHIM" ] || { fail "entry: $SHIM not built"; exit 1; }

CHIPS='gpiochip0=label=pinctrl-test,lines=8,names=GPIO0;GPIO1;GPIO2;GPIO3 gpiochip1=label=rk3328,lines=32'
BUSY_CHIPS='gpiochip0=lines=8 gpiochip1=label=rk3328,lines=32,used=15@reset-gpio'

# ft NAME RC ARGS...: flashtool under the shim, against the running sim.
ft() {
	_n=$1; _rc=$2; shift 2
	expect_rc "$_n" "$_rc" env $(shim_env "$FLASHTOOL") \
		FT_GPIO_CHIPS="${GPIO_CHIPS:-$CHIPS}" timeout 60 \
		"$FLASHTOOL" "$@" "$SIM_TTY"
}

out_has() {
	if cat "$FT_OUT/$1.out" "$FT_OUT/$1.err" | grep -Eq -e "$2"; then
		pass "$1 says /$2/"
	else
		fail "$1 does not say /$2/"
	fi
}

last_reset_is() {
	_l=$(grep -E '^[0-9.]+ RESET ' "$SIM_LOG" | tail -n 1)
	case "$_l" in
	*"-> $2") pass "$1: chip left in $2 ($_l)" ;;
	*) fail "$1: last reset is '$_l', wanted $2" ;;
	esac
}

# --- dtr-rts: DTR# to NRST, RTS# to BOOT0, straight (0 V = asserted).
n=60-dtr-rts
board_sim_start $n --board nrst=dtr,boot0=rts --board-start app
ft $n 0 --entry dtr-rts -R
out_has $n "Device ID: *0x0410"
out_has $n "Reset the chip through the exit sequence"
log_has "$n-bootloader" "RESET boot0=1 -> bootloader"
t1=$(board_t 'BOARD dtr=1 rts=0 -> nrst=0 boot0=1$' 1)
t2=$(board_t_after "$t1" 'RESET boot0=1 -> bootloader')
t3=$(board_t_after "$t2" ' SYNC ')
near "$n-entry-reset-pulse" "$t1" "$t2" 100 $TOL
near "$n-settle" "$t2" "$t3" 50 $TOL
t4=$(board_t_after "$t3" 'BOARD dtr=1 rts=1 -> nrst=0 boot0=0$')
t5=$(board_t_after "$t4" 'RESET boot0=0 -> application')
t6=$(board_t_after "$t5" 'BOARD dtr=0 rts=0 -> nrst=1 boot0=1$')
near "$n-exit-reset-pulse" "$t4" "$t5" 100 $TOL
near "$n-exit-rts-release" "$t5" "$t6" 100 $TOL
last_reset_is "$n-exit" application
# No -R: the exit half runs at close; --settle changes the wait.
ft $n-close 0 --entry dtr-rts --settle 200
out_has $n-close "Running the exit sequence"
t1=$(board_t 'BOARD dtr=1 rts=0 -> nrst=0 boot0=1$' 3)
t2=$(board_t_after "$t1" 'RESET boot0=1 -> bootloader')
t3=$(board_t_after "$t2" ' SYNC ')
near "$n-settle-200" "$t2" "$t3" 200 $TOL
last_reset_is "$n-close-exit" application
# The application does not answer: without a sequence, no sync.
ft $n-app-silent 4
sim_stop

# --- dtr-nrts: RTS inverted to BOOT0; leave with Go, then the exit half.
n=60-dtr-nrts
board_sim_start $n --board nrst=dtr,boot0=rts:inverted --board-start app
ft $n 0 --entry dtr-nrts -g 0x08000000
out_has $n "Started code at 0x08000000"
out_has $n "Running the exit sequence"
log_has "$n-go" "GO 0x08000000"
t1=$(board_t 'BOARD dtr=1 rts=1 -> nrst=0 boot0=1$' 1)
t2=$(board_t_after "$t1" 'RESET boot0=1 -> bootloader')
near "$n-entry-reset-pulse" "$t1" "$t2" 100 $TOL
t4=$(board_t_after "$t2" 'BOARD dtr=1 rts=0 -> nrst=0 boot0=0$')
t5=$(board_t_after "$t4" 'RESET boot0=0 -> application')
near "$n-exit-reset-pulse" "$t4" "$t5" 100 $TOL
last_reset_is "$n-exit" application
sim_stop

# --- The wrong preset for the wiring: the chip boots its application,
# the entry half runs a second time, then flashtool gives up - and still
# runs the exit half.
n=60-retry
board_sim_start $n --board nrst=dtr,boot0=rts:inverted --board-start app
ft $n 4 --entry dtr-rts
out_has $n "running the entry sequence once more"
[ "$(grep -c 'RESET boot0=0 -> application' "$SIM_LOG")" -eq 2 ] &&
	pass "$n: entry half ran twice" || fail "$n: entry half did not run twice"
log_lacks "$n-no-sync" "SYNC"
# The exit half (meant for the other wiring) ends with -rts.
t1=$(board_t 'RESET boot0=0 -> application' 2)
t2=$(board_t_after "$t1" 'BOARD dtr=1 rts=1 -> nrst=0 boot0=1$')
near "$n-second-entry-to-exit" "$t1" "$t2" 2550 300
sim_stop

# --- makerbase: a board whose NRST follows DTR (de-asserted = reset) with
# BOOT0 strapped high; no exit half, -g goes back to the application.
# -hupcl so that the close does not reset the chip again.
n=60-makerbase
board_sim_start $n --board nrst=dtr:inverted,boot0=high --board-start app
stty -F "$SIM_TTY" -hupcl
ft $n 0 --entry makerbase -g 0x08000000
out_has $n "Started code at 0x08000000"
t1=$(board_t 'BOARD dtr=0 rts=1 -> nrst=0 boot0=1$' 1)
t2=$(board_t_after "$t1" 'RESET boot0=1 -> bootloader')
near "$n-dtr-pulse" "$t1" "$t2" 1000 $TOL
t3=$(board_t_after "$t2" ' SYNC ')
near "$n-settle" "$t2" "$t3" 50 $TOL
log_has "$n-go" "GO 0x08000000"
ft $n-stays 0 --entry makerbase
out_has $n-stays "stays in the bootloader"
sim_stop

# --- neptune4: gpiochip1 line 15 NRST, line 14 BOOT0, 0.5 s pauses.
n=60-neptune4
board_sim_start $n --chip f401 --board nrst=gpiochip1:15,boot0=gpiochip1:14 \
	--board-start app
ft $n 0 --entry neptune4 -R
out_has $n "Device ID: *0x0423"
t1=$(board_t 'BOARD gpiochip1:15=0 ' 1)
t2=$(board_t 'BOARD gpiochip1:15=1 ' 1)
near "$n-entry-reset" "$t1" "$t2" 500 $TOL
t3=$(board_t_after "$t2" 'RESET boot0=1 -> bootloader')
near "$n-entry-bootloader" "$t2" "$t3" 0 $TOL
t4=$(board_t 'BOARD gpiochip1:14=0 ' 1)
t5=$(board_t 'BOARD gpiochip1:15=1 ' 2)
t6=$(board_t_after "$t5" 'RESET boot0=0 -> application')
near "$n-exit-reset" "$t4" "$t5" 500 $TOL
near "$n-exit-application" "$t5" "$t6" 0 $TOL
log_has "$n-released" "BOARD gpiochip1:15=float"
last_reset_is "$n-exit" application
sim_stop

# --- The Neptune 4 guide's sequence, '-2,-1,1:2,-1,,,1', with GPIO 1 on
# NRST and GPIO 2 inverted to BOOT0: by chip:line, by name, by sysfs.
seed_timing() {
	_p=$1; _a=$2; _b=$3
	t1=$(board_t "BOARD $_b=0 " 1)
	t2=$(board_t "BOARD $_a=0 " 1)
	t3=$(board_t_after "$t2" 'RESET boot0=1 -> bootloader')
	near "$_p-entry-boot0-to-reset" "$t1" "$t2" 100 $TOL
	near "$_p-entry-reset-pulse" "$t2" "$t3" 100 $TOL
	t4=$(board_t "BOARD $_b=1 " 1)
	t5=$(board_t "BOARD $_a=0 " 2)
	t6=$(board_t_after "$t5" 'RESET boot0=0 -> application')
	near "$_p-exit-boot0-to-reset" "$t4" "$t5" 100 $TOL
	near "$_p-exit-reset-pulse" "$t5" "$t6" 300 $TOL
	last_reset_is "$_p-exit" application
}

n=60-seed-chip
board_sim_start $n --board nrst=gpiochip0:1,boot0=gpiochip0:2:inverted \
	--board-start app
ft $n 0 -i '-gpiochip0:2,-gpiochip0:1,gpiochip0:1:gpiochip0:2,-gpiochip0:1,,,gpiochip0:1'
out_has $n "Device ID: *0x0410"
seed_timing $n gpiochip0:1 gpiochip0:2
sim_stop

n=60-seed-name
board_sim_start $n --board nrst=gpiochip0:GPIO1,boot0=gpiochip0:GPIO2:inverted \
	--board-start app
ft $n 0 -i '-GPIO2,-GPIO1,GPIO1:GPIO2,-GPIO1,,,GPIO1'
out_has $n "Device ID: *0x0410"
seed_timing $n gpiochip0:1 gpiochip0:2
sim_stop

n=60-seed-sysfs
if gpio_ns_ok; then
	board_sim_start $n --board nrst=1,boot0=2:inverted --board-start app
	run $n in_gpio_ns "$SYSFS_DIR" env $(shim_env "$FLASHTOOL") \
		timeout 60 "$FLASHTOOL" -i '-2,-1,1:2,-1,,,1' "$SIM_TTY"
	[ "$RC" -eq 0 ] && pass "$n" || fail "$n: exit $RC, wanted 0"
	out_has $n "Device ID: *0x0410"
	log_has "$n-export" "BOARD export gpio2$"
	log_has "$n-unexport" "BOARD unexport gpio1$"
	seed_timing $n gpio1 gpio2
	ok "$n-tree-clean" test ! -e "$SYSFS_DIR/gpio1"
	sim_stop
else
	echo "SKIP: no private mount namespace (unshare -m); sysfs case skipped"
fi

# --- Must fail before the port is opened: the log never shows an open.
n=60-fail
board_sim_start $n --board nrst=dtr,boot0=rts --board-start app
ft $n-grammar 2 -i 'dtr,x!'
err_has $n-grammar "column 6: '!' is not a signal or separator"
ft $n-minus 2 -i 'dtr:-,rts'
err_has $n-minus "column 5: '-' must be followed by a signal"
ft $n-colon 2 -i 'gpiochip1:rts'
err_has $n-colon "column 10: gpiochip1 needs a line number"
ft $n-preset 2 --entry no-such-board
err_has $n-preset "no preset 'no-such-board'"
ft $n-both 2 -i dtr --entry dtr-rts
ft $n-chip 4 -i 'dtr,gpiochip7:1:-dtr'
err_has $n-chip "gpiochip7:1: no GPIO chip /dev/gpiochip7 \(chips here: gpiochip0 gpiochip1\)"
ft $n-offset 4 -i 'gpiochip0:8'
err_has $n-offset "gpiochip0 \(pinctrl-test\) has 8 lines, 0 to 7"
ft $n-name 4 -i 'BOOT0_PIN'
err_has $n-name "BOOT0_PIN: no GPIO line of that name"
GPIO_CHIPS=$BUSY_CHIPS ft $n-busy 6 --entry neptune4
err_has $n-busy 'gpiochip1:15: line 15 of gpiochip1 is in use by "reset-gpio"'
if [ ! -d /sys/class/gpio ]; then
	ft $n-sysfs 1 -i '-17,17'
	err_has $n-sysfs "GPIO 17: /sys/class/gpio does not exist.*gpiochipN:LINE"
fi
log_lacks "$n-port-untouched" "\(open\)|SYNC"
sim_stop
