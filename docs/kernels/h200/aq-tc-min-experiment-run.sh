#!/usr/bin/env bash
# Prepared in the thirteenth session (compiled, not run): the activation quantizer's rotations of
# 16 and 32 on the tensor cores too, switched by MRGPTQ_AQ_TC_MIN (16 / 32; default 64 = e6e3192's
# kernel), one device call (~1.5 minutes):
#   run(command="build-ab2/run.sh > $OUT/aq-tc-min.txt 2>&1; tail -60 $OUT/aq-tc-min.txt", carry=["build-ab2"])
# Why: NVFP4 is instruction-bound (rotation 0 at 84% of copy, rotation 16 at 69%: the 128 adds of
# the butterflies cost it 15 points where they cost MXFP4 3), and at 9482956 (e6e3192's kernel)
# NVFP4 rotation 16 / 32 sit at 69.4 / 65.5%. The thirteenth session's tensor-core b = 32 (v3 in
# bench-fp4-quantizer-mma.txt: 65.4% NVFP4, 76.5% MXFP4) ran with a runtime rotated_out branch in
# every variant, which cost 2-3 points elsewhere; without it the comparison is open.
# Here (no GPU needed), in a worktree at e6e3192 or later:
#   git apply docs/kernels/h200/aq-tc-min-experiment.patch
#   cmake -S . -B build-lgpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DMRGPTQ_GPU_ONLY=ON
#   cmake --build build-lgpu -j2 --target bench_fp4 test_kernels
#   mkdir -p build-ab2 && for b in bench_fp4 test_kernels; do strip -o build-ab2/$b build-lgpu/$b; done
#   cp docs/kernels/h200/aq-tc-min-experiment-run.sh build-ab2/run.sh
# (build-ab2 in the main checkout, git-ignored.) Expected: every test passes under each setting
# (the test requires the CPU rotation path's bytes exactly only below MRGPTQ_AQ_TC_MIN), memcheck
# clean; adopt TC_MIN per format where it is faster in both rounds. The NONE=0 test line is also
# the first GPU run of 7fa7c5c's new check, still in e6e3192 (the quantizer with and without
# rotated_out writes the same bytes).
B=$(dirname "$0")
# tests, memcheck: scripts/experiment-lib.sh
TEST_BIN=test_kernels
. "$B/../scripts/experiment-lib.sh"
tests '*ActivationQuantizer*:*W4A4*' NONE=0 MRGPTQ_AQ_TC_MIN=32 MRGPTQ_AQ_TC_MIN=16
memcheck MRGPTQ_AQ_TC_MIN=16 '*ActivationQuantizer*'
# code bytes that differ from the CPU's rotation path once b = 16 / 32 run on the tensor cores
env MRGPTQ_AQ_TC_MIN=16 timeout 120 "$B/test_kernels" --gtest_filter='*CodesEqualTheCpuReference' \
  2>&1 | grep "differ from" | grep -v " 0 of"
for round in 1 2; do
  for e in NONE=0 MRGPTQ_AQ_TC_MIN=32 MRGPTQ_AQ_TC_MIN=16; do
    echo "=== round $round: $e bench_fp4 --only 8192x8192 (quantizer lines)"
    env "$e" timeout 60 "$B/bench_fp4" --only 8192x8192 2>&1 | grep -E "copy \(D2D\)|quantize|BF16 out"
  done
done
