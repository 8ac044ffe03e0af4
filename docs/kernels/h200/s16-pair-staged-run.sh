#!/usr/bin/env bash
# Sixteenth session, fourth call: (a) configs 32-37 = 20 / 14 / 12 / 10 / 8 / 6 with two k-steps
# decoded before one fence and one commit (PAIR), (b) configs 38-45 = 6 / 8 / 20 / 14 / 12 / 11 /
# 3 / 5 with the epilogue through shared memory (stmatrix.trans, 16-byte row stores; the cluster
# split pushing its partials instead of loading them), each timed call for call against the config
# it copies; the every-config tests cover 3-45 in this build (wg-pair-staged-experiment.patch).
#   run(command="bash docs/kernels/h200/s16-pair-staged-run.sh", carry=["build-exp"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=build-exp
chmod +x $B/*
timeout 150 $B/test_w4a16_tc --gtest_filter='*WgmmaEveryConfigSmall*:*WgmmaTmaConfigsAtBoxEdges*' \
  >"$O/test.log" 2>&1
echo "test: exit $?, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/test.log" | tr '\n' ' ')"
grep -E '^\[  FAILED  \]|Failure|config' "$O/test.log" | head -10
{
  for r in 1 2; do
    for a in "20,32,40 4096x14336 320" "14,33,41 8192x8192 65,128" "12,34,42 8192x8192 192" \
      "10,35 8192x8192 64" "8,36,39 8192x8192 256" "8,39 8192x28672 256" "6,37,38 8192x8192 1024" \
      "6,38 28672x8192 512,4096" "11,43 8192x8192 384" "3,44 4096x14336 64" "5,45 28672x8192 128" \
      "20,40 8192x8192 320"; do
      set -- $a
      echo "=== round $r: --ab $1 --only $2 --ms $3"
      timeout 60 $B/bench_w4a16_tc --wg --ab "$1" --only "$2" --ms "$3" 2>&1 | grep -E "^ *[0-9]+x"
    done
  done
} >"$O/ab.txt" 2>&1
echo "ab: done"
{
  for c in "39 8192x8192 256" "38 8192x8192 1024" "40 4096x14336 320" "41 8192x8192 128"; do
    set -- $c
    echo "=== trace: config $1, $2, M = $3"
    MRGPTQ_WG_TRACE=9 timeout 30 $B/bench_w4a16_tc --wg --cfg "$1" --only "$2" --ms "$3" --reps 10 2>&1 \
      | grep -E "trace" | tail -1
  done
} >"$O/trace.txt" 2>&1
cat "$O/ab.txt" "$O/trace.txt"
