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

# Zeroing in the allocation path: no background worker, so no page is ever
# clean while free, and a buffer handed out again (first fit: the same
# pages) must be cleared while mapping it.
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

# Clean memory first (p2pmem.ko's own pool; upstream's clears every
# allocation).  The worker clears the whole provider after load, then is
# switched off at run time: a buffer mapped right after another was freed
# must take clean pages and clear nothing while mapping; once every free
# page is dirty, mapping clears synchronously (and only what is dirty), and
# the memory reads zero (kmod-buf map checks both mappings).
if [ "$(kattr "$p" pool)" = p2pmem ]; then
	kmod_load
	kmod_bind "$mc" || fail "cannot bind $mc"
	[ "$RIG_FABRIC" = deep ] || p=$(kmod_wait_provider "$a" nvme-cmb) || fail "no CMB provider for $a"
	[ "$RIG_FABRIC" = deep ] && p=$(kmod_provider "$mc" memory)
	size=$(kattr "$p" size)
	i=0
	while [ "$(kattr "$p" stats/zero_bg_bytes)" != "$size" ]; do
		[ $i -lt $((600 * ${RIG_SLOWDOWN:-1})) ] ||
			fail "$p: the worker cleared $(kattr "$p" stats/zero_bg_bytes) of $size B in $((i / 10)) s"
		sleep 0.1
		i=$((i + 1))
	done
	echo 0 >/sys/module/p2pmem/parameters/bg_zero || fail "bg_zero is not writable"
	[ "$(kattr "$p" stats/zero_sync_bytes)" = 0 ] || fail "$p: cleared while allocating with all memory clean"
	kmod-buf -d "/dev/$p" -c "$a,$b" -s 1M map >/tmp/clean.out 2>&1 ||
		fail "$p: map 1M on clean memory: $(cat /tmp/clean.out)"
	z=$(kattr "$p" stats/zero_sync_bytes)
	[ "$z" = 0 ] || fail "$p: $z B cleared while mapping 1 MiB again with $((size >> 20)) MiB of clean memory free"
	t_clean=$(sed -n 's/.*remapped in \([0-9.]*\) ms.*/\1/p' /tmp/clean.out)
	# Dirty everything: one mapping of the whole provider (clears the
	# 2 MiB the two buffers left), unmapped as the process exits.
	[ "$(kavail "$p")" = "$size" ] || fail "$p: $(kavail "$p") of $size B available when idle"
	kmod-buf -d "/dev/$p" -c "$a,$b" -s "$size" map-once || fail "$p: map the whole provider"
	z=$(kattr "$p" stats/zero_sync_bytes)
	[ "$z" = $((2 << 20)) ] || fail "$p: mapping it all cleared $z B, expected the 2 MiB freed dirty"
	kmod-buf -d "/dev/$p" -c "$a,$b" -s 1M map >/tmp/dirty.out 2>&1 ||
		fail "$p: map 1M on dirty memory: $(cat /tmp/dirty.out)"
	z=$(($(kattr "$p" stats/zero_sync_bytes) - z))
	[ "$z" = $((2 << 20)) ] || fail "$p: mapping 1 MiB twice with only dirty memory free cleared $z B (2 MiB expected)"
	t_dirty=$(sed -n 's/.*remapped in \([0-9.]*\) ms.*/\1/p' /tmp/dirty.out)
	[ "$(kattr "$p" stats/zero_bg_bytes)" = "$size" ] || fail "$p: background clearing ran with bg_zero switched off"
	# On again: the worker clears what was freed meanwhile, by itself.
	echo 1 >/sys/module/p2pmem/parameters/bg_zero
	i=0
	while [ "$(kattr "$p" stats/zero_bg_bytes)" != $((2 * size)) ]; do
		[ $i -lt $((600 * ${RIG_SLOWDOWN:-1})) ] ||
			fail "$p: bg_zero=1 again: $(kattr "$p" stats/zero_bg_bytes) B cleared, $((2 * size)) expected"
		sleep 0.1
		i=$((i + 1))
	done
	say "$p ($(kattr "$p" kind)) clean first: 1 MiB remapped in $t_clean ms on clean memory (nothing cleared), $t_dirty ms on dirty (1 MiB cleared)"
fi
kmod_unload
exit 0
