// SPDX-License-Identifier: GPL-2.0
/*
 * The distance rule: can a set of clients reach a provider's memory peer to
 * peer, and how far is it?
 *
 * This is calc_map_type_and_dist() and friends of Linux 6.12
 * drivers/pci/p2pdma.c, ported so that stock kernels (no CONFIG_PCI_P2PDMA)
 * answer exactly as P2PDMA kernels do.  The project's userspace library
 * implements the same rule from sysfs; one table of fabrics checks both,
 * and the rig compares them with upstream on a P2PDMA kernel.
 *
 *     -+  Root Port
 *      \+ Switch Upstream Port
 *       +-+ Switch Downstream Port 0
 *       + \- Device A
 *       \-+ Switch Downstream Port 1
 *         \- Device B
 *
 * A and B: walk both up to their closest common upstream bridge (here the
 * switch upstream port) and count the hops: A -> DP0 -> USP <- DP1 <- B is
 * 4.  The same function is 0, two functions of one device 2.  If a bridge
 * on the way redirects peer-to-peer requests upstream (ACS P2P Request
 * Redirect, Completion Redirect or Egress Control: counted on the
 * provider's side up to and including the common bridge, on the client's
 * side below it), or there is no common bridge at all, the traffic goes
 * through the host bridge: allowed on AMD Zen and later, and on the
 * whitelisted Intel host bridges below; otherwise not supported.
 *
 * This file holds the rule alone (it also builds in userspace, where the
 * project's unit tests check it against the library's fixture tables);
 * dma_fence.c applies the DMA fences on top of it.
 */
#define pr_fmt(fmt) "p2pmem: " fmt

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>

#include "distance.h"

static bool p2pmem_bridge_has_acs_redir(struct pci_dev *pdev)
{
	u16 ctrl;

	if (!pdev->acs_cap)
		return false;
	pci_read_config_word(pdev, pdev->acs_cap + PCI_ACS_CTRL, &ctrl);
	return ctrl & (PCI_ACS_RR | PCI_ACS_CR | PCI_ACS_EC);
}

static bool p2pmem_cpu_supports_p2pdma(void)
{
#ifdef CONFIG_X86
	/* Any AMD CPU whose family ID is Zen or newer supports p2pdma. */
	if (boot_cpu_data.x86_vendor == X86_VENDOR_AMD &&
	    boot_cpu_data.x86 >= 0x17)
		return true;
#endif
	return false;
}

#define P2PMEM_REQ_SAME_HOST_BRIDGE BIT(0)

static const struct {
	unsigned short vendor;
	unsigned short device;
	unsigned int flags;
} p2pmem_whitelist[] = {
	/* Intel Xeon E5/Core i7 */
	{ PCI_VENDOR_ID_INTEL, 0x3c00, P2PMEM_REQ_SAME_HOST_BRIDGE },
	{ PCI_VENDOR_ID_INTEL, 0x3c01, P2PMEM_REQ_SAME_HOST_BRIDGE },
	/* Intel Xeon E7 v3/Xeon E5 v3/Core i7 */
	{ PCI_VENDOR_ID_INTEL, 0x2f00, P2PMEM_REQ_SAME_HOST_BRIDGE },
	{ PCI_VENDOR_ID_INTEL, 0x2f01, P2PMEM_REQ_SAME_HOST_BRIDGE },
	/* Intel Skylake-E */
	{ PCI_VENDOR_ID_INTEL, 0x2030, 0 },
	{ PCI_VENDOR_ID_INTEL, 0x2031, 0 },
	{ PCI_VENDOR_ID_INTEL, 0x2032, 0 },
	{ PCI_VENDOR_ID_INTEL, 0x2033, 0 },
	{ PCI_VENDOR_ID_INTEL, 0x2020, 0 },
	{ PCI_VENDOR_ID_INTEL, 0x09a2, 0 },
	{}
};

/*
 * The first device on the host's root bus if it is devfn 00.0 or a root
 * port (the whitelist names such devices); like upstream, no pci_bus_sem:
 * the caller holds a reference to a device below the host bridge.
 */
static struct pci_dev *p2pmem_host_bridge_dev(struct pci_host_bridge *host)
{
	struct pci_dev *root;

	root = list_first_entry_or_null(&host->bus->devices, struct pci_dev,
					bus_list);
	if (!root)
		return NULL;
	if (root->devfn == PCI_DEVFN(0, 0) ||
	    pci_pcie_type(root) == PCI_EXP_TYPE_ROOT_PORT)
		return root;
	return NULL;
}

static bool __p2pmem_host_bridge_whitelist(struct pci_host_bridge *host,
					   bool same_host_bridge, bool warn)
{
	struct pci_dev *root = p2pmem_host_bridge_dev(host);
	int i;

	if (!root)
		return false;
	for (i = 0; p2pmem_whitelist[i].vendor; i++) {
		if (root->vendor != p2pmem_whitelist[i].vendor ||
		    root->device != p2pmem_whitelist[i].device)
			continue;
		if ((p2pmem_whitelist[i].flags &
		     P2PMEM_REQ_SAME_HOST_BRIDGE) && !same_host_bridge)
			return false;
		return true;
	}
	if (warn)
		pci_warn(root, "p2pmem: host bridge not in the P2PDMA whitelist: %04x:%04x\n",
			 root->vendor, root->device);
	return false;
}

static bool p2pmem_host_bridge_whitelist(struct pci_dev *a, struct pci_dev *b,
					 bool warn)
{
	struct pci_host_bridge *host_a = pci_find_host_bridge(a->bus);
	struct pci_host_bridge *host_b = pci_find_host_bridge(b->bus);

	if (host_a == host_b)
		return __p2pmem_host_bridge_whitelist(host_a, true, warn);
	return __p2pmem_host_bridge_whitelist(host_a, false, warn) &&
	       __p2pmem_host_bridge_whitelist(host_b, false, warn);
}

/**
 * p2pmem_through_host_bridge_ok - may traffic between these cross the root complex?
 * @provider: provider function
 * @client: client function
 * @warn: log a host bridge that is not on the whitelist
 *
 * Context: any context.
 * Return: true on an AMD Zen (or later) CPU or a whitelisted host bridge.
 */
bool p2pmem_through_host_bridge_ok(struct pci_dev *provider,
				   struct pci_dev *client, bool warn)
{
	return p2pmem_cpu_supports_p2pdma() ||
	       p2pmem_host_bridge_whitelist(provider, client, warn);
}

static void p2pmem_acs_add(char *buf, size_t len, struct pci_dev *pdev)
{
	size_t used = strlen(buf);

	scnprintf(buf + used, len - used, "%s%s", used ? ";" : "",
		  pci_name(pdev));
}

/**
 * p2pmem_pci_distance - the P2PDMA distance between two PCI functions
 * @provider: the function whose memory is used
 * @client: the function that DMAs to or from it
 * @map: out: the path the traffic takes (P2PMEM_MAP_*)
 * @verbose: log why a path needs or fails the host bridge, and the fix
 *
 * The rule of calc_map_type_and_dist() in Linux 6.12 drivers/pci/p2pdma.c,
 * for kernels without CONFIG_PCI_P2PDMA as well (see the top of this file).
 *
 * Context: process context (reads config space).
 * Return: the distance (hops via the closest common upstream bridge), or
 * -1 when peer-to-peer DMA between them is not supported (*@map is then
 * %P2PMEM_MAP_NOT_SUPPORTED).
 */
int p2pmem_pci_distance(struct pci_dev *provider, struct pci_dev *client,
			enum p2pmem_map_type *map, bool verbose)
{
	struct pci_dev *a = provider, *b = client, *bb;
	bool acs_redirects = false;
	int dist_a = 0, dist_b = 0, acs_cnt = 0;
	char acs_list[128] = "";

	/*
	 * No references are taken on the bridges: the callers hold ones on
	 * the provider and the client, which hold their upstream bridges.
	 */
	while (a) {
		dist_b = 0;
		if (p2pmem_bridge_has_acs_redir(a)) {
			p2pmem_acs_add(acs_list, sizeof(acs_list), a);
			acs_cnt++;
		}
		for (bb = b; bb; bb = pci_upstream_bridge(bb), dist_b++)
			if (a == bb)
				goto check_b_path_acs;
		a = pci_upstream_bridge(a);
		dist_a++;
	}
	/* No common upstream bridge: through the host bridge. */
	goto map_through_host_bridge;

check_b_path_acs:
	for (bb = b; bb && bb != a; bb = pci_upstream_bridge(bb)) {
		if (p2pmem_bridge_has_acs_redir(bb)) {
			p2pmem_acs_add(acs_list, sizeof(acs_list), bb);
			acs_cnt++;
		}
	}
	if (!acs_cnt) {
		*map = P2PMEM_MAP_BUS_ADDR;
		return dist_a + dist_b;
	}
	if (verbose) {
		pci_warn(client, "p2pmem: ACS redirect is set between the client and provider (%s)\n",
			 pci_name(provider));
		pci_warn(client, "p2pmem: to disable ACS redirect for this path, add the kernel parameter: pci=disable_acs_redir=%s\n",
			 acs_list);
	}
	acs_redirects = true;

map_through_host_bridge:
	if (!p2pmem_through_host_bridge_ok(provider, client, acs_redirects)) {
		if (verbose)
			pci_warn(client, "p2pmem: cannot do p2p DMA with provider %s: no common upstream bridge or whitelisted host bridge\n",
				 pci_name(provider));
		*map = P2PMEM_MAP_NOT_SUPPORTED;
		return -1;
	}
	*map = P2PMEM_MAP_HOST_BRIDGE;
	return dist_a + dist_b;
}
EXPORT_SYMBOL_GPL(p2pmem_pci_distance);
