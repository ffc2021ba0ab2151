/* SPDX-License-Identifier: MIT */
#ifndef P2PMEM_BENCH_DD_COPY_H
#define P2PMEM_BENCH_DD_COPY_H

#include <stddef.h>
#include <stdint.h>

int bench_dd_copy(const char *src, const char *dst, uint64_t len, uint64_t bs,
		  double *wall, double *cpu, char *err, size_t errlen);

#endif
