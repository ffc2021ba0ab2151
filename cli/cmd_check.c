// SPDX-License-Identifier: MIT
/*
 * p2pmem check - may these clients do p2p DMA, and with which provider?
 * Exit 0: usable; 1: not supported; 2: bad input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "output.h"

static const char check_usage[] =
	"usage: p2pmem check [--provider P] [-o text|json] [--sysfs-root DIR] CLIENT...\n"
	"CLIENT is a PCI address (0000:03:00.0), /dev/nvmeXnY, /dev/nvmeX, or a file\n"
	"(its filesystem's device). Prints distance, map type, path and the reason,\n"
	"as Linux P2PDMA would decide; without --provider, ranks every provider and\n"
	"picks the best.\n"
	"  -p, --provider P   judge this provider (PCI address or device name)\n"
	"exit: 0 usable, 1 not supported, 2 bad input\n";

struct check_args {
	const char *provider;
};

static int check_opt(void *priv, int c, const char *arg)
{
	struct check_args *a = priv;

	if (c == 'p') {
		a->provider = arg;
		return 0;
	}
	return EXIT_BAD_INPUT;
}

/* Usable, and if not, why in one sentence (NULL when the verdict says it). */
static bool judge(const struct p2pmem_verdict *v, const char **note)
{
	const struct p2pmem_pci_dev *dev = p2pmem_verdict_provider(v);
	const struct p2pmem_provider *prov = p2pmem_pci_dev_provider(dev);

	*note = NULL;
	if (!prov) {
		*note = "this function publishes no p2p memory: it is not a provider (`p2pmem list` shows the providers)";
		return false;
	}
	if (!p2pmem_provider_published(prov))
		*note = "its memory is not published: only its own driver and explicit users (like this one) allocate it; the kernel's automatic choice skips it";
	return p2pmem_verdict_map_type(v) != P2PMEM_MAP_NOT_SUPPORTED;
}

int cmd_check(struct cli_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "provider", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_args args = { 0 };
	const struct cli_command cmd = {
		.usage = check_usage,
		.longopts = longopts,
		.shortopts = "p:",
		.opt = check_opt,
		.priv = &args,
	};
	struct check_result r = { 0 };
	struct p2pmem_pci_dev **clients = NULL, *provider;
	struct p2pmem_verdict *verdict = NULL, **ranking = NULL;
	struct p2pmem_ctx *ctx;
	size_t nranking = 0, i, n;
	int ret;

	ret = cli_parse(o, &cmd, argc, argv);
	if (ret >= 0)
		return ret;
	if (!o->out->check) {
		cli_error("output format %s does not apply to check: use text or json", o->out->name);
		return EXIT_BAD_INPUT;
	}
	n = (size_t)(argc - optind);
	if (n == 0) {
		cli_error("check needs at least one CLIENT (a PCI address or /dev/nvmeXnY)");
		fputs(check_usage, stderr);
		return EXIT_BAD_INPUT;
	}
	ctx = cli_open(o);
	if (!ctx)
		return EXIT_BAD_INPUT;

	ret = EXIT_BAD_INPUT;
	clients = calloc(n, sizeof(*clients));
	if (!clients) {
		cli_error("out of memory");
		goto out_free;
	}
	for (i = 0; i < n; i++) {
		if (p2pmem_resolve_client(ctx, argv[optind + i], &clients[i])) {
			cli_error("client %s", p2pmem_ctx_last_error(ctx));
			goto out_free;
		}
	}

	r.ctx = ctx;
	r.names = argv + optind;
	r.clients = clients;
	r.nclients = n;
	if (args.provider) {
		if (p2pmem_resolve_client(ctx, args.provider, &provider)) {
			cli_error("provider %s", p2pmem_ctx_last_error(ctx));
			goto out_free;
		}
		if (p2pmem_distance(ctx, provider, clients, n, &verdict)) {
			cli_error("%s", p2pmem_ctx_last_error(ctx));
			goto out_free;
		}
		r.verdict = verdict;
	} else {
		if (p2pmem_find_best_provider(ctx, clients, n, &ranking, &nranking)) {
			cli_error("%s", p2pmem_ctx_last_error(ctx));
			goto out_free;
		}
		r.ranking = ranking;
		r.nranking = nranking;
		r.verdict = nranking ? ranking[0] : NULL;
	}
	if (r.verdict)
		r.usable = judge(r.verdict, &r.note);
	else
		r.note = "no p2p memory provider on this system: the kernel has no CONFIG_PCI_P2PDMA providers and p2pmem.ko offers none (see `p2pmem list`)";

	ret = o->out->check(&r);
	if (ret == EXIT_OK)
		ret = r.usable ? EXIT_OK : EXIT_NOT_SUPPORTED;

out_free:
	p2pmem_verdict_free(verdict);
	for (i = 0; i < nranking; i++)
		p2pmem_verdict_free(ranking[i]);
	free(ranking);
	free(clients);
	p2pmem_ctx_free(ctx);
	return ret;
}
