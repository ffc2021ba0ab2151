#!/bin/sh
# kmod-reset: an NVMe controller reset (reset_controller) makes the stock nvme
# driver disable its CMB again (CMBMSC = 0).  With nothing allocated, the
# provider re-arms the CMB once the controller is back and stays online (a
# fresh buffer still reads zero).  With a copy loop running through
# the CMB of nvme b (a -> CMB(b) -> b, each chunk verified on b afterwards):
# the provider goes offline (state, kernel log), the loop stops with an error
# or SIGBUS, no chunk reported written is wrong on b (where the kernel has
# kprobes, the reset hook re-armed CMBMSC before the controller was enabled,
# and says so), the drive itself works
# after the reset, and once every page is back the provider is online again
# by itself (CMB re-armed, memory cleared again): a copy through it works.
# A function-level reset (sysfs reset) of the idle drive: online again.  And
# once the drive is bound again its CMB is a provider again.
# rig: fabrics=switch kernels=stock,debug,stock61
# shellcheck source=tests/vm/kmod-lib.sh disable=SC2119 # kmod_load without parameters
. /tests/kmod-lib.sh
need_kmod

rig_pair
kmod_load
pb=$(kmod_wait_provider "$b" nvme-cmb) || fail "no CMB provider for $b"
cb=$(rig_nvme_ctrl "$b") || fail "no controller for $b"
# The reset hook (a kprobe on nvme_enable_ctrl) wherever the kernel has
# kprobes (Debian's; not the debug kernel): it re-arms CMBMSC in the reset
# itself, before the controller runs a command.
hook=
if grep -q ' register_kprobe$' /proc/kallsyms; then
	grep -q ' /sys/kernel/debug ' /proc/mounts || mount -t debugfs none /sys/kernel/debug
	i=0	# registered right after the providers are made
	while ! grep -q 'nvme_enable_ctrl' /sys/kernel/debug/kprobes/list && [ $i -lt 20 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	grep -q 'nvme_enable_ctrl' /sys/kernel/debug/kprobes/list ||
		fail "no reset hook on nvme_enable_ctrl: $(cat /sys/kernel/debug/kprobes/list; dmesg | grep 'reset hook')"
	hook=1
fi

# 1. Nothing allocated: re-armed, still online.
dmesg -c >/dev/null
echo 1 >"/sys/class/nvme/$cb/reset_controller" || fail "reset of $cb failed"
wait_dmesg "$pb stays online" ||
	fail "$pb not re-armed 5 s after an idle reset: $(dmesg | grep p2pmem)"
[ "$(kattr "$pb" state)" = online ] || fail "$pb is $(kattr "$pb" state) after an idle reset"
kmod-buf -d "/dev/$pb" -c "$a,$b" -s 1M map >/dev/null || fail "$pb unusable after an idle reset"
say "idle reset of $cb: $(dmesg | grep -m1 'stays online' | sed 's/^\[[^]]*\] //')"

# 2. A copy loop through the CMB.
dmesg -c >/dev/null
rm -f /tmp/loop.out
kmod-buf -d "/dev/$pb" -c "$a,$b" -s 4M -C 256K -o 64M reset-loop "$na" "$nb" 1000 >/tmp/loop.out 2>&1 &
pid=$!
wait_line /tmp/loop.out READY || fail "loop did not start: $(cat /tmp/loop.out)"
sleep 0.5
t0=$(now_ms)
echo 1 >"/sys/class/nvme/$cb/reset_controller" || fail "reset of $cb failed"
kmod_wait_state "$pb" offline 5 "the reset"
say "reset of $cb: $pb offline within $(($(now_ms) - t0)) ms"
wait "$pid"
rc=$?
cat /tmp/loop.out
[ $rc -eq 0 ] || fail "the copy loop saw corrupted data or failed to run (exit $rc)"
grep -q 'stopped after\|SIGBUS after' /tmp/loop.out || fail "the loop did not stop"
dmesg | grep -E 'p2pmem' | sed 's/^\[[^]]*\] /  log: /'
dmesg | grep -q "$pb: offline: NVMe controller reset disabled its CMB" || fail "no offline message"
[ -z "$hook" ] || dmesg | grep -q 'CMBMSC re-armed by the reset hook before the controller was enabled ([1-9][0-9]* bytes in use)' ||
	fail "the reset hook did not re-arm the CMB while memory was in use"
# Every page is back: the provider returns by itself.
kmod_wait_state "$pb" online 10 "its pages came back"
dmesg | grep -q "$pb is online again" || fail "no log line for $pb coming back"
say "after the reset: $(dmesg | grep -m1 'is online again' | sed 's/^\[[^]]*\] //')"

# The drive still works.
head -c 1048576 /dev/urandom >/tmp/r
dd if=/tmp/r of="$nb" bs=1048576 seek=200 oflag=direct 2>/dev/null || fail "$nb: write after reset"
dd if="$nb" of=/tmp/r2 bs=1048576 skip=200 count=1 iflag=direct 2>/dev/null || fail "$nb: read after reset"
cmp -s /tmp/r /tmp/r2 || fail "$nb: data differs after the reset"

kmod-buf -d "/dev/$pb" -c "$a,$b" -s 4M copy "$na" "$nb" || fail "copy through the CMB back online"

# A function-level reset of the idle drive.  Not under lockdep (debug
# kernel): Linux 6.12's nvme_reset_prepare() freezes the queues in the
# writer of sysfs reset and the reset work unfreezes them, which lockdep
# reports as "lock held when returning to user space" (q_usage_counter, at
# nvme_start_freeze) with or without p2pmem.ko, and then turns itself off
# for the rest of the boot.  Upstream: "nvme: core: switch to non_owner
# variant of start_freeze/unfreeze queue" (6.13).
if [ -e /proc/lockdep ]; then
	say "no function-level reset under lockdep (nvme false positive in 6.12, fixed in 6.13)"
elif [ -e "$SYS_PCI/$b/reset" ]; then
	dmesg -c >/dev/null
	echo 1 >"$SYS_PCI/$b/reset" || fail "function reset of $b failed"
	i=0
	while ! dmesg | grep -q "$pb stays online\|$pb is online again"; do
		[ $i -lt 100 ] || fail "$pb not re-armed 10 s after a function reset: $(dmesg | grep p2pmem)"
		sleep 0.1
		i=$((i + 1))
	done
	[ "$(kattr "$pb" state)" = online ] || fail "$pb is $(kattr "$pb" state) after a function reset"
	nb=$(rig_wait_ns "$b") || fail "$b: no namespace 10 s after the function reset"
	kmod-buf -d "/dev/$pb" -c "$a,$b" -s 4M copy "$na" "$nb" || fail "copy after a function reset"
	say "function reset of $b: $pb re-armed, online, copy verified"
fi

# Bound again: armed again, online.
echo "$b" >/sys/bus/pci/drivers/nvme/unbind
echo "$b" >/sys/bus/pci/drivers/nvme/bind || fail "cannot bind $b again"
pb=$(kmod_wait_provider "$b" nvme-cmb) || fail "no CMB provider after binding $b again"
[ "$(kattr "$pb" state)" = online ] || fail "$pb is $(kattr "$pb" state)"
nb=$(rig_wait_ns "$b") || fail "$b: no namespace 10 s after binding it again"
na=$(rig_nvme_ns "$a") || fail "$a: no namespace"
kmod-buf -d "/dev/$pb" -c "$a,$b" -s 4M copy "$na" "$nb" || fail "copy through the re-armed CMB"
kmod_unload
exit 0
