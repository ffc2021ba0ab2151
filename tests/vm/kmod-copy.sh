#!/bin/sh
# kmod-copy: buffers from p2pmem.ko providers carry NVMe O_DIRECT traffic.
# For every provider both drives can reach (no P2PDMA, stock and debug, deep:
# the memory card and both CMBs; switch: both CMBs; P2PDMA deep: the memory
# card; P2PDMA switch: none, the memory card is refused), 1 MiB and
# 32 MiB buffers (1 MiB only on the slow debug kernel): nvme a -> buffer ->
# nvme b verified through host memory,
# every page inside the provider (pagemap), the user PTE uncached (UC-, read
# through p2pmem_test's debugfs), fresh and reused buffers read zero.  The
# client API test module allocates, checks and frees on each provider.  Prints
# the zeroing statistics (sync = while allocating, bg = in the background).
# rig: fabrics=switch,deep kernels=stock,debug@deep,p2pdma,stock61@deep,debian-new@deep
# shellcheck source=tests/vm/kmod-lib.sh disable=SC2119 # kmod_load without parameters
. /tests/kmod-lib.sh
need_kmod

rig_pair
mc=$(kmod_memcard) || fail "no memory card"
pm=$(kmod_memcard_up "$mc") || fail "$pm"
provs=
[ "$RIG_FABRIC" = deep ] && provs=$pm
if rig_no_p2pdma; then
	for b in "$a" "$b"; do
		p=$(kmod_wait_provider "$b" nvme-cmb) || fail "no CMB provider for $b"
		provs="$provs $p"
	done
fi
if [ -z "$provs" ]; then
	# P2PDMA switch: the CMBs are upstream's and the memory card sits on
	# another root port; what is to prove is that it is refused for them.
	p=$pm
	p2pmem check --provider "$mc" "$na" "$nb" >/tmp/check.out 2>&1
	rc=$?
	cat /tmp/check.out
	[ $rc -eq 1 ] || fail "the memory card on another root port: p2pmem check exit $rc, expected 1"
	kmod-buf -d "/dev/$p" -c "$a,$b" refuse nodecl EREMOTEIO ||
		fail "$p handed out memory for clients it cannot reach"
	kmod_unload
	say "$RIG_FABRIC/$RIG_KERNEL: the memory card is refused for both drives, as the rule says"
	exit 0
fi

insmod "$KMOD_DIR/p2pmem_test.ko" clients="$a,$b" alloc_kb=1024 ||
	fail "insmod p2pmem_test failed"
dmesg | grep 'p2pmem_test: ' | tail -n 3
dmesg | grep -q 'p2pmem_test: api FAIL' && fail "client API test failed"
dmesg | grep -q 'p2pmem_test: api ok .* linear=uc-minus' || fail "client API test did not run"
# The kernel API says how the clients reach the memory (no IOMMU here: by
# bus address), and find and distance agree.
dmesg | grep -q 'p2pmem_test: find FAIL' && fail "find and distance disagree on the map type"
dmesg | grep -q "p2pmem_test: find $a,$b -> p2pmem[0-9]* distance [0-9]* map bus-addr" ||
	fail "no map type from p2pmem_find_many: $(dmesg | grep 'p2pmem_test: find')"

# The debug kernel (RIG_SLOWDOWN > 1) checks the same paths with 1 MiB:
# 32 MiB through a CMB costs it most of a minute.
sizes="1M 32M"
[ "${RIG_SLOWDOWN:-1}" -gt 1 ] && sizes=1M
for p in $provs; do
	for s in $sizes; do
		kmod-buf -d "/dev/$p" -c "$a,$b" -s "$s" map || fail "$p: map $s"
		kmod-buf -d "/dev/$p" -c "$a,$b" -s "$s" -C 512K copy "$na" "$nb" ||
			fail "$p: copy $s $na -> $nb"
	done
	[ "$(kattr "$p" stats/in_use)" = 0 ] || fail "$p: in_use $(kattr "$p" stats/in_use) after the copies"
	say "$p ($(kattr "$p" kind)): allocations $(kattr "$p" stats/allocations)," \
		"peak $(kattr "$p" stats/peak)," \
		"zeroed sync $(kattr "$p" stats/zero_sync_bytes) B in $(($(kattr "$p" stats/zero_sync_ns) / 1000)) us," \
		"bg $(kattr "$p" stats/zero_bg_bytes) B in $(($(kattr "$p" stats/zero_bg_ns) / 1000)) us"
done

# Zeroing in the allocation path: no background worker, so a buffer handed
# out again (first fit: the same pages) must be cleared while mapping it.
p=${provs%% *}
p=${p:-$(echo "$provs" | cut -d' ' -f2)}
kmod_load bg_zero=0
kmod_bind "$mc" || fail "cannot bind $mc"
[ "$RIG_FABRIC" = deep ] || p=$(kmod_wait_provider "$a" nvme-cmb) || fail "no CMB provider for $a"
[ "$RIG_FABRIC" = deep ] && p=$(kmod_provider "$mc" memory)
kmod-buf -d "/dev/$p" -c "$a,$b" -s 32M map || fail "$p: map 32M without background zeroing"
z=$(kattr "$p" stats/zero_sync_bytes)
[ "$z" -ge $((64 << 20)) ] || fail "$p: only $z bytes zeroed while allocating (2 x 32 MiB expected)"
[ "$(kattr "$p" stats/zero_bg_bytes)" = 0 ] || fail "$p: background zeroing ran with bg_zero=0"
say "$p ($(kattr "$p" kind)) bg_zero=0: zeroed sync $z B in $(($(kattr "$p" stats/zero_sync_ns) / 1000)) us"
kmod_unload
exit 0
