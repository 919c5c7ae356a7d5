# Drop-in command lines: flashtool installed under the names stm32flash
# and dfu-util takes those tools' options.  The exact lines from the
# Klipper, Katapult and Cartographer scripts and the Neptune 4 guide.
. "$FT_TOP/test/e2e/lib.sh"
T="$FT_OUT/dropin"
rm -rf "$T"
mkdir -p "$T/bin"
ln -s "$FLASHTOOL" "$T/bin/stm32flash"
ln -s "$FLASHTOOL" "$T/bin/dfu-util"
randimg 30000 >"$T/klipper.bin"
randimg 20000 >"$T/fw.bin"

# --- dfu-util, as Cartographer's firmware.py and Klipper's flash_usb.py --
PRE=$(usb_preload)
CFG="$T/usb.cfg"
echo "f042 path=1-1.2 flash=$T/a.flash state=$T/a.state log=$T/a.log" >"$CFG"
du_as() {
	_n=$1; _rc=$2; shift 2
	expect_rc "$_n" "$_rc" env FT_USBSIM_CONFIG="$CFG" LD_PRELOAD="$PRE" \
	    "$T/bin/dfu-util" "$@"
}
SIM_LOG="$T/a.log"
du_as dfu-util-klipper 0 -d ,0483:df11 -R -a 0 -s 0x08000000:leave -D "$T/klipper.bin"
same_bytes dfu-util-klipper-flash "$T/klipper.bin" "$T/a.flash" 0 30000
log_has dfu-util-klipper-leaves "LEAVE 0x08000000 -> OK"
err_has dfu-util-klipper "Left DFU mode"
rm -f "$T/a.state"
du_as dfu-util-cartographer 0 --device 0483:df11 -R -a 0 -s 0x08000000:leave -D "$T/fw.bin"
same_bytes dfu-util-cartographer-flash "$T/fw.bin" "$T/a.flash" 0 20000
rm -f "$T/a.state"
du_as dfu-util-list 0 -l
ok dfu-util-list-shows-device grep -q "0483:df11 path 1-1.2" "$FT_OUT/dfu-util-list.out"
du_as dfu-util-upload 0 -a 0 -s 0x08000000:20000 -U "$T/up.bin"
same_bytes dfu-util-upload-data "$T/fw.bin" "$T/up.bin"
rm -f "$T/up.bin"
# Without :leave dfu-util stays in DFU mode; so does the drop-in.
: >"$SIM_LOG"
du_as dfu-util-no-leave 0 -a 0 -s 0x08000000 -D "$T/klipper.bin"
log_lacks dfu-util-no-leave-stays "LEAVE"
du_as dfu-util-bad-option 2 -a 0 -s 0x08000000:leave:bogus -D "$T/klipper.bin"
err_has dfu-util-bad-option "unknown modifier 'bogus'"
du_as dfu-util-no-device 4 -d ,1234:5678 -a 0 -s 0x08000000:leave -D "$T/klipper.bin"

# --- stm32flash, as Klipper's make serialflash and the Neptune 4 guide ---
rm -f "$FT_OUT/dropin.flash"
sim_start dropin --chip f103
expect_rc stm32flash-klipper 0 "$T/bin/stm32flash" -w "$T/klipper.bin" -v -g 0 "$SIM_TTY"
same_bytes stm32flash-klipper-flash "$T/klipper.bin" "$SIM_FLASH" 0 30000
log_has stm32flash-klipper-go "GO 0x08000000"
expect_rc stm32flash-read 0 "$T/bin/stm32flash" -r "$T/backup.bin" "$SIM_TTY"
same_bytes stm32flash-read-data "$SIM_FLASH" "$T/backup.bin"
expect_rc stm32flash-neptune-app 0 "$T/bin/stm32flash" -w "$T/fw.bin" -v \
	-S 0x08008000 -g 0x08000000 "$SIM_TTY"
same_bytes stm32flash-neptune-app-flash "$SIM_FLASH" "$T/fw.bin" 32768 20000
expect_rc stm32flash-i2c-refused 2 "$T/bin/stm32flash" -a 0x42 -r "$T/x.bin" "$SIM_TTY"
sim_stop

# The Neptune 4 guide's backup through GPIO 1/2 (sysfs, in a private
# mount namespace) wired to NRST and, inverted, BOOT0.
if gpio_ns_ok && [ -f "$SHIM" ]; then
	n=stm32flash-neptune-backup
	board_sim_start $n --chip f103 --board nrst=1,boot0=2:inverted --board-start app
	run $n in_gpio_ns "$SYSFS_DIR" env $(shim_env "$FLASHTOOL") timeout 60 \
		"$T/bin/stm32flash" -i '-2,-1,1:2,-1,,,1' -r "$T/n4-backup.bin" "$SIM_TTY"
	[ "$RC" -eq 0 ] && pass "$n" || fail "$n: exit $RC, wanted 0"
	same_bytes "$n-data" "$SIM_FLASH" "$T/n4-backup.bin"
	log_has "$n-back-to-app" "RESET boot0=0 -> application"
	sim_stop
else
	echo "SKIP: no private mount namespace or shim; GPIO backup case skipped"
fi
