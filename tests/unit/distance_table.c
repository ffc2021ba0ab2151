// SPDX-License-Identifier: MIT
/*
 * The distance rule, table-driven: every tests/fixtures/<fabric>.cases line
 * gives provider, clients and the answer Linux 6.12 P2PDMA gives for that
 * fabric (distance, map type, ACS-redirecting functions). The same tables
 * check the kernel module's port of the rule.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define MAX_CLIENTS 8

static int resolve_list(struct p2pmem_ctx *ctx, char *list,
			struct p2pmem_pci_dev **devs, size_t *n)
{
	char *save, *tok;

	*n = 0;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (*n == MAX_CLIENTS || p2pmem_pci_dev_find(ctx, tok, &devs[*n]))
			return -1;
		(*n)++;
	}
	return 0;
}

static void check_best(struct p2pmem_ctx *ctx, const char *where, char *clients,
		       const char *expect)
{
	struct p2pmem_pci_dev *devs[MAX_CLIENTS];
	struct p2pmem_verdict **ranking;
	size_t n, nranking, i;

	if (resolve_list(ctx, clients, devs, &n)) {
		fprintf(stderr, "%s: unknown client\n", where);
		unit_failures++;
		return;
	}
	if (p2pmem_find_best_provider(ctx, devs, n, &ranking, &nranking) || !nranking) {
		fprintf(stderr, "%s: no ranking\n", where);
		unit_failures++;
		return;
	}
	if (strcmp(p2pmem_pci_dev_bdf(p2pmem_verdict_provider(ranking[0])), expect)) {
		fprintf(stderr, "%s: best provider %s, expected %s\n", where,
			p2pmem_pci_dev_bdf(p2pmem_verdict_provider(ranking[0])), expect);
		unit_failures++;
	}
	for (i = 0; i < nranking; i++)
		p2pmem_verdict_free(ranking[i]);
	free(ranking);
}

static void check_case(struct p2pmem_ctx *ctx, const char *where, const char *provider,
		       char *clients, const char *dist, const char *map, const char *acs)
{
	struct p2pmem_pci_dev *p, *devs[MAX_CLIENTS];
	struct p2pmem_verdict *v;
	size_t n, i;
	int ret;

	if (p2pmem_pci_dev_find(ctx, provider, &p) || resolve_list(ctx, clients, devs, &n)) {
		fprintf(stderr, "%s: unknown function in the case\n", where);
		unit_failures++;
		return;
	}
	ret = p2pmem_distance(ctx, p, devs, n, &v);
	if (strcmp(dist, "error") == 0) {
		/* The fourth column names the function the error must name. */
		if (ret != -EIO || !strstr(p2pmem_ctx_last_error(ctx), map)) {
			fprintf(stderr, "%s: expected -EIO naming %s, got %d \"%s\"\n",
				where, map, ret, p2pmem_ctx_last_error(ctx));
			unit_failures++;
		}
		p2pmem_verdict_free(v);
		return;
	}
	if (ret) {
		fprintf(stderr, "%s: p2pmem_distance() = %d (%s)\n", where, ret,
			p2pmem_ctx_last_error(ctx));
		unit_failures++;
		return;
	}
	if (p2pmem_verdict_distance(v) != atoi(dist) ||
	    strcmp(p2pmem_map_type_name(p2pmem_verdict_map_type(v)), map)) {
		fprintf(stderr, "%s: got %d %s, expected %s %s\n  reason: %s\n", where,
			p2pmem_verdict_distance(v),
			p2pmem_map_type_name(p2pmem_verdict_map_type(v)), dist, map,
			p2pmem_verdict_reason(v));
		unit_failures++;
	}
	/* ACS: the union over clients, in the kernel's parameter syntax. */
	{
		char got[512] = "";

		for (i = 0; i < n; i++) {
			const char *a = p2pmem_verdict_acs_redirect(v, i);

			if (*a && !strstr(got, a))
				snprintf(got + strlen(got), sizeof(got) - strlen(got),
					 "%s%s", *got ? ";" : "", a);
		}
		if (strcmp(acs, "-") == 0 ? *got != '\0' : strcmp(got, acs) != 0) {
			fprintf(stderr, "%s: ACS redirect \"%s\", expected \"%s\"\n", where, got, acs);
			unit_failures++;
		}
		/* The explanation must name the fix when redirect is at fault. */
		if (*got && !strstr(p2pmem_verdict_reason(v), "pci=disable_acs_redir=")) {
			fprintf(stderr, "%s: reason lacks the ACS fix: %s\n", where,
				p2pmem_verdict_reason(v));
			unit_failures++;
		}
	}
	if (p2pmem_verdict_map_type(v) == P2PMEM_MAP_NOT_SUPPORTED &&
	    !strstr(p2pmem_verdict_reason(v), "host bridge")) {
		fprintf(stderr, "%s: refusal does not name the host bridge: %s\n", where,
			p2pmem_verdict_reason(v));
		unit_failures++;
	}
	p2pmem_verdict_free(v);
}

static int run_cases(const char *dir, const char *name, int *ncases)
{
	char path[4096], line[1024], cpuinfo[4096];
	struct p2pmem_ctx *ctx;
	int lineno = 0;
	FILE *f;

	/* Tests run from the top of the source tree. */
	snprintf(path, sizeof(path), "tests/fixtures/%s.cases", name);
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "cannot open %s.cases: %s\n", name, strerror(errno));
		return -1;
	}
	snprintf(cpuinfo, sizeof(cpuinfo), "%s/%s.cpuinfo", dir, name);
	ctx = unit_ctx(name, NULL);
	while (fgets(line, sizeof(line), f)) {
		char *w[6] = { 0 }, *save, where[256];
		int nw = 0;

		lineno++;
		line[strcspn(line, "#\n")] = '\0';
		for (char *t = strtok_r(line, " \t", &save); t && nw < 6; t = strtok_r(NULL, " \t", &save))
			w[nw++] = t;
		if (!nw)
			continue;
		snprintf(where, sizeof(where), "%s.cases:%d", name, lineno);
		if (strcmp(w[0], "cpu") == 0 && nw == 3) {
			/* Rescan with another CPU identity. */
			FILE *c = fopen(cpuinfo, "w");

			if (!c) {
				fprintf(stderr, "%s: cannot write %s\n", where, cpuinfo);
				unit_failures++;
				continue;
			}
			fprintf(c, "processor\t: 0\nvendor_id\t: %s\ncpu family\t: %s\n\n", w[1], w[2]);
			fclose(c);
			p2pmem_ctx_free(ctx);
			ctx = unit_ctx(name, cpuinfo);
		} else if (strcmp(w[0], "best") == 0 && nw == 3) {
			check_best(ctx, where, w[1], w[2]);
		} else if (nw == 5 || (nw == 4 && strcmp(w[2], "error") == 0)) {
			check_case(ctx, where, w[0], w[1], w[2], w[3], nw == 5 ? w[4] : "-");
		} else {
			fprintf(stderr, "%s: malformed case line\n", where);
			unit_failures++;
			continue;
		}
		(*ncases)++;
	}
	fclose(f);
	p2pmem_ctx_free(ctx);
	return 0;
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
		char path[4096];
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "tests/fixtures/%s.cases", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;	/* a fixture without cases (large) */
		fclose(f);
		if (run_cases(dir, de->d_name, &ncases))
			unit_failures++;
		nfabrics++;
	}
	closedir(d);
	printf("distance_table: %d cases over %d fabrics\n", ncases, nfabrics);
	CHECK(nfabrics >= 7);
	CHECK(ncases >= 40);
	return unit_result("distance_table");
}
