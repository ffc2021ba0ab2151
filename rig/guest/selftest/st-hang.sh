#!/bin/sh
# selftest: a test that cannot be killed in the guest: the VM hangs
# until the host kills QEMU
trap "" TERM
while :; do sleep 1; done
