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

#ifdef __cplusplus
}
#endif

#endif /* P2PMEM_H */
