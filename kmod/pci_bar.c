// SPDX-License-Identifier: GPL-2.0
/*
 * Provider: p2pmem_pci, a PCI driver that turns a memory BAR of any device
 * into a p2pmem provider (a memory card, an FPGA's memory window, QEMU's
 * ivshmem-plain in the rig).
 *
 * It matches nothing by itself: a device is handed to it on purpose,
 *   echo p2pmem_pci > /sys/bus/pci/devices/<bdf>/driver_override
 *   echo <bdf> > /sys/bus/pci/drivers_probe
 * or with "echo <vendor> <device> > /sys/bus/pci/drivers/p2pmem_pci/new_id".
 * Owning the device (its BAR region requested, remove() called on unbind or
 * hot removal) is what makes the memory's lifetime ours to manage.
 *
 * On kernels with CONFIG_PCI_P2PDMA the BAR is registered with upstream
 * instead (pci_p2pdma_add_resource()): upstream's clients (O_DIRECT through
 * <bdf>/p2pmem/allocate, nvmet's p2pmem, pci_p2pmem_find()) then use the
 * card, and upstream's pages tear down with the device (its devm actions,
 * after remove()).  There is no upstream driver for a plain memory card:
 * this is it.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/dma-mapping.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>

#include "p2pmem_internal.h"

static int p2pmem_bar = -1;
module_param_named(bar, p2pmem_bar, int, 0644);
MODULE_PARM_DESC(bar, "BAR that p2pmem_pci exposes (default -1: the largest prefetchable memory BAR)");

/*
 * The largest prefetchable memory BAR: where memory cards keep their
 * memory (registers sit in small non-prefetchable BARs).  With force=1, a
 * device without one offers its largest memory BAR.
 */
static int p2pmem_pci_pick_bar(struct pci_dev *pdev)
{
	resource_size_t best_len = 0;
	int bar, best = -1, pass;

	for (pass = 0; pass < 2 && best < 0; pass++) {
		if (pass && !p2pmem_force)
			break;
		for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
			unsigned long flags = pci_resource_flags(pdev, bar);

			if (!(flags & IORESOURCE_MEM))
				continue;
			if (!pass && !(flags & IORESOURCE_PREFETCH))
				continue;
			if (pci_resource_len(pdev, bar) > best_len) {
				best_len = pci_resource_len(pdev, bar);
				best = bar;
			}
		}
	}
	return best;
}

struct p2pmem_pci_region {
	struct pci_dev *pdev;
	int bar;
};

static void p2pmem_pci_release_region(void *data)
{
	struct p2pmem_pci_region *r = data;

	pci_release_region(r->pdev, r->bar);
}

/*
 * P2PDMA kernels: hand the whole BAR to upstream, published as the
 * module's publish parameter says (0: only clients that name this device
 * use it).  Upstream checks the bus address offset and the alignment.
 * Our provider (/dev/p2pmemN) then takes its memory from upstream's pool
 * (upstream_pool.c).  The BAR region
 * stays requested until upstream's devm actions have torn its pages down
 * (devm actions run in reverse order: ours, added first, runs last).
 */
static int p2pmem_pci_add_upstream(struct pci_dev *pdev, int bar,
				   u64 *offset, u64 *size)
{
	struct p2pmem_pci_region *r;
	phys_addr_t start;
	int ret;

	r = devm_kzalloc(&pdev->dev, sizeof(*r), GFP_KERNEL);
	if (!r) {
		pci_release_region(pdev, bar);
		return -ENOMEM;
	}
	r->pdev = pdev;
	r->bar = bar;
	ret = devm_add_action_or_reset(&pdev->dev, p2pmem_pci_release_region, r);
	if (ret)
		return ret;

	/*
	 * Our fences (prefetchable unless force=1, no RAM) and an aligned
	 * range: upstream registers any range, and a BAR smaller than a
	 * memory section gets pages that memunmap_pages() cannot take down.
	 */
	*size = 0;
	ret = p2pmem_check_bar(pdev, bar, 0, size, &start, true);
	if (ret)
		return ret;
	*offset = start - pci_resource_start(pdev, bar);
	ret = pci_p2pdma_add_resource(pdev, bar, *size, *offset);
	if (ret) {
		pci_err(pdev, "p2pmem: registering BAR%d with upstream P2PDMA failed (%d)\n",
			bar, ret);
		return ret;
	}
	pci_p2pmem_publish(pdev, READ_ONCE(p2pmem_publish));
	pci_info(pdev, "p2pmem: BAR%d (%llu MiB) registered with upstream P2PDMA (%s): %s/p2pmem/\n",
		 bar, (unsigned long long)*size >> 20,
		 READ_ONCE(p2pmem_publish) ? "published" : "not published",
		 pci_name(pdev));
	return 0;
}

static int p2pmem_pci_probe(struct pci_dev *pdev,
			    const struct pci_device_id *id)
{
	int bar = READ_ONCE(p2pmem_bar);
	struct p2pmem_dev *p;
	u64 offset, size;
	int ret;

	if (bar < 0)
		bar = p2pmem_pci_pick_bar(pdev);
	if (bar < 0 || bar >= PCI_STD_NUM_BARS) {
		pci_err(pdev, "p2pmem: no usable memory BAR (bar=%d; default: the largest prefetchable; force=1 takes others)\n",
			READ_ONCE(p2pmem_bar));
		return -ENODEV;
	}

	ret = pci_enable_device_mem(pdev);
	if (ret)
		return ret;
	/*
	 * The device may be a client of its own memory (distance 0) and a
	 * DMA engine of its own; the DMA fences judge it by its mask, which
	 * without a driver's word is the PCI default of 32 bits.
	 */
	if (dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64)) &&
	    dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(32)))
		pci_warn(pdev, "p2pmem: no usable DMA mask\n");
	/* Exclusive: nobody else may map this BAR while we give it out. */
	ret = pci_request_region(pdev, bar, "p2pmem");
	if (ret)
		goto disable_device;

	if (IS_ENABLED(CONFIG_PCI_P2PDMA)) {
		/* From here on the region is released by a devm action. */
		ret = p2pmem_pci_add_upstream(pdev, bar, &offset, &size);
		if (ret)
			goto disable_device;
		/*
		 * /dev/p2pmemN on upstream's pool; without it (a BAR
		 * behind a bus offset) the card is upstream's alone.
		 */
		p = p2pmem_provider_create(pdev, bar, offset, size,
					   P2PMEM_KIND_MEMORY, NULL, NULL);
		if (!IS_ERR(p))
			pci_set_drvdata(pdev, p);
		return 0;
	}

	p = p2pmem_provider_create(pdev, bar, 0, 0, P2PMEM_KIND_MEMORY, NULL,
				   NULL);
	if (IS_ERR(p)) {
		ret = PTR_ERR(p);
		goto release_region;
	}
	pci_set_drvdata(pdev, p);
	return 0;

release_region:
	pci_release_region(pdev, bar);
disable_device:
	pci_disable_device(pdev);
	return ret;
}

static void p2pmem_pci_remove(struct pci_dev *pdev)
{
	struct p2pmem_dev *p = pci_get_drvdata(pdev);
	int bar;

	if (p) {
		bar = p->bar;
		p2pmem_provider_remove(p);
		if (!IS_ENABLED(CONFIG_PCI_P2PDMA))
			pci_release_region(pdev, bar);
	}
	/*
	 * P2PDMA kernels: upstream's pages, then the BAR region, go with the
	 * devm actions that run after this returns (they unmap
	 * p2pmem/allocate users and wait for every page to come back).
	 */
	pci_disable_device(pdev);
}

/*
 * AER: an uncompletable error below the provider (or on its link).  The
 * memory cannot be trusted any more: take the provider offline (mappings
 * revoked, kernel clients told) so that nothing keeps using it, and let
 * recovery reset the link, which the other devices below the same port
 * need.  The provider stays offline until the device is bound again.
 */
static pci_ers_result_t p2pmem_pci_error_detected(struct pci_dev *pdev,
						  pci_channel_state_t state)
{
	struct p2pmem_dev *p = pci_get_drvdata(pdev);

	if (p)
		p2pmem_provider_offline(p, "PCI error reported (AER)");
	else
		pci_warn(pdev, "p2pmem: PCI error reported (AER) on an upstream P2PDMA provider: its users are not told\n");
	if (state == pci_channel_io_perm_failure)
		return PCI_ERS_RESULT_DISCONNECT;
	return PCI_ERS_RESULT_NEED_RESET;
}

static pci_ers_result_t p2pmem_pci_slot_reset(struct pci_dev *pdev)
{
	return PCI_ERS_RESULT_RECOVERED;
}

static void p2pmem_pci_resume(struct pci_dev *pdev)
{
	struct p2pmem_dev *p = pci_get_drvdata(pdev);

	if (p)
		dev_info(&p->dev, "link recovered; stays offline until %s is bound again\n",
			 pci_name(pdev));
}

static const struct pci_error_handlers p2pmem_pci_err_handler = {
	.error_detected = p2pmem_pci_error_detected,
	.slot_reset = p2pmem_pci_slot_reset,
	.resume = p2pmem_pci_resume,
};

/* Empty on purpose: bind with driver_override or new_id. */
static const struct pci_device_id p2pmem_pci_ids[] = {
	{ }
};

static struct pci_driver p2pmem_pci_driver = {
	.name = "p2pmem_pci",
	.id_table = p2pmem_pci_ids,
	.probe = p2pmem_pci_probe,
	.remove = p2pmem_pci_remove,
	.err_handler = &p2pmem_pci_err_handler,
};

int p2pmem_pci_init(void)
{
	return pci_register_driver(&p2pmem_pci_driver);
}

void p2pmem_pci_exit(void)
{
	pci_unregister_driver(&p2pmem_pci_driver);
}
