// SPDX-License-Identifier: MIT
/*
 * Will nvmet put a namespace's payload in p2p memory? The kernel's answer is
 * spread over three moments, and only the first two say anything:
 *
 * 1. Writing the namespace's p2pmem attribute (pci_p2pdma_enable_store):
 *    a BDF must be a PCI function with published p2p memory, else ENODEV
 *    ("PCI device has no peer-to-peer memory", "No such PCI device").
 *    Without CONFIG_PCI_P2PDMA the attribute does not exist (EACCES).
 * 2. Enabling it (nvmet_p2pmem_ns_enable): a file-backed namespace, a block
 *    device whose driver does not set BLK_FEAT_PCI_P2PDMA (only nvme-pci
 *    and the NVMe multipath node do), a BDF the namespace's device cannot
 *    reach, or "1" with no published provider reachable: EINVAL and a log
 *    line.
 * 3. A host connecting (nvmet_setup_p2p_ns_map): only a transport that
 *    names a DMA device as p2p client takes part, and only nvmet-rdma does,
 *    and only for an RDMA device that is a PCI function
 *    (ib_dma_pci_p2p_dma_supported). Then the BDF must reach that device,
 *    or "1" needs a provider both reach; otherwise host memory, silently.
 *    tcp, loop and fc never use p2p memory.
 *
 * Only upstream providers count: nvmet allocates with pci_alloc_p2pmem(),
 * never from p2pmem.ko's own pools.
 */
#include <errno.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "nvmet.h"

const char *nvmet_transport_name(enum nvmet_transport t)
{
	switch (t) {
	case NVMET_RDMA:
		return "rdma";
	case NVMET_TCP:
		return "tcp";
	case NVMET_LOOP:
		return "loop";
	case NVMET_OTHER:
		return "other";
	}
	return "?";
}

int nvmet_transport_parse(const char *s, enum nvmet_transport *t)
{
	if (strcmp(s, "rdma") == 0)
		*t = NVMET_RDMA;
	else if (strcmp(s, "tcp") == 0)
		*t = NVMET_TCP;
	else if (strcmp(s, "loop") == 0)
		*t = NVMET_LOOP;
	else
		return -EINVAL;
	return 0;
}

/* An existing namespace shows whether configfs offers p2pmem at all. */
static int p2pdma_from_namespaces(const struct nvmet_env *env)
{
	char dir[PATH_MAX], ns[PATH_MAX + 300], attr[PATH_MAX + 600];
	struct dirent *s, *n;
	DIR *subs, *nss;
	int found = -1;

	snprintf(dir, sizeof(dir), "%s/subsystems", env->cfs);
	subs = opendir(dir);
	if (!subs)
		return -1;
	while (found < 0 && (s = readdir(subs))) {
		if (s->d_name[0] == '.')
			continue;
		snprintf(ns, sizeof(ns), "%s/%s/namespaces", dir, s->d_name);
		nss = opendir(ns);
		if (!nss)
			continue;
		while (found < 0 && (n = readdir(nss))) {
			if (n->d_name[0] == '.')
				continue;
			snprintf(attr, sizeof(attr), "%s/%s/p2pmem", ns, n->d_name);
			found = access(attr, F_OK) == 0;
		}
		closedir(nss);
	}
	closedir(subs);
	return found;
}

static bool is_upstream(const struct p2pmem_provider *p)
{
	return p && strcmp(p2pmem_provider_backend(p), "upstream") == 0;
}

/*
 * Without CONFIG_PCI_P2PDMA the kernel has no pci_p2pmem_find_many (the
 * header's stubs are static inline): one symbol in kallsyms says it.
 */
static int p2pdma_from_kallsyms(const char *path)
{
	static const char sym[] = " pci_p2pmem_find_many\n";
	char buf[65536 + sizeof(sym)];
	size_t keep = 0, n;
	FILE *f = fopen(path, "r");
	int found = 0;

	if (!f)
		return -1;
	while ((n = fread(buf + keep, 1, sizeof(buf) - 1 - keep, f)) > 0) {
		buf[keep + n] = 0;
		if (memmem(buf, keep + n, sym, sizeof(sym) - 1)) {
			found = 1;
			break;
		}
		/* a symbol may straddle two reads: keep the tail */
		n += keep;
		keep = n < sizeof(sym) - 1 ? n : sizeof(sym) - 1;
		memmove(buf, buf + n - keep, keep);
	}
	fclose(f);
	return found;
}

void nvmet_env_init(struct nvmet_env *env, struct p2pmem_ctx *ctx)
{
	struct p2pmem_provider *p;
	const char *ks = getenv("P2PMEM_KALLSYMS");
	const char *ni = getenv("P2PMEM_NETIFS");

	env->ctx = ctx;
	env->root = p2pmem_ctx_sysfs_root(ctx);
	env->kallsyms = ks && *ks ? ks : "/proc/kallsyms";
	env->netifs = ni && *ni ? ni : NULL;
	snprintf(env->cfs, sizeof(env->cfs), "%s/kernel/config/nvmet", env->root);

	env->p2pdma = p2pdma_from_namespaces(env);
	env->p2pdma_how = "an nvmet namespace's attributes";
	if (env->p2pdma >= 0)
		return;
	for (p = p2pmem_provider_first(ctx); p; p = p2pmem_provider_next(p)) {
		if (is_upstream(p)) {
			env->p2pdma = 1;
			env->p2pdma_how = "an upstream P2PDMA provider exists";
			return;
		}
	}
	env->p2pdma = p2pdma_from_kallsyms(env->kallsyms);
	env->p2pdma_how = "the kernel's symbols";
}

/* Block device facts: partition -> disk, multipath node, driver. */
static void ns_block_facts(const struct nvmet_env *env, struct nvmet_ns *ns)
{
	char path[PATH_MAX], part[PATH_MAX + 16];
	char *real, *slash;
	const char *drv;

	snprintf(path, sizeof(path), "%s/class/block/%s", env->root, ns->blk);
	real = realpath(path, NULL);
	if (!real)
		return;
	snprintf(part, sizeof(part), "%s/partition", real);
	if (access(part, F_OK) == 0 && (slash = strrchr(real, '/')))
		*slash = 0;	/* the whole disk: nvmet asks the disk's queue */
	if (strstr(real, "/devices/virtual/nvme-subsystem/")) {
		/* nvme_mpath_alloc_disk sets BLK_FEAT_PCI_P2PDMA; no PCI parent */
		ns->mpath_head = true;
		ns->p2p_driver = true;
		free(real);
		return;
	}
	if (p2pmem_resolve_client(env->ctx, ns->blk, &ns->fn) != 0)
		ns->fn = NULL;
	drv = ns->fn ? p2pmem_pci_dev_driver(ns->fn) : NULL;
	/* nvme-pci sets BLK_FEAT_PCI_P2PDMA on its namespaces' queues */
	ns->p2p_driver = drv && strcmp(drv, "nvme") == 0 && strstr(real, "/nvme/nvme");
	free(real);
}

int nvmet_ns_resolve(const struct nvmet_env *env, const char *name,
		     struct nvmet_ns *ns, char *why, size_t len)
{
	char path[PATH_MAX];
	const char *base = name;
	struct stat st;
	char *real;

	if (stat(name, &st) == 0) {
		if (S_ISREG(st.st_mode)) {
			real = realpath(name, NULL);
			snprintf(ns->device, sizeof(ns->device), "%s", real ? real : name);
			free(real);
			ns->is_file = true;
			return 0;
		}
		if (!S_ISBLK(st.st_mode)) {
			snprintf(why, len, "%s is neither a block device nor a regular file", name);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "%s/dev/block/%u:%u", env->root,
			 major(st.st_rdev), minor(st.st_rdev));
		real = realpath(path, NULL);
		if (!real) {
			snprintf(why, len, "%s (block device %u:%u) has no entry in %s/dev/block",
				 name, major(st.st_rdev), minor(st.st_rdev), env->root);
			return -ENODEV;
		}
		snprintf(ns->blk, sizeof(ns->blk), "%s", strrchr(real, '/') + 1);
		free(real);
		real = name[0] == '/' ? NULL : realpath(name, NULL);
		snprintf(ns->device, sizeof(ns->device), "%s", real ? real : name);
		free(real);
	} else {
		/* not (yet) a device node here: a block device sysfs knows */
		if (strncmp(base, "/dev/", 5) == 0)
			base += 5;
		snprintf(path, sizeof(path), "%s/class/block/%s", env->root, base);
		if (strchr(base, '/') || access(path, F_OK) != 0) {
			snprintf(why, len, "no such device or file: %s (give a block device such as /dev/nvme0n1, or a file)",
				 name);
			return -ENOENT;
		}
		snprintf(ns->blk, sizeof(ns->blk), "%s", base);
		snprintf(ns->device, sizeof(ns->device), "/dev/%s", base);
	}
	ns_block_facts(env, ns);
	return 0;
}

static bool published_upstream(const struct p2pmem_pci_dev *fn)
{
	const struct p2pmem_provider *p = fn ? p2pmem_pci_dev_provider(fn) : NULL;

	return is_upstream(p) && p2pmem_provider_published(p);
}

/*
 * distance(@prov, @clients) as pci_p2pdma_distance_many() sums it, or -1
 * with the reason of the first client the rule refuses in @why.
 */
static int reach(const struct nvmet_env *env, struct p2pmem_pci_dev *prov,
		 struct p2pmem_pci_dev *const *clients, size_t n, char *why, size_t len)
{
	struct p2pmem_verdict *v;
	int d, sum = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (p2pmem_distance(env->ctx, prov, &clients[i], 1, &v) != 0) {
			snprintf(why, len, "%s", p2pmem_ctx_last_error(env->ctx));
			return -1;
		}
		d = p2pmem_verdict_distance(v);
		if (p2pmem_verdict_map_type(v) == P2PMEM_MAP_NOT_SUPPORTED) {
			snprintf(why, len, "%s", p2pmem_verdict_reason(v));
			p2pmem_verdict_free(v);
			return -1;
		}
		p2pmem_verdict_free(v);
		sum += d;
	}
	return sum;
}

int nvmet_best_provider(const struct nvmet_env *env,
			struct p2pmem_pci_dev *const *clients, size_t n,
			char *bdf, size_t bdflen, char *why, size_t len)
{
	struct p2pmem_provider *p;
	char reason[NVMET_WHY] = "";
	const char *first_refused = NULL;
	int best = -1, d;
	size_t seen = 0;

	for (p = p2pmem_provider_first(env->ctx); p; p = p2pmem_provider_next(p)) {
		struct p2pmem_pci_dev *fn = p2pmem_provider_pci_dev(p);

		if (!is_upstream(p) || !p2pmem_provider_published(p))
			continue;
		seen++;
		d = reach(env, fn, clients, n, reason, sizeof(reason));
		if (d < 0) {
			if (!first_refused) {
				first_refused = p2pmem_pci_dev_bdf(fn);
				snprintf(why, len, "%s: %s", first_refused, reason);
			}
			continue;
		}
		/* closest; the kernel draws among ties, we take the lowest BDF */
		if (best < 0 || d < best ||
		    (d == best && strcmp(p2pmem_pci_dev_bdf(fn), bdf) < 0)) {
			best = d;
			snprintf(bdf, bdflen, "%s", p2pmem_pci_dev_bdf(fn));
		}
	}
	if (best < 0 && !seen)
		snprintf(why, len, "no published P2PDMA provider on this system (`p2pmem list`)");
	return best;
}

int nvmet_ns_check_attr(const struct nvmet_env *env, const struct nvmet_ns *ns,
			const char *value, char *why, size_t len)
{
	struct p2pmem_pci_dev *prov = NULL;
	char reason[NVMET_WHY], bdf[32];

	if (env->p2pdma == 0) {
		snprintf(why, len, "this kernel has no CONFIG_PCI_P2PDMA (known from %s): nvmet's namespaces have no p2pmem attribute (configfs refuses it: EACCES); export with --no-p2p, or run a kernel with P2PDMA (Debian's 7.x kernels)",
			 env->p2pdma_how);
		return -EACCES;
	}
	if (strcmp(value, "0") == 0)
		return 0;
	if (strcmp(value, "1") != 0) {
		if (p2pmem_pci_dev_find(env->ctx, value, &prov) != 0) {
			snprintf(why, len, "the kernel refuses p2pmem=%s: No such PCI device (ENODEV)", value);
			return -ENODEV;
		}
		if (!published_upstream(prov)) {
			snprintf(why, len, "the kernel refuses p2pmem=%s: PCI device has no peer-to-peer memory (ENODEV): it publishes none to the kernel's P2PDMA%s",
				 value, p2pmem_pci_dev_provider(prov) ?
				 " (p2pmem.ko's own providers serve only its own users; nvmet allocates with pci_alloc_p2pmem)" : "");
			return -ENODEV;
		}
	}
	/* enable: nvmet_p2pmem_ns_enable() */
	if (ns->is_file) {
		snprintf(why, len, "the kernel refuses to enable %s with p2pmem=%s: peer-to-peer DMA is not supported by non-block device namespaces (EINVAL); export a block device, or use --no-p2p",
			 ns->device, value);
		return -EINVAL;
	}
	if (!ns->p2p_driver) {
		snprintf(why, len, "the kernel refuses to enable %s with p2pmem=%s: peer-to-peer DMA is not supported by the driver of %s (EINVAL): only NVMe drives on nvme-pci take part",
			 ns->device, value, ns->device);
		return -EINVAL;
	}
	if (ns->mpath_head || !ns->fn) {
		snprintf(why, len, "the kernel refuses to enable %s with p2pmem=%s: %s is an NVMe multipath node, not a PCI device, so no provider can be judged for it (EINVAL); export the path's own namespace device or boot with nvme_core.multipath=N",
			 ns->device, value, ns->blk);
		return -EINVAL;
	}
	if (prov) {
		if (reach(env, prov, &ns->fn, 1, reason, sizeof(reason)) < 0) {
			snprintf(why, len, "the kernel refuses to enable %s with p2pmem=%s (EINVAL): %s",
				 ns->device, value, reason);
			return -EINVAL;
		}
		return 0;
	}
	if (nvmet_best_provider(env, &ns->fn, 1, bdf, sizeof(bdf), reason, sizeof(reason)) < 0) {
		snprintf(why, len, "the kernel refuses to enable %s with p2pmem=1: no peer-to-peer memory is available for %s (EINVAL): %s",
			 ns->device, ns->device, reason);
		return -EINVAL;
	}
	return 0;
}

/* One RDMA device's outcome: 1 p2p (provider in @bdf), 0 host memory. */
static int predict_rdma(const struct nvmet_env *env, const struct nvmet_ns *ns,
			const struct rdma_dev *r, char *bdf, size_t bdflen,
			char *why, size_t len)
{
	struct p2pmem_pci_dev *clients[2], *prov;
	char reason[NVMET_WHY];
	int d;

	if (!r->fn) {
		snprintf(why, len, "host memory: %s on %s is software RDMA with no PCI function, so nvmet-rdma names no p2p client (ib_dma_pci_p2p_dma_supported() is false) and uses host memory without a word",
			 r->name, r->netdev);
		return 0;
	}
	if (strcmp(ns->attr, "1") != 0) {
		if (p2pmem_pci_dev_find(env->ctx, ns->attr, &prov) != 0) {
			snprintf(why, len, "host memory: provider %s not found", ns->attr);
			return 0;
		}
		d = reach(env, prov, (struct p2pmem_pci_dev *const *)&r->fn, 1, reason, sizeof(reason));
		if (d < 0) {
			snprintf(why, len, "host memory: when a host connects through %s (%s), the kernel finds that it cannot reach %s and skips p2p for this namespace: %s",
				 r->name, p2pmem_pci_dev_bdf(r->fn), ns->attr, reason);
			return 0;
		}
		snprintf(bdf, bdflen, "%s", ns->attr);
		snprintf(why, len, "p2p memory from %s: RDMA device %s (%s) reaches it at distance %d, and so does %s",
			 ns->attr, r->name, p2pmem_pci_dev_bdf(r->fn), d, ns->blk);
		return 1;
	}
	clients[0] = r->fn;
	clients[1] = ns->fn;
	d = nvmet_best_provider(env, clients, 2, bdf, bdflen, reason, sizeof(reason));
	if (d < 0) {
		snprintf(why, len, "host memory: no peer-to-peer memory is available that both %s (%s) and %s reach (the kernel logs this when a host connects): %s",
			 r->name, p2pmem_pci_dev_bdf(r->fn), ns->device, reason);
		return 0;
	}
	snprintf(why, len, "p2p memory from %s: the closest published provider that RDMA device %s (%s) and %s both reach (distance %d)",
		 bdf, r->name, p2pmem_pci_dev_bdf(r->fn), ns->blk, d);
	return 1;
}

void nvmet_ns_predict(const struct nvmet_env *env, struct nvmet_ns *ns,
		      const struct nvmet_port *port, const struct rdma_dev *rdma,
		      size_t nrdma)
{
	char one[NVMET_WHY], bdf[32];
	size_t i, off = 0;

	ns->p2p = false;
	ns->provider[0] = 0;
	if (!ns->attr[0]) {
		snprintf(ns->why, sizeof(ns->why), "host memory: this kernel has no CONFIG_PCI_P2PDMA, so nvmet has no p2p memory to use");
		return;
	}
	if (strcmp(ns->attr, "0") == 0) {
		snprintf(ns->why, sizeof(ns->why), "host memory: p2pmem is off for this namespace");
		return;
	}
	if (port->trtype != NVMET_RDMA) {
		snprintf(ns->why, sizeof(ns->why), "host memory: nvmet-%s never uses p2p memory (only nvmet-rdma names its RDMA device as the p2p client); the p2pmem attribute is accepted and ignored",
			 nvmet_transport_name(port->trtype));
		return;
	}
	if (!nrdma) {
		snprintf(ns->why, sizeof(ns->why), "host memory: no RDMA device serves %s", port->traddr);
		return;
	}
	/* p2p only if every device a host may come through gets it */
	ns->p2p = true;
	for (i = 0; i < nrdma; i++) {
		bdf[0] = 0;
		if (!predict_rdma(env, ns, &rdma[i], bdf, sizeof(bdf), one, sizeof(one)))
			ns->p2p = false;
		else if (!ns->provider[0])
			snprintf(ns->provider, sizeof(ns->provider), "%s", bdf);
		if (nrdma == 1)
			snprintf(ns->why, sizeof(ns->why), "%s", one);
		else if (off < sizeof(ns->why))
			off += (size_t)snprintf(ns->why + off, sizeof(ns->why) - off, "%s%s: %s",
						i ? "; " : "", rdma[i].name, one);
	}
}
