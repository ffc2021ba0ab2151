/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * p2pmem.ko userspace interface.
 *
 * A provider is the character device /dev/p2pmemN, with its class device
 * /sys/class/p2pmem/p2pmemN/ (device -> the provider's PCI function).
 *
 * Allocation works like upstream P2PDMA's p2pmem/allocate: every
 * mmap(MAP_SHARED, offset 0) of an open /dev/p2pmemN is one allocation of
 * the mapping's length (page multiple), zeroed before it is handed out,
 * freed when the last reference goes (munmap, process exit, unpinned).
 * MAP_PRIVATE and non-zero offsets are refused (EINVAL), PROT_EXEC too
 * (EPERM; mprotect() cannot add it later).  The pages enter the page
 * tables at the first access (one fault maps the whole mapping).  mmap()
 * clears the memory before it returns; a fatal signal meanwhile ends it
 * (the process is dying anyway).
 *
 * Before mapping, the opener should declare the clients that will DMA to
 * or from the memory: P2PMEM_IOC_SET_CLIENTS. The module applies the
 * distance rule of Linux P2PDMA and its DMA fences to them and refuses
 * (EREMOTEIO, with the reason in the kernel log) when the provider cannot
 * serve them all; the file's later mappings are then made for them.  The
 * declaration is advisory: it protects a program from its own mistakes,
 * not the memory from other devices (the module cannot see or fence DMA
 * that other devices do).  A declaration whose answer cannot be written
 * back (EFAULT) is not kept.
 *
 * A file that declared nothing maps all the same (programs written for
 * the original p2pmem-pci driver know no declaration), and nothing is
 * checked for it: the kernel log says so once per open file ("no clients
 * declared").  On kernels without CONFIG_PCI_P2PDMA the pages are RAM to
 * the DMA API: any device gets them unchecked, and one the distance rule
 * or the DMA fences would refuse may fail its I/O, move wrong data, or
 * (bounced through swiotlb) not go peer-to-peer at all.  On kernels with
 * it the pages are upstream's, whose DMA mapping checks each device per
 * I/O (EREMOTEIO; some kernels say EINVAL): nothing moves.
 *
 * sysfs attributes of p2pmemN (all read-only unless said):
 *   size         bytes of BAR memory in the pool
 *   available    bytes free now
 *   folio_size   bytes per folio of a mapping: each mmap takes whole
 *                folios (its length is rounded up to this in the pool
 *                and in stats/in_use); 4096 where the kernel maps device
 *                pages one by one (before Linux 6.8, or module parameter
 *                folio_kb=4).  Larger folios make I/O through the memory
 *                as cheap as through host huge pages.
 *   published    1 if offered to any user, 0 if reserved (writable by root)
 *   kind         "memory" (a memory BAR) or "nvme-cmb"
 *   state        "online" or "offline" (device going away, CMB disabled)
 *   bar          the BAR index serving the pool
 *   bus_offset   CPU physical address minus PCI bus address (always 0:
 *                providers with an offset are refused)
 *   iommu        the provider's IOMMU domain: "none" (no IOMMU group),
 *                "identity", "dma", "dma-fq", "unmanaged", "blocked", "other"
 *   range        (root only) CPU physical range of the pool, "0xSTART-0xEND"
 *                (the BAR trimmed to 2 MiB alignment)
 *   stats/allocations  successful allocations since load
 *   stats/failures     refused or failed allocations
 *   stats/in_use       bytes allocated now
 *   stats/peak         most bytes allocated at once
 *   stats/zero_sync_bytes, stats/zero_sync_ns
 *                      memory cleared while allocating, and the time it took
 *   stats/zero_bg_bytes, stats/zero_bg_ns
 *                      memory cleared by the background worker after a free
 *   stats/revocations  times every mapping was revoked (offline, removal)
 *
 * poll() on an open /dev/p2pmemN reports EPOLLHUP | EPOLLERR once the
 * provider went offline (its mappings are revoked).  Accesses through a
 * mapping then fault (SIGBUS) and new O_DIRECT through it fails (EFAULT),
 * but long-term pins taken earlier (io_uring registered buffers) still
 * reach the pages: their holder must stop and unregister, as removal of
 * the provider waits for every page to come back.
 *
 * Node mode 0600 root; see kmod/99-p2pmem.rules for handing it to a group.
 */
#ifndef _UAPI_LINUX_P2PMEM_H
#define _UAPI_LINUX_P2PMEM_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* A PCI function: domain << 16 | bus << 8 | devfn (as in pci_dev_id()). */
#define P2PMEM_PCI_ID(domain, bus, devfn) \
	((__u32)(domain) << 16 | (__u32)(bus) << 8 | (__u32)(devfn))

#define P2PMEM_MAX_CLIENTS 32

/**
 * struct p2pmem_clients - the devices that will use this file's memory
 * @nclients: entries in @clients (1..P2PMEM_MAX_CLIENTS)
 * @flags: must be 0
 * @clients: user pointer to @nclients __u32 P2PMEM_PCI_ID() values
 * @distance: out: the distance the rule computed (sum over clients)
 * @map_type: out: 1 bus-addr, 2 through the host bridge
 */
struct p2pmem_clients {
	__u32 nclients;
	__u32 flags;
	__u64 clients;
	__s32 distance;
	__u32 map_type;
};

/**
 * struct p2pmem_dmabuf_req - export part of a mapping as a dma-buf
 * @addr: start of the range: an address inside a mapping of this provider
 *	(any open file of it), page aligned
 * @len: bytes, page aligned; the range must lie inside that one mapping
 * @flags: must be 0
 * @reserved: must be 0
 *
 * P2PMEM_IOC_EXPORT_DMABUF returns a new dma-buf file descriptor
 * (close-on-exec) over the range: the memory is not copied, the mapping
 * and the buffer share it, and the buffer keeps it allocated after munmap
 * until the fd and every importer's attachment are gone.  An importer must
 * accept peer-to-peer memory (dma_buf_attach_ops.allow_peer2peer; RDMA's
 * ibv_reg_dmabuf_mr does) and pass the distance rule and DMA fences, or
 * its attach fails: EOPNOTSUPP, EREMOTEIO (reason in the kernel log).
 * Importers get bus addresses (or IOMMU mappings through the host bridge),
 * no pages.  When the provider goes offline the buffer is revoked:
 * importers are told to unmap (move_notify) and cannot map again (ENODEV).
 * Errors: EINVAL (alignment, range not inside one mapping of this
 * provider, flags), ENODEV (offline), ENOMEM.
 */
struct p2pmem_dmabuf_req {
	__u64 addr;
	__u64 len;
	__u32 flags;
	__u32 reserved;
};

#define P2PMEM_IOC_MAGIC	'P'
#define P2PMEM_IOC_SET_CLIENTS	_IOWR(P2PMEM_IOC_MAGIC, 1, struct p2pmem_clients)
#define P2PMEM_IOC_EXPORT_DMABUF _IOW(P2PMEM_IOC_MAGIC, 2, struct p2pmem_dmabuf_req)

#endif /* _UAPI_LINUX_P2PMEM_H */
