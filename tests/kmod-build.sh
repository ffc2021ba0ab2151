#!/bin/bash
# p2pmem.ko's gates on the host: checkpatch.pl --strict clean (from the
# kernel source the rig unpacked), kernel-doc clean, and warning-free W=1
# builds against Debian's 6.12 and 6.1 headers, unpacked into the cache by
# scripts/kernel-headers (the rig builds and loads it on 6.12, its P2PDMA
# and debug kernels; 6.1 is proven to build here). Runs after the VM tests.
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
for kver in 6.12.117+deb12-amd64 6.1.0-56-amd64; do
	work=$(mktemp -d)
	cp -r kmod/. "$work/"
	if ! kdir=$(scripts/kernel-headers "$kver"); then
		echo "no headers for $kver (scripts/kernel-headers failed)"
		rc=1
	elif ! log=$(make -C "$kdir" M="$work" W=1 KCFLAGS=-Werror modules 2>&1); then
		echo "build against $kdir failed:"
		echo "$log" | tail -n 30
		rc=1
	elif echo "$log" | grep -q 'warning:'; then
		echo "build against $kdir warns:"
		echo "$log" | grep -A3 'warning:'
		rc=1
	else
		echo "built against $kdir: $(cd "$work" && ls ./*.ko test/*.ko 2>/dev/null | tr '\n' ' ')"
	fi
	rm -rf "$work"
done
exit $rc
