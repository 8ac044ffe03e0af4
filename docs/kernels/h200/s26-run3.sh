#!/usr/bin/env bash
# Twenty-sixth session, call 3: call 2 found the warpgroup config choice up to a fifth slower
# than the fastest config at M = 577-768 (256-row tiles that fill the waves badly), and nothing
# was ever timed between the grid points above M = 1024. This build picks the config above
# M = 576 from a cost model (w4a16_wgmma.cu, modelled_config; rates fitted to call 2's timings).
#  1. The tests of the dispatch and the configs, with the new route test.
#  2. bench_w4a16_tc --wg --ab: the automatic choice (now) and every candidate config, call for
#     call, M = 384-4096 on and off the grid. The old rules' choice at each M is among the
#     candidates, so old and new compare call for call (and the model can be refitted).
#  3. bench_w4a16_tc --dispatch over the default sweep (M = 1-1024) and M = 1088-4096.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s26-run3.sh", carry=["build-pack"])
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
timeout 300 "$B/bench_w4a16_tc" --wg --ab -1,6,11,16,17,22,8,12,20 \
  --ms 384,448,512,576,640,704,768,832,896,960,1024,1088,1152,1280,1408,1536,1792,2048,2304,2560,3072,3584,4096 \
  >"$O/wg-ab.txt" 2>&1
echo "wg ab: exit $?"
date -u
timeout 150 "$B/bench_w4a16_tc" --dispatch >"$O/dispatch.txt" 2>&1
echo "dispatch: exit $?"
timeout 150 "$B/bench_w4a16_tc" --dispatch --ms 1088,1152,1280,1536,1792,2048,2304,2560,3072,3584,4096 \
  >"$O/dispatch-large.txt" 2>&1
echo "dispatch large: exit $?"
grep -hE '^ *[0-9]+x' "$O/dispatch.txt" "$O/dispatch-large.txt" | awk '$2 > 512' | cut -c1-80
date -u
