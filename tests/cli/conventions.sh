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

# help COMMAND without a terminal: the command's usage; a bad name: exit 2.
expect_exit 0 '^usage: p2pmem copy' -- "$P2PMEM_BIN" help copy
expect_exit 0 'help +the manual of a command' -- "$P2PMEM_BIN" help
expect_exit 2 "no command 'nope'" -- "$P2PMEM_BIN" help nope

# Shell completion (bash): commands, options, --via and -o values.
if [ -f /usr/share/bash-completion/bash_completion ]; then
	comp() {	# WORDS...: what completing the last word offers
		bash -c '. /usr/share/bash-completion/bash_completion
			. "$1"; shift
			COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
			_p2pmem; printf "%s\n" "${COMPREPLY[@]}"' _ "$(dirname "$0")/../../completions/p2pmem.bash" "$@"
	}
	[ "$(comp p2pmem co | sort | tr '\n' ' ')" = "copy " ] || fail "bash completion of 'co': $(comp p2pmem co)"
	comp p2pmem copy --via '' | grep -qx device || fail "bash completion of --via lacks device"
	comp p2pmem copy --no- | grep -qx -- --no-device-copy || fail "bash completion lacks --no-device-copy"
	comp p2pmem topo -o '' | grep -qx dot || fail "bash completion of topo -o lacks dot"
	[ -z "$(comp p2pmem list -o '' | grep -x dot)" ] || fail "bash completion offers dot to list"
else
	fail "bash-completion is not installed (scripts/install-deps installs it)"
fi
bash -n "$(dirname "$0")/../../completions/p2pmem.bash" || fail "completions/p2pmem.bash does not parse"
# zsh: the function loads under compinit and offers the commands.
if command -v zsh >/dev/null; then
	zsh -n "$(dirname "$0")/../../completions/_p2pmem" || fail "completions/_p2pmem does not parse"
	out=$(zsh -f -c 'fpath=("$1" $fpath); autoload -Uz compinit; compinit -u -D
		autoload -Uz _p2pmem; (( $+functions[_p2pmem] )) && echo loaded' _ \
		"$(cd "$(dirname "$0")/../../completions" && pwd)" 2>&1)
	[ "$out" = loaded ] || fail "zsh does not load _p2pmem: $out"
else
	fail "zsh is not installed (scripts/install-deps installs it)"
fi

# Names from the PCI ID database (libpci), as lspci shows them.
expect_exit 0 '03:00.0 1b36:0010 NVMe controller: Red Hat, Inc. QEMU NVM Express Controller \[nvme\]' -- fx switch topo
expect_exit 0 'client    0000:04:00.0 \(/dev/nvme1n1\): Red Hat, Inc. QEMU NVM Express Controller' -- \
	fx switch check /dev/nvme1n1
expect_exit 0 '"name": "Texas Instruments XIO3130 PCI Express Switch \(Upstream\)"' -- fx switch topo -o json
out=$(P2PMEM_PCI_IDS= fx switch topo)
echo "$out" | grep -q 'QEMU NVM' && fail "P2PMEM_PCI_IDS= still names devices"
echo "$out" | grep -q '03:00.0 1b36:0010 NVMe controller \[nvme\]' || fail "without names the line changed: $out"

empty=$(mktemp -d)
trap 'rm -rf "$empty"' EXIT
mkdir -p "$empty/bus/pci/devices"
expect_exit 0 'CONFIG_PCI_P2PDMA.*' -- "$P2PMEM_BIN" --sysfs-root "$empty" list
expect_exit 0 'p2pmem.ko, for any kernel, is not loaded: `modprobe p2pmem`' -- \
	"$P2PMEM_BIN" --sysfs-root "$empty" list
mkdir -p "$empty/class/p2pmem"
expect_exit 0 'p2pmem.ko is loaded but serves no device' -- "$P2PMEM_BIN" --sysfs-root "$empty" list
finish
