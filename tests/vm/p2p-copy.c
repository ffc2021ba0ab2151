/* SPDX-License-Identifier: GPL-2.0 */
/*
 * p2p-copy - a simple synchronous O_DIRECT copy loop for the rig's VM tests
 * and demo: SRC -> buffer -> DST, chunk by chunk, with the data verified.
 *
 * The buffer is host memory or p2p memory: an mmap of a provider's upstream
 * /sys/bus/pci/devices/<bdf>/p2pmem/allocate (or any file whose shared mmap
 * hands out p2p memory, such as /dev/p2pmemN).  It says where the buffer lives
 * (physical range from /proc/self/pagemap, and which BAR of which PCI function
 * contains it per /sys/bus/pci/devices/x/resource) and the throughput.
 * A helper, not a test: tests/vm/p2p-copy.sh and rig/guest/demo.sh run it.
 *
 * Exit: 0 copied and verified, 1 error, 2 usage, 3 the kernel refused the p2p
 * transfer (EREMOTEIO; newer kernels, seen on Debian's 7.3, fail it with
 * EINVAL: a read into p2p memory that fails so while the same read into
 * host memory works counts as refused), 4 the data did not verify.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vmtest.h"

#define PAGE 4096UL
#define EXIT_REFUSED 3
#define EXIT_CORRUPT 4

struct buffer {
	const char *what; /* "host", a BDF or a path */
	char path[PATH_MAX];
	void *addr;
	size_t len;
	int fd;
};

static bool verbose = true;

static void msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void msg(const char *fmt, ...)
{
	va_list ap;

	if (!verbose)
		return;
	va_start(ap, fmt);
	fputs("p2p-copy: ", stdout);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: p2p-copy [-s SIZE] [-c CHUNK] [-b BUF] [-o OFFSET] [-S SEED] [-n] [-p] [-q] SRC DST\n"
		"  -s SIZE    bytes to copy (K/M/G suffixes; default 32M)\n"
		"  -c CHUNK   bytes per read/write (default 512K)\n"
		"  -b BUF     buffer: host (default), a PCI BDF (its p2pmem/allocate),\n"
		"             or a file to mmap shared (e.g. /dev/p2pmem0)\n"
		"  -o OFFSET  byte offset in SRC and DST (default 0)\n"
		"  -S SEED    pattern seed (default: from the clock)\n"
		"  -n         no pattern: copy SRC as it is and compare DST with SRC\n"
		"  -p         probe: one O_DIRECT read of CHUNK from SRC into BUF, then\n"
		"             one write of it to DST; exit 0 ok, 3 refused (EREMOTEIO,\n"
		"             or EINVAL where host memory works), 1 other\n"
		"  -q         quiet: only the final 'result' line\n");
}

static int is_bdf(const char *s)
{
	unsigned d, b, dev, fn;
	char c;

	return sscanf(s, "%x:%x:%x.%x%c", &d, &b, &dev, &fn, &c) == 4;
}

static int buffer_open(struct buffer *buf, const char *what, size_t len)
{
	buf->what = what;
	buf->len = len;
	buf->fd = -1;
	if (!strcmp(what, "host")) {
		snprintf(buf->path, sizeof(buf->path), "anonymous memory");
		buf->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				 -1, 0);
		if (buf->addr == MAP_FAILED) {
			perror("p2p-copy: mmap host buffer");
			return -1;
		}
		memset(buf->addr, 0, len);
		return 0;
	}
	if (is_bdf(what))
		snprintf(buf->path, sizeof(buf->path), "/sys/bus/pci/devices/%s/p2pmem/allocate", what);
	else
		snprintf(buf->path, sizeof(buf->path), "%s", what);
	buf->fd = open(buf->path, O_RDWR);
	if (buf->fd < 0) {
		fprintf(stderr, "p2p-copy: open %s: %s\n", buf->path, strerror(errno));
		return -1;
	}
	buf->addr = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, buf->fd, 0);
	if (buf->addr == MAP_FAILED) {
		fprintf(stderr, "p2p-copy: mmap %zu bytes of %s: %s\n", len, buf->path, strerror(errno));
		close(buf->fd);
		return -1;
	}
	return 0;
}

/* Physical address of the page at virtual address v, 0 if unknown. */
static uint64_t phys_of(int pagemap, const void *v)
{
	uint64_t e;
	off_t off = (off_t)((uintptr_t)v / PAGE) * 8;

	if (pread(pagemap, &e, sizeof(e), off) != sizeof(e))
		return 0;
	if (!(e & (1ULL << 63)))
		return 0;
	e &= (1ULL << 55) - 1;
	return e * PAGE;
}

/* Which BAR of which PCI function contains [lo, hi]; prints it. */
static void report_bar(uint64_t lo, uint64_t hi)
{
	FILE *ls = popen("ls /sys/bus/pci/devices", "r");
	char bdf[64];
	bool found = false;

	if (!ls)
		return;
	while (fscanf(ls, "%63s", bdf) == 1) {
		char p[PATH_MAX];
		FILE *f;
		unsigned long long s, e, fl;
		int bar = 0;

		snprintf(p, sizeof(p), "/sys/bus/pci/devices/%s/resource", bdf);
		f = fopen(p, "r");
		if (!f)
			continue;
		while (bar < 6 && fscanf(f, "%llx %llx %llx", &s, &e, &fl) == 3) {
			if (e && s <= lo && hi <= e) {
				msg("buffer: inside %s BAR%d [0x%llx-0x%llx] (%llu MiB)\n", bdf, bar, s, e,
				    (e - s + 1) >> 20);
				found = true;
			}
			bar++;
		}
		fclose(f);
	}
	pclose(ls);
	if (!found)
		msg("buffer: in no PCI BAR (host RAM)\n");
}

static void report_buffer(const struct buffer *buf)
{
	int pm = open("/proc/self/pagemap", O_RDONLY);
	uint64_t first, prev, p;
	size_t pages = buf->len / PAGE, runs = 1;

	msg("buffer: %zu bytes, %s%s\n", buf->len, strcmp(buf->what, "host") ? "shared mmap of " : "",
	    buf->path);
	if (pm < 0) {
		msg("buffer: /proc/self/pagemap: %s\n", strerror(errno));
		return;
	}
	first = prev = phys_of(pm, buf->addr);
	for (size_t i = 1; i < pages; i++) {
		p = phys_of(pm, (char *)buf->addr + i * PAGE);
		if (p != prev + PAGE)
			runs++;
		prev = p;
	}
	close(pm);
	if (!first) {
		msg("buffer: physical address unknown (need root for pagemap PFNs)\n");
		return;
	}
	if (runs == 1) {
		msg("buffer: physical 0x%" PRIx64 "-0x%" PRIx64 " (contiguous)\n", first, prev + PAGE - 1);
		report_bar(first, prev + PAGE - 1);
	} else {
		msg("buffer: %zu pages in %zu physical runs, first page at 0x%" PRIx64 "\n", pages, runs, first);
		report_bar(first, first + PAGE - 1);
	}
}

/* errno of xfer()'s last failure */
static int errno_last;

static int xfer(bool rd, int fd, void *p, size_t len, uint64_t off, const char *name)
{
	ssize_t n = rd ? pread(fd, p, len, (off_t)off) : pwrite(fd, p, len, (off_t)off);

	if (n == (ssize_t)len)
		return 0;
	if (n < 0) {
		int e = errno;

		errno_last = e;
		fprintf(stderr, "p2p-copy: %s %s at %" PRIu64 ": errno %d (%s)%s\n", rd ? "read" : "write", name,
			off, e, strerror(e), e == EREMOTEIO ? ": the kernel refused p2p DMA" : "");
		return e == EREMOTEIO ? -EREMOTEIO : -1;
	}
	fprintf(stderr, "p2p-copy: short %s of %s at %" PRIu64 ": %zd of %zu\n", rd ? "read" : "write", name, off, n,
		len);
	return -1;
}

int main(int argc, char **argv)
{
	uint64_t size = 32 << 20, chunk = 512 << 10, off = 0, seed = 0;
	bool have_seed = false, fill = true, probe = false;
	const char *bufname = "host", *src, *dst;
	struct buffer buf, host;
	int sfd, dfd, opt, r;
	double t0, t;
	long bad;

	while ((opt = getopt(argc, argv, "s:c:b:o:S:npqh")) != -1) {
		switch (opt) {
		case 's': if (parse_size(optarg, &size)) goto bad_usage; break;
		case 'c': if (parse_size(optarg, &chunk)) goto bad_usage; break;
		case 'o': if (parse_size(optarg, &off)) goto bad_usage; break;
		case 'S': if (parse_size(optarg, &seed)) goto bad_usage; have_seed = true; break;
		case 'b': bufname = optarg; break;
		case 'n': fill = false; break;
		case 'p': probe = true; break;
		case 'q': verbose = false; break;
		case 'h': usage(stdout); return 0;
		default: goto bad_usage;
		}
	}
	if (argc - optind != 2)
		goto bad_usage;
	src = argv[optind];
	dst = argv[optind + 1];
	if (!chunk || chunk % PAGE || size % chunk || off % PAGE) {
		fprintf(stderr, "p2p-copy: CHUNK and OFFSET must be multiples of 4096, SIZE of CHUNK\n");
		return 2;
	}
	if (probe)
		size = chunk;
	if (!have_seed)
		seed = (uint64_t)(now() * 1e9) ^ ((uint64_t)getpid() << 32);

	sfd = open(src, O_RDWR | O_DIRECT);
	if (sfd < 0) {
		fprintf(stderr, "p2p-copy: open %s: %s\n", src, strerror(errno));
		return 1;
	}
	dfd = open(dst, O_RDWR | O_DIRECT);
	if (dfd < 0) {
		fprintf(stderr, "p2p-copy: open %s: %s\n", dst, strerror(errno));
		return 1;
	}
	if (buffer_open(&buf, bufname, chunk) || buffer_open(&host, "host", chunk))
		return 1;
	if (!probe)
		report_buffer(&buf);

	if (fill && !probe) {
		/* a fresh pattern on SRC, through host memory */
		for (uint64_t o = 0; o < size; o += chunk) {
			pattern_fill(host.addr, chunk, seed, o);
			if (xfer(false, sfd, host.addr, chunk, off + o, src))
				return 1;
		}
		msg("filled %s [%" PRIu64 ", +%" PRIu64 " MiB) with pattern seed 0x%" PRIx64 "\n", src, off,
		    size >> 20, seed);
	}

	t0 = now();
	for (uint64_t o = 0; o < size; o += chunk) {
		r = xfer(true, sfd, buf.addr, chunk, off + o, src);
		/* EINVAL into p2p memory, fine into host memory: refused. */
		if (r && errno_last == EINVAL && buf.addr != host.addr &&
		    !xfer(true, sfd, host.addr, chunk, off + o, src)) {
			fprintf(stderr, "p2p-copy: the same read into host memory works: the kernel refused p2p DMA (EINVAL)\n");
			r = -EREMOTEIO;
		}
		if (!r) {
			r = xfer(false, dfd, buf.addr, chunk, off + o, dst);
			/* The same for the write: the bytes through host memory. */
			if (r && errno_last == EINVAL && buf.addr != host.addr) {
				memcpy(host.addr, buf.addr, chunk);
				if (!xfer(false, dfd, host.addr, chunk, off + o, dst)) {
					fprintf(stderr, "p2p-copy: the same write from host memory works: the kernel refused p2p DMA (EINVAL)\n");
					r = -EREMOTEIO;
				}
			}
		}
		if (r) {
			printf("p2p-copy: result buffer=%s bytes=%" PRIu64 " status=%s\n", bufname, o,
			       r == -EREMOTEIO ? "EREMOTEIO" : "error");
			return r == -EREMOTEIO ? EXIT_REFUSED : 1;
		}
	}
	t = now() - t0;
	if (probe) {
		printf("p2p-copy: result buffer=%s bytes=%" PRIu64 " status=ok\n", bufname, size);
		return 0;
	}
	msg("copied %" PRIu64 " bytes %s -> %s in %.3f s (%.1f MiB/s), chunk %" PRIu64 "\n", size, src, dst, t,
	    size / t / 1048576.0, chunk);

	/* verify DST through host memory */
	bad = -1;
	for (uint64_t o = 0; o < size && bad < 0; o += chunk) {
		if (xfer(true, dfd, host.addr, chunk, off + o, dst))
			return 1;
		if (fill) {
			bad = pattern_check(host.addr, chunk, seed, o);
		} else {
			static char *s;

			if (!s && posix_memalign((void **)&s, PAGE, chunk))
				return 1;
			if (xfer(true, sfd, s, chunk, off + o, src))
				return 1;
			bad = memcmp(s, host.addr, chunk) ? 0 : -1;
		}
		if (bad >= 0)
			bad += (long)o;
	}
	if (bad >= 0) {
		fprintf(stderr, "p2p-copy: DATA MISMATCH on %s at byte %ld\n", dst, bad + (long)off);
		printf("p2p-copy: result buffer=%s bytes=%" PRIu64 " seconds=%.3f status=corrupt\n", bufname, size, t);
		return EXIT_CORRUPT;
	}
	msg("verified %" PRIu64 " bytes on %s: identical to the source\n", size, dst);
	printf("p2p-copy: result buffer=%s bytes=%" PRIu64 " seconds=%.3f mibps=%.1f status=ok\n", bufname, size, t,
	       size / t / 1048576.0);
	return 0;

bad_usage:
	usage(stderr);
	return 2;
}
