#!/bin/sh
# kmod-refuse: what /dev/p2pmemN refuses, with which errno and which kernel
# log line: MAP_PRIVATE and a non-zero offset (EINVAL), more than the pool
# (ENOMEM, with the sizes), a reserved provider (EACCES), a non-root user
# (EACCES from the 0600 node), a client that does not exist (ENODEV) and
# clients the distance rule rejects (EREMOTEIO: the memory card with an NVMe
# client across root ports in switch and split, a CMB with its peer in split;
# accepted in deep).  The DMA fences
# (p2pmem_test fakes the memory card's own DMA limits): a DMA mask that does
# not reach the BAR, DMA forced through swiotlb.  A non-prefetchable BAR is
# refused, and with force=1 taken only if it holds a 2 MiB block.  rmmod is
# refused while a mapping lives.  Every refusal counts in stats/failures.
# Not a refusal: mmap without declared clients (accepted, logged, not
# counted; kmod-undeclared tests it).
# rig: fabrics=switch,split,deep kernels=stock,debug@switch,p2pdma,stock61@switch,debian-new@switch
# shellcheck source=tests/vm/kmod-lib.sh disable=SC2119 # kmod_load without parameters
. /tests/kmod-lib.sh
need_kmod

rig_pair
mc=$(kmod_memcard) || fail "no memory card"
p=$(kmod_memcard_up "$mc") || fail "$p"
size=$(kattr "$p" size)
kb() { kmod-buf -d "/dev/$p" "$@"; }

expect() { # DMESG-REGEX KMOD-BUF-ARGS...: the refusal happens and is logged
	re=$1
	shift
	dmesg -c >/dev/null
	kb "$@" || fail "kmod-buf $*"
	dmesg | grep -qE "$re" || fail "no kernel log line matching '$re' after: $*"
	say "  log: $(dmesg | grep -E "$re" | head -n1 | sed 's/^\[[^]]*\] //')"
}

f0=$(kattr "$p" stats/failures)
expect "mmap refused \(-22\): MAP_PRIVATE" -c "$mc" refuse private EINVAL
expect "mmap refused \(-22\): non-zero offset" -c "$mc" refuse offset EINVAL
dmesg -c >/dev/null
kb -c none refuse nodecl 0 || fail "mmap without declared clients was refused"
dmesg | grep -q "no clients declared" || fail "mmap without declared clients not logged"
dmesg | grep -q "mmap refused" && fail "mmap without declared clients logged as a refusal"
if [ "$(kattr "$p" pool)" = upstream ]; then
	over="more than upstream's pool has free in one range"
else
	over="$size of $size available"
fi
expect "mmap refused \(-12\): $((size + 2097152)) bytes asked, $over" \
	-c "$mc" -s $((size + 2097152)) refuse over ENOMEM
echo 0 >"$CLASS/$p/published"
expect "mmap refused \(-13\): provider reserved" -c "$mc" refuse nodecl EACCES
echo 1 >"$CLASS/$p/published"
[ "$(kattr "$p" stats/failures)" -eq $((f0 + 4)) ] ||
	fail "stats/failures $(kattr "$p" stats/failures), expected $((f0 + 4))"
kb refuse nonroot EACCES || fail "a non-root user opened /dev/$p"
expect "no PCI function 0000:7f:1f.7" -c 0000:7f:1f.7 refuse nodecl ENODEV

# The distance rule: memory card <- nvme a.
case "$RIG_FABRIC" in
deep)
	kb -c "$a,$b" -s 1M map >/dev/null || fail "deep: $a,$b refused for the memory card"
	say "deep: $a,$b accepted for the memory card"
	;;
*)
	expect "client $a refused: it and provider $mc do not share an upstream bridge or whitelisted host bridge" \
		-c "$a" refuse nodecl EREMOTEIO
	dmesg -c >/dev/null
	kb -c "$mc,$a" refuse nodecl EREMOTEIO || fail "one bad client among good ones was accepted"
	# What an opener of the node can make the module log is ratelimited.
	# 30 lines per 5 s: 200 refusals in a row leave at most two windows' worth.
	dmesg -c >/dev/null
	kb -c "$a" -r 200 refuse nodecl EREMOTEIO >/dev/null || fail "200 refusals of $a"
	n=$(dmesg | grep -c "client $a refused")
	say "200 refused declarations in a row: $n log lines"
	[ "$n" -le 60 ] || fail "$n log lines for 200 refused declarations (ratelimit: 30 per 5 s)"
	;;
esac
if rig_no_p2pdma && [ "$RIG_FABRIC" = split ]; then
	pa=$(kmod_wait_provider "$a" nvme-cmb) || fail "no CMB provider for $a"
	dmesg -c >/dev/null
	kmod-buf -d "/dev/$pa" -c "$a,$b" refuse nodecl EREMOTEIO || fail "split: CMB of $a accepted $b"
	dmesg | grep -q "client $b refused" || fail "no log line for $b"
	say "split: CMB $pa refuses $b"
fi

# The DMA fences.
dmesg -c >/dev/null
insmod "$KMOD_DIR/p2pmem_test.ko" fence="$mc" alloc_kb=0 || fail "insmod p2pmem_test"
rmmod p2pmem_test
dmesg | grep -q "p2pmem_test: fence ok $p" || fail "fence test: $(dmesg | grep p2pmem_test)"
for re in "client $mc refused: its DMA limit 0x[0-9a-f]* does not reach the BAR" \
	"client $mc refused: its DMA is forced through swiotlb bounce buffers"; do
	dmesg | grep -q "$re" || fail "no log line '$re'"
	say "  log: $(dmesg | grep -m1 "$re" | sed 's/^\[[^]]*\] //')"
done

# rmmod while a mapping lives (the file closed: the mapping alone holds it).
rm -f /tmp/touch.out
kmod-buf -d "/dev/$p" -c "$mc" -s 1M touch >/tmp/touch.out 2>&1 &
pid=$!
wait_line /tmp/touch.out READY || fail "toucher did not start"
rmmod p2pmem 2>/tmp/rmmod.err && fail "rmmod p2pmem succeeded with a live mapping"
say "rmmod refused while mapped: $(cat /tmp/rmmod.err)"
kill "$pid"
wait "$pid"
[ "$(kattr "$p" stats/in_use)" = 0 ] || fail "in_use $(kattr "$p" stats/in_use) after the process died"

# A non-prefetchable BAR (the memory card's BAR0: 256 bytes of registers).
kmod_unbind "$mc"
echo 0 >/sys/module/p2pmem/parameters/bar
dmesg -c >/dev/null
echo "$mc" >/sys/bus/pci/drivers_probe 2>/dev/null
kmod_provider "$mc" >/dev/null && fail "BAR0 (not prefetchable) became a provider"
dmesg | grep -q "BAR0 is not prefetchable: refusing it" || fail "no refusal logged for BAR0"
say "  log: $(dmesg | grep -m1 'BAR0 is not prefetchable' | sed 's/^\[[^]]*\] //')"
kmod_load force=1 bar=0
kmod_bind "$mc" || true	# the probe must fail: the BAR holds no block
dmesg | grep -q "BAR0 is not prefetchable; using it because force=1" || fail "force=1 not honoured"
dmesg | grep -q "holds no 2048 KiB-aligned block" || fail "a 256-byte BAR0 was not refused"
kmod_provider "$mc" >/dev/null && fail "a 256-byte BAR0 became a provider"
say "  log: $(dmesg | grep -m1 'holds no 2048 KiB-aligned block' | sed 's/^\[[^]]*\] //')"
kmod_unload
exit 0
