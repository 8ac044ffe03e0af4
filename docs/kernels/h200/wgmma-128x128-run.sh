#!/usr/bin/env bash
# Fourteenth session: configs 14 / 15 = 128 x 128 tiles (two consumer warpgroups, one m64n128 a
# k-step each, 5 stages), 15 with K split over a cluster of 2 CTAs, against the existing configs at
# M = 128-1024 (8192x8192 at M = 256: config 8 at 0.85x of cuBLAS in the issue's table). One
# device call (~2 minutes), binaries from scripts/gpu-pack.sh --tgz build-pack with
# wgmma-128x128-experiment.patch applied:
#   run(command="bash docs/kernels/h200/wgmma-128x128-run.sh > $OUT/w128.txt 2>&1; tail -40 $OUT/w128.txt",
#       carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
t0=$SECONDS
timeout 200 "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaEveryConfigSmall*:*ManyWaves*:*WgmmaKernelMatchesFloat64AtOddSizes*:*WgmmaTmaConfigsAtBoxEdges*' 2>&1 |
  grep -E "^\[  (PASSED|FAILED)|Failure|Expected|Which is|config=" | head -12
echo "tests rc ${PIPESTATUS[0]}, $((SECONDS - t0)) s"
timeout 120 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaEveryConfigSmall*' 2>&1 | grep -E "ERROR SUMMARY|PASSED|FAILED"
for r in 1 2; do
  echo "=== round $r"
  timeout 150 "$B/bench_w4a16_tc" --wg --ms 128,192,256,384,512,1024
done
