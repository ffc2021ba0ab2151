/* SPDX-License-Identifier: MIT */
/*
 * `p2pmem nvmet`: an NVMe over Fabrics target (Linux nvmet, configured through
 * configfs) and the question users cannot answer from configfs alone: will
 * nvmet put the payload in p2p memory, and from which provider?
 *
 * The pieces: nvmet_configfs.c reads and writes nvmet's configfs tree
 * (<sysfs-root>/kernel/config/nvmet), rdma_dev.c finds the RDMA devices that
 * serve a port's address, nvmet_predict.c applies the kernel's rules
 * (drivers/nvme/target/core.c, drivers/pci/p2pdma.c) with the project's
 * distance rule, cmd_nvmet.c is the command.
 */
#ifndef P2PMEM_CLI_NVMET_H
#define P2PMEM_CLI_NVMET_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "p2pmem.h"

#define NVMET_MAX_NS		32
#define NVMET_MAX_RDMA		16
#define NVMET_MAX_PORTS		64
#define NVMET_MAX_HOSTS		16
#define NVMET_NQN_MAX		223	/* NVMF_NQN_SIZE - 1 */
#define NVMET_WHY		3072

/*
 * The transports nvmet offers through configfs (addr_trtype); OTHER: one
 * found in configfs that export does not make (fc, pci), never p2p.
 */
enum nvmet_transport { NVMET_RDMA, NVMET_TCP, NVMET_LOOP, NVMET_OTHER };

/* An RDMA device that serves a port's address. */
struct rdma_dev {
	char name[64];			/* mlx5_0, rxe0 */
	char netdev[64];		/* the interface holding the address */
	struct p2pmem_pci_dev *fn;	/* its PCI function; NULL: software */
};

/* A port: configfs ports/<id>. */
struct nvmet_port {
	unsigned int id;
	enum nvmet_transport trtype;
	char adrfam[8];			/* ipv4, ipv6, "" for loop */
	char traddr[64];
	char trsvcid[16];
	bool exists;			/* found in configfs, not to create */
};

/* What nvmet will do with one namespace, decided before anything is written. */
struct nvmet_ns {
	unsigned int nsid;
	char device[PATH_MAX];		/* device_path as written to configfs */
	char blk[64];			/* its block device (nvme0n1p1); "" for a file */
	bool is_file;			/* a regular file: file-backed namespace */
	bool p2p_driver;		/* its driver sets BLK_FEAT_PCI_P2PDMA */
	bool mpath_head;		/* an NVMe multipath node: no PCI parent */
	struct p2pmem_pci_dev *fn;	/* the PCI function below it */
	char attr[32];			/* p2pmem to write: "0", "1", a BDF; "" none */
	/* the prediction */
	bool p2p;			/* payload in p2p memory */
	char provider[32];		/* its provider's BDF when p2p */
	char why[NVMET_WHY];		/* one or two sentences */
	/* read back by `status` */
	bool enabled;
	char cur_attr[32];
};

/* Kernel facts the prediction needs. */
struct nvmet_env {
	struct p2pmem_ctx *ctx;
	const char *root;		/* sysfs root */
	char cfs[PATH_MAX];		/* <root>/kernel/config/nvmet */
	int p2pdma;			/* kernel has CONFIG_PCI_P2PDMA: 1, 0, -1 unknown */
	const char *p2pdma_how;		/* how we know */
	const char *kallsyms;		/* P2PMEM_KALLSYMS or /proc/kallsyms */
	const char *netifs;		/* P2PMEM_NETIFS: "IF ADDR" lines, for tests */
};

/* The p2pmem mode asked for: --p2pmem auto|off|1|BDF, --no-p2p = off. */
enum nvmet_mode { MODE_AUTO, MODE_OFF, MODE_ANY, MODE_BDF };

const char *nvmet_transport_name(enum nvmet_transport t);
int nvmet_transport_parse(const char *s, enum nvmet_transport *t);

/* rdma_dev.c */
/**
 * rdma_devs_for_addr() - the RDMA devices that serve @addr (all of them for
 * 0.0.0.0 or ::)
 * Return: how many (>= 0), -ENOENT when no interface has @addr (@why says
 * which interfaces exist), -ENODEV when its interface has no RDMA device
 */
int rdma_devs_for_addr(const struct nvmet_env *env, const char *addr,
		       struct rdma_dev *devs, size_t max, char *why, size_t len);
/** addr_is_local() - an interface has @addr, or @addr is "any" */
bool addr_is_local(const struct nvmet_env *env, const char *addr);

/* nvmet_predict.c */
/** nvmet_env_init() - where configfs is, and whether the kernel has P2PDMA */
void nvmet_env_init(struct nvmet_env *env, struct p2pmem_ctx *ctx);
/**
 * nvmet_ns_resolve() - a block device or file named by the user
 * Return: 0, or -errno with @why filled (a bad-input message)
 */
int nvmet_ns_resolve(const struct nvmet_env *env, const char *name,
		     struct nvmet_ns *ns, char *why, size_t len);
/**
 * nvmet_ns_check_attr() - would the kernel accept p2pmem=@value for @ns
 * (configfs write, then enable)?
 * Return: 0, or -errno as the kernel fails (ENODEV, EINVAL, EACCES) with the
 * reason in @why
 */
int nvmet_ns_check_attr(const struct nvmet_env *env, const struct nvmet_ns *ns,
			const char *value, char *why, size_t len);
/**
 * nvmet_ns_predict() - will I/O to @ns through @port use p2p memory, with
 * p2pmem=@ns->attr? Fills ns->p2p, ns->provider and ns->why.
 */
void nvmet_ns_predict(const struct nvmet_env *env, struct nvmet_ns *ns,
		      const struct nvmet_port *port, const struct rdma_dev *rdma,
		      size_t nrdma);
/**
 * nvmet_best_provider() - the published upstream provider the kernel would
 * take for @clients (pci_p2pmem_find_many; ties broken by BDF), in @bdf
 * Return: its distance, or -1 (@why says why)
 */
int nvmet_best_provider(const struct nvmet_env *env,
			struct p2pmem_pci_dev *const *clients, size_t n,
			char *bdf, size_t bdflen, char *why, size_t len);

/* nvmet_configfs.c */
struct nvmet_subsys_state {
	char nqn[NVMET_NQN_MAX + 1];
	bool allow_any_host;
	char hosts[NVMET_MAX_HOSTS][NVMET_NQN_MAX + 1];	/* allowed_hosts */
	size_t nhosts;
	struct nvmet_ns ns[NVMET_MAX_NS];
	size_t nns;
	struct nvmet_port ports[NVMET_MAX_PORTS];
	size_t nports;
};

/** nvmet_configfs_check() - nvmet's configfs is there; else why (and the fix) */
int nvmet_configfs_check(const struct nvmet_env *env, char *why, size_t len);
bool nvmet_subsys_exists(const struct nvmet_env *env, const char *nqn);
/** nvmet_subsys_read() - a subsystem's namespaces and the ports it is linked in */
int nvmet_subsys_read(const struct nvmet_env *env, const char *nqn,
		      struct nvmet_subsys_state *st);
/** nvmet_subsys_list() - NQNs of every subsystem (malloc'd array of strings) */
int nvmet_subsys_list(const struct nvmet_env *env, char ***nqns, size_t *n);
/**
 * nvmet_port_find() - an existing port with the same transport and address
 * (port->exists, port->id), or the lowest free port id
 */
int nvmet_port_find(const struct nvmet_env *env, struct nvmet_port *port);
/**
 * nvmet_export() - write subsystem, host access, namespaces, port and link;
 * @hosts: the host NQNs allowed to connect (hosts/ entries made where
 * missing); none: any host.  On any failure undo what was written and
 * explain (@why, with the kernel's log).
 */
int nvmet_export(const struct nvmet_env *env, const char *nqn,
		 struct nvmet_ns *ns, size_t nns, const struct nvmet_port *port,
		 const char *const *hosts, size_t nhosts, char *why, size_t len);
/**
 * nvmet_unexport() - the reverse; ports left serving nothing go too, and
 * hosts/ entries no subsystem allows any more (unless they hold DH-HMAC-CHAP
 * keys: configuration of their own)
 */
int nvmet_unexport(const struct nvmet_env *env, const char *nqn,
		   char *why, size_t len);

#endif /* P2PMEM_CLI_NVMET_H */
