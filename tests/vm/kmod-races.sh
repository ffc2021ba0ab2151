#!/bin/sh
# kmod-races: removal racing users of p2pmem.ko (deep fabric: the memory card
# below the switch of nvme a; on kernels without P2PDMA both CMBs too).
#  1. mmap flood racing the unbind of the memory card: mappings made while
#     the provider goes away; the unbind finishes, and every mapping faults
#     afterwards (none survives its removal), three rounds.
#  2. without P2PDMA: mmap in a loop on a CMB's node while its drive is
#     unbound, rounds of it (the CMB watcher must not be woken once it is
#     stopped: a use-after-free that KASAN reports on the debug kernel).
#  3. without P2PDMA: while the removal of nvme a's CMB waits for an
#     io_uring pin, unbinding nvme b and the memory card completes (the bus
#     notifier holds no global lock across that wait).
# rig: fabrics=deep kernels=stock,p2pdma,debug,stock61,debian-new
# shellcheck source=tests/vm/kmod-lib.sh disable=SC2119 # kmod_load without parameters
. /tests/kmod-lib.sh
need_kmod

rig_pair
mc=$(kmod_memcard) || fail "no memory card"
# A failing step must not leave a pin holder behind (the boot would hang).
trap 'touch /tmp/release' EXIT
rounds=3
[ "$RIG_KERNEL" = debug ] || rounds=6

# Is PID running (not gone, not a zombie waiting to be reaped)?
running() {
	case $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) in
	'' | Z) return 1 ;;
	esac
	return 0
}

# wait_pid PID SECS: wait for a child to exit; its status in $rc, 124 if it
# is still running after SECS (then it is left running).
wait_pid() {
	i=0
	while running "$1"; do
		if [ $i -ge $(($2 * 10)) ]; then
			rc=124
			return
		fi
		sleep 0.1
		i=$((i + 1))
	done
	wait "$1"
	rc=$?
}

# unbind_within SECS BDF: unbind in the background; fail unless it is done
# within SECS.
unbind_within() {
	( echo "$2" >"$SYS_PCI/$2/driver/unbind" ) &
	wait_pid $! "$1"
	[ "$rc" = 124 ] && fail "unbinding $2 still not done after $1 s"
	return 0
}

kmod_load
# 1. mmap flood vs the memory card's unbind.
r=0
while [ $r -lt $rounds ]; do
	kmod_bind "$mc" || fail "cannot bind $mc"
	p=$(kmod_provider "$mc" memory) || fail "no memory card provider"
	rm -f /tmp/f1 /tmp/f2
	kmod-buf -d "/dev/$p" -c "$mc" -s 512K flood 16 40 >/tmp/f1 2>&1 &
	f1=$!
	kmod-buf -d "/dev/$p" -c "$mc" -s 1M flood 8 40 >/tmp/f2 2>&1 &
	f2=$!
	wait_line /tmp/f1 READY || fail "flood did not start: $(cat /tmp/f1)"
	wait_line /tmp/f2 READY || fail "flood did not start: $(cat /tmp/f2)"
	sleep 0.$((3 + r))
	t0=$(now_ms)
	unbind_within 20 "$mc"
	ms=$(($(now_ms) - t0))
	wait_pid "$f1" 20
	[ "$rc" = 0 ] || fail "round $r: $(cat /tmp/f1)"
	wait_pid "$f2" 20
	[ "$rc" = 0 ] || fail "round $r: $(cat /tmp/f2)"
	say "1.$r unbind under an mmap flood: $ms ms; $(tail -n1 /tmp/f1 | sed 's/kmod-buf: //')"
	r=$((r + 1))
done

if rig_no_p2pdma; then
	# 2. mmap loop on a CMB while its drive is unbound.
	r=0
	while [ $r -lt $rounds ]; do
		pb=$(kmod_wait_provider "$b" nvme-cmb) || fail "round $r: no CMB provider for $b"
		rm -f /tmp/m1
		kmod-buf -d "/dev/$pb" -c "$b" -s 512K map-loop 30 >/tmp/m1 2>&1 &
		m1=$!
		sleep 0.$((2 + r))
		unbind_within 20 "$b"
		wait_pid "$m1" 20
		[ "$rc" = 0 ] || fail "round $r: map loop: $(cat /tmp/m1)"
		echo "$b" >/sys/bus/pci/drivers/nvme/bind || fail "cannot bind $b again"
		say "2.$r $b unbound under an mmap loop: $(tail -n1 /tmp/m1 | sed 's/kmod-buf: //')"
		r=$((r + 1))
	done
	pb=$(kmod_wait_provider "$b" nvme-cmb) || fail "no CMB provider for $b at the end"
	rig_wait_ns "$b" >/dev/null

	# 3. A removal waiting on a pin holds up nobody else.
	pa=$(kmod_wait_provider "$a" nvme-cmb) || fail "no CMB provider for $a"
	kmod_bind "$mc" || fail "cannot bind $mc"
	rm -f /tmp/h /tmp/release
	kmod-buf -d "/dev/$pa" -c "$a" -s 1M uring-hold /tmp/release >/tmp/h 2>&1 &
	hp=$!
	wait_line /tmp/h 'READY\|UNSUPPORTED' || fail "holder did not start: $(cat /tmp/h)"
	if grep -q UNSUPPORTED /tmp/h; then
		say "3. skipped: io_uring cannot pin this mapping on $(uname -r)"
	else
		( echo "$a" >/sys/bus/pci/drivers/nvme/unbind ) &
		ua=$!
		wait_dmesg "removal has waited" || fail "the removal of $pa did not wait for the pin"
		t0=$(now_ms)
		unbind_within 10 "$b"
		unbind_within 10 "$mc"
		ms=$(($(now_ms) - t0))
		running "$ua" || fail "the unbind of $a did not wait for the pin"
		touch /tmp/release
		wait_pid "$ua" 20
		[ "$rc" = 0 ] || fail "the unbind of $a did not finish after the pin went"
		wait "$hp" || fail "holder: $(cat /tmp/h)"
		say "3. while $a's removal waited for a pin, $b and $mc unbound in $ms ms"
		echo "$a" >/sys/bus/pci/drivers/nvme/bind || fail "cannot bind $a again"
		echo "$b" >/sys/bus/pci/drivers/nvme/bind || fail "cannot bind $b again"
	fi
	touch /tmp/release
	wait "$hp" 2>/dev/null
fi
kmod_unload
exit 0
