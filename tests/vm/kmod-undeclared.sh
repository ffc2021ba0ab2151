#!/bin/sh
# kmod-undeclared: programs written for the original p2pmem-pci driver run
# unmodified on /dev/p2pmemN.  Like p2pmem-test they open the node, mmap 1 MiB
# MAP_SHARED without declaring clients (no P2PMEM_IOC_SET_CLIENTS), then read
# an NVMe namespace into the mapping with O_DIRECT and write it to another:
# nvme a -> buffer -> nvme b, verified.  Through the memory card in deep
# (below the drives' switch; on the P2PDMA kernels its pool is upstream's)
# and, without P2PDMA, through nvme b's CMB (switch and deep).  Each mmap is
# one zeroed allocation inside the provider (twice on one file: zero again),
# and the kernel log says once per open file that no clients were declared,
# so no rule was applied.  switch (the card on another root port, which a
# declaration of nvme a is refused for): the undeclared mapping is made all
# the same; on P2PDMA kernels upstream refuses the O_DIRECT read into it
# (EREMOTEIO; 7.x says EINVAL), without P2PDMA nothing checks it (the log says
# so; no DMA is tried: what a root complex does with it is the platform's).
# rig: fabrics=switch,deep kernels=stock,debug@deep,p2pdma,stock61@deep,debian-new
# shellcheck source=tests/vm/kmod-lib.sh disable=SC2119 # kmod_load without parameters
. /tests/kmod-lib.sh
need_kmod

rig_pair
mc=$(kmod_memcard) || fail "no memory card"
pm=$(kmod_memcard_up "$mc") || fail "$pm"
kmod_cmb_providers_up
if [ "$(kattr "$pm" pool)" = upstream ]; then
	said="upstream P2PDMA checks each device when it maps the pages for DMA"
else
	said="any device DMAs to them as to RAM, unchecked"
fi

# logged_once P2PMEMN WHAT: the kernel log since the last dmesg -c has one
# "no clients declared" line for P2PMEMN, saying what this kernel checks.
logged_once() {
	n=$(dmesg | grep -c "$1: kmod-buf\[[0-9]*\]: no clients declared")
	[ "$n" = 1 ] || fail "$2: $n 'no clients declared' lines for $1, expected 1: $(dmesg | grep p2pmem | tail -n 3)"
	dmesg | grep "$1: kmod-buf\[[0-9]*\]: no clients declared" | grep -q "$said" ||
		fail "$2: the log line does not say '$said'"
}

# undeclared_map P2PMEMN: open, map (zero, inside the provider), write,
# unmap, map again on the same file (zero again): one log line.
undeclared_map() {
	dmesg -c >/dev/null
	kmod-buf -d "/dev/$1" -c none -s 1M map >/tmp/map.out 2>&1 ||
		fail "/dev/$1 without declared clients: $(cat /tmp/map.out)"
	logged_once "$1" "two mappings of one file"
}

# undeclared_copy P2PMEMN: p2pmem-test's way, nvme a -> buffer -> nvme b.
undeclared_copy() {
	dmesg -c >/dev/null
	kmod-buf -d "/dev/$1" -c none -s 1M copy "$na" "$nb" >/tmp/copy.out 2>&1
	rc=$?
	cat /tmp/copy.out
	[ $rc -eq 0 ] || fail "/dev/$1 without declared clients: O_DIRECT $na -> buffer -> $nb, exit $rc"
	logged_once "$1" "copy through $1"
	[ "$(kattr "$1" stats/in_use)" = 0 ] || fail "$1: in_use $(kattr "$1" stats/in_use) after the copy"
	say "$1 ($(kattr "$1" kind)): undeclared 1 MiB mapping, $na -> buffer -> $nb verified"
}

undeclared_map "$pm"
say "$pm: two undeclared mappings on one file, zeroed, inside $mc; $(dmesg | grep -m1 'no clients declared' | sed 's/^\[[^]]*\] //')"
case "$RIG_FABRIC" in
deep)
	undeclared_copy "$pm"
	;;
switch)
	kmod-buf -d "/dev/$pm" -c "$a" refuse nodecl EREMOTEIO >/dev/null ||
		fail "a declaration of $a for the card across root ports was accepted"
	if rig_no_p2pdma; then
		say "$pm across root ports: declaring $a is refused, the undeclared mapping is made unchecked"
	else
		kmod-buf -d "/dev/$pm" -c none -C 64K dio-read "$na" refused ||
			fail "O_DIRECT $na -> undeclared mapping of the card across root ports was not refused"
		say "$pm across root ports: declaring $a is refused; undeclared, upstream refuses the O_DIRECT read"
	fi
	;;
esac
if rig_no_p2pdma; then
	pb=$(kmod_provider "$b" nvme-cmb) || fail "no CMB provider for $b"
	undeclared_copy "$pb"
fi
kmod_unload
exit 0
