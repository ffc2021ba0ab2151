// SPDX-License-Identifier: MIT
/*
 * The small parsers: cpuinfo (the AMD Zen rule), numbers, PCI addresses,
 * and lexical resolution of sysfs links.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "internal.h"

static bool zen(const char *text)
{
	char desc[64];

	return p2pmem_cpuinfo_parse(text, desc, sizeof(desc));
}

int main(void)
{
	char desc[64];
	uint64_t v;
	uint32_t dom;
	uint8_t bus, devfn;

	/* cpuinfo: family is decimal there; Zen is 0x17 = 23. */
	CHECK(zen("processor\t: 0\nvendor_id\t: AuthenticAMD\ncpu family\t: 23\n"));
	CHECK(zen("vendor_id : AuthenticAMD\ncpu family : 25\n"));
	CHECK(!zen("vendor_id\t: AuthenticAMD\ncpu family\t: 22\n"));
	CHECK(!zen("vendor_id\t: GenuineIntel\ncpu family\t: 25\n"));
	CHECK(!zen("vendor_id\t: HygonGenuine\ncpu family\t: 24\n"));
	CHECK(!zen(""));
	CHECK(!zen("vendor_id\t: AuthenticAMD\ncpu family\t: banana\n"));
	CHECK(!zen("vendor_id\t: AuthenticAMD\n"));
	/* Only the first processor's block counts. */
	CHECK(!zen("vendor_id\t: GenuineIntel\ncpu family\t: 6\n\nvendor_id\t: AuthenticAMD\ncpu family\t: 25\n"));
	p2pmem_cpuinfo_parse("vendor_id\t: AuthenticAMD\ncpu family\t: 25\n", desc, sizeof(desc));
	CHECK_EQ_STR(desc, "AuthenticAMD family 0x19");

	/* Numbers as sysfs writes them. */
	CHECK_EQ_INT(p2pmem_parse_u64("67108864\n", &v), 0);
	CHECK_EQ_INT(v, 67108864);
	CHECK_EQ_INT(p2pmem_parse_u64("0x8086", &v), 0);
	CHECK_EQ_INT(v, 0x8086);
	CHECK_EQ_INT(p2pmem_parse_u64("", &v), -EINVAL);
	CHECK_EQ_INT(p2pmem_parse_u64("-1", &v), -EINVAL);
	CHECK_EQ_INT(p2pmem_parse_u64("12abc", &v), -EINVAL);
	CHECK_EQ_INT(p2pmem_parse_u64("99999999999999999999999", &v), -EINVAL);

	/* PCI addresses. */
	CHECK_EQ_INT(p2pmem_parse_bdf("0000:03:00.0", &dom, &bus, &devfn), 0);
	CHECK_EQ_INT(bus, 3);
	CHECK_EQ_INT(devfn, 0);
	CHECK_EQ_INT(p2pmem_parse_bdf("10000:03:1f.7", &dom, &bus, &devfn), -EINVAL);
	CHECK_EQ_INT(p2pmem_parse_bdf("abcd:ff:1f.7", &dom, &bus, &devfn), 0);
	CHECK_EQ_INT(dom, 0xabcd);
	CHECK_EQ_INT(devfn, 0x1f << 3 | 7);
	CHECK_EQ_INT(p2pmem_parse_bdf("03:00.1", &dom, &bus, &devfn), 0);
	CHECK_EQ_INT(dom, 0);
	CHECK_EQ_INT(devfn, 1);
	CHECK_EQ_INT(p2pmem_parse_bdf("03:20.0", &dom, &bus, &devfn), -EINVAL);
	CHECK_EQ_INT(p2pmem_parse_bdf("03:00.8", &dom, &bus, &devfn), -EINVAL);
	CHECK_EQ_INT(p2pmem_parse_bdf("0000:03:00.0x", &dom, &bus, &devfn), -EINVAL);
	CHECK_EQ_INT(p2pmem_parse_bdf("nvme0n1", &dom, &bus, &devfn), -EINVAL);
	CHECK_EQ_INT(p2pmem_parse_bdf("", &dom, &bus, &devfn), -EINVAL);

	/* Links: relative targets joined and normalized without realpath. */
	{
		char dir[] = "/tmp/p2pmem-parsers-XXXXXX", link[PATH_MAX], sub[PATH_MAX];
		char *r;

		CHECK(mkdtemp(dir) != NULL);
		snprintf(sub, sizeof(sub), "%s/devices", dir);
		CHECK(mkdir(sub, 0755) == 0);
		snprintf(link, sizeof(link), "%s/l", dir);
		CHECK(symlink("./devices/../devices/x/../y", link) == 0);
		r = p2pmem_resolve_link(link);
		snprintf(sub, sizeof(sub), "%s/devices/y", dir);
		CHECK_EQ_STR(r, sub);
		free(r);
		/* Not a link: the path itself. */
		snprintf(sub, sizeof(sub), "%s/devices", dir);
		r = p2pmem_resolve_link(sub);
		CHECK_EQ_STR(r, sub);
		free(r);
		/* Missing: NULL. */
		snprintf(sub, sizeof(sub), "%s/missing", dir);
		CHECK(p2pmem_resolve_link(sub) == NULL);
		unlink(link);
		snprintf(sub, sizeof(sub), "%s/devices", dir);
		rmdir(sub);
		rmdir(dir);
	}
	return unit_result("parsers");
}
