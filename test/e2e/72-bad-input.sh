# End-to-end: the table test/data/bad-input.tab of invalid invocations and
# files.  Each must exit with its status and a "flashtool: " message, and
# nothing may reach a device: both simulators run, and their logs stay
# empty (the USART simulator logs every command including the sync, the
# simulated libusb every open, claim and request).
. "$FT_TOP/test/e2e/lib.sh"
T="$FT_OUT/bad"
B="$T/files"
rm -rf "$T"
mkdir -p "$B/sub"

# hexrec ADDR TYPE DATAHEX: one Intel HEX record with its checksum.
hexrec() {
	awk -v a="$1" -v t="$2" -v d="$3" 'function h(s) { return index("0123456789ABCDEF", toupper(s)) - 1 }
	BEGIN {
		n = length(d) / 2
		sum = n + int(a / 256) + a % 256 + t
		for (i = 1; i <= length(d); i += 2)
			sum += h(substr(d, i, 1)) * 16 + h(substr(d, i + 1, 1))
		printf ":%02X%04X%02X%s%02X\n", n, a, t, d, (256 - sum % 256) % 256
	}'
}
D16=00112233445566778899AABBCCDDEEFF
{ hexrec 0 4 0800; hexrec 0 0 "$D16"; hexrec 0 1 ""; } >"$B/good.hex"
{ hexrec 0 4 0800; hexrec 0 0 "$D16" | cut -c1-20; } >"$B/truncated.hex"
sed '2s/..$/00/' "$B/good.hex" >"$B/badsum.hex"
{ hexrec 0 4 0800; hexrec 0 0 "$D16"; hexrec 8 0 "$D16"; hexrec 0 1 ""; } >"$B/overlap.hex"
{ hexrec 0 4 FFFF; hexrec 65520 0 "$D16$D16"; hexrec 0 1 ""; } >"$B/past4g.hex"
{ hexrec 0 4 0800; hexrec 0 9 "$D16"; hexrec 0 1 ""; } >"$B/badtype.hex"
{ hexrec 0 4 0800; echo ":1000000000112233445566778899AABBCCDDEEFF0"; hexrec 0 1 ""; } >"$B/odd.hex"
{ hexrec 0 4 0800; hexrec 0 0 "$D16"; } >"$B/noeof.hex"
printf 'S00600004844521B\nS1130000000102030405060708090A0B0C0D0E0F00\nS9030000FC\n' >"$B/badsum.s19"
printf 'S00600004844521B\nS1130000000102030405\n' >"$B/truncated.s19"
printf '\177ELF\001\001\001\000\000\000\000\000\000\000\000\000\002\000\050\000' >"$B/truncated.elf"
randimg 2048 >"$B/ok.bin"
: >"$B/empty.bin"
cp "$FT_TOP/test/data/dfu-plain.bin" "$B/badcrc.dfu"
printf '\000\000\000\000' | dd of="$B/badcrc.dfu" bs=1 seek=$(($(wc -c <"$B/badcrc.dfu") - 4)) conv=notrunc 2>/dev/null
randimg 1024 >"$B/unreadable.bin"
# Not firmware: text of several kinds, documents, archives, blank dumps,
# and binaries named like a text format (test/data/bad-input.tab).
printf ':10000000\n' >"$B/cut-record.bin"
printf ':10000000' >"$B/cut-record.hex"
printf 'S1\n' >"$B/cut-record.s19"
printf 'Flash this with flashtool -w.\nThanks!\n' >"$B/notes.bin"
printf 'Build notes\r\nversion 1.2\r\n' >"$B/crlf-notes"
printf 'Gr\303\274\303\237e aus M\303\274nchen\n' >"$B/utf8.bin"
printf 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 30720\n' >"$B/lfs-pointer.bin"
printf '<!DOCTYPE html>\n<html><head><title>klipper.bin</title></head></html>\n' >"$B/saved-page.bin"
printf '{"app": "Klipper", "version": "v0.12"}\n' >"$B/dict.bin"
printf '#!/bin/sh\nflashtool -w klipper.bin /dev/ttyACM0\n' >"$B/script.bin"
printf '%%PDF-1.7\n%%\342\343\317\323\n' >"$B/manual.bin"
printf 'PK\003\004\024\000\000\000\010\000' >"$B/archive.bin"
printf '\037\213\010\000\000\000\000\000' >"$B/firmware.bin.gz"
printf '\211PNG\r\n\032\n\000\000\000\rIHDR' >"$B/photo.bin"
head -c 4096 /dev/zero | tr '\000' '\377' >"$B/all-ff.bin"
head -c 4096 /dev/zero >"$B/all-zero.bin"
randimg 2048 >"$B/binary.hex"
randimg 2048 >"$B/binary.s19"
randimg 2048 >"$B/binary.elf"
randimg 2048 >"$B/binary.dfu"
# Every cut of one good record, as .hex and as .bin: all broken HEX.
good_rec=$(hexrec 0 0 "$D16")
i=1
while [ "$i" -lt "${#good_rec}" ]; do
	printf '%s' "$good_rec" | cut -c1-"$i" | tr -d '\n' >"$B/cut-$i.hex"
	cp "$B/cut-$i.hex" "$B/cut-$i.bin"
	i=$((i + 1))
done
chmod 000 "$B/unreadable.bin"

rm -f "$FT_OUT/bad.flash"
sim_start bad --chip f401
P=$SIM_TTY
USBLOG="$T/usb.log"
PRE=$(usb_preload)
USBCFG="f042 path=1-1 flash=$T/usb.flash state=$T/usb.state log=$USBLOG"

# check NAME RC: the last run exited RC with a flashtool message.
check() {
	_e="$FT_OUT/$1.err"
	if [ "$RC" -ne "$2" ]; then
		fail "$1: exit $RC, wanted $2"
	elif ! grep -q '^\(flashtool\|[^ ]*/flashtool\): ' "$_e"; then
		fail "$1: no 'flashtool: ' message"
	elif [ "$(grep -c '^\(flashtool\|[^ ]*/flashtool\): ' "$_e")" -gt 1 ]; then
		fail "$1: more than one message"
	else
		pass "$1: exit $2: $(grep '^\(flashtool\|[^ ]*/flashtool\): ' "$_e" | head -n 1 | cut -c1-100)"
	fi
}

n=0
while IFS='	' read -r want name args; do
	case $want in ''|'#'*) continue ;; esac
	n=$((n + 1))
	eval "set -- $args"
	case " $args " in
	*" --dfu "*)
		run "bad-$name" env FT_USBSIM="$USBCFG" LD_PRELOAD="$PRE" "$FLASHTOOL" "$@" ;;
	*)
		run "bad-$name" "$FLASHTOOL" "$@" ;;
	esac
	check "bad-$name" "$want"
done <"$FT_TOP/test/data/bad-input.tab"

# An unreadable image: as a user without the right (root reads anyway).
if [ "$(id -u)" -ne 0 ]; then
	run bad-unreadable "$FLASHTOOL" -w "$B/unreadable.bin" "$P"
	check bad-unreadable 2
	n=$((n + 1))
elif command -v setpriv >/dev/null && setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	chmod 755 "$T" "$B" "$FT_OUT" 2>/dev/null
	chmod o+rw "$P" 2>/dev/null
	run bad-unreadable setpriv --reuid=65534 --regid=65534 --clear-groups "$FLASHTOOL" -w "$B/unreadable.bin" "$P"
	check bad-unreadable 2
	err_has bad-unreadable "unreadable.bin"
	mkdir -p "$B/ro"
	chmod 555 "$B/ro"
	run bad-unwritable-dir setpriv --reuid=65534 --regid=65534 --clear-groups "$FLASHTOOL" -r "$B/ro/x.bin" "$P"
	check bad-unwritable-dir 2
	n=$((n + 2))
else
	echo "(root without setpriv: unreadable-file case skipped)"
fi

# Every cut of a record is refused as a HEX error naming line 1, under
# either name, before the port is opened.
i=1
while [ "$i" -lt "${#good_rec}" ]; do
	for ext in hex bin; do
		run "bad-cut-$i-$ext" "$FLASHTOOL" -w "$B/cut-$i.$ext" "$P"
		check "bad-cut-$i-$ext" 2
		err_has "bad-cut-$i-$ext" "cut-$i\\.$ext:1: "
		n=$((n + 1))
	done
	i=$((i + 1))
done

ok "bad-input-table-size-$n" test "$n" -ge 50
# Nothing was opened: no command (not even the sync) reached the chip,
# the simulated libusb saw no open.
if [ -s "$SIM_LOG" ]; then fail "bad-input: USART simulator log is not empty"; sed 's/^/   /' "$SIM_LOG" | head
else pass "bad-input: USART simulator saw nothing"; fi
if [ -s "$USBLOG" ]; then fail "bad-input: USB simulator log is not empty"; sed 's/^/   /' "$USBLOG" | head
else pass "bad-input: USB simulator saw nothing"; fi
# And no stray -r temporaries.
ok bad-input-no-temporaries sh -c "! ls '$B'/x.bin* '$B'/sub/* 2>/dev/null | grep -q ."
sim_stop
