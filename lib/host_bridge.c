// SPDX-License-Identifier: MIT
/*
 * May peer-to-peer traffic cross the root complex? Linux 6.12 allows it on
 * AMD Zen or later CPUs, and otherwise only for host bridges on a short
 * whitelist of Intel parts, some of which only when provider and client
 * sit below the same host bridge.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define PCI_VENDOR_INTEL 0x8086

static const struct host_bridge_whitelist_entry {
	uint16_t vendor;
	uint16_t device;
	bool same_host_bridge_only;
} host_bridge_whitelist[] = {
	/* Xeon E5 / Core i7 */
	{ PCI_VENDOR_INTEL, 0x3c00, true },
	{ PCI_VENDOR_INTEL, 0x3c01, true },
	/* Xeon E7 v3 / Xeon E5 v3 / Core i7 */
	{ PCI_VENDOR_INTEL, 0x2f00, true },
	{ PCI_VENDOR_INTEL, 0x2f01, true },
	/* Skylake-E */
	{ PCI_VENDOR_INTEL, 0x2030, false },
	{ PCI_VENDOR_INTEL, 0x2031, false },
	{ PCI_VENDOR_INTEL, 0x2032, false },
	{ PCI_VENDOR_INTEL, 0x2033, false },
	{ PCI_VENDOR_INTEL, 0x2020, false },
	{ PCI_VENDOR_INTEL, 0x09a2, false },
};

/*
 * The kernel identifies a host bridge by the first function on its root
 * bus, if that function is devfn 00.0 or a root port (Skylake has no 00.0
 * host bridge function). Without privileges we cannot read the port type
 * (it lives past the first 64 bytes of config space); a bridge-class
 * function on a root bus is then taken for a root port.
 */
struct p2pmem_pci_dev *p2pmem_host_bridge_dev(const struct p2pmem_host_bridge *hb)
{
	struct p2pmem_pci_dev *root = p2pmem_host_bridge_root_dev(hb);

	if (!root)
		return NULL;
	if (root->devfn == 0)
		return root;
	if (root->cfg.port_type == P2PMEM_PORT_ROOT_PORT)
		return root;
	if (root->cfg.port_type == P2PMEM_PORT_NONE &&
	    root->cfg.state != P2PMEM_CFG_FULL && p2pmem_pci_dev_is_bridge(root))
		return root;
	return NULL;
}

/* 1: whitelisted; 0: not listed; -1: listed, but for one host bridge only */
static int whitelisted(const struct p2pmem_host_bridge *hb, bool same,
		       char *why, size_t len)
{
	const struct p2pmem_pci_dev *root = p2pmem_host_bridge_dev(hb);
	size_t i;

	if (!root) {
		snprintf(why, len, "host bridge %s has no function at devfn 00.0 nor a root port first on its bus for the kernel to check",
			 hb->name);
		return 0;
	}
	for (i = 0; i < sizeof(host_bridge_whitelist) / sizeof(host_bridge_whitelist[0]); i++) {
		const struct host_bridge_whitelist_entry *e = &host_bridge_whitelist[i];

		if (e->vendor != root->vendor || e->device != root->device)
			continue;
		if (e->same_host_bridge_only && !same) {
			snprintf(why, len, "host bridge %s (%s, %04x:%04x) is whitelisted only for traffic within one host bridge",
				 hb->name, root->bdf, root->vendor, root->device);
			return -1;
		}
		snprintf(why, len, "host bridge %s (%s, %04x:%04x) is on the kernel's P2PDMA whitelist",
			 hb->name, root->bdf, root->vendor, root->device);
		return 1;
	}
	snprintf(why, len, "host bridge %s (%s, %04x:%04x) is not on the kernel's P2PDMA whitelist",
		 hb->name, root->bdf, root->vendor, root->device);
	return 0;
}

/**
 * p2pmem_host_bridge_decide() - would the kernel map through the host bridge
 * @ctx: context (CPU identity)
 * @provider: provider function
 * @client: client function
 * @d: the decision and its explanation
 */
void p2pmem_host_bridge_decide(const struct p2pmem_ctx *ctx,
			       const struct p2pmem_pci_dev *provider,
			       const struct p2pmem_pci_dev *client,
			       struct p2pmem_hb_decision *d)
{
	const struct p2pmem_host_bridge *ha = provider->host_bridge;
	const struct p2pmem_host_bridge *hb = client->host_bridge;
	char wa[160], wb[160];
	int a, b;

	if (ctx->cpu_supports_p2p) {
		d->allowed = true;
		snprintf(d->why, sizeof(d->why), "the CPU (%s) is AMD Zen or later, whose host bridges forward p2p traffic",
			 ctx->cpu_desc);
		return;
	}
	if (ha == hb) {
		a = whitelisted(ha, true, wa, sizeof(wa));
		d->allowed = a > 0;
		snprintf(d->why, sizeof(d->why), "%s%s", wa,
			 d->allowed ? "" : ", and the CPU is not AMD Zen or later");
		return;
	}
	a = whitelisted(ha, false, wa, sizeof(wa));
	b = whitelisted(hb, false, wb, sizeof(wb));
	d->allowed = a > 0 && b > 0;
	if (d->allowed)
		snprintf(d->why, sizeof(d->why), "%s; %s", wa, wb);
	else
		snprintf(d->why, sizeof(d->why), "the path crosses two host bridges and %s%s",
			 a > 0 ? wb : wa, ", and the CPU is not AMD Zen or later");
}
