// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem lifetime: taking a provider offline and removing it, safely.
 *
 * The memory belongs to a PCI function that can go away under us: unbound
 * from its driver (ours for memory cards, nvme's for CMBs), hot-removed, or
 * for a CMB disabled by a controller reset.  From the moment that is known:
 *
 *  1. the provider is marked offline: no new allocation succeeds;
 *  2. kernel clients are told (their removal callbacks) and must free;
 *  3. every user mapping is revoked with one unmap_mapping_range() on the
 *     provider's address_space, and the pool's references on mapped folios
 *     are dropped; a later access faults and gets SIGBUS, a later O_DIRECT
 *     through the old address gets EFAULT;
 *  4. removal then waits until every page is back: short-term pins (I/O in
 *     flight) drop within milliseconds; long-term pins (io_uring registered
 *     buffers, RDMA memory regions) hold it until their holders let go:
 *     poll() on any open file of the provider reports EPOLLHUP from step 3
 *     on, so that a holder knows when; those that do not are named in the
 *     log every few seconds;
 *     dma-bufs exported from the memory are revoked with the mappings:
 *     importers are told to unmap (move_notify), and each buffer's page
 *     references go with its last importer mapping (dmabuf.c);
 *  5. only then do the pages and the pool go (memunmap_pages() would wait
 *     silently, in D state, for the same pages).
 *
 * The CMBs of drives bound to the nvme driver are not ours to hold, so a
 * PCI bus notifier watches them: BUS_NOTIFY_UNBIND_DRIVER (sent before the
 * driver's remove, while the controller still works, so peers' in-flight
 * DMA completes) removes the provider, on an unbind as on a hot removal
 * (the PCI core stops a device, unbinding its driver, before it deletes
 * it); BUS_NOTIFY_DEL_DEVICE, which comes after that, only catches a
 * device deleted without a driver.  BUS_NOTIFY_BOUND_DRIVER arms a newly
 * bound drive's CMB.  The notifier returns at once for devices that are
 * not NVMe controllers, and never waits holding a lock that other
 * devices' notifications need.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/pci.h>

#include "p2pmem_internal.h"

#define P2PMEM_HOLDERS_SHOWN 8

/*
 * Run the kernel clients' removal callbacks, one at a time, without the
 * lock; p2pmem_unregister_removal() waits for the one that is running.
 */
static void p2pmem_call_removals(struct p2pmem_dev *p)
{
	struct p2pmem_removal *r;

	for (;;) {
		mutex_lock(&p->lock);
		r = list_first_entry_or_null(&p->removals,
					     struct p2pmem_removal, node);
		if (r) {
			list_del_init(&r->node);
			p->removal_running = r;
			p->removal_task = current;
		}
		mutex_unlock(&p->lock);
		if (!r)
			break;
		r->remove(r, p);
		mutex_lock(&p->lock);
		p->removal_running = NULL;
		p->removal_task = NULL;
		mutex_unlock(&p->lock);
		wake_up_all(&p->removal_wq);
	}
}

/* @count: a new revocation for stats/revocations, not a repeat of one */
static void p2pmem_revoke(struct p2pmem_dev *p, bool count)
{
	p2pmem_chardev_revoke(p);
	p2pmem_dmabuf_revoke(p);
	if (count)
		atomic64_inc(&p->stats.revocations);
	/*
	 * Long-term pins (io_uring registered buffers) outlive the unmap:
	 * their holders poll the file and let go when it reports EPOLLHUP.
	 */
	wake_up_all(&p->revoke_wq);
}

struct p2pmem_holder {
	unsigned long caller;
	unsigned long pages;
	unsigned long npages;
	unsigned long age;
	pid_t pid;
	char comm[TASK_COMM_LEN];
};

/* Name who still holds pages: the only way a removal can be stuck. */
static void p2pmem_log_holders(struct p2pmem_dev *p, unsigned long waited)
{
	struct p2pmem_holder h[P2PMEM_HOLDERS_SHOWN];
	struct p2pmem_allocation *rec;
	int i, n = 0, more = 0;

	spin_lock_irq(&p->alloc_lock);
	list_for_each_entry(rec, &p->allocs, node) {
		if (n == P2PMEM_HOLDERS_SHOWN) {
			more++;
			continue;
		}
		h[n].caller = rec->caller;
		h[n].pages = atomic_long_read(&rec->pages_out);
		h[n].npages = rec->npages;
		h[n].age = jiffies - rec->born;
		h[n].pid = rec->pid;
		memcpy(h[n].comm, rec->comm, sizeof(h[n].comm));
		n++;
	}
	spin_unlock_irq(&p->alloc_lock);

	if (atomic64_read(&p->stats.in_use))
		dev_warn(&p->dev, "removal has waited %u s for %lld bytes still in use\n",
			 jiffies_to_msecs(waited) / 1000,
			 (long long)atomic64_read(&p->stats.in_use));
	else	/* upstream's pages: only dma-bufs are left to wait for */
		dev_warn(&p->dev, "removal has waited %u s for dma-buf importers\n",
			 jiffies_to_msecs(waited) / 1000);
	for (i = 0; i < n; i++) {
		if (h[i].caller)
			dev_warn(&p->dev, "  %lu of %lu pages held by kernel client %pS (allocated by %s[%d] %u s ago)\n",
				 h[i].pages, h[i].npages, (void *)h[i].caller,
				 h[i].comm, h[i].pid,
				 jiffies_to_msecs(h[i].age) / 1000);
		else
			/*
			 * The pinner may be another process: a child, or one
			 * that got the pages through vmsplice or io_uring.
			 */
			dev_warn(&p->dev, "  %lu of %lu pages still pinned (io_uring buffer, RDMA MR, I/O); mapped %u s ago by %s[%d]\n",
				 h[i].pages, h[i].npages,
				 jiffies_to_msecs(h[i].age) / 1000, h[i].comm,
				 h[i].pid);
	}
	if (more)
		dev_warn(&p->dev, "  and %d more allocations\n", more);
	p2pmem_dmabuf_log_holders(p);
}

static void p2pmem_wait_idle(struct p2pmem_dev *p)
{
	unsigned long start = jiffies, timeout = HZ;

	/*
	 * TASK_IDLE: a stuck holder must not trip the hung task detector.
	 * Each time the wait runs out, revoke again: cheap, and it closes
	 * any window a future path might open between offline and unmap.
	 */
	while (!wait_event_idle_timeout(p->idle_wq,
					!atomic64_read(&p->stats.in_use) &&
					!atomic_read(&p->dmabufs_held),
					timeout)) {
		p2pmem_revoke(p, false);
		p2pmem_log_holders(p, jiffies - start);
		timeout = 5 * HZ;
	}
	if (time_after(jiffies, start + HZ))
		dev_info(&p->dev, "all pages back after %u ms\n",
			 jiffies_to_msecs(jiffies - start));
}

/**
 * p2pmem_provider_offline - stop handing out a provider's memory
 * @p: the provider
 * @why: for the log
 *
 * Context: process context, may sleep (kernel clients' callbacks).
 *
 * Revokes the user mappings and asks kernel clients to free; the pages
 * come back to the pool as their users let go.  The provider stays
 * registered, with state "offline", until it is removed.
 */
void p2pmem_provider_offline(struct p2pmem_dev *p, const char *why)
{
	mutex_lock(&p->lock);
	if (p->state != P2PMEM_ONLINE) {
		mutex_unlock(&p->lock);
		return;
	}
	WRITE_ONCE(p->state, P2PMEM_OFFLINE);
	mutex_unlock(&p->lock);

	dev_warn(&p->dev, "offline: %s; revoking its mappings\n", why);
	/* The memory must not be touched any more, not even to clear it. */
	p2pmem_pool_stop_zeroing(p);
	p2pmem_call_removals(p);
	p2pmem_revoke(p, true);
}

/**
 * p2pmem_provider_remove - remove a provider for good
 * @p: the provider
 *
 * Returns once no page of the provider is in use any more and its pages
 * are gone; the structure itself lives on while files hold it.
 *
 * Context: process context; sleeps until every page is back.
 */
void p2pmem_provider_remove(struct p2pmem_dev *p)
{
	unsigned long start = jiffies, revoked, idle;

	mutex_lock(&p->lock);
	WRITE_ONCE(p->removing, true);
	WRITE_ONCE(p->state, P2PMEM_OFFLINE);
	mutex_unlock(&p->lock);

	p2pmem_registry_del(p);
	/* The node and the sysfs directory go; open files keep the device. */
	if (p->upstream)
		sysfs_remove_link(&p->dev.kobj, "device");
	cdev_device_del(&p->cdev, &p->dev);
	p2pmem_pool_stop_zeroing(p);
	p2pmem_call_removals(p);
	p2pmem_revoke(p, true);
	revoked = jiffies;
	p2pmem_wait_idle(p);
	idle = jiffies;
	WRITE_ONCE(p->state, P2PMEM_DEAD);
	p2pmem_pool_exit(p);
	dev_info(&p->dev, "removed in %u ms (revoke %u, wait for pages %u, unmap pages %u)\n",
		 jiffies_to_msecs(jiffies - start),
		 jiffies_to_msecs(revoked - start),
		 jiffies_to_msecs(idle - revoked),
		 jiffies_to_msecs(jiffies - idle));
	if (p->ops->release)
		p->ops->release(p);
	put_device(&p->dev);
}

static int p2pmem_bus_notify(struct notifier_block *nb, unsigned long action,
			     void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);

	switch (action) {
	case BUS_NOTIFY_BOUND_DRIVER:
		p2pmem_cmb_bound(pdev);
		break;
	case BUS_NOTIFY_UNBIND_DRIVER:
	case BUS_NOTIFY_DEL_DEVICE:
		p2pmem_cmb_unbind(pdev);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block p2pmem_bus_nb = {
	.notifier_call = p2pmem_bus_notify,
};

int p2pmem_lifetime_init(void)
{
	return bus_register_notifier(&pci_bus_type, &p2pmem_bus_nb);
}

void p2pmem_lifetime_exit(void)
{
	bus_unregister_notifier(&pci_bus_type, &p2pmem_bus_nb);
}
