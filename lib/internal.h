/* SPDX-License-Identifier: MIT */
/*
 * Private structures of libp2pmem. Nothing here is ABI.
 */
#ifndef P2PMEM_INTERNAL_H
#define P2PMEM_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "p2pmem.h"
#include "config_space.h"

#define P2PMEM_BDF_LEN 16	/* "dddd:bb:dd.f" + NUL, with room */

struct p2pmem_host_bridge {
	struct p2pmem_ctx *ctx;
	char name[32];				/* "pci0000:00" */
	struct p2pmem_pci_dev *first_child;	/* devfn order */
	struct p2pmem_host_bridge *next;
};

/* How much of a function has been read from sysfs (see pci_scan.c). */
enum p2pmem_dev_state {
	P2PMEM_DEV_INDEXED,	/* listed in bus/pci/devices, not read yet */
	P2PMEM_DEV_LOADED,
	P2PMEM_DEV_ABSENT,	/* gone: its link or directory could not be read */
};

struct p2pmem_pci_dev {
	struct p2pmem_ctx *ctx;
	enum p2pmem_dev_state state;
	char entry[32];			/* its name in bus/pci/devices */
	uint64_t key;			/* index order: domain, bus, devfn */
	char bdf[P2PMEM_BDF_LEN];	/* once loaded */
	uint32_t domain;
	uint8_t bus;
	uint8_t devfn;
	char *syspath;			/* realpath of the function's directory */
	uint16_t vendor;
	uint16_t device;
	uint32_t class;
	char *driver;
	struct p2pmem_cfg_info cfg;
	bool cfg_ext_loaded;		/* extended config space read (lazily) */

	struct p2pmem_pci_dev *parent;		/* upstream bridge, or NULL */
	struct p2pmem_host_bridge *host_bridge;	/* NULL until linked */
	struct p2pmem_pci_dev *first_child;	/* BDF order; once tree_loaded */
	struct p2pmem_pci_dev *next_sibling;
	struct p2pmem_pci_dev *next;		/* all functions, BDF order */

	int iommu_group;		/* -1: none */
	char iommu_type[16];
	bool removable;			/* below an external-facing port */

	char **devnames;
	size_t ndevnames;
	struct p2pmem_provider *provider;	/* see p2pmem_provider_of() */
	bool provider_probed;		/* every backend asked about it */
};

struct p2pmem_provider {
	struct p2pmem_pci_dev *dev;
	char *path;		/* upstream: <dev>/p2pmem; kmod: class dir */
	const struct p2pmem_backend_ops *backend;
	const char *kind;
	char name[32];
	uint64_t size;
	uint64_t available;
	bool published;
	struct p2pmem_provider *next;
};

/**
 * struct p2pmem_backend_ops - one way the system publishes p2p memory
 * @name: "upstream", "kmod"
 * @scan: find this backend's providers; call p2pmem_provider_add() for each
 * @probe: the same for one function (and possibly others, if that is what
 *	it costs to know about this one)
 * @map: map @len bytes of fresh, zeroed memory of @prov for @clients
 *	(MAP_SHARED; munmap() frees it); sets the context error on failure
 * @watch: optional: a new file descriptor that polls EPOLLHUP once the
 *	provider's memory is revoked (then long-term pins must let go), or
 *	-errno; NULL where the backend cannot tell
 */
struct p2pmem_backend_ops {
	const char *name;
	int (*scan)(struct p2pmem_ctx *ctx);
	int (*probe)(struct p2pmem_pci_dev *dev);
	int (*map)(struct p2pmem_provider *prov,
		   struct p2pmem_pci_dev *const *clients, size_t nclients,
		   size_t len, void **addrp);
	int (*watch)(struct p2pmem_provider *prov);
};

extern const struct p2pmem_backend_ops p2pmem_backend_upstream;
extern const struct p2pmem_backend_ops p2pmem_backend_kmod;

struct p2pmem_ctx {
	char *sysfs_root;		/* as given, for messages */
	char *root;			/* its realpath, under which paths are built */
	char *cpuinfo_path;
	bool cpu_supports_p2p;
	char cpu_desc[64];

	struct p2pmem_pci_dev *slab;	/* every function listed, in index order */
	size_t nslab;
	struct p2pmem_pci_dev **devs;	/* sorted by (domain, bus, devfn) */
	size_t ndevs;
	bool tree_loaded;		/* every function read, child lists linked */
	bool devnames_loaded;		/* block and NVMe names mapped */
	bool providers_loaded;		/* every backend scanned */
	bool kmod_scanned;		/* class/p2pmem read */
	struct p2pmem_host_bridge *host_bridges;
	struct p2pmem_provider *providers;
	size_t nproviders;

	char last_error[512];
};

/* ctx.c */
__attribute__((format(printf, 2, 3)))
void p2pmem_set_error(struct p2pmem_ctx *ctx, const char *fmt, ...);
void p2pmem_clear_error(struct p2pmem_ctx *ctx);

/* cpuinfo.c */
/**
 * p2pmem_cpuinfo_parse() - does the first CPU support p2p via the host bridge
 * @text: /proc/cpuinfo contents (NUL-terminated)
 * @desc: receives e.g. "AuthenticAMD family 0x19"
 * @desclen: size of @desc
 */
bool p2pmem_cpuinfo_parse(const char *text, char *desc, size_t desclen);

/* sysfs.c */
char *p2pmem_path(const struct p2pmem_ctx *ctx, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int p2pmem_read_file(const char *path, char *buf, size_t len, size_t *outlen);
int p2pmem_read_attr(const char *dir, const char *attr, char *buf, size_t len);
int p2pmem_read_u64_attr(const char *dir, const char *attr, uint64_t *val);
int p2pmem_parse_u64(const char *s, uint64_t *val);
int p2pmem_parse_bdf(const char *s, uint32_t *domain, uint8_t *bus,
		     uint8_t *devfn);
char *p2pmem_link_basename(const char *dir, const char *link);
char *p2pmem_resolve_link(const char *link);

/* pci_scan.c */
int p2pmem_pci_scan(struct p2pmem_ctx *ctx);
void p2pmem_pci_free(struct p2pmem_ctx *ctx);
struct p2pmem_pci_dev *p2pmem_pci_lookup(const struct p2pmem_ctx *ctx,
					 uint32_t domain, uint8_t bus,
					 uint8_t devfn);
struct p2pmem_pci_dev *p2pmem_pci_index_find(const struct p2pmem_ctx *ctx,
					     uint32_t domain, uint8_t bus,
					     uint8_t devfn);
struct p2pmem_pci_dev *p2pmem_pci_dev_from_syspath(const struct p2pmem_ctx *ctx,
						   const char *path);
struct p2pmem_pci_dev *p2pmem_pci_dev_named_in_path(const struct p2pmem_ctx *ctx,
						    const char *path);
void p2pmem_pci_load_tree(const struct p2pmem_ctx *ctx);
int p2pmem_pci_dev_link(const struct p2pmem_pci_dev *dev);
struct p2pmem_pci_dev *p2pmem_host_bridge_root_dev(const struct p2pmem_host_bridge *hb);

void p2pmem_pci_dev_load_ext(const struct p2pmem_pci_dev *dev);

/* devnames.c */
void p2pmem_devnames_load(const struct p2pmem_ctx *ctx);

/* provider.c */
void p2pmem_providers_load(const struct p2pmem_ctx *ctx);
struct p2pmem_provider *p2pmem_provider_of(const struct p2pmem_pci_dev *dev);
void p2pmem_providers_free(struct p2pmem_ctx *ctx);
int p2pmem_provider_add(struct p2pmem_ctx *ctx, struct p2pmem_pci_dev *dev,
			const struct p2pmem_backend_ops *backend,
			const char *name, const char *path, uint64_t size,
			uint64_t available, bool published);
int p2pmem_provider_mmap(struct p2pmem_provider *prov, int fd, size_t len,
			 void **addrp);

/* host_bridge.c */
/**
 * struct p2pmem_hb_decision - may traffic cross the root complex
 * @allowed: the kernel would map through the host bridge
 * @why: the sentence saying why (or why not)
 */
struct p2pmem_hb_decision {
	bool allowed;
	char why[256];
};
void p2pmem_host_bridge_decide(const struct p2pmem_ctx *ctx,
			       const struct p2pmem_pci_dev *provider,
			       const struct p2pmem_pci_dev *client,
			       struct p2pmem_hb_decision *d);

#endif /* P2PMEM_INTERNAL_H */
