/* SPDX-License-Identifier: MIT */
#ifndef P2PMEM_BENCH_CHILD_CPU_H
#define P2PMEM_BENCH_CHILD_CPU_H

#include <sys/resource.h>

/* User + system seconds of a rusage: the CPU a baseline tool's process used. */
static inline double bench_rusage_seconds(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

#endif
