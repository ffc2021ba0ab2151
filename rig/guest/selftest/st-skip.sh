#!/bin/sh
# selftest: a skipped test
echo "st-skip: SKIP: nothing to do here"
exit 77
