/* SPDX-License-Identifier: MIT */
/*
 * Shared pieces of the p2pmem command: options every subcommand accepts,
 * the exit codes, and the output formats.
 */
#ifndef P2PMEM_CLI_H
#define P2PMEM_CLI_H

#include <getopt.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "p2pmem.h"

/* Exit codes of every subcommand (check adds EXIT_NOT_SUPPORTED). */
#define EXIT_OK			0
#define EXIT_NOT_SUPPORTED	1
#define EXIT_BAD_INPUT		2
#define EXIT_FAILED		1	/* copy: failed or interrupted */

struct output_ops;

struct cli_opts {
	const char *sysfs_root;		/* --sysfs-root, P2PMEM_SYSFS_ROOT */
	const char *cpuinfo;		/* P2PMEM_CPUINFO */
	const struct output_ops *out;	/* -o text|json|dot */
	const char *prog;
};

/* Options every subcommand takes; subcommands append their own. */
#define CLI_COMMON_SHORTOPTS "+hVo:"
#define CLI_OPT_SYSFS_ROOT 0x100
#define CLI_COMMON_LONGOPTS						\
	{ "help", no_argument, NULL, 'h' },				\
	{ "version", no_argument, NULL, 'V' },				\
	{ "output", required_argument, NULL, 'o' },			\
	{ "output-format", required_argument, NULL, 'o' },	/* nvme-cli */	\
	{ "sysfs-root", required_argument, NULL, CLI_OPT_SYSFS_ROOT }

/**
 * cli_common_opt() - handle a common option seen by a subcommand's getopt
 * Return: 1 handled, 0 not a common option, -1 bad value (message printed)
 */
int cli_common_opt(struct cli_opts *o, int c, const char *arg);

/**
 * struct cli_command - how one subcommand parses its arguments
 * @usage: the help text, printed for --help and after bad options
 * @longopts: its own long options (terminated), besides the common ones
 * @shortopts: its own short options
 * @opt: handles one of its own options; returns 0 or EXIT_BAD_INPUT
 * @priv: passed to @opt
 */
struct cli_command {
	const char *usage;
	const struct option *longopts;
	const char *shortopts;
	int (*opt)(void *priv, int c, const char *arg);
	void *priv;
};

/**
 * cli_parse() - parse a subcommand's options (argv[0] is its name)
 * Return: -1 to go on (operands start at optind), else the exit code
 */
int cli_parse(struct cli_opts *o, const struct cli_command *cmd,
	      int argc, char **argv);

__attribute__((format(printf, 1, 2)))
void cli_error(const char *fmt, ...);

/**
 * cli_open() - a scanned library context, or NULL after printing why
 */
struct p2pmem_ctx *cli_open(const struct cli_opts *o);

/**
 * cli_parse_size() - "4096", "64K", "1M", "2GiB" (binary units)
 * Return: 0, or -1 after printing what is wrong with @what
 */
int cli_parse_size(const char *what, const char *s, uint64_t *v);

/* "64.0 MiB" */
const char *cli_size(uint64_t bytes, char *buf, size_t len);
/** cli_clock() - clock @id (CLOCK_MONOTONIC, ..._PROCESS_CPUTIME_ID) in seconds */
double cli_clock(clockid_t id);

/*
 * Who serves provider @p: "p2pmem.ko" for a memory card that p2pmem.ko's
 * p2pmem_pci registered with upstream P2PDMA (upstream's provider, upstream's
 * pool, our driver), "kernel" for every other upstream provider, "p2pmem.ko"
 * for the module's own (backend kmod).
 */
const char *cli_served_by(const struct p2pmem_provider *p);
const char *cli_pci_name(const struct p2pmem_pci_dev *dev, char *buf, size_t len);

int cmd_list(struct cli_opts *o, int argc, char **argv);
int cmd_topo(struct cli_opts *o, int argc, char **argv);
int cmd_check(struct cli_opts *o, int argc, char **argv);
int cmd_copy(struct cli_opts *o, int argc, char **argv);
int cmd_bench(struct cli_opts *o, int argc, char **argv);
int cmd_nvmet(struct cli_opts *o, int argc, char **argv);

#endif /* P2PMEM_CLI_H */
