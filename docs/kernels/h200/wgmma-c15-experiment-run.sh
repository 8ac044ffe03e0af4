#!/usr/bin/env bash
# Prepared in the fourteenth session (compiled, not run): config 15 = 128 x 128 tiles with K split
# four ways through global memory (wgmma-c15-experiment.patch), against config 13 (128 x 192, the
# same split), which 4096x14336 takes at M = 65-128 (51.3 / 47.1 / 43.1 us at M = 65 / 96 / 128,
# 0.72-0.89x of cuBLAS: docs/kernels/h200/dispatch-13.txt). One device call (~2 minutes):
#   run(command="bash docs/kernels/h200/wgmma-c15-experiment-run.sh > $OUT/c15.txt 2>&1; tail -40 $OUT/c15.txt",
#       carry=["build-ab"])
# Here (no GPU needed), in a worktree at 3514467 or later:
#   git apply docs/kernels/h200/wgmma-c15-experiment.patch
#   cmake -S . -B build-lgpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DMRGPTQ_GPU_ONLY=ON
#   cmake --build build-lgpu -j2 --target bench_w4a16_tc test_w4a16_tc
#   mkdir -p build-ab && for b in bench_w4a16_tc test_w4a16_tc; do strip -o build-ab/$b build-lgpu/$b; done
# (build-ab in the main checkout, git-ignored.) Adopt config 15 where it beats 13 in both rounds
# (a dispatch rule in w4a16_wgmma_config_for beside config 13's, and an assert in
# GemmDispatchOnWideWeights).
cd "$(dirname "$0")/../../.." || exit 1
B=build-ab
chmod +x "$B"/*
timeout 200 "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaEveryConfigSmall*:*ManyWaves*:*WgmmaKernelMatchesFloat64AtOddSizes*:*WgmmaTmaConfigsAtBoxEdges*' 2>&1 |
  grep -E "^\[  (PASSED|FAILED)|Failure|Expected|Which is|config=" | head -12
timeout 120 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaEveryConfigSmall*' 2>&1 | grep -E "ERROR SUMMARY|PASSED|FAILED"
for r in 1 2; do
  echo "=== round $r"
  timeout 100 "$B/bench_w4a16_tc" --wg --ms 65,96,128,384 | grep -E "^ *[0-9]+x|^N x K"
done
