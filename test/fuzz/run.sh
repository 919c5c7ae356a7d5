#!/bin/sh
# Run the libFuzzer targets for `make fuzz`: run.sh BUILD-DIR BINARY...
# Each target runs FUZZ_SECONDS (default 60) from a copy of its seed
# corpus test/fuzz/corpus/NAME/ (NAME: the binary without "fuzz_"), at
# most FUZZ_JOBS (default 2) at a time.  Prints the executions each
# reached and ends with "N targets clean, N failed"; exits 1 on any
# crash, leak, timeout or sanitizer report (the log and the reproducer
# are kept in BUILD-DIR/out/).
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$1; shift
secs=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-2}
out="$dir/out"
rm -rf "$out"
mkdir -p "$out"

# One target; writes NAME.status ("ok N" or "FAIL ...") when done.
one() {
	bin=$1
	name=$(basename "$bin")
	short=${name#fuzz_}
	work="$out/corpus-$short"
	mkdir -p "$work" "$out/$short-artifacts"
	seeds="$top/test/fuzz/corpus/$short"
	[ -d "$seeds" ] && cp "$seeds"/* "$work"/ 2>/dev/null
	# -timeout: one input taking this long is a hang; -rss_limit_mb
	# a leak or a runaway allocation.
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=4096 -print_final_stats=1 \
		-artifact_prefix="$out/$short-artifacts/" "$work" \
		>"$out/$short.log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' \
		"$out/$short.log" | tail -n 1)
	if [ "$rc" -eq 0 ]; then
		echo "ok ${execs:-0}" >"$out/$short.status"
	else
		echo "FAIL rc $rc after ${execs:-?} executions" \
			>"$out/$short.status"
	fi
}

pids=""
running=0
for b in "$@"; do
	one "$b" &
	pids="$pids $!"
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait
		running=0
	fi
done
wait

clean=0
failed=0
for b in "$@"; do
	short=$(basename "$b"); short=${short#fuzz_}
	st=$(cat "$out/$short.status" 2>/dev/null || echo "FAIL no status")
	case $st in
	ok*)
		clean=$((clean + 1))
		printf 'ok   fuzz %-12s %10s executions in %ss\n' "$short" \
			"${st#ok }" "$secs"
		;;
	*)
		failed=$((failed + 1))
		echo "FAIL fuzz $short: $st; log $out/$short.log:" >&2
		grep -E 'ERROR|SUMMARY|Test unit written|#0 |#1 |#2 |#3 ' \
			"$out/$short.log" | head -n 20 >&2
		;;
	esac
done
echo "$clean targets clean, $failed failed"
[ "$failed" -eq 0 ]
