#!/bin/bash
# p2pmem.ko's gates on the host: checkpatch.pl --strict clean (from the
# kernel source the rig unpacked), kernel-doc clean, and warning-free W=1
# builds for every kernel the rig boots but the debug one (which its VM
# tests build for): Debian's headers unpacked into the cache by
# scripts/kernel-headers, the rig's P2PDMA object tree.  Runs after the VM
# tests.
set -u
cd "$(dirname "$0")/.." || exit 1
rc=0
checkpatch=$(ls "${P2PMEM_CACHE:-$HOME/.cache/p2pmem}"/src/*/scripts/checkpatch.pl 2>/dev/null | head -n 1)
if [ -z "$checkpatch" ]; then
	echo "no checkpatch.pl: the rig's kernel source is missing (rig/rig kernel p2pdma unpacks it)"
	exit 1
fi
out=$(make -s -C kmod checkpatch CHECKPATCH="$checkpatch" 2>&1)
if [ -n "$out" ]; then
	echo "checkpatch --strict is not clean:"
	echo "$out"
	rc=1
fi
kerneldoc=${checkpatch%/checkpatch.pl}/kernel-doc
out=$(cd kmod && perl "$kerneldoc" -none -Wall ./*.c include/*.h uapi/*.h 2>&1)
if [ -n "$out" ]; then
	echo "kernel-doc is not clean:"
	echo "$out"
	rc=1
fi
# Every Debian kernel the rig boots (Debian 12's 6.12 and 6.1, Debian's
# newest 7.x, built with gcc-14 in a trixie build environment: rig/rig kmake)
# and the rig's own P2PDMA kernel.
cache=${P2PMEM_CACHE:-$HOME/.cache/p2pmem}
mkdir -p "$cache/kmod"
for kernel in stock stock61 debian-new p2pdma; do
	# inside the cache: the trixie build environment sees only that
	work=$(mktemp -d "$cache/kmod/build-check.XXXXXX")
	cp -r kmod/. "$work/"
	cp VERSION "$work/"	# as a DKMS copy carries it
	if ! log=$(rig/rig kmake "$kernel" M="$work" W=1 KCFLAGS=-Werror modules 2>&1); then
		echo "build for the $kernel kernel failed:"
		echo "$log" | tail -n 30
		rc=1
	elif echo "$log" | grep -q 'warning:'; then
		echo "build for the $kernel kernel warns:"
		echo "$log" | grep -A3 'warning:'
		rc=1
	elif [ "$(modinfo -F version "$work/p2pmem.ko")" != "$(cat VERSION)" ]; then
		echo "p2pmem.ko for the $kernel kernel says version '$(modinfo -F version "$work/p2pmem.ko")', VERSION says $(cat VERSION)"
		rc=1
	else
		echo "built for the $kernel kernel ($(rig/rig kdir "$kernel")): $(cd "$work" && ls ./*.ko test/*.ko 2>/dev/null | tr '\n' ' ')"
	fi
	rm -rf "$work"
done
exit $rc
