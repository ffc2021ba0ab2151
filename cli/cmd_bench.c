// SPDX-License-Identifier: MIT
/*
 * p2pmem bench - the copy engine through p2p memory, against the same
 * engine through host memory (a bounce) and against a synchronous
 * pread/pwrite loop (bench/sync_copy.c), in one run, on the same devices:
 * throughput and CPU seconds per GiB at several block sizes and queue
 * depths; and allocation from a pool against one mapping per buffer.
 * Timings on a shared machine are noisy: read the ratios.
 *
 * It overwrites the destination range.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "output.h"
#include "child_cpu.h"
#include "dd_copy.h"
#include "fio_copy.h"
#include "sync_copy.h"

static const char bench_usage[] =
	"usage: p2pmem bench [OPTIONS] SRC DST\n"
	"Compare, on SRC -> DST (the DST range is overwritten): the copy engine\n"
	"through p2p memory, the same through host memory, and a synchronous\n"
	"pread/pwrite loop through one p2p buffer, dd with O_DIRECT, and fio (where\n"
	"installed) reading SRC and writing DST at once; then pool\n"
	"allocation against\n"
	"one mapping per buffer. When SRC and DST are ranges of one NVMe\n"
	"namespace that supports Copy, device copy (inside the drive) too.\n"
	"  --length N      bytes per run (default 32M)\n"
	"  --bs LIST       block sizes, comma-separated (default 64K,512K,1M)\n"
	"  --qd LIST       queue depths, comma-separated (default 1,4,16)\n"
	"  --provider P    the provider (default: the best for both devices)\n"
	"  --allocs N      allocations per allocation benchmark (default 2000)\n"
	"  --repeat N      runs per engine and setting, the median reported\n"
	"                  (default 3; one unreported warm-up run comes first)\n"
	"  -o json         results as JSON\n";

enum { OPT_LENGTH = 0x400, OPT_BS, OPT_QD, OPT_PROVIDER, OPT_ALLOCS, OPT_REPEAT };

#define MAX_LIST 8

#define MAX_REPEAT 15

struct bench_args {
	uint64_t length, allocs, repeat;
	uint64_t bs[MAX_LIST], qd[MAX_LIST];
	size_t nbs, nqd;
	const char *provider;
};

static int parse_list(const char *what, const char *arg, uint64_t *v, size_t *n)
{
	char *copy = strdup(arg), *save, *tok;
	int ret = 0;

	*n = 0;
	if (!copy)
		return EXIT_BAD_INPUT;
	for (tok = strtok_r(copy, ",", &save); tok && !ret; tok = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_LIST) {
			cli_error("%s takes at most %d values", what, MAX_LIST);
			ret = EXIT_BAD_INPUT;
		} else if (cli_parse_size(what, tok, &v[*n]) || v[*n] == 0) {
			ret = EXIT_BAD_INPUT;
		} else {
			(*n)++;
		}
	}
	free(copy);
	return ret;
}

static int bench_opt(void *priv, int c, const char *arg)
{
	struct bench_args *a = priv;

	switch (c) {
	case OPT_LENGTH: return cli_parse_size("--length", arg, &a->length) ? EXIT_BAD_INPUT : 0;
	case OPT_ALLOCS: return cli_parse_size("--allocs", arg, &a->allocs) ? EXIT_BAD_INPUT : 0;
	case OPT_REPEAT:
		if (cli_parse_size("--repeat", arg, &a->repeat))
			return EXIT_BAD_INPUT;
		if (a->repeat < 1 || a->repeat > MAX_REPEAT) {
			cli_error("--repeat takes 1 to %d runs, not %s", MAX_REPEAT, arg);
			return EXIT_BAD_INPUT;
		}
		return 0;
	case OPT_BS: return parse_list("--bs", arg, a->bs, &a->nbs);
	case OPT_QD: return parse_list("--qd", arg, a->qd, &a->nqd);
	case OPT_PROVIDER: a->provider = arg; return 0;
	}
	return EXIT_BAD_INPUT;
}

struct result {
	const char *engine;	/* "p2p", "host-bounce", "sync-loop" */
	uint64_t bs, qd;
	double mib_s, cpu_per_gib;
	char error[256];
};

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return bench_rusage_seconds(&ru);
}

static void set_rate(struct result *r, uint64_t bytes, double wall, double cpu)
{
	r->mib_s = wall > 0 ? (double)bytes / wall / (1 << 20) : 0;
	r->cpu_per_gib = bytes ? cpu / ((double)bytes / (1u << 30)) : 0;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static void run_engine(struct p2pmem_ctx *ctx, const char *src, const char *dst,
		       const struct bench_args *a, struct p2pmem_provider *prov,
		       unsigned int flags, struct result *r)
{
	struct p2pmem_copy_opts co = {
		.size = sizeof(co), .block_size = r->bs, .queue_depth = (unsigned int)r->qd,
		.flags = flags, .provider = prov,
	};
	struct p2pmem_copy *c;

	if (p2pmem_copy_new(ctx, &co, &c) || p2pmem_copy_add(c, src, 0, dst, 0, a->length) ||
	    p2pmem_copy_run(c))
		snprintf(r->error, sizeof(r->error), "%s", p2pmem_ctx_last_error(ctx));
	else
		set_rate(r, p2pmem_copy_job_stats(c, 0)->bytes, p2pmem_copy_wall_seconds(c),
			 p2pmem_copy_cpu_seconds(c));
	p2pmem_copy_free(c);
}

/*
 * p2p and host bounce at one setting, alternating, a.repeat times each;
 * @r[0] and @r[1] get the medians (timings drift on a shared machine:
 * alternating spreads the drift over both).  Which of the two goes first
 * alternates too: the second of a pair finds the drives just written.
 * An engine that fails keeps its error and runs no more; the other goes on.
 */
static void run_pair(struct p2pmem_ctx *ctx, const char *src, const char *dst,
		     const struct bench_args *a, struct p2pmem_provider *prov, struct result *r)
{
	double rate[2][MAX_REPEAT], cpu[2][MAX_REPEAT];
	uint64_t k;

	for (k = 0; k < a->repeat; k++) {
		for (int i = 0; i < 2; i++) {
			int e = (int)(k & 1) ^ i;
			struct result one = r[e];

			if (r[e].error[0])
				continue;
			run_engine(ctx, src, dst, a, e ? NULL : prov,
				   e ? P2PMEM_COPY_HOST_ONLY : P2PMEM_COPY_NO_DEVICE, &one);
			if (one.error[0])
				snprintf(r[e].error, sizeof(r[e].error), "%s", one.error);
			rate[e][k] = one.mib_s;
			cpu[e][k] = one.cpu_per_gib;
		}
	}
	for (int e = 0; e < 2; e++) {
		if (r[e].error[0])
			continue;
		r[e].mib_s = median(rate[e], a->repeat);
		r[e].cpu_per_gib = median(cpu[e], a->repeat);
	}
}

static void run_sync(const char *src, const char *dst, const struct bench_args *a,
		     struct p2pmem_pool *pool, struct result *r)
{
	struct p2pmem_buf *buf = NULL;
	double w0, c0;
	int sfd, dfd, ret;

	sfd = open(src, O_RDONLY | O_DIRECT | O_CLOEXEC);
	dfd = open(dst, O_WRONLY | O_DIRECT | O_CLOEXEC);
	ret = sfd < 0 || dfd < 0 ? -errno : p2pmem_buf_alloc(pool, r->bs, &buf);
	if (!ret) {
		w0 = cli_clock(CLOCK_MONOTONIC);
		c0 = cpu_seconds();
		ret = bench_sync_copy(sfd, 0, dfd, 0, a->length, p2pmem_buf_addr(buf), r->bs);
		if (!ret)
			ret = fdatasync(dfd) ? -errno : 0;
		set_rate(r, a->length, cli_clock(CLOCK_MONOTONIC) - w0, cpu_seconds() - c0);
	}
	if (ret)
		snprintf(r->error, sizeof(r->error), "synchronous loop: %s", strerror(-ret));
	p2pmem_buf_free(buf);
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
}

/* Can the drive copy SRC -> DST itself (two ranges of one NVMe namespace)? */
static bool device_copy_applies(struct p2pmem_ctx *ctx, const char *src, const char *dst,
				const struct bench_args *a)
{
	struct p2pmem_copy_opts co = { .size = sizeof(co), .flags = P2PMEM_COPY_DEVICE_ONLY };
	struct p2pmem_copy *c;
	bool ok;

	if (p2pmem_copy_new(ctx, &co, &c))
		return false;
	ok = p2pmem_copy_add(c, src, 0, dst, 0, a->length) == 0;
	p2pmem_copy_free(c);
	return ok;
}

static void run_fio(const char *src, const char *dst, const struct bench_args *a,
		    struct result *r)
{
	double wall, cpu;

	if (bench_fio_copy(src, dst, a->length, r->bs, (unsigned int)r->qd, &wall, &cpu, r->error,
			   sizeof(r->error)) == 0)
		set_rate(r, a->length, wall, cpu);
}

static void run_dd(const char *src, const char *dst, const struct bench_args *a,
		   struct result *r)
{
	double wall, cpu;

	if (bench_dd_copy(src, dst, a->length, r->bs, &wall, &cpu, r->error, sizeof(r->error)) == 0)
		set_rate(r, a->length, wall, cpu);
}

enum engine { ENGINE_DEVICE, ENGINE_SYNC, ENGINE_DD, ENGINE_FIO };

/*
 * One engine a.repeat times: the medians, like the p2p / host-bounce
 * pairs (device copy, the synchronous loop, dd).
 */
static void run_repeated(struct p2pmem_ctx *ctx, const char *src, const char *dst,
			 const struct bench_args *a, enum engine e, struct p2pmem_pool *pool,
			 struct result *r)
{
	double rate[MAX_REPEAT], cpu[MAX_REPEAT];
	uint64_t k;

	for (k = 0; k < a->repeat; k++) {
		struct result one = *r;

		if (e == ENGINE_DEVICE)
			run_engine(ctx, src, dst, a, NULL, P2PMEM_COPY_DEVICE_ONLY, &one);
		else if (e == ENGINE_SYNC)
			run_sync(src, dst, a, pool, &one);
		else if (e == ENGINE_FIO)
			run_fio(src, dst, a, &one);
		else
			run_dd(src, dst, a, &one);
		if (one.error[0]) {
			snprintf(r->error, sizeof(r->error), "%s", one.error);
			return;
		}
		rate[k] = one.mib_s;
		cpu[k] = one.cpu_per_gib;
	}
	r->mib_s = median(rate, a->repeat);
	r->cpu_per_gib = median(cpu, a->repeat);
}

/* The best rate of @engine at block size @bs (0: any), or 0. */
static double best_rate(const struct result *res, size_t n, const char *engine, uint64_t bs,
			uint64_t qd)
{
	double best = 0;
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(res[i].engine, engine) && !res[i].error[0] &&
		    (!bs || res[i].bs == bs) && (!qd || res[i].qd == qd) && res[i].mib_s > best)
			best = res[i].mib_s;
	return best;
}

struct ratio {
	char what[96];
	double value;
};

/*
 * The comparisons README's goals are stated in: the engine through host
 * memory against dd (both one block in flight), p2p memory against the
 * synchronous loop through the same buffer (the engine at its best queue
 * depth), and the drive's own copy against p2p.
 */
static size_t ratios(const struct result *res, size_t n, const struct bench_args *a,
		     struct ratio *out)
{
	size_t k = 0, i;
	double x, y;

	for (i = 0; i < a->nbs; i++) {
		char bs[32];

		cli_size(a->bs[i], bs, sizeof(bs));
		x = best_rate(res, n, "host-bounce", a->bs[i], 1);
		y = best_rate(res, n, "dd", a->bs[i], 1);
		if (x > 0 && y > 0) {
			snprintf(out[k].what, sizeof(out[k].what), "host-bounce QD1 / dd, %s", bs);
			out[k++].value = x / y;
		}
		for (size_t j = 0; j < a->nqd; j++) {
			x = best_rate(res, n, "host-bounce", a->bs[i], a->qd[j]);
			y = best_rate(res, n, "fio", a->bs[i], a->qd[j]);
			if (x > 0 && y > 0) {
				snprintf(out[k].what, sizeof(out[k].what), "host-bounce / fio, %s QD%llu", bs,
					 (unsigned long long)a->qd[j]);
				out[k++].value = x / y;
			}
		}
		x = best_rate(res, n, "p2p", a->bs[i], 0);
		y = best_rate(res, n, "sync-loop", a->bs[i], 1);
		if (x > 0 && y > 0) {
			snprintf(out[k].what, sizeof(out[k].what), "p2p (best QD) / sync-loop, %s", bs);
			out[k++].value = x / y;
		}
	}
	x = best_rate(res, n, "device-copy", 0, 0);
	y = best_rate(res, n, "p2p", 0, 0);
	if (x > 0 && y > 0) {
		snprintf(out[k].what, sizeof(out[k].what), "device-copy / p2p (best of each)");
		out[k++].value = x / y;
	}
	return k;
}

/* Microseconds per allocate + free of @size bytes. */
static double alloc_cost(struct p2pmem_ctx *ctx, const struct p2pmem_pool_opts *base,
			 unsigned int flags, uint64_t n, size_t size, char *err, size_t errlen)
{
	struct p2pmem_pool_opts po = *base;
	struct p2pmem_pool *pool;
	struct p2pmem_buf *buf;
	double t0, t;
	uint64_t i;

	po.flags |= flags;
	if (p2pmem_pool_new(ctx, &po, &pool)) {
		snprintf(err, errlen, "%s", p2pmem_ctx_last_error(ctx));
		return -1;
	}
	/* Steady state: a pool maps its chunk once, before the loop. */
	if (!(flags & P2PMEM_POOL_NO_SUBALLOC)) {
		if (p2pmem_buf_alloc(pool, size, &buf)) {
			snprintf(err, errlen, "%s", p2pmem_ctx_last_error(ctx));
			p2pmem_pool_free(pool);
			return -1;
		}
		p2pmem_buf_free(buf);
	}
	t0 = cli_clock(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		if (p2pmem_buf_alloc(pool, size, &buf)) {
			snprintf(err, errlen, "%s", p2pmem_ctx_last_error(ctx));
			p2pmem_pool_free(pool);
			return -1;
		}
		p2pmem_buf_free(buf);
	}
	t = cli_clock(CLOCK_MONOTONIC) - t0;
	p2pmem_pool_free(pool);
	return t / (double)n * 1e6;
}

int cmd_bench(struct cli_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "length", required_argument, NULL, OPT_LENGTH },
		{ "bs", required_argument, NULL, OPT_BS },
		{ "qd", required_argument, NULL, OPT_QD },
		{ "provider", required_argument, NULL, OPT_PROVIDER },
		{ "allocs", required_argument, NULL, OPT_ALLOCS },
		{ "repeat", required_argument, NULL, OPT_REPEAT },
		{ NULL, 0, NULL, 0 },
	};
	struct bench_args a = {
		.length = 32 << 20, .allocs = 2000, .repeat = 3,
		.bs = { 64 << 10, 512 << 10, 1 << 20 }, .nbs = 3,
		.qd = { 1, 4, 16 }, .nqd = 3,
	};
	const struct cli_command cmd = {
		.usage = bench_usage, .longopts = longopts, .opt = bench_opt, .priv = &a,
	};
	struct p2pmem_pci_dev *clients[2], *pdev;
	struct p2pmem_pool_opts po = { .size = sizeof(po), .clients = clients, .nclients = 2 };
	struct p2pmem_pool *sync_pool = NULL;
	struct result *res = NULL;
	struct p2pmem_ctx *ctx;
	const char *src, *dst, *where = "";
	char alloc_err[256] = "";
	double pool_us = -1, mmap_us = -1;
	char fio_why[256] = "";
	bool fio = bench_fio_available(fio_why, sizeof(fio_why));
	struct ratio ratio[MAX_LIST * (MAX_LIST + 2) + 1];	/* see ratios() */
	size_t nratio = 0;
	size_t i, j, n = 0;
	int ret;

	ret = cli_parse(o, &cmd, argc, argv);
	if (ret >= 0)
		return ret;
	if (argc - optind != 2) {
		cli_error("bench needs SRC and DST (DST's range is overwritten); see `p2pmem bench --help`");
		return EXIT_BAD_INPUT;
	}
	src = argv[optind];
	dst = argv[optind + 1];
	ctx = cli_open(o);
	if (!ctx)
		return EXIT_BAD_INPUT;
	ret = EXIT_BAD_INPUT;
	if (p2pmem_resolve_client(ctx, src, &clients[0]) ||
	    p2pmem_resolve_client(ctx, dst, &clients[1])) {
		cli_error("%s (bench compares p2p paths: SRC and DST must be PCI devices)",
			  p2pmem_ctx_last_error(ctx));
		goto out_free;
	}
	if (clients[0] == clients[1])
		po.nclients = 1;
	if (a.provider) {
		if (p2pmem_resolve_client(ctx, a.provider, &pdev) || !p2pmem_pci_dev_provider(pdev)) {
			cli_error("provider %s: not a provider (`p2pmem list`)", a.provider);
			goto out_free;
		}
		po.provider = p2pmem_pci_dev_provider(pdev);
	}
	/* The synchronous loop runs through p2p memory, as tools do today. */
	if (p2pmem_pool_new(ctx, &po, &sync_pool)) {
		cli_error("%s", p2pmem_ctx_last_error(ctx));
		goto out_free;
	}
	where = p2pmem_pool_describe(sync_pool);

	res = calloc(a.nbs * (3 * a.nqd + 2) + a.nqd, sizeof(*res));
	if (!res)
		goto out_free;
	/* Warm up both paths (first touches of memory and caches), unreported. */
	{
		struct result warm[2] = {
			{ .engine = "p2p", .bs = a.bs[0], .qd = a.qd[0] },
			{ .engine = "host-bounce", .bs = a.bs[0], .qd = a.qd[0] },
		};
		struct bench_args once = a;

		once.repeat = 1;
		run_pair(ctx, src, dst, &once, po.provider, warm);
	}
	for (i = 0; i < a.nbs; i++) {
		for (j = 0; j < a.nqd; j++) {
			res[n] = (struct result){ .engine = "p2p", .bs = a.bs[i], .qd = a.qd[j] };
			res[n + 1] = (struct result){ .engine = "host-bounce", .bs = a.bs[i], .qd = a.qd[j] };
			run_pair(ctx, src, dst, &a, po.provider, &res[n]);
			n += 2;
			if (fio) {
				res[n] = (struct result){ .engine = "fio", .bs = a.bs[i], .qd = a.qd[j] };
				run_repeated(ctx, src, dst, &a, ENGINE_FIO, NULL, &res[n++]);
			}
		}
		res[n] = (struct result){ .engine = "sync-loop", .bs = a.bs[i], .qd = 1 };
		run_repeated(ctx, src, dst, &a, ENGINE_SYNC, sync_pool, &res[n++]);
		res[n] = (struct result){ .engine = "dd", .bs = a.bs[i], .qd = 1 };
		run_repeated(ctx, src, dst, &a, ENGINE_DD, NULL, &res[n++]);
	}
	/* Inside one drive: the drive's own command size, so no block sizes. */
	if (device_copy_applies(ctx, src, dst, &a)) {
		for (j = 0; j < a.nqd; j++) {
			res[n] = (struct result){ .engine = "device-copy", .bs = 0, .qd = a.qd[j] };
			run_repeated(ctx, src, dst, &a, ENGINE_DEVICE, NULL, &res[n++]);
		}
	}
	nratio = ratios(res, n, &a, ratio);
	pool_us = alloc_cost(ctx, &po, 0, a.allocs, 64 << 10, alloc_err, sizeof(alloc_err));
	if (pool_us >= 0)
		mmap_us = alloc_cost(ctx, &po, P2PMEM_POOL_NO_SUBALLOC, a.allocs, 64 << 10,
				     alloc_err, sizeof(alloc_err));

	if (o->out == &output_json) {
		json_object *root = json_object_new_object(), *runs = json_object_new_array();

		json_object_object_add(root, "src", json_object_new_string(src));
		json_object_object_add(root, "dst", json_object_new_string(dst));
		json_object_object_add(root, "p2p_memory", json_object_new_string(where));
		json_object_object_add(root, "length", json_object_new_uint64(a.length));
		json_object_object_add(root, "repeat", json_object_new_uint64(a.repeat));
		json_object_object_add(root, "fio", fio ? NULL : json_object_new_string(fio_why));
		for (i = 0; i < n; i++) {
			json_object *r = json_object_new_object();

			json_object_object_add(r, "engine", json_object_new_string(res[i].engine));
			json_object_object_add(r, "block_size", res[i].bs ? json_object_new_uint64(res[i].bs) : NULL);
			json_object_object_add(r, "queue_depth", json_object_new_uint64(res[i].qd));
			json_object_object_add(r, "mib_per_second", res[i].error[0] ? NULL :
					       json_object_new_double(res[i].mib_s));
			json_object_object_add(r, "cpu_seconds_per_gib", res[i].error[0] ? NULL :
					       json_object_new_double(res[i].cpu_per_gib));
			json_object_object_add(r, "error", res[i].error[0] ?
					       json_object_new_string(res[i].error) : NULL);
			json_object_array_add(runs, r);
		}
		json_object_object_add(root, "runs", runs);
		{
			json_object *rat = json_object_new_object();

			for (i = 0; i < nratio; i++)
				json_object_object_add(rat, ratio[i].what,
						       json_object_new_double(ratio[i].value));
			json_object_object_add(root, "ratios", rat);
		}
		json_object_object_add(root, "alloc_pool_us", pool_us < 0 ? NULL : json_object_new_double(pool_us));
		json_object_object_add(root, "alloc_mmap_us", mmap_us < 0 ? NULL : json_object_new_double(mmap_us));
		json_object_object_add(root, "alloc_error", alloc_err[0] ? json_object_new_string(alloc_err) : NULL);
		puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
						    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(root);
	} else {
		printf("%s -> %s, %llu MiB per run, median of %llu runs, p2p memory: %s\n", src, dst,
		       (unsigned long long)(a.length >> 20), (unsigned long long)a.repeat, where);
		printf("%-12s %8s %4s %10s %12s\n", "ENGINE", "BS", "QD", "MiB/s", "CPU s/GiB");
		for (i = 0; i < n; i++) {
			char bs[32];

			printf("%-12s %8s %4llu ", res[i].engine,
			       res[i].bs ? cli_size(res[i].bs, bs, sizeof(bs)) : "drive's",
			       (unsigned long long)res[i].qd);
			if (res[i].error[0])
				printf("failed: %s\n", res[i].error);
			else
				printf("%10.1f %12.3f\n", res[i].mib_s, res[i].cpu_per_gib);
		}
		for (i = 0; i < nratio; i++)
			printf("ratio %-36s %6.2fx\n", ratio[i].what, ratio[i].value);
		if (!fio)
			printf("fio: %s\n", fio_why);
		if (pool_us >= 0 && mmap_us >= 0)
			printf("allocation of 64 KiB: pool %.2f us, one mapping each %.2f us (%.0fx)\n",
			       pool_us, mmap_us, pool_us > 0 ? mmap_us / pool_us : 0);
		else
			printf("allocation benchmark failed: %s\n", alloc_err);
	}
	ret = EXIT_OK;
	for (i = 0; i < n; i++)
		if (res[i].error[0])
			ret = EXIT_FAILED;

out_free:
	free(res);
	p2pmem_pool_free(sync_pool);
	p2pmem_ctx_free(ctx);
	return ret;
}
