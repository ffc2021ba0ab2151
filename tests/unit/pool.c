// SPDX-License-Identifier: MIT
/*
 * Pools: sub-allocation (alignment, no overlap, reuse after free, one
 * mapping per buffer when asked), and where a pool's memory comes from:
 * the best provider, a named one, a refusal, or an allowed host bounce;
 * which pools can report revocation (p2pmem_pool_watch_fd()).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "unit.h"

static void check_host_suballoc(void)
{
	struct p2pmem_pool_opts po = { .size = sizeof(po), .flags = P2PMEM_POOL_HOST,
				       .chunk_size = 1 << 20 };
	struct p2pmem_buf *b[8], *x;
	struct p2pmem_pool *pool;
	struct p2pmem_ctx *ctx = unit_ctx("switch", NULL);
	size_t i, j;

	CHECK_EQ_INT(p2pmem_pool_new(ctx, &po, &pool), 0);
	CHECK(p2pmem_pool_provider(pool) == NULL);
	CHECK(strstr(p2pmem_pool_describe(pool), "host memory") != NULL);
	/* Host memory is never revoked: nothing to watch. */
	CHECK_EQ_INT(p2pmem_pool_watch_fd(pool), -EOPNOTSUPP);
	for (i = 0; i < 8; i++) {
		CHECK_EQ_INT(p2pmem_buf_alloc(pool, 100000 + i, &b[i]), 0);
		CHECK_EQ_INT((uintptr_t)p2pmem_buf_addr(b[i]) % 4096, 0);
		CHECK_EQ_INT(p2pmem_buf_len(b[i]) % 4096, 0);
		memset(p2pmem_buf_addr(b[i]), (int)i, p2pmem_buf_len(b[i]));
	}
	/* 8 x ~100 KiB fit in one 1 MiB chunk, without overlap. */
	CHECK_EQ_INT(p2pmem_pool_mapped(pool), 1 << 20);
	for (i = 0; i < 8; i++)
		for (j = 0; j < p2pmem_buf_len(b[i]); j += 4096)
			CHECK(((unsigned char *)p2pmem_buf_addr(b[i]))[j] == i);
	/* A freed buffer is handed out again for the same size. */
	{
		void *addr = p2pmem_buf_addr(b[7]);

		p2pmem_buf_free(b[7]);
		CHECK_EQ_INT(p2pmem_buf_alloc(pool, 100007, &b[7]), 0);
		CHECK(p2pmem_buf_addr(b[7]) == addr);
	}
	/* Freed neighbours merge: a buffer three times as big fits again. */
	p2pmem_buf_free(b[2]);
	p2pmem_buf_free(b[4]);
	p2pmem_buf_free(b[3]);
	CHECK_EQ_INT(p2pmem_buf_alloc(pool, 3 * 102400, &x), 0);
	CHECK_EQ_INT(p2pmem_pool_mapped(pool), 1 << 20);
	/* Bigger than a chunk: a mapping of its own. */
	CHECK_EQ_INT(p2pmem_buf_alloc(pool, 3 << 20, &b[2]), 0);
	CHECK_EQ_INT(p2pmem_pool_mapped(pool), 4 << 20);
	CHECK_EQ_INT(p2pmem_buf_alloc(pool, 0, &b[3]), -EINVAL);
	p2pmem_buf_free(b[2]);
	p2pmem_buf_free(x);
	for (i = 0; i < 8; i++)
		if (i < 2 || i > 4)
			p2pmem_buf_free(b[i]);
	p2pmem_pool_free(pool);

	/* One mapping per buffer, unmapped on free. */
	po.flags |= P2PMEM_POOL_NO_SUBALLOC;
	CHECK_EQ_INT(p2pmem_pool_new(ctx, &po, &pool), 0);
	CHECK_EQ_INT(p2pmem_buf_alloc(pool, 4096, &b[0]), 0);
	CHECK_EQ_INT(p2pmem_buf_alloc(pool, 4096, &b[1]), 0);
	CHECK_EQ_INT(p2pmem_pool_mapped(pool), 8192);
	p2pmem_buf_free(b[0]);
	CHECK_EQ_INT(p2pmem_pool_mapped(pool), 4096);
	p2pmem_buf_free(b[1]);
	p2pmem_pool_free(pool);
	p2pmem_ctx_free(ctx);
}

static void check_choice(void)
{
	struct p2pmem_ctx *ctx = unit_ctx("switch", NULL);
	struct p2pmem_pci_dev *c[2], *mem;
	struct p2pmem_pool_opts po = { .size = sizeof(po), .clients = c, .nclients = 2 };
	struct p2pmem_pool *pool;

	CHECK_EQ_INT(p2pmem_pci_dev_find(ctx, "0000:03:00.0", &c[0]), 0);
	CHECK_EQ_INT(p2pmem_pci_dev_find(ctx, "0000:04:00.0", &c[1]), 0);
	CHECK_EQ_INT(p2pmem_pci_dev_find(ctx, "0000:05:00.0", &mem), 0);
	/* Best for both drives: equal distance, more free memory: 04. */
	CHECK_EQ_INT(p2pmem_pool_new(ctx, &po, &pool), 0);
	CHECK(p2pmem_pool_provider(pool) == p2pmem_pci_dev_provider(c[1]));
	CHECK(strstr(p2pmem_pool_describe(pool), "p2p 0000:04:00.0 (nvme-cmb, upstream") != NULL);
	/* Upstream P2PDMA cannot report revocation. */
	CHECK_EQ_INT(p2pmem_pool_watch_fd(pool), -EOPNOTSUPP);
	p2pmem_pool_free(pool);
	/* A named provider that cannot reach the clients is refused... */
	po.provider = p2pmem_pci_dev_provider(mem);
	CHECK_EQ_INT(p2pmem_pool_new(ctx, &po, &pool), -EREMOTEIO);
	CHECK(strstr(p2pmem_ctx_last_error(ctx), "cannot serve these clients") != NULL);
	/* ...unless a host bounce is allowed, and then it says so. */
	po.flags = P2PMEM_POOL_ALLOW_HOST;
	CHECK_EQ_INT(p2pmem_pool_new(ctx, &po, &pool), 0);
	CHECK(p2pmem_pool_provider(pool) == NULL);
	CHECK(strstr(p2pmem_pool_describe(pool), "bounce") != NULL);
	p2pmem_pool_free(pool);
	/* No clients, no p2p pool. */
	po.nclients = 0;
	CHECK_EQ_INT(p2pmem_pool_new(ctx, &po, &pool), -EINVAL);
	p2pmem_ctx_free(ctx);

	/* Split: nothing reaches both drives. */
	ctx = unit_ctx("split", NULL);
	CHECK_EQ_INT(p2pmem_pci_dev_find(ctx, "0000:01:00.0", &c[0]), 0);
	CHECK_EQ_INT(p2pmem_pci_dev_find(ctx, "0000:02:00.0", &c[1]), 0);
	po = (struct p2pmem_pool_opts){ .size = sizeof(po), .clients = c, .nclients = 2 };
	CHECK_EQ_INT(p2pmem_pool_new(ctx, &po, &pool), -EREMOTEIO);
	CHECK(strstr(p2pmem_ctx_last_error(ctx), "no published provider reaches all") != NULL);
	p2pmem_ctx_free(ctx);
}

int main(void)
{
	check_host_suballoc();
	check_choice();
	return unit_result("pool");
}
