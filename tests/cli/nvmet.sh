#!/usr/bin/env bash
# p2pmem nvmet on fake sysfs/configfs trees (tests/fixtures/nvmet*.fab): the
# prediction for every kind of port and namespace, the refusals with the
# kernel's reasons, the exit codes, and that a failed export leaves configfs
# as it was. The real configfs, nvme-loop and rxe are in tests/vm/nvmet.sh.
. "$(dirname "$0")/lib.inc"

Q=nqn.2026-12.io.p2pmem:t
ex() { fx nvmet nvmet export "$@"; }

# RDMA NIC below the drives' switch: p2p memory, the drive's own CMB (closest).
expect_exit 0 'p2p memory from 0000:03:00.0: the closest published provider that RDMA device mlx5_0 \(0000:05:00.0\) and nvme0n1 both reach \(distance 4\)' -- ex -n -a 192.168.5.1 $Q /dev/nvme0n1
expect_exit 0 'p2pmem 0000:04:00.0' -- ex -n -a 192.168.5.1 $Q /dev/nvme0n1 /dev/nvme1n1
expect_exit 0 '"memory": "p2p",' -- ex -n -a 192.168.5.1 -o json $Q nvme0n1
expect_exit 0 'namespace 1: /dev/nvme0n1p1 \(0000:03:00.0\), p2pmem 0000:03:00.0' -- ex -n -a 192.168.5.1 $Q /dev/nvme0n1p1
expect_exit 0 'rdma fd00::5:4420 \(ipv6\)' -- ex -n -a fd00::5 $Q /dev/nvme0n1
# the existing port on that address is reused; a new address gets a new port
expect_exit 0 'port 1: rdma 192.168.5.1:4420 \(ipv4\), existing' -- ex -n -a 192.168.5.1 $Q /dev/nvme0n1
expect_exit 0 'port 2: rdma 192.168.5.1:4421 \(ipv4\), new' -- ex -n -a 192.168.5.1 -s 4421 $Q /dev/nvme0n1
# 0.0.0.0: every RDMA device, each judged; p2p only if every one gets it
expect_exit 1 'mlx5_0: p2p memory from 0000:03:00.0.*mlx5_1: host memory.*rxe0: host memory' -- ex -n -a 0.0.0.0 $Q /dev/nvme0n1

# The NIC on another root port: no provider both reach (q35, Intel).
expect_exit 1 'host memory: no peer-to-peer memory is available that both mlx5_1 \(0000:06:00.0\) and /dev/nvme0n1 reach' -- ex -n -a 192.168.6.1 $Q /dev/nvme0n1
expect_exit 1 'export with host memory using --no-p2p' -- ex -n -a 192.168.6.1 $Q /dev/nvme0n1
# ... a provider the drive reaches is accepted, but not used on connect
expect_exit 0 'host memory: when a host connects through mlx5_1 \(0000:06:00.0\), the kernel finds that it cannot reach 0000:04:00.0' -- ex -n -a 192.168.6.1 --p2pmem 0000:04:00.0 $Q /dev/nvme0n1

# Providers the kernel refuses, with its reason and errno.
expect_exit 2 'refuses to enable /dev/nvme0n1 with p2pmem=0000:07:00.0 \(EINVAL\).*do not share an upstream bridge or whitelisted host bridge' -- ex -n -a 192.168.5.1 --p2pmem 0000:07:00.0 $Q /dev/nvme0n1
expect_exit 2 'refuses p2pmem=0000:00:1f.2: PCI device has no peer-to-peer memory \(ENODEV\)' -- ex -n -a 192.168.5.1 --p2pmem 0000:00:1f.2 $Q /dev/nvme0n1
expect_exit 2 'refuses p2pmem=0000:0a:00.0: No such PCI device \(ENODEV\)' -- ex -n -a 192.168.5.1 --p2pmem 0000:0a:00.0 $Q /dev/nvme0n1
expect_exit 2 'no peer-to-peer memory is available for /dev/nvme2n1 \(EINVAL\)' -- ex -n -a 192.168.5.1 --p2pmem 1 $Q /dev/nvme2n1
expect_exit 2 'not supported by the driver of /dev/sda' -- ex -n -a 192.168.5.1 --p2pmem 1 $Q /dev/sda

# Transports and devices that never use p2p memory.
expect_exit 1 'rxe0 on d0 is software RDMA with no PCI function' -- ex -n -a 10.9.9.1 $Q /dev/nvme0n1
expect_exit 0 'host memory: p2pmem is off for this namespace' -- ex -n -a 10.9.9.1 --no-p2p $Q /dev/nvme0n1
expect_exit 1 'host memory: nvmet-tcp never uses p2p memory' -- ex -n -t tcp -a 192.168.5.1 $Q /dev/nvme0n1
expect_exit 0 'nvmet-loop never uses p2p memory.*accepted and ignored' -- ex -n -t loop --p2pmem 0000:04:00.0 $Q /dev/nvme0n1
expect_exit 1 'host memory: p2p memory is impossible here: .*not supported by the driver of /dev/sda' -- ex -n -a 192.168.5.1 $Q /dev/sda

# Bad input: exit 2, nothing on stdout.
file=$(mktemp)
expect_exit 2 "$file is a file: .*never uses p2p memory.*--no-p2p" -- ex -n -a 192.168.5.1 $Q "$file"
expect_exit 0 "namespace 1: $file, p2pmem 0" -- ex -n -a 192.168.5.1 --no-p2p $Q "$file"
rm -f "$file"
expect_exit 2 'no such device or file: /dev/nvme9n1' -- ex -n -a 192.168.5.1 $Q /dev/nvme9n1
expect_exit 2 'no interface of this machine has the address 192.168.99.1 \(addresses: lo 127.0.0.1, ens5 192.168.5.1' -- ex -n -a 192.168.99.1 $Q /dev/nvme0n1
expect_exit 2 'no RDMA device serves 127.0.0.1' -- ex -n -a 127.0.0.1 $Q /dev/nvme0n1
expect_exit 2 "'nvme0' is not an IPv4 or IPv6 address" -- ex -n -a nvme0 $Q /dev/nvme0n1
expect_exit 2 '--traddr is needed for rdma' -- ex -n $Q /dev/nvme0n1
expect_exit 2 'a loop port has no address' -- ex -n -t loop -a 192.168.5.1 $Q /dev/nvme0n1
expect_exit 2 'unknown transport .fc.' -- ex -n -t fc $Q /dev/nvme0n1
expect_exit 2 "--trsvcid '0x10' is not a port number" -- ex -n -a 192.168.5.1 -s 0x10 $Q /dev/nvme0n1
expect_exit 2 'export needs an NQN and at least one DEVICE' -- ex -n $Q
expect_exit 2 "is not a usable NQN" -- ex -n -a 192.168.5.1 a/b /dev/nvme0n1
expect_exit 2 'subsystem nqn.2026-12.io.p2pmem:existing is already exported' -- ex -a 192.168.5.1 nqn.2026-12.io.p2pmem:existing /dev/nvme1n1
expect_exit 2 'nvmet is not available: .*/kernel/config/nvmet does not exist; load the target \(modprobe nvmet' -- fx switch nvmet export -a 192.168.5.1 $Q /dev/nvme0n1
expect_exit 2 'unknown nvmet action' -- fx nvmet nvmet start
expect_exit 2 'these options belong to export' -- fx nvmet nvmet status -a 192.168.5.1
expect_exit 2 'these options belong to export, not unexport' -- fx nvmet nvmet unexport --p2pmem auto nqn.x
expect_exit 2 '--watch belongs to status, not export' -- ex -n --watch 1 -a 192.168.5.1 $Q /dev/nvme0n1

# A kernel without P2PDMA: no attribute, host memory, --no-p2p to export.
expect_exit 1 'this kernel has no CONFIG_PCI_P2PDMA .*export with --no-p2p, or run a kernel with P2PDMA' -- fx nvmet-stock nvmet export -n -a 192.168.5.1 $Q /dev/nvme0n1
expect_exit 0 'no p2pmem attribute \(kernel without P2PDMA\)' -- fx nvmet-stock nvmet export -n -a 192.168.5.1 --no-p2p $Q /dev/nvme0n1
expect_exit 2 'configfs refuses it: EACCES' -- fx nvmet-stock nvmet export -n -a 192.168.5.1 --p2pmem 1 $Q /dev/nvme0n1
expect_exit 0 'host memory: this kernel has no CONFIG_PCI_P2PDMA' -- fx nvmet-stock nvmet status

# status: configfs as it is, predicted again; --watch samples available.
expect_exit 0 'namespace 1: /dev/nvme0n1 \(0000:03:00.0\), enabled, p2pmem 0000:03:00.0' -- fx nvmet nvmet status
expect_exit 0 'p2p memory from 0000:03:00.0: RDMA device mlx5_0 \(0000:05:00.0\) reaches it at distance 4' -- fx nvmet nvmet status nqn.2026-12.io.p2pmem:existing
expect_exit 0 'namespace 2: /dev/nvme1n1 \(0000:04:00.0\), enabled, p2pmem 0' -- fx nvmet nvmet status
expect_exit 0 '0000:03:00.0: available 64.0 MiB of 64.0 MiB, did not move' -- fx nvmet nvmet status --watch 0.2
expect_exit 0 '^p2p memory in use: no' -- fx nvmet nvmet status --watch 0.1
expect_exit 0 '"p2p_in_use": false' -- fx nvmet nvmet status -o json --watch 0.1
expect_exit 2 'no subsystem nqn.x in' -- fx nvmet nvmet status nqn.x
# a subsystem on two ports is judged through each: nvmet decides per connection
T=nqn.2026-12.io.p2pmem:two-ports
expect_exit 0 'through port 1: p2p memory from 0000:04:00.0: the closest published provider that RDMA device mlx5_0' -- fx nvmet nvmet status $T
expect_exit 0 'through port 7: host memory: nvmet-tcp never uses p2p memory' -- fx nvmet nvmet status $T
expect_exit 0 "^subsystem $T \(hosts nqn.2014-08.org.nvmexpress:uuid:a1, nqn.2014-08.org.nvmexpress:uuid:b0\)" -- fx nvmet nvmet status $T
expect_exit 0 '"allow_any_host": false,[[:space:]]*"allowed_hosts": \[[[:space:]]*"nqn.2014-08.org.nvmexpress:uuid:a1",' -- bash -c "$(declare -f fx); fx nvmet nvmet status -o json $T | tr -d '\n'"
expect_exit 0 '^subsystem nqn.2026-12.io.p2pmem:existing \(allow any host\)' -- fx nvmet nvmet status
# --host: only the hosts named may connect
H=nqn.2014-08.org.nvmexpress:uuid:0b5c6c5e-3d2a-4d57-9f0e-6f5b8a3c2d1a
expect_exit 0 "^subsystem $Q: 1 namespace \(host $H\)" -- ex -n -a 192.168.5.1 --host $H $Q /dev/nvme0n1
expect_exit 0 '"allow_any_host": false,[[:space:]]*"allowed_hosts": \[[[:space:]]*"nqn.h1",[[:space:]]*"nqn.h2"' -- bash -c "$(declare -f fx); fx nvmet nvmet export -n -o json -a 192.168.5.1 -H nqn.h1 -H nqn.h2 $Q /dev/nvme0n1 | tr -d '\n'"
expect_exit 2 "--host 'a/b' is not a usable host NQN" -- ex -n -a 192.168.5.1 --host a/b $Q /dev/nvme0n1
expect_exit 2 '--host nqn.h1 is given twice' -- ex -n -a 192.168.5.1 -H nqn.h1 -H nqn.h1 $Q /dev/nvme0n1
expect_exit 2 'these options belong to export, not unexport' -- fx nvmet nvmet unexport --host nqn.h1 nqn.x
expect_exit 0 '"port": 7,[[:space:]]*"memory": "host"' -- bash -c "$(declare -f fx); fx nvmet nvmet status -o json $T | tr -d '\n'"
expect_exit 2 'no subsystem nqn.x in .*nothing to unexport' -- fx nvmet nvmet unexport nqn.x
expect_exit 2 '--watch takes seconds' -- fx nvmet nvmet status --watch -1

# A failed export undoes itself: in the fake tree the subsystem's mkdir
# works but its attributes do not exist (configfs makes them), so the first
# write fails; the tree must be as before, and the error must say so.
tmp=$(mktemp -d)
cp -a "$P2PMEM_FIXTURES/nvmet" "$tmp/"
before=$(cd "$tmp/nvmet" && find . | sort | md5sum)
out=$(P2PMEM_CPUINFO=$tmp/nvmet/cpuinfo P2PMEM_KALLSYMS=$tmp/nvmet/kallsyms P2PMEM_NETIFS=$tmp/nvmet/netifs \
	"$P2PMEM_BIN" --sysfs-root "$tmp/nvmet" nvmet export -a 192.168.5.1 $Q /dev/nvme0n1 2>&1)
rc=$?
after=$(cd "$tmp/nvmet" && find . | sort | md5sum)
if [ $rc -ne 2 ] || [ "$before" != "$after" ] || ! grep -q 'writing attr_allow_any_host=1 failed.*nothing is left of the export' <<<"$out"; then
	echo "FAIL: failed export: exit $rc, tree changed: $([ "$before" != "$after" ] && echo yes || echo no): $out"
	fails=$((fails + 1))
fi
# ... and with --host, the first write is allow_any_host=0
out=$(P2PMEM_CPUINFO=$tmp/nvmet/cpuinfo P2PMEM_KALLSYMS=$tmp/nvmet/kallsyms P2PMEM_NETIFS=$tmp/nvmet/netifs \
	"$P2PMEM_BIN" --sysfs-root "$tmp/nvmet" nvmet export -a 192.168.5.1 --host nqn.h1 $Q /dev/nvme0n1 2>&1)
rc=$?
after=$(cd "$tmp/nvmet" && find . | sort | md5sum)
if [ $rc -ne 2 ] || [ "$before" != "$after" ] || ! grep -q 'writing attr_allow_any_host=0 failed.*nothing is left of the export' <<<"$out"; then
	echo "FAIL: failed export with --host: exit $rc, tree changed: $([ "$before" != "$after" ] && echo yes || echo no): $out"
	fails=$((fails + 1))
fi
rm -rf "$tmp"
finish
