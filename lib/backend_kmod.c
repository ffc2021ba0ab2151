// SPDX-License-Identifier: MIT
/*
 * p2pmem.ko (kernels without CONFIG_PCI_P2PDMA): class p2pmem, devices
 * /sys/class/p2pmem/p2pmemN (device -> the provider's PCI function) and
 * /dev/p2pmemN. An open file declares its clients (the module applies the
 * distance rule again, in the kernel), then each mmap(MAP_SHARED, offset 0)
 * is one zeroed allocation. See kmod/uapi/p2pmem.h.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "internal.h"
#include "../kmod/uapi/p2pmem.h"

static int kmod_scan(struct p2pmem_ctx *ctx)
{
	struct dirent *de;
	char *classdir;
	DIR *dir;
	int ret = 0;

	if (ctx->kmod_scanned)
		return 0;
	ctx->kmod_scanned = true;
	classdir = p2pmem_path(ctx, "class/p2pmem");
	if (!classdir)
		return -ENOMEM;
	dir = opendir(classdir);
	if (!dir) {
		free(classdir);
		return 0;	/* module not loaded: no providers of this kind */
	}
	while ((de = readdir(dir)) != NULL && !ret) {
		char link[PATH_MAX], state[32] = "online";
		uint64_t size, avail = 0, published = 0;
		struct p2pmem_pci_dev *dev;
		char *devdir, *pcidir;

		if (strncmp(de->d_name, "p2pmem", 6) != 0)
			continue;
		snprintf(link, sizeof(link), "%s/%s", classdir, de->d_name);
		devdir = p2pmem_resolve_link(link);
		if (!devdir)
			continue;
		snprintf(link, sizeof(link), "%s/device", devdir);
		pcidir = p2pmem_resolve_link(link);
		dev = pcidir ? p2pmem_pci_dev_from_syspath(ctx, pcidir) : NULL;
		free(pcidir);
		/* An offline provider (device going away) offers nothing. */
		p2pmem_read_attr(devdir, "state", state, sizeof(state));
		if (dev && strcmp(state, "online") == 0 &&
		    p2pmem_read_u64_attr(devdir, "size", &size) == 0) {
			p2pmem_read_u64_attr(devdir, "available", &avail);
			p2pmem_read_u64_attr(devdir, "published", &published);
			ret = p2pmem_provider_add(ctx, dev, &p2pmem_backend_kmod,
						  de->d_name, devdir, size, avail,
						  published != 0);
		}
		free(devdir);
	}
	closedir(dir);
	free(classdir);
	return ret;
}

/*
 * Which function a /dev/p2pmemN serves is known only from its class
 * directory; p2pmem.ko serves a handful at most, so asking about one
 * function reads them all, once.
 */
static int kmod_probe(struct p2pmem_pci_dev *dev)
{
	return kmod_scan(dev->ctx);
}

/* Open the provider's device node, named after its class device. */
static int kmod_open(struct p2pmem_provider *prov)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", prov->name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fd = -errno;
		p2pmem_set_error(prov->dev->ctx, "cannot open %s: %s%s", path, strerror(-fd),
				 fd == -EACCES ? " (mode 0600 root by default; see kmod/99-p2pmem.rules)" : "");
	}
	return fd;
}

static int kmod_map(struct p2pmem_provider *prov,
		    struct p2pmem_pci_dev *const *clients, size_t nclients,
		    size_t len, void **addrp)
{
	struct p2pmem_ctx *ctx = prov->dev->ctx;
	uint32_t ids[P2PMEM_MAX_CLIENTS];
	struct p2pmem_clients decl = { 0 };
	size_t i;
	int fd, ret;

	if (nclients == 0 || nclients > P2PMEM_MAX_CLIENTS) {
		p2pmem_set_error(ctx, "p2pmem.ko takes 1 to %d clients, not %zu",
				 P2PMEM_MAX_CLIENTS, nclients);
		return -EINVAL;
	}
	for (i = 0; i < nclients; i++)
		ids[i] = P2PMEM_PCI_ID(clients[i]->domain, clients[i]->bus,
				       clients[i]->devfn);
	decl.nclients = (uint32_t)nclients;
	decl.clients = (uint64_t)(uintptr_t)ids;

	fd = kmod_open(prov);
	if (fd < 0)
		return fd;
	if (ioctl(fd, P2PMEM_IOC_SET_CLIENTS, &decl) != 0) {
		ret = -errno;
		p2pmem_set_error(ctx, "%s refuses the clients: %s (the kernel log says why)",
				 prov->name, strerror(errno));
		close(fd);
		return ret;
	}
	return p2pmem_provider_mmap(prov, fd, len, addrp);
}

const struct p2pmem_backend_ops p2pmem_backend_kmod = {
	.name = "kmod",
	.scan = kmod_scan,
	.probe = kmod_probe,
	.map = kmod_map,
	.watch = kmod_open,	/* any open file polls EPOLLHUP once revoked */
};
