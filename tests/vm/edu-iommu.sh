#!/bin/sh
# edu-iommu: the host-bridge path with bytes behind a translating IOMMU.
# iommu-zen's edu engine sits on a root port of its own (VT-d, DMA-FQ
# domain; an AMD Zen CPU, so p2p through the host bridge is allowed): every
# address it is given for the memory card is an IOVA that QEMU's IOMMU
# translates into the card's BAR.  The engine writes a pattern through that
# address and reads it back; the bytes are checked where they landed (the
# BAR, through the kernel's or the process's mapping):
# (a) the in-kernel API: p2pmem_dma_map() answers host-bridge with an IOVA;
# (b) dma-buf: a process exports a mapping of /dev/p2pmemN and the engine
#     imports it (map_dma_buf: dma_map_resource), and a kernel client's
#     buffer (p2pmem_dmabuf_alloc) the same way;
# (c) every mapping is undone: the IOVAs are released with the imports
#     (the rig fails any test after which the kernel logged an IOMMU
#     fault), nothing stays in use, and the engine's driver unloads.
# rig: fabrics=iommu-zen kernels=stock,debian-new
# shellcheck source=tests/vm/iommu-lib.sh
. /tests/iommu-lib.sh
[ -f "$KMOD_DIR/p2pmem_edu.ko" ] || fail "no p2pmem_edu.ko in the initramfs"

iommu_setup
edu=$(for d in "$SYS_PCI"/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] && basename "$d"
done)
[ "$(echo "$edu" | wc -w)" = 1 ] || fail "expected one edu device, found '$edu'"
[ "$(iommu_type "$edu")" = DMA-FQ ] || fail "$edu: domain $(iommu_type "$edu"), expected DMA-FQ (translated)"
[ "$(iommu_group "$edu")" != "$(iommu_group "$mc")" ] || fail "$edu shares the memory card's IOMMU group"
p=$(kmod_provider "$mc" memory) || fail "no provider for $mc"
# shellcheck disable=SC2046 # start and end of BAR2
set -- $(sed -n 3p "$SYS_PCI/$mc/resource")
bar_lo=$(($1)) bar_hi=$(($2))
grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs none /sys/kernel/debug
insmod "$KMOD_DIR/p2pmem_edu.ko" || fail "insmod p2pmem_edu.ko failed"
[ -e "/sys/kernel/debug/p2pmem_edu/$edu" ] || fail "p2pmem_edu did not bind $edu"
ctl() { echo "$1" >"/sys/kernel/debug/p2pmem_edu/$edu" && cat "/sys/kernel/debug/p2pmem_edu/$edu"; }
# iova WHAT ADDR: ADDR is a DMA address and not the BAR's own (an IOVA).
iova() {
	case "$2" in 0x*) ;; *) fail "$1: no DMA address ('$2')" ;; esac
	[ $(($2)) -ge $bar_lo ] && [ $(($2)) -le $bar_hi ] &&
		fail "$1: DMA address $2 is the BAR's own address: not translated"
	return 0
}

# (a) the in-kernel API
r=$(ctl "api 5 $mc")
say "$r"
case "$r" in "api ok provider=$p map=host-bridge dma="*) ;; *) fail "api with $mc: $r" ;; esac
dma=${r#*dma=}
iova "api" "${dma%% *}"

# (b) a process's mapping exported and imported, then a kernel client's buffer
dmabuf-edu "/dev/$p" "$edu" 7 >/tmp/o 2>&1 || fail "import: $(cat /tmp/o)"
cat /tmp/o
grep -q '^bytes ok' /tmp/o || fail "bytes: $(cat /tmp/o)"
iova "import" "$(sed -n 's/^import ok dma=\([^ ]*\) len=65536$/\1/p' /tmp/o)"
dmabuf-edu -c -s 8K "/dev/$p" "$edu" 99 >/tmp/o 2>&1 || fail "declared import: $(cat /tmp/o)"
grep -q '^bytes ok' /tmp/o || fail "declared import bytes: $(cat /tmp/o)"
iova "declared import" "$(sed -n 's/^import ok dma=\([^ ]*\) len=8192$/\1/p' /tmp/o)"
r=$(ctl "kexport 13 $mc")
say "$r"
case "$r" in "kexport ok provider=$p dma="*" len=65536") ;; *) fail "kernel client export: $r" ;; esac
dma=${r#*dma=}
iova "kexport" "${dma%% *}"

# (c) everything let go
[ "$(kattr "$p" stats/in_use)" = 0 ] || fail "$p: in_use $(kattr "$p" stats/in_use) after the imports"
rmmod p2pmem_edu || fail "rmmod p2pmem_edu"
dmesg | grep -E 'DMAR: .*(fault addr|handling fault)' && fail "IOMMU fault during the test"
say "$edu through the IOMMU: API, process and kernel dma-bufs, bytes in $mc's BAR"
kmod_unload
exit 0
