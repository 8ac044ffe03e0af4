#!/usr/bin/env bash
# Twenty-first session, call 2 (the machine was refused twice for ~20 min and the device time
# left shrank, so s21-run2.sh is folded in here): first every GPU test program on the tree
# (call 1 ran out of time inside the whole test_w4a16_tc), then s21-run2.sh (the L2-prefetch
# variants' test_programmatic_launch and their chains against the tree's).
# Here: the builds of s21-run2.sh's header;
#   run(command="bash docs/kernels/h200/s21-run3.sh", carry=["build-pack", "build-ab2"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-/tmp/out}; mkdir -p "$O"
t0=$SECONDS
OUT=$O scripts/gpu.sh --prebuilt build-pack test 2>&1 | tail -6
echo "(tests: $((SECONDS - t0)) s)"
bash docs/kernels/h200/s21-run2.sh
