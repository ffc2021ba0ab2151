#!/bin/sh
# nvmet: `p2pmem nvmet` against the real nvmet (configfs), nvme-loop and
# software RDMA (rxe on a dummy interface: no traffic leaves the guest).
# Every prediction is checked against what the kernel does:
# - no nvmet loaded: export fails with exit 2, nothing written;
# - P2PDMA kernel (Debian 7.x): a provider with no p2p memory (the memory
#   card without p2pmem.ko) and a far one (the card registered with upstream
#   by p2pmem.ko, on another root port) are refused with exit 2, and the
#   kernel refuses the same values itself (ENODEV at the write / EINVAL at
#   enable, with its log line); the other drive's CMB is accepted (export
#   over loop with p2pmem=BDF: configfs holds what export promised); a host
#   connects over nvme-loop, and over nvme-rdma through rxe, writes and reads
#   back data that is then on the drive; `status` predicts host memory and,
#   watching while I/O runs, sees the provider's available not move; the
#   kernel never logs "using p2pmem"; auto refuses (exit 1) over rxe.
# - stock kernels (no P2PDMA): auto exits 1 saying why, p2pmem=1 is refused
#   as the kernel refuses it (EACCES: no attribute); --no-p2p exports over
#   loop (6.12) or tcp on the loopback interface (6.1 has no nvme-loop) and
#   the data goes through.
# unexport leaves configfs as it was before each export.  --host: the kernel
# refuses a host not named (on every kernel), the named one does I/O.
# rig: fabrics=switch kernels=debian-new,stock,stock61
# shellcheck source=tests/vm/kmod-lib.sh
. /tests/kmod-lib.sh
need_p2pmem

# shellcheck disable=SC2154 # na, b: set by rig_pair
rig_pair
mc=$(kmod_memcard) || fail "no memory card"
# as the boot left it: not a provider (an earlier test may have made it one)
kmod_unload
Q=nqn.2026-12.io.p2pmem:rig
cfs=/sys/kernel/config/nvmet

grep -q ' /sys/kernel/config ' /proc/mounts || {
	rig_modprobe configfs || fail "cannot load configfs"
	mount -t configfs none /sys/kernel/config || fail "cannot mount configfs"
}
# No nvmet yet: exit 2, and the reason.
if [ ! -d $cfs ]; then
	p2pmem nvmet export -t loop --no-p2p $Q "$na" >/tmp/o 2>&1
	rc=$?
	if [ $rc != 2 ] || ! grep -q 'nvmet is not available: .*modprobe nvmet' /tmp/o; then
		fail "export without nvmet: exit $rc: $(cat /tmp/o)"
	fi
fi
rig_modprobe nvmet || fail "cannot load nvmet"
[ -d $cfs ] || fail "no $cfs after loading nvmet"
# The host side: nvme-loop, or where the kernel has none (Debian's 6.1)
# nvme-tcp on the loopback interface.
if rig_modprobe nvme-loop; then
	T="-t loop" connect="transport=loop,nqn=$Q"
else
	rig_modprobe nvmet-tcp nvme-tcp || fail "neither nvme-loop nor nvme-tcp"
	ip link set lo up
	T="-t tcp -a 127.0.0.1" connect="transport=tcp,traddr=127.0.0.1,trsvcid=4420,nqn=$Q"
fi

snap() { find $cfs | sort >"$1"; }
same_as() { # SNAPSHOT WHAT: configfs is as in SNAPSHOT
	find $cfs | sort >/tmp/now
	cmp -s "$1" /tmp/now || fail "$2: configfs changed: $(diff "$1" /tmp/now | head -20)"
}
# expect RC PATTERN CMD...: exit code and output; for 2 and 1 configfs untouched
expect() {
	want=$1 pat=$2
	shift 2
	snap /tmp/before
	"$@" >/tmp/o 2>&1
	rc=$?
	[ $rc = "$want" ] || fail "$*: exit $rc, expected $want: $(cat /tmp/o)"
	grep -Eq -- "$pat" /tmp/o || fail "$*: output lacks /$pat/: $(cat /tmp/o)"
	[ "$want" = 0 ] || same_as /tmp/before "$*"
	say "ok: $*"
}

# kernel_try VALUE: what the kernel does with p2pmem=VALUE on a scratch
# namespace of nvme a: "write: ERROR", "enable: ERROR" or "ok"
kernel_try() {
	s=$cfs/subsystems/$Q-probe
	{ mkdir "$s" && mkdir "$s/namespaces/1"; } || fail "cannot make a scratch subsystem"
	printf '%s' "$na" >"$s/namespaces/1/device_path"
	# GNU dd says the errno (busybox's printf does not)
	if ! printf '%s' "$1" | dd of="$s/namespaces/1/p2pmem" conv=notrunc status=none 2>/tmp/w.err; then
		r="write: $(cat /tmp/w.err)"
	elif ! echo 1 | dd of="$s/namespaces/1/enable" conv=notrunc status=none 2>/tmp/w.err; then
		r="enable: $(cat /tmp/w.err)"
	else
		r=ok
		echo 0 >"$s/namespaces/1/enable"
	fi
	rmdir "$s/namespaces/1" "$s"
	echo "$r"
}

# connect_io DEVFILE-CMD...: connect a host (the arguments go to
# /dev/nvme-fabrics), find its new namespace, write 2 MiB of random data at
# 1 MiB, read it back through the fabric and straight from nvme a, compare;
# meanwhile status --watch runs (written to /tmp/watch.json). Disconnects.
connect_io() {
	ls /sys/block >/tmp/blk.before
	echo "$1" >/dev/nvme-fabrics || fail "connect ($1) failed: $(dmesg | tail -5)"
	i=0 dev=
	while [ $i -lt 100 ] && [ -z "$dev" ]; do
		# the namespace's node (a multipath head's hidden paths, nvmeXcYnZ,
		# have none)
		for x in /sys/block/nvme*; do
			x=${x##*/}
			grep -qxF "$x" /tmp/blk.before && continue
			[ -b "/dev/$x" ] && dev=$x && break
		done
		[ -n "$dev" ] || sleep 0.1
		i=$((i + 1))
	done
	[ -n "$dev" ] || fail "no namespace appeared after connecting ($1)"
	ctrl=
	for c in /sys/class/nvme/nvme*; do
		[ "$(cat "$c/subsysnqn" 2>/dev/null)" = $Q ] && ctrl=$(basename "$c")
	done
	[ -n "$ctrl" ] || fail "no controller with subsystem $Q"
	say "connected $ctrl ($(cat "/sys/class/nvme/$ctrl/transport")), namespace /dev/$dev"
	dd if=/dev/urandom of=/tmp/pat bs=1M count=2 2>/dev/null
	p2pmem nvmet status -o json --watch 4 $Q >/tmp/watch.json 2>&1 &
	wpid=$!
	sleep 0.5
	n=0
	while kill -0 $wpid 2>/dev/null; do
		dd if=/tmp/pat of="/dev/$dev" bs=256K seek=4 oflag=direct conv=notrunc 2>/dev/null ||
			fail "write through the fabric failed"
		dd if="/dev/$dev" of=/tmp/back bs=256K skip=4 count=8 iflag=direct 2>/dev/null ||
			fail "read through the fabric failed"
		cmp -s /tmp/pat /tmp/back || fail "data read back through the fabric differs"
		n=$((n + 1))
	done
	wait $wpid || fail "status --watch failed: $(cat /tmp/watch.json)"
	[ $n -gt 0 ] || fail "no I/O ran while status watched"
	dd if="$na" of=/tmp/back bs=256K skip=4 count=8 iflag=direct 2>/dev/null
	cmp -s /tmp/pat /tmp/back || fail "the data is not on $na"
	say "$n rounds of 2 MiB written and read back through $ctrl, and found on $na"
	echo 1 >"/sys/class/nvme/$ctrl/delete_controller" || fail "cannot disconnect $ctrl"
}

snap /tmp/clean
# Host access: with --host only that host may connect; the kernel refuses
# another (its log says so), the allowed one does I/O, status names it, and
# unexport removes the hosts/ entry it made.
HA=nqn.2014-08.org.nvmexpress:uuid:0b5c6c5e-3d2a-4d57-9f0e-6f5b8a3c2d1a
HB=nqn.2014-08.org.nvmexpress:uuid:7e1f4a2b-9c8d-4e6f-a1b2-c3d4e5f60718
# shellcheck disable=SC2086 # $T is a word list
expect 0 "\(host $HA\)" p2pmem nvmet export $T --no-p2p --host $HA $Q "$na"
[ "$(cat $cfs/subsystems/$Q/attr_allow_any_host)" = 0 ] || fail "any host may connect after --host"
[ -L "$cfs/subsystems/$Q/allowed_hosts/$HA" ] || fail "$HA is not in allowed_hosts"
dmesg -c >/dev/null
if echo "$connect,hostnqn=$HB,hostid=7e1f4a2b-9c8d-4e6f-a1b2-c3d4e5f60718" >/dev/nvme-fabrics 2>/dev/null; then
	fail "a host that was not named connected"
fi
dmesg | grep -q "connect by host $HB for subsystem $Q not allowed" ||
	fail "no kernel line refusing $HB: $(dmesg | tail -3)"
connect_io "$connect,hostnqn=$HA,hostid=0b5c6c5e-3d2a-4d57-9f0e-6f5b8a3c2d1a"
grep -A1 '"allowed_hosts": \[' /tmp/watch.json | grep -q "\"$HA\"" ||
	fail "status does not name the allowed host: $(cat /tmp/watch.json)"
expect 0 "unexported $Q" p2pmem nvmet unexport $Q
same_as /tmp/clean "after unexporting the target limited to one host"
say "--host: $HB refused by the kernel, $HA did I/O, hosts/ entry removed"

# shellcheck disable=SC2086 # $T is a word list
if rig_no_p2pdma; then
	expect 1 'this kernel has no CONFIG_PCI_P2PDMA.*--no-p2p' p2pmem nvmet export $T $Q "$na"
	expect 2 'configfs refuses it: EACCES' p2pmem nvmet export $T --p2pmem 1 $Q "$na"
	r=$(kernel_try 1)
	case "$r" in "write: "*"Permission denied"*) ;; *) fail "the kernel took p2pmem=1: $r" ;; esac
	expect 0 'no p2pmem attribute \(kernel without P2PDMA\)' p2pmem nvmet export $T --no-p2p $Q "$na"
	[ ! -e $cfs/subsystems/$Q/namespaces/1/p2pmem ] || fail "a p2pmem attribute on a kernel without P2PDMA"
	[ "$(cat $cfs/subsystems/$Q/namespaces/1/enable)" = 1 ] || fail "namespace 1 is not enabled"
	connect_io "$connect"
	grep -q '"reason": "host memory: this kernel has no CONFIG_PCI_P2PDMA' /tmp/watch.json ||
		fail "status does not say why: $(cat /tmp/watch.json)"
	expect 0 "unexported $Q" p2pmem nvmet unexport $Q
	same_as /tmp/clean "after unexport"
	exit 0
fi

# P2PDMA kernel. The memory card is no provider yet: "no peer-to-peer memory".
expect 2 "refuses p2pmem=$mc: PCI device has no peer-to-peer memory \(ENODEV\)" \
	p2pmem nvmet export -t loop --p2pmem "$mc" $Q "$na"
r=$(kernel_try "$mc")
case "$r" in "write: "*"No such device"*) ;; *) fail "the kernel took p2pmem=$mc: $r" ;; esac
dmesg | grep -q "$mc: PCI device has no peer-to-peer memory: $mc" || fail "no kernel line for $mc"
expect 2 "refuses p2pmem=0000:0f:00.0: No such PCI device" \
	p2pmem nvmet export -t loop --p2pmem 0000:0f:00.0 $Q "$na"
r=$(kernel_try 0000:0f:00.0)
case "$r" in "write: "*"No such device"*) ;; *) fail "the kernel took p2pmem=0000:0f:00.0: $r" ;; esac
# Registered with upstream by p2pmem.ko, on another root port: out of reach.
need_kmod
kmod_load
kmod_bind "$mc" || fail "cannot bind $mc to p2pmem_pci"
[ -d "$SYS_PCI/$mc/p2pmem" ] || fail "$mc is no upstream provider after binding"
expect 2 "refuses to enable $na with p2pmem=$mc \(EINVAL\).*do not share an upstream bridge or whitelisted host bridge" \
	p2pmem nvmet export -t loop --p2pmem "$mc" $Q "$na"
r=$(kernel_try "$mc")
case "$r" in "enable: "*"Invalid argument"*) ;; *) fail "the kernel enabled p2pmem=$mc: $r" ;; esac
dmesg | grep -q "cannot be used for peer-to-peer DMA as the client and provider ($mc) do not share an upstream bridge or whitelisted host bridge" ||
	fail "no kernel line for the far provider"
kmod_unload

# Bad input: nothing written.
expect 2 'no such device or file: /dev/nvme9n9' p2pmem nvmet export -t loop $Q /dev/nvme9n9
: >/tmp/backing
expect 2 '/tmp/backing is a file' p2pmem nvmet export -t loop $Q /tmp/backing
expect 2 'no interface of this machine has the address 10.9.8.7' p2pmem nvmet export -a 10.9.8.7 $Q "$na"

# loop: the other drive's CMB is accepted, and not used.
expect 1 'nvmet-loop never uses p2p memory' p2pmem nvmet export -t loop $Q "$na"
expect 0 "p2pmem $b" p2pmem nvmet export -t loop --p2pmem "$b" $Q "$na"
grep -q 'host memory: nvmet-loop never uses p2p memory' /tmp/o || fail "no prediction: $(cat /tmp/o)"
ns=$cfs/subsystems/$Q/namespaces/1
[ "$(cat $ns/device_path)" = "$na" ] || fail "device_path $(cat $ns/device_path)"
[ "$(cat $ns/p2pmem)" = "$b" ] || fail "p2pmem $(cat $ns/p2pmem), export promised $b"
[ "$(cat $ns/enable)" = 1 ] || fail "namespace 1 not enabled"
port=$(grep -o 'port [0-9]*' /tmp/o | head -n1 | cut -d' ' -f2)
[ "$(cat $cfs/ports/$port/addr_trtype)" = loop ] || fail "port $port is not loop"
[ -L "$cfs/ports/$port/subsystems/$Q" ] || fail "$Q is not linked on port $port"
connect_io "transport=loop,nqn=$Q"
grep -q '"memory": "host"' /tmp/watch.json || fail "status does not predict host memory: $(cat /tmp/watch.json)"
grep -A6 "\"provider\": \"$b\"" /tmp/watch.json | grep -q '"moved": false' ||
	fail "the provider's available moved (or was not watched): $(cat /tmp/watch.json)"
grep -q '"p2p_in_use": false' /tmp/watch.json || fail "status says p2p memory was in use"
# A second port (tcp, made by hand as an admin would): status judges the
# namespace through each port; unexport removes the port it leaves empty.
rig_modprobe nvmet-tcp || fail "cannot load nvmet-tcp"
ip link set lo up
tp=$cfs/ports/9
mkdir $tp && echo tcp >$tp/addr_trtype && echo ipv4 >$tp/addr_adrfam &&
	echo 127.0.0.1 >$tp/addr_traddr && echo 4430 >$tp/addr_trsvcid &&
	ln -s "$cfs/subsystems/$Q" "$tp/subsystems/$Q" || fail "cannot make a tcp port by hand"
expect 0 "through port 9: host memory: nvmet-tcp never uses p2p memory" p2pmem nvmet status $Q
grep -q "through port $port: host memory: nvmet-loop never uses p2p memory" /tmp/o ||
	fail "status does not judge the loop port $port: $(cat /tmp/o)"
expect 0 "unexported $Q" p2pmem nvmet unexport $Q
[ ! -e $tp ] || fail "unexport left port 9, which serves nothing now"
same_as /tmp/clean "after unexporting the loop target"

# rxe: software RDMA on a dummy interface, nvmet-rdma and nvme-rdma.
rig_modprobe nvmet-rdma nvme-rdma rdma_rxe dummy || fail "cannot load the RDMA modules"
ip link add d0 type dummy && ip addr add 10.9.9.1/24 dev d0 && ip link set d0 up ||
	fail "cannot make the dummy interface"
rdma link add rxe0 type rxe netdev d0 || fail "cannot add rxe0 on d0"
expect 1 'rxe0 on d0 is software RDMA with no PCI function' p2pmem nvmet export -a 10.9.9.1 $Q "$na"
expect 0 'rdma 10.9.9.1:4420 \(ipv4\)' p2pmem nvmet export -a 10.9.9.1 --p2pmem "$b" $Q "$na"
grep -q 'host memory: rxe0 on d0 is software RDMA' /tmp/o || fail "no prediction: $(cat /tmp/o)"
connect_io "transport=rdma,traddr=10.9.9.1,trsvcid=4420,nqn=$Q"
grep -q '"memory": "host"' /tmp/watch.json || fail "status does not predict host memory: $(cat /tmp/watch.json)"
grep -A6 "\"provider\": \"$b\"" /tmp/watch.json | grep -q '"moved": false' ||
	fail "the provider's available moved over rxe: $(cat /tmp/watch.json)"
expect 0 "unexported $Q" p2pmem nvmet unexport $Q
same_as /tmp/clean "after unexporting the rdma target"
rdma link delete rxe0
ip link del d0
! dmesg | grep -q 'using p2pmem on' || fail "the kernel used p2p memory: $(dmesg | grep 'using p2pmem on')"
exit 0
