# Shared helpers for the end-to-end scripts in test/e2e/.  Sourced, not run.
# test/run.sh exports FT_TOP, FT_OUT and FT_RESULTS; a script run by hand
# gets defaults.
: "${FT_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${FT_OUT:=$FT_TOP/test/out}"
: "${FT_RESULTS:=$FT_OUT/manual.results}"
mkdir -p "$FT_OUT"
: "${FT_BUILD:=$FT_TOP}"
FLASHTOOL="$FT_BUILD/flashtool"
USART_SIM="$FT_BUILD/test/sim/stm32-usart-sim"
USB_SIM="$FT_BUILD/test/sim/libusb-sim.so"
SIM_PIDS=""

pass() { echo "PASS $*" >>"$FT_RESULTS"; echo "PASS $*"; }
fail() { echo "FAIL $*" >>"$FT_RESULTS"; echo "FAIL $*"; }

# ok NAME COND...: pass if the command COND... succeeds.
ok() {
	_n=$1; shift
	if "$@"; then pass "$_n"; else fail "$_n ($*)"; fi
}

# run NAME CMD...: run a command, keep its stdout, stderr and status in
# $FT_OUT/NAME.{out,err} and $RC.
run() {
	_n=$1; shift
	"$@" >"$FT_OUT/$_n.out" 2>"$FT_OUT/$_n.err"
	RC=$?
	echo "== $_n: rc $RC: $*"
	sed 's/^/   err: /' "$FT_OUT/$_n.err" | head -n 20
	return 0
}

# expect_rc NAME RC CMD...: run and check the exit status.
expect_rc() {
	_n=$1; _want=$2; shift 2
	run "$_n" "$@"
	if [ "$RC" -eq "$_want" ]; then pass "$_n"; else fail "$_n: exit $RC, wanted $_want"; fi
}

# err_has NAME REGEX: the last run of NAME printed REGEX on stderr.
err_has() {
	if grep -Eq -e "$2" "$FT_OUT/$1.err"; then pass "$1 says /$2/"; else fail "$1 does not say /$2/"; fi
}

# sim_start NAME SIM-ARGS...: start the USART simulator on a fresh pty.
# Sets SIM_TTY, SIM_FLASH, SIM_LOG, SIM_PID.  The flash file persists
# until the caller removes it, so a second sim_start NAME continues it.
sim_start() {
	_n=$1; shift
	SIM_TTY="$FT_OUT/$_n.tty"
	SIM_FLASH="${SIM_FLASH_FILE:-$FT_OUT/$_n.flash}"
	SIM_LOG="$FT_OUT/$_n.simlog"
	rm -f "$SIM_TTY"
	"$USART_SIM" --link "$SIM_TTY" --flash "$SIM_FLASH" --log "$SIM_LOG" "$@" \
		2>"$FT_OUT/$_n.simerr" &
	SIM_PID=$!
	SIM_PIDS="$SIM_PIDS $SIM_PID"
	_i=0
	while [ ! -e "$SIM_TTY" ] && [ $_i -lt 100 ]; do
		sleep 0.05; _i=$((_i + 1))
	done
	[ -e "$SIM_TTY" ] || { fail "$_n: simulator did not start"; cat "$FT_OUT/$_n.simerr"; }
}

sim_stop() {
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
	fi
	SIM_PID=""
}

# log_lacks NAME REGEX: the simulator's log has no line matching REGEX.
log_lacks() {
	if grep -Eq -e "$2" "$SIM_LOG"; then fail "$1: simulator log has /$2/"; else pass "$1: no /$2/ in simulator log"; fi
}
log_has() {
	if grep -Eq -e "$2" "$SIM_LOG"; then pass "$1: simulator log has /$2/"; else fail "$1: simulator log lacks /$2/"; fi
}

# same_bytes NAME FILE1 FILE2 [OFFSET LEN]: byte-for-byte comparison.
same_bytes() {
	_n=$1
	if [ $# -ge 5 ]; then
		if cmp -s -n "$5" -i "$4:0" "$2" "$3"; then pass "$_n"; else fail "$_n: $2 and $3 differ"; fi
	elif cmp -s "$2" "$3"; then pass "$_n"; else fail "$_n: $2 and $3 differ"; fi
}

# usb_preload: the LD_PRELOAD list that puts the simulated libusb under
# $FLASHTOOL.  A sanitizer build (SAN=1) needs the ASan runtime first in
# the list, or ASan aborts; dfu-util and other plain programs take
# $USB_SIM alone.
usb_preload() {
	if ldd "$FLASHTOOL" 2>/dev/null | grep -q libasan; then
		printf '%s:%s\n' "$(${CC:-cc} -print-file-name=libasan.so)" "$USB_SIM"
	else
		printf '%s\n' "$USB_SIM"
	fi
}

cleanup_sims() {
	for _p in $SIM_PIDS; do kill "$_p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup_sims EXIT
