// SPDX-License-Identifier: MIT
/*
 * Resume journals. A job records, in a small text file named after what it
 * copies, how far it got: every byte below `written` is on the destination
 * (fdatasync'ed before it is recorded), every byte below `verified` was
 * read back and compared. `p2pmem copy --resume` starts from there. The
 * journal goes away when the job completes.
 *
 * A journal decides which bytes are never copied again, so it is trusted
 * only when it cannot have been planted: it is a regular file (never
 * followed through a symbolic link) owned by the caller and writable by
 * nobody else, and it is bound to the identity of both devices or files
 * (device and inode numbers, a block device's size). Journals are written
 * to a fresh file (O_EXCL) and renamed in, so they are never half-written
 * and never written through a link someone else placed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "copy_internal.h"

#define JOURNAL_MAGIC "p2pmem-copy-journal 2"

/* FNV-1a: a stable file name from the job's identity. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

void copy_journal_init(struct copy_journal *j, const char *dir,
		       const char *identity, const char *binding)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->identity, sizeof(j->identity), "%s", identity);
	snprintf(j->binding, sizeof(j->binding), "%s", binding);
	snprintf(j->path, sizeof(j->path), "%s/p2pmem-copy-%016" PRIx64 ".journal",
		 dir, fnv1a(identity));
}

/* Open the journal only if it is the caller's own regular file. */
static int open_trusted(struct p2pmem_ctx *ctx, const struct copy_journal *j)
{
	struct stat st;
	int fd, ret;

	fd = open(j->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		if (ret == -ENOENT)
			return ret;
		p2pmem_set_error(ctx, "cannot trust the resume journal %s: %s; remove it to start the copy over",
				 j->path, ret == -ELOOP ? "it is a symbolic link" : strerror(-ret));
		return ret == -ELOOP ? -EPERM : ret;
	}
	if (fstat(fd, &st) != 0) {
		ret = -errno;
		p2pmem_set_error(ctx, "cannot stat the resume journal %s: %s", j->path, strerror(-ret));
		close(fd);
		return ret;
	}
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 022)) {
		p2pmem_set_error(ctx, "refusing the resume journal %s: %s; it may have been planted by another user: remove it (and check who wrote it) to start the copy over",
				 j->path,
				 !S_ISREG(st.st_mode) ? "not a regular file" :
				 st.st_uid != geteuid() ? "it belongs to another user" :
				 "others can write it");
		close(fd);
		return -EPERM;
	}
	return fd;
}

int copy_journal_load(struct p2pmem_ctx *ctx, struct copy_journal *j)
{
	char buf[4096], *line[5], *p;
	uint64_t w, v;
	ssize_t n;
	int fd, i;

	fd = open_trusted(ctx, j);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0)
		return fd;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	for (i = 0, p = buf; i < 5; i++) {
		line[i] = p;
		p = p ? strchr(p, '\n') : NULL;
		if (p)
			*p++ = '\0';
	}
	if (!p || strcmp(line[0], JOURNAL_MAGIC) != 0 || strcmp(line[1], j->identity) != 0 ||
	    sscanf(line[3], "written %" SCNu64, &w) != 1 ||
	    sscanf(line[4], "verified %" SCNu64, &v) != 1) {
		p2pmem_set_error(ctx, "the resume journal %s is not a journal of this copy (another version, or damaged); remove it to start the copy over",
				 j->path);
		return -EINVAL;
	}
	if (strcmp(line[2], j->binding) != 0) {
		p2pmem_set_error(ctx, "the resume journal %s was written for other files than these (it says %s, they are %s): the source or destination was replaced; remove the journal to start the copy over",
				 j->path, line[2], j->binding);
		return -ESTALE;
	}
	j->written = w;
	j->verified = v <= w ? v : w;
	return 1;
}

/* Write the journal to a fresh file and rename it in: never half-written. */
int copy_journal_save(const struct copy_journal *j)
{
	char tmp[sizeof(j->path) + 8], text[sizeof(j->identity) + sizeof(j->binding) + 128];
	int fd, len, ret = 0;

	len = snprintf(text, sizeof(text), "%s\n%s\n%s\nwritten %" PRIu64 "\nverified %" PRIu64 "\n",
		       JOURNAL_MAGIC, j->identity, j->binding, j->written, j->verified);
	snprintf(tmp, sizeof(tmp), "%s.XXXXXX", j->path);
	fd = mkostemp(tmp, O_CLOEXEC);	/* O_EXCL, mode 0600 */
	if (fd < 0)
		return -errno;
	errno = 0;
	if (write(fd, text, (size_t)len) != len || fdatasync(fd) != 0)
		ret = errno ? -errno : -EIO;
	close(fd);
	if (!ret && rename(tmp, j->path) != 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

void copy_journal_remove(const struct copy_journal *j)
{
	unlink(j->path);
}
