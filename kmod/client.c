// SPDX-License-Identifier: GPL-2.0
/*
 * The in-kernel client API (include/p2pmem_client.h): drivers find a
 * provider for the devices that will do the DMA, allocate from it, turn
 * addresses into bus addresses, and learn when the provider goes away.
 *
 * Every allocation is zeroed, counted in the provider's statistics, holds
 * the provider's pages (so its removal waits for it) and is named by its
 * caller's return address when that removal has to wait.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "p2pmem_internal.h"

/* The PCI function a device belongs to, with a reference, or NULL. */
struct pci_dev *p2pmem_find_parent_pci_dev(struct device *dev)
{
	struct device *parent;

	dev = get_device(dev);
	while (dev) {
		if (dev_is_pci(dev))
			return to_pci_dev(dev);
		parent = get_device(dev->parent);
		put_device(dev);
		dev = parent;
	}
	return NULL;
}

static int p2pmem_get_clients(struct device **clients, int n,
			      struct pci_dev **pdevs, bool verbose)
{
	int i;

	for (i = 0; i < n; i++) {
		pdevs[i] = p2pmem_find_parent_pci_dev(clients[i]);
		if (!pdevs[i]) {
			if (verbose)
				dev_warn(clients[i], "p2pmem: cannot be used for peer-to-peer DMA as it is not a PCI device\n");
			while (i--)
				pci_dev_put(pdevs[i]);
			return -ENODEV;
		}
	}
	return 0;
}

static void p2pmem_put_clients(struct pci_dev **pdevs, int n)
{
	while (n--)
		pci_dev_put(pdevs[n]);
}

/**
 * p2pmem_distance_many - the distance between a provider and its clients
 * @p: the provider
 * @clients: the devices that will DMA to or from the memory (or their
 *	children: the PCI function above each is used)
 * @num_clients: number of entries in @clients (1..P2PMEM_MAX_CLIENTS)
 * @verbose: log why a client is refused
 * @map: out (may be NULL): how the clients reach the memory.
 *	%P2PMEM_MAP_BUS_ADDR: give them p2pmem_virt_to_bus() addresses;
 *	%P2PMEM_MAP_HOST_BRIDGE: their DMA goes through the root complex,
 *	map the memory for each client with p2pmem_dma_map() (behind an
 *	IOMMU that yields an IOVA).  The answer is for the pages as another
 *	driver's DMA mapping sees them (block I/O on them), which on kernels
 *	without P2PDMA is like RAM: behind a translating IOMMU every client
 *	then goes through the host bridge, and the provider's own function
 *	is refused.  A client that puts p2pmem_dma_map() addresses in its
 *	own descriptors follows the distance rule alone.
 *
 * Applies the P2PDMA distance rule and p2pmem's DMA fences (swiotlb
 * bouncing, translating IOMMUs, DMA address offsets).
 *
 * Context: process context.
 * Return: the summed distance (lower is better, 0 when the only client is
 * the provider itself) or -1 when any client cannot use @p.
 */
int p2pmem_distance_many(struct p2pmem_dev *p, struct device **clients,
			 int num_clients, bool verbose,
			 enum p2pmem_map_type *map)
{
	struct pci_dev *pdevs[P2PMEM_MAX_CLIENTS];
	enum p2pmem_map_type m;
	int dist, ret;

	if (map)
		*map = P2PMEM_MAP_NOT_SUPPORTED;
	if (num_clients < 1 || num_clients > P2PMEM_MAX_CLIENTS)
		return -1;
	if (p2pmem_get_clients(clients, num_clients, pdevs, verbose))
		return -1;
	ret = p2pmem_check_clients(p, pdevs, num_clients, &dist, &m,
				   verbose ? "kernel client" : NULL);
	p2pmem_put_clients(pdevs, num_clients);
	if (ret)
		return -1;
	if (map)
		*map = m;
	return dist;
}
EXPORT_SYMBOL_GPL(p2pmem_distance_many);

/**
 * p2pmem_find_many - the closest published provider for a set of clients
 * @clients: the devices that will DMA to or from the memory
 * @num_clients: number of entries in @clients (1..P2PMEM_MAX_CLIENTS)
 * @map: out (may be NULL): how the clients reach the chosen provider's
 *	memory (see p2pmem_distance_many())
 *
 * Among the online, published providers that every client can reach, the
 * one at the smallest summed distance; ties go to the lowest p2pmemN, so
 * that the answer is reproducible.
 *
 * Context: process context.
 * Return: the provider with a reference taken (p2pmem_put() it), or NULL.
 */
struct p2pmem_dev *p2pmem_find_many(struct device **clients, int num_clients,
				    enum p2pmem_map_type *map)
{
	enum p2pmem_map_type m, best_map = P2PMEM_MAP_NOT_SUPPORTED;
	struct pci_dev *pdevs[P2PMEM_MAX_CLIENTS];
	struct p2pmem_dev *p, *best = NULL;
	int best_dist = INT_MAX, dist;

	if (num_clients < 1 || num_clients > P2PMEM_MAX_CLIENTS)
		return NULL;
	if (p2pmem_get_clients(clients, num_clients, pdevs, false))
		return NULL;
	mutex_lock(&p2pmem_list_lock);
	list_for_each_entry(p, &p2pmem_list, node) {
		if (!p2pmem_online(p) || !READ_ONCE(p->published))
			continue;
		if (p2pmem_check_clients(p, pdevs, num_clients, &dist, &m,
					 NULL))
			continue;
		if (dist < best_dist || (dist == best_dist && p->id < best->id)) {
			best = p;
			best_dist = dist;
			best_map = m;
		}
	}
	if (best)
		get_device(&best->dev);
	mutex_unlock(&p2pmem_list_lock);
	p2pmem_put_clients(pdevs, num_clients);
	if (map)
		*map = best_map;
	return best;
}
EXPORT_SYMBOL_GPL(p2pmem_find_many);

/**
 * p2pmem_find_by_pci - the provider that serves a PCI function's memory
 * @pdev: the PCI function (a memory card bound to p2pmem_pci, an NVMe
 *	drive whose CMB p2pmem armed)
 *
 * Unlike p2pmem_find_many(), also returns reserved (unpublished)
 * providers: a driver that names the device knows what it is doing.
 *
 * Context: process context.
 * Return: the provider with a reference taken, or NULL.
 */
struct p2pmem_dev *p2pmem_find_by_pci(struct pci_dev *pdev)
{
	struct p2pmem_dev *p, *found = NULL;

	mutex_lock(&p2pmem_list_lock);
	list_for_each_entry(p, &p2pmem_list, node) {
		if (p->pdev == pdev && p2pmem_online(p)) {
			found = p;
			get_device(&p->dev);
			break;
		}
	}
	mutex_unlock(&p2pmem_list_lock);
	return found;
}
EXPORT_SYMBOL_GPL(p2pmem_find_by_pci);

/**
 * p2pmem_get - take a reference on a provider
 * @p: the provider
 *
 * A reference keeps the structure alive, not the memory: a provider can go
 * offline while referenced (allocations then fail).
 *
 * Context: any context.
 * Return: @p.
 */
struct p2pmem_dev *p2pmem_get(struct p2pmem_dev *p)
{
	if (p)
		get_device(&p->dev);
	return p;
}
EXPORT_SYMBOL_GPL(p2pmem_get);

/**
 * p2pmem_put - drop a reference taken by p2pmem_get() or a find function
 * @p: the provider (may be NULL)
 *
 * Context: any context.
 */
void p2pmem_put(struct p2pmem_dev *p)
{
	if (p)
		put_device(&p->dev);
}
EXPORT_SYMBOL_GPL(p2pmem_put);

/**
 * p2pmem_pci_dev - the PCI function a provider's memory belongs to
 * @p: the provider
 *
 * Context: any context.
 * Return: the PCI function (valid while the reference on @p is held).
 */
struct pci_dev *p2pmem_pci_dev(struct p2pmem_dev *p)
{
	return p->pdev;
}
EXPORT_SYMBOL_GPL(p2pmem_pci_dev);

/**
 * p2pmem_name - the provider's name (p2pmemN), for log messages
 * @p: the provider
 *
 * Context: any context.
 * Return: the name.
 */
const char *p2pmem_name(struct p2pmem_dev *p)
{
	return dev_name(&p->dev);
}
EXPORT_SYMBOL_GPL(p2pmem_name);

static void *__p2pmem_alloc(struct p2pmem_dev *p, size_t size,
			    unsigned long caller)
{
	struct p2pmem_allocation *a;
	void *addr = NULL;

	size = PAGE_ALIGN(size);
	if (!size || size > p->size)
		goto fail;
	mutex_lock(&p->lock);
	if (p2pmem_online(p) && (!p->ops->check || p->ops->check(p)))
		addr = p2pmem_pool_alloc(p, size, PAGE_SIZE, &a, caller);
	mutex_unlock(&p->lock);
	if (!addr)
		goto fail;
	/* Without the lock: clearing a large allocation takes a while. */
	if (!p2pmem_pool_zero(p, a))
		return addr;
	p2pmem_pool_put_pages(p, a->first, a->npages);
fail:
	atomic64_inc(&p->stats.failures);
	return NULL;
}

/**
 * p2pmem_alloc - allocate zeroed peer-to-peer memory
 * @p: the provider
 * @size: bytes (rounded up to whole pages)
 *
 * The memory is zeroed.  Check that your clients can reach @p first
 * (p2pmem_find_many() or p2pmem_distance_many()).
 *
 * Context: process context, may sleep.
 * Return: the kernel virtual address of the memory, or NULL (also when the
 * calling task got a fatal signal while the memory was being cleared).
 */
void *p2pmem_alloc(struct p2pmem_dev *p, size_t size)
{
	return __p2pmem_alloc(p, size, _RET_IP_);
}
EXPORT_SYMBOL_GPL(p2pmem_alloc);

/**
 * p2pmem_free - free memory allocated with p2pmem_alloc()
 * @p: the provider
 * @addr: the address p2pmem_alloc() returned (or a page inside it)
 * @size: bytes to free from @addr (rounded up to whole pages)
 *
 * The range must lie within one allocation of a kernel client that is
 * still out.  Anything else (a double free, another provider's memory,
 * pages of a user mapping) is a bug in the caller: it is logged with the
 * caller's address and nothing is freed, since freeing pages someone still
 * uses would hand them to the next user.  Not a WARN: a machine with
 * panic_on_warn should not go down for a leak we contained.
 *
 * Context: any context.
 */
void p2pmem_free(struct p2pmem_dev *p, void *addr, size_t size)
{
	unsigned long first, n;

	if (!addr)
		return;
	n = PAGE_ALIGN(size) >> PAGE_SHIFT;
	first = (addr - p->kaddr) >> PAGE_SHIFT;
	if (addr < p->kaddr || p2pmem_pool_free_checked(p, first, n))
		dev_err_ratelimited(&p->dev, "%ps freed %p+%zu, which is not an allocation of its own: nothing freed\n",
				    (void *)_RET_IP_, addr, size);
}
EXPORT_SYMBOL_GPL(p2pmem_free);

/**
 * p2pmem_virt_to_bus - the PCI bus address of provider memory
 * @p: the provider
 * @addr: an address inside memory allocated from @p
 *
 * Valid for clients that reach @p by bus address; p2pmem_dma_map() gives
 * each client the address for its own path (the bus address, or a DMA API
 * mapping through the host bridge).
 *
 * Context: any context.
 * Return: the bus address to give a client for @addr, or 0 if @addr is not
 * provider memory.
 */
pci_bus_addr_t p2pmem_virt_to_bus(struct p2pmem_dev *p, void *addr)
{
	if (!addr || addr < p->kaddr || addr >= p->kaddr + p->size)
		return 0;
	/* Bus address == CPU address: enforced at registration. */
	return p->phys + (addr - p->kaddr);
}
EXPORT_SYMBOL_GPL(p2pmem_virt_to_bus);

/**
 * p2pmem_dma_map - the DMA address a client puts in its own descriptors
 * @p: the provider
 * @client: the device that does the DMA (or a child of its PCI function)
 * @addr: provider memory, from p2pmem_alloc()
 * @size: bytes from @addr
 * @dir: direction of the DMA
 * @map: out: the path, to give p2pmem_dma_unmap()
 *
 * For a client that programs the address itself, the distance rule alone
 * decides, as upstream's pci_p2pdma_map_type() does: below a common
 * upstream bridge with no ACS redirect the address is the bus address (the
 * requests turn at that bridge and never reach the IOMMU, translating or
 * not; this includes a device's own memory); through the host bridge it is
 * a DMA API mapping of the BAR range (dma_map_resource(): an IOVA mapped as
 * MMIO behind a translating IOMMU, the physical address otherwise).
 * Memory whose pages another driver maps (block I/O on them) takes the
 * path p2pmem_distance_many() reports instead.
 *
 * Context: process context.
 * Return: the DMA address, or DMA_MAPPING_ERROR (*@map then
 * %P2PMEM_MAP_NOT_SUPPORTED) when @client cannot reach @p, @addr..@size is
 * not @p's memory, or the mapping fails.
 */
dma_addr_t p2pmem_dma_map(struct p2pmem_dev *p, struct device *client,
			  void *addr, size_t size, enum dma_data_direction dir,
			  enum p2pmem_map_type *map)
{
	dma_addr_t dma = DMA_MAPPING_ERROR;
	enum p2pmem_map_type m;
	struct pci_dev *pdev;
	phys_addr_t phys;

	*map = P2PMEM_MAP_NOT_SUPPORTED;
	if (!addr || !size || addr < p->kaddr || size > p->size ||
	    addr - p->kaddr > p->size - size)
		return DMA_MAPPING_ERROR;
	pdev = p2pmem_find_parent_pci_dev(client);
	if (!pdev)
		return DMA_MAPPING_ERROR;
	phys = p->phys + (addr - p->kaddr);
	if (p2pmem_pci_distance(p->pdev, pdev, &m, false) < 0)
		goto put_pdev;
	if (m == P2PMEM_MAP_BUS_ADDR) {
		/* Bus address == CPU address: enforced at registration. */
		dma = phys;
	} else {
		/* The PCI function: a child device may have no DMA mask. */
		dma = dma_map_resource(&pdev->dev, phys, size, dir, 0);
		if (dma_mapping_error(&pdev->dev, dma))
			goto put_pdev;
	}
	*map = m;
put_pdev:
	pci_dev_put(pdev);
	return dma;
}
EXPORT_SYMBOL_GPL(p2pmem_dma_map);

/**
 * p2pmem_dma_unmap - undo p2pmem_dma_map()
 * @client: the device given to p2pmem_dma_map()
 * @dma: the address it returned
 * @size: the size given to it
 * @dir: the direction given to it
 * @map: the path it returned
 *
 * Context: process context.
 */
void p2pmem_dma_unmap(struct device *client, dma_addr_t dma, size_t size,
		      enum dma_data_direction dir, enum p2pmem_map_type map)
{
	struct pci_dev *pdev;

	if (map != P2PMEM_MAP_HOST_BRIDGE)
		return;		/* a bus address maps nothing */
	pdev = p2pmem_find_parent_pci_dev(client);
	if (!pdev) {
		/* A caller bug, but not worth a WARN (panic_on_warn). */
		dev_err(client, "p2pmem: %s() of a device with no PCI function: not the one mapped\n",
			__func__);
		return;
	}
	dma_unmap_resource(&pdev->dev, dma, size, dir, 0);
	pci_dev_put(pdev);
}
EXPORT_SYMBOL_GPL(p2pmem_dma_unmap);

/**
 * p2pmem_alloc_sgl - allocate peer-to-peer memory as a scatterlist
 * @p: the provider
 * @nents: out: number of entries in the list
 * @length: bytes to allocate
 *
 * Context: process context, may sleep.
 * Return: a one-entry scatterlist over zeroed memory, or NULL.
 */
struct scatterlist *p2pmem_alloc_sgl(struct p2pmem_dev *p,
				     unsigned int *nents, u32 length)
{
	struct scatterlist *sg;
	void *addr;

	sg = kmalloc(sizeof(*sg), GFP_KERNEL);
	if (!sg)
		return NULL;
	sg_init_table(sg, 1);
	addr = __p2pmem_alloc(p, length, _RET_IP_);
	if (!addr)
		goto free_sg;
	sg_set_buf(sg, addr, length);
	*nents = 1;
	return sg;

free_sg:
	kfree(sg);
	return NULL;
}
EXPORT_SYMBOL_GPL(p2pmem_alloc_sgl);

/**
 * p2pmem_free_sgl - free a scatterlist from p2pmem_alloc_sgl()
 * @p: the provider
 * @sgl: the list
 *
 * Context: any context.
 */
void p2pmem_free_sgl(struct p2pmem_dev *p, struct scatterlist *sgl)
{
	struct scatterlist *sg;
	int count;

	for_each_sg(sgl, sg, INT_MAX, count) {
		if (!sg)
			break;
		p2pmem_free(p, sg_virt(sg), sg->length);
	}
	kfree(sgl);
}
EXPORT_SYMBOL_GPL(p2pmem_free_sgl);

/**
 * p2pmem_register_removal - be told when a provider goes away
 * @p: the provider
 * @r: the callback; @r->remove runs once, in process context, when @p goes
 *	offline or is removed; the provider then waits until every page the
 *	client allocated is freed
 *
 * Context: process context.
 * Return: 0, or -ENODEV if @p is already offline.
 */
int p2pmem_register_removal(struct p2pmem_dev *p, struct p2pmem_removal *r)
{
	int ret = 0;

	mutex_lock(&p->lock);
	if (p2pmem_online(p))
		list_add_tail(&r->node, &p->removals);
	else
		ret = -ENODEV;
	mutex_unlock(&p->lock);
	return ret;
}
EXPORT_SYMBOL_GPL(p2pmem_register_removal);

/**
 * p2pmem_unregister_removal - no longer be told
 * @p: the provider
 * @r: a callback registered with p2pmem_register_removal()
 *
 * Safe whether or not the callback already ran.  If it is running, waits
 * until it returns, so that the caller may then free @r or unload the code
 * behind it.  Must not be called from the callback itself (it is already
 * off the list then).
 *
 * Context: process context, may sleep.
 */
void p2pmem_unregister_removal(struct p2pmem_dev *p, struct p2pmem_removal *r)
{
	mutex_lock(&p->lock);
	if (!list_empty(&r->node))
		list_del_init(&r->node);
	while (p->removal_running == r) {
		if (WARN_ON_ONCE(p->removal_task == current))
			break;		/* from its own callback: would deadlock */
		mutex_unlock(&p->lock);
		wait_event(p->removal_wq, READ_ONCE(p->removal_running) != r);
		mutex_lock(&p->lock);
	}
	mutex_unlock(&p->lock);
}
EXPORT_SYMBOL_GPL(p2pmem_unregister_removal);
