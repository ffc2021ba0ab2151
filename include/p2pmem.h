/* SPDX-License-Identifier: MIT */
/*
 * libp2pmem - peer-to-peer PCI memory: topology, providers, distance.
 *
 * Conventions (see p2pmem(3)):
 *  - every function that can fail returns 0 or a negative errno; errno is
 *    never consulted by callers;
 *  - handles are opaque and owned by the context that produced them: they
 *    stay valid until p2pmem_ctx_free();
 *  - there is no global state: the sysfs root and the cpuinfo file are
 *    context options, so tests point a context at a fixture tree.
 */
#ifndef P2PMEM_H
#define P2PMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct p2pmem_ctx;
struct p2pmem_pci_dev;
struct p2pmem_host_bridge;
struct p2pmem_provider;
struct p2pmem_verdict;

/* ------------------------------------------------------------------ */
/* Context                                                             */
/* ------------------------------------------------------------------ */

/**
 * struct p2pmem_ctx_opts - how a context sees the system
 * @size: sizeof(struct p2pmem_ctx_opts), for compatibility
 * @sysfs_root: directory standing for /sys (NULL: "/sys")
 * @cpuinfo_path: file standing for /proc/cpuinfo (NULL: "/proc/cpuinfo")
 */
struct p2pmem_ctx_opts {
	size_t size;
	const char *sysfs_root;
	const char *cpuinfo_path;
};

/**
 * p2pmem_ctx_new() - create a context (nothing is read yet)
 * @opts: options, or NULL for the defaults
 * @ctxp: where the new context is stored
 *
 * Return: 0, -EINVAL (bad @opts->size) or -ENOMEM.
 */
int p2pmem_ctx_new(const struct p2pmem_ctx_opts *opts,
		   struct p2pmem_ctx **ctxp);

/**
 * p2pmem_ctx_scan() - read the PCI topology and the providers from sysfs
 * @ctx: context; a second call rescans
 *
 * Return: 0, -ENOENT when the sysfs root has no bus/pci/devices, -EACCES,
 * -ENOMEM, or another -errno; p2pmem_ctx_last_error() says what failed.
 * One function with bad attributes does not fail the scan: it is kept with
 * what could be read (see p2pmem_pci_dev_cfg_state()).
 */
int p2pmem_ctx_scan(struct p2pmem_ctx *ctx);

void p2pmem_ctx_free(struct p2pmem_ctx *ctx);

/** p2pmem_ctx_sysfs_root() - the sysfs root this context reads */
const char *p2pmem_ctx_sysfs_root(const struct p2pmem_ctx *ctx);

/** p2pmem_ctx_cpu_supports_p2p() - AMD family >= 0x17 (Zen) per cpuinfo */
bool p2pmem_ctx_cpu_supports_p2p(const struct p2pmem_ctx *ctx);

/** p2pmem_ctx_cpu_desc() - "AuthenticAMD family 0x19" or similar */
const char *p2pmem_ctx_cpu_desc(const struct p2pmem_ctx *ctx);

/* ------------------------------------------------------------------ */
/* PCI topology                                                        */
/* ------------------------------------------------------------------ */

/** enum p2pmem_port_type - PCIe capability device/port type */
enum p2pmem_port_type {
	P2PMEM_PORT_NONE = -1,		/* no PCIe capability (or unknown) */
	P2PMEM_PORT_ENDPOINT = 0x0,
	P2PMEM_PORT_LEGACY_ENDPOINT = 0x1,
	P2PMEM_PORT_ROOT_PORT = 0x4,
	P2PMEM_PORT_UPSTREAM = 0x5,
	P2PMEM_PORT_DOWNSTREAM = 0x6,
	P2PMEM_PORT_PCIE_TO_PCI = 0x7,
	P2PMEM_PORT_PCI_TO_PCIE = 0x8,
	P2PMEM_PORT_RC_ENDPOINT = 0x9,
	P2PMEM_PORT_RC_EVENT_COLLECTOR = 0xa,
};

/** enum p2pmem_cfg_state - how much of a function's config space we read */
enum p2pmem_cfg_state {
	P2PMEM_CFG_FULL = 0,	/* >= 256 bytes: extended capabilities read */
	P2PMEM_CFG_HEADER,	/* 64..255 bytes (unprivileged): ACS unknown */
	P2PMEM_CFG_UNREADABLE,	/* missing or unreadable `config` */
	P2PMEM_CFG_MALFORMED,	/* too short, or a broken capability list */
};

/* ACS control bits (PCIe base spec, ACS Control Register) */
#define P2PMEM_ACS_SV 0x0001	/* Source Validation */
#define P2PMEM_ACS_TB 0x0002	/* Translation Blocking */
#define P2PMEM_ACS_RR 0x0004	/* P2P Request Redirect */
#define P2PMEM_ACS_CR 0x0008	/* P2P Completion Redirect */
#define P2PMEM_ACS_UF 0x0010	/* Upstream Forwarding */
#define P2PMEM_ACS_EC 0x0020	/* P2P Egress Control */
#define P2PMEM_ACS_DT 0x0040	/* Direct Translated P2P */
/* The bits that make the kernel route p2p traffic via the root complex */
#define P2PMEM_ACS_REDIRECT_MASK (P2PMEM_ACS_RR | P2PMEM_ACS_CR | P2PMEM_ACS_EC)

/**
 * p2pmem_pci_dev_first() / p2pmem_pci_dev_next() - all functions, BDF order
 */
struct p2pmem_pci_dev *p2pmem_pci_dev_first(struct p2pmem_ctx *ctx);
struct p2pmem_pci_dev *p2pmem_pci_dev_next(struct p2pmem_pci_dev *dev);
size_t p2pmem_pci_dev_count(const struct p2pmem_ctx *ctx);

/**
 * p2pmem_pci_dev_find() - a function by BDF ("0000:03:00.0" or "03:00.0")
 * Return: 0, -EINVAL for a malformed BDF, -ENODEV when absent.
 */
int p2pmem_pci_dev_find(struct p2pmem_ctx *ctx, const char *bdf,
			struct p2pmem_pci_dev **devp);

const char *p2pmem_pci_dev_bdf(const struct p2pmem_pci_dev *dev);
uint16_t p2pmem_pci_dev_vendor(const struct p2pmem_pci_dev *dev);
uint16_t p2pmem_pci_dev_device(const struct p2pmem_pci_dev *dev);
uint32_t p2pmem_pci_dev_class(const struct p2pmem_pci_dev *dev);
/** driver name, or NULL when unbound */
const char *p2pmem_pci_dev_driver(const struct p2pmem_pci_dev *dev);
/** upstream bridge (kernel: pci_upstream_bridge()), NULL on a root bus */
struct p2pmem_pci_dev *p2pmem_pci_dev_parent(const struct p2pmem_pci_dev *dev);
struct p2pmem_pci_dev *p2pmem_pci_dev_first_child(const struct p2pmem_pci_dev *dev);
struct p2pmem_pci_dev *p2pmem_pci_dev_next_sibling(const struct p2pmem_pci_dev *dev);
struct p2pmem_host_bridge *p2pmem_pci_dev_host_bridge(const struct p2pmem_pci_dev *dev);
bool p2pmem_pci_dev_is_bridge(const struct p2pmem_pci_dev *dev);
enum p2pmem_port_type p2pmem_pci_dev_port_type(const struct p2pmem_pci_dev *dev);
const char *p2pmem_port_type_name(enum p2pmem_port_type type);
enum p2pmem_cfg_state p2pmem_pci_dev_cfg_state(const struct p2pmem_pci_dev *dev);
/** does the function have an ACS extended capability (false if unknown) */
bool p2pmem_pci_dev_has_acs(const struct p2pmem_pci_dev *dev);
uint16_t p2pmem_pci_dev_acs_cap(const struct p2pmem_pci_dev *dev);
uint16_t p2pmem_pci_dev_acs_ctrl(const struct p2pmem_pci_dev *dev);
/** a short phrase for a device class: "NVMe controller", "PCI bridge"... */
const char *p2pmem_pci_dev_class_name(const struct p2pmem_pci_dev *dev);
/**
 * p2pmem_pci_dev_devname_count() / p2pmem_pci_dev_devname() - names under
 * /dev backed by the function: block devices (nvme0n1, nvme0n1p1 are not
 * listed, only whole disks) and NVMe controllers (nvme0), in name order
 */
size_t p2pmem_pci_dev_devname_count(const struct p2pmem_pci_dev *dev);
const char *p2pmem_pci_dev_devname(const struct p2pmem_pci_dev *dev, size_t i);
/**
 * p2pmem_pci_dev_iommu_group() - the function's IOMMU group, -1 if none
 * (no IOMMU, or it is off)
 */
int p2pmem_pci_dev_iommu_group(const struct p2pmem_pci_dev *dev);
/**
 * p2pmem_pci_dev_iommu_type() - the group's domain type: "DMA", "DMA-FQ"
 * (addresses translated), "identity" (pass-through), or NULL
 */
const char *p2pmem_pci_dev_iommu_type(const struct p2pmem_pci_dev *dev);
/** the provider on this function, or NULL */
struct p2pmem_provider *p2pmem_pci_dev_provider(const struct p2pmem_pci_dev *dev);

/** host bridges ("pci0000:00"), in name order */
struct p2pmem_host_bridge *p2pmem_host_bridge_first(struct p2pmem_ctx *ctx);
struct p2pmem_host_bridge *p2pmem_host_bridge_next(struct p2pmem_host_bridge *hb);
const char *p2pmem_host_bridge_name(const struct p2pmem_host_bridge *hb);
/** functions directly on the root bus, in devfn order */
struct p2pmem_pci_dev *p2pmem_host_bridge_first_child(const struct p2pmem_host_bridge *hb);
/**
 * p2pmem_host_bridge_dev() - the function the kernel checks against its
 * whitelist: the root bus's first function if it is devfn 00.0 or a root
 * port, else NULL
 */
struct p2pmem_pci_dev *p2pmem_host_bridge_dev(const struct p2pmem_host_bridge *hb);

/**
 * p2pmem_resolve_client() - the PCI function behind a client name
 * @name: a BDF, "/dev/nvme0n1", "/dev/nvme0", "nvme0n1" or "nvme0"
 *
 * Return: 0, -ENODEV (no such device: unknown BDF, no such block or char
 * device), -ENOTSUP (it exists but is not backed by a PCI function), or
 * -EINVAL (malformed). p2pmem_ctx_last_error() explains the failure.
 */
int p2pmem_resolve_client(struct p2pmem_ctx *ctx, const char *name,
			  struct p2pmem_pci_dev **devp);

/** the last failure explained in one sentence ("" if none) */
const char *p2pmem_ctx_last_error(const struct p2pmem_ctx *ctx);

/* ------------------------------------------------------------------ */
/* Providers                                                           */
/* ------------------------------------------------------------------ */

struct p2pmem_provider *p2pmem_provider_first(struct p2pmem_ctx *ctx);
struct p2pmem_provider *p2pmem_provider_next(struct p2pmem_provider *prov);
size_t p2pmem_provider_count(const struct p2pmem_ctx *ctx);
struct p2pmem_pci_dev *p2pmem_provider_pci_dev(const struct p2pmem_provider *prov);
/** "nvme-cmb", "memory", "gpu" or "other" */
const char *p2pmem_provider_kind(const struct p2pmem_provider *prov);
/** the backend: "upstream" (kernel P2PDMA) or "kmod" (p2pmem.ko) */
const char *p2pmem_provider_backend(const struct p2pmem_provider *prov);
/** the backend's name for it: the BDF for upstream, "p2pmem0" for kmod */
const char *p2pmem_provider_name(const struct p2pmem_provider *prov);
uint64_t p2pmem_provider_size(const struct p2pmem_provider *prov);
uint64_t p2pmem_provider_available(const struct p2pmem_provider *prov);
bool p2pmem_provider_published(const struct p2pmem_provider *prov);

/* ------------------------------------------------------------------ */
/* Distance (the rule of Linux drivers/pci/p2pdma.c)                   */
/* ------------------------------------------------------------------ */

enum p2pmem_map_type {
	P2PMEM_MAP_NOT_SUPPORTED = 0,
	P2PMEM_MAP_BUS_ADDR,		/* below a common bridge, no redirect */
	P2PMEM_MAP_THRU_HOST_BRIDGE,	/* via the root complex, allowed */
};

const char *p2pmem_map_type_name(enum p2pmem_map_type type);

/**
 * p2pmem_distance() - distance and map type between a provider and clients
 * @ctx: context
 * @provider: the function whose memory would be used
 * @clients: the functions that would DMA to or from it
 * @nclients: number of @clients (>= 1)
 * @verdictp: the answer, to release with p2pmem_verdict_free()
 *
 * Return: 0 (even when p2p is not supported: see the verdict's map type),
 * -EINVAL without clients, -EIO when config space on the path could not be
 * parsed (p2pmem_ctx_last_error() names the function), -ENOMEM.
 */
int p2pmem_distance(struct p2pmem_ctx *ctx, struct p2pmem_pci_dev *provider,
		    struct p2pmem_pci_dev *const *clients, size_t nclients,
		    struct p2pmem_verdict **verdictp);

void p2pmem_verdict_free(struct p2pmem_verdict *v);
struct p2pmem_pci_dev *p2pmem_verdict_provider(const struct p2pmem_verdict *v);
/** total distance (sum over clients), -1 when not supported */
int p2pmem_verdict_distance(const struct p2pmem_verdict *v);
/** the worst map type over all clients */
enum p2pmem_map_type p2pmem_verdict_map_type(const struct p2pmem_verdict *v);
/** the explanation, a few sentences, with the fix when there is one */
const char *p2pmem_verdict_reason(const struct p2pmem_verdict *v);
/** warnings, e.g. ACS state unknown without root ("" if none) */
const char *p2pmem_verdict_warning(const struct p2pmem_verdict *v);
size_t p2pmem_verdict_client_count(const struct p2pmem_verdict *v);
struct p2pmem_pci_dev *p2pmem_verdict_client(const struct p2pmem_verdict *v, size_t i);
int p2pmem_verdict_client_distance(const struct p2pmem_verdict *v, size_t i);
enum p2pmem_map_type p2pmem_verdict_client_map_type(const struct p2pmem_verdict *v, size_t i);
/**
 * p2pmem_verdict_path_len() / p2pmem_verdict_path_hop() - the path from the
 * provider to client @i: BDFs of functions, and the host bridge's name
 * ("pci0000:00") where traffic crosses the root complex
 */
size_t p2pmem_verdict_path_len(const struct p2pmem_verdict *v, size_t i);
const char *p2pmem_verdict_path_hop(const struct p2pmem_verdict *v, size_t i, size_t hop);
/** functions with ACS redirect on client @i's path, ';'-separated */
const char *p2pmem_verdict_acs_redirect(const struct p2pmem_verdict *v, size_t i);

/**
 * p2pmem_find_best_provider() - rank published providers for clients
 * @ctx: context
 * @clients: client functions
 * @nclients: how many
 * @ranking: array receiving one verdict per provider (usable ones first,
 *	then by distance, then by available memory, then by BDF); free each
 *	with p2pmem_verdict_free() and the array with free()
 * @nranking: number of entries in @ranking
 *
 * The best provider is (*ranking)[0] when its map type is not
 * P2PMEM_MAP_NOT_SUPPORTED and it is published. The kernel picks at random
 * among equally close providers; we break ties deterministically.
 *
 * Return: 0, -EINVAL, -ENOMEM, -EIO (as p2pmem_distance()).
 */
int p2pmem_find_best_provider(struct p2pmem_ctx *ctx,
			      struct p2pmem_pci_dev *const *clients,
			      size_t nclients,
			      struct p2pmem_verdict ***ranking,
			      size_t *nranking);

/* ------------------------------------------------------------------ */
/* Pools and buffers                                                   */
/* ------------------------------------------------------------------ */

struct p2pmem_pool;
struct p2pmem_buf;

/* Flags of struct p2pmem_pool_opts */
#define P2PMEM_POOL_ALLOW_HOST	(1u << 0) /* fall back to host memory */
#define P2PMEM_POOL_HOST	(1u << 1) /* host memory only (baseline) */
#define P2PMEM_POOL_NO_SUBALLOC	(1u << 2) /* one mapping per buffer */

/**
 * struct p2pmem_pool_opts - where a pool's memory comes from
 * @size: sizeof(struct p2pmem_pool_opts)
 * @provider: the provider to use, or NULL for the best one for @clients
 * @clients: the devices that will DMA to or from the buffers (declared to
 *	the backend; the distance rule must accept all of them)
 * @nclients: number of @clients (0 only with P2PMEM_POOL_HOST)
 * @chunk_size: bytes mapped from the provider at a time, sub-allocated
 *	into buffers (0: 4 MiB); a buffer larger than this gets its own
 * @flags: P2PMEM_POOL_*
 */
struct p2pmem_pool_opts {
	size_t size;
	struct p2pmem_provider *provider;
	struct p2pmem_pci_dev *const *clients;
	size_t nclients;
	size_t chunk_size;
	unsigned int flags;
};

/**
 * p2pmem_pool_new() - a pool over one provider's memory (or host memory)
 *
 * The provider proves it serves the clients by mapping the pool's first
 * chunk (@chunk_size; a page with P2PMEM_POOL_NO_SUBALLOC), which the
 * first buffers are then cut from: a provider the kernel refuses or that is
 * out of memory is passed over for the next one here, not found out in a
 * first I/O. Without a provider that reaches every client, the pool uses
 * host memory if P2PMEM_POOL_ALLOW_HOST is set (p2pmem_pool_provider() is
 * then NULL: a host bounce, never called p2p), else fails with -EREMOTEIO.
 * Return: 0, -EREMOTEIO, -EINVAL, -ENOMEM; p2pmem_ctx_last_error() says why.
 */
int p2pmem_pool_new(struct p2pmem_ctx *ctx, const struct p2pmem_pool_opts *opts,
		    struct p2pmem_pool **poolp);
/** p2pmem_pool_free() - unmap everything; buffers must be freed first */
void p2pmem_pool_free(struct p2pmem_pool *pool);
/** the provider serving the pool, NULL for host memory */
struct p2pmem_provider *p2pmem_pool_provider(const struct p2pmem_pool *pool);
/** "p2p 0000:03:00.0 (nvme-cmb, upstream)" or "host memory (bounce)" */
const char *p2pmem_pool_describe(const struct p2pmem_pool *pool);
/** bytes mapped from the backend so far */
uint64_t p2pmem_pool_mapped(const struct p2pmem_pool *pool);

/**
 * p2pmem_pool_watch_fd() - a file descriptor that tells when the pool's
 * p2p memory is revoked
 *
 * For programs that pin buffers for long (io_uring registered buffers,
 * RDMA memory regions): the descriptor polls POLLHUP | POLLERR once the
 * provider went offline (unbound, removed, NVMe controller reset).  Its
 * mappings then fault and new O_DIRECT through them fails, but long-term
 * pins still reach the pages: stop using them and unregister, or the
 * provider's removal waits for you.  The pool owns the descriptor (do not
 * close it); every call returns the same one.
 * Return: the descriptor; -EOPNOTSUPP for host memory and for backends
 * that cannot report revocation (upstream P2PDMA: do not pin its memory
 * for long); or the backend's -errno.
 */
int p2pmem_pool_watch_fd(struct p2pmem_pool *pool);

/**
 * p2pmem_buf_alloc() - a buffer of @len bytes (rounded up to 4 KiB),
 * 4 KiB aligned, usable for O_DIRECT I/O by the pool's clients
 * Return: 0, -ENOMEM (the provider is full), or the backend's -errno
 */
int p2pmem_buf_alloc(struct p2pmem_pool *pool, size_t len,
		     struct p2pmem_buf **bufp);
void p2pmem_buf_free(struct p2pmem_buf *buf);
void *p2pmem_buf_addr(const struct p2pmem_buf *buf);
size_t p2pmem_buf_len(const struct p2pmem_buf *buf);

/* ------------------------------------------------------------------ */
/* Copy offload                                                        */
/* ------------------------------------------------------------------ */

struct p2pmem_copy;

/* Flags of struct p2pmem_copy_opts */
#define P2PMEM_COPY_VERIFY		(1u << 0) /* read both back, compare */
#define P2PMEM_COPY_ALLOW_HOST_BOUNCE	(1u << 1) /* host memory if no p2p */
#define P2PMEM_COPY_RESUME		(1u << 2) /* continue from the journal */
#define P2PMEM_COPY_HOST_ONLY		(1u << 3) /* host memory (baseline) */
#define P2PMEM_COPY_NO_DEVICE		(1u << 4) /* never NVMe Copy */
#define P2PMEM_COPY_DEVICE_ONLY		(1u << 5) /* NVMe Copy or refuse */

/* How a job's data moves (struct p2pmem_copy_job_stats.via) */
#define P2PMEM_COPY_VIA_HOST		0u /* through host memory */
#define P2PMEM_COPY_VIA_P2P		1u /* through p2p memory */
#define P2PMEM_COPY_VIA_DEVICE		2u /* inside the drive (NVMe Copy) */

/* The phases of a run: every job copies, then (with VERIFY) reads back. */
#define P2PMEM_COPY_PHASE_COPY		0u
#define P2PMEM_COPY_PHASE_VERIFY	1u

/**
 * struct p2pmem_copy_progress - where a run stands, for a progress display
 * @size: sizeof(struct p2pmem_copy_progress)
 * @phase: P2PMEM_COPY_PHASE_COPY until every job has copied, then
 *	P2PMEM_COPY_PHASE_VERIFY
 * @done: bytes of @phase done, over all jobs
 * @total: bytes of @phase in this run (a resumed run skips what is done)
 * @seconds: since @phase began (stops when it ends): @done / @seconds is
 *	the rate the summary reports (p2pmem_copy_phase_seconds())
 */
struct p2pmem_copy_progress {
	size_t size;
	unsigned int phase;
	uint64_t done;
	uint64_t total;
	double seconds;
};

/**
 * struct p2pmem_copy_opts - how copy jobs run
 * @size: sizeof(struct p2pmem_copy_opts)
 * @block_size: bytes per I/O and per buffer (0: 1 MiB); a multiple of
 *	every device's logical block size
 * @queue_depth: buffers in flight per job (0: 4)
 * @flags: P2PMEM_COPY_*
 * @provider: the provider for every job, or NULL: the best for each pair
 * @journal_dir: where resume journals live (NULL: the caller's private
 *	$XDG_STATE_HOME/p2pmem, ~/.local/state/p2pmem, or /var/lib/p2pmem
 *	for root, created mode 0700); it must be writable. A journal is
 *	trusted only if it is a regular file of the caller's, of the same
 *	source and destination (device, inode, size)
 * @progress: called after completions with the bytes done and total over
 *	all jobs (copy and verify phases both count); may be NULL
 * @progress_arg: passed to @progress and @phase_progress
 * @phase_progress: called after completions with the current phase's
 *	progress; may be NULL (since LIBP2PMEM_0.3; callers built against
 *	older headers pass the smaller @size and never get it)
 */
struct p2pmem_copy_opts {
	size_t size;
	size_t block_size;
	unsigned int queue_depth;
	unsigned int flags;
	struct p2pmem_provider *provider;
	const char *journal_dir;
	void (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	void (*phase_progress)(void *arg, const struct p2pmem_copy_progress *p);
};

/**
 * struct p2pmem_copy_job_stats - what one copy job did
 * @bytes: bytes copied in this run
 * @verified: bytes read back and compared equal in this run
 * @resumed_at: where this run started (a resumed copy skips what the
 *	journal says is written and verified)
 * @ops: I/O operations submitted (reads, writes, verify reads)
 * @p2p: the buffers were p2p memory (false: host bounce, device copy)
 * @where: the buffers' home, e.g. "p2p 0000:03:00.0 (nvme-cmb, ...)", or
 *	"device copy (NVMe Copy inside nvme0n1 ...)"
 * @error: 0, or the -errno that ended the job
 * @message: with @error, what failed and what to do
 * @via: P2PMEM_COPY_VIA_* (since LIBP2PMEM_0.3)
 * @note: why a faster path was not taken (a device copy the drive cannot
 *	do, or that it refused and the job continued through memory), or ""
 */
struct p2pmem_copy_job_stats {
	uint64_t bytes;
	uint64_t verified;
	uint64_t resumed_at;
	uint64_t ops;
	bool p2p;
	char where[128];
	int error;
	char message[512];
	unsigned int via;
	char note[256];
};

int p2pmem_copy_new(struct p2pmem_ctx *ctx, const struct p2pmem_copy_opts *opts,
		    struct p2pmem_copy **copyp);
/**
 * p2pmem_copy_add() - add a job: @len bytes of @src at @src_off to @dst at
 * @dst_off (@len 0: the rest of @src)
 *
 * @src and @dst are block devices or regular files (@dst is created if
 * missing). Everything is checked here, before any byte moves: sizes,
 * O_DIRECT alignment, overlap on one device, and a buffer home that both
 * devices reach. Two ranges of one NVMe namespace (partitions included)
 * whose drive supports Copy are copied inside the drive (NVMe Copy through
 * /dev/ngXnY passthrough, root only) unless P2PMEM_COPY_NO_DEVICE or a
 * provider is named in the options; a
 * drive that refuses it at run time makes the job continue through
 * memory (job stats' @note says so).
 * Return: 0; -EINVAL (misaligned, overlapping, bad range), -ENOSPC
 * (destination too small), -EREMOTEIO (no provider reaches both devices
 * and no host bounce allowed), -ENOENT, -EACCES...; p2pmem_ctx_last_error()
 * explains.
 */
int p2pmem_copy_add(struct p2pmem_copy *copy, const char *src, uint64_t src_off,
		    const char *dst, uint64_t dst_off, uint64_t len);
/**
 * p2pmem_copy_run() - run every job at once (one io_uring), each a
 * pipeline of read -> write per buffer, then the verify pass
 * Return: 0 when every job completed; else the first job error (see the
 * job stats), or -ECANCELED after p2pmem_copy_cancel().
 */
int p2pmem_copy_run(struct p2pmem_copy *copy);
/** p2pmem_copy_cancel() - stop soon, journal kept (async-signal-safe) */
void p2pmem_copy_cancel(struct p2pmem_copy *copy);
void p2pmem_copy_free(struct p2pmem_copy *copy);
size_t p2pmem_copy_job_count(const struct p2pmem_copy *copy);
const struct p2pmem_copy_job_stats *p2pmem_copy_job_stats(const struct p2pmem_copy *copy,
							  size_t i);
/** the length of job @i in bytes (the rest of the source resolved) */
uint64_t p2pmem_copy_job_length(const struct p2pmem_copy *copy, size_t i);
/** the resume journal of job @i */
const char *p2pmem_copy_job_journal(const struct p2pmem_copy *copy, size_t i);
/**
 * wall-clock and CPU seconds (user + system, all threads) of the run's data
 * movement: from the first I/O on, after the buffers are set up (their cost
 * is the pool's, see p2pmem_pool_new())
 */
double p2pmem_copy_wall_seconds(const struct p2pmem_copy *copy);
double p2pmem_copy_cpu_seconds(const struct p2pmem_copy *copy);
/**
 * p2pmem_copy_phase_seconds() - how long @phase (P2PMEM_COPY_PHASE_*) took:
 * from its first I/O to its last byte, over all jobs; 0 if it did not run.
 * A job's copy rate is its bytes over the copy phase's seconds.
 */
double p2pmem_copy_phase_seconds(const struct p2pmem_copy *copy, unsigned int phase);

#ifdef __cplusplus
}
#endif

#endif /* P2PMEM_H */
