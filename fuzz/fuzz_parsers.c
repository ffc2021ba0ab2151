// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for everything libp2pmem parses from outside: config
 * space bytes, cpuinfo text, sysfs numbers and PCI addresses. The first
 * byte picks the parser; the rest is its input.
 *
 *   make fuzz && build/fuzz/fuzz_parsers -runs=1000000 fuzz/corpus
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct p2pmem_cfg_info info;
	char *text, desc[64];
	uint64_t v;
	uint32_t dom;
	uint8_t bus, devfn;

	if (size < 1)
		return 0;
	/* Exact-size copies, so ASan sees any read past the input. */
	switch (data[0] % 3) {
	case 0: {
		uint8_t *buf = malloc(size - 1 ? size - 1 : 1);

		if (!buf)
			return 0;
		memcpy(buf, data + 1, size - 1);
		p2pmem_cfg_parse(buf, size - 1, &info);
		/* The parser's verdict must be self-consistent. */
		if (info.state == P2PMEM_CFG_MALFORMED && !info.why[0])
			abort();
		if (info.has_acs && info.state == P2PMEM_CFG_HEADER)
			abort();
		free(buf);
		break;
	}
	case 1:
		text = malloc(size);
		if (!text)
			return 0;
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		p2pmem_cpuinfo_parse(text, desc, sizeof(desc));
		if (!memchr(desc, '\0', sizeof(desc)))
			abort();
		free(text);
		break;
	default:
		text = malloc(size);
		if (!text)
			return 0;
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		(void)p2pmem_parse_u64(text, &v);
		if (p2pmem_parse_bdf(text, &dom, &bus, &devfn) == 0 &&
		    (dom > 0xffff || (devfn >> 3) > 0x1f))
			abort();
		free(text);
		break;
	}
	return 0;
}
