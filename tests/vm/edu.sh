#!/bin/sh
# edu: a DMA engine that is not a drive (QEMU's edu, driven by the test
# driver p2pmem_edu) as a p2p client of the memory card (p2pmem.ko's pool on
# stock kernels, upstream's on P2PDMA kernels):
# (a) through the in-kernel API: p2pmem_alloc + p2pmem_dma_map, the engine
#     writes a pattern into the allocation and reads it back; the bytes are
#     checked through the kernel's mapping of the BAR, and the DMA address
#     lies inside the card's BAR2;
# (b) as a dma-buf importer: a process maps /dev/p2pmemN, exports the
#     mapping (P2PMEM_IOC_EXPORT_DMABUF) and hands the fd to the driver,
#     which attaches with allow_peer2peer, maps, and has the engine write the
#     pattern; the process reads it through its mapping, zeroes after it;
#     and a kernel client's buffer (p2pmem_dmabuf_alloc): the engine writes
#     the pattern, reads it back, and reads zeroes after it; on stock
#     kernels also a mapping of nvme b's CMB (p2pmem.ko's provider);
# (c) refusals, with errno and log line: an importer without peer2peer
#     (EOPNOTSUPP), the engine on another root port of the q35 host bridge
#     (EREMOTEIO, the rule's reason); the API refuses that engine too;
# (d) the card unbound while an importer holds a mapping: the importer is
#     told (move_notify), drops it, and the removal finishes; on 7.x, where
#     an importer may map without a way to be told, the removal waits for
#     it, names it in the log, and finishes when it lets go.
# rig: fabrics=deep kernels=stock,debian-new,stock61
# shellcheck source=tests/vm/kmod-lib.sh
. /tests/kmod-lib.sh
need_kmod
[ -f "$KMOD_DIR/p2pmem_edu.ko" ] || fail "no p2pmem_edu.ko in the initramfs"

# The engines by BDF: edu0 beside the drives' switch, edu1 on rp1.
set -- $(for d in "$SYS_PCI"/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] && basename "$d"
done | sort)
[ $# = 2 ] || fail "expected 2 edu devices, found $#"
edu0=$1 edu1=$2
mc=$(kmod_memcard) || fail "no memory card"
# BAR2 of the card: DMA addresses must fall inside it
set -- $(sed -n 3p "$SYS_PCI/$mc/resource")
bar_lo=$(($1)) bar_hi=$(($2))

grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs none /sys/kernel/debug
kmod_load
kmod_bind "$mc" || fail "cannot bind $mc"
p=$(kmod_provider "$mc" memory) || fail "no provider for $mc"
grep -q '^p2pmem_edu ' /proc/modules || insmod "$KMOD_DIR/p2pmem_edu.ko" ||
	fail "insmod p2pmem_edu.ko failed"
for e in $edu0 $edu1; do
	[ -e "/sys/kernel/debug/p2pmem_edu/$e" ] || fail "p2pmem_edu did not bind $e"
done
ctl() { echo "$2" >"/sys/kernel/debug/p2pmem_edu/$1" && cat "/sys/kernel/debug/p2pmem_edu/$1"; }
in_bar() { # DMA address inside the card's BAR2
	[ $(($1)) -ge $bar_lo ] && [ $(($1)) -le $bar_hi ]
}
log_has() { dmesg | grep -q "$1" || fail "no kernel line /$1/"; }

# (a) the in-kernel API
r=$(ctl "$edu0" "api 5 $mc")
say "$r"
case "$r" in "api ok provider=$p map=bus-addr dma="*) ;; *) fail "api with $mc: $r" ;; esac
dma=${r#*dma=}
dma=${dma%% *}
in_bar "$dma" || fail "DMA address $dma is outside $mc's BAR2"
r=$(ctl "$edu1" "api 5 $mc")
case "$r" in "api refused $edu1 cannot reach $p"*) ;; *) fail "api across root ports: $r" ;; esac
say "$r"

# (b) a process exports, the engine imports
dmabuf-edu "/dev/$p" "$edu0" 7 >/tmp/o 2>&1 || fail "import: $(cat /tmp/o)"
cat /tmp/o
grep -q '^bytes ok' /tmp/o || fail "bytes: $(cat /tmp/o)"
dma=$(sed -n 's/^import ok dma=\([^ ]*\) len=65536$/\1/p' /tmp/o)
[ -n "$dma" ] && in_bar "$dma" || fail "import DMA address '$dma' outside $mc's BAR2"
# the same with the engine declared as the file's client
dmabuf-edu -c -s 8K "/dev/$p" "$edu0" 99 >/tmp/o 2>&1 || fail "declared import: $(cat /tmp/o)"
grep -q '^bytes ok' /tmp/o || fail "declared import bytes: $(cat /tmp/o)"
# a kernel client's buffer (p2pmem_dmabuf_alloc), imported by the engine
r=$(ctl "$edu0" "kexport 13 $mc")
say "$r"
case "$r" in "kexport ok provider=$p dma="*" len=65536") ;; *) fail "kernel client export: $r" ;; esac
dma=${r#*dma=}
in_bar "${dma%% *}" || fail "kexport DMA address outside $mc's BAR2: $r"
r=$(ctl "$edu1" "kexport 13 $mc")
case "$r" in "kexport refused errno=121") ;; *) fail "kernel client export across root ports: $r" ;; esac
[ "$(kattr "$p" stats/in_use)" = 0 ] || fail "$p: in_use $(kattr "$p" stats/in_use) after the imports"
# ... and from a drive's CMB (p2pmem.ko's on stock kernels; upstream's on
# 7.x): nvme b sits below sw0 beside edu0, and the CMB is MMIO in QEMU
if rig_no_p2pdma; then
	rig_pair
	pb=$(kmod_provider "$b" nvme-cmb) || fail "no CMB provider for $b"
	# shellcheck disable=SC2046 # start and end of b's BAR2
	set -- $(sed -n 3p "$SYS_PCI/$b/resource")
	dmabuf-edu -s 8K "/dev/$pb" "$edu0" 21 >/tmp/o 2>&1 || fail "import from $pb: $(cat /tmp/o)"
	grep -q '^bytes ok' /tmp/o || fail "bytes through $pb: $(cat /tmp/o)"
	dma=$(sed -n 's/^import ok dma=\([^ ]*\) len=8192$/\1/p' /tmp/o)
	[ -n "$dma" ] && [ $((dma)) -ge $(($1)) ] && [ $((dma)) -le $(($2)) ] ||
		fail "import DMA address '$dma' outside $b's BAR2 ($1-$2)"
	[ "$(kattr "$pb" stats/in_use)" = 0 ] || fail "$pb: in_use $(kattr "$pb" stats/in_use) after the import"
	say "$pb ($b's CMB): exported, imported by $edu0 at $dma, bytes read back through the mapping"
fi

# (c) refusals
dmabuf-edu -n "/dev/$p" "$edu0" 7 >/tmp/o 2>&1
rc=$?
[ $rc = 1 ] && grep -q '^import refused errno=95$' /tmp/o || fail "no-p2p importer: exit $rc: $(cat /tmp/o)"
log_has "importer $edu0 refused: it does not accept peer-to-peer memory"
say "refused without allow_peer2peer: EOPNOTSUPP"
dmabuf-edu "/dev/$p" "$edu1" 7 >/tmp/o 2>&1
rc=$?
[ $rc = 1 ] && grep -q '^import refused errno=121$' /tmp/o || fail "far importer: exit $rc: $(cat /tmp/o)"
log_has "client $edu1 refused: it and provider $mc do not share an upstream bridge or whitelisted host bridge"
say "refused across root ports: EREMOTEIO"

# (d) 7.x lets an importer map without a way to be told to let go: the
# removal waits for it, naming it, and finishes once it releases.
if [ "$RIG_KERNEL" = debian-new ]; then
	rm -f /tmp/release /tmp/pin.out
	dmabuf-edu -P /tmp/release "/dev/$p" "$edu0" 5 >/tmp/pin.out 2>&1 &
	hpid=$!
	wait_line /tmp/pin.out READY 20 || fail "pinning importer did not start: $(cat /tmp/pin.out)"
	kmod_unbind "$mc" &
	upid=$!
	wait_dmesg "dma-buf of dmabuf-edu\[$hpid\] (16 pages) still mapped by importer $edu0" ||
		fail "removal did not name the pinning importer"
	kill -0 $upid 2>/dev/null || fail "the unbind did not wait for the pinning importer"
	say "removal waits for the pinning importer, named in the log"
	touch /tmp/release
	wait $upid
	wait $hpid || fail "pinning importer: $(cat /tmp/pin.out)"
	grep -q '^released' /tmp/pin.out || fail "pinning importer: $(cat /tmp/pin.out)"
	log_has "$p: all pages back after"
	kmod_bind "$mc" || fail "cannot bind $mc again"
	p=$(kmod_provider "$mc" memory) || fail "no provider for $mc after rebinding"
fi

# (d) unbind while an importer holds a mapping
rm -f /tmp/hold.out
dmabuf-edu -H "/dev/$p" "$edu0" 3 >/tmp/hold.out 2>&1 &
pid=$!
wait_line /tmp/hold.out READY 20 || fail "holder did not start: $(cat /tmp/hold.out)"
t0=$(now_ms)
kmod_unbind "$mc"
say "unbind took $(($(now_ms) - t0)) ms with an imported buffer"
wait $pid || fail "holder: $(cat /tmp/hold.out)"
grep -q '^revoked$' /tmp/hold.out || fail "holder not told: $(cat /tmp/hold.out)"
log_has "$edu0: p2pmem_edu: dma-buf revoked by its exporter: mapping dropped"
dmesg | grep -q "$p: removed in" || fail "the card's provider was not removed"
rmmod p2pmem_edu || fail "rmmod p2pmem_edu"
kmod_unload
exit 0
