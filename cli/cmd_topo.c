// SPDX-License-Identifier: MIT
/*
 * p2pmem topo - the PCI tree, marking providers and clients.
 */
#include <stdio.h>

#include "cli.h"
#include "output.h"

static const char topo_usage[] =
	"usage: p2pmem topo [-o text|json|dot] [--dot] [--sysfs-root DIR]\n"
	"Show the PCI tree like `lspci -t`, with ports, ACS redirect, providers (and\n"
	"their free memory) and the block devices each function backs.\n"
	"  --dot   Graphviz output (same as -o dot): p2pmem topo --dot | dot -Tpng\n";

#define OPT_DOT 0x200

static int topo_opt(void *priv, int c, const char *arg)
{
	struct cli_opts *o = priv;

	(void)arg;
	if (c == OPT_DOT) {
		o->out = &output_dot;
		return 0;
	}
	return EXIT_BAD_INPUT;
}

int cmd_topo(struct cli_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dot", no_argument, NULL, OPT_DOT },
		{ NULL, 0, NULL, 0 },
	};
	const struct cli_command cmd = {
		.usage = topo_usage,
		.longopts = longopts,
		.opt = topo_opt,
		.priv = o,
	};
	struct p2pmem_ctx *ctx;
	int ret;

	ret = cli_parse(o, &cmd, argc, argv);
	if (ret >= 0)
		return ret;
	if (optind < argc) {
		cli_error("topo takes no operands ('%s'); see `p2pmem topo --help`", argv[optind]);
		return EXIT_BAD_INPUT;
	}
	ctx = cli_open(o);
	if (!ctx)
		return EXIT_BAD_INPUT;
	ret = o->out->topo(ctx);
	p2pmem_ctx_free(ctx);
	return ret;
}
