// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel module's port of the distance rule (kmod/distance.c, built
 * here against tests/kshim) judged by the same tables as the library:
 * tests/fixtures/<fabric>.cases. Each fixture is scanned with libp2pmem and
 * turned into the struct pci_dev tree the kernel would have: upstream
 * bridges, root buses in devfn order, host bridges, ACS control, port
 * types. Several clients are judged as p2pmem_check_clients() does: any
 * refusal refuses, distances add up.
 *
 * Not judged here: "error" lines and the "broken" fabric (they are about
 * reading sysfs, which the kernel does not), "best" lines (the module's
 * choice needs its provider registry; the rig compares it: kmod-distance).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kshim.h"
#include "cases.h"

/*
 * kmod/include/p2pmem_client.h names its map types like the library's
 * public enum (which this test includes too); the values are the same and
 * the uapi header fixes them: 1 bus-addr, 2 host bridge.
 */
_Static_assert(P2PMEM_MAP_NOT_SUPPORTED == 0 && P2PMEM_MAP_BUS_ADDR == 1 &&
	       P2PMEM_MAP_THRU_HOST_BRIDGE == 2, "map types differ from the module's");
int p2pmem_pci_distance(struct pci_dev *provider, struct pci_dev *client,
			enum p2pmem_map_type *map, bool verbose);

struct cpuinfo_x86 boot_cpu_data;

struct kfabric {
	const char *fabric;
	struct p2pmem_ctx *ctx;
	struct pci_dev *devs;		/* one per library function, same order */
	struct pci_bus *buses;		/* one per function (its bus), simply */
	struct pci_host_bridge *hbs;
	struct pci_bus *roots;
	size_t n, nhb;
};

static size_t index_of(struct p2pmem_ctx *ctx, const struct p2pmem_pci_dev *d)
{
	size_t i = 0;

	for (struct p2pmem_pci_dev *x = p2pmem_pci_dev_first(ctx); x; x = p2pmem_pci_dev_next(x), i++)
		if (x == d)
			return i;
	return (size_t)-1;
}

static void list_add_tail(struct list_head *item, struct list_head *head)
{
	item->prev = head->prev;
	item->next = head;
	head->prev->next = item;
	head->prev = item;
}

static void kfabric_build(struct kfabric *k)
{
	struct p2pmem_host_bridge *hb;
	struct p2pmem_pci_dev *d;
	size_t i, h = 0;

	k->n = p2pmem_pci_dev_count(k->ctx);
	for (hb = p2pmem_host_bridge_first(k->ctx); hb; hb = p2pmem_host_bridge_next(hb))
		k->nhb++;
	k->devs = calloc(k->n, sizeof(*k->devs));
	k->buses = calloc(k->n, sizeof(*k->buses));
	k->hbs = calloc(k->nhb, sizeof(*k->hbs));
	k->roots = calloc(k->nhb, sizeof(*k->roots));
	if (!k->devs || !k->buses || !k->hbs || !k->roots)
		exit(1);
	for (hb = p2pmem_host_bridge_first(k->ctx); hb; hb = p2pmem_host_bridge_next(hb), h++) {
		struct pci_bus *root = &k->roots[h];

		root->devices.next = root->devices.prev = &root->devices;
		root->shim_host = &k->hbs[h];
		k->hbs[h].bus = root;
		/* The root bus lists its functions in devfn order, as enumerated. */
		for (d = p2pmem_host_bridge_first_child(hb); d; d = p2pmem_pci_dev_next_sibling(d))
			list_add_tail(&k->devs[index_of(k->ctx, d)].bus_list, &root->devices);
	}
	for (d = p2pmem_pci_dev_first(k->ctx), i = 0; d; d = p2pmem_pci_dev_next(d), i++) {
		struct pci_dev *pd = &k->devs[i];
		struct p2pmem_pci_dev *up = p2pmem_pci_dev_parent(d);
		size_t hi = 0;

		for (hb = p2pmem_host_bridge_first(k->ctx); hb != p2pmem_pci_dev_host_bridge(d);
		     hb = p2pmem_host_bridge_next(hb))
			hi++;
		snprintf(pd->shim_name, sizeof(pd->shim_name), "%s", p2pmem_pci_dev_bdf(d));
		pd->vendor = p2pmem_pci_dev_vendor(d);
		pd->device = p2pmem_pci_dev_device(d);
		pd->devfn = (unsigned int)strtoul(pd->shim_name + 10, NULL, 16) << 3 |
			    (unsigned int)strtoul(pd->shim_name + 13, NULL, 16);
		pd->shim_pcie_type = p2pmem_pci_dev_port_type(d);
		pd->shim_upstream = up ? &k->devs[index_of(k->ctx, up)] : NULL;
		if (p2pmem_pci_dev_has_acs(d)) {
			pd->acs_cap = 0x148;
			pd->shim_acs_ctrl = p2pmem_pci_dev_acs_ctrl(d);
		}
		if (up) {
			/* Below a bridge: a bus of its own that leads to the host. */
			k->buses[i].shim_host = &k->hbs[hi];
			pd->bus = &k->buses[i];
		} else {
			pd->bus = &k->roots[hi];
		}
	}
}

static void kfabric_free(struct kfabric *k)
{
	free(k->devs);
	free(k->buses);
	free(k->hbs);
	free(k->roots);
	p2pmem_ctx_free(k->ctx);
	k->devs = NULL;
	k->buses = k->roots = NULL;
	k->hbs = NULL;
	k->n = k->nhb = 0;
}

static struct pci_dev *kdev(struct kfabric *k, const char *bdf)
{
	struct p2pmem_pci_dev *d;

	if (p2pmem_pci_dev_find(k->ctx, bdf, &d))
		return NULL;
	return &k->devs[index_of(k->ctx, d)];
}

static void on_cpu(void *priv, const char *vendor, const char *family)
{
	(void)priv;
	boot_cpu_data.x86_vendor = strcmp(vendor, "AuthenticAMD") == 0 ? X86_VENDOR_AMD : 0;
	boot_cpu_data.x86 = atoi(family);
}

static void on_verdict(void *priv, const struct case_line *c)
{
	struct kfabric *k = priv;
	struct pci_dev *p = kdev(k, c->provider);
	enum p2pmem_map_type m, worst = P2PMEM_MAP_BUS_ADDR;
	int i, d, total = 0;
	const char *map;

	if (strcmp(c->distance, "error") == 0)
		return;
	if (!p) {
		fprintf(stderr, "%s: unknown provider\n", c->where);
		unit_failures++;
		return;
	}
	for (i = 0; i < c->nclients; i++) {
		struct pci_dev *cl = kdev(k, c->clients[i]);

		if (!cl) {
			fprintf(stderr, "%s: unknown client\n", c->where);
			unit_failures++;
			return;
		}
		d = p2pmem_pci_distance(p, cl, &m, false);
		if (d < 0) {
			total = -1;
			worst = P2PMEM_MAP_NOT_SUPPORTED;
			break;
		}
		total += d;
		if (m == P2PMEM_MAP_THRU_HOST_BRIDGE)
			worst = m;
	}
	map = p2pmem_map_type_name(worst);
	if (total != atoi(c->distance) || strcmp(map, c->map)) {
		fprintf(stderr, "%s: kernel port says %d %s, expected %s %s\n", c->where,
			total, map, c->distance, c->map);
		unit_failures++;
	}
}

int main(void)
{
	const char *dir = unit_fixtures();
	int ncases = 0, nfabrics = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return 1;
	while ((de = readdir(d)) != NULL) {
		struct kfabric k = { .fabric = de->d_name };
		const struct cases_ops ops = { .cpu = on_cpu, .verdict = on_verdict, .priv = &k };
		char path[4096];
		int n;

		snprintf(path, sizeof(path), "tests/fixtures/%s.cases", de->d_name);
		/*
		 * iommu-kmod's answers include the module's DMA fences
		 * (dma_fence.c, not in distance.c): tests/vm/iommu.sh holds
		 * the module to them in the rig.
		 */
		if (de->d_name[0] == '.' || strcmp(de->d_name, "broken") == 0 ||
		    strcmp(de->d_name, "iommu-kmod") == 0 ||
		    access(path, R_OK) != 0)
			continue;
		k.ctx = unit_ctx(de->d_name, NULL);
		kfabric_build(&k);
		boot_cpu_data.x86_vendor = 0;	/* the fixtures' default: Intel */
		boot_cpu_data.x86 = 6;
		n = cases_run(de->d_name, &ops);
		kfabric_free(&k);
		if (n < 0) {
			unit_failures++;
			continue;
		}
		ncases += n;
		nfabrics++;
	}
	closedir(d);
	printf("kmod_distance: %d cases over %d fabrics through kmod/distance.c\n", ncases, nfabrics);
	CHECK(nfabrics >= 8);
	CHECK(ncases >= 50);
	return unit_result("kmod_distance");
}
