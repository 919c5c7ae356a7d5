# scripts/install-deps, which `make check` and `make demo` run first:
# with one package missing it installs it with apt-get as root, through
# sudo otherwise, and prints the exact command and stops when neither
# works.  The machine's own packages are never touched: the PATH holds
# every tool but mandoc, and apt-get and sudo are stand-ins that record
# how they were called.
. "$FT_TOP/test/e2e/lib.sh"
T="$FT_OUT/deps"
rm -rf "$T"
mkdir -p "$T/bin"
for tool in sh cc make pkg-config awk tr id printf jq stm32flash dfu-util \
    unshare cat; do
	p=$(command -v "$tool") && ln -s "$p" "$T/bin/$tool"
done
# Stand-ins: record the call; fail when told to.
cat >"$T/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"$DEPS_LOG"
[ -z "${APT_FAIL:-}" ]
EOF
cat >"$T/sudo" <<'EOF'
#!/bin/sh
echo "sudo $*" >>"$DEPS_LOG"
[ -z "${SUDO_FAIL:-}" ]
EOF
chmod +x "$T/apt-get" "$T/sudo"
DEPS="$FT_TOP/scripts/install-deps"
export DEPS_LOG="$T/log"

# deps NAME PATH-EXTRA ARGS...: run the script with bin/ and PATH-EXTRA.
deps() {
	_n=$1 _extra=$2
	shift 2
	: >"$DEPS_LOG"
	PATH="$T/bin$_extra" sh "$DEPS" "$@" >"$FT_OUT/deps-$_n.out" \
	    2>"$FT_OUT/deps-$_n.err"
	RC=$?
}
has() { grep -q -- "$2" "$1" || { fail "$3: no '$2' in $(cat "$1")"; return 1; }; }

if [ "$(id -u)" -ne 0 ]; then
	vg_skip "needs root"
	echo "SKIP 97-install-deps: needs root for the as-root case" >>"$FT_RESULTS"
	exit 0
fi

# Report only: exit 1, the command named, nothing run.
deps check "" --check
[ "$RC" -eq 1 ] && has "$FT_OUT/deps-check.err" \
    "sudo apt-get install -y mandoc" check && [ ! -s "$DEPS_LOG" ] &&
    pass "deps --check: reports mandoc, installs nothing" ||
    fail "deps --check: reports mandoc, installs nothing (exit $RC)"

# As root: apt-get update, then apt-get install of exactly what is missing.
ln -sf "$T/apt-get" "$T/bin/apt-get"
deps root ""
[ "$RC" -eq 0 ] && has "$DEPS_LOG" "^apt-get update -qq$" root &&
    has "$DEPS_LOG" "^apt-get install -y mandoc$" root &&
    pass "deps as root: apt-get installs mandoc" ||
    fail "deps as root: apt-get installs mandoc (exit $RC)"
# The build alone needs nothing more: no apt-get at all.
deps build "" --build
[ "$RC" -eq 0 ] && [ ! -s "$DEPS_LOG" ] &&
    pass "deps --build: nothing missing for the build" ||
    fail "deps --build: nothing missing for the build (exit $RC)"
# apt-get failing: the command is printed, exit 1.
APT_FAIL=1 deps root-fails ""
[ "$RC" -eq 1 ] && has "$FT_OUT/deps-root-fails.err" \
    "sudo apt-get update && sudo apt-get install -y mandoc" root-fails &&
    pass "deps as root, apt-get failing: prints the command, exit 1" ||
    fail "deps as root, apt-get failing: prints the command, exit 1 (exit $RC)"

# Not root: through sudo; and when sudo fails, the command, exit 1.
if command -v setpriv >/dev/null; then
	chmod 755 "$T" "$T/bin"
	chmod 666 "$DEPS_LOG"
	ln -sf "$T/sudo" "$T/bin/sudo"
	ln -sf "$(command -v setpriv)" "$T/setpriv"
	asuser() {
		_n=$1
		shift
		: >"$DEPS_LOG"
		env PATH="$T/bin" "$T/setpriv" --reuid=65534 --regid=65534 \
		    --clear-groups sh "$DEPS" "$@" >"$FT_OUT/deps-$_n.out" \
		    2>"$FT_OUT/deps-$_n.err"
		RC=$?
	}
	asuser sudo
	[ "$RC" -eq 0 ] &&
	    has "$DEPS_LOG" "^sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq$" sudo &&
	    has "$DEPS_LOG" "^sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y mandoc$" sudo &&
	    pass "deps as a user: sudo apt-get installs mandoc" ||
    fail "deps as a user: sudo apt-get installs mandoc (exit $RC)"
	SUDO_FAIL=1 asuser sudo-fails
	[ "$RC" -eq 1 ] && has "$FT_OUT/deps-sudo-fails.err" \
	    "sudo apt-get update && sudo apt-get install -y mandoc" sudo-fails &&
	    pass "deps as a user, sudo failing: prints the command, exit 1" ||
    fail "deps as a user, sudo failing: prints the command, exit 1 (exit $RC)"
	rm -f "$T/bin/sudo"
	asuser nosudo
	[ "$RC" -eq 1 ] && [ ! -s "$DEPS_LOG" ] &&
	    has "$FT_OUT/deps-nosudo.err" "sudo apt-get install -y mandoc" \
	    nosudo && pass "deps as a user without sudo: prints the command" ||
    fail "deps as a user without sudo: prints the command (exit $RC)"
fi

# No apt-get at all: names the packages, exit 1.
rm -f "$T/bin/apt-get"
deps noapt ""
[ "$RC" -eq 1 ] && has "$FT_OUT/deps-noapt.err" "no apt-get here" noapt &&
    pass "deps without apt-get: names the packages, exit 1" ||
    fail "deps without apt-get: names the packages, exit 1 (exit $RC)"
rm -rf "$T"
