// SPDX-License-Identifier: MIT
/*
 * The copy engine: data moves from a source device into a buffer and from
 * the buffer to a destination device, both by DMA (O_DIRECT), the buffer
 * being p2p memory that both devices reach. The CPU only submits I/O.
 *
 * Every job has queue_depth buffers ("slots"); each slot runs its own
 * pipeline, read chunk -> write chunk -> next chunk, so reads and writes
 * of different chunks overlap. All jobs share one io_uring, so copies
 * between independent device pairs run in parallel from one thread.
 * After the copy pass, the optional verify pass reads back source and
 * destination into host memory and compares them.
 *
 * Progress is journaled (copy_journal.c) at watermarks: every byte below
 * is written (fdatasync'ed) or verified, so an interrupted copy resumes
 * without trusting anything in flight when it stopped.
 *
 * The slots' buffers are registered with the ring where the kernel lets
 * us (io_uring fixed buffers): each I/O then skips pinning, unpinning and
 * dirtying every page of its buffer, which p2p memory (order-0 device
 * pages, where host memory has huge pages) pays in full.  A registered
 * page stays reachable after its provider revoked the mapping, so p2p
 * memory is registered only where the provider tells revocation through
 * poll() (p2pmem.ko); the ring watches it and the job stops right away,
 * as it does on the EFAULT that unregistered I/O gets.
 *
 * Where io_uring is refused (kernel.io_uring_disabled, a seccomp filter),
 * the same SQEs are carried out one at a time by plain system calls
 * (copy_sync.c) and their results queued as completions: the same engine,
 * one I/O in flight.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "copy_internal.h"

#define DEFAULT_BLOCK_SIZE	(1u << 20)
#define DEFAULT_QUEUE_DEPTH	4
#define MAX_QUEUE_DEPTH		256
#define CHECKPOINT_BYTES	(64ull << 20)
#define TAG_DST			1u	/* verify: the destination's read */
#define TAG_WATCH		2u	/* the job's provider revoked its memory */

enum slot_state { SLOT_IDLE, SLOT_READ, SLOT_WRITE, SLOT_VERIFY, SLOT_DEVCOPY };
enum job_phase { PHASE_COPY, PHASE_VERIFY, PHASE_DONE };

struct copy_job;

/* One buffer and the chunk it carries through read -> write (or verify). */
struct copy_slot {
	struct copy_job *job;
	struct p2pmem_buf *buf;
	uint8_t *vbuf;		/* verify: 2 x block size of host memory */
	uint8_t *desc;		/* device copy: the command's source ranges */
	enum slot_state state;
	uint64_t off;		/* of the chunk, from the job's start */
	size_t len;
	size_t done[2];		/* bytes of the current I/O done: src, dst */
	int pending;		/* I/Os in flight */
	int fixed;		/* registered buffer index, or -1 */
	bool failed;		/* an I/O of this chunk failed: drain, stop */
};

struct copy_job {
	struct copy_target src, dst;
	uint64_t src_off, dst_off, len;
	struct p2pmem_pool *pool;
	struct copy_journal journal;
	enum job_phase phase;
	uint64_t next;		/* next chunk to issue in this phase */
	uint64_t checkpoint;	/* watermark last journaled */
	uint64_t hole;		/* first chunk of this phase that failed */
	struct copy_slot *slots;
	unsigned int nslots;
	bool resume;		/* start from the journal's watermarks */
	bool device;		/* copying by NVMe Copy inside the drive */
	struct copy_device dev;
	int refused;		/* a refused Copy: NVMe status, or -errno of the kernel */
	struct p2pmem_copy_job_stats st;
};

/* Bytes and time of one phase (copy or verify) over all jobs. */
struct phase_clock {
	uint64_t done, total;
	double start, end;	/* seconds since the run began; end 0: running */
};

struct p2pmem_copy {
	struct p2pmem_ctx *ctx;
	struct p2pmem_copy_opts opts;
	struct copy_job **jobs;
	size_t njobs;
	volatile sig_atomic_t cancel;
	struct io_uring ring;
	bool fixed;		/* the slots' buffers are registered */
	/* without io_uring: the SQE being prepared, and completions to handle */
	bool sync;
	struct io_uring_sqe sync_sqe[2];	/* room for an SQE128 */
	struct sync_done {
		uintptr_t data;
		int res;
	} *done_q;
	size_t q_head, q_tail, q_size;
	char jdir[512];		/* where journals live */
	uint64_t total, done;
	struct phase_clock phase[2];	/* P2PMEM_COPY_PHASE_* */
	double t0;		/* CLOCK_MONOTONIC when the data began to move */
	double wall, cpu;
};

__attribute__((format(printf, 3, 4)))
static void job_fail(struct copy_job *job, int err, const char *fmt, ...)
{
	va_list ap;

	if (job->st.error)
		return;		/* keep the first failure: the cause */
	job->st.error = err;
	va_start(ap, fmt);
	vsnprintf(job->st.message, sizeof(job->st.message), fmt, ap);
	va_end(ap);
}

/* ---- setup ---- */

/* The options as the first release defined them (before phase_progress). */
#define COPY_OPTS_SIZE_0_1 offsetof(struct p2pmem_copy_opts, phase_progress)

int p2pmem_copy_new(struct p2pmem_ctx *ctx, const struct p2pmem_copy_opts *opts,
		    struct p2pmem_copy **copyp)
{
	struct p2pmem_copy *c;

	*copyp = NULL;
	p2pmem_clear_error(ctx);
	if (!opts || (opts->size != sizeof(*opts) && opts->size != COPY_OPTS_SIZE_0_1)) {
		p2pmem_set_error(ctx, "copy options of unknown size");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->ctx = ctx;
	/* Fields a caller built against an older header does not have stay 0. */
	memcpy(&c->opts, opts, opts->size);
	c->opts.size = sizeof(c->opts);
	if (!c->opts.block_size)
		c->opts.block_size = DEFAULT_BLOCK_SIZE;
	if (!c->opts.queue_depth)
		c->opts.queue_depth = DEFAULT_QUEUE_DEPTH;
	if (c->opts.block_size % 512 || c->opts.block_size > (1u << 30) ||
	    c->opts.queue_depth > MAX_QUEUE_DEPTH) {
		p2pmem_set_error(ctx, "block size must be a multiple of 512 up to 1 GiB (got %zu) and queue depth at most %d (got %u)",
				 c->opts.block_size, MAX_QUEUE_DEPTH, c->opts.queue_depth);
		free(c);
		return -EINVAL;
	}
	*copyp = c;
	return 0;
}

static void job_free(struct copy_job *job)
{
	unsigned int i;

	for (i = 0; job->slots && i < job->nslots; i++) {
		p2pmem_buf_free(job->slots[i].buf);
		free(job->slots[i].vbuf);
		free(job->slots[i].desc);
	}
	copy_device_close(&job->dev);
	free(job->slots);
	p2pmem_pool_free(job->pool);
	copy_target_discard(&job->dst);
	copy_target_close(&job->src);
	copy_target_close(&job->dst);
	free(job);
}

void p2pmem_copy_free(struct p2pmem_copy *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->njobs; i++)
		job_free(c->jobs[i]);
	free(c->jobs);
	free(c);
}

static int check_alignment(struct p2pmem_copy *c, struct copy_job *job)
{
	unsigned int align = job->src.align > job->dst.align ? job->src.align : job->dst.align;
	const struct {
		uint64_t value;
		const char *what;
	} checks[] = {
		{ job->src_off, "source offset" },
		{ job->dst_off, "destination offset" },
		{ job->len, "length" },
		{ c->opts.block_size, "block size" },
	};
	size_t i;

	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		if (checks[i].value % align == 0)
			continue;
		p2pmem_set_error(c->ctx, "%s %" PRIu64 " is not a multiple of %u bytes, the direct-I/O alignment of %s: O_DIRECT needs aligned offsets and lengths",
				 checks[i].what, checks[i].value, align,
				 job->src.align >= job->dst.align ? job->src.name : job->dst.name);
		return -EINVAL;
	}
	return 0;
}

/* Where the buffers live: p2p memory both devices reach, or a bounce. */
static int choose_pool(struct p2pmem_copy *c, struct copy_job *job)
{
	bool bounce = c->opts.flags & P2PMEM_COPY_ALLOW_HOST_BOUNCE;
	struct p2pmem_pci_dev *clients[2] = { job->src.pci, job->dst.pci };
	struct p2pmem_pool_opts po = {
		.size = sizeof(po),
		.provider = c->opts.provider,
		.clients = clients,
		.nclients = job->src.pci == job->dst.pci ? 1 : 2,
		.chunk_size = c->opts.block_size * job->nslots,
		.flags = bounce ? P2PMEM_POOL_ALLOW_HOST : 0,
	};
	const struct copy_target *nonpci = !job->src.pci ? &job->src : &job->dst;
	char why[600];
	int ret;

	if (c->opts.flags & P2PMEM_COPY_HOST_ONLY) {
		po.flags = P2PMEM_POOL_HOST;
	} else if (!job->src.pci || !job->dst.pci) {
		if (!bounce) {
			p2pmem_set_error(c->ctx, "%s is not on a PCI device, so no p2p memory can serve this copy; --allow-host-bounce copies through host memory instead",
					 nonpci->name);
			return -EREMOTEIO;
		}
		po.flags = P2PMEM_POOL_HOST;
	}
	ret = p2pmem_pool_new(c->ctx, &po, &job->pool);
	if (ret == -EREMOTEIO) {
		snprintf(why, sizeof(why), "%s", p2pmem_ctx_last_error(c->ctx));
		p2pmem_set_error(c->ctx, "no provider reaches both %s (%s) and %s (%s): %s; --allow-host-bounce copies through host memory instead",
				 job->src.name, job->src.pci->bdf, job->dst.name,
				 job->dst.pci->bdf, why);
	}
	return ret;
}

/*
 * Two ranges of one NVMe namespace: the drive copies them itself when it
 * can (copy_device.c), and nothing crosses PCIe. Why it cannot is kept for
 * the summary when the user could have expected it (one device).
 */
static int choose_device(struct p2pmem_copy *c, struct copy_job *job)
{
	unsigned int f = c->opts.flags;
	char why[400];
	int ret;

	/* A named provider asks for p2p memory: the data goes through it. */
	if (c->opts.provider && !(f & P2PMEM_COPY_DEVICE_ONLY))
		return 0;
	if (f & (P2PMEM_COPY_NO_DEVICE | P2PMEM_COPY_HOST_ONLY)) {
		if ((f & P2PMEM_COPY_DEVICE_ONLY)) {
			p2pmem_set_error(c->ctx, "device copy only, and device copy off: contradictory flags");
			return -EINVAL;
		}
		return 0;
	}
	ret = copy_device_open(c->ctx, &job->src, &job->dst, &job->dev, why, sizeof(why));
	if (ret) {
		if (f & P2PMEM_COPY_DEVICE_ONLY) {
			p2pmem_set_error(c->ctx, "no device copy from %s to %s: %s; drop --via device to copy through memory",
					 job->src.name, job->dst.name, why);
			return ret == -ENOMEM ? ret : -EOPNOTSUPP;
		}
		if (job->src.is_blockdev && job->src.disk == job->dst.disk)
			snprintf(job->st.note, sizeof(job->st.note), "no device copy: %s", why);
		return ret == -ENOMEM ? ret : 0;
	}
	job->device = true;
	job->st.via = P2PMEM_COPY_VIA_DEVICE;
	snprintf(job->st.where, sizeof(job->st.where),
		 "device copy (NVMe Copy inside %s through %s, %" PRIu64 " KiB per command)",
		 job->dev.disk, job->dev.path, (uint64_t)copy_device_max_bytes(&job->dev) >> 10);
	return 0;
}

static void job_describe_pool(struct copy_job *job)
{
	job->st.p2p = p2pmem_pool_provider(job->pool) != NULL;
	job->st.via = job->st.p2p ? P2PMEM_COPY_VIA_P2P : P2PMEM_COPY_VIA_HOST;
	snprintf(job->st.where, sizeof(job->st.where), "%s", p2pmem_pool_describe(job->pool));
}

/*
 * Where the buffers are p2p memory, ask the kernel itself before any byte
 * moves: one O_DIRECT read of each device into a buffer. Upstream P2PDMA
 * decides at DMA mapping time, in the I/O; the library's verdict predicts
 * that answer but cannot promise it (a host bridge, an IOMMU, a kernel
 * version it does not know). A refusal moves the job to host memory when a
 * bounce is allowed and refuses the copy cleanly otherwise, instead of
 * failing it on its first chunk. Reads change nothing; a target shorter
 * than one block (a new file) has nothing to read.
 *
 * Kernels up to 6.12 fail a refused transfer with EREMOTEIO; Debian's 7.x
 * (the block layer's DMA iterator) with EINVAL, which a malformed request
 * gives too: the same read into host memory tells the two apart.
 */
static bool probe_refused(const struct copy_target *t, void *p2p, size_t len,
			  int *err)
{
	void *host;
	bool refused;

	if (pread(t->fd, p2p, len, 0) >= 0)
		return false;
	*err = errno;
	if (*err == EREMOTEIO)
		return true;
	if (*err != EINVAL || posix_memalign(&host, 4096, len))
		return false;
	refused = pread(t->fd, host, len, 0) >= 0;
	free(host);
	return refused;
}

static int probe_pool(struct p2pmem_copy *c, struct copy_job *job)
{
	const struct copy_target *t[2] = { &job->src, &job->dst }, *refused = NULL;
	size_t len = 4096, i;
	struct p2pmem_buf *buf;
	struct p2pmem_pool_opts po = { .size = sizeof(po), .flags = P2PMEM_POOL_HOST };
	char where[128];
	int ret, err = 0;

	if (!p2pmem_pool_provider(job->pool))
		return 0;
	/* p2pmem.ko judged the clients when the pool declared them. */
	if (strcmp(p2pmem_provider_backend(p2pmem_pool_provider(job->pool)), "upstream") != 0)
		return 0;
	for (i = 0; i < 2; i++)
		if (t[i]->align > len)
			len = t[i]->align;
	ret = p2pmem_buf_alloc(job->pool, len, &buf);
	if (ret)
		return ret;
	for (i = 0; i < 2 && !refused; i++)
		if (t[i]->size >= len &&
		    probe_refused(t[i], p2pmem_buf_addr(buf), len, &err))
			refused = t[i];
	p2pmem_buf_free(buf);
	if (!refused)
		return 0;
	snprintf(where, sizeof(where), "%s", p2pmem_pool_describe(job->pool));
	p2pmem_pool_free(job->pool);
	job->pool = NULL;
	if (!(c->opts.flags & P2PMEM_COPY_ALLOW_HOST_BOUNCE)) {
		p2pmem_set_error(c->ctx, "the kernel refused p2p DMA between %s and %s (%s on a first read of %s), although the library's rule allowed it; --allow-host-bounce copies through host memory instead",
				 where, refused->name,
				 err == EREMOTEIO ? "EREMOTEIO" : "EINVAL, host memory accepted",
				 refused->name);
		return -EREMOTEIO;
	}
	return p2pmem_pool_new(c->ctx, &po, &job->pool);
}

/* mkdir -p, each new directory 0700 (the XDG base directory rule). */
static int make_private_dirs(char *path)
{
	char *p, c;

	for (p = path + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			*p = c;
			return -errno;
		}
		*p = c;
		if (!c)
			return 0;
	}
}

/*
 * The journal directory must be usable before any byte moves: a copy that
 * cannot record its progress cannot be resumed. By default it is private
 * to the user ($XDG_STATE_HOME/p2pmem, ~/.local/state/p2pmem, or
 * /var/lib/p2pmem for root), created 0700 and refused when others could
 * write into it; a directory the caller names may be shared (a sticky /tmp):
 * the journal's own checks then keep other users' files out.
 */
static int journal_dir(struct p2pmem_copy *c)
{
	const char *dir = c->opts.journal_dir, *xdg = getenv("XDG_STATE_HOME");
	const char *home = getenv("HOME");
	struct stat st;
	int ret;

	if (c->jdir[0])
		return 0;
	if (dir) {
		if (access(dir, W_OK | X_OK) != 0) {
			ret = -errno;
			p2pmem_set_error(c->ctx, "cannot keep resume journals in %s: %s; --journal-dir names another directory",
					 dir, strerror(errno));
			return ret;
		}
		snprintf(c->jdir, sizeof(c->jdir), "%s", dir);
		return 0;
	}
	if (xdg && xdg[0] == '/')
		snprintf(c->jdir, sizeof(c->jdir), "%s/p2pmem", xdg);
	else if (geteuid() == 0)
		snprintf(c->jdir, sizeof(c->jdir), "/var/lib/p2pmem");
	else if (home && home[0] == '/')
		snprintf(c->jdir, sizeof(c->jdir), "%s/.local/state/p2pmem", home);
	else {
		p2pmem_set_error(c->ctx, "no private place for resume journals: neither XDG_STATE_HOME nor HOME is set; --journal-dir names a directory");
		return -ENOENT;
	}
	ret = make_private_dirs(c->jdir);
	if (!ret && lstat(c->jdir, &st) != 0)
		ret = -errno;
	if (ret) {
		p2pmem_set_error(c->ctx, "cannot create the journal directory %s: %s; --journal-dir names another directory",
				 c->jdir, strerror(-ret));
		c->jdir[0] = '\0';
		return ret;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		p2pmem_set_error(c->ctx, "refusing the journal directory %s: %s; `chmod 700` it if it is yours, or name another with --journal-dir",
				 c->jdir, !S_ISDIR(st.st_mode) ? "not a directory" :
				 st.st_uid != geteuid() ? "it belongs to another user" :
				 "others can write into it");
		c->jdir[0] = '\0';
		return -EPERM;
	}
	return 0;
}

/* Which files the paths are: a journal of other files must not count. */
static void target_binding(const struct copy_target *t, char *buf, size_t len)
{
	if (t->is_blockdev)
		snprintf(buf, len, "blk %u:%u size %" PRIu64, major(t->rdev), minor(t->rdev), t->size);
	else
		snprintf(buf, len, "file %u:%u ino %" PRIu64, major(t->disk), minor(t->disk),
			 (uint64_t)t->ino);
}

/*
 * Take the journal of this job, if any. With --resume its watermarks are
 * trusted only if the journal is the caller's own, of these very files,
 * and the destination still holds what it says was written; a journal
 * that fails those checks refuses the copy (the user decides). Without
 * --resume a journal of ours is simply replaced, one of someone else is
 * refused now rather than failing the first checkpoint mid-copy.
 */
static int job_journal(struct p2pmem_copy *c, struct copy_job *job)
{
	char identity[1024], binding[256], sb[100], db[100], *rs, *rd;
	bool resume = c->opts.flags & P2PMEM_COPY_RESUME;
	struct stat st;
	int ret;

	rs = realpath(job->src.name, NULL);
	rd = realpath(job->dst.name, NULL);
	snprintf(identity, sizeof(identity), "src=%s@%" PRIu64 " dst=%s@%" PRIu64 " len=%" PRIu64,
		 rs ? rs : job->src.name, job->src_off, rd ? rd : job->dst.name,
		 job->dst_off, job->len);
	free(rs);
	free(rd);
	target_binding(&job->src, sb, sizeof(sb));
	target_binding(&job->dst, db, sizeof(db));
	snprintf(binding, sizeof(binding), "src %s dst %s", sb, db);
	copy_journal_init(&job->journal, c->jdir, identity, binding);

	ret = copy_journal_load(c->ctx, &job->journal);
	if (ret < 0 && (resume || ret == -EPERM))
		return ret;
	if (ret <= 0 || !resume) {
		job->journal.written = job->journal.verified = 0;
		return 0;
	}
	if (job->journal.written > job->len) {
		p2pmem_set_error(c->ctx, "the resume journal %s says %" PRIu64 " bytes were written, more than the copy's %" PRIu64 "; remove it to start over",
				 job->journal.path, job->journal.written, job->len);
		return -EINVAL;
	}
	if (!job->dst.is_blockdev &&
	    (fstat(job->dst.fd, &st) != 0 ||
	     (uint64_t)st.st_size < job->dst_off + job->journal.written)) {
		p2pmem_set_error(c->ctx, "%s ends before the journal's watermark (byte %" PRIu64 "): it was truncated since; remove the journal %s to start the copy over",
				 job->dst.name, job->dst_off + job->journal.written,
				 job->journal.path);
		return -ESTALE;
	}
	job->resume = true;
	return 0;
}

int p2pmem_copy_add(struct p2pmem_copy *c, const char *src, uint64_t src_off,
		    const char *dst, uint64_t dst_off, uint64_t len)
{
	struct copy_job *job, **jobs;
	int ret;

	p2pmem_clear_error(c->ctx);
	ret = journal_dir(c);
	if (ret)
		return ret;
	job = calloc(1, sizeof(*job));
	if (!job)
		return -ENOMEM;
	job->src.fd = job->dst.fd = -1;
	ret = copy_target_open(c->ctx, &job->src, src, false);
	if (!ret)
		ret = copy_target_open(c->ctx, &job->dst, dst, true);
	if (ret)
		goto err_free;

	if (src_off > job->src.size) {
		p2pmem_set_error(c->ctx, "source offset %" PRIu64 " is beyond the end of %s (%" PRIu64 " bytes)",
				 src_off, src, job->src.size);
		ret = -EINVAL;
		goto err_free;
	}
	if (!len)
		len = job->src.size - src_off;
	if (!len || src_off + len > job->src.size) {
		p2pmem_set_error(c->ctx, "nothing to copy: %s has %" PRIu64 " bytes and the range [%" PRIu64 ", +%" PRIu64 ") %s",
				 src, job->src.size, src_off, len,
				 len ? "ends beyond it" : "is empty");
		ret = -EINVAL;
		goto err_free;
	}
	if (job->dst.is_blockdev && dst_off + len > job->dst.size) {
		p2pmem_set_error(c->ctx, "destination too small: %s has %" PRIu64 " bytes, the copy needs %" PRIu64 " at offset %" PRIu64,
				 dst, job->dst.size, len, dst_off);
		ret = -ENOSPC;
		goto err_free;
	}
	job->src_off = src_off;
	job->dst_off = dst_off;
	job->len = len;
	ret = check_alignment(c, job);
	if (ret)
		goto err_free;
	/*
	 * No more buffers than chunks: a 1 MiB copy maps (and the provider
	 * clears) one buffer, not queue_depth of them.
	 */
	job->nslots = (unsigned int)((len + c->opts.block_size - 1) / c->opts.block_size);
	if (job->nslots > c->opts.queue_depth)
		job->nslots = c->opts.queue_depth;
	if (copy_targets_overlap(&job->src, src_off, &job->dst, dst_off, len)) {
		p2pmem_set_error(c->ctx, "the source and destination ranges overlap on one device (%s at %" PRIu64 ", %s at %" PRIu64 ", %" PRIu64 " bytes): the copy would read what it wrote",
				 src, src_off, dst, dst_off, len);
		ret = -EINVAL;
		goto err_free;
	}
	ret = job_journal(c, job);
	if (ret)
		goto err_free;
	ret = choose_device(c, job);
	if (ret)
		goto err_free;
	if (!job->device) {
		ret = choose_pool(c, job);
		if (!ret)
			ret = probe_pool(c, job);
		if (ret)
			goto err_free;
		job_describe_pool(job);
	}

	jobs = realloc(c->jobs, (c->njobs + 1) * sizeof(*jobs));
	if (!jobs) {
		ret = -ENOMEM;
		goto err_free;
	}
	c->jobs = jobs;
	c->jobs[c->njobs++] = job;
	return 0;

err_free:
	job_free(job);
	return ret;
}

/* ---- running ---- */

static struct io_uring_sqe *get_sqe(struct p2pmem_copy *c)
{
	struct io_uring_sqe *sqe;

	if (c->sync) {
		memset(c->sync_sqe, 0, sizeof(c->sync_sqe));
		return c->sync_sqe;
	}
	sqe = io_uring_get_sqe(&c->ring);
	if (!sqe) {
		io_uring_submit(&c->ring);
		sqe = io_uring_get_sqe(&c->ring);
	}
	return sqe;
}

/* Without io_uring the prepared SQE runs now; its result waits its turn. */
static void sqe_ready(struct p2pmem_copy *c)
{
	struct sync_done *d;

	if (!c->sync)
		return;
	d = &c->done_q[c->q_tail++ % c->q_size];
	d->res = copy_sync_exec(c->sync_sqe);
	d->data = (uintptr_t)c->sync_sqe[0].user_data;
}

static int submit_read(struct p2pmem_copy *c, struct copy_slot *s, unsigned int tag)
{
	struct copy_job *job = s->job;
	struct io_uring_sqe *sqe = get_sqe(c);
	const struct copy_target *t = tag == TAG_DST ? &job->dst : &job->src;
	uint64_t base = tag == TAG_DST ? job->dst_off : job->src_off;
	uint8_t *dst;

	if (!sqe)
		return -EBUSY;
	if (s->state == SLOT_VERIFY) {
		dst = s->vbuf + (tag == TAG_DST ? c->opts.block_size : 0);
		io_uring_prep_read(sqe, t->fd, dst + s->done[tag],
				   (unsigned int)(s->len - s->done[tag]),
				   base + s->off + s->done[tag]);
	} else {
		dst = p2pmem_buf_addr(s->buf);
		if (s->fixed >= 0)
			io_uring_prep_read_fixed(sqe, t->fd, dst + s->done[tag],
						 (unsigned int)(s->len - s->done[tag]),
						 base + s->off + s->done[tag], s->fixed);
		else
			io_uring_prep_read(sqe, t->fd, dst + s->done[tag],
					   (unsigned int)(s->len - s->done[tag]),
					   base + s->off + s->done[tag]);
	}
	io_uring_sqe_set_data(sqe, (void *)((uintptr_t)s | tag));
	s->pending++;
	job->st.ops++;
	sqe_ready(c);
	return 0;
}

static int submit_write(struct p2pmem_copy *c, struct copy_slot *s)
{
	struct copy_job *job = s->job;
	struct io_uring_sqe *sqe = get_sqe(c);
	uint8_t *src = (uint8_t *)p2pmem_buf_addr(s->buf) + s->done[0];
	unsigned int len = (unsigned int)(s->len - s->done[0]);
	uint64_t off = job->dst_off + s->off + s->done[0];

	if (!sqe)
		return -EBUSY;
	if (s->fixed >= 0)
		io_uring_prep_write_fixed(sqe, job->dst.fd, src, len, off, s->fixed);
	else
		io_uring_prep_write(sqe, job->dst.fd, src, len, off);
	io_uring_sqe_set_data(sqe, s);
	s->pending++;
	job->st.ops++;
	sqe_ready(c);
	return 0;
}

static int submit_device_copy(struct p2pmem_copy *c, struct copy_slot *s)
{
	struct copy_job *job = s->job;
	struct io_uring_sqe *sqe = get_sqe(c);

	if (!sqe)
		return -EBUSY;
	copy_device_prep(&job->dev, sqe, job->src_off + s->off, job->dst_off + s->off, s->len,
			 s->desc);
	io_uring_sqe_set_data(sqe, s);
	s->pending++;
	job->st.ops++;
	sqe_ready(c);
	return 0;
}

/* Start the next chunk of the job's current phase on an idle slot. */
static void slot_start(struct p2pmem_copy *c, struct copy_slot *s)
{
	struct copy_job *job = s->job;
	uint64_t left = job->len - job->next;
	size_t chunk = c->opts.block_size;

	if (job->device && job->phase == PHASE_COPY)
		chunk = copy_device_max_bytes(&job->dev);
	s->off = job->next;
	s->len = left < chunk ? (size_t)left : chunk;
	s->done[0] = s->done[1] = 0;
	s->failed = false;
	job->next += s->len;
	if (job->device && job->phase == PHASE_COPY) {
		s->state = SLOT_DEVCOPY;
		submit_device_copy(c, s);
	} else if (job->phase == PHASE_COPY) {
		s->state = SLOT_READ;
		submit_read(c, s, 0);
	} else {
		s->state = SLOT_VERIFY;
		submit_read(c, s, 0);
		submit_read(c, s, TAG_DST);
	}
}

static bool job_busy(const struct copy_job *job)
{
	unsigned int i;

	for (i = 0; i < job->nslots; i++)
		if (job->slots[i].state != SLOT_IDLE)
			return true;
	return false;
}

/*
 * Every byte of the phase below this offset is done: below the next chunk
 * to issue, below every chunk in flight, and below any chunk that failed
 * or was abandoned (those are not done, though their slots are idle).
 */
static uint64_t job_watermark(const struct copy_job *job)
{
	uint64_t w = job->next < job->hole ? job->next : job->hole;
	unsigned int i;

	for (i = 0; i < job->nslots; i++)
		if (job->slots[i].state != SLOT_IDLE && job->slots[i].off < w)
			w = job->slots[i].off;
	return w;
}

/* Record the watermark: data first made durable, then the journal. */
static void job_checkpoint(struct copy_job *job, bool force)
{
	uint64_t w = job_watermark(job);
	int ret;

	if (job->phase == PHASE_DONE || (!force && w < job->checkpoint + CHECKPOINT_BYTES))
		return;
	if (job->phase == PHASE_COPY) {
		if (fdatasync(job->dst.fd) != 0) {
			job_fail(job, -errno, "cannot flush %s: %s", job->dst.name, strerror(errno));
			return;
		}
		job->journal.written = w;
	} else {
		job->journal.verified = w;
	}
	job->checkpoint = w;
	ret = copy_journal_save(&job->journal);
	if (ret)
		job_fail(job, ret, "cannot write the resume journal %s: %s",
			 job->journal.path, strerror(-ret));
}

static double now(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * A phase begins with its first chunk and ends with its last byte; the
 * summary's rates are computed from the same clock, so the last progress
 * line and the summary agree.
 */
static void phase_begin(struct p2pmem_copy *c, unsigned int phase)
{
	struct phase_clock *pc = &c->phase[phase];

	if (!pc->start && c->t0)
		pc->start = now(CLOCK_MONOTONIC) - c->t0;
}

static void report_progress(struct p2pmem_copy *c, unsigned int phase, uint64_t bytes)
{
	struct phase_clock *pc = &c->phase[phase];
	struct p2pmem_copy_progress p = { .size = sizeof(p) };
	double t = now(CLOCK_MONOTONIC) - c->t0;
	unsigned int shown;

	c->done += bytes;
	pc->done += bytes;
	if (pc->done >= pc->total)
		pc->end = t;
	if (c->opts.progress)
		c->opts.progress(c->opts.progress_arg, c->done, c->total);
	if (!c->opts.phase_progress)
		return;
	/*
	 * Copying is shown until every job has copied (its last byte too),
	 * then verifying.
	 */
	shown = phase == P2PMEM_COPY_PHASE_COPY ||
		c->phase[P2PMEM_COPY_PHASE_COPY].done < c->phase[P2PMEM_COPY_PHASE_COPY].total ?
		P2PMEM_COPY_PHASE_COPY : P2PMEM_COPY_PHASE_VERIFY;
	pc = &c->phase[shown];
	p.phase = shown;
	p.done = pc->done;
	p.total = pc->total;
	p.seconds = (pc->end ? pc->end : t) - pc->start;
	c->opts.phase_progress(c->opts.progress_arg, &p);
}

static void io_failed(struct copy_job *job, struct copy_slot *s, unsigned int tag, int res)
{
	const struct copy_target *t = (s->state == SLOT_WRITE || tag == TAG_DST) ?
				      &job->dst : &job->src;
	uint64_t base = t == &job->dst ? job->dst_off : job->src_off;
	const char *hint = "";

	if (s->off < job->hole)
		job->hole = s->off;
	if (res == 0)
		res = -ENODATA;
	if (job->st.p2p && s->state != SLOT_VERIFY && (res == -EFAULT || res == -EIO))
		hint = " (the p2p memory may have been revoked: provider unbound or offline; `p2pmem copy --resume` continues, with another provider or --allow-host-bounce)";
	job_fail(job, res, "%s %s at offset %" PRIu64 " failed: %s%s",
		 s->state == SLOT_WRITE ? "writing" : "reading", t->name,
		 base + s->off + s->done[tag],
		 res == -ENODATA ? "unexpected end of data" : strerror(-res), hint);
}

static void verify_compare(struct p2pmem_copy *c, struct copy_job *job, struct copy_slot *s)
{
	const uint8_t *a = s->vbuf, *b = s->vbuf + c->opts.block_size;
	size_t i;

	if (memcmp(a, b, s->len) == 0) {
		job->st.verified += s->len;
		report_progress(c, P2PMEM_COPY_PHASE_VERIFY, s->len);
		return;
	}
	if (s->off < job->hole)
		job->hole = s->off;
	for (i = 0; i < s->len && a[i] == b[i]; i++)
		;
	job_fail(job, -EILSEQ, "verify failed: %s at offset %" PRIu64 " differs from %s at offset %" PRIu64,
		 job->dst.name, job->dst_off + s->off + i, job->src.name,
		 job->src_off + s->off + i);
}

/*
 * The poll on the job's provider fired: its memory was revoked (provider
 * unbound, removed, CMB reset).  Stop, and trust nothing in flight now:
 * the journal's watermark stays below it, so --resume redoes it.
 */
static void job_revoked(struct copy_job *job, int res)
{
	unsigned int i;

	if (res == -ECANCELED || job->phase != PHASE_COPY)
		return;		/* the ring is going away, or p2p use is over */
	for (i = 0; i < job->nslots; i++)
		if (job->slots[i].state != SLOT_IDLE && job->slots[i].off < job->hole)
			job->hole = job->slots[i].off;
	if (res < 0)
		job_fail(job, res, "cannot watch %s for revocation: %s",
			 job->st.where, strerror(-res));
	else
		job_fail(job, -ENODEV, "the p2p memory of %s was revoked (provider offline: unbound, removed or reset); `p2pmem copy --resume` continues, with another provider or --allow-host-bounce",
			 job->st.where);
}

/*
 * A Copy command completed: 0, a negative errno from the kernel, or the
 * NVMe status. A status that says the drive will not do it marks the job
 * for a fallback through memory once its other commands are back.
 */
static void device_copy_done(struct p2pmem_copy *c, struct copy_job *job,
			     struct copy_slot *s, int res)
{
	char status[128];

	s->state = SLOT_IDLE;
	if (res == 0) {
		job->st.bytes += s->len;
		report_progress(c, P2PMEM_COPY_PHASE_COPY, s->len);
		return;
	}
	if (s->off < job->hole)
		job->hole = s->off;
	if (copy_device_may_fall_back(res) && !(c->opts.flags & P2PMEM_COPY_DEVICE_ONLY)) {
		if (!job->refused)
			job->refused = res;
		return;
	}
	if (res > 0 || copy_device_may_fall_back(res))
		copy_device_status(res, status, sizeof(status));
	else
		snprintf(status, sizeof(status), "%s", strerror(-res));
	job_fail(job, res > 0 ? -EIO : res,
		 "NVMe Copy of %s at offset %" PRIu64 " to %s at offset %" PRIu64 " failed: %s%s",
		 job->src.name, job->src_off + s->off, job->dst.name, job->dst_off + s->off, status,
		 copy_device_may_fall_back(res) ?
		 "; without --via device the copy continues through memory" : "");
}

/* One completion: @data as the SQE carried it, @res as its CQE's. */
static void handle_completion(struct p2pmem_copy *c, uintptr_t data, int res)
{
	struct copy_slot *s = (struct copy_slot *)(data & ~(uintptr_t)(TAG_DST | TAG_WATCH));
	unsigned int tag = (unsigned int)(data & TAG_DST);
	struct copy_job *job;

	if (data & TAG_WATCH) {
		job_revoked((struct copy_job *)(data & ~(uintptr_t)TAG_WATCH), res);
		return;
	}
	job = s->job;
	s->pending--;
	if (s->state == SLOT_DEVCOPY) {
		device_copy_done(c, job, s, res);
		return;
	}
	if (res <= 0 && !s->failed) {
		io_failed(job, s, tag, res);
		s->failed = true;
	}
	if (s->failed)
		goto out_idle;	/* once the other I/O of a verify is back */
	s->done[s->state == SLOT_WRITE ? 0 : tag] += (size_t)res;
	switch (s->state) {
	case SLOT_READ:
		if (s->done[0] < s->len) {
			submit_read(c, s, 0);	/* short read: the rest */
			return;
		}
		if (job->st.error) {
			/* Another chunk failed: stop; this one is not written. */
			if (s->off < job->hole)
				job->hole = s->off;
			break;
		}
		s->state = SLOT_WRITE;
		s->done[0] = 0;
		submit_write(c, s);
		return;
	case SLOT_WRITE:
		if (s->done[0] < s->len) {
			submit_write(c, s);
			return;
		}
		job->st.bytes += s->len;
		report_progress(c, P2PMEM_COPY_PHASE_COPY, s->len);
		break;
	case SLOT_VERIFY:
		if (s->done[tag] < s->len) {
			submit_read(c, s, tag);
			return;
		}
		if (s->pending)
			return;		/* the other side is still reading */
		verify_compare(c, job, s);
		break;
	case SLOT_IDLE:
	case SLOT_DEVCOPY:	/* device_copy_done() took it */
		break;
	}
out_idle:
	if (!s->pending)
		s->state = SLOT_IDLE;
}

static int slot_buffers(struct p2pmem_copy *c, struct copy_job *job, struct copy_slot *s,
			unsigned int i)
{
	int ret;

	if (job->device) {
		if (posix_memalign((void **)&s->desc, 4096,
				   copy_device_desc_bytes(&job->dev, copy_device_max_bytes(&job->dev))))
			return -ENOMEM;
		return 0;
	}
	ret = p2pmem_buf_alloc(job->pool, c->opts.block_size, &s->buf);
	if (ret)
		job_fail(job, ret, "cannot allocate buffer %u of %zu bytes from %s: %s",
			 i + 1, c->opts.block_size, job->st.where,
			 p2pmem_ctx_last_error(c->ctx)[0] ? p2pmem_ctx_last_error(c->ctx) :
			 strerror(-ret));
	return ret;
}

/*
 * The drive refused a Copy with a status that says it will not do it (not
 * a media error), or the kernel refused the passthrough: continue through
 * memory from the watermark, as a job that never tried. Chunks it did copy
 * below the watermark stay.
 */
static void job_fall_back(struct p2pmem_copy *c, struct copy_job *job)
{
	uint64_t w = job_watermark(job);
	char status[128], where[128];
	unsigned int i;
	int ret;

	copy_device_status(job->refused, status, sizeof(status));
	snprintf(where, sizeof(where), "%s", job->st.where);
	job->refused = 0;
	job->device = false;
	copy_device_close(&job->dev);
	ret = choose_pool(c, job);
	if (!ret)
		ret = probe_pool(c, job);
	if (ret) {
		job_fail(job, ret, "NVMe Copy was refused (%s), and memory cannot serve either: %s",
			 status, p2pmem_ctx_last_error(c->ctx));
		return;
	}
	job_describe_pool(job);
	for (i = 0; i < job->nslots; i++)
		if (slot_buffers(c, job, &job->slots[i], i))
			return;
	snprintf(job->st.note, sizeof(job->st.note),
		 "NVMe Copy refused at byte %" PRIu64 " (%s): continued through memory",
		 job->src_off + w, status);
	job->next = w;
	job->checkpoint = w < job->checkpoint ? w : job->checkpoint;
	job->hole = UINT64_MAX;
}

/* Move a job on when its phase has drained: next phase, or done. */
static void job_advance(struct p2pmem_copy *c, struct copy_job *job)
{
	bool stop = job->st.error || c->cancel;

	if (job->phase == PHASE_COPY && job->device && !job_busy(job) && job->next >= job->len &&
	    job->hole == UINT64_MAX) {
		/* Buffered readers of the destination must not see stale pages. */
		posix_fadvise(job->dst.fd, (off_t)job->dst_off, (off_t)job->len,
			      POSIX_FADV_DONTNEED);
	}

	if (job->phase == PHASE_DONE || job_busy(job))
		return;
	if (job->refused && !stop)
		job_fall_back(c, job);
	stop = job->st.error || c->cancel;
	if (stop) {
		job_checkpoint(job, true);
		job->phase = PHASE_DONE;
		return;
	}
	if (job->next < job->len)
		return;
	job_checkpoint(job, true);
	if (job->st.error) {
		job->phase = PHASE_DONE;
	} else if (job->phase == PHASE_COPY && (c->opts.flags & P2PMEM_COPY_VERIFY)) {
		job->phase = PHASE_VERIFY;
		phase_begin(c, P2PMEM_COPY_PHASE_VERIFY);
		job->next = job->journal.verified;
		job->checkpoint = job->next;
		job->hole = UINT64_MAX;
	} else {
		job->phase = PHASE_DONE;
		copy_journal_remove(&job->journal);
	}
}

static int job_prepare(struct p2pmem_copy *c, struct copy_job *job)
{
	bool verify = c->opts.flags & P2PMEM_COPY_VERIFY;
	unsigned int i;
	int ret;

	if (job->resume)
		job->st.resumed_at = job->journal.written;
	job->phase = PHASE_COPY;
	job->next = job->journal.written;
	job->checkpoint = job->next;
	job->hole = UINT64_MAX;
	if (job->next >= job->len) {
		job->phase = verify ? PHASE_VERIFY : PHASE_DONE;
		job->next = job->journal.verified;
		job->checkpoint = job->next;
	}
	c->total += job->len - job->journal.written;
	c->phase[P2PMEM_COPY_PHASE_COPY].total += job->len - job->journal.written;
	if (verify) {
		c->total += job->len - job->journal.verified;
		c->phase[P2PMEM_COPY_PHASE_VERIFY].total += job->len - job->journal.verified;
	}

	job->slots = calloc(job->nslots, sizeof(*job->slots));
	if (!job->slots)
		return -ENOMEM;
	/* The drive reads the source itself: what the page cache holds first. */
	if (job->device && fdatasync(job->src.fd) != 0) {
		job_fail(job, -errno, "cannot flush %s before the device copy: %s", job->src.name,
			 strerror(errno));
		return -errno;
	}
	for (i = 0; i < job->nslots; i++) {
		struct copy_slot *s = &job->slots[i];

		s->job = job;
		s->fixed = -1;
		ret = slot_buffers(c, job, s, i);
		if (ret)
			return ret;
		if (verify && posix_memalign((void **)&s->vbuf, 4096, 2 * c->opts.block_size))
			return -ENOMEM;
	}
	return 0;
}

/*
 * Register every slot's buffer with the ring, all or none (see the top of
 * the file).  None where a p2p pool cannot tell revocation, where the
 * kernel refuses (upstream P2PDMA pages cannot be long-term pinned), or
 * where RLIMIT_MEMLOCK is too small: plain I/O works the same, slower.
 */
static void register_buffers(struct p2pmem_copy *c)
{
	struct iovec *iov;
	unsigned int n = 0, k;
	size_t i;

	for (i = 0; i < c->njobs; i++) {
		if (c->jobs[i]->device)
			continue;	/* no buffers: the drive copies */
		if (p2pmem_pool_provider(c->jobs[i]->pool) &&
		    p2pmem_pool_watch_fd(c->jobs[i]->pool) < 0)
			return;
		n += c->jobs[i]->nslots;
	}
	if (!n)
		return;
	iov = calloc(n, sizeof(*iov));
	if (!iov)
		return;
	n = 0;
	for (i = 0; i < c->njobs; i++)
		for (k = 0; !c->jobs[i]->device && k < c->jobs[i]->nslots; k++) {
			iov[n].iov_base = p2pmem_buf_addr(c->jobs[i]->slots[k].buf);
			iov[n++].iov_len = c->opts.block_size;
		}
	c->fixed = io_uring_register_buffers(&c->ring, iov, n) == 0;
	free(iov);
	if (!c->fixed)
		return;
	n = 0;
	for (i = 0; i < c->njobs; i++) {
		struct copy_job *job = c->jobs[i];
		struct io_uring_sqe *sqe;

		if (job->device)
			continue;
		for (k = 0; k < job->nslots; k++)
			job->slots[k].fixed = (int)n++;
		if (!p2pmem_pool_provider(job->pool))
			continue;
		sqe = get_sqe(c);
		if (!sqe) {	/* cannot happen: the ring has room for it */
			io_uring_unregister_buffers(&c->ring);
			c->fixed = false;
			for (i = 0; i < c->njobs; i++)
				for (k = 0; k < c->jobs[i]->nslots; k++)
					c->jobs[i]->slots[k].fixed = -1;
			return;
		}
		io_uring_prep_poll_add(sqe, p2pmem_pool_watch_fd(job->pool), POLLHUP | POLLERR);
		io_uring_sqe_set_data(sqe, (void *)((uintptr_t)job | TAG_WATCH));
	}
}

/*
 * No io_uring here: run the engine's SQEs one at a time (copy_sync.c), and
 * say so in every job's note.  Nothing watches a provider's revocation:
 * unregistered I/O into a revoked mapping fails with EFAULT, and
 * sync_reap() polls the providers between I/Os.
 */
static int sync_begin(struct p2pmem_copy *c, unsigned int entries, int why)
{
	size_t i, n;

	c->q_size = entries + 8;
	c->done_q = calloc(c->q_size, sizeof(*c->done_q));
	if (!c->done_q) {
		p2pmem_set_error(c->ctx, "out of memory");
		return -ENOMEM;
	}
	c->q_head = c->q_tail = 0;
	c->sync = true;
	for (i = 0; i < c->njobs; i++) {
		struct p2pmem_copy_job_stats *st = &c->jobs[i]->st;

		n = strlen(st->note);
		snprintf(st->note + n, sizeof(st->note) - n,
			 "%sio_uring refused (%s: kernel.io_uring_disabled, or a seccomp filter): one I/O at a time",
			 n ? "; " : "", strerror(why));
	}
	return 0;
}

/* Handle what the synchronous I/Os left, and look for revocation. */
static void sync_reap(struct p2pmem_copy *c)
{
	size_t i;

	while (c->q_head != c->q_tail) {
		struct sync_done d = c->done_q[c->q_head++ % c->q_size];

		handle_completion(c, d.data, d.res);	/* may queue more */
	}
	for (i = 0; i < c->njobs; i++) {
		struct copy_job *job = c->jobs[i];
		struct pollfd pfd = { .events = POLLHUP | POLLERR };

		if (job->phase != PHASE_COPY || job->device || !p2pmem_pool_provider(job->pool))
			continue;
		pfd.fd = p2pmem_pool_watch_fd(job->pool);
		if (pfd.fd >= 0 && poll(&pfd, 1, 0) == 1)
			job_revoked(job, pfd.revents);
	}
}

static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

int p2pmem_copy_run(struct p2pmem_copy *c)
{
	double wall0 = now(CLOCK_MONOTONIC), cpu0 = cpu_now();
	unsigned int entries = 0, setup = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	size_t i;
	int ret = 0;

	for (i = 0; i < c->njobs && !ret; i++) {
		ret = job_prepare(c, c->jobs[i]);
		entries += 2 * c->jobs[i]->nslots;
		if (ret && c->jobs[i]->st.error)
			p2pmem_set_error(c->ctx, "%s", c->jobs[i]->st.message);
	}
	if (ret)
		goto out_error;
	/* One issuer, completions run when it waits: no task_work IPIs. */
	entries += c->njobs;	/* revocation watches */
	for (i = 0; i < c->njobs; i++)
		if (c->jobs[i]->device)
			setup |= IORING_SETUP_SQE128 | IORING_SETUP_CQE32;	/* NVMe passthrough */
	ret = io_uring_queue_init(entries < 8 ? 8 : entries, &c->ring, setup);
	if (ret == -EINVAL)	/* kernels before 6.1 */
		ret = io_uring_queue_init(entries < 8 ? 8 : entries, &c->ring,
					  setup & (IORING_SETUP_SQE128 | IORING_SETUP_CQE32));
	if (ret && copy_sync_wanted(ret)) {
		ret = sync_begin(c, entries, -ret);
	} else if (ret) {
		p2pmem_set_error(c->ctx, "cannot set up io_uring: %s", strerror(-ret));
		goto out_error;
	}
	if (ret)
		goto out_error;
	if (!c->sync)
		register_buffers(c);
	/* Time the data movement only: buffer setup is the pool's cost. */
	wall0 = c->t0 = now(CLOCK_MONOTONIC);
	cpu0 = cpu_now();
	for (i = 0; i < c->njobs; i++)
		if (c->jobs[i]->phase == PHASE_VERIFY)	/* resumed after the copy */
			phase_begin(c, P2PMEM_COPY_PHASE_VERIFY);

	for (;;) {
		struct io_uring_cqe *cqe;
		unsigned int head, seen = 0;
		bool active = false;

		for (i = 0; i < c->njobs; i++) {
			struct copy_job *job = c->jobs[i];
			unsigned int k;

			job_advance(c, job);
			if (job->phase == PHASE_DONE)
				continue;
			active = true;
			for (k = 0; k < job->nslots; k++) {
				if (job->slots[k].state != SLOT_IDLE || job->next >= job->len ||
				    job->st.error || c->cancel)
					continue;
				slot_start(c, &job->slots[k]);
			}
			job_checkpoint(job, false);
		}
		if (!active)
			break;
		if (c->sync) {
			sync_reap(c);
			continue;
		}
		ret = io_uring_submit_and_wait(&c->ring, 1);
		if (ret < 0 && ret != -EINTR) {
			p2pmem_set_error(c->ctx, "io_uring failed: %s", strerror(-ret));
			break;
		}
		ret = 0;
		io_uring_for_each_cqe(&c->ring, head, cqe) {
			handle_completion(c, (uintptr_t)io_uring_cqe_get_data(cqe), cqe->res);
			seen++;
		}
		io_uring_cq_advance(&c->ring, seen);
	}
	if (c->sync) {
		free(c->done_q);
		c->done_q = NULL;
	} else {
		io_uring_queue_exit(&c->ring);
	}

out_error:
	c->wall = now(CLOCK_MONOTONIC) - wall0;
	for (i = 0; i < 2; i++)
		if (!c->phase[i].end && c->phase[i].done)
			c->phase[i].end = c->wall;	/* stopped early */
	c->cpu = cpu_now() - cpu0;
	if (ret)
		return ret;
	for (i = 0; i < c->njobs; i++) {
		if (c->jobs[i]->st.error) {
			p2pmem_set_error(c->ctx, "%s", c->jobs[i]->st.message);
			return c->jobs[i]->st.error;
		}
	}
	if (c->cancel) {
		p2pmem_set_error(c->ctx, "copy interrupted; `--resume` continues it from the journal");
		return -ECANCELED;
	}
	return 0;
}

void p2pmem_copy_cancel(struct p2pmem_copy *c)
{
	c->cancel = 1;
}

size_t p2pmem_copy_job_count(const struct p2pmem_copy *c)
{
	return c->njobs;
}

const struct p2pmem_copy_job_stats *p2pmem_copy_job_stats(const struct p2pmem_copy *c, size_t i)
{
	return i < c->njobs ? &c->jobs[i]->st : NULL;
}

uint64_t p2pmem_copy_job_length(const struct p2pmem_copy *c, size_t i)
{
	return i < c->njobs ? c->jobs[i]->len : 0;
}

const char *p2pmem_copy_job_journal(const struct p2pmem_copy *c, size_t i)
{
	return i < c->njobs ? c->jobs[i]->journal.path : NULL;
}

double p2pmem_copy_wall_seconds(const struct p2pmem_copy *c)
{
	return c->wall;
}

double p2pmem_copy_cpu_seconds(const struct p2pmem_copy *c)
{
	return c->cpu;
}

double p2pmem_copy_phase_seconds(const struct p2pmem_copy *c, unsigned int phase)
{
	if (phase > P2PMEM_COPY_PHASE_VERIFY || !c->phase[phase].end)
		return 0;
	return c->phase[phase].end - c->phase[phase].start;
}
