#!/bin/sh
# selftest: a failing test (exit 1) whose output shows on the host
echo "st-fail: this line must show on the host"
exit 1
