#!/usr/bin/env bash
# Twenty-eighth session, call 6: the streamed kernels fold every chunk by the weight's shift in
# code with one copy of the loop body (call 5's run-time flag kept both copies and gave 0.7% of
# call 4's 1.5%); only MXFP4 weights with mx_fold_shift -1 run the checking form.
#  1. test_w4a16_tc's streamed, fold, extreme-scale and dispatch tests; test_programmatic_launch.
#  2. Two rounds in alternating processes at M = 1-32: the shipped kernel (w4a16_tc.cu at
#     4d47617), the new one, and call 4's experiment without any check.
# Here: bash scripts/gpu-pack.sh --tgz build-pack (build-old from call 5)
#   run(command="bash docs/kernels/h200/s28-run6.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
L=$O/s28-run6-log.txt
{
  date -u
  timeout 260 "$B/test_w4a16_tc" \
    --gtest_filter='*Streamed*:*Fold*:*Refuses*:*ExtremeScales*:*DispatchMatchesFloat64Around*'
  echo "test_w4a16_tc (streamed, fold, dispatch): exit $?"
  timeout 60 "$B/test_programmatic_launch"; echo "test_programmatic_launch: exit $?"
  date -u
} >"$L" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]' "$L"
MS=1,2,4,8,12,16,24,32
{
  date -u
  for r in 1 2; do
    echo "=== round $r: shipped"
    timeout 40 build-old/bench_w4a16_tc_shipped --dispatch --ms $MS; echo "exit $?"
    echo "=== round $r: new"
    timeout 40 "$B/bench_w4a16_tc" --dispatch --ms $MS; echo "exit $?"
    echo "=== round $r: nocheck"
    timeout 40 build-old/bench_w4a16_tc_nocheck --dispatch --ms $MS; echo "exit $?"
  done
  date -u
} >"$O/s28-run6-bench.txt" 2>&1
grep -E "^=== |exit " "$O/s28-run6-bench.txt"
