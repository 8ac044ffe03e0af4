#!/usr/bin/env bash
# Thirty-first session, call 5: the final code (c416c96's kernels: RemTile's second accumulator
# set zero-initialised by its declaration). test_w4a16_tc's warpgroup and dispatch-crossover
# tests, then the "never slower" sweep (bench_w4a16_tc --dispatch, its 37 M and 257, 264, 513,
# 520, 1025), one round.
# Here: bash scripts/gpu-pack.sh --tgz build-pack, then only bench_w4a16_tc and test_w4a16_tc
#   kept in its bundle; run(command="bash docs/kernels/h200/s31-run5.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
{
  date -u
  timeout 100 "$B/test_w4a16_tc" --gtest_filter='GpuTc.Wgmma*:GpuTc.GemmDispatchMatchesFloat64AroundEveryCrossover'
  echo "test_w4a16_tc: exit $?"
  date -u
} >"$O/s31-run5-log.txt" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]' "$O/s31-run5-log.txt" | head -20
{
  date -u
  AB_TIMEOUT=90 ab_rounds 1 --dispatch --ms 1,2,4,8,12,16,24,32,33,40,48,56,64,65,80,96,112,128,129,144,160,161,176,192,193,224,256,257,264,288,320,384,448,512,513,520,640,768,1024,1025 \
    -- new="$B/bench_w4a16_tc"
  date -u
} >"$O/s31-run5-ab.txt" 2>&1
grep -cE "^exit 0" "$O/s31-run5-ab.txt"
