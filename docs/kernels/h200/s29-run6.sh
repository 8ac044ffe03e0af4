#!/usr/bin/env bash
# Twenty-ninth session, call 6: an experiment, timing first. NVFP4's scale pair as BF16 by
# the F16 route (docs/kernels/h200/s29-nv-f16-scale-experiment.patch: one E4M3x2 -> F16x2
# unpack, then (h2 >> 3) + 0x72807280, exact for every positive E4M3 byte, subnormals
# included, wrong for zero, negative and NaN bytes) in the streamed kernels only
# (w4a16_tc.cu compiled with the patched w4a16_common.cuh; the warpgroup kernel unchanged).
#  1. test_w4a16_tc_nvf16's streamed-kernel tests (real quantized weights: no zero scales, some
#     subnormal ones), against float64 and each other as always.
#  2. bench_w4a16_tc --dispatch --ms 1,2,4,8,16,32: build-pack's binary (7ea4875) against
#     bench_w4a16_tc_nvf16, alternating processes, two rounds. MXFP4 is the control.
# Here: scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin bench_w4a16_tc HEAD nvf16
#   (and --bin test_w4a16_tc) with the patch applied to the tree, then reverted;
#   run(command="bash docs/kernels/h200/s29-run6.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
{
  date -u
  timeout 60 build-old/test_w4a16_tc_nvf16 --gtest_filter='*Streamed*:*Planted*'
  echo "test_w4a16_tc_nvf16 streamed: exit $?"
  AB_TIMEOUT=40 ab_rounds 2 --dispatch --ms 1,2,4,8,16,32 -- head="$B/bench_w4a16_tc" \
    nvf16=build-old/bench_w4a16_tc_nvf16
  date -u
} >"$O/s29-run6-log.txt" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]' "$O/s29-run6-log.txt"
