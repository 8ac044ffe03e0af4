#!/usr/bin/env bash
# Twenty-sixth session, call 4: the cost model's rates refitted to call 3's call-for-call timings
# (w4a16_wgmma.cu, kTileCosts). Out of sample: M that no fit has seen.
#  1. The tests of the dispatch and the configs (the route test included).
#  2. bench_w4a16_tc --wg --ab: the automatic choice and every candidate (the old rules' choice
#     among them), call for call, at M = 600-3840 off every earlier grid.
#  3. bench_w4a16_tc --dispatch: the default sweep (M = 1-1024), then those M.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s26-run4.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
date -u
timeout 200 "$B/test_w4a16_tc" \
  --gtest_filter='*Modelled*:*GemmDispatch*:*WgmmaEveryConfigSmall*:*PlantedWrong*' \
  >"$O/tests.txt" 2>&1
echo "tests: exit $?"; grep -E '^\[ +(FAILED|PASSED|OK) +\]|Failure$|Expected|Which is' "$O/tests.txt" | head -20
date -u
MS=600,672,736,800,1000,1200,1344,1664,1920,2200,2816,3328,3840
timeout 240 "$B/bench_w4a16_tc" --wg --ab -1,6,11,16,17,22,8,12,20 --ms $MS >"$O/wg-ab.txt" 2>&1
echo "wg ab: exit $?"
date -u
timeout 120 "$B/bench_w4a16_tc" --dispatch >"$O/dispatch.txt" 2>&1
echo "dispatch: exit $?"
timeout 120 "$B/bench_w4a16_tc" --dispatch --ms $MS >"$O/dispatch-off-grid.txt" 2>&1
echo "dispatch off grid: exit $?"
grep -hE '^ *[0-9]+x' "$O/dispatch.txt" "$O/dispatch-off-grid.txt" | awk '$2 > 576' | cut -c1-80
date -u
