#!/usr/bin/env bash
# Thirtieth session, call 2: the remainder n-tile kept for configs 6 and 8 only (106, 108; the
# dispatch takes them 1-8 rows past a multiple of 256 where the rules take 6 or 8 for the
# multiple), after call 1 showed it slower as the remainder of 128-, 160- and 192-row tiles.
#  1. The "never slower" sweep (bench_w4a16_tc --dispatch: its 37 M and 264, 520, 1025), the
#     four layer shapes, this build against the whole-tile base in alternating processes
#     (ab_rounds, two rounds): new = build-pack; base = build-old/bench_w4a16_tc_base
#     (src/kernels/w4a16_wgmma.cu at 515d7b1, as in call 1).
#  2. test_w4a16_tc, whole.
#  3. compute-sanitizer memcheck on WgmmaRemainderTilesSmall.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s30-run2.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
{
  date -u
  AB_TIMEOUT=45 ab_rounds 2 --dispatch --ms 1,2,4,8,12,16,24,32,33,40,48,56,64,65,80,96,112,128,129,144,160,161,176,192,193,224,256,257,264,288,320,384,448,512,513,520,640,768,1024,1025 \
    -- new="$B/bench_w4a16_tc" base=build-old/bench_w4a16_tc_base
  date -u
} >"$O/s30-run2-ab.txt" 2>&1
grep -cE "^exit 0" "$O/s30-run2-ab.txt"
{
  date -u
  timeout 300 "$B/test_w4a16_tc"
  echo "test_w4a16_tc: exit $?"
  date -u
  timeout 70 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_w4a16_tc" \
    --gtest_filter='*WgmmaRemainderTilesSmall*'
  echo "memcheck WgmmaRemainderTilesSmall: exit $?"
  date -u
} >"$O/s30-run2-log.txt" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]|ERROR SUMMARY' "$O/s30-run2-log.txt" | head -40
