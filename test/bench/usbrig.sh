#!/bin/sh
# make bench's rig part (test/usbrig/): dfu-util against flashtool on the
# real Linux USB stack, process start to exit inside the guest, STM32F042
# ROM, 30 KiB over older firmware, for four endings (the application
# enumerates 300 ms after the leave; the device stays gone; the same
# image again; a ROM reporting 100 ms for every poll), BENCH_REPS (5)
# repetitions, medians; then the hotplug latencies the leave watch has to
# allow for.  Needs what make check-usb needs (qemu, busybox-static, the
# package archive once).
#
# Usage: sh test/bench/usbrig.sh BUILD-DIR
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:-$top}" && pwd)
out=$build/test/usbrig-bench
FT_USBRIG_OUT=$out sh "$top/test/usbrig/run.sh" "$build" bench >"$out.log" 2>&1
rc=$?
grep -E '^usbrig: guest ran' "$out.log"
grep -E '^param ' "$out.log"
sed -n 's/^median //p' "$out.log"
[ $rc -eq 0 ] || { echo "usbrig bench failed; see $out.log" >&2; tail -n 20 "$out.log" >&2; }
FT_USBRIG_OUT=$out-hotplug sh "$top/test/usbrig/run.sh" "$build" hotplug \
    >"$out-hotplug.log" 2>&1 ||
    { echo "usbrig hotplug failed; see $out-hotplug.log" >&2; exit 1; }
grep -E '^param ' "$out-hotplug.log"
sed -n "s/^probe //p" "$out-hotplug.log"
awk '$1 == "arrival" { k = "arrival " $2; n[k]++; s[k] = s[k] " " $3 }
    $1 == "departure" { k = "departure"; n[k]++; s[k] = s[k] " " $2 }
    END { for (k in n) printf "hotplug %s after the server: ms%s\n", k, s[k] }' \
    "$out-hotplug.log"
exit $rc
