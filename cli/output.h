/* SPDX-License-Identifier: MIT */
/*
 * Output formats as tables of print operations (nvme-cli's habit): each
 * subcommand gathers its result, then hands it to the chosen format.
 * A NULL operation means the format does not apply to that subcommand.
 */
#ifndef P2PMEM_OUTPUT_H
#define P2PMEM_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

#include "p2pmem.h"

/**
 * struct check_result - what `p2pmem check` found
 * @ctx: context
 * @names: client names as the user gave them
 * @clients: resolved client functions
 * @nclients: number of clients
 * @verdict: the answer shown: for --provider, or the best; NULL without
 *	any provider
 * @ranking: every provider's verdict, best first (NULL with --provider)
 * @nranking: entries in @ranking
 * @usable: the verdict allows p2p and names a provider with memory
 * @note: a sentence qualifying @usable (not a provider, not published)
 */
struct check_result {
	struct p2pmem_ctx *ctx;
	char *const *names;
	struct p2pmem_pci_dev *const *clients;
	size_t nclients;
	const struct p2pmem_verdict *verdict;
	struct p2pmem_verdict *const *ranking;
	size_t nranking;
	bool usable;
	const char *note;
};

struct output_ops {
	const char *name;
	int (*list)(struct p2pmem_ctx *ctx);
	int (*topo)(struct p2pmem_ctx *ctx);
	int (*check)(const struct check_result *r);
};

struct json_object;
/** cli_json_emit() - print @root (pretty) and release it; EXIT_OK or EXIT_BAD_INPUT */
int cli_json_emit(struct json_object *root);

extern const struct output_ops output_text;
extern const struct output_ops output_json;
extern const struct output_ops output_dot;

#endif /* P2PMEM_OUTPUT_H */
