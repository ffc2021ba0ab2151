#!/bin/sh
# p2pmem-list: `p2pmem list` shows both NVMe CMBs as published upstream
# providers, with the sizes the kernel reports in p2pmem/.
# rig: fabrics=switch,split,deep kernels=p2pdma,debian-new
# shellcheck source=tests/vm/lib.sh
. /tests/lib.sh
need_p2pmem

p2pmem list -o json >/tmp/list.json
rc=$?
cat /tmp/list.json
[ $rc -eq 0 ] || fail "p2pmem list -o json: exit $rc"
n=$(jget /tmp/list.json providers.#) || fail "no providers array"

for b in $(rig_nvme_bdfs); do
	i=0
	found=
	while [ $i -lt "$n" ]; do
		[ "$(jget /tmp/list.json providers.$i.bdf)" = "$b" ] && found=$i && break
		i=$((i + 1))
	done
	[ -n "$found" ] || fail "$b (NVMe CMB) not listed"
	get() { jget /tmp/list.json "providers.$found.$1"; }
	[ "$(get kind)" = nvme-cmb ] || fail "$b: kind '$(get kind)', expected nvme-cmb"
	[ "$(get backend)" = upstream ] || fail "$b: backend '$(get backend)', expected upstream"
	[ "$(get published)" = true ] || fail "$b: published '$(get published)', expected true"
	size=$(cat "$SYS_PCI/$b/p2pmem/size")
	[ "$(get size)" = "$size" ] || fail "$b: size $(get size), kernel says $size"
	avail=$(get available)
	[ "$avail" -le "$size" ] || fail "$b: available $avail > size $size"
	say "$b: nvme-cmb upstream size $size available $avail published"
done

p2pmem list >/tmp/list.txt
rc=$?
cat /tmp/list.txt
[ $rc -eq 0 ] || fail "p2pmem list: exit $rc"
for b in $(rig_nvme_bdfs); do
	grep -q "$b" /tmp/list.txt || fail "text output does not mention $b"
done
exit 0
