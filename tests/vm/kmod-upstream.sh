#!/bin/sh
# kmod-upstream: on kernels with CONFIG_PCI_P2PDMA (the rig's 6.12 and
# Debian's 7.x), p2pmem_pci registers a memory card with upstream
# (pci_p2pdma_add_resource): it appears as <bdf>/p2pmem/ with the size of
# BAR2, published as the publish parameter says; `p2pmem list` and
# `p2pmem check` call it upstream's provider served by p2pmem.ko.  deep (the
# card below the drives' switch): upstream's p2pmem/allocate hands out
# buffers inside its BAR2, through which a 32 MiB O_DIRECT copy nvme a ->
# card -> nvme b verifies (the rig's helper loop, and `p2pmem copy
# --provider`); /dev/p2pmemN, on upstream's pool, hands out zeroes over the
# data those copies left there, copies, and is revoked (SIGBUS) when the card
# is unbound under a mapping; switch (the card on another root port): check refuses it and
# the kernel's O_DIRECT fails with EREMOTEIO, /dev/p2pmemN refuses the
# clients.  Unbinding it while idle
# removes p2pmem/ and rmmod works; with publish=0 it is registered but not
# published.
# rig: fabrics=switch,deep kernels=p2pdma,debian-new
# shellcheck source=tests/vm/kmod-lib.sh
. /tests/kmod-lib.sh
need_p2pmem

! rig_no_p2pdma || fail "the $RIG_KERNEL kernel has no CONFIG_PCI_P2PDMA: this test is for P2PDMA kernels"
rig_pair
mc=$(kmod_memcard) || fail "no memory card"
need_kmod
kmod_load
kmod_bind "$mc" || fail "cannot bind the memory card $mc to p2pmem_pci"
d=$SYS_PCI/$mc/p2pmem
[ -d "$d" ] || fail "no $d after binding $mc to p2pmem_pci"
# BAR2's size from the resource file (line 3: start end flags)
set -- $(sed -n 3p "$SYS_PCI/$mc/resource")
bar2=$(($2 - $1 + 1))
[ "$(cat "$d/size")" = "$bar2" ] || fail "p2pmem/size $(cat "$d/size"), BAR2 has $bar2 bytes"
[ "$(cat "$d/available")" = "$bar2" ] || fail "p2pmem/available $(cat "$d/available") of $bar2 on an idle card"
[ "$(cat "$d/published")" = 1 ] || fail "the card is not published (publish defaults to 1)"
dmesg | grep -q "$mc: p2pmem: BAR2 (256 MiB) registered with upstream P2PDMA (published)" ||
	fail "no registration line in the kernel log"
# /dev/p2pmemN on upstream's pool: its pages, its free memory are upstream's.
p=$(kmod_provider "$mc" memory) || fail "no /dev/p2pmem provider for $mc"
[ "$(kattr "$p" pool)" = upstream ] || fail "$p: pool $(kattr "$p" pool), expected upstream"
[ "$(kattr "$p" size)" = "$bar2" ] || fail "$p: size $(kattr "$p" size), expected $bar2"
[ ! -e "$CLASS/$p/available" ] || fail "$p: an available attribute next to upstream's"
say "$mc: registered with upstream, $(($bar2 >> 20)) MiB, published; /dev/$p on upstream's pool"

# The library sees upstream's provider, served by p2pmem.ko.
p2pmem list
p2pmem list -o json >/tmp/list.json || fail "p2pmem list -o json failed"
n=$(jget /tmp/list.json 'providers.#') || fail "no providers in the list"
i=0 found=
while [ $i -lt "$n" ]; do
	if [ "$(jget /tmp/list.json "providers.$i.bdf")" = "$mc" ]; then
		found=$i
		break
	fi
	i=$((i + 1))
done
[ -n "$found" ] || fail "p2pmem list does not show $mc"
[ "$(jget /tmp/list.json "providers.$found.backend")" = upstream ] || fail "$mc: backend is not upstream"
[ "$(jget /tmp/list.json "providers.$found.served_by")" = p2pmem.ko ] || fail "$mc: not served by p2pmem.ko"
p2pmem list | grep -q 'served by p2pmem.ko' || fail "p2pmem list does not say who serves the card"
p2pmem check --provider "$mc" "$a" "$b" >/tmp/check.out 2>&1
rc=$?
cat /tmp/check.out
grep -q "provider  $mc (memory, upstream served by p2pmem.ko" /tmp/check.out || fail "check does not say the card is served by p2pmem.ko"

if [ "$RIG_FABRIC" = switch ]; then
	# The card sits on another root port than the drives, below a host
	# bridge off the whitelist: the rule refuses, and so does the kernel.
	[ $rc -eq 1 ] || fail "check $a $b with $mc across root ports: exit $rc, expected 1 (not usable)"
	p2p-copy -q -p -c 64K -b "$mc" "$na" "$nb" >/tmp/copy.out 2>&1
	rc=$?
	cat /tmp/copy.out
	[ $rc -eq 3 ] || fail "O_DIRECT through $mc across root ports: exit $rc, expected 3 (EREMOTEIO)"
	kmod-buf -d "/dev/$p" -c "$a,$b" refuse nodecl EREMOTEIO ||
		fail "/dev/$p accepted clients across root ports"
	say "across root ports: check refuses $mc, the kernel's O_DIRECT fails with EREMOTEIO"
else
	[ $rc -eq 0 ] || fail "check $a $b with $mc below their switch: exit $rc"
	# A verified O_DIRECT copy through upstream's allocate on the card.
	p2p-copy -s 32M -c 512K -b "$mc" "$na" "$nb" >/tmp/copy.out 2>&1
	rc=$?
	cat /tmp/copy.out
	[ $rc -eq 0 ] || fail "copy $na -> $mc -> $nb through p2pmem/allocate: exit $rc"
	grep -q "buffer: inside $mc BAR2 " /tmp/copy.out || fail "the buffer was not inside BAR2 of $mc"
	grep -q 'status=ok' /tmp/copy.out || fail "no status=ok"
	[ "$(cat "$d/available")" = "$bar2" ] || fail "$(cat "$d/available") of $bar2 bytes free after the copy: memory not back"

	head -c 16777216 /dev/urandom >/tmp/pattern
	dd if=/tmp/pattern of="$na" bs=1048576 conv=fsync 2>/dev/null || fail "cannot write $na"
	p2pmem copy -q -o json --provider "$mc" --verify --length 16M "$na" "$nb" >/tmp/copy.json
	rc=$?
	cat /tmp/copy.json
	[ $rc -eq 0 ] || fail "p2pmem copy --provider $mc: exit $rc"
	[ "$(jget /tmp/copy.json jobs.0.p2p)" = true ] || fail "the copy through $mc is not reported as p2p"
	jget /tmp/copy.json jobs.0.where | grep -q "upstream $mc, served by p2pmem.ko" ||
		fail "the copy does not say that p2pmem.ko serves $mc: $(jget /tmp/copy.json jobs.0.where)"
	echo 3 >/proc/sys/vm/drop_caches
	dd if="$nb" bs=1048576 count=16 2>/dev/null | cmp -s - /tmp/pattern || fail "$nb differs from the pattern"
	say "copies through upstream's allocate on $mc verified"

	# The copies left disk data in upstream's pool: /dev/p2pmemN hands
	# out zeroes all the same (write, unmap, map again: zero), and copies.
	kmod-buf -d "/dev/$p" -c "$a,$b" -s 8M map || fail "/dev/$p: fresh memory not zero, or outside $mc"
	kmod-buf -d "/dev/$p" -c "$a,$b" -s 8M -C 1M copy "$na" "$nb" || fail "/dev/$p: O_DIRECT copy $na -> $nb failed"
	[ "$(cat "$d/available")" = "$bar2" ] || fail "$(cat "$d/available") of $bar2 bytes free after /dev/$p's mappings: pages not back"
	[ "$(kattr "$p" stats/in_use)" = 0 ] || fail "$p: in_use $(kattr "$p" stats/in_use) after the mappings"
	say "/dev/$p: zeroed over upstream's leftovers, copy verified, pages back"

	# Unbind while mapped: the mapping is revoked (SIGBUS), then it goes.
	rm -f /tmp/touch.out
	kmod-buf -d "/dev/$p" -c "$a" -s 4M touch >/tmp/touch.out 2>&1 &
	toucher=$!
	wait_line /tmp/touch.out READY || fail "toucher did not start: $(cat /tmp/touch.out)"
	kmod_unbind "$mc"
	wait $toucher || fail "the toucher did not get SIGBUS: $(cat /tmp/touch.out)"
	cat /tmp/touch.out
	[ ! -e "$d" ] || fail "$d still there after unbinding"
	kmod_bind "$mc" || fail "cannot bind $mc again"
	say "unbind under a mapping: SIGBUS, provider gone; bound again"
fi

# Unbind while idle: upstream's pages and p2pmem/ go, the module unloads.
kmod_unbind "$mc"
[ ! -e "$d" ] || fail "$d still there after unbinding"
kmod_unload

# publish=0: registered for clients that name it, not published.
kmod_load publish=0
kmod_bind "$mc" || fail "cannot bind $mc with publish=0"
d=$SYS_PCI/$mc/p2pmem	# (kmod_unload's loop took the name)
[ "$(cat "$d/published")" = 0 ] || fail "publish=0, yet p2pmem/published is $(cat "$d/published")"
p2pmem list -o json >/tmp/list.json || fail "p2pmem list -o json failed"
i=0
while [ $i -lt "$(jget /tmp/list.json 'providers.#')" ]; do
	if [ "$(jget /tmp/list.json "providers.$i.bdf")" = "$mc" ]; then
		[ "$(jget /tmp/list.json "providers.$i.published")" = false ] || fail "list says $mc is published"
	fi
	i=$((i + 1))
done
kmod_unload
say "publish=0: registered, not published; unbind and rmmod clean"
exit 0
