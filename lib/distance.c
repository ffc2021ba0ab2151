// SPDX-License-Identifier: MIT
/*
 * Distance and map type between a provider and its clients: the rule of
 * Linux 6.12 drivers/pci/p2pdma.c (calc_map_type_and_dist), restated in
 * userspace over the sysfs tree, with an explanation a person can act on.
 *
 *     -+ Root Port                    same function:          0, bus-addr
 *      \+ Switch Upstream Port        two functions, 1 dev:   2, bus-addr
 *       +-+ Switch Downstream Port 0  A and B below a switch: 4, bus-addr
 *       | \- Device A                 ACS redirect on a port
 *       \-+ Switch Downstream Port 1  of the path:            via host bridge
 *         \- Device B                 no common bridge:       via host bridge
 *
 * Walk up from the provider; for each of its ancestors (itself first) walk
 * up from the client until both meet. Distance = steps taken on both sides.
 * ACS redirect is counted on the provider's side up to and including the
 * meeting point and on the client's side below it. Traffic that must cross
 * the root complex is allowed only on AMD Zen or whitelisted host bridges
 * (host_bridge.c). A p2pmem.ko provider adds the module's DMA fences for
 * clients behind a translating IOMMU (kmod_fence()): the verdict is always
 * what the provider's own backend will do.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_HOPS 256	/* deeper than any real PCI hierarchy */

struct client_verdict {
	struct p2pmem_pci_dev *client;
	int distance;
	enum p2pmem_map_type map;
	const char *path[MAX_HOPS];
	size_t npath;
	char acs[256];		/* "bdf;bdf", the kernel's parameter syntax */
	char reason[1024];
};

struct p2pmem_verdict {
	struct p2pmem_pci_dev *provider;
	size_t nclients;
	struct client_verdict *cv;
	int distance;
	enum p2pmem_map_type map;
	char *reason;
	char warning[512];
};

const char *p2pmem_map_type_name(enum p2pmem_map_type type)
{
	switch (type) {
	case P2PMEM_MAP_BUS_ADDR: return "bus-addr";
	case P2PMEM_MAP_THRU_HOST_BRIDGE: return "host-bridge";
	case P2PMEM_MAP_NOT_SUPPORTED: break;
	}
	return "not-supported";
}

static void appendf(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void appendf(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	va_list ap;

	if (used + 1 >= len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

static const char *dev_role(const struct p2pmem_pci_dev *dev)
{
	if (dev->cfg.port_type != P2PMEM_PORT_NONE)
		return p2pmem_port_type_name(dev->cfg.port_type);
	return p2pmem_pci_dev_is_bridge(dev) ? "bridge" : "function";
}

/*
 * The kernel's pci_bridge_has_acs_redir(): any function with an ACS
 * capability whose control register redirects or blocks p2p.
 * Returns 1 redirect, 0 none, -EIO when config space cannot be trusted.
 */
static int acs_redirects(struct p2pmem_verdict *v, struct p2pmem_pci_dev *dev)
{
	struct p2pmem_ctx *ctx = dev->ctx;

	p2pmem_pci_dev_load_ext(dev);
	switch (dev->cfg.state) {
	case P2PMEM_CFG_FULL:
		break;
	case P2PMEM_CFG_HEADER:
		if (!strstr(v->warning, dev->bdf))
			appendf(v->warning, sizeof(v->warning),
				"%sACS state of %s unknown (only root can read past the first 64 bytes of config space); assumed off: run as root for a definitive answer",
				v->warning[0] ? "; " : "", dev->bdf);
		return 0;
	case P2PMEM_CFG_UNREADABLE:
	case P2PMEM_CFG_MALFORMED:
		p2pmem_set_error(ctx, "config space of %s (%s) cannot be used: %s; cannot tell whether it redirects p2p traffic",
				 dev->bdf, dev->syspath, dev->cfg.why);
		return -EIO;
	}
	return dev->cfg.has_acs && (dev->cfg.acs_ctrl & P2PMEM_ACS_REDIRECT_MASK);
}

static void acs_describe(char *buf, size_t len, const struct p2pmem_pci_dev *dev)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} bits[] = {
		{ P2PMEM_ACS_RR, "P2P Request Redirect" },
		{ P2PMEM_ACS_CR, "P2P Completion Redirect" },
		{ P2PMEM_ACS_EC, "P2P Egress Control" },
	};
	const char *sep = ": ";
	size_t i;

	appendf(buf, len, "%s (%s", dev->bdf, dev_role(dev));
	for (i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
		if (dev->cfg.acs_ctrl & bits[i].bit) {
			appendf(buf, len, "%s%s", sep, bits[i].name);
			sep = ", ";
		}
	}
	appendf(buf, len, ")");
}

static int path_push(struct client_verdict *cv, const char *hop)
{
	if (cv->npath >= MAX_HOPS)
		return -E2BIG;
	cv->path[cv->npath++] = hop;
	return 0;
}

/* Client-side hops from just below @stop down to the client, in order. */
static int path_push_down(struct client_verdict *cv, struct p2pmem_pci_dev *b,
			  const struct p2pmem_pci_dev *stop)
{
	const char *chain[MAX_HOPS];
	size_t n = 0;
	int ret = 0;

	for (; b && b != stop; b = b->parent) {
		if (n >= MAX_HOPS)
			return -E2BIG;
		chain[n++] = b->bdf;
	}
	while (n && !ret)
		ret = path_push(cv, chain[--n]);
	return ret;
}

static void explain_host_bridge(struct p2pmem_verdict *v, struct client_verdict *cv,
				const struct p2pmem_hb_decision *d)
{
	struct p2pmem_pci_dev *p = v->provider, *c = cv->client;

	if (d->allowed) {
		cv->map = P2PMEM_MAP_THRU_HOST_BRIDGE;
		appendf(cv->reason, sizeof(cv->reason),
			" The host bridge forwards it: %s.", d->why);
		return;
	}
	cv->map = P2PMEM_MAP_NOT_SUPPORTED;
	appendf(cv->reason, sizeof(cv->reason),
		" The kernel refuses: %s and %s do not share an upstream bridge or whitelisted host bridge (%s). Fix: choose a provider below the same PCIe switch as the client, or place both devices below one switch.",
		p->bdf, c->bdf, d->why);
}

/* Are this function's DMA addresses translated (IOVAs)? */
static bool iommu_translates(const struct p2pmem_pci_dev *dev)
{
	const char *type = p2pmem_pci_dev_iommu_type(dev);

	/* An unreadable type is taken as translated: the cautious answer. */
	return dev->iommu_group >= 0 && (!type || strcmp(type, "identity") != 0);
}

/*
 * What an IOMMU means for the path, said once per function. Upstream's
 * answer does not depend on it: bus addresses below a common bridge never
 * reach the IOMMU, and through the host bridge it maps the BAR like any
 * DMA. But an IOMMU driver makes Linux turn ACS redirect on at every port
 * with an ACS capability, which is why most paths on such servers cross
 * the root complex.
 */
static void note_iommu(struct p2pmem_verdict *v, const struct p2pmem_pci_dev *dev)
{
	const char *type = p2pmem_pci_dev_iommu_type(dev);
	char tag[48];

	if (dev->iommu_group < 0)
		return;
	snprintf(tag, sizeof(tag), "IOMMU group %d", dev->iommu_group);
	if (strstr(v->warning, dev->bdf) && strstr(v->warning, tag))
		return;
	appendf(v->warning, sizeof(v->warning),
		"%s%s is in %s (%s): %s", v->warning[0] ? "; " : "", dev->bdf, tag,
		type ? type : "type unknown",
		iommu_translates(dev) ?
		"its DMA addresses are IOVAs, translated at the root complex" :
		"its DMA addresses are not translated");
}

/*
 * p2pmem.ko's pages are not P2PDMA pages: the client's own driver maps them
 * with the DMA API as if they were RAM. Behind a translating IOMMU the
 * client then sends IOVAs, which only the root complex turns into the BAR,
 * so the module (kmod/dma_fence.c) counts the path as through the host
 * bridge even where bus addresses would do, refuses untrusted (external)
 * clients, and refuses the provider's own function: its IOVA would have to
 * loop through the root complex back into its own BAR, which devices and
 * QEMU do not serve (upstream gives a device its own memory by bus
 * address instead).
 */
static void kmod_fence(struct p2pmem_verdict *v, struct client_verdict *cv)
{
	struct p2pmem_pci_dev *p = v->provider, *c = cv->client;
	const char *type = p2pmem_pci_dev_iommu_type(c);
	struct p2pmem_hb_decision d;
	char fix[320];

	if (cv->map == P2PMEM_MAP_NOT_SUPPORTED || !iommu_translates(c))
		return;
	snprintf(fix, sizeof(fix),
		 "Fix: an identity IOMMU domain for %s (boot with iommu=pt, or unbind its driver, write identity to /sys/kernel/iommu_groups/%d/type and bind it again)",
		 c->bdf, c->iommu_group);
	if (c->removable) {
		cv->map = P2PMEM_MAP_NOT_SUPPORTED;
		appendf(cv->reason, sizeof(cv->reason),
			" p2pmem.ko refuses %s: it is an external (untrusted) device behind an IOMMU, whose DMA goes through bounce buffers.",
			c->bdf);
		return;
	}
	if (c == p) {
		cv->map = P2PMEM_MAP_NOT_SUPPORTED;
		appendf(cv->reason, sizeof(cv->reason),
			" But p2pmem.ko refuses it: %s's DMA is translated by the IOMMU (%s domain), so it could reach its own BAR only through an IOVA that loops through the root complex. %s; or use memory of another device.",
			c->bdf, type ? type : "unknown", fix);
		return;
	}
	if (cv->map != P2PMEM_MAP_BUS_ADDR)
		return;		/* through the host bridge already */
	p2pmem_host_bridge_decide(p->ctx, p, c, &d);
	appendf(cv->reason, sizeof(cv->reason),
		" But %s's DMA is translated by the IOMMU (%s domain) and p2pmem.ko's memory is mapped like RAM: the traffic goes through the host bridge.",
		c->bdf, type ? type : "unknown");
	if (d.allowed) {
		explain_host_bridge(v, cv, &d);
		return;
	}
	cv->map = P2PMEM_MAP_NOT_SUPPORTED;
	appendf(cv->reason, sizeof(cv->reason),
		" p2pmem.ko refuses: %s. %s; or choose a provider served by the kernel's own P2PDMA.",
		d.why, fix);
}

static int calc_one(struct p2pmem_verdict *v, struct client_verdict *cv)
{
	struct p2pmem_pci_dev *a = v->provider, *b = cv->client, *bb;
	struct p2pmem_hb_decision d;
	char acs_text[512] = "";
	int dist_a = 0, dist_b = 0, acs_cnt = 0, r, ret;

	cv->acs[0] = '\0';
	cv->reason[0] = '\0';
	cv->npath = 0;
	note_iommu(v, v->provider);
	note_iommu(v, b);

	while (a) {
		dist_b = 0;
		/* Only the redirects up to the meeting point matter, below. */
		for (bb = b; bb; bb = bb->parent, dist_b++)
			if (a == bb)
				goto common_bridge;
		ret = path_push(cv, a->bdf);
		if (ret)
			return ret;
		a = a->parent;
		dist_a++;
	}

	/* No common upstream bridge: through the root complex. */
	cv->distance = dist_a + dist_b;
	ret = path_push(cv, v->provider->host_bridge->name);
	if (!ret && b->host_bridge != v->provider->host_bridge)
		ret = path_push(cv, b->host_bridge->name);
	if (!ret)
		ret = path_push_down(cv, b, NULL);
	if (ret)
		return ret;
	if (v->provider->host_bridge == b->host_bridge)
		appendf(cv->reason, sizeof(cv->reason),
			"%s and %s share no upstream bridge: they meet only at host bridge %s, so traffic crosses the root complex.",
			v->provider->bdf, b->bdf, b->host_bridge->name);
	else
		appendf(cv->reason, sizeof(cv->reason),
			"%s and %s are below different host bridges (%s, %s), so traffic crosses the root complex.",
			v->provider->bdf, b->bdf, v->provider->host_bridge->name,
			b->host_bridge->name);
	p2pmem_host_bridge_decide(v->provider->ctx, v->provider, b, &d);
	explain_host_bridge(v, cv, &d);
	return 0;

common_bridge:
	cv->distance = dist_a + dist_b;
	cv->npath = 0;	/* rebuilt below, with the common bridge */
	/* Provider side, up to and including the common bridge @a. */
	for (bb = v->provider; ; bb = bb->parent) {
		r = acs_redirects(v, bb);
		if (r < 0)
			return r;
		if (r) {
			appendf(cv->acs, sizeof(cv->acs), "%s%s", acs_cnt ? ";" : "", bb->bdf);
			acs_describe(acs_text, sizeof(acs_text), bb);
			appendf(acs_text, sizeof(acs_text), ", ");
			acs_cnt++;
		}
		ret = path_push(cv, bb->bdf);
		if (ret)
			return ret;
		if (bb == a)
			break;
	}
	/* Client side, below the common bridge. */
	for (bb = b; bb != a; bb = bb->parent) {
		r = acs_redirects(v, bb);
		if (r < 0)
			return r;
		if (r) {
			appendf(cv->acs, sizeof(cv->acs), "%s%s", acs_cnt ? ";" : "", bb->bdf);
			acs_describe(acs_text, sizeof(acs_text), bb);
			appendf(acs_text, sizeof(acs_text), ", ");
			acs_cnt++;
		}
	}
	ret = path_push_down(cv, b, a);
	if (ret)
		return ret;

	if (!acs_cnt) {
		cv->map = P2PMEM_MAP_BUS_ADDR;
		if (v->provider == b)
			appendf(cv->reason, sizeof(cv->reason),
				"Provider and client are the same function %s: it uses its own memory.",
				b->bdf);
		else
			appendf(cv->reason, sizeof(cv->reason),
				"%s and %s meet at %s (%s) with no ACS redirect on the path: traffic turns there, device to device, using PCI bus addresses.",
				v->provider->bdf, b->bdf, a->bdf, dev_role(a));
		return 0;
	}

	acs_text[strlen(acs_text) - 2] = '\0';	/* the last ", " */
	appendf(cv->reason, sizeof(cv->reason),
		"ACS redirect is set on %s, so traffic between %s and %s is sent up to the root complex instead of turning at %s. To keep it below that bridge, boot with pci=disable_acs_redir=%s%s.",
		acs_text, v->provider->bdf, b->bdf, a->bdf, cv->acs,
		b->iommu_group >= 0 || v->provider->iommu_group >= 0 ?
		" (Linux sets ACS redirect wherever an IOMMU is on; iommu=pt does not clear it)" : "");
	p2pmem_host_bridge_decide(v->provider->ctx, v->provider, b, &d);
	explain_host_bridge(v, cv, &d);
	return 0;
}

void p2pmem_verdict_free(struct p2pmem_verdict *v)
{
	if (!v)
		return;
	free(v->cv);
	free(v->reason);
	free(v);
}

static int verdict_summarize(struct p2pmem_verdict *v)
{
	size_t i, len = 1;
	bool thru = false;

	v->map = P2PMEM_MAP_BUS_ADDR;
	v->distance = 0;
	for (i = 0; i < v->nclients; i++) {
		const struct client_verdict *cv = &v->cv[i];

		len += strlen(cv->reason) + strlen(cv->client->bdf) + 16;
		if (cv->map == P2PMEM_MAP_NOT_SUPPORTED)
			v->map = P2PMEM_MAP_NOT_SUPPORTED;
		else if (cv->map == P2PMEM_MAP_THRU_HOST_BRIDGE)
			thru = true;
		v->distance += cv->distance;
	}
	if (v->map != P2PMEM_MAP_NOT_SUPPORTED && thru)
		v->map = P2PMEM_MAP_THRU_HOST_BRIDGE;
	if (v->map == P2PMEM_MAP_NOT_SUPPORTED)
		v->distance = -1;

	v->reason = calloc(1, len);
	if (!v->reason)
		return -ENOMEM;
	for (i = 0; i < v->nclients; i++) {
		if (v->nclients > 1)
			appendf(v->reason, len, "%sclient %s: ", i ? "\n" : "",
				v->cv[i].client->bdf);
		appendf(v->reason, len, "%s", v->cv[i].reason);
	}
	return 0;
}

int p2pmem_distance(struct p2pmem_ctx *ctx, struct p2pmem_pci_dev *provider,
		    struct p2pmem_pci_dev *const *clients, size_t nclients,
		    struct p2pmem_verdict **verdictp)
{
	struct p2pmem_provider *prov;
	struct p2pmem_verdict *v;
	bool kmod;
	size_t i;
	int ret;

	*verdictp = NULL;
	p2pmem_clear_error(ctx);
	if (!provider || !clients || nclients == 0) {
		p2pmem_set_error(ctx, "a distance needs a provider and at least one client");
		return -EINVAL;
	}
	/* Both ends' paths up to their host bridges, read now if not yet. */
	if (p2pmem_pci_dev_link(provider))
		return -ENOMEM;
	for (i = 0; i < nclients; i++)
		if (p2pmem_pci_dev_link(clients[i]))
			return -ENOMEM;
	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->cv = calloc(nclients, sizeof(*v->cv));
	if (!v->cv) {
		free(v);
		return -ENOMEM;
	}
	v->provider = provider;
	v->nclients = nclients;
	prov = p2pmem_provider_of(provider);
	kmod = prov && prov->backend == &p2pmem_backend_kmod;
	for (i = 0; i < nclients; i++) {
		v->cv[i].client = clients[i];
		ret = calc_one(v, &v->cv[i]);
		if (!ret && kmod)
			kmod_fence(v, &v->cv[i]);
		if (ret == -E2BIG)
			p2pmem_set_error(ctx, "PCI hierarchy deeper than %d levels between %s and %s: the sysfs tree is corrupt",
					 MAX_HOPS, provider->bdf, clients[i]->bdf);
		if (ret)
			goto err_free;
	}
	ret = verdict_summarize(v);
	if (ret)
		goto err_free;
	*verdictp = v;
	return 0;

err_free:
	p2pmem_verdict_free(v);
	return ret == -E2BIG ? -EIO : ret;
}

/* ---- accessors ---- */

struct p2pmem_pci_dev *p2pmem_verdict_provider(const struct p2pmem_verdict *v) { return v->provider; }
int p2pmem_verdict_distance(const struct p2pmem_verdict *v) { return v->distance; }
enum p2pmem_map_type p2pmem_verdict_map_type(const struct p2pmem_verdict *v) { return v->map; }
const char *p2pmem_verdict_reason(const struct p2pmem_verdict *v) { return v->reason; }
const char *p2pmem_verdict_warning(const struct p2pmem_verdict *v) { return v->warning; }
size_t p2pmem_verdict_client_count(const struct p2pmem_verdict *v) { return v->nclients; }

struct p2pmem_pci_dev *p2pmem_verdict_client(const struct p2pmem_verdict *v, size_t i)
{
	return i < v->nclients ? v->cv[i].client : NULL;
}

int p2pmem_verdict_client_distance(const struct p2pmem_verdict *v, size_t i)
{
	return i < v->nclients ? v->cv[i].distance : -1;
}

enum p2pmem_map_type p2pmem_verdict_client_map_type(const struct p2pmem_verdict *v, size_t i)
{
	return i < v->nclients ? v->cv[i].map : P2PMEM_MAP_NOT_SUPPORTED;
}

size_t p2pmem_verdict_path_len(const struct p2pmem_verdict *v, size_t i)
{
	return i < v->nclients ? v->cv[i].npath : 0;
}

const char *p2pmem_verdict_path_hop(const struct p2pmem_verdict *v, size_t i, size_t hop)
{
	if (i >= v->nclients || hop >= v->cv[i].npath)
		return NULL;
	return v->cv[i].path[hop];
}

const char *p2pmem_verdict_acs_redirect(const struct p2pmem_verdict *v, size_t i)
{
	return i < v->nclients ? v->cv[i].acs : "";
}

/* ---- best provider ---- */

static bool usable(const struct p2pmem_verdict *v)
{
	return v->map != P2PMEM_MAP_NOT_SUPPORTED && v->provider->provider &&
	       v->provider->provider->published;
}

static int rank_cmp(const void *pa, const void *pb)
{
	const struct p2pmem_verdict *a = *(struct p2pmem_verdict *const *)pa;
	const struct p2pmem_verdict *b = *(struct p2pmem_verdict *const *)pb;
	const struct p2pmem_pci_dev *da = a->provider, *db = b->provider;
	uint64_t fa = p2pmem_provider_of(da) ? da->provider->available : 0;
	uint64_t fb = p2pmem_provider_of(db) ? db->provider->available : 0;

	if (usable(a) != usable(b))
		return usable(a) ? -1 : 1;
	if (a->distance != b->distance) {
		if (a->distance < 0 || b->distance < 0)
			return a->distance < 0 ? 1 : -1;
		return a->distance < b->distance ? -1 : 1;
	}
	if (fa != fb)
		return fa > fb ? -1 : 1;
	return strcmp(da->bdf, db->bdf);
}

/* A provider whose path cannot be judged ranks last, with the reason. */
static struct p2pmem_verdict *error_verdict(struct p2pmem_ctx *ctx,
					    struct p2pmem_pci_dev *provider,
					    struct p2pmem_pci_dev *const *clients,
					    size_t nclients)
{
	struct p2pmem_verdict *v = calloc(1, sizeof(*v));
	size_t i;

	if (!v)
		return NULL;
	v->cv = calloc(nclients, sizeof(*v->cv));
	v->reason = strdup(ctx->last_error);
	if (!v->cv || !v->reason) {
		p2pmem_verdict_free(v);
		return NULL;
	}
	v->provider = provider;
	v->nclients = nclients;
	v->map = P2PMEM_MAP_NOT_SUPPORTED;
	v->distance = -1;
	for (i = 0; i < nclients; i++) {
		v->cv[i].client = clients[i];
		v->cv[i].distance = -1;
		snprintf(v->cv[i].reason, sizeof(v->cv[i].reason), "%s", ctx->last_error);
	}
	return v;
}

int p2pmem_find_best_provider(struct p2pmem_ctx *ctx,
			      struct p2pmem_pci_dev *const *clients,
			      size_t nclients,
			      struct p2pmem_verdict ***rankingp,
			      size_t *nrankingp)
{
	struct p2pmem_verdict **ranking;
	struct p2pmem_provider *prov;
	size_t n = 0;
	int ret;

	*rankingp = NULL;
	*nrankingp = 0;
	if (!clients || nclients == 0) {
		p2pmem_set_error(ctx, "finding a provider needs at least one client");
		return -EINVAL;
	}
	p2pmem_providers_load(ctx);
	ranking = calloc(ctx->nproviders ? ctx->nproviders : 1, sizeof(*ranking));
	if (!ranking)
		return -ENOMEM;
	for (prov = ctx->providers; prov; prov = prov->next) {
		ret = p2pmem_distance(ctx, prov->dev, clients, nclients, &ranking[n]);
		if (ret == -EIO)
			ranking[n] = error_verdict(ctx, prov->dev, clients, nclients);
		else if (ret)
			goto err_free;
		if (!ranking[n]) {
			ret = -ENOMEM;
			goto err_free;
		}
		n++;
	}
	qsort(ranking, n, sizeof(*ranking), rank_cmp);
	p2pmem_clear_error(ctx);
	*rankingp = ranking;
	*nrankingp = n;
	return 0;

err_free:
	while (n)
		p2pmem_verdict_free(ranking[--n]);
	free(ranking);
	return ret;
}
