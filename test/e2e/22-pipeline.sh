# End-to-end: --pipeline (Read and Write Memory sent as one burst, the
# ACKs collected afterwards; reads by default, writes with --pipeline)
# against the USART simulator.  It must leave
# exactly the image, read exactly the flash, survive a bad line by
# falling back to frame by frame, and never let a refused burst's bytes
# act as commands.
. "$FT_TOP/test/e2e/lib.sh"
T="$FT_OUT/pipeline"
mkdir -p "$T"

# bytes FILE SIZE SEED: deterministic contents, so that a failure can be
# replayed (which blocks are sent frame by frame depends on the data).
# Each simulator NAME runs on $FT_OUT/NAME.flash, made here first.
bytes() {
	LC_ALL=C awk -v n="$2" -v s="$3" 'BEGIN { srand(s)
	    for (i = 0; i < n; i++) printf "%c", int(rand() * 256) }' >"$1"
}

# model flash-KiB
for m in f103:128 f401:256 g0:128; do
	chip=${m%:*} kib=${m#*:}
	size=$((kib * 1024))
	bytes "$FT_OUT/pipe-$chip.flash" "$size" 2
	sim_start "pipe-$chip" --chip "$chip"

	# 40000 bytes: many blocks, several pages (two F4 sectors), and a
	# short last block.
	bytes "$T/$chip-img.bin" 40000 1
	expect_rc "pipe-$chip-write" 0 "$FLASHTOOL" --pipeline --debug --debug \
		-w "$T/$chip-img.bin" -v "$SIM_TTY"
	same_bytes "pipe-$chip-write-flash" "$T/$chip-img.bin" "$SIM_FLASH" 0 40000
	# Command, address and data went out as one burst; the verify read
	# likewise.
	ok "pipe-$chip-write-bursts" grep -q '^> 31 ce 08 00 .* (265 bytes)$' \
		"$FT_OUT/pipe-$chip-write.err"
	ok "pipe-$chip-read-bursts" grep -Eq '^> 11 ee 08 00 ([0-9a-f]{2} ){3}ff 00$' \
		"$FT_OUT/pipe-$chip-write.err"
	ok "pipe-$chip-no-fallback" sh -c "! grep -q 'pipelining is off' '$FT_OUT/pipe-$chip-write.err'"
	log_lacks "pipe-$chip-write-nothing-refused" "-> NACK"

	# A pipelined read of all of flash equals the flash file.
	expect_rc "pipe-$chip-read" 0 "$FLASHTOOL" --pipeline -r "$T/$chip-read.bin" "$SIM_TTY"
	same_bytes "pipe-$chip-read-equals-flash" "$T/$chip-read.bin" "$SIM_FLASH"
	ok "pipe-$chip-read-size" test "$(wc -c <"$T/$chip-read.bin")" -eq "$size"
	sim_stop
done

# Without --pipeline writes wait for each ACK and reads go in bursts
# (the default, --pipeline=reads); --pipeline=off sends every frame on
# its own.
bytes "$FT_OUT/pipe-default.flash" 131072 2
sim_start pipe-default --chip f103
expect_rc pipe-default-write 0 "$FLASHTOOL" --debug --debug -S 0x08010000 \
	-w "$T/f103-img.bin" "$SIM_TTY"
ok pipe-default-write-command-alone grep -qx '> 31 ce' "$FT_OUT/pipe-default-write.err"
ok pipe-default-no-write-bursts sh -c "! grep -Eq '^> 31 ce ' '$FT_OUT/pipe-default-write.err'"
ok pipe-default-read-bursts grep -Eq '^> 11 ee 08 01 ([0-9a-f]{2} ){3}ff 00$' \
	"$FT_OUT/pipe-default-write.err"
same_bytes pipe-default-flash "$SIM_FLASH" "$T/f103-img.bin" 65536 40000
expect_rc pipe-default-read 0 "$FLASHTOOL" -r "$T/default-read.bin" "$SIM_TTY"
same_bytes pipe-default-read-equals-flash "$T/default-read.bin" "$SIM_FLASH"
expect_rc pipe-off-write 0 "$FLASHTOOL" --pipeline=off --debug --debug \
	-S 0x08010000 --no-diff -w "$T/f103-img.bin" "$SIM_TTY"
ok pipe-off-command-alone grep -qx '> 31 ce' "$FT_OUT/pipe-off-write.err"
ok pipe-off-read-alone grep -qx '> 11 ee' "$FT_OUT/pipe-off-write.err"
ok pipe-off-no-bursts sh -c "! grep -Eq '^> (31 ce|11 ee) ' '$FT_OUT/pipe-off-write.err'"
expect_rc pipe-reads-write 0 "$FLASHTOOL" --pipeline=reads --debug --debug \
	-S 0x08010000 --no-diff -w "$T/f103-img.bin" "$SIM_TTY"
ok pipe-reads-no-write-bursts sh -c "! grep -Eq '^> 31 ce ' '$FT_OUT/pipe-reads-write.err'"
ok pipe-reads-read-bursts grep -Eq '^> 11 ee 08 01 ' "$FT_OUT/pipe-reads-write.err"
log_lacks pipe-default-nothing-refused "(READ|WRITE|ERASE).*-> NACK"
sim_stop
expect_rc pipe-bad-word 2 "$FLASHTOOL" --pipeline=some -r x.bin /dev/null
err_has pipe-bad-word "off, reads or all"

# Reads over a bad line, by default: the first failed burst turns
# bursts off (said with --debug only: it is the default path, not an
# alarm), and a read that exits 0 holds exactly the flash.  Refused
# commands and lost bytes, which the protocol shows; a byte damaged on
# the way back is seen only through parity (test/e2e/24-parity.sh).
for seed in 5 7 11; do
	n="pipe-rnoisy-$seed"
	bytes "$FT_OUT/$n.flash" 131072 8
	sim_start "$n" --chip f103 --seed "$seed" --nack 0.03 --drop 0.0002
	run "$n-read" "$FLASHTOOL" -n 10 -r "$T/$n.bin" -S 0x08000000:32K \
		"$SIM_TTY"
	if [ "$RC" -eq 0 ]; then
		same_bytes "$n-data" "$T/$n.bin" "$SIM_FLASH" 0 32768
	else
		ok "$n-fails-with-message" test -s "$FT_OUT/$n-read.err"
	fi
	ok "$n-no-alarm" sh -c "! grep -q 'pipelining is off' '$FT_OUT/$n-read.err'"
	run "$n-debug" "$FLASHTOOL" --debug -n 10 -r "$T/$n.bin" \
		-S 0x08000000:32K "$SIM_TTY"
	if grep -q "retrying" "$FT_OUT/$n-debug.err" &&
	    grep -q "^> 11 ee\|Read Memory 0x" "$FT_OUT/$n-debug.err"; then
		err_has "$n-debug" "pipelined Read Memory at 0x[0-9a-f]+ failed: pipelining is off"
	fi
	log_lacks "$n-no-stray-commands" "(GO|READOUT_|PROTECT|ERASE|WRITE).*-> ACK"
	sim_stop
done

# A bad line: NACKed commands, damaged and lost bytes.  The first failure
# turns pipelining off; resync and retries carry on frame by frame.  Each
# run ends either in success with exactly the image or in a failure with
# a message, and no stray command ever acts on the chip.
for seed in 5 7 11; do
	n="pipe-noisy-$seed"
	bytes "$FT_OUT/$n.flash" 131072 3
	sim_start "$n" --chip f103 --seed "$seed" \
		--nack 0.03 --corrupt 0.0002 --drop 0.0001
	bytes "$T/noisy.bin" 20000 4
	run "$n-write" "$FLASHTOOL" --pipeline -n 10 -w "$T/noisy.bin" -v "$SIM_TTY"
	if [ "$RC" -eq 0 ]; then
		same_bytes "$n-flash" "$T/noisy.bin" "$SIM_FLASH" 0 20000
		err_has "$n-write" "pipelining is off for the rest of the session"
	else
		ok "$n-fails-with-message" test -s "$FT_OUT/$n-write.err"
	fi
	log_lacks "$n-no-stray-commands" "(GO|READOUT_|PROTECT|ERASE mass|EXT_ERASE).*-> ACK"
	sim_stop
done

# Must fail: a readout-protected chip refuses the burst's command.  A
# burst whose data holds 92 6D (Readout Unprotect, which such a chip
# accepts: it would mass-erase it) is sent frame by frame, so the chip
# stays as it is and the write fails as protected (exit 9).
bytes "$FT_OUT/pipe-rdp.flash" 131072 5
cp "$FT_OUT/pipe-rdp.flash" "$T/rdp-before.bin"
sim_start pipe-rdp --chip f103 --rdp
bytes "$T/rdp-img.bin" 1024 6
printf '\000\000\222\155' | dd of="$T/rdp-img.bin" conv=notrunc 2>/dev/null
expect_rc pipe-rdp-write 9 "$FLASHTOOL" --pipeline -e 0 --no-diff \
	-w "$T/rdp-img.bin" "$SIM_TTY"
err_has pipe-rdp-write "readout protection"
log_lacks pipe-rdp-no-unprotect "READOUT_UNPROTECT"
same_bytes pipe-rdp-flash-unchanged "$T/rdp-before.bin" "$SIM_FLASH"
# A plain image: the burst goes, its command is refused, the stray
# "commands" are drained, and the retry frame by frame says protected.
bytes "$T/rdp-plain.bin" 1024 7
expect_rc pipe-rdp-plain 9 "$FLASHTOOL" --pipeline -e 0 --no-diff \
	-w "$T/rdp-plain.bin" "$SIM_TTY"
err_has pipe-rdp-plain "pipelining is off"
err_has pipe-rdp-plain "Write Memory at 0x08000000: NACK after the command"
log_lacks pipe-rdp-plain-nothing-done "(READOUT_|ERASE|WRITE 0x).*-> ACK"
same_bytes pipe-rdp-plain-flash-unchanged "$T/rdp-before.bin" "$SIM_FLASH"
expect_rc pipe-rdp-read 9 "$FLASHTOOL" --pipeline -r "$T/rdp-read.bin" "$SIM_TTY"
ok pipe-rdp-read-no-file test ! -e "$T/rdp-read.bin"
# The same with the default read bursts.
expect_rc pipe-rdp-read-default 9 "$FLASHTOOL" -r "$T/rdp-read.bin" "$SIM_TTY"
err_has pipe-rdp-read-default "readout protection"
ok pipe-rdp-read-default-no-file test ! -e "$T/rdp-read.bin"
log_lacks pipe-rdp-read-nothing-done "(READOUT_|ERASE|WRITE 0x).*-> ACK"
sim_stop

# A NACK storm (every first frame refused) beyond the retries fails,
# naming the address.
rm -f "$FT_OUT/pipe-storm.flash"
sim_start pipe-storm --chip f103 --nack-storm
expect_rc pipe-storm-write 1 "$FLASHTOOL" --pipeline -n 2 -w "$T/noisy.bin" "$SIM_TTY"
err_has pipe-storm-write "0x08000000"
log_lacks pipe-storm-nothing-done "(ERASE|WRITE|READOUT_|GO).*-> ACK"
sim_stop

# Usage: a ROM USART option, in every form.
expect_rc pipe-dfu-refused 2 "$FLASHTOOL" --dfu --pipeline -r x.bin
err_has pipe-dfu-refused "--pipeline"
expect_rc pipe-dfu-reads-refused 2 "$FLASHTOOL" --dfu --pipeline=reads -r x.bin
expect_rc pipe-katapult-reads-refused 2 "$FLASHTOOL" --katapult \
	--pipeline=reads -r x.bin /dev/null
err_has pipe-katapult-reads-refused "--pipeline are for the ROM USART"
