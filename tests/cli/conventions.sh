#!/bin/bash
# What users of nvme-cli and pciutils expect of a command: --version / -V
# anywhere on the line, --output-format as -o, and on a machine without
# providers a `list` that names both routes to them.
. "$(dirname "$0")/lib.inc"
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
v=$(cat "$(dirname "$0")/../../VERSION")
for args in "--version" "-V" "list -V" "check --version x y" "copy -V"; do
	# shellcheck disable=SC2086 # a word list
	out=$("$P2PMEM_BIN" $args 2>&1) || fail "p2pmem $args: exit $?"
	[ "$out" = "p2pmem $v" ] || fail "p2pmem $args said '$out', not 'p2pmem $v'"
done
expect_exit 0 '"providers"' -- fx switch list --output-format json
expect_exit 0 '"providers"' -- fx switch --output-format=json list
expect_exit 2 "unknown output format 'yaml'" -- fx switch list --output-format yaml

empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
mkdir -p "$empty/bus/pci/devices"
expect_exit 0 'CONFIG_PCI_P2PDMA.*' -- "$P2PMEM_BIN" --sysfs-root "$empty" list
expect_exit 0 'p2pmem.ko, for any kernel, is not loaded: `modprobe p2pmem`' -- \
	"$P2PMEM_BIN" --sysfs-root "$empty" list
mkdir -p "$empty/class/p2pmem"
expect_exit 0 'p2pmem.ko is loaded but serves no device' -- "$P2PMEM_BIN" --sysfs-root "$empty" list
finish
