#!/bin/sh
# kmod-distance: the distance rule ported into p2pmem.ko answers like the
# library and like the kernel.  p2pmem_test prints the module's answer for
# every provider/client pair of {memory card, nvme a, nvme b} (same function
# included); each must equal `p2pmem check -o json --provider P C` (map_type,
# and distance when supported), the fabric's expected a<->b verdict, and on
# the P2PDMA kernel upstream's own pci_p2pdma_distance_many().
# rig: fabrics=all kernels=stock,debug@deep,p2pdma,stock61@deep,debian-new@switch+split+deep
# shellcheck source=tests/vm/kmod-lib.sh disable=SC2119 # kmod_load without parameters
. /tests/kmod-lib.sh
need_kmod
need_p2pmem

rig_pair
mc=$(kmod_memcard) || fail "no memory card"
pairs=
for p in "$mc" "$a" "$b"; do
	for c in "$mc" "$a" "$b"; do
		pairs="$pairs;$p,$c"
	done
done
kmod_load nvme_cmb=0
dmesg -c >/dev/null
insmod "$KMOD_DIR/p2pmem_test.ko" pairs="${pairs#;}" alloc_kb=0 || fail "insmod p2pmem_test"
dmesg | grep 'p2pmem_test: distance ' | sed 's/.*p2pmem_test: //' >/tmp/kdist
dmesg | grep 'p2pmem_test: upstream ' | sed 's/.*p2pmem_test: //' >/tmp/kup
[ "$(wc -l </tmp/kdist)" -eq 9 ] || fail "expected 9 distance lines, got $(wc -l </tmp/kdist)"

n=0
while read -r _ p c dist map; do
	p2pmem check -o json --provider "$p" "$c" >/tmp/check.json 2>/tmp/check.err
	lmap=$(jget /tmp/check.json map_type) || fail "$p <- $c: no map_type from the library: $(cat /tmp/check.err)"
	[ "$lmap" = "$map" ] || fail "$p <- $c: module says $map, library says $lmap"
	if [ "$map" != not-supported ]; then
		ldist=$(jget /tmp/check.json distance)
		[ "$ldist" = "$dist" ] || fail "$p <- $c: module distance $dist, library $ldist"
	fi
	if ! rig_no_p2pdma; then
		up=$(grep "^upstream $p $c " /tmp/kup | cut -d' ' -f4)
		[ -n "$up" ] || fail "$p <- $c: no upstream answer"
		[ "$up" = "$dist" ] || fail "$p <- $c: module $dist, upstream pci_p2pdma_distance_many $up"
	fi
	say "$p <- $c: $map $dist (library: $lmap${ldist:+ $ldist}${up:+, upstream $up})"
	ldist='' up=''
	n=$((n + 1))
done </tmp/kdist

# The IOMMU fabrics: nvme a and the memory card, two functions below root
# port 00:02.0, meet there; Linux's ACS redirect at that port (set because an
# IOMMU is on) sends them to the root complex: allowed on AMD Zen
# (iommu-zen), refused on the q35 host bridge with an Intel CPU
# (iommu-redir); pci=disable_acs_redir=0000:00:02.0 gives them bus addresses
# again on the same CPU (iommu-intel), and the library says so.
case "$RIG_FABRIC" in
iommu-zen) want_mca="2 host-bridge" ;;
iommu-intel) want_mca="2 bus-addr" ;;
iommu-redir) want_mca="-1 not-supported" ;;
*) want_mca= ;;
esac
if [ -n "$want_mca" ]; then
	got=$(grep "^distance $mc $a " /tmp/kdist | cut -d' ' -f4-5)
	[ "$got" = "$want_mca" ] || fail "$mc <- $a: '$got', expected $want_mca on $RIG_FABRIC"
	p2pmem check -o json --provider "$mc" "$a" >/tmp/check.json 2>/dev/null
	reason=$(jget /tmp/check.json reason)
	if [ "$RIG_FABRIC" != iommu-intel ]; then
		echo "$reason" | grep -q 'pci=disable_acs_redir=0000:00:02.0 (Linux sets ACS redirect wherever an IOMMU is on; iommu=pt does not clear it)' ||
			fail "$mc <- $a: the reason does not name the ACS fix: $reason"
	fi
	say "$mc <- $a on $RIG_FABRIC: $got; $reason"
fi

expect=$(rig_expected_ab)
got=$(grep "^distance $a $b " /tmp/kdist | cut -d' ' -f4-5)
case "$expect" in
ok*) [ "$got" = "${expect#ok } bus-addr" ] || fail "$a <-> $b: '$got', the fabric says $expect" ;;
hb*) [ "$got" = "${expect#hb } host-bridge" ] || fail "$a <-> $b: '$got', the fabric says $expect" ;;
refused) [ "$got" = "-1 not-supported" ] || fail "$a <-> $b: '$got', the fabric says refused" ;;
esac
kmod_unload
say "$n pairs agree"
exit 0
