#!/bin/sh
# iommu-dma: p2p memory behind a translating IOMMU (VT-d, DMA-FQ domains as
# Debian's kernels set them up), on the iommu-* fabrics.  The fabric's CPU
# model and ACS bits are what it promises; then every case of the matrix
# (tests/vm/iommu-lib.sh): `p2pmem check`'s verdict, p2pmem.ko's answer and a
# copy compared byte for byte agree with the expected answer below; the
# automatic choice picks what the copy then uses, and falls back to host
# memory only when allowed.  The memory card's copy for both drives through
# the host bridge is 32 MiB (IOVAs on both sides).  p2pmem.ko's kernel API
# gives a client that programs its own DMA the address of its path (bus
# address, or an IOVA through the host bridge).
#
#   case       iommu-zen (EPYC)             iommu-intel (Skylake, q35)
#              stock         P2PDMA         stock         P2PDMA
#   mc <- ab   host-bridge 6                refused (host bridge)
#   a  <- ab   refused*      host-bridge 4  refused
#   b  <- ab   refused*      host-bridge 4  refused
#   a  <- a    refused*      bus-addr 0     refused*      bus-addr 0
#   b  <- a    host-bridge 4                refused
#   mc <- a    host-bridge 2 (ACS at rp0)   refused       bus-addr 2**
#   * p2pmem.ko: a translated drive never gets its own CMB (IOVA loop)
#   ** on P2PDMA kernels the memory card is upstream's provider (p2pmem_pci
#   registers it), judged by upstream's rule: the verdict only, QEMU cannot
#   carry a translated client's bus-address DMA (iommu_case); stock:
#   p2pmem.ko sends it through the IOMMU, hence the host bridge: refused
# rig: fabrics=iommu-zen,iommu-intel kernels=stock,p2pdma,debian-new
# shellcheck source=tests/vm/iommu-lib.sh
. /tests/iommu-lib.sh

iommu_setup
iommu_show
for d in "$a" "$mc" "$b"; do
	[ "$(iommu_type "$d")" = DMA-FQ ] || fail "$d: domain $(iommu_type "$d"), expected DMA-FQ (translated, lazy)"
	p=$(kmod_provider "$d") || continue
	[ "$(kattr "$p" iommu)" = dma-fq ] || fail "$p ($d): iommu attribute $(kattr "$p" iommu), expected dma-fq"
done
iommu_fabric_state

if rig_no_p2pdma; then k=stock; else k=p2pdma; fi
case "$RIG_FABRIC/$k" in
iommu-zen/stock)
	iommu_case mc ab 32 "host-bridge 6"
	iommu_case a ab 4 refused
	iommu_case b ab 4 refused
	iommu_case a a 4 refused
	iommu_case b a 4 "host-bridge 4"
	iommu_case mc a 4 "host-bridge 2"
	iommu_auto "$mc"
	;;
iommu-zen/p2pdma)
	iommu_case mc ab 32 "host-bridge 6"
	iommu_case a ab 4 "host-bridge 4"
	iommu_case b ab 4 "host-bridge 4"
	iommu_case a a 4 "bus-addr 0"
	iommu_case b a 4 "host-bridge 4"
	iommu_case mc a 4 "host-bridge 2"
	iommu_auto "$a"
	;;
iommu-intel/stock)
	iommu_case mc ab 4 refused
	iommu_case a ab 4 refused
	iommu_case b ab 4 refused
	iommu_case a a 4 refused
	iommu_case b a 4 refused
	iommu_case mc a 4 refused
	iommu_auto host
	;;
iommu-intel/p2pdma)
	iommu_case mc ab 4 refused
	iommu_case a ab 4 refused
	iommu_case b ab 4 refused
	iommu_case a a 4 "bus-addr 0"
	iommu_case b a 4 refused
	iommu_case mc a 4 "bus-addr 2 decision"
	iommu_auto host
	;;
esac
iommu_dmamap
kmod_unload
say "$cases cases, $copies copies compared byte for byte"
exit 0
