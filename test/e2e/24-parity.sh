# End-to-end: parity errors on the line.  AN3155 Read Memory data carry
# no checksum, so a byte that fails the parity check must make flashtool
# read the block again (INPCK|PARMRK, lib/serial.c), never land in the
# backup.  A pty has no parity: stm32-usart-sim --parity-errors RATE
# sends damaged bytes behind an escape and libft-shim.so, with
# FT_SHIM_PARITY=1, delivers them as the Linux tty layer would under the
# program's termios (test/sim/shim/tty.c).
. "$FT_TOP/test/e2e/lib.sh"
T="$FT_OUT/parity"
mkdir -p "$T"

# Flash: random data with runs of 0xFF (PARMRK's escape, doubled by the
# tty layer) and of 0xF5 (the simulator's escape, escaped in turn).
KIB=128
{
	randimg 16384
	head -c 4096 /dev/zero | tr '\000' '\377'
	head -c 4096 /dev/zero | tr '\000' '\365'
	head -c $(((KIB - 24) * 1024)) /dev/urandom
} >"$T/flash.ref"
RANGE_LEN=24576

par_env() {
	BOARD_SOCK="" shim_env "$FLASHTOOL"
	echo FT_SHIM_PARITY=1
}

# par_sim NAME RATE [SIM-ARGS]: a fresh f103 holding flash.ref.
par_sim() {
	_n=$1 _r=$2; shift 2
	cp "$T/flash.ref" "$FT_OUT/$_n.flash"
	rm -f "$FT_OUT/$_n.simlog"
	sim_start "$_n" --chip f103 --seed 24 --parity-errors "$_r" "$@"
}

# reads_logged NAME: Read Memory commands the simulator answered.
reads_logged() {
	grep -c ' READ 0x' "$SIM_LOG"
}
# read_bytes_logged: the bytes all Read Memory commands asked for.
read_bytes_logged() {
	awk '$2 == "READ" { n += $4 } END { print n + 0 }' "$SIM_LOG"
}

# retries_logged NAME: reads flashtool said it is doing again because
# of a damaged byte; all_retries_logged NAME: for any reason (a damaged
# ACK during the resync can make the next try fail otherwise).
retries_logged() {
	grep 'read at 0x[0-9a-f]* failed .*retrying' "$FT_OUT/$1.err" |
		grep -c 'parity or framing error'
}
all_retries_logged() {
	grep -c 'read at 0x[0-9a-f]* failed .*retrying' "$FT_OUT/$1.err"
}

head -c "$RANGE_LEN" "$T/flash.ref" >"$T/range.ref"

# Escapes on, no errors: 0xFF and 0xF5 come through exactly, nothing is
# read twice.
par_sim par-clean 1e-12
expect_rc par-clean 0 env $(par_env) "$FLASHTOOL" --debug -r "$T/clean.bin" \
	-S "0x08000000:$RANGE_LEN" "$SIM_TTY"
same_bytes par-clean-exact "$T/range.ref" "$T/clean.bin"
ok par-clean-no-retry test "$(retries_logged par-clean)" -eq 0
ok par-clean-reads-once test "$(reads_logged)" -eq $((RANGE_LEN / 256))
sim_stop

# 0.2% of the reply bytes damaged: about four blocks in ten are hit.
# Each is read again, every re-read is announced, the backup is exact.
par_sim par-read 0.002
expect_rc par-read 0 env $(par_env) "$FLASHTOOL" --debug -n 10 \
	-r "$T/read.bin" -S "0x08000000:$RANGE_LEN" "$SIM_TTY"
same_bytes par-read-exact "$T/range.ref" "$T/read.bin"
n_par=$(retries_logged par-read)
n_retry=$(all_retries_logged par-read)
n_read=$(reads_logged)
echo "   par-read: $n_read Read Memory commands, $n_retry retries" \
	"announced, $n_par for a damaged byte"
ok par-read-retried test "$n_par" -ge 5
# Every byte read more than once comes from a retry flashtool logged:
# at most the failed block again.  (After a failure the next blocks go
# in short frames, so the count of commands says less than the bytes.)
n_bytes=$(read_bytes_logged)
ok par-read-every-retry-logged \
	test "$n_read" -ge $((RANGE_LEN / 256 + n_retry)) -a \
	"$n_bytes" -ge "$RANGE_LEN" -a \
	"$n_bytes" -le $((RANGE_LEN + 256 * n_retry))
ok par-read-short-frames-after-failure \
	grep -q "READ 0x0800[0-9a-f]* 64 -> ACK" "$SIM_LOG"
ok par-read-split-after-failure \
	grep -q "READ 0x0800[0-9a-f]* 128 -> ACK" "$SIM_LOG"
sim_stop

# The contrast: the same faults with parity checking off (-m 8n1, as a
# port without parity would be) reach the backup unseen.  This shows
# that the faults above did hit the data.
par_sim par-8n1 0.002
expect_rc par-8n1 0 env $(par_env) "$FLASHTOOL" -m 8n1 -r "$T/8n1.bin" \
	-S "0x08000000:$RANGE_LEN" "$SIM_TTY"
if cmp -s "$T/range.ref" "$T/8n1.bin"; then
	fail "par-8n1-undetected: the backup is exact: no fault hit the data"
else
	n_wrong=$(cmp -l "$T/range.ref" "$T/8n1.bin" | wc -l)
	pass "par-8n1-undetected: $n_wrong wrong bytes, exit 0"
fi
sim_stop

# 1% of the bytes: with 64-byte frames and more retries still exact.
par_sim par-heavy 0.01
expect_rc par-heavy 0 env $(par_env) "$FLASHTOOL" -F 64 -n 30 \
	-r "$T/heavy.bin" -S 0x08000000:4096 "$SIM_TTY"
head -c 4096 "$T/flash.ref" >"$T/heavy.ref"
same_bytes par-heavy-exact "$T/heavy.ref" "$T/heavy.bin"
ok par-heavy-retried test "$(retries_logged par-heavy)" -ge 5
sim_stop

# Write and verify under the same faults: only the device's answers are
# damaged (ACKs, and the data read back to verify).
randimg 8192 >"$T/img.bin"
par_sim par-write 0.002
expect_rc par-write 0 env $(par_env) "$FLASHTOOL" -n 10 -w "$T/img.bin" \
	-v "$SIM_TTY"
same_bytes par-write-flash "$T/img.bin" "$SIM_FLASH" 0 8192
err_has par-write "verified"
sim_stop

# stm32flash (no INPCK: damaged bytes pass as they are) keeps working
# under the shim with the escapes on.
if command -v stm32flash >/dev/null 2>&1; then
	par_sim par-stm32flash 1e-12
	run par-stm32flash env $(BOARD_SOCK="" shim_env) FT_SHIM_PARITY=1 \
		stm32flash -m 8n1 -b 115200 -r "$T/s32.bin" \
		-S "0x08000000:$RANGE_LEN" "$SIM_TTY"
	same_bytes par-stm32flash-exact "$T/range.ref" "$T/s32.bin"
	sim_stop
fi

cleanup_sims
