// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem core: the class "p2pmem", the registry of providers and their sysfs
 * attributes, and the module's init/exit.
 *
 * A provider is a BAR (or a part of one) of a PCI function whose memory is
 * handed out as peer-to-peer memory.  It appears as the class device
 * p2pmemN, child of that PCI function, with the character device
 * /dev/p2pmemN (chardev.c) and a pool of ZONE_DEVICE pages (pool.c).
 *
 * The fences that keep a BAR out of the pool live here, because they hold
 * for every provider kind:
 *  - the BAR must be a prefetchable memory BAR (reads without side effects;
 *    the force parameter overrides for devices that lie about it);
 *  - its PCI bus address must equal its CPU physical address: on kernels
 *    without CONFIG_PCI_P2PDMA the DMA API treats these pages as RAM and
 *    gives devices the CPU physical address;
 *  - it must not overlap RAM, nor memory someone else already gave struct
 *    pages to (memremap_pages would WARN).
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/idr.h>
#include <linux/ioport.h>
#include <linux/module.h>
#include <linux/pci-p2pdma.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "p2pmem_internal.h"

/* From VERSION, through Kbuild. */
#ifndef P2PMEM_VERSION
#define P2PMEM_VERSION "unknown"
#endif

bool p2pmem_force;
module_param_named(force, p2pmem_force, bool, 0444);
MODULE_PARM_DESC(force, "accept non-prefetchable memory BARs (default: refuse)");

bool p2pmem_bg_zero = true;

/*
 * bg_zero may change at run time: off stops the workers after their current
 * run (tests and benchmarks compare allocations of dirty and of clean
 * memory with nothing clearing in between); on starts them again for what
 * was freed meanwhile, which nothing else would queue until the next free.
 */
static int p2pmem_bg_zero_set(const char *val, const struct kernel_param *kp)
{
	struct p2pmem_dev *p;
	int ret;

	ret = param_set_bool(val, kp);
	if (ret || !READ_ONCE(p2pmem_bg_zero))
		return ret;
	mutex_lock(&p2pmem_list_lock);
	list_for_each_entry(p, &p2pmem_list, node)
		if (p2pmem_online(p))
			p2pmem_pool_zero_kick(p);
	mutex_unlock(&p2pmem_list_lock);
	return 0;
}

static const struct kernel_param_ops p2pmem_bg_zero_ops = {
	.set = p2pmem_bg_zero_set,
	.get = param_get_bool,
};

module_param_cb(bg_zero, &p2pmem_bg_zero_ops, &p2pmem_bg_zero, 0644);
MODULE_PARM_DESC(bg_zero, "clear free memory in the background (default: on; off: only while allocating; writable)");

bool p2pmem_publish = true;
module_param_named(publish, p2pmem_publish, bool, 0444);
MODULE_PARM_DESC(publish, "publish new providers (default: on; 0 reserves them until 1 is written to published)");

/* Every registered provider, for the finders of the client API. */
LIST_HEAD(p2pmem_list);
/* Protects p2pmem_list; never held together with a provider's lock. */
DEFINE_MUTEX(p2pmem_list_lock);
static DEFINE_IDA(p2pmem_ida);
struct workqueue_struct *p2pmem_wq;

/*
 * Without a udev rule the node is root's alone: p2p memory reaches devices
 * that DMA to it, so whoever may map it should be chosen on purpose (the
 * module's example udev rule, 99-p2pmem.rules, hands it to a group).
 */
#ifdef P2PMEM_CONST_DEVNODE	/* 6.2+, see Kbuild */
static char *p2pmem_devnode(const struct device *dev, umode_t *mode)
#else
static char *p2pmem_devnode(struct device *dev, umode_t *mode)
#endif
{
	if (mode)
		*mode = 0600;
	return NULL;
}

static struct class p2pmem_class = {
	.name = "p2pmem",
	.devnode = p2pmem_devnode,
};

const char *p2pmem_kind_name(enum p2pmem_kind kind)
{
	return kind == P2PMEM_KIND_NVME_CMB ? "nvme-cmb" : "memory";
}

/* ---- sysfs ------------------------------------------------------------ */

static ssize_t size_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%zu\n", to_p2pmem_dev(dev)->size);
}
static DEVICE_ATTR_RO(size);

static ssize_t available_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%zu\n",
			  p2pmem_pool_available(to_p2pmem_dev(dev)));
}
static DEVICE_ATTR_RO(available);

static ssize_t folio_size_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%lu\n",
			  to_p2pmem_dev(dev)->folio_pages << PAGE_SHIFT);
}
static DEVICE_ATTR_RO(folio_size);

static ssize_t published_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%d\n", READ_ONCE(to_p2pmem_dev(dev)->published));
}

static ssize_t published_store(struct device *dev,
			       struct device_attribute *attr,
			       const char *buf, size_t count)
{
	struct p2pmem_dev *p = to_p2pmem_dev(dev);
	bool val;
	int ret;

	ret = kstrtobool(buf, &val);
	if (ret)
		return ret;
	mutex_lock(&p->lock);
	WRITE_ONCE(p->published, val);
	/* Upstream's finders (nvmet, pci_p2pmem_find()) follow along. */
	if (p->upstream)
		pci_p2pmem_publish(p->pdev, val);
	mutex_unlock(&p->lock);
	dev_info(dev, "%s by %s[%d]\n", val ? "published" : "reserved",
		 current->comm, task_pid_nr(current));
	return count;
}
static DEVICE_ATTR_RW(published);

static ssize_t kind_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  p2pmem_kind_name(to_p2pmem_dev(dev)->kind));
}
static DEVICE_ATTR_RO(kind);

static ssize_t state_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  p2pmem_online(to_p2pmem_dev(dev)) ? "online" : "offline");
}
static DEVICE_ATTR_RO(state);

static ssize_t bar_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	return sysfs_emit(buf, "%d\n", to_p2pmem_dev(dev)->bar);
}
static DEVICE_ATTR_RO(bar);

static ssize_t bus_offset_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	/* Providers with an offset are refused in p2pmem_provider_create(). */
	return sysfs_emit(buf, "0\n");
}
static DEVICE_ATTR_RO(bus_offset);

static ssize_t iommu_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	return sysfs_emit(buf, "%s\n", to_p2pmem_dev(dev)->iommu);
}
static DEVICE_ATTR_RO(iommu);

/* Physical addresses are for root only (KASLR and friends). */
static ssize_t range_show(struct device *dev, struct device_attribute *attr,
			  char *buf)
{
	struct p2pmem_dev *p = to_p2pmem_dev(dev);

	return sysfs_emit(buf, "%#llx-%#llx\n", (unsigned long long)p->phys,
			  (unsigned long long)(p->phys + p->size - 1));
}
static DEVICE_ATTR_ADMIN_RO(range);

/* Whose pages and pool: p2pmem.ko's own, or upstream P2PDMA's. */
static ssize_t pool_show(struct device *dev, struct device_attribute *attr,
			 char *buf)
{
	return sysfs_emit(buf, "%s\n",
			  to_p2pmem_dev(dev)->upstream ? "upstream" : "p2pmem");
}
static DEVICE_ATTR_RO(pool);

static struct attribute *p2pmem_attrs[] = {
	&dev_attr_pool.attr,
	&dev_attr_size.attr,
	&dev_attr_available.attr,
	&dev_attr_folio_size.attr,
	&dev_attr_published.attr,
	&dev_attr_kind.attr,
	&dev_attr_state.attr,
	&dev_attr_bar.attr,
	&dev_attr_bus_offset.attr,
	&dev_attr_iommu.attr,
	&dev_attr_range.attr,
	NULL,
};

/* Upstream's free memory is upstream's to tell: <bdf>/p2pmem/available. */
static umode_t p2pmem_attr_visible(struct kobject *kobj, struct attribute *a,
				   int n)
{
	struct p2pmem_dev *p = to_p2pmem_dev(kobj_to_dev(kobj));

	if (a == &dev_attr_available.attr && p->upstream)
		return 0;
	return a->mode;
}

static const struct attribute_group p2pmem_group = {
	.attrs = p2pmem_attrs,
	.is_visible = p2pmem_attr_visible,
};

struct p2pmem_stat_attr {
	struct device_attribute attr;
	size_t offset;			/* in struct p2pmem_stats */
};

static ssize_t p2pmem_stat_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct p2pmem_stat_attr *sa = container_of(attr, struct p2pmem_stat_attr,
						   attr);
	atomic64_t *v = (void *)&to_p2pmem_dev(dev)->stats + sa->offset;

	return sysfs_emit(buf, "%lld\n", (long long)atomic64_read(v));
}

#define P2PMEM_STAT(_name, _field) {					\
	.attr = __ATTR(_name, 0444, p2pmem_stat_show, NULL),		\
	.offset = offsetof(struct p2pmem_stats, _field),		\
}

static struct p2pmem_stat_attr p2pmem_stat_attrs[] = {
	P2PMEM_STAT(allocations, allocations),
	P2PMEM_STAT(failures, failures),
	P2PMEM_STAT(in_use, in_use),
	P2PMEM_STAT(peak, peak),
	P2PMEM_STAT(zero_sync_bytes, zero_sync_bytes),
	P2PMEM_STAT(zero_sync_ns, zero_sync_ns),
	P2PMEM_STAT(zero_bg_bytes, zero_bg_bytes),
	P2PMEM_STAT(zero_bg_ns, zero_bg_ns),
	P2PMEM_STAT(revocations, revocations),
};

static struct attribute *p2pmem_stats_attrs[ARRAY_SIZE(p2pmem_stat_attrs) + 1];

static const struct attribute_group p2pmem_stats_group = {
	.name = "stats",
	.attrs = p2pmem_stats_attrs,
};

static const struct attribute_group *p2pmem_dev_groups[] = {
	&p2pmem_group,
	&p2pmem_stats_group,
	NULL,
};

/* ---- registry ----------------------------------------------------------- */

void p2pmem_registry_del(struct p2pmem_dev *p)
{
	mutex_lock(&p2pmem_list_lock);
	list_del_init(&p->node);
	mutex_unlock(&p2pmem_list_lock);
}

static void p2pmem_dev_release(struct device *dev)
{
	struct p2pmem_dev *p = to_p2pmem_dev(dev);

	p2pmem_chardev_release(p);
	ida_free(&p2pmem_ida, p->id);
	pci_dev_put(p->pdev);
	kfree(p);
}

/*
 * memremap_pages() works on whole subsections (2 MiB on x86-64 with
 * SPARSEMEM_VMEMMAP) and on whole sections without it.
 */
static u64 p2pmem_align(void)
{
	u64 align = memremap_compat_align();

	if (!IS_ENABLED(CONFIG_SPARSEMEM_VMEMMAP))
		align = max_t(u64, align, PAGES_PER_SECTION << PAGE_SHIFT);
	return align;
}

/**
 * p2pmem_check_bar - may this BAR range become p2p memory, and where exactly
 * @pdev: the PCI function
 * @bar: the BAR
 * @offset: where the range starts in the BAR
 * @size: in: its length, 0 for the rest of the BAR; out: the length used
 * @start: out: the CPU physical address of the range used
 * @for_upstream: the range goes to upstream's pci_p2pdma_add_resource(),
 *	which handles a bus address offset, instead of our memremap_pages()
 *
 * The range is trimmed to memremap_pages()' alignment (upstream needs it
 * too: it registers any range it is given).
 *
 * Return: 0, or a negative errno with the reason logged.
 */
int p2pmem_check_bar(struct pci_dev *pdev, int bar, u64 offset, u64 *size,
		     phys_addr_t *start, bool for_upstream)
{
	unsigned long flags = pci_resource_flags(pdev, bar);
	u64 len = pci_resource_len(pdev, bar), align = p2pmem_align();
	u64 s, e, as, ae;
	struct dev_pagemap *pgmap;

	if (!(flags & IORESOURCE_MEM) || !len) {
		pci_err(pdev, "p2pmem: BAR%d is not a memory BAR\n", bar);
		return -EINVAL;
	}
	if ((flags & IORESOURCE_UNSET) || !pci_resource_start(pdev, bar)) {
		pci_err(pdev, "p2pmem: BAR%d has no address assigned\n", bar);
		return -EINVAL;
	}
	if (!(flags & IORESOURCE_PREFETCH)) {
		if (!p2pmem_force) {
			pci_err(pdev, "p2pmem: BAR%d is not prefetchable: refusing it (reads may have side effects; force=1 overrides)\n",
				bar);
			return -EINVAL;
		}
		pci_warn(pdev, "p2pmem: BAR%d is not prefetchable; using it because force=1\n",
			 bar);
	}
	if (!for_upstream &&
	    pci_bus_address(pdev, bar) != pci_resource_start(pdev, bar)) {
		pci_err(pdev, "p2pmem: BAR%d bus address %#llx is not its CPU address %#llx: refusing it (peers get the CPU one)\n",
			bar, (unsigned long long)pci_bus_address(pdev, bar),
			(unsigned long long)pci_resource_start(pdev, bar));
		return -EINVAL;
	}
	if (offset >= len || (*size && *size > len - offset)) {
		pci_err(pdev, "p2pmem: range %#llx+%#llx is outside BAR%d (%#llx bytes)\n",
			offset, *size, bar, len);
		return -EINVAL;
	}
	s = pci_resource_start(pdev, bar) + offset;
	e = s + (*size ? *size : len - offset);
	as = ALIGN(s, align);
	ae = ALIGN_DOWN(e, align);
	if (ae <= as) {
		pci_err(pdev, "p2pmem: BAR%d range %#llx-%#llx holds no %llu KiB-aligned block (memremap_pages needs one)\n",
			bar, s, e - 1, align >> 10);
		return -EINVAL;
	}
	if (as != s || ae != e)
		pci_info(pdev, "p2pmem: BAR%d range %#llx-%#llx trimmed to %#llx-%#llx (%llu KiB alignment)\n",
			 bar, s, e - 1, as, ae - 1, align >> 10);
	if (region_intersects(as, ae - as, IORESOURCE_SYSTEM_RAM,
			      IORES_DESC_NONE) != REGION_DISJOINT) {
		pci_err(pdev, "p2pmem: BAR%d range %#llx-%#llx overlaps RAM: refusing it\n",
			bar, as, ae - 1);
		return -EINVAL;
	}
	if (for_upstream)
		goto done;	/* upstream refuses what has pages already */
	/* Somebody (upstream P2PDMA, a DAX driver) already gave it pages. */
	pgmap = p2pmem_get_dev_pagemap(PHYS_PFN(as));
	if (!pgmap)
		pgmap = p2pmem_get_dev_pagemap(PHYS_PFN(ae - 1));
	if (pgmap) {
		put_dev_pagemap(pgmap);
		pci_err(pdev, "p2pmem: BAR%d range %#llx-%#llx already has struct pages (upstream P2PDMA or another driver): refusing it\n",
			bar, as, ae - 1);
		return -EBUSY;
	}
done:
	*start = as;
	*size = ae - as;
	return 0;
}

/*
 * P2PDMA kernels: the pages are upstream's (pci_bar.c checked the range with
 * p2pmem_check_bar() and registered exactly it); we hand out bus addresses
 * equal to CPU addresses (p2pmem_virt_to_bus()), so a BAR behind an offset
 * is upstream's alone.
 */
static int p2pmem_check_upstream_bar(struct pci_dev *pdev, int bar,
				     u64 offset, u64 *size, phys_addr_t *start)
{
	if (pci_bus_address(pdev, bar) != pci_resource_start(pdev, bar)) {
		pci_info(pdev, "p2pmem: BAR%d bus address %#llx is not its CPU address %#llx: upstream's provider only, no /dev/p2pmem node\n",
			 bar, (unsigned long long)pci_bus_address(pdev, bar),
			 (unsigned long long)pci_resource_start(pdev, bar));
		return -EINVAL;
	}
	if (!*size || offset >= pci_resource_len(pdev, bar) ||
	    *size > pci_resource_len(pdev, bar) - offset)
		return -EINVAL;
	*start = pci_resource_start(pdev, bar) + offset;
	return 0;
}

/**
 * p2pmem_provider_create - register a BAR range as a p2pmem provider
 * @pdev: the PCI function that owns the BAR
 * @bar: the BAR index
 * @offset: where the range starts in the BAR
 * @size: its length, 0 for the rest of the BAR
 * @kind: what the memory is (memory card, NVMe CMB)
 * @ops: the provider kind's hooks (may be NULL)
 * @priv: the provider kind's data
 *
 * The range is trimmed to memremap_pages()' alignment, given ZONE_DEVICE
 * pages, and published as /sys/class/p2pmem/p2pmemN and /dev/p2pmemN.
 *
 * Context: process context.
 * Return: the provider or an ERR_PTR().
 */
struct p2pmem_dev *p2pmem_provider_create(struct pci_dev *pdev, int bar,
					  u64 offset, u64 size,
					  enum p2pmem_kind kind,
					  const struct p2pmem_provider_ops *ops,
					  void *priv)
{
	static const struct p2pmem_provider_ops no_ops;
	struct p2pmem_dev *p;
	phys_addr_t start;
	int ret;

	if (IS_ENABLED(CONFIG_PCI_P2PDMA))
		ret = p2pmem_check_upstream_bar(pdev, bar, offset, &size, &start);
	else
		ret = p2pmem_check_bar(pdev, bar, offset, &size, &start, false);
	if (ret)
		return ERR_PTR(ret);

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return ERR_PTR(-ENOMEM);
	ret = ida_alloc_max(&p2pmem_ida, P2PMEM_MAX_DEVS - 1, GFP_KERNEL);
	if (ret < 0)
		goto free_dev;
	p->id = ret;
	p->pdev = pci_dev_get(pdev);
	p->bar = bar;
	p->kind = kind;
	p->ops = ops ? ops : &no_ops;
	p->priv = priv;
	p->phys = start;
	p->size = size;
	p->upstream = IS_ENABLED(CONFIG_PCI_P2PDMA);
	p->published = p2pmem_publish;
	p->state = P2PMEM_ONLINE;
	INIT_LIST_HEAD(&p->node);
	mutex_init(&p->lock);
	spin_lock_init(&p->alloc_lock);
	INIT_LIST_HEAD(&p->allocs);
	INIT_LIST_HEAD(&p->removals);
	INIT_LIST_HEAD(&p->mappings);
	INIT_LIST_HEAD(&p->dmabufs);
	init_waitqueue_head(&p->removal_wq);
	/* What an opener of the node can make us log: 30 lines per 5 s. */
	ratelimit_state_init(&p->log_rs, 5 * HZ, 30);
	init_waitqueue_head(&p->idle_wq);
	init_waitqueue_head(&p->revoke_wq);
	p2pmem_describe_iommu(&pdev->dev, p->iommu, sizeof(p->iommu));

	/* From here on the device's release frees p. */
	device_initialize(&p->dev);
	p->dev.class = &p2pmem_class;
	/*
	 * A class device below its PCI function lives in <bdf>/p2pmem/,
	 * which is upstream's directory on P2PDMA kernels: there ours is a
	 * virtual device with a "device" link to the function instead.
	 */
	if (!p->upstream)
		p->dev.parent = &pdev->dev;
	p->dev.devt = MKDEV(MAJOR(p2pmem_devt), p->id);
	p->dev.groups = p2pmem_dev_groups;
	p->dev.release = p2pmem_dev_release;
	ret = dev_set_name(&p->dev, "p2pmem%d", p->id);
	if (ret)
		goto put_dev;

	ret = p2pmem_chardev_setup(p);
	if (ret)
		goto put_dev;

	ret = p2pmem_pool_init(p);
	if (ret) {
		pci_err(pdev, "p2pmem: cannot create pages for BAR%d %pa+%#zx: %d\n",
			bar, &p->phys, p->size, ret);
		goto put_dev;
	}

	ret = cdev_device_add(&p->cdev, &p->dev);
	if (ret)
		goto exit_pool;
	if (p->upstream) {
		ret = sysfs_create_link(&p->dev.kobj, &pdev->dev.kobj, "device");
		if (ret)
			goto del_cdev;
	}

	mutex_lock(&p2pmem_list_lock);
	list_add_tail(&p->node, &p2pmem_list);
	mutex_unlock(&p2pmem_list_lock);

	dev_info(&p->dev, "%s %s BAR%d %pa-%#llx (%zu MiB, %lu KiB folios), iommu %s%s\n",
		 pci_name(pdev), p2pmem_kind_name(kind), bar, &p->phys,
		 (unsigned long long)(p->phys + p->size - 1), p->size >> 20,
		 p->folio_pages * (PAGE_SIZE / SZ_1K),
		 p->iommu, p->published ? "" : ", reserved (not published)");
	return p;

del_cdev:
	cdev_device_del(&p->cdev, &p->dev);
exit_pool:
	p2pmem_pool_exit(p);
put_dev:
	put_device(&p->dev);
	return ERR_PTR(ret);

free_dev:
	kfree(p);
	return ERR_PTR(ret);
}

static int __init p2pmem_init(void)
{
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(p2pmem_stat_attrs); i++)
		p2pmem_stats_attrs[i] = &p2pmem_stat_attrs[i].attr.attr;
	ret = class_register(&p2pmem_class);
	if (ret)
		return ret;

	ret = p2pmem_chardev_init();
	if (ret)
		goto unregister_class;

	/* Zeroing runs long (uncached writes); keep it off the system_wq. */
	p2pmem_wq = alloc_workqueue("p2pmem", WQ_UNBOUND, 0);
	if (!p2pmem_wq) {
		ret = -ENOMEM;
		goto exit_chardev;
	}

	ret = p2pmem_lifetime_init();
	if (ret)
		goto destroy_wq;

	ret = p2pmem_pci_init();
	if (ret)
		goto exit_lifetime;

	ret = p2pmem_cmb_init();
	if (ret)
		goto exit_pci;

	pr_info("version %s loaded (%s kernel: %s)\n", P2PMEM_VERSION,
		IS_ENABLED(CONFIG_PCI_P2PDMA) ? "P2PDMA" : "stock",
		IS_ENABLED(CONFIG_PCI_P2PDMA) ?
		"memory BARs registered with upstream P2PDMA, NVMe CMBs left to upstream" :
		"memory BARs and NVMe CMBs");
	return 0;

exit_pci:
	p2pmem_pci_exit();
exit_lifetime:
	p2pmem_lifetime_exit();
	/* The notifier may have queued the CMB rescan meanwhile. */
	p2pmem_cmb_exit();
destroy_wq:
	destroy_workqueue(p2pmem_wq);
exit_chardev:
	p2pmem_chardev_exit();
unregister_class:
	class_unregister(&p2pmem_class);
	return ret;
}

static void __exit p2pmem_exit(void)
{
	p2pmem_lifetime_exit();
	p2pmem_cmb_exit();
	p2pmem_pci_exit();
	destroy_workqueue(p2pmem_wq);
	p2pmem_chardev_exit();
	class_unregister(&p2pmem_class);
	ida_destroy(&p2pmem_ida);
	pr_info("unloaded\n");
}

module_init(p2pmem_init);
module_exit(p2pmem_exit);

MODULE_DESCRIPTION("Peer-to-peer PCI memory providers for kernels without CONFIG_PCI_P2PDMA");
MODULE_LICENSE("GPL");
MODULE_VERSION(P2PMEM_VERSION);
