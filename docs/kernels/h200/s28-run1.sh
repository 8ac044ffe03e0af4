#!/usr/bin/env bash
# Twenty-eighth session, call 1: MXFP4 weights fold their scale into one multiply a pair in every
# warpgroup config (TcWeight::mx_fold_shift, found at load time), as NVFP4 weights always did.
#  1. The warpgroup kernel's tests (every config, the dispatch, the folded decode against the
#     streamed kernel's, a weight that cannot fold refused and routed around), test_kernels and
#     test_fp4_linear; compute-sanitizer memcheck of the fold tests.
#  2. The "never slower" sweep at 13 M, old (w4a16_wgmma.cu at b7c65bc, build-old/
#     bench_w4a16_tc_wg-old) against new, two rounds in alternating processes.
#  3. The issue's table (bench_fp4) on the new build, one round.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   scripts/bench-variant.sh --file src/kernels/w4a16_wgmma.cu --bin bench_w4a16_tc b7c65bc wg-old
#   run(command="bash docs/kernels/h200/s28-run1.sh", carry=["build-pack", "build-old"])
# Everything goes into two files: a device call returns only a few.
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
L=$O/s28-run1-log.txt
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv
  timeout 200 "$B/test_w4a16_tc" --gtest_filter='*Wgmma*:*Dispatch*:*Dequantized*:*PlantedWrong*:*BadArguments*:GpuTc.MatchesFloat64AtOddSizes'
  echo "test_w4a16_tc (warpgroup, dispatch): exit $?"
  timeout 60 "$B/test_kernels"; echo "test_kernels: exit $?"
  timeout 60 "$B/test_fp4_linear"; echo "test_fp4_linear: exit $?"
  timeout 90 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_w4a16_tc" \
    --gtest_filter='*WgmmaFolded*:*WgmmaRefuses*:*WgmmaEveryConfigSmall*'
  echo "memcheck fold tests: exit $?"
  date -u
} >"$L" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]|ERROR SUMMARY' "$L"
MS=64,129,160,192,256,320,384,448,512,640,1024,2048,4096
{
  for r in 1 2; do
    echo "=== round $r: old (b7c65bc's w4a16_wgmma.cu)"
    timeout 70 build-old/bench_w4a16_tc_wg-old --dispatch --ms $MS; echo "exit $?"
    echo "=== round $r: new"
    timeout 70 "$B/bench_w4a16_tc" --dispatch --ms $MS; echo "exit $?"
  done
  date -u
  echo "=== bench_fp4 (new)"
  timeout 120 "$B/bench_fp4"; echo "exit $?"
  date -u
} >"$O/s28-run1-bench.txt" 2>&1
grep -E "^=== |exit " "$O/s28-run1-bench.txt"
