/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2pmem in-kernel client API: drivers that want peer-to-peer memory for
 * their DMA on kernels without CONFIG_PCI_P2PDMA (and on those with it, for
 * the providers that upstream does not register, such as memory cards).
 *
 * The shape follows the 2017 p2pmem RFC (find a provider for a set of
 * clients, allocate, translate to bus addresses, get notified on removal)
 * with upstream P2PDMA's lessons applied:
 *  - a provider is chosen for *all* the clients that will touch the memory,
 *    with the same distance rule as drivers/pci/p2pdma.c;
 *  - references are explicit: every provider pointer handed out is counted,
 *    and every allocation pins the provider until it is freed;
 *  - removal is cooperative but bounded by the clients: a provider that goes
 *    away calls the registered removal callbacks, then waits for the
 *    clients' allocations to come back before its memory disappears.
 */
#ifndef _P2PMEM_CLIENT_H
#define _P2PMEM_CLIENT_H

#include <linux/dma-direction.h>
#include <linux/list.h>
#include <linux/pci.h>
#include <linux/scatterlist.h>
#include <linux/types.h>

struct p2pmem_dev;

/* The paths the distance rule knows (values as in uapi/p2pmem.h). */
enum p2pmem_map_type {
	P2PMEM_MAP_NOT_SUPPORTED = 0,
	P2PMEM_MAP_BUS_ADDR = 1,	/* through a switch, device to device */
	P2PMEM_MAP_HOST_BRIDGE = 2,	/* through a whitelisted root complex */
};

/**
 * struct p2pmem_removal - a client's interest in a provider going away
 * @remove: called once, in process context, when the provider goes offline
 *	or is removed; the client must stop DMA to the provider's memory and
 *	free its allocations (the provider waits for them).  It must not call
 *	p2pmem_unregister_removal() from the callback (it is already off the
 *	list when it runs); p2pmem_unregister_removal() from elsewhere waits
 *	for a callback that is running.
 * @node: private to p2pmem
 */
struct p2pmem_removal {
	void (*remove)(struct p2pmem_removal *r, struct p2pmem_dev *p);
	struct list_head node;
};

int p2pmem_pci_distance(struct pci_dev *provider, struct pci_dev *client,
			enum p2pmem_map_type *map, bool verbose);
int p2pmem_distance_many(struct p2pmem_dev *p, struct device **clients,
			 int num_clients, bool verbose,
			 enum p2pmem_map_type *map);
struct p2pmem_dev *p2pmem_find_many(struct device **clients, int num_clients,
				    enum p2pmem_map_type *map);
struct p2pmem_dev *p2pmem_find_by_pci(struct pci_dev *pdev);

struct p2pmem_dev *p2pmem_get(struct p2pmem_dev *p);
void p2pmem_put(struct p2pmem_dev *p);
struct pci_dev *p2pmem_pci_dev(struct p2pmem_dev *p);
const char *p2pmem_name(struct p2pmem_dev *p);

void *p2pmem_alloc(struct p2pmem_dev *p, size_t size);
void p2pmem_free(struct p2pmem_dev *p, void *addr, size_t size);
pci_bus_addr_t p2pmem_virt_to_bus(struct p2pmem_dev *p, void *addr);
dma_addr_t p2pmem_dma_map(struct p2pmem_dev *p, struct device *client,
			  void *addr, size_t size, enum dma_data_direction dir,
			  enum p2pmem_map_type *map);
void p2pmem_dma_unmap(struct device *client, dma_addr_t dma, size_t size,
		      enum dma_data_direction dir, enum p2pmem_map_type map);
struct scatterlist *p2pmem_alloc_sgl(struct p2pmem_dev *p,
				     unsigned int *nents, u32 length);
void p2pmem_free_sgl(struct p2pmem_dev *p, struct scatterlist *sgl);

struct dma_buf;
struct dma_buf *p2pmem_dmabuf_alloc(struct p2pmem_dev *p, size_t size);

int p2pmem_register_removal(struct p2pmem_dev *p, struct p2pmem_removal *r);
void p2pmem_unregister_removal(struct p2pmem_dev *p, struct p2pmem_removal *r);

#endif /* _P2PMEM_CLIENT_H */
