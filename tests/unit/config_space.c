// SPDX-License-Identifier: MIT
/*
 * Config-space parsing on synthetic buffers: port types, ACS, and every way
 * a buffer can be short, looping or garbage.
 */
#include <stdint.h>
#include <string.h>

#include "unit.h"
#include "config_space.h"

static uint8_t cfg[4096];

static void put16(size_t off, uint16_t v) { cfg[off] = v & 0xff; cfg[off + 1] = v >> 8; }
static void put32(size_t off, uint32_t v) { put16(off, v & 0xffff); put16(off + 2, v >> 16); }

/* A PCIe function: PM cap at 0x40 -> PCIe cap at 0x50 (port type). */
static void make_pcie(uint8_t port_type)
{
	memset(cfg, 0, sizeof(cfg));
	put16(0x00, 0x1b36);
	put16(0x02, 0x0010);
	put16(0x06, 0x0010);
	cfg[0x09] = 0x02; cfg[0x0a] = 0x08; cfg[0x0b] = 0x01;
	cfg[0x34] = 0x40;
	cfg[0x40] = 0x01; cfg[0x41] = 0x50;
	cfg[0x50] = 0x10; cfg[0x51] = 0x00;
	put16(0x52, (uint16_t)(0x2 | port_type << 4));
}

int main(void)
{
	struct p2pmem_cfg_info info;

	/* An endpoint with no extended capabilities. */
	make_pcie(0);
	p2pmem_cfg_parse(cfg, sizeof(cfg), &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_FULL);
	CHECK_EQ_INT(info.vendor, 0x1b36);
	CHECK_EQ_INT(info.class, 0x010802);
	CHECK_EQ_INT(info.port_type, P2PMEM_PORT_ENDPOINT);
	CHECK(!info.has_acs);

	/* A downstream port with AER, then ACS (ctrl RR|CR). */
	make_pcie(6);
	put32(0x100, 0x0001 | 1u << 16 | 0x140u << 20);
	put32(0x140, 0x000d | 1u << 16);
	put16(0x144, 0x005f);
	put16(0x146, 0x000c);
	p2pmem_cfg_parse(cfg, sizeof(cfg), &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_FULL);
	CHECK_EQ_INT(info.port_type, P2PMEM_PORT_DOWNSTREAM);
	CHECK(info.has_acs);
	CHECK_EQ_INT(info.acs_cap, 0x005f);
	CHECK_EQ_INT(info.acs_ctrl, 0x000c);

	/* 256 bytes (no extended space read): port type, no ACS yet. */
	p2pmem_cfg_parse(cfg, 256, &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_FULL);
	CHECK_EQ_INT(info.port_type, P2PMEM_PORT_DOWNSTREAM);
	CHECK(!info.has_acs);

	/* ACS capability cut off by the end of the buffer. */
	p2pmem_cfg_parse(cfg, 0x144, &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_MALFORMED);

	/* Unprivileged: 64 bytes; the capability list is out of reach. */
	p2pmem_cfg_parse(cfg, 64, &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_HEADER);
	CHECK_EQ_INT(info.port_type, P2PMEM_PORT_NONE);
	CHECK_EQ_INT(info.vendor, 0x1b36);

	/* Too short for a header, or nothing at all. */
	p2pmem_cfg_parse(cfg, 63, &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_MALFORMED);
	CHECK(strstr(info.why, "63 bytes") != NULL);
	p2pmem_cfg_parse(cfg, 0, &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_MALFORMED);

	/* All ones: the device fell off the bus. */
	memset(cfg, 0xff, sizeof(cfg));
	p2pmem_cfg_parse(cfg, sizeof(cfg), &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_MALFORMED);
	CHECK(strstr(info.why, "0xffff") != NULL);

	/* A capability list that loops, or points into the header. */
	make_pcie(0);
	cfg[0x41] = 0x40;
	p2pmem_cfg_parse(cfg, sizeof(cfg), &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_MALFORMED);
	CHECK(strstr(info.why, "loops") != NULL);
	make_pcie(0);
	cfg[0x34] = 0x10;
	p2pmem_cfg_parse(cfg, sizeof(cfg), &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_MALFORMED);

	/* An extended list that loops, or points below 0x100. */
	make_pcie(4);
	put32(0x100, 0x0001 | 1u << 16 | 0x100u << 20);
	p2pmem_cfg_parse(cfg, sizeof(cfg), &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_MALFORMED);
	make_pcie(4);
	put32(0x100, 0x0001 | 1u << 16 | 0x0c0u << 20);
	p2pmem_cfg_parse(cfg, sizeof(cfg), &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_MALFORMED);
	/* An all-ones extended header simply ends the list. */
	make_pcie(4);
	put32(0x100, 0xffffffff);
	p2pmem_cfg_parse(cfg, sizeof(cfg), &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_FULL);
	CHECK_EQ_INT(info.port_type, P2PMEM_PORT_ROOT_PORT);

	/* Conventional PCI: no capability list, so no port type. */
	make_pcie(0);
	put16(0x06, 0);
	p2pmem_cfg_parse(cfg, 256, &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_FULL);
	CHECK_EQ_INT(info.port_type, P2PMEM_PORT_NONE);

	/* A CardBus bridge keeps its capability pointer at 0x14. */
	make_pcie(0);
	cfg[0x0e] = 0x02;
	cfg[0x34] = 0;
	cfg[0x14] = 0x40;
	p2pmem_cfg_parse(cfg, 256, &info);
	CHECK_EQ_INT(info.port_type, P2PMEM_PORT_ENDPOINT);

	/* Unknown header type. */
	make_pcie(0);
	cfg[0x0e] = 0x05;
	p2pmem_cfg_parse(cfg, 256, &info);
	CHECK_EQ_INT(info.state, P2PMEM_CFG_MALFORMED);

	return unit_result("config_space");
}
