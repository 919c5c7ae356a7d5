# Guest-side helpers of the rig's cases and benchmarks (busybox sh).
# Sourced by cases.sh and bench.sh.  Results: "CASE name", then "PASS
# ..." / "FAIL ..." lines in /out/results; each case's files (device
# configuration, flash images, the devices' request logs, the tools'
# output) are copied to /out/cases/NAME at its end.
RES=/out/results
SRV=
C=
CASE=

# begin NAME: a new case in /tmp/c/NAME ($C).
begin() {
	end_case
	CASE=$1
	C=/tmp/c/$1
	rm -rf "$C"
	mkdir -p "$C"
	echo "CASE $1" >>"$RES"
	echo "=== $1"
}

end_case() {
	[ -n "$CASE" ] || return 0
	down
	mkdir -p "/out/cases/$CASE"
	cp -R "$C/." "/out/cases/$CASE/" 2>/dev/null
	CASE=
}

pass() { echo "PASS $*" >>"$RES"; echo "PASS $*"; }
fail() { echo "FAIL $*" >>"$RES"; echo "FAIL $*"; }
ok() {
	_n=$1; shift
	if "$@"; then pass "$_n"; else fail "$_n ($*)"; fi
}

# up LINE...: the devices (one configuration line each, test/sim/usb's
# language; path=1-N is vhci port N-1) on the kernel's USB stack, each
# logging to $C/usb.log; returns once the kernel enumerated them and
# udev is idle.
up() {
	down
	: >"$C/devices.cfg"
	for _l in "$@"; do echo "$_l log=$C/usb.log" >>"$C/devices.cfg"; done
	rm -f "$C/ready"
	FT_USBSIM_CONFIG=$C/devices.cfg usbip-sim -r "$C/ready" \
	    2>>"$C/server.err" &
	SRV=$!
	_i=0
	while [ ! -f "$C/ready" ] && [ $_i -lt 300 ]; do
		kill -0 "$SRV" 2>/dev/null || break
		sleep 0.1; _i=$((_i + 1))
	done
	[ -f "$C/ready" ] || fail "$CASE: the device server did not come up"
	udevadm settle -t 10
}

# down: unplug every device and stop the server.
down() {
	[ -n "$SRV" ] || return 0
	kill "$SRV" 2>/dev/null
	wait "$SRV" 2>/dev/null
	SRV=
	udevadm settle -t 10
}

# run NAME CMD...: run CMD timed; stdout, stderr, status and seconds in
# $C/NAME.{out,err} $RC $SECS.
run() {
	_n=$1; shift
	rigtool time "$C/$_n.secs" "$@" >"$C/$_n.out" 2>"$C/$_n.err"
	RC=$?
	SECS=$(head -n 1 "$C/$_n.secs" 2>/dev/null)
	echo "== $_n: rc $RC in ${SECS}s: $*"
	sed 's/^/   err: /' "$C/$_n.err" | head -n 20
}

expect_rc() {
	_n=$1; _want=$2; shift 2
	run "$_n" "$@"
	if [ "$RC" -eq "$_want" ]; then pass "$_n: exit $RC"
	else fail "$_n: exit $RC, wanted $_want"; fi
}
# ft NAME RC ARGS...: flashtool --dfu.  du NAME RC ARGS...: dfu-util.
ft() { _n=$1; _r=$2; shift 2; expect_rc "$_n" "$_r" flashtool --dfu "$@"; }
du() { _n=$1; _r=$2; shift 2; expect_rc "$_n" "$_r" dfu-util "$@"; }

err_has() {
	if grep -Eq -e "$2" "$C/$1.err"; then pass "$1 says /$2/"
	else fail "$1 does not say /$2/"; fi
}
out_has() {
	if grep -Eq -e "$2" "$C/$1.out"; then pass "$1 prints /$2/"
	else fail "$1 does not print /$2/"; fi
}
# mark: later log checks (since_*) see only what follows.
mark() { MARK=$(wc -l <"$C/usb.log" 2>/dev/null || echo 0); }
since() { tail -n +$((MARK + 1)) "$C/usb.log"; }
since_has() {
	if since | grep -Eq -e "$2"; then pass "$1: device log has /$2/"
	else fail "$1: device log lacks /$2/"; fi
}
since_lacks() {
	if since | grep -Eq -e "$2"; then fail "$1: device log has /$2/"
	else pass "$1: no /$2/ in the device log"; fi
}
# erased_only NAME "ADDR ...": the ERASE commands since the mark were for
# exactly these pages.
erased_only() {
	_got=$(since | sed -n 's/.* ERASE \(0x[0-9A-F]*\) .*/\1/p' |
	    sort -u | tr '\n' ' ' | sed 's/ $//')
	if [ "$_got" = "$2" ]; then pass "$1: erased exactly '$2'"
	else fail "$1: erased '$_got', wanted '$2'"; fi
}
same_bytes() {
	if cmp -s "$2" "$3"; then pass "$1"
	else fail "$1: $2 and $3 differ"; fi
}
# within NAME SECS LOW HIGH: LOW <= SECS <= HIGH.
within() {
	if awk -v s="$2" -v a="$3" -v b="$4" 'BEGIN { exit !(s >= a && s <= b) }'
	then pass "$1: took $2 s (want $3..$4)"
	else fail "$1: took $2 s, wanted $3..$4 s"; fi
}

# Flash contents.  random FILE SIZE: pseudo-random bytes.  ff FILE SIZE:
# erased flash.  splice OUT BASE FILE OFFSET [ROUND]: BASE with FILE
# written at OFFSET, the partial pages around it (ROUND bytes, default
# none) erased first.
# random's first byte is 0x00, as a firmware image's (the low byte of a
# Cortex-M stack pointer), so that it is never taken for a HEX record.
random() { { printf '\000'; head -c $(($2 - 1)) /dev/urandom; } >"$1"; }
ff() { head -c "$2" /dev/zero | tr '\000' '\377' >"$1"; }
splice() {
	_out=$1 _base=$2 _f=$3 _off=$4 _r=${5:-1}
	_len=$(wc -c <"$_f")
	_size=$(wc -c <"$_base")
	_a=$((_off / _r * _r))
	_b=$(( (_off + _len + _r - 1) / _r * _r ))
	{
		head -c "$_a" "$_base"
		head -c $((_off - _a)) /dev/zero | tr '\000' '\377'
		cat "$_f"
		head -c $((_b - _off - _len)) /dev/zero | tr '\000' '\377'
		tail -c $((_size - _b)) "$_base"
	} >"$_out"
}
