/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kmod-buf - drives /dev/p2pmemN (p2pmem.ko) for the kmod-*.sh VM tests.
 * A helper, not a test.
 *
 *   kmod-buf [-d DEV] [-c CLIENTS] [-s SIZE] [-C CHUNK] [-o OFF] CMD [ARGS]
 *     -d DEV      /dev/p2pmemN (default /dev/p2pmem0)
 *     -c CLIENTS  comma-separated BDFs declared with P2PMEM_IOC_SET_CLIENTS,
 *                 "none" to declare nothing (default none): open and mmap
 *                 alone, as programs written for p2pmem-pci do
 *     -s SIZE     buffer size (K/M suffixes; default 1M)
 *     -C CHUNK    O_DIRECT chunk (default 512K, at most SIZE)
 *     -o OFF      byte offset on the drives (default 0)
 *     -r N        refuse: do it N times (default 1), one process
 *
 *   map              map, check: fresh memory reads zero, every page inside
 *                    the provider's range (pagemap), the PTE cache mode (via
 *                    p2pmem_test's debugfs file if loaded); write a pattern,
 *                    unmap, map again: zero again
 *   copy SRC DST     pattern -> SRC (host memory), SRC -> buffer -> DST
 *                    (O_DIRECT, p2p), DST -> host memory: verified
 *   refuse WHAT ERR  expect mmap/ioctl/open to fail with errno ERR (a number
 *                    or a name; 0: expect success): WHAT is private,
 *                    offset, nodecl (a plain mmap after -c), over, clients,
 *                    nonroot, exec (mmap PROT_EXEC), mprotect-exec
 *                    (mprotect of a mapping to PROT_EXEC), efault (a
 *                    declaration whose answer cannot be written back fails
 *                    EFAULT; then mmap on that file)
 *   dio-read SRC ERR map, one O_DIRECT read of CHUNK bytes of SRC into the
 *                    buffer: expect errno ERR (0: success, the data checked
 *                    against a buffered read of SRC; "refused": the kernel
 *                    refused p2p DMA: EREMOTEIO, or as newer kernels (7.x)
 *                    say it, EINVAL while the same read into host memory
 *                    works)
 *   touch            map, print READY, read every page in a loop until
 *                    SIGBUS (exit 0, "sigbus after N ms"); 30 s: exit 1
 *   dio-loop SRC     map, print READY, O_DIRECT reads of SRC into the buffer
 *                    until one fails: exit 0 if EFAULT/EIO/SIGBUS, else 1
 *   uring-hold FILE  map, register it as an io_uring fixed buffer (a
 *                    long-term pin), print READY, wait until FILE exists,
 *                    unregister, exit 0 (77 if io_uring refuses file-backed
 *                    buffers, as before Linux 6.3; 3 and REFUSED for
 *                    EREMOTEIO: upstream P2PDMA pages, never long-term pinned)
 *   reset-loop SRC DST N  N rounds of SRC -> buffer -> DST, each chunk
 *                    verified on DST afterwards; stops at the first error
 *                    (expected when the provider goes offline); exit 0 if
 *                    every write reported done is correct on DST, 4 if not
 *
 *   map-once         map SIZE once and print how long mmap() took ("MAPPING"
 *                    first, once declared, right before mmap())
 *   map-loop SECS    open, declare, map, touch, unmap, again, until the node
 *                    or the provider is gone (exit 0) or SECS pass (exit 0;
 *                    "loops N"); SIGBUS ends one round, not the loop
 *   flood N SECS     keep up to N mappings, touching each in turn, unmapping
 *                    and mapping one every round; a mapping that faults
 *                    (SIGBUS) is dropped.  Prints READY after the first.
 *                    Once mmap says the provider is gone (ENODEV), every
 *                    remaining mapping must fault on its next touch: exit 0
 *                    when none is left, 1 if one still works ("survived")
 *                    or SECS pass first
 *
 * Exit: 0 ok, 1 failure, 2 usage, 4 data corruption.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/io_uring.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "vmtest.h"

#include "../../kmod/uapi/p2pmem.h"

#define PAGE 4096UL
#define EXIT_CORRUPT 4

static const char *dev = "/dev/p2pmem0";
static char *clients = "none";
static uint64_t size = 1 << 20, chunk = 512 << 10, off;
static long repeat = 1;
static int decl_distance = -1;
static unsigned int decl_map;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("kmod-buf: ", stdout);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static const char *ename(int e)
{
	switch (e) {
	case EINVAL: return "EINVAL";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENODEV: return "ENODEV";
	case EFAULT: return "EFAULT";
	case EIO: return "EIO";
	case EREMOTEIO: return "EREMOTEIO";
	case EDESTADDRREQ: return "EDESTADDRREQ";
	case EBUSY: return "EBUSY";
	default: return "other";
	}
}

static int parse_errno(const char *s)
{
	static const int all[] = { EINVAL, ENOMEM, EACCES, EPERM, ENODEV, EFAULT, EIO,
				   EREMOTEIO, EDESTADDRREQ, EBUSY };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(s, ename(all[i])))
			return all[i];
	return atoi(s);
}

/* Open DEV and declare CLIENTS; returns the fd or -errno. */
static int open_declared(void)
{
	uint32_t ids[P2PMEM_MAX_CLIENTS];
	struct p2pmem_clients req = { 0 };
	char *list, *tok, *save = NULL;
	int fd, n = 0;

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (!strcmp(clients, "none"))
		return fd;
	list = strdup(clients);
	for (tok = strtok_r(list, ",", &save); tok && n < P2PMEM_MAX_CLIENTS;
	     tok = strtok_r(NULL, ",", &save)) {
		unsigned int d, b, s, f;

		if (sscanf(tok, "%x:%x:%x.%x", &d, &b, &s, &f) != 4) {
			fprintf(stderr, "kmod-buf: bad BDF %s\n", tok);
			exit(2);
		}
		ids[n++] = P2PMEM_PCI_ID(d, b, (s << 3) | f);
	}
	free(list);
	req.nclients = n;
	req.clients = (uintptr_t)ids;
	if (ioctl(fd, P2PMEM_IOC_SET_CLIENTS, &req)) {
		int e = errno;

		close(fd);
		return -e;
	}
	decl_distance = req.distance;
	decl_map = req.map_type;
	return fd;
}

static void *map_buf(int fd, size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Open the node, declare the clients, map @size: the mapping (its file in
 * *@fdp), or NULL (said why). */
static void *map_declared(int *fdp)
{
	void *p;

	*fdp = open_declared();
	if (*fdp < 0 || !(p = map_buf(*fdp, size))) {
		say("FAIL: open/declare/mmap %s: %s\n", dev, strerror(*fdp < 0 ? -*fdp : errno));
		return NULL;
	}
	return p;
}

/* The provider's range from sysfs (0x...-0x...), by the device name. */
static int provider_range(uint64_t *lo, uint64_t *hi)
{
	char path[PATH_MAX];
	unsigned long long a, b;
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/class/p2pmem/%s/range", strrchr(dev, '/') + 1);
	f = fopen(path, "r");
	if (!f)
		return -1;
	ok = fscanf(f, "%llx-%llx", &a, &b) == 2;
	fclose(f);
	*lo = a;
	*hi = b;
	return ok ? 0 : -1;
}

static uint64_t phys_of(int pm, const void *v)
{
	uint64_t e;

	if (pread(pm, &e, sizeof(e), (off_t)((uintptr_t)v / PAGE) * 8) != sizeof(e))
		return 0;
	if (!(e & (1ULL << 63)))
		return 0;
	return (e & ((1ULL << 55) - 1)) * PAGE;
}

/* Every page of [p, p+len) inside the provider's range? */
static int check_pages(const void *p, size_t len)
{
	uint64_t lo, hi, ph, first = 0;
	int pm;

	if (provider_range(&lo, &hi)) {
		say("FAIL: cannot read the provider's range\n");
		return -1;
	}
	pm = open("/proc/self/pagemap", O_RDONLY);
	if (pm < 0)
		return -1;
	for (size_t i = 0; i < len; i += PAGE) {
		ph = phys_of(pm, (const char *)p + i);
		if (!first)
			first = ph;
		if (!ph || ph < lo || ph + PAGE - 1 > hi) {
			say("FAIL: page %zu at physical 0x%" PRIx64 " is outside the provider [0x%" PRIx64
			    "-0x%" PRIx64 "]\n", i / PAGE, ph, lo, hi);
			close(pm);
			return -1;
		}
	}
	close(pm);
	say("pages: all %zu inside the provider [0x%" PRIx64 "-0x%" PRIx64 "], first at 0x%" PRIx64 "\n",
	    len / PAGE, lo, hi, first);
	return 0;
}

/* The PTE cache mode through p2pmem_test's debugfs file; "" if unknown. */
static void pte_cache(const void *p, char *out, size_t len)
{
	char buf[128];
	int fd = open("/sys/kernel/debug/p2pmem_test/pte", O_RDWR);
	ssize_t n;
	char *c;

	*out = 0;
	if (fd < 0)
		return;
	snprintf(buf, sizeof(buf), "%#lx", (unsigned long)(uintptr_t)p);
	if (write(fd, buf, strlen(buf)) < 0) {
		close(fd);
		return;
	}
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = 0;
	c = strstr(buf, "cache=");
	if (c) {
		snprintf(out, len, "%s", c + 6);
		out[strcspn(out, "\n")] = 0;
	}
}

static bool all_zero(const void *p, size_t len)
{
	const uint64_t *w = p;

	for (size_t i = 0; i < len / 8; i++)
		if (w[i])
			return false;
	return true;
}

static int cmd_map(void)
{
	char cache[64];
	double t0, t1;
	void *p;
	int fd;

	fd = open_declared();
	if (fd < 0) {
		say("FAIL: open/declare %s: %s\n", dev, strerror(-fd));
		return 1;
	}
	t0 = now();
	p = map_buf(fd, size);
	t1 = now();
	if (!p) {
		say("FAIL: mmap %" PRIu64 " bytes: %s\n", size, strerror(errno));
		return 1;
	}
	say("mapped %" PRIu64 " bytes of %s in %.1f ms, distance %d map %u\n", size, dev,
	    (t1 - t0) * 1e3, decl_distance, decl_map);
	if (!all_zero(p, size)) {
		say("FAIL: fresh memory is not zero\n");
		return 1;
	}
	if (check_pages(p, size))
		return 1;
	pte_cache(p, cache, sizeof(cache));
	say("pte cache: %s\n", *cache ? cache : "unknown (p2pmem_test not loaded)");
	if (*cache && strcmp(cache, "uc-minus") && strcmp(cache, "uncached")) {
		say("FAIL: the user mapping is cached (%s)\n", cache);
		return 1;
	}
	pattern_fill(p, size, 42, 0);
	if (pattern_check(p, size, 42, 0) >= 0) {
		say("FAIL: the pattern did not read back\n");
		return 1;
	}
	munmap(p, size);
	t0 = now();
	p = map_buf(fd, size);
	t1 = now();
	if (!p) {
		say("FAIL: second mmap: %s\n", strerror(errno));
		return 1;
	}
	if (!all_zero(p, size)) {
		say("FAIL: memory handed out again still holds the previous data\n");
		return 1;
	}
	say("remapped in %.1f ms: zero again\n", (t1 - t0) * 1e3);
	munmap(p, size);
	close(fd);
	say("ok\n");
	return 0;
}

static int xfer(bool rd, int fd, void *p, size_t len, uint64_t o)
{
	ssize_t n = rd ? pread(fd, p, len, (off_t)o) : pwrite(fd, p, len, (off_t)o);

	if (n == (ssize_t)len)
		return 0;
	return n < 0 ? -errno : -EIO;
}

/* The two drives (O_DIRECT) and the provider with its clients declared. */
static int open_copy(const char *src, const char *dst, int *sfd, int *dfd, int *fd)
{
	*sfd = open(src, O_RDWR | O_DIRECT);
	*dfd = open(dst, O_RDWR | O_DIRECT);
	if (*sfd < 0 || *dfd < 0) {
		say("FAIL: open %s / %s: %s\n", src, dst, strerror(errno));
		return -1;
	}
	*fd = open_declared();
	if (*fd < 0) {
		say("FAIL: open/declare %s: %s\n", dev, strerror(-*fd));
		return -1;
	}
	return 0;
}

static int cmd_copy(const char *src, const char *dst)
{
	uint64_t seed = (uint64_t)(now() * 1e9);
	int sfd, dfd, fd, r;
	void *p, *host;
	double t0, t;
	long bad;

	if (open_copy(src, dst, &sfd, &dfd, &fd))
		return 1;
	p = map_buf(fd, size);
	if (!p) {
		say("FAIL: mmap %" PRIu64 " bytes: %s\n", size, strerror(errno));
		return 1;
	}
	if (!all_zero(p, size) || check_pages(p, size)) {
		say("FAIL: fresh buffer not zero or not in the provider\n");
		return 1;
	}
	if (posix_memalign(&host, PAGE, chunk))
		return 1;
	for (uint64_t o = 0; o < size; o += chunk) {
		pattern_fill(host, chunk, seed, o);
		if (xfer(false, sfd, host, chunk, off + o)) {
			say("FAIL: writing the pattern to %s\n", src);
			return 1;
		}
	}
	t0 = now();
	/* The whole buffer: SRC -> buffer, then buffer -> DST, chunk by chunk. */
	for (uint64_t o = 0; o < size; o += chunk) {
		r = xfer(true, sfd, (char *)p + o, chunk, off + o);
		if (r) {
			say("FAIL: O_DIRECT read %s -> buffer at %" PRIu64 ": %s\n", src, o, strerror(-r));
			return 1;
		}
	}
	if (pattern_check(p, size, seed, 0) >= 0) {
		say("FAIL: the buffer does not hold what %s has\n", src);
		return EXIT_CORRUPT;
	}
	for (uint64_t o = 0; o < size; o += chunk) {
		r = xfer(false, dfd, (char *)p + o, chunk, off + o);
		if (r) {
			say("FAIL: O_DIRECT write buffer -> %s at %" PRIu64 ": %s\n", dst, o, strerror(-r));
			return 1;
		}
	}
	t = now() - t0;
	bad = -1;
	for (uint64_t o = 0; o < size && bad < 0; o += chunk) {
		if (xfer(true, dfd, host, chunk, off + o)) {
			say("FAIL: reading back %s\n", dst);
			return 1;
		}
		bad = pattern_check(host, chunk, seed, o);
		if (bad >= 0)
			bad += (long)o;
	}
	if (bad >= 0) {
		say("FAIL: DATA MISMATCH on %s at byte %ld\n", dst, bad);
		return EXIT_CORRUPT;
	}
	say("copied %" PRIu64 " bytes %s -> %s -> %s in %.3f s (%.1f MiB/s), verified\n", size, src,
	    dev, dst, t, size / t / 1048576.0);
	munmap(p, size);
	close(fd);
	return 0;
}

/*
 * Declare the clients with the request in a read-only page: the kernel
 * reads it, but cannot write the answer back (EFAULT).  0 if that is what
 * happened, 1 otherwise.
 */
static int efault_declaration(int fd)
{
	struct p2pmem_clients *req;
	uint32_t id = 0;
	unsigned int d, b, sl, fn;

	if (sscanf(clients, "%x:%x:%x.%x", &d, &b, &sl, &fn) != 4) {
		say("FAIL: efault needs -c BDF\n");
		return 1;
	}
	id = P2PMEM_PCI_ID(d, b, (sl << 3) | fn);
	req = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (req == MAP_FAILED)
		return 1;
	req->nclients = 1;
	req->clients = (uintptr_t)&id;
	mprotect(req, PAGE, PROT_READ);
	if (!ioctl(fd, P2PMEM_IOC_SET_CLIENTS, req) || errno != EFAULT) {
		say("FAIL: a declaration into a read-only answer gave %s, not EFAULT\n",
		    ename(errno));
		return 1;
	}
	say("declaration with a read-only answer: EFAULT\n");
	return 0;
}

static int refuse_once(const char *what, const char *want_s);

static int cmd_refuse(const char *what, const char *want_s)
{
	int rc = 0;

	for (long i = 0; i < repeat && !rc; i++)
		rc = refuse_once(what, want_s);
	return rc;
}

static int refuse_once(const char *what, const char *want_s)
{
	int want = parse_errno(want_s), got = 0, fd;
	void *p;

	if (!strcmp(what, "nonroot")) {
		if (setgid(65534) || setuid(65534)) {
			say("FAIL: cannot drop to uid 65534\n");
			return 1;
		}
		fd = open(dev, O_RDWR);
		got = fd < 0 ? errno : 0;
	} else {
		fd = open_declared();
		if (fd < 0) {
			got = -fd;
		} else if (!strcmp(what, "private")) {
			p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
			got = p == MAP_FAILED ? errno : 0;
		} else if (!strcmp(what, "offset")) {
			p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, PAGE);
			got = p == MAP_FAILED ? errno : 0;
		} else if (!strcmp(what, "nodecl") || !strcmp(what, "over")) {
			p = map_buf(fd, size);
			got = p ? 0 : errno;
		} else if (!strcmp(what, "exec")) {
			p = mmap(NULL, size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
			got = p == MAP_FAILED ? errno : 0;
		} else if (!strcmp(what, "mprotect-exec")) {
			p = map_buf(fd, size);
			if (!p) {
				say("FAIL: mmap: %s\n", strerror(errno));
				return 1;
			}
			got = mprotect(p, size, PROT_READ | PROT_EXEC) ? errno : 0;
		} else if (!strcmp(what, "efault")) {
			/* A file of its own: open_declared() declared already. */
			close(fd);
			fd = open(dev, O_RDWR | O_CLOEXEC);
			if (fd < 0) {
				say("FAIL: open %s: %s\n", dev, strerror(errno));
				return 1;
			}
			got = efault_declaration(fd);
			if (got)
				return got;
			p = map_buf(fd, size);
			got = p ? 0 : errno;
		} else {
			say("unknown refusal %s\n", what);
			return 2;
		}
	}
	if (got != want) {
		say("FAIL: %s: errno %d (%s), expected %d (%s)\n", what, got, got ? ename(got) : "success",
		    want, want ? ename(want) : "success");
		return 1;
	}
	if (got)
		say("%s refused with %s, as expected\n", what, ename(got));
	else
		say("%s accepted, as expected\n", what);
	return 0;
}

static int cmd_dio_read(const char *src, const char *want_s)
{
	bool refused = !strcmp(want_s, "refused");
	int want = refused ? EREMOTEIO : parse_errno(want_s), sfd, bfd, fd, r;
	void *p, *host;

	sfd = open(src, O_RDONLY | O_DIRECT);
	bfd = open(src, O_RDONLY);
	if (sfd < 0 || bfd < 0) {
		say("FAIL: open %s: %s\n", src, strerror(errno));
		return 1;
	}
	p = map_declared(&fd);
	if (!p)
		return 1;
	host = aligned_alloc(PAGE, chunk);
	if (!host)
		return 1;
	r = xfer(true, sfd, p, chunk, off);
	if (refused && r == -EINVAL && !xfer(true, sfd, host, chunk, off)) {
		say("O_DIRECT read %s -> %s: EINVAL, into host memory it works: refused\n", src, dev);
		r = -EREMOTEIO;
	}
	if (-r != want) {
		say("FAIL: O_DIRECT read %s -> %s: %s, expected %s\n", src, dev,
		    r ? ename(-r) : "success", want ? ename(want) : "success");
		return 1;
	}
	if (r) {
		say("O_DIRECT read %s -> %s: %s, as expected\n", src, dev,
		    refused ? "refused" : ename(-r));
		return 0;
	}
	if (pread(bfd, host, chunk, (off_t)off) != (ssize_t)chunk) {
		say("FAIL: buffered read of %s\n", src);
		return 1;
	}
	if (memcmp(host, p, chunk)) {
		say("FAIL: the buffer does not hold what %s has\n", src);
		return EXIT_CORRUPT;
	}
	say("O_DIRECT read %s -> %s: %" PRIu64 " bytes, as on the drive\n", src, dev, chunk);
	return 0;
}

static sigjmp_buf jb;
static volatile long loops;
static volatile sig_atomic_t got_sigbus;

static void on_sigbus(int sig)
{
	(void)sig;
	got_sigbus = 1;
	siglongjmp(jb, 1);
}

static int cmd_touch(void)
{
	volatile uint64_t sum = 0;
	static volatile double t_last;
	double t0;
	char *p;
	int fd;

	p = map_declared(&fd);
	if (!p)
		return 1;
	memset(p, 0x5a, size);
	signal(SIGBUS, on_sigbus);
	t0 = now();
	say("READY\n");
	if (sigsetjmp(jb, 1)) {
		say("sigbus after %ld loops, %.0f ms after the last good one\n", loops,
		    (now() - t_last) * 1e3);
		return 0;
	}
	while (now() - t0 < 30) {
		for (size_t i = 0; i < size; i += PAGE)
			sum += *(volatile uint64_t *)(p + i);
		loops++;
		t_last = now();
		usleep(1000);
	}
	say("FAIL: no SIGBUS within 30 s\n");
	return 1;
}

static int cmd_dio_loop(const char *src)
{
	int sfd, fd, r;
	char *p;

	sfd = open(src, O_RDONLY | O_DIRECT);
	if (sfd < 0) {
		say("FAIL: open %s: %s\n", src, strerror(errno));
		return 1;
	}
	p = map_declared(&fd);
	if (!p)
		return 1;
	signal(SIGBUS, on_sigbus);
	if (sigsetjmp(jb, 1)) {
		say("SIGBUS after %ld reads\n", loops);
		return 0;
	}
	say("READY\n");
	for (;;) {
		for (uint64_t o = 0; o < size; o += chunk) {
			r = xfer(true, sfd, p + o, chunk, off + o);
			if (r) {
				say("read failed after %ld reads: %s (%s)\n", loops, ename(-r),
				    strerror(-r));
				return (r == -EFAULT || r == -EIO) ? 0 : 1;
			}
			loops++;
		}
	}
}

static int cmd_uring_hold(const char *file)
{
	struct io_uring_params par = { 0 };
	struct iovec iov;
	struct stat st;
	int ring, fd;
	char *p;

	p = map_declared(&fd);
	if (!p)
		return 1;
	ring = (int)syscall(__NR_io_uring_setup, 4, &par);
	if (ring < 0) {
		say("FAIL: io_uring_setup: %s\n", strerror(errno));
		return 1;
	}
	iov.iov_base = p;
	iov.iov_len = size;
	if (syscall(__NR_io_uring_register, ring, IORING_REGISTER_BUFFERS, &iov, 1)) {
		/* Before 6.3 io_uring refuses file-backed fixed buffers. */
		if (errno == EOPNOTSUPP) {
			say("UNSUPPORTED: io_uring refuses to register this mapping\n");
			return 77;
		}
		/* Upstream P2PDMA pages cannot be long-term pinned. */
		if (errno == EREMOTEIO) {
			say("REFUSED: io_uring refuses a long-term pin of these pages (EREMOTEIO)\n");
			return 3;
		}
		say("FAIL: io_uring_register_buffers: %s\n", strerror(errno));
		return 1;
	}
	munmap(p, size);	/* only the long-term pin holds the pages now */
	close(fd);
	say("READY pid %d\n", (int)getpid());
	while (stat(file, &st))
		usleep(10000);
	if (syscall(__NR_io_uring_register, ring, IORING_UNREGISTER_BUFFERS, NULL, 0)) {
		say("FAIL: unregister: %s\n", strerror(errno));
		return 1;
	}
	say("unregistered\n");
	close(ring);
	return 0;
}

static int cmd_reset_loop(const char *src, const char *dst, long rounds)
{
	uint64_t seed = (uint64_t)(now() * 1e9), nchunks = size / chunk;
	static volatile long done;
	static volatile int r;
	long corrupt = 0, r_i;
	int sfd, dfd, fd;
	void *host;
	char *p;

	if (open_copy(src, dst, &sfd, &dfd, &fd))
		return 1;
	if (!(p = map_buf(fd, size)) || posix_memalign(&host, PAGE, chunk)) {
		say("FAIL: mmap %" PRIu64 " bytes of %s: %s\n", size, dev, strerror(errno));
		return 1;
	}
	for (uint64_t o = 0; o < size; o += chunk) {
		pattern_fill(host, chunk, seed, o);
		if (xfer(false, sfd, host, chunk, off + o))
			return 1;
	}
	signal(SIGBUS, on_sigbus);
	say("READY\n");
	if (sigsetjmp(jb, 1)) {
		say("SIGBUS after %ld chunks\n", done);
		goto verify;
	}
	for (r_i = 0; r_i < rounds; r_i++) {
		for (uint64_t c = 0; c < nchunks; c++) {
			uint64_t o = c * chunk;

			/* Make sure the previous round's data is gone first. */
			memset(host, 0xee, chunk);
			r = xfer(false, dfd, host, chunk, off + o);
			if (!r)
				r = xfer(true, sfd, p + o, chunk, off + o);
			if (!r)
				r = xfer(false, dfd, p + o, chunk, off + o);
			if (r) {
				say("stopped after %ld chunks: %s (%s)\n", done, ename(-r), strerror(-r));
				goto verify;
			}
			done++;
		}
	}
	say("all %ld rounds done without an error\n", rounds);
verify:
	/* Every chunk written in the last round must hold the pattern. */
	for (uint64_t c = 0; c < nchunks && (long)c < done; c++) {
		uint64_t o = c * chunk;

		if (xfer(true, dfd, host, chunk, off + o)) {
			say("FAIL: reading back %s\n", dst);
			return 1;
		}
		if (pattern_check(host, chunk, seed, o) >= 0) {
			/* The chunk being written when it failed may hold anything. */
			if ((long)c == done % (long)nchunks && r)
				continue;
			corrupt++;
			say("CORRUPT: chunk %" PRIu64 " (offset %" PRIu64 ") reported written but differs\n",
			    c, off + o);
		}
	}
	say("chunks done %ld, corrupt %ld\n", done, corrupt);
	return corrupt ? EXIT_CORRUPT : 0;
}

static int cmd_map_once(void)
{
	double t0;
	char *p;
	int fd;

	fd = open_declared();
	say("MAPPING\n");
	fflush(stdout);
	t0 = now();
	if (fd < 0 || !(p = map_buf(fd, size))) {
		say("FAIL: open/declare/mmap %s: %s\n", dev, strerror(fd < 0 ? -fd : errno));
		return 1;
	}
	say("mapped %" PRIu64 " bytes in %.0f ms\n", size, (now() - t0) * 1e3);
	return 0;
}

static int cmd_map_loop(long secs)
{
	volatile uint64_t sum = 0;
	double t0 = now();
	long n = 0;
	char *p;
	int fd;

	signal(SIGBUS, on_sigbus);
	while (now() - t0 < secs) {
		fd = open_declared();
		if (fd < 0) {
			say("open/declare failed after %ld loops: %s\n", n, ename(-fd));
			return 0;
		}
		p = map_buf(fd, size);
		if (!p) {
			int e = errno;

			close(fd);
			if (e == ENODEV) {
				say("provider gone after %ld loops\n", n);
				return 0;
			}
			say("FAIL: mmap: %s\n", ename(e));
			return 1;
		}
		if (!sigsetjmp(jb, 1)) {
			for (size_t i = 0; i < size; i += PAGE)
				sum += *(volatile uint64_t *)(p + i);
		}
		munmap(p, size);
		close(fd);
		n++;
	}
	say("loops %ld\n", n);
	return 0;
}

#define FLOOD_MAX 64

static int cmd_flood(int nmaps, long secs)
{
	/* static: they live across siglongjmp() */
	static char *maps[FLOOD_MAX];
	static volatile int cur, live;
	static volatile long mapped, faulted, round;
	static volatile bool gone, ready;
	static double t0;
	volatile uint64_t sum = 0;
	int fd, i;

	if (nmaps < 1 || nmaps > FLOOD_MAX)
		return 2;
	t0 = now();
	fd = open_declared();
	if (fd < 0) {
		say("FAIL: open/declare: %s\n", ename(-fd));
		return 1;
	}
	signal(SIGBUS, on_sigbus);
	while (now() - t0 < secs) {
		/* Churn: unmap one, map the empty slots. */
		i = (int)(round++ % nmaps);
		if (maps[i] && !gone) {
			munmap(maps[i], size);
			maps[i] = NULL;
		}
		for (i = 0; i < nmaps && !gone; i++) {
			if (maps[i])
				continue;
			maps[i] = map_buf(fd, size);
			if (maps[i]) {
				mapped++;
			} else if (errno == ENODEV) {
				gone = true;
			} else if (errno != ENOMEM) {
				say("FAIL: mmap: %s\n", ename(errno));
				return 1;
			}
		}
		if (!ready && mapped) {
			say("READY\n");
			fflush(stdout);
			ready = true;
		}
		live = 0;
		for (cur = 0; cur < nmaps; cur++) {
			if (!maps[cur])
				continue;
			if (sigsetjmp(jb, 1)) {
				munmap(maps[cur], size);
				maps[cur] = NULL;
				faulted++;
				continue;
			}
			for (size_t o = 0; o < size; o += PAGE)
				sum += *(volatile uint64_t *)(maps[cur] + o);
			live++;
		}
		if (gone && !live) {
			say("provider gone: %ld mappings made, %ld faulted, none left\n",
			    (long)mapped, (long)faulted);
			return 0;
		}
		if (gone)
			usleep(1000);	/* revocation follows the refusal */
	}
	if (gone)
		say("FAIL: %d mappings still work %ld s after the provider went\n", (int)live,
		    secs);
	else
		say("FAIL: the provider was still there after %ld s (%ld mappings)\n", secs,
		    (long)mapped);
	return 1;
}

static void usage(FILE *f)
{
	fputs("usage: kmod-buf [-d DEV] [-c CLIENTS|none] [-s SIZE] [-C CHUNK] [-o OFF] [-r N] CMD [ARGS]\n"
	      "  map | copy SRC DST | refuse WHAT ERRNO | dio-read SRC ERRNO |\n"
	      "  touch | dio-loop SRC |\n"
	      "  uring-hold FILE | reset-loop SRC DST ROUNDS | map-loop SECS |\n"
	      "  map-once | flood N SECS\n", f);
}

int main(int argc, char **argv)
{
	const char *cmd;
	int opt;

	while ((opt = getopt(argc, argv, "d:c:s:C:o:r:h")) != -1) {
		switch (opt) {
		case 'd': dev = optarg; break;
		case 'c': clients = optarg; break;
		case 's': if (parse_size(optarg, &size)) goto bad; break;
		case 'C': if (parse_size(optarg, &chunk)) goto bad; break;
		case 'o': if (parse_size(optarg, &off)) goto bad; break;
		case 'r': repeat = atol(optarg); if (repeat < 1) goto bad; break;
		case 'h': usage(stdout); return 0;
		default: goto bad;
		}
	}
	if (optind >= argc || !size || size % PAGE)
		goto bad;
	if (chunk > size)
		chunk = size;
	if (!chunk || chunk % PAGE || size % chunk)
		goto bad;
	cmd = argv[optind++];
	if (!strcmp(cmd, "map"))
		return cmd_map();
	if (!strcmp(cmd, "copy") && argc - optind == 2)
		return cmd_copy(argv[optind], argv[optind + 1]);
	if (!strcmp(cmd, "refuse") && argc - optind == 2)
		return cmd_refuse(argv[optind], argv[optind + 1]);
	if (!strcmp(cmd, "dio-read") && argc - optind == 2)
		return cmd_dio_read(argv[optind], argv[optind + 1]);
	if (!strcmp(cmd, "touch"))
		return cmd_touch();
	if (!strcmp(cmd, "dio-loop") && argc - optind == 1)
		return cmd_dio_loop(argv[optind]);
	if (!strcmp(cmd, "uring-hold") && argc - optind == 1)
		return cmd_uring_hold(argv[optind]);
	if (!strcmp(cmd, "map-once"))
		return cmd_map_once();
	if (!strcmp(cmd, "map-loop") && argc - optind == 1)
		return cmd_map_loop(atol(argv[optind]));
	if (!strcmp(cmd, "flood") && argc - optind == 2)
		return cmd_flood(atoi(argv[optind]), atol(argv[optind + 1]));
	if (!strcmp(cmd, "reset-loop") && argc - optind == 3)
		return cmd_reset_loop(argv[optind], argv[optind + 1], atol(argv[optind + 2]));
bad:
	usage(stderr);
	return 2;
}
