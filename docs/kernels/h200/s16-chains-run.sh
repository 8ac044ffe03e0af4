#!/usr/bin/env bash
# Sixteenth session, third call: two accumulator chains a consumer warpgroup (odd k-steps into a
# second accumulator set, added at the end): configs 26-31 = 20 / 14 / 12 / 10 / 15 / 11 with
# two chains (wg-chains-experiment.patch), timed call for call against the config they copy, and
# checked by the every-config tests (which cover 23-31 in this build).
#   run(command="bash docs/kernels/h200/s16-chains-run.sh", carry=["build-exp"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=build-exp
chmod +x $B/*
timeout 120 $B/test_w4a16_tc --gtest_filter='*WgmmaEveryConfigSmall*:*WgmmaTmaConfigsAtBoxEdges*' \
  >"$O/test.log" 2>&1
echo "test: exit $?, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/test.log" | tr '\n' ' ')"
grep -E '^\[  FAILED  \]|Failure|config' "$O/test.log" | head -10
{
  for r in 1 2; do
    for a in "20,26,-1 4096x14336 320" "20,26,-1 8192x8192 320" "20,26 28672x8192 160" \
      "14,27,-1 8192x8192 65,128" "14,27 8192x28672 128" "12,28,-1 8192x8192 192" \
      "12,28 4096x14336 384" "10,29,-1 8192x8192 64" "10,29,-1 4096x14336 64" \
      "15,30,-1 4096x14336 96,128" "11,31 8192x8192 384"; do
      set -- $a
      echo "=== round $r: --ab $1 --only $2 --ms $3"
      timeout 40 $B/bench_w4a16_tc --wg --ab "$1" --only "$2" --ms "$3" 2>&1 | grep -E "^ *[0-9]+x"
    done
  done
} >"$O/ab-chains.txt" 2>&1
echo "ab: done"
{
  for c in "26 4096x14336 320" "20 4096x14336 320" "27 8192x8192 128" "28 8192x8192 192"; do
    set -- $c
    echo "=== trace: config $1, $2, M = $3"
    MRGPTQ_WG_TRACE=9 timeout 30 $B/bench_w4a16_tc --wg --cfg "$1" --only "$2" --ms "$3" --reps 10 2>&1 \
      | grep -E "trace" | tail -1
  done
} >"$O/trace-chains.txt" 2>&1
cat "$O/ab-chains.txt" "$O/trace-chains.txt"
