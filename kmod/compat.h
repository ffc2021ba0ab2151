/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences between the kernels p2pmem.ko builds for (Debian's
 * 6.1, 6.12 and 7.x), behind one name each.  Kbuild detects them in the
 * headers (never by version number: distributions backport).
 */
#ifndef _P2PMEM_COMPAT_H
#define _P2PMEM_COMPAT_H

#include <linux/memremap.h>
#include <linux/mm.h>

/* The dev_pagemap behind a ZONE_DEVICE page (page_pgmap() from 6.15). */
static inline struct dev_pagemap *p2pmem_page_pgmap(struct page *page)
{
#ifdef P2PMEM_HAVE_PAGE_PGMAP
	return page_pgmap(page);
#else
	return page->pgmap;
#endif
}

/* A reference on the dev_pagemap that covers @pfn, or NULL. */
static inline struct dev_pagemap *p2pmem_get_dev_pagemap(unsigned long pfn)
{
#ifdef P2PMEM_GET_DEV_PAGEMAP_PFN
	return get_dev_pagemap(pfn);
#else
	return get_dev_pagemap(pfn, NULL);
#endif
}

/*
 * dma-buf's symbols live in namespace DMA_BUF, named by a string from 6.13
 * (P2PMEM_IMPORT_NS_IDENT: the older macro that stringifies its argument).
 */
#ifdef P2PMEM_IMPORT_NS_IDENT
#define P2PMEM_IMPORT_DMA_BUF_NS MODULE_IMPORT_NS(DMA_BUF)
#else
#define P2PMEM_IMPORT_DMA_BUF_NS MODULE_IMPORT_NS("DMA_BUF")
#endif

/*
 * Telling dynamic importers to drop their mappings: move_notify and
 * dma_buf_move_notify() until 7.x renamed them invalidate_mappings.
 */
#ifdef P2PMEM_HAVE_DMA_BUF_INVALIDATE
#define p2pmem_dma_buf_invalidate(dmabuf) dma_buf_invalidate_mappings(dmabuf)
#define P2PMEM_DMA_BUF_NOTIFY invalidate_mappings
#else
#define p2pmem_dma_buf_invalidate(dmabuf) dma_buf_move_notify(dmabuf)
#define P2PMEM_DMA_BUF_NOTIFY move_notify
#endif

#endif /* _P2PMEM_COMPAT_H */
