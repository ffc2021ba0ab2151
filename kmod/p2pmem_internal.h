/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmem.ko internals shared by its files:
 *   core.c      class p2pmem, the provider registry, sysfs, module init/exit
 *   pool.c      ZONE_DEVICE pages over the BAR, the genalloc pool, zeroing
 *   upstream_pool.c  the pool on upstream's pages (CONFIG_PCI_P2PDMA kernels)
 *   chardev.c   /dev/p2pmemN: client declaration, mmap, revocable mappings
 *   distance.c  the P2PDMA distance rule ported from drivers/pci/p2pdma.c
 *   client.c    the in-kernel client API (EXPORT_SYMBOL_GPL)
 *   lifetime.c  offline/removal: revoke, wait for pins, the PCI bus notifier
 *   pci_bar.c   provider: the generic PCI BAR driver p2pmem_pci
 *   nvme_cmb.c  provider: the CMB of a drive bound to the stock nvme driver
 *   dmabuf.c    dma-buf export of a mapping's range, revoked on removal
 */
#ifndef _P2PMEM_INTERNAL_H
#define _P2PMEM_INTERNAL_H

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/genalloc.h>
#include <linux/list.h>
#include <linux/memremap.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/ratelimit.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "compat.h"
#include "include/p2pmem_client.h"
#include "uapi/p2pmem.h"

/* Minor numbers, and so providers, per system. */
#define P2PMEM_MAX_DEVS 256

enum p2pmem_kind {
	P2PMEM_KIND_MEMORY,
	P2PMEM_KIND_NVME_CMB,
};

/*
 * ONLINE: allocations allowed.  OFFLINE: the memory must not be used any
 * more (CMB disabled behind our back, device going away): mappings are
 * revoked, allocations refused, pages come back as their users let go.
 * DEAD: removed from the registry and sysfs, waiting for the last reference.
 */
enum p2pmem_state {
	P2PMEM_ONLINE,
	P2PMEM_OFFLINE,
	P2PMEM_DEAD,
};

struct p2pmem_stats {
	atomic64_t allocations;
	atomic64_t failures;
	atomic64_t in_use;		/* bytes handed out and not yet back */
	atomic64_t peak;
	atomic64_t zero_sync_bytes;	/* zeroed while allocating */
	atomic64_t zero_sync_ns;
	atomic64_t zero_bg_bytes;	/* zeroed by the background worker */
	atomic64_t zero_bg_ns;
	atomic64_t revocations;		/* times the mappings were revoked */
};

/*
 * One allocation: an mmap of /dev/p2pmemN or a client API allocation.  It
 * lives while any of its pages is out (mapped, pinned or held by a kernel
 * client) and holds a module reference meanwhile, so that rmmod is refused
 * while memory is in use.  Its pid/comm/caller name the holder when removal
 * has to wait for pinned pages.
 */
struct p2pmem_allocation {
	struct list_head node;
	unsigned long first;		/* page index in the pool */
	unsigned long npages;
	atomic_long_t pages_out;
	unsigned long caller;		/* kernel clients: return address */
	unsigned long born;		/* jiffies */
	pid_t pid;
	char comm[TASK_COMM_LEN];
	/* upstream pools: freed, or handed over to the pages' references */
	bool released;
};

struct p2pmem_dev;

/**
 * struct p2pmem_provider_ops - what a provider kind adds to the core
 * @check: is the memory still safe to hand out?  Called before every
 *	allocation; returning false takes the provider offline.  May be NULL.
 * @release: free the provider's private data, after the pool is gone.
 */
struct p2pmem_provider_ops {
	bool (*check)(struct p2pmem_dev *p);
	void (*release)(struct p2pmem_dev *p);
};

struct p2pmem_dev {
	struct device dev;		/* class p2pmem, parent: the PCI function */
	struct cdev cdev;
	struct pci_dev *pdev;
	int id;
	int bar;
	enum p2pmem_kind kind;
	const struct p2pmem_provider_ops *ops;
	void *priv;
	struct list_head node;		/* p2pmem_list */

	/* pool.c */
	bool upstream;			/* upstream's pages and pool */
	struct dev_pagemap pgmap;
	struct gen_pool *pool;
	phys_addr_t phys;		/* first byte of the pool */
	size_t size;
	unsigned long npages;
	unsigned long folio_pages;	/* pages per folio of a mapping */
	void *kaddr;			/* linear map address of phys */
	int idle_ref;			/* refcount of a free folio: 1 or 0 */
	struct p2pmem_allocation **owner;	/* per page: its allocation */
	unsigned long *dirty;		/* per page: may hold old data */
	atomic_long_t zeroing;		/* bytes held by the zeroing worker */
	atomic_t zero_pause;		/* allocations waiting for the worker */
	struct work_struct zero_work;
	bool zero_stop;
	bool pool_live;

	/* lifetime */
	struct mutex lock;		/* state, published, removal list */
	enum p2pmem_state state;
	bool published;
	bool removing;
	struct inode *inode;		/* one address_space for all mappings */
	spinlock_t alloc_lock;		/* allocs, zeroing claims; from page_free */
	struct list_head allocs;
	wait_queue_head_t idle_wq;
	wait_queue_head_t revoke_wq;	/* poll(): woken when revoked */
	struct list_head removals;	/* struct p2pmem_removal */
	struct p2pmem_removal *removal_running;	/* its ->remove() runs */
	struct task_struct *removal_task;	/* ...in this task */
	wait_queue_head_t removal_wq;	/* woken when it returns */
	struct list_head mappings;	/* struct p2pmem_mapping, under lock */
	struct list_head dmabufs;	/* struct p2pmem_dmabuf, under lock */
	atomic_t dmabufs_held;		/* of those, holding their pages */
	struct ratelimit_state log_rs;	/* refusals users can cause */

	struct p2pmem_stats stats;
	char iommu[24];
};

static inline struct p2pmem_dev *to_p2pmem_dev(struct device *dev)
{
	return container_of(dev, struct p2pmem_dev, dev);
}

/* Module parameters shared between files (core.c). */
extern bool p2pmem_force;
extern bool p2pmem_bg_zero;
extern bool p2pmem_publish;
extern struct workqueue_struct *p2pmem_wq;

/* core.c */
struct p2pmem_dev *p2pmem_provider_create(struct pci_dev *pdev, int bar,
					  u64 offset, u64 size,
					  enum p2pmem_kind kind,
					  const struct p2pmem_provider_ops *ops,
					  void *priv);
void p2pmem_registry_del(struct p2pmem_dev *p);
int p2pmem_check_bar(struct pci_dev *pdev, int bar, u64 offset, u64 *size,
		     phys_addr_t *start, bool for_upstream);
extern struct list_head p2pmem_list;
extern struct mutex p2pmem_list_lock;
const char *p2pmem_kind_name(enum p2pmem_kind kind);

/* pool.c */
int p2pmem_pool_init(struct p2pmem_dev *p);
void p2pmem_pool_exit(struct p2pmem_dev *p);
void *p2pmem_pool_alloc(struct p2pmem_dev *p, size_t size, size_t align,
			struct p2pmem_allocation **ap, unsigned long caller);
int p2pmem_pool_zero(struct p2pmem_dev *p, struct p2pmem_allocation *a);
void p2pmem_pool_put_pages(struct p2pmem_dev *p, unsigned long first,
			   unsigned long n);
int p2pmem_pool_free_checked(struct p2pmem_dev *p, unsigned long first,
			     unsigned long n);
size_t p2pmem_pool_available(struct p2pmem_dev *p);
void p2pmem_pool_stop_zeroing(struct p2pmem_dev *p);
void p2pmem_pool_zero_kick(struct p2pmem_dev *p);
void p2pmem_pool_distrust(struct p2pmem_dev *p);
void p2pmem_wait_idle_folios(struct p2pmem_dev *p, void *kaddr,
			     unsigned long n);
void p2pmem_stat_peak(struct p2pmem_dev *p, s64 now);
void p2pmem_alloc_record(struct p2pmem_dev *p, struct p2pmem_allocation *a,
			 unsigned long first, unsigned long n,
			 unsigned long caller);

/* upstream_pool.c */
int p2pmem_up_init(struct p2pmem_dev *p);
void p2pmem_up_exit(struct p2pmem_dev *p);
void *p2pmem_up_alloc(struct p2pmem_dev *p, size_t size,
		      struct p2pmem_allocation **ap, unsigned long caller);
void p2pmem_up_forget(struct p2pmem_dev *p, struct p2pmem_allocation *a);
void p2pmem_up_put_pages(struct p2pmem_dev *p, unsigned long first,
			 unsigned long n);
int p2pmem_up_free_checked(struct p2pmem_dev *p, unsigned long first,
			   unsigned long n);
void p2pmem_up_hand_over(struct p2pmem_dev *p, struct p2pmem_allocation *a);

/* chardev.c */
int p2pmem_chardev_init(void);
void p2pmem_chardev_exit(void);
int p2pmem_chardev_setup(struct p2pmem_dev *p);
void p2pmem_chardev_release(struct p2pmem_dev *p);
void p2pmem_chardev_revoke(struct p2pmem_dev *p);
int p2pmem_chardev_get_range(struct p2pmem_dev *p, unsigned long uaddr,
			     size_t len, void **kaddr);
extern dev_t p2pmem_devt;

/* distance.c */
int p2pmem_check_clients(struct p2pmem_dev *p, struct pci_dev **clients,
			 int n, int *distance, enum p2pmem_map_type *map,
			 const char *who);
void p2pmem_describe_iommu(struct device *dev, char *buf, size_t len);

/* client.c */
struct pci_dev *p2pmem_find_parent_pci_dev(struct device *dev);

/* dmabuf.c (a kernel without dma-buf: no export, nothing to revoke) */
#if IS_ENABLED(CONFIG_DMA_SHARED_BUFFER)
int p2pmem_dmabuf_export_range(struct p2pmem_dev *p,
			       const struct p2pmem_dmabuf_req *req);
void p2pmem_dmabuf_revoke(struct p2pmem_dev *p);
void p2pmem_dmabuf_log_holders(struct p2pmem_dev *p);
#else
static inline int p2pmem_dmabuf_export_range(struct p2pmem_dev *p,
					     const struct p2pmem_dmabuf_req *req)
{
	return -EOPNOTSUPP;
}

static inline void p2pmem_dmabuf_revoke(struct p2pmem_dev *p)
{
}

static inline void p2pmem_dmabuf_log_holders(struct p2pmem_dev *p)
{
}
#endif

/* lifetime.c */
void p2pmem_provider_remove(struct p2pmem_dev *p);
void p2pmem_provider_offline(struct p2pmem_dev *p, const char *why);
int p2pmem_lifetime_init(void);
void p2pmem_lifetime_exit(void);

/* pci_bar.c */
int p2pmem_pci_init(void);
void p2pmem_pci_exit(void);

/* nvme_cmb.c */
int p2pmem_cmb_init(void);
void p2pmem_cmb_exit(void);
void p2pmem_cmb_bound(struct pci_dev *pdev);
void p2pmem_cmb_unbind(struct pci_dev *pdev);

/*
 * vm_flags became write-protected in 6.3; Debian's 6.1 still assigns them
 * (P2PMEM_HAVE_VM_FLAGS_SET comes from Kbuild, which looks at mm.h).
 */
static inline void p2pmem_vm_flags_set(struct vm_area_struct *vma,
				       vm_flags_t flags)
{
#ifdef P2PMEM_HAVE_VM_FLAGS_SET
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

static inline void p2pmem_vm_flags_clear(struct vm_area_struct *vma,
					 vm_flags_t flags)
{
#ifdef P2PMEM_HAVE_VM_FLAGS_SET
	vm_flags_clear(vma, flags);
#else
	vma->vm_flags &= ~flags;
#endif
}

static inline bool p2pmem_online(struct p2pmem_dev *p)
{
	return READ_ONCE(p->state) == P2PMEM_ONLINE;
}

#endif /* _P2PMEM_INTERNAL_H */
