#!/bin/bash
# Time `p2pmem topo` and `p2pmem check` on the generated 1,000-function
# fabric: median and worst of N runs, in milliseconds, each run a fresh
# process (scan included), output discarded.
#
#   bench/topology.sh [RUNS]        (default 50)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-50}
bin=build/p2pmem
fx=$(mktemp -d)
trap 'rm -rf "$fx"' EXIT
n=$(tests/fixtures/mkfabric --large 1000 "$fx/large")
export P2PMEM_SYSFS_ROOT=$fx/large P2PMEM_CPUINFO=$fx/large/cpuinfo

measure() {	# LABEL ARGS...
	local label=$1 i t0 t1
	shift
	local times=()
	for ((i = 0; i < runs; i++)); do
		t0=$(date +%s%N)
		"$bin" "$@" >/dev/null
		t1=$(date +%s%N)
		times+=($(((t1 - t0) / 1000)))
	done
	printf '%s\n' "${times[@]}" | sort -n | awk -v label="$label" -v runs="$runs" '
		{ t[NR] = $1 }
		END { printf "%-34s median %6.1f ms   max %6.1f ms   (%d runs)\n",
			label, t[int((NR + 1) / 2)] / 1000, t[NR] / 1000, runs }'
}

echo "fabric: $n PCI functions ($(ls "$fx/large/devices" | wc -l) host bridges)"
measure "p2pmem topo" topo
measure "p2pmem topo -o json" topo -o json
measure "p2pmem list" list
measure "p2pmem check /dev/nvme5n1 (rank)" check /dev/nvme5n1
measure "p2pmem check --provider P C" check --provider 0000:0a:00.0 /dev/nvme5n1
