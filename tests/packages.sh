#!/bin/bash
# The Debian packages as a user gets them: `make deb` (lintian: no error),
# then the four packages installed with apt into a clean Debian 12 chroot
# (debootstrap minbase, made once into the cache), where a program builds
# and links against the library with pkg-config (shared and static) and
# runs, `p2pmem --version` answers, and DKMS builds p2pmem.ko for Debian's
# 6.12 kernel from the installed headers package. The host only lends
# its apt sources (the same archive) and is not changed.
set -u
cd "$(dirname "$0")/.." || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (debootstrap, chroot)"; exit 1; }
cache=${P2PMEM_CACHE:-$HOME/.cache/p2pmem}
mkdir -p "$cache/pkgtest" "$cache/logs"
version=$(cat VERSION)
kver=$(sed -n 's/^STOCK_KVER=\${RIG_STOCK_KVER:-\(.*\)}$/\1/p' rig/rig)
[ -n "$kver" ] || { echo "FAIL: no STOCK_KVER in rig/rig"; exit 1; }

if ! make -s deb >"$cache/logs/make-deb.log" 2>&1; then
	tail -n 30 "$cache/logs/make-deb.log"
	echo "FAIL: make deb"
	exit 1
fi
debs=(build/deb/p2pmem_*.deb build/deb/libp2pmem0_*.deb build/deb/libp2pmem-dev_*.deb
	build/deb/p2pmem-dkms_*.deb)
[ ${#debs[@]} -eq 4 ] && [ -f "${debs[0]}" ] || { echo "FAIL: make deb built ${debs[*]}"; exit 1; }
grep -q '^E: ' "$cache/logs/make-deb.log" && fail "lintian reports errors"

# The machine's archive for Debian 12 and its security updates (the 6.12
# kernel comes from there).
sources=$(apt-get indextargets --format '$(RELEASE) $(REPO_URI)' 'Identifier: Packages' |
	awk '$1 ~ /^bookworm(-security|-updates)?$/ { print "deb " $2 " " $1 " main" }' | sort -u)
[ -n "$sources" ] || { echo "FAIL: this machine's apt names no Debian 12 archive"; exit 1; }
uri=$(echo "$sources" | awk '$3 == "bookworm" { print $2; exit }')

base=$cache/pkgtest/bookworm-minbase.tar
if [ ! -f "$base" ]; then
	echo "packages: making a clean Debian 12 root (debootstrap, once)"
	tmp=$(mktemp -d "$cache/pkgtest/base.XXXXXX")
	if ! debootstrap --variant=minbase --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
		bookworm "$tmp" "$uri" >"$cache/logs/pkgtest-debootstrap.log" 2>&1; then
		tail -n 20 "$cache/logs/pkgtest-debootstrap.log"
		rm -rf "$tmp"
		echo "FAIL: debootstrap bookworm"
		exit 1
	fi
	rm -rf "$tmp/var/cache/apt/archives/"*.deb
	tar -C "$tmp" -cf "$base.tmp" . && mv "$base.tmp" "$base"
	rm -rf "$tmp"
fi

root=$(mktemp -d "$cache/pkgtest/run.XXXXXX")
trap 'rm -rf "$root"' EXIT
tar -C "$root" -xf "$base"
echo "$sources" >"$root/etc/apt/sources.list"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mkdir -p "$root/tmp/debs"
cp "${debs[@]}" "$root/tmp/debs/"
cat >"$root/tmp/prog.c" <<'C'
#include <stdio.h>
#include <p2pmem.h>
#include <linux/p2pmem.h>
int main(void)
{
	struct p2pmem_ctx_opts o = { .size = sizeof(o), .sysfs_root = "/nonexistent" };
	struct p2pmem_ctx *ctx;
	int ret;

	if (p2pmem_ctx_new(&o, &ctx))
		return 1;
	ret = p2pmem_ctx_scan(ctx);	/* no sysfs here: a clear error, no crash */
	printf("scan: %d: %s\n", ret, p2pmem_ctx_last_error(ctx));
	p2pmem_ctx_free(ctx);
	return ret == 0 || (int)sizeof(struct p2pmem_clients) == 0;
}
C
cat >"$root/tmp/inside.sh" <<INSIDE
#!/bin/sh
set -e
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# The packages, and what a user adds to build with them.
apt-get install -y -q --no-install-recommends /tmp/debs/*.deb gcc libc6-dev pkg-config \\
	linux-headers-$kver dwarves
echo "== p2pmem --version"
p2pmem --version
echo "== pkg-config"
pkg-config --modversion libp2pmem
cc -o /tmp/prog-shared /tmp/prog.c \$(pkg-config --cflags --libs libp2pmem)
cc -static -o /tmp/prog-static /tmp/prog.c \$(pkg-config --static --cflags --libs libp2pmem)
/tmp/prog-shared
/tmp/prog-static
echo "== dkms"
dkms install -m p2pmem -v $version -k $kver || { cat /var/lib/dkms/p2pmem/$version/build/make.log; exit 1; }
dkms status -m p2pmem -v $version
modinfo -k $kver -F version p2pmem
echo "== files"
ls /usr/lib/udev/rules.d/60-p2pmem.rules /usr/lib/sysusers.d/p2pmem-dkms.conf \\
	/usr/share/doc/p2pmem-dkms/examples/modules-load.d/p2pmem.conf \\
	/usr/share/man/man1/p2pmem.1.gz /usr/share/man/man3/p2pmem.3.gz /usr/share/man/man4/p2pmem.4.gz \\
	/usr/share/bash-completion/completions/p2pmem /usr/share/zsh/vendor-completions/_p2pmem
INSIDE
chmod +x "$root/tmp/inside.sh"
log=$cache/logs/pkgtest.log
unshare -m sh -c "mount -t proc proc '$root/proc' && mount --rbind /dev '$root/dev' &&
	mount -t tmpfs tmpfs '$root/run' && chroot '$root' /tmp/inside.sh" >"$log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	tail -n 40 "$log"
	fail "the packages in a clean Debian 12 chroot (exit $rc; log $log)"
else
	grep -qx "p2pmem $version" "$log" || fail "p2pmem --version did not say $version"
	[ "$(grep -c '^scan: -2: ' "$log")" = 2 ] || fail "the shared and static programs did not both run"
	grep -q "^p2pmem/$version, $kver, x86_64: installed" "$log" || fail "dkms did not install p2pmem.ko for $kver"
	grep -qx "$version" "$log" || fail "the DKMS-built module is not version $version"
	sed -n '/^== p2pmem --version/,$p' "$log"
fi
[ $fails -eq 0 ]
