// SPDX-License-Identifier: MIT
/*
 * Resume journals. A job records, in a small text file named after what it
 * copies, how far it got: every byte below `written` is on the destination
 * (fdatasync'ed before it is recorded), every byte below `verified` was
 * read back and compared. `p2pmem copy --resume` starts from there. The
 * journal goes away when the job completes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "copy_internal.h"

#define JOURNAL_MAGIC "p2pmem-copy-journal 1"

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
		       const char *identity)
{
	memset(j, 0, sizeof(*j));
	snprintf(j->identity, sizeof(j->identity), "%s", identity);
	snprintf(j->path, sizeof(j->path), "%s/p2pmem-copy-%016" PRIx64 ".journal",
		 dir ? dir : "/var/tmp", fnv1a(identity));
}

/* True when a journal of this very job exists; fills the watermarks. */
bool copy_journal_load(struct copy_journal *j)
{
	char buf[2048], magic[64], *id, *nl;
	size_t n = 0;
	uint64_t w, v;

	if (p2pmem_read_file(j->path, buf, sizeof(buf) - 1, &n) != 0)
		return false;
	buf[n] = '\0';
	nl = strchr(buf, '\n');
	if (!nl)
		return false;
	*nl = '\0';
	snprintf(magic, sizeof(magic), "%s", buf);
	id = nl + 1;
	nl = strchr(id, '\n');
	if (strcmp(magic, JOURNAL_MAGIC) != 0 || !nl)
		return false;
	*nl = '\0';
	if (strcmp(id, j->identity) != 0)
		return false;
	if (sscanf(nl + 1, "written %" SCNu64 "\nverified %" SCNu64, &w, &v) != 2)
		return false;
	j->written = w;
	j->verified = v <= w ? v : w;
	return true;
}

/* Write the journal next to itself and rename it in: never half-written. */
int copy_journal_save(const struct copy_journal *j)
{
	char tmp[600], text[1400];
	int fd, len, ret = 0;

	len = snprintf(text, sizeof(text), "%s\n%s\nwritten %" PRIu64 "\nverified %" PRIu64 "\n",
		       JOURNAL_MAGIC, j->identity, j->written, j->verified);
	snprintf(tmp, sizeof(tmp), "%s.tmp", j->path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, (size_t)len) != len || fdatasync(fd) != 0)
		ret = -errno ? -errno : -EIO;
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
