#!/bin/bash
# A short libFuzzer run of the parsers (CI budget); the long run's figure is
# in README. Any crash, leak or sanitizer report fails.
set -u
cd "$(dirname "$0")/.." || exit 1
bin=build/fuzz/fuzz_parsers
[ -x "$bin" ] || { echo "$bin missing: run make fuzz"; exit 1; }
work=$(mktemp -d)
cp fuzz/corpus/* "$work/"
"$bin" -runs="${P2PMEM_FUZZ_RUNS:-300000}" -max_len=4200 -seed=1 "$work"
rc=$?
rm -rf "$work"
exit $rc
