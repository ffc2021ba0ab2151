// SPDX-License-Identifier: MIT
/*
 * p2pmem list - the providers of p2p memory, on every backend.
 */
#include <stdio.h>

#include "cli.h"
#include "output.h"

static const char list_usage[] =
	"usage: p2pmem list [-o text|json] [--sysfs-root DIR]\n"
	"List p2p memory providers: PCI address, kind, backend, size, free memory,\n"
	"whether it is published for other drivers and programs.\n";

int cmd_list(struct cli_opts *o, int argc, char **argv)
{
	const struct cli_command cmd = { .usage = list_usage };
	struct p2pmem_ctx *ctx;
	int ret;

	ret = cli_parse(o, &cmd, argc, argv);
	if (ret >= 0)
		return ret;
	if (optind < argc) {
		cli_error("list takes no operands ('%s'); see `p2pmem list --help`", argv[optind]);
		return EXIT_BAD_INPUT;
	}
	if (!o->out->list) {
		cli_error("output format %s does not apply to list: use text or json", o->out->name);
		return EXIT_BAD_INPUT;
	}
	ctx = cli_open(o);
	if (!ctx)
		return EXIT_BAD_INPUT;
	ret = o->out->list(ctx);
	p2pmem_ctx_free(ctx);
	return ret;
}
