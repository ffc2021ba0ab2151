// SPDX-License-Identifier: MIT
/*
 * nvmet's configfs tree (Documentation/nvme/nvme-target.rst): a subsystem is
 * a directory under subsystems/, a namespace a directory under its
 * namespaces/ with device_path, p2pmem and enable, a port a directory under
 * ports/ with addr_* attributes, and a subsystem is exported on a port by a
 * symlink in ports/<id>/subsystems/. Attributes exist only once configfs
 * made them (mkdir), so files are opened without O_CREAT: a missing one is
 * the kernel saying it does not have that feature.
 *
 * An export is all or nothing: every step is logged, and on the first
 * failure the log is undone in reverse, with the kernel's own messages
 * (from /dev/kmsg, read from where the export started) in the explanation.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nvmet.h"

#define MAX_UNDO (4 * NVMET_MAX_NS + 16)

enum undo_kind { UNDO_RMDIR, UNDO_UNLINK, UNDO_DISABLE };

struct undo {
	enum undo_kind kind;
	char path[PATH_MAX];
};

struct txn {
	const struct nvmet_env *env;
	struct undo log[MAX_UNDO];
	size_t n;
	int kmsg;		/* /dev/kmsg from the start, or -1 */
};

static int cfs_write(const char *path, const char *value)
{
	size_t len = strlen(value);
	ssize_t w;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	w = write(fd, value, len);
	if (w < 0)
		err = -errno;
	else if ((size_t)w != len)
		err = -EIO;
	if (close(fd) != 0 && !err)
		err = -errno;
	return err;
}

static bool cfs_read(const char *path, char *buf, size_t len)
{
	ssize_t r;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	r = read(fd, buf, len - 1);
	close(fd);
	if (r < 0)
		return false;
	buf[r] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return true;
}

int nvmet_configfs_check(const struct nvmet_env *env, char *why, size_t len)
{
	struct stat st;

	if (stat(env->cfs, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	snprintf(why, len, "nvmet is not available: %s does not exist; load the target (modprobe nvmet, plus nvmet-rdma, nvmet-tcp or nvme-loop for the port) and mount configfs if it is not (mount -t configfs none %s/kernel/config)",
		 env->cfs, env->root);
	return -ENOENT;
}

bool nvmet_subsys_exists(const struct nvmet_env *env, const char *nqn)
{
	char path[PATH_MAX + 256];

	snprintf(path, sizeof(path), "%s/subsystems/%s", env->cfs, nqn);
	return access(path, F_OK) == 0;
}

static void read_port(const struct nvmet_env *env, const char *id, struct nvmet_port *p)
{
	char dir[PATH_MAX + 64], path[PATH_MAX + 128], v[64];

	memset(p, 0, sizeof(*p));
	p->id = (unsigned int)strtoul(id, NULL, 10);
	p->exists = true;
	snprintf(dir, sizeof(dir), "%s/ports/%s", env->cfs, id);
	snprintf(path, sizeof(path), "%s/addr_trtype", dir);
	if (!cfs_read(path, v, sizeof(v)) || nvmet_transport_parse(v, &p->trtype) != 0)
		p->trtype = NVMET_OTHER;
	snprintf(path, sizeof(path), "%s/addr_traddr", dir);
	cfs_read(path, p->traddr, sizeof(p->traddr));
	snprintf(path, sizeof(path), "%s/addr_trsvcid", dir);
	cfs_read(path, p->trsvcid, sizeof(p->trsvcid));
	snprintf(path, sizeof(path), "%s/addr_adrfam", dir);
	cfs_read(path, p->adrfam, sizeof(p->adrfam));
}

static int nsid_cmp(const void *a, const void *b)
{
	const struct nvmet_ns *x = a, *y = b;

	return (x->nsid > y->nsid) - (x->nsid < y->nsid);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

static int port_id_cmp(const void *a, const void *b)
{
	const struct nvmet_port *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

int nvmet_subsys_read(const struct nvmet_env *env, const char *nqn,
		      struct nvmet_subsys_state *st)
{
	char dir[PATH_MAX + 256], path[PATH_MAX + 600], v[16];
	struct dirent *e;
	DIR *d;
	size_t nlen = strnlen(nqn, sizeof(st->nqn) - 1);

	memset(st, 0, sizeof(*st));
	memcpy(st->nqn, nqn, nlen);
	snprintf(path, sizeof(path), "%s/subsystems/%s/attr_allow_any_host", env->cfs, nqn);
	st->allow_any_host = cfs_read(path, v, sizeof(v)) && v[0] == '1';
	snprintf(dir, sizeof(dir), "%s/subsystems/%s/allowed_hosts", env->cfs, nqn);
	d = opendir(dir);
	while (d && (e = readdir(d)) && st->nhosts < NVMET_MAX_HOSTS) {
		if (e->d_name[0] != '.')
			snprintf(st->hosts[st->nhosts++], sizeof(st->hosts[0]), "%s", e->d_name);
	}
	if (d)
		closedir(d);
	qsort(st->hosts, st->nhosts, sizeof(st->hosts[0]), str_cmp);

	snprintf(dir, sizeof(dir), "%s/subsystems/%s/namespaces", env->cfs, nqn);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d)) && st->nns < NVMET_MAX_NS) {
		struct nvmet_ns *ns = &st->ns[st->nns];

		if (e->d_name[0] == '.')
			continue;
		memset(ns, 0, sizeof(*ns));
		ns->nsid = (unsigned int)strtoul(e->d_name, NULL, 10);
		snprintf(path, sizeof(path), "%s/%s/device_path", dir, e->d_name);
		cfs_read(path, ns->device, sizeof(ns->device));
		snprintf(path, sizeof(path), "%s/%s/enable", dir, e->d_name);
		ns->enabled = cfs_read(path, v, sizeof(v)) && v[0] == '1';
		snprintf(path, sizeof(path), "%s/%s/p2pmem", dir, e->d_name);
		if (cfs_read(path, ns->cur_attr, sizeof(ns->cur_attr)))
			memcpy(ns->attr, ns->cur_attr, sizeof(ns->attr));
		st->nns++;
	}
	closedir(d);
	qsort(st->ns, st->nns, sizeof(st->ns[0]), nsid_cmp);

	snprintf(dir, sizeof(dir), "%s/ports", env->cfs);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d)) && st->nports < NVMET_MAX_PORTS) {
		struct stat lst;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/subsystems/%s", dir, e->d_name, nqn);
		if (lstat(path, &lst) != 0)
			continue;
		read_port(env, e->d_name, &st->ports[st->nports++]);
	}
	closedir(d);
	qsort(st->ports, st->nports, sizeof(st->ports[0]), port_id_cmp);
	return 0;
}

int nvmet_subsys_list(const struct nvmet_env *env, char ***nqns, size_t *n)
{
	char dir[PATH_MAX + 16];
	struct dirent **list;
	int i, m, k = 0;
	char **out;

	*nqns = NULL;
	*n = 0;
	snprintf(dir, sizeof(dir), "%s/subsystems", env->cfs);
	m = scandir(dir, &list, NULL, alphasort);
	if (m < 0)
		return -errno;
	out = calloc((size_t)m + 1, sizeof(*out));
	for (i = 0; i < m; i++) {
		if (out && list[i]->d_name[0] != '.')
			out[k++] = strdup(list[i]->d_name);
		free(list[i]);
	}
	free(list);
	if (!out)
		return -ENOMEM;
	*nqns = out;
	*n = (size_t)k;
	return 0;
}

int nvmet_port_find(const struct nvmet_env *env, struct nvmet_port *port)
{
	char dir[PATH_MAX + 16];
	bool used[NVMET_MAX_PORTS * 4] = { false };
	struct nvmet_port p;
	struct dirent *e;
	unsigned int id;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/ports", env->cfs);
	d = opendir(dir);
	if (!d)
		return -errno;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		read_port(env, e->d_name, &p);
		if (p.id < sizeof(used))
			used[p.id] = true;
		if (p.trtype != port->trtype)
			continue;
		if (port->trtype != NVMET_LOOP &&
		    (strcmp(p.traddr, port->traddr) || strcmp(p.trsvcid, port->trsvcid)))
			continue;
		port->id = p.id;
		port->exists = true;
		closedir(d);
		return 0;
	}
	closedir(d);
	for (id = 1; id < sizeof(used) && used[id]; id++)
		;
	port->id = id;
	port->exists = false;
	return 0;
}

/* ---- the transaction ---------------------------------------------------- */

static void txn_begin(struct txn *t, const struct nvmet_env *env)
{
	t->env = env;
	t->n = 0;
	/* root reads the kernel log; from its end, to catch this export's lines */
	t->kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (t->kmsg >= 0)
		lseek(t->kmsg, 0, SEEK_END);
}

static void txn_log(struct txn *t, enum undo_kind kind, const char *path)
{
	if (t->n >= MAX_UNDO)
		return;
	t->log[t->n].kind = kind;
	snprintf(t->log[t->n].path, sizeof(t->log[t->n].path), "%s", path);
	t->n++;
}

/* The kernel's lines since txn_begin(), "; "-joined, appended to @why. */
static void txn_kernel_lines(struct txn *t, char *why, size_t len)
{
	char rec[2048];
	size_t off = strlen(why);
	bool first = true;
	ssize_t r;

	if (t->kmsg < 0)
		return;
	while ((r = read(t->kmsg, rec, sizeof(rec) - 1)) > 0 || (r < 0 && errno == EPIPE)) {
		char *msg;

		if (r <= 0)
			continue;	/* EPIPE: overwritten records, go on */
		rec[r] = 0;
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		msg[strcspn(msg, "\n")] = 0;
		if (off < len)
			off += (size_t)snprintf(why + off, len - off, "%s%s", first ? "; the kernel said: " : " | ", msg);
		first = false;
	}
}

static void txn_undo(struct txn *t)
{
	while (t->n) {
		struct undo *u = &t->log[--t->n];

		switch (u->kind) {
		case UNDO_RMDIR:
			rmdir(u->path);
			break;
		case UNDO_UNLINK:
			unlink(u->path);
			break;
		case UNDO_DISABLE:
			cfs_write(u->path, "0");
			break;
		}
	}
}

static void txn_end(struct txn *t)
{
	if (t->kmsg >= 0)
		close(t->kmsg);
	t->kmsg = -1;
}

/* A step failed: say which, with errno and the kernel's lines. */
static int step_failed(struct txn *t, int err, const char *what, const char *path,
		       char *why, size_t len)
{
	snprintf(why, len, "%s failed: %s (%s)", what, strerror(-err), path);
	txn_kernel_lines(t, why, len);
	return err;
}

static int step_mkdir(struct txn *t, const char *path, const char *what, char *why, size_t len)
{
	if (mkdir(path, 0755) != 0)
		return step_failed(t, -errno, what, path, why, len);
	txn_log(t, UNDO_RMDIR, path);
	return 0;
}

static int step_write(struct txn *t, const char *dir, const char *attr, const char *value,
		      char *why, size_t len)
{
	char path[PATH_MAX + 64], what[160];
	int err;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	err = cfs_write(path, value);
	if (err) {
		snprintf(what, sizeof(what), "writing %s=%s", attr, value);
		return step_failed(t, err, what, path, why, len);
	}
	return 0;
}

/*
 * Only the hosts named may connect: allow_any_host off first (the kernel
 * refuses an allowed_hosts link while it is on), then each host's hosts/
 * entry (made if missing) linked into allowed_hosts.
 */
static int export_hosts(struct txn *t, const char *sub, const char *const *hosts,
			size_t nhosts, char *why, size_t len)
{
	char hdir[PATH_MAX + 300], link[PATH_MAX + 600];
	struct stat st;
	size_t i;
	int err = step_write(t, sub, "attr_allow_any_host", nhosts ? "0" : "1", why, len);

	for (i = 0; !err && i < nhosts; i++) {
		snprintf(hdir, sizeof(hdir), "%s/hosts/%s", t->env->cfs, hosts[i]);
		if (stat(hdir, &st) != 0)
			err = step_mkdir(t, hdir, "creating the host entry", why, len);
		if (err)
			break;
		snprintf(link, sizeof(link), "%s/allowed_hosts/%s", sub, hosts[i]);
		if (symlink(hdir, link) != 0)
			err = step_failed(t, -errno, "allowing the host", link, why, len);
		else
			txn_log(t, UNDO_UNLINK, link);
	}
	return err;
}

int nvmet_export(const struct nvmet_env *env, const char *nqn,
		 struct nvmet_ns *ns, size_t nns, const struct nvmet_port *port,
		 const char *const *hosts, size_t nhosts, char *why, size_t len)
{
	char sub[PATH_MAX + 256], dir[PATH_MAX + 300], pdir[PATH_MAX + 64];
	char link[PATH_MAX + 400], id[16];
	struct txn *t = calloc(1, sizeof(*t));
	size_t i;
	int err;

	if (!t) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	txn_begin(t, env);
	snprintf(sub, sizeof(sub), "%s/subsystems/%s", env->cfs, nqn);
	err = step_mkdir(t, sub, "creating the subsystem", why, len);
	if (!err)
		err = export_hosts(t, sub, hosts, nhosts, why, len);
	for (i = 0; !err && i < nns; i++) {
		snprintf(dir, sizeof(dir), "%s/namespaces/%u", sub, ns[i].nsid);
		err = step_mkdir(t, dir, "creating a namespace", why, len);
		if (!err)
			err = step_write(t, dir, "device_path", ns[i].device, why, len);
		if (!err && ns[i].attr[0])
			err = step_write(t, dir, "p2pmem", ns[i].attr, why, len);
		if (!err) {
			err = step_write(t, dir, "enable", "1", why, len);
			snprintf(link, sizeof(link), "%s/enable", dir);
			if (!err)
				txn_log(t, UNDO_DISABLE, link);
		}
	}
	snprintf(id, sizeof(id), "%u", port->id);
	snprintf(pdir, sizeof(pdir), "%s/ports/%s", env->cfs, id);
	if (!err && !port->exists) {
		err = step_mkdir(t, pdir, "creating the port", why, len);
		if (!err)
			err = step_write(t, pdir, "addr_trtype", nvmet_transport_name(port->trtype), why, len);
		if (!err && port->trtype != NVMET_LOOP) {
			err = step_write(t, pdir, "addr_adrfam", port->adrfam, why, len);
			if (!err)
				err = step_write(t, pdir, "addr_traddr", port->traddr, why, len);
			if (!err)
				err = step_write(t, pdir, "addr_trsvcid", port->trsvcid, why, len);
		}
	}
	if (!err) {
		/* the link enables the port: the transport binds its address now */
		snprintf(link, sizeof(link), "%s/subsystems/%s", pdir, nqn);
		if (symlink(sub, link) != 0)
			err = step_failed(t, -errno, "exporting the subsystem on the port (the transport module may be missing or the address in use)",
					  link, why, len);
		else
			txn_log(t, UNDO_UNLINK, link);
	}
	if (err)
		txn_undo(t);
	txn_end(t);
	free(t);
	return err;
}

static bool dir_empty(const char *path)
{
	struct dirent *e;
	DIR *d = opendir(path);
	bool empty = true;

	if (!d)
		return true;
	while (empty && (e = readdir(d)))
		empty = e->d_name[0] == '.';
	closedir(d);
	return empty;
}

/* Some subsystem still allows @host. */
static bool host_allowed_anywhere(const struct nvmet_env *env, const char *host)
{
	char path[PATH_MAX + 600];
	char **nqns = NULL;
	size_t n = 0, i;
	struct stat st;
	bool used = false;

	if (nvmet_subsys_list(env, &nqns, &n))
		return true;	/* cannot tell: keep it */
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/subsystems/%s/allowed_hosts/%s", env->cfs, nqns[i], host);
		used |= lstat(path, &st) == 0;
		free(nqns[i]);
	}
	free(nqns);
	return used;
}

/*
 * A hosts/ entry no subsystem allows any more goes, like a port serving
 * nothing; one that holds DH-HMAC-CHAP keys is configuration of its own.
 */
static void host_drop_unused(const struct nvmet_env *env, const char *host)
{
	char hdir[PATH_MAX + 300], path[PATH_MAX + 400], key[256];

	if (host_allowed_anywhere(env, host))
		return;
	snprintf(hdir, sizeof(hdir), "%s/hosts/%s", env->cfs, host);
	snprintf(path, sizeof(path), "%s/dhchap_key", hdir);
	if (cfs_read(path, key, sizeof(key)) && key[0])
		return;
	rmdir(hdir);
}

int nvmet_unexport(const struct nvmet_env *env, const char *nqn, char *why, size_t len)
{
	struct nvmet_subsys_state *st = calloc(1, sizeof(*st));
	char sub[PATH_MAX + 256], path[PATH_MAX + 600], pdir[PATH_MAX + 64];
	struct dirent *e;
	size_t i;
	DIR *d;
	int err = 0;

	if (!st) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	err = nvmet_subsys_read(env, nqn, st);
	if (err) {
		snprintf(why, len, "cannot read subsystem %s: %s", nqn, strerror(-err));
		free(st);
		return err;
	}
	for (i = 0; i < st->nports; i++) {
		snprintf(pdir, sizeof(pdir), "%s/ports/%u", env->cfs, st->ports[i].id);
		snprintf(path, sizeof(path), "%s/subsystems/%s", pdir, nqn);
		if (unlink(path) != 0 && errno != ENOENT) {
			err = -errno;
			snprintf(why, len, "removing %s: %s", path, strerror(errno));
			goto out;
		}
		/* a port that serves nothing any more is not worth keeping */
		snprintf(path, sizeof(path), "%s/subsystems", pdir);
		if (dir_empty(path)) {
			snprintf(path, sizeof(path), "%s/referrals", pdir);
			if (dir_empty(path))
				rmdir(pdir);
		}
	}
	snprintf(sub, sizeof(sub), "%s/subsystems/%s", env->cfs, nqn);
	for (i = 0; i < st->nns; i++) {
		snprintf(path, sizeof(path), "%s/namespaces/%u/enable", sub, st->ns[i].nsid);
		cfs_write(path, "0");
		snprintf(path, sizeof(path), "%s/namespaces/%u", sub, st->ns[i].nsid);
		if (rmdir(path) != 0) {
			err = -errno;
			snprintf(why, len, "removing namespace %u (%s): %s", st->ns[i].nsid, path, strerror(errno));
			goto out;
		}
	}
	snprintf(path, sizeof(path), "%s/allowed_hosts", sub);
	d = opendir(path);
	if (d) {
		while ((e = readdir(d))) {
			char host[PATH_MAX + 900];

			if (e->d_name[0] == '.')
				continue;
			snprintf(host, sizeof(host), "%s/%s", path, e->d_name);
			unlink(host);
		}
		closedir(d);
	}
	if (rmdir(sub) != 0) {
		err = -errno;
		snprintf(why, len, "removing the subsystem %s: %s", sub, strerror(errno));
		goto out;
	}
	for (i = 0; i < st->nhosts; i++)
		host_drop_unused(env, st->hosts[i]);
out:
	free(st);
	return err;
}
