// SPDX-License-Identifier: MIT
/*
 * The copy engine where io_uring is not to be had: kernel.io_uring_disabled
 * set (hardened servers), or a seccomp filter that refuses io_uring_setup
 * (container runtimes' default profiles).  The engine still prepares its
 * I/O as io_uring SQEs; here each one is carried out at once with the
 * plain system call that does the same (pread, pwrite, the NVMe passthrough
 * ioctl) and its result is queued as the completion would have been.  The
 * data path is the same DMA through the same buffers, one I/O at a time.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/nvme_ioctl.h>
#include <liburing.h>

#include "copy_internal.h"

/* io_uring_queue_init() answers that mean "not here", not "went wrong". */
bool copy_sync_wanted(int ring_err)
{
	return ring_err == -EPERM || ring_err == -ENOSYS || ring_err == -EACCES;
}

/* The NVMe command of a URING_CMD SQE, through the ioctl that takes it. */
static int sync_nvme_cmd(const struct io_uring_sqe *sqe)
{
	const struct nvme_uring_cmd *u = (const struct nvme_uring_cmd *)sqe->cmd;
	struct nvme_passthru_cmd64 cmd = {
		.opcode = u->opcode,
		.flags = u->flags,
		.nsid = u->nsid,
		.cdw2 = u->cdw2,
		.cdw3 = u->cdw3,
		.metadata = u->metadata,
		.addr = u->addr,
		.metadata_len = u->metadata_len,
		.data_len = u->data_len,
		.cdw10 = u->cdw10,
		.cdw11 = u->cdw11,
		.cdw12 = u->cdw12,
		.cdw13 = u->cdw13,
		.cdw14 = u->cdw14,
		.cdw15 = u->cdw15,
		.timeout_ms = u->timeout_ms,
	};
	int ret;

	if (sqe->cmd_op != NVME_URING_CMD_IO)
		return -EOPNOTSUPP;
	ret = ioctl(sqe->fd, NVME_IOCTL_IO64_CMD, &cmd);
	return ret < 0 ? -errno : ret;	/* > 0: the NVMe status, as in a CQE */
}

/**
 * copy_sync_exec() - carry out one prepared SQE now
 * Return: what its CQE's res would have been
 */
int copy_sync_exec(const struct io_uring_sqe *sqe)
{
	void *addr = (void *)(uintptr_t)sqe->addr;
	ssize_t n;

	switch (sqe->opcode) {
	case IORING_OP_READ:
	case IORING_OP_READ_FIXED:
		n = pread(sqe->fd, addr, sqe->len, (off_t)sqe->off);
		break;
	case IORING_OP_WRITE:
	case IORING_OP_WRITE_FIXED:
		n = pwrite(sqe->fd, addr, sqe->len, (off_t)sqe->off);
		break;
	case IORING_OP_URING_CMD:
		return sync_nvme_cmd(sqe);
	default:
		return -EOPNOTSUPP;
	}
	return n < 0 ? -errno : (int)n;
}
