#!/usr/bin/env bash
# Thirty-first session, call 1: RemTile's mma.sync no longer held back (75e59f9: the remainder's
# B fragments loaded a pair ahead, the pair's second mma.sync into accumulators of its own), and
# the checks the thirtieth session's final code still owed the GPU.
#  1. The dispatch (bench_w4a16_tc --dispatch) at config 5's M (65, 112, 128) and around the
#     multiples of 256, the four layer shapes, three builds in alternating processes, three
#     rounds: new = build-pack (75e59f9); head = build-old/bench_w4a16_tc_head (w4a16_wgmma.cu at
#     9a50858: the thirtieth session's remainder); base = build-old/bench_w4a16_tc_base (at
#     515d7b1: whole tiles only).
#  2. Remainder forms of the 128-, 160- and 192-row configs (11, 12, 14, 20 as 111 ... 120), with
#     the new code: build-old/bench_w4a16_tc_allrem (75e59f9 + s31-allrem-experiment.patch),
#     --wg --ab, each config over the automatic choice, call for call, just past those tiles.
#  3. test_w4a16_tc: the warpgroup tests and every test from GemmDispatch* on (the thirtieth
#     session's call 2 was cut before GemmDispatchOnWideWeights).
#  4. compute-sanitizer memcheck on WgmmaRemainderTilesSmall.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; scripts/bench-variant.sh (as above);
#   run(command="bash docs/kernels/h200/s31-run1.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
{
  date -u
  AB_TIMEOUT=45 ab_rounds 3 --dispatch --ms 65,112,128,256,257,264,512,513,520,1024,1025 \
    -- new="$B/bench_w4a16_tc" head=build-old/bench_w4a16_tc_head base=build-old/bench_w4a16_tc_base
  date -u
  echo "=== allrem"
  timeout 90 build-old/bench_w4a16_tc_allrem --wg --ab -1,11,12,14,20,111,112,114,120 \
    --ms 128,129,136,160,161,168,192,193,200
  echo "exit $?"
  date -u
} >"$O/s31-run1-ab.txt" 2>&1
grep -cE "^exit 0" "$O/s31-run1-ab.txt"
{
  date -u
  timeout 300 "$B/test_w4a16_tc" --gtest_filter='GpuTc.Wgmma*:GpuTc.GemmDispatch*:GpuTc.DispatchExact*:GpuTc.Planted*:GpuTc.StreamedDecodes*:GpuTc.BadArguments*:GpuTc.StreamedKernelStable*'
  echo "test_w4a16_tc: exit $?"
  date -u
  timeout 70 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_w4a16_tc" \
    --gtest_filter='*WgmmaRemainderTilesSmall*'
  echo "memcheck WgmmaRemainderTilesSmall: exit $?"
  date -u
} >"$O/s31-run1-log.txt" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]|ERROR SUMMARY' "$O/s31-run1-log.txt" | head -40
