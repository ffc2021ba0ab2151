// SPDX-License-Identifier: MIT
/*
 * Upstream P2PDMA (CONFIG_PCI_P2PDMA): a provider's function has a p2pmem/
 * directory with size, available and published; mmap of its `allocate`
 * file hands out memory (used by the buffer code, not here).
 */
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "internal.h"

static int upstream_scan(struct p2pmem_ctx *ctx)
{
	size_t i;

	for (i = 0; i < ctx->ndevs; i++) {
		struct p2pmem_pci_dev *dev = ctx->devs[i];
		uint64_t size, avail, published = 0;
		char dir[PATH_MAX];
		struct stat st;
		int ret;

		snprintf(dir, sizeof(dir), "%s/p2pmem", dev->syspath);
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
			continue;
		/* A p2pmem/ without a readable size is not usable memory. */
		if (p2pmem_read_u64_attr(dir, "size", &size) != 0)
			continue;
		if (p2pmem_read_u64_attr(dir, "available", &avail) != 0)
			avail = 0;
		if (p2pmem_read_u64_attr(dir, "published", &published) != 0)
			published = 0;
		ret = p2pmem_provider_add(ctx, dev, &p2pmem_backend_upstream,
					  dev->bdf, size, avail, published != 0);
		if (ret)
			return ret;
	}
	return 0;
}

const struct p2pmem_backend_ops p2pmem_backend_upstream = {
	.name = "upstream",
	.scan = upstream_scan,
};
