#!/bin/sh
# startup: what a whole `p2pmem copy` process costs next to dd, the tool a
# user would otherwise run (GNU dd, O_DIRECT both sides; busybox's static dd
# and an empty C program for scale). Medians of alternating rounds, one boot.
#  1 MiB: start-up dominates; the copy must stay within 3x of dd's time
#    through p2p memory (QEMU's CMB moves ~50 MiB/s) and 2.5x through host
#    memory (measured: 1.9-2.1x and 1.2-1.4x).
#  128 MiB through the memory card at 512 KiB: the process end to end vs dd,
#    at QD 1 and QD 4; at QD 4 it must beat dd.
# Every copy is verified once at the end.
# rig: fabrics=deep kernels=stock
# shellcheck source=tests/vm/kmod-lib.sh
. /tests/kmod-lib.sh
kmod_copy_setup

head -c 134217728 /dev/urandom >/tmp/pattern || fail "no pattern"
dd if=/tmp/pattern of="$na" bs=1M conv=fsync 2>/dev/null || fail "cannot write $na"

ddcmd() { echo "dd if=$na of=$nb bs=$1 count=$2 iflag=direct oflag=direct conv=notrunc,fsync"; }
# shellcheck disable=SC2046 # word lists by design
timeit 9 dd -- $(ddcmd 1M 1) \
	-- busybox-dd -- busybox $(ddcmd 1M 1) \
	-- empty -- empty \
	-- p2pmem-version -- p2pmem --version \
	-- copy -- p2pmem copy -q --length 1M "$na" "$nb" \
	-- copy-host -- p2pmem copy -q --length 1M --via host --allow-host-bounce "$na" "$nb" \
	>/tmp/t1 || fail "a 1 MiB run failed"
# shellcheck disable=SC2046
timeit 5 dd -- $(ddcmd 512K 256) \
	-- copy-qd1 -- p2pmem copy -q --length 128M --bs 512K --qd 1 --provider "$mc" "$na" "$nb" \
	-- copy-qd4 -- p2pmem copy -q --length 128M --bs 512K --qd 4 --provider "$mc" "$na" "$nb" \
	>/tmp/t128 || fail "a 128 MiB run failed"
dd if="$nb" bs=1M count=128 iflag=direct 2>/dev/null | cmp -s - /tmp/pattern ||
	fail "$nb differs from the pattern after the copies"

us() { sed -n "s/^$2 //p" "$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
dd1=$(us /tmp/t1 dd)
for row in dd busybox-dd empty p2pmem-version copy copy-host; do
	t=$(us /tmp/t1 "$row")
	say "1 MiB  $(printf '%-15s %6d us  %sx dd' "$row" "$t" "$(ratio "$t" "$dd1")")"
done
dd128=$(us /tmp/t128 dd)
for row in dd copy-qd1 copy-qd4; do
	t=$(us /tmp/t128 "$row")
	say "128 MiB $(printf '%-14s %6d us  %s MiB/s, dd/this %s' "$row" "$t" \
		"$(awk -v t="$t" 'BEGIN { printf "%.0f", 128e6 / t }')" "$(ratio "$dd128" "$t")")"
done
[ "$(us /tmp/t1 copy)" -le $((dd1 * 3)) ] ||
	fail "a 1 MiB copy through p2p memory took more than 3x dd's time"
[ "$(us /tmp/t1 copy-host)" -le $((dd1 * 5 / 2)) ] ||
	fail "a 1 MiB copy through host memory took more than 2.5x dd's time"
[ "$(us /tmp/t128 copy-qd4)" -lt "$dd128" ] ||
	fail "128 MiB through the memory card at QD 4 was not faster than dd"
