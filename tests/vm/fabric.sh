#!/bin/sh
# fabric: the guest sees the fabric profile.  The PCI tree (sysfs) equals
# rig/fabrics/<fabric>.tree, the nvme driver bound both NVMe functions with a
# live controller and a 256 MiB namespace each, every NVMe has its 64 MiB CMB
# in BAR2, and the kernel's view of the CMBs matches the kernel: p2pmem/ with
# a published pool on the P2PDMA kernels (p2pdma, debian-new), no p2pmem/ on stock, stock61 and debug (no
# PCI_P2PDMA), and rig_no_p2pdma agrees with the kernel's name.
# rig: fabrics=switch,split,deep,iommu-zen,iommu-intel,iommu-redir kernels=p2pdma,debug@deep,stock,stock61@deep,debian-new@switch+split+deep
# shellcheck source=tests/vm/lib.sh
. /tests/lib.sh

rig_expected_tree >/tmp/tree.want
rig_pci_tree >/tmp/tree.have
diff -u /tmp/tree.want /tmp/tree.have ||
	fail "the PCI tree differs from rig/fabrics/$RIG_FABRIC.tree (diff above: - expected, + seen)"
say "PCI tree matches rig/fabrics/$RIG_FABRIC.tree ($(wc -l </tmp/tree.have) functions)"

case "$RIG_KERNEL" in
p2pdma | debian-new) ! rig_no_p2pdma || fail "the $RIG_KERNEL kernel has no pci_p2pdma_add_resource (no PCI_P2PDMA?)" ;;
*) rig_no_p2pdma || fail "the $RIG_KERNEL kernel has pci_p2pdma_add_resource (PCI_P2PDMA)" ;;
esac

funcs=$(rig_nvme_functions)
[ "$(echo "$funcs" | wc -w)" -eq 2 ] || fail "expected 2 NVMe functions, found: $funcs"
bound=$(rig_nvme_bdfs)
[ "$bound" = "$funcs" ] || fail "nvme driver bound [$bound], NVMe functions are [$funcs]"

for b in $funcs; do
	ctrl=$(rig_nvme_ctrl "$b") || fail "$b: no nvme controller"
	state=$(cat "/sys/class/nvme/$ctrl/state")
	[ "$state" = live ] || fail "$b: controller $ctrl is $state, not live"
	ns=$(rig_nvme_ns "$b") || fail "$b: no namespace block device"
	sectors=$(cat "/sys/block/${ns#/dev/}/size")
	[ "$sectors" -eq 524288 ] || fail "$b: $ns has $sectors sectors, expected 524288 (256 MiB)"
	cmb=$(rig_bar_size "$b" 2)
	[ "$cmb" -eq $((64 << 20)) ] || fail "$b: BAR2 (CMB) is $cmb bytes, expected 64 MiB"
	p=$SYS_PCI/$b/p2pmem
	case "$RIG_KERNEL" in
	p2pdma | debian-new)
		[ -d "$p" ] || fail "$b: no p2pmem/ on the $RIG_KERNEL kernel (CMB not registered)"
		size=$(cat "$p/size")
		avail=$(cat "$p/available")
		pub=$(cat "$p/published")
		if [ "$size" -le 0 ] || [ "$size" -gt "$cmb" ]; then
			fail "$b: p2pmem/size $size outside (0, $cmb]"
		fi
		[ "$avail" -le "$size" ] || fail "$b: p2pmem/available $avail > size $size"
		[ "$pub" = 1 ] || fail "$b: p2pmem/published is $pub"
		say "$b $ctrl $ns: live, CMB 64 MiB, p2pmem size $size available $avail published"
		;;
	stock | stock61 | debug)
		[ ! -e "$p" ] || fail "$b: p2pmem/ exists on the $RIG_KERNEL kernel"
		say "$b $ctrl $ns: live, CMB 64 MiB in BAR2, no p2pmem/ ($RIG_KERNEL kernel)"
		;;
	*) fail "unknown kernel '$RIG_KERNEL'" ;;
	esac
done

cards=0
for d in "$SYS_PCI"/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1110 ] || continue
	cards=$((cards + 1))
	[ "$(rig_bar_size "$(basename "$d")" 2)" -eq $((256 << 20)) ] ||
		fail "memory card $(basename "$d"): BAR2 is not 256 MiB"
done
[ $cards -eq 1 ] || fail "expected one memory card (ivshmem), found $cards"
exit 0
