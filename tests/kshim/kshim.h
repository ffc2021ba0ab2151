/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A userspace stand-in for the few kernel interfaces that the module's
 * distance rule (kmod/distance.c) uses, so tests/unit/kmod_distance.c can
 * run the kernel's code over the library's fixture fabrics. Fields named
 * shim_* hold what the kernel would read from config space or the bus.
 * Only for tests: nothing here is a kernel API.
 */
#ifndef KSHIM_H
#define KSHIM_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef uint64_t pci_bus_addr_t;
typedef uint64_t dma_addr_t;

enum dma_data_direction {
	DMA_BIDIRECTIONAL = 0,
	DMA_TO_DEVICE = 1,
	DMA_FROM_DEVICE = 2,
	DMA_NONE = 3,
};

#define CONFIG_X86 1
#define BIT(n) (1UL << (n))
#define EXPORT_SYMBOL_GPL(sym)
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct list_head {
	struct list_head *next, *prev;
};

#define list_first_entry_or_null(head, type, member)			\
	((head)->next && (head)->next != (head) ?			\
	 container_of((head)->next, type, member) : NULL)

struct device;
struct scatterlist;
struct pci_host_bridge;

struct pci_bus {
	struct list_head devices;	/* the functions on it, devfn order */
	struct pci_host_bridge *shim_host;
};

struct pci_host_bridge {
	struct pci_bus *bus;		/* the root bus */
};

struct pci_dev {
	struct list_head bus_list;
	struct pci_bus *bus;
	unsigned int devfn;
	unsigned short vendor;
	unsigned short device;
	u16 acs_cap;			/* 0: no ACS capability */
	u16 shim_acs_ctrl;
	int shim_pcie_type;
	struct pci_dev *shim_upstream;
	char shim_name[16];
};

#define PCI_DEVFN(slot, func)	((((slot) & 0x1f) << 3) | ((func) & 0x07))
#define PCI_VENDOR_ID_INTEL	0x8086
#define PCI_EXP_TYPE_ROOT_PORT	0x4
#define PCI_ACS_CTRL		0x06
#define PCI_ACS_RR		0x0004
#define PCI_ACS_CR		0x0008
#define PCI_ACS_EC		0x0020

static inline struct pci_dev *pci_upstream_bridge(struct pci_dev *dev)
{
	return dev->shim_upstream;
}

static inline struct pci_host_bridge *pci_find_host_bridge(struct pci_bus *bus)
{
	return bus->shim_host;
}

static inline int pci_read_config_word(const struct pci_dev *dev, int where, u16 *val)
{
	*val = dev->acs_cap && where == dev->acs_cap + PCI_ACS_CTRL ? dev->shim_acs_ctrl : 0;
	return 0;
}

static inline int pci_pcie_type(const struct pci_dev *dev)
{
	return dev->shim_pcie_type;
}

static inline const char *pci_name(const struct pci_dev *dev)
{
	return dev->shim_name;
}

#define pci_warn(dev, ...) do { (void)(dev); } while (0)

static inline int scnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!size)
		return 0;
	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 ? 0 : (size_t)n >= size ? (int)size - 1 : n;
}

#define X86_VENDOR_AMD 2
struct cpuinfo_x86 {
	int x86_vendor;
	int x86;
};
extern struct cpuinfo_x86 boot_cpu_data;

#endif /* KSHIM_H */
