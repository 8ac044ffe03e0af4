#!/usr/bin/env bash
# Twenty-eighth session, call 5: the streamed kernels skip their per-chunk MXFP4 fold check on
# weights whose scale bytes are all <= 128 (TcWeight::mx_fold_shift == 0, a kernel argument).
#  1. test_w4a16_tc's streamed, dispatch and fold tests, test_programmatic_launch (the chains).
#  2. Three rounds in alternating processes at M = 1-32: the shipped kernel (w4a16_tc.cu at
#     4d47617, build-old/bench_w4a16_tc_shipped), the new one (this build), and call 4's
#     experiment without any check (build-old/bench_w4a16_tc_nocheck).
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin bench_w4a16_tc 4d47617 shipped
#   (build-old/bench_w4a16_tc_nocheck from call 4)
#   run(command="bash docs/kernels/h200/s28-run5.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
L=$O/s28-run5-log.txt
{
  date -u
  timeout 330 "$B/test_w4a16_tc" --gtest_filter='*Streamed*:*Dispatch*:*Fold*:*Refuses*:*ExtremeScales*'
  echo "test_w4a16_tc (streamed, dispatch, fold): exit $?"
  timeout 60 "$B/test_programmatic_launch"; echo "test_programmatic_launch: exit $?"
  date -u
} >"$L" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]' "$L"
MS=1,2,4,8,12,16,24,32
{
  date -u
  for r in 1 2 3; do
    echo "=== round $r: shipped"
    timeout 60 build-old/bench_w4a16_tc_shipped --dispatch --ms $MS; echo "exit $?"
    echo "=== round $r: new"
    timeout 60 "$B/bench_w4a16_tc" --dispatch --ms $MS; echo "exit $?"
    echo "=== round $r: nocheck"
    timeout 60 build-old/bench_w4a16_tc_nocheck --dispatch --ms $MS; echo "exit $?"
  done
  date -u
} >"$O/s28-run5-bench.txt" 2>&1
grep -E "^=== |exit " "$O/s28-run5-bench.txt"
