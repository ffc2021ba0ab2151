// SPDX-License-Identifier: MIT
/*
 * Small, careful readers for sysfs attributes. Every path is built under
 * the context's sysfs root so that a captured or generated tree stands in
 * for /sys in tests.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/**
 * p2pmem_path() - "<sysfs root>/<formatted rest>", malloc'ed (NULL: ENOMEM)
 */
char *p2pmem_path(const struct p2pmem_ctx *ctx, const char *fmt, ...)
{
	char rest[PATH_MAX];
	char *path;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(rest, sizeof(rest), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(rest))
		return NULL;
	if (asprintf(&path, "%s/%s", ctx->root ? ctx->root : ctx->sysfs_root, rest) < 0)
		return NULL;
	return path;
}

/**
 * p2pmem_read_file() - read up to @len bytes of a file
 * @path: file
 * @buf: destination
 * @len: capacity of @buf
 * @outlen: bytes read
 *
 * sysfs files are read with one pread per chunk until EOF: `config` may be
 * shorter than requested (64 bytes unprivileged), never an error.
 */
int p2pmem_read_file(const char *path, char *buf, size_t len, size_t *outlen)
{
	size_t done = 0;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (done < len) {
		ssize_t n = pread(fd, buf + done, len - done, (off_t)done);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	close(fd);
	*outlen = done;
	return ret;
}

/**
 * p2pmem_read_attr() - one line of text from <dir>/<attr>, newline removed
 */
int p2pmem_read_attr(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	size_t n;
	int ret;

	if (len == 0)
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, attr) >= sizeof(path))
		return -ENAMETOOLONG;
	ret = p2pmem_read_file(path, buf, len - 1, &n);
	if (ret)
		return ret;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/**
 * p2pmem_parse_u64() - a decimal or 0x-hex number, nothing else on the line
 */
int p2pmem_parse_u64(const char *s, uint64_t *val)
{
	unsigned long long v;
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	while (*end == ' ' || *end == '\t' || *end == '\n')
		end++;
	if (*end)
		return -EINVAL;
	*val = v;
	return 0;
}

int p2pmem_read_u64_attr(const char *dir, const char *attr, uint64_t *val)
{
	char buf[64];
	int ret;

	ret = p2pmem_read_attr(dir, attr, buf, sizeof(buf));
	if (ret)
		return ret;
	return p2pmem_parse_u64(buf, val);
}

static int parse_hex(const char *s, size_t ndigits, unsigned long max,
		     unsigned long *val)
{
	unsigned long v = 0;
	size_t i;

	for (i = 0; i < ndigits; i++) {
		char c = s[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -EINVAL;
		v = v * 16 + (unsigned long)d;
	}
	if (v > max)
		return -EINVAL;
	*val = v;
	return 0;
}

/**
 * p2pmem_parse_bdf() - "dddd:bb:dd.f" or "bb:dd.f" (domain 0)
 *
 * Return: 0 or -EINVAL; nothing may follow the function number.
 */
int p2pmem_parse_bdf(const char *s, uint32_t *domain, uint8_t *bus,
		     uint8_t *devfn)
{
	unsigned long dom = 0, b, d, f;
	size_t len = strlen(s);

	if (len == 12) {
		if (s[4] != ':' || parse_hex(s, 4, 0xffff, &dom))
			return -EINVAL;
		s += 5;
	} else if (len != 7) {
		return -EINVAL;
	}
	if (s[2] != ':' || s[5] != '.' || parse_hex(s, 2, 0xff, &b) ||
	    parse_hex(s + 3, 2, 0x1f, &d) || parse_hex(s + 6, 1, 7, &f))
		return -EINVAL;
	*domain = (uint32_t)dom;
	*bus = (uint8_t)b;
	*devfn = (uint8_t)(d << 3 | f);
	return 0;
}

/* Collapse "." and ".." in an absolute path, in place. */
static void normalize(char *path)
{
	char *out = path, *in = path;

	while (*in) {
		char *end;
		size_t len;

		while (*in == '/')
			in++;
		if (!*in)
			break;
		end = strchr(in, '/');
		len = end ? (size_t)(end - in) : strlen(in);
		if (len == 1 && in[0] == '.') {
			/* skip */
		} else if (len == 2 && in[0] == '.' && in[1] == '.') {
			while (out > path && *--out != '/')
				;
		} else {
			*out++ = '/';
			memmove(out, in, len);
			out += len;
		}
		in += len;
	}
	if (out == path)
		*out++ = '/';
	*out = '\0';
}

/**
 * p2pmem_resolve_link() - where a sysfs symlink points, as an absolute path
 * @link: an absolute path whose directories are real (not symlinks)
 *
 * sysfs links are relative ("../../../devices/pci0000:00/..."), and the
 * directories they cross are real, so one readlink and a lexical join give
 * what realpath() gives at a tenth of the system calls. A path that is not
 * a link is returned as is. Return: malloc'ed path, or NULL.
 */
char *p2pmem_resolve_link(const char *link)
{
	char target[PATH_MAX], joined[2 * PATH_MAX];
	const char *slash;
	ssize_t n;

	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno != EINVAL)
			return NULL;	/* missing: nothing to resolve */
		snprintf(joined, sizeof(joined), "%s", link);
	} else {
		target[n] = '\0';
		slash = strrchr(link, '/');
		if (target[0] == '/' || !slash)
			snprintf(joined, sizeof(joined), "%s", target);
		else
			snprintf(joined, sizeof(joined), "%.*s/%s",
				 (int)(slash - link), link, target);
	}
	normalize(joined);
	if (strlen(joined) >= PATH_MAX)
		return NULL;
	return strdup(joined);
}

/**
 * p2pmem_link_basename() - the last component of a symlink's target
 * (e.g. <dev>/driver -> ../../bus/pci/drivers/nvme gives "nvme"), or NULL
 */
char *p2pmem_link_basename(const char *dir, const char *link)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, link) >= sizeof(path))
		return NULL;
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	base = strrchr(target, '/');
	return strdup(base ? base + 1 : target);
}
