// SPDX-License-Identifier: MIT
/*
 * Which failed NVMe Copy the engine continues through memory: the drive's
 * generic and command-specific refusals and the kernel's refusal of the
 * passthrough; not media errors, not a broken I/O path. And the words the
 * user reads for each.
 */
#include <errno.h>

#include "unit.h"
#include "copy_internal.h"

static bool says(int status, const char *what)
{
	char buf[256];

	copy_device_status(status, buf, sizeof(buf));
	if (strstr(buf, what))
		return true;
	fprintf(stderr, "status %d: \"%s\" lacks \"%s\"\n", status, buf, what);
	return false;
}

int main(void)
{
	/* the drive will not: generic (type 0) and command specific (type 1) */
	CHECK(copy_device_may_fall_back(0x002));	/* Invalid Field */
	CHECK(copy_device_may_fall_back(0x001));	/* Invalid Opcode */
	CHECK(copy_device_may_fall_back(0x006));	/* Internal Error */
	CHECK(copy_device_may_fall_back(0x182));	/* Command Size Limit */
	/* the data path is broken: media errors (type 2), path errors (3) */
	CHECK(!copy_device_may_fall_back(0x281));	/* Write Fault */
	CHECK(!copy_device_may_fall_back(0x287));	/* Deallocated or Unwritten */
	CHECK(!copy_device_may_fall_back(0x370));
	/* success is no refusal; DNR and More bits above the type do not count */
	CHECK(!copy_device_may_fall_back(0));
	CHECK(copy_device_may_fall_back(0x4002));
	/* the kernel will not pass it: privilege, no io_uring passthrough */
	CHECK(copy_device_may_fall_back(-EACCES));
	CHECK(copy_device_may_fall_back(-EPERM));
	CHECK(copy_device_may_fall_back(-EOPNOTSUPP));
	/* ... but an I/O error or a dead controller fails the copy */
	CHECK(!copy_device_may_fall_back(-EIO));
	CHECK(!copy_device_may_fall_back(-ENODEV));
	CHECK(!copy_device_may_fall_back(-EINTR));

	CHECK(says(0x002, "NVMe status 0x2: type 0 code 0x02 (Invalid Field in Command)"));
	CHECK(says(0x182, "(Command Size Limit Exceeded)"));
	CHECK(says(0x281, "(media error)"));
	CHECK(says(-EACCES, "the kernel refused NVMe passthrough: Permission denied (without CAP_SYS_ADMIN"));
	CHECK(says(-EOPNOTSUPP, "the kernel refused NVMe passthrough: Operation not supported"));
	return unit_failures ? 1 : 0;
}
