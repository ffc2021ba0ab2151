// SPDX-License-Identifier: MIT
/*
 * fio as the reference a storage engineer trusts: two jobs at once, one
 * reading SRC and one writing DST, O_DIRECT on io_uring at the same block
 * size and queue depth as the engine. A copy is only as fast as the slower
 * of the two, so its rate is the length over the longer job's runtime:
 * what a perfect copy engine on the same devices would reach.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json-c/json.h>
#include <linux/io_uring.h>

#include "child_cpu.h"
#include "fio_copy.h"

extern char **environ;

/*
 * fio on PATH, and io_uring for its engine: where io_uring is refused
 * (kernel.io_uring_disabled, a seccomp filter) fio cannot be the baseline,
 * and that is no failure of the benchmark.  Else @why says what is missing.
 */
bool bench_fio_available(char *why, size_t len)
{
	const char *path = getenv("PATH");
	char *dirs, *d, *save, file[4096];
	struct io_uring_params params = { 0 };
	bool found = false;
	long fd;

	if (path && (dirs = strdup(path))) {
		for (d = strtok_r(dirs, ":", &save); d && !found; d = strtok_r(NULL, ":", &save)) {
			snprintf(file, sizeof(file), "%s/fio", *d ? d : ".");
			found = access(file, X_OK) == 0;
		}
		free(dirs);
	}
	if (!found) {
		snprintf(why, len, "not installed, so no fio rows (apt-get install fio)");
		return false;
	}
	fd = syscall(__NR_io_uring_setup, 1, &params);
	if (fd < 0) {
		snprintf(why, len, "its io_uring engine cannot run here (io_uring_setup: %s: kernel.io_uring_disabled, or a seccomp filter), so no fio rows",
			 strerror(errno));
		return false;
	}
	close((int)fd);
	return true;
}

/* The runtime in ms of job @i's @dir ("read"/"write") from fio's JSON. */
static int64_t job_runtime(json_object *jobs, size_t i, const char *dir)
{
	json_object *job = json_object_array_get_idx(jobs, i), *d, *rt;

	if (!job || !json_object_object_get_ex(job, dir, &d) ||
	    !json_object_object_get_ex(d, "runtime", &rt))
		return -1;
	return json_object_get_int64(rt);
}

/**
 * bench_fio_copy() - fio reading @src and writing @dst at once, @len bytes
 * each in @bs blocks, @qd in flight, O_DIRECT, io_uring, the writes fsynced
 * Return: 0 with the copy-equivalent @seconds and the CPU time, or -errno
 */
int bench_fio_copy(const char *src, const char *dst, uint64_t len, uint64_t bs, unsigned int qd,
		   double *seconds, double *cpu, char *err, size_t errlen)
{
	char a_src[4200], a_dst[4200], a_bs[48], a_qd[48], a_size[48];
	/*
	 * As fio is run for its best: no per-I/O clock reads (gtod_reduce;
	 * under emulation a clock read is costly), registered buffers and
	 * files, as the engine registers its buffers; jobs as threads, as the
	 * engine is one process (and kernels without SysV IPC have no shm).
	 */
	char *argv[] = { "fio", "--output-format=json", "--thread", "--ioengine=io_uring", "--direct=1",
			 "--gtod_reduce=1", "--fixedbufs=1", "--registerfiles=1",
			 a_bs, a_qd, a_size, "--name=read", a_src, "--rw=read",
			 "--name=write", a_dst, "--rw=write", "--end_fsync=1", NULL };
	posix_spawn_file_actions_t fa;
	json_object *root = NULL, *jobs;
	size_t cap = 1 << 16, n = 0;
	struct rusage r0, r1;
	int pipefd[2], status, ret;
	int64_t rd, wr;
	char *out;
	ssize_t k;
	pid_t pid;

	snprintf(a_src, sizeof(a_src), "--filename=%s", src);
	snprintf(a_dst, sizeof(a_dst), "--filename=%s", dst);
	snprintf(a_bs, sizeof(a_bs), "--bs=%" PRIu64, bs);
	snprintf(a_qd, sizeof(a_qd), "--iodepth=%u", qd);
	snprintf(a_size, sizeof(a_size), "--size=%" PRIu64, len);
	out = malloc(cap);
	if (!out || pipe2(pipefd, O_CLOEXEC)) {
		free(out);
		snprintf(err, errlen, "fio: %s", strerror(errno));
		return -ENOMEM;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDERR_FILENO);	/* its reasons */
	getrusage(RUSAGE_CHILDREN, &r0);
	ret = posix_spawnp(&pid, "fio", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (ret) {
		close(pipefd[0]);
		free(out);
		snprintf(err, errlen, "cannot run fio: %s", strerror(ret));
		return -ret;
	}
	while ((k = read(pipefd[0], out + n, cap - n - 1)) > 0) {
		n += (size_t)k;
		if (n + 1 == cap) {
			char *bigger = realloc(out, cap * 2);

			if (!bigger)
				break;
			out = bigger;
			cap *= 2;
		}
	}
	close(pipefd[0]);
	out[n] = '\0';
	waitpid(pid, &status, 0);
	getrusage(RUSAGE_CHILDREN, &r1);
	ret = -EIO;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		char *nl = strchr(out, '\n');

		if (nl)
			*nl = '\0';
		snprintf(err, errlen, "fio failed (exit %d) on %s -> %s: %s", WEXITSTATUS(status), src,
			 dst, out);
		goto out_free;
	}
	/* fio may print notes before the JSON document */
	root = json_tokener_parse(strchr(out, '{') ? strchr(out, '{') : out);
	if (!root || !json_object_object_get_ex(root, "jobs", &jobs) ||
	    (rd = job_runtime(jobs, 0, "read")) <= 0 || (wr = job_runtime(jobs, 1, "write")) <= 0) {
		snprintf(err, errlen, "fio's JSON output has no read and write runtimes");
		goto out_free;
	}
	*seconds = (double)(rd > wr ? rd : wr) / 1000.0;
	*cpu = bench_rusage_seconds(&r1) - bench_rusage_seconds(&r0);
	ret = 0;
out_free:
	json_object_put(root);
	free(out);
	return ret;
}
