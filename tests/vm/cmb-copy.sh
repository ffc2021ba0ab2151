#!/bin/sh
# cmb-copy: 32 MiB nvme a -> CMB of nvme b -> nvme b, and 32 MiB nvme a ->
# CMB of nvme a -> nvme b, each with a fresh pattern and the destination
# verified through host memory (tests/vm/p2p-copy.c; the copy engine issue
# replaces this loop).  The buffer must lie inside the provider's BAR2.
# rig: fabrics=switch,deep kernels=p2pdma,debian-new
# shellcheck source=tests/vm/lib.sh
. /tests/lib.sh

rig_pair

for prov in "$b" "$a"; do
	p2p-copy -s 32M -c 512K -b "$prov" "$na" "$nb" >/tmp/copy.out 2>&1
	rc=$?
	cat /tmp/copy.out
	[ $rc -eq 0 ] || fail "copy $na -> CMB of $prov -> $nb: exit $rc"
	grep -q "buffer: inside $prov BAR2 " /tmp/copy.out ||
		fail "the buffer was not inside BAR2 of $prov"
	grep -q 'status=ok' /tmp/copy.out || fail "no status=ok"
done
exit 0
