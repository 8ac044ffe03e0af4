#!/usr/bin/env bash
# Thirty-first session, call 6 (review): RemTile without the pair-ahead B fragments and the
# second accumulator set (call 1 timed them neutral in the predicated form): build-pack (the
# working tree) against cur = build-old/bench_w4a16_tc_cur (w4a16_wgmma.cu at cb5eb37, with
# them), the dispatch where the remainder is taken and M = 256 as a control, alternating
# processes, two rounds; then test_w4a16_tc's warpgroup and dispatch-route tests.
# Here: bash scripts/gpu-pack.sh --tgz build-pack (only bench_w4a16_tc and test_w4a16_tc kept);
#   run(command="bash docs/kernels/h200/s31-run6.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
{
  date -u
  AB_TIMEOUT=45 ab_rounds 2 --dispatch --ms 256,257,264,513,520,1025 \
    -- new="$B/bench_w4a16_tc" cur=build-old/bench_w4a16_tc_cur
  date -u
} >"$O/s31-run6-ab.txt" 2>&1
grep -cE "^exit 0" "$O/s31-run6-ab.txt"
{
  timeout 150 "$B/test_w4a16_tc" --gtest_filter="GpuTc.Wgmma*:GpuTc.GemmDispatch*"
  echo "test_w4a16_tc: exit $?"
  date -u
} >"$O/s31-run6-log.txt" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]' "$O/s31-run6-log.txt" | head -20
