/* SPDX-License-Identifier: MIT */
#ifndef P2PMEM_BENCH_SYNC_COPY_H
#define P2PMEM_BENCH_SYNC_COPY_H

#include <stddef.h>
#include <stdint.h>

int bench_sync_copy(int src_fd, uint64_t src_off, int dst_fd, uint64_t dst_off,
		    uint64_t len, void *buf, size_t bs);

#endif
