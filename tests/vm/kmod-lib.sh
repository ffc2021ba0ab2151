# shellcheck shell=sh
# tests/vm/kmod-lib.sh - helpers of the kmod-*.sh VM tests (p2pmem.ko), on top
# of lib.sh.  Sourced: `. /tests/kmod-lib.sh`.
#
# The modules come from build/modules/<kernel>/ (rig/rig builds kmod/ for every
# kernel) and sit in the guest's /lib/modules/extra, not loaded.

# shellcheck source=tests/vm/lib.sh
. /tests/lib.sh

KMOD_DIR=/lib/modules/extra
CLASS=/sys/class/p2pmem

# p2pmem.ko must have been built for this kernel: rig/rig builds kmod/ for
# every kernel, so its absence is a broken build, not a reason to skip.
need_kmod() {
	[ -f "$KMOD_DIR/p2pmem.ko" ] ||
		fail "no p2pmem.ko for the $RIG_KERNEL kernel in the initramfs (rig/rig builds kmod/)"
}

# kmod_load [PARAM=VALUE...]: load p2pmem.ko (unloading an earlier copy).
# shellcheck disable=SC2120 # parameters are optional
kmod_load() {
	kmod_unload
	insmod "$KMOD_DIR/p2pmem.ko" "$@" || fail "insmod p2pmem.ko $* failed"
}

# Unload the test module and p2pmem.ko if loaded; unbind the memory card first
# and forget its driver_override, so that the next load does not bind it by
# itself (a test that wants it a provider calls kmod_bind).
kmod_unload() {
	grep -q '^p2pmem_test ' /proc/modules && rmmod p2pmem_test
	if grep -q '^p2pmem ' /proc/modules; then
		for d in /sys/bus/pci/drivers/p2pmem_pci/0*; do
			[ -e "$d" ] && echo "${d##*/}" >/sys/bus/pci/drivers/p2pmem_pci/unbind
		done
		rmmod p2pmem || fail "rmmod p2pmem failed"
	fi
	for d in "$SYS_PCI"/*; do
		[ "$(cat "$d/driver_override" 2>/dev/null)" = p2pmem_pci ] && echo >"$d/driver_override"
	done
	return 0
}

# The memory card's BDF (1af4:1110).
kmod_memcard() {
	for d in "$SYS_PCI"/*; do
		[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1110 ] && basename "$d" && return 0
	done
	return 1
}

# Bind BDF to p2pmem_pci through driver_override.
kmod_bind() {
	echo p2pmem_pci >"$SYS_PCI/$1/driver_override" || return 1
	echo "$1" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink -f "$SYS_PCI/$1/driver")")" = p2pmem_pci ]
}

# Unbind BDF from whatever driver it has.
kmod_unbind() {
	[ -e "$SYS_PCI/$1/driver" ] && echo "$1" >"$SYS_PCI/$1/driver/unbind"
	return 0
}

# The p2pmemN that serves BDF (optionally of KIND), or nothing.
kmod_provider() {
	for p in "$CLASS"/p2pmem*; do
		[ -e "$p" ] || continue
		[ "$(basename "$(readlink -f "$p/device")")" = "$1" ] || continue
		[ -z "${2:-}" ] || [ "$(cat "$p/kind")" = "$2" ] || continue
		basename "$p"
		return 0
	done
	return 1
}

# kmod_wait_provider BDF KIND: wait up to 5 s for the provider to appear.
kmod_wait_provider() {
	i=0
	while [ $i -lt 50 ]; do
		kmod_provider "$1" "$2" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# kmod_memcard_up MEMCARD: load p2pmem.ko, bind the memory card to it and
# print its provider (p2pmemN).  In p=$(...) a failure's message is what
# the capture holds: `p=$(kmod_memcard_up "$mc") || fail "$p"`.
kmod_memcard_up() {
	kmod_load
	kmod_bind "$1" || fail "cannot bind the memory card $1 to p2pmem_pci"
	kmod_wait_provider "$1" memory || fail "no provider for the memory card $1"
}

# kmod_providers_up MEMCARD: load p2pmem.ko and make its providers: the
# memory card everywhere, the CMBs of $a and $b (rig_pair) without P2PDMA
# (on the P2PDMA kernel they stay upstream's).
kmod_providers_up() {
	kmod_memcard_up "$1" >/dev/null
	kmod_cmb_providers_up
}

# kmod_copy_setup: the start of a copy test: the CLI and p2pmem.ko present,
# rig_pair's a, b, na, nb, the memory card in mc, and every provider up.
kmod_copy_setup() {
	need_p2pmem
	rig_pair
	mc=$(kmod_memcard) || fail "no memory card"
	need_kmod
	kmod_providers_up "$mc"
}

# kmod_cmb_providers_up: without P2PDMA, wait for the CMB providers of $a
# and $b (p2pmem.ko adopts them when the nvme driver binds).
kmod_cmb_providers_up() {
	rig_no_p2pdma || return 0
	kmod_wait_provider "$a" nvme-cmb >/dev/null || fail "no CMB provider for $a"
	kmod_wait_provider "$b" nvme-cmb >/dev/null || fail "no CMB provider for $b"
}

# kmod_wait_state P2PMEMN STATE SECS WHAT: wait until the provider's state is
# STATE; after SECS seconds fail, saying it is still not so SECS s after WHAT.
kmod_wait_state() {
	i=0
	while [ "$(kattr "$1" state)" != "$2" ]; do
		[ $i -lt $(($3 * 10)) ] || fail "$1 still $(kattr "$1" state) $3 s after $4"
		sleep 0.1
		i=$((i + 1))
	done
}

# attr P2PMEMN NAME: one sysfs attribute of a provider.
kattr() { cat "$CLASS/$1/$2"; }

# kavail P2PMEMN: its free memory: its own, or on a P2PDMA kernel, where
# its pool is upstream's (attribute pool), upstream's <bdf>/p2pmem/available.
kavail() {
	if [ "$(kattr "$1" pool)" = upstream ]; then
		cat "$CLASS/$1/device/p2pmem/available"
	else
		kattr "$1" available
	fi
}

# kmod_uring_refused P2PMEMN PID OUT: on upstream's pool (P2PDMA kernels),
# io_uring must refuse to pin the pages long-term: wait for PID, a
# `kmod-buf uring-hold` writing to OUT, which must have exited 3 (REFUSED,
# EREMOTEIO); return 0.  On p2pmem.ko's own pool return 1 at once, PID
# still running: the caller goes on with what it checks there.
kmod_uring_refused() {
	[ "$(kattr "$1" pool)" = upstream ] || return 1
	wait "$2"
	rc=$?
	if [ $rc -ne 3 ] || ! grep -q REFUSED "$3"; then
		fail "$1: io_uring pinned upstream's P2PDMA pages long-term (exit $rc): $(cat "$3")"
	fi
	return 0
}

# Milliseconds since boot (busybox has no date +%N); "1$frac" keeps a
# fraction like 08 from being read as octal.
now_ms() {
	read -r up _ </proc/uptime
	frac=${up#*.}
	echo $((${up%.*} * 1000 + (1$frac - 100) * 10))
}

# Wait until the kernel log has a line matching REGEX (up to 5 s).
wait_dmesg() {
	i=0
	while [ $i -lt 50 ]; do
		dmesg | grep -q "$1" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# Wait until FILE has a line matching REGEX (up to SECS, default 10).
wait_line() {
	i=0
	while [ $i -lt $((${3:-10} * 20)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}
