// SPDX-License-Identifier: MIT
/*
 * Graphviz output of the PCI tree: `p2pmem topo --dot | dot -Tsvg`.
 * Providers are filled boxes with their free memory; functions backing
 * block devices (the likely clients) are highlighted; ACS redirect in red.
 */
#include <stdio.h>

#include "cli.h"
#include "output.h"

static void dot_node(const struct p2pmem_pci_dev *dev, const char *parent)
{
	const struct p2pmem_provider *p = p2pmem_pci_dev_provider(dev);
	const struct p2pmem_pci_dev *c;
	bool redirect = p2pmem_pci_dev_has_acs(dev) &&
			(p2pmem_pci_dev_acs_ctrl(dev) & P2PMEM_ACS_REDIRECT_MASK);
	size_t i;

	printf("  \"%s\" [label=\"%s\\n%s", p2pmem_pci_dev_bdf(dev),
	       p2pmem_pci_dev_bdf(dev), p2pmem_pci_dev_class_name(dev));
	for (i = 0; i < p2pmem_pci_dev_devname_count(dev); i++)
		printf("%s%s", i ? " " : "\\n", p2pmem_pci_dev_devname(dev, i));
	if (p) {
		char avail[32];

		printf("\\nprovider %s, %s free", p2pmem_provider_kind(p),
		       cli_size(p2pmem_provider_available(p), avail, sizeof(avail)));
	}
	if (redirect)
		printf("\\nACS redirect");
	printf("\"");
	if (p)
		printf(", shape=box, style=filled, fillcolor=palegreen");
	else if (p2pmem_pci_dev_devname_count(dev))
		printf(", style=filled, fillcolor=lightblue");
	if (redirect)
		printf(", color=red, penwidth=2");
	printf("];\n  \"%s\" -> \"%s\";\n", parent, p2pmem_pci_dev_bdf(dev));
	for (c = p2pmem_pci_dev_first_child(dev); c; c = p2pmem_pci_dev_next_sibling(c))
		dot_node(c, p2pmem_pci_dev_bdf(dev));
}

static int dot_topo(struct p2pmem_ctx *ctx)
{
	struct p2pmem_host_bridge *hb;

	printf("digraph pci {\n  rankdir=TB;\n  node [fontname=\"monospace\", fontsize=10];\n");
	for (hb = p2pmem_host_bridge_first(ctx); hb; hb = p2pmem_host_bridge_next(hb)) {
		const struct p2pmem_pci_dev *c;

		printf("  \"%s\" [shape=doubleoctagon];\n", p2pmem_host_bridge_name(hb));
		for (c = p2pmem_host_bridge_first_child(hb); c; c = p2pmem_pci_dev_next_sibling(c))
			dot_node(c, p2pmem_host_bridge_name(hb));
	}
	printf("}\n");
	return EXIT_OK;
}

const struct output_ops output_dot = {
	.name = "dot",
	.topo = dot_topo,
};
