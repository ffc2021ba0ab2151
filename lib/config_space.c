// SPDX-License-Identifier: MIT
/*
 * PCI configuration space: the PCI Express capability (port type) and the
 * ACS extended capability (whether a port redirects peer-to-peer traffic).
 *
 * Every offset read here comes from the buffer itself, so each one is
 * bounds-checked, and both capability walks are bounded like the kernel's
 * (a corrupt list can point back at itself).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config_space.h"

#define CFG_HEADER_LEN		64	/* what an unprivileged read returns */
#define CFG_EXT_START		0x100
#define CFG_VENDOR		0x00
#define CFG_DEVICE		0x02
#define CFG_STATUS		0x06
#define  CFG_STATUS_CAP_LIST	0x10
#define CFG_CLASS		0x09	/* prog-if, sub-class, base: 3 bytes */
#define CFG_HEADER_TYPE		0x0e
#define CFG_CAP_PTR		0x34
#define CFG_CB_CAP_PTR		0x14	/* CardBus bridges keep it elsewhere */
#define CAP_ID_EXP		0x10
#define CAP_EXP_FLAGS		0x02
#define EXT_CAP_ID_ACS		0x000d
#define EXT_ACS_CAP		0x04
#define EXT_ACS_CTRL		0x06
#define CAP_TTL			48	/* as the kernel's PCI_FIND_CAP_TTL */
#define EXT_CAP_TTL		((4096 - CFG_EXT_START) / 8)

static uint16_t get16(const uint8_t *buf, size_t off)
{
	return (uint16_t)(buf[off] | buf[off + 1] << 8);
}

static uint32_t get32(const uint8_t *buf, size_t off)
{
	return (uint32_t)buf[off] | (uint32_t)buf[off + 1] << 8 |
	       (uint32_t)buf[off + 2] << 16 | (uint32_t)buf[off + 3] << 24;
}

__attribute__((format(printf, 2, 3)))
static void malformed(struct p2pmem_cfg_info *info, const char *fmt, ...)
{
	va_list ap;

	info->state = P2PMEM_CFG_MALFORMED;
	va_start(ap, fmt);
	vsnprintf(info->why, sizeof(info->why), fmt, ap);
	va_end(ap);
}

/* Walk the classic capability list for the PCI Express capability. */
static void parse_caps(const uint8_t *buf, size_t len,
		       struct p2pmem_cfg_info *info)
{
	size_t ptr_off = (info->header_type == 2) ? CFG_CB_CAP_PTR : CFG_CAP_PTR;
	unsigned int pos = buf[ptr_off];
	int ttl = CAP_TTL;

	if (!(get16(buf, CFG_STATUS) & CFG_STATUS_CAP_LIST))
		return;

	while (pos) {
		pos &= ~3u;
		if (pos < CFG_HEADER_LEN) {
			malformed(info, "capability pointer 0x%02x points into the header",
				  pos);
			return;
		}
		if (pos + 4 > len) {
			/* Beyond what we may read (unprivileged): unknown. */
			if (len <= CFG_HEADER_LEN)
				return;
			malformed(info, "capability at 0x%02x beyond the %u bytes read",
				  pos, (unsigned int)len);
			return;
		}
		if (--ttl < 0) {
			malformed(info, "capability list loops (0x%02x revisited)",
				  pos);
			return;
		}
		if (buf[pos] == CAP_ID_EXP) {
			uint16_t flags = get16(buf, pos + CAP_EXP_FLAGS);

			info->port_type = (enum p2pmem_port_type)((flags >> 4) & 0xf);
			return;
		}
		pos = buf[pos + 1];
	}
}

/* Walk the extended capability list (PCIe only) for ACS. */
static void parse_ext_caps(const uint8_t *buf, size_t len,
			   struct p2pmem_cfg_info *info)
{
	unsigned int pos = CFG_EXT_START;
	int ttl = EXT_CAP_TTL;

	if (len < CFG_EXT_START + 4)
		return;

	while (pos) {
		uint32_t hdr;

		if (pos + 4 > len) {
			malformed(info, "extended capability at 0x%03x beyond the %u bytes read",
				  pos, (unsigned int)len);
			return;
		}
		if (--ttl < 0) {
			malformed(info, "extended capability list loops (0x%03x revisited)",
				  pos);
			return;
		}
		hdr = get32(buf, pos);
		/* An empty or all-ones header ends the list (PCIe spec). */
		if (hdr == 0 || hdr == 0xffffffff)
			return;
		if ((hdr & 0xffff) == EXT_CAP_ID_ACS) {
			if (pos + EXT_ACS_CTRL + 2 > len) {
				malformed(info, "ACS capability at 0x%03x cut short at %u bytes",
					  pos, (unsigned int)len);
				return;
			}
			info->has_acs = true;
			info->acs_cap = get16(buf, pos + EXT_ACS_CAP);
			info->acs_ctrl = get16(buf, pos + EXT_ACS_CTRL);
			return;
		}
		pos = (hdr >> 20) & ~3u;
		if (pos && pos < CFG_EXT_START) {
			malformed(info, "extended capability pointer 0x%03x below 0x100",
				  pos);
			return;
		}
	}
}

/**
 * p2pmem_cfg_parse() - decode what the distance rule needs
 * @buf: config space bytes as read from sysfs
 * @len: how many bytes were read
 * @info: result; @info->state says how far it can be trusted
 */
void p2pmem_cfg_parse(const uint8_t *buf, size_t len,
		      struct p2pmem_cfg_info *info)
{
	memset(info, 0, sizeof(*info));
	info->port_type = P2PMEM_PORT_NONE;

	if (len < CFG_HEADER_LEN) {
		malformed(info, "config space is %u bytes, a PCI header needs %u",
			  (unsigned int)len, CFG_HEADER_LEN);
		return;
	}
	info->vendor = get16(buf, CFG_VENDOR);
	info->device = get16(buf, CFG_DEVICE);
	info->class = (uint32_t)buf[CFG_CLASS] | (uint32_t)buf[CFG_CLASS + 1] << 8 |
		      (uint32_t)buf[CFG_CLASS + 2] << 16;
	info->header_type = buf[CFG_HEADER_TYPE] & 0x7f;
	if (info->vendor == 0xffff || info->vendor == 0x0000) {
		malformed(info, "vendor ID reads 0x%04x: the function is gone or the file is not config space",
			  info->vendor);
		return;
	}
	if (info->header_type > 2) {
		malformed(info, "unknown header type %u", info->header_type);
		return;
	}

	info->state = len >= CFG_EXT_START ? P2PMEM_CFG_FULL : P2PMEM_CFG_HEADER;
	parse_caps(buf, len, info);
	if (info->state == P2PMEM_CFG_MALFORMED)
		return;
	/* Only PCIe functions have extended config space. */
	if (info->state == P2PMEM_CFG_FULL && info->port_type != P2PMEM_PORT_NONE)
		parse_ext_caps(buf, len, info);
}
