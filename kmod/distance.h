/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The distance rule (distance.c), apart from the rest of the module so that
 * it also builds in userspace, against a shim of the kernel headers, for
 * the project's fixture tables.
 */
#ifndef P2PMEM_DISTANCE_H
#define P2PMEM_DISTANCE_H

#include <linux/types.h>

#include "include/p2pmem_client.h"

struct pci_dev;

bool p2pmem_through_host_bridge_ok(struct pci_dev *provider,
				   struct pci_dev *client, bool warn);

#endif /* P2PMEM_DISTANCE_H */
