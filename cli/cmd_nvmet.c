// SPDX-License-Identifier: MIT
/*
 * p2pmem nvmet - an NVMe over Fabrics target over nvmet's configfs, with the
 * answer nvmet keeps to itself: whether each namespace's payload goes
 * through p2p memory, from which provider, and if not, why.
 *
 * export predicts before it writes anything and writes all or nothing;
 * status predicts again from what configfs holds and can watch the
 * providers' `available` while I/O runs.
 * Exit: 0 done; 1 p2p memory would not be used (export without --no-p2p);
 * 2 bad input or the kernel refused (configfs left as it was).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cli.h"
#include "nvmet.h"
#include "output.h"

static const char nvmet_usage[] =
	"usage: p2pmem nvmet export [OPTIONS] NQN DEVICE...\n"
	"       p2pmem nvmet unexport NQN\n"
	"       p2pmem nvmet status [--watch SECONDS] [NQN]\n"
	"An NVMe over Fabrics target (Linux nvmet, through configfs) that says, before\n"
	"it writes anything, whether each namespace's data will go through p2p memory\n"
	"and from which provider. DEVICE is a block device (/dev/nvme0n1, a partition)\n"
	"or, with --no-p2p, a file; namespaces are numbered 1, 2, ... in order.\n"
	"export options:\n"
	"  -t, --transport T  rdma (default), tcp or loop; only rdma can use p2p memory\n"
	"  -a, --traddr ADDR  the port's IPv4/IPv6 address (rdma, tcp); 0.0.0.0 for all\n"
	"  -s, --trsvcid N    the port's service id (default 4420)\n"
	"      --p2pmem M     auto (default): p2p memory from the provider the kernel's\n"
	"                     rule picks, or refuse (exit 1) when it would not be used;\n"
	"                     1: let the kernel pick; BDF: this provider; off\n"
	"      --no-p2p       host memory (the same as --p2pmem off)\n"
	"  -H, --host NQN     only this host may connect (repeat for more, up to 16);\n"
	"                     without it any host may\n"
	"  -n, --dry-run      predict and show the plan, write nothing\n"
	"status options:\n"
	"  -w, --watch SECS   sample the providers' available for SECS seconds (I/O\n"
	"                     running meanwhile) and say whether p2p memory was in use\n"
	"  -o json            machine-readable output (every command)\n"
	"exit: 0 done, 1 p2p memory would not be used (export), 2 bad input or the\n"
	"kernel refused (nothing left half-written)\n";

struct nvmet_args {
	enum nvmet_transport trtype;
	const char *traddr;
	const char *trsvcid;
	enum nvmet_mode mode;
	const char *bdf;
	bool dry_run;
	double watch;
	bool export_opt;	/* an option only export takes was given */
	const char *hosts[NVMET_MAX_HOSTS];	/* --host: allowed host NQNs */
	size_t nhosts;
};

/* What configfs and the kernel take as an NQN (subsystem or host). */
static bool nqn_usable(const char *nqn)
{
	return *nqn && strlen(nqn) <= NVMET_NQN_MAX && !strchr(nqn, '/') && nqn[0] != '.';
}

static int nvmet_opt(void *priv, int c, const char *arg)
{
	struct nvmet_args *a = priv;
	char *end;

	a->export_opt |= c != 'w';
	switch (c) {
	case 't':
		if (nvmet_transport_parse(arg, &a->trtype)) {
			cli_error("unknown transport '%s': use rdma, tcp or loop", arg);
			return EXIT_BAD_INPUT;
		}
		return 0;
	case 'a':
		a->traddr = arg;
		return 0;
	case 's':
		a->trsvcid = arg;
		return 0;
	case 'P':
		if (!strcmp(arg, "auto")) {
			a->mode = MODE_AUTO;
		} else if (!strcmp(arg, "off") || !strcmp(arg, "0")) {
			a->mode = MODE_OFF;
		} else if (!strcmp(arg, "1")) {
			a->mode = MODE_ANY;
		} else {
			a->mode = MODE_BDF;
			a->bdf = arg;
		}
		return 0;
	case 'N':
		a->mode = MODE_OFF;
		return 0;
	case 'H': {
		size_t i;

		if (!nqn_usable(arg)) {
			cli_error("--host '%s' is not a usable host NQN (1-223 characters, no '/'), e.g. the host's /etc/nvme/hostnqn",
				  arg);
			return EXIT_BAD_INPUT;
		}
		for (i = 0; i < a->nhosts; i++)
			if (!strcmp(a->hosts[i], arg)) {
				cli_error("--host %s is given twice", arg);
				return EXIT_BAD_INPUT;
			}
		if (a->nhosts == NVMET_MAX_HOSTS) {
			cli_error("at most %d --host options", NVMET_MAX_HOSTS);
			return EXIT_BAD_INPUT;
		}
		a->hosts[a->nhosts++] = arg;
		return 0;
	}
	case 'n':
		a->dry_run = true;
		return 0;
	case 'w':
		a->watch = strtod(arg, &end);
		if (*end || a->watch <= 0 || a->watch > 3600) {
			cli_error("--watch takes seconds between 0 and 3600, not '%s'", arg);
			return EXIT_BAD_INPUT;
		}
		return 0;
	}
	return EXIT_BAD_INPUT;
}

static const char *pci_of(const struct nvmet_ns *ns)
{
	return ns->fn ? p2pmem_pci_dev_bdf(ns->fn) : NULL;
}

static json_object *jstr(const char *s)
{
	return s && *s ? json_object_new_string(s) : NULL;
}

/*
 * One namespace's prediction through one port of its subsystem (status).
 * nvmet decides per connection: the port a host connects through gives the
 * transport, and only nvmet-rdma names a p2p client, so the ports of one
 * subsystem can disagree.
 */
struct port_verdict {
	bool p2p;
	char provider[32];
	char why[NVMET_WHY];
};

/* A subsystem's namespaces judged through every one of its ports. */
struct subsys_verdicts {
	const struct nvmet_port *ports;
	size_t nports;
	struct port_verdict *v;		/* [ns * nports + port] */
};

static json_object *ns_json(const struct nvmet_ns *ns, bool with_state,
			    const struct subsys_verdicts *sv, size_t idx)
{
	json_object *o = json_object_new_object(), *p = json_object_new_object();
	size_t k;

	json_object_object_add(o, "nsid", json_object_new_int((int)ns->nsid));
	json_object_object_add(o, "device", json_object_new_string(ns->device));
	json_object_object_add(o, "block_device", jstr(ns->blk));
	json_object_object_add(o, "pci", jstr(pci_of(ns)));
	json_object_object_add(o, "p2pmem", jstr(ns->attr));
	if (with_state)
		json_object_object_add(o, "enabled", json_object_new_boolean(ns->enabled));
	json_object_object_add(p, "memory", json_object_new_string(ns->p2p ? "p2p" : "host"));
	json_object_object_add(p, "provider", jstr(ns->provider));
	json_object_object_add(p, "reason", json_object_new_string(ns->why));
	json_object_object_add(o, "prediction", p);
	if (!sv || !sv->v)
		return o;
	p = json_object_new_array();
	for (k = 0; k < sv->nports; k++) {
		const struct port_verdict *v = &sv->v[idx * sv->nports + k];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "port", json_object_new_int((int)sv->ports[k].id));
		json_object_object_add(e, "memory", json_object_new_string(v->p2p ? "p2p" : "host"));
		json_object_object_add(e, "provider", jstr(v->provider));
		json_object_object_add(e, "reason", json_object_new_string(v->why));
		json_object_array_add(p, e);
	}
	json_object_object_add(o, "by_port", p);
	return o;
}

static json_object *port_json(const struct nvmet_port *port)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int((int)port->id));
	json_object_object_add(o, "trtype", json_object_new_string(nvmet_transport_name(port->trtype)));
	json_object_object_add(o, "adrfam", jstr(port->adrfam));
	json_object_object_add(o, "traddr", jstr(port->traddr));
	json_object_object_add(o, "trsvcid", jstr(port->trsvcid));
	return o;
}

static void port_text(const struct nvmet_port *port, const char *note)
{
	if (port->trtype == NVMET_LOOP)
		printf("  port %u: loop%s\n", port->id, note);
	else
		printf("  port %u: %s %s:%s (%s)%s\n", port->id, nvmet_transport_name(port->trtype),
		       port->traddr, port->trsvcid, port->adrfam, note);
}

static void ns_text(const struct nvmet_ns *ns, bool with_state, int p2pdma,
		    const struct subsys_verdicts *sv, size_t idx)
{
	size_t k;

	printf("  namespace %u: %s", ns->nsid, ns->device);
	if (pci_of(ns))
		printf(" (%s)", pci_of(ns));
	if (with_state)
		printf(", %s", ns->enabled ? "enabled" : "disabled");
	if (ns->attr[0])
		printf(", p2pmem %s", ns->attr);
	else if (p2pdma == 0)
		printf(", no p2pmem attribute (kernel without P2PDMA)");
	putchar('\n');
	if (!sv || !sv->v || sv->nports < 2) {
		printf("    %s\n", ns->why);
		return;
	}
	for (k = 0; k < sv->nports; k++)
		printf("    through port %u: %s\n", sv->ports[k].id,
		       sv->v[idx * sv->nports + k].why);
}

/* ---- export --------------------------------------------------------------- */

static int export_plan(struct nvmet_env *env, struct nvmet_args *a, struct nvmet_ns *ns,
		       size_t nns, struct nvmet_port *port, struct rdma_dev *rdma,
		       size_t *nrdma, char *why, size_t len)
{
	unsigned char addr[16];
	size_t i;
	int ret;

	port->trtype = a->trtype;
	if (a->trtype != NVMET_LOOP) {
		if (!a->traddr) {
			snprintf(why, len, "--traddr is needed for %s (an address of this machine, or 0.0.0.0)",
				 nvmet_transport_name(a->trtype));
			return EXIT_BAD_INPUT;
		}
		if (inet_pton(AF_INET, a->traddr, addr) == 1) {
			snprintf(port->adrfam, sizeof(port->adrfam), "ipv4");
		} else if (inet_pton(AF_INET6, a->traddr, addr) == 1) {
			snprintf(port->adrfam, sizeof(port->adrfam), "ipv6");
		} else {
			snprintf(why, len, "'%s' is not an IPv4 or IPv6 address", a->traddr);
			return EXIT_BAD_INPUT;
		}
		snprintf(port->traddr, sizeof(port->traddr), "%s", a->traddr);
		snprintf(port->trsvcid, sizeof(port->trsvcid), "%s", a->trsvcid ? a->trsvcid : "4420");
		if (strspn(port->trsvcid, "0123456789") != strlen(port->trsvcid) ||
		    atoi(port->trsvcid) < 1 || atoi(port->trsvcid) > 65535) {
			snprintf(why, len, "--trsvcid '%s' is not a port number (1-65535)", port->trsvcid);
			return EXIT_BAD_INPUT;
		}
		if (!addr_is_local(env, a->traddr)) {
			rdma_devs_for_addr(env, a->traddr, rdma, NVMET_MAX_RDMA, why, len);
			return EXIT_BAD_INPUT;
		}
	} else if (a->traddr) {
		snprintf(why, len, "a loop port has no address: drop --traddr");
		return EXIT_BAD_INPUT;
	}
	if (a->trtype == NVMET_RDMA) {
		ret = rdma_devs_for_addr(env, a->traddr, rdma, NVMET_MAX_RDMA, why, len);
		if (ret < 0)
			return EXIT_BAD_INPUT;
		*nrdma = (size_t)ret;
	}
	if (a->mode == MODE_BDF && !strchr(a->bdf, ':')) {
		snprintf(why, len, "--p2pmem takes auto, off, 1 or a PCI address, not '%s'", a->bdf);
		return EXIT_BAD_INPUT;
	}

	for (i = 0; i < nns; i++) {
		struct nvmet_ns *n = &ns[i];

		if (n->is_file && a->mode != MODE_OFF) {
			snprintf(why, len, "%s is a file: nvmet can export it, but a file-backed namespace never uses p2p memory (the kernel refuses p2pmem for it); name a block device, or add --no-p2p",
				 n->device);
			return EXIT_BAD_INPUT;
		}
		switch (a->mode) {
		case MODE_OFF:
			snprintf(n->attr, sizeof(n->attr), "%s", env->p2pdma == 1 ? "0" : "");
			break;
		case MODE_ANY:
		case MODE_BDF:
			snprintf(n->attr, sizeof(n->attr), "%s", a->mode == MODE_ANY ? "1" : a->bdf);
			if (nvmet_ns_check_attr(env, n, n->attr, why, len))
				return EXIT_BAD_INPUT;
			break;
		case MODE_AUTO:
			snprintf(n->attr, sizeof(n->attr), "1");
			if (nvmet_ns_check_attr(env, n, "1", why, len)) {
				snprintf(n->why, sizeof(n->why), "host memory: p2p memory is impossible here: %s", why);
				why[0] = 0;
				n->attr[0] = 0;
				continue;
			}
			break;
		}
		nvmet_ns_predict(env, n, port, rdma, *nrdma);
		if (a->mode == MODE_AUTO && n->p2p)
			/* the provider we predicted, not the kernel's draw among ties */
			snprintf(n->attr, sizeof(n->attr), "%s", n->provider);
	}
	return EXIT_OK;
}

/* Who may connect, as configfs says it: any host, the hosts named, or none. */
static void access_text(bool any, const char *const *hosts, size_t n)
{
	size_t i;

	if (any) {
		printf(" (allow any host)");
		return;
	}
	if (!n) {
		printf(" (no host allowed)");
		return;
	}
	printf(" (host%s ", n == 1 ? "" : "s");
	for (i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", hosts[i]);
	putchar(')');
}

static json_object *hosts_json(const char *const *hosts, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(hosts[i]));
	return a;
}

static void export_print(const struct cli_opts *o, const char *nqn, const struct nvmet_ns *ns,
			 size_t nns, const struct nvmet_port *port, const char *state,
			 const char *cfs, int p2pdma, const struct nvmet_args *a)
{
	size_t i;

	if (o->out == &output_json) {
		json_object *r = json_object_new_object(), *na = json_object_new_array();

		json_object_object_add(r, "subsystem", json_object_new_string(nqn));
		json_object_object_add(r, "state", json_object_new_string(state));
		json_object_object_add(r, "allow_any_host", json_object_new_boolean(!a->nhosts));
		json_object_object_add(r, "allowed_hosts", hosts_json(a->hosts, a->nhosts));
		json_object_object_add(r, "configfs", json_object_new_string(cfs));
		json_object_object_add(r, "port", port_json(port));
		json_object_object_add(json_object_object_get(r, "port"), "created",
				       json_object_new_boolean(!port->exists));
		for (i = 0; i < nns; i++)
			json_object_array_add(na, ns_json(&ns[i], false, NULL, 0));
		json_object_object_add(r, "namespaces", na);
		cli_json_emit(r);
		return;
	}
	printf("subsystem %s: %zu namespace%s", nqn, nns, nns == 1 ? "" : "s");
	access_text(!a->nhosts, a->hosts, a->nhosts);
	putchar('\n');
	port_text(port, port->exists ? ", existing" : ", new");
	for (i = 0; i < nns; i++)
		ns_text(&ns[i], false, p2pdma, NULL, 0);
	if (!strcmp(state, "exported"))
		printf("exported: %s/subsystems/%s\n", cfs, nqn);
	else if (!strcmp(state, "dry-run"))
		printf("dry run: nothing written\n");
}

static int nvmet_export_cmd(struct cli_opts *o, struct nvmet_args *a, int argc, char **argv)
{
	struct nvmet_ns *ns = NULL;
	struct rdma_dev rdma[NVMET_MAX_RDMA];
	struct nvmet_port port = { 0 };
	struct nvmet_env env = { 0 };
	char why[NVMET_WHY] = "";
	const char *nqn;
	size_t nns, nrdma = 0, i, host = 0;
	struct p2pmem_ctx *ctx;
	int ret;

	if (argc - optind < 2) {
		cli_error("export needs an NQN and at least one DEVICE");
		fputs(nvmet_usage, stderr);
		return EXIT_BAD_INPUT;
	}
	nqn = argv[optind];
	nns = (size_t)(argc - optind - 1);
	if (nns > NVMET_MAX_NS) {
		cli_error("at most %d namespaces per export", NVMET_MAX_NS);
		return EXIT_BAD_INPUT;
	}
	if (!nqn_usable(nqn)) {
		cli_error("'%s' is not a usable NQN (1-223 characters, no '/'), e.g. nqn.2026-12.io.example:target1",
			  nqn);
		return EXIT_BAD_INPUT;
	}
	ctx = cli_open(o);
	if (!ctx)
		return EXIT_BAD_INPUT;
	nvmet_env_init(&env, ctx);
	ret = EXIT_BAD_INPUT;
	ns = calloc(nns, sizeof(*ns));
	if (!ns) {
		cli_error("out of memory");
		goto out;
	}
	if (!a->dry_run && nvmet_configfs_check(&env, why, sizeof(why))) {
		cli_error("%s", why);
		goto out;
	}
	if (nvmet_subsys_exists(&env, nqn)) {
		cli_error("subsystem %s is already exported: `p2pmem nvmet status %s` shows it, `p2pmem nvmet unexport %s` removes it",
			  nqn, nqn, nqn);
		goto out;
	}
	for (i = 0; i < nns; i++) {
		ns[i].nsid = (unsigned int)i + 1;
		if (nvmet_ns_resolve(&env, argv[optind + 1 + i], &ns[i], why, sizeof(why))) {
			cli_error("%s", why);
			goto out;
		}
	}
	ret = export_plan(&env, a, ns, nns, &port, rdma, &nrdma, why, sizeof(why));
	if (ret) {
		cli_error("%s", why);
		goto out;
	}
	if (access(env.cfs, F_OK) == 0 && nvmet_port_find(&env, &port)) {
		cli_error("cannot read %s/ports", env.cfs);
		ret = EXIT_BAD_INPUT;
		goto out;
	}
	if (port.id == 0)
		port.id = 1;
	for (i = 0; i < nns; i++)
		host += !ns[i].p2p;
	if (a->mode == MODE_AUTO && host) {
		export_print(o, nqn, ns, nns, &port, "refused", env.cfs, env.p2pdma, a);
		cli_error("p2p memory would not be used for %zu of %zu namespace%s (see above), so nothing was written; export with host memory using --no-p2p",
			  host, nns, nns == 1 ? "" : "s");
		ret = EXIT_NOT_SUPPORTED;
		goto out;
	}
	if (a->dry_run) {
		export_print(o, nqn, ns, nns, &port, "dry-run", env.cfs, env.p2pdma, a);
		ret = EXIT_OK;
		goto out;
	}
	if (nvmet_export(&env, nqn, ns, nns, &port, a->hosts, a->nhosts, why, sizeof(why))) {
		cli_error("%s; nothing is left of the export in %s", why, env.cfs);
		ret = EXIT_BAD_INPUT;
		goto out;
	}
	export_print(o, nqn, ns, nns, &port, "exported", env.cfs, env.p2pdma, a);
	ret = EXIT_OK;
out:
	free(ns);
	p2pmem_ctx_free(ctx);
	return ret;
}

/* ---- status ----------------------------------------------------------------- */

struct watched {
	char bdf[32];
	unsigned long long size, first, min, max;
	bool ok;
};

static bool read_avail(const struct nvmet_env *env, const char *bdf, const char *attr,
		       unsigned long long *v)
{
	char path[PATH_MAX], buf[64];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/p2pmem/%s", env->root, bdf, attr);
	f = fopen(path, "r");
	if (!f)
		return false;
	ok = fgets(buf, sizeof(buf), f) && sscanf(buf, "%llu", v) == 1;
	fclose(f);
	return ok;
}

static void watch_add(struct watched *w, size_t *n, size_t max, const char *bdf)
{
	size_t i;

	if (!bdf || !*bdf || !strchr(bdf, ':'))
		return;
	for (i = 0; i < *n; i++)
		if (!strcmp(w[i].bdf, bdf))
			return;
	if (*n < max)
		snprintf(w[(*n)++].bdf, sizeof(w[0].bdf), "%s", bdf);
}

static void watch_run(const struct nvmet_env *env, struct watched *w, size_t n, double secs)
{
	struct timespec step = { 0, 20 * 1000 * 1000 };
	double end = cli_clock(CLOCK_MONOTONIC) + secs;
	unsigned long long v;
	size_t i;

	for (i = 0; i < n; i++) {
		w[i].ok = read_avail(env, w[i].bdf, "size", &w[i].size) &&
			  read_avail(env, w[i].bdf, "available", &w[i].first);
		w[i].min = w[i].max = w[i].first;
	}
	do {
		for (i = 0; i < n; i++) {
			if (!w[i].ok || !read_avail(env, w[i].bdf, "available", &v))
				continue;
			if (v < w[i].min)
				w[i].min = v;
			if (v > w[i].max)
				w[i].max = v;
		}
		nanosleep(&step, NULL);
	} while (cli_clock(CLOCK_MONOTONIC) < end);
}

/*
 * Predict every namespace of @st through every port it is linked in (@sv);
 * a namespace's own prediction is that of its first port (the lowest id).
 */
static int status_predict(const struct nvmet_env *env, struct nvmet_subsys_state *st,
			  struct subsys_verdicts *sv)
{
	struct rdma_dev rdma[NVMET_MAX_RDMA];
	struct nvmet_ns *tmp;
	char why[1024];
	size_t j, k;

	sv->ports = st->ports;
	sv->nports = st->nports;
	sv->v = NULL;
	if (!st->nports) {
		for (j = 0; j < st->nns; j++)
			snprintf(st->ns[j].why, sizeof(st->ns[j].why), "not exported on any port");
		return 0;
	}
	sv->v = calloc(st->nns * st->nports + 1, sizeof(*sv->v));
	tmp = malloc(sizeof(*tmp));
	if (!sv->v || !tmp) {
		free(tmp);
		return -ENOMEM;
	}
	for (k = 0; k < st->nports; k++) {
		const struct nvmet_port *port = &st->ports[k];
		size_t nrdma = 0;

		if (port->trtype == NVMET_RDMA) {
			int r = rdma_devs_for_addr(env, port->traddr, rdma, NVMET_MAX_RDMA,
						   why, sizeof(why));

			nrdma = r > 0 ? (size_t)r : 0;
		}
		for (j = 0; j < st->nns; j++) {
			struct port_verdict *v = &sv->v[j * st->nports + k];

			*tmp = st->ns[j];
			if (port->trtype == NVMET_OTHER)
				snprintf(tmp->why, sizeof(tmp->why),
					 "host memory: only nvmet-rdma uses p2p memory");
			else
				nvmet_ns_predict(env, tmp, port, rdma, nrdma);
			v->p2p = tmp->p2p;
			memcpy(v->provider, tmp->provider, sizeof(v->provider));
			memcpy(v->why, tmp->why, sizeof(v->why));
		}
	}
	for (j = 0; j < st->nns; j++) {
		st->ns[j].p2p = sv->v[j * st->nports].p2p;
		memcpy(st->ns[j].provider, sv->v[j * st->nports].provider, sizeof(st->ns[j].provider));
		memcpy(st->ns[j].why, sv->v[j * st->nports].why, sizeof(st->ns[j].why));
	}
	free(tmp);
	return 0;
}

/* The context and nvmet's configfs, or NULL after saying what is missing. */
static struct p2pmem_ctx *nvmet_open(struct cli_opts *o, struct nvmet_env *env)
{
	struct p2pmem_ctx *ctx = cli_open(o);
	char why[1024];

	if (!ctx)
		return NULL;
	nvmet_env_init(env, ctx);
	if (nvmet_configfs_check(env, why, sizeof(why))) {
		cli_error("%s", why);
		p2pmem_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

static int nvmet_status_cmd(struct cli_opts *o, struct nvmet_args *a, int argc, char **argv)
{
	struct nvmet_subsys_state *st = NULL;
	struct subsys_verdicts *sv = NULL;
	struct watched w[64];
	struct nvmet_env env = { 0 };
	json_object *root = NULL, *jsubs = NULL;
	char why[1024], **nqns = NULL;
	size_t nsub = 0, i, j, k, nw = 0;
	struct p2pmem_ctx *ctx;
	bool in_use = false;
	int ret = EXIT_BAD_INPUT;

	if (argc - optind > 1) {
		cli_error("status takes at most one NQN");
		return EXIT_BAD_INPUT;
	}
	ctx = nvmet_open(o, &env);
	if (!ctx)
		return EXIT_BAD_INPUT;
	if (argc - optind == 1) {
		if (!nvmet_subsys_exists(&env, argv[optind])) {
			cli_error("no subsystem %s in %s/subsystems (`p2pmem nvmet status` lists them)",
				  argv[optind], env.cfs);
			goto out;
		}
		nqns = calloc(2, sizeof(*nqns));
		if (nqns)
			nqns[0] = strdup(argv[optind]);
		nsub = nqns && nqns[0] ? 1 : 0;
	} else if (nvmet_subsys_list(&env, &nqns, &nsub)) {
		cli_error("cannot list %s/subsystems", env.cfs);
		goto out;
	}
	st = calloc(nsub ? nsub : 1, sizeof(*st));
	sv = calloc(nsub ? nsub : 1, sizeof(*sv));
	if (!st || !sv) {
		cli_error("out of memory");
		goto out;
	}
	for (i = 0; i < nsub; i++) {
		if (nvmet_subsys_read(&env, nqns[i], &st[i]))
			continue;
		for (j = 0; j < st[i].nns; j++)
			if (nvmet_ns_resolve(&env, st[i].ns[j].device, &st[i].ns[j], why, sizeof(why)))
				st[i].ns[j].blk[0] = 0;
		if (status_predict(&env, &st[i], &sv[i])) {
			cli_error("out of memory");
			goto out;
		}
		for (j = 0; j < st[i].nns; j++) {
			struct nvmet_ns *n = &st[i].ns[j];

			for (k = 0; sv[i].v && k < st[i].nports; k++)
				watch_add(w, &nw, 64, sv[i].v[j * st[i].nports + k].provider);
			watch_add(w, &nw, 64, n->attr);
			if (!strcmp(n->attr, "1")) {
				struct p2pmem_provider *pr;

				for (pr = p2pmem_provider_first(ctx); pr; pr = p2pmem_provider_next(pr))
					if (!strcmp(p2pmem_provider_backend(pr), "upstream"))
						watch_add(w, &nw, 64, p2pmem_pci_dev_bdf(p2pmem_provider_pci_dev(pr)));
			}
		}
	}
	if (a->watch > 0)
		watch_run(&env, w, nw, a->watch);
	for (k = 0; k < nw; k++)
		in_use |= w[k].ok && w[k].min != w[k].max;

	if (o->out == &output_json) {
		root = json_object_new_object();
		jsubs = json_object_new_array();
	} else if (!nsub) {
		printf("no subsystems in %s\n", env.cfs);
	}
	for (i = 0; i < nsub; i++) {
		const char *hp[NVMET_MAX_HOSTS];

		for (j = 0; j < st[i].nhosts; j++)
			hp[j] = st[i].hosts[j];
		if (jsubs) {
			json_object *s = json_object_new_object(), *pa = json_object_new_array(),
				    *na = json_object_new_array();

			json_object_object_add(s, "subsystem", json_object_new_string(st[i].nqn));
			json_object_object_add(s, "allow_any_host", json_object_new_boolean(st[i].allow_any_host));
			json_object_object_add(s, "allowed_hosts", hosts_json(hp, st[i].nhosts));
			for (j = 0; j < st[i].nports; j++)
				json_object_array_add(pa, port_json(&st[i].ports[j]));
			json_object_object_add(s, "ports", pa);
			for (j = 0; j < st[i].nns; j++)
				json_object_array_add(na, ns_json(&st[i].ns[j], true, &sv[i], j));
			json_object_object_add(s, "namespaces", na);
			json_object_array_add(jsubs, s);
			continue;
		}
		printf("subsystem %s", st[i].nqn);
		access_text(st[i].allow_any_host, hp, st[i].nhosts);
		putchar('\n');
		if (!st[i].nports)
			printf("  not exported on any port\n");
		for (j = 0; j < st[i].nports; j++)
			port_text(&st[i].ports[j], "");
		for (j = 0; j < st[i].nns; j++)
			ns_text(&st[i].ns[j], true, env.p2pdma, &sv[i], j);
	}
	if (jsubs) {
		json_object_object_add(root, "subsystems", jsubs);
		if (a->watch > 0) {
			json_object *wo = json_object_new_object(), *pa = json_object_new_array();

			json_object_object_add(wo, "seconds", json_object_new_double(a->watch));
			for (k = 0; k < nw; k++) {
				json_object *p = json_object_new_object();

				if (!w[k].ok)
					continue;
				json_object_object_add(p, "provider", json_object_new_string(w[k].bdf));
				json_object_object_add(p, "size", json_object_new_uint64(w[k].size));
				json_object_object_add(p, "available_first", json_object_new_uint64(w[k].first));
				json_object_object_add(p, "available_min", json_object_new_uint64(w[k].min));
				json_object_object_add(p, "available_max", json_object_new_uint64(w[k].max));
				json_object_object_add(p, "moved", json_object_new_boolean(w[k].min != w[k].max));
				json_object_array_add(pa, p);
			}
			json_object_object_add(wo, "providers", pa);
			json_object_object_add(wo, "p2p_in_use", json_object_new_boolean(in_use));
			json_object_object_add(root, "watch", wo);
		}
		ret = cli_json_emit(root);
		goto out;
	}
	if (a->watch > 0) {
		char s1[32], s2[32], s3[32];

		printf("watched for %.1f s:\n", a->watch);
		if (!nw)
			printf("  no provider to watch: no namespace has p2p memory configured or predicted\n");
		for (k = 0; k < nw; k++) {
			if (!w[k].ok) {
				printf("  %s: no p2pmem/available to read\n", w[k].bdf);
				continue;
			}
			printf("  %s: available %s of %s, %s (lowest %s)\n", w[k].bdf,
			       cli_size(w[k].first, s1, sizeof(s1)), cli_size(w[k].size, s2, sizeof(s2)),
			       w[k].min != w[k].max ? "moved" : "did not move",
			       cli_size(w[k].min, s3, sizeof(s3)));
		}
		printf("p2p memory in use: %s\n", in_use ? "yes" :
		       "no (the payload went through host memory, or no I/O ran)");
	}
	ret = EXIT_OK;
out:
	for (i = 0; nqns && nqns[i]; i++)
		free(nqns[i]);
	free(nqns);
	for (i = 0; sv && i < nsub; i++)
		free(sv[i].v);
	free(sv);
	free(st);
	p2pmem_ctx_free(ctx);
	return ret;
}

static int nvmet_unexport_cmd(struct cli_opts *o, int argc, char **argv)
{
	struct nvmet_env env = { 0 };
	struct p2pmem_ctx *ctx;
	char why[1024];
	int ret = EXIT_BAD_INPUT;

	if (argc - optind != 1) {
		cli_error("unexport takes one NQN");
		return EXIT_BAD_INPUT;
	}
	ctx = nvmet_open(o, &env);
	if (!ctx)
		return EXIT_BAD_INPUT;
	if (!nvmet_subsys_exists(&env, argv[optind])) {
		cli_error("no subsystem %s in %s/subsystems: nothing to unexport", argv[optind], env.cfs);
		goto out;
	}
	if (nvmet_unexport(&env, argv[optind], why, sizeof(why))) {
		cli_error("%s (is a host still connected? disconnect it first)", why);
		goto out;
	}
	if (o->out == &output_json) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "subsystem", json_object_new_string(argv[optind]));
		json_object_object_add(r, "state", json_object_new_string("unexported"));
		ret = cli_json_emit(r);
	} else {
		printf("unexported %s\n", argv[optind]);
		ret = EXIT_OK;
	}
out:
	p2pmem_ctx_free(ctx);
	return ret;
}

int cmd_nvmet(struct cli_opts *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "transport", required_argument, NULL, 't' },
		{ "traddr", required_argument, NULL, 'a' },
		{ "trsvcid", required_argument, NULL, 's' },
		{ "p2pmem", required_argument, NULL, 'P' },
		{ "no-p2p", no_argument, NULL, 'N' },
		{ "host", required_argument, NULL, 'H' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "watch", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	struct nvmet_args args = { .trtype = NVMET_RDMA, .mode = MODE_AUTO };
	const struct cli_command cmd = {
		.usage = nvmet_usage,
		.longopts = longopts,
		.shortopts = "t:a:s:H:nw:",
		.opt = nvmet_opt,
		.priv = &args,
	};
	const char *action = argc > 1 ? argv[1] : NULL;
	int ret;

	if (!action) {
		cli_error("nvmet needs an action: export, unexport or status");
		fputs(nvmet_usage, stderr);
		return EXIT_BAD_INPUT;
	}
	if (!strcmp(action, "-h") || !strcmp(action, "--help")) {
		fputs(nvmet_usage, stdout);
		return EXIT_OK;
	}
	if (strcmp(action, "export") && strcmp(action, "unexport") && strcmp(action, "status")) {
		cli_error("unknown nvmet action '%s': export, unexport or status", action);
		fputs(nvmet_usage, stderr);
		return EXIT_BAD_INPUT;
	}
	optind = 0;
	ret = cli_parse(o, &cmd, argc - 1, argv + 1);
	if (ret >= 0)
		return ret;
	if (!o->out || (o->out != &output_text && o->out != &output_json)) {
		cli_error("output format %s does not apply to nvmet: use text or json", o->out->name);
		return EXIT_BAD_INPUT;
	}
	/* operands are counted from argv + 1 */
	argc--;
	argv++;
	if (args.watch > 0 && strcmp(action, "status")) {
		cli_error("--watch belongs to status, not %s", action);
		return EXIT_BAD_INPUT;
	}
	if (!strcmp(action, "export"))
		return nvmet_export_cmd(o, &args, argc, argv);
	if (args.export_opt) {
		cli_error("these options belong to export, not %s", action);
		return EXIT_BAD_INPUT;
	}
	if (!strcmp(action, "status"))
		return nvmet_status_cmd(o, &args, argc, argv);
	return nvmet_unexport_cmd(o, argc, argv);
}
