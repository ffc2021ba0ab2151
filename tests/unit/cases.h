/* SPDX-License-Identifier: MIT */
/*
 * The expected answers of tests/fixtures/<fabric>.cases, read once for
 * every judge of the distance rule (the library, the kernel module's port).
 * Lines:
 *   PROVIDER CLIENT[,CLIENT..] DISTANCE MAP-TYPE ACS     a verdict
 *   PROVIDER CLIENT[,CLIENT..] error FUNCTION            refuse to judge
 *   best CLIENT[,CLIENT..] PROVIDER                      the best provider
 *   cpu VENDOR FAMILY                                    CPU from here on
 */
#ifndef P2PMEM_CASES_H
#define P2PMEM_CASES_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

#define CASES_MAX_CLIENTS 8

struct case_line {
	const char *where;		/* "switch.cases:12" */
	const char *provider;
	const char *clients[CASES_MAX_CLIENTS];
	int nclients;
	const char *distance;		/* a number, or "error" */
	const char *map;		/* map type, or the function at fault */
	const char *acs;		/* "-" or "bdf;bdf" */
};

struct cases_ops {
	void (*cpu)(void *priv, const char *vendor, const char *family);
	void (*verdict)(void *priv, const struct case_line *c);
	void (*best)(void *priv, const struct case_line *c);
	void *priv;
};

static inline int cases_split_clients(char *list, struct case_line *c)
{
	char *save, *tok;

	c->nclients = 0;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (c->nclients == CASES_MAX_CLIENTS)
			return -1;
		c->clients[c->nclients++] = tok;
	}
	return c->nclients ? 0 : -1;
}

/* Run every line of the fabric's table through @ops; the number of cases. */
static inline int cases_run(const char *fabric, const struct cases_ops *ops)
{
	char path[4096], line[1024], where[256];
	int lineno = 0, n = 0;
	FILE *f;

	/* Tests run from the top of the source tree. */
	snprintf(path, sizeof(path), "tests/fixtures/%s.cases", fabric);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		struct case_line c = { .where = where };
		char *w[6] = { 0 }, *save, *t;
		int nw = 0;

		lineno++;
		line[strcspn(line, "#\n")] = '\0';
		for (t = strtok_r(line, " \t", &save); t && nw < 6; t = strtok_r(NULL, " \t", &save))
			w[nw++] = t;
		if (!nw)
			continue;
		snprintf(where, sizeof(where), "%s.cases:%d", fabric, lineno);
		if (strcmp(w[0], "cpu") == 0 && nw == 3) {
			if (ops->cpu)
				ops->cpu(ops->priv, w[1], w[2]);
			continue;
		}
		if (strcmp(w[0], "best") == 0 && nw == 3 && !cases_split_clients(w[1], &c)) {
			c.provider = w[2];
			if (ops->best)
				ops->best(ops->priv, &c);
		} else if ((nw == 5 || (nw == 4 && strcmp(w[2], "error") == 0)) &&
			   !cases_split_clients(w[1], &c)) {
			c.provider = w[0];
			c.distance = w[2];
			c.map = w[3];
			c.acs = nw == 5 ? w[4] : "-";
			if (ops->verdict)
				ops->verdict(ops->priv, &c);
		} else {
			fprintf(stderr, "%s: malformed case line\n", where);
			unit_failures++;
			continue;
		}
		n++;
	}
	fclose(f);
	return n;
}

#endif /* P2PMEM_CASES_H */
