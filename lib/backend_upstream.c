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
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

/* Read the p2pmem/ directory of a function that has one. */
static int upstream_add(struct p2pmem_pci_dev *dev)
{
	uint64_t size, avail, published = 0;
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/p2pmem", dev->syspath);
	/* A p2pmem/ without a readable size is not usable memory. */
	if (p2pmem_read_u64_attr(dir, "size", &size) != 0)
		return 0;
	if (p2pmem_read_u64_attr(dir, "available", &avail) != 0)
		avail = 0;
	if (p2pmem_read_u64_attr(dir, "published", &published) != 0)
		published = 0;
	return p2pmem_provider_add(dev->ctx, dev, &p2pmem_backend_upstream,
				   dev->bdf, dir, size, avail, published != 0);
}

static int upstream_probe(struct p2pmem_pci_dev *dev)
{
	char dir[PATH_MAX];
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/p2pmem", dev->syspath);
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return 0;
	return upstream_add(dev);
}

/*
 * Nothing in sysfs indexes P2PDMA providers: the only sign is a p2pmem/
 * directory in the function's own. One fstatat per function, relative to
 * bus/pci/devices, is the whole cost for functions that are not providers;
 * only providers are read further.
 */
static int upstream_scan(struct p2pmem_ctx *ctx)
{
	char *devices = p2pmem_path(ctx, "bus/pci/devices");
	int dirfd, ret = 0;
	size_t i;

	if (!devices)
		return -ENOMEM;
	dirfd = open(devices, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(devices);
	if (dirfd < 0)
		return 0;	/* the PCI scan said why already */
	for (i = 0; i < ctx->ndevs && !ret; i++) {
		struct p2pmem_pci_dev *dev = ctx->devs[i];
		char rel[64];
		struct stat st;

		if (dev->provider_probed)
			continue;	/* asked already, by p2pmem_provider_of() */
		snprintf(rel, sizeof(rel), "%s/p2pmem", dev->entry);
		if (fstatat(dirfd, rel, &st, 0) != 0 || !S_ISDIR(st.st_mode))
			continue;
		dev = p2pmem_pci_lookup(ctx, dev->domain, dev->bus, dev->devfn);
		if (dev)
			ret = upstream_add(dev);
	}
	close(dirfd);
	return ret;
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
	.probe = upstream_probe,
	.map = upstream_map,
};
