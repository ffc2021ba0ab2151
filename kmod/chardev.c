// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/p2pmemN: the userspace face of a provider (kmod/uapi/p2pmem.h).
 *
 * An open file may first declare the devices that will DMA to or from the
 * memory (P2PMEM_IOC_SET_CLIENTS); the distance rule and the DMA fences
 * judge them once, here, so that a refusal comes with its reason at the
 * point where a person can act on it.  Then every mmap(MAP_SHARED, offset 0)
 * is one zeroed allocation, like upstream's p2pmem/allocate.
 *
 * A file that declared nothing maps all the same, unchecked: programs
 * written for the original p2pmem-pci driver (open, mmap, O_DIRECT) know no
 * declaration, and the module cannot guess which device will use the
 * memory.  On kernels without P2PDMA nothing else checks it either (our
 * pages are RAM to the DMA API); on P2PDMA kernels the pages are
 * upstream's, whose DMA mapping judges each client per I/O.  The log says
 * so once per file.
 *
 * Revocation: every file of a provider, whatever node it was opened
 * through, gets the provider's own address_space as f_mapping (the way
 * /dev/mem does it), so all its mappings hang off one i_mmap tree and one
 * unmap_mapping_range() takes them all down.  mmap() only allocates and
 * clears; the pages go into the page tables at the first fault, under the
 * provider lock.  Inserting them in ->mmap would race with removal: the
 * VMA joins the i_mmap tree only after ->mmap returns, so a revocation in
 * between would miss PTEs that were already there.  A fault comes after
 * that, and takes the lock that taking the provider offline takes.
 *
 * Each mapping (struct p2pmem_mapping, shared by the VMAs split or forked
 * from it) holds the pool's reference on each of its folios until its last
 * VMA goes or the provider is revoked; mapped and pinned pages hold their
 * own.  So a fault may insert again what the process zapped itself
 * (MADV_DONTNEED), and a revocation gives back everything nobody pins.
 * Long-term pins taken before (io_uring registered buffers) are not undone
 * by a revocation: poll() tells their holders to let go.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/fs.h>
#include <linux/fs_context.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mount.h>
#include <linux/poll.h>
#include <linux/pseudo_fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "p2pmem_internal.h"

#define P2PMEM_FS_MAGIC 0x70326d6d	/* "p2mm" */
#define P2PMEM_INSERT_BATCH 64

dev_t p2pmem_devt;
static struct vfsmount *p2pmem_mnt;

struct p2pmem_file {
	struct p2pmem_dev *p;
	struct mutex lock;		/* the declaration */
	bool declared;
	bool undeclared_logged;		/* mapped without one: said so */
	int distance;
	enum p2pmem_map_type map;
};

static int p2pmem_refuse(struct p2pmem_dev *p, int err, const char *why)
{
	atomic64_inc(&p->stats.failures);
	dev_info_ratelimited(&p->dev, "%s[%d]: mmap refused (%d): %s\n",
			     current->comm, task_pid_nr(current), err, why);
	return err;
}

/*
 * One mmap() of the device: an allocation of whole folios.  @users counts
 * the VMAs sharing it (split, forked, moved); @released says the pool's
 * folio references are gone (last VMA closed, or revoked).
 */
struct p2pmem_mapping {
	struct list_head node;		/* p->mappings, under p->lock */
	refcount_t users;
	struct p2pmem_dev *p;
	struct p2pmem_allocation *alloc;	/* upstream pools: its record */
	void *kaddr;
	unsigned long npages;
	bool released;
};

/* Drop the pool's reference on each folio; p->lock held. */
static void p2pmem_mapping_release(struct p2pmem_mapping *m)
{
	struct p2pmem_dev *p = m->p;
	unsigned long i;

	lockdep_assert_held(&p->lock);
	if (m->released)
		return;
	m->released = true;
	/* Unpinned, unmapped folios go back to the pool through page_free. */
	for (i = 0; i < m->npages; i += p->folio_pages)
		folio_put(page_folio(virt_to_page(m->kaddr + (i << PAGE_SHIFT))));
	/* Upstream's pool: the pages go back on their own, the record now. */
	if (p->upstream)
		p2pmem_up_forget(p, m->alloc);
}

/**
 * p2pmem_chardev_revoke - take every user mapping of a provider down
 * @p: the provider, already offline (so no fault inserts pages again)
 *
 * Context: process context, may sleep; p->lock not held.
 */
void p2pmem_chardev_revoke(struct p2pmem_dev *p)
{
	struct p2pmem_mapping *m;

	/* All mappings start at offset 0: 0, 0 covers every one of them. */
	unmap_mapping_range(p->inode->i_mapping, 0, 0, 1);
	mutex_lock(&p->lock);
	list_for_each_entry(m, &p->mappings, node)
		p2pmem_mapping_release(m);
	mutex_unlock(&p->lock);
}

static const struct vm_operations_struct p2pmem_vm_ops;

/**
 * p2pmem_chardev_get_range - take a reference on the pages of a user range
 * @p: the provider
 * @uaddr: start of the range in the current process, inside one mapping of
 *	@p (any open file of it)
 * @len: bytes from @uaddr
 * @kaddr: out: the range's address in the pool
 *
 * One folio reference per page, dropped with folio_put() on each page's
 * folio: the pages stay allocated while they are held, as with a pin.
 *
 * Context: process context; takes the mmap lock and p->lock.
 * Return: 0, -EINVAL (no such mapping of @p, or the range leaves it),
 * -ENODEV (offline, or the mapping was revoked).
 */
int p2pmem_chardev_get_range(struct p2pmem_dev *p, unsigned long uaddr,
			     size_t len, void **kaddr)
{
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	struct p2pmem_mapping *m;
	unsigned long off, i;
	int ret = -EINVAL;

	if (!mm)
		return -EINVAL;
	mmap_read_lock(mm);
	vma = vma_lookup(mm, uaddr);
	if (!vma || vma->vm_ops != &p2pmem_vm_ops || len > vma->vm_end - uaddr)
		goto unlock_mm;
	m = vma->vm_private_data;
	if (m->p != p)
		goto unlock_mm;
	off = (vma->vm_pgoff << PAGE_SHIFT) + (uaddr - vma->vm_start);
	if (off + len > m->npages << PAGE_SHIFT)
		goto unlock_mm;
	mutex_lock(&p->lock);
	if (!p2pmem_online(p) || m->released) {
		ret = -ENODEV;
		goto unlock;
	}
	*kaddr = m->kaddr + off;
	for (i = 0; i < len >> PAGE_SHIFT; i++)
		folio_get(page_folio(virt_to_page(*kaddr + (i << PAGE_SHIFT))));
	ret = 0;
unlock:
	mutex_unlock(&p->lock);
unlock_mm:
	mmap_read_unlock(mm);
	return ret;
}

/*
 * Insert the pages of the faulting VMA, all of them: one fault per mapping.
 * Pages already mapped (the rest of a VMA after MADV_DONTNEED of a part)
 * are skipped.
 */
static vm_fault_t p2pmem_vm_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct p2pmem_mapping *m = vma->vm_private_data;
	struct page *pages[P2PMEM_INSERT_BATCH];
	unsigned long npages = vma_pages(vma), done = 0, i, n, left;
	struct p2pmem_dev *p = m->p;
	vm_fault_t ret = VM_FAULT_NOPAGE;
	int err;

	mutex_lock(&p->lock);
	/* Revoked (offline), or released: the process lost it for good. */
	if (!p2pmem_online(p) || m->released ||
	    vma->vm_pgoff + npages > m->npages) {
		ret = VM_FAULT_SIGBUS;
		goto unlock;
	}
	while (done < npages) {
		n = min_t(unsigned long, npages - done, P2PMEM_INSERT_BATCH);
		for (i = 0; i < n; i++)
			pages[i] = virt_to_page(m->kaddr +
						((vma->vm_pgoff + done + i) << PAGE_SHIFT));
		left = n;
		err = vm_insert_pages(vma, vma->vm_start + (done << PAGE_SHIFT),
				      pages, &left);
		done += n - left;
		if (err == -EBUSY) {
			done++;		/* already mapped */
		} else if (err) {
			ret = err == -ENOMEM ? VM_FAULT_OOM : VM_FAULT_SIGBUS;
			break;
		}
	}
unlock:
	mutex_unlock(&p->lock);
	return ret;
}

static void p2pmem_vm_open(struct vm_area_struct *vma)
{
	struct p2pmem_mapping *m = vma->vm_private_data;

	refcount_inc(&m->users);
}

static void p2pmem_vm_close(struct vm_area_struct *vma)
{
	struct p2pmem_mapping *m = vma->vm_private_data;
	struct p2pmem_dev *p = m->p;

	if (!refcount_dec_and_test(&m->users))
		return;
	mutex_lock(&p->lock);
	list_del(&m->node);
	p2pmem_mapping_release(m);
	mutex_unlock(&p->lock);
	kfree(m);
}

static const struct vm_operations_struct p2pmem_vm_ops = {
	.open = p2pmem_vm_open,
	.close = p2pmem_vm_close,
	.fault = p2pmem_vm_fault,
};

/*
 * Ready the folios of a new allocation for mapping: the pool holds one
 * reference on each (idle folios are at 0 on kernels after 6.12), and each
 * names the provider's address_space, as device DAX does: GUP-fast refuses
 * a folio without one (it cannot tell it from secretmem), and every
 * O_DIRECT through the mapping would walk the page tables under mmap_lock.
 * page_free clears it again.  Upstream's pages (upstream_pool.c) get their
 * pagemap references for the way back first.
 */
static void p2pmem_prepare_folios(struct p2pmem_dev *p, struct file *filp,
				  struct p2pmem_allocation *a, void *kaddr,
				  unsigned long npages)
{
	struct folio *folio;
	unsigned long i;

	if (p->upstream)
		p2pmem_up_hand_over(p, a);
	for (i = 0; i < npages; i += p->folio_pages) {
		folio = page_folio(virt_to_page(kaddr + (i << PAGE_SHIFT)));
		if (!folio_ref_count(folio))
			folio_set_count(folio, 1);
		folio->mapping = filp->f_mapping;
		folio->index = i;
	}
}

/*
 * A mapping of a file that declared no clients: nothing judged who will
 * DMA to it.  Said once per file, so that whoever chases wrong data or DMA
 * errors learns that no rule was applied (ratelimited with the other lines
 * an opener of the node can cause).
 */
static void p2pmem_note_undeclared(struct p2pmem_file *pf)
{
	struct p2pmem_dev *p = pf->p;
	bool first;

	mutex_lock(&pf->lock);
	first = !pf->declared && !pf->undeclared_logged;
	pf->undeclared_logged |= first;
	mutex_unlock(&pf->lock);
	if (!first || !__ratelimit(&p->log_rs))
		return;
	/* Upstream's pages: its DMA mapping still judges each device. */
	if (p->upstream)
		dev_info(&p->dev, "%s[%d]: no clients declared: p2pmem's distance rule and DMA fences not applied to this file's mappings; upstream P2PDMA checks each device when it maps the pages for DMA\n",
			 current->comm, task_pid_nr(current));
	else
		dev_info(&p->dev, "%s[%d]: no clients declared: the distance rule and DMA fences not applied to this file's mappings; any device DMAs to them as to RAM, unchecked\n",
			 current->comm, task_pid_nr(current));
}

static int p2pmem_mmap(struct file *filp, struct vm_area_struct *vma)
{
	struct p2pmem_file *pf = filp->private_data;
	struct p2pmem_dev *p = pf->p;
	size_t len = vma->vm_end - vma->vm_start;
	struct p2pmem_allocation *a;
	struct p2pmem_mapping *m;
	size_t avail, alloc;
	void *kaddr;
	int ret;

	if (!(vma->vm_flags & VM_MAYSHARE))
		return p2pmem_refuse(p, -EINVAL,
				     "MAP_PRIVATE (p2p memory is mapped MAP_SHARED)");
	if (vma->vm_pgoff)
		return p2pmem_refuse(p, -EINVAL,
				     "non-zero offset (each mmap at offset 0 is one allocation)");
	if (vma->vm_flags & VM_EXEC)
		return p2pmem_refuse(p, -EPERM, "PROT_EXEC (device memory is data)");
	/* Declared clients were judged by P2PMEM_IOC_SET_CLIENTS already. */
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return -ENOMEM;

	mutex_lock(&p->lock);
	if (!p2pmem_online(p)) {
		ret = p2pmem_refuse(p, -ENODEV, "provider offline");
		goto unlock;
	}
	/* The provider's watcher takes it offline; refuse right away. */
	if (p->ops->check && !p->ops->check(p)) {
		ret = p2pmem_refuse(p, -ENODEV,
				    "provider failed its check (CMB disabled?)");
		goto unlock;
	}
	if (!READ_ONCE(p->published)) {
		ret = p2pmem_refuse(p, -EACCES,
				    "provider reserved (write 1 to published to offer it)");
		goto unlock;
	}
	/* Whole folios: their head pages carry the reference counts. */
	alloc = round_up(len, p->folio_pages << PAGE_SHIFT);
	kaddr = p2pmem_pool_alloc(p, alloc, p->folio_pages << PAGE_SHIFT, &a, 0);
	if (!kaddr) {
		avail = p2pmem_pool_available(p);
		atomic64_inc(&p->stats.failures);
		if (p->upstream && __ratelimit(&p->log_rs))
			dev_info(&p->dev, "%s[%d]: mmap refused (%d): %zu bytes asked, more than upstream's pool has free in one range (%s/p2pmem/available)\n",
				 current->comm, task_pid_nr(current), -ENOMEM,
				 alloc, pci_name(p->pdev));
		else if (__ratelimit(&p->log_rs))
			dev_info(&p->dev, "%s[%d]: mmap refused (%d): %zu bytes asked, %zu of %zu available%s\n",
				 current->comm, task_pid_nr(current), -ENOMEM, alloc,
				 avail, p->size, avail >= alloc ? " but fragmented" : "");
		ret = -ENOMEM;
		goto unlock;
	}
	mutex_unlock(&p->lock);

	/* Cleared without the lock: long, and a fatal signal ends it. */
	ret = p2pmem_pool_zero(p, a);

	mutex_lock(&p->lock);
	if (!ret && !p2pmem_online(p))
		ret = -ENODEV;		/* went offline meanwhile */
	if (ret) {
		p2pmem_pool_put_pages(p, a->first, alloc >> PAGE_SHIFT);
		goto unlock;
	}
	p2pmem_prepare_folios(p, filp, a, kaddr, alloc >> PAGE_SHIFT);
	refcount_set(&m->users, 1);
	m->p = p;
	m->alloc = a;
	m->kaddr = kaddr;
	m->npages = alloc >> PAGE_SHIFT;
	list_add_tail(&m->node, &p->mappings);
	mutex_unlock(&p->lock);

	/*
	 * Pages with struct pages, no growth by mremap, no core dumps, never
	 * executable.
	 */
	p2pmem_vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND | VM_DONTDUMP);
	p2pmem_vm_flags_clear(vma, VM_MAYEXEC);
	/*
	 * vm_insert_page() takes the cache mode from vm_page_prot: keep the
	 * user mapping as uncached as the kernel's linear map of the BAR.
	 */
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vma->vm_ops = &p2pmem_vm_ops;
	vma->vm_private_data = m;
	p2pmem_note_undeclared(pf);
	return 0;

unlock:
	mutex_unlock(&p->lock);
	kfree(m);
	return ret;
}

static int p2pmem_set_clients(struct p2pmem_file *pf,
			      struct p2pmem_clients __user *uarg)
{
	struct pci_dev *clients[P2PMEM_MAX_CLIENTS];
	struct p2pmem_dev *p = pf->p;
	u32 ids[P2PMEM_MAX_CLIENTS];
	struct p2pmem_clients req;
	enum p2pmem_map_type map;
	int i, n = 0, ret, dist;
	char who[TASK_COMM_LEN + 16];

	if (copy_from_user(&req, uarg, sizeof(req)))
		return -EFAULT;
	if (req.flags || !req.nclients || req.nclients > P2PMEM_MAX_CLIENTS)
		return -EINVAL;
	if (copy_from_user(ids, u64_to_user_ptr(req.clients),
			   req.nclients * sizeof(ids[0])))
		return -EFAULT;

	for (n = 0; n < req.nclients; n++) {
		clients[n] = pci_get_domain_bus_and_slot(ids[n] >> 16,
							 (ids[n] >> 8) & 0xff,
							 ids[n] & 0xff);
		if (!clients[n]) {
			if (__ratelimit(&p->log_rs))
				dev_info(&p->dev, "%s[%d]: no PCI function %04x:%02x:%02x.%d to declare as a client\n",
					 current->comm, task_pid_nr(current),
					 ids[n] >> 16, (ids[n] >> 8) & 0xff,
					 PCI_SLOT(ids[n] & 0xff),
					 PCI_FUNC(ids[n] & 0xff));
			ret = -ENODEV;
			goto put_clients;
		}
	}

	/* Whoever may open the node can ask: its reasons are ratelimited. */
	snprintf(who, sizeof(who), "%s[%d]", current->comm,
		 task_pid_nr(current));
	ret = p2pmem_check_clients(p, clients, n, &dist, &map,
				   __ratelimit(&p->log_rs) ? who : NULL);
	if (ret)
		goto put_clients;

	/* The caller learns the answer, or nothing is declared. */
	req.distance = dist;
	req.map_type = map;
	if (copy_to_user(uarg, &req, sizeof(req))) {
		ret = -EFAULT;
		goto put_clients;
	}
	mutex_lock(&pf->lock);
	pf->declared = true;
	pf->distance = dist;
	pf->map = map;
	mutex_unlock(&pf->lock);

put_clients:
	for (i = 0; i < n; i++)
		pci_dev_put(clients[i]);
	return ret;
}

/*
 * EPOLLHUP once the provider is offline: its mappings are revoked, and a
 * holder of long-term pins on its pages (io_uring registered buffers)
 * must stop using them and let go, or removal waits for it.
 */
static __poll_t p2pmem_poll(struct file *filp, poll_table *wait)
{
	struct p2pmem_file *pf = filp->private_data;

	poll_wait(filp, &pf->p->revoke_wq, wait);
	return p2pmem_online(pf->p) ? 0 : EPOLLHUP | EPOLLERR;
}

static long p2pmem_ioctl(struct file *filp, unsigned int cmd,
			 unsigned long arg)
{
	struct p2pmem_file *pf = filp->private_data;

	if (READ_ONCE(pf->p->state) == P2PMEM_DEAD)
		return -ENODEV;
	switch (cmd) {
	case P2PMEM_IOC_SET_CLIENTS:
		return p2pmem_set_clients(pf, (void __user *)arg);
	case P2PMEM_IOC_EXPORT_DMABUF: {
		struct p2pmem_dmabuf_req req;

		if (copy_from_user(&req, (void __user *)arg, sizeof(req)))
			return -EFAULT;
		return p2pmem_dmabuf_export_range(pf->p, &req);
	}
	default:
		return -ENOTTY;
	}
}

static int p2pmem_open(struct inode *inode, struct file *filp)
{
	struct p2pmem_dev *p = container_of(inode->i_cdev, struct p2pmem_dev,
					    cdev);
	struct p2pmem_file *pf;

	if (READ_ONCE(p->state) == P2PMEM_DEAD)
		return -ENODEV;
	pf = kzalloc(sizeof(*pf), GFP_KERNEL);
	if (!pf)
		return -ENOMEM;
	mutex_init(&pf->lock);
	pf->p = p;
	get_device(&p->dev);
	filp->private_data = pf;
	filp->f_mapping = p->inode->i_mapping;
	return 0;
}

static int p2pmem_release(struct inode *inode, struct file *filp)
{
	struct p2pmem_file *pf = filp->private_data;

	put_device(&pf->p->dev);
	kfree(pf);
	return 0;
}

static const struct file_operations p2pmem_fops = {
	.owner = THIS_MODULE,
	.open = p2pmem_open,
	.release = p2pmem_release,
	.mmap = p2pmem_mmap,
	.poll = p2pmem_poll,
	.unlocked_ioctl = p2pmem_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

/*
 * The provider's address_space lives in an inode of our own little pseudo
 * filesystem (like /dev/mem's and DAX's).  No .owner: a module reference
 * from the internal mount would keep the module loaded forever.
 */
static int p2pmem_init_fs_context(struct fs_context *fc)
{
	return init_pseudo(fc, P2PMEM_FS_MAGIC) ? 0 : -ENOMEM;
}

static struct file_system_type p2pmem_fs_type = {
	.name = "p2pmem",
	.init_fs_context = p2pmem_init_fs_context,
	.kill_sb = kill_anon_super,
};

int p2pmem_chardev_setup(struct p2pmem_dev *p)
{
	struct inode *inode;

	inode = alloc_anon_inode(p2pmem_mnt->mnt_sb);
	if (IS_ERR(inode))
		return PTR_ERR(inode);
	p->inode = inode;
	cdev_init(&p->cdev, &p2pmem_fops);
	p->cdev.owner = THIS_MODULE;
	return 0;
}

void p2pmem_chardev_release(struct p2pmem_dev *p)
{
	if (p->inode)
		iput(p->inode);
}

int p2pmem_chardev_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&p2pmem_devt, 0, P2PMEM_MAX_DEVS, "p2pmem");
	if (ret)
		return ret;
	p2pmem_mnt = kern_mount(&p2pmem_fs_type);
	if (IS_ERR(p2pmem_mnt)) {
		ret = PTR_ERR(p2pmem_mnt);
		goto unregister_region;
	}
	return 0;

unregister_region:
	unregister_chrdev_region(p2pmem_devt, P2PMEM_MAX_DEVS);
	return ret;
}

void p2pmem_chardev_exit(void)
{
	kern_unmount(p2pmem_mnt);
	unregister_chrdev_region(p2pmem_devt, P2PMEM_MAX_DEVS);
}
