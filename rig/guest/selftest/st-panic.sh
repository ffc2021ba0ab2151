#!/bin/sh
# selftest: a kernel panic (QEMU exits: -no-reboot, panic=-1)
echo c >/proc/sysrq-trigger
sleep 10
