// SPDX-License-Identifier: MIT
/*
 * The baseline every storage engineer runs first: dd with O_DIRECT on both
 * sides (iflag=direct oflag=direct), one block in flight, through host
 * memory. bench times the whole process, as a user's `time dd` would, and
 * charges its CPU time (children's rusage).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child_cpu.h"
#include "dd_copy.h"

extern char **environ;

/**
 * bench_dd_copy() - run `dd` copying @len bytes of @src to @dst in blocks of
 * @bs with O_DIRECT, conv=fsync (the engine's copies end durable too)
 * Return: 0 with @wall and @cpu, or -errno with @err saying why
 */
int bench_dd_copy(const char *src, const char *dst, uint64_t len, uint64_t bs,
		  double *wall, double *cpu, char *err, size_t errlen)
{
	char a_if[4200], a_of[4200], a_bs[40], a_count[40];
	char *argv[] = { "dd", a_if, a_of, a_bs, a_count, "iflag=direct", "oflag=direct",
			 "conv=notrunc,fsync", NULL };
	posix_spawn_file_actions_t fa;
	struct rusage r0, r1;
	struct timespec t0, t1;
	int status, ret;
	pid_t pid;

	if (!bs || len % bs) {
		snprintf(err, errlen, "dd: length %" PRIu64 " is not a multiple of the block size %" PRIu64,
			 len, bs);
		return -EINVAL;
	}
	snprintf(a_if, sizeof(a_if), "if=%s", src);
	snprintf(a_of, sizeof(a_of), "of=%s", dst);
	snprintf(a_bs, sizeof(a_bs), "bs=%" PRIu64, bs);
	snprintf(a_count, sizeof(a_count), "count=%" PRIu64, len / bs);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	getrusage(RUSAGE_CHILDREN, &r0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ret = posix_spawnp(&pid, "dd", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret) {
		snprintf(err, errlen, "cannot run dd: %s", strerror(ret));
		return -ret;
	}
	if (waitpid(pid, &status, 0) < 0) {
		ret = -errno;
		snprintf(err, errlen, "waiting for dd: %s", strerror(errno));
		return ret;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	getrusage(RUSAGE_CHILDREN, &r1);
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(err, errlen, "dd %s %s %s %s iflag=direct oflag=direct failed (status %d)",
			 a_if, a_of, a_bs, a_count, status);
		return -EIO;
	}
	*wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	*cpu = bench_rusage_seconds(&r1) - bench_rusage_seconds(&r0);
	return 0;
}
