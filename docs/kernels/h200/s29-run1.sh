#!/usr/bin/env bash
# Twenty-ninth session, call 1: kernel 1 as a programmatic dependent that lets the next kernel
# start at once (the W4A4 layer's GEMM copies its first weight bytes while the activations are
# quantized), and what session 28 left unrun.
#  1. test_programmatic_launch (two new tests: kernel 1 behind the late writer; chains of W4A4
#     layers, programmatic against plain, bit for bit), test_kernels, test_fp4_linear,
#     test_w4a4_fp8, whole.
#  2. compute-sanitizer memcheck: the W4A4 chains; test_w4a16_tc's streamed-kernel tests (the
#     streamed kernels' final code from session 28, never memchecked).
#  3. bench_w4a16_tc --chain 1 --w4a4 (single W4A4 layers, plain against programmatic, in turn
#     call for call) and --chain 8 --w4a4, M = 1-32, the four shapes.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s29-run1.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
L=$O/s29-run1-log.txt
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv
  for t in test_programmatic_launch test_kernels test_fp4_linear test_w4a4_fp8; do
    timeout 120 "$B/$t"
    echo "$t: exit $?"
  done
  timeout 120 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_programmatic_launch" \
    --gtest_filter='*W4a4Chains*'
  echo "memcheck W4A4 chains: exit $?"
  timeout 200 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_w4a16_tc" \
    --gtest_filter='*Streamed*'
  echo "memcheck streamed kernels: exit $?"
  date -u
} >"$L" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]|ERROR SUMMARY' "$L"
{
  date -u
  for c in 1 8; do
    echo "=== bench_w4a16_tc --chain $c --w4a4"
    timeout 100 "$B/bench_w4a16_tc" --chain "$c" --w4a4 --ms 1,4,16,32; echo "exit $?"
  done
  date -u
} >"$O/s29-run1-bench.txt" 2>&1
grep -E "^=== |exit " "$O/s29-run1-bench.txt"
