#!/usr/bin/env bash
# Thirty-first session, call 3: the dispatch where the remainder is taken, this session's final
# kernel (build-pack at aa51acc: the remainder's loop only in the last tile's CTAs, consume<C,
# REM>) against the thirtieth session's (head: w4a16_wgmma.cu at 9a50858) and the whole tiles
# (base: at 515d7b1), alternating processes, three rounds; M = 256 and 1024 as controls.
# Call 2 compared them across calls only.
# Here: build-pack holds only bench_w4a16_tc and test_w4a16_tc of scripts/gpu-pack.sh's bundle;
#   run(command="bash docs/kernels/h200/s31-run3.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
{
  date -u
  AB_TIMEOUT=45 ab_rounds 3 --dispatch --ms 256,257,264,513,520,1024,1025 \
    -- new="$B/bench_w4a16_tc" head=build-old/bench_w4a16_tc_head base=build-old/bench_w4a16_tc_base
  date -u
} >"$O/s31-run3-ab.txt" 2>&1
grep -cE "^exit 0" "$O/s31-run3-ab.txt"
