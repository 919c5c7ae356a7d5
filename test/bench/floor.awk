# floor.awk - the modeled floor of a benchmark case, in seconds: what
# the protocol must move over the wire or the bus, plus what the flash
# must do, with the simulators' timing models (test/bench/RESULTS.md).
#   awk -f floor.awk -v kind=KIND -v size=BYTES
# USART (AN3155, 115200 baud, 11 bits per byte):
#   usart-f103      write + verify of size bytes over an image that
#                   differs in every page: per 256-byte block, Write
#                   Memory moves 268 bytes (2 command, 5 address, 1 + 256
#                   + 1 data, 3 ACKs) and Read Memory 268 (2, 5, 2, 3
#                   ACKs, 256 data); the pages are erased with one legacy
#                   Erase (20 ms per 1 KiB page, DS5319) and programmed
#                   at 52.5 us per half-word.
#   usart-same      size bytes found unchanged: they must be read once
#                   (268 bytes per 256-byte block); nothing else.
#   usart-read      a read of size bytes: the same 268 bytes per block.
#   usart-same-crc  the same where the ROM has Get Checksum: one command
#                   (2 + 4 x 5 parameter bytes, 5 ACKs, 4 + 1 reply).
# DFU (simulated USB: each control transfer 1 ms + 1 ms per KiB of data;
# STM32F042 ROM: 2 KiB transfers, 1 KiB pages erased in 30 ms, 27.5 ms
# per KiB programmed):
#   dfu             write + verify over an old firmware that fills the
#                   flash (flash bytes): the cheaper of two ways.  Pages:
#                   every byte down and up once, every page erased,
#                   everything programmed.  Mass erase (40 ms, the F042
#                   model's; DS10152 gives the same 20-40 ms as a page)
#                   keeping the old bytes after the image: those also
#                   go up (read), down and up (verify) and are programmed.
#   dfu-blank       the same on a blank chip: no erase needed.
#   dfu-same        an unchanged image: read once.
#   dfu-read        read of size bytes, 2 KiB per transfer.
function usart_bytes(n) { return n * 11 / 115200 }
function xfers(n, per) { return int((n + per - 1) / per) * (1 + per / 1024) / 1000 }
BEGIN {
	blocks = int((size + 255) / 256)
	pages = int((size + 1023) / 1024)
	if (kind == "usart-f103")
		f = usart_bytes(blocks * 536 + pages + 6) + \
		    pages * 0.020 + size / 2 * 52.5e-6
	else if (kind == "usart-same" || kind == "usart-read")
		f = usart_bytes(blocks * 268)
	else if (kind == "usart-same-crc")
		f = usart_bytes(2 + 20 + 5 + 5)
	else if (kind == "dfu") {
		f = 2 * xfers(size, 2048) + pages * 0.030 + \
		    size / 1024 * 0.0275
		kept = flash - size
		m = 2 * xfers(size, 2048) + 3 * xfers(kept, 2048) + 0.040 + \
		    flash / 1024 * 0.0275
		if (flash > 0 && m < f)
			f = m
	}
	else if (kind == "dfu-blank")
		f = 2 * xfers(size, 2048) + size / 1024 * 0.0275
	else if (kind == "dfu-same" || kind == "dfu-read")
		f = xfers(size, 2048)
	else {
		print "floor.awk: unknown kind " kind > "/dev/stderr"
		exit 1
	}
	printf "%.3f\n", f
}
