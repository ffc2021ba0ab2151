/* SPDX-License-Identifier: MIT */
/*
 * Helpers shared by the VM test programs (p2p-copy.c, kmod-buf.c): sizes
 * with K/M/G suffixes, a monotonic clock, and a data pattern any range of
 * which can be regenerated on its own (to check what landed where).
 */
#ifndef P2PMEM_VMTEST_H
#define P2PMEM_VMTEST_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

static inline int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end)
		return -1;
	*out = v;
	return 0;
}

static inline double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* splitmix64 of the word index: any range can be regenerated on its own. */
static inline uint64_t pattern_word(uint64_t seed, uint64_t byte_off)
{
	uint64_t z = seed + (byte_off / 8) * 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline void pattern_fill(uint64_t *p, size_t len, uint64_t seed, uint64_t off)
{
	for (size_t i = 0; i < len / 8; i++)
		p[i] = pattern_word(seed, off + i * 8);
}

/* First differing byte offset inside p, or -1. */
static inline long pattern_check(const uint64_t *p, size_t len, uint64_t seed, uint64_t off)
{
	for (size_t i = 0; i < len / 8; i++)
		if (p[i] != pattern_word(seed, off + i * 8))
			return (long)(i * 8);
	return -1;
}

#endif /* P2PMEM_VMTEST_H */
