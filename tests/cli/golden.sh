#!/bin/bash
# JSON output diffed against tests/cli/expected/*.json (the schema in
# p2pmem(1)). To accept a deliberate change: tests/cli/golden.sh --update
. "$(dirname "$0")/lib.inc"
dir=$(dirname "$0")/expected
update=${1:-}

golden() {	# NAME FIXTURE ARGS...
	local name=$1 got
	shift
	got=$(fx "$@" -o json)
	if [ "$update" = --update ]; then
		printf '%s\n' "$got" >"$dir/$name.json"
	elif ! diff -u "$dir/$name.json" <(printf '%s\n' "$got"); then
		echo "FAIL: $name differs from $dir/$name.json"
		fails=$((fails + 1))
	fi
}

golden list-switch switch list
golden list-none broken list
golden topo-switch switch topo
golden topo-acs acs topo
golden check-switch-pair switch check --provider 0000:03:00.0 /dev/nvme1n1
golden check-switch-best switch check /dev/nvme1n1 /dev/nvme0n1
golden check-split split check --provider 0000:01:00.0 /dev/nvme1n1
golden check-acs acs check --provider 0000:03:00.0 0000:04:00.0
golden check-nested-best nested check 0000:06:00.0 0000:07:00.0
golden check-unpriv broken check --provider 0000:05:00.0 0000:05:00.1
finish
