/* SPDX-License-Identifier: MIT */
/*
 * Parsing of a PCI function's configuration space as sysfs `config` gives
 * it: 256 or 4096 bytes for root, the first 64 bytes for everybody else.
 * Pure functions over a buffer, so the fuzzer can drive them directly.
 */
#ifndef P2PMEM_CONFIG_SPACE_H
#define P2PMEM_CONFIG_SPACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#include "p2pmem.h"

/**
 * struct p2pmem_cfg_info - what the distance rule needs from config space
 * @state: how much could be read and trusted
 * @vendor: vendor ID from the header
 * @device: device ID from the header
 * @class: class code (base, sub-class, programming interface)
 * @header_type: header layout (0 endpoint, 1 bridge, 2 CardBus)
 * @port_type: PCIe device/port type, P2PMEM_PORT_NONE if no capability
 * @has_acs: an ACS extended capability exists
 * @acs_cap: ACS Capability Register
 * @acs_ctrl: ACS Control Register
 * @why: for P2PMEM_CFG_MALFORMED, what is wrong
 */
struct p2pmem_cfg_info {
	enum p2pmem_cfg_state state;
	uint16_t vendor;
	uint16_t device;
	uint32_t class;
	uint8_t header_type;
	enum p2pmem_port_type port_type;
	bool has_acs;
	uint16_t acs_cap;
	uint16_t acs_ctrl;
	char why[96];
};

void p2pmem_cfg_parse(const uint8_t *buf, size_t len,
		      struct p2pmem_cfg_info *info);

#endif /* P2PMEM_CONFIG_SPACE_H */
