// SPDX-License-Identifier: MIT
/*
 * Vendor and device names from the PCI ID database (pci.ids, through
 * pciutils' libpci), as lspci shows them. The database is the system's
 * (and udev's hwdb) unless P2PMEM_PCI_IDS names a file, which the tests
 * do so that their output does not depend on the machine; P2PMEM_PCI_IDS=""
 * turns names off.
 *
 * libpci is loaded when the first name is wanted (dlopen): it brings
 * libudev and zlib along, and a copy or a list, which show no names, need
 * not pay for loading three libraries at every start. Without libpci (or
 * pci.ids) there are no names, nothing else changes.
 */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pci/pci.h>

#include "cli.h"

static struct pci_access *pacc;
static bool disabled;
static char *(*lookup_name)(struct pci_access *a, char *buf, int size, int flags, ...);

static void pci_names_quiet(char *msg, ...)
{
	(void)msg;	/* a missing or broken database means no names */
}

/* libpci calls error() only where it cannot go on: say so and stop. */
static void __attribute__((noreturn)) pci_names_fatal(char *msg, ...)
{
	fprintf(stderr, "p2pmem: libpci: %s\n", msg);
	exit(1);
}

static struct pci_access *pci_names_access(void)
{
	const char *ids = getenv("P2PMEM_PCI_IDS");

	if (pacc || disabled)
		return pacc;
	struct pci_access *(*alloc)(void);
	void (*set_path)(struct pci_access *a, char *name, int to_be_freed);
	void *lib;

	if (ids && !*ids) {
		disabled = true;
		return NULL;
	}
	disabled = true;	/* until everything below worked */
	lib = dlopen("libpci.so.3", RTLD_LAZY | RTLD_LOCAL);
	if (!lib)
		return NULL;
	*(void **)&alloc = dlsym(lib, "pci_alloc");
	*(void **)&set_path = dlsym(lib, "pci_set_name_list_path");
	*(void **)&lookup_name = dlsym(lib, "pci_lookup_name");
	if (!alloc || !set_path || !lookup_name)
		return NULL;
	pacc = alloc();
	if (!pacc)
		return NULL;
	disabled = false;
	/* pci_init() would set these; names need no access method. */
	pacc->warning = pci_names_quiet;
	pacc->debug = pci_names_quiet;
	pacc->error = pci_names_fatal;
	if (ids) {
		set_path(pacc, (char *)ids, 0);
		pacc->id_lookup_mode |= PCI_LOOKUP_NO_HWDB;
	}
	return pacc;
}

/**
 * cli_pci_name() - "Vendor Device" of @dev from the PCI ID database
 * Return: @buf, or NULL when the database does not know the device
 */
const char *cli_pci_name(const struct p2pmem_pci_dev *dev, char *buf, size_t len)
{
	struct pci_access *a = pci_names_access();

	if (!a)
		return NULL;
	return lookup_name(a, buf, (int)len,
			       PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE | PCI_LOOKUP_NO_NUMBERS,
			       (int)p2pmem_pci_dev_vendor(dev), (int)p2pmem_pci_dev_device(dev));
}
