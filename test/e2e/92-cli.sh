# The front end's contract with scripts: --json (one document on stdout,
# failures included), --list, the vector-table check with --force, the
# one-line summary and -q.
. "$FT_TOP/test/e2e/lib.sh"
T="$FT_OUT/cli"
rm -rf "$T"
mkdir -p "$T"

# A vector table linked for 0x08008000: stack 0x20001000, reset vector
# 0x08008101 (Thumb), then filler.
mkimg() {
	printf '\000\020\000\040\001\201\000\010' >"$1"
	randimg 4088 >>"$1"
}
mkimg "$T/app8000.bin"
# The same linked for 0x08004000, for the 32 KiB F042 over DFU.
printf '\000\020\000\040\001\101\000\010' >"$T/app4000.bin"
randimg 4088 >>"$T/app4000.bin"
randimg 6000 >"$T/data.bin"

# --- USART -----------------------------------------------------------
rm -f "$FT_OUT/cli.flash"
sim_start cli --chip f103
expect_rc json-identify 0 "$FLASHTOOL" --json "$SIM_TTY"
json_is json-identify '.action == "identify" and .ok and .exit == 0 and .device.pid == 1040 and .device.transport == "usart" and .device.flash.size == 131072 and .error == null' \
	'd["action"] == "identify" and d["ok"] and d["device"]["pid"] == 1040 and d["device"]["flash"]["size"] == 131072'
# A plain row: the part was asked nothing, so no notes.
json_is json-identify '.device.flash.notes == ""' 'd["device"]["flash"]["notes"] == ""'
# How sure the table row is: from documents, proven on no chip yet.
json_is json-identify '.device.table_row.source == "documents" and .device.table_row.pid == 1040 and (.device.table_row.proven | length) == 0' \
    'd["device"]["table_row"]["source"] == "documents" and d["device"]["table_row"]["pid"] == 1040 and d["device"]["table_row"]["proven"] == []'
expect_rc debug-identify 0 "$FLASHTOOL" --debug "$SIM_TTY"
err_has debug-identify "device table row 0x410 \(.*\): transcribed from ST's documents; proven on silicon: nothing yet"
expect_rc json-write 0 "$FLASHTOOL" --json -w "$T/data.bin" -g 0 "$SIM_TTY"
json_is json-write '.action == "write" and .bytes_written == 6000 and .verified == true and .left == "started at 0x08000000" and .format == "binary"' \
	'd["bytes_written"] == 6000 and d["verified"] is True and d["left"] == "started at 0x08000000"'
err_has json-write "^Wrote 6000 bytes in [0-9.]+ s \([0-9.]+ KiB/s\): [0-9]+ erase units erased, [1-9][0-9]* written, 0 unchanged \(0 bytes\), 0 blank bytes skipped, started at 0x08000000, verified$"
expect_rc json-read 0 "$FLASHTOOL" --json -r "$T/back.bin" -S 0x08000000:6000 "$SIM_TTY"
json_is json-read '.action == "read" and .address == 134217728 and .length == 6000 and (.seconds | type) == "number"' \
	'd["address"] == 134217728 and d["length"] == 6000'
same_bytes json-read-data "$T/back.bin" "$T/data.bin"
err_has json-read "^Read 6000 bytes in [0-9.]+ s .* to .*back.bin, left in the bootloader$"
expect_rc crc-text 0 "$FLASHTOOL" -C -S 0x08000000:4096 "$SIM_TTY"
crc=$(sed -n 's/.*= 0x\([0-9a-f]*\)$/\1/p' "$FT_OUT/crc-text.out")
expect_rc json-crc 0 "$FLASHTOOL" --json -C -S 0x08000000:4096 "$SIM_TTY"
json_is json-crc ".crc_hex == \"0x$crc\" and .crc == $(printf %d "0x${crc:-0}") and .length == 4096" \
	"d['crc_hex'] == '0x$crc'"
expect_rc json-erase 0 "$FLASHTOOL" --json -o -S 0x08001000:2048 "$SIM_TTY"
json_is json-erase '.action == "erase" and .mass_erase == false and .address == 134221824 and .length == 2048' \
	'd["mass_erase"] is False and d["length"] == 2048'
# -r - carries only data on stdout; --json with it is refused.
expect_rc json-read-stdout 2 "$FLASHTOOL" --json -r - "$SIM_TTY"
json_is json-read-stdout '.ok == false and .exit == 2 and .error.name == "usage" and (.error.message | test("standard output"))' \
	'd["ok"] is False and d["exit"] == 2'
# -q: errors only.
expect_rc quiet-write 0 "$FLASHTOOL" -q -w "$T/data.bin" "$SIM_TTY"
ok quiet-write-silent test ! -s "$FT_OUT/quiet-write.err"
ok quiet-write-no-stdout test ! -s "$FT_OUT/quiet-write.out"
# No progress when stderr is not a terminal.
expect_rc no-progress 0 "$FLASHTOOL" --no-diff -w "$T/data.bin" "$SIM_TTY"
ok no-progress-no-cr sh -c "! grep -q \"$(printf '\r')\" '$FT_OUT/no-progress.err'"

# The vector table check: refused at 0x08000000 before anything is erased.
: >"$SIM_LOG"
expect_rc vectors-refused 2 "$FLASHTOOL" -w "$T/app8000.bin" "$SIM_TTY"
err_has vectors-refused "reset vector 0x08008101 lies outside the image.*probably 0x08008000.*--force"
log_lacks vectors-refused-no-erase "ERASE"
log_lacks vectors-refused-no-write "WRITE"
expect_rc json-vectors-refused 2 "$FLASHTOOL" --json -w "$T/app8000.bin" "$SIM_TTY"
json_is json-vectors-refused '.ok == false and .exit == 2 and .error.name == "FT_E_INVALID" and (.error.message | test("--force"))' \
	'd["exit"] == 2 and d["error"]["name"] == "FT_E_INVALID"'
expect_rc vectors-at-own-address 0 "$FLASHTOOL" -w "$T/app8000.bin" -S 0x08008000 "$SIM_TTY"
same_bytes vectors-at-own-address-data "$SIM_FLASH" "$T/app8000.bin" 32768 4096
expect_rc vectors-forced 0 "$FLASHTOOL" --force -w "$T/app8000.bin" "$SIM_TTY"
err_has vectors-forced "warning: .*written anyway"
same_bytes vectors-forced-data "$SIM_FLASH" "$T/app8000.bin" 0 4096
sim_stop

# Failures end in a document too.
expect_rc json-no-port 4 "$FLASHTOOL" --json "$T/no-such-tty"
json_is json-no-port '.ok == false and .exit == 4 and .error.name == "FT_E_NO_DEVICE" and .device == null' \
	'd["exit"] == 4 and d["error"]["name"] == "FT_E_NO_DEVICE"'
expect_rc json-bad-option 2 "$FLASHTOOL" --json -b 0 "$T/no-such-tty"
json_is json-bad-option '.exit == 2 and .error.name == "usage"' 'd["exit"] == 2'

# Every failure reaches the document with its name and detail, and the
# message is the one "flashtool: " line on stderr (warnings aside).
# json_fail NAME RC ERRNAME ERE: the last run of NAME (exit RC checked by
# expect_rc) gave that.  ERE is used by jq's test() and Python's re alike,
# so it has no backslashes or double quotes.
json_fail() {
	JSON_FAIL_RE=$4; export JSON_FAIL_RE
	json_is "$1" ".ok == false and .exit == $2 and .error.name == \"$3\" and (.error.message | test(\"$4\"))" \
		"d['ok'] is False and d['exit'] == $2 and d['error']['name'] == '$3' and __import__('re').search(__import__('os').environ['JSON_FAIL_RE'], d['error']['message'])"
	if [ "$JSON" = jq ]; then
		_m=$(jq -r '.error.message' "$FT_OUT/$1.out" 2>/dev/null)
	else
		_m=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["error"]["message"])' "$FT_OUT/$1.out" 2>/dev/null)
	fi
	_e=$(grep '^flashtool: ' "$FT_OUT/$1.err" | grep -v '^flashtool: warning: ')
	if [ -n "$_m" ] && [ "$_e" = "flashtool: $_m" ]; then
		pass "$1: stderr says the document's message"
	else
		fail "$1: stderr '$_e' is not 'flashtool: $_m'"
	fi
}
printf ':020000040800F2\n:10000000001122334455\n:00000001FF\n' >"$T/bad.hex"
mkdir -p "$T/adir"
rm -f "$FT_OUT/clifail.flash" "$FT_OUT/clifail.simlog"
sim_start clifail --chip f103
# Refused before the port is opened: the simulator hears nothing.
expect_rc json-bad-hex 2 "$FLASHTOOL" --json -w "$T/bad.hex" "$SIM_TTY"
json_fail json-bad-hex 2 FT_E_FORMAT '/bad.hex:2: wrong length'
expect_rc json-missing-port 4 "$FLASHTOOL" --json -r "$T/x.bin" "$T/no-such-tty"
json_fail json-missing-port 4 FT_E_NO_DEVICE "^$T/no-such-tty: no such port"
expect_rc json-usage-number 2 "$FLASHTOOL" --json -b fast "$SIM_TTY"
json_fail json-usage-number 2 usage "^-b: 'fast' is not a number"
expect_rc json-usage-getopt 2 "$FLASHTOOL" --json --bogus "$SIM_TTY"
json_fail json-usage-getopt 2 usage "^unrecognized option '--bogus'$"
expect_rc json-usage-missing-value 2 "$FLASHTOOL" --json "$SIM_TTY" -n
json_fail json-usage-missing-value 2 usage "^option requires an argument -- 'n'$"
expect_rc json-bad-range 2 "$FLASHTOOL" --json -w "$T/data.bin" -S 0x0800zz "$SIM_TTY"
json_fail json-bad-range 2 usage "^-S: '0x0800zz' is not ADDR"
expect_rc json-image-past-4g 2 "$FLASHTOOL" --json -w "$T/data.bin" -S 0xFFFFFF00 "$SIM_TTY"
json_fail json-image-past-4g 2 FT_E_RANGE '/data.bin: 6000 bytes at 0xFFFFFF00 run past'
expect_rc json-read-dir 2 "$FLASHTOOL" --json -r "$T/adir" "$SIM_TTY"
json_fail json-read-dir 2 usage "^-r: '$T/adir' exists and is not a regular file$"
expect_rc json-read-no-dir 2 "$FLASHTOOL" --json -r "$T/no/such/x.bin" "$SIM_TTY"
json_fail json-read-no-dir 2 io "^-r: cannot create a file beside '$T/no/such/x.bin': "
# Unreadable: as a user without the right (root reads anyway).
randimg 64 >"$T/unreadable.bin"
chmod 000 "$T/unreadable.bin"
if [ "$(id -u)" -ne 0 ]; then
	expect_rc json-unreadable 2 "$FLASHTOOL" --json -w "$T/unreadable.bin" "$SIM_TTY"
	json_fail json-unreadable 2 FT_E_IO '/unreadable.bin: Permission denied$'
elif command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	chmod 755 "$T" "$FT_OUT" 2>/dev/null
	expect_rc json-unreadable 2 setpriv --reuid=65534 --regid=65534 --clear-groups "$FLASHTOOL" --json -w "$T/unreadable.bin" "$SIM_TTY"
	json_fail json-unreadable 2 FT_E_IO '/unreadable.bin: Permission denied$'
else
	echo "(root without setpriv: unreadable-file case skipped)"
fi
if [ -s "$SIM_LOG" ]; then fail "json failures: the simulator heard something"; sed 's/^/   /' "$SIM_LOG" | head
else pass "json failures: the simulator heard nothing"; fi
ok json-failures-no-temporaries sh -c "! ls '$T'/adir.*.tmp '$T'/x.bin* 2>/dev/null | grep -q ."
# Refused once the device is known, before anything is erased.
expect_rc json-outside-flash 2 "$FLASHTOOL" --json -w "$T/data.bin" -S 0x09000000 "$SIM_TTY"
json_fail json-outside-flash 2 FT_E_RANGE '^write: image data at 0x09000000-0x0900176f lies outside flash 0x08000000-0x0801ffff'
json_is json-outside-flash '.device.pid == 1040' 'd["device"]["pid"] == 1040'
expect_rc json-pages-outside 2 "$FLASHTOOL" --json -o -s 100 -e 100 "$SIM_TTY"
json_fail json-pages-outside 2 FT_E_RANGE '^pages 100-199 are outside the flash [(]128 pages: 0-127[)]$'
# A start page past the end, with and without a count: never a wrapped
# count ("pages 1000-127").
expect_rc json-page-past-end 2 "$FLASHTOOL" --json -o -s 1000 "$SIM_TTY"
json_fail json-page-past-end 2 FT_E_RANGE '^page 1000 is outside the flash [(]128 pages: 0-127[)]$'
expect_rc json-page-past-end-count 2 "$FLASHTOOL" --json -o -s 128 -e 1 "$SIM_TTY"
json_fail json-page-past-end-count 2 FT_E_RANGE '^page 128 is outside the flash [(]128 pages: 0-127[)]$'
expect_rc json-count-wraps 2 "$FLASHTOOL" --json -o -s 4 -e 65535 "$SIM_TTY"
json_fail json-count-wraps 2 FT_E_RANGE '^pages 4-65538 are outside the flash [(]128 pages: 0-127[)]$'
log_lacks json-refused-no-erase "ERASE"
log_lacks json-refused-no-write "WRITE"
sim_stop

# --- USB DFU and --list -----------------------------------------------
PRE=$(usb_preload)
CFG="$T/usb.cfg"
echo "f042 path=1-1.2 flash=$T/a.flash state=$T/a.state log=$T/a.log" >"$CFG"
echo "g431 path=1-1.3 flash=$T/b.flash state=$T/b.state log=$T/b.log" >>"$CFG"
usb() {
	_n=$1; _rc=$2; shift 2
	expect_rc "$_n" "$_rc" env FT_USBSIM_CONFIG="$CFG" LD_PRELOAD="$PRE" \
	    "$FLASHTOOL" "$@"
}
SIM_LOG="$T/a.log"
usb list-text 0 --list
ok list-text-dfu grep -q '^0483:df11 path 1-1.2 serial ".*" DFU mode (DfuSe)' "$FT_OUT/list-text.out"
ok list-text-alts grep -q '^  alt 0: "@Internal Flash' "$FT_OUT/list-text.out"
usb list-json 0 --list --json
json_is list-json '.action == "list" and (.serial_ports | type) == "array" and ([.dfu_devices[].path] | sort) == ["1-1.2", "1-1.3"] and (.dfu_devices[0].alts[0].name | test("^@")) and .dfu_devices[0].id == "0483:df11" and .dfu_devices[0].mode == "dfu"' \
	'sorted(x["path"] for x in d["dfu_devices"]) == ["1-1.2", "1-1.3"] and isinstance(d["serial_ports"], list)'
usb list-dfu-json 0 --dfu --list --json
json_is list-dfu-json '(has("serial_ports") | not) and (.dfu_devices | length) == 2' \
	'"serial_ports" not in d and len(d["dfu_devices"]) == 2'
usb dfu-json-identify 0 --dfu --path 1-1.2 --json
json_is dfu-json-identify '.device.transport == "dfu" and .device.usb.path == "1-1.2" and .device.usb.id == "0483:df11"' \
	'd["device"]["usb"]["path"] == "1-1.2"'
: >"$SIM_LOG"
usb dfu-vectors-refused 2 --dfu --path 1-1.2 -w "$T/app4000.bin"
err_has dfu-vectors-refused "reset vector 0x08004101.*probably 0x08004000"
log_lacks dfu-vectors-refused-no-erase "ERASE"
log_lacks dfu-vectors-refused-no-download "DNLOAD wValue=[2-9]"
rm -f "$T/a.state"
usb dfu-json-write 0 --dfu --path 1-1.2 --json --force -w "$T/app4000.bin"
json_is dfu-json-write '.bytes_written == 4096 and .verified == true and (.left | test("left DFU mode"))' \
	'd["bytes_written"] == 4096 and d["verified"] is True'
same_bytes dfu-json-write-data "$T/a.flash" "$T/app4000.bin" 0 4096
rm -f "$T/a.state"
usb dfu-at-own-address 0 --dfu --path 1-1.2 -S 0x08004000 -w "$T/app4000.bin"
same_bytes dfu-at-own-address-data "$T/a.flash" "$T/app4000.bin" 16384 4096
