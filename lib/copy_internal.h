/* SPDX-License-Identifier: MIT */
/*
 * Private structures of the copy engine.
 */
#ifndef P2PMEM_COPY_INTERNAL_H
#define P2PMEM_COPY_INTERNAL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "internal.h"

/**
 * struct copy_target - one side of a copy job, opened for O_DIRECT
 * @name: as the user gave it
 * @fd: the open file
 * @is_blockdev: a block device (fixed size) rather than a regular file
 * @size: bytes (device size, or file size)
 * @align: O_DIRECT alignment for offsets and lengths
 * @disk: the whole disk's device number (partitions resolve to their disk)
 * @disk_start: byte offset of this device on @disk (partition start)
 * @ino: inode, for regular files (with @disk = st_dev)
 * @rdev: the device number, for block devices
 * @created: the copy created this file (removed if nothing was written)
 * @pci: the PCI function holding the data, or NULL
 */
struct copy_target {
	char *name;
	int fd;
	bool is_blockdev;
	uint64_t size;
	unsigned int align;
	dev_t disk;
	uint64_t disk_start;
	ino_t ino;
	dev_t rdev;
	bool created;
	struct p2pmem_pci_dev *pci;
};

char *copy_block_syspath(struct p2pmem_ctx *ctx, dev_t devno);
int copy_target_open(struct p2pmem_ctx *ctx, struct copy_target *t,
		     const char *name, bool write);
void copy_target_discard(struct copy_target *t);
void copy_target_close(struct copy_target *t);
bool copy_targets_overlap(const struct copy_target *a, uint64_t aoff,
			  const struct copy_target *b, uint64_t boff,
			  uint64_t len);

/**
 * struct copy_device - NVMe Copy inside one namespace (copy_device.c)
 * @fd: the namespace's generic character device, open
 * @path: its name, /dev/ngXnY
 * @disk: the namespace's block device name, nvmeXnY
 * @nsid: namespace ID
 * @lba_shift: log2 of the logical block size
 * @mssrl: blocks per source range, at most
 * @mcl: blocks per command, at most
 * @msrc: source ranges per command, 0-based
 * @max_blocks: blocks per command we issue
 * @src_start: byte offset of the source (a partition) on the namespace
 * @dst_start: the same for the destination
 */
struct copy_device {
	int fd;
	char path[64];
	char disk[64];
	uint32_t nsid;
	unsigned int lba_shift;
	uint32_t mssrl, mcl;
	uint8_t msrc;
	uint64_t max_blocks;
	uint64_t src_start, dst_start;
};

struct io_uring_sqe;

int copy_device_open(struct p2pmem_ctx *ctx, const struct copy_target *src,
		     const struct copy_target *dst, struct copy_device *d,
		     char *why, size_t whylen);
void copy_device_close(struct copy_device *d);
size_t copy_device_max_bytes(const struct copy_device *d);
size_t copy_device_desc_bytes(const struct copy_device *d, size_t len);
void copy_device_prep(const struct copy_device *d, struct io_uring_sqe *sqe,
		      uint64_t src_off, uint64_t dst_off, size_t len, uint8_t *desc);
void copy_device_status(int status, char *buf, size_t len);
bool copy_device_may_fall_back(int status);

/* copy_sync.c: the engine without io_uring */
bool copy_sync_wanted(int ring_err);
int copy_sync_exec(const struct io_uring_sqe *sqe);

/**
 * struct copy_journal - where a job stands, on disk, for --resume
 * @path: the journal file
 * @identity: what the job is (paths, offsets, length): names the file
 * @binding: which files those paths were (device, inode, size): a journal
 *	of a replaced source or destination is refused
 * @written: every byte below this is written (and durable)
 * @verified: every byte below this is read back and equal
 */
struct copy_journal {
	char path[512];
	char identity[1024];
	char binding[256];
	uint64_t written;
	uint64_t verified;
};

void copy_journal_init(struct copy_journal *j, const char *dir,
		       const char *identity, const char *binding);
/* 1: loaded; 0: there is none; -errno: refused, the context says why */
int copy_journal_load(struct p2pmem_ctx *ctx, struct copy_journal *j);
int copy_journal_save(const struct copy_journal *j);
void copy_journal_remove(const struct copy_journal *j);

#endif /* P2PMEM_COPY_INTERNAL_H */
