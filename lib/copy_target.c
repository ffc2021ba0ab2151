// SPDX-License-Identifier: MIT
/*
 * Opening and sizing the two sides of a copy: block devices or regular
 * files, always O_DIRECT so that data moves between the device and the
 * buffer by DMA (no page cache, no CPU copy). Partitions are traced back
 * to their disk so overlapping ranges are caught across nvme0n1p1 and
 * nvme0n1.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "copy_internal.h"

#define FALLBACK_FILE_ALIGN 4096u

/**
 * copy_block_syspath() - a block device's sysfs directory, through
 * <root>/dev/block/M:m (malloc'ed), or NULL
 */
char *copy_block_syspath(struct p2pmem_ctx *ctx, dev_t devno)
{
	char *link = p2pmem_path(ctx, "dev/block/%u:%u", major(devno), minor(devno));
	char *real = link ? p2pmem_resolve_link(link) : NULL;

	free(link);
	return real;
}

/* A partition's disk and start, from its {partition,start} attributes. */
static void partition_of(struct p2pmem_ctx *ctx, struct copy_target *t, dev_t rdev)
{
	char *real = copy_block_syspath(ctx, rdev);
	char devattr[64], *slash;
	uint64_t start, is_part;
	unsigned int maj, min;

	t->disk = rdev;
	t->disk_start = 0;
	if (!real)
		goto out_free;
	if (p2pmem_read_u64_attr(real, "partition", &is_part) != 0 ||
	    p2pmem_read_u64_attr(real, "start", &start) != 0)
		goto out_free;
	slash = strrchr(real, '/');
	if (!slash)
		goto out_free;
	*slash = '\0';		/* the disk's directory */
	if (p2pmem_read_attr(real, "dev", devattr, sizeof(devattr)) != 0 ||
	    sscanf(devattr, "%u:%u", &maj, &min) != 2)
		goto out_free;
	t->disk = makedev(maj, min);
	t->disk_start = start * 512;	/* sysfs counts 512-byte sectors */
out_free:
	free(real);
}

static unsigned int file_dio_align(int fd)
{
#ifdef STATX_DIOALIGN
	struct statx stx;

	if (statx(fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
	    (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align)
		return stx.stx_dio_offset_align;
#else
	(void)fd;
#endif
	return FALLBACK_FILE_ALIGN;
}

/**
 * copy_target_open() - open @name for O_DIRECT and learn its geometry
 * Return: 0 or -errno with the context error set
 */
int copy_target_open(struct p2pmem_ctx *ctx, struct copy_target *t,
		     const char *name, bool write)
{
	/* The destination is read back by the verify pass. */
	int flags = (write ? O_RDWR : O_RDONLY) | O_DIRECT | O_CLOEXEC;
	struct stat st;
	int ret;

	memset(t, 0, sizeof(*t));
	t->fd = -1;
	t->name = strdup(name);
	if (!t->name)
		return -ENOMEM;
	if (stat(name, &st) != 0) {
		if (!write || errno != ENOENT) {
			ret = -errno;
			p2pmem_set_error(ctx, "cannot use %s: %s", name, strerror(errno));
			return ret;
		}
		/* A new destination file: ours to remove if nothing is written. */
		flags |= O_CREAT | O_EXCL;
		t->created = true;
	} else if (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode)) {
		p2pmem_set_error(ctx, "%s is neither a block device nor a regular file: copies read and write block devices (/dev/nvme0n1) or files",
				 name);
		return -EINVAL;
	}
	t->fd = open(name, flags, 0644);
	if (t->fd < 0) {
		ret = -errno;
		p2pmem_set_error(ctx, "cannot open %s for %s with O_DIRECT: %s%s", name,
				 write ? "writing" : "reading", strerror(errno),
				 errno == EINVAL ? " (its filesystem does not support direct I/O)" :
				 errno == EACCES ? " (run as root for block devices)" : "");
		return ret;
	}
	if (fstat(t->fd, &st) != 0) {
		ret = -errno;
		p2pmem_set_error(ctx, "cannot stat %s: %s", name, strerror(errno));
		return ret;
	}
	if (S_ISBLK(st.st_mode)) {
		int lbs = 0;

		t->is_blockdev = true;
		if (ioctl(t->fd, BLKGETSIZE64, &t->size) != 0 ||
		    ioctl(t->fd, BLKSSZGET, &lbs) != 0 || lbs <= 0) {
			ret = -errno;
			p2pmem_set_error(ctx, "cannot read the size of %s: %s", name, strerror(errno));
			return ret ? ret : -EIO;
		}
		t->align = (unsigned int)lbs;
		t->rdev = st.st_rdev;
		partition_of(ctx, t, st.st_rdev);
	} else {
		t->size = (uint64_t)st.st_size;
		t->align = file_dio_align(t->fd);
		t->disk = st.st_dev;
		t->ino = st.st_ino;
	}
	/* The PCI function behind it: NULL when there is none (no p2p). */
	if (p2pmem_resolve_client(ctx, name, &t->pci) != 0)
		t->pci = NULL;
	p2pmem_clear_error(ctx);
	return 0;
}

/*
 * A destination file this copy created is removed when not a byte was
 * written to it, so a refused copy leaves nothing behind; only if the name
 * still is that file (someone may have renamed it since).
 */
void copy_target_discard(struct copy_target *t)
{
	struct stat st, fst;

	if (!t->created || t->fd < 0 || fstat(t->fd, &fst) != 0 || fst.st_size != 0)
		return;
	if (stat(t->name, &st) == 0 && st.st_dev == fst.st_dev && st.st_ino == fst.st_ino)
		unlink(t->name);
	t->created = false;
}

void copy_target_close(struct copy_target *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	free(t->name);
	t->name = NULL;
}

/* Do [aoff, aoff+len) of @a and [boff, boff+len) of @b share bytes? */
bool copy_targets_overlap(const struct copy_target *a, uint64_t aoff,
			  const struct copy_target *b, uint64_t boff,
			  uint64_t len)
{
	uint64_t as, bs;

	if (a->is_blockdev != b->is_blockdev || a->disk != b->disk)
		return false;
	if (!a->is_blockdev && a->ino != b->ino)
		return false;
	as = a->disk_start + aoff;
	bs = b->disk_start + boff;
	return as < bs + len && bs < as + len;
}
