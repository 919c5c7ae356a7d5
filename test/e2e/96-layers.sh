# make lint's layering rules (scripts/check-layers) on a copy of the
# tree: the real tree passes, and each kind of violation planted in the
# copy fails with a message that names the file.
. "$FT_TOP/test/e2e/lib.sh"
T="$FT_OUT/layers"
LIBA="$FT_BUILD/lib/libflashtool.a"

# fresh: a copy of what the script reads (lib, cli, tests, the script).
fresh() {
	rm -rf "$T"
	mkdir -p "$T/scripts" "$T/test"
	cp -r "$FT_TOP/lib" "$FT_TOP/cli" "$T/"
	cp -r "$FT_TOP/test/unit" "$FT_TOP/test/fuzz" "$T/test/"
	cp "$FT_TOP/scripts/check-layers" "$T/scripts/"
	find "$T" -name '*.o' -delete
	cp "$LIBA" "$T/lib.a"
}

# layers NAME WANT_RC PATTERN: run the copy's check; PATTERN must be in
# its messages (when WANT_RC is 1).
layers() {
	sh "$T/scripts/check-layers" "$T/lib.a" >"$FT_OUT/layers-$1.out" \
	    2>"$FT_OUT/layers-$1.err"
	rc=$?
	if [ "$rc" -ne "$2" ]; then
		fail "layers $1: exit $rc, want $2: $(head -c 400 \
		    "$FT_OUT/layers-$1.err")"
	elif [ "$2" -ne 0 ] && ! grep -q -- "$3" "$FT_OUT/layers-$1.err"; then
		fail "layers $1: no '$3' in: $(head -c 400 \
		    "$FT_OUT/layers-$1.err")"
	else
		pass "layers $1"
	fi
}

# plant FILE LINE: add an include after the file's first #include.
plant() {
	sed -i "0,/^#include/s||$2\n&|" "$T/$1"
}

fresh
layers clean 0 ""

fresh
plant lib/core/open.c '#include "dfu/dfu.h"'
layers core-includes-dfu 1 'lib/core/open.c: the core includes the dfu'

fresh
plant lib/core/write.c '#include "usart/an3155.h"'
layers core-includes-usart 1 'the core includes the usart'

fresh
plant lib/dfu/request.c '#include "usart/an3155.h"'
layers dfu-includes-usart 1 'the dfu transport includes "usart/an3155.h"'

fresh
plant lib/katapult/link.c '#include "usart/usart.h"'
layers katapult-includes-usart 1 'the katapult transport includes "usart/usart.h"'

fresh
plant lib/katapult/entry.c '#include "dfu/session.h"'
layers katapult-includes-dfu 1 'the katapult transport includes "dfu/session.h"'

fresh
plant lib/usart/link.c '#include "core/core.h"'
layers usart-includes-core 1 'the usart transport includes "core/core.h"'

fresh
plant lib/image/elf.c '#include "transport.h"'
layers image-includes-contract 1 'an image reader includes the transport'

fresh
plant lib/image/ihex.c '#include "core/core.h"'
layers image-includes-core 1 'an image reader includes "core/core.h"'

fresh
plant test/unit/test_seq.c '#include "entry.h"'
layers bare-wing-header 1 '"entry.h" lives in lib/usart: write "usart/entry.h"'

fresh
plant lib/usart/seq.c '#include "usart/gpio.h"'
layers own-wing-by-path 1 'from its own wing: write "gpio.h"'

# A source the archive does not hold (a Makefile that stopped building
# a folder would look like this).
fresh
printf 'int ft_layers_unbuilt(void);\nint ft_layers_unbuilt(void) { return 0; }\n' \
    >"$T/lib/core/unbuilt.c"
layers unbuilt-source 1 'does not hold every lib/ source'

# A global symbol without the prefix, added to the archive.
fresh
printf 'int layers_stray(void);\nint layers_stray(void) { return 1; }\n' \
    >"$T/stray.c"
cc -c -o "$T/stray.o" "$T/stray.c" && ar r "$T/lib.a" "$T/stray.o" 2>/dev/null
cp "$T/stray.c" "$T/lib/stray.c"
layers stray-symbol 1 'without the ft_ prefix: layers_stray'

rm -rf "$T"
