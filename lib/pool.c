// SPDX-License-Identifier: MIT
/*
 * Pools: buffers carved out of large mappings of one provider's memory.
 *
 * A mapping costs a system call, a trip through the provider's allocator
 * and, for fresh p2p memory, zeroing by the kernel (~64 us for 64 KiB in
 * the rig), while a sub-allocation is a walk of a short free list. So the
 * pool maps chunk_size at a time and hands out 4 KiB-aligned pieces
 * (O_DIRECT needs the alignment); P2PMEM_POOL_NO_SUBALLOC maps once per
 * buffer, the baseline for the benchmark.
 *
 * Host memory is a pool too (P2PMEM_POOL_HOST, or the fallback allowed by
 * P2PMEM_POOL_ALLOW_HOST), so a copy engine has one code path; it is
 * always described as a host bounce.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define BUF_ALIGN 4096u
#define DEFAULT_CHUNK (4u << 20)

struct free_range {
	size_t off;
	size_t len;
	struct free_range *next;	/* by offset */
};

struct pool_chunk {
	void *addr;
	size_t len;
	struct free_range *free;
	struct pool_chunk *next;
};

struct p2pmem_buf {
	struct p2pmem_pool *pool;
	struct pool_chunk *chunk;
	size_t off;
	size_t len;
	struct p2pmem_buf *next_free;	/* in the pool's recycle list */
};

/*
 * Freed buffers wait in a short LIFO list before their range goes back to
 * the chunk: the common pattern (a copy loop freeing and allocating the
 * same size) then costs a pointer swap, no malloc and no list walk.
 */
#define RECYCLE_MAX 64

struct p2pmem_pool {
	struct p2pmem_ctx *ctx;
	struct p2pmem_provider *provider;	/* NULL: host memory */
	struct p2pmem_pci_dev **clients;
	size_t nclients;
	size_t chunk_size;
	unsigned int flags;
	struct pool_chunk *chunks;
	uint64_t mapped;
	struct p2pmem_buf *recycled;		/* freed, range still held */
	size_t nrecycled;
	int watch_fd;				/* p2pmem_pool_watch_fd(), or -1 */
	char desc[128];
};

static size_t round_up(size_t v, size_t a)
{
	return (v + a - 1) / a * a;
}

/* Judge @prov for the pool's clients; 0 if it serves them all. */
static int provider_ok(struct p2pmem_pool *pool, struct p2pmem_provider *prov)
{
	struct p2pmem_verdict *v;
	int ret;

	ret = p2pmem_distance(pool->ctx, prov->dev, pool->clients, pool->nclients, &v);
	if (ret)
		return ret;
	if (p2pmem_verdict_map_type(v) == P2PMEM_MAP_NOT_SUPPORTED) {
		p2pmem_set_error(pool->ctx, "provider %s cannot serve these clients: %s",
				 prov->dev->bdf, p2pmem_verdict_reason(v));
		ret = -EREMOTEIO;
	}
	p2pmem_verdict_free(v);
	return ret;
}

static int map_chunk(struct p2pmem_pool *pool, size_t len, struct pool_chunk **chunkp);

/*
 * Ask the provider's backend for the pool's first chunk, and keep it:
 * p2pmem.ko judges the clients again in the kernel (where it knows the
 * IOMMU domains and DMA limits that sysfs does not show) and a provider
 * may be out of memory, so a refusal shows up here, while another provider
 * can still be chosen, and not in a copy's first I/O. The memory is what
 * the first buffers are cut from: proving costs no extra mapping. A pool
 * of one mapping per buffer proves with a page given back at once.
 */
static int provider_probe(struct p2pmem_pool *pool, struct p2pmem_provider *prov)
{
	struct pool_chunk *chunk;
	void *addr;
	int ret;

	if (!(pool->flags & P2PMEM_POOL_NO_SUBALLOC)) {
		pool->provider = prov;
		ret = map_chunk(pool, pool->chunk_size, &chunk);
		if (ret)
			pool->provider = NULL;
		return ret;
	}
	ret = prov->backend->map(prov, pool->clients, pool->nclients, BUF_ALIGN, &addr);
	if (ret == 0)
		munmap(addr, BUF_ALIGN);
	return ret;
}

static int choose_provider(struct p2pmem_pool *pool)
{
	struct p2pmem_verdict **ranking;
	char refused[512] = "";
	size_t n, i;
	int ret;

	ret = p2pmem_find_best_provider(pool->ctx, pool->clients, pool->nclients,
					&ranking, &n);
	if (ret)
		return ret;
	ret = -EREMOTEIO;
	for (i = 0; i < n && ret; i++) {
		struct p2pmem_provider *prov = p2pmem_verdict_provider(ranking[i])->provider;

		if (p2pmem_verdict_map_type(ranking[i]) == P2PMEM_MAP_NOT_SUPPORTED ||
		    !prov->published)
			break;	/* the ranking puts the usable ones first */
		ret = provider_probe(pool, prov);
		if (ret == 0)
			pool->provider = prov;
		else if (ret == -EREMOTEIO && !refused[0])
			snprintf(refused, sizeof(refused), "%s", p2pmem_ctx_last_error(pool->ctx));
		else if (ret != -EREMOTEIO)
			break;
	}
	if (ret == -EREMOTEIO) {
		if (n == 0)
			p2pmem_set_error(pool->ctx, "no p2p memory provider on this system (see `p2pmem list`)");
		else if (refused[0])
			p2pmem_set_error(pool->ctx, "every provider that reaches all the devices refused them when asked: %s",
					 refused);
		else
			p2pmem_set_error(pool->ctx, "no published provider reaches all the devices; the closest, %s: %s",
					 p2pmem_verdict_provider(ranking[0])->bdf,
					 p2pmem_verdict_reason(ranking[0]));
	}
	for (i = 0; i < n; i++)
		p2pmem_verdict_free(ranking[i]);
	free(ranking);
	return ret;
}

int p2pmem_pool_new(struct p2pmem_ctx *ctx, const struct p2pmem_pool_opts *opts,
		    struct p2pmem_pool **poolp)
{
	struct p2pmem_pool *pool;
	int ret;

	*poolp = NULL;
	p2pmem_clear_error(ctx);
	if (!opts || opts->size != sizeof(*opts) ||
	    (!(opts->flags & P2PMEM_POOL_HOST) && (!opts->clients || !opts->nclients))) {
		p2pmem_set_error(ctx, "a p2p pool needs its clients (the devices that will DMA to it)");
		return -EINVAL;
	}
	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->ctx = ctx;
	pool->watch_fd = -1;
	pool->flags = opts->flags;
	pool->chunk_size = round_up(opts->chunk_size ? opts->chunk_size : DEFAULT_CHUNK, BUF_ALIGN);
	pool->nclients = opts->nclients;
	if (opts->nclients) {
		pool->clients = calloc(opts->nclients, sizeof(*pool->clients));
		if (!pool->clients) {
			ret = -ENOMEM;
			goto err_free;
		}
		memcpy(pool->clients, opts->clients, opts->nclients * sizeof(*pool->clients));
	}

	if (!(opts->flags & P2PMEM_POOL_HOST)) {
		if (opts->provider) {
			ret = provider_ok(pool, opts->provider);
			if (!ret)
				ret = provider_probe(pool, opts->provider);
		} else {
			ret = choose_provider(pool);
		}
		if (ret == 0 && opts->provider)
			pool->provider = opts->provider;
		if (ret == -EREMOTEIO && (opts->flags & P2PMEM_POOL_ALLOW_HOST))
			ret = 0;	/* a host bounce, allowed and reported */
		if (ret)
			goto err_free;
	}
	if (pool->provider)
		/* A memory card p2pmem.ko registered with upstream: say so. */
		snprintf(pool->desc, sizeof(pool->desc), "p2p %s (%s, %s %s%s)",
			 pool->provider->dev->bdf, pool->provider->kind,
			 pool->provider->backend->name, pool->provider->name,
			 pool->provider->backend == &p2pmem_backend_upstream &&
			 pool->provider->dev->driver &&
			 !strcmp(pool->provider->dev->driver, "p2pmem_pci") ?
			 ", served by p2pmem.ko" : "");
	else
		snprintf(pool->desc, sizeof(pool->desc), "host memory (bounce%s)",
			 opts->flags & P2PMEM_POOL_HOST ? "" : ": no provider reaches all the devices");
	*poolp = pool;
	return 0;

err_free:
	free(pool->clients);
	free(pool);
	return ret;
}

static int map_chunk(struct p2pmem_pool *pool, size_t len, struct pool_chunk **chunkp)
{
	struct pool_chunk *chunk = calloc(1, sizeof(*chunk));
	int ret;

	if (!chunk)
		return -ENOMEM;
	chunk->free = calloc(1, sizeof(*chunk->free));
	if (!chunk->free) {
		free(chunk);
		return -ENOMEM;
	}
	if (pool->provider) {
		ret = pool->provider->backend->map(pool->provider, pool->clients,
						   pool->nclients, len, &chunk->addr);
	} else {
		chunk->addr = mmap(NULL, len, PROT_READ | PROT_WRITE,
				   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		ret = chunk->addr == MAP_FAILED ? -errno : 0;
		if (ret)
			p2pmem_set_error(pool->ctx, "cannot map %zu bytes of host memory: %s",
					 len, strerror(-ret));
	}
	if (ret) {
		free(chunk->free);
		free(chunk);
		return ret;
	}
	chunk->len = len;
	chunk->free->len = len;
	chunk->next = pool->chunks;
	pool->chunks = chunk;
	pool->mapped += len;
	*chunkp = chunk;
	return 0;
}

/* First fit in @chunk; true and @off set when @len fits. */
static bool chunk_take(struct pool_chunk *chunk, size_t len, size_t *off)
{
	struct free_range **pos, *r;

	for (pos = &chunk->free; (r = *pos) != NULL; pos = &r->next) {
		if (r->len < len)
			continue;
		*off = r->off;
		r->off += len;
		r->len -= len;
		if (!r->len) {
			*pos = r->next;
			free(r);
		}
		return true;
	}
	return false;
}

/* Give [off, off+len) back to @chunk, merging with its neighbours. */
static int chunk_give(struct pool_chunk *chunk, size_t off, size_t len)
{
	struct free_range **pos = &chunk->free, *prev = NULL, *r;

	while (*pos && (*pos)->off < off) {
		prev = *pos;
		pos = &(*pos)->next;
	}
	if (prev && prev->off + prev->len == off) {
		prev->len += len;
		if (*pos && prev->off + prev->len == (*pos)->off) {
			r = *pos;
			prev->len += r->len;
			prev->next = r->next;
			free(r);
		}
		return 0;
	}
	if (*pos && off + len == (*pos)->off) {
		(*pos)->off = off;
		(*pos)->len += len;
		return 0;
	}
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->off = off;
	r->len = len;
	r->next = *pos;
	*pos = r;
	return 0;
}

static void recycle_drain(struct p2pmem_pool *pool);

int p2pmem_buf_alloc(struct p2pmem_pool *pool, size_t len, struct p2pmem_buf **bufp)
{
	struct p2pmem_buf *buf;
	struct pool_chunk *chunk = NULL;
	size_t off = 0;
	int ret;

	*bufp = NULL;
	if (!len)
		return -EINVAL;
	len = round_up(len, BUF_ALIGN);
	for (struct p2pmem_buf **pos = &pool->recycled; *pos; pos = &(*pos)->next_free) {
		if ((*pos)->len == len) {
			buf = *pos;
			*pos = buf->next_free;
			pool->nrecycled--;
			*bufp = buf;
			return 0;
		}
	}
	buf = malloc(sizeof(*buf));
	if (!buf)
		return -ENOMEM;
	if (!(pool->flags & P2PMEM_POOL_NO_SUBALLOC)) {
		/* Recycled ranges of other sizes may make room: merge them. */
		if (pool->recycled)
			recycle_drain(pool);
		for (chunk = pool->chunks; chunk; chunk = chunk->next)
			if (chunk_take(chunk, len, &off))
				break;
	}
	if (!chunk) {
		size_t maplen = (pool->flags & P2PMEM_POOL_NO_SUBALLOC) ||
				len > pool->chunk_size ? len : pool->chunk_size;

		ret = map_chunk(pool, maplen, &chunk);
		if (ret) {
			free(buf);
			return ret;
		}
		chunk_take(chunk, len, &off);
	}
	buf->pool = pool;
	buf->chunk = chunk;
	buf->off = off;
	buf->len = len;
	*bufp = buf;
	return 0;
}

static void chunk_unmap(struct p2pmem_pool *pool, struct pool_chunk *chunk)
{
	struct pool_chunk **pos;
	struct free_range *r, *next;

	for (pos = &pool->chunks; *pos; pos = &(*pos)->next) {
		if (*pos == chunk) {
			*pos = chunk->next;
			break;
		}
	}
	munmap(chunk->addr, chunk->len);
	pool->mapped -= chunk->len;
	for (r = chunk->free; r; r = next) {
		next = r->next;
		free(r);
	}
	free(chunk);
}

/* Return a buffer's range to its chunk for good. */
static void buf_release(struct p2pmem_pool *pool, struct p2pmem_buf *buf)
{
	/*
	 * A one-buffer mapping goes back to the provider at once. Should the
	 * free list need memory we do not have, the range stays lost until
	 * the pool is freed: other buffers live in the same chunk.
	 */
	if (pool->flags & P2PMEM_POOL_NO_SUBALLOC)
		chunk_unmap(pool, buf->chunk);
	else
		(void)chunk_give(buf->chunk, buf->off, buf->len);
	free(buf);
}

void p2pmem_buf_free(struct p2pmem_buf *buf)
{
	struct p2pmem_pool *pool;

	if (!buf)
		return;
	pool = buf->pool;
	if (!(pool->flags & P2PMEM_POOL_NO_SUBALLOC) && pool->nrecycled < RECYCLE_MAX) {
		buf->next_free = pool->recycled;
		pool->recycled = buf;
		pool->nrecycled++;
		return;
	}
	buf_release(pool, buf);
}

/* Give every recycled range back (before a bigger allocation, or unmap). */
static void recycle_drain(struct p2pmem_pool *pool)
{
	while (pool->recycled) {
		struct p2pmem_buf *buf = pool->recycled;

		pool->recycled = buf->next_free;
		buf_release(pool, buf);
	}
	pool->nrecycled = 0;
}

void p2pmem_pool_free(struct p2pmem_pool *pool)
{
	if (!pool)
		return;
	recycle_drain(pool);
	while (pool->chunks)
		chunk_unmap(pool, pool->chunks);
	if (pool->watch_fd >= 0)
		close(pool->watch_fd);
	free(pool->clients);
	free(pool);
}

int p2pmem_pool_watch_fd(struct p2pmem_pool *pool)
{
	if (!pool->provider || !pool->provider->backend->watch)
		return -EOPNOTSUPP;
	if (pool->watch_fd < 0)
		pool->watch_fd = pool->provider->backend->watch(pool->provider);
	return pool->watch_fd;
}

struct p2pmem_provider *p2pmem_pool_provider(const struct p2pmem_pool *pool)
{
	return pool->provider;
}

const char *p2pmem_pool_describe(const struct p2pmem_pool *pool)
{
	return pool->desc;
}

uint64_t p2pmem_pool_mapped(const struct p2pmem_pool *pool)
{
	return pool->mapped;
}

void *p2pmem_buf_addr(const struct p2pmem_buf *buf)
{
	return (char *)buf->chunk->addr + buf->off;
}

size_t p2pmem_buf_len(const struct p2pmem_buf *buf)
{
	return buf->len;
}
