// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem pool on upstream's pages: kernels with CONFIG_PCI_P2PDMA.
 *
 * There the kernel takes every PCI_P2PDMA page for upstream's own, and no
 * other page type both reaches devices and comes back through a callback on
 * every kernel (GENERIC pages stopped doing so in 6.15).  So pci_bar.c
 * registers a memory card with upstream (pci_p2pdma_add_resource()), and
 * the provider's pool is upstream's: /dev/p2pmemN and kernel clients take
 * memory with pci_alloc_p2pmem(), the memory that upstream's own users
 * (p2pmem/allocate, nvmet) take too.
 *
 * What stays ours: the client declaration and distance rule, zeroing (every
 * allocation is cleared before it is handed out: upstream's pool hands out
 * what its previous user left, and we do not know which pages those were),
 * revocation of our mappings, kernel clients' removal callbacks, stats.
 *
 * What is upstream's: a page goes back to upstream's pool when its last
 * reference drops (upstream's page_free/folio_free), not to us.  So a record
 * of an allocation ends when *we* let go of it (the mapping is released, the
 * kernel client frees); pins that outlive a mapping (O_DIRECT in flight) are
 * waited for by upstream when the device goes (memunmap_pages() in its devm
 * teardown), without naming the holder.  Upstream refuses long-term pins of
 * its pages (FOLL_LONGTERM): io_uring cannot register such a buffer.  Its
 * pool keeps no 512 KiB folios: pages are 4 KiB.
 *
 * Page references (upstream's p2pmem/allocate does the same): an idle page
 * has refcount 1 (6.12) or 0 (7.x); a mapped page holds one reference of the
 * mapping's own and one on the pagemap's percpu ref, which upstream's free
 * callback drops.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/mm.h>
#include <linux/pci-p2pdma.h>
#include <linux/slab.h>

#include "p2pmem_internal.h"

/**
 * p2pmem_up_init - a pool on the pages upstream made for the range
 * @p: the provider (phys and size set; the BAR registered with upstream)
 *
 * Return: 0 or a negative errno.
 */
int p2pmem_up_init(struct p2pmem_dev *p)
{
	struct dev_pagemap *pgmap;
	struct page *page;

	if (!pfn_valid(PHYS_PFN(p->phys)))
		return -ENXIO;
	page = pfn_to_page(PHYS_PFN(p->phys));
	pgmap = is_zone_device_page(page) ? p2pmem_page_pgmap(page) : NULL;
	if (!pgmap || pgmap->type != MEMORY_DEVICE_PCI_P2PDMA) {
		pci_err(p->pdev, "p2pmem: BAR%d %pa has no upstream P2PDMA pages\n",
			p->bar, &p->phys);
		return -ENXIO;
	}
	p->npages = p->size >> PAGE_SHIFT;
	p->folio_pages = 1;
	p->kaddr = page_to_virt(page);
	/* Nobody has allocated yet: the first page is idle. */
	p->idle_ref = page_ref_count(page);
	p->dirty = kvcalloc(BITS_TO_LONGS(p->npages), sizeof(long), GFP_KERNEL);
	if (!p->dirty)
		return -ENOMEM;
	p->zero_stop = true;	/* no background zeroing: not our free pages */
	p->pool_live = true;
	return 0;
}

/**
 * p2pmem_up_exit - forget the pool; upstream's devm actions free the pages
 * @p: the provider, every allocation of ours gone
 */
void p2pmem_up_exit(struct p2pmem_dev *p)
{
	p->pool_live = false;
	kvfree(p->dirty);
}

/**
 * p2pmem_up_alloc - take memory from upstream's pool
 * @p: the provider (online; the caller holds p->lock)
 * @size: bytes, a multiple of PAGE_SIZE
 * @ap: out: the allocation
 * @caller: kernel clients: their return address; 0 for mappings
 *
 * Every page is marked dirty: p2pmem_pool_zero() clears it all.
 *
 * Context: process context, p->lock held.
 * Return: the kernel address, or NULL.
 */
void *p2pmem_up_alloc(struct p2pmem_dev *p, size_t size,
		      struct p2pmem_allocation **ap, unsigned long caller)
{
	unsigned long first, n = size >> PAGE_SHIFT;
	struct p2pmem_allocation *a;
	void *kaddr;

	lockdep_assert_held(&p->lock);
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return NULL;
	kaddr = pci_alloc_p2pmem(p->pdev, size);
	if (!kaddr) {
		kfree(a);
		return NULL;
	}
	if (WARN_ON_ONCE(kaddr < p->kaddr ||
			 kaddr + size > p->kaddr + p->size)) {
		pci_free_p2pmem(p->pdev, kaddr, size);
		kfree(a);
		return NULL;
	}
	first = (kaddr - p->kaddr) >> PAGE_SHIFT;
	bitmap_set(p->dirty, first, n);
	p2pmem_alloc_record(p, a, first, n, caller);
	*ap = a;
	return kaddr;
}

/**
 * p2pmem_up_forget - end the record of an allocation
 * @p: the provider
 * @a: the allocation; its memory is upstream's again, or on its way back
 *
 * Context: any context.
 */
void p2pmem_up_forget(struct p2pmem_dev *p, struct p2pmem_allocation *a)
{
	unsigned long flags;

	spin_lock_irqsave(&p->alloc_lock, flags);
	list_del(&a->node);
	spin_unlock_irqrestore(&p->alloc_lock, flags);
	atomic64_sub(a->npages << PAGE_SHIFT, &p->stats.in_use);
	kfree(a);
	if (READ_ONCE(p->removing))
		wake_up_all(&p->idle_wq);
	module_put(THIS_MODULE);
}

/* The allocation that starts at page @first with @n pages, or NULL. */
static struct p2pmem_allocation *p2pmem_up_find(struct p2pmem_dev *p,
						unsigned long first,
						unsigned long n, bool client)
{
	struct p2pmem_allocation *a, *found = NULL;
	unsigned long flags;

	spin_lock_irqsave(&p->alloc_lock, flags);
	list_for_each_entry(a, &p->allocs, node) {
		if (a->first == first && a->npages == n &&
		    !!a->caller == client && !a->released) {
			/* Taken: a racing free of the same range finds none. */
			a->released = true;
			found = a;
			break;
		}
	}
	spin_unlock_irqrestore(&p->alloc_lock, flags);
	return found;
}

/**
 * p2pmem_up_put_pages - give back an allocation that was never handed out
 * @p: the provider
 * @first: its first page
 * @n: its pages, all of them
 */
void p2pmem_up_put_pages(struct p2pmem_dev *p, unsigned long first,
			 unsigned long n)
{
	struct p2pmem_allocation *a = p2pmem_up_find(p, first, n, false);

	if (!a)
		a = p2pmem_up_find(p, first, n, true);
	if (WARN_ON_ONCE(!a))
		return;		/* a bug: leak rather than corrupt */
	pci_free_p2pmem(p->pdev, p->kaddr + (first << PAGE_SHIFT),
			n << PAGE_SHIFT);
	p2pmem_up_forget(p, a);
}

/**
 * p2pmem_up_free_checked - give back a kernel client's allocation
 * @p: the provider
 * @first: its first page
 * @n: its pages: whole allocations only (upstream's pool frees by range,
 *	but a part of ours would leave a record behind)
 *
 * Return: 0, or -EINVAL when it is not a live kernel-client allocation.
 */
int p2pmem_up_free_checked(struct p2pmem_dev *p, unsigned long first,
			   unsigned long n)
{
	struct p2pmem_allocation *a;

	if (first >= p->npages || n > p->npages - first || !n)
		return -EINVAL;
	a = p2pmem_up_find(p, first, n, true);
	if (!a)
		return -EINVAL;
	pci_free_p2pmem(p->pdev, p->kaddr + (first << PAGE_SHIFT),
			n << PAGE_SHIFT);
	p2pmem_up_forget(p, a);
	return 0;
}

/**
 * p2pmem_up_hand_over - make an allocation's pages live on their own
 * @p: the provider
 * @a: the allocation, cleared, about to be mapped
 *
 * Each page gets the mapping's reference and one on the pagemap, which
 * upstream's free callback drops when the page's last reference goes; the
 * allocation's one pagemap reference from pci_alloc_p2pmem() goes.  From
 * here on the pages come back to upstream one by one, never through
 * pci_free_p2pmem().
 */
void p2pmem_up_hand_over(struct p2pmem_dev *p, struct p2pmem_allocation *a)
{
	void *kaddr = p->kaddr + (a->first << PAGE_SHIFT);
	struct dev_pagemap *pgmap = p2pmem_page_pgmap(virt_to_page(kaddr));
	unsigned long i, flags;

	p2pmem_wait_idle_folios(p, kaddr, a->npages);
	for (i = 0; i < a->npages; i++)
		folio_set_count(page_folio(virt_to_page(kaddr + (i << PAGE_SHIFT))), 1);
	percpu_ref_get_many(&pgmap->ref, a->npages);
	percpu_ref_put(&pgmap->ref);
	spin_lock_irqsave(&p->alloc_lock, flags);
	a->released = true;
	spin_unlock_irqrestore(&p->alloc_lock, flags);
}
