// SPDX-License-Identifier: MIT
/*
 * JSON output (json-c). The schema is documented in p2pmem(1); fields are
 * only ever added, never renamed or removed.
 */
#include <stdio.h>

#include <json-c/json.h>

#include "cli.h"
#include "output.h"

static json_object *jstr_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

int cli_json_emit(json_object *root)
{
	int ret = EXIT_OK;

	if (!root) {
		cli_error("out of memory building JSON");
		return EXIT_BAD_INPUT;
	}
	if (puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
						 JSON_C_TO_STRING_NOSLASHESCAPE)) < 0)
		ret = EXIT_BAD_INPUT;
	json_object_put(root);
	return ret;
}

static json_object *json_devnames(const struct p2pmem_pci_dev *dev)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < p2pmem_pci_dev_devname_count(dev); i++)
		json_object_array_add(a, json_object_new_string(p2pmem_pci_dev_devname(dev, i)));
	return a;
}

static json_object *json_provider(const struct p2pmem_provider *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "bdf", json_object_new_string(
		p2pmem_pci_dev_bdf(p2pmem_provider_pci_dev(p))));
	json_object_object_add(o, "name", json_object_new_string(p2pmem_provider_name(p)));
	json_object_object_add(o, "kind", json_object_new_string(p2pmem_provider_kind(p)));
	json_object_object_add(o, "backend", json_object_new_string(p2pmem_provider_backend(p)));
	json_object_object_add(o, "served_by", json_object_new_string(cli_served_by(p)));
	json_object_object_add(o, "size", json_object_new_uint64(p2pmem_provider_size(p)));
	json_object_object_add(o, "available", json_object_new_uint64(p2pmem_provider_available(p)));
	json_object_object_add(o, "published", json_object_new_boolean(p2pmem_provider_published(p)));
	return o;
}

static int json_list(struct p2pmem_ctx *ctx)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	struct p2pmem_provider *p;

	for (p = p2pmem_provider_first(ctx); p; p = p2pmem_provider_next(p)) {
		json_object *o = json_provider(p);
		const struct p2pmem_pci_dev *dev = p2pmem_provider_pci_dev(p);

		json_object_object_add(o, "driver", jstr_or_null(p2pmem_pci_dev_driver(dev)));
		json_object_object_add(o, "devices", json_devnames(dev));
		json_object_array_add(arr, o);
	}
	json_object_object_add(root, "providers", arr);
	return cli_json_emit(root);
}

static const char *cfg_state_name(enum p2pmem_cfg_state s)
{
	switch (s) {
	case P2PMEM_CFG_FULL: return "full";
	case P2PMEM_CFG_HEADER: return "header-only";
	case P2PMEM_CFG_UNREADABLE: return "unreadable";
	case P2PMEM_CFG_MALFORMED: break;
	}
	return "malformed";
}

/* {"group": N, "type": "DMA-FQ"}, or null without an IOMMU. */
static json_object *json_iommu(const struct p2pmem_pci_dev *dev)
{
	json_object *io;

	if (p2pmem_pci_dev_iommu_group(dev) < 0)
		return NULL;
	io = json_object_new_object();
	json_object_object_add(io, "group", json_object_new_int(p2pmem_pci_dev_iommu_group(dev)));
	json_object_object_add(io, "type", jstr_or_null(p2pmem_pci_dev_iommu_type(dev)));
	return io;
}

static json_object *json_dev(const struct p2pmem_pci_dev *dev)
{
	json_object *o = json_object_new_object(), *children = json_object_new_array();
	const struct p2pmem_provider *p = p2pmem_pci_dev_provider(dev);
	const struct p2pmem_pci_dev *c;
	char hex[16], name[256];

	json_object_object_add(o, "bdf", json_object_new_string(p2pmem_pci_dev_bdf(dev)));
	snprintf(hex, sizeof(hex), "%04x", p2pmem_pci_dev_vendor(dev));
	json_object_object_add(o, "vendor", json_object_new_string(hex));
	snprintf(hex, sizeof(hex), "%04x", p2pmem_pci_dev_device(dev));
	json_object_object_add(o, "device", json_object_new_string(hex));
	snprintf(hex, sizeof(hex), "%06x", p2pmem_pci_dev_class(dev));
	json_object_object_add(o, "class", json_object_new_string(hex));
	json_object_object_add(o, "class_name", json_object_new_string(p2pmem_pci_dev_class_name(dev)));
	json_object_object_add(o, "name", jstr_or_null(cli_pci_name(dev, name, sizeof(name))));
	json_object_object_add(o, "driver", jstr_or_null(p2pmem_pci_dev_driver(dev)));
	json_object_object_add(o, "port_type", json_object_new_string(
		p2pmem_port_type_name(p2pmem_pci_dev_port_type(dev))));
	json_object_object_add(o, "config", json_object_new_string(
		cfg_state_name(p2pmem_pci_dev_cfg_state(dev))));
	if (p2pmem_pci_dev_has_acs(dev)) {
		json_object *acs = json_object_new_object();
		uint16_t ctrl = p2pmem_pci_dev_acs_ctrl(dev);

		json_object_object_add(acs, "cap", json_object_new_int(p2pmem_pci_dev_acs_cap(dev)));
		json_object_object_add(acs, "ctrl", json_object_new_int(ctrl));
		json_object_object_add(acs, "redirect",
				       json_object_new_boolean(ctrl & P2PMEM_ACS_REDIRECT_MASK));
		json_object_object_add(o, "acs", acs);
	} else {
		json_object_object_add(o, "acs", NULL);
	}
	json_object_object_add(o, "iommu", json_iommu(dev));
	json_object_object_add(o, "provider", p ? json_provider(p) : NULL);
	json_object_object_add(o, "devices", json_devnames(dev));
	for (c = p2pmem_pci_dev_first_child(dev); c; c = p2pmem_pci_dev_next_sibling(c))
		json_object_array_add(children, json_dev(c));
	json_object_object_add(o, "children", children);
	return o;
}

static int json_topo(struct p2pmem_ctx *ctx)
{
	json_object *root = json_object_new_object(), *hbs = json_object_new_array();
	struct p2pmem_host_bridge *hb;

	json_object_object_add(root, "cpu", json_object_new_string(p2pmem_ctx_cpu_desc(ctx)));
	json_object_object_add(root, "cpu_p2p_across_host_bridges",
			       json_object_new_boolean(p2pmem_ctx_cpu_supports_p2p(ctx)));
	for (hb = p2pmem_host_bridge_first(ctx); hb; hb = p2pmem_host_bridge_next(hb)) {
		json_object *o = json_object_new_object(), *children = json_object_new_array();
		const struct p2pmem_pci_dev *root_dev = p2pmem_host_bridge_dev(hb), *c;

		json_object_object_add(o, "name", json_object_new_string(p2pmem_host_bridge_name(hb)));
		json_object_object_add(o, "id_function",
				       root_dev ? json_object_new_string(p2pmem_pci_dev_bdf(root_dev)) : NULL);
		for (c = p2pmem_host_bridge_first_child(hb); c; c = p2pmem_pci_dev_next_sibling(c))
			json_object_array_add(children, json_dev(c));
		json_object_object_add(o, "children", children);
		json_object_array_add(hbs, o);
	}
	json_object_object_add(root, "host_bridges", hbs);
	return cli_json_emit(root);
}

static json_object *json_distance(const struct p2pmem_verdict *v)
{
	return p2pmem_verdict_distance(v) < 0 ? NULL :
	       json_object_new_int(p2pmem_verdict_distance(v));
}

static json_object *json_path(const struct p2pmem_verdict *v, size_t i)
{
	json_object *a = json_object_new_array();
	size_t hop;

	for (hop = 0; hop < p2pmem_verdict_path_len(v, i); hop++)
		json_object_array_add(a, json_object_new_string(p2pmem_verdict_path_hop(v, i, hop)));
	return a;
}

static int json_check(const struct check_result *r)
{
	json_object *root = json_object_new_object(), *clients = json_object_new_array();
	json_object *paths = json_object_new_array(), *per_client = json_object_new_array();
	const struct p2pmem_verdict *v = r->verdict;
	size_t i;

	for (i = 0; i < r->nclients; i++)
		json_object_array_add(clients, json_object_new_string(p2pmem_pci_dev_bdf(r->clients[i])));
	json_object_object_add(root, "provider", v ? json_object_new_string(
		p2pmem_pci_dev_bdf(p2pmem_verdict_provider(v))) : NULL);
	json_object_object_add(root, "backend", v && p2pmem_pci_dev_provider(p2pmem_verdict_provider(v)) ?
		json_object_new_string(p2pmem_provider_backend(
			p2pmem_pci_dev_provider(p2pmem_verdict_provider(v)))) : NULL);
	json_object_object_add(root, "served_by", v && p2pmem_pci_dev_provider(p2pmem_verdict_provider(v)) ?
		json_object_new_string(cli_served_by(
			p2pmem_pci_dev_provider(p2pmem_verdict_provider(v)))) : NULL);
	json_object_object_add(root, "clients", clients);
	json_object_object_add(root, "usable", json_object_new_boolean(r->usable));
	json_object_object_add(root, "distance", v ? json_distance(v) : NULL);
	json_object_object_add(root, "map_type", json_object_new_string(
		p2pmem_map_type_name(v ? p2pmem_verdict_map_type(v) : P2PMEM_MAP_NOT_SUPPORTED)));
	for (i = 0; v && i < r->nclients; i++) {
		json_object *c = json_object_new_object();
		const char *acs = p2pmem_verdict_acs_redirect(v, i);

		json_object_array_add(paths, json_path(v, i));
		json_object_object_add(c, "client", json_object_new_string(p2pmem_pci_dev_bdf(r->clients[i])));
		json_object_object_add(c, "name", json_object_new_string(r->names[i]));
		json_object_object_add(c, "distance",
				       p2pmem_verdict_client_map_type(v, i) == P2PMEM_MAP_NOT_SUPPORTED ?
				       NULL : json_object_new_int(p2pmem_verdict_client_distance(v, i)));
		json_object_object_add(c, "map_type", json_object_new_string(
			p2pmem_map_type_name(p2pmem_verdict_client_map_type(v, i))));
		json_object_object_add(c, "path", json_path(v, i));
		json_object_object_add(c, "acs_redirect", acs[0] ? json_object_new_string(acs) : NULL);
		json_object_object_add(c, "iommu", json_iommu(r->clients[i]));
		json_object_array_add(per_client, c);
	}
	json_object_object_add(root, "path", paths);
	json_object_object_add(root, "reason", json_object_new_string(v ? p2pmem_verdict_reason(v) : r->note));
	json_object_object_add(root, "note", jstr_or_null(r->note));
	json_object_object_add(root, "warning", v && p2pmem_verdict_warning(v)[0] ?
			       json_object_new_string(p2pmem_verdict_warning(v)) : NULL);
	json_object_object_add(root, "per_client", per_client);
	if (r->ranking) {
		json_object *rank = json_object_new_array();

		for (i = 0; i < r->nranking; i++) {
			const struct p2pmem_verdict *rv = r->ranking[i];
			const struct p2pmem_provider *p =
				p2pmem_pci_dev_provider(p2pmem_verdict_provider(rv));
			json_object *o = json_provider(p);

			json_object_object_add(o, "distance", json_distance(rv));
			json_object_object_add(o, "map_type", json_object_new_string(
				p2pmem_map_type_name(p2pmem_verdict_map_type(rv))));
			json_object_object_add(o, "reason", json_object_new_string(p2pmem_verdict_reason(rv)));
			json_object_array_add(rank, o);
		}
		json_object_object_add(root, "ranking", rank);
	}
	return cli_json_emit(root);
}

const struct output_ops output_json = {
	.name = "json",
	.list = json_list,
	.topo = json_topo,
	.check = json_check,
};
