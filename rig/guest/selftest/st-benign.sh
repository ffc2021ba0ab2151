#!/bin/sh
# selftest: a CPU model's speculation note from arch/x86/kernel/cpu/bugs.c is
# not a kernel complaint
echo "RETBleed: WARNING: Spectre v2 mitigation leaves CPU vulnerable to RETBleed attacks, data leaks possible! (rig selftest)" >/dev/kmsg
exit 0
