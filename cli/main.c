// SPDX-License-Identifier: MIT
/*
 * p2pmem - find, explain and use peer-to-peer PCI memory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "output.h"

#ifndef P2PMEM_VERSION
#error "P2PMEM_VERSION comes from the Makefile (the VERSION file)"
#endif

static int cmd_help(struct cli_opts *o, int argc, char **argv);

static const struct subcommand {
	const char *name;
	int (*fn)(struct cli_opts *o, int argc, char **argv);
	const char *summary;
} subcommands[] = {
	{ "list", cmd_list, "list p2p memory providers" },
	{ "topo", cmd_topo, "show the PCI tree with providers and clients" },
	{ "check", cmd_check, "can these clients do p2p, and with which provider" },
	{ "copy", cmd_copy, "copy between devices through p2p memory" },
	{ "bench", cmd_bench, "p2p vs host bounce vs a synchronous loop" },
	{ "nvmet", cmd_nvmet, "NVMe-oF target: export with p2p memory, predict, watch" },
	{ "help", cmd_help, "the manual of a command (help COMMAND)" },
};

static const struct output_ops *const formats[] = {
	&output_text, &output_json, &output_dot,
};

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("p2pmem: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_common_opt(struct cli_opts *o, int c, const char *arg)
{
	size_t i;

	switch (c) {
	case 'o':
		for (i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
			if (strcmp(arg, formats[i]->name) == 0) {
				o->out = formats[i];
				return 1;
			}
		}
		cli_error("unknown output format '%s': use text or json (dot for topo)", arg);
		return -1;
	case CLI_OPT_SYSFS_ROOT:
		o->sysfs_root = arg;
		return 1;
	default:
		return 0;
	}
}

int cli_parse(struct cli_opts *o, const struct cli_command *cmd,
	      int argc, char **argv)
{
	struct option longopts[32];
	char shortopts[64];
	size_t n = 0;
	int c;

	static const struct option common[] = { CLI_COMMON_LONGOPTS };

	for (; n < sizeof(common) / sizeof(common[0]); n++)
		longopts[n] = common[n];
	for (const struct option *l = cmd->longopts; l && l->name; l++)
		if (n < sizeof(longopts) / sizeof(longopts[0]) - 1)
			longopts[n++] = *l;
	memset(&longopts[n], 0, sizeof(longopts[n]));
	snprintf(shortopts, sizeof(shortopts), ":%s%s", CLI_COMMON_SHORTOPTS + 1,
		 cmd->shortopts ? cmd->shortopts : "");

	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		int r;

		if (c == 'h') {
			fputs(cmd->usage, stdout);
			return EXIT_OK;
		}
		if (c == 'V') {		/* anywhere on the line, as --help */
			printf("p2pmem %s\n", P2PMEM_VERSION);
			return EXIT_OK;
		}
		if (c == '?' || c == ':') {
			if (c == ':')
				cli_error("option '%s' needs a value", argv[optind - 1]);
			else
				cli_error("unknown option '%s'", argv[optind - 1]);
			fputs(cmd->usage, stderr);
			return EXIT_BAD_INPUT;
		}
		r = cli_common_opt(o, c, optarg);
		if (r < 0)
			return EXIT_BAD_INPUT;
		if (r > 0)
			continue;
		if (!cmd->opt || cmd->opt(cmd->priv, c, optarg))
			return EXIT_BAD_INPUT;
	}
	return -1;
}

struct p2pmem_ctx *cli_open(const struct cli_opts *o)
{
	struct p2pmem_ctx_opts opts = {
		.size = sizeof(opts),
		.sysfs_root = o->sysfs_root,
		.cpuinfo_path = o->cpuinfo,
	};
	struct p2pmem_ctx *ctx;
	int ret;

	ret = p2pmem_ctx_new(&opts, &ctx);
	if (ret) {
		cli_error("cannot create a context: %s", strerror(-ret));
		return NULL;
	}
	ret = p2pmem_ctx_scan(ctx);
	if (ret) {
		cli_error("%s", p2pmem_ctx_last_error(ctx)[0] ?
			  p2pmem_ctx_last_error(ctx) : strerror(-ret));
		p2pmem_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

int cli_parse_size(const char *what, const char *s, uint64_t *v)
{
	static const char units[] = "KMGT";
	unsigned long long n;
	const char *u;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-') {
		cli_error("%s '%s' is not a size: use bytes or K, M, G, T (binary) suffixes, e.g. 64K", what, s);
		return -1;
	}
	if (*end) {
		u = strchr(units, *end & ~0x20);
		if (!u || (end[1] && strcmp(end + 1, "iB") != 0 && strcmp(end + 1, "B") != 0)) {
			cli_error("%s '%s' has an unknown unit: use K, M, G or T (binary), e.g. 64K", what, s);
			return -1;
		}
		for (int i = 0; i <= u - units; i++) {
			if (n > UINT64_MAX / 1024) {
				cli_error("%s '%s' is too large", what, s);
				return -1;
			}
			n *= 1024;
		}
	}
	*v = n;
	return 0;
}

double cli_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *cli_size(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1024 && u + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

const char *cli_served_by(const struct p2pmem_provider *p)
{
	const char *drv = p2pmem_pci_dev_driver(p2pmem_provider_pci_dev(p));

	if (strcmp(p2pmem_provider_backend(p), "upstream"))
		return "p2pmem.ko";
	return drv && !strcmp(drv, "p2pmem_pci") ? "p2pmem.ko" : "kernel";
}

/*
 * p2pmem help [COMMAND]: on a terminal, the manual (p2pmem-COMMAND(1) if
 * installed, else p2pmem(1), whose COMMANDS section has them all); where
 * there is no terminal or no man, the command's own --help text.
 */
static void usage(FILE *f);

static int cmd_help(struct cli_opts *o, int argc, char **argv)
{
	char page[64], *help_argv[] = { argv[1], "--help", NULL };
	size_t i;

	if (argc > 2) {
		cli_error("help takes one command name; see `p2pmem --help`");
		return EXIT_BAD_INPUT;
	}
	for (i = 0; argc == 2 && i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		if (!strcmp(argv[1], subcommands[i].name))
			break;
	if (argc == 2 && i == sizeof(subcommands) / sizeof(subcommands[0])) {
		cli_error("no command '%s'; commands are list, topo, check, copy, bench, nvmet", argv[1]);
		return EXIT_BAD_INPUT;
	}
	if (isatty(STDOUT_FILENO)) {
		char probe[96];

		snprintf(page, sizeof(page), "p2pmem-%s", argc == 2 ? argv[1] : "");
		snprintf(probe, sizeof(probe), "man -w 1 %s >/dev/null 2>&1", page);
		fflush(stdout);
		if (argc == 2 && system(probe) == 0)
			execlp("man", "man", "1", page, (char *)NULL);
		if (system("man -w 1 p2pmem >/dev/null 2>&1") == 0)
			execlp("man", "man", "1", "p2pmem", (char *)NULL);
		/* no man, or the manual is not installed: the usage below */
	}
	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	optind = 0;
	return subcommands[i].fn(o, 2, help_argv);
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: p2pmem [OPTIONS] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
		fprintf(f, "  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
	fprintf(f, "\noptions (before or after COMMAND):\n"
		"  -o, --output FORMAT  text (default) or json; topo also takes dot\n"
		"      --output-format FORMAT  the same (nvme-cli's spelling)\n"
		"      --sysfs-root DIR use DIR as /sys (also P2PMEM_SYSFS_ROOT)\n"
		"  -h, --help           this help; `p2pmem COMMAND --help` for a command\n"
		"  -V, --version        print the version (anywhere on the line)\n"
		"\nP2PMEM_CPUINFO=FILE stands for /proc/cpuinfo. See p2pmem(1).\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ NULL, 0, NULL, 0 },
	};
	struct cli_opts o = {
		.sysfs_root = getenv("P2PMEM_SYSFS_ROOT"),
		.cpuinfo = getenv("P2PMEM_CPUINFO"),
		.out = &output_text,
		.prog = "p2pmem",
	};
	size_t i;
	int c;

	if (o.sysfs_root && !*o.sysfs_root)
		o.sysfs_root = NULL;
	if (o.cpuinfo && !*o.cpuinfo)
		o.cpuinfo = NULL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
		int r;

		if (c == 'h') {
			usage(stdout);
			return EXIT_OK;
		}
		if (c == 'V') {
			printf("p2pmem %s\n", P2PMEM_VERSION);
			return EXIT_OK;
		}
		r = cli_common_opt(&o, c, optarg);
		if (r < 0)
			return EXIT_BAD_INPUT;
		if (r == 0) {
			cli_error("unknown option '%s'; see `p2pmem --help`", argv[optind - 1]);
			return EXIT_BAD_INPUT;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	for (i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++) {
		if (strcmp(argv[optind], subcommands[i].name) == 0) {
			char **sub_argv = argv + optind;
			int sub_argc = argc - optind;

			optind = 0;	/* reinitialise getopt for the subcommand */
			return subcommands[i].fn(&o, sub_argc, sub_argv);
		}
	}
	cli_error("unknown command '%s'; commands are list, topo, check, copy, bench, nvmet, help (see `p2pmem --help`)",
		  argv[optind]);
	return EXIT_BAD_INPUT;
}
