# shellcheck shell=bash
# rig/fabrics.sh - the rig's fabric profiles, all in one place.
#
# A fabric is a function fabric_<name> RUNDIR that creates its backing files
# (NVMe disk images) in RUNDIR and prints the
# QEMU arguments for its devices, one per line.  fabric_<name>_doc prints one
# line of description.  The PCI tree the guest must see is in
# rig/fabrics/<name>.tree (checked by tests/vm/fabric.sh on both kernels); the
# comment above each function draws the same tree.
#
# Common to all fabrics (DESIGN.md section 4):
#   - NVMe drives: QEMU "nvme", a 64 MiB CMB (BAR2), raw 256 MiB sparse images,
#     serials p2pmem-a / p2pmem-b (nvme0/nvme1 names may swap: use the BDFs).
#   - memory card: "ivshmem-plain", BAR2 = 256 MiB of anonymous host RAM.
#   - every port has an explicit address, chassis and slot, so the guest BDFs
#     are fixed; the q35 chipset functions (00:00.0, 00:1f.*) are always there.
#   - QEMU IDs: 1b36:000c pcie-root-port, 104c:8232 x3130-upstream,
#     104c:8233 xio3130-downstream, 1b36:0010 nvme, 1af4:1110 ivshmem.

RIG_DISK_SIZE=${RIG_DISK_SIZE:-256M}
RIG_CMB_MB=${RIG_CMB_MB:-64}
RIG_MEMCARD_SIZE=${RIG_MEMCARD_SIZE:-256M}

fabric_names() { printf '%s\n' switch split deep iommu-zen iommu-intel iommu-redir; }

fabric_exists() {
	local f
	for f in $(fabric_names); do [ "$f" = "${1:-}" ] && return 0; done
	return 1
}

# --- building blocks (each prints QEMU arguments, one per line) -------------

# root_port ID ADDR CHASSIS: a pcie-root-port on pcie.0 at 00:ADDR.0
root_port() {
	printf '%s\n' -device "pcie-root-port,id=$1,bus=pcie.0,addr=$2,chassis=$3,slot=$3"
}

# switch_up ID BUS: the upstream port of a switch below port BUS
switch_up() {
	printf '%s\n' -device "x3130-upstream,id=$1,bus=$2,addr=0"
}

# switch_down ID UPSTREAM ADDR CHASSIS: one downstream port of a switch
switch_down() {
	printf '%s\n' -device "xio3130-downstream,id=$1,bus=$2,addr=$3,chassis=$4,slot=$4"
}

# nvme RUNDIR NAME BUS [ADDR]: an NVMe drive with a CMB and a fresh raw image
# (ADDR default 0; e.g. "0.0,multifunction=on" for function 0 of a device
# with more functions).  The namespace is its own nvme-ns device: only then
# does QEMU take Copy limits for it (with the legacy "nvme,drive=" they are
# all 0).  Drive a copies inside itself (NVMe Copy, 1 MiB per command in 8
# ranges: MSSRL 256 blocks, MCL 2048, MSRC 7); drive b has the same
# controller but a namespace that accepts no Copy (MSSRL = MCL = 0), as a
# drive without the feature looks to the engine.
RIG_COPY_LIMITS_a=${RIG_COPY_LIMITS_a:-mssrl=256,mcl=2048,msrc=7}
RIG_COPY_LIMITS_b=${RIG_COPY_LIMITS_b:-mssrl=0,mcl=0,msrc=0}
nvme() {
	local img=$1/nvme-$2.img limits=RIG_COPY_LIMITS_$2
	truncate -s "$RIG_DISK_SIZE" "$img"
	printf '%s\n' -drive "file=$img,if=none,id=drv-$2,format=raw,cache=unsafe" \
		-device "nvme,id=nvme-$2,serial=p2pmem-$2,cmb_size_mb=$RIG_CMB_MB,bus=$3,addr=${4:-0}" \
		-device "nvme-ns,drive=drv-$2,bus=nvme-$2,nsid=1,${!limits}"
}

# memcard RUNDIR BUS: a memory card (ivshmem BAR2 backed by host RAM).
# Anonymous memory, like the guest's own RAM: QEMU asks for transparent huge
# pages for both, so a DMA into the card costs the host what one into guest
# RAM does.  A memfd (shmem: 4 KiB pages on Debian's default shmem_enabled)
# made every card access slower; a file on disk had the host write its page
# cache back while the guest copied through it.
memcard() {
	printf '%s\n' -object "memory-backend-ram,id=memcard-mem,size=$RIG_MEMCARD_SIZE" \
		-device "ivshmem-plain,id=memcard,memdev=memcard-mem,bus=$2,addr=${3:-0}"
}

# edu ID BUS: QEMU's "edu" device, a PCI bus master with a DMA engine (4 KiB
# per transfer between its buffer and any bus address), the rig's p2p client
# that is not a drive (kmod/test/p2pmem_edu.c drives it).  QEMU clamps its
# DMA addresses to 28 bits unless told otherwise: the BARs are higher.
edu() {
	printf '%s\n' -device "edu,id=$1,bus=$2,addr=0,dma_mask=0xffffffffffffffff"
}

# intel_iommu: a VT-d IOMMU (ACPI DMAR table), translating by default in
# Debian's kernels.  It must come before the PCI devices it translates: QEMU
# fixes a device's DMA address space when the device is created.  Linux then
# requests ACS (source validation, P2P request/completion redirect, upstream
# forwarding) on every port that has an ACS capability: pcie-root-port has
# one, the x3130 switch ports have none.  Interrupt remapping stays off (it
# needs a split irqchip, which TCG does not have).
intel_iommu() {
	printf '%s\n' -device "intel-iommu,intremap=off"
}

# The CPU model and kernel parameters of a fabric: fabric_<name>_cpu and
# fabric_<name>_append where a fabric needs them (default: QEMU's "max" CPU,
# which the p2p rule treats like an Intel CPU: no host-bridge p2p unless the
# host bridge is whitelisted).
fabric_cpu() {
	if declare -F "fabric_$1_cpu" >/dev/null; then "fabric_$1_cpu"; else echo max; fi
}
fabric_append() {
	if declare -F "fabric_$1_append" >/dev/null; then "fabric_$1_append"; fi
}

# --- switch ------------------------------------------------------------------
# Two NVMe drives below one PCIe switch (p2p through the switch: distance 4,
# map type bus-addr); the memory card on another root port (host bridge path).
#
#   00:00.0 host bridge (q35)
#   00:02.0 pcie-root-port rp0 ------------------------- bus 01
#   |   01:00.0 x3130-upstream sw0 --------------------- bus 02
#   |       02:00.0 xio3130-downstream sw0-d0 ---------- bus 03
#   |       |   03:00.0 nvme a (CMB 64 MiB in BAR2)
#   |       02:01.0 xio3130-downstream sw0-d1 ---------- bus 04
#   |           04:00.0 nvme b (CMB 64 MiB in BAR2)
#   00:03.0 pcie-root-port rp1 ------------------------- bus 05
#   |   05:00.0 ivshmem memory card (BAR2 256 MiB)
#   00:1f.0/.2/.3 ICH9 LPC, SATA, SMBus (q35)
fabric_switch_doc() { echo "two NVMe below one switch; memory card on another root port"; }
fabric_switch() {
	root_port rp0 0x2 1
	switch_up sw0 rp0
	switch_down sw0-d0 sw0 0x0 2
	switch_down sw0-d1 sw0 0x1 3
	nvme "$1" a sw0-d0
	nvme "$1" b sw0-d1
	root_port rp1 0x3 4
	memcard "$1" rp1
}

# --- split -------------------------------------------------------------------
# Each NVMe drive on its own root port: no common upstream bridge, the path goes
# through the q35 host bridge (8086:29c0, not whitelisted): not-supported; the
# kernel refuses p2p DMA with EREMOTEIO.
#
#   00:00.0 host bridge (q35)
#   00:02.0 pcie-root-port rp0 ------------------------- bus 01
#   |   01:00.0 nvme a
#   00:03.0 pcie-root-port rp1 ------------------------- bus 02
#   |   02:00.0 nvme b
#   00:04.0 pcie-root-port rp2 ------------------------- bus 03
#   |   03:00.0 ivshmem memory card
#   00:1f.0/.2/.3 ICH9
fabric_split_doc() { echo "each NVMe on its own root port (p2p not supported)"; }
fabric_split() {
	root_port rp0 0x2 1
	nvme "$1" a rp0
	root_port rp1 0x3 2
	nvme "$1" b rp1
	root_port rp2 0x4 3
	memcard "$1" rp2
}

# --- deep --------------------------------------------------------------------
# Nested switches: switch sw1 hangs below a downstream port of sw0.  nvme a and
# the memory card sit below sw1, nvme b directly below sw0.  a <-> b: common
# bridge 01:00.0, distance 4 + 2 = 6; a <-> memory card: common bridge 04:00.0,
# distance 4; memory card <-> b: distance 6.  All bus-addr.  Two edu DMA
# engines: edu0 below sw0 beside nvme b (memory card <-> edu0: distance 6,
# bus-addr), edu1 on a root port of its own (through the q35 host bridge:
# refused).  They come last, so the buses of the rest keep their numbers.
#
#   00:00.0 host bridge (q35)
#   00:02.0 pcie-root-port rp0 ------------------------- bus 01
#   |   01:00.0 x3130-upstream sw0 --------------------- bus 02
#   |       02:00.0 xio3130-downstream sw0-d0 ---------- bus 03
#   |       |   03:00.0 x3130-upstream sw1 ------------- bus 04
#   |       |       04:00.0 xio3130-downstream sw1-d0 -- bus 05
#   |       |       |   05:00.0 nvme a
#   |       |       04:01.0 xio3130-downstream sw1-d1 -- bus 06
#   |       |           06:00.0 ivshmem memory card
#   |       02:01.0 xio3130-downstream sw0-d1 ---------- bus 07
#   |       |   07:00.0 nvme b
#   |       02:02.0 xio3130-downstream sw0-d2 ---------- bus 08
#   |           08:00.0 edu0 (DMA engine)
#   00:03.0 pcie-root-port rp1 ------------------------- bus 09
#   |   09:00.0 edu1 (DMA engine)
#   00:1f.0/.2/.3 ICH9
fabric_deep_doc() { echo "nested switches: nvme a + memory card below a switch below a switch, nvme b and a DMA engine one level up, another engine on its own root port"; }
fabric_deep() {
	root_port rp0 0x2 1
	switch_up sw0 rp0
	switch_down sw0-d0 sw0 0x0 2
	switch_down sw0-d1 sw0 0x1 3
	switch_up sw1 sw0-d0
	switch_down sw1-d0 sw1 0x0 4
	switch_down sw1-d1 sw1 0x1 5
	nvme "$1" a sw1-d0
	memcard "$1" sw1-d1
	nvme "$1" b sw0-d1
	switch_down sw0-d2 sw0 0x2 6
	edu edu0 sw0-d2
	root_port rp1 0x3 7
	edu edu1 rp1
}

# --- iommu-zen ---------------------------------------------------------------
# An IOMMU (VT-d, translating: DMA-FQ domains) on an AMD Zen CPU model (EPYC:
# family 0x17, on which Linux allows p2p through the host bridge).  nvme a and
# the memory card are two functions of one device below root port rp0; Linux
# turns on ACS P2P redirect at rp0 because an IOMMU is present, so even they
# meet only at the root complex.  nvme b is on its own root port, and so is
# an edu DMA engine: the one client here whose DMA the test driver programs
# itself, so the IOVAs of the host-bridge path (dma_map_resource) carry real
# bytes through the IOMMU (tests/vm/edu-iommu.sh).
#
#   00:00.0 host bridge (q35)
#   00:02.0 pcie-root-port rp0, ACS SV RR CR UF --------- bus 01
#   |   01:00.0 nvme a (function 0 of a multi-function device)
#   |   01:00.1 ivshmem memory card (function 1)
#   00:03.0 pcie-root-port rp1, ACS SV RR CR UF --------- bus 02
#   |   02:00.0 nvme b
#   00:04.0 pcie-root-port rp2, ACS SV RR CR UF --------- bus 03
#   |   03:00.0 edu (DMA engine)
#   00:1f.0/.2/.3 ICH9
#
# Expected (upstream rule): every pair through the host bridge, allowed (Zen);
# a device's own CMB by bus address.  p2pmem.ko: the same, but a drive is
# refused its own CMB while its DMA is translated (an IOVA would loop through
# the root complex back into the BAR).
fabric_iommu-zen_doc() { echo "IOMMU on, AMD Zen CPU: ACS redirect at a root port; host-bridge p2p through IOVAs"; }
fabric_iommu-zen_cpu() { echo EPYC; }
fabric_iommu-zen() {
	iommu_devices "$1"
	root_port rp2 0x4 3
	edu edu0 rp2
}

# The devices of both iommu-* fabrics: VT-d first, then nvme a and the memory
# card as functions 0 and 1 of one device on rp0, nvme b on rp1.
iommu_devices() {
	intel_iommu
	root_port rp0 0x2 1
	nvme "$1" a rp0 "0.0,multifunction=on"
	memcard "$1" rp0 0.1
	root_port rp1 0x3 2
	nvme "$1" b rp1
}

# --- iommu-intel -------------------------------------------------------------
# The same devices on an Intel CPU model (Skylake-Server) and the q35 host
# bridge, which is not on the kernel's whitelist: nothing may cross the root
# complex.  Booted with pci=disable_acs_redir=0000:00:02.0, so nvme a and the
# memory card meet at rp0 by bus address again.
#
#   00:00.0 host bridge (q35, 8086:29c0, not whitelisted)
#   00:02.0 pcie-root-port rp0, ACS SV UF (redirect disabled) -- bus 01
#   |   01:00.0 nvme a            01:00.1 ivshmem memory card
#   00:03.0 pcie-root-port rp1, ACS SV RR CR UF --------- bus 02
#   |   02:00.0 nvme b
#   00:1f.0/.2/.3 ICH9
#
# Expected (upstream rule): a <-> memory card bus-addr (distance 2), a and b
# refused.  p2pmem.ko: while a's DMA is translated its pages go through the
# IOMMU, hence the host bridge: refused; with an identity domain, bus-addr.
fabric_iommu-intel_doc() { echo "IOMMU on, Intel CPU, non-whitelisted host bridge; ACS redirect disabled at one root port"; }
fabric_iommu-intel_cpu() { echo Skylake-Server; }
fabric_iommu-intel_append() { echo "pci=disable_acs_redir=0000:00:02.0"; }
fabric_iommu-intel() { iommu_devices "$1"; }

# --- iommu-redir -------------------------------------------------------------
# iommu-intel without pci=disable_acs_redir=: Linux keeps ACS redirect at rp0,
# so nvme a and the memory card (two functions of one device below it) meet
# only at the root complex, which the q35 host bridge on an Intel CPU does not
# forward: refused, where iommu-intel gives them bus addresses (distance 2).
# The same CPU and devices, one kernel parameter: the flip the parameter makes.
fabric_iommu-redir_doc() { echo "iommu-intel with ACS redirect left on at the root port (no pci=disable_acs_redir)"; }
fabric_iommu-redir_cpu() { echo Skylake-Server; }
fabric_iommu-redir() { iommu_devices "$1"; }
