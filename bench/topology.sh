#!/bin/bash
# Time `p2pmem topo`, `list` and `check` on the generated fabrics of 1,000
# and 10,000 PCI functions: the median of RUNS runs, each a fresh process
# (scan included), output discarded, and how much slower the big fabric is.
#
#   bench/topology.sh [RUNS]        (default 21)
#
# The generator gives 30% of the drives a CMB, so the big fabric has ten
# times the providers too: `list` prints ten times the rows and `check C`
# ranks ten times the providers. Only `check --provider P C` (and a copy
# with a named provider) asks about a fixed number of functions.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-21}
bin=build/p2pmem
fx=$(mktemp -d)
trap 'rm -rf "$fx"' EXIT
sizes=(1000 10000)

median_ms() {	# ROOT ARGS...: median wall time of RUNS runs, in ms
	local root=$1 i t0 t1
	shift
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		P2PMEM_SYSFS_ROOT=$root P2PMEM_CPUINFO=$root/cpuinfo "$bin" "$@" >/dev/null
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000))
	done | sort -n | awk '{ t[NR] = $1 } END { printf "%.1f", t[int((NR + 1) / 2)] / 1000 }'
}

for n in "${sizes[@]}"; do
	got=$(tests/fixtures/mkfabric --large "$n" "$fx/$n")
	nprov=$(P2PMEM_SYSFS_ROOT=$fx/$n P2PMEM_CPUINFO=$fx/$n/cpuinfo "$bin" list -o json |
		python3 -c 'import json, sys; print(len(json.load(sys.stdin)["providers"]))')
	echo "fabric $n: $got PCI functions, $nprov providers"
done

commands=(
	"topo"
	"topo -o json"
	"list"
	"check /dev/nvme5n1"
	"check --provider 0000:0a:00.0 /dev/nvme5n1"
)
printf '%-50s %10s %10s %7s\n' "command (median of $runs)" "${sizes[0]}" "${sizes[1]}" "ratio"
for c in "${commands[@]}"; do
	read -ra args <<<"$c"
	small=$(median_ms "$fx/${sizes[0]}" "${args[@]}")
	big=$(median_ms "$fx/${sizes[1]}" "${args[@]}")
	printf '%-50s %7s ms %7s ms %6.1fx\n' "p2pmem $c" "$small" "$big" \
		"$(awk -v a="$small" -v b="$big" 'BEGIN { print b / a }')"
done
