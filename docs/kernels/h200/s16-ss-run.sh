#!/usr/bin/env bash
# Sixteenth session, eighth call: the weight decoded into shared memory and multiplied with
# shared-memory (SS) wgmmas, to get under the register-A floor. Configs 50-54 = 14 / 20 / 12 /
# 11 / 8 with each consumer warpgroup decoding its 64 rows of chunk c + 1 into a 128-byte-swizzled
# tile (stmatrix) while chunk c's SS wgmmas run (wg-ss-experiment.patch, -DMRGPTQ_WG_TRACE;
# fewer stages for the 64 KB of tiles). Every-config tests cover 50-54 in this build.
#   run(command="bash docs/kernels/h200/s16-ss-run.sh", carry=["build-exp"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=build-exp
chmod +x $B/*
timeout 100 $B/test_w4a16_tc --gtest_filter='*WgmmaEveryConfigSmall*:*WgmmaTmaConfigsAtBoxEdges*' \
  >"$O/test.log" 2>&1
echo "test: exit $?, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/test.log" | tr '\n' ' ')"
grep -E '^\[  FAILED  \]|Failure|config|Expected|Which' "$O/test.log" | head -8
{
  for c in "14 8192x8192 128" "50 8192x8192 128" "20 4096x14336 320" "51 4096x14336 320" \
    "12 8192x8192 192" "52 8192x8192 192" "11 8192x8192 384" "53 8192x8192 384" \
    "8 8192x8192 256" "54 8192x8192 256"; do
    set -- $c
    echo "=== trace: config $1, $2, M = $3"
    MRGPTQ_WG_TRACE=9 timeout 30 $B/bench_w4a16_tc --wg --cfg "$1" --only "$2" --ms "$3" --reps 10 2>&1 \
      | grep -E "trace" | tail -1
  done
  for r in 1 2; do
    for a in "14,50,-1 8192x8192 65,128" "20,51,-1 4096x14336 320" "12,52,-1 8192x8192 192" \
      "11,53,-1 8192x8192 384" "8,54,-1 8192x8192 256" "14,50 8192x28672 128"; do
      set -- $a
      echo "=== round $r: --ab $1 --only $2 --ms $3"
      timeout 40 $B/bench_w4a16_tc --wg --ab "$1" --only "$2" --ms "$3" 2>&1 | grep -E "^ *[0-9]+x"
    done
  done
} >"$O/ss.txt" 2>&1
cat "$O/ss.txt"
