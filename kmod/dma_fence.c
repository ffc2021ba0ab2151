// SPDX-License-Identifier: GPL-2.0
/*
 * The DMA fences, on top of the distance rule (distance.c): they matter
 * because our pages look like RAM to the DMA API on stock kernels. A client
 * whose DMA would bounce through swiotlb never touches the BAR, and a client
 * behind a translating IOMMU sends its requests up to the root complex
 * whatever the switch could have done.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/dma-direct.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/module.h>
#include <linux/swiotlb.h>

#include "distance.h"
#include "p2pmem_internal.h"

/* A translating IOMMU domain: the device's DMA addresses are IOVAs. */
static bool p2pmem_iommu_translates(struct device *dev)
{
	struct iommu_domain *dom;

	if (!device_iommu_mapped(dev))
		return false;
	dom = iommu_get_domain_for_dev(dev);
	return dom && dom->type != IOMMU_DOMAIN_IDENTITY;
}

/**
 * p2pmem_describe_iommu - the IOMMU state of a device, in words
 * @dev: the device
 * @buf: where to write it
 * @len: size of @buf
 */
void p2pmem_describe_iommu(struct device *dev, char *buf, size_t len)
{
	struct iommu_domain *dom;
	const char *s;

	if (!device_iommu_mapped(dev)) {
		strscpy(buf, "none", len);
		return;
	}
	dom = iommu_get_domain_for_dev(dev);
	switch (dom ? dom->type : 0) {
	case IOMMU_DOMAIN_IDENTITY:
		s = "identity";
		break;
	case IOMMU_DOMAIN_DMA:
		s = "dma";
		break;
	case IOMMU_DOMAIN_DMA_FQ:
		s = "dma-fq";
		break;
	case IOMMU_DOMAIN_UNMANAGED:
		s = "unmanaged";
		break;
	case IOMMU_DOMAIN_BLOCKED:
		s = "blocked";
		break;
	default:
		s = "other";
		break;
	}
	strscpy(buf, s, len);
}

/*
 * The DMA fences: refuse clients whose DMA would not reach the BAR as
 * peer-to-peer traffic.  @map may be raised to the host bridge path.
 */
static int p2pmem_dma_fence(struct p2pmem_dev *p, struct pci_dev *client,
			    enum p2pmem_map_type *map, const char *who)
{
	struct device *dev = &client->dev;
	u64 last = p->phys + p->size - 1;
	char iommu[24];

	if (is_swiotlb_force_bounce(dev)) {
		if (who)
			dev_notice(&p->dev, "%s: client %s refused: its DMA is forced through swiotlb bounce buffers (memory encryption, swiotlb=force)\n",
				   who, pci_name(client));
		return -EREMOTEIO;
	}
	if (p2pmem_iommu_translates(dev)) {
		p2pmem_describe_iommu(dev, iommu, sizeof(iommu));
		if (client->untrusted) {
			if (who)
				dev_notice(&p->dev, "%s: client %s refused: an untrusted (external) device behind an IOMMU gets bounce buffers\n",
					   who, pci_name(client));
			return -EREMOTEIO;
		}
		/*
		 * Its driver maps our pages like RAM, so the device would
		 * reach its own BAR through an IOVA that loops up through the
		 * root complex and back down: devices do not serve that (QEMU
		 * blocks the re-entrant access and completes the command with
		 * success, the data wrong).  Upstream hands a device its own
		 * memory by bus address; we cannot make its driver do that.
		 */
		if (client == p->pdev) {
			if (who)
				dev_notice(&p->dev, "%s: client %s refused: it is the provider itself and its DMA is translated by the IOMMU (domain %s); an identity domain (iommu=pt) lets it use its own memory\n",
					   who, pci_name(client), iommu);
			return -EREMOTEIO;
		}
		/*
		 * Its requests carry IOVAs, which only the root complex
		 * translates: the path is through the host bridge even below
		 * a common switch.
		 */
		if (*map == P2PMEM_MAP_BUS_ADDR &&
		    !p2pmem_through_host_bridge_ok(p->pdev, client, !!who)) {
			if (who)
				dev_notice(&p->dev, "%s: client %s refused: behind a translating IOMMU (domain %s) its DMA goes through the host bridge, which is not whitelisted\n",
					   who, pci_name(client), iommu);
			return -EREMOTEIO;
		}
		*map = P2PMEM_MAP_HOST_BRIDGE;
		if (who)
			dev_info(&p->dev, "%s: client %s is behind a translating IOMMU (domain %s): DMA goes through the host bridge\n",
				 who, pci_name(client), iommu);
		return 0;
	}
	/*
	 * dma-direct gives the device phys_to_dma() of our pages, which are
	 * RAM to it: that must be the BAR's bus address, or the DMA lands
	 * elsewhere (a memory-encryption bit, a dma_range_map offset).
	 */
	if (phys_to_dma(dev, p->phys) != p->phys ||
	    phys_to_dma(dev, last) != last) {
		if (who)
			dev_notice(&p->dev, "%s: client %s refused: it would address the BAR as %#llx, not by its bus address %pa\n",
				   who, pci_name(client),
				   (unsigned long long)phys_to_dma(dev, p->phys), &p->phys);
		return -EREMOTEIO;
	}
	/*
	 * dma-direct bounces what the device cannot address.  Without a
	 * driver the mask is the PCI default and says nothing yet.
	 */
	if (dev->driver) {
		u64 limit = min_not_zero(dma_get_mask(dev), dev->bus_dma_limit);

		if (last > limit) {
			if (who)
				dev_notice(&p->dev, "%s: client %s refused: its DMA limit %#llx does not reach the BAR (ends at %#llx): it would bounce\n",
					   who, pci_name(client), limit, last);
			return -EREMOTEIO;
		}
	}
	return 0;
}

/**
 * p2pmem_check_clients - may these clients use this provider's memory?
 * @p: the provider
 * @clients: the PCI functions that will DMA to or from the memory
 * @n: how many (at least one)
 * @distance: out: the sum of the distances
 * @map: out: the worst path (host bridge if any client needs it)
 * @who: names the asker in the log; NULL: decide quietly
 *
 * Return: 0, or -EREMOTEIO with the reason in the kernel log.
 */
int p2pmem_check_clients(struct p2pmem_dev *p, struct pci_dev **clients,
			 int n, int *distance, enum p2pmem_map_type *map,
			 const char *who)
{
	enum p2pmem_map_type m, worst = P2PMEM_MAP_BUS_ADDR;
	int i, d, total = 0, ret = 0;

	for (i = 0; i < n; i++) {
		d = p2pmem_pci_distance(p->pdev, clients[i], &m, !!who);
		if (d < 0) {
			if (who)
				dev_notice(&p->dev, "%s: client %s refused: it and provider %s do not share an upstream bridge or whitelisted host bridge\n",
					   who, pci_name(clients[i]),
					   pci_name(p->pdev));
			ret = -EREMOTEIO;
			if (!who)
				break;
			continue;
		}
		if (p2pmem_dma_fence(p, clients[i], &m, who)) {
			ret = -EREMOTEIO;
			if (!who)
				break;
			continue;
		}
		total += d;
		if (m == P2PMEM_MAP_HOST_BRIDGE)
			worst = m;
	}
	if (ret)
		return ret;
	*distance = total;
	*map = worst;
	if (who)
		dev_dbg(&p->dev, "%s: %d clients accepted, distance %d, %s\n",
			who, n, total,
			worst == P2PMEM_MAP_BUS_ADDR ? "bus-addr" : "host-bridge");
	return 0;
}
