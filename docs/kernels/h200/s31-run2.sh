#!/usr/bin/env bash
# Thirty-first session, call 2. Call 1 showed a remainder config ~15% slower than its whole-tile
# config even on tiles with no remainder rows, where its mma.sync were predicated off; aa51acc
# (build-pack) gives those tiles a loop without them (consume<C, REM>). Here:
#  1. Three builds with remainder forms of configs 6, 8, 11, 12, 14, 20 (HEAD +
#     s31-allrem-experiment.patch), --wg --ab, each config over the automatic choice, call for
#     call, two rounds in alternating processes:
#       allrem: the mma.sync as committed (between the pair's wgmmas, as ptxas places them);
#       copy:   + s31-copy-experiment.patch (the mma.sync's A fragment an opaque copy, so that it
#               shares no register with a wgmma in flight);
#       drain:  + s31-drain-experiment.patch (the pair's mma.sync after wgmma.wait_group 0, when
#               none of the warp's wgmmas is in flight).
#  2. build-pack's dispatch around the multiples of 256 (against call 1's head / base figures).
#  3. test_w4a16_tc's warpgroup tests and the crossover test; memcheck of WgmmaRemainderTilesSmall.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; scripts/bench-variant.sh (build-old);
#   run(command="bash docs/kernels/h200/s31-run2.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
{
  date -u
  AB_TIMEOUT=90 ab_rounds 2 --wg --ab -1,8,108,12,112,14,114,20,120 --ms 192,193,256,257,512,513 \
    -- allrem=build-old/bench_w4a16_tc_allrem copy=build-old/bench_w4a16_tc_copy \
    drain=build-old/bench_w4a16_tc_drain
  date -u
  AB_TIMEOUT=60 ab_rounds 1 --dispatch --ms 256,257,264,512,513,520,1024,1025 -- new="$B/bench_w4a16_tc"
  date -u
} >"$O/s31-run2-ab.txt" 2>&1
grep -cE "^exit 0" "$O/s31-run2-ab.txt"
{
  date -u
  timeout 150 "$B/test_w4a16_tc" --gtest_filter='GpuTc.Wgmma*:GpuTc.GemmDispatchMatchesFloat64AroundEveryCrossover'
  echo "test_w4a16_tc: exit $?"
  timeout 70 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_w4a16_tc" \
    --gtest_filter='*WgmmaRemainderTilesSmall*'
  echo "memcheck WgmmaRemainderTilesSmall: exit $?"
  date -u
} >"$O/s31-run2-log.txt" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]|ERROR SUMMARY' "$O/s31-run2-log.txt" | head -40
