/* SPDX-License-Identifier: GPL-2.0 */
/*
 * timeit - median wall time of whole processes, for the VM tests (busybox's
 * clock is /proc/uptime, 10 ms steps).  A helper, not a test.
 *
 *   timeit RUNS LABEL -- CMD [ARGS...] [-- LABEL -- CMD [ARGS...]]...
 *
 * Runs the commands in turn, RUNS rounds, so every command sees the same
 * moments of a noisy machine; prints "LABEL MEDIAN_US" per command.  Output
 * of the commands goes to /dev/null.  Exit 0, 1 when a run failed (its
 * status printed), 2 on usage errors.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_CMDS 16
#define MAX_RUNS 101

struct cmd {
	const char *label;
	char **argv;
	long us[MAX_RUNS];
};

static long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000L + ts.tv_nsec / 1000;
}

static int run(char **argv, long *us)
{
	long t0 = now_us();
	pid_t pid = fork();
	int status;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	*us = now_us() - t0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	static struct cmd cmds[MAX_CMDS];
	int runs, ncmds = 0, i, r, failed = 0;

	if (argc < 5 || (runs = atoi(argv[1])) < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: timeit RUNS LABEL -- CMD [ARGS...] [-- LABEL -- CMD...]...\n");
		return 2;
	}
	for (i = 2; i < argc;) {
		if (ncmds == MAX_CMDS || i + 2 >= argc || strcmp(argv[i + 1], "--")) {
			fprintf(stderr, "timeit: expected LABEL -- CMD at '%s'\n", argv[i]);
			return 2;
		}
		cmds[ncmds].label = argv[i];
		cmds[ncmds].argv = &argv[i + 2];
		for (i += 2; i < argc && strcmp(argv[i], "--"); i++)
			;
		if (i < argc)
			argv[i++] = NULL;	/* ends this command's argv */
		ncmds++;
	}
	for (r = 0; r < runs; r++) {
		for (i = 0; i < ncmds; i++) {
			int st = run(cmds[i].argv, &cmds[i].us[r]);

			if (st) {
				fprintf(stderr, "timeit: %s: %s exited %d\n", cmds[i].label,
					cmds[i].argv[0], st);
				failed = 1;
			}
		}
	}
	for (i = 0; i < ncmds; i++) {
		qsort(cmds[i].us, runs, sizeof(long), cmp_long);
		printf("%s %ld\n", cmds[i].label, cmds[i].us[runs / 2]);
	}
	return failed;
}
