#!/bin/sh
# copy-engine: `p2pmem copy` on both kernels: upstream p2pmem/allocate on
# the P2PDMA kernel, /dev/p2pmemN (p2pmem.ko: the memory card, and on kernels
# without P2PDMA, stock and debug, the CMBs).
#  switch, deep: a verified 32 MiB copy nvme a -> nvme b through p2p memory,
#    checked again byte for byte here; then a copy whose provider is unbound
#    mid-copy (nvme b's CMB; without P2PDMA on deep the memory card): it ends with a
#    clear error, the kernel stays clean, and --resume completes it through
#    another provider, the data correct.
#  split: no provider reaches both drives: refused (exit 2), and with
#    --allow-host-bounce done through host memory, reported as such.
# rig: fabrics=switch,split,deep kernels=p2pdma,stock,stock61@deep,debian-new@deep
# shellcheck source=tests/vm/kmod-lib.sh
. /tests/kmod-lib.sh
kmod_copy_setup
expect=$(rig_expected_ab)
p2pmem list

# A fresh pattern on nvme a's first 32 MiB.
head -c 33554432 /dev/urandom >/tmp/pattern || fail "no pattern"
dd if=/tmp/pattern of="$na" bs=1048576 2>/dev/null || fail "cannot write $na"
sync

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
	p2pmem copy -q -o json --allow-host-bounce --verify --length 32M "$na" "$nb" >/tmp/copy.json
	rc=$?
	cat /tmp/copy.json
	[ $rc -eq 0 ] || fail "host-bounced copy: exit $rc"
	[ "$(jget /tmp/copy.json jobs.0.p2p)" = false ] || fail "a host bounce reported as p2p"
	same32 "$nb" 0 || fail "$nb differs from the pattern after the host-bounced copy"
	say "split: refused without --allow-host-bounce, host-bounced and verified with it"

	# The library's rule is a prediction; the kernel has the last word. With
	# a fake AMD Zen CPU (P2PMEM_CPUINFO) the rule lets traffic cross the
	# host bridge, the kernel (the real CPU) does not: the copy must learn
	# it before moving a byte (p2pmem.ko refuses the clients when the pool
	# maps; upstream fails a first O_DIRECT read with EREMOTEIO), refuse
	# cleanly, and fall back to host memory when allowed.
	printf 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n' >/tmp/cpuinfo.zen
	zen() { P2PMEM_CPUINFO=/tmp/cpuinfo.zen "$@"; }
	zen p2pmem check "$a" "$b" >/tmp/out 2>&1 || fail "with a Zen CPU, check should predict the host bridge path: $(cat /tmp/out)"
	dd if=/dev/zero of="$nb" bs=1048576 count=32 conv=fsync 2>/dev/null
	zen p2pmem copy -q --length 32M "$na" "$nb" >/tmp/out 2>&1
	rc=$?
	cat /tmp/out
	[ $rc -eq 2 ] || fail "a copy the kernel refuses: exit $rc, expected 2"
	grep -q 'refused' /tmp/out || fail "the refusal does not say the kernel refused"
	echo 3 >/proc/sys/vm/drop_caches
	[ "$(dd if="$nb" bs=1048576 count=32 2>/dev/null | tr -d '\0' | wc -c)" -eq 0 ] ||
		fail "a refused copy wrote to $nb"
	zen p2pmem copy -q -o json --allow-host-bounce --length 32M "$na" "$nb" >/tmp/copy.json ||
		fail "the host bounce after the kernel's refusal failed"
	[ "$(jget /tmp/copy.json jobs.0.p2p)" = false ] || fail "p2p reported where the kernel refused"
	same32 "$nb" 0 || fail "$nb differs from the pattern after the fallback"
	say "split, rule told the CPU is Zen: the kernel's refusal found before a byte moved; host bounce: $(jget /tmp/copy.json jobs.0.where)"
	kmod_unload
	exit 0
fi

# 1. A verified p2p copy.
p2pmem copy -q -o json --verify --length 32M --bs 512K --qd 4 "$na" "$nb" >/tmp/copy.json
rc=$?
cat /tmp/copy.json
[ $rc -eq 0 ] || fail "p2p copy $na -> $nb: exit $rc"
[ "$(jget /tmp/copy.json jobs.0.p2p)" = true ] || fail "the copy did not use p2p memory"
[ "$(jget /tmp/copy.json jobs.0.verified)" = 33554432 ] || fail "not all bytes verified"
same32 "$nb" 0 || fail "$nb differs from the pattern"
say "p2p copy through $(jget /tmp/copy.json jobs.0.where): verified"

# 2. The provider goes away mid-copy. Copy within nvme a (0 -> 128 MiB)
# through the victim's memory, small blocks so that it still runs when the
# victim is unbound from its driver; unbind as soon as the victim has
# memory out (the RAM-backed memory card is fast: smaller blocks still).
# The resume picks its own provider (without P2PDMA on switch nvme a's own
# CMB: a drive moving data to and from its own CMB), except without P2PDMA on
# deep, where --resume runs with --provider (nvme b's CMB). Within one
# drive the data would go by NVMe Copy (tests/vm/device-copy.sh): a named
# provider, and --no-device-copy, keep it in p2p memory here.
if rig_no_p2pdma && [ "$RIG_FABRIC" = deep ]; then
	victim=$mc bs=4K qd=1 len=64M via="--provider $b"
else
	victim=$b bs=64K qd=2 len=32M via=
fi
in_use() {	# bytes of the victim's p2p memory handed out now
	# upstream's p2pmem/size, else p2pmem.ko's class device (which sits in
	# <dev>/p2pmem/ too)
	if [ -f "$SYS_PCI/$victim/p2pmem/size" ]; then
		echo $(($(cat "$SYS_PCI/$victim/p2pmem/size") - $(cat "$SYS_PCI/$victim/p2pmem/available")))
	else
		p=$(kmod_provider "$victim") && cat "$CLASS/$p/stats/in_use" || echo 0
	fi
}
base=$(in_use)
driver=$(basename "$(readlink -f "$SYS_PCI/$victim/driver")")
p2pmem copy -q --provider "$victim" --bs $bs --qd $qd --length $len --dst-offset 128M \
	--journal-dir /tmp "$na" "$na" >/tmp/unbind.out 2>&1 &
pid=$!
i=0
while [ "$(in_use)" -le "$base" ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
sleep 0.2
echo "$victim" >"/sys/bus/pci/drivers/$driver/unbind" || fail "cannot unbind $victim from $driver"
wait $pid
rc=$?
cat /tmp/unbind.out
[ $rc -eq 1 ] || fail "copy whose provider was unbound: exit $rc, expected 1 (failed, resumable)"
grep -q 'revoked' /tmp/unbind.out || fail "the error does not say the p2p memory was revoked"
ls /tmp/p2pmem-copy-*.journal >/dev/null 2>&1 || fail "no journal to resume from"

# 3. Resume: the victim is gone; another provider serves.
# shellcheck disable=SC2086 # $via is empty or two words
p2pmem copy -q -o json --resume --verify --no-device-copy $via --bs 64K --qd 2 --length $len --dst-offset 128M \
	--journal-dir /tmp "$na" "$na" >/tmp/resume.json
rc=$?
cat /tmp/resume.json
[ $rc -eq 0 ] || fail "resume: exit $rc"
where=$(jget /tmp/resume.json jobs.0.where)
case "$where" in
"p2p "*"$victim"*) fail "resume used the unbound provider $victim" ;;
"p2p "*) ;;
*) fail "resume did not use p2p memory: $where" ;;
esac
[ "$(jget /tmp/resume.json jobs.0.resumed_at)" != 0 ] || fail "resume started from 0"
same32 "$na" 128 || fail "$na at 128 MiB differs from the pattern after resume"
say "$victim unbound from $driver: copy failed cleanly; resumed at $(jget /tmp/resume.json jobs.0.resumed_at) via $where: verified"

echo "$victim" >"/sys/bus/pci/drivers/$driver/bind" 2>/dev/null
kmod_unload
exit 0
