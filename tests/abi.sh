#!/bin/bash
# The shared library exports exactly the functions of include/p2pmem.h,
# each under the version node of lib/libp2pmem.map, and nothing internal.
set -u
cd "$(dirname "$0")/.." || exit 1
declared=$(grep -oE '\bp2pmem_[a-z0-9_]+\(' include/p2pmem.h | tr -d '(' | sort -u)
mapped=$(grep -oE '^\s+p2pmem_[a-z0-9_]+;' lib/libp2pmem.map | tr -d ' \t;' | sort -u)
exported=$(nm -D --defined-only build/libp2pmem.so.0 | awk '$2 == "T" { print $3 }' |
	sed 's/@.*//' | sort -u)
rc=0
if [ "$declared" != "$mapped" ]; then
	echo "header and lib/libp2pmem.map disagree:"; diff <(echo "$declared") <(echo "$mapped")
	rc=1
fi
if [ "$declared" != "$exported" ]; then
	echo "header and the exported symbols disagree:"; diff <(echo "$declared") <(echo "$exported")
	rc=1
fi
[ -n "$declared" ] || { echo "no declarations found"; rc=1; }
exit $rc
