# The rig's measurements (issue 11, deliverable 5), run by the guest's
# /init with busybox sh.  Not tests: figures, written to /out/results.
#
#   sh bench.sh           dfu-util against flashtool, process start to
#                         exit, STM32F042 ROM, 30 KiB over older firmware
#                         (every page differs; 2 KiB after the image),
#                         $RIG_REPS repetitions, alternating, medians
#   sh bench.sh hotplug   how long after usbip-sim attaches or detaches a
#                         device libusb's hotplug reports it (udev
#                         monitor), over $RIG_REPS leaves
. /rig/lib.sh
reps=${RIG_REPS:-5}
mkdir -p /tmp/b
random /tmp/b/img.bin 30720
random /tmp/b/old.bin 32768
# The same image again: the old firmware's first 30 KiB are the image.
{ cat /tmp/b/img.bin; tail -c 2048 /tmp/b/old.bin; } >/tmp/b/same.bin

# Device model of every case: the F042 ROM with its [est] timing (test/sim/
# usb/README: erase 30 ms busy, 50 ms reported; 2 KiB program 55 ms, 60 ms
# reported; SET_ADDRESS 5 ms reported), full-speed wire time, and what
# follows the leave.
ROM="f042 path=1-1 timing=1"
APP="app=1d50:614e reenum=300"
POLL100="erase_poll=100 write_poll=100 cmd_poll=100 mass_poll=100"

# one CASE TOOL REP FLASH CONFIG...: a fresh device, one timed run.
one() {
	_case=$1 _tool=$2 _rep=$3 _flash=$4
	shift 4
	C=/tmp/b/$_case-$_tool-$_rep
	mkdir -p "$C"
	cp "$_flash" "$C/flash"
	up "$* flash=$C/flash"
	case $_tool in
	dfu-util) run run dfu-util -a 0 -s 0x08000000:leave -D /tmp/b/img.bin ;;
	*) run run flashtool --dfu -w /tmp/b/img.bin ;;
	esac
	down
	head -c 30720 "$C/flash" | cmp -s - /tmp/b/img.bin || RC="$RC,wrong-flash"
	echo "run $_case $_tool $_rep $SECS $RC" >>"$RES"
	mkdir -p "/out/bench/$_case-$_tool-$_rep"
	cp "$C/usb.log" "$C/run.err" "$C/run.secs" \
	    "/out/bench/$_case-$_tool-$_rep/" 2>/dev/null
	rm -rf "$C"
}

bench() {
	echo "param reps=$reps image=30720 flash=32768 accel=$(cat /out/accel)" \
	    "kernel=$(uname -r)" >>"$RES"
	r=1
	while [ $r -le "$reps" ]; do
		for t in dfu-util flashtool; do
			one app "$t" $r /tmp/b/old.bin "$ROM $APP"
			one gone "$t" $r /tmp/b/old.bin "$ROM"
			one same "$t" $r /tmp/b/same.bin "$ROM $APP"
			one poll100 "$t" $r /tmp/b/old.bin "$ROM $APP $POLL100"
		done
		r=$((r + 1))
	done
	# Medians per case and tool; the ratio is flashtool / dfu-util.
	awk '$1 == "run" { k = $2 " " $3; n[k]++; v[k, n[k]] = $5
		if ($6 != "0") bad[k] = bad[k] " " $6 }
	    function med(k,  i, j, t, m) { m = n[k]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++)
			if (v[k, j] < v[k, i]) { t = v[k, i]; v[k, i] = v[k, j]; v[k, j] = t }
		return m % 2 ? v[k, (m + 1) / 2] : (v[k, m / 2] + v[k, m / 2 + 1]) / 2 }
	    END { split("app gone same poll100", cs, " ")
		for (i = 1; i <= 4; i++) { c = cs[i]; d = med(c " dfu-util"); f = med(c " flashtool")
			printf "median %-8s dfu-util %6.3f flashtool %6.3f ratio %5.2fx%s%s\n",
			    c, d, f, f / d, bad[c " dfu-util"] ? " dfu-util-rc:" bad[c " dfu-util"] : "",
			    bad[c " flashtool"] ? " flashtool-rc:" bad[c " flashtool"] : "" } }' \
	    "$RES" >/tmp/b/medians
	cat /tmp/b/medians >>"$RES"
}

# The hotplug latencies: each rep plugs the ROM, makes it leave with
# dfu-util (command mode: no download), lets the application enumerate
# 300 ms later, and unplugs it; every ATTACH and DETACH of usbip-sim's
# log is paired with the first hotplug event of that kind after it.
hotplug() {
	C=/tmp/b/hotplug
	mkdir -p "$C"
	rigtool hotplug $((reps * 8 + 10)) >"$C/events" 2>"$C/hp.err" &
	hp=$!
	_i=0
	while ! grep -q ready "$C/hp.err" && [ $_i -lt 100 ]; do
		sleep 0.1; _i=$((_i + 1))
	done
	r=1
	while [ $r -le "$reps" ]; do
		up "$ROM $APP flash=$C/flash"
		# Calibration: what a request and a sleep cost in this guest
		# (the model's wire time of a GETSTATE is 1.06 ms).
		[ $r -eq 1 ] && rigtool probe 200 | sed 's/^/probe /' >>"$RES"
		sleep 0.5
		dfu-util -a 0 -s 0x08000000:leave >/dev/null 2>&1
		sleep 1.5
		down
		sleep 0.5
		r=$((r + 1))
	done
	kill "$hp" 2>/dev/null
	wait "$hp" 2>/dev/null
	cp "$C/events" "$C/usb.log" /out/ 2>/dev/null
	echo "param reps=$reps accel=$(cat /out/accel) kernel=$(uname -r)" >>"$RES"
	# Times: the server's log in ms, rigtool's in s, both
	# CLOCK_MONOTONIC.
	awk 'FNR == NR { if ($4 == "ATTACH") { a[++na] = $1 / 1000; w[na] = $7 }
		if ($4 == "DETACH") d[++nd] = $1 / 1000
		next }
	    $2 == "arrived" { ev[++ne] = $1; kind[ne] = "a" }
	    $2 == "left" { ev[++ne] = $1; kind[ne] = "l" }
	    function first(k, t,  i) { for (i = 1; i <= ne; i++)
		if (kind[i] == k && ev[i] >= t) return ev[i]; return -1 }
	    END { for (i = 1; i <= na; i++) { t = first("a", a[i])
		    if (t >= 0) printf "arrival %s %.1f\n", w[i], (t - a[i]) * 1000 }
		for (i = 1; i <= nd; i++) { t = first("l", d[i])
		    if (t >= 0) printf "departure %.1f\n", (t - d[i]) * 1000 } }' \
	    "$C/usb.log" "$C/events" >>"$RES"
}

case $1 in
hotplug) hotplug ;;
*) bench ;;
esac
