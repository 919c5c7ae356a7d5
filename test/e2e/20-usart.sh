# End-to-end: the real flashtool binary against the USART bootloader
# simulator, every command on every chip model, and the must-fail cases.
. "$FT_TOP/test/e2e/lib.sh"
D="$FT_TOP/test/data"
T="$FT_OUT/usart"
mkdir -p "$T"

# model pid flash-KiB page-bytes
models="f103:0x0410:128:1024 f401:0x0423:256:16384 g0:0x0460:128:2048 f042:0x0445:32:1024"

# erased FILE BYTES: the file is BYTES of 0xFF
erased() {
	head -c "$2" /dev/zero | tr '\000' '\377' >"$T/ff.bin"
	cmp -s "$1" "$T/ff.bin"
}

for m in $models; do
	IFS=: read -r chip pid kib page <<EOT
$m
EOT
	size=$((kib * 1024))
	# The chip holds an older firmware, so the write must erase.
	randimg "$size" >"$FT_OUT/$chip.flash"
	sim_start "$chip" --chip "$chip"

	# Identify.
	expect_rc "$chip-identify" 0 "$FLASHTOOL" "$SIM_TTY"
	ok "$chip-identify-id" grep -q "Device ID: *$pid" "$FT_OUT/$chip-identify.out"
	ok "$chip-identify-size" grep -q "$kib KiB" "$FT_OUT/$chip-identify.out"

	# Write 5000 random bytes (crosses pages) with verify, Go afterwards.
	randimg 5000 >"$T/$chip-img.bin"
	: >"$SIM_LOG"
	expect_rc "$chip-write" 0 "$FLASHTOOL" -w "$T/$chip-img.bin" -v -g 0x0 "$SIM_TTY"
	# Before erasing: one 16-byte probe of flash showed the old firmware
	# differs (the G07x is also asked its bootloader ID, in system
	# memory).
	ok "$chip-write-probe" sh -c "sed -E '/ (EXT_)?ERASE /q' '$SIM_LOG' | grep ' READ 0x08' |
		cut -d' ' -f2- | tr '\\n' '|' | grep -qx 'READ 0x08000000 16 -> ACK|'"
	same_bytes "$chip-write-flash" "$T/$chip-img.bin" "$SIM_FLASH" 0 5000
	log_has "$chip-write-go" "GO 0x08000000"
	# Only the pages the image touches were erased.
	pages=$(( (5000 + page - 1) / page ))
	if [ "$page" -ge 16384 ]; then want="pages=0\b"; else want="pages=0,.*$((pages - 1))\b"; fi
	log_has "$chip-write-erase-plan" "ERASE.*$want"
	err_has "$chip-write" "$pages erase units erased, $pages written, 0 unchanged"
	log_lacks "$chip-write-no-mass" "ERASE.*mass"

	# The same image again: compared, found unchanged, nothing touched.
	: >"$SIM_LOG"
	expect_rc "$chip-rewrite-unchanged" 0 "$FLASHTOOL" -w "$T/$chip-img.bin" -v "$SIM_TTY"
	log_lacks "$chip-rewrite-unchanged-touches-nothing" "(ERASE|WRITE) .*-> ACK"
	# Only the first unit is probed; the others are read in whole blocks.
	ok "$chip-rewrite-one-probe" test "$(grep -c ' READ 0x[0-9a-f]* 16 ' "$SIM_LOG")" -le 1
	err_has "$chip-rewrite-unchanged" "unchanged"

	# Read the whole flash back to a file and to stdout.
	expect_rc "$chip-read" 0 "$FLASHTOOL" -r "$T/$chip-read.bin" "$SIM_TTY"
	same_bytes "$chip-read-equals-flash" "$T/$chip-read.bin" "$SIM_FLASH"
	ok "$chip-read-size" test "$(wc -c <"$T/$chip-read.bin")" -eq "$size"
	expect_rc "$chip-read-stdout" 0 "$FLASHTOOL" -r - -S 0x08000000:4096 "$SIM_TTY"
	same_bytes "$chip-read-stdout-data" "$FT_OUT/$chip-read-stdout.out" "$T/$chip-img.bin" 0 4096
	ok "$chip-read-stdout-only-data" test "$(wc -c <"$FT_OUT/$chip-read-stdout.out")" -eq 4096

	# CRC agrees with stm32flash's own computation.
	expect_rc "$chip-crc" 0 "$FLASHTOOL" -C -S 0x08000000:4096 "$SIM_TTY"
	ours=$(sed -n 's/.*= 0x\([0-9a-f]*\)/\1/p' "$FT_OUT/$chip-crc.out")
	theirs=$(stm32flash -m 8n1 -b 115200 -C -S 0x08000000:4096 "$SIM_TTY" 2>&1 |
		sed -n 's/.*CRC(.*) = 0x\([0-9a-f]*\).*/\1/p')
	if [ -n "$ours" ] && [ "$ours" = "$theirs" ]; then pass "$chip-crc-matches-stm32flash"
	else fail "$chip-crc-matches-stm32flash: ours '$ours' stm32flash '$theirs'"; fi

	# Erase one page range, then everything.
	expect_rc "$chip-erase-range" 0 "$FLASHTOOL" -o -S "0x08000000:$page" "$SIM_TTY"
	head -c "$page" "$SIM_FLASH" >"$T/$chip-p0.bin"
	ok "$chip-erase-range-blank" erased "$T/$chip-p0.bin" "$page"
	expect_rc "$chip-erase-unaligned" 2 "$FLASHTOOL" -o -S "0x08000004:$page" "$SIM_TTY"
	expect_rc "$chip-erase-all" 0 "$FLASHTOOL" -o "$SIM_TTY"
	ok "$chip-erase-all-blank" erased "$SIM_FLASH" "$size"
	log_has "$chip-erase-all-mass" "ERASE.*mass"

	# Conformance: what flashtool writes, stm32flash reads back, and the
	# other way round; both name the same chip.
	theirs=$(stm32flash -m 8n1 -b 115200 "$SIM_TTY" 2>&1 | sed -n 's/^Device ID *: *\(0x[0-9a-fA-F]*\).*/\1/p')
	if [ "$(printf '%d' "$theirs")" = "$(printf '%d' "$pid")" ]; then pass "$chip-same-chip-as-stm32flash"
	else fail "$chip-same-chip-as-stm32flash: stm32flash says '$theirs'"; fi
	randimg 3000 >"$T/$chip-conf1.bin"
	expect_rc "$chip-conf-write" 0 "$FLASHTOOL" -w "$T/$chip-conf1.bin" "$SIM_TTY"
	stm32flash -m 8n1 -b 115200 -r "$T/$chip-conf1-back.bin" -S 0x08000000:3000 "$SIM_TTY" >/dev/null 2>&1
	same_bytes "$chip-stm32flash-reads-ours" "$T/$chip-conf1.bin" "$T/$chip-conf1-back.bin"
	randimg 3000 >"$T/$chip-conf2.bin"
	stm32flash -m 8n1 -b 115200 -w "$T/$chip-conf2.bin" "$SIM_TTY" >/dev/null 2>&1
	expect_rc "$chip-conf-read" 0 "$FLASHTOOL" -r "$T/$chip-conf2-back.bin" -S 0x08000000:3000 "$SIM_TTY"
	same_bytes "$chip-we-read-stm32flash" "$T/$chip-conf2.bin" "$T/$chip-conf2-back.bin"

	# Sparse HEX: two pieces; the gap stays blank and unwritten.
	expect_rc "$chip-erase-before-hex" 0 "$FLASHTOOL" -o "$SIM_TTY"
	if [ "$size" -gt 65536 ]; then
		: >"$SIM_LOG.mark"
		expect_rc "$chip-hex" 0 "$FLASHTOOL" -w "$D/e2e-gap.hex" -v "$SIM_TTY"
		same_bytes "$chip-hex-part1" "$D/e2e-gap-part1.bin" "$SIM_FLASH" 0 1000
		dd if="$SIM_FLASH" of="$T/$chip-part2.bin" bs=1 skip=65536 count=600 2>/dev/null
		same_bytes "$chip-hex-part2" "$D/e2e-gap-part2.bin" "$T/$chip-part2.bin"
		dd if="$SIM_FLASH" of="$T/$chip-gap.bin" bs=1024 skip=1 count=63 2>/dev/null
		ok "$chip-hex-gap-blank" erased "$T/$chip-gap.bin" $((63 * 1024))
		log_lacks "$chip-hex-gap-not-written" "WRITE 0x0800(8|9|a|b|c|d|e)[0-9a-f]{3} "
	fi

	# Must-fail cases: each exits non-zero with a message, no erase/write.
	: >"$SIM_LOG"
	expect_rc "$chip-bad-checksum" 2 "$FLASHTOOL" -w "$D/e2e-badsum.hex" "$SIM_TTY"
	err_has "$chip-bad-checksum" "e2e-badsum.hex:5"
	randimg $((size + 4)) >"$T/$chip-big.bin"
	expect_rc "$chip-too-big" 2 "$FLASHTOOL" -w "$T/$chip-big.bin" "$SIM_TTY"
	err_has "$chip-too-big" "outside flash"
	expect_rc "$chip-outside" 2 "$FLASHTOOL" -w "$T/$chip-img.bin" -S 0x09000000 "$SIM_TTY"
	err_has "$chip-outside" "0x09000000"
	log_lacks "$chip-must-fail-touch-nothing" "(ERASE|WRITE).*-> ACK"

	# Reset: a RAM routine where the chip has free RAM; F04x has none.
	if [ "$chip" = f042 ]; then
		expect_rc "$chip-reset" 1 "$FLASHTOOL" -R "$SIM_TTY"
		err_has "$chip-reset" "no RAM free"
	else
		expect_rc "$chip-reset" 0 "$FLASHTOOL" -R "$SIM_TTY"
		log_has "$chip-reset-go" "GO 0x2000"
	fi

	# Protection commands: -u, -j (reads then fail, status 9), -k (the
	# chip erases itself and resets; the session carries on).
	expect_rc "$chip-write-unprotect" 0 "$FLASHTOOL" -u "$SIM_TTY"
	log_has "$chip-write-unprotect-cmd" "WRITE_UNPROTECT.*-> ACK"
	expect_rc "$chip-readout-protect" 0 "$FLASHTOOL" -j "$SIM_TTY"
	expect_rc "$chip-protected-read" 9 "$FLASHTOOL" -r - -S 0x08000000:256 "$SIM_TTY"
	expect_rc "$chip-readout-unprotect" 0 "$FLASHTOOL" -k "$SIM_TTY"
	ok "$chip-unprotect-erased" erased "$SIM_FLASH" "$size"
	expect_rc "$chip-read-after-unprotect" 0 "$FLASHTOOL" -r - -S 0x08000000:256 "$SIM_TTY"
	sim_stop
done

# Protection commands on the F103 model: -j, then reads fail; -k clears.
rm -f "$FT_OUT/prot.flash"
sim_start prot --chip f103
randimg 2048 >"$T/prot.bin"
expect_rc prot-write 0 "$FLASHTOOL" -w "$T/prot.bin" "$SIM_TTY"
expect_rc prot-j 0 "$FLASHTOOL" -j "$SIM_TTY"
log_has prot-j-cmd "READOUT_PROTECT"
expect_rc prot-read-fails 9 "$FLASHTOOL" -r "$T/prot-read.bin" "$SIM_TTY"
err_has prot-read-fails "protect"
ok prot-no-partial-file test ! -e "$T/prot-read.bin"
ok prot-no-temp-file sh -c "! ls '$T'/prot-read.bin.* 2>/dev/null | grep -q ."
expect_rc prot-k 0 "$FLASHTOOL" -k "$SIM_TTY"
log_has prot-k-cmd "READOUT_UNPROTECT"
ok prot-k-erased erased "$SIM_FLASH" $((128 * 1024))
expect_rc prot-u 0 "$FLASHTOOL" -u "$SIM_TTY"
log_has prot-u-cmd "WRITE_UNPROTECT"
expect_rc prot-after 0 "$FLASHTOOL" -w "$T/prot.bin" -v "$SIM_TTY"
sim_stop

# A chip that starts protected: reading fails with the protected code.
rm -f "$FT_OUT/rdp.flash"
sim_start rdp --chip f401 --rdp
expect_rc rdp-read 9 "$FLASHTOOL" -r "$T/rdp.bin" "$SIM_TTY"
log_lacks rdp-read-no-erase "(ERASE|WRITE).*-> ACK"
sim_stop

# A NACK storm beyond the retry budget fails, naming the address.
rm -f "$FT_OUT/storm.flash"
sim_start storm --chip f103 --nack-storm
randimg 1024 >"$T/storm.bin"
expect_rc storm-write 1 "$FLASHTOOL" -n 2 -w "$T/storm.bin" "$SIM_TTY"
err_has storm-write "0x08000000"
err_has storm-write "gave up after 3 failures in a row"
log_lacks storm-write-nothing-done "(ERASE|WRITE).*-> ACK"
sim_stop

# Resume without sync (-c) after a session left the bootloader synced.
rm -f "$FT_OUT/nosync.flash"
sim_start nosync --chip g0
expect_rc nosync-first 0 "$FLASHTOOL" "$SIM_TTY"
expect_rc nosync-c 0 "$FLASHTOOL" -c "$SIM_TTY"
sim_stop

# Unknown chip: the message says exactly what to pass; --layout works.
rm -f "$FT_OUT/unk.flash"
sim_start unk --chip f042 --report-pid 0x4ff
expect_rc unknown-chip 2 "$FLASHTOOL" -r "$T/unk.bin" "$SIM_TTY"
err_has unknown-chip "--layout 0x08000000:"
expect_rc unknown-chip-layout 0 "$FLASHTOOL" --layout 0x08000000:16x1K -r "$T/unk.bin" "$SIM_TTY"
ok unknown-chip-read-size test "$(wc -c <"$T/unk.bin")" -eq 16384
sim_stop

# Bad input never reaches the port (no simulator running at all here).
expect_rc usage-no-port 2 "$FLASHTOOL" -r x.bin
expect_rc usage-two-actions 2 "$FLASHTOOL" -r x.bin -w y.bin /dev/null
expect_rc usage-verify-alone 2 "$FLASHTOOL" -v /dev/null
expect_rc usage-bad-mode 2 "$FLASHTOOL" -m 9x1 /dev/null
err_has usage-bad-mode "mode '9x1'"
expect_rc usage-bad-range 2 "$FLASHTOOL" -r - -S 0xFFFFFF00:0x1000 /dev/null
expect_rc usage-missing-file 2 "$FLASHTOOL" -w "$T/does-not-exist.bin" /dev/null
err_has usage-missing-file "does-not-exist.bin"
expect_rc usage-directory 2 "$FLASHTOOL" -w "$T" /dev/null
expect_rc usage-unwritable-dir 2 "$FLASHTOOL" -r /proc/x/y.bin /dev/null
expect_rc no-such-port 4 "$FLASHTOOL" "$T/no-such-tty"
err_has no-such-port "no-such-tty"

# Write protection: protected sectors take writes without changing, and
# only the verify notices (exit 3); -u lifts it.
rm -f "$FT_OUT/wrp.flash"
sim_start wrp --chip f401
expect_rc wrp-protect 0 "$FLASHTOOL" --write-protect -S 0x08004000:0x4000 "$SIM_TTY"
log_has wrp-protect-cmd "WRITE_PROTECT sectors=1 -> ACK"
randimg 32768 >"$T/wrp.bin"
expect_rc wrp-write-verify-fails 3 "$FLASHTOOL" -w "$T/wrp.bin" -v "$SIM_TTY"
err_has wrp-write-verify-fails "verify failed at 0x08004000"
expect_rc wrp-unprotect 0 "$FLASHTOOL" -u "$SIM_TTY"
expect_rc wrp-write-after 0 "$FLASHTOOL" -w "$T/wrp.bin" -v "$SIM_TTY"
same_bytes wrp-flash "$T/wrp.bin" "$SIM_FLASH" 0 32768
expect_rc wrp-dfu-refused 2 "$FLASHTOOL" --dfu --write-protect
sim_stop

# A ROM that lists Get Checksum: verify and -C use it instead of reading.
rm -f "$FT_OUT/csum.flash"
sim_start csum --chip g0 --checksum
randimg 10000 >"$T/csum.bin"
expect_rc csum-write 0 "$FLASHTOOL" -w "$T/csum.bin" -v "$SIM_TTY"
log_has csum-verify-by-crc "GET_CHECKSUM 0x08000000"
log_lacks csum-no-readback "READ 0x0800"
expect_rc csum-crc 0 "$FLASHTOOL" -C -S 0x08000000:10000 "$SIM_TTY"
same_bytes csum-flash "$T/csum.bin" "$SIM_FLASH" 0 10000
sim_stop

# A ROM that frames Get Checksum as stm32flash 0.7 does (size in bytes,
# no polynomial): flashtool's AN3155 rev 20 framing gets no valid answer,
# so after its retries it stops trusting 0xA1 and reads back instead; a
# write, an unchanged re-flash and -C still end right.
rm -f "$FT_OUT/csb.flash"
sim_start csb --chip g0 --checksum-bytes
expect_rc csb-write 0 "$FLASHTOOL" -w "$T/csum.bin" -v "$SIM_TTY"
err_has csb-write "Get Checksum does not answer as expected: comparing by reading"
same_bytes csb-flash "$T/csum.bin" "$SIM_FLASH" 0 10000
expect_rc csb-same 0 "$FLASHTOOL" -w "$T/csum.bin" "$SIM_TTY"
err_has csb-same "unchanged \\(10000 bytes\\)"
expect_rc csb-crc 0 "$FLASHTOOL" -C -S 0x08000000:10000 "$SIM_TTY"
sim_stop
crc_sw=$(sed -n 's/^CRC([^)]*) = //p' "$FT_OUT/csum-crc.out" "$FT_OUT/csum-crc.err" | head -n 1)
crc_fb=$(sed -n 's/^CRC([^)]*) = //p' "$FT_OUT/csb-crc.out" "$FT_OUT/csb-crc.err" | head -n 1)
ok "csb-crc: the same CRC by reading ($crc_fb) as by 0xA1 ($crc_sw)" \
    test -n "$crc_sw" -a "$crc_sw" = "$crc_fb"

# A bad line: NACKs, corrupted and dropped bytes; resync and retry carry
# the write through, and the flash holds exactly the image.
rm -f "$FT_OUT/noisy.flash"
sim_start noisy --chip f103 --seed 5 --nack 0.03 --corrupt 0.0002 --drop 0.0001
randimg 20000 >"$T/noisy.bin"
expect_rc noisy-write 0 "$FLASHTOOL" -n 10 -w "$T/noisy.bin" -v "$SIM_TTY"
same_bytes noisy-flash "$T/noisy.bin" "$SIM_FLASH" 0 20000
err_has noisy-write "retrying"
sim_stop
