#!/bin/bash
# The shared library exports exactly the functions of include/p2pmem.h,
# each under the version node of lib/libp2pmem.map, and nothing internal;
# and what it exports is what tests/abi.baseline recorded (symbol and
# version node): a symbol gone or moved to another node breaks programs
# linked against an earlier release. `tests/abi.sh --update` records a
# deliberate addition.
set -u
cd "$(dirname "$0")/.." || exit 1
lib=build/libp2pmem.so.0
declared=$(grep -oE '\bp2pmem_[a-z0-9_]+\(' include/p2pmem.h | tr -d '(' | sort -u)
mapped=$(grep -oE '^\s+p2pmem_[a-z0-9_]+;' lib/libp2pmem.map | tr -d ' \t;' | sort -u)
versioned=$(nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sed 's/@@*/ /' | sort -u)
exported=$(echo "$versioned" | cut -d' ' -f1)
if [ "${1:-}" = --update ]; then
	echo "$versioned" >tests/abi.baseline
	echo "tests/abi.baseline: $(wc -l <tests/abi.baseline) symbols"
	exit 0
fi
rc=0
if [ "$declared" != "$mapped" ]; then
	echo "header and lib/libp2pmem.map disagree (scripts/update-symbol-map adds new functions):"
	diff <(echo "$declared") <(echo "$mapped")
	rc=1
fi
if [ "$declared" != "$exported" ]; then
	echo "header and the exported symbols disagree:"; diff <(echo "$declared") <(echo "$exported")
	rc=1
fi
broken=$(comm -23 tests/abi.baseline <(echo "$versioned"))
if [ -n "$broken" ]; then
	echo "ABI break: these symbols@versions of tests/abi.baseline are gone or moved:"
	echo "$broken" | sed 's/^/  /'
	rc=1
fi
added=$(comm -13 tests/abi.baseline <(echo "$versioned"))
if [ -n "$added" ]; then
	echo "new exports not in tests/abi.baseline (record them: tests/abi.sh --update):"
	echo "$added" | sed 's/^/  /'
	rc=1
fi
[ -n "$declared" ] || { echo "no declarations found"; rc=1; }
exit $rc
