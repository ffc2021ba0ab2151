#!/bin/sh
# copy-engine: `p2pmem copy` on the P2PDMA kernel (upstream p2pmem/allocate).
#  switch, deep: a verified 32 MiB copy nvme a -> nvme b through p2p memory
#    (the buffers in a CMB), checked again byte for byte here; then a copy
#    whose provider (nvme b's CMB) is unbound mid-copy: it ends with a clear
#    error, the kernel stays clean, and --resume completes it with another
#    provider, the data correct.
#  split: no provider reaches both drives: refused (exit 2), and with
#    --allow-host-bounce done through host memory, reported as such.
# rig: fabrics=switch,split,deep kernels=p2pdma
# shellcheck source=tests/vm/lib.sh
. /tests/lib.sh
need_p2pmem

rig_pair
expect=$(rig_expected_ab)

# A fresh pattern on nvme a's first 32 MiB.
head -c 33554432 /dev/urandom >/tmp/pattern || fail "no pattern"
dd if=/tmp/pattern of="$na" bs=1048576 2>/dev/null && sync || fail "cannot write $na"

same32() {	# DEVICE OFFSET_MIB: the 32 MiB there equal the pattern?
	echo 3 >/proc/sys/vm/drop_caches
	dd if="$1" bs=1048576 skip="$2" count=32 2>/dev/null | cmp -s - /tmp/pattern
}

if [ "$expect" = refused ]; then
	p2pmem copy --length 32M "$na" "$nb" >/tmp/out 2>&1
	rc=$?
	cat /tmp/out
	[ $rc -eq 2 ] || fail "copy across split root ports: exit $rc, expected 2 (refused)"
	grep -q 'no provider reaches both' /tmp/out || fail "no reason given for the refusal"
	p2pmem copy -o json --allow-host-bounce --verify --length 32M "$na" "$nb" >/tmp/copy.json
	rc=$?
	cat /tmp/copy.json
	[ $rc -eq 0 ] || fail "host-bounced copy: exit $rc"
	[ "$(jget /tmp/copy.json jobs.0.p2p)" = false ] || fail "a host bounce reported as p2p"
	same32 "$nb" 0 || fail "$nb differs from the pattern after the host-bounced copy"
	say "split: refused without --allow-host-bounce, host-bounced and verified with it"
	exit 0
fi

# 1. A verified p2p copy.
p2pmem copy -o json --verify --length 32M --bs 512K --qd 4 "$na" "$nb" >/tmp/copy.json
rc=$?
cat /tmp/copy.json
[ $rc -eq 0 ] || fail "p2p copy $na -> $nb: exit $rc"
[ "$(jget /tmp/copy.json jobs.0.p2p)" = true ] || fail "the copy did not use p2p memory"
[ "$(jget /tmp/copy.json jobs.0.verified)" = 33554432 ] || fail "not all bytes verified"
same32 "$nb" 0 || fail "$nb differs from the pattern"
say "p2p copy through $(jget /tmp/copy.json jobs.0.where): verified"

# 2. The provider goes away mid-copy. Copy within nvme a (0 -> 128 MiB)
# through nvme b's CMB, small blocks so that it is still running when
# nvme b is unbound.
p2pmem copy --provider "$b" --bs 64K --qd 2 --length 32M --dst-offset 128M \
	--journal-dir /tmp "$na" "$na" >/tmp/unbind.out 2>&1 &
pid=$!
sleep 1
echo "$b" >/sys/bus/pci/drivers/nvme/unbind || fail "cannot unbind $b"
wait $pid
rc=$?
cat /tmp/unbind.out
[ $rc -eq 1 ] || fail "copy whose provider was unbound: exit $rc, expected 1 (failed, resumable)"
grep -q 'revoked' /tmp/unbind.out || fail "the error does not say the p2p memory was revoked"
ls /tmp/p2pmem-copy-*.journal >/dev/null 2>&1 || fail "no journal to resume from"

# 3. Resume: nvme b is gone, the best provider now is nvme a's own CMB.
p2pmem copy -o json --resume --verify --bs 64K --qd 2 --length 32M --dst-offset 128M \
	--journal-dir /tmp "$na" "$na" >/tmp/resume.json
rc=$?
cat /tmp/resume.json
[ $rc -eq 0 ] || fail "resume: exit $rc"
case "$(jget /tmp/resume.json jobs.0.where)" in
*"$a"*) ;;
*) fail "resume did not use the remaining provider $a" ;;
esac
[ "$(jget /tmp/resume.json jobs.0.resumed_at)" != 0 ] || fail "resume started from 0"
same32 "$na" 128 || fail "$na at 128 MiB differs from the pattern after resume"
say "unbound provider: copy failed cleanly; resumed at $(jget /tmp/resume.json jobs.0.resumed_at) via $a: verified"

echo "$b" >/sys/bus/pci/drivers/nvme/bind 2>/dev/null
exit 0
