#!/bin/sh
# p2p-kernel: the kernel's own p2p verdict for the two NVMe drives matches the
# fabric.  O_DIRECT from nvme a into the CMB of nvme b (b's p2pmem/allocate)
# and the reverse work below a switch (switch, deep) and fail with EREMOTEIO
# (121) through the host bridge (split); a drive with its own CMB always works
# (distance 0).  Needs no p2pmem binary: this is the ground truth the CLI's
# `p2pmem check` is held against (tests/vm/p2pmem-check.sh).
# rig: fabrics=switch,split,deep kernels=p2pdma,debian-new
# shellcheck source=tests/vm/lib.sh
. /tests/lib.sh

rig_pair

case "$(rig_expected_ab)" in
ok*) want=0 ;;
refused) want=3 ;;
*) fail "no expectation for fabric $RIG_FABRIC" ;;
esac

probe() { # WANT BUF SRC DST: one 64 KiB O_DIRECT read into BUF + write out
	p2p-copy -q -p -c 64K -b "$2" "$3" "$4"
	rc=$?
	[ $rc -eq "$1" ] || fail "$3 -> buffer $2 -> $4: exit $rc, expected $1 (0 ok, 3 EREMOTEIO)"
	say "$3 -> CMB of $2 -> $4: $([ $rc -eq 0 ] && echo ok || echo EREMOTEIO, as expected)"
}

probe 0 "$b" "$nb" "$nb"        # own CMB
probe 0 "$a" "$na" "$na"
probe "$want" "$b" "$na" "$nb"  # a writes into b's CMB
probe "$want" "$a" "$na" "$nb"  # b reads from a's CMB
exit 0
