#!/bin/bash
# p2pmem check on the fixtures: exit codes, client names, explanations.
. "$(dirname "$0")/lib.inc"
# The structure of the output; device names (libpci) are conventions.sh's.
export P2PMEM_PCI_IDS=

# The switch pair is usable; every client spelling resolves to the same.
for c in 0000:04:00.0 04:00.0 /dev/nvme1n1 nvme1n1 /dev/nvme1 nvme1; do
	expect_exit 0 'distance 4, map type bus-addr' -- fx switch check --provider 0000:03:00.0 "$c"
done
expect_exit 0 'client    0000:04:00.0 \(/dev/nvme1n1\)' -- fx switch check --provider /dev/nvme0n1 /dev/nvme1n1
expect_exit 0 'path      0000:03:00.0 -> 0000:02:00.0 -> 0000:01:00.0 -> 0000:02:01.0 -> 0000:04:00.0' -- fx switch check --provider 0000:03:00.0 /dev/nvme1n1
# A partition resolves to its disk; a SATA disk to its controller.
expect_exit 0 'client    0000:03:00.0 \(nvme0n1p1\)' -- fx switch check --provider 0000:03:00.0 nvme0n1p1
expect_exit 1 'client    0000:00:1f.2 \(/dev/sda\)' -- fx switch check /dev/sda
# Best provider: a drive's own CMB first, then the ranking.
expect_exit 0 'provider  0000:04:00.0' -- fx switch check /dev/nvme1n1
expect_exit 0 '2\. 0000:03:00.0 nvme-cmb distance 4' -- fx switch check /dev/nvme1n1
# Split: refused with the kernel's words and a fix.
expect_exit 1 'do not share an upstream bridge or whitelisted host bridge' -- fx split check --provider 0000:01:00.0 /dev/nvme1n1
expect_exit 1 'Fix: choose a provider below the same PCIe switch' -- fx split check --provider 0000:01:00.0 /dev/nvme1n1
expect_exit 1 'host bridge pci0000:00 \(0000:00:00.0, 8086:29c0\) is not on the kernel.s P2PDMA whitelist' -- fx split check --provider 0000:01:00.0 /dev/nvme1n1
# ACS: names the port, the bits and the kernel parameter.
expect_exit 1 '0000:02:00.0 \(downstream-port: P2P Request Redirect, P2P Completion Redirect\)' -- fx acs check --provider 0000:03:00.0 0000:04:00.0
expect_exit 1 'pci=disable_acs_redir=0000:02:00.0' -- fx acs check --provider 0000:03:00.0 0000:04:00.0
# AMD Zen: through the host bridge.
amd=$(mktemp)
printf 'processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n' >"$amd"
P2PMEM_CPUINFO=$amd expect_exit 0 'map type host-bridge' -- "$P2PMEM_BIN" --sysfs-root "$P2PMEM_FIXTURES/split" check --provider 0000:01:00.0 0000:02:00.0
rm -f "$amd"
# Unprivileged view: judged, with a warning.
expect_exit 0 'warning   ACS state of 0000:02:02.0 unknown' -- fx broken check --provider 0000:05:00.0 0000:05:00.1
# Several clients.
expect_exit 0 'distance 4, map type bus-addr' -- fx switch check --provider 0000:03:00.0 /dev/nvme1n1 /dev/nvme0n1
expect_exit 1 'client 0000:05:00.0: .*refuses' -- fx switch check --provider 0000:03:00.0 /dev/nvme1n1 0000:05:00.0
# Options before the command and the environment variable.
expect_exit 0 '"map_type": "bus-addr"' -- "$P2PMEM_BIN" -o json --sysfs-root "$P2PMEM_FIXTURES/switch" check --provider 0000:03:00.0 0000:04:00.0
P2PMEM_SYSFS_ROOT=$P2PMEM_FIXTURES/switch expect_exit 0 'nvme-cmb' -- "$P2PMEM_BIN" list
# topo marks providers, clients, ACS; --dot is Graphviz.
expect_exit 0 '0000:04:00.0 1b36:0010 NVMe controller \[nvme\] <provider nvme-cmb 64.0 MiB, 62.0 MiB free> \{nvme1,nvme1n1\}' -- fx switch topo
expect_exit 0 'ACS-redirect\(ctrl=0x001d\)' -- fx acs topo
expect_exit 0 '"0000:01:00.0" -> "0000:02:00.0"' -- fx switch topo --dot
expect_exit 0 'host bridge id 8086:2030 from 0002:00:04.0' -- fx whitelist topo
# p2pmem.ko providers: listed with their backend and name; offline ones not.
expect_exit 0 '0000:04:00.0  memory             kmod       256.0 MiB  200.0 MiB yes' -- fx kmod list
# A CMB p2pmem.ko adopted says so, and what that means.
expect_exit 0 '0000:03:00.0  nvme-cmb \(adopted\) kmod' -- fx kmod list
expect_exit 0 'adopted: a CMB the nvme driver disabled' -- fx kmod list
expect_exit 0 '"kind": "nvme-cmb"' -- fx kmod list -o json
expect_exit 0 '"name": "p2pmem1"' -- fx kmod list -o json
if fx kmod list | grep -q 06:00.0; then echo "FAIL: an offline provider is listed"; fails=$((fails + 1)); fi
expect_exit 0 'provider  0000:04:00.0 \(memory, kmod, 200.0 MiB of 256.0 MiB free\)' -- fx kmod check /dev/nvme1n1
# IOMMU: the same answer, with what translation means.
expect_exit 0 '0000:04:00.0 is in IOMMU group 1 \(DMA\): its DMA addresses are IOVAs' -- fx iommu check --provider 0000:03:00.0 /dev/nvme1n1
expect_exit 1 '0000:05:00.0 is in IOMMU group 2 \(identity\): its DMA addresses are not translated' -- fx iommu check --provider 0000:03:00.0 /dev/nvme2n1
# p2pmem.ko providers: check says what the module will do with translated
# clients, and how to fix it; the automatic choice skips what it refuses.
expect_exit 1 'translated by the IOMMU \(DMA-FQ domain\) and p2pmem.ko.s memory is mapped like RAM.*p2pmem.ko refuses.*iommu=pt.*/sys/kernel/iommu_groups/1/type' -- fx iommu-kmod check --provider 0000:04:00.0 /dev/nvme1n1
expect_exit 1 'p2pmem.ko refuses it: 0000:03:00.0.s DMA is translated by the IOMMU' -- fx iommu-kmod check --provider 0000:03:00.0 /dev/nvme0n1
expect_exit 0 'provider  0000:05:00.0 \(nvme-cmb, upstream' -- fx iommu-kmod check /dev/nvme0n1 /dev/nvme1n1
expect_exit 0 'verdict   usable: distance 0, map type bus-addr' -- fx iommu-kmod check --provider 0000:08:00.0 /dev/nvme2n1
expect_exit 1 'iommu=pt does not clear it' -- fx iommu-kmod check --provider 0000:0b:00.1 /dev/nvme5n1
expect_exit 0 'iommu=1\(DMA\)' -- fx iommu topo
# A function that goes away while we look (hot unplug between listing
# bus/pci/devices and reading the function): the rest is still judged, and
# a question about other devices does not read it at all. The memory card's
# directory is replaced by a FIFO as `config`: reading it would block.
gone=$(mktemp -d)
cp -a "$P2PMEM_FIXTURES/switch" "$gone/switch"
rm -rf "$gone/switch/devices/pci0000:00/0000:00:02.0/0000:05:00.0"
card=$gone/switch/devices/pci0000:00/0000:00:1f.2
rm "$card/config" && mkfifo "$card/config"
lazy() { P2PMEM_CPUINFO=$gone/switch/cpuinfo timeout 10 "$P2PMEM_BIN" --sysfs-root "$gone/switch" "$@"; }
expect_exit 0 'distance 4, map type bus-addr' -- lazy check --provider 0000:03:00.0 /dev/nvme1n1
expect_exit 0 'provider  0000:04:00.0' -- lazy check /dev/nvme1n1
expect_exit 0 '0000:04:00.0 +nvme-cmb' -- lazy list
expect_exit 2 'no PCI function 0000:05:00.0' -- lazy check --provider 0000:05:00.0 /dev/nvme1n1
rm -f "$card/config"
expect_exit 0 '0000:00:02.0 1b36:000c' -- lazy topo
if lazy topo | grep -q 05:00.0; then echo "FAIL: topo shows a function that is gone"; fails=$((fails + 1)); fi
rm -rf "$gone"
finish
