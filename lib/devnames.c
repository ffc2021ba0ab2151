// SPDX-License-Identifier: MIT
/*
 * Which PCI function backs a name under /dev. Block devices and NVMe
 * controllers are found through their class directories; a namespace of a
 * multipath NVMe subsystem (Debian's kernels enable NVME_MULTIPATH) lives
 * under /sys/devices/virtual/nvme-subsystem and reaches PCI only through
 * the subsystem's controllers.
 *
 * Naming one device resolves its path only (O(depth)). The names of every
 * function (list's DEVICES column, topo) are mapped once, on first use,
 * from the class directories: one readlink per entry, and the function
 * found by the name of its directory in the link's target, so no function
 * is read from sysfs just to be named.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

/* "nvme0" and the like: a controller entry in a subsystem directory. */
static bool is_ctrl_name(const char *s)
{
	if (strncmp(s, "nvme", 4) != 0 || !s[4])
		return false;
	for (s += 4; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* Loaded and checked against its real directory, or by name only. */
static struct p2pmem_pci_dev *function_at(const struct p2pmem_ctx *ctx,
					  const char *path, bool by_name)
{
	return by_name ? p2pmem_pci_dev_named_in_path(ctx, path) :
			 p2pmem_pci_dev_from_syspath(ctx, path);
}

/*
 * The functions behind a multipath namespace: those of the controllers
 * listed in its subsystem directory. Return how many distinct ones were
 * found (up to @max stored in @devs).
 */
static size_t subsys_functions(const struct p2pmem_ctx *ctx, const char *nspath,
			       struct p2pmem_pci_dev **devs, size_t max,
			       bool by_name)
{
	char subsys[PATH_MAX], link[PATH_MAX];
	size_t n = 0, i;
	struct dirent *de;
	char *slash;
	DIR *dir;

	snprintf(subsys, sizeof(subsys), "%s", nspath);
	slash = strrchr(subsys, '/');
	if (!slash || !strstr(subsys, "/nvme-subsystem/"))
		return 0;
	*slash = '\0';
	dir = opendir(subsys);
	if (!dir)
		return 0;
	while ((de = readdir(dir)) != NULL) {
		struct p2pmem_pci_dev *dev;
		char *real;

		if (!is_ctrl_name(de->d_name))
			continue;
		snprintf(link, sizeof(link), "%s/%s", subsys, de->d_name);
		real = p2pmem_resolve_link(link);
		if (!real)
			continue;
		dev = function_at(ctx, real, by_name);
		free(real);
		if (!dev)
			continue;
		for (i = 0; i < n && i < max; i++)
			if (devs[i] == dev)
				break;
		if (i < n)
			continue;
		if (n < max)
			devs[n] = dev;
		n++;
	}
	closedir(dir);
	return n;
}

#define MAX_PATHS 8

/**
 * resolve_syspath() - the PCI function(s) behind a device's sysfs directory
 * Return: number of distinct functions (0: not PCI), up to MAX_PATHS stored
 */
static size_t resolve_syspath(const struct p2pmem_ctx *ctx, const char *real,
			      struct p2pmem_pci_dev **devs, bool by_name)
{
	struct p2pmem_pci_dev *dev = function_at(ctx, real, by_name);

	if (dev) {
		devs[0] = dev;
		return 1;
	}
	return subsys_functions(ctx, real, devs, MAX_PATHS, by_name);
}

static int devname_add(struct p2pmem_pci_dev *dev, const char *name)
{
	char **n = realloc(dev->devnames, (dev->ndevnames + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	dev->devnames = n;
	n[dev->ndevnames] = strdup(name);
	if (!n[dev->ndevnames])
		return -ENOMEM;
	dev->ndevnames++;
	return 0;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct class_entry {
	char *name;
	char *real;
};

static int entry_real_cmp(const void *a, const void *b)
{
	return strcmp(((const struct class_entry *)a)->real,
		      ((const struct class_entry *)b)->real);
}

/* Is @real directly inside the directory of another entry (a partition)? */
static bool inside_entry(const struct class_entry *e, size_t n, const char *real)
{
	struct class_entry key;
	char parent[PATH_MAX];
	char *slash;

	snprintf(parent, sizeof(parent), "%s", real);
	slash = strrchr(parent, '/');
	if (!slash)
		return false;
	*slash = '\0';
	key.real = parent;
	return bsearch(&key, e, n, sizeof(*e), entry_real_cmp) != NULL;
}

/*
 * Map every name of a class to its function(s). Partitions belong to their
 * disk (the kernel puts a partition's directory inside the disk's), so
 * only whole disks are listed.
 */
static int scan_class(struct p2pmem_ctx *ctx, const char *class)
{
	struct p2pmem_pci_dev *devs[MAX_PATHS];
	struct class_entry *e = NULL;
	size_t n = 0, cap = 0, i, j, k;
	struct dirent *de;
	char *dirpath;
	DIR *dir;
	int ret = 0;

	dirpath = p2pmem_path(ctx, "class/%s", class);
	if (!dirpath)
		return -ENOMEM;
	dir = opendir(dirpath);
	if (!dir) {
		free(dirpath);
		return 0;	/* no such class on this system: nothing to map */
	}
	while ((de = readdir(dir)) != NULL && !ret) {
		char link[PATH_MAX];
		char *real;

		if (de->d_name[0] == '.')
			continue;
		snprintf(link, sizeof(link), "%s/%s", dirpath, de->d_name);
		real = p2pmem_resolve_link(link);
		if (!real)
			continue;
		if (n == cap) {
			size_t ncap = cap ? 2 * cap : 64;
			struct class_entry *ne = realloc(e, ncap * sizeof(*e));

			if (!ne) {
				free(real);
				ret = -ENOMEM;
				break;
			}
			e = ne;
			cap = ncap;
		}
		e[n].real = real;
		e[n].name = strdup(de->d_name);
		if (!e[n++].name)
			ret = -ENOMEM;
	}
	closedir(dir);
	free(dirpath);
	if (n)
		qsort(e, n, sizeof(*e), entry_real_cmp);
	for (i = 0; i < n && !ret; i++) {
		if (inside_entry(e, n, e[i].real))
			continue;
		k = resolve_syspath(ctx, e[i].real, devs, true);
		for (j = 0; j < k && j < MAX_PATHS && !ret; j++)
			ret = devname_add(devs[j], e[i].name);
	}
	for (i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].real);
	}
	free(e);
	return ret;
}

/**
 * p2pmem_devnames_load() - map block devices and NVMe controllers to their
 * functions, once, when the first name is asked for
 *
 * Out of memory leaves names missing: a display detail, not worth failing
 * the accessor that cannot return an error.
 */
void p2pmem_devnames_load(const struct p2pmem_ctx *cctx)
{
	struct p2pmem_ctx *ctx = (struct p2pmem_ctx *)cctx;
	size_t i;

	if (ctx->devnames_loaded)
		return;
	ctx->devnames_loaded = true;
	if (scan_class(ctx, "block") == 0)
		scan_class(ctx, "nvme");
	for (i = 0; i < ctx->ndevs; i++)
		if (ctx->devs[i]->ndevnames > 1)
			qsort(ctx->devs[i]->devnames, ctx->devs[i]->ndevnames,
			      sizeof(char *), name_cmp);
}

static int resolve_real(struct p2pmem_ctx *ctx, const char *name,
			const char *real, struct p2pmem_pci_dev **devp)
{
	struct p2pmem_pci_dev *devs[MAX_PATHS];
	size_t n = resolve_syspath(ctx, real, devs, false);

	if (n == 1) {
		*devp = devs[0];
		return 0;
	}
	if (n == 0) {
		p2pmem_set_error(ctx, "%s is not backed by a PCI function (its sysfs device is %s); p2p needs PCI devices",
				 name, real);
		return -ENOTSUP;
	}
	p2pmem_set_error(ctx, "%s is reachable through %zu NVMe controllers on different PCI functions (%s, %s%s); name one controller (/dev/nvmeX) or its PCI address",
			 name, n, devs[0]->bdf, devs[1]->bdf, n > 2 ? ", ..." : "");
	return -ENOTSUP;
}

/* A name in one of the classes we know, e.g. class/block/nvme0n1. */
static int resolve_class_name(struct p2pmem_ctx *ctx, const char *name,
			      const char *base, struct p2pmem_pci_dev **devp)
{
	static const char *const classes[] = { "block", "nvme" };
	size_t i;

	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++) {
		char *link = p2pmem_path(ctx, "class/%s/%s", classes[i], base);
		char *real;
		int ret;

		if (!link)
			return -ENOMEM;
		real = p2pmem_resolve_link(link);
		free(link);
		if (!real)
			continue;
		ret = resolve_real(ctx, name, real, devp);
		free(real);
		return ret;
	}
	return -ENODEV;
}

/*
 * A device node or a file on the real system: follow its device number
 * through <root>/dev/{block,char}/MAJ:MIN. A regular file or directory
 * resolves to the block device holding its filesystem.
 */
static int resolve_stat(struct p2pmem_ctx *ctx, const char *name,
			struct p2pmem_pci_dev **devp)
{
	struct stat st;
	const char *kind = "block";
	dev_t devno;
	char *link, *real;
	int ret;

	if (stat(name, &st) != 0)
		return -ENODEV;
	if (S_ISBLK(st.st_mode)) {
		devno = st.st_rdev;
	} else if (S_ISCHR(st.st_mode)) {
		devno = st.st_rdev;
		kind = "char";
	} else {
		devno = st.st_dev;
	}
	link = p2pmem_path(ctx, "dev/%s/%u:%u", kind, major(devno), minor(devno));
	if (!link)
		return -ENOMEM;
	real = p2pmem_resolve_link(link);
	if (!real) {
		p2pmem_set_error(ctx, "%s (device %u:%u) has no entry %s in sysfs; is it a real device?",
				 name, major(devno), minor(devno), link);
		free(link);
		return -ENODEV;
	}
	free(link);
	ret = resolve_real(ctx, name, real, devp);
	free(real);
	return ret;
}

int p2pmem_resolve_client(struct p2pmem_ctx *ctx, const char *name,
			  struct p2pmem_pci_dev **devp)
{
	const char *base = name;
	uint32_t dom;
	uint8_t bus, devfn;
	int ret;

	*devp = NULL;
	p2pmem_clear_error(ctx);
	if (!name || !*name) {
		p2pmem_set_error(ctx, "empty device name: give a PCI address (0000:03:00.0), /dev/nvmeXnY or /dev/nvmeX");
		return -EINVAL;
	}
	if (p2pmem_parse_bdf(name, &dom, &bus, &devfn) == 0)
		return p2pmem_pci_dev_find(ctx, name, devp);

	if (strncmp(base, "/dev/", 5) == 0)
		base += 5;
	if (!strchr(base, '/')) {
		ret = resolve_class_name(ctx, name, base, devp);
		if (ret != -ENODEV)
			return ret;
	}
	/* A bare name that is no device may be a file here (src.bin). */
	if (strchr(name, '/') || access(name, F_OK) == 0) {
		ret = resolve_stat(ctx, name, devp);
		if (ret != -ENODEV || ctx->last_error[0])
			return ret;
	}
	p2pmem_set_error(ctx, "no device '%s': not a PCI address, and no block device or NVMe controller of that name in %s/class; `p2pmem topo` shows the devices",
			 name, ctx->sysfs_root);
	return -ENODEV;
}
