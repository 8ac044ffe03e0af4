#!/usr/bin/env bash
# Twenty-second session, call 5 (build-pack23: dc678d2 plus
# config23-unsplit-128x128-experiment.patch -- config 23, a 128 x 128 tile of the warpgroup
# kernel with K unsplit, launch_tma_f<1, 128, 2, 5>: config 14 without its cluster split).
# Call 4's ncu had cuBLAS at M = 256 on 8192x8192 in 128 x 128 tiles
# (nvjet_sm90_tst_128x128_64x6_2x1: 128 CTAs, whole K each) at 88-91% tensor pipe, against
# config 8 (128 x 256, K split over a cluster of 2, partial sums exchanged) at 79%.
# Tests with config 23 in every-config lists, then config 23 against the automatic choice, call
# for call (--wg --ab -1,23), at M = 128-512 on the four shapes, two processes.
# Here: git apply docs/kernels/h200/config23-unsplit-128x128-experiment.patch;
#   bash scripts/gpu-pack.sh --tgz build-pack23;
#   run(command="bash docs/kernels/h200/s22-run5.sh", carry=["build-pack23"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack23/bundle.tgz -C "$B" && chmod +x "$B"/*
echo "=== tests" | tee "$O/tests.txt"
timeout 240 "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaEveryConfigSmall*:*WgmmaTmaConfigsAtBoxEdges*:*BadArgumentsGiveClearErrors*' 2>&1 |
  grep -E '^\[ +(OK|FAILED|PASSED) +\]|Failure$|Which is|cfg|config' | head -30 | tee -a "$O/tests.txt"
for r in 1 2; do
  echo "=== round $r: bench_w4a16_tc --wg --ab -1,23 --ms 128,192,256,320,384,512" | tee -a "$O/ab.txt"
  timeout 200 "$B/bench_w4a16_tc" --wg --ab -1,23 --ms 128,192,256,320,384,512 2>&1 |
    grep -E '^ *[0-9]+x' | tee -a "$O/ab.txt"
done
