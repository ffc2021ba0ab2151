// SPDX-License-Identifier: MIT
/*
 * dmabuf-edu: the user-space side of a dma-buf export, and an example of it.
 *
 *   dmabuf-edu [-c] [-n] [-H] [-s SIZE] /dev/p2pmemN EDU_BDF SEED
 *
 * Maps SIZE (default 64K) of the provider (zeroed memory), exports the
 * mapping as a dma-buf (P2PMEM_IOC_EXPORT_DMABUF), and hands the fd to the
 * rig's test importer, the p2pmem_edu driver of QEMU's edu DMA engine,
 * through its debugfs file p2pmem_edu/EDU_BDF: "import FD SEED" (the
 * importer runs in this process's context, so the fd number is ours).  The
 * importer attaches, maps and has its engine write 2 KiB of the pattern
 * byte i = (SEED + i * 7) & 0xff at the start of the buffer; this program
 * then reads the bytes through its own mapping: the pattern, then zeroes.
 *
 *   -c   declare EDU_BDF as the file's client first (P2PMEM_IOC_SET_CLIENTS)
 *   -n   import without allow_peer2peer (the importer must be refused)
 *   -H   "hold": the importer keeps its mapping; print READY and wait (up to
 *        30 s) until the importer reports the buffer revoked (the provider
 *        was unbound meanwhile), then print "revoked"
 *   -P FILE  "holdpin": the importer keeps its mapping and cannot be told
 *        to let go (Linux 7.x); print READY, wait (up to 60 s) until FILE
 *        exists, then have it release the buffer and print "released"
 *
 * Prints the importer's answer.  Exit 0: imported and the bytes are right
 * (or, -H, revoked); 1: the importer refused (its answer says how);
 * 2: anything else failed.
 * A real RDMA application does the same up to the fd, then registers it:
 * ibv_reg_dmabuf_mr(pd, 0, SIZE, (uintptr_t)addr, fd, access).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vmtest.h"

#include "../../kmod/uapi/p2pmem.h"

#define EDU_BYTES 2048	/* what the engine writes (p2pmem_edu.c) */

static int usage(void)
{
	fprintf(stderr, "usage: dmabuf-edu [-c] [-n] [-H] [-s SIZE] /dev/p2pmemN EDU_BDF SEED\n");
	return 2;
}

/* Write @cmd to the importer's file, read its one-line answer. */
static int importer(const char *bdf, const char *cmd, char *ans, size_t len)
{
	char path[128];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/kernel/debug/p2pmem_edu/%s", bdf);
	fd = open(path, O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "dmabuf-edu: %s: %s (is p2pmem_edu loaded and bound to %s?)\n",
			path, strerror(errno), bdf);
		return -1;
	}
	if (write(fd, cmd, strlen(cmd)) < 0) {
		fprintf(stderr, "dmabuf-edu: %s: %s: %s\n", path, cmd, strerror(errno));
		close(fd);
		return -1;
	}
	n = pread(fd, ans, len - 1, 0);
	close(fd);
	if (n < 0)
		return -1;
	ans[n] = 0;
	return 0;
}

static int declare(int dev, const char *bdf)
{
	unsigned int dom, bus, slot, fn;
	struct p2pmem_clients req = { 0 };
	uint32_t id;

	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) != 4)
		return -1;
	id = P2PMEM_PCI_ID(dom, bus, slot << 3 | fn);
	req.nclients = 1;
	req.clients = (uintptr_t)&id;
	return ioctl(dev, P2PMEM_IOC_SET_CLIENTS, &req);
}

int main(int argc, char **argv)
{
	struct p2pmem_dmabuf_req req = { 0 };
	bool declare_client = false, nop2p = false, hold = false;
	const char *release_file = NULL;
	uint64_t size = 64 << 10;
	char cmd[96], ans[256];
	unsigned int seed;
	unsigned char *m;
	int dev, fd, c, i;
	size_t k;

	while ((c = getopt(argc, argv, "cnHP:s:")) != -1) {
		switch (c) {
		case 'c': declare_client = true; break;
		case 'n': nop2p = true; break;
		case 'H': hold = true; break;
		case 'P': hold = true; release_file = optarg; break;
		case 's':
			if (parse_size(optarg, &size) || size < EDU_BYTES || size % 4096)
				return usage();
			break;
		default: return usage();
		}
	}
	if (argc - optind != 3)
		return usage();
	seed = (unsigned int)strtoul(argv[optind + 2], NULL, 0);

	dev = open(argv[optind], O_RDWR);
	if (dev < 0) {
		fprintf(stderr, "dmabuf-edu: %s: %s\n", argv[optind], strerror(errno));
		return 2;
	}
	if (declare_client && declare(dev, argv[optind + 1])) {
		fprintf(stderr, "dmabuf-edu: declaring %s: %s\n", argv[optind + 1], strerror(errno));
		return 1;
	}
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, dev, 0);
	if (m == MAP_FAILED) {
		fprintf(stderr, "dmabuf-edu: mmap %s: %s\n", argv[optind], strerror(errno));
		return 2;
	}
	req.addr = (uintptr_t)m;
	req.len = size;
	fd = ioctl(dev, P2PMEM_IOC_EXPORT_DMABUF, &req);
	if (fd < 0) {
		fprintf(stderr, "dmabuf-edu: P2PMEM_IOC_EXPORT_DMABUF: %s\n", strerror(errno));
		return 2;
	}
	snprintf(cmd, sizeof(cmd), "%s %d %u%s",
		 release_file ? "holdpin" : hold ? "hold" : "import", fd, seed,
		 nop2p ? " nop2p" : "");
	if (importer(argv[optind + 1], cmd, ans, sizeof(ans)))
		return 2;
	fputs(ans, stdout);
	if (strstr(ans, "refused"))
		return 1;
	if (!strstr(ans, " ok "))
		return 2;
	if (release_file) {
		printf("READY\n");
		fflush(stdout);
		for (i = 0; i < 600 && access(release_file, F_OK); i++)
			usleep(100 * 1000);
		if (importer(argv[optind + 1], "release", ans, sizeof(ans)))
			return 2;
		printf("%s", ans);
		return i < 600 ? 0 : 2;
	}
	for (k = 0; k < size; k++) {
		unsigned char want = k < EDU_BYTES ? (unsigned char)((seed + k * 7) & 0xff) : 0;

		if (m[k] != want) {
			printf("bytes FAIL at %zu: %#x, want %#x\n", k, m[k], want);
			return 2;
		}
	}
	printf("bytes ok: %d bytes of the pattern, then %llu zero bytes, read through the mapping\n",
	       EDU_BYTES, (unsigned long long)size - EDU_BYTES);
	if (!hold)
		return 0;
	printf("READY\n");
	fflush(stdout);
	/* The mapping is revoked with the buffer: no access to it from here. */
	for (i = 0; i < 300; i++) {
		if (importer(argv[optind + 1], "status", ans, sizeof(ans)))
			return 2;
		if (!strncmp(ans, "revoked", 7)) {
			printf("revoked\n");
			importer(argv[optind + 1], "release", ans, sizeof(ans));
			return 0;
		}
		usleep(100 * 1000);
	}
	printf("not revoked after 30 s: %s", ans);
	importer(argv[optind + 1], "release", ans, sizeof(ans));
	return 2;
}
