// SPDX-License-Identifier: MIT
/*
 * Device-side copy: when source and destination are ranges of one NVMe
 * namespace (partitions of one drive included), the NVMe Copy command
 * (opcode 0x19, NVM command set) moves the data inside the drive: nothing
 * crosses PCIe but a list of source ranges. Linux has no block-layer copy
 * offload, so the engine issues Copy itself through NVMe passthrough on the
 * namespace's generic character device (/dev/ngXnY), on io_uring
 * (IORING_OP_URING_CMD, 128-byte SQEs and 32-byte CQEs).
 *
 * What the namespace accepts comes from Identify: the controller's ONCS
 * (bit 8: Copy), the namespace's MSSRL (blocks per source range), MCL
 * (blocks per command) and MSRC (source ranges per command, 0-based).
 * Commands use descriptor format 0 (32 bytes per range) and never exceed
 * those limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/nvme_ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <liburing.h>

#include "copy_internal.h"

#define NVME_ADMIN_IDENTIFY	0x06
#define NVME_CMD_COPY		0x19
#define IDENTIFY_CNS_NS		0x00
#define IDENTIFY_CNS_CTRL	0x01
#define ONCS_COPY		(1u << 8)
#define COPY_DESC_SIZE		32u	/* descriptor format 0 */
#define COPY_MAX_CMD_BYTES	(64ull << 20)	/* keep one command's work bounded */

static uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t le32(const uint8_t *p) { return (uint32_t)le16(p) | (uint32_t)le16(p + 2) << 16; }

static void put_le16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static int identify(int fd, uint32_t nsid, uint32_t cns, void *buf)
{
	struct nvme_passthru_cmd cmd = {
		.opcode = NVME_ADMIN_IDENTIFY,
		.nsid = nsid,
		.addr = (uint64_t)(uintptr_t)buf,
		.data_len = 4096,
		.cdw10 = cns,
	};
	int ret = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);

	if (ret < 0)
		return -errno;
	return ret ? -EIO : 0;	/* an NVMe status: the command failed */
}

/* The disk's kernel name (nvme0n1): its sysfs directory's. */
static int disk_name(struct p2pmem_ctx *ctx, dev_t disk, char *name, size_t len)
{
	char *real = copy_block_syspath(ctx, disk);
	const char *base = real ? strrchr(real, '/') : NULL;
	int ret = base ? 0 : -ENODEV;

	if (base)
		snprintf(name, len, "%s", base + 1);
	free(real);
	return ret;
}

/**
 * copy_device_open() - can @src -> @dst be an NVMe Copy inside one namespace?
 * Return: 0 with @d ready; else -errno and @why says why not, in words
 */
int copy_device_open(struct p2pmem_ctx *ctx, const struct copy_target *src,
		     const struct copy_target *dst, struct copy_device *d,
		     char *why, size_t whylen)
{
	unsigned int ctl, ns, nsnum, flbas, lbads;
	uint8_t *id = NULL;
	char disk[64];
	int ret;

	memset(d, 0, sizeof(*d));
	d->fd = -1;
	if (!src->is_blockdev || !dst->is_blockdev) {
		snprintf(why, whylen, "a regular file is involved (device copy needs two ranges of one NVMe namespace)");
		return -EOPNOTSUPP;
	}
	if (src->disk != dst->disk) {
		snprintf(why, whylen, "source and destination are on different devices");
		return -EOPNOTSUPP;
	}
	if (disk_name(ctx, src->disk, disk, sizeof(disk)) != 0 ||
	    sscanf(disk, "nvme%un%u", &ctl, &ns) != 2) {
		snprintf(why, whylen, "%s is not an NVMe namespace", src->name);
		return -EOPNOTSUPP;
	}
	snprintf(d->path, sizeof(d->path), "/dev/ng%un%u", ctl, ns);
	d->fd = open(d->path, O_RDWR | O_CLOEXEC);
	if (d->fd < 0) {
		ret = -errno;
		snprintf(why, whylen, "cannot open %s, the namespace's passthrough device: %s%s",
			 d->path, strerror(-ret), ret == -EACCES ? " (device copy needs root)" : "");
		return ret;
	}
	ret = ioctl(d->fd, NVME_IOCTL_ID);
	if (ret <= 0) {
		ret = ret < 0 ? -errno : -ENODEV;
		snprintf(why, whylen, "%s has no namespace ID: %s", d->path, strerror(-ret));
		goto out_close;
	}
	d->nsid = (uint32_t)ret;
	if (posix_memalign((void **)&id, 4096, 4096)) {
		ret = -ENOMEM;
		goto out_close;
	}
	ret = identify(d->fd, 0, IDENTIFY_CNS_CTRL, id);
	if (ret) {
		snprintf(why, whylen, "Identify Controller through %s failed: %s", d->path, strerror(-ret));
		goto out_close;
	}
	if (!(le16(id + 520) & ONCS_COPY)) {
		snprintf(why, whylen, "the controller of %s does not support Copy (ONCS bit 8 clear)", disk);
		ret = -EOPNOTSUPP;
		goto out_close;
	}
	ret = identify(d->fd, d->nsid, IDENTIFY_CNS_NS, id);
	if (ret) {
		snprintf(why, whylen, "Identify Namespace %u through %s failed: %s", d->nsid, d->path,
			 strerror(-ret));
		goto out_close;
	}
	d->mssrl = le16(id + 74);
	d->mcl = le32(id + 76);
	d->msrc = id[80];
	nsnum = id[25];
	flbas = (id[26] & 0xf) | (nsnum >= 16 ? (id[26] >> 5 & 3) << 4 : 0);
	lbads = id[128 + 4 * flbas + 2];
	if (!d->mssrl || !d->mcl) {
		snprintf(why, whylen, "namespace %u of %s accepts no Copy (MSSRL %u, MCL %u)",
			 d->nsid, disk, d->mssrl, d->mcl);
		ret = -EOPNOTSUPP;
		goto out_close;
	}
	if (lbads < 9 || lbads > 16 || (1u << lbads) != src->align) {
		snprintf(why, whylen, "namespace %u of %s has %u-byte blocks, the kernel says %u",
			 d->nsid, disk, lbads < 32 ? 1u << lbads : 0, src->align);
		ret = -EOPNOTSUPP;
		goto out_close;
	}
	d->lba_shift = lbads;
	/* Ranges of at most MSSRL blocks, at most MCL blocks per command. */
	d->max_blocks = (uint64_t)d->mssrl * ((uint64_t)d->msrc + 1);
	if (d->max_blocks > d->mcl)
		d->max_blocks = d->mcl;
	if (d->max_blocks > COPY_MAX_CMD_BYTES >> d->lba_shift)
		d->max_blocks = COPY_MAX_CMD_BYTES >> d->lba_shift;
	d->src_start = src->disk_start;
	d->dst_start = dst->disk_start;
	snprintf(d->disk, sizeof(d->disk), "%s", disk);
	free(id);
	return 0;

out_close:
	free(id);
	close(d->fd);
	d->fd = -1;
	return ret;
}

void copy_device_close(struct copy_device *d)
{
	if (d->fd >= 0)
		close(d->fd);
	d->fd = -1;
}

size_t copy_device_max_bytes(const struct copy_device *d)
{
	return (size_t)(d->max_blocks << d->lba_shift);
}

/* Bytes of range descriptors a command of @len bytes needs. */
size_t copy_device_desc_bytes(const struct copy_device *d, size_t len)
{
	uint64_t blocks = len >> d->lba_shift;

	return (size_t)((blocks + d->mssrl - 1) / d->mssrl) * COPY_DESC_SIZE;
}

/**
 * copy_device_prep() - one Copy of @len bytes from @src_off to @dst_off
 * (bytes from the start of each target) into @sqe; @desc holds the
 * command's source ranges until it completes
 */
void copy_device_prep(const struct copy_device *d, struct io_uring_sqe *sqe,
		      uint64_t src_off, uint64_t dst_off, size_t len, uint8_t *desc)
{
	uint64_t slba = (d->src_start + src_off) >> d->lba_shift;
	uint64_t sdlba = (d->dst_start + dst_off) >> d->lba_shift;
	uint64_t left = len >> d->lba_shift;
	struct nvme_uring_cmd cmd = {
		.opcode = NVME_CMD_COPY,
		.nsid = d->nsid,
		.addr = (uint64_t)(uintptr_t)desc,
		.cdw10 = (uint32_t)sdlba,
		.cdw11 = (uint32_t)(sdlba >> 32),
	};
	unsigned int nr = 0;

	memset(desc, 0, copy_device_desc_bytes(d, len));
	while (left) {
		uint64_t n = left < d->mssrl ? left : d->mssrl;
		uint8_t *r = desc + nr * COPY_DESC_SIZE;

		put_le64(r + 8, slba);
		put_le16(r + 16, (uint16_t)(n - 1));	/* 0-based */
		slba += n;
		left -= n;
		nr++;
	}
	cmd.data_len = nr * COPY_DESC_SIZE;
	cmd.cdw12 = nr - 1;	/* NR, 0-based; descriptor format 0 */
	io_uring_prep_rw(IORING_OP_URING_CMD, sqe, d->fd, NULL, 0, 0);
	sqe->cmd_op = NVME_URING_CMD_IO;
	memcpy(sqe->cmd, &cmd, sizeof(cmd));
}

/*
 * A Copy's failure in words: an NVMe status with its type and code as the
 * spec names them, or the kernel's refusal of the passthrough (-errno).
 */
void copy_device_status(int status, char *buf, size_t len)
{
	unsigned int sct = (unsigned int)status >> 8 & 7, sc = (unsigned int)status & 0xff;
	const char *what = "";

	if (status < 0) {
		snprintf(buf, len, "the kernel refused NVMe passthrough: %s%s", strerror(-status),
			 status == -EACCES || status == -EPERM ?
			 " (without CAP_SYS_ADMIN a Copy passes only where the drive's Commands Supported and Effects log lists it)" :
			 "");
		return;
	}

	if (sct == 0 && sc == 0x01)
		what = " (Invalid Command Opcode)";
	else if (sct == 0 && sc == 0x02)
		what = " (Invalid Field in Command)";
	else if (sct == 0 && sc == 0x06)
		what = " (Internal Error)";
	else if (sct == 0 && sc == 0x80)
		what = " (LBA Out of Range)";
	else if (sct == 1 && sc == 0x82)
		what = " (Command Size Limit Exceeded)";
	else if (sct == 2)
		what = " (media error)";
	snprintf(buf, len, "NVMe status 0x%x: type %u code 0x%02x%s", (unsigned int)status, sct, sc,
		 what);
}

/*
 * Generic and command-specific statuses say the drive would not do this
 * Copy, and the kernel may refuse the passthrough itself (privilege: EACCES,
 * EPERM; no io_uring passthrough: EOPNOTSUPP): moving the data through
 * memory may still work. Media and path errors would fail that too, and
 * any other errno says the I/O path itself failed.
 */
bool copy_device_may_fall_back(int status)
{
	unsigned int sct = (unsigned int)status >> 8 & 7;

	if (status < 0)
		return status == -EACCES || status == -EPERM || status == -EOPNOTSUPP;
	return status > 0 && (sct == 0 || sct == 1);
}
