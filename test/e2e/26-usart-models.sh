# End-to-end: every chip model of the USART simulator (its own facts,
# test/sim/usart/facts.c) against the real flashtool, and the ROM
# behaviours the device-table audit found, on the models that have them.
#
# Three kinds of case:
#  - every model: flashtool identifies it and writes, verifies and reads
#    back 4 KiB at the flash base (the whole library table exercised);
#  - the simulator's own behaviour, proven with stm32flash 0.7, a host
#    that does not know these ROMs' ways (it numbers L47x bank 2 flat,
#    batches G0B1 erases, writes where it is told): these must fail
#    exactly as the documents say;
#  - what flashtool must do on those models (issue 12): read the
#    flash-size word and the option bytes before erasing, number bank 2
#    as the ROM does, one page per erase where a quirk says so, refuse
#    what it cannot know (an unreadable option word, the WB secure area)
#    by name and before anything is erased.
. "$FT_TOP/test/e2e/lib.sh"
T="$FT_OUT/models"
mkdir -p "$T"
[ -x "$USART_SIM" ] || { fail "models: $USART_SIM not built"; exit 1; }

# rc_is WANT CMD...: CMD exits WANT (a condition for ok).
rc_is() {
	_w=$1; shift
	"$@" >/dev/null 2>&1
	[ $? -eq "$_w" ]
}

# fl NAME ARGS...: flashtool, output kept in $FT_OUT/NAME.{out,err};
# succeeds when flashtool does.
fl() {
	_n=$1; shift
	"$FLASHTOOL" "$@" >"$FT_OUT/$_n.out" 2>"$FT_OUT/$_n.err"
}

# flash_has FILE OFFSET: the simulator's flash holds FILE at OFFSET.
flash_has() {
	cmp -s -n "$(wc -c <"$1")" "$1" "$SIM_FLASH" 0 "$2"
}

# old_firmware NAME KIB: the flash holds something else already, so a
# wrong sector erased shows.
old_firmware() {
	head -c $(($2 * 1024)) /dev/urandom >"$FT_OUT/$1.flash"
}

randimg 4096 >"$T/4k.bin"

# Every model: identify, write 4 KiB with verify, read it back.
"$USART_SIM" --list-chips >"$T/chips.txt"
ok "models-listed" test "$(wc -l <"$T/chips.txt")" -ge 85
i=0
while read -r key other _; do
	i=$((i + 1))
	# Under valgrind every run is slow: a sample of the models.
	if [ "${VALGRIND:-0}" = 1 ] && [ $((i % 8)) -ne 1 ]; then
		continue
	fi
	case $key in
	0x*) pid=$key ;;
	*) pid=$other ;;
	esac
	n="m-$key"
	rm -f "$FT_OUT/$n.flash"
	sim_start "$n" --chip "$key"
	expect_rc "$n-identify" 0 "$FLASHTOOL" "$SIM_TTY"
	ok "$n-identify-id" grep -qi "Device ID: *0x0*${pid#0x}" \
	    "$FT_OUT/$n-identify.out"
	expect_rc "$n-write" 0 "$FLASHTOOL" -w "$T/4k.bin" -v "$SIM_TTY"
	expect_rc "$n-read" 0 "$FLASHTOOL" -r "$T/$n.back" \
	    -S 0x08000000:4096 "$SIM_TTY"
	same_bytes "$n-read-back" "$T/4k.bin" "$T/$n.back"
	sim_stop
done <"$T/chips.txt"

STM32FLASH=${STM32FLASH:-stm32flash}
have_sf=0
command -v "$STM32FLASH" >/dev/null 2>&1 && have_sf=1
sf() {
	timeout 120 "$STM32FLASH" -m 8n1 -b 115200 "$@"
}

# A1: an L476xE (512 KiB) numbers bank 2 from page 256 at 0x08040000.
randimg 300000 >"$T/300k.bin"
n=l476-512k
old_firmware "$n" 512
sim_start "$n" --chip l476-512k
if [ $have_sf = 1 ]; then
	# stm32flash numbers the pages flat: 128+ do not exist.
	ok "$n-flat-numbering-refused" rc_is 1 sf -w "$T/300k.bin" "$SIM_TTY"
	log_has "$n-flat-numbering-refused-log" "EXT_ERASE count=[0-9]+ no-such-page -> NACK"
fi
: >"$SIM_LOG"
expect_rc "$n-identify" 0 "$FLASHTOOL" "$SIM_TTY"
ok "$n-identify-size" grep -q "^Flash: .* 512 KiB (256x2K)" \
    "$FT_OUT/$n-identify.out"
ok "$n-identify-origin" grep -q "^Flash notes: .*flash-size word: 512 KiB.*ROM page 256" \
    "$FT_OUT/$n-identify.out"
expect_rc "$n-json" 0 "$FLASHTOOL" --json "$SIM_TTY"
ok "$n-json-notes" python3 -c "import json, sys
f = json.load(open(sys.argv[1]))['device']['flash']
sys.exit(not (f['size'] == 524288 and f['layout'] == '256x2K' and
    'ROM page 256' in f['notes']))" "$FT_OUT/$n-json.out"
expect_rc "$n-write-bank2" 0 "$FLASHTOOL" -w "$T/300k.bin" -v "$SIM_TTY"
ok "$n-write-bank2-flash" flash_has "$T/300k.bin" 0
log_has "$n-write-bank2-pages" "EXT_ERASE pages=256,.* -> ACK"
log_lacks "$n-no-flat-pages" "EXT_ERASE pages=.*(^|,|=)12[89],"
# The size word says 512 KiB.
fl "$n-size" -r "$T/$n.size" -S 0x1FFF75E0:4 "$SIM_TTY"
ok "$n-size-word" sh -c "od -An -tx1 '$T/$n.size' | grep -q '^ 00 02'"
sim_stop
n=l476-512k-single
old_firmware "$n" 512
sim_start "$n" --chip l476-512k --option DUALBANK=0
fl "$n-opt" -r "$T/$n.opt" -S 0x1FFF7800:4 "$SIM_TTY"
# Bit 21 of the option word is in its third byte.
ok "$n-option-word" sh -c "od -An -tu1 '$T/$n.opt' | awk '{ exit !(\$3 % 64 < 32) }'"
expect_rc "$n-write" 0 "$FLASHTOOL" -w "$T/300k.bin" -v "$SIM_TTY"
ok "$n-flash" flash_has "$T/300k.bin" 0
log_has "$n-pages-flat" "EXT_ERASE pages=128,.* -> ACK"
sim_stop

# Must fail: the flash-size word unreadable.  Bank 2 could start at
# 0x08040000 (page 256) or 0x08080000 (page 256 too, but 128 pages
# later): the erase is refused, naming the word and the chip, and
# nothing is erased.
n=l476-512k-nosize
old_firmware "$n" 512
cp "$FT_OUT/$n.flash" "$T/$n.before"
sim_start "$n" --chip l476-512k --unreadable 0x1FFF75E0
expect_rc "$n-write" 2 "$FLASHTOOL" -w "$T/300k.bin" "$SIM_TTY"
err_has "$n-write" "STM32L47xxx/L48xxx: the flash-size word at 0x1fff75e0.*could not be read.*erasing is refused.*--layout"
log_lacks "$n-nothing-erased" "ERASE"
same_bytes "$n-flash-unchanged" "$T/$n.before" "$SIM_FLASH"
# Reading is harmless and still works.
expect_rc "$n-read" 0 "$FLASHTOOL" -r "$T/$n.back" -S 0x08000000:1024 \
    "$SIM_TTY"
sim_stop

# A3: G0B1 bank 2 erases one page per Extended Erase.
randimg 6000 >"$T/6k.bin"
n=g0b1
rm -f "$FT_OUT/$n.flash"
sim_start "$n" --chip g0b1
if [ $have_sf = 1 ]; then
	ok "$n-multi-page-bank2-refused" rc_is 1 \
	    sf -w "$T/6k.bin" -S 0x08040000 "$SIM_TTY"
	log_has "$n-multi-page-bank2-log" "bank2-multi-page-fail .* -> NACK"
fi
sim_stop
# Old firmware everywhere, so that every page the image touches must
# be erased.
old_firmware "$n" 512
sim_start "$n" --chip g0b1
: >"$SIM_LOG"
expect_rc "$n-write-bank2" 0 "$FLASHTOOL" -w "$T/6k.bin" -S 0x08040000 -v \
    "$SIM_TTY"
ok "$n-write-bank2-flash" flash_has "$T/6k.bin" 262144
log_has "$n-bank2-page-128-alone" "EXT_ERASE pages=128 -> ACK"
log_has "$n-bank2-page-130-alone" "EXT_ERASE pages=130 -> ACK"
log_lacks "$n-bank2-one-page" "EXT_ERASE pages=[0-9,]*(12[89]|1[3-9][0-9]|2[0-5][0-9])[0-9,]*,"
# Across the banks: bank-1 pages together, bank-2 pages alone.
: >"$SIM_LOG"
expect_rc "$n-write-across" 0 "$FLASHTOOL" -w "$T/6k.bin" -S 0x0803F000 -v \
    "$SIM_TTY"
log_has "$n-across-bank1-together" "EXT_ERASE pages=126,127 -> ACK"
log_has "$n-across-bank2-alone" "EXT_ERASE pages=128 -> ACK"
log_lacks "$n-across-nothing-refused" "(ERASE|WRITE|READ).*-> NACK"
sim_stop

# D11: the L412 ROM answers the connect byte with two ACKs; flashtool's
# Get Version takes a shifted reply (as stm32flash 0.7 does).
n=l412
rm -f "$FT_OUT/$n.flash" "$FT_OUT/$n.simlog"
sim_start "$n" --chip l412
expect_rc "$n-write" 0 "$FLASHTOOL" -w "$T/4k.bin" -v "$SIM_TTY"
log_has "$n-double-ack" "SYNC double-ack -> ACK"
# After a command that resets the chip the sync is answered twice again:
# the reconnection copes too (Get Version first).
: >"$SIM_LOG"
expect_rc "$n-unprotect" 0 "$FLASHTOOL" -u "$SIM_TTY"
ok "$n-unprotect-resynced" sh -c "grep -A2 'RESET cmd=0x73' '$SIM_LOG' | grep -q 'SYNC double-ack -> ACK'"
log_lacks "$n-unprotect-clean" "(GET|GET_ID|GET_VERSION).*-> NACK"
if [ $have_sf = 1 ]; then
	expect_rc "$n-stm32flash-copes" 0 sf "$SIM_TTY"
fi
sim_stop

# A4: F7 wants 8-byte aligned writes and fails every later one after an
# unaligned write, until it resets.
n=f767
rm -f "$FT_OUT/$n.flash"
sim_start "$n" --chip f767
randimg 1024 >"$T/1k.bin"
if [ $have_sf = 1 ]; then
	ok "$n-unaligned-refused" rc_is 1 \
	    sf -w "$T/1k.bin" -S 0x08000004 "$SIM_TTY"
	ok "$n-then-all-refused" rc_is 1 sf -w "$T/1k.bin" "$SIM_TTY"
	log_has "$n-sticky" "WRITE 0x[0-9a-f]+ [0-9]+ locked-after-unaligned -> NACK"
fi
sim_stop
n=f767-hex
rm -f "$FT_OUT/$n.flash" "$FT_OUT/$n.simlog"
sim_start "$n" --chip f767
# A HEX segment at 4 mod 8: flashtool must start its write on 8.
awk 'BEGIN { srand(7); printf ":020000040800F2\n";
	for (a = 4; a < 4 + 64; a += 16) {
		s = 16 + int(a / 256) + a % 256;
		printf ":10%04X00", a;
		for (i = 0; i < 16; i++) { b = int(rand() * 256); s += b;
			printf "%02X", b }
		printf "%02X\n", (256 - s % 256) % 256 }
	print ":00000001FF" }' >"$T/odd.hex"
expect_rc "$n-odd-hex" 0 "$FLASHTOOL" -w "$T/odd.hex" -v "$SIM_TTY"
log_lacks "$n-odd-hex-aligned" "unaligned|locked"
sim_stop

# D5: layouts an option bit chooses; flashtool reads the bit (and the
# size word) before erasing, and the other image's sectors survive.
# opt_case NAME CHIP OPTION ADDR IMAGE-OFFSET KIB WHAT
opt_case() {
	n=$1
	old_firmware "$n" "$6"
	cp "$FT_OUT/$n.flash" "$T/$n.before"
	sim_start "$n" --chip "$2" --option "$3"
	randimg 20000 >"$T/$n.bin"
	expect_rc "$n-identify" 0 "$FLASHTOOL" "$SIM_TTY"
	ok "$n-identify-says" grep -q "^Flash notes: .*$7" \
	    "$FT_OUT/$n-identify.out"
	expect_rc "$n-write" 0 "$FLASHTOOL" -w "$T/$n.bin" -S "$4" -v \
	    "$SIM_TTY"
	ok "$n-flash" flash_has "$T/$n.bin" "$5"
	# Below the image's unit nothing changed.
	ok "$n-rest-kept" cmp -s -n "$5" "$T/$n.before" "$SIM_FLASH"
	log_lacks "$n-nothing-refused" "(ERASE|WRITE|READ).*-> NACK"
	sim_stop
}
opt_case f767-dual f767 nDBANK=0 0x08100000 1048576 2048 \
    "nDBANK = 0 (dual bank)"
opt_case f767-1m-dual f767-1m nDBANK=0 0x08080000 524288 1024 \
    "flash-size word: 1024 KiB.*nDBANK = 0"
opt_case f429-1m-db1m f429-1m DB1M=1 0x08080000 524288 1024 \
    "flash-size word: 1024 KiB.*DB1M = 1"
opt_case g474-single g474 DBANK=0 0x08040000 262144 512 \
    "DBANK = 0 (single bank)"
opt_case l4r-single l4r DBANK=0 0x08100000 1048576 2048 \
    "DBANK = 0 (single bank)"
opt_case l552-single l552 DBANK=0 0x08040000 262144 512 \
    "0x40022040 = .*DBANK = 0 (single bank)"

# Must fail: the option word unreadable.  Erasing is refused before
# anything is erased, naming the option and the chip; --layout is the
# way out, and with it the same write goes through.
n=f767-noopt
old_firmware "$n" 2048
cp "$FT_OUT/$n.flash" "$T/$n.before"
sim_start "$n" --chip f767 --option nDBANK=0 --unreadable 0x1FFF0008
randimg 20000 >"$T/$n.bin"
expect_rc "$n-identify" 0 "$FLASHTOOL" "$SIM_TTY"
ok "$n-identify-says" grep -q "^Flash notes: .*erasing refused" \
    "$FT_OUT/$n-identify.out"
expect_rc "$n-write" 2 "$FLASHTOOL" -w "$T/$n.bin" -S 0x08100000 "$SIM_TTY"
err_has "$n-write" "STM32F76xxx/F77xxx: the option word at 0x1fff0008, whose nDBANK bit selects the flash layout, could not be read"
err_has "$n-write" "give the flash layout with --layout"
log_lacks "$n-nothing-erased" "ERASE"
same_bytes "$n-flash-unchanged" "$T/$n.before" "$SIM_FLASH"
expect_rc "$n-erase" 2 "$FLASHTOOL" -o -S 0x08000000:32K "$SIM_TTY"
err_has "$n-erase" "erasing is refused"
log_lacks "$n-erase-nothing-erased" "ERASE"
expect_rc "$n-layout" 0 "$FLASHTOOL" \
    --layout 0x08000000:4x16K,1x64K,7x128K,4x16K,1x64K,7x128K \
    -w "$T/$n.bin" -S 0x08100000 -v "$SIM_TTY"
ok "$n-layout-flash" flash_has "$T/$n.bin" 1048576
ok "$n-layout-rest-kept" cmp -s -n 1048576 "$T/$n.before" "$SIM_FLASH"
sim_stop

# D9: WB55 flash from SFSA up belongs to the radio core.
n=wb55
rm -f "$FT_OUT/$n.flash"
sim_start "$n" --chip wb55
expect_rc "$n-below-sfsa" 0 "$FLASHTOOL" -w "$T/4k.bin" -S 0x080CA000 -v \
    "$SIM_TTY"
# The layout shown ends at SFSA (0xCB x 4 KiB).
expect_rc "$n-identify" 0 "$FLASHTOOL" "$SIM_TTY"
ok "$n-identify-size" grep -q "^Flash: .* 812 KiB (203x4K)" \
    "$FT_OUT/$n-identify.out"
ok "$n-identify-secure" grep -q "^Flash notes: .*SFSA = 0xcb: 0x080cb000 up is the secure area" \
    "$FT_OUT/$n-identify.out"
: >"$SIM_LOG"
# Refused before anything is erased, naming the secure area.
expect_rc "$n-secure" 2 "$FLASHTOOL" -w "$T/4k.bin" -S 0x080CB000 "$SIM_TTY"
err_has "$n-secure" "0x080cb000-0x080fffff is the secure area of STM32WB.* \\(SFSA = 0xcb\\)"
log_lacks "$n-secure-nothing-erased" "ERASE"
# An image that runs into it, the same.
randimg 8192 >"$T/8k.bin"
expect_rc "$n-secure-across" 2 "$FLASHTOOL" -w "$T/8k.bin" -S 0x080CA000 \
    "$SIM_TTY"
err_has "$n-secure-across" "secure area"
log_lacks "$n-secure-across-nothing-erased" "ERASE"
# Reading there: refused by name, not a bare NACK.
expect_rc "$n-secure-read" 2 "$FLASHTOOL" -r "$T/$n.sec" \
    -S 0x080CB000:256 "$SIM_TTY"
err_has "$n-secure-read" "Read Memory at 0x080cb000: .*secure area"
log_lacks "$n-secure-read-not-tried" "READ 0x080cb000"
# The whole flash reads up to SFSA.
expect_rc "$n-read-all" 0 "$FLASHTOOL" -r "$T/$n.all" "$SIM_TTY"
ok "$n-read-all-size" test "$(wc -c <"$T/$n.all")" -eq $((0xCB * 4096))
sim_stop

# L0: erased flash reads 0x00 and there is no mass erase.
n=l0
rm -f "$FT_OUT/$n.flash"
sim_start "$n" --chip l0
expect_rc "$n-write" 0 "$FLASHTOOL" -w "$T/4k.bin" -v "$SIM_TTY"
expect_rc "$n-erase-all" 0 "$FLASHTOOL" -o "$SIM_TTY"
log_lacks "$n-no-mass" "ERASE.*mass"
ok "$n-erased-zero" sh -c "head -c 65536 /dev/zero | cmp -s - '$SIM_FLASH'"
if [ $have_sf = 1 ]; then
	# stm32flash knows the L0 has no mass erase (F_NO_ME).
	expect_rc "$n-stm32flash-erase" 0 sf -o "$SIM_TTY"
fi
sim_stop

# G07x V11.3: page erases acknowledged early.
n=g071-v113
rm -f "$FT_OUT/$n.flash"
head -c 131072 /dev/urandom >"$FT_OUT/$n.flash"
sim_start "$n" --chip g071-v113
randimg 5000 >"$T/5k.bin"
: >"$SIM_LOG"
expect_rc "$n-write" 0 "$FLASHTOOL" --debug -w "$T/5k.bin" -v "$SIM_TTY"
ok "$n-flash" flash_has "$T/5k.bin" 0
log_has "$n-early-ack" "EXT_ERASE pages=0 early-ack ms=[0-9]+ -> ACK"
log_lacks "$n-one-page-each" "EXT_ERASE pages=[0-9]+,"
err_has "$n-write" "bootloader ID 0xb3; one page per erase, 40 ms after each"
# 40 ms after each erase before the next command (the log's ms).
ok "$n-waits" sh -c "grep -E 'EXT_ERASE|WRITE' '$SIM_LOG' | awk '
	prev != \"\" && \$1 - prev < 40 { bad = 1 }
	{ prev = (\$2 == \"EXT_ERASE\") ? \$1 : \"\" }
	END { exit bad }'"
sim_stop
# V11.4 (the PID model): fixed, pages go together again.
n=g071-v114
old_firmware "$n" 128
sim_start "$n" --chip g0
expect_rc "$n-write" 0 "$FLASHTOOL" --debug -w "$T/5k.bin" -v "$SIM_TTY"
log_has "$n-together" "EXT_ERASE pages=0,1,2 -> ACK"
err_has "$n-write" "bootloader ID 0xb4"
sim_stop

true
