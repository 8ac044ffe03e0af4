#!/usr/bin/env bash
# Twenty-second session, call 7 (build-packtf: dc678d2 plus wg-tf2-experiment.patch). The
# sixteenth session's transform-warpgroup form (wg-tf-experiment.patch: one warpgroup decoded both
# consumer positions' weight into shared-memory A tiles, SS wgmmas; 2490 cycles a chunk against
# the 1024 the tensor pipe needs) left "two transform warpgroups" unmeasured. Here each consumer
# position gets its own transform warpgroup (configs 64: config 14's 128 x 128 tile, K split over
# a cluster of 2; 66: the same tile with K whole, cuBLAS's tile at M = 256), 640 threads, 96
# registers at launch (n = 128 only: ptxas needs 90 for one m64n128 wgmma, 106 for n = 160, and
# four transform warpgroups leave 72). Tests with 64 and 66 in every-config lists, then both
# against the automatic config, call for call, two processes.
# Here: git apply docs/kernels/h200/wg-tf2-experiment.patch; bash scripts/gpu-pack.sh --tgz
#   build-packtf; run(command="bash docs/kernels/h200/s22-run7.sh", carry=["build-packtf"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-packtf/bundle.tgz -C "$B" && chmod +x "$B"/*
echo "=== tests" | tee "$O/tests.txt"
timeout 60 "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaEveryConfigSmall*:*WgmmaTmaConfigsAtBoxEdges*:*BadArgumentsGiveClearErrors*' 2>&1 |
  grep -E '^\[ +(OK|FAILED|PASSED) +\]|Failure$|Which is|cfg|config' | head -30 | tee -a "$O/tests.txt"
for r in 1 2; do
  echo "=== round $r: bench_w4a16_tc --wg --ab -1,64,66 --ms 128,192,256,320" | tee -a "$O/ab.txt"
  timeout 60 "$B/bench_w4a16_tc" --wg --ab -1,64,66 --ms 128,192,256,320 2>&1 |
    grep -E '^ *[0-9]+x' | tee -a "$O/ab.txt"
done
