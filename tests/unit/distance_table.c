// SPDX-License-Identifier: MIT
/*
 * The distance rule, table-driven: every tests/fixtures/<fabric>.cases line
 * gives provider, clients and the answer Linux 6.12 P2PDMA gives for that
 * fabric (distance, map type, ACS-redirecting functions). The same tables
 * check the kernel module's port of the rule (kmod_distance.c).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cases.h"

struct judge {
	const char *fabric;
	char cpuinfo[4096];
	struct p2pmem_ctx *ctx;
};

static int resolve(struct judge *j, const struct case_line *c,
		   struct p2pmem_pci_dev **devs)
{
	int i;

	for (i = 0; i < c->nclients; i++) {
		if (p2pmem_pci_dev_find(j->ctx, c->clients[i], &devs[i])) {
			fprintf(stderr, "%s: unknown client %s\n", c->where, c->clients[i]);
			unit_failures++;
			return -1;
		}
	}
	return 0;
}

static void on_cpu(void *priv, const char *vendor, const char *family)
{
	struct judge *j = priv;
	FILE *f = fopen(j->cpuinfo, "w");

	if (!f) {
		fprintf(stderr, "cannot write %s\n", j->cpuinfo);
		unit_failures++;
		return;
	}
	fprintf(f, "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %s\n\n", vendor, family);
	fclose(f);
	p2pmem_ctx_free(j->ctx);
	j->ctx = unit_ctx(j->fabric, j->cpuinfo);
}

static void on_best(void *priv, const struct case_line *c)
{
	struct judge *j = priv;
	struct p2pmem_pci_dev *devs[CASES_MAX_CLIENTS];
	struct p2pmem_verdict **ranking;
	size_t nranking, i;

	if (resolve(j, c, devs))
		return;
	if (p2pmem_find_best_provider(j->ctx, devs, (size_t)c->nclients, &ranking, &nranking) ||
	    !nranking) {
		fprintf(stderr, "%s: no ranking\n", c->where);
		unit_failures++;
		return;
	}
	if (strcmp(p2pmem_pci_dev_bdf(p2pmem_verdict_provider(ranking[0])), c->provider)) {
		fprintf(stderr, "%s: best provider %s, expected %s\n", c->where,
			p2pmem_pci_dev_bdf(p2pmem_verdict_provider(ranking[0])), c->provider);
		unit_failures++;
	}
	for (i = 0; i < nranking; i++)
		p2pmem_verdict_free(ranking[i]);
	free(ranking);
}

static void check_acs(const struct case_line *c, const struct p2pmem_verdict *v)
{
	char got[512] = "";
	size_t i;

	/* The union over clients, in the kernel's parameter syntax. */
	for (i = 0; i < (size_t)c->nclients; i++) {
		const char *a = p2pmem_verdict_acs_redirect(v, i);

		if (*a && !strstr(got, a))
			snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s",
				 *got ? ";" : "", a);
	}
	if (strcmp(c->acs, "-") == 0 ? *got != '\0' : strcmp(got, c->acs) != 0) {
		fprintf(stderr, "%s: ACS redirect \"%s\", expected \"%s\"\n", c->where, got, c->acs);
		unit_failures++;
	}
	/* The explanation must name the fix when redirect is at fault. */
	if (*got && !strstr(p2pmem_verdict_reason(v), "pci=disable_acs_redir=")) {
		fprintf(stderr, "%s: reason lacks the ACS fix: %s\n", c->where,
			p2pmem_verdict_reason(v));
		unit_failures++;
	}
}

static void on_verdict(void *priv, const struct case_line *c)
{
	struct judge *j = priv;
	struct p2pmem_pci_dev *p, *devs[CASES_MAX_CLIENTS];
	struct p2pmem_verdict *v = NULL;
	int ret;

	if (p2pmem_pci_dev_find(j->ctx, c->provider, &p) || resolve(j, c, devs)) {
		fprintf(stderr, "%s: unknown function in the case\n", c->where);
		unit_failures++;
		return;
	}
	ret = p2pmem_distance(j->ctx, p, devs, (size_t)c->nclients, &v);
	if (strcmp(c->distance, "error") == 0) {
		/* The fourth column names the function the error must name. */
		if (ret != -EIO || !strstr(p2pmem_ctx_last_error(j->ctx), c->map)) {
			fprintf(stderr, "%s: expected -EIO naming %s, got %d \"%s\"\n",
				c->where, c->map, ret, p2pmem_ctx_last_error(j->ctx));
			unit_failures++;
		}
		p2pmem_verdict_free(v);
		return;
	}
	if (ret) {
		fprintf(stderr, "%s: p2pmem_distance() = %d (%s)\n", c->where, ret,
			p2pmem_ctx_last_error(j->ctx));
		unit_failures++;
		return;
	}
	if (p2pmem_verdict_distance(v) != atoi(c->distance) ||
	    strcmp(p2pmem_map_type_name(p2pmem_verdict_map_type(v)), c->map)) {
		fprintf(stderr, "%s: got %d %s, expected %s %s\n  reason: %s\n", c->where,
			p2pmem_verdict_distance(v),
			p2pmem_map_type_name(p2pmem_verdict_map_type(v)), c->distance, c->map,
			p2pmem_verdict_reason(v));
		unit_failures++;
	}
	check_acs(c, v);
	/* A refusal names what refuses: the host bridge, or the IOMMU. */
	if (p2pmem_verdict_map_type(v) == P2PMEM_MAP_NOT_SUPPORTED &&
	    !strstr(p2pmem_verdict_reason(v), "host bridge") &&
	    !strstr(p2pmem_verdict_reason(v), "IOMMU")) {
		fprintf(stderr, "%s: refusal names neither the host bridge nor the IOMMU: %s\n", c->where,
			p2pmem_verdict_reason(v));
		unit_failures++;
	}
	p2pmem_verdict_free(v);
}

int main(void)
{
	const char *dir = unit_fixtures();
	struct dirent *de;
	int ncases = 0, nfabrics = 0;
	DIR *d = opendir(dir);

	if (!d) {
		fprintf(stderr, "cannot open %s\n", dir);
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		struct judge j = { .fabric = de->d_name };
		const struct cases_ops ops = {
			.cpu = on_cpu, .verdict = on_verdict, .best = on_best, .priv = &j,
		};
		char path[4096];
		int n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "tests/fixtures/%s.cases", de->d_name);
		if (access(path, R_OK) != 0)
			continue;	/* a fixture without cases (large) */
		snprintf(j.cpuinfo, sizeof(j.cpuinfo), "%s/%s.cpuinfo", dir, de->d_name);
		j.ctx = unit_ctx(de->d_name, NULL);
		n = cases_run(de->d_name, &ops);
		p2pmem_ctx_free(j.ctx);
		if (n < 0) {
			fprintf(stderr, "cannot read %s\n", path);
			unit_failures++;
			continue;
		}
		ncases += n;
		nfabrics++;
	}
	closedir(d);
	printf("distance_table: %d cases over %d fabrics\n", ncases, nfabrics);
	CHECK(nfabrics >= 9);
	CHECK(ncases >= 60);
	return unit_result("distance_table");
}
