/* SPDX-License-Identifier: MIT */
/*
 * Minimal test helpers: a test is a program exiting 0 (pass), 1 (fail) or
 * 77 (skip). Fixtures (generated sysfs trees) live in $P2PMEM_FIXTURES.
 */
#ifndef P2PMEM_UNIT_H
#define P2PMEM_UNIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "p2pmem.h"

static int unit_failures;

#define CHECK(cond) do {							\
	if (!(cond)) {								\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		unit_failures++;						\
	}									\
} while (0)

#define CHECK_EQ_INT(a, b) do {							\
	long long _a = (long long)(a), _b = (long long)(b);			\
	if (_a != _b) {								\
		fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n",	\
			__FILE__, __LINE__, #a, _a, #b, _b);			\
		unit_failures++;						\
	}									\
} while (0)

#define CHECK_EQ_STR(a, b) do {							\
	const char *_a = (a), *_b = (b);					\
	if (!_a || !_b || strcmp(_a, _b) != 0) {				\
		fprintf(stderr, "%s:%d: %s == \"%s\", expected \"%s\"\n",	\
			__FILE__, __LINE__, #a, _a ? _a : "(null)", _b ? _b : "(null)"); \
		unit_failures++;						\
	}									\
} while (0)

static inline const char *unit_fixtures(void)
{
	const char *d = getenv("P2PMEM_FIXTURES");

	if (!d || !*d) {
		fprintf(stderr, "P2PMEM_FIXTURES is not set: run through tests/run\n");
		exit(77);
	}
	return d;
}

/* A scanned context over fixture @name, with its cpuinfo (or @cpuinfo). */
static inline struct p2pmem_ctx *unit_ctx(const char *name, const char *cpuinfo)
{
	static char root[4096], cpu[4096];
	struct p2pmem_ctx_opts opts = { .size = sizeof(opts) };
	struct p2pmem_ctx *ctx;
	int ret;

	snprintf(root, sizeof(root), "%s/%s", unit_fixtures(), name);
	snprintf(cpu, sizeof(cpu), "%s/cpuinfo", root);
	opts.sysfs_root = root;
	opts.cpuinfo_path = cpuinfo ? cpuinfo : cpu;
	ret = p2pmem_ctx_new(&opts, &ctx);
	if (ret == 0)
		ret = p2pmem_ctx_scan(ctx);
	if (ret) {
		fprintf(stderr, "cannot scan fixture %s: %s (%s)\n", name,
			strerror(-ret), ctx ? p2pmem_ctx_last_error(ctx) : "");
		exit(1);
	}
	return ctx;
}

static inline int unit_result(const char *name)
{
	if (unit_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, unit_failures);
		return 1;
	}
	return 0;
}

#endif /* P2PMEM_UNIT_H */
