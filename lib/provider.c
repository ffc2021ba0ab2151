// SPDX-License-Identifier: MIT
/*
 * Providers: functions whose BAR memory serves as p2p memory. Each backend
 * (upstream P2PDMA, p2pmem.ko) finds its own; the rest of the library sees
 * one list, in BDF order.
 *
 * Providers are looked for when first asked for: the whole list when
 * someone walks or ranks it, one function's when a caller names it
 * (check --provider, copy --provider), which then costs no scan of the
 * other functions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

/* Upstream first: where the kernel itself provides, it is the owner. */
static const struct p2pmem_backend_ops *const backends[] = {
	&p2pmem_backend_upstream,
	&p2pmem_backend_kmod,
};

/* What the memory is, from the class of the function providing it. */
static const char *provider_kind(const struct p2pmem_pci_dev *dev)
{
	if (dev->class == 0x010802)
		return "nvme-cmb";
	if ((dev->class >> 16) == 0x05)
		return "memory";
	if ((dev->class >> 16) == 0x03 || (dev->class >> 16) == 0x12)
		return "gpu";
	return "other";
}

static size_t backend_rank(const struct p2pmem_backend_ops *backend)
{
	size_t i;

	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		if (backends[i] == backend)
			break;
	return i;
}

static void provider_remove(struct p2pmem_ctx *ctx, struct p2pmem_provider *prov)
{
	struct p2pmem_provider **pos;

	for (pos = &ctx->providers; *pos; pos = &(*pos)->next) {
		if (*pos == prov) {
			*pos = prov->next;
			break;
		}
	}
	prov->dev->provider = NULL;
	ctx->nproviders--;
	free(prov->path);
	free(prov);
}

/**
 * p2pmem_provider_add() - record a provider found by a backend
 *
 * A function has at most one provider; where two backends offer the same
 * function (p2pmem.ko next to upstream), the earlier backend in backends[]
 * wins whichever was asked first. A provider is handed out only after its
 * function was asked of every backend, so a replaced one was never seen.
 */
int p2pmem_provider_add(struct p2pmem_ctx *ctx, struct p2pmem_pci_dev *dev,
			const struct p2pmem_backend_ops *backend,
			const char *name, const char *path, uint64_t size,
			uint64_t available, bool published)
{
	struct p2pmem_provider *prov, **pos;

	if (dev->provider) {
		if (backend_rank(dev->provider->backend) <= backend_rank(backend))
			return 0;
		provider_remove(ctx, dev->provider);
	}
	prov = calloc(1, sizeof(*prov));
	if (!prov)
		return -ENOMEM;
	prov->dev = dev;
	prov->path = strdup(path);
	if (!prov->path) {
		free(prov);
		return -ENOMEM;
	}
	prov->backend = backend;
	prov->kind = provider_kind(dev);
	snprintf(prov->name, sizeof(prov->name), "%s", name);
	prov->size = size;
	prov->available = available > size ? size : available;
	prov->published = published;

	for (pos = &ctx->providers; *pos; pos = &(*pos)->next) {
		const struct p2pmem_pci_dev *o = (*pos)->dev;

		if (o->domain > dev->domain || (o->domain == dev->domain &&
		    (o->bus > dev->bus || (o->bus == dev->bus && o->devfn > dev->devfn))))
			break;
	}
	prov->next = *pos;
	*pos = prov;
	dev->provider = prov;
	ctx->nproviders++;
	return 0;
}

/**
 * p2pmem_provider_mmap() - one allocation: map @len bytes of @fd, close it
 *
 * Both backends allocate the same way, one MAP_SHARED mapping at offset 0
 * of an open file; the mapping keeps the allocation, not the file.
 */
int p2pmem_provider_mmap(struct p2pmem_provider *prov, int fd, size_t len,
			 void **addrp)
{
	void *addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int ret = addr == MAP_FAILED ? -errno : 0;

	close(fd);
	if (ret) {
		p2pmem_set_error(prov->dev->ctx, "cannot allocate %zu bytes from %s (%s): %s%s",
				 len, prov->dev->bdf, prov->name, strerror(-ret),
				 ret == -ENOMEM ? " (its p2p memory is used up)" : "");
		return ret;
	}
	*addrp = addr;
	return 0;
}

static void scan_failed(struct p2pmem_ctx *ctx, int ret)
{
	if (ret == -ENOMEM)
		p2pmem_set_error(ctx, "out of memory while looking for p2p memory providers");
}

/**
 * p2pmem_providers_load() - every provider of every backend, once
 *
 * Out of memory leaves providers out (and says so in the context's error):
 * the accessors that call this cannot fail.
 */
void p2pmem_providers_load(const struct p2pmem_ctx *cctx)
{
	struct p2pmem_ctx *ctx = (struct p2pmem_ctx *)cctx;
	size_t i;
	int ret;

	if (ctx->providers_loaded)
		return;
	ctx->providers_loaded = true;
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		ret = backends[i]->scan(ctx);
		if (ret)
			scan_failed(ctx, ret);
	}
}

/**
 * p2pmem_provider_of() - the provider of one function, asking every backend
 * about this function only
 */
struct p2pmem_provider *p2pmem_provider_of(const struct p2pmem_pci_dev *cdev)
{
	struct p2pmem_pci_dev *dev = (struct p2pmem_pci_dev *)cdev;
	size_t i;
	int ret;

	if (dev->provider_probed || dev->ctx->providers_loaded)
		return dev->provider;
	dev->provider_probed = true;
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		ret = backends[i]->probe(dev);
		if (ret)
			scan_failed(dev->ctx, ret);
	}
	return dev->provider;
}

void p2pmem_providers_free(struct p2pmem_ctx *ctx)
{
	struct p2pmem_provider *prov, *next;

	for (prov = ctx->providers; prov; prov = next) {
		next = prov->next;
		free(prov->path);
		free(prov);
	}
	ctx->providers = NULL;
	ctx->nproviders = 0;
	ctx->providers_loaded = false;
	ctx->kmod_scanned = false;
}

struct p2pmem_provider *p2pmem_provider_first(struct p2pmem_ctx *ctx)
{
	p2pmem_providers_load(ctx);
	return ctx->providers;
}

struct p2pmem_provider *p2pmem_provider_next(struct p2pmem_provider *prov)
{
	return prov->next;
}

size_t p2pmem_provider_count(const struct p2pmem_ctx *ctx)
{
	p2pmem_providers_load(ctx);
	return ctx->nproviders;
}

struct p2pmem_pci_dev *p2pmem_provider_pci_dev(const struct p2pmem_provider *prov)
{
	return prov->dev;
}

const char *p2pmem_provider_kind(const struct p2pmem_provider *prov) { return prov->kind; }
const char *p2pmem_provider_backend(const struct p2pmem_provider *prov) { return prov->backend->name; }
const char *p2pmem_provider_name(const struct p2pmem_provider *prov) { return prov->name; }
uint64_t p2pmem_provider_size(const struct p2pmem_provider *prov) { return prov->size; }
uint64_t p2pmem_provider_available(const struct p2pmem_provider *prov) { return prov->available; }
bool p2pmem_provider_published(const struct p2pmem_provider *prov) { return prov->published; }
