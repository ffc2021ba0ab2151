// SPDX-License-Identifier: MIT
/*
 * The scanned topology of the `switch` and `broken` fixtures through the
 * public API: tree links, port types, ACS, host bridges, device names,
 * providers, client resolution, and context options.
 */
#include <errno.h>
#include <string.h>

#include "unit.h"

static struct p2pmem_pci_dev *dev(struct p2pmem_ctx *ctx, const char *bdf)
{
	struct p2pmem_pci_dev *d = NULL;

	CHECK_EQ_INT(p2pmem_pci_dev_find(ctx, bdf, &d), 0);
	if (!d) {
		fprintf(stderr, "no %s\n", bdf);
		exit(1);
	}
	return d;
}

static void check_switch(void)
{
	struct p2pmem_ctx *ctx = unit_ctx("switch", NULL);
	struct p2pmem_pci_dev *nvme0 = dev(ctx, "0000:03:00.0"), *d;
	struct p2pmem_host_bridge *hb;
	struct p2pmem_provider *p;
	size_t n;

	CHECK_EQ_INT(p2pmem_pci_dev_count(ctx), 10);
	/* Walk up: nvme0 -> dsp -> usp -> root port -> (host bridge). */
	d = p2pmem_pci_dev_parent(nvme0);
	CHECK_EQ_STR(p2pmem_pci_dev_bdf(d), "0000:02:00.0");
	CHECK_EQ_INT(p2pmem_pci_dev_port_type(d), P2PMEM_PORT_DOWNSTREAM);
	d = p2pmem_pci_dev_parent(d);
	CHECK_EQ_INT(p2pmem_pci_dev_port_type(d), P2PMEM_PORT_UPSTREAM);
	d = p2pmem_pci_dev_parent(d);
	CHECK_EQ_STR(p2pmem_pci_dev_bdf(d), "0000:00:01.0");
	CHECK_EQ_INT(p2pmem_pci_dev_port_type(d), P2PMEM_PORT_ROOT_PORT);
	CHECK(p2pmem_pci_dev_parent(d) == NULL);
	CHECK(p2pmem_pci_dev_is_bridge(d));
	CHECK(!p2pmem_pci_dev_is_bridge(nvme0));

	hb = p2pmem_host_bridge_first(ctx);
	CHECK_EQ_STR(p2pmem_host_bridge_name(hb), "pci0000:00");
	CHECK(p2pmem_host_bridge_next(hb) == NULL);
	CHECK(p2pmem_pci_dev_host_bridge(nvme0) == hb);
	CHECK_EQ_STR(p2pmem_pci_dev_bdf(p2pmem_host_bridge_dev(hb)), "0000:00:00.0");
	/* Children in address order. */
	d = p2pmem_host_bridge_first_child(hb);
	CHECK_EQ_STR(p2pmem_pci_dev_bdf(d), "0000:00:00.0");
	d = p2pmem_pci_dev_next_sibling(d);
	CHECK_EQ_STR(p2pmem_pci_dev_bdf(d), "0000:00:01.0");

	CHECK_EQ_INT(p2pmem_pci_dev_vendor(nvme0), 0x1b36);
	CHECK_EQ_INT(p2pmem_pci_dev_class(nvme0), 0x010802);
	CHECK_EQ_STR(p2pmem_pci_dev_driver(nvme0), "nvme");
	CHECK_EQ_STR(p2pmem_pci_dev_class_name(nvme0), "NVMe controller");
	CHECK_EQ_INT(p2pmem_pci_dev_devname_count(nvme0), 2);
	CHECK_EQ_STR(p2pmem_pci_dev_devname(nvme0, 0), "nvme0");
	CHECK_EQ_STR(p2pmem_pci_dev_devname(nvme0, 1), "nvme0n1");
	CHECK_EQ_STR(p2pmem_pci_dev_devname(dev(ctx, "0000:00:1f.2"), 0), "sda");

	/* Providers, in address order, with their kind. */
	CHECK_EQ_INT(p2pmem_provider_count(ctx), 3);
	p = p2pmem_provider_first(ctx);
	CHECK(p2pmem_provider_pci_dev(p) == nvme0);
	CHECK(p2pmem_pci_dev_provider(nvme0) == p);
	CHECK_EQ_STR(p2pmem_provider_kind(p), "nvme-cmb");
	CHECK_EQ_STR(p2pmem_provider_backend(p), "upstream");
	CHECK_EQ_INT(p2pmem_provider_size(p), 64 << 20);
	CHECK_EQ_INT(p2pmem_provider_available(p), 60 << 20);
	CHECK(p2pmem_provider_published(p));
	p = p2pmem_provider_next(p2pmem_provider_next(p));
	CHECK_EQ_STR(p2pmem_provider_kind(p), "memory");
	CHECK(p2pmem_provider_next(p) == NULL);

	/* Clients by every name. */
	{
		static const char *const names[] = {
			"0000:03:00.0", "03:00.0", "/dev/nvme0n1", "nvme0n1",
			"/dev/nvme0", "nvme0", "nvme0n1p1", "/dev/nvme0n1p1",
		};
		for (n = 0; n < sizeof(names) / sizeof(names[0]); n++) {
			d = NULL;
			CHECK_EQ_INT(p2pmem_resolve_client(ctx, names[n], &d), 0);
			CHECK(d == nvme0);
		}
	}
	CHECK_EQ_INT(p2pmem_resolve_client(ctx, "nvme9n1", &d), -ENODEV);
	CHECK(strstr(p2pmem_ctx_last_error(ctx), "nvme9n1") != NULL);
	CHECK_EQ_INT(p2pmem_resolve_client(ctx, "", &d), -EINVAL);
	CHECK_EQ_INT(p2pmem_pci_dev_find(ctx, "0000:03:00.9", &d), -EINVAL);
	CHECK_EQ_INT(p2pmem_pci_dev_find(ctx, "0000:09:00.0", &d), -ENODEV);

	/* Rescanning gives the same picture. */
	CHECK_EQ_INT(p2pmem_ctx_scan(ctx), 0);
	CHECK_EQ_INT(p2pmem_pci_dev_count(ctx), 10);
	CHECK_EQ_INT(p2pmem_provider_count(ctx), 3);
	p2pmem_ctx_free(ctx);
}

static void check_broken(void)
{
	struct p2pmem_ctx *ctx = unit_ctx("broken", NULL);
	struct p2pmem_pci_dev *d;

	CHECK_EQ_INT(p2pmem_pci_dev_cfg_state(dev(ctx, "0000:02:00.0")), P2PMEM_CFG_MALFORMED);
	CHECK_EQ_INT(p2pmem_pci_dev_cfg_state(dev(ctx, "0000:02:01.0")), P2PMEM_CFG_MALFORMED);
	CHECK_EQ_INT(p2pmem_pci_dev_cfg_state(dev(ctx, "0000:02:02.0")), P2PMEM_CFG_HEADER);
	CHECK_EQ_INT(p2pmem_pci_dev_cfg_state(dev(ctx, "0000:02:04.0")), P2PMEM_CFG_UNREADABLE);
	CHECK_EQ_INT(p2pmem_pci_dev_cfg_state(dev(ctx, "0000:02:05.0")), P2PMEM_CFG_MALFORMED);
	CHECK_EQ_INT(p2pmem_pci_dev_cfg_state(dev(ctx, "0000:02:06.0")), P2PMEM_CFG_UNREADABLE);
	/* Unprivileged bridge: still known as a bridge (from the header). */
	CHECK(p2pmem_pci_dev_is_bridge(dev(ctx, "0000:02:02.0")));
	/* No attributes: IDs come from config space. */
	CHECK_EQ_INT(p2pmem_pci_dev_vendor(dev(ctx, "0000:07:00.0")), 0x1b36);
	/* Neither: zeros, and no crash. */
	CHECK_EQ_INT(p2pmem_pci_dev_vendor(dev(ctx, "0000:0b:00.0")), 0);
	/* A multipath namespace through one controller resolves. */
	CHECK_EQ_INT(p2pmem_resolve_client(ctx, "/dev/nvme2n1", &d), 0);
	CHECK_EQ_STR(p2pmem_pci_dev_bdf(d), "0000:03:00.0");
	CHECK_EQ_INT(p2pmem_resolve_client(ctx, "/dev/nvme3n1", &d), -ENOTSUP);
	CHECK_EQ_INT(p2pmem_resolve_client(ctx, "loop0", &d), -ENOTSUP);
	p2pmem_ctx_free(ctx);
}

static void check_ctx_errors(void)
{
	struct p2pmem_ctx_opts opts = { .size = 1 };
	struct p2pmem_ctx *ctx;

	CHECK_EQ_INT(p2pmem_ctx_new(&opts, &ctx), -EINVAL);
	CHECK(ctx == NULL);
	opts.size = sizeof(opts) + 8;
	CHECK_EQ_INT(p2pmem_ctx_new(&opts, &ctx), -EINVAL);

	opts.size = sizeof(opts);
	opts.sysfs_root = "/nonexistent/sys";
	CHECK_EQ_INT(p2pmem_ctx_new(&opts, &ctx), 0);
	CHECK_EQ_INT(p2pmem_ctx_scan(ctx), -ENOENT);
	CHECK(strstr(p2pmem_ctx_last_error(ctx), "/nonexistent/sys") != NULL);
	CHECK(p2pmem_pci_dev_first(ctx) == NULL);
	CHECK(p2pmem_provider_first(ctx) == NULL);
	p2pmem_ctx_free(ctx);

	/* Defaults and trailing slashes. */
	CHECK_EQ_INT(p2pmem_ctx_new(NULL, &ctx), 0);
	CHECK_EQ_STR(p2pmem_ctx_sysfs_root(ctx), "/sys");
	p2pmem_ctx_free(ctx);
	opts.sysfs_root = "/sys///";
	CHECK_EQ_INT(p2pmem_ctx_new(&opts, &ctx), 0);
	CHECK_EQ_STR(p2pmem_ctx_sysfs_root(ctx), "/sys");
	p2pmem_ctx_free(ctx);
}

/*
 * Functions are read from sysfs on first use: handles reached by name must
 * answer every walk as if the whole tree had been read first, and one
 * function's provider must be the one the full list has.
 */
static void check_lazy(void)
{
	struct p2pmem_ctx *ctx = unit_ctx("switch", NULL);
	struct p2pmem_pci_dev *dsp = dev(ctx, "0000:02:00.0");
	struct p2pmem_pci_dev *card = dev(ctx, "0000:05:00.0");
	struct p2pmem_provider *p = p2pmem_pci_dev_provider(card);
	struct p2pmem_host_bridge *hb;

	CHECK_EQ_STR(p2pmem_pci_dev_bdf(p2pmem_pci_dev_next_sibling(dsp)), "0000:02:01.0");
	CHECK_EQ_STR(p2pmem_pci_dev_bdf(p2pmem_pci_dev_next(dsp)), "0000:02:01.0");
	hb = p2pmem_pci_dev_host_bridge(dsp);
	CHECK_EQ_STR(p2pmem_host_bridge_name(hb), "pci0000:00");
	CHECK(p2pmem_host_bridge_next(hb) == NULL);
	CHECK(p != NULL);
	CHECK_EQ_STR(p2pmem_provider_kind(p), "memory");
	CHECK_EQ_INT(p2pmem_provider_count(ctx), 3);
	CHECK(p2pmem_pci_dev_provider(card) == p);
	CHECK(p2pmem_pci_dev_provider(dsp) == NULL);
	p2pmem_ctx_free(ctx);

	/* A device name first, then the walk. */
	ctx = unit_ctx("switch", NULL);
	CHECK_EQ_INT(p2pmem_pci_dev_devname_count(dev(ctx, "0000:03:00.0")), 2);
	CHECK_EQ_STR(p2pmem_pci_dev_devname(dev(ctx, "0000:03:00.0"), 1), "nvme0n1");
	CHECK_EQ_INT(p2pmem_pci_dev_count(ctx), 10);
	CHECK_EQ_STR(p2pmem_pci_dev_devname(dev(ctx, "0000:00:1f.2"), 0), "sda");
	p2pmem_ctx_free(ctx);
}

int main(void)
{
	check_switch();
	check_lazy();
	check_broken();
	check_ctx_errors();
	return unit_result("topology");
}
