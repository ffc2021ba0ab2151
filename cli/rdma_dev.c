// SPDX-License-Identifier: MIT
/*
 * Which RDMA devices serve an IP address: nvmet-rdma listens through the
 * RDMA CM on the address, so the device is the one bound to the interface
 * that holds it. A hardware device (mlx5, irdma, bnxt_re...) is a PCI
 * function: <root>/class/infiniband/X/device, the same function as the
 * interface's class/net/IF/device. Software RDMA (rxe, siw) sits on an
 * interface and names it in class/infiniband/X/parent; it has no PCI
 * function, which is why nvmet never gives it p2p memory.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "nvmet.h"

#define MAX_NETIFS 64

struct netif {
	char name[IF_NAMESIZE + 1];
	char addr[INET6_ADDRSTRLEN];
};

/* Both textual forms name the same address (10.0.0.1, ::ffff:... aside). */
static bool same_addr(const char *a, const char *b)
{
	unsigned char x[sizeof(struct in6_addr)], y[sizeof(struct in6_addr)];

	if (inet_pton(AF_INET, a, x) == 1 && inet_pton(AF_INET, b, y) == 1)
		return memcmp(x, y, sizeof(struct in_addr)) == 0;
	if (inet_pton(AF_INET6, a, x) == 1 && inet_pton(AF_INET6, b, y) == 1)
		return memcmp(x, y, sizeof(struct in6_addr)) == 0;
	return strcmp(a, b) == 0;
}

static bool addr_is_any(const char *addr)
{
	return same_addr(addr, "0.0.0.0") || same_addr(addr, "::");
}

/* The machine's addresses, or the test file's ("IF ADDR" per line). */
static size_t netifs_read(const struct nvmet_env *env, struct netif *ifs, size_t max)
{
	struct ifaddrs *all, *ifa;
	size_t n = 0;

	if (env->netifs) {
		FILE *f = fopen(env->netifs, "r");
		char line[256];

		if (!f)
			return 0;
		while (n < max && fgets(line, sizeof(line), f)) {
			if (sscanf(line, "%16s %45s", ifs[n].name, ifs[n].addr) == 2)
				n++;
		}
		fclose(f);
		return n;
	}
	if (getifaddrs(&all) != 0)
		return 0;
	for (ifa = all; ifa && n < max; ifa = ifa->ifa_next) {
		const void *a;
		int fam;

		if (!ifa->ifa_addr)
			continue;
		fam = ifa->ifa_addr->sa_family;
		if (fam == AF_INET)
			a = &((struct sockaddr_in *)(void *)ifa->ifa_addr)->sin_addr;
		else if (fam == AF_INET6)
			a = &((struct sockaddr_in6 *)(void *)ifa->ifa_addr)->sin6_addr;
		else
			continue;
		if (!inet_ntop(fam, a, ifs[n].addr, sizeof(ifs[n].addr)))
			continue;
		snprintf(ifs[n].name, sizeof(ifs[n].name), "%s", ifa->ifa_name);
		n++;
	}
	freeifaddrs(all);
	return n;
}

bool addr_is_local(const struct nvmet_env *env, const char *addr)
{
	struct netif ifs[MAX_NETIFS];
	size_t n, i;

	if (addr_is_any(addr))
		return true;
	n = netifs_read(env, ifs, MAX_NETIFS);
	for (i = 0; i < n; i++)
		if (same_addr(ifs[i].addr, addr))
			return true;
	return false;
}

static char *real_of(const struct nvmet_env *env, const char *fmt, const char *a, const char *b)
{
	char path[PATH_MAX], rel[PATH_MAX];

	snprintf(rel, sizeof(rel), fmt, a, b);
	snprintf(path, sizeof(path), "%s/%s", env->root, rel);
	return realpath(path, NULL);
}

static bool file_is(const char *path, const char *want)
{
	char buf[128];
	FILE *f = fopen(path, "r");
	bool yes = false;

	if (!f)
		return false;
	if (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = 0;
		yes = strcmp(buf, want) == 0;
	}
	fclose(f);
	return yes;
}

/* RoCE devices list their interfaces per port: ports/N/gid_attrs/ndevs/I. */
static bool gid_ndev_is(const struct nvmet_env *env, const char *ib, const char *netdev)
{
	char dir[PATH_MAX], sub[PATH_MAX + 300], file[PATH_MAX + 600];
	struct dirent *p, *g;
	DIR *ports, *ndevs;
	bool yes = false;

	snprintf(dir, sizeof(dir), "%s/class/infiniband/%s/ports", env->root, ib);
	ports = opendir(dir);
	if (!ports)
		return false;
	while (!yes && (p = readdir(ports))) {
		if (p->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s/gid_attrs/ndevs", dir, p->d_name);
		ndevs = opendir(sub);
		if (!ndevs)
			continue;
		while (!yes && (g = readdir(ndevs))) {
			if (g->d_name[0] == '.')
				continue;
			snprintf(file, sizeof(file), "%s/%s", sub, g->d_name);
			yes = file_is(file, netdev);
		}
		closedir(ndevs);
	}
	closedir(ports);
	return yes;
}

/* The PCI function of a sysfs device path, if it is one (…/0000:05:00.0). */
static struct p2pmem_pci_dev *pci_fn_of(const struct nvmet_env *env, const char *real)
{
	const char *base = real ? strrchr(real, '/') : NULL;
	struct p2pmem_pci_dev *fn = NULL;

	if (!base || !strstr(real, "/devices/pci"))
		return NULL;
	if (p2pmem_pci_dev_find(env->ctx, base + 1, &fn) != 0)
		return NULL;
	return fn;
}

/* Append the RDMA devices on interface @netdev. */
static size_t rdma_devs_on(const struct nvmet_env *env, const char *netdev,
			   struct rdma_dev *devs, size_t n, size_t max)
{
	char dir[PATH_MAX], parent[PATH_MAX + 300];
	char *net_real = real_of(env, "class/net/%s/device%s", netdev, "");
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/class/infiniband", env->root);
	d = opendir(dir);
	if (!d) {
		free(net_real);
		return n;
	}
	while (n < max && (e = readdir(d))) {
		char *ib_real;
		bool match;

		if (e->d_name[0] == '.')
			continue;
		ib_real = real_of(env, "class/infiniband/%s/device%s", e->d_name, "");
		snprintf(parent, sizeof(parent), "%s/%s/parent", dir, e->d_name);
		match = (ib_real && net_real && strcmp(ib_real, net_real) == 0) ||
			file_is(parent, netdev) || gid_ndev_is(env, e->d_name, netdev);
		if (match) {
			snprintf(devs[n].name, sizeof(devs[n].name), "%s", e->d_name);
			snprintf(devs[n].netdev, sizeof(devs[n].netdev), "%s", netdev);
			devs[n].fn = pci_fn_of(env, ib_real);
			n++;
		}
		free(ib_real);
	}
	closedir(d);
	free(net_real);
	return n;
}

int rdma_devs_for_addr(const struct nvmet_env *env, const char *addr,
		       struct rdma_dev *devs, size_t max, char *why, size_t len)
{
	struct netif ifs[MAX_NETIFS];
	size_t nif, i, j, n = 0, off = 0;
	bool any = addr_is_any(addr), found = false;

	nif = netifs_read(env, ifs, MAX_NETIFS);
	for (i = 0; i < nif; i++) {
		if (!any && !same_addr(ifs[i].addr, addr))
			continue;
		found = true;
		/* one interface may hold several addresses: list it once */
		for (j = 0; j < n; j++)
			if (strcmp(devs[j].netdev, ifs[i].name) == 0)
				break;
		if (j == n)
			n = rdma_devs_on(env, ifs[i].name, devs, n, max);
	}
	if (n)
		return (int)n;
	if (!found) {
		off = (size_t)snprintf(why, len, "no interface of this machine has the address %s (addresses:", addr);
		for (i = 0; i < nif && off < len; i++)
			off += (size_t)snprintf(why + off, len - off, " %s %s%s", ifs[i].name, ifs[i].addr,
						i + 1 < nif ? "," : "");
		if (off < len)
			snprintf(why + off, len - off, "%s); give one of them, or 0.0.0.0 for all",
				 nif ? "" : " none");
		return -ENOENT;
	}
	snprintf(why, len, "no RDMA device serves %s: its interface has none (an RDMA NIC's interface, or software RDMA: `rdma link add rxe0 type rxe netdev IF` with the rdma_rxe module)",
		 addr);
	return -ENODEV;
}
