# shellcheck shell=sh
# tests/vm/iommu-lib.sh - the verdict-and-copy matrix of the iommu-*.sh VM
# tests, on the iommu-* fabrics (rig/fabrics.sh).  Sourced.
#
# Every case names a provider (mc: the memory card, p2pmem.ko's on every
# kernel; a, b: the CMBs of nvme a and b, p2pmem.ko's on stock, upstream's
# on the P2PDMA kernel) and the clients of a copy (ab: nvme a -> nvme b;
# a: nvme a -> nvme a, 128 MiB further).  For each the test holds
#   - `p2pmem check` to the expected verdict (map type and distance, or
#     refused),
#   - p2pmem.ko (for its providers) to the same answer: it accepts or
#     refuses the clients (EREMOTEIO); the kernel (for upstream's): its
#     O_DIRECT into upstream's memory works or fails with EREMOTEIO,
#   - `p2pmem copy --provider` to it: exit 0 with every destination byte
#     equal to the source (compared here, not with --verify), or exit 2
#     with the destination untouched.
# A copy that ends with exit 0 and wrong data fails, whatever check said.

# shellcheck source=tests/vm/kmod-lib.sh disable=SC2119 # kmod_load without parameters
. /tests/kmod-lib.sh
need_kmod
need_p2pmem

# Load p2pmem.ko, make the memory card (and without P2PDMA the CMBs) its
# providers; sets a, b, na, nb (lib.sh) and mc.
iommu_setup() {
	rig_pair
	mc=$(kmod_memcard) || fail "no memory card"
	kmod_providers_up "$mc"
	cases=0
	copies=0
}

# The IOMMU group number and domain type of BDF.
iommu_group() { basename "$(readlink -f "$SYS_PCI/$1/iommu_group")"; }
iommu_type() { cat "$SYS_PCI/$1/iommu_group/type"; }

# Print the IOMMU state as the kernel has it and as `p2pmem topo` shows it.
iommu_show() {
	for d in "$a" "$mc" "$b"; do
		[ -e "$SYS_PCI/$d/iommu_group" ] || fail "$d has no IOMMU group: is the IOMMU on?"
		say "$d: IOMMU group $(iommu_group "$d"), domain $(iommu_type "$d")"
	done
	p2pmem topo
}

# jfind FILE ARRAY KEY VALUE FIELD: FIELD of the element of ARRAY (a jget
# path) in the JSON FILE whose KEY is VALUE; exit 1 if none.
jfind() {
	n=$(jget "$1" "$2.#") || return 1
	i=0
	while [ "$i" -lt "$n" ]; do
		if [ "$(jget "$1" "$2.$i.$3")" = "$4" ]; then
			jget "$1" "$2.$i.$5"
			return
		fi
		i=$((i + 1))
	done
	return 1
}

# provider_backend BDF: "upstream" or "kmod", as `p2pmem list` says.
provider_backend() {
	p2pmem list -o json >/tmp/list.json || return 1
	jfind /tmp/list.json providers bdf "$1" backend
}

# same_bytes DEV OFFSET_MIB MIB: the region equals /tmp/pattern.
same_bytes() {
	echo 3 >/proc/sys/vm/drop_caches
	dd if="$1" bs=1048576 skip="$2" count="$3" 2>/dev/null | cmp -s - /tmp/pattern
}

# zero_bytes DEV OFFSET_MIB MIB: the region reads zero.
zero_bytes() {
	echo 3 >/proc/sys/vm/drop_caches
	dd if="$1" bs=1048576 skip="$2" count="$3" 2>/dev/null |
		cmp -s - /tmp/zero
}

# iommu_case PROV CLIENTS MIB WANT
#   PROV mc|a|b, CLIENTS ab|a, WANT "MAP DIST" (bus-addr 0, host-bridge 6)
#   or "refused"; "MAP DIST decision": the verdict only, for a path QEMU
#   cannot carry: a translated client's bus-address DMA to a peer below its
#   root port (real hardware routes it there; QEMU's VT-d translates every
#   DMA of the device, faults, and the data never arrives).
iommu_case() {
	prov=$1 clients=$2 mib=$3 want=$4 decision=
	case "$want" in
	*" decision") want=${want% decision} decision=1 ;;
	esac
	case "$prov" in
	mc) pbdf=$mc ;;
	a) pbdf=$a ;;
	b) pbdf=$b ;;
	esac
	if [ "$clients" = ab ]; then
		cl="$a $b" dst=$nb dst_mib=0
	else
		cl="$a" dst=$na dst_mib=128
	fi
	label="$prov <- $clients ($pbdf for $(echo "$cl" | tr ' ' ','))"
	cases=$((cases + 1))
	t0=$(now_ms)

	# 1. The library's verdict.
	# shellcheck disable=SC2086 # $cl: one or two BDFs
	p2pmem check -o json --provider "$pbdf" $cl >/tmp/check.json 2>/tmp/check.err
	rc=$?
	map=$(jget /tmp/check.json map_type) || fail "$label: no verdict: $(cat /tmp/check.err)"
	dist=$(jget /tmp/check.json distance)
	reason=$(jget /tmp/check.json reason)
	backend=$(provider_backend "$pbdf") || fail "$label: $pbdf is not a provider (p2pmem list)"
	if [ "$want" = refused ]; then
		if [ $rc -ne 1 ] || [ "$map" != not-supported ]; then
			fail "$label: check says $map${dist:+ $dist} (exit $rc), expected refused"
		fi
		[ -n "$reason" ] || fail "$label: refused without a reason"
	else
		if [ $rc -ne 0 ] || [ "$map $dist" != "$want" ]; then
			fail "$label: check says $map${dist:+ $dist} (exit $rc), expected $want; reason: $reason"
		fi
	fi

	if [ -n "$decision" ]; then
		say "$label: $want ($backend), the verdict only: QEMU cannot carry this path"
		return 0
	fi

	# 2. p2pmem.ko agrees, for its providers.
	if [ "$backend" = kmod ]; then
		node=/dev/$(kmod_provider "$pbdf")
		if [ "$want" = refused ]; then
			kmod-buf -d "$node" -c "$(echo "$cl" | tr ' ' ',')" refuse nodecl EREMOTEIO >/tmp/kb.out 2>&1 ||
				fail "$label: p2pmem.ko did not refuse what check refuses: $(cat /tmp/kb.out)"
		else
			kmod-buf -d "$node" -c "$(echo "$cl" | tr ' ' ',')" -s 64K map >/tmp/kb.out 2>&1 ||
				fail "$label: p2pmem.ko refused what check accepts: $(tail -n 3 /tmp/kb.out); dmesg: $(dmesg | tail -n 3)"
		fi
	fi

	# 2'. The kernel agrees, for upstream's providers: one O_DIRECT read
	# into a buffer from upstream's allocate, and written out (p2p-copy:
	# exit 0, or 3 for EREMOTEIO).
	# A refusal is probed from nvme b (refused in every such case here):
	# reading from a first could take a path QEMU cannot carry
	# (iommu_case's "decision") before b's refusal is reached.
	if [ "$backend" = upstream ]; then
		if [ "$want" = refused ] && [ "$clients" = ab ]; then
			p2p-copy -q -p -c 64K -b "$pbdf" "$nb" "$na" >/tmp/p2p.out 2>&1
		else
			p2p-copy -q -p -c 64K -b "$pbdf" "$na" "$dst" >/tmp/p2p.out 2>&1
		fi
		krc=$?
		if [ "$want" = refused ]; then kwant=3; else kwant=0; fi
		[ $krc -eq $kwant ] ||
			fail "$label: the kernel's O_DIRECT through upstream's memory: exit $krc, expected $kwant (0 ok, 3 EREMOTEIO): $(tail -n 2 /tmp/p2p.out)"
	fi

	# 3. The copy, compared byte for byte here (a refused one must leave the
	# destination's first MiB as it was: DMA through the emulated IOMMU is
	# slow, so refusals move no more than that).
	[ "$want" = refused ] && mib=1
	head -c $((mib << 20)) /dev/urandom >/tmp/pattern || fail "no pattern"
	head -c $((mib << 20)) /dev/zero >/tmp/zero
	dd if=/tmp/pattern of="$na" bs=1048576 conv=fsync 2>/dev/null || fail "cannot write $na"
	dd if=/tmp/zero of="$dst" bs=1048576 seek="$dst_mib" conv=fsync 2>/dev/null ||
		fail "cannot clear $dst"
	p2pmem copy -q -o json --provider "$pbdf" --length "${mib}M" \
		--dst-offset "$((dst_mib << 20))" "$na" "$dst" >/tmp/copy.json 2>/tmp/copy.err
	rc=$?
	if [ "$want" = refused ]; then
		[ $rc -eq 2 ] || fail "$label: copy exit $rc, expected 2 (refused): $(cat /tmp/copy.err)"
		zero_bytes "$dst" "$dst_mib" "$mib" || fail "$label: a refused copy wrote to $dst"
		say "$label: refused ($backend, $(($(now_ms) - t0)) ms): $(echo "$reason" | grep -E 'refuse' | head -n 1)"
		return 0
	fi
	[ $rc -eq 0 ] || fail "$label: copy exit $rc: $(cat /tmp/copy.err)"
	[ "$(jget /tmp/copy.json jobs.0.p2p)" = true ] || fail "$label: the copy did not use p2p memory"
	jget /tmp/copy.json jobs.0.where | grep -q "$pbdf" ||
		fail "$label: the copy used $(jget /tmp/copy.json jobs.0.where), not $pbdf"
	same_bytes "$dst" "$dst_mib" "$mib" ||
		fail "$label: copy exit 0 but $dst differs from the source (${mib} MiB at ${dst_mib} MiB)"
	copies=$((copies + 1))
	say "$label: $want ($backend), ${mib} MiB copied and compared ($(($(now_ms) - t0)) ms)"
}

# iommu_auto WANT_WHERE: the automatic choice for nvme a -> nvme b: `check`
# ranks first what `copy` then uses, never a provider its backend refuses;
# WANT_WHERE is a BDF, or "host" where no provider reaches both (then the
# copy refuses, and with --allow-host-bounce goes through host memory).
iommu_auto() {
	head -c 4194304 /dev/urandom >/tmp/pattern
	head -c 4194304 /dev/zero >/tmp/zero
	dd if=/tmp/pattern of="$na" bs=1048576 conv=fsync 2>/dev/null || fail "cannot write $na"
	dd if=/tmp/zero of="$nb" bs=1048576 conv=fsync 2>/dev/null || fail "cannot clear $nb"
	p2pmem check -o json "$a" "$b" >/tmp/check.json 2>/tmp/check.err
	rc=$?
	if [ "$1" = host ]; then
		[ $rc -eq 1 ] || fail "auto: check exit $rc, expected 1 (no provider reaches both)"
		p2pmem copy -q --length 4M "$na" "$nb" >/tmp/copy.out 2>&1
		rc=$?
		[ $rc -eq 2 ] || fail "auto: copy exit $rc, expected 2: $(cat /tmp/copy.out)"
		p2pmem copy -q -o json --allow-host-bounce --length 4M "$na" "$nb" >/tmp/copy.json 2>/tmp/copy.err ||
			fail "auto: host-bounced copy failed: $(cat /tmp/copy.err)"
		[ "$(jget /tmp/copy.json jobs.0.p2p)" = false ] || fail "auto: a host bounce reported as p2p"
		same_bytes "$nb" 0 4 || fail "auto: host-bounced copy exit 0 but $nb differs"
		say "auto: no provider reaches both; refused, and host-bounced with --allow-host-bounce"
		return 0
	fi
	[ $rc -eq 0 ] || fail "auto: check exit $rc: $(cat /tmp/check.err)"
	[ "$(jget /tmp/check.json provider)" = "$1" ] ||
		fail "auto: check chose $(jget /tmp/check.json provider), expected $1"
	p2pmem copy -q -o json --length 4M "$na" "$nb" >/tmp/copy.json 2>/tmp/copy.err ||
		fail "auto: copy failed: $(cat /tmp/copy.err)"
	jget /tmp/copy.json jobs.0.where | grep -q "$1" ||
		fail "auto: the copy used $(jget /tmp/copy.json jobs.0.where), check chose $1"
	same_bytes "$nb" 0 4 || fail "auto: copy exit 0 but $nb differs"
	say "auto: check and copy both choose $1; 4 MiB compared"
}

# topo_port BDF KEY: a value of root port BDF in `p2pmem topo -o json`
# (KEY e.g. acs.ctrl, acs.redirect, iommu.type).
topo_port() {
	p2pmem topo -o json >/tmp/topo.json || return 1
	jfind /tmp/topo.json host_bridges.0.children bdf "$1" "$2"
}

# iommu_fabric_state: the CPU model and the ACS bits Linux set at the root
# ports are what the fabric promises (rig/fabrics.sh), and `p2pmem topo` shows
# them: ACS SV+RR+CR+UF (0x1d) wherever an IOMMU is on; none at the port
# named by pci=disable_acs_redir= (iommu-intel: rp0; Linux 6.12 then leaves
# the port's ACS control at 0, source validation included).
iommu_fabric_state() {
	p2pmem topo -o json >/tmp/topo.json || fail "p2pmem topo failed"
	zen=$(jget /tmp/topo.json cpu_p2p_across_host_bridges)
	rp0=0000:00:02.0 rp1=0000:00:03.0
	case "$RIG_FABRIC" in
	iommu-zen) want_zen=true want_rp0=29 ;;
	iommu-intel) want_zen=false want_rp0=0 ;;	# measured: no ACS bit stays set
	*) fail "no IOMMU expectations for fabric $RIG_FABRIC" ;;
	esac
	[ "$zen" = "$want_zen" ] || fail "CPU $(jget /tmp/topo.json cpu): p2p across host bridges $zen, expected $want_zen"
	[ "$(topo_port $rp0 acs.ctrl)" = "$want_rp0" ] ||
		fail "$rp0: ACS control $(topo_port $rp0 acs.ctrl), expected $want_rp0"
	[ "$(topo_port $rp1 acs.ctrl)" = 29 ] ||
		fail "$rp1: ACS control $(topo_port $rp1 acs.ctrl), expected 29 (0x1d: SV RR CR UF)"
	say "CPU $(jget /tmp/topo.json cpu) (p2p across host bridges: $zen); ACS control $rp0 $(topo_port $rp0 acs.ctrl), $rp1 29"
}

# iommu_set_domain TYPE: give the IOMMU groups of nvme a, the memory card
# (its sibling function: usually one group) and nvme b domain TYPE (identity, DMA,
# DMA-FQ) the way an administrator does: unbind every device of the group,
# write the type, bind them again.  Sets a, b, na, nb again (namespace names
# may change when the drives come back).
iommu_set_domain() {
	t0=$(now_ms)
	for d in "$a" "$mc" "$b"; do
		g=$SYS_PCI/$d/iommu_group
		[ "$(cat "$g/type")" != "$1" ] || continue	# a group done already
		# The drivers that use the DMA API; port drivers manage their
		# own (pcieport: driver_managed_dma) and stay.
		devs=
		for m in "$g"/devices/*; do
			m=${m##*/}
			case "$(basename "$(readlink -f "$SYS_PCI/$m/driver")")" in
			nvme | p2pmem_pci) devs="$devs $m" ;;
			esac
		done
		for m in $devs; do kmod_unbind "$m"; done
		echo "$1" >"$g/type" || fail "cannot set the IOMMU group of $d ($devs) to $1"
		for m in $devs; do
			if [ "$m" = "$mc" ]; then
				kmod_bind "$m" || fail "cannot bind the memory card $m again"
			else
				echo "$m" >/sys/bus/pci/drivers/nvme/bind || fail "cannot bind $m to nvme again"
			fi
		done
	done
	for d in "$a" "$b"; do rig_wait_ns "$d" >/dev/null; done
	rig_pair
	kmod_wait_provider "$mc" memory >/dev/null || fail "no memory card provider after the rebind"
	kmod_cmb_providers_up
	for d in "$a" "$mc" "$b"; do
		[ "$(iommu_type "$d")" = "$1" ] || fail "$d: domain $(iommu_type "$d") after setting $1"
	done
	say "IOMMU groups of $a, $mc, $b: $1 ($(($(now_ms) - t0)) ms)"
}

# iommu_dmamap: p2pmem.ko's kernel API gives a client that puts addresses in
# its own descriptors the address of its path (p2pmem_dma_map(), the rule
# alone, as upstream): the bus address where the rule says bus-addr (also
# for a drive's own CMB: those requests never reach the IOMMU), a DMA API
# mapping through the host bridge (an IOVA, not the BAR's address, while the
# client's domain translates; the address itself in an identity domain),
# and nothing where the rule refuses.
iommu_dmamap() {
	pairs="$mc,$a;$mc,$b"
	rig_no_p2pdma && pairs="$pairs;$a,$a;$a,$b;$b,$a"
	dmesg -c >/dev/null
	insmod "$KMOD_DIR/p2pmem_test.ko" dmamap="$pairs" pairs="$pairs" alloc_kb=0 ||
		fail "insmod p2pmem_test dmamap=$pairs"
	dmesg | grep 'p2pmem_test: dmamap ' | sed 's/.*p2pmem_test: //' >/tmp/dmamap
	dmesg | grep 'p2pmem_test: distance ' | sed 's/.*p2pmem_test: //' >/tmp/dist
	rmmod p2pmem_test
	dmesg | grep -q 'dmamap FAIL' && fail "p2pmem_test: $(dmesg | grep -m1 'dmamap FAIL')"
	want=$(echo "$pairs" | tr ';' '\n' | wc -l)
	[ "$(wc -l </tmp/dmamap)" -eq "$want" ] || fail "dmamap: $(wc -l </tmp/dmamap) answers for $want pairs"
	while read -r _ p c map dma phys; do
		rule=$(grep "^distance $p $c " /tmp/dist | cut -d' ' -f5)
		[ "$map" = "$rule" ] || fail "dmamap $p <- $c: map $map, the rule says $rule"
		dom=$(iommu_type "$c")
		ok=
		case "$map/$dom" in
		not-supported/*) ok=$([ "$dma" = error ] && echo 1) ;;
		bus-addr/*) ok=$([ "$dma" = "$phys" ] && echo 1) ;;
		host-bridge/identity) ok=$([ "$dma" = "$phys" ] && echo 1) ;;
		host-bridge/*) ok=$([ "$dma" != "$phys" ] && [ "$dma" != error ] && echo 1) ;;
		esac
		[ -n "$ok" ] || fail "dmamap $p <- $c ($dom domain): $map, DMA address $dma for BAR address $phys"
		say "dmamap $p <- $c ($dom): $map, DMA address $dma (BAR $phys)"
	done </tmp/dmamap
}
