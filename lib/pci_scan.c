// SPDX-License-Identifier: MIT
/*
 * The PCI tree as sysfs shows it. Like pciutils, the parent of a function
 * is the directory above it (realpath of <dev>/..): another function (the
 * upstream bridge) or a host bridge ("pci0000:00"). Functions are kept in
 * one array sorted by (domain, bus, devfn) so lookups are binary searches.
 *
 * The scan itself reads one directory (bus/pci/devices) and nothing per
 * function: a function's link, config space and attributes are read the
 * first time it is looked up (a client, a provider, one of their
 * ancestors). A question about two devices on a 10,000-function machine
 * then reads a dozen functions, not 10,000 (each read costs several
 * system calls, and config reads are bus cycles on real hardware). Only
 * walking the whole tree (topo, iteration) loads every function.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define CFG_MAX 4096
#define CFG_SCAN 256

/* (domain, bus, devfn) as one number, in the order of the index. */
static uint64_t bdf_key(uint32_t dom, uint8_t bus, uint8_t devfn)
{
	return (uint64_t)dom << 16 | (uint64_t)bus << 8 | devfn;
}

/* What the scan keeps of a bus/pci/devices entry until it is sorted. */
struct index_entry {
	uint64_t key;
	char name[32];
};

static int entry_cmp(const void *a, const void *b)
{
	uint64_t ka = ((const struct index_entry *)a)->key;
	uint64_t kb = ((const struct index_entry *)b)->key;

	return ka < kb ? -1 : ka > kb;
}

/* Index of the first function at or after (domain, bus, devfn). */
static size_t index_lower_bound(const struct p2pmem_ctx *ctx, uint32_t domain,
				uint8_t bus, uint8_t devfn)
{
	uint64_t key = bdf_key(domain, bus, devfn);
	size_t lo = 0, hi = ctx->ndevs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key <= ctx->devs[mid]->key)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* The index entry of a function, loaded or not. */
struct p2pmem_pci_dev *p2pmem_pci_index_find(const struct p2pmem_ctx *ctx,
					     uint32_t domain, uint8_t bus,
					     uint8_t devfn)
{
	size_t i = index_lower_bound(ctx, domain, bus, devfn);

	if (i < ctx->ndevs && ctx->devs[i]->key == bdf_key(domain, bus, devfn))
		return ctx->devs[i];
	return NULL;
}

static int dev_load(struct p2pmem_pci_dev *dev);

/**
 * p2pmem_pci_lookup() - a function by address, read from sysfs on first use
 *
 * The context is const to callers; what is read is a cache of sysfs.
 * Return: the function, or NULL when there is none (or it vanished).
 */
struct p2pmem_pci_dev *p2pmem_pci_lookup(const struct p2pmem_ctx *ctx,
					 uint32_t domain, uint8_t bus,
					 uint8_t devfn)
{
	struct p2pmem_pci_dev *dev = p2pmem_pci_index_find(ctx, domain, bus, devfn);

	return dev && dev_load(dev) == 0 ? dev : NULL;
}

/*
 * The closest function at or above @path: walking up, the first directory
 * named like an indexed function, and, unless @by_name, read and checked
 * to be that function's directory.
 */
static struct p2pmem_pci_dev *dev_above(const struct p2pmem_ctx *ctx,
					const char *path, bool by_name)
{
	char buf[PATH_MAX];
	char *slash;

	if (strlen(path) >= sizeof(buf))
		return NULL;
	strcpy(buf, path);
	while ((slash = strrchr(buf, '/')) != NULL) {
		struct p2pmem_pci_dev *dev;
		uint32_t dom;
		uint8_t bus, devfn;

		if (p2pmem_parse_bdf(slash + 1, &dom, &bus, &devfn) == 0) {
			if (by_name) {
				dev = p2pmem_pci_index_find(ctx, dom, bus, devfn);
				if (dev)
					return dev;
			} else {
				dev = p2pmem_pci_lookup(ctx, dom, bus, devfn);
				if (dev && strcmp(dev->syspath, buf) == 0)
					return dev;
			}
		}
		*slash = '\0';
	}
	return NULL;
}

/**
 * p2pmem_pci_dev_from_syspath() - the closest function at or above @path
 * (a realpath under <root>/devices), or NULL when none is
 */
struct p2pmem_pci_dev *p2pmem_pci_dev_from_syspath(const struct p2pmem_ctx *ctx,
						   const char *path)
{
	return dev_above(ctx, path, false);
}

/**
 * p2pmem_pci_dev_named_in_path() - the same by directory names alone, not
 * read from sysfs: sysfs names a PCI function's directory by its address
 * and nothing else that way, so mapping many paths reads no function
 */
struct p2pmem_pci_dev *p2pmem_pci_dev_named_in_path(const struct p2pmem_ctx *ctx,
						    const char *path)
{
	return dev_above(ctx, path, true);
}

/* What a function holds; the function itself lives in ctx->slab. */
static void dev_release(struct p2pmem_pci_dev *dev)
{
	size_t i;

	for (i = 0; i < dev->ndevnames; i++)
		free(dev->devnames[i]);
	free(dev->devnames);
	free(dev->syspath);
	free(dev->driver);
}

void p2pmem_pci_free(struct p2pmem_ctx *ctx)
{
	struct p2pmem_host_bridge *hb, *next;
	size_t i;

	for (i = 0; i < ctx->nslab; i++)
		dev_release(&ctx->slab[i]);
	free(ctx->slab);
	ctx->slab = NULL;
	ctx->nslab = 0;
	free(ctx->devs);
	ctx->devs = NULL;
	ctx->ndevs = 0;
	for (hb = ctx->host_bridges; hb; hb = next) {
		next = hb->next;
		free(hb);
	}
	ctx->host_bridges = NULL;
	ctx->tree_loaded = false;
	ctx->devnames_loaded = false;
}

/*
 * Reading config space is not free on real hardware: every dword is a
 * config cycle. The scan reads the first 256 bytes (header, capabilities,
 * the PCIe port type); the extended space (ACS) is read only for the
 * functions whose ACS matters, see p2pmem_pci_dev_load_ext().
 */
static void read_config(struct p2pmem_pci_dev *dev, size_t want)
{
	uint8_t *buf = malloc(want);
	char path[PATH_MAX];
	size_t n = 0;
	int ret;

	memset(&dev->cfg, 0, sizeof(dev->cfg));
	dev->cfg.port_type = P2PMEM_PORT_NONE;
	if (!buf) {
		dev->cfg.state = P2PMEM_CFG_UNREADABLE;
		snprintf(dev->cfg.why, sizeof(dev->cfg.why), "out of memory");
		return;
	}
	snprintf(path, sizeof(path), "%s/config", dev->syspath);
	ret = p2pmem_read_file(path, (char *)buf, want, &n);
	if (ret) {
		dev->cfg.state = P2PMEM_CFG_UNREADABLE;
		snprintf(dev->cfg.why, sizeof(dev->cfg.why), "cannot read %s: %s",
			 "config", strerror(-ret));
	} else {
		p2pmem_cfg_parse(buf, n, &dev->cfg);
	}
	/* Nothing more to read: short file, broken, or not PCIe. */
	dev->cfg_ext_loaded = n < want || want == CFG_MAX ||
			      dev->cfg.state != P2PMEM_CFG_FULL ||
			      dev->cfg.port_type == P2PMEM_PORT_NONE;
	free(buf);
}

/**
 * p2pmem_pci_dev_load_ext() - read extended config space once, on demand
 *
 * The handle is const to callers; the extended capabilities are a cache
 * of what sysfs would say anyway.
 */
void p2pmem_pci_dev_load_ext(const struct p2pmem_pci_dev *cdev)
{
	struct p2pmem_pci_dev *dev = (struct p2pmem_pci_dev *)cdev;

	if (!dev->cfg_ext_loaded)
		read_config(dev, CFG_MAX);
}

/* IDs from config space (what the kernel uses), else from attributes. */
static void read_ids(struct p2pmem_pci_dev *dev)
{
	uint64_t v;

	if (dev->cfg.state == P2PMEM_CFG_FULL || dev->cfg.state == P2PMEM_CFG_HEADER) {
		dev->vendor = dev->cfg.vendor;
		dev->device = dev->cfg.device;
		dev->class = dev->cfg.class;
		return;
	}
	if (p2pmem_read_u64_attr(dev->syspath, "vendor", &v) == 0 && v <= 0xffff)
		dev->vendor = (uint16_t)v;
	if (p2pmem_read_u64_attr(dev->syspath, "device", &v) == 0 && v <= 0xffff)
		dev->device = (uint16_t)v;
	if (p2pmem_read_u64_attr(dev->syspath, "class", &v) == 0 && v <= 0xffffff)
		dev->class = (uint32_t)v;
}

/*
 * <dev>/iommu_group -> ../../kernel/iommu_groups/N exists only when an
 * IOMMU is on; the group's type says whether DMA addresses are translated.
 */
static void read_iommu(struct p2pmem_pci_dev *dev)
{
	char *group = p2pmem_link_basename(dev->syspath, "iommu_group");
	char dir[PATH_MAX];
	uint64_t n;

	dev->iommu_group = -1;
	dev->iommu_type[0] = '\0';
	if (!group)
		return;
	if (p2pmem_parse_u64(group, &n) == 0 && n <= INT32_MAX) {
		dev->iommu_group = (int)n;
		snprintf(dir, sizeof(dir), "%s/iommu_group", dev->syspath);
		if (p2pmem_read_attr(dir, "type", dev->iommu_type, sizeof(dev->iommu_type)))
			dev->iommu_type[0] = '\0';
	}
	free(group);
}

/*
 * "removable" is what Linux shows of a device below an external-facing
 * port (Thunderbolt, hot-plug slots marked so by the firmware); the same
 * devices are "untrusted" to the IOMMU code, which bounces their DMA.
 */
static void read_removable(struct p2pmem_pci_dev *dev)
{
	char val[16];

	dev->removable = p2pmem_read_attr(dev->syspath, "removable", val, sizeof(val)) == 0 &&
			 strcmp(val, "removable") == 0;
}

/* An index entry: the address only; dev_load() reads the rest. */
static void dev_init(struct p2pmem_ctx *ctx, struct p2pmem_pci_dev *dev,
		     const struct index_entry *e)
{
	dev->ctx = ctx;
	dev->key = e->key;
	dev->domain = (uint32_t)(e->key >> 16);
	dev->bus = (uint8_t)(e->key >> 8);
	dev->devfn = (uint8_t)e->key;
	strcpy(dev->entry, e->name);
}

static struct p2pmem_host_bridge *host_bridge_get(struct p2pmem_ctx *ctx,
						  const char *name)
{
	struct p2pmem_host_bridge *hb, **pos = &ctx->host_bridges;

	for (hb = ctx->host_bridges; hb; hb = hb->next)
		if (strcmp(hb->name, name) == 0)
			return hb;
	hb = calloc(1, sizeof(*hb));
	if (!hb)
		return NULL;
	hb->ctx = ctx;
	snprintf(hb->name, sizeof(hb->name), "%s", name);
	/* Keep host bridges in name order. */
	while (*pos && strcmp((*pos)->name, name) < 0)
		pos = &(*pos)->next;
	hb->next = *pos;
	*pos = hb;
	return hb;
}

/*
 * The upstream bridge is the function whose directory holds this one; a
 * function directly in "pci0000:00" hangs off that host bridge. A function
 * below something else (a non-PCI parent) counts as below the host bridge
 * named by that directory, as the kernel's walk would find no bridge.
 */
static int link_parent(struct p2pmem_pci_dev *dev)
{
	struct p2pmem_pci_dev *up = NULL;
	char parent[PATH_MAX];
	uint32_t dom;
	uint8_t bus, devfn;
	char *slash, *base;

	snprintf(parent, sizeof(parent), "%s", dev->syspath);
	slash = strrchr(parent, '/');
	if (slash)
		*slash = '\0';
	slash = strrchr(parent, '/');
	base = slash ? slash + 1 : parent;
	if (p2pmem_parse_bdf(base, &dom, &bus, &devfn) == 0) {
		up = p2pmem_pci_lookup(dev->ctx, dom, bus, devfn);
		if (up && strcmp(up->syspath, parent) != 0)
			up = NULL;
	}
	if (up && p2pmem_pci_dev_link(up))
		return -ENOMEM;
	dev->parent = up;
	dev->host_bridge = up ? up->host_bridge : host_bridge_get(dev->ctx, base);
	return dev->host_bridge ? 0 : -ENOMEM;
}

/**
 * p2pmem_pci_dev_link() - find a function's upstream bridge and host
 * bridge, and theirs, on first need (a list of providers needs none)
 * Return: 0, or -ENOMEM
 */
int p2pmem_pci_dev_link(const struct p2pmem_pci_dev *cdev)
{
	struct p2pmem_pci_dev *dev = (struct p2pmem_pci_dev *)cdev;
	int ret;

	if (dev->host_bridge)
		return 0;
	ret = link_parent(dev);
	if (ret)
		p2pmem_set_error(dev->ctx, "out of memory while reading the PCI tree");
	return ret;
}

/* Read a function from sysfs; its place in the tree waits for a need. */
static int dev_load(struct p2pmem_pci_dev *dev)
{
	char link[PATH_MAX];

	if (dev->state == P2PMEM_DEV_LOADED)
		return 0;
	if (dev->state != P2PMEM_DEV_INDEXED)
		return -ENODEV;	/* gone */
	snprintf(dev->bdf, sizeof(dev->bdf), "%04x:%02x:%02x.%x",
		 dev->domain, dev->bus, dev->devfn >> 3, dev->devfn & 7);
	snprintf(link, sizeof(link), "%s/bus/pci/devices/%s", dev->ctx->root,
		 dev->entry);
	dev->syspath = p2pmem_resolve_link(link);
	if (!dev->syspath) {
		dev->state = P2PMEM_DEV_ABSENT;
		return -ENODEV;
	}
	read_config(dev, CFG_SCAN);
	/* Unplugged since bus/pci/devices was listed: its directory is gone. */
	if (dev->cfg.state == P2PMEM_CFG_UNREADABLE && access(dev->syspath, F_OK) != 0) {
		dev->state = P2PMEM_DEV_ABSENT;
		return -ENODEV;
	}
	read_ids(dev);
	dev->driver = p2pmem_link_basename(dev->syspath, "driver");
	read_iommu(dev);
	read_removable(dev);
	dev->state = P2PMEM_DEV_LOADED;
	return 0;
}

/**
 * p2pmem_pci_load_tree() - read every function and link the child lists
 *
 * For whoever walks the whole tree. Functions that cannot be read (a link
 * that vanished since the directory was listed) leave the index. Walking
 * the sorted array and appending keeps each child list in BDF order.
 */
void p2pmem_pci_load_tree(const struct p2pmem_ctx *cctx)
{
	struct p2pmem_ctx *ctx = (struct p2pmem_ctx *)cctx;
	size_t i, n = 0;

	if (ctx->tree_loaded)
		return;
	ctx->tree_loaded = true;
	for (i = 0; i < ctx->ndevs; i++)
		if (dev_load(ctx->devs[i]) == 0 && p2pmem_pci_dev_link(ctx->devs[i]))
			ctx->devs[i]->state = P2PMEM_DEV_ABSENT;
	for (i = 0; i < ctx->ndevs; i++) {
		if (ctx->devs[i]->state == P2PMEM_DEV_LOADED)
			ctx->devs[n++] = ctx->devs[i];
	}
	ctx->ndevs = n;
	for (i = 0; i < ctx->ndevs; i++) {
		struct p2pmem_pci_dev *dev = ctx->devs[i];
		struct p2pmem_pci_dev **tail;

		dev->next = i + 1 < ctx->ndevs ? ctx->devs[i + 1] : NULL;
		tail = dev->parent ? &dev->parent->first_child :
				     &dev->host_bridge->first_child;
		while (*tail)
			tail = &(*tail)->next_sibling;
		*tail = dev;
	}
}

/**
 * p2pmem_host_bridge_root_dev() - the first function on a host bridge's bus
 *
 * "pciDDDD:BB" is the root bus DDDD:BB, so its first function is found
 * without reading the rest of the tree.
 */
struct p2pmem_pci_dev *p2pmem_host_bridge_root_dev(const struct p2pmem_host_bridge *hb)
{
	const struct p2pmem_ctx *ctx = hb->ctx;
	unsigned int dom, bus;
	char tail;
	size_t i;

	if (!ctx->tree_loaded &&
	    sscanf(hb->name, "pci%x:%x%c", &dom, &bus, &tail) == 2 && bus <= 0xff) {
		for (i = index_lower_bound(ctx, dom, bus, 0); i < ctx->ndevs; i++) {
			struct p2pmem_pci_dev *dev = ctx->devs[i];

			if (dev->domain != dom || dev->bus != bus)
				break;
			if (dev_load(dev) == 0 && p2pmem_pci_dev_link(dev) == 0 &&
			    !dev->parent && dev->host_bridge == hb)
				return dev;
		}
	}
	p2pmem_pci_load_tree(ctx);
	return hb->first_child;
}

/*
 * One directory read. Entries are sorted as small records and the
 * functions then laid out in one array in that order: a 10,000-function
 * index costs a few milliseconds, not 10,000 allocations and a sort
 * through pointers.
 */
int p2pmem_pci_scan(struct p2pmem_ctx *ctx)
{
	struct index_entry *e = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	char *devices;
	DIR *dir;
	int ret = 0;

	devices = p2pmem_path(ctx, "bus/pci/devices");
	if (!devices)
		return -ENOMEM;
	dir = opendir(devices);
	if (!dir) {
		ret = -errno;
		p2pmem_set_error(ctx, "cannot read %s: %s; is sysfs mounted there? (--sysfs-root names another sysfs tree)",
				 devices, strerror(errno));
		free(devices);
		return ret;
	}
	while ((de = readdir(dir)) != NULL) {
		uint32_t dom;
		uint8_t bus, devfn;

		if (p2pmem_parse_bdf(de->d_name, &dom, &bus, &devfn) ||
		    strlen(de->d_name) >= sizeof(e->name))
			continue;	/* ".", "..", and anything not a BDF */
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct index_entry *ne = realloc(e, ncap * sizeof(*e));

			if (!ne) {
				ret = -ENOMEM;
				break;
			}
			e = ne;
			cap = ncap;
		}
		e[n].key = bdf_key(dom, bus, devfn);
		strcpy(e[n++].name, de->d_name);
	}
	closedir(dir);
	free(devices);
	if (!ret && n) {
		qsort(e, n, sizeof(*e), entry_cmp);
		ctx->slab = calloc(n, sizeof(*ctx->slab));
		ctx->devs = malloc(n * sizeof(*ctx->devs));
		if (!ctx->slab || !ctx->devs)
			ret = -ENOMEM;
	}
	if (ret) {
		free(e);
		p2pmem_pci_free(ctx);
		p2pmem_set_error(ctx, "out of memory while scanning PCI functions");
		return ret;
	}
	for (i = 0; i < n; i++) {
		dev_init(ctx, &ctx->slab[i], &e[i]);
		ctx->devs[i] = &ctx->slab[i];
	}
	ctx->nslab = ctx->ndevs = n;
	free(e);
	return 0;
}

/* ---- accessors ---- */

struct p2pmem_pci_dev *p2pmem_pci_dev_first(struct p2pmem_ctx *ctx)
{
	p2pmem_pci_load_tree(ctx);
	return ctx->ndevs ? ctx->devs[0] : NULL;
}

struct p2pmem_pci_dev *p2pmem_pci_dev_next(struct p2pmem_pci_dev *dev)
{
	p2pmem_pci_load_tree(dev->ctx);
	return dev->next;
}

size_t p2pmem_pci_dev_count(const struct p2pmem_ctx *ctx)
{
	p2pmem_pci_load_tree(ctx);
	return ctx->ndevs;
}

int p2pmem_pci_dev_find(struct p2pmem_ctx *ctx, const char *bdf,
			struct p2pmem_pci_dev **devp)
{
	uint32_t dom;
	uint8_t bus, devfn;

	*devp = NULL;
	if (p2pmem_parse_bdf(bdf, &dom, &bus, &devfn)) {
		p2pmem_set_error(ctx, "'%s' is not a PCI address: expected DDDD:BB:DD.F or BB:DD.F in hex (e.g. 0000:03:00.0)",
				 bdf);
		return -EINVAL;
	}
	*devp = p2pmem_pci_lookup(ctx, dom, bus, devfn);
	if (!*devp) {
		p2pmem_set_error(ctx, "no PCI function %04x:%02x:%02x.%x in %s/bus/pci/devices; `p2pmem topo` lists the functions",
				 dom, bus, devfn >> 3, devfn & 7, ctx->sysfs_root);
		return -ENODEV;
	}
	return 0;
}

const char *p2pmem_pci_dev_bdf(const struct p2pmem_pci_dev *dev) { return dev->bdf; }
uint16_t p2pmem_pci_dev_vendor(const struct p2pmem_pci_dev *dev) { return dev->vendor; }
uint16_t p2pmem_pci_dev_device(const struct p2pmem_pci_dev *dev) { return dev->device; }
uint32_t p2pmem_pci_dev_class(const struct p2pmem_pci_dev *dev) { return dev->class; }
const char *p2pmem_pci_dev_driver(const struct p2pmem_pci_dev *dev) { return dev->driver; }

struct p2pmem_pci_dev *p2pmem_pci_dev_parent(const struct p2pmem_pci_dev *dev)
{
	p2pmem_pci_dev_link(dev);
	return dev->parent;
}

struct p2pmem_pci_dev *p2pmem_pci_dev_first_child(const struct p2pmem_pci_dev *dev)
{
	p2pmem_pci_load_tree(dev->ctx);
	return dev->first_child;
}

struct p2pmem_pci_dev *p2pmem_pci_dev_next_sibling(const struct p2pmem_pci_dev *dev)
{
	p2pmem_pci_load_tree(dev->ctx);
	return dev->next_sibling;
}

struct p2pmem_host_bridge *p2pmem_pci_dev_host_bridge(const struct p2pmem_pci_dev *dev)
{
	p2pmem_pci_dev_link(dev);
	return dev->host_bridge;
}

bool p2pmem_pci_dev_is_bridge(const struct p2pmem_pci_dev *dev)
{
	if (dev->cfg.state == P2PMEM_CFG_FULL || dev->cfg.state == P2PMEM_CFG_HEADER)
		return dev->cfg.header_type == 1 || dev->cfg.header_type == 2;
	return (dev->class >> 8) == 0x0604 || (dev->class >> 8) == 0x0609;
}

enum p2pmem_port_type p2pmem_pci_dev_port_type(const struct p2pmem_pci_dev *dev)
{
	return dev->cfg.port_type;
}

enum p2pmem_cfg_state p2pmem_pci_dev_cfg_state(const struct p2pmem_pci_dev *dev)
{
	p2pmem_pci_dev_load_ext(dev);
	return dev->cfg.state;
}

bool p2pmem_pci_dev_has_acs(const struct p2pmem_pci_dev *dev)
{
	p2pmem_pci_dev_load_ext(dev);
	return dev->cfg.has_acs;
}

uint16_t p2pmem_pci_dev_acs_cap(const struct p2pmem_pci_dev *dev)
{
	p2pmem_pci_dev_load_ext(dev);
	return dev->cfg.acs_cap;
}

uint16_t p2pmem_pci_dev_acs_ctrl(const struct p2pmem_pci_dev *dev)
{
	p2pmem_pci_dev_load_ext(dev);
	return dev->cfg.acs_ctrl;
}

size_t p2pmem_pci_dev_devname_count(const struct p2pmem_pci_dev *dev)
{
	p2pmem_devnames_load(dev->ctx);
	return dev->ndevnames;
}

const char *p2pmem_pci_dev_devname(const struct p2pmem_pci_dev *dev, size_t i)
{
	p2pmem_devnames_load(dev->ctx);
	return i < dev->ndevnames ? dev->devnames[i] : NULL;
}

int p2pmem_pci_dev_iommu_group(const struct p2pmem_pci_dev *dev)
{
	return dev->iommu_group;
}

const char *p2pmem_pci_dev_iommu_type(const struct p2pmem_pci_dev *dev)
{
	return dev->iommu_group >= 0 && dev->iommu_type[0] ? dev->iommu_type : NULL;
}

struct p2pmem_provider *p2pmem_pci_dev_provider(const struct p2pmem_pci_dev *dev)
{
	return p2pmem_provider_of(dev);
}

const char *p2pmem_port_type_name(enum p2pmem_port_type type)
{
	switch (type) {
	case P2PMEM_PORT_ENDPOINT: return "endpoint";
	case P2PMEM_PORT_LEGACY_ENDPOINT: return "legacy-endpoint";
	case P2PMEM_PORT_ROOT_PORT: return "root-port";
	case P2PMEM_PORT_UPSTREAM: return "upstream-port";
	case P2PMEM_PORT_DOWNSTREAM: return "downstream-port";
	case P2PMEM_PORT_PCIE_TO_PCI: return "pcie-to-pci-bridge";
	case P2PMEM_PORT_PCI_TO_PCIE: return "pci-to-pcie-bridge";
	case P2PMEM_PORT_RC_ENDPOINT: return "rc-endpoint";
	case P2PMEM_PORT_RC_EVENT_COLLECTOR: return "rc-event-collector";
	case P2PMEM_PORT_NONE: break;
	}
	return "none";
}

const char *p2pmem_pci_dev_class_name(const struct p2pmem_pci_dev *dev)
{
	static const struct {
		uint32_t class;		/* base, sub (and prog-if when > 0xffff) */
		const char *name;
	} names[] = {
		{ 0x010802, "NVMe controller" },
		{ 0x0108, "non-volatile memory controller" },
		{ 0x0106, "SATA controller" },
		{ 0x0107, "SAS controller" },
		{ 0x0104, "RAID controller" },
		{ 0x0200, "Ethernet controller" },
		{ 0x0207, "InfiniBand controller" },
		{ 0x0300, "VGA controller" },
		{ 0x0302, "3D controller" },
		{ 0x0500, "RAM memory" },
		{ 0x0580, "memory controller" },
		{ 0x0600, "host bridge" },
		{ 0x0601, "ISA bridge" },
		{ 0x0604, "PCI bridge" },
		{ 0x0b40, "co-processor" },
		{ 0x1200, "processing accelerator" },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (names[i].class > 0xffff ? dev->class == names[i].class
					    : dev->class >> 8 == names[i].class)
			return names[i].name;
	}
	return "PCI function";
}

/* ---- host bridges ---- */

struct p2pmem_host_bridge *p2pmem_host_bridge_first(struct p2pmem_ctx *ctx)
{
	p2pmem_pci_load_tree(ctx);
	return ctx->host_bridges;
}

struct p2pmem_host_bridge *p2pmem_host_bridge_next(struct p2pmem_host_bridge *hb)
{
	p2pmem_pci_load_tree(hb->ctx);
	return hb->next;
}

const char *p2pmem_host_bridge_name(const struct p2pmem_host_bridge *hb)
{
	return hb->name;
}

struct p2pmem_pci_dev *p2pmem_host_bridge_first_child(const struct p2pmem_host_bridge *hb)
{
	p2pmem_pci_load_tree(hb->ctx);
	return hb->first_child;
}
