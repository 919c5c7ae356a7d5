# End-to-end: option bytes (issue 15).  --option-bytes on every product ID
# with an option-byte table (USART) and on the DFU models; every field of
# one model per family changed with --set and read back; the BOOT0
# recipe and the story it fixes on a simulated board (a programmed G0
# ignores BOOT0 until --boot0-pin); the must-fail cases with nothing
# written (the simulator logs say so); stm32flash -j/-k/-u and dfu-util
# on the option-byte alt against the same simulators.
. "$FT_TOP/test/e2e/lib.sh"
T="$FT_OUT/optbytes"
mkdir -p "$T"
STM32FLASH=$(command -v stm32flash)
DFU_UTIL=$(command -v dfu-util)

# js NAME FILTER: the JSON document of the last run of NAME passes FILTER.
js() {
	if jq -e "$2" "$FT_OUT/$1.out" >/dev/null 2>&1; then
		pass "$1: $2"
	else
		fail "$1: JSON fails $2"
	fi
}

# no_opt_write NAME: the simulator wrote nothing to the option bytes.
no_opt_write() {
	log_lacks "$1-nothing-written" "WRITE 0x1fff[0-9a-f]{4} [0-9]+ -> ACK"
}

# --- Reads on every family model --------------------------------------
# family PIDs, as lib/optbytes.c lists them
reads="f0:0x440,0x444,0x442,0x445,0x448
f1:0x412,0x410,0x414,0x430,0x418,0x420,0x428
f3:0x422,0x432,0x438,0x439,0x446
f4:0x411,0x413,0x419,0x423,0x433,0x431,0x458,0x441,0x421,0x434,0x463
g0:0x466,0x456,0x460,0x467
g4:0x468,0x469,0x479"
echo "$reads" | while IFS=: read -r fam pids; do
	for pid in $(echo "$pids" | tr , ' '); do
		n="ob-read-$pid"
		sim_start "$n" --chip "$pid"
		expect_rc "$n" 0 "$FLASHTOOL" --json --option-bytes "$SIM_TTY"
		js "$n" ".option_bytes.family == \"$fam\""
		js "$n" '.option_bytes.complements_ok'
		js "$n" '[.option_bytes.fields[] | .value == .factory] | all'
		log_has "$n-one-read" "READ 0x1fff[0-9a-f]{4} [0-9]+ -> ACK"
		no_opt_write "$n"
		sim_stop
	done
done

# The text form names the fields and their meaning.
sim_start ob-text --chip g0
expect_rc ob-text 0 "$FLASHTOOL" --option-bytes "$SIM_TTY"
ok ob-text-boot-sel grep -q 'nBOOT_SEL  *1  *BOOT0 comes from the nBOOT0 option bit: the BOOT0 pin is ignored' "$FT_OUT/ob-text.out"
ok ob-text-rdp grep -q 'RDP  *0xaa  *level 0' "$FT_OUT/ob-text.out"
ok ob-text-boot-line grep -q "^Boot: .*'flashtool --boot0-pin'" "$FT_OUT/ob-text.out"
sim_stop

# --- Every field changed and verified ----------------------------------
# For each family's model: a value other than the factory one for every
# field that may change (not RDP: its own cases below), set in batches of
# at most 16, read back and compared.
changes() {
	jq -r '.option_bytes.fields[] | select(.read_only | not) |
	    select(.name != "RDP") |
	    .name + "=" + ((if .values then
	        ([.values[].value] - [.factory])[0]
	    else
	        (if .factory == 0 then 1 else .factory - 1 end)
	    end) | tostring)' "$1"
}
for m in f042:f0 f103:f1 0x422:f3 f401:f4 g0:g0 g474:g4; do
	chip=${m%%:*} fam=${m#*:}
	n="ob-every-$fam"
	sim_start "$n" --chip "$chip"
	expect_rc "$n-before" 0 "$FLASHTOOL" --json --option-bytes "$SIM_TTY"
	changes "$FT_OUT/$n-before.out" >"$T/$n.want"
	ok "$n-has-changes" test -s "$T/$n.want"
	split -l 16 "$T/$n.want" "$T/$n.batch."
	for b in "$T/$n.batch."*; do
		args=$(sed 's/^/--set /' "$b" | tr '\n' ' ')
		# shellcheck disable=SC2086
		expect_rc "$n-set-${b##*.}" 0 "$FLASHTOOL" --json $args "$SIM_TTY"
		js "$n-set-${b##*.}" '.written and .verified'
	done
	expect_rc "$n-after" 0 "$FLASHTOOL" --json --option-bytes "$SIM_TTY"
	js "$n-after" '.option_bytes.complements_ok'
	while IFS='=' read -r f v; do
		js "$n-after" ".option_bytes.fields[] | select(.name == \"$f\") | .value == $v"
	done <"$T/$n.want"
	log_has "$n-reset-after-write" "RESET cmd=0x31 option-bytes"
	sim_stop
done

# --- RDP: level 1 written, not verifiable; -k brings level 0 back ---------
sim_start ob-rdp --chip f103
expect_rc ob-rdp-set 11 "$FLASHTOOL" --set RDP=1 "$SIM_TTY"
err_has ob-rdp-set "RDP level 1: the bootloader will refuse"
err_has ob-rdp-set "written, not verified"
expect_rc ob-rdp-read 9 "$FLASHTOOL" --option-bytes "$SIM_TTY"
err_has ob-rdp-read "-k removes it"
# Level 1 to 0 is readout unprotect's, which mass-erases.
: >"$SIM_LOG"
expect_rc ob-rdp-to-0 9 "$FLASHTOOL" --set RDP=0 "$SIM_TTY"
no_opt_write ob-rdp-to-0
expect_rc ob-rdp-k 0 "$FLASHTOOL" -k "$SIM_TTY"
expect_rc ob-rdp-after-k 0 "$FLASHTOOL" --json --option-bytes "$SIM_TTY"
js ob-rdp-after-k '.option_bytes.fields[] | select(.name == "RDP") | .value == 165'
sim_stop

# --- Must fail, nothing written ------------------------------------------
sim_start ob-fail --chip g0
: >"$SIM_LOG"
# Before the device is opened: the form, names no family has, level 2.
expect_rc ob-fail-form 2 "$FLASHTOOL" --set nBOOT_SEL "$SIM_TTY"
err_has ob-fail-form "not NAME=VALUE"
expect_rc ob-fail-unknown 2 "$FLASHTOOL" --set nBOOT_SEX=0 "$SIM_TTY"
err_has ob-fail-unknown "no family has an option-byte field nBOOT_SEX"
expect_rc ob-fail-rdp2 2 "$FLASHTOOL" --set RDP=2 "$SIM_TTY"
err_has ob-fail-rdp2 "give --allow-rdp2"
expect_rc ob-fail-rdp2-hex 2 "$FLASHTOOL" --set RDP=0xCC "$SIM_TTY"
expect_rc ob-fail-family-value 2 "$FLASHTOOL" --family g0 --set nBOOT_SEL=2 "$SIM_TTY"
err_has ob-fail-family-value "takes 0 \\(pin\\), 1 \\(option\\)"
expect_rc ob-fail-family-field 2 "$FLASHTOOL" --family g0 --set nSWBOOT0=1 "$SIM_TTY"
err_has ob-fail-family-field "STM32G0 has no option-byte field nSWBOOT0; its fields are: RDP"
expect_rc ob-fail-bad-family 2 "$FLASHTOOL" --family g9 --option-bytes "$SIM_TTY"
expect_rc ob-fail-lone-rdp2-flag 2 "$FLASHTOOL" --allow-rdp2 --set nBOOT_SEL=0 "$SIM_TTY"
ok ob-fail-early-no-device-touched test ! -s "$SIM_LOG"
# After the read: a field of another family, a bad value, one valid change
# beside a bad one, a field shown but never changed.
expect_rc ob-fail-other-family 2 "$FLASHTOOL" --set nSWBOOT0=1 "$SIM_TTY"
err_has ob-fail-other-family "STM32G0 has no option-byte field nSWBOOT0"
expect_rc ob-fail-range 2 "$FLASHTOOL" --set WRP1A_END=128 "$SIM_TTY"
err_has ob-fail-range "0 to 127"
expect_rc ob-fail-one-bad 2 "$FLASHTOOL" --set nBOOT_SEL=0 --set NRST_MODE=0 "$SIM_TTY"
err_has ob-fail-one-bad "nothing was written"
expect_rc ob-fail-readonly 2 "$FLASHTOOL" --set BOOT_LOCK=1 "$SIM_TTY"
err_has ob-fail-readonly "never changed"
no_opt_write ob-fail
log_lacks ob-fail-no-write-at-all "WRITE"
sim_stop

# A chip that resets in the middle of the option-byte write: the host
# finds the option bytes unchanged after the reset and says so.
sim_start ob-midwrite --chip g0 --ob-reset-mid-write
expect_rc ob-midwrite 1 "$FLASHTOOL" --boot0-pin "$SIM_TTY"
err_has ob-midwrite "read back unchanged: nothing was written"
log_has ob-midwrite "WRITE 0x1fff7800 116 reset-mid-write -> NACK"
no_opt_write ob-midwrite
expect_rc ob-midwrite-after 0 "$FLASHTOOL" --json --option-bytes "$SIM_TTY"
js ob-midwrite-after '.option_bytes.fields[] | select(.name == "nBOOT_SEL") | .value == 1'
sim_stop

# RDP level 2 with the explicit flag: one line says what it destroys; the
# chip never answers again, so nothing can be verified.
sim_start ob-rdp2 --chip f042
expect_rc ob-rdp2 11 "$FLASHTOOL" --set RDP=2 --allow-rdp2 "$SIM_TTY"
err_has ob-rdp2 "RDP level 2 destroys for good"
log_has ob-rdp2 "RESET cmd=0x31 option-bytes -> application \\(RDP level 2\\)"
expect_rc ob-rdp2-gone 4 "$FLASHTOOL" "$SIM_TTY"
sim_stop

# --- The recipe and the BOOT0 story on a board ----------------------------
# A G0 on a board whose adapter drives NRST (DTR) and BOOT0 (RTS).
BOARD="--board nrst=dtr,boot0=rts --board-start bootloader"
randimg 4096 >"$T/fw.bin"

# Before: factory option bytes.  The blank chip is reachable (empty
# check), takes the firmware, and then ignores BOOT0.
rm -f "$FT_OUT/ob-before.flash"
# shellcheck disable=SC2086
board_sim_start ob-before --chip g0 $BOARD
expect_rc ob-before-write 0 env $(shim_env "$FLASHTOOL") "$FLASHTOOL" \
    --entry dtr-rts -w "$T/fw.bin" "$SIM_TTY"
log_has ob-before-empty "RESET boot0=1 -> bootloader"
expect_rc ob-before-again 4 env $(shim_env "$FLASHTOOL") "$FLASHTOOL" \
    --entry dtr-rts "$SIM_TTY"
log_has ob-before-unreachable "RESET boot0=1 -> application \\(option bytes\\)"
sim_stop

# After: --boot0-pin on the blank chip, the same firmware, and BOOT0
# reaches the bootloader every time.
rm -f "$FT_OUT/ob-after.flash"
# shellcheck disable=SC2086
board_sim_start ob-after --chip g0 $BOARD
expect_rc ob-after-recipe 0 env $(shim_env "$FLASHTOOL") "$FLASHTOOL" \
    --entry dtr-rts --boot0-pin "$SIM_TTY"
err_has ob-after-recipe "nBOOT_SEL +1 -> 0: BOOT0 comes from the PA14-BOOT0 pin"
err_has ob-after-recipe "written and verified"
expect_rc ob-after-write 0 env $(shim_env "$FLASHTOOL") "$FLASHTOOL" \
    --entry dtr-rts -w "$T/fw.bin" "$SIM_TTY"
: >"$SIM_LOG"
expect_rc ob-after-again 0 env $(shim_env "$FLASHTOOL") "$FLASHTOOL" \
    --entry dtr-rts "$SIM_TTY"
log_has ob-after-reachable "RESET boot0=1 -> bootloader"
log_lacks ob-after-not-app "RESET boot0=1 -> application"
expect_rc ob-after-recipe-again 0 env $(shim_env "$FLASHTOOL") "$FLASHTOOL" \
    --entry dtr-rts --boot0-pin "$SIM_TTY"
err_has ob-after-recipe-again "already hold the BOOT0-pin setting: nothing was written"
sim_stop

# Families whose BOOT0 pin always decides: nothing to change.
sim_start ob-f4-recipe --chip f401
expect_rc ob-f4-recipe 0 "$FLASHTOOL" --boot0-pin "$SIM_TTY"
err_has ob-f4-recipe "always takes BOOT0 from its pin"
no_opt_write ob-f4-recipe
sim_stop

# --- stm32flash -j/-k/-u against the option bytes -------------------------
if [ -n "$STM32FLASH" ]; then
	sf() { timeout 120 "$STM32FLASH" -m 8n1 -b 115200 "$@"; }
	sim_start ob-sf --chip f103
	expect_rc ob-sf-wrp 0 "$FLASHTOOL" --set WRP0=0xF0 "$SIM_TTY"
	expect_rc ob-sf-u 0 sf -u "$SIM_TTY"
	expect_rc ob-sf-after-u 0 "$FLASHTOOL" --json --option-bytes "$SIM_TTY"
	js ob-sf-after-u '.option_bytes.fields[] | select(.name == "WRP0") | .value == 255'
	expect_rc ob-sf-j 0 sf -j "$SIM_TTY"
	expect_rc ob-sf-after-j 9 "$FLASHTOOL" --option-bytes "$SIM_TTY"
	expect_rc ob-sf-k 0 sf -k "$SIM_TTY"
	expect_rc ob-sf-after-k 0 "$FLASHTOOL" --json --option-bytes "$SIM_TTY"
	js ob-sf-after-k '.option_bytes.fields[] | select(.name == "RDP") | .value == 165'
	js ob-sf-after-k '.option_bytes.complements_ok'
	# What flashtool wrote, stm32flash reads back byte for byte.
	expect_rc ob-sf-data 0 "$FLASHTOOL" --set DATA0=0x12 "$SIM_TTY"
	expect_rc ob-sf-read 0 sf -r "$T/sf-opt.bin" -S 0x1FFFF800:16 "$SIM_TTY"
	ok ob-sf-read-bytes test "$(od -An -tx1 -N8 "$T/sf-opt.bin" | tr -d ' ')" = "a55aff0012edff00"
	sim_stop
else
	echo "SKIP stm32flash cross-checks: stm32flash not installed" >>"$FT_RESULTS"
fi

# --- DFU: the option-byte alt of the USB models ---------------------------
D="$T/usb"
mkdir -p "$D"
CFG="$D/devices.cfg"
SIM_LOG="$D/usb.log"
cat >"$CFG" <<EOF
f042 path=1-1 flash=$D/f042.flash state=$D/f042.state log=$SIM_LOG
g431 path=1-2 flash=$D/g431.flash state=$D/g431.state log=$SIM_LOG
f4 path=1-3 flash=$D/f4.flash state=$D/f4.state log=$SIM_LOG
EOF
rm -f "$D"/*.state "$D"/*.flash
fu() {
	_n=$1; _rc=$2; shift 2
	expect_rc "$_n" "$_rc" env FT_USBSIM_CONFIG="$CFG" \
	    LD_PRELOAD="$(usb_preload)" "$FLASHTOOL" --dfu "$@"
}
du() {
	_n=$1; _rc=$2; shift 2
	expect_rc "$_n" "$_rc" env FT_USBSIM_CONFIG="$CFG" \
	    LD_PRELOAD="$USB_SIM" "$DFU_UTIL" "$@"
}

fu dfu-f042-read 0 --json --path 1-1 --option-bytes
js dfu-f042-read '.option_bytes.family == "f0" and .option_bytes.length == 16'
js dfu-f042-read '[.option_bytes.fields[] | .value == .factory] | all'
fu dfu-f4-read 0 --json --path 1-3 --option-bytes
js dfu-f4-read '.option_bytes.family == "f4"'
js dfu-f4-read '[.option_bytes.fields[] | .value == .factory] | all'
# The F4's OTP alt starts at 0x1FFF7800: never taken for option bytes.
fu dfu-f4-as-g0 1 --path 1-3 --family g0 --boot0-pin
err_has dfu-f4-as-g0 "no alt setting with STM32G0 option bytes"
log_lacks dfu-f4-as-g0-no-write "1-3 DNLOAD wValue=2"
# G0 and G4 share 0x1FFF7800 and USB cannot tell them apart.
fu dfu-g431-ambiguous 2 --path 1-2 --option-bytes
err_has dfu-g431-ambiguous "name the family with --family"
fu dfu-g431-read 0 --json --path 1-2 --family g4 --option-bytes
js dfu-g431-read '.option_bytes.length == 40 and .option_bytes.complements_ok'
js dfu-g431-read '[.option_bytes.fields[] | .value == .factory] | all'
fu dfu-g431-recipe 0 --path 1-2 --family g4 --boot0-pin
err_has dfu-g431-recipe "already hold the BOOT0-pin setting"
log_lacks dfu-g431-recipe-no-write "WRITE 0x1FFF7800"

# The option bit as BOOT0 source, BOOT0 = 1: the chip resets back into
# its ROM and is read back.
fu dfu-g431-set 0 --json --path 1-2 --family g4 --set nSWBOOT0=0 --set nBOOT0=0
js dfu-g431-set '.written and .verified'
log_has dfu-g431-set "WRITE 0x1FFF7800 40 -> OK"
fu dfu-g431-recipe-back 0 --path 1-2 --family g4 --boot0-pin
err_has dfu-g431-recipe-back "nSWBOOT0 +0 -> 1"

# dfu-util uploads what flashtool decodes, and flashtool reads what
# dfu-util downloads (a whole block, the ROM resetting after it).
if [ -n "$DFU_UTIL" ]; then
	du dfu-util-upload 0 -p 1-1 -a 1 -s 0x1FFFF800:16 -U "$D/opt.bin"
	fu dfu-hex 0 --json --path 1-1 --option-bytes
	ok dfu-util-same-bytes test "$(od -An -v -tx1 "$D/opt.bin" | tr -d ' \n')" = "$(jq -r .option_bytes.hex "$FT_OUT/dfu-hex.out")"
	# DATA0 = 0x34 with its complement 0xCB.
	printf '\252\125\377\000\064\313\377\000\377\000\377\000\377\000\377\000' >"$D/opt-new.bin"
	du dfu-util-download 0 -p 1-1 -a 1 -s 0x1FFFF800:will-reset -D "$D/opt-new.bin"
	fu dfu-after-dfu-util 0 --json --path 1-1 --option-bytes
	js dfu-after-dfu-util '.option_bytes.fields[] | select(.name == "DATA0") | .value == 52'
	js dfu-after-dfu-util '.option_bytes.complements_ok'
else
	echo "SKIP dfu-util cross-checks: dfu-util not installed" >>"$FT_RESULTS"
fi

# A G4 whose firmware is in place and whose BOOT0 source becomes the
# option bit (nBOOT0 = 1: main flash): after the write's reset it runs
# its application and cannot be read back: written, not verified.
randimg 2048 >"$D/app.bin"
fu dfu-g431-app 0 --path 1-2 -w "$D/app.bin" --stay
fu dfu-g431-away 11 --path 1-2 --family g4 --set nSWBOOT0=0 --set nBOOT0=1
err_has dfu-g431-away "written, not verified"
ok dfu-g431-away-stored grep -q '^opt=AAF8EFFB' "$D/g431.state"
