# Shared helpers for the end-to-end scripts in test/e2e/.  Sourced, not run.
# test/run.sh exports FT_TOP, FT_OUT and FT_RESULTS; a script run by hand
# gets defaults.
: "${FT_TOP:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${FT_OUT:=$FT_TOP/test/out}"
: "${FT_RESULTS:=$FT_OUT/manual.results}"
mkdir -p "$FT_OUT"
: "${FT_BUILD:=$FT_TOP}"
FLASHTOOL="$FT_BUILD/flashtool"
# VALGRIND=1: every run of $FLASHTOOL goes through valgrind memcheck.
# Errors and definite or indirect leaks make it exit 99 (no test wants
# that code) and leave a report in $FT_OUT/valgrind/, which
# cleanup_sims turns into a failure of the script as well.  Build
# without SAN=1: ASan and valgrind do not mix.  An LD_PRELOAD given to
# the wrapper reaches flashtool (valgrind adds its own preloads to it).
# Scripts whose timing valgrind's slowdown breaks call vg_skip.
FT_REAL_FLASHTOOL="$FLASHTOOL"
if [ "${VALGRIND:-0}" = 1 ]; then
	FT_VG_DIR="$FT_OUT/valgrind"
	# Sticky and world-writable: cases run flashtool as nobody too.
	mkdir -p "$FT_VG_DIR"
	chmod 1777 "$FT_VG_DIR"
	FLASHTOOL="$FT_OUT/flashtool-valgrind"
	# Run through a symlink (stm32flash, dfu-util), flashtool acts on
	# its name: valgrind then gets a link of that name to the binary.
	cat >"$FLASHTOOL" <<VGEOF
#!/bin/sh
real="$FT_REAL_FLASHTOOL"
me=\${0##*/}
if [ "\$me" != flashtool-valgrind ]; then
	mkdir -p "$FT_VG_DIR/bin"
	ln -sf "\$real" "$FT_VG_DIR/bin/\$me"
	real="$FT_VG_DIR/bin/\$me"
fi
exec valgrind --error-exitcode=99 --leak-check=full \\
	--errors-for-leak-kinds=definite,indirect \\
	--show-leak-kinds=definite,indirect \\
	--log-file="$FT_VG_DIR/vg.%p.log" "\$real" "\$@"
VGEOF
	chmod +x "$FLASHTOOL"
fi

# vg_skip REASON: under VALGRIND=1, end the script here with a note
# (only for scripts that measure timing valgrind cannot keep).
vg_skip() {
	if [ "${VALGRIND:-0}" = 1 ]; then
		echo "SKIP under valgrind: $*"
		echo "SKIP $(basename "$0") under valgrind: $*" >>"$FT_RESULTS"
		exit 0
	fi
}
USART_SIM="$FT_BUILD/test/sim/stm32-usart-sim"
USB_SIM="$FT_BUILD/test/sim/libusb-sim.so"
SHIM="$FT_BUILD/test/sim/libft-shim.so"
SIM_PIDS=""

# randimg N: N random bytes that a firmware loader takes for a raw
# binary: the first is 0x00, as the low byte of a Cortex-M initial stack
# pointer can be, never ':' or 'S' (which start a HEX or S-record).
randimg() {
	printf '\000'
	head -c $(($1 - 1)) /dev/urandom
}

pass() { echo "PASS $*" >>"$FT_RESULTS"; echo "PASS $*"; }

# jq when installed, else python3: FILTER is a jq expression for jq and
# a Python expression over `d` for python3.
if [ -n "$FT_JSON_TOOL" ]; then JSON=$FT_JSON_TOOL
elif command -v jq >/dev/null 2>&1; then JSON=jq; else JSON=python3; fi
# json_is NAME JQ-EXPR PY-EXPR: NAME.out holds exactly one JSON document
# and the expression is true of it.
json_is() {
	_f="$FT_OUT/$1.out"
	if [ "$JSON" = jq ]; then
		_docs=$(jq -s length "$_f" 2>/dev/null)
		[ "$_docs" = 1 ] && jq -e "$2" "$_f" >/dev/null 2>&1
	else
		python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($3) else 1)" "$_f"
	fi
	if [ $? -eq 0 ]; then pass "$1 json: $2"; else fail "$1 json: not $2: $(head -c 600 "$_f")"; fi
}
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

# board_sim_start NAME SIM-ARGS...: sim_start with the board model's
# socket and sysfs tree (see test/sim/usart/README).  Sets BOARD_SOCK and
# SYSFS_DIR besides what sim_start sets.  Pass --board SPEC and
# --board-start app|bootloader in SIM-ARGS.
board_sim_start() {
	_n=$1; shift
	BOARD_SOCK="$FT_OUT/$_n.sock"
	SYSFS_DIR="$FT_OUT/$_n.sysfs"
	rm -rf "$SYSFS_DIR" "$FT_OUT/$_n.simlog"
	sim_start "$_n" --board-socket "$BOARD_SOCK" --sysfs-gpio "$SYSFS_DIR" "$@"
}

# shim_env [PROGRAM]: words for env(1) that put libft-shim.so under a
# program and report to the running board: `env $(shim_env) cmd ...`.
# With PROGRAM an ASan build (flashtool with SAN=1), the ASan runtime
# goes first, as usb_preload does.
shim_env() {
	_pre="$SHIM"
	if [ -n "$1" ] && ldd "$1" 2>/dev/null | grep -q libasan; then
		_pre="$(${CC:-cc} -print-file-name=libasan.so):$SHIM"
	fi
	printf 'LD_PRELOAD=%s FT_BOARD_SOCKET=%s\n' "$_pre" "$BOARD_SOCK"
}

# gpio_ns_ok: can this machine give a command its own /sys/class/gpio?
gpio_ns_ok() {
	unshare -m true 2>/dev/null
}

# in_gpio_ns DIR CMD...: run CMD in a private mount namespace where DIR
# (the simulator's --sysfs-gpio tree) is /sys/class/gpio; the rest of
# /sys/class stays as it is.  Needs root (unshare -m).  Where the kernel
# has no /sys/class/gpio (no mount point, and sysfs takes no mkdir), a
# tmpfs replaces /sys/class and each real class is bound back into it.
in_gpio_ns() {
	_d=$1; shift
	mkdir -p "$_d.orig"
	unshare -m sh -c '
		d=$1 o=$1.orig; shift
		if [ -d /sys/class/gpio ]; then
			mount --bind "$d" /sys/class/gpio || exit 125
		else
			mount --bind /sys/class "$o" &&
			mount -t tmpfs -o mode=0755 sim-class /sys/class ||
				exit 125
			for e in "$o"/*; do
				b=${e##*/}
				mkdir "/sys/class/$b" &&
				mount --bind "$e" "/sys/class/$b" || exit 125
			done
			mkdir /sys/class/gpio &&
			mount --bind "$d" /sys/class/gpio || exit 125
		fi
		exec "$@"' sh "$_d" "$@"
}

# board_t REGEX [N]: the time (ms) of the Nth (default first) line of the
# simulator log matching REGEX; empty if there is none.
board_t() {
	grep -E -e "$1" "$SIM_LOG" | sed -n "${2:-1}p" | cut -d' ' -f1
}

# board_t_after T REGEX: the time of the first line matching REGEX that
# was logged at T ms or later.
board_t_after() {
	grep -E -e "$2" "$SIM_LOG" |
		awk -v t="$1" '$1 + 0 >= t + 0 { print $1; exit }'
}

# near NAME FROM TO WANT TOL: pass if TO - FROM is WANT ms within TOL ms.
near() {
	# valgrind slows flashtool down twentyfold: the sequence still runs
	# and is checked for memory errors, its delays are not.
	if [ "${VALGRIND:-0}" = 1 ]; then
		pass "$1: timing not checked under valgrind"
		return 0
	fi
	if [ -n "$2" ] && [ -n "$3" ] && awk -v a="$2" -v b="$3" -v w="$4" \
		-v t="$5" 'BEGIN { d = b - a - w; if (d < 0) d = -d; exit !(d <= t) }'
	then
		pass "$1: $(awk -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", b - a }') ms (want $4 +-$5)"
	else
		fail "$1: from '$2' to '$3' ms, wanted $4 +-$5"
	fi
}

# vg_check: under VALGRIND=1, every valgrind report with errors (or
# definite/indirect leaks) so far is a failure; clean reports go.
vg_check() {
	[ "${VALGRIND:-0}" = 1 ] || return 0
	for _l in "$FT_VG_DIR"/vg.*.log; do
		[ -f "$_l" ] || continue
		if grep -q 'ERROR SUMMARY: [1-9]' "$_l"; then
			fail "valgrind: $(basename "$_l"): $(grep -m1 -E \
				'(Invalid|uninitialised|definitely|indirectly|Mismatched|overlap|Syscall param)' \
				"$_l" | sed 's/^==[0-9]*== //')"
			sed 's/^/   vg: /' "$_l" | head -n 60
			mv "$_l" "$_l.reported"
		else
			rm -f "$_l"
		fi
	done
}

cleanup_sims() {
	for _p in $SIM_PIDS; do kill "$_p" 2>/dev/null; done
	wait 2>/dev/null
	vg_check
}
trap cleanup_sims EXIT

# --- Signal trials (71-interrupts.sh, 73-interrupt-edges.sh).
# How long to wait for an operation to start before giving up on a
# trial (valgrind's start-up is slow, not that slow).
START_LIMIT_S=60

# pick N SALT MAX_MS: the delay for trial N, 0..MAX_MS ms, in seconds.
pick() {
	awk -v n="$1" -v s="$2" -v m="$3" \
	    'BEGIN { srand(n * 31 + s); printf "%.3f", rand() * m / 1000 }'
}

# wait_start LOG FROM PID REGEX: wait until line FROM or a later one of
# LOG matches REGEX; fails if PID exits first or START_LIMIT_S passes.
wait_start() {
	_w=0
	while [ "$_w" -lt $((START_LIMIT_S * 100)) ]; do
		tail -n +"$2" "$1" 2>/dev/null | grep -Eq -e "$4" && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.01
		_w=$((_w + 1))
	done
	tail -n +"$2" "$1" 2>/dev/null | grep -Eq -e "$4"
}

# modem_state LOG: DTR and RTS as the board model last logged them.
modem_state() {
	_s=$(grep -E ' BOARD dtr=[01] rts=[01]' "$1" | tail -n 1 |
	    sed 's/.* BOARD \(dtr=[01] rts=[01]\).*/\1/')
	echo "${_s:-dtr=0 rts=0}"
}

# trial_verdict NAME ERRFILE: after a trial that collected its faults in
# $why ("; reason" each), count it in $bad and fail NAME with them.
trial_verdict() {
	[ -n "$why" ] || return 0
	bad=$((bad + 1))
	fail "$1:${why#;}"
	sed 's/^/   err: /' "$2" | tail -n 3
}

# back_in_app SEG: the reason, if any, why the board's last reset in the
# log lines SEG did not leave the chip in its application.
back_in_app() {
	_last=$(grep -E '^[0-9.]+ RESET ' "$1" | tail -n 1)
	case $_last in
	*"-> application") ;;
	*) echo "; the chip is not back in its application (last reset: '$_last')" ;;
	esac
}
