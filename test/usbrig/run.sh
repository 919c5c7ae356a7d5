#!/bin/sh
# The real-USB-stack rig, host side (see README here): fetch a Debian
# kernel and udev from the package archive (cached), build an initramfs
# from this machine's binaries, boot one throw-away QEMU guest, run a
# suite in it, and print its results.
#
# Usage: sh test/usbrig/run.sh BUILD-DIR [check|bench|hotplug] [CASE...]
# Environment:
#   FT_USBRIG_CACHE   kernel/udev cache (default
#                     ${XDG_CACHE_HOME:-$HOME/.cache}/flashtool-usbrig)
#   FT_USBRIG_ACCEL   tcg or kvm (default: kvm where /dev/kvm opens)
#   FT_USBRIG_TIMEOUT overall limit in seconds (default 900)
#   FT_USBRIG_OUT     where results and logs go (default
#                     BUILD-DIR/test/usbrig-out)
#   BENCH_REPS        bench: repetitions per case (default 5)
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${1:?usage: run.sh BUILD-DIR [check|bench|hotplug]}" && pwd)
suite=${2:-check}
[ $# -ge 2 ] && shift 2 || shift $#
cache=${FT_USBRIG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flashtool-usbrig}
out=${FT_USBRIG_OUT:-$build/test/usbrig-out}
limit=${FT_USBRIG_TIMEOUT:-900}
rig=$top/test/usbrig

die() { echo "usbrig: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

for t in "$build/flashtool" "$build/test/sim/usbip-sim" \
    "$build/test/usbrig/rigtool"; do
	[ -x "$t" ] || die "missing $t: run make check-usb"
done
for t in qemu-system-x86_64 busybox cpio dpkg-deb apt-get dfu-util; do
	command -v "$t" >/dev/null 2>&1 ||
	    die "needs $t (apt-get install qemu-system-x86 busybox-static cpio dfu-util)"
done
busybox_bin=$(command -v busybox)
# ldd fails on a static binary; the initramfs has no libraries for it.
ldd "$busybox_bin" >/dev/null 2>&1 &&
    die "$busybox_bin is not static (apt-get install busybox-static)"

# --- packages from the archive, cached outside the tree --------------------
mkdir -p "$cache"
# fetch PKG DIR: PKG's .deb into DIR; one `apt-get update` if the lists
# lack it (a fresh CI machine may never have fetched them).
fetch() {
	( cd "$2" && apt-get download "$1" >/dev/null 2>&1 ) && return 0
	[ "$(id -u)" = 0 ] || return 1
	apt-get update -qq >/dev/null 2>&1
	( cd "$2" && apt-get download "$1" >/dev/null 2>&1 )
}

# The kernel: the package linux-image-amd64 depends on.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
    sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
if [ -z "$kpkg" ] && [ "$(id -u)" = 0 ]; then
	apt-get update -qq >/dev/null 2>&1
	kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	    sed -n 's/^ *Depends: \(linux-image-[0-9].*\)/\1/p' | head -n 1)
fi
[ -n "$kpkg" ] || kpkg=$(ls "$cache" 2>/dev/null | sed -n 's/^k-//p' | tail -n 1)
[ -n "$kpkg" ] || die "cannot find linux-image-amd64's kernel package"
kdir=$cache/k-$kpkg
kver=${kpkg#linux-image-}
# Modules the rig loads; their dependencies come along (depmod).
kmods="vhci-hcd 9pnet_virtio 9p virtio_pci can-raw vcan"
if [ ! -f "$kdir/ok" ]; then
	echo "usbrig: fetching $kpkg (once; cached in $cache)"
	tmp=$(mktemp -d "$cache/tmp.XXXXXX")
	fetch "$kpkg" "$tmp" || { rm -rf "$tmp"; die "apt-get download $kpkg failed"; }
	dpkg-deb -x "$tmp"/*.deb "$tmp/root" || die "cannot unpack $kpkg"
	busybox depmod -b "$tmp/root" "$kver" ||
	    die "depmod failed on $kpkg"
	rm -rf "$kdir"
	mkdir -p "$kdir/lib/modules/$kver"
	cp "$tmp/root/boot/vmlinuz-$kver" "$kdir/vmlinuz"
	mdir=$tmp/root/lib/modules/$kver
	# The closure of $kmods in modules.dep ("path: dep dep ...").
	need=$(awk -v want="$kmods" '
	    BEGIN { n = split(want, w, " ")
		for (i = 1; i <= n; i++) { m = w[i]; gsub("-", "_", m); q[m] = 1 } }
	    { sub(":", "", $1); p = $1; b = p; sub(".*/", "", b)
		sub("\\.ko.*", "", b); gsub("-", "_", b); path[b] = p
		d = ""; for (i = 2; i <= NF; i++) d = d " " $i; deps[p] = d }
	    END { for (m in q) if (m in path) add(path[m])
		for (p in got) print p }
	    function add(p,  k, n, a) { if (p in got) return; got[p] = 1
		n = split(deps[p], a, " "); for (k = 1; k <= n; k++) add(a[k]) }' \
	    "$mdir/modules.dep")
	for m in $need; do
		mkdir -p "$kdir/lib/modules/$kver/$(dirname "$m")"
		cp "$mdir/$m" "$kdir/lib/modules/$kver/$m"
	done
	cp "$mdir/modules.builtin" "$mdir/modules.order" \
	    "$kdir/lib/modules/$kver/" 2>/dev/null
	busybox depmod -b "$kdir" "$kver" || die "depmod failed"
	rm -rf "$tmp"
	touch "$kdir/ok"
fi

# systemd-udevd: the host's, else Debian's udev package (udevadm is both).
udevadm=
for u in /usr/bin/udevadm /bin/udevadm; do
	[ -x "$u" ] && [ -e /lib/systemd/systemd-udevd ] && udevadm=$u && break
done
if [ -z "$udevadm" ]; then
	uver=$(apt-cache policy udev 2>/dev/null | sed -n 's/^ *Candidate: //p')
	udir=$cache/udev-$uver
	if [ ! -f "$udir/ok" ]; then
		echo "usbrig: fetching udev $uver (once)"
		tmp=$(mktemp -d "$cache/tmp.XXXXXX")
		fetch udev "$tmp" || { rm -rf "$tmp"; die "apt-get download udev failed"; }
		rm -rf "$udir"
		dpkg-deb -x "$tmp"/udev_*.deb "$udir" || die "cannot unpack udev"
		rm -rf "$tmp"
		touch "$udir/ok"
	fi
	udevadm=$udir/bin/udevadm
fi

# --- the initramfs -----------------------------------------------------------
rm -rf "$out"
mkdir -p "$out/share"
root=$out/initramfs
mkdir -p "$root/bin" "$root/lib/systemd" "$root/rig/data" "$root/etc" \
    "$root/dev" "$root/proc" "$root/sys" "$root/tmp" "$root/run" \
    "$root/out"
cp "$busybox_bin" "$root/bin/busybox"
for b in "$build/flashtool" "$(command -v dfu-util)" \
    "$build/test/sim/usbip-sim" "$build/test/usbrig/rigtool" "$udevadm" \
    "$build/test/sim/katapult-sim"; do
	cp "$b" "$root/bin/"
	# Shared libraries exactly as this machine has them (libusb-1.0
	# unmodified, libudev, libc ...), at the paths ldd names.
	ldd "$b" | awk '/=> \// { print $3 } /^\t\/[^ ]*ld-linux/ { print $1 }' |
	    while read -r l; do
		mkdir -p "$root$(dirname "$l")"
		cp -L "$l" "$root$l"
	    done
done
ln -s /bin/udevadm "$root/lib/systemd/systemd-udevd"
cp -R "$kdir/lib" "$root/"
cp "$rig/init" "$root/init"
cp "$rig/lib.sh" "$rig/cases.sh" "$rig/bench.sh" "$root/rig/"
cp "$top/test/data/dfu-dfuse.bin" "$root/rig/data/"
chmod 755 "$root/init"
printf '%s\n' "$*" >"$root/rig/only"
printf 'root:x:0:0:root:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\n' >"$root/etc/group"
( cd "$root" && find . | cpio -o -H newc --quiet ) >"$out/initramfs.cpio" ||
    die "cpio failed"

# --- boot ------------------------------------------------------------------
# KVM where /dev/kvm opens read-write, else (or FT_USBRIG_ACCEL=tcg) TCG.
# Where KVM is there but refuses (nested virtualisation), the guest never
# starts and the run is repeated under TCG; the guest reports what it got.
accel=${FT_USBRIG_ACCEL:-}
if [ -z "$accel" ]; then
	accel=tcg
	( exec 3<>/dev/kvm ) 2>/dev/null && accel=kvm
fi
case $accel in
kvm|tcg) ;;
*) die "FT_USBRIG_ACCEL=$accel: kvm or tcg" ;;
esac
# boot ACCEL: run the guest.  Under KVM it must say "rig: up" within
# KVM_START_S, or it is stopped (a KVM that hangs instead of refusing).
KVM_START_S=60
boot() {
	case $1 in
	kvm) _cpu="-accel kvm -cpu host" ;;
	*) _cpu="-accel tcg -cpu max" ;;
	esac
	: >"$out/console.log"
	timeout -k 10 "$limit" qemu-system-x86_64 -nodefaults -no-reboot \
	    $_cpu -smp 2 -m 1024 -display none \
	    -kernel "$kdir/vmlinuz" -initrd "$out/initramfs.cpio" \
	    -append "console=ttyS0 panic=-1 quiet loglevel=4 rig.suite=$suite rig.reps=${BENCH_REPS:-5}" \
	    -serial "file:$out/console.log" \
	    -virtfs "local,path=$out/share,mount_tag=rigout,security_model=none,id=rigout" \
	    </dev/null >"$out/qemu.log" 2>&1 &
	_q=$!
	if [ "$1" = kvm ]; then
		_i=0
		while kill -0 $_q 2>/dev/null && [ $_i -lt $((KVM_START_S * 10)) ] &&
		    ! grep -q 'rig: up' "$out/console.log"; do
			sleep 0.1; _i=$((_i + 1))
		done
		if ! grep -q 'rig: up' "$out/console.log"; then
			kill $_q 2>/dev/null
			wait $_q
			return 99
		fi
	fi
	wait $_q
}
echo "usbrig: $kpkg, $accel, suite $suite${*:+ ($*)}"
t0=$(date +%s)
boot "$accel"
qrc=$?
if [ $qrc -ne 0 ] && [ "$accel" = kvm ] && ! grep -q 'rig: up' "$out/console.log"; then
	echo "usbrig: KVM did not start the guest ($(tail -n 1 "$out/qemu.log")); TCG instead"
	boot tcg
	qrc=$?
fi
t1=$(date +%s)

# --- results -----------------------------------------------------------------
res=$out/share/results
got=$(cat "$out/share/accel" 2>/dev/null)
echo "usbrig: guest ran $((t1 - t0)) s (${got:-unknown accelerator}); logs in $out"
if [ ! -f "$out/share/done" ]; then
	echo "usbrig: the guest did not finish (qemu exit $qrc after $((t1 - t0)) s; limit $limit s)" >&2
	tail -n 40 "$out/console.log" >&2
	tail -n 5 "$out/qemu.log" >&2
fi
[ "$suite" = check ] || { cat "$res" 2>/dev/null; [ -f "$out/share/done" ]; exit; }
# One line per case: ok, or FAIL with its failed checks; the final line
# counts cases.
awk '
    /^CASE / { name = $2; order[++n] = name; next }
    /^PASS / { p[name]++; next }
    /^FAIL / { f[name]++; sub(/^FAIL /, ""); why[name] = why[name] "\n     " $0 }
    END {
	for (i = 1; i <= n; i++) { c = order[i]
		if (f[c] || !p[c]) { printf "FAIL usbrig %s: %d of %d checks failed%s\n",
			    c, f[c], p[c] + f[c], why[c] }
		else printf "ok   usbrig %s: %d checks\n", c, p[c] } }' \
    "$res" 2>/dev/null >"$out/summary"
[ -f "$out/share/done" ] ||
    echo "FAIL usbrig guest: did not finish; see $out/console.log" >>"$out/summary"
cat "$out/summary"
good=$(grep -c '^ok ' "$out/summary")
bad=$(grep -c '^FAIL ' "$out/summary")
echo "$good passed, $bad failed"
[ "$bad" -eq 0 ] && [ "$good" -gt 0 ]
