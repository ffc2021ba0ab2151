#!/bin/sh
# kmod-providers: p2pmem.ko loads; the memory card, bound to p2pmem_pci with
# driver_override, becomes a provider, and on kernels without P2PDMA (stock,
# debug) so do both NVMe
# CMBs (the nvme driver left them disabled); on the P2PDMA kernel the CMBs stay
# upstream's (p2pmem/ in sysfs, no kmod provider).  Each provider: parent = its
# PCI function, size/available/published/kind/state/bar/bus_offset/iommu/stats
# as the uapi header says, /dev/p2pmemN mode 0600 root, the BAR uncached
# (uncached-minus) in the PAT memtype list.  The memory card maps whole
# 512 KiB folios (folio_size; a 4 KiB mapping holds one).  rmmod is clean.
# rig: fabrics=switch,split,deep kernels=stock,debug@deep,p2pdma,stock61@deep,debian-new@deep
# shellcheck source=tests/vm/kmod-lib.sh disable=SC2119 # kmod_load without parameters
. /tests/kmod-lib.sh
need_kmod

mc=$(kmod_memcard) || fail "no memory card"
kmod_load
kmod_bind "$mc" || fail "cannot bind $mc to p2pmem_pci"
pm=$(kmod_provider "$mc" memory) || fail "no provider for the memory card $mc"

check_provider() { # P2PMEMN BDF KIND BAR
	p=$1
	[ "$(basename "$(readlink -f "$CLASS/$p/device")")" = "$2" ] || fail "$p: parent is not $2"
	[ "$(kattr "$p" kind)" = "$3" ] || fail "$p: kind $(kattr "$p" kind), expected $3"
	[ "$(kattr "$p" bar)" = "$4" ] || fail "$p: bar $(kattr "$p" bar), expected $4"
	[ "$(kattr "$p" state)" = online ] || fail "$p: state $(kattr "$p" state)"
	[ "$(kattr "$p" published)" = 1 ] || fail "$p: not published"
	[ "$(kattr "$p" bus_offset)" = 0 ] || fail "$p: bus_offset $(kattr "$p" bus_offset)"
	[ "$(kattr "$p" iommu)" = none ] || fail "$p: iommu $(kattr "$p" iommu) (the rig has none)"
	size=$(kattr "$p" size)
	bar=$(rig_bar_size "$2" "$4")
	if [ "$size" -le 0 ] || [ "$size" -gt "$bar" ]; then fail "$p: size $size, BAR$4 is $bar"; fi
	[ $((size % 2097152)) -eq 0 ] || fail "$p: size $size is not 2 MiB aligned"
	[ "$(kavail "$p")" = "$size" ] || fail "$p: available $(kavail "$p") != size $size"
	for s in allocations failures in_use peak zero_sync_bytes zero_bg_bytes revocations; do
		[ -r "$CLASS/$p/stats/$s" ] || fail "$p: no stats/$s"
	done
	[ "$(kattr "$p" stats/in_use)" = 0 ] || fail "$p: in_use $(kattr "$p" stats/in_use)"
	mode=$(stat -c '%a %u' "/dev/$p") || fail "no /dev/$p"
	[ "$mode" = "600 0" ] || fail "/dev/$p: mode/owner $mode, expected 600 root (uid 0)"
	range=$(kattr "$p" range)
	lo=${range%-*}
	pat=$(grep -i "$(printf '%016x' "$lo")" /sys/kernel/debug/x86/pat_memtype_list | head -n1)
	echo "$pat" | grep -q 'uncached-minus' || fail "$p: PAT memtype of $range is not uncached-minus: '$pat'"
	say "$p: $2 $3 BAR$4 size $size range $range, PAT: ${pat#*] }"
}

check_provider "$pm" "$mc" memory 2

# Mappings are made of 512 KiB folios since Linux 6.8 (plain pages before):
# a 4 KiB mapping takes one whole folio (held here by an io_uring
# registration after munmap), and gives it back when the registration goes.
case $(uname -r) in
[1-5].* | 6.[0-7].*) want=4096 ;;
*) want=524288 ;;
esac
# On P2PDMA kernels the pages are upstream's, 4 KiB each (upstream_pool.c).
[ "$(kattr "$pm" pool)" = upstream ] && want=4096
fs=$(kattr "$pm" folio_size)
[ "$fs" = "$want" ] || fail "$pm: folio_size $fs, expected $want on Linux $(uname -r)"
rm -f /tmp/fold
kmod-buf -d "/dev/$pm" -c "$mc" -s 4K uring-hold /tmp/fold >/tmp/fold.out 2>&1 &
hold=$!
wait_line /tmp/fold.out 'READY\|UNSUPPORTED\|REFUSED' || fail "io_uring holder did not start: $(cat /tmp/fold.out)"
if kmod_uring_refused "$pm" "$hold" /tmp/fold.out; then
	say "$pm: folio_size $fs (upstream's pages); io_uring refuses to pin them long-term (EREMOTEIO)"
elif grep -q READY /tmp/fold.out; then
	[ "$(kattr "$pm" stats/in_use)" = "$fs" ] ||
		fail "$pm: in_use $(kattr "$pm" stats/in_use) with a 4 KiB mapping held, expected one folio ($fs)"
	touch /tmp/fold
	wait "$hold" || fail "io_uring holder failed: $(cat /tmp/fold.out)"
	[ "$(kattr "$pm" stats/in_use)" = 0 ] || fail "$pm: in_use $(kattr "$pm" stats/in_use) after the folio came back"
	say "$pm: folio_size $fs; a 4 KiB mapping held one folio and gave it back"
else
	wait "$hold"	# io_uring before 6.3 refuses to register the mapping
	say "$pm: folio_size $fs (io_uring cannot hold the mapping on $(uname -r))"
fi

if rig_no_p2pdma; then
	for b in $(rig_nvme_bdfs); do
		p=$(kmod_wait_provider "$b" nvme-cmb) || fail "no CMB provider for $b"
		check_provider "$p" "$b" nvme-cmb 2
	done
	dmesg | grep -q 'p2pmem: version .* loaded (stock kernel' || fail "no load message"
else
	for b in $(rig_nvme_bdfs); do
		kmod_provider "$b" nvme-cmb && fail "$b: a kmod CMB provider on a P2PDMA kernel"
		[ -d "$SYS_PCI/$b/p2pmem" ] || fail "$b: upstream p2pmem/ is gone"
	done
	say "P2PDMA kernel: CMBs left to upstream"
fi

# The library lists them (kmod backend), with the kernel's numbers.
if command -v p2pmem >/dev/null; then
	p2pmem list -o json >/tmp/list.json || fail "p2pmem list -o json failed"
	cnt=$(jget /tmp/list.json providers.#)
	for p in $(cd "$CLASS" && echo p2pmem*); do
		bdf=$(basename "$(readlink -f "$CLASS/$p/device")")
		# On upstream's pool the library lists upstream's provider of
		# the same memory (its free memory is upstream's to tell).
		backend=kmod
		[ "$(kattr "$p" pool)" = upstream ] && backend=upstream
		i=0 found=
		while [ $i -lt "$cnt" ]; do
			if [ "$(jget /tmp/list.json providers.$i.bdf)" = "$bdf" ] &&
				[ "$(jget /tmp/list.json providers.$i.backend)" = $backend ]; then
				found=$i
			fi
			i=$((i + 1))
		done
		[ -n "$found" ] || { cat /tmp/list.json; fail "p2pmem list does not show $p ($bdf) as a $backend provider"; }
		[ "$(jget /tmp/list.json providers.$found.served_by)" = p2pmem.ko ] ||
			fail "p2pmem list: $p ($bdf) not served by p2pmem.ko"
		[ "$(jget /tmp/list.json providers.$found.size)" = "$(kattr "$p" size)" ] ||
			fail "p2pmem list: $p size differs from sysfs"
		[ "$(jget /tmp/list.json providers.$found.kind)" = "$(kattr "$p" kind)" ] ||
			fail "p2pmem list: $p kind $(jget /tmp/list.json providers.$found.kind)"
	done
	say "p2pmem list shows every provider of p2pmem.ko"
fi

n=$(find "$CLASS/" -maxdepth 1 -name "p2pmem*" | wc -l)
kmod_unload
[ -e "$CLASS" ] && fail "class p2pmem still there after rmmod"
say "$n providers, unloaded cleanly"
exit 0
