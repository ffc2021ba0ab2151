// SPDX-License-Identifier: GPL-2.0
/*
 * dma-buf export of p2p memory: how a NIC or GPU driver takes another
 * device's memory today (RDMA: ib_umem_dmabuf, ibv_reg_dmabuf_mr; GPUs:
 * their PRIME import).  On kernels without CONFIG_PCI_P2PDMA nothing else
 * exports p2p memory; here a process turns part of a /dev/p2pmemN mapping
 * into a dma-buf fd (P2PMEM_IOC_EXPORT_DMABUF) and hands it to an importer.
 *
 * The buffer holds a reference on every page of the range, as a long-term
 * pin does: the memory stays allocated (and zeroed when it was handed out)
 * while the fd or an importer's attachment lives, even after munmap.
 *
 * attach judges the importer's device with the provider's distance rule and
 * DMA fences (the same as P2PMEM_IOC_SET_CLIENTS) and refuses an importer
 * that did not say it handles memory without struct pages (peer2peer):
 * such an importer would look for pages, or bounce the data through RAM.
 * map_dma_buf hands out bus addresses where the path turns below a common
 * bridge and dma_map_resource() mappings where it crosses the host bridge,
 * as p2pmem_dma_map() does; the scatterlist carries no pages.
 *
 * Revocation (the provider goes offline or away): every buffer is marked
 * revoked under its reservation lock, importers are told to drop their
 * mappings (move_notify; invalidate_mappings from 7.x), new maps fail with
 * ENODEV, and the page references go as soon as no mapping is left, so
 * that removal can finish.  An importer that cannot be told (no
 * notification callback) keeps its mapping until it unmaps: removal waits,
 * and names the buffer's exporter and the importer in the log.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/dma-buf.h>
#include <linux/dma-mapping.h>
#include <linux/dma-resv.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "p2pmem_internal.h"

P2PMEM_IMPORT_DMA_BUF_NS;

struct p2pmem_dmabuf {
	struct p2pmem_dev *p;		/* a device reference */
	struct dma_buf *dmabuf;
	struct list_head node;		/* p->dmabufs, under p->lock */
	void *kaddr;			/* the range in the pool */
	unsigned long npages;
	/* under the reservation lock */
	bool revoked;
	bool pages_held;
	bool kernel;			/* p2pmem_alloc()ed: freed, not put */
	unsigned int maps;		/* live mappings of importers */
	pid_t pid;			/* the exporter, for the log */
	char comm[TASK_COMM_LEN];
};

/* What attach decided for one importer. */
struct p2pmem_dmabuf_attachment {
	struct pci_dev *pdev;		/* the importer's PCI function */
	enum p2pmem_map_type map;
};

/* Drop the references p2pmem_chardev_get_range() took: one per page. */
static void p2pmem_put_range(void *kaddr, unsigned long npages)
{
	unsigned long i;

	for (i = 0; i < npages; i++)
		folio_put(page_folio(virt_to_page(kaddr + (i << PAGE_SHIFT))));
}

static void p2pmem_dmabuf_put_pages(struct p2pmem_dmabuf *db)
{
	if (!db->pages_held)
		return;
	db->pages_held = false;
	if (db->kernel)
		p2pmem_free(db->p, db->kaddr, db->npages << PAGE_SHIFT);
	else
		p2pmem_put_range(db->kaddr, db->npages);
	/*
	 * Upstream's pages leave our stats when their mapping goes: removal
	 * also waits for this count (and names the importers meanwhile).
	 */
	if (atomic_dec_and_test(&db->p->dmabufs_held))
		wake_up_all(&db->p->idle_wq);
}

static int p2pmem_dmabuf_attach(struct dma_buf *dmabuf,
				struct dma_buf_attachment *attach)
{
	struct p2pmem_dmabuf *db = dmabuf->priv;
	struct p2pmem_dev *p = db->p;
	struct p2pmem_dmabuf_attachment *pa;
	char who[TASK_COMM_LEN + 40];
	enum p2pmem_map_type map;
	struct pci_dev *pdev;
	int dist, ret;

	pdev = p2pmem_find_parent_pci_dev(attach->dev);
	if (!pdev) {
		dev_info_ratelimited(&p->dev, "dma-buf of %s[%d]: importer %s refused: not a PCI device\n",
				     db->comm, db->pid, dev_name(attach->dev));
		return -EREMOTEIO;
	}
	if (!attach->peer2peer) {
		dev_info_ratelimited(&p->dev, "dma-buf of %s[%d]: importer %s refused: it does not accept peer-to-peer memory (allow_peer2peer not set)\n",
				     db->comm, db->pid, pci_name(pdev));
		ret = -EOPNOTSUPP;
		goto put_pdev;
	}
	if (!p2pmem_online(p)) {
		dev_info_ratelimited(&p->dev, "dma-buf of %s[%d]: importer %s refused: provider offline\n",
				     db->comm, db->pid, pci_name(pdev));
		ret = -ENODEV;
		goto put_pdev;
	}
	/* The rule's reasons go to the log, ratelimited with the node's. */
	snprintf(who, sizeof(who), "dma-buf of %s[%d]", db->comm, db->pid);
	ret = p2pmem_check_clients(p, &pdev, 1, &dist, &map,
				   __ratelimit(&p->log_rs) ? who : NULL);
	if (ret)
		goto put_pdev;
	pa = kzalloc(sizeof(*pa), GFP_KERNEL);
	if (!pa) {
		ret = -ENOMEM;
		goto put_pdev;
	}
	pa->pdev = pdev;
	pa->map = map;
	attach->priv = pa;
	dev_dbg(&p->dev, "%s: importer %s attached, distance %d\n", who,
		pci_name(pdev), dist);
	return 0;

put_pdev:
	pci_dev_put(pdev);
	return ret;
}

static void p2pmem_dmabuf_detach(struct dma_buf *dmabuf,
				 struct dma_buf_attachment *attach)
{
	struct p2pmem_dmabuf_attachment *pa = attach->priv;

	pci_dev_put(pa->pdev);
	kfree(pa);
}

/* Pinning is what mapping needs anyway: refused once revoked. */
static int p2pmem_dmabuf_pin(struct dma_buf_attachment *attach)
{
	struct p2pmem_dmabuf *db = attach->dmabuf->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	return db->revoked ? -ENODEV : 0;
}

static void p2pmem_dmabuf_unpin(struct dma_buf_attachment *attach)
{
}

static struct sg_table *p2pmem_dmabuf_map(struct dma_buf_attachment *attach,
					  enum dma_data_direction dir)
{
	struct p2pmem_dmabuf *db = attach->dmabuf->priv;
	struct p2pmem_dmabuf_attachment *pa = attach->priv;
	struct p2pmem_dev *p = db->p;
	size_t len = db->npages << PAGE_SHIFT;
	phys_addr_t phys = p->phys + (db->kaddr - p->kaddr);
	struct sg_table *sgt;
	dma_addr_t dma;
	int ret;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (db->revoked)
		return ERR_PTR(-ENODEV);
	sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table(sgt, 1, GFP_KERNEL);
	if (ret)
		goto free_sgt;
	if (pa->map == P2PMEM_MAP_BUS_ADDR) {
		/* Bus address == CPU address: enforced at registration. */
		dma = phys;
	} else {
		/* Through the root complex: an IOVA behind a translating IOMMU. */
		dma = dma_map_resource(&pa->pdev->dev, phys, len, dir,
				       DMA_ATTR_SKIP_CPU_SYNC);
		if (dma_mapping_error(&pa->pdev->dev, dma)) {
			ret = -EIO;
			goto free_table;
		}
	}
	/* No pages: the importer said it handles peer memory without them. */
	sg_dma_address(sgt->sgl) = dma;
	sg_dma_len(sgt->sgl) = len;
	db->maps++;
	return sgt;

free_table:
	sg_free_table(sgt);
free_sgt:
	kfree(sgt);
	return ERR_PTR(ret);
}

static void p2pmem_dmabuf_unmap(struct dma_buf_attachment *attach,
				struct sg_table *sgt,
				enum dma_data_direction dir)
{
	struct p2pmem_dmabuf *db = attach->dmabuf->priv;
	struct p2pmem_dmabuf_attachment *pa = attach->priv;

	dma_resv_assert_held(attach->dmabuf->resv);
	if (pa->map == P2PMEM_MAP_HOST_BRIDGE)
		dma_unmap_resource(&pa->pdev->dev, sg_dma_address(sgt->sgl),
				   sg_dma_len(sgt->sgl), dir,
				   DMA_ATTR_SKIP_CPU_SYNC);
	sg_free_table(sgt);
	kfree(sgt);
	/* The last mapping of a revoked buffer: removal may go on. */
	if (!--db->maps && db->revoked)
		p2pmem_dmabuf_put_pages(db);
}

static void p2pmem_dmabuf_release(struct dma_buf *dmabuf)
{
	struct p2pmem_dmabuf *db = dmabuf->priv;
	struct p2pmem_dev *p = db->p;

	mutex_lock(&p->lock);
	list_del(&db->node);
	mutex_unlock(&p->lock);
	/* No attachment is left: nobody else takes the lock now. */
	p2pmem_dmabuf_put_pages(db);
	put_device(&p->dev);
	kfree(db);
}

static const struct dma_buf_ops p2pmem_dmabuf_ops = {
	.attach = p2pmem_dmabuf_attach,
	.detach = p2pmem_dmabuf_detach,
	.pin = p2pmem_dmabuf_pin,
	.unpin = p2pmem_dmabuf_unpin,
	.map_dma_buf = p2pmem_dmabuf_map,
	.unmap_dma_buf = p2pmem_dmabuf_unmap,
	.release = p2pmem_dmabuf_release,
};

/*
 * A buffer over @kaddr.  The caller's page references (@kernel: its
 * allocation) pass to the buffer, on failure too: they are dropped here.
 */
static struct dma_buf *p2pmem_dmabuf_new(struct p2pmem_dev *p, void *kaddr,
					 size_t len, bool kernel)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct p2pmem_dmabuf *db;
	struct dma_buf *dmabuf;
	int ret;

	db = kzalloc(sizeof(*db), GFP_KERNEL);
	if (!db) {
		ret = -ENOMEM;
		goto drop_pages;
	}
	db->p = p;
	db->kaddr = kaddr;
	db->npages = len >> PAGE_SHIFT;
	db->pages_held = true;
	db->kernel = kernel;
	db->pid = task_tgid_nr(current);
	get_task_comm(db->comm, current);
	INIT_LIST_HEAD(&db->node);

	exp_info.ops = &p2pmem_dmabuf_ops;
	exp_info.size = len;
	exp_info.flags = O_RDWR;
	exp_info.priv = db;
	dmabuf = dma_buf_export(&exp_info);
	if (IS_ERR(dmabuf)) {
		ret = PTR_ERR(dmabuf);
		goto free_db;
	}
	db->dmabuf = dmabuf;
	get_device(&p->dev);
	atomic_inc(&p->dmabufs_held);
	/*
	 * Listed only while online, under the lock that going offline takes:
	 * a buffer made after revocation walked the list would never be
	 * revoked, and removal would wait for its pages until the fd closed.
	 */
	mutex_lock(&p->lock);
	if (!p2pmem_online(p)) {
		mutex_unlock(&p->lock);
		dma_buf_put(dmabuf);	/* release() drops pages and device */
		return ERR_PTR(-ENODEV);
	}
	list_add_tail(&db->node, &p->dmabufs);
	mutex_unlock(&p->lock);
	return dmabuf;

free_db:
	kfree(db);
drop_pages:
	if (kernel)
		p2pmem_free(p, kaddr, len);
	else
		p2pmem_put_range(kaddr, len >> PAGE_SHIFT);
	return ERR_PTR(ret);
}

/**
 * p2pmem_dmabuf_export_range - a dma-buf over part of a user mapping
 * @p: the provider of the file the ioctl came through
 * @req: the range (addr, len) and flags, from userspace
 *
 * Context: process context, the caller's mm.
 * Return: a new file descriptor (close-on-exec), or -errno: EINVAL (not
 * page aligned, not inside one mapping of this provider, flags), ENODEV
 * (offline), ENOMEM.
 */
int p2pmem_dmabuf_export_range(struct p2pmem_dev *p,
			       const struct p2pmem_dmabuf_req *req)
{
	struct dma_buf *dmabuf;
	void *kaddr;
	int ret, fd;

	if (req->flags || req->reserved || !req->len ||
	    !PAGE_ALIGNED(req->addr) || !PAGE_ALIGNED(req->len))
		return -EINVAL;
	/* A reference on every page of the range, while it is still mapped. */
	ret = p2pmem_chardev_get_range(p, req->addr, req->len, &kaddr);
	if (ret)
		return ret;
	dmabuf = p2pmem_dmabuf_new(p, kaddr, req->len, false);
	if (IS_ERR(dmabuf))
		return PTR_ERR(dmabuf);
	/* From here on the buffer's release undoes everything. */
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0)
		dma_buf_put(dmabuf);
	return fd;
}

/**
 * p2pmem_dmabuf_alloc - new zeroed provider memory as a dma-buf
 * @p: the provider
 * @size: bytes (rounded up to whole pages)
 *
 * For a kernel client that hands p2p memory to another driver, or to user
 * space with dma_buf_fd().  The memory is freed when the buffer's last
 * reference goes, or, once the provider is gone, when its last importer
 * unmapped.  Importers are judged at attach as for
 * P2PMEM_IOC_EXPORT_DMABUF (kmod/uapi/p2pmem.h).
 *
 * Context: process context, may sleep.
 * Return: the buffer (the caller owns its reference: dma_buf_put()), or an
 * ERR_PTR: -ENOMEM (no memory in the pool, or a fatal signal while it was
 * cleared), -ENODEV (the provider went offline meanwhile), -EINVAL.
 */
struct dma_buf *p2pmem_dmabuf_alloc(struct p2pmem_dev *p, size_t size)
{
	void *kaddr;

	size = PAGE_ALIGN(size);
	if (!size)
		return ERR_PTR(-EINVAL);
	kaddr = p2pmem_alloc(p, size);
	if (!kaddr)
		return ERR_PTR(-ENOMEM);
	return p2pmem_dmabuf_new(p, kaddr, size, true);
}
EXPORT_SYMBOL_GPL(p2pmem_dmabuf_alloc);

/**
 * p2pmem_dmabuf_revoke - take a provider's dma-bufs back from importers
 * @p: the provider, already offline
 *
 * Context: process context; takes p->lock, then each buffer's reservation
 * lock (the order every path here keeps).
 */
void p2pmem_dmabuf_revoke(struct p2pmem_dev *p)
{
	struct p2pmem_dmabuf *db;

	mutex_lock(&p->lock);
	list_for_each_entry(db, &p->dmabufs, node) {
		/* release() needs p->lock to unlist: the buffer lives here */
		dma_resv_lock(db->dmabuf->resv, NULL);
		if (!db->revoked) {
			db->revoked = true;
			p2pmem_dma_buf_invalidate(db->dmabuf);
		}
		if (!db->maps)
			p2pmem_dmabuf_put_pages(db);
		dma_resv_unlock(db->dmabuf->resv);
	}
	mutex_unlock(&p->lock);
}

/**
 * p2pmem_dmabuf_log_holders - name the buffers a removal waits for
 * @p: the provider
 */
void p2pmem_dmabuf_log_holders(struct p2pmem_dev *p)
{
	struct dma_buf_attachment *attach;
	struct p2pmem_dmabuf *db;

	mutex_lock(&p->lock);
	list_for_each_entry(db, &p->dmabufs, node) {
		dma_resv_lock(db->dmabuf->resv, NULL);
		if (db->pages_held) {
			list_for_each_entry(attach, &db->dmabuf->attachments, node)
				dev_warn(&p->dev, "  dma-buf of %s[%d] (%lu pages) still mapped by importer %s, which cannot be told to let go\n",
					 db->comm, db->pid, db->npages,
					 dev_name(attach->dev));
		}
		dma_resv_unlock(db->dmabuf->resv);
	}
	mutex_unlock(&p->lock);
}
