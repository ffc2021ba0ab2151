#!/bin/sh
# kmod-misuse: what users and kernel clients can do wrong, and what p2pmem.ko
# must survive (deep fabric, the memory card; on kernels without P2PDMA
# nvme b's CMB too).
#  1. mmap with PROT_EXEC is refused (EPERM), mprotect to PROT_EXEC too
#     (EACCES); a declaration whose answer cannot be written back (EFAULT)
#     is not kept: the next mmap is made as for a file that declared
#     nothing ("no clients declared" in the log).
#  2. p2pmem_free() of a range freed already, of a range only partly an
#     allocation, of memory not the provider's: refused, nothing freed.
#  3. a kernel client unloads while its removal callback runs: unloading
#     waits for the callback (else the callback resumes in freed text).
#  4. PCI error recovery (AER) on the memory card: the provider goes
#     offline, mmap is refused, rebinding brings it back.
#  5. many processes mapping and unmapping folios at once, then a clean log
#     (a freed folio handed out again before the core reset its refcount
#     would show as refcount underflows: DEBUG_VM on the debug kernel).
#  6. without P2PDMA, background clearing off: a whole-CMB mmap, which
#     clears all 64 MiB with uncached stores, killed with SIGKILL as it
#     starts, dies in less than a third of the time a whole one takes.
# rig: fabrics=deep kernels=stock,p2pdma,debug,stock61,debian-new
# shellcheck source=tests/vm/kmod-lib.sh disable=SC2119 # kmod_load without parameters
. /tests/kmod-lib.sh
need_kmod

rig_pair
mc=$(kmod_memcard) || fail "no memory card"
p=$(kmod_memcard_up "$mc") || fail "$p"
kb() { kmod-buf -d "/dev/$p" -c "$mc" "$@"; }

# 1.
kb refuse exec EPERM || fail "PROT_EXEC mapping"
kb refuse mprotect-exec EACCES || fail "mprotect to PROT_EXEC"
dmesg -c >/dev/null
kb refuse efault 0 || fail "mmap after a declaration that failed with EFAULT"
dmesg | grep -q "kmod-buf\[[0-9]*\]: no clients declared" ||
	fail "a declaration that failed with EFAULT was kept (no 'no clients declared' line)"
say "1. PROT_EXEC refused, mprotect(PROT_EXEC) refused, EFAULT declaration not kept"

# 2.
dmesg -c >/dev/null
insmod "$KMOD_DIR/p2pmem_test.ko" provider="$mc" misuse=1 alloc_kb=0 || fail "insmod p2pmem_test"
rmmod p2pmem_test
dmesg | grep -q "p2pmem_test: misuse ok $p" || fail "misuse: $(dmesg | grep -E 'p2pmem_test|p2pmem')"
[ "$(dmesg | grep -c 'which is not an allocation of its own: nothing freed')" -ge 4 ] ||
	fail "refused frees not logged: $(dmesg | grep p2pmem)"
[ "$(kattr "$p" stats/in_use)" = 0 ] || fail "in_use $(kattr "$p" stats/in_use) after the misuse test"
say "2. $(dmesg | grep -m1 'misuse ok' | sed 's/^\[[^]]*\] //')"

# 3.
dmesg -c >/dev/null
insmod "$KMOD_DIR/p2pmem_test.ko" provider="$mc" alloc_kb=0 hold_kb=64 slow_remove_ms=1500 ||
	fail "insmod p2pmem_test"
( echo "$mc" >/sys/bus/pci/drivers/p2pmem_pci/unbind ) &
u=$!
wait_dmesg "p2pmem_test: removal $p: sleeping" || fail "the removal callback did not start"
t0=$(now_ms)
rmmod p2pmem_test || fail "rmmod p2pmem_test"
ms=$(($(now_ms) - t0))
wait "$u"
dmesg | grep -q "p2pmem_test: removal $p freed 65536 bytes" || fail "the callback did not finish"
[ "$ms" -ge 500 ] || fail "rmmod returned after $ms ms, while the callback still slept"
say "3. rmmod of a client waited $ms ms for its running removal callback"

# 4.
kmod_bind "$mc" || fail "cannot bind $mc again"
p=$(kmod_provider "$mc" memory) || fail "no memory card provider"
dmesg -c >/dev/null
insmod "$KMOD_DIR/p2pmem_test.ko" aer="$mc" alloc_kb=0 || fail "insmod p2pmem_test"
rmmod p2pmem_test
dmesg | grep -q "p2pmem_test: aer $mc detected=.* state=offline" ||
	fail "AER: $(dmesg | grep -E 'p2pmem')"
[ "$(kattr "$p" state)" = offline ] || fail "$p is $(kattr "$p" state) after an AER error"
kb refuse nodecl ENODEV || fail "an offline provider handed out memory"
kmod_unbind "$mc"
kmod_bind "$mc" || fail "cannot bind $mc after the error"
p=$(kmod_provider "$mc" memory) || fail "no memory card provider after rebinding"
[ "$(kattr "$p" state)" = online ] || fail "$p is $(kattr "$p" state) after rebinding"
say "4. $(dmesg | grep -m1 'offline: PCI error' | sed 's/^\[[^]]*\] //'); rebound: online"

# 5.
i=0
while [ $i -lt 4 ]; do
	kmod-buf -d "/dev/$p" -c "$mc" -s 512K map-loop 4 >"/tmp/ml$i" 2>&1 &
	i=$((i + 1))
done
wait || true
i=0
while [ $i -lt 4 ]; do
	grep -q 'loops' "/tmp/ml$i" || fail "map loop $i: $(cat "/tmp/ml$i")"
	i=$((i + 1))
done
[ "$(kattr "$p" stats/in_use)" = 0 ] || fail "in_use $(kattr "$p" stats/in_use) after the churn"
say "5. 4 processes mapping 512 KiB folios: $(cat /tmp/ml0 /tmp/ml1 /tmp/ml2 /tmp/ml3 | grep -o 'loops [0-9]*' | tr '\n' ' ')"

# 6. bg_zero=0: every mmap clears all it takes, synchronously.
if rig_no_p2pdma; then
	kmod_load bg_zero=0
	pb=$(kmod_wait_provider "$b" nvme-cmb) || fail "no CMB provider for $b"
	size=$(kattr "$pb" size)
	t0=$(now_ms)
	kmod-buf -d "/dev/$pb" -c "$b" -s "$size" map-once >/tmp/once 2>&1 || fail "$(cat /tmp/once)"
	full=$(($(now_ms) - t0))
	kmod-buf -d "/dev/$pb" -c "$b" -s "$size" map-once >/tmp/big 2>&1 &
	big=$!
	wait_line /tmp/big MAPPING || fail "mmap did not start: $(cat /tmp/big)"
	t0=$(now_ms)
	kill -9 "$big"
	wait "$big" 2>/dev/null
	ms=$(($(now_ms) - t0))
	say "6. whole-CMB mmap ($size bytes, all to clear): $full ms; killed while mapping: gone in $ms ms"
	[ "$ms" -lt $((full / 3)) ] || fail "a killed mmap took $ms ms to die (a whole one takes $full ms)"
	[ "$(kattr "$pb" stats/in_use)" = 0 ] || fail "in_use $(kattr "$pb" stats/in_use) after the kill"
fi
kmod_unload
exit 0
