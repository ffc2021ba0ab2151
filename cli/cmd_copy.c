// SPDX-License-Identifier: MIT
/*
 * p2pmem copy - move data device to device through p2p memory.
 * Exit 0: copied (and verified); 1: the copy failed or was interrupted
 * (a journal lets --resume continue); 2: bad input, nothing written.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "output.h"

static const char copy_usage[] =
	"usage: p2pmem copy [OPTIONS] SRC DST [SRC DST]...\n"
	"Copy from SRC to DST (block devices or files) through p2p memory that\n"
	"both devices reach: O_DIRECT I/O on io_uring, QD buffers in flight, the\n"
	"CPU copies nothing. Several SRC DST pairs run in parallel.\n"
	"  --src-offset N       start in SRC (default 0)\n"
	"  --dst-offset N       start in DST (default 0)\n"
	"  --length N           bytes to copy (default: the rest of SRC)\n"
	"  --provider P         use this provider (default: the best for both)\n"
	"  --bs N               bytes per I/O and buffer (default 1M)\n"
	"  --qd N               buffers in flight per pair (default 4)\n"
	"  --verify             read both back and compare\n"
	"  --via PATH           device: NVMe Copy inside the drive (two ranges of\n"
	"                       one namespace), p2p: p2p memory, host: host memory;\n"
	"                       default: device where the drive can, else p2p\n"
	"  --no-device-copy     never NVMe Copy (move the data through memory)\n"
	"  --allow-host-bounce  use host memory when no provider reaches both\n"
	"  --resume             continue an interrupted copy from its journal\n"
	"  --journal-dir DIR    where journals live (default: private to the user,\n"
	"                       $XDG_STATE_HOME/p2pmem or /var/lib/p2pmem for root)\n"
	"  -q, --quiet          no progress bar\n"
	"  -o json              summary as JSON (see p2pmem(1))\n"
	"Sizes take K, M, G suffixes (binary). Exit: 0 done, 1 failed or\n"
	"interrupted (--resume continues), 2 bad input.\n";

enum {
	OPT_SRC_OFF = 0x300, OPT_DST_OFF, OPT_LENGTH, OPT_PROVIDER, OPT_BS,
	OPT_QD, OPT_VERIFY, OPT_BOUNCE, OPT_RESUME, OPT_JOURNAL_DIR, OPT_VIA, OPT_NO_DEVICE,
};

#define OPT_QUIET 'q'

struct copy_args {
	uint64_t src_off, dst_off, length, bs, qd;
	unsigned int flags;
	bool quiet;
	const char *provider, *journal_dir, *via;
};

static int copy_opt(void *priv, int c, const char *arg)
{
	struct copy_args *a = priv;

	switch (c) {
	case OPT_SRC_OFF: return cli_parse_size("--src-offset", arg, &a->src_off) ? EXIT_BAD_INPUT : 0;
	case OPT_DST_OFF: return cli_parse_size("--dst-offset", arg, &a->dst_off) ? EXIT_BAD_INPUT : 0;
	case OPT_LENGTH: return cli_parse_size("--length", arg, &a->length) ? EXIT_BAD_INPUT : 0;
	case OPT_BS: return cli_parse_size("--bs", arg, &a->bs) ? EXIT_BAD_INPUT : 0;
	case OPT_QD: return cli_parse_size("--qd", arg, &a->qd) ? EXIT_BAD_INPUT : 0;
	case OPT_PROVIDER: a->provider = arg; return 0;
	case OPT_JOURNAL_DIR: a->journal_dir = arg; return 0;
	case OPT_VIA: a->via = arg; return 0;
	case OPT_NO_DEVICE: a->flags |= P2PMEM_COPY_NO_DEVICE; return 0;
	case OPT_VERIFY: a->flags |= P2PMEM_COPY_VERIFY; return 0;
	case OPT_BOUNCE: a->flags |= P2PMEM_COPY_ALLOW_HOST_BOUNCE; return 0;
	case OPT_RESUME: a->flags |= P2PMEM_COPY_RESUME; return 0;
	case OPT_QUIET: a->quiet = true; return 0;
	}
	return EXIT_BAD_INPUT;
}

/* ---- progress on a terminal ---- */

struct progress {
	double last;
	unsigned int phase;
	bool tty, drawn;
};

/*
 * One line per phase, redrawn in place ("\033[K" erases what a longer line
 * left): the phase, its own total, its rate and what is left at that rate.
 * The library's clock drives the rate, so the last line's rate is the
 * summary's.
 */
static void progress_draw(void *arg, const struct p2pmem_copy_progress *pp)
{
	static const char hashes[] = "##############################";
	struct progress *p = arg;
	double t = cli_clock(CLOCK_MONOTONIC), rate = pp->seconds > 0 ? (double)pp->done / pp->seconds : 0;
	int width = 30, fill, pct;
	bool last = pp->done >= pp->total;
	char d[32], tot[32], r[32], eta[32] = "";

	if (!p->tty)
		return;
	if (p->drawn && pp->phase != p->phase)
		fputc('\n', stderr);	/* the copy line stays, as it ended */
	else if (t - p->last < 0.1 && !last)
		return;
	p->phase = pp->phase;
	p->last = t;
	fill = pp->total ? (int)((double)pp->done / (double)pp->total * width) : width;
	pct = pp->total ? (int)(pp->done * 100 / pp->total) : 100;
	if (!last && rate > 0) {
		unsigned long s = (unsigned long)((double)(pp->total - pp->done) / rate + 0.5);

		snprintf(eta, sizeof(eta), "  ETA %lu:%02lu", s / 60, s % 60);
	}
	fprintf(stderr, "\r%-6s [%.*s%*s] %3d%%  %s of %s  %s/s%s\033[K",
		pp->phase == P2PMEM_COPY_PHASE_COPY ? "copy" : "verify",
		fill, hashes, width - fill, "", pct,
		cli_size(pp->done, d, sizeof(d)), cli_size(pp->total, tot, sizeof(tot)),
		cli_size((uint64_t)rate, r, sizeof(r)), eta);
	p->drawn = !last;
	if (last)
		fputc('\n', stderr);
}

/* ---- interruption ---- */

static struct p2pmem_copy *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		p2pmem_copy_cancel(running);
}

/* ---- summary ---- */

static double copy_rate(struct p2pmem_copy *c, uint64_t bytes)
{
	double t = p2pmem_copy_phase_seconds(c, P2PMEM_COPY_PHASE_COPY);

	return t > 0 ? (double)bytes / t : 0;
}

static void print_text(struct p2pmem_copy *c, char **pairs)
{
	double wall = p2pmem_copy_wall_seconds(c), cpu = p2pmem_copy_cpu_seconds(c);
	double vt = p2pmem_copy_phase_seconds(c, P2PMEM_COPY_PHASE_VERIFY);
	uint64_t total = 0;
	char a[32], b[32];
	size_t i;

	for (i = 0; i < p2pmem_copy_job_count(c); i++) {
		const struct p2pmem_copy_job_stats *st = p2pmem_copy_job_stats(c, i);

		total += st->bytes;
		printf("%s -> %s\n", pairs[2 * i], pairs[2 * i + 1]);
		printf("  copied    %s of %s", cli_size(st->bytes, a, sizeof(a)),
		       cli_size(p2pmem_copy_job_length(c, i), b, sizeof(b)));
		if (st->resumed_at)
			printf(" (resumed at byte %" PRIu64 ")", st->resumed_at);
		printf("\n  through   %s\n", st->where);
		if (st->note[0])
			printf("  note      %s\n", st->note);
		if (st->verified)
			printf("  verified  %s\n", cli_size(st->verified, a, sizeof(a)));
		if (st->error)
			printf("  FAILED    %s\n  journal   %s\n", st->message,
			       p2pmem_copy_job_journal(c, i));
	}
	printf("time      %.3f s wall", wall);
	if (vt > 0)
		printf(" (copy %.3f s, verify %.3f s)",
		       p2pmem_copy_phase_seconds(c, P2PMEM_COPY_PHASE_COPY), vt);
	printf(", %.3f s CPU, %s/s, %.3f CPU s/GiB\n", cpu,
	       cli_size((uint64_t)copy_rate(c, total), a, sizeof(a)),
	       total ? cpu / ((double)total / (1u << 30)) : 0.0);
}

static void print_json(struct p2pmem_copy *c, char **pairs, const struct copy_args *a)
{
	json_object *root = json_object_new_object(), *jobs = json_object_new_array();
	double wall = p2pmem_copy_wall_seconds(c), cpu = p2pmem_copy_cpu_seconds(c);
	uint64_t total = 0;
	size_t i;

	for (i = 0; i < p2pmem_copy_job_count(c); i++) {
		const struct p2pmem_copy_job_stats *st = p2pmem_copy_job_stats(c, i);
		json_object *j = json_object_new_object();

		total += st->bytes;
		json_object_object_add(j, "src", json_object_new_string(pairs[2 * i]));
		json_object_object_add(j, "dst", json_object_new_string(pairs[2 * i + 1]));
		json_object_object_add(j, "src_offset", json_object_new_uint64(a->src_off));
		json_object_object_add(j, "dst_offset", json_object_new_uint64(a->dst_off));
		json_object_object_add(j, "length", json_object_new_uint64(p2pmem_copy_job_length(c, i)));
		json_object_object_add(j, "bytes", json_object_new_uint64(st->bytes));
		json_object_object_add(j, "verified", json_object_new_uint64(st->verified));
		json_object_object_add(j, "resumed_at", json_object_new_uint64(st->resumed_at));
		json_object_object_add(j, "ops", json_object_new_uint64(st->ops));
		json_object_object_add(j, "p2p", json_object_new_boolean(st->p2p));
		json_object_object_add(j, "where", json_object_new_string(st->where));
		json_object_object_add(j, "via", json_object_new_string(st->via == P2PMEM_COPY_VIA_DEVICE ? "device" :
									  st->via == P2PMEM_COPY_VIA_P2P ? "p2p" : "host"));
		json_object_object_add(j, "note", st->note[0] ? json_object_new_string(st->note) : NULL);
		json_object_object_add(j, "error", st->error ? json_object_new_string(st->message) : NULL);
		json_object_object_add(j, "errno", st->error ? json_object_new_int(-st->error) : NULL);
		json_object_object_add(j, "journal", json_object_new_string(p2pmem_copy_job_journal(c, i)));
		json_object_array_add(jobs, j);
	}
	json_object_object_add(root, "jobs", jobs);
	json_object_object_add(root, "block_size", json_object_new_uint64(a->bs));
	json_object_object_add(root, "queue_depth", json_object_new_uint64(a->qd));
	json_object_object_add(root, "wall_seconds", json_object_new_double(wall));
	json_object_object_add(root, "cpu_seconds", json_object_new_double(cpu));
	json_object_object_add(root, "copy_seconds",
			       json_object_new_double(p2pmem_copy_phase_seconds(c, P2PMEM_COPY_PHASE_COPY)));
	json_object_object_add(root, "verify_seconds",
			       json_object_new_double(p2pmem_copy_phase_seconds(c, P2PMEM_COPY_PHASE_VERIFY)));
	json_object_object_add(root, "bytes_per_second", json_object_new_double(copy_rate(c, total)));
	json_object_object_add(root, "cpu_seconds_per_gib",
			       json_object_new_double(total ? cpu / ((double)total / (1u << 30)) : 0));
	puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
					    JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(root);
}

int cmd_copy(struct cli_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "src-offset", required_argument, NULL, OPT_SRC_OFF },
		{ "dst-offset", required_argument, NULL, OPT_DST_OFF },
		{ "length", required_argument, NULL, OPT_LENGTH },
		{ "provider", required_argument, NULL, OPT_PROVIDER },
		{ "bs", required_argument, NULL, OPT_BS },
		{ "qd", required_argument, NULL, OPT_QD },
		{ "verify", no_argument, NULL, OPT_VERIFY },
		{ "allow-host-bounce", no_argument, NULL, OPT_BOUNCE },
		{ "resume", no_argument, NULL, OPT_RESUME },
		{ "journal-dir", required_argument, NULL, OPT_JOURNAL_DIR },
		{ "via", required_argument, NULL, OPT_VIA },
		{ "no-device-copy", no_argument, NULL, OPT_NO_DEVICE },
		{ "quiet", no_argument, NULL, OPT_QUIET },
		{ NULL, 0, NULL, 0 },
	};
	struct copy_args a = { .bs = 1 << 20, .qd = 4 };
	const struct cli_command cmd = {
		.usage = copy_usage, .longopts = longopts, .shortopts = "q",
		.opt = copy_opt, .priv = &a,
	};
	struct progress prog = { .tty = isatty(STDERR_FILENO) && o->out != &output_json };
	struct p2pmem_copy_opts co = { .size = sizeof(co) };
	struct p2pmem_pci_dev *pdev;
	struct p2pmem_copy *c = NULL;
	struct p2pmem_ctx *ctx;
	char **pairs;
	int i, npairs, ret;

	ret = cli_parse(o, &cmd, argc, argv);
	if (ret >= 0)
		return ret;
	npairs = (argc - optind) / 2;
	if (argc - optind < 2 || (argc - optind) % 2) {
		cli_error("copy needs SRC DST pairs (got %d operand%s); see `p2pmem copy --help`",
			  argc - optind, argc - optind == 1 ? "" : "s");
		return EXIT_BAD_INPUT;
	}
	if (o->out == &output_dot) {
		cli_error("output format dot does not apply to copy: use text or json");
		return EXIT_BAD_INPUT;
	}
	if (a.qd == 0 || a.qd > 256 || a.bs == 0 || a.bs > (1u << 30)) {
		cli_error("--qd must be 1..256 and --bs 1 byte..1G");
		return EXIT_BAD_INPUT;
	}
	if (a.via && strcmp(a.via, "p2p") && strcmp(a.via, "host") && strcmp(a.via, "device")) {
		cli_error("--via takes device, p2p or host, not '%s'", a.via);
		return EXIT_BAD_INPUT;
	}
	if (a.via && strcmp(a.via, "p2p") && a.provider) {
		cli_error("--via %s moves no data through a provider: --provider does not apply", a.via);
		return EXIT_BAD_INPUT;
	}
	if (a.via && strcmp(a.via, "device") && (a.flags & P2PMEM_COPY_NO_DEVICE) == 0)
		a.flags |= P2PMEM_COPY_NO_DEVICE;	/* an explicit path is that path */
	if (a.via && !strcmp(a.via, "host"))
		a.flags |= P2PMEM_COPY_HOST_ONLY;
	if (a.via && !strcmp(a.via, "device")) {
		if (a.flags & P2PMEM_COPY_NO_DEVICE) {
			cli_error("--via device and --no-device-copy contradict each other");
			return EXIT_BAD_INPUT;
		}
		a.flags |= P2PMEM_COPY_DEVICE_ONLY;
	}
	if (a.via && strcmp(a.via, "host") && (a.flags & P2PMEM_COPY_ALLOW_HOST_BOUNCE)) {
		cli_error("--via %s insists on that path: drop --allow-host-bounce, or drop --via to allow the fallback",
			  a.via);
		return EXIT_BAD_INPUT;
	}
	pairs = argv + optind;
	prog.tty = prog.tty && !a.quiet;
	ctx = cli_open(o);
	if (!ctx)
		return EXIT_BAD_INPUT;

	ret = EXIT_BAD_INPUT;
	co.block_size = a.bs;
	co.queue_depth = (unsigned int)a.qd;
	co.flags = a.flags;
	co.journal_dir = a.journal_dir;
	co.phase_progress = progress_draw;
	co.progress_arg = &prog;
	if (a.provider) {
		if (p2pmem_resolve_client(ctx, a.provider, &pdev)) {
			cli_error("provider %s", p2pmem_ctx_last_error(ctx));
			goto out_free;
		}
		co.provider = p2pmem_pci_dev_provider(pdev);
		if (!co.provider) {
			cli_error("%s publishes no p2p memory: it is not a provider (`p2pmem list` shows them)",
				  p2pmem_pci_dev_bdf(pdev));
			goto out_free;
		}
	}
	if (p2pmem_copy_new(ctx, &co, &c)) {
		cli_error("%s", p2pmem_ctx_last_error(ctx));
		goto out_free;
	}
	for (i = 0; i < npairs; i++) {
		if (p2pmem_copy_add(c, pairs[2 * i], a.src_off, pairs[2 * i + 1], a.dst_off, a.length)) {
			cli_error("%s", p2pmem_ctx_last_error(ctx));
			goto out_free;
		}
	}

	running = c;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	ret = p2pmem_copy_run(c);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	running = NULL;
	if (prog.drawn)
		fputc('\n', stderr);	/* stopped mid-phase */

	if (o->out == &output_json)
		print_json(c, pairs, &a);
	else
		print_text(c, pairs);
	if (ret)
		cli_error("%s", p2pmem_ctx_last_error(ctx));
	ret = ret ? EXIT_FAILED : EXIT_OK;

out_free:
	p2pmem_copy_free(c);
	p2pmem_ctx_free(ctx);
	return ret;
}
