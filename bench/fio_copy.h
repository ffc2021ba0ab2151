/* SPDX-License-Identifier: MIT */
#ifndef P2PMEM_BENCH_FIO_COPY_H
#define P2PMEM_BENCH_FIO_COPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

bool bench_fio_available(char *why, size_t len);
int bench_fio_copy(const char *src, const char *dst, uint64_t len, uint64_t bs, unsigned int qd,
		   double *seconds, double *cpu, char *err, size_t errlen);

#endif
