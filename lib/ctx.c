// SPDX-License-Identifier: MIT
/*
 * The library context: what a caller's view of the system is (sysfs root,
 * cpuinfo file), and everything scanned from it. All state lives here.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define CPUINFO_MAX (256 * 1024)

int p2pmem_ctx_new(const struct p2pmem_ctx_opts *opts, struct p2pmem_ctx **ctxp)
{
	const char *root = "/sys", *cpuinfo = "/proc/cpuinfo";
	struct p2pmem_ctx *ctx;

	*ctxp = NULL;
	if (opts) {
		/* Accept older, shorter option structs; reject unknown sizes. */
		if (opts->size < offsetof(struct p2pmem_ctx_opts, sysfs_root) ||
		    opts->size > sizeof(*opts))
			return -EINVAL;
		if (opts->size > offsetof(struct p2pmem_ctx_opts, sysfs_root) &&
		    opts->sysfs_root)
			root = opts->sysfs_root;
		if (opts->size > offsetof(struct p2pmem_ctx_opts, cpuinfo_path) &&
		    opts->cpuinfo_path)
			cpuinfo = opts->cpuinfo_path;
	}

	ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return -ENOMEM;
	ctx->sysfs_root = strdup(root);
	ctx->cpuinfo_path = strdup(cpuinfo);
	if (!ctx->sysfs_root || !ctx->cpuinfo_path) {
		p2pmem_ctx_free(ctx);
		return -ENOMEM;
	}
	/* "/sys/" and "/sys" must build the same paths. */
	while (strlen(ctx->sysfs_root) > 1 &&
	       ctx->sysfs_root[strlen(ctx->sysfs_root) - 1] == '/')
		ctx->sysfs_root[strlen(ctx->sysfs_root) - 1] = '\0';
	snprintf(ctx->cpu_desc, sizeof(ctx->cpu_desc), "unknown CPU");
	*ctxp = ctx;
	return 0;
}

static void ctx_reset(struct p2pmem_ctx *ctx)
{
	p2pmem_providers_free(ctx);
	p2pmem_pci_free(ctx);
}

void p2pmem_ctx_free(struct p2pmem_ctx *ctx)
{
	if (!ctx)
		return;
	ctx_reset(ctx);
	free(ctx->sysfs_root);
	free(ctx->root);
	free(ctx->cpuinfo_path);
	free(ctx);
}

/*
 * A missing cpuinfo is not an error: the CPU rule then simply does not
 * apply, and the explanation says the CPU is unknown.
 */
static void read_cpuinfo(struct p2pmem_ctx *ctx)
{
	char *text = malloc(CPUINFO_MAX + 1);
	size_t n = 0;

	ctx->cpu_supports_p2p = false;
	snprintf(ctx->cpu_desc, sizeof(ctx->cpu_desc), "unknown CPU");
	if (!text)
		return;
	if (p2pmem_read_file(ctx->cpuinfo_path, text, CPUINFO_MAX, &n) == 0) {
		text[n] = '\0';
		ctx->cpu_supports_p2p = p2pmem_cpuinfo_parse(text, ctx->cpu_desc,
							     sizeof(ctx->cpu_desc));
	}
	free(text);
}

int p2pmem_ctx_scan(struct p2pmem_ctx *ctx)
{
	int ret;

	p2pmem_clear_error(ctx);
	ctx_reset(ctx);
	read_cpuinfo(ctx);

	/* Links are resolved lexically below this, so it must be real. */
	free(ctx->root);
	ctx->root = realpath(ctx->sysfs_root, NULL);
	if (!ctx->root) {
		ret = -errno;
		p2pmem_set_error(ctx, "cannot use %s as the sysfs root: %s; is sysfs mounted there? (--sysfs-root names another tree)",
				 ctx->sysfs_root, strerror(errno));
		return ret;
	}

	ret = p2pmem_pci_scan(ctx);
	if (ret)
		goto err_reset;
	return 0;

err_reset:
	ctx_reset(ctx);
	return ret;
}

const char *p2pmem_ctx_sysfs_root(const struct p2pmem_ctx *ctx)
{
	return ctx->sysfs_root;
}

bool p2pmem_ctx_cpu_supports_p2p(const struct p2pmem_ctx *ctx)
{
	return ctx->cpu_supports_p2p;
}

const char *p2pmem_ctx_cpu_desc(const struct p2pmem_ctx *ctx)
{
	return ctx->cpu_desc;
}

const char *p2pmem_ctx_last_error(const struct p2pmem_ctx *ctx)
{
	return ctx->last_error;
}

/**
 * p2pmem_set_error() - remember, in one sentence, why the current call fails
 */
void p2pmem_set_error(struct p2pmem_ctx *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->last_error, sizeof(ctx->last_error), fmt, ap);
	va_end(ap);
}

void p2pmem_clear_error(struct p2pmem_ctx *ctx)
{
	ctx->last_error[0] = '\0';
}
