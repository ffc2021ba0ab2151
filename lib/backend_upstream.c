// SPDX-License-Identifier: MIT
/*
 * Upstream P2PDMA (CONFIG_PCI_P2PDMA, Linux >= 6.2 for userspace): a
 * provider's function has a p2pmem/ directory with size, available and
 * published; each mmap(MAP_SHARED, offset 0) of p2pmem/allocate is one
 * allocation from the provider's pool, freed on munmap.
 *
 * The kernel checks the clients itself only when they do I/O (O_DIRECT
 * to a device the provider cannot reach fails with EREMOTEIO); the pool
 * code judges them with the distance rule before mapping anything.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
					  dev->bdf, dir, size, avail, published != 0);
		if (ret)
			return ret;
	}
	return 0;
}

static int upstream_map(struct p2pmem_provider *prov,
			struct p2pmem_pci_dev *const *clients, size_t nclients,
			size_t len, void **addrp)
{
	struct p2pmem_ctx *ctx = prov->dev->ctx;
	char path[PATH_MAX];
	int fd, ret;

	(void)clients;
	(void)nclients;
	snprintf(path, sizeof(path), "%s/allocate", prov->path);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		p2pmem_set_error(ctx, "cannot open %s: %s%s", path, strerror(errno),
				 errno == EACCES ? " (p2p memory needs root)" : "");
		return ret;
	}
	return p2pmem_provider_mmap(prov, fd, len, addrp);
}

const struct p2pmem_backend_ops p2pmem_backend_upstream = {
	.name = "upstream",
	.scan = upstream_scan,
	.map = upstream_map,
};
