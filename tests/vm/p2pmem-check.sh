#!/bin/sh
# p2pmem-check: `p2pmem check --provider <nvme b> <nvme a>` agrees with the
# fabric and with the kernel: usable (exit 0, bus-addr, distance 4 in switch,
# 6 in deep) where O_DIRECT into the peer CMB works, not supported (exit 1,
# not-supported, a reason) in split where the kernel says EREMOTEIO.  Clients
# given as BDF, /dev/nvmeXnY and /dev/nvmeX answer the same; a client that does
# not exist is bad input (exit 2).
# rig: fabrics=switch,split,deep kernels=p2pdma,debian-new
# shellcheck source=tests/vm/lib.sh
. /tests/lib.sh
need_p2pmem

rig_pair
ca=/dev/$(rig_nvme_ctrl "$a")

# the kernel's verdict
p2p-copy -q -p -c 64K -b "$b" "$na" "$nb"
k=$?
case $k in
0) kernel=ok ;;
3) kernel=refused ;;
*) fail "probe into the CMB of $b failed: exit $k" ;;
esac

expect=$(rig_expected_ab)
case "$expect" in
ok*) want_rc=0 want_map=bus-addr want_dist=${expect#ok } ;;
refused) want_rc=1 want_map=not-supported want_dist= ;;
esac
[ "${expect%% *}" = "$kernel" ] || fail "the kernel says $kernel, the fabric profile says $expect"

for client in "$a" "$na" "$ca"; do
	p2pmem check --provider "$b" "$client"
	rc=$?
	[ $rc -eq "$want_rc" ] || fail "p2pmem check --provider $b $client: exit $rc, expected $want_rc (kernel: $kernel)"
done

p2pmem check -o json --provider "$b" "$a" >/tmp/check.json
rc=$?
cat /tmp/check.json
[ $rc -eq "$want_rc" ] || fail "p2pmem check -o json: exit $rc, expected $want_rc"
[ "$(jget /tmp/check.json provider)" = "$b" ] || fail "provider is not $b"
map=$(jget /tmp/check.json map_type)
[ "$map" = "$want_map" ] || fail "map_type $map, expected $want_map"
if [ -n "$want_dist" ]; then
	dist=$(jget /tmp/check.json distance)
	[ "$dist" = "$want_dist" ] || fail "distance $dist, expected $want_dist"
else
	reason=$(jget /tmp/check.json reason)
	[ -n "$reason" ] || fail "no reason given for not-supported"
	say "reason: $reason"
fi
say "$b <- $a: exit $rc, $map${want_dist:+, distance $want_dist}; kernel: $kernel"

p2pmem check --provider "$b" /dev/nvme-does-not-exist >/dev/null 2>&1
rc=$?
[ $rc -eq 2 ] || fail "a missing client: exit $rc, expected 2 (bad input)"
exit 0
