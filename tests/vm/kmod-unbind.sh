#!/bin/sh
# kmod-unbind: a provider's device goes away while its memory is in use.
#  1. a process touching a 32 MiB mapping: unbind completes in < 1 s, the
#     process gets SIGBUS on its next access;
#  2. an O_DIRECT read loop into the memory: unbind completes, the loop ends
#     with EFAULT or EIO, no oops;
#  3. an io_uring registered buffer (long-term pin): unbind waits, the kernel
#     log names the holder (comm[pid]) every few seconds; once the buffer is
#     unregistered the unbind completes;
#  4. a kernel client (p2pmem_test hold_kb): its removal callback frees its
#     memory and the unbind completes;
#  5. without P2PDMA (stock, debug kernels): the same as 1 for an NVMe CMB
#     when the nvme driver unbinds the drive, and a fresh CMB provider once
#     the drive is bound again.
# After each, the memory card is bound again and its pool is full.
# rig: fabrics=deep kernels=stock,debug,p2pdma,stock61,debian-new
# shellcheck source=tests/vm/kmod-lib.sh disable=SC2119 # kmod_load without parameters
. /tests/kmod-lib.sh
need_kmod

rig_pair
mc=$(kmod_memcard) || fail "no memory card"
# The CMBs only for step 5: under TCG their first background clearing (MMIO
# exits) would compete for the emulator's one thread with what is timed here.
kmod_load nvme_cmb=0
rebind() {
	kmod_bind "$mc" || fail "cannot bind $mc"
	p=$(kmod_provider "$mc" memory) || fail "no memory card provider"
	[ "$(kavail "$p")" = "$(kattr "$p" size)" ] || fail "$p: pool not full ($(kavail "$p") of $(kattr "$p" size))"
	# ... and let the first clearing of the card finish (about a second;
	# upstream's pool is cleared per allocation, never in the background).
	i=0
	[ "$(kattr "$p" pool)" = upstream ] && i=100
	while [ "$(kattr "$p" stats/zero_bg_bytes)" -lt "$(kattr "$p" size)" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
}
timed_unbind() { # BDF: unbind, print the milliseconds it took
	t0=$(now_ms)
	kmod_unbind "$1"
	echo $(($(now_ms) - t0))
}

# 1. SIGBUS
rebind
rm -f /tmp/touch.out
kmod-buf -d "/dev/$p" -c "$a" -s 32M touch >/tmp/touch.out 2>&1 &
pid=$!
wait_line /tmp/touch.out READY || fail "toucher did not start: $(cat /tmp/touch.out)"
ms=$(timed_unbind "$mc")
wait "$pid"
rc=$?
cat /tmp/touch.out
[ $rc -eq 0 ] || fail "the toucher did not get SIGBUS (exit $rc)"
[ "$ms" -lt 1000 ] || fail "unbind with a live mapping took $ms ms"
kmod_provider "$mc" >/dev/null && fail "$p still registered after unbind"
say "1. unbind with a live 32 MiB mapping: $ms ms, SIGBUS"

# 2. O_DIRECT loop
rebind
rm -f /tmp/dio.out
kmod-buf -d "/dev/$p" -c "$a" -s 4M -C 256K dio-loop "$na" >/tmp/dio.out 2>&1 &
pid=$!
wait_line /tmp/dio.out READY || fail "dio loop did not start: $(cat /tmp/dio.out)"
sleep 0.3
ms=$(timed_unbind "$mc")
wait "$pid"
rc=$?
cat /tmp/dio.out
[ $rc -eq 0 ] || fail "the O_DIRECT loop did not end with EFAULT/EIO (exit $rc)"
say "2. unbind under an O_DIRECT loop: $ms ms, $(tail -n1 /tmp/dio.out)"

# 3. long-term pin
rebind
rm -f /tmp/release
rm -f /tmp/uring.out
kmod-buf -d "/dev/$p" -c "$a" -s 1M uring-hold /tmp/release >/tmp/uring.out 2>&1 &
pid=$!
wait_line /tmp/uring.out 'READY\|UNSUPPORTED\|REFUSED' || fail "io_uring holder did not start: $(cat /tmp/uring.out)"
if kmod_uring_refused "$p" "$pid" /tmp/uring.out; then
	# Upstream's pages are never pinned long-term: nothing to wait for.
	say "3. upstream's pages: io_uring refuses the long-term pin (EREMOTEIO)"
elif grep -q UNSUPPORTED /tmp/uring.out; then
	wait "$pid"
	say "3. skipped: this kernel's io_uring does not pin file-backed mappings ($(uname -r))"
else
	dmesg -c >/dev/null
	t0=$(now_ms)
	kmod_unbind "$mc" &
	upid=$!
	if ! wait_dmesg "still pinned .* by kmod-buf\[$pid\]"; then
		touch /tmp/release
		fail "the kernel log does not name the holder kmod-buf[$pid]: $(dmesg | tail -n 5)"
	fi
	kill -0 "$upid" 2>/dev/null || fail "unbind returned while the buffer was still registered"
	say "3. unbind waits for the io_uring pin: $(dmesg | grep -m1 'still pinned' | sed 's/^\[[^]]*\] //')"
	touch /tmp/release
	wait "$pid" || fail "io_uring holder failed: $(cat /tmp/uring.out)"
	wait "$upid"
	say "   released after $(($(now_ms) - t0)) ms: $(dmesg | grep -m1 'all pages back' | sed 's/^\[[^]]*\] //')"
	kmod_provider "$mc" >/dev/null && fail "$p still registered"
fi

# 4. kernel client
rebind
dmesg -c >/dev/null
insmod "$KMOD_DIR/p2pmem_test.ko" provider="$mc" alloc_kb=0 hold_kb=2048 || fail "insmod p2pmem_test"
dmesg | grep -q "p2pmem_test: holding 2097152 bytes of $p" || fail "p2pmem_test holds nothing: $(dmesg | tail -n 3)"
[ "$(kattr "$p" stats/in_use)" = 2097152 ] || fail "in_use $(kattr "$p" stats/in_use), expected 2097152"
ms=$(timed_unbind "$mc")
dmesg | grep -q "p2pmem_test: removal $p freed 2097152 bytes" || fail "the removal callback did not run"
rmmod p2pmem_test
say "4. unbind with a kernel client: $ms ms, its removal callback freed its memory"

# 5. an NVMe CMB whose drive the nvme driver lets go
if rig_no_p2pdma; then
	kmod_load
	pb=$(kmod_wait_provider "$b" nvme-cmb) || fail "no CMB provider for $b"
	rm -f /tmp/touch.out
	kmod-buf -d "/dev/$pb" -c "$a,$b" -s 32M touch >/tmp/touch.out 2>&1 &
	pid=$!
	wait_line /tmp/touch.out READY || fail "toucher did not start: $(cat /tmp/touch.out)"
	t0=$(now_ms)
	echo "$b" >/sys/bus/pci/drivers/nvme/unbind
	ms=$(($(now_ms) - t0))
	wait "$pid" || fail "no SIGBUS after the nvme unbind: $(cat /tmp/touch.out)"
	kmod_provider "$b" >/dev/null && fail "CMB provider of $b still there after the nvme unbind"
	echo "$b" >/sys/bus/pci/drivers/nvme/bind || fail "cannot bind $b to nvme again"
	pb=$(kmod_wait_provider "$b" nvme-cmb) || fail "no CMB provider after binding $b again"
	[ "$(kattr "$pb" state)" = online ] || fail "$pb is $(kattr "$pb" state)"
	say "5. nvme unbind of $b (incl. the nvme driver's own teardown): $ms ms, SIGBUS; rebound: $pb online"
	rig_wait_ns "$b" >/dev/null
fi

rebind
kmod_unload
exit 0
