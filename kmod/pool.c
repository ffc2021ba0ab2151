// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem pool: ZONE_DEVICE pages over a provider's BAR range, a genalloc
 * pool of them, and the zeroing that keeps one user's data from the next.
 *
 * Page lifetime (6.1 and 6.12: an idle ZONE_DEVICE page has refcount 1):
 *
 *   pool --alloc--> handed out --vm_insert_page + put_page--> mapped
 *     ^                                                        |
 *     +---- page_free (refcount hit 0; core resets it to 1) <--+ munmap,
 *                                                    unpin, exit, revoke
 *
 * Each page handed out also holds a reference on the pagemap, dropped in
 * page_free, so memunmap_pages() cannot tear the pages down under a user.
 *
 * Zeroing: upstream P2PDMA hands out whatever the previous user left (a new
 * mapping of its p2pmem/allocate can show another user's disk data); we
 * never do.  A bitmap marks pages that may hold
 * data ("dirty"): all of them at first (the BAR's content is unknown), and
 * every page that comes back.  The allocation path zeroes the dirty pages
 * of its range before handing them out, so the guarantee never depends on
 * timing; it clears in chunks, outside the provider lock, and gives up
 * (-EINTR) when the caller is killed.  A background worker zeroes dirty
 * pages while they sit free, so that the allocation path usually finds
 * them clean: it claims a run of
 * free dirty pages from genalloc at a fixed offset (so no allocation can
 * get them meanwhile), clears them and gives them back.  Writes to the BAR
 * are uncached and slow (and in QEMU a CMB write is an MMIO callback); the
 * worker moves that cost off the mmap() path.  So does the allocator: it
 * takes a free range with no dirty page when there is one
 * (p2pmem_fit_clean), so a program that starts right after another one
 * freed its memory does not wait for clearing that; only when no clean range
 * fits does it take dirty pages and clear them itself.
 *
 * page_free may run in any context (the last unpin of an O_DIRECT read can
 * come from an interrupt), so everything it touches is atomic, lock-free
 * (genalloc) or under an irq-safe spinlock.
 *
 * Folios: on 6.8 and later (tested: 6.12) the pages come in compound folios
 * of folio_kb (pgmap->vmemmap_shift), the way device DAX builds its pages.
 * The block layer then sees a registered p2p buffer as one bio_vec per
 * folio instead of one per 4 KiB page (io_uring coalesces a registered
 * buffer by folio), which is what host memory in transparent huge pages
 * gets, and what makes an I/O through p2p memory cost the CPU no more than
 * one through host memory.  A folio's reference count lives in its head
 * page, and page_free comes once per folio: so a mapping always takes whole
 * folios (its size is rounded up, its start aligned), while kernel clients,
 * whose pages never travel through page_free, still allocate by the page.
 * 512 KiB is the largest folio whose struct pages the kernel does not share
 * between tails (vmemmap optimization, Documentation/mm/vmemmap_dedup.rst):
 * a mapping writes per-page map counts into them.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sizes.h>
#include <linux/slab.h>

#include "p2pmem_internal.h"

/*
 * The worker clears at most this many pages before it looks up again, so
 * that stopping it (removal) or pausing it (an allocation that needs the
 * pages) waits for no more than one run of uncached writes.
 */
#define P2PMEM_ZERO_RUN 64

#define P2PMEM_FOLIO_KB_MAX	512
static unsigned int p2pmem_folio_kb = P2PMEM_FOLIO_KB_MAX;
module_param_named(folio_kb, p2pmem_folio_kb, uint, 0444);
MODULE_PARM_DESC(folio_kb, "size of the folios that mappings are made of, KiB: 4 to 512, a power of two (default 512; always 4 before Linux 6.8)");

/* Pages per folio for a provider at @phys of @size bytes. */
static unsigned long p2pmem_folio_pages(phys_addr_t phys, size_t size)
{
	unsigned long kb = p2pmem_folio_kb, pages;

#ifndef P2PMEM_HAVE_FOLIO_RMAP
	return 1;	/* before 6.8: map counts per page, untested */
#endif
	if (!is_power_of_2(kb) || kb < PAGE_SIZE / SZ_1K ||
	    kb > P2PMEM_FOLIO_KB_MAX) {
		pr_warn_once("folio_kb=%u is not a power of two from %lu to %u: using 4 KiB pages\n",
			     p2pmem_folio_kb, PAGE_SIZE / SZ_1K,
			     P2PMEM_FOLIO_KB_MAX);
		return 1;
	}
	pages = kb * SZ_1K / PAGE_SIZE;
	/* A range smaller than a folio, or oddly placed: smaller folios. */
	while (pages > 1 && (!IS_ALIGNED(phys | size, pages * PAGE_SIZE)))
		pages >>= 1;
	return pages;
}

static inline void *p2pmem_page_addr(struct p2pmem_dev *p, unsigned long i)
{
	return p->kaddr + (i << PAGE_SHIFT);
}

/**
 * p2pmem_pool_zero_kick - queue the zeroing worker
 * @p: the provider
 *
 * Does nothing while background clearing is off (bg_zero=0), on upstream's
 * pool (not our free pages) and once the worker was stopped (offline,
 * teardown).
 *
 * Context: any context.
 */
void p2pmem_pool_zero_kick(struct p2pmem_dev *p)
{
	unsigned long flags;

	if (!READ_ONCE(p2pmem_bg_zero) || p->upstream)
		return;
	spin_lock_irqsave(&p->alloc_lock, flags);
	if (!p->zero_stop)
		queue_work(p2pmem_wq, &p->zero_work);
	spin_unlock_irqrestore(&p->alloc_lock, flags);
}

/*
 * Stop the worker for good: before teardown (the linear map goes away) and
 * when a provider goes offline (its memory may not be touched any more).
 */
void p2pmem_pool_stop_zeroing(struct p2pmem_dev *p)
{
	spin_lock_irq(&p->alloc_lock);
	p->zero_stop = true;
	spin_unlock_irq(&p->alloc_lock);
	if (p->pool_live)
		cancel_work_sync(&p->zero_work);
}

/*
 * Clear uncached memory with 8-byte stores: memset() may be "rep stosb",
 * one bus write per byte on an uncached mapping (Debian's 6.1 does; in QEMU
 * a CMB write is an MMIO exit each).  Then read the last word back: writes
 * to a BAR are posted, and a read from the same device completes only
 * after them, so no peer can see the old data once we return.
 */
static void p2pmem_clear(void *addr, size_t len)
{
	u64 *last = addr + len - sizeof(u64);

	memset64(addr, 0, len / sizeof(u64));
	if (READ_ONCE(*last))
		pr_warn_ratelimited("cleared memory at %p does not read back as zero\n",
				    last);
}

/**
 * p2pmem_pool_distrust - forget what we know about the memory's content
 * @p: the provider; the caller holds p->lock and nothing is allocated
 *
 * After the device may have changed its memory behind our back (an NVMe
 * controller reset), every page is cleared again before it is handed out.
 */
void p2pmem_pool_distrust(struct p2pmem_dev *p)
{
	unsigned long i;

	spin_lock_irq(&p->alloc_lock);
	p->zero_stop = true;
	spin_unlock_irq(&p->alloc_lock);
	cancel_work_sync(&p->zero_work);
	for (i = 0; i < p->npages; i++)
		set_bit(i, p->dirty);
	spin_lock_irq(&p->alloc_lock);
	p->zero_stop = false;
	spin_unlock_irq(&p->alloc_lock);
	p2pmem_pool_zero_kick(p);
}

/* Zero pages [i, end) that the caller owns (allocated from genalloc). */
static void p2pmem_zero_range(struct p2pmem_dev *p, unsigned long i,
			      unsigned long end, bool background)
{
	u64 t0 = ktime_get_ns();
	unsigned long j;

	p2pmem_clear(p2pmem_page_addr(p, i), (end - i) << PAGE_SHIFT);
	/* Atomic: page_free sets bits of neighbouring pages concurrently. */
	for (j = i; j < end; j++)
		clear_bit(j, p->dirty);
	if (background) {
		atomic64_add((end - i) << PAGE_SHIFT, &p->stats.zero_bg_bytes);
		atomic64_add(ktime_get_ns() - t0, &p->stats.zero_bg_ns);
	} else {
		atomic64_add((end - i) << PAGE_SHIFT, &p->stats.zero_sync_bytes);
		atomic64_add(ktime_get_ns() - t0, &p->stats.zero_sync_ns);
	}
}

/**
 * p2pmem_pool_zero - clear what is still dirty in an allocation
 * @p: the provider
 * @a: an allocation from p2pmem_pool_alloc(), not handed out yet
 *
 * Runs without the provider lock, in runs of P2PMEM_ZERO_RUN pages with a
 * reschedule point between them: a whole-provider mapping right after load
 * clears hundreds of MiB with uncached stores.
 *
 * Context: process context, may sleep.
 * Return: 0, or -EINTR if the caller got a fatal signal (the allocation is
 * then still the caller's, partly cleared).
 */
int p2pmem_pool_zero(struct p2pmem_dev *p, struct p2pmem_allocation *a)
{
	unsigned long i, end, last = a->first + a->npages;

	for (i = a->first; i < last; i = end) {
		i = find_next_bit(p->dirty, last, i);
		if (i >= last)
			break;
		end = find_next_zero_bit(p->dirty, min(last, i + P2PMEM_ZERO_RUN), i);
		p2pmem_zero_range(p, i, end, false);
		if (fatal_signal_pending(current))
			return -EINTR;
		cond_resched();
	}
	return 0;
}

static void p2pmem_zero_work(struct work_struct *work)
{
	struct p2pmem_dev *p = container_of(work, struct p2pmem_dev, zero_work);
	struct genpool_data_fixed fixed;
	unsigned long i = 0, end, n;
	void *kaddr;

	/* bg_zero may be switched off at run time: it stops after a run. */
	while (!READ_ONCE(p->zero_stop) && !atomic_read(&p->zero_pause) &&
	       READ_ONCE(p2pmem_bg_zero)) {
		i = find_next_bit(p->dirty, p->npages, i);
		if (i >= p->npages)
			break;
		end = find_next_zero_bit(p->dirty,
					 min(p->npages, i + P2PMEM_ZERO_RUN), i);
		n = end - i;
		fixed.offset = i << PAGE_SHIFT;
		/*
		 * Claim and count under alloc_lock, as p2pmem_pool_available()
		 * reads both: pages being cleared stay "available" throughout.
		 */
		spin_lock_irq(&p->alloc_lock);
		kaddr = (void *)gen_pool_alloc_algo(p->pool, n << PAGE_SHIFT,
						    gen_pool_fixed_alloc, &fixed);
		if (!kaddr && n > 1) {
			n = 1;
			kaddr = (void *)gen_pool_alloc_algo(p->pool, PAGE_SIZE,
							    gen_pool_fixed_alloc,
							    &fixed);
		}
		if (kaddr)
			atomic_long_add(n << PAGE_SHIFT, &p->zeroing);
		spin_unlock_irq(&p->alloc_lock);
		if (!kaddr) {
			/* In use: whoever frees it marks it dirty again. */
			i++;
			continue;
		}
		p2pmem_zero_range(p, i, i + n, true);
		spin_lock_irq(&p->alloc_lock);
		gen_pool_free(p->pool, (unsigned long)kaddr, n << PAGE_SHIFT);
		atomic_long_sub(n << PAGE_SHIFT, &p->zeroing);
		spin_unlock_irq(&p->alloc_lock);
		wake_up_all(&p->idle_wq);
		i += n;
		cond_resched();
	}
}

static void p2pmem_page_free(struct page *page)
{
	struct p2pmem_dev *p = container_of(p2pmem_page_pgmap(page),
					    struct p2pmem_dev, pgmap);

	/*
	 * Called for a folio's head page: the whole folio comes back.  The
	 * core clears ->mapping too, but not every kernel we build for did.
	 */
	page->mapping = NULL;
	p2pmem_pool_put_pages(p, page_to_pfn(page) - PHYS_PFN(p->phys),
			      p->folio_pages);
}

#ifdef P2PMEM_HAVE_FOLIO_FREE
static void p2pmem_folio_free(struct folio *folio)
{
	p2pmem_page_free(&folio->page);
}

static const struct dev_pagemap_ops p2pmem_pgmap_ops = {
	.folio_free = p2pmem_folio_free,
};
#else
static const struct dev_pagemap_ops p2pmem_pgmap_ops = {
	.page_free = p2pmem_page_free,
};
#endif

/*
 * @count pages of allocation @a came back; the last one frees the record.
 * Returns true when it did: the caller then drops the module reference
 * that the allocation held, as the very last thing it does.
 */
static bool p2pmem_alloc_put(struct p2pmem_dev *p, struct p2pmem_allocation *a,
			     unsigned long count)
{
	unsigned long flags;

	if (!atomic_long_sub_and_test(count, &a->pages_out))
		return false;
	spin_lock_irqsave(&p->alloc_lock, flags);
	list_del(&a->node);
	spin_unlock_irqrestore(&p->alloc_lock, flags);
	kfree(a);
	return true;
}

/*
 * Pages [first, first + n), whose owners the caller has taken (set to
 * NULL), go back to genalloc.  @owners: the allocation of each page, in
 * order.
 */
static void p2pmem_pool_release(struct p2pmem_dev *p, unsigned long first,
				unsigned long n, struct p2pmem_allocation **owners)
{
	struct p2pmem_allocation *cur = NULL;
	unsigned long i, count = 0, done = 0;

	for (i = 0; i < n; i++) {
		set_bit(first + i, p->dirty);
		if (owners[i] != cur) {
			if (cur && p2pmem_alloc_put(p, cur, count))
				done++;
			cur = owners[i];
			count = 0;
		}
		count++;
	}
	if (cur && p2pmem_alloc_put(p, cur, count))
		done++;
	gen_pool_free(p->pool, (unsigned long)p2pmem_page_addr(p, first),
		      n << PAGE_SHIFT);
	atomic64_sub(n << PAGE_SHIFT, &p->stats.in_use);
	if (p2pmem_online(p))
		p2pmem_pool_zero_kick(p);
	if (READ_ONCE(p->removing))
		wake_up_all(&p->idle_wq);
	/*
	 * After this, memunmap_pages() may free everything; after the module
	 * references go, rmmod may free our text.  The RCU read section keeps
	 * the text until we have returned: module unloading waits for RCU
	 * readers before it frees a module's memory.
	 */
	rcu_read_lock();
	percpu_ref_put_many(&p->pgmap.ref, n);
	while (done--)
		module_put(THIS_MODULE);
	rcu_read_unlock();
}

#define P2PMEM_PUT_BATCH 32

/**
 * p2pmem_pool_put_pages - give pages back to the pool
 * @p: the provider
 * @first: index of the first page in the pool
 * @n: number of pages
 *
 * For page_free (a whole folio, any context) and for allocations that were
 * never handed out.  The caller knows that the pages are out and whose
 * they are; kernel clients go through p2pmem_pool_free_checked().
 *
 * Context: any context.
 */
void p2pmem_pool_put_pages(struct p2pmem_dev *p, unsigned long first,
			   unsigned long n)
{
	struct p2pmem_allocation *owners[P2PMEM_PUT_BATCH];
	unsigned long i, k;

	if (p->upstream) {
		p2pmem_up_put_pages(p, first, n);
		return;
	}
	while (n) {
		k = min_t(unsigned long, n, P2PMEM_PUT_BATCH);
		for (i = 0; i < k; i++) {
			owners[i] = xchg(&p->owner[first + i], NULL);
			if (WARN_ON_ONCE(!owners[i]))
				return;		/* a bug: leak rather than corrupt */
		}
		p2pmem_pool_release(p, first, k, owners);
		first += k;
		n -= k;
	}
}

/**
 * p2pmem_pool_free_checked - give back pages a kernel client allocated
 * @p: the provider
 * @first: index of the first page in the pool
 * @n: number of pages
 *
 * Every page must belong to one live kernel-client allocation.  A double
 * free, a range that is not (or not all) the caller's, or pages of a user
 * mapping are refused whole: nothing is freed, and the caller is named in
 * the log.  Owners are checked and taken in one step under alloc_lock, so
 * two racing frees of the same range cannot both pass.
 *
 * Context: any context.
 * Return: 0, or -EINVAL when the range was refused.
 */
int p2pmem_pool_free_checked(struct p2pmem_dev *p, unsigned long first,
			     unsigned long n)
{
	struct p2pmem_allocation *owners[P2PMEM_PUT_BATCH], *a;
	unsigned long i, k, flags;
	int ret = 0;

	if (p->upstream)
		return p2pmem_up_free_checked(p, first, n);
	if (first >= p->npages || n > p->npages - first || !n)
		return -EINVAL;
	spin_lock_irqsave(&p->alloc_lock, flags);
	a = READ_ONCE(p->owner[first]);
	for (i = first; i < first + n; i++) {
		if (READ_ONCE(p->owner[i]) != a || !a || !a->caller) {
			ret = -EINVAL;
			break;
		}
	}
	if (!ret)
		for (i = first; i < first + n; i++)
			WRITE_ONCE(p->owner[i], NULL);
	spin_unlock_irqrestore(&p->alloc_lock, flags);
	if (ret)
		return ret;
	while (n) {
		k = min_t(unsigned long, n, P2PMEM_PUT_BATCH);
		for (i = 0; i < k; i++)
			owners[i] = a;
		p2pmem_pool_release(p, first, k, owners);
		first += k;
		n -= k;
	}
	return 0;
}

void p2pmem_stat_peak(struct p2pmem_dev *p, s64 now)
{
	s64 peak = atomic64_read(&p->stats.peak);

	while (now > peak) {
		s64 old = atomic64_cmpxchg(&p->stats.peak, peak, now);

		if (old == peak)
			break;
		peak = old;
	}
}

/* What p2pmem_fit_clean() needs: genalloc passes it as its data. */
struct p2pmem_fit {
	struct genpool_data_align align;	/* for gen_pool_first_fit_align */
	struct p2pmem_dev *p;
};

/*
 * genalloc algorithm (genpool_algo_t): the first free range of @nr pages at
 * the alignment asked that has no dirty page; if there is none, the first
 * free one (gen_pool_first_fit_align), whose dirty pages the allocation path
 * then clears.  Memory that the last user just gave back is dirty until the
 * worker gets to it (or for good with bg_zero=0), and clearing it while
 * allocating means uncached stores (MMIO exits in QEMU) on the mmap path:
 * a short program (a 1 MiB copy) would pay for clearing what the previous
 * one freed while clean memory sits unused.
 *
 * @map is genalloc's bitmap of the pool's one chunk, which starts at
 * p->kaddr with a bit per page (min_alloc_order PAGE_SHIFT), so bit i is
 * page i of p->dirty.  The dirty bitmap is read without a lock, as a hint:
 * page_free and the worker change it under us with atomic bitops, and a
 * stale look (page_free sets a page's bit just before it gives the page
 * back to genalloc) only costs the preference: once the range is ours,
 * p2pmem_pool_zero() reads its bits again and clears what is dirty.
 * Both searches start at 0: @start is not 0 only when genalloc retries
 * after another claim took bits of the range we found, and the fallback
 * must not skip dirty ranges before it.
 */
static unsigned long p2pmem_fit_clean(unsigned long *map, unsigned long size,
				      unsigned long start, unsigned int nr,
				      void *data, struct gen_pool *pool,
				      unsigned long start_addr)
{
	struct p2pmem_fit *fit = data;
	struct p2pmem_dev *p = fit->p;
	unsigned long mask, off, i, d;

	if (WARN_ON_ONCE(start_addr != (unsigned long)p->kaddr ||
			 size > p->npages))
		goto first_fit;
	mask = (fit->align.align >> PAGE_SHIFT) - 1;
	off = (start_addr & (fit->align.align - 1)) >> PAGE_SHIFT;
	i = 0;
	for (;;) {
		i = bitmap_find_next_zero_area_off(map, size, i, nr, mask, off);
		if (i >= size)
			break;
		d = find_next_bit(p->dirty, i + nr, i);
		if (d >= i + nr)
			return i;
		/* Free but dirty at d: go on after that dirty run. */
		i = find_next_zero_bit(p->dirty, size, d);
	}
first_fit:
	return gen_pool_first_fit_align(map, size, 0, nr, &fit->align, pool,
					start_addr);
}

/*
 * Clean memory first (p2pmem_fit_clean), else first fit, at a multiple of
 * @align.
 */
static void *p2pmem_pool_take(struct p2pmem_dev *p, size_t size, size_t align)
{
	struct p2pmem_fit fit = { .align.align = align, .p = p };

	return (void *)gen_pool_alloc_algo(p->pool, size, p2pmem_fit_clean,
					   &fit);
}

/*
 * 6.1 and 6.12 return a free folio through page_free *before* they reset
 * its reference count to the idle value: between the two, the folio is in
 * the pool at refcount 0.  Taking it then and mapping it would have the
 * core's reset overwrite the mapping's references (the folio would come
 * back while still mapped).  So wait until each folio of a new allocation
 * is idle; the core is a few instructions from it (or preempted there).
 * Kernels that keep idle folios at 0 (p->idle_ref) never wait.
 */
void p2pmem_wait_idle_folios(struct p2pmem_dev *p, void *kaddr,
			     unsigned long n)
{
	unsigned long i;

	if (!p->idle_ref)
		return;
	for (i = 0; i < n; i++) {
		struct folio *folio = page_folio(virt_to_page(kaddr + (i << PAGE_SHIFT)));

		/* Kernel clients' I/O may hold more than idle: not ours. */
		while (!folio_ref_count(folio))
			cond_resched();
	}
}

/**
 * p2pmem_alloc_record - start the record of a new allocation
 * @p: the provider (the caller holds p->lock)
 * @a: the record, zeroed, not listed yet
 * @first: its first page in the pool
 * @n: its pages
 * @caller: kernel clients: their return address; 0 for mappings
 *
 * The same for both pools (ours and upstream's): the record names the
 * allocating task, so that removal can name who still holds pages; it
 * holds a module reference until it ends, so that rmmod is refused while
 * memory is out; it is counted in the stats.
 *
 * Context: process context, p->lock held.
 */
void p2pmem_alloc_record(struct p2pmem_dev *p, struct p2pmem_allocation *a,
			 unsigned long first, unsigned long n,
			 unsigned long caller)
{
	unsigned long flags;

	lockdep_assert_held(&p->lock);
	a->first = first;
	a->npages = n;
	atomic_long_set(&a->pages_out, n);
	a->caller = caller;
	a->born = jiffies;
	a->pid = task_tgid_nr(current);
	get_task_comm(a->comm, current);
	__module_get(THIS_MODULE);
	spin_lock_irqsave(&p->alloc_lock, flags);
	list_add_tail(&a->node, &p->allocs);
	spin_unlock_irqrestore(&p->alloc_lock, flags);
	p2pmem_stat_peak(p, atomic64_add_return(n << PAGE_SHIFT,
						&p->stats.in_use));
	atomic64_inc(&p->stats.allocations);
}

/**
 * p2pmem_pool_alloc - take pages from the pool
 * @p: the provider (online; the caller holds p->lock)
 * @size: bytes, a multiple of PAGE_SIZE
 * @align: bytes, a power of two: PAGE_SIZE, or the folio size for memory
 *	that will be mapped
 * @ap: out: the allocation
 * @caller: kernel clients: their return address (names them when removal
 *	waits); 0 for mappings
 *
 * The pages may still hold old data: p2pmem_pool_zero() them, without
 * p->lock, before they are handed out.
 *
 * Context: process context, p->lock held.
 * Return: the kernel address of the memory, or NULL when the pool has no
 * free range that large.
 */
void *p2pmem_pool_alloc(struct p2pmem_dev *p, size_t size, size_t align,
			struct p2pmem_allocation **ap, unsigned long caller)
{
	unsigned long first, n = size >> PAGE_SHIFT, i;
	struct p2pmem_allocation *a;
	void *kaddr;

	lockdep_assert_held(&p->lock);
	if (p->upstream)
		return p2pmem_up_alloc(p, size, ap, caller);
	a = kzalloc(sizeof(*a), GFP_KERNEL);
	if (!a)
		return NULL;

	kaddr = p2pmem_pool_take(p, size, align);
	if (!kaddr && atomic_long_read(&p->zeroing)) {
		/*
		 * The worker holds a run of free pages while clearing them:
		 * let it finish that run and pause, rather than fail an
		 * allocation that fits.
		 */
		atomic_inc(&p->zero_pause);
		for (i = 0; !kaddr && i < 3; i++) {
			wait_event(p->idle_wq, !atomic_long_read(&p->zeroing));
			kaddr = p2pmem_pool_take(p, size, align);
		}
		atomic_dec(&p->zero_pause);
		p2pmem_pool_zero_kick(p);
	}
	if (!kaddr) {
		kfree(a);
		return NULL;
	}
	first = (kaddr - p->kaddr) >> PAGE_SHIFT;
	p2pmem_wait_idle_folios(p, kaddr, n);

	/* page_free finds the allocation of each page it gets back. */
	for (i = first; i < first + n; i++)
		WRITE_ONCE(p->owner[i], a);
	percpu_ref_get_many(&p->pgmap.ref, n);
	p2pmem_alloc_record(p, a, first, n, caller);
	*ap = a;
	return kaddr;
}

size_t p2pmem_pool_available(struct p2pmem_dev *p)
{
	unsigned long flags;
	size_t avail;

	if (!p->pool_live || p->upstream)
		return 0;	/* upstream's: <bdf>/p2pmem/available */
	/*
	 * Pages being cleared are free, just busy for a moment.  alloc_lock:
	 * the worker claims them and counts them in one step, so that the sum
	 * never dips while it does (sysfs available, tests comparing it with
	 * size on an idle provider).
	 */
	spin_lock_irqsave(&p->alloc_lock, flags);
	avail = gen_pool_avail(p->pool) + atomic_long_read(&p->zeroing);
	spin_unlock_irqrestore(&p->alloc_lock, flags);
	return avail;
}

/**
 * p2pmem_pool_init - give the provider's range struct pages and a pool
 * @p: the provider (phys and size set, 2 MiB aligned)
 *
 * Return: 0 or a negative errno.
 */
int p2pmem_pool_init(struct p2pmem_dev *p)
{
	struct dev_pagemap *pgmap = &p->pgmap;
	int nid = dev_to_node(&p->pdev->dev);
	void *addr;
	int ret;

	INIT_WORK(&p->zero_work, p2pmem_zero_work);
	if (p->upstream)
		return p2pmem_up_init(p);
	p->npages = p->size >> PAGE_SHIFT;
	p->folio_pages = p2pmem_folio_pages(p->phys, p->size);
	p->owner = kvcalloc(p->npages, sizeof(*p->owner), GFP_KERNEL);
	if (!p->owner)
		return -ENOMEM;
	p->dirty = kvcalloc(BITS_TO_LONGS(p->npages), sizeof(long), GFP_KERNEL);
	if (!p->dirty) {
		ret = -ENOMEM;
		goto free_owner;
	}
	bitmap_fill(p->dirty, p->npages);

	pgmap->range.start = p->phys;
	pgmap->range.end = p->phys + p->size - 1;
	pgmap->nr_range = 1;
	pgmap->ops = &p2pmem_pgmap_ops;
	pgmap->vmemmap_shift = ilog2(p->folio_pages);
	/*
	 * Without CONFIG_PCI_P2PDMA nothing treats PCI_P2PDMA pages
	 * specially (is_pci_p2pdma_page() is constant false), and
	 * memremap_pages() maps this type uncached (UC-).  With it, the
	 * kernel takes such pages for upstream's own and looks up upstream's
	 * private data behind them, and no other type both reaches devices
	 * and comes back through ->page_free on every kernel (GENERIC pages
	 * stopped doing so in 6.15): there the pool is upstream's
	 * (upstream_pool.c).
	 */
	pgmap->type = MEMORY_DEVICE_PCI_P2PDMA;

	addr = memremap_pages(pgmap, nid);
	if (IS_ERR(addr)) {
		ret = PTR_ERR(addr);
		goto free_dirty;
	}
	p->kaddr = addr;
	/* 1 on 6.1 and 6.12; later kernels keep idle device folios at 0. */
	p->idle_ref = folio_ref_count(page_folio(virt_to_page(addr)));

	p->pool = gen_pool_create(PAGE_SHIFT, nid);
	if (!p->pool) {
		ret = -ENOMEM;
		goto unmap_pages;
	}
	ret = gen_pool_add_virt(p->pool, (unsigned long)addr, p->phys, p->size,
				nid);
	if (ret)
		goto destroy_pool;

	p->pool_live = true;
	p2pmem_pool_zero_kick(p);
	return 0;

destroy_pool:
	gen_pool_destroy(p->pool);
unmap_pages:
	memunmap_pages(pgmap);
free_dirty:
	kvfree(p->dirty);
free_owner:
	kvfree(p->owner);
	return ret;
}

/**
 * p2pmem_pool_exit - tear the pages and the pool down
 * @p: the provider; every page must be back (p2pmem_provider_remove()
 *	waits for that), the worker stopped
 */
void p2pmem_pool_exit(struct p2pmem_dev *p)
{
	size_t avail;

	p2pmem_pool_stop_zeroing(p);
	if (p->upstream) {
		p2pmem_up_exit(p);
		return;
	}
	p->pool_live = false;
	memunmap_pages(&p->pgmap);
	avail = gen_pool_avail(p->pool);
	if (avail == gen_pool_size(p->pool)) {
		gen_pool_destroy(p->pool);
	} else {
		/* gen_pool_destroy() would BUG(); a leak is the lesser evil. */
		dev_err(&p->dev, "pool still has %zu bytes allocated: leaking it\n",
			gen_pool_size(p->pool) - avail);
	}
	kvfree(p->dirty);
	kvfree(p->owner);
}
