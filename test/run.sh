#!/bin/sh
# Test runner for `make check`: runs the cmocka unit binaries given as
# arguments, then every end-to-end script test/e2e/*.sh, and ends with
# one line "N passed, N failed".  Logs go to test/out/.
top=$(cd "$(dirname "$0")/.." && pwd)
out="${FT_BUILD:-$top}/test/out"
rm -rf "$out"
mkdir -p "$out"
export FT_TOP="$top" FT_OUT="$out" FT_BUILD="${FT_BUILD:-$top}"
passed=0
failed=0
failures=""

for t in "$@"; do
	name=$(basename "$t")
	log="$out/$name.log"
	# TAP output: one "ok" or "not ok" line per test, on stdout alone.
	CMOCKA_MESSAGE_OUTPUT=tap "$t" >"$log" 2>"$log.stderr"
	rc=$?
	cat "$log.stderr" >>"$log"
	ok=$(grep -c '^ok ' "$log")
	bad=$(grep -c '^not ok ' "$log")
	run=$((ok + bad))
	if [ "$run" -eq 0 ] || { [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; }; then
		bad=$((bad + 1))
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$bad" -ne 0 ]; then
		failures="$failures $name"
		echo "FAIL unit $name (rc $rc), log:" >&2
		tail -n 30 "$log" >&2
	else
		echo "ok   unit $name: $ok tests"
	fi
done

for s in "$top"/test/e2e/*.sh; do
	[ -f "$s" ] || continue
	case "$s" in */lib.sh) continue ;; esac
	name=$(basename "$s" .sh)
	export FT_RESULTS="$out/$name.results"
	: >"$FT_RESULTS"
	sh "$s" >"$out/$name.log" 2>&1
	rc=$?
	p=$(grep -c '^PASS ' "$FT_RESULTS")
	f=$(grep -c '^FAIL ' "$FT_RESULTS")
	sk=$(grep -c '^SKIP ' "$FT_RESULTS")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "FAIL $name: script exited $rc" >>"$FT_RESULTS"
		f=$((f + 1))
	fi
	if [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$sk" -eq 0 ]; then
		echo "FAIL $name: ran no case" >>"$FT_RESULTS"
		f=1
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failures="$failures $name"
		echo "FAIL e2e $name: $p passed, $f failed" >&2
		grep '^FAIL ' "$FT_RESULTS" >&2
		echo "--- last lines of $out/$name.log:" >&2
		tail -n 40 "$out/$name.log" >&2
	elif [ "$p" -eq 0 ] && [ "$sk" -ne 0 ]; then
		# A script may skip itself with a reason (vg_skip).
		echo "skip e2e  $name: $(sed -n 's/^SKIP [^ ]* //p' \
			"$FT_RESULTS" | head -n 1)"
	else
		echo "ok   e2e  $name: $p cases"
	fi
done

[ -n "$failures" ] && echo "failing:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
