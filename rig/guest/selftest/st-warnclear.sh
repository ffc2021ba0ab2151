#!/bin/sh
# selftest: a kernel WARNING that the test then clears from dmesg (dmesg -c):
# the rig reads /dev/kmsg, so it must still fail the test
echo "WARNING: rig selftest: cleared from dmesg" >/dev/kmsg
dmesg -c >/dev/null
exit 0
