#!/bin/sh
# device-copy: `p2pmem copy` inside one NVMe drive with the NVMe Copy
# command (passthrough on /dev/ngXnY), on the rig's drive a (Copy limits
# MSSRL 256, MCL 2048, MSRC 7: 1 MiB per command in 8 ranges):
#  - between two partitions of one drive, and between two ranges of the
#    whole namespace: verified here through the page cache (stale pages of
#    the destination must be gone) and by the engine's own verify pass;
#  - the proof that the data never crossed PCIe: QEMU traces every data
#    transfer of the drive (pci_nvme_map_prp / map_sgl with its length);
#    tests/vm/device-copy.host sums them on the host between this test's
#    markers: the device copy maps only range lists (bytes, not MiB), the
#    same copy through p2p memory maps twice its size (the method works);
#  - drive b's namespace accepts no Copy (MSSRL = MCL = 0): the copy goes
#    through memory and says why; --via device is refused there (exit 2);
#  - --no-device-copy and --via p2p move the data through memory;
#  - bench shows device copy next to p2p and host bounce.
# rig: fabrics=switch kernels=p2pdma,stock,debian-new
# rig: qemu-trace=pci_nvme_copy,pci_nvme_copy_source_range,pci_nvme_map_prp,pci_nvme_map_sgl
# shellcheck source=tests/vm/kmod-lib.sh
. /tests/kmod-lib.sh
kmod_copy_setup

# An MBR with two 32 MiB partitions at 1 MiB and 33 MiB (sectors of 512).
mbr_entry() {	# START_OCTAL_LE32 SIZE_OCTAL_LE32
	printf '\000\376\377\377\203\376\377\377'
	printf "$1$2"
}
{
	head -c 446 /dev/zero
	mbr_entry '\000\010\000\000' '\000\000\001\000'	# 2048, 65536
	mbr_entry '\000\010\001\000' '\000\000\001\000'	# 67584, 65536
	head -c 32 /dev/zero
	printf '\125\252'
} >/tmp/mbr
[ "$(wc -c </tmp/mbr)" = 512 ] || fail "MBR image is $(wc -c </tmp/mbr) bytes"
dd if=/tmp/mbr of="$na" bs=512 count=1 conv=notrunc 2>/dev/null || fail "cannot write the MBR"
blockdev --rereadpt "$na" || fail "the kernel did not re-read $na's partitions"
i=0
while [ ! -b "${na}p2" ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -b "${na}p1" ] && [ -b "${na}p2" ] || fail "no partitions ${na}p1, ${na}p2"

head -c 33554432 /dev/urandom >/tmp/pattern || fail "no pattern"
dd if=/tmp/pattern of="${na}p1" bs=1048576 2>/dev/null || fail "cannot write ${na}p1"
sync
# Put the destination's old bytes in the page cache: a device copy must
# not leave them there for buffered readers.
head -c 1048576 "${na}p2" >/dev/null

window() {	# NAME begin|end BYTES: a marker for the host-side check
	sleep 1		# the serial line drains first, so the order is the device's
	echo "$1-COPY-WINDOW $2 ${3:-0}"
	sleep 1
}

# 1. Partition to partition, inside the drive (the engine's verify pass
# reads through memory: it runs in the range copy below, outside the window).
window DEVICE begin 33554432
p2pmem copy -q -o json "${na}p1" "${na}p2" >/tmp/dev.json
rc=$?
window DEVICE end
cat /tmp/dev.json
[ $rc -eq 0 ] || fail "device copy ${na}p1 -> ${na}p2: exit $rc"
[ "$(jget /tmp/dev.json jobs.0.via)" = device ] || fail "the copy did not use NVMe Copy"
[ "$(jget /tmp/dev.json jobs.0.bytes)" = 33554432 ] || fail "not all bytes copied"
head -c 33554432 "${na}p2" | cmp -s - /tmp/pattern ||
	fail "${na}p2 read through the page cache differs from the pattern (stale cache, or a wrong copy)"
say "partition to partition: $(jget /tmp/dev.json jobs.0.where), read back equal"

# 2. The same copy through p2p memory: the trace must show the data.
window P2P begin 33554432
p2pmem copy -q -o json --via p2p "${na}p1" "${na}p2" >/tmp/p2p.json
rc=$?
window P2P end
[ $rc -eq 0 ] || { cat /tmp/p2p.json; fail "p2p copy ${na}p1 -> ${na}p2: exit $rc"; }
[ "$(jget /tmp/p2p.json jobs.0.via)" = p2p ] || fail "--via p2p did not use p2p memory"

# 3. Two ranges of the whole namespace (no partitions), odd length: the
# last command is shorter than the others.
p2pmem copy -q -o json --verify --src-offset 1M --dst-offset 160M --length 17829888 \
	"$na" "$na" >/tmp/range.json || { cat /tmp/range.json; fail "range copy: exit $?"; }
[ "$(jget /tmp/range.json jobs.0.via)" = device ] || { cat /tmp/range.json; fail "range copy not by NVMe Copy"; }
[ "$(jget /tmp/range.json jobs.0.verified)" = 17829888 ] || fail "range copy: not all verified"
head -c 17829888 /tmp/pattern >/tmp/pattern.17
dd if="$na" bs=4096 skip=$((160 * 256)) count=4353 2>/dev/null | cmp -s - /tmp/pattern.17 ||
	fail "the range copy's bytes differ"
say "range to range: verified"

# 4. --no-device-copy moves the data through memory.
p2pmem copy -q -o json --no-device-copy --length 4M "${na}p1" "${na}p2" >/tmp/nodev.json ||
	fail "--no-device-copy: exit $?"
[ "$(jget /tmp/nodev.json jobs.0.via)" != device ] || fail "--no-device-copy used NVMe Copy"

# 5. Drive b's namespace accepts no Copy: through memory, with the reason;
# --via device refuses before a byte moves.
p2pmem copy -q -o json --length 4M --dst-offset 64M "$nb" "$nb" >/tmp/b.json || fail "copy within $nb: exit $?"
cat /tmp/b.json
[ "$(jget /tmp/b.json jobs.0.via)" != device ] || fail "NVMe Copy on a namespace with MSSRL 0"
jget /tmp/b.json jobs.0.note | grep -q 'accepts no Copy (MSSRL 0, MCL 0)' || fail "no reason for not copying inside $nb"
p2pmem copy --via device --length 4M --dst-offset 64M "$nb" "$nb" >/tmp/bdev.out 2>&1
rc=$?
cat /tmp/bdev.out
[ $rc -eq 2 ] || fail "--via device on $nb: exit $rc, expected 2"
grep -q 'no device copy .*accepts no Copy' /tmp/bdev.out || fail "--via device refusal without its reason"
# Two devices: never a device copy, and --via device says so.
p2pmem copy --via device --length 4M "$na" "$nb" >/tmp/ab.out 2>&1
[ $? -eq 2 ] && grep -q 'different devices' /tmp/ab.out || { cat /tmp/ab.out; fail "--via device across drives not refused"; }

# 6. bench: device copy next to p2p and host bounce, on the same drive.
p2pmem bench -o json --length 8M --bs 1M --qd 4 --repeat 1 --allocs 10 "${na}p1" "${na}p2" >/tmp/bench.json ||
	{ cat /tmp/bench.json; fail "bench on ${na}p1 -> ${na}p2: exit $?"; }
for e in device-copy p2p host-bounce sync-loop dd fio; do
	grep -q "\"engine\": \"$e\"" /tmp/bench.json || fail "bench has no $e row"
done
p2pmem bench --length 8M --bs 1M --qd 1,4 --repeat 1 --allocs 10 "${na}p1" "${na}p2"

# Leave the drive and the kernel as the next test expects them: no
# partition table, no p2pmem.ko.
dd if=/dev/zero of="$na" bs=512 count=1 conv=notrunc 2>/dev/null
blockdev --rereadpt "$na"
kmod_unload
exit 0
