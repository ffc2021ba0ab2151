#!/bin/sh
# iommu-identity: the matrix of iommu-dma (tests/vm/iommu-lib.sh) with the
# drives' and the memory card's IOMMU groups switched to identity domains
# (what iommu=pt does for every group; done here per group through sysfs,
# as an administrator can).  DMA addresses are no longer translated, but
# Linux keeps ACS redirect on at the root ports: identity domains do not
# bring p2p back below a port that redirects.  Restores DMA-FQ at the end.
#
#   case       iommu-zen (EPYC)             iommu-intel (Skylake, q35)
#              stock and P2PDMA             stock and P2PDMA
#   mc <- ab   host-bridge 6                refused (host bridge)
#   a  <- ab   host-bridge 4                refused
#   b  <- ab   host-bridge 4                refused
#   a  <- a    bus-addr 0                   bus-addr 0
#   b  <- a    host-bridge 4                refused
#   mc <- a    host-bridge 2 (ACS at rp0)   bus-addr 2 (ACS redirect off)
# rig: fabrics=iommu-zen,iommu-intel kernels=stock,p2pdma,debian-new
# shellcheck source=tests/vm/iommu-lib.sh
. /tests/iommu-lib.sh

iommu_setup
iommu_set_domain identity
iommu_show
iommu_fabric_state

case "$RIG_FABRIC" in
iommu-zen)
	iommu_case mc ab 4 "host-bridge 6"
	iommu_case a ab 4 "host-bridge 4"
	iommu_case b ab 4 "host-bridge 4"
	iommu_case a a 4 "bus-addr 0"
	iommu_case b a 4 "host-bridge 4"
	iommu_case mc a 32 "host-bridge 2"
	iommu_auto "$a"
	;;
iommu-intel)
	iommu_case mc ab 4 refused
	iommu_case a ab 4 refused
	iommu_case b ab 4 refused
	iommu_case a a 4 "bus-addr 0"
	iommu_case b a 4 refused
	iommu_case mc a 32 "bus-addr 2"
	iommu_auto host
	;;
esac
iommu_dmamap
iommu_set_domain DMA-FQ
kmod_unload
say "$cases cases, $copies copies compared byte for byte"
exit 0
