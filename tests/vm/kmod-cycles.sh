#!/bin/sh
# kmod-cycles: up to 50 cycles of load / bind / allocate / unbind / unload
# (50 / RIG_SLOWDOWN on slow kernels; KMOD_CYCLES overrides).  Past 20 cycles
# the test stops when 35 s (times RIG_SLOWDOWN) are spent: 50 cycles took
# 25-39 s on an idle host but over the rig's 60 s per test on 6.1 under host
# load, and the cycles after the twentieth find nothing the first did not.
# Each cycle
# loads p2pmem.ko (without P2PDMA, stock and debug, every fifth one arms and
# serves the two CMBs too: a cycle with them costs twice as much under TCG),
# binds the memory card, maps 1 MiB from every provider (twice: the second
# mapping gets the first one's pages back, zeroed), checks that each pool is full
# again (available = size, in_use 0), leaves a live mapping across the
# unbind in every tenth cycle (SIGBUS), unbinds and unloads.  No WARN/BUG
# (the rig checks the log after the test).
# rig: fabrics=deep kernels=stock,debug,p2pdma,stock61,debian-new
# shellcheck source=tests/vm/kmod-lib.sh disable=SC2119 # kmod_load without parameters
. /tests/kmod-lib.sh
need_kmod

rig_pair
mc=$(kmod_memcard) || fail "no memory card"
# fewer on a slow kernel (debug: KASAN, lockdep), at least 20
N=$((50 / ${RIG_SLOWDOWN:-1}))
[ "$N" -ge 20 ] || N=20
N=${KMOD_CYCLES:-$N}
MIN=20
[ "$N" -ge "$MIN" ] || MIN=$N
budget_ms=$((35000 * ${RIG_SLOWDOWN:-1}))
nop2pdma=0
rig_no_p2pdma && nop2pdma=1
t0=$(now_ms)
c=0
while [ $c -lt "$N" ]; do
	[ $c -ge "$MIN" ] && [ $(($(now_ms) - t0)) -ge "$budget_ms" ] && break
	c=$((c + 1))
	cmb=0
	[ "$nop2pdma" = 1 ] && [ $((c % 5)) -eq 1 ] && cmb=1
	kmod_load bg_zero=0 nvme_cmb=$cmb
	kmod_bind "$mc" || fail "cycle $c: cannot bind $mc"
	provs=$(kmod_provider "$mc" memory) || fail "cycle $c: no memory card provider"
	if [ $cmb = 1 ]; then
		for b in "$a" "$b"; do
			p=$(kmod_wait_provider "$b" nvme-cmb) || fail "cycle $c: no CMB provider for $b"
			provs="$provs $p"
		done
	fi
	for p in $provs; do
		kmod-buf -d "/dev/$p" -c "$a,$b" -s 1M map >/tmp/map.out ||
			fail "cycle $c: $p: $(cat /tmp/map.out)"
		[ "$(kavail "$p")" = "$(kattr "$p" size)" ] ||
			fail "cycle $c: $p: available $(kavail "$p") of $(kattr "$p" size)"
		[ "$(kattr "$p" stats/in_use)" = 0 ] || fail "cycle $c: $p: in_use $(kattr "$p" stats/in_use)"
	done
	if [ $((c % 10)) -eq 0 ]; then
		p=${provs%% *}
		rm -f /tmp/touch.out
		kmod-buf -d "/dev/$p" -c "$a,$b" -s 2M touch >/tmp/touch.out 2>&1 &
		pid=$!
		wait_line /tmp/touch.out READY || fail "cycle $c: toucher did not start"
		kmod_unbind "$mc"
		wait "$pid" || fail "cycle $c: no SIGBUS: $(cat /tmp/touch.out)"
	fi
	kmod_unload
done
ms=$(($(now_ms) - t0))
say "$c cycles in $ms ms ($((ms / c)) ms each)"
exit 0
