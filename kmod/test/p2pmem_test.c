// SPDX-License-Identifier: GPL-2.0
/*
 * p2pmem_test: exercises p2pmem's in-kernel client API in the rig.
 *
 *   pairs="P,C P,C ..."  print the distance rule's answer for each provider
 *                        and client BDF (the VM test compares them with
 *                        `p2pmem check -o json`, i.e. the library):
 *                          p2pmem_test: distance P C DIST MAP
 *                        (DIST -1 and MAP not-supported when refused); on
 *                        P2PDMA kernels also upstream's own answer:
 *                          p2pmem_test: upstream P C DIST
 *   clients="C,C"        find the best provider for these clients and run
 *                        the API on it: alloc (zeroed?), virt_to_bus (inside
 *                        the BAR?), write/read, free, alloc_sgl/free_sgl:
 *                          p2pmem_test: api ok|FAIL ...
 *   provider=P           use the provider of this PCI function instead
 *   alloc_kb=N           size of the test allocation (default 1024)
 *   hold_kb=N            keep an allocation this large until the provider
 *                        goes away (its removal callback frees it and logs
 *                        "p2pmem_test: removal p2pmemN freed B bytes") or
 *                        the module is unloaded
 *   fence=P              the DMA fences, with the provider's own function
 *                        (a memory card: it does no DMA of its own, so
 *                        faking its DMA limits harms nobody) as the client:
 *                        accepted as it is, refused with a DMA mask that
 *                        ends just below the BAR,
 *                        refused when its DMA is forced through swiotlb:
 *                          p2pmem_test: fence ok|FAIL ...
 *
 * The API test also reads the cache mode of the kernel's linear map of the
 * allocation ("linear=uc-minus").
 *
 *   misuse=1             with the provider found or named: p2pmem_free() of
 *                        a range already freed, of a range that is only
 *                        partly an allocation, of memory that is not the
 *                        provider's: each refused, nothing freed (the
 *                        allocation beside stays intact and is not handed
 *                        out again):
 *                          p2pmem_test: misuse ok|FAIL ...
 *   slow_remove_ms=N     the hold_kb removal callback first sleeps N ms (a
 *                        test unloads this module meanwhile: unloading
 *                        must wait for the callback)
 *   dmamap="P,C ..."     for each p2pmem.ko provider P and client C:
 *                        allocate 64 KiB, p2pmem_dma_map() it for C, print
 *                          p2pmem_test: dmamap P C MAP DMA PHYS
 *                        (DMA "error" when refused), unmap, free
 *   aer=P                call the PCI error handlers of P's driver as AER
 *                        recovery would (frozen link, slot reset, resume):
 *                          p2pmem_test: aer P detected=R state=S
 *
 * debugfs p2pmem_test/pte: write a virtual address of the writing process,
 * then read the same open file: "pfn=0x... cache=uc-minus" (the cache mode
 * of the user PTE, which /proc exposes nowhere on stock kernels).
 */
#define pr_fmt(fmt) "p2pmem_test: " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-mapping.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/swiotlb.h>
#include <linux/uaccess.h>
#ifdef CONFIG_PCI_P2PDMA
#include <linux/pci-p2pdma.h>
#endif

#include "../include/p2pmem_client.h"

static char *pairs;
module_param(pairs, charp, 0444);
MODULE_PARM_DESC(pairs, "provider,client BDF pairs separated by spaces or ';'");
static char *clients;
module_param(clients, charp, 0444);
MODULE_PARM_DESC(clients, "client BDFs (comma separated) to find a provider for");
static char *provider;
module_param(provider, charp, 0444);
MODULE_PARM_DESC(provider, "BDF of the provider to exercise");
static unsigned int alloc_kb = 1024;
module_param(alloc_kb, uint, 0444);
MODULE_PARM_DESC(alloc_kb, "size of the API test allocation in KiB");
static unsigned int hold_kb;
module_param(hold_kb, uint, 0444);
MODULE_PARM_DESC(hold_kb, "KiB to hold until the provider is removed");
static char *fence;
module_param(fence, charp, 0444);
MODULE_PARM_DESC(fence, "BDF of a memory card provider to test the DMA fences with");
static bool misuse;
module_param(misuse, bool, 0444);
MODULE_PARM_DESC(misuse, "check that p2pmem_free() refuses what is not an allocation");
static unsigned int slow_remove_ms;
module_param(slow_remove_ms, uint, 0444);
MODULE_PARM_DESC(slow_remove_ms, "sleep this long in the removal callback first");
static char *dmamap;
module_param(dmamap, charp, 0444);
MODULE_PARM_DESC(dmamap, "provider,client BDF pairs to p2pmem_dma_map() for");
static char *aer;
module_param(aer, charp, 0444);
MODULE_PARM_DESC(aer, "BDF of a device whose PCI error handlers to call");

#define MAX_CLIENTS 8

static struct p2pmem_dev *held_p;
static void *held_addr;
static size_t held_size;
static DEFINE_MUTEX(held_lock);
static struct p2pmem_removal held_removal;
static struct dentry *debug_dir;

static struct pci_dev *get_bdf(const char *s)
{
	unsigned int dom, bus, dev, fn;

	if (sscanf(s, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return NULL;
	return pci_get_domain_bus_and_slot(dom, bus, PCI_DEVFN(dev, fn));
}

static const char *map_name(enum p2pmem_map_type map)
{
	switch (map) {
	case P2PMEM_MAP_BUS_ADDR:
		return "bus-addr";
	case P2PMEM_MAP_HOST_BRIDGE:
		return "host-bridge";
	default:
		return "not-supported";
	}
}

/* The distance rule's answer (and upstream's) for provider @p, client @c. */
static void run_pair(struct pci_dev *p, struct pci_dev *c)
{
	enum p2pmem_map_type map;
	int dist;

	dist = p2pmem_pci_distance(p, c, &map, false);
	pr_info("distance %s %s %d %s\n", pci_name(p), pci_name(c), dist,
		map_name(map));
#ifdef CONFIG_PCI_P2PDMA
	{
		struct device *d = &c->dev;

		pr_info("upstream %s %s %d\n", pci_name(p), pci_name(c),
			pci_p2pdma_distance_many(p, &d, 1, false));
	}
#endif
}

/* Call @fn for each "PROVIDER,CLIENT" BDF pair of @list (space or ';'). */
static void walk_pairs(const char *list,
		       void (*fn)(struct pci_dev *p, struct pci_dev *c))
{
	char *buf, *cur, *tok, *comma;
	struct pci_dev *p, *c;

	buf = kstrdup(list, GFP_KERNEL);
	if (!buf)
		return;
	cur = buf;
	while ((tok = strsep(&cur, " ;\n"))) {
		if (!*tok)
			continue;
		comma = strchr(tok, ',');
		if (!comma) {
			pr_err("bad pair '%s' (want PROVIDER,CLIENT)\n", tok);
			continue;
		}
		*comma = 0;
		p = get_bdf(tok);
		c = get_bdf(comma + 1);
		if (p && c)
			fn(p, c);
		else
			pr_err("pair %s,%s: no such PCI function\n", tok, comma + 1);
		pci_dev_put(p);
		pci_dev_put(c);
	}
	kfree(buf);
}

/* One dmamap pair: provider function @pp, client @c. */
static void run_dmamap(struct pci_dev *pp, struct pci_dev *c)
{
	struct p2pmem_dev *p = p2pmem_find_by_pci(pp);
	enum p2pmem_map_type map;
	size_t size = SZ_64K;
	dma_addr_t dma;
	void *addr;

	if (!p) {
		pr_err("dmamap FAIL %s: no p2pmem.ko provider\n", pci_name(pp));
		return;
	}
	addr = p2pmem_alloc(p, size);
	if (!addr) {
		pr_err("dmamap FAIL %s: cannot allocate\n", p2pmem_name(p));
		goto put;
	}
	dma = p2pmem_dma_map(p, &c->dev, addr, size, DMA_BIDIRECTIONAL, &map);
	if (dma == DMA_MAPPING_ERROR)
		pr_info("dmamap %s %s %s error %#llx\n", pci_name(pp), pci_name(c),
			map_name(map), (u64)p2pmem_virt_to_bus(p, addr));
	else
		pr_info("dmamap %s %s %s %#llx %#llx\n", pci_name(pp), pci_name(c),
			map_name(map), (u64)dma, (u64)p2pmem_virt_to_bus(p, addr));
	if (dma != DMA_MAPPING_ERROR)
		p2pmem_dma_unmap(&c->dev, dma, size, DMA_BIDIRECTIONAL, map);
	p2pmem_free(p, addr, size);
put:
	p2pmem_put(p);
}

static int get_clients(struct device **devs)
{
	char *buf, *cur, *tok;
	struct pci_dev *pdev;
	int n = 0;

	if (!clients)
		return 0;
	buf = kstrdup(clients, GFP_KERNEL);
	if (!buf)
		return 0;
	cur = buf;
	while ((tok = strsep(&cur, ",; \t\n")) && n < MAX_CLIENTS) {
		if (!*tok)
			continue;
		pdev = get_bdf(tok);
		if (!pdev) {
			pr_err("client %s: no such PCI function\n", tok);
			continue;
		}
		devs[n++] = &pdev->dev;
	}
	kfree(buf);
	return n;
}

static void put_clients(struct device **devs, int n)
{
	while (n--)
		put_device(devs[n]);
}

static bool in_bar(struct pci_dev *pdev, pci_bus_addr_t bus, size_t len)
{
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM))
			continue;
		if (bus >= pci_bus_address(pdev, bar) &&
		    bus + len <= pci_bus_address(pdev, bar) +
				 pci_resource_len(pdev, bar))
			return true;
	}
	return false;
}

static const char *linear_cache(void *addr);

static int exercise(struct p2pmem_dev *p)
{
	size_t size = (size_t)alloc_kb << 10;
	struct scatterlist *sgl;
	unsigned int nents;
	pci_bus_addr_t bus;
	u8 *addr;
	size_t i;

	addr = p2pmem_alloc(p, size);
	if (!addr) {
		pr_err("api FAIL %s: p2pmem_alloc(%zu) failed\n", p2pmem_name(p), size);
		return -ENOMEM;
	}
	if (memchr_inv(addr, 0, size)) {
		pr_err("api FAIL %s: fresh allocation is not zeroed\n", p2pmem_name(p));
		goto fail;
	}
	bus = p2pmem_virt_to_bus(p, addr);
	if (!bus || !in_bar(p2pmem_pci_dev(p), bus, size)) {
		pr_err("api FAIL %s: virt_to_bus %#llx is not inside a BAR of %s\n",
		       p2pmem_name(p), (unsigned long long)bus,
		       pci_name(p2pmem_pci_dev(p)));
		goto fail;
	}
	if (page_to_phys(virt_to_page(addr)) != bus) {
		pr_err("api FAIL %s: page %pa vs bus %#llx\n", p2pmem_name(p),
		       &(phys_addr_t){ page_to_phys(virt_to_page(addr)) },
		       (unsigned long long)bus);
		goto fail;
	}
	for (i = 0; i < size; i += 64)
		addr[i] = (u8)(i >> 6) | 1;
	for (i = 0; i < size; i += 64) {
		if (addr[i] != ((u8)(i >> 6) | 1)) {
			pr_err("api FAIL %s: read back differs at %zu\n",
			       p2pmem_name(p), i);
			goto fail;
		}
	}
	p2pmem_free(p, addr, size);

	sgl = p2pmem_alloc_sgl(p, &nents, size);
	if (!sgl || nents != 1 || !sg_virt(sgl)) {
		pr_err("api FAIL %s: p2pmem_alloc_sgl failed\n", p2pmem_name(p));
		return -ENOMEM;
	}
	if (memchr_inv(sg_virt(sgl), 0, size)) {
		pr_err("api FAIL %s: reused memory was not zeroed\n", p2pmem_name(p));
		p2pmem_free_sgl(p, sgl);
		return -EIO;
	}
	p2pmem_free_sgl(p, sgl);
	if (!strcmp(linear_cache(addr), "write-back")) {
		pr_err("api FAIL %s: the linear map of the BAR is write-back\n",
		       p2pmem_name(p));
		return -EIO;
	}
	pr_info("api ok %s %s size %zu bus %#llx linear=%s\n", p2pmem_name(p),
		pci_name(p2pmem_pci_dev(p)), size, (unsigned long long)bus,
		linear_cache(addr));
	return 0;

fail:
	p2pmem_free(p, addr, size);
	return -EIO;
}

static void held_remove(struct p2pmem_removal *r, struct p2pmem_dev *p)
{
	if (slow_remove_ms) {
		pr_info("removal %s: sleeping %u ms first\n", p2pmem_name(p),
			slow_remove_ms);
		msleep(slow_remove_ms);
	}
	mutex_lock(&held_lock);
	if (held_p == p) {
		p2pmem_free(p, held_addr, held_size);
		pr_info("removal %s freed %zu bytes\n", p2pmem_name(p), held_size);
		held_addr = NULL;
	}
	mutex_unlock(&held_lock);
}

static void hold(struct p2pmem_dev *p)
{
	held_size = (size_t)hold_kb << 10;
	held_addr = p2pmem_alloc(p, held_size);
	if (!held_addr) {
		pr_err("holding FAIL %s: cannot allocate %zu bytes\n", p2pmem_name(p),
		       held_size);
		return;
	}
	held_p = p2pmem_get(p);
	INIT_LIST_HEAD(&held_removal.node);
	held_removal.remove = held_remove;
	if (p2pmem_register_removal(p, &held_removal)) {
		pr_err("holding FAIL %s: provider already offline\n", p2pmem_name(p));
		return;
	}
	pr_info("holding %zu bytes of %s\n", held_size, p2pmem_name(p));
}

#ifdef CONFIG_X86
static const char *cache_name(unsigned long flags)
{
	static const struct {
		enum page_cache_mode pcm;
		const char *name;
	} modes[] = {
		{ _PAGE_CACHE_MODE_WB, "write-back" },
		{ _PAGE_CACHE_MODE_WC, "write-combining" },
		{ _PAGE_CACHE_MODE_UC_MINUS, "uc-minus" },
		{ _PAGE_CACHE_MODE_UC, "uncached" },
		{ _PAGE_CACHE_MODE_WT, "write-through" },
		{ _PAGE_CACHE_MODE_WP, "write-protected" },
	};
	int i;

	for (i = 0; i < ARRAY_SIZE(modes); i++)
		if ((flags & _PAGE_CACHE_MASK) == cachemode2protval(modes[i].pcm))
			return modes[i].name;
	return "unknown";
}

/* The cache mode of the kernel's own (linear) mapping of @addr. */
static const char *linear_cache(void *addr)
{
	unsigned int level;
	pte_t *pte = lookup_address((unsigned long)addr, &level);
	unsigned long flags;

	if (!pte)
		return "unmapped";
	if (level == PG_LEVEL_4K)
		return cache_name(pte_flags(*pte));
	/* A large page: PAT sits in bit 12, bit 7 is PSE. */
	flags = level == PG_LEVEL_2M ? pmd_flags(*(pmd_t *)pte) :
				       pud_flags(*(pud_t *)pte);
	if (flags & _PAGE_PAT_LARGE)
		flags |= _PAGE_PAT;
	else
		flags &= ~_PAGE_PAT;
	return cache_name(flags);
}

/* The user PTE of @addr in the current process, described. */
static void describe_pte(unsigned long addr, char *buf, size_t len)
{
	struct mm_struct *mm = current->mm;
	pgd_t *pgd;
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;
	pte_t pte;

	mmap_read_lock(mm);
	pgd = pgd_offset(mm, addr);
	if (pgd_none(*pgd) || pgd_bad(*pgd))
		goto none;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d))
		goto none;
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud) || pud_bad(*pud))
		goto none;
	pmd = pmd_offset(pud, addr);
	if (pmd_none(*pmd) || pmd_bad(*pmd))
		goto none;
	pte = ptep_get(pte_offset_kernel(pmd, addr));
	if (!pte_present(pte))
		goto none;
	snprintf(buf, len, "pfn=%#lx cache=%s\n", pte_pfn(pte),
		 cache_name(pte_flags(pte)));
	mmap_read_unlock(mm);
	return;
none:
	mmap_read_unlock(mm);
	snprintf(buf, len, "none\n");
}
#else
static const char *linear_cache(void *addr)
{
	return "unknown";
}

static void describe_pte(unsigned long addr, char *buf, size_t len)
{
	snprintf(buf, len, "unsupported\n");
}
#endif

/*
 * The fences of p2pmem_distance_many(), with the provider's own function
 * as the client (see fence= above).
 */
static void run_fences(struct p2pmem_dev *p)
{
	struct device *dev = &p2pmem_pci_dev(p)->dev;
	int plain, masked, bounced = -1, bits;
	u64 mask = dma_get_mask(dev);
	void *probe;

	plain = p2pmem_distance_many(p, &dev, 1, true, NULL);
	/* A mask that ends just below the provider's memory. */
	probe = p2pmem_alloc(p, PAGE_SIZE);
	if (!probe) {
		pr_err("fence FAIL %s: cannot allocate\n", p2pmem_name(p));
		return;
	}
	bits = ilog2(p2pmem_virt_to_bus(p, probe));
	p2pmem_free(p, probe, PAGE_SIZE);
	if (dma_set_mask(dev, DMA_BIT_MASK(bits))) {
		pr_err("fence FAIL %s: cannot set a %d-bit mask\n", p2pmem_name(p), bits);
		return;
	}
	masked = p2pmem_distance_many(p, &dev, 1, true, NULL);
	dma_set_mask(dev, mask);
#ifdef CONFIG_SWIOTLB
	{
		struct io_tlb_mem *fake, *old = dev->dma_io_tlb_mem;

		fake = kzalloc(sizeof(*fake), GFP_KERNEL);
		if (fake) {
			fake->force_bounce = true;
			dev->dma_io_tlb_mem = fake;
			bounced = p2pmem_distance_many(p, &dev, 1, true, NULL);
			dev->dma_io_tlb_mem = old;
			kfree(fake);
		}
	}
#endif
	if (plain != 0 || masked != -1 || bounced != -1)
		pr_err("fence FAIL %s: distance %d plain, %d with a %d-bit mask, %d forced through swiotlb (want 0, -1, -1)\n",
		       p2pmem_name(p), plain, masked, bits, bounced);
	else
		pr_info("fence ok %s: accepted plain, refused with a %d-bit mask and with swiotlb bouncing\n",
			p2pmem_name(p), bits);
}

#define MISUSE_SIZE (64 * 1024)

/* @buf holds the pattern of @seed? */
static bool has_pattern(u8 *buf, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i += 512)
		if (buf[i] != (u8)(seed + i / 512))
			return false;
	return true;
}

static void fill_pattern(u8 *buf, size_t len, u8 seed)
{
	size_t i;

	for (i = 0; i < len; i += 512)
		buf[i] = (u8)(seed + i / 512);
}

/*
 * p2pmem_free() of what is not an allocation of the caller's: a range
 * freed already, a range that runs past an allocation, memory that is not
 * the provider's.  Each must free nothing: the allocation @b beside keeps
 * its data, and new allocations never overlap it.
 */
static void run_misuse(struct p2pmem_dev *p)
{
	u8 *a, *b, *c = NULL, *d = NULL, *foreign;
	const char *why = NULL;

	a = p2pmem_alloc(p, MISUSE_SIZE);
	b = p2pmem_alloc(p, MISUSE_SIZE);
	foreign = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!a || !b || !foreign) {
		pr_err("misuse FAIL %s: cannot allocate\n", p2pmem_name(p));
		goto out;
	}
	fill_pattern(b, MISUSE_SIZE, 0x5a);
	p2pmem_free(p, a, MISUSE_SIZE);
	p2pmem_free(p, a, MISUSE_SIZE);		/* double free */
	p2pmem_free(p, b, 2 * MISUSE_SIZE);	/* runs past b */
	p2pmem_free(p, b - PAGE_SIZE, 2 * PAGE_SIZE);	/* starts before b */
	p2pmem_free(p, foreign, PAGE_SIZE);	/* not the provider's */
	c = p2pmem_alloc(p, MISUSE_SIZE);
	d = p2pmem_alloc(p, MISUSE_SIZE);
	if (!c || !d)
		why = "cannot allocate after the refused frees";
	else if ((c < b + MISUSE_SIZE && b < c + MISUSE_SIZE) ||
		 (d < b + MISUSE_SIZE && b < d + MISUSE_SIZE))
		why = "a refused free handed the live allocation out again";
	else if (!has_pattern(b, MISUSE_SIZE, 0x5a))
		why = "the live allocation lost its data";
	if (why)
		pr_err("misuse FAIL %s: %s\n", p2pmem_name(p), why);
	else
		pr_info("misuse ok %s: double, overlapping and foreign frees refused\n",
			p2pmem_name(p));
out:
	if (d)
		p2pmem_free(p, d, MISUSE_SIZE);
	if (c)
		p2pmem_free(p, c, MISUSE_SIZE);
	if (b)
		p2pmem_free(p, b, MISUSE_SIZE);
	kfree(foreign);
}

/* What AER recovery does with a driver after an uncorrectable error. */
static void run_aer(const char *bdf)
{
	const struct pci_error_handlers *eh;
	pci_ers_result_t res = PCI_ERS_RESULT_NONE;
	struct p2pmem_dev *p;
	struct pci_dev *pdev;

	pdev = get_bdf(bdf);
	if (!pdev) {
		pr_err("aer FAIL: no PCI function %s\n", bdf);
		return;
	}
	device_lock(&pdev->dev);
	eh = pdev->driver ? pdev->driver->err_handler : NULL;
	if (eh && eh->error_detected) {
		res = eh->error_detected(pdev, pci_channel_io_frozen);
		if (res == PCI_ERS_RESULT_NEED_RESET && eh->slot_reset)
			res = eh->slot_reset(pdev);
		if (eh->resume)
			eh->resume(pdev);
	}
	device_unlock(&pdev->dev);
	/* Finds online providers only. */
	p = p2pmem_find_by_pci(pdev);
	pr_info("aer %s detected=%d state=%s\n", bdf, res,
		!eh ? "no-handlers" : p ? "online" : "offline");
	p2pmem_put(p);
	pci_dev_put(pdev);
}

static int ptefile_open(struct inode *inode, struct file *file)
{
	file->private_data = kzalloc(64, GFP_KERNEL);
	return file->private_data ? 0 : -ENOMEM;
}

static int ptefile_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static ssize_t ptefile_write(struct file *file, const char __user *ubuf,
			     size_t count, loff_t *ppos)
{
	unsigned long addr;
	int ret;

	ret = kstrtoul_from_user(ubuf, count, 0, &addr);
	if (ret)
		return ret;
	describe_pte(addr, file->private_data, 64);
	return count;
}

static ssize_t ptefile_read(struct file *file, char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	char *buf = file->private_data;

	return simple_read_from_buffer(ubuf, count, ppos, buf, strlen(buf));
}

static const struct file_operations pte_fops = {
	.owner = THIS_MODULE,
	.open = ptefile_open,
	.release = ptefile_release,
	.write = ptefile_write,
	.read = ptefile_read,
	.llseek = default_llseek,
};

static int __init p2pmem_test_init(void)
{
	struct device *devs[MAX_CLIENTS];
	enum p2pmem_map_type map = P2PMEM_MAP_NOT_SUPPORTED, map2;
	struct p2pmem_dev *p = NULL;
	struct pci_dev *pdev;
	int n, dist;

	debug_dir = debugfs_create_dir("p2pmem_test", NULL);
	debugfs_create_file("pte", 0600, debug_dir, NULL, &pte_fops);

	if (pairs)
		walk_pairs(pairs, run_pair);
	if (dmamap)
		walk_pairs(dmamap, run_dmamap);

	if (fence) {
		pdev = get_bdf(fence);
		p = pdev ? p2pmem_find_by_pci(pdev) : NULL;
		pci_dev_put(pdev);
		if (p)
			run_fences(p);
		else
			pr_err("fence FAIL: no provider at %s\n", fence);
		p2pmem_put(p);
		p = NULL;
	}

	n = get_clients(devs);
	if (provider) {
		pdev = get_bdf(provider);
		p = pdev ? p2pmem_find_by_pci(pdev) : NULL;
		pci_dev_put(pdev);
		pr_info("provider %s -> %s\n", provider, p ? p2pmem_name(p) : "none");
	} else if (n) {
		p = p2pmem_find_many(devs, n, &map);
		dist = p ? p2pmem_distance_many(p, devs, n, true, &map2) : -1;
		if (p && map2 != map)
			pr_err("find FAIL %s: map type %s from find, %s from distance\n",
			       clients, map_name(map), map_name(map2));
		pr_info("find %s -> %s distance %d map %s\n", clients,
			p ? p2pmem_name(p) : "none", dist, map_name(map));
	}
	if (aer)
		run_aer(aer);
	if (p) {
		if (misuse)
			run_misuse(p);
		if (alloc_kb)
			exercise(p);
		if (hold_kb)
			hold(p);
		p2pmem_put(p);
	}
	put_clients(devs, n);
	return 0;
}

static void __exit p2pmem_test_exit(void)
{
	debugfs_remove_recursive(debug_dir);
	/*
	 * Unregister before taking held_lock: unregistering waits for a
	 * callback that is running, and the callback takes held_lock.
	 */
	if (held_p)
		p2pmem_unregister_removal(held_p, &held_removal);
	mutex_lock(&held_lock);
	if (held_p) {
		if (held_addr)
			p2pmem_free(held_p, held_addr, held_size);
		p2pmem_put(held_p);
		held_p = NULL;
	}
	mutex_unlock(&held_lock);
}

module_init(p2pmem_test_init);
module_exit(p2pmem_test_exit);

MODULE_DESCRIPTION("Test module of the p2pmem in-kernel client API");
MODULE_LICENSE("GPL");
