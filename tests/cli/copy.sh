#!/bin/bash
# p2pmem copy on the host, through host memory (no p2p hardware here; the
# p2p paths are proven in the rig): data, verify, refusals, multiple pairs,
# and resume after a failure and after an interruption.
. "$(dirname "$0")/lib.inc"
work=$(mktemp -d /var/tmp/p2pmem-copy-test.XXXXXX)
mnt=""
cleanup() {
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
j="--journal-dir $work"
head -c 24M /dev/urandom >"$work/src"
head -c 8M /dev/urandom >"$work/src2"

# Without p2p, a copy is refused unless a host bounce is allowed.
expect_exit 2 'no p2p memory can serve|no provider reaches both.*--allow-host-bounce' -- \
	"$P2PMEM_BIN" copy $j "$work/src" "$work/dst"
[ -e "$work/dst" ] && [ -s "$work/dst" ] && { echo "FAIL: a refused copy wrote data"; fails=$((fails + 1)); }

# Copy with verify; the summary says where the buffers lived.
expect_exit 0 'verified  24.0 MiB' -- "$P2PMEM_BIN" copy $j --allow-host-bounce --verify "$work/src" "$work/dst"
cmp -s "$work/src" "$work/dst" || { echo "FAIL: data differs after copy"; fails=$((fails + 1)); }
expect_exit 0 '"p2p": false' -- "$P2PMEM_BIN" copy $j -o json --allow-host-bounce "$work/src" "$work/dst2"
expect_exit 0 'host memory \(bounce' -- "$P2PMEM_BIN" copy $j --allow-host-bounce "$work/src" "$work/dst2"

# Ranges, block sizes and queue depths.
expect_exit 0 'copied    1.0 MiB' -- "$P2PMEM_BIN" copy $j --allow-host-bounce --src-offset 4M \
	--dst-offset 1M --length 1M --bs 64K --qd 3 "$work/src" "$work/part"
cmp -s <(tail -c +$((4 * 1048576 + 1)) "$work/src" | head -c 1048576) \
	<(tail -c +$((1048576 + 1)) "$work/part") || { echo "FAIL: range copy"; fails=$((fails + 1)); }

# Two pairs at once.
expect_exit 0 'src2 -> ' -- "$P2PMEM_BIN" copy $j --allow-host-bounce --verify \
	"$work/src" "$work/p1" "$work/src2" "$work/p2"
cmp -s "$work/src" "$work/p1" && cmp -s "$work/src2" "$work/p2" ||
	{ echo "FAIL: parallel pairs"; fails=$((fails + 1)); }

# Refusals: misaligned, overlapping, beyond the source, bad sizes, pairs.
expect_exit 2 'not a multiple of .* O_DIRECT' -- "$P2PMEM_BIN" copy $j --allow-host-bounce --src-offset 1000 "$work/src" "$work/x"
expect_exit 2 'length 1000 is not a multiple' -- "$P2PMEM_BIN" copy $j --allow-host-bounce --length 1000 "$work/src" "$work/x"
expect_exit 2 'overlap on one device' -- "$P2PMEM_BIN" copy $j --allow-host-bounce --dst-offset 4096 "$work/src" "$work/src"
expect_exit 2 'ends beyond it' -- "$P2PMEM_BIN" copy $j --allow-host-bounce --src-offset 16M --length 16M "$work/src" "$work/x"
expect_exit 2 'not a size' -- "$P2PMEM_BIN" copy $j --bs lots "$work/src" "$work/x"
expect_exit 2 'needs SRC DST pairs' -- "$P2PMEM_BIN" copy $j "$work/src"
expect_exit 2 'cannot use .*missing: No such file' -- "$P2PMEM_BIN" copy $j --allow-host-bounce "$work/missing" "$work/x"
expect_exit 2 'cannot keep resume journals in /nonexistent' -- "$P2PMEM_BIN" copy --journal-dir /nonexistent --allow-host-bounce "$work/src" "$work/x"
expect_exit 2 'neither a block device nor a regular file' -- "$P2PMEM_BIN" copy $j --allow-host-bounce /dev/null "$work/x"

# Resume after a failure: a destination filesystem too small for the copy
# (ENOSPC midway), grown, then --resume completes it from the journal.
if [ "$(id -u)" -eq 0 ]; then
	mnt=$work/mnt
	mkdir -p "$mnt"
	mount -t tmpfs -o size=10M p2pmem-test "$mnt"
	expect_exit 1 'writing .* failed: No space left' -- "$P2PMEM_BIN" copy $j --allow-host-bounce --bs 1M "$work/src" "$mnt/dst"
	ls "$work"/p2pmem-copy-*.journal >/dev/null 2>&1 || { echo "FAIL: no journal after a failed copy"; fails=$((fails + 1)); }
	mount -o remount,size=32M "$mnt"
	out=$("$P2PMEM_BIN" copy $j -o json --allow-host-bounce --verify --resume --bs 1M "$work/src" "$mnt/dst")
	echo "$out" | grep -q '"resumed_at": [1-9]' || { echo "FAIL: resume started at 0: $out"; fails=$((fails + 1)); }
	cmp -s "$work/src" "$mnt/dst" || { echo "FAIL: data differs after resume"; fails=$((fails + 1)); }
	ls "$work"/p2pmem-copy-*.journal >/dev/null 2>&1 && { echo "FAIL: journal left after success"; fails=$((fails + 1)); }
	umount "$mnt"
	mnt=""
else
	echo "FAIL: the resume test needs root (tmpfs mount)"; fails=$((fails + 1))
fi

# Resume after an interruption (SIGINT): small blocks keep the copy busy.
head -c 256M /dev/zero | tr '\0' 'p' >"$work/big"
interrupted=0
for delay in 0.3 0.1 0.05; do
	rm -f "$work/bigdst" "$work"/p2pmem-copy-*.journal
	"$P2PMEM_BIN" copy $j --allow-host-bounce --bs 4K --qd 1 "$work/big" "$work/bigdst" >"$work/int.out" 2>&1 &
	pid=$!
	sleep $delay
	kill -INT $pid
	wait $pid
	rc=$?
	if [ $rc -eq 1 ] && grep -q 'interrupted' "$work/int.out"; then
		interrupted=1
		break
	fi
done
if [ $interrupted = 1 ]; then
	out=$("$P2PMEM_BIN" copy $j -o json --allow-host-bounce --resume --verify "$work/big" "$work/bigdst")
	echo "$out" | grep -q '"error": null' || { echo "FAIL: resume after SIGINT: $out"; fails=$((fails + 1)); }
	cmp -s "$work/big" "$work/bigdst" || { echo "FAIL: data differs after SIGINT + resume"; fails=$((fails + 1)); }
else
	echo "FAIL: could not interrupt a copy (rc $rc):"; cat "$work/int.out"; fails=$((fails + 1))
fi
finish
