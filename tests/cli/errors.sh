#!/bin/bash
# Bad input: a clear message on stderr, exit 2, nothing on stdout, no crash.
. "$(dirname "$0")/lib.inc"

# Unknown PCI function, malformed address, unknown device name.
expect_exit 2 'no PCI function 0000:99:00.0' -- fx switch check 0000:99:00.0
expect_exit 2 "no device '0000:zz:00.0'" -- fx switch check 0000:zz:00.0
expect_exit 2 "no device '/dev/nvme7n1'.*p2pmem topo" -- fx switch check /dev/nvme7n1
expect_exit 2 'provider .*no PCI function' -- fx switch check --provider 0000:42:00.0 /dev/nvme0n1
# Block devices that are not PCI, or ambiguous.
expect_exit 2 'loop0 is not backed by a PCI function' -- fx broken check /dev/loop0
expect_exit 2 'reachable through 2 NVMe controllers' -- fx broken check /dev/nvme3n1
# Unreadable sysfs: missing root, a root without bus/pci/devices.
expect_exit 2 'cannot use /nonexistent as the sysfs root' -- "$P2PMEM_BIN" --sysfs-root /nonexistent list
empty=$(mktemp -d)
expect_exit 2 "cannot read .*bus/pci/devices.*sysfs" -- "$P2PMEM_BIN" --sysfs-root "$empty" topo
P2PMEM_SYSFS_ROOT=$empty expect_exit 2 "cannot read .*bus/pci/devices" -- "$P2PMEM_BIN" check 0000:00:00.0
rmdir "$empty"
# Garbage config space on the path: the function at fault is named.
expect_exit 2 'config space of 0000:02:00.0 .*vendor ID reads 0xffff' -- fx broken check --provider 0000:03:00.0 0000:04:00.0
expect_exit 2 'config space of 0000:02:01.0 .*loops' -- fx broken check --provider 0000:05:00.0 /dev/nvme1n1
expect_exit 2 'config space of 0000:02:03.0 .*32 bytes' -- fx broken check --provider 0000:05:00.0 0000:06:00.0
expect_exit 2 'config space of 0000:02:04.0 .*No such file' -- fx broken check -o json --provider 0000:05:00.0 0000:07:00.0
expect_exit 2 'config space of 0000:0b:00.0 .*0 bytes' -- fx broken check --provider 0000:05:00.0 0000:0b:00.0
# Usage errors.
expect_exit 2 'needs at least one CLIENT' -- fx switch check
expect_exit 2 "unknown option '--frobnicate'" -- fx switch check --frobnicate /dev/nvme0n1
expect_exit 2 "option '--provider' needs a value" -- fx switch check /dev/nvme0n1 --provider
expect_exit 2 "unknown output format 'xml'" -- fx switch list -o xml
expect_exit 2 'does not apply to list' -- fx switch list -o dot
expect_exit 2 "unknown command 'frob'" -- fx switch frob
expect_exit 2 'takes no operands' -- fx switch list extra
expect_exit 2 'usage: p2pmem' -- "$P2PMEM_BIN"
# A provider without memory is judged, and refused as a provider.
expect_exit 1 'publishes no p2p memory' -- fx switch check --provider 0000:02:00.0 /dev/nvme0n1
# A broken port elsewhere does not spoil a ranking: that provider is last.
expect_exit 0 'provider  0000:05:00.0' -- fx broken check 0000:05:00.1
# Help is not an error.
expect_exit 0 'usage: p2pmem check' -- fx switch check --help
expect_exit 0 '^p2pmem [0-9]' -- "$P2PMEM_BIN" --version
finish
