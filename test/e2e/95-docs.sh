# The documentation keeps up with the binary: every option that --help
# lists is in the man page's option list and the other way round, the
# page lints clean, and it has the sections a user looks for.
. "$FT_TOP/test/e2e/lib.sh"
T="$FT_OUT/docs"
rm -rf "$T"
mkdir -p "$T"
MAN="$FT_TOP/man/flashtool.1"

expect_rc help 0 "$FLASHTOOL" --help
# Option lines start with two spaces and a dash; the option names are
# in the part before the description (two spaces further on).
awk '/^  +-/ { sub(/^ +/, ""); i = index($0, "  ");
	if (i) $0 = substr($0, 1, i - 1); print }' "$FT_OUT/help.out" |
	grep -oE -- '--?[A-Za-z][A-Za-z0-9-]*' | sort -u >"$T/help.opts"
# The man page's option list: ".It Fl x ..." and ".It ... Fl Fl long"
# between "The options are:" and the next subsection.
awk '/^The options are:/ { on = 1; next } /^\.S[hs] / { on = 0 }
	on && /^\.It / {
		for (i = 2; i <= NF; i++) if ($i == "Fl") {
			if ($(i + 1) == "Fl") { print "--" $(i + 2); i += 2 }
			else { print "-" $(i + 1); i++ }
		}
	}' "$MAN" | sed 's/[^A-Za-z0-9-].*$//' | sort -u >"$T/man.opts"
ok "help lists options" test "$(wc -l <"$T/help.opts")" -gt 40
ok "man lists options" test "$(wc -l <"$T/man.opts")" -gt 40
comm -23 "$T/help.opts" "$T/man.opts" >"$T/only-help"
comm -13 "$T/help.opts" "$T/man.opts" >"$T/only-man"
if [ -s "$T/only-help" ]; then
	fail "in --help, not in man/flashtool.1: $(tr '\n' ' ' <"$T/only-help")"
else pass "every --help option is in the man page"; fi
if [ -s "$T/only-man" ]; then
	fail "in man/flashtool.1, not in --help: $(tr '\n' ' ' <"$T/only-man")"
else pass "every man page option is in --help"; fi

# Every option the parser takes is in --help: try each one and see that
# getopt does not call it unknown ("unrecognized"/"invalid option").
while read -r o; do
	"$FLASHTOOL" "$o" x y z >/dev/null 2>"$T/try.err"
	if grep -Eq "unrecognized|invalid option|unknown option" "$T/try.err"; then
		fail "--help lists $o, which the parser does not take"
	fi
done <"$T/help.opts"
pass "the parser takes every --help option"

if command -v mandoc >/dev/null 2>&1; then
	run mandoc-lint mandoc -Tlint -W warning "$MAN"
	if [ "$RC" -eq 0 ] && [ ! -s "$FT_OUT/mandoc-lint.out" ]; then
		pass "mandoc -Tlint -W warning is clean"
	else
		fail "mandoc -Tlint: $(head -n 5 "$FT_OUT/mandoc-lint.out")"
	fi
else
	echo "SKIP: no mandoc (apt-get install mandoc)"
	echo "SKIP 95-docs mandoc lint: no mandoc" >>"$FT_RESULTS"
fi
for sec in "EXIT STATUS" ENVIRONMENT FILES EXAMPLES "ENTRY SEQUENCES" JSON; do
	ok "man page has $sec" grep -Eq "^\.S[hs] $sec\$" "$MAN"
done
# Every exit status of cli/cli.h is documented.
for c in $(sed -n 's/^	EXIT_[A-Z_]* = \([0-9]*\),.*/\1/p' "$FT_TOP/cli/cli.h"); do
	ok "man page documents exit $c" sh -c "sed -n '/^\.Sh EXIT STATUS/,/^\.Sh /p' '$MAN' | grep -qx '\.It $c'"
done
# The seeds' scenarios are among the examples.
ok "example: Neptune 4 backup over ttyS0 with GPIO" \
	grep -Eq -- "^\.Dl .*-i .*-r [^ ]+ /dev/ttyS0" "$MAN"
ok "example: Cartographer over DFU" grep -Eqi -- "Cartographer" "$MAN"

# The udev rules: STM32 DFU for the plugdev group (headless users) and
# the local seat; the common USB-serial adapters for the seat only, so
# that their group stays udev's dialout and nobody loses access.
RULES="$FT_TOP/scripts/50-flashtool.rules"
ok "udev rule for 0483:df11" sh -c "grep -v '^#' '$RULES' | grep 'idVendor}==\"0483\"' |
	grep 'idProduct}==\"df11\"' | grep 'GROUP=\"plugdev\"' | grep -q 'TAG+=\"uaccess\"'"
for id in 0403:6001 10c4:ea60 1a86:7523 067b:2303; do
	v=${id%:*} p=${id#*:}
	ok "udev rule for $id" sh -c "grep -v '^#' '$RULES' | grep 'idVendor}==\"$v\"' |
		grep 'idProduct}==\"[^\"]*$p' | grep -q 'TAG+=\"uaccess\"'"
done
ok "udev rules: serial ports keep their group and mode" sh -c "! grep '^SUBSYSTEM==\"tty\"' '$RULES' | grep -Eq 'GROUP|MODE'"
ok "udev rules: every rule line is well formed" sh -c "! grep -v '^#' '$RULES' |
	grep -v '^\$' | grep -vE '^SUBSYSTEM==\"usb\", (ATTRS\{[a-zA-Z]+\}==\"[^\"]+\", )+MODE=\"0660\", GROUP=\"plugdev\", TAG\+=\"uaccess\"\$' |
	grep -vE '^SUBSYSTEM==\"tty\", (ATTRS\{[a-zA-Z]+\}==\"[^\"]+\", )+TAG\+=\"uaccess\"\$'"
# The dependency script knows every build dependency.
ok "install-deps names the build dependencies" sh -c "grep -q libusb-1.0-0-dev '$FT_TOP/scripts/install-deps' &&
	grep -q libcmocka-dev '$FT_TOP/scripts/install-deps' && grep -q pkg-config '$FT_TOP/scripts/install-deps'"
