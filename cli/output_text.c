// SPDX-License-Identifier: MIT
/*
 * Text output: tables and trees for people.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "output.h"

static void text_devnames(const struct p2pmem_pci_dev *dev, FILE *f)
{
	size_t i, n = p2pmem_pci_dev_devname_count(dev);

	for (i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? "," : "", p2pmem_pci_dev_devname(dev, i));
	if (!n)
		fputc('-', f);
}

/*
 * A CMB that p2pmem.ko re-armed behind the stock nvme driver's back: its
 * controller resets disable it again, so users should know it is adopted.
 */
static bool text_adopted(const struct p2pmem_provider *p)
{
	return !strcmp(p2pmem_provider_kind(p), "nvme-cmb") &&
	       !strcmp(p2pmem_provider_backend(p), "kmod");
}

/*
 * Nothing to list: say both ways to get providers, and which one is
 * missing here (is p2pmem.ko loaded at all?).
 */
static void text_no_providers(struct p2pmem_ctx *ctx)
{
	char path[4096];
	struct stat st;
	bool kmod;

	snprintf(path, sizeof(path), "%s/class/p2pmem", p2pmem_ctx_sysfs_root(ctx));
	kmod = stat(path, &st) == 0;
	printf("no p2p memory providers found. Two routes to them:\n"
	       "  - a kernel with CONFIG_PCI_P2PDMA publishes NVMe CMBs under\n"
	       "    /sys/bus/pci/devices/*/p2pmem (Debian's 7.x kernels have it);\n");
	if (kmod)
		printf("  - p2pmem.ko is loaded but serves no device: memory cards need\n"
		       "    `echo p2pmem_pci > /sys/bus/pci/devices/BDF/driver_override` and a\n"
		       "    bind; CMBs come with the nvme driver (see kmod/README.md)\n");
	else
		printf("  - p2pmem.ko, for any kernel, is not loaded: `modprobe p2pmem`\n"
		       "    once installed (kmod/README.md: make -C kmod install, or DKMS)\n");
}

static int text_list(struct p2pmem_ctx *ctx)
{
	struct p2pmem_provider *p;
	char size[32], avail[32], kind[32];
	bool adopted = false, card = false;

	if (!p2pmem_provider_first(ctx)) {
		text_no_providers(ctx);
		return EXIT_OK;
	}
	printf("%-13s %-18s %-9s %10s %10s %-9s %s\n", "PROVIDER", "KIND",
	       "BACKEND", "SIZE", "AVAILABLE", "PUBLISHED", "DEVICES");
	for (p = p2pmem_provider_first(ctx); p; p = p2pmem_provider_next(p)) {
		const struct p2pmem_pci_dev *dev = p2pmem_provider_pci_dev(p);

		snprintf(kind, sizeof(kind), "%s%s", p2pmem_provider_kind(p),
			 text_adopted(p) ? " (adopted)" : "");
		adopted |= text_adopted(p);
		card |= !strcmp(p2pmem_provider_backend(p), "upstream") &&
			!strcmp(cli_served_by(p), "p2pmem.ko");
		printf("%-13s %-18s %-9s %10s %10s %-9s ", p2pmem_pci_dev_bdf(dev),
		       kind, p2pmem_provider_backend(p),
		       cli_size(p2pmem_provider_size(p), size, sizeof(size)),
		       cli_size(p2pmem_provider_available(p), avail, sizeof(avail)),
		       p2pmem_provider_published(p) ? "yes" : "no");
		text_devnames(dev, stdout);
		putchar('\n');
	}
	if (adopted)
		printf("adopted: a CMB the nvme driver disabled (kernel without P2PDMA), re-armed by p2pmem.ko;\n"
		       "  a controller reset under I/O takes it offline until its memory is back\n");
	if (card)
		printf("upstream providers bound to p2pmem_pci are memory cards p2pmem.ko registered with\n"
		       "  upstream P2PDMA: upstream's pool and p2pmem/allocate, served by p2pmem.ko\n");
	return EXIT_OK;
}

static void text_dev_line(const struct p2pmem_pci_dev *dev)
{
	const struct p2pmem_provider *p = p2pmem_pci_dev_provider(dev);
	enum p2pmem_port_type pt = p2pmem_pci_dev_port_type(dev);
	const char *drv = p2pmem_pci_dev_driver(dev);
	char name[256];

	printf("%s %04x:%04x %s", p2pmem_pci_dev_bdf(dev), p2pmem_pci_dev_vendor(dev),
	       p2pmem_pci_dev_device(dev), p2pmem_pci_dev_class_name(dev));
	if (cli_pci_name(dev, name, sizeof(name)))
		printf(": %s", name);
	if (pt != P2PMEM_PORT_NONE && pt != P2PMEM_PORT_ENDPOINT)
		printf(" (%s)", p2pmem_port_type_name(pt));
	if (drv)
		printf(" [%s]", drv);
	if (p2pmem_pci_dev_has_acs(dev) &&
	    (p2pmem_pci_dev_acs_ctrl(dev) & P2PMEM_ACS_REDIRECT_MASK))
		printf(" ACS-redirect(ctrl=0x%04x)", p2pmem_pci_dev_acs_ctrl(dev));
	if (p2pmem_pci_dev_iommu_group(dev) >= 0)
		printf(" iommu=%d(%s)", p2pmem_pci_dev_iommu_group(dev),
		       p2pmem_pci_dev_iommu_type(dev) ? p2pmem_pci_dev_iommu_type(dev) : "?");
	switch (p2pmem_pci_dev_cfg_state(dev)) {
	case P2PMEM_CFG_MALFORMED:
	case P2PMEM_CFG_UNREADABLE:
		printf(" config-unusable");
		break;
	default:
		break;
	}
	if (p) {
		char size[32], avail[32];

		printf(" <provider %s %s, %s free%s>", p2pmem_provider_kind(p),
		       cli_size(p2pmem_provider_size(p), size, sizeof(size)),
		       cli_size(p2pmem_provider_available(p), avail, sizeof(avail)),
		       p2pmem_provider_published(p) ? "" : ", unpublished");
	}
	if (p2pmem_pci_dev_devname_count(dev)) {
		printf(" {");
		text_devnames(dev, stdout);
		printf("}");
	}
	putchar('\n');
}

static void text_subtree(const struct p2pmem_pci_dev *dev, char *prefix, size_t plen)
{
	for (; dev; dev = p2pmem_pci_dev_next_sibling(dev)) {
		bool last = !p2pmem_pci_dev_next_sibling(dev);
		size_t len = strlen(prefix);

		printf("%s%s", prefix, last ? "`-- " : "|-- ");
		text_dev_line(dev);
		if (len + 5 < plen) {
			strcat(prefix, last ? "    " : "|   ");
			text_subtree(p2pmem_pci_dev_first_child(dev), prefix, plen);
			prefix[len] = '\0';
		}
	}
}

static int text_topo(struct p2pmem_ctx *ctx)
{
	struct p2pmem_host_bridge *hb;
	char prefix[1024];

	printf("CPU: %s (%s)\n", p2pmem_ctx_cpu_desc(ctx),
	       p2pmem_ctx_cpu_supports_p2p(ctx) ?
	       "host bridges forward p2p" : "p2p across host bridges only if whitelisted");
	for (hb = p2pmem_host_bridge_first(ctx); hb; hb = p2pmem_host_bridge_next(hb)) {
		const struct p2pmem_pci_dev *root = p2pmem_host_bridge_dev(hb);

		printf("%s", p2pmem_host_bridge_name(hb));
		if (root)
			printf(" (host bridge id %04x:%04x from %s)", p2pmem_pci_dev_vendor(root),
			       p2pmem_pci_dev_device(root), p2pmem_pci_dev_bdf(root));
		putchar('\n');
		prefix[0] = '\0';
		text_subtree(p2pmem_host_bridge_first_child(hb), prefix, sizeof(prefix));
	}
	return EXIT_OK;
}

static void text_path(const struct p2pmem_verdict *v, size_t i)
{
	size_t hop, n = p2pmem_verdict_path_len(v, i);

	for (hop = 0; hop < n; hop++)
		printf("%s%s", hop ? " -> " : "", p2pmem_verdict_path_hop(v, i, hop));
	putchar('\n');
}

static void text_verdict_line(const struct p2pmem_verdict *v)
{
	if (p2pmem_verdict_map_type(v) == P2PMEM_MAP_NOT_SUPPORTED)
		printf("not supported (map type not-supported)\n");
	else
		printf("distance %d, map type %s\n", p2pmem_verdict_distance(v),
		       p2pmem_map_type_name(p2pmem_verdict_map_type(v)));
}

static int text_check(const struct check_result *r)
{
	const struct p2pmem_verdict *v = r->verdict;
	size_t i;

	for (i = 0; i < r->nclients; i++) {
		const char *bdf = p2pmem_pci_dev_bdf(r->clients[i]);
		char name[256];

		printf("client    %s", bdf);
		if (strcmp(bdf, r->names[i]) != 0)
			printf(" (%s)", r->names[i]);
		if (cli_pci_name(r->clients[i], name, sizeof(name)))
			printf(": %s", name);
		putchar('\n');
	}
	if (!v) {
		printf("provider  none\nverdict   not supported\nreason    %s\n", r->note);
		return EXIT_OK;
	}
	{
		const struct p2pmem_pci_dev *pdev = p2pmem_verdict_provider(v);
		const struct p2pmem_provider *p = p2pmem_pci_dev_provider(pdev);
		char size[32], avail[32], name[256];

		printf("provider  %s", p2pmem_pci_dev_bdf(pdev));
		if (p)
			printf(" (%s, %s%s, %s of %s free)", p2pmem_provider_kind(p),
			       p2pmem_provider_backend(p),
			       !strcmp(p2pmem_provider_backend(p), "upstream") &&
			       !strcmp(cli_served_by(p), "p2pmem.ko") ?
			       " served by p2pmem.ko" : "",
			       cli_size(p2pmem_provider_available(p), avail, sizeof(avail)),
			       cli_size(p2pmem_provider_size(p), size, sizeof(size)));
		if (cli_pci_name(pdev, name, sizeof(name)))
			printf(": %s", name);
		putchar('\n');
	}
	printf("verdict   %s: ", r->usable ? "usable" : "NOT usable");
	text_verdict_line(v);
	for (i = 0; i < r->nclients; i++) {
		printf("path      ");
		if (r->nclients > 1)
			printf("[%s] ", p2pmem_pci_dev_bdf(r->clients[i]));
		text_path(v, i);
	}
	printf("reason    %s\n", p2pmem_verdict_reason(v));
	if (r->note)
		printf("note      %s\n", r->note);
	if (p2pmem_verdict_warning(v)[0])
		printf("warning   %s\n", p2pmem_verdict_warning(v));
	if (r->ranking && r->nranking > 1) {
		printf("ranking\n");
		for (i = 0; i < r->nranking; i++) {
			const struct p2pmem_verdict *rv = r->ranking[i];
			const struct p2pmem_pci_dev *pdev = p2pmem_verdict_provider(rv);
			const struct p2pmem_provider *p = p2pmem_pci_dev_provider(pdev);

			printf("  %zu. %s %-8s ", i + 1, p2pmem_pci_dev_bdf(pdev),
			       p ? p2pmem_provider_kind(p) : "-");
			if (p && !p2pmem_provider_published(p))
				printf("unpublished ");
			text_verdict_line(rv);
		}
	}
	return EXIT_OK;
}

const struct output_ops output_text = {
	.name = "text",
	.list = text_list,
	.topo = text_topo,
	.check = text_check,
};
