# shellcheck shell=sh
# tests/vm/lib.sh - helpers for the VM tests (busybox sh in the rig's guest).
# Sourced by rig/guest/init and by the tests: `. /tests/lib.sh`.
#
# The environment of a test: RIG_FABRIC (switch, split, deep), RIG_KERNEL
# (p2pdma, debug, stock), RIG_P2PDMA (1 if the kernel has CONFIG_PCI_P2PDMA,
# else 0; set by /init), RIG_SLOWDOWN (how many times slower this kernel runs:
# 4 on debug, else 1; for loop counts), cwd /tmp (tmpfs), real /sys (never
# --sysfs-root here).
# Exit 0 pass, 1 fail, 77 skip.  Print what went wrong: the console is the log.

SYS_PCI=/sys/bus/pci/devices

say() { echo "$RIG_TEST: $*"; }
fail() { say "FAIL: $*"; exit 1; }
skip() { say "SKIP: $*"; exit 77; }
RIG_TEST=$(basename "$0" .sh)

# PCI functions of class NVMe (01:08:02), sorted by BDF; in every fabric nvme a
# (serial p2pmem-a) has the lower BDF.
rig_nvme_functions() {
	for d in "$SYS_PCI"/*; do
		[ "$(cat "$d/class")" = 0x010802 ] && basename "$d"
	done | sort
}

# BDFs of the NVMe controllers the nvme driver bound (via /sys/class/nvme:
# controller names can swap between boots), sorted.
rig_nvme_bdfs() {
	for c in /sys/class/nvme/*; do
		[ -e "$c/device" ] || continue
		basename "$(readlink -f "$c/device")"
	done | sort
}

# Controller name (nvmeN) of the NVMe function BDF.
rig_nvme_ctrl() {
	for c in "$SYS_PCI/$1"/nvme/nvme*; do
		[ -d "$c" ] && basename "$c" && return 0
	done
	return 1
}

# /dev node of the first namespace of the NVMe function BDF (matched by the
# controller's serial, so it works with and without NVMe multipath).
rig_nvme_ns() {
	ctrl=$(rig_nvme_ctrl "$1") || return 1
	serial=$(cat "/sys/class/nvme/$ctrl/serial")
	for b in /sys/block/nvme*; do
		[ -e "$b/device/serial" ] || continue
		[ "$(cat "$b/device/serial")" = "$serial" ] && echo "/dev/$(basename "$b")" && return 0
	done
	return 1
}

# rig_wait_ns BDF: wait up to 10 s for the namespace block device of NVMe
# function BDF (after a bind, reset or rebind) and print it; 1 if it does
# not come.
rig_wait_ns() {
	i=0
	while [ $i -lt 100 ]; do
		ns=$(rig_nvme_ns "$1" 2>/dev/null) && [ -b "$ns" ] && echo "$ns" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Size in bytes of BAR $2 of function $1 (0 if unused).
rig_bar_size() {
	i=0
	while read -r start end flags; do
		if [ $i -eq "$2" ]; then
			if [ $((start)) -eq 0 ] && [ $((end)) -eq 0 ]; then echo 0; else echo $((end - start + 1)); fi
			return 0
		fi
		i=$((i + 1))
	done <"$SYS_PCI/$1/resource"
	echo 0
}

# The PCI tree as the fabric profiles' expected-tree files write it
# (rig/fabrics/<fabric>.tree): one function per line in depth-first order,
# indented two spaces per bridge level, "BDF VENDOR:DEVICE" plus the memory
# BARs of 1 MiB or more as "barN=SIZE" (M or G).  Shell builtins only: forks
# are slow under TCG.
rig_pci_tree() {
	for d in "$SYS_PCI"/*; do readlink -f "$d"; done | sort | while read -r p; do
		bdf=${p##*/}
		rel=${p#/sys/devices/pci*/}
		indent=
		while [ "${rel#*/}" != "$rel" ]; do
			rel=${rel#*/}
			indent="$indent  "
		done
		read -r vendor <"$p/vendor"
		read -r device <"$p/device"
		line="$indent$bdf ${vendor#0x}:${device#0x}"
		i=0
		while [ $i -lt 6 ] && read -r start end flags; do
			size=0
			[ $((end)) -eq 0 ] || size=$((end - start + 1))
			if [ $size -ge 1048576 ] && [ $((flags & 0x200)) -ne 0 ]; then
				if [ $((size % 1073741824)) -eq 0 ]; then
					line="$line bar$i=$((size / 1073741824))G"
				else
					line="$line bar$i=$((size / 1048576))M"
				fi
			fi
			i=$((i + 1))
		done <"$p/resource"
		echo "$line"
	done
}

# The expected tree of the running fabric, comments and trailing blanks removed.
rig_expected_tree() {
	sed -e 's/[[:space:]]*#.*$//' -e 's/[[:space:]]*$//' "/rig/fabrics/$RIG_FABRIC.tree" | grep -v '^$'
}

# Set a and b (BDFs of nvme a and b: a is the lower one) and na, nb (their
# namespace /dev nodes); fail unless there are exactly two.
# shellcheck disable=SC2034 # set for the caller
rig_pair() {
	# shellcheck disable=SC2046 # BDFs have no blanks
	set -- $(rig_nvme_bdfs)
	[ $# -eq 2 ] || fail "expected 2 NVMe controllers, found $#"
	a=$1
	b=$2
	na=$(rig_nvme_ns "$a") || fail "$a: no namespace"
	nb=$(rig_nvme_ns "$b") || fail "$b: no namespace"
}

# The project's CLI must be in the initramfs: without it these tests would
# prove nothing, so that is a failure, not a skip.
need_p2pmem() {
	command -v p2pmem >/dev/null ||
		fail "no p2pmem in the initramfs (build/p2pmem missing when rig built it: run make)"
}

# Expected p2p verdict between nvme a and b of this fabric: "ok DISTANCE" or
# "refused".
rig_expected_ab() {
	case "$RIG_FABRIC" in
	switch) echo "ok 4" ;;
	deep) echo "ok 6" ;;
	split) echo "refused" ;;
	iommu-zen) echo "hb 4" ;;	# different root ports, AMD Zen
	iommu-intel | iommu-redir) echo "refused" ;;	# different root ports, q35 host bridge
	*) echo "unknown" ;;
	esac
}

# True on a kernel without CONFIG_PCI_P2PDMA (stock, debug): no upstream
# p2pmem/ for the CMBs, p2pmem.ko serves them (and uses its own page type).
# Decided by the running kernel (upstream's pci_p2pdma_add_resource in
# kallsyms), not by its name; /init does it once for every test.
rig_no_p2pdma() {
	if [ -z "${RIG_P2PDMA:-}" ]; then
		RIG_P2PDMA=0
		grep -q ' pci_p2pdma_add_resource$' /proc/kallsyms && RIG_P2PDMA=1
		export RIG_P2PDMA
	fi
	[ "$RIG_P2PDMA" = 0 ]
}

# Load optional modules of a Debian kernel (rig/rig STOCK_OPT_MODULES): each
# from /lib/modules/opt/NAME.order, dependencies first, skipping loaded ones.
# A kernel that has the feature built in (the rig's own kernels) has no
# .order file: then the module must show in /sys/module, or it fails.
rig_modprobe() {
	local m ko name
	for m in "$@"; do
		if [ ! -f "/lib/modules/opt/$m.order" ]; then
			[ -d "/sys/module/$(echo "$m" | tr - _)" ] || return 1
			continue
		fi
		while read -r ko; do
			name=$(echo "${ko%.ko}" | tr - _)
			[ -d "/sys/module/$name" ] && continue
			insmod "/lib/modules/opt/$ko" || return 1
		done <"/lib/modules/opt/$m.order"
	done
}
