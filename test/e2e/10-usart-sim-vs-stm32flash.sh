#!/bin/sh
# Keeps the USART simulator honest: Debian's stm32flash 0.7, a real AN3155
# host, must identify, write, read, erase and (un)protect each chip model
# and leave the simulator's flash file holding exactly what it should.
# stm32flash needs -m 8n1 on a pty (it refuses 8E1 there).  Every
# stm32flash run after the first on a synced simulator costs its 0.5 s
# resync (the 0x7F is taken as a command byte, as on a real chip).
. "$FT_TOP/test/e2e/lib.sh"
vg_skip "it runs stm32flash, not flashtool"

STM32FLASH=${STM32FLASH:-stm32flash}
if ! command -v "$STM32FLASH" >/dev/null 2>&1; then
	echo "SKIP: $STM32FLASH not installed"
	exit 0
fi
[ -x "$USART_SIM" ] || { fail "usart-sim: $USART_SIM not built"; exit 1; }

IMG_LEN=20000		# two F401 sectors, not a multiple of 256

# ff_file LEN: LEN bytes of erased flash on stdout.
ff_file() {
	head -c "$1" /dev/zero | tr '\000' '\377'
}

sf() {
	timeout 120 "$STM32FLASH" -m 8n1 -b 115200 "$@"
}

# out_has NAME REGEX: the last run of NAME printed REGEX (stdout or stderr).
out_has() {
	if cat "$FT_OUT/$1.out" "$FT_OUT/$1.err" | grep -Eq "$2"; then
		pass "$1 says /$2/"
	else
		fail "$1 does not say /$2/"
	fi
}

# check_model CHIP PID FLASH_BYTES UNIT_BYTES ERASE_NAME
check_model() {
	chip=$1 pid=$2 size=$3 unit=$4 ename=$5
	n="10-$chip"
	img="$FT_OUT/$n.img"
	want="$FT_OUT/$n.want"
	erased="$FT_OUT/$n.erased"
	rm -f "$FT_OUT/$n.flash" "$FT_OUT/$n.simlog"
	randimg $IMG_LEN >"$img"
	ff_file "$size" >"$erased"
	{ cat "$img"; ff_file $((size - IMG_LEN)); } >"$want"

	sim_start "$n" --chip "$chip"

	expect_rc "$n-identify" 0 sf "$SIM_TTY"
	out_has "$n-identify" "Device ID *: $pid"

	expect_rc "$n-write" 0 sf -w "$img" -v "$SIM_TTY"
	same_bytes "$n-write-flash-file" "$want" "$SIM_FLASH"
	log_has "$n-write" "^[0-9]+ WRITE 0x08000000 256 -> ACK$"
	# stm32flash erases only the units the image touches (0.6+).
	pages=$(seq -s, 0 $(( (IMG_LEN + unit - 1) / unit - 1 )))
	log_has "$n-write-erase" "^[0-9]+ $ename pages=$pages -> ACK$"

	expect_rc "$n-read" 0 sf -r "$FT_OUT/$n.read" "$SIM_TTY"
	same_bytes "$n-read-back" "$want" "$FT_OUT/$n.read"

	# Erase the first unit only: the rest of the image must survive.
	expect_rc "$n-erase-unit" 0 sf -o -S "0x08000000:$unit" "$SIM_TTY"
	{ ff_file "$unit"; tail -c +$((unit + 1)) "$want"; } >"$want.1"
	same_bytes "$n-erase-unit-flash" "$want.1" "$SIM_FLASH"
	log_has "$n-erase-unit" "^[0-9]+ $ename pages=0 -> ACK$"

	expect_rc "$n-readout-protect" 0 sf -j "$SIM_TTY"
	log_has "$n-readout-protect" "READOUT_PROTECT -> ACK"
	log_has "$n-readout-protect-reset" "RESET cmd=0x82"
	expect_rc "$n-read-protected" 1 sf -r "$FT_OUT/$n.read2" "$SIM_TTY"
	log_has "$n-read-protected" "READ rdp -> NACK"
	same_bytes "$n-protected-untouched" "$want.1" "$SIM_FLASH"

	expect_rc "$n-readout-unprotect" 0 sf -k "$SIM_TTY"
	log_has "$n-readout-unprotect" "READOUT_UNPROTECT -> ACK"
	same_bytes "$n-unprotect-erased" "$erased" "$SIM_FLASH"

	# Mass erase (-o on the whole flash) after a fresh small write.
	head -c 1024 "$img" >"$img.small"
	expect_rc "$n-write-small" 0 sf -w "$img.small" "$SIM_TTY"
	same_bytes "$n-write-small-flash" "$img.small" "$SIM_FLASH" 0 1024
	expect_rc "$n-mass-erase" 0 sf -o "$SIM_TTY"
	log_has "$n-mass-erase" "^[0-9]+ $ename mass -> ACK$"
	same_bytes "$n-mass-erase-flash" "$erased" "$SIM_FLASH"

	sim_stop
}

check_model f103 0x0410 131072 1024 ERASE
check_model f401 0x0423 262144 16384 EXT_ERASE
check_model g0 0x0460 131072 2048 EXT_ERASE
check_model f042 0x0445 32768 1024 EXT_ERASE

# A chip that starts read-protected refuses reads, and says so in its log.
n=10-rdp
rm -f "$FT_OUT/$n.flash" "$FT_OUT/$n.simlog"
sim_start "$n" --chip f401 --rdp
expect_rc "$n-read" 1 sf -r "$FT_OUT/$n.read" "$SIM_TTY"
log_has "$n-read" "READ rdp -> NACK"
log_lacks "$n-no-write" "WRITE|ERASE"
sim_stop

# Get Checksum (0xA1): stm32flash 0.7 frames it with the size in bytes and
# no polynomial or initial value; --checksum-bytes models that framing
# (the default models AN3155 rev 20).  stm32flash's -C must get the ST
# CRC of the flash (computed here from the file) through it.
n=10-csum-bytes
rm -f "$FT_OUT/$n.flash" "$FT_OUT/$n.simlog"
randimg 4096 >"$FT_OUT/$n.flash"
want=$(od -An -v -tu4 -w4 "$FT_OUT/$n.flash" | awk '
	BEGIN { c = 4294967295 }
	{ w = $1
	  # c ^= w, then 32 steps of the MSB-first polynomial 0x04C11DB7.
	  x = 0; b = 1
	  for (i = 0; i < 32; i++) {
		if ((int(c / b) % 2) != (int(w / b) % 2)) x += b
		b *= 2
	  }
	  c = x
	  for (i = 0; i < 32; i++) {
		top = c >= 2147483648
		c = (c % 2147483648) * 2
		if (top) {
			x = 0; b = 1; p = 79764919
			for (k = 0; k < 32; k++) {
				if ((int(c / b) % 2) != (int(p / b) % 2)) x += b
				b *= 2
			}
			c = x
		}
	  } }
	END { printf "0x%08x\n", c }')
sim_start "$n" --chip g0 --checksum-bytes
expect_rc "$n-crc" 0 sf -C -S 0x08000000:4096 "$SIM_TTY"
out_has "$n-crc" "= $want"
log_has "$n-crc" "GET_CHECKSUM 0x08000000 4096 crc=$want bytes-framing -> ACK"
sim_stop
