#!/bin/sh
# rig/guest/demo.sh - what `rig/rig demo` (make demo) shows, run inside the
# guest: the switch fabric on Debian's 7.x kernel (P2PDMA), the deep fabric on
# Debian's stock 6.12 with p2pmem.ko.  The host prints the lines
# from "=== p2pmem demo" to "=== end of demo".
# shellcheck source=tests/vm/kmod-lib.sh
. /tests/kmod-lib.sh

SIZE=32M
CHUNK=512K

rig_pair

show() {
	echo
	echo "\$ $*"
	"$@"
}

# Debian's stock kernel has no P2PDMA: p2pmem.ko provides the memory.
if [ "$RIG_KERNEL" = stock ]; then
	mc=$(kmod_memcard) || fail "no memory card"
	echo "=== p2pmem demo: fabric $RIG_FABRIC, Debian's stock kernel $(uname -r) (no PCI_P2PDMA) + p2pmem.ko"
	echo "NVMe a: $a = $na    NVMe b: $b = $nb    memory card: $mc (256 MiB BAR2, RAM-backed in QEMU)"
	show insmod /lib/modules/extra/p2pmem.ko || fail "insmod p2pmem.ko failed"
	echo "\$ echo p2pmem_pci > /sys/bus/pci/devices/$mc/driver_override; echo $mc > /sys/bus/pci/drivers_probe"
	kmod_bind "$mc" || fail "cannot bind the memory card"
	kmod_wait_provider "$mc" memory >/dev/null || fail "no memory card provider"
	kmod_wait_provider "$a" nvme-cmb >/dev/null || fail "no CMB provider for $a"
	kmod_wait_provider "$b" nvme-cmb >/dev/null || fail "no CMB provider for $b"
	show p2pmem topo || fail "p2pmem topo failed"
	show p2pmem list || fail "p2pmem list failed"
	show p2pmem check "$na" "$nb" || fail "p2pmem check refused the drives"
	p=$(kmod_provider "$mc" memory)
	echo
	echo "--- where the memory card's pool lives (p2pmem.ko: /sys/class/p2pmem/$p)"
	echo "  BAR2 of $mc, pool range $(cat "$CLASS/$p/range"), kind $(cat "$CLASS/$p/kind"), iommu $(cat "$CLASS/$p/iommu")"
	head -c 33554432 /dev/urandom | dd of="$na" bs=1048576 2>/dev/null
	echo
	echo "--- copy offload through the memory card, then through nvme a's CMB"
	show p2pmem copy --quiet --verify --provider "$mc" --length "$SIZE" --bs "$CHUNK" "$na" "$nb" ||
		fail "copy through the memory card failed"
	show p2pmem copy --quiet --verify --provider "$a" --length "$SIZE" --bs "$CHUNK" "$na" "$nb" ||
		fail "copy through the CMB of $a failed"
	echo
	echo "--- p2pmem bench through the memory card (RAM-backed: the p2p path to hold against host memory)"
	show p2pmem bench --provider "$mc" --length 128M --bs "$CHUNK",1M --qd 4,16 --repeat 5 --allocs 500 "$na" "$nb" ||
		fail "p2pmem bench failed"
	echo
	echo "  stats of $p: allocations $(cat "$CLASS/$p/stats/allocations"), peak $(cat "$CLASS/$p/stats/peak") bytes," \
		"zeroed in the background $(cat "$CLASS/$p/stats/zero_bg_bytes") bytes"
	kmod_unload
	echo "=== end of demo"
	exit 0
fi

echo "=== p2pmem demo: fabric $RIG_FABRIC (QEMU q35, TCG), kernel $(uname -r) with PCI_P2PDMA"
echo "NVMe a: $a = $na    NVMe b: $b = $nb    (each with a 64 MiB CMB in BAR2)"
show p2pmem topo || fail "p2pmem topo failed"
show p2pmem list || fail "p2pmem list failed"
show p2pmem check --provider "$b" "$a" || fail "p2pmem check refused a pair below one switch"

echo
echo "--- the copy engine: $SIZE $na -> p2p memory -> $nb (io_uring, O_DIRECT, 4 buffers in flight)"
head -c 33554432 /dev/urandom | dd of="$na" bs=1048576 2>/dev/null
show p2pmem copy --quiet --verify --length "$SIZE" --bs "$CHUNK" --qd 4 "$na" "$nb" ||
	fail "p2pmem copy failed"

echo
echo "--- where a p2p buffer lives: one buffer of the same size, its physical pages"
echo "    (synchronous O_DIRECT pread/pwrite loop, $CHUNK chunks, tests/vm/p2p-copy.c)"
p2p-copy -s "$SIZE" -c "$CHUNK" -b "$b" "$na" "$nb" | tee /tmp/p2p.out
[ "$(grep -c 'status=ok' /tmp/p2p.out)" -eq 1 ] || fail "the p2p copy failed"

echo
echo "--- the same copy through host memory (same program, VM and chunk size)"
p2p-copy -s "$SIZE" -c "$CHUNK" -b host "$na" "$nb" | tee /tmp/host.out
[ "$(grep -c 'status=ok' /tmp/host.out)" -eq 1 ] || fail "the host-memory copy failed"

echo
echo "--- p2pmem bench: engine through p2p memory vs host memory vs the synchronous loop"
show p2pmem bench --length 16M --bs "$CHUNK" --qd 1,4 --allocs 500 "$na" "$nb" ||
	fail "p2pmem bench failed"

mibps() { sed -n 's/.* mibps=\([0-9.]*\) .*/\1/p' "$1"; }
range() { sed -n 's/^p2p-copy: buffer: physical \(.*\) (contiguous)/\1/p' "$1"; }
bar() { sed -n 's/^p2p-copy: buffer: inside \(.*\) \[.*/\1/p' "$1"; }
p=$(mibps /tmp/p2p.out)
h=$(mibps /tmp/host.out)
echo
echo "--- summary"
echo "  copied:        $SIZE ($(sed -n 's/.* bytes=\([0-9]*\) .*/\1/p' /tmp/p2p.out) bytes) $na -> $nb, verified"
echo "  p2p buffer:    physical $(range /tmp/p2p.out), inside $(bar /tmp/p2p.out) = CMB of $b"
echo "  throughput:    p2p via CMB $p MiB/s, via host memory $h MiB/s" \
	"($(awk -v p="$p" -v h="$h" 'BEGIN { if (p > 0) printf "host/p2p = %.1fx", h / p }'))"
echo "  note: QEMU serves a CMB through MMIO callbacks, so the CMB path is slower"
echo "        here than host memory; on hardware it saves the host memory round trip."
echo "=== end of demo"
exit 0
