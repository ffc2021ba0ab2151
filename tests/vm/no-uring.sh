#!/bin/sh
# no-uring: `p2pmem copy` where io_uring is refused (kernel.io_uring_disabled
# = 2, as hardened servers set it; a container's seccomp filter refuses
# io_uring_setup the same way, with EPERM).  The engine carries out its I/O
# with plain system calls, one at a time, and says so in the job's note:
#  - through p2p memory (nvme b's CMB; on P2PDMA kernels upstream's) and
#    through host memory, verified, bytes checked on the destination;
#  - a device copy inside nvme a (NVMe Copy through the passthrough ioctl
#    instead of io_uring's), verified;
#  - bench still measures every engine; fio, whose engine is io_uring,
#    gets no rows and bench says why.
# 6.1 has no io_uring_disabled.
# rig: fabrics=switch kernels=stock,debian-new
# shellcheck source=tests/vm/kmod-lib.sh
. /tests/kmod-lib.sh
kmod_copy_setup
knob=/proc/sys/kernel/io_uring_disabled
[ -w $knob ] || fail "no $knob in this kernel"

head -c 16777216 /dev/urandom >/tmp/pattern || fail "no pattern"
dd if=/tmp/pattern of="$na" bs=1M conv=fsync 2>/dev/null || fail "cannot write $na"
echo 2 >$knob
trap 'echo 0 >$knob' EXIT

# NAME VIA DST SKIP_MIB ARGS...: a verified 16 MiB copy that must go VIA,
# noted as without io_uring, the bytes at DST + SKIP MiB as in the pattern
copy_checked() {
	name=$1 via=$2 dst=$3 skip=$4
	shift 4
	p2pmem copy -q -o json --verify "$@" >/tmp/c.json 2>/tmp/c.err ||
		fail "$name without io_uring: exit $?: $(cat /tmp/c.err /tmp/c.json)"
	[ "$(jget /tmp/c.json jobs.0.via)" = "$via" ] || fail "$name: via $(jget /tmp/c.json jobs.0.via), expected $via"
	[ "$(jget /tmp/c.json jobs.0.verified)" = 16777216 ] || fail "$name: not all verified"
	jget /tmp/c.json jobs.0.note | grep -q 'io_uring refused (Operation not permitted' ||
		fail "$name: the note does not say io_uring was refused: $(jget /tmp/c.json jobs.0.note)"
	dd if="$dst" bs=1M skip="$skip" count=16 iflag=direct 2>/dev/null | cmp -s - /tmp/pattern ||
		fail "$name: the destination differs from the pattern"
	say "$name: $(jget /tmp/c.json jobs.0.where), verified, $(jget /tmp/c.json jobs.0.note)"
}

dd if=/dev/zero of="$nb" bs=1M count=16 oflag=direct 2>/dev/null
copy_checked "p2p" p2p "$nb" 0 --via p2p --length 16M "$na" "$nb"
dd if=/dev/zero of="$nb" bs=1M count=16 oflag=direct 2>/dev/null
copy_checked "host memory" host "$nb" 0 --via host --length 16M "$na" "$nb"
# inside nvme a: from its first 16 MiB to 128 MiB in
copy_checked "device copy" device "$na" 128 --via device --length 16M --dst-offset 128M "$na" "$na"

p2pmem bench -o json --length 8M --bs 1M --qd 2 --repeat 1 --allocs 10 "$na" "$nb" >/tmp/bench.json ||
	fail "bench without io_uring: exit $?: $(cat /tmp/bench.json)"
jget /tmp/bench.json fio | grep -q 'io_uring engine cannot run here (io_uring_setup: Operation not permitted' ||
	fail "bench does not say why there are no fio rows: $(jget /tmp/bench.json fio)"
n=$(jget /tmp/bench.json 'runs.#')
i=0 rows=
while [ "$i" -lt "$n" ]; do
	e=$(jget /tmp/bench.json "runs.$i.engine")
	[ "$(jget /tmp/bench.json "runs.$i.error")" = null ] ||
		fail "bench: $e failed without io_uring: $(jget /tmp/bench.json "runs.$i.error")"
	[ "$e" != fio ] || fail "bench ran fio without io_uring"
	rows="$rows $e"
	i=$((i + 1))
done
say "bench without io_uring measured:$rows; fio: $(jget /tmp/bench.json fio)"
# the next test in this boot finds the memory card as the boot left it
kmod_unload
exit 0
