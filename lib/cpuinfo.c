// SPDX-License-Identifier: MIT
/*
 * The kernel lets p2p traffic cross any host bridge of an AMD CPU of family
 * 0x17 (Zen) or later. We learn the CPU from /proc/cpuinfo (or the file the
 * context names): the first processor's vendor_id and "cpu family".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define ZEN_FAMILY 0x17

/* The value of "key<spaces>: value" on the line starting at @line. */
static const char *field(const char *line, const char *key, size_t *vlen)
{
	size_t klen = strlen(key);
	const char *p, *eol;

	if (strncmp(line, key, klen) != 0)
		return NULL;
	p = line + klen;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != ':')
		return NULL;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	eol = strchr(p, '\n');
	*vlen = eol ? (size_t)(eol - p) : strlen(p);
	return p;
}

bool p2pmem_cpuinfo_parse(const char *text, char *desc, size_t desclen)
{
	char vendor[32] = "";
	long family = -1;
	const char *line = text;

	while (line && *line) {
		const char *v;
		size_t vlen;

		/* A blank line ends the first processor's block. */
		if (*line == '\n' && (vendor[0] || family >= 0))
			break;
		v = field(line, "vendor_id", &vlen);
		if (v && !vendor[0]) {
			if (vlen >= sizeof(vendor))
				vlen = sizeof(vendor) - 1;
			memcpy(vendor, v, vlen);
			vendor[vlen] = '\0';
		}
		v = field(line, "cpu family", &vlen);
		if (v && family < 0) {
			char num[16];
			char *end;

			if (vlen >= sizeof(num))
				vlen = sizeof(num) - 1;
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			family = strtol(num, &end, 10);
			if (end == num || family < 0)
				family = -1;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}

	if (!vendor[0] && family < 0)
		snprintf(desc, desclen, "unknown CPU");
	else
		snprintf(desc, desclen, "%s family 0x%lx",
			 vendor[0] ? vendor : "unknown-vendor",
			 family < 0 ? 0 : (unsigned long)family);
	return strcmp(vendor, "AuthenticAMD") == 0 && family >= ZEN_FAMILY;
}
