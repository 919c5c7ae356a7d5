# make install: everything lands under DESTDIR and PREFIX, and a program
# builds against the installed library through pkg-config.
. "$FT_TOP/test/e2e/lib.sh"
stage="$FT_OUT/stage"
rm -rf "$stage"
make -s -C "$FT_TOP" O="$FT_BUILD" install DESTDIR="$stage" PREFIX=/usr \
	>"$FT_OUT/install.log" 2>&1
ok install-runs test $? -eq 0
for f in bin/flashtool share/man/man1/flashtool.1 lib/libflashtool.a \
    include/flashtool.h lib/pkgconfig/flashtool.pc \
    lib/udev/rules.d/50-flashtool.rules \
    share/bash-completion/completions/flashtool; do
	ok "installed $f" test -f "$stage/usr/$f"
done
ok installed-binary-runs "$stage/usr/bin/flashtool" --version
ok udev-rule-for-plugdev grep -q 'ATTRS{idVendor}=="0483", ATTRS{idProduct}=="df11".*GROUP="plugdev"' \
	"$stage/usr/lib/udev/rules.d/50-flashtool.rules"

cat >"$FT_OUT/client.c" <<'EOC'
#include <stdio.h>
#include <flashtool.h>

int
main(void)
{
	const struct ft_chip *c = ft_chip_by_pid(0x445);

	printf("%s %u\n", c != NULL ? c->name : "none",
	    c != NULL ? (unsigned)c->flash_size : 0u);
	return c == NULL;
}
EOC
flags=$(sed "s|^prefix=.*|prefix=$stage/usr|; s|/usr/lib|$stage/usr/lib|; s|/usr/include|$stage/usr/include|" \
	"$stage/usr/lib/pkgconfig/flashtool.pc" >"$FT_OUT/flashtool.pc" &&
	PKG_CONFIG_PATH="$FT_OUT" pkg-config --cflags --libs flashtool)
# A sanitizer build's library needs the sanitizer runtimes at link time.
san=""
ldd "$FLASHTOOL" 2>/dev/null | grep -q libasan && san="-fsanitize=address,undefined"
cc $san -o "$FT_OUT/client" "$FT_OUT/client.c" $flags >"$FT_OUT/client.log" 2>&1
ok client-builds-with-pkg-config test $? -eq 0
ok client-runs sh -c "'$FT_OUT/client' | grep -q '^STM32F04.* 32768$'"

# Bash completion loads and completes long options from --help.
ok completion-loads bash -c ". '$stage/usr/share/bash-completion/completions/flashtool' && complete -p flashtool"
out=$(bash -c ". '$stage/usr/share/bash-completion/completions/flashtool';
	COMP_WORDS=('$FLASHTOOL' --mass); COMP_CWORD=1; _flashtool '$FLASHTOOL'; echo \${COMPREPLY[*]}")
ok completion-completes-options test "$out" = "--mass-erase"
