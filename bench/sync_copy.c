// SPDX-License-Identifier: MIT
/*
 * The baseline: what people use today to copy through p2p memory, one
 * synchronous O_DIRECT pread then pwrite per chunk through one buffer.
 * Nothing overlaps: the source idles while the destination writes.
 * `p2pmem bench` measures the copy engine against it.
 */
#include <errno.h>
#include <unistd.h>

#include "sync_copy.h"

/**
 * bench_sync_copy() - copy @len bytes, @bs at a time, through @buf
 * Return: 0 or -errno (a short transfer is -EIO)
 */
int bench_sync_copy(int src_fd, uint64_t src_off, int dst_fd, uint64_t dst_off,
		    uint64_t len, void *buf, size_t bs)
{
	uint64_t done = 0;

	while (done < len) {
		size_t n = len - done < bs ? (size_t)(len - done) : bs;
		ssize_t r = pread(src_fd, buf, n, (off_t)(src_off + done));

		if (r < 0)
			return -errno;
		if ((size_t)r != n)
			return -EIO;
		r = pwrite(dst_fd, buf, n, (off_t)(dst_off + done));
		if (r < 0)
			return -errno;
		if ((size_t)r != n)
			return -EIO;
		done += n;
	}
	return 0;
}
