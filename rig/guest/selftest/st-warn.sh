#!/bin/sh
# selftest: a test that passes but leaves a kernel WARNING in dmesg
echo "WARNING: rig selftest: fake kernel warning" >/dev/kmsg
exit 0
