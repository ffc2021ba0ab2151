#!/bin/bash
# make install / uninstall into a staging directory with the directory
# variables, then a program built with pkg-config against what was
# installed, linked shared and static, runs; uninstall leaves no file.
. "$(dirname "$0")/lib.inc"
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
top=$(cd "$(dirname "$0")/../.." && pwd)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
v=$(cat "$top/VERSION")
make -s -C "$top" install DESTDIR="$stage" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu \
	MANDIR=/usr/share/man >"$stage.log" 2>&1 || { cat "$stage.log"; fail "make install"; finish; }
lib=$stage/usr/lib/x86_64-linux-gnu
for f in usr/bin/p2pmem usr/include/p2pmem.h usr/include/linux/p2pmem.h usr/share/man/man1/p2pmem.1 \
	usr/share/man/man3/p2pmem.3 usr/share/man/man4/p2pmem.4 \
	usr/lib/x86_64-linux-gnu/libp2pmem.a "usr/lib/x86_64-linux-gnu/libp2pmem.so.$v" \
	usr/lib/x86_64-linux-gnu/pkgconfig/libp2pmem.pc usr/share/bash-completion/completions/p2pmem \
	usr/share/zsh/vendor-completions/_p2pmem; do
	[ -f "$stage/$f" ] || fail "not installed: /$f"
done
[ "$(readlink "$lib/libp2pmem.so.0")" = "libp2pmem.so.$v" ] || fail "libp2pmem.so.0 does not point to libp2pmem.so.$v"
[ "$(readlink "$lib/libp2pmem.so")" = libp2pmem.so.0 ] || fail "libp2pmem.so does not point to the soname"
[ "$(stat -c %a "$lib/libp2pmem.so.$v")" = 644 ] || fail "the shared library is mode $(stat -c %a "$lib/libp2pmem.so.$v"), not 0644"
grep -q "^libdir=/usr/lib/x86_64-linux-gnu$" "$lib/pkgconfig/libp2pmem.pc" || fail "the .pc file has the wrong libdir"
head -1 "$stage/usr/share/man/man1/p2pmem.1" | grep -q "\"p2pmem $v\"" || fail "p2pmem.1 does not carry version $v"
"$stage/usr/bin/p2pmem" --version | grep -qx "p2pmem $v" || fail "the installed command is not version $v"

# A manual page for every public function (a link to its group's page).
for fn in $(grep -oE '\bp2pmem_[a-z0-9_]+\(' "$top/include/p2pmem.h" | tr -d '(' | sort -u); do
	[ -f "$stage/usr/share/man/man3/$fn.3" ] || fail "no man page for $fn (add it to man/man3-links)"
done
for page in "$stage"/usr/share/man/man3/p2pmem_*.3; do
	target=$(sed -n 's|^\.so man3/||p' "$page")
	[ -z "$target" ] || [ -f "$stage/usr/share/man/man3/$target" ] || fail "$page links to a missing $target"
done

cat >"$stage/prog.c" <<'C'
#include <stdio.h>
#include <p2pmem.h>
#include <linux/p2pmem.h>	/* the module's uapi, next to the library's */
int main(int argc, char **argv)
{
	struct p2pmem_ctx_opts o = { .size = sizeof(o), .sysfs_root = argv[1] };
	struct p2pmem_ctx *ctx;
	int ret;

	(void)argc;
	(void)sizeof(struct p2pmem_clients);
	(void)P2PMEM_IOC_SET_CLIENTS;
	if (p2pmem_ctx_new(&o, &ctx))
		return 1;
	ret = p2pmem_ctx_scan(ctx);
	printf("%zu functions, %zu providers\n", p2pmem_pci_dev_count(ctx), p2pmem_provider_count(ctx));
	p2pmem_ctx_free(ctx);
	return ret ? 1 : 0;
}
C
export PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion libp2pmem)" = "$v" ] || fail "pkg-config --modversion: $(pkg-config --modversion libp2pmem)"
# shellcheck disable=SC2046 # flags are words
cc -o "$stage/prog-shared" "$stage/prog.c" $(pkg-config --cflags --libs libp2pmem) || fail "shared link"
# shellcheck disable=SC2046
cc -static -o "$stage/prog-static" "$stage/prog.c" $(pkg-config --static --cflags --libs libp2pmem) ||
	fail "static link with pkg-config --static"
out=$(LD_LIBRARY_PATH=$lib "$stage/prog-shared" "$P2PMEM_FIXTURES/switch") || fail "shared program: $out"
echo "$out" | grep -q 'functions, [1-9][0-9]* providers' || fail "shared program said: $out"
out=$("$stage/prog-static" "$P2PMEM_FIXTURES/switch") || fail "static program: $out"
ldd "$stage/prog-shared" 2>/dev/null | grep -q libp2pmem.so.0 || fail "the shared program does not use libp2pmem.so.0"

make -s -C "$top" uninstall DESTDIR="$stage" PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu \
	MANDIR=/usr/share/man >"$stage.log" 2>&1 || { cat "$stage.log"; fail "make uninstall"; }
left=$(cd "$stage" && find usr \( -type f -o -type l \) 2>/dev/null)
[ -z "$left" ] || fail "uninstall left: $left"
rm -f "$stage.log"
finish
