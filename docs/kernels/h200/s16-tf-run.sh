#!/usr/bin/env bash
# Sixteenth session, ninth call: a transform warpgroup of its own decodes each chunk's weight
# into the stage's 128-byte-swizzled A tiles (stmatrix) and signals a third ring of mbarriers;
# the consumers only wait and run shared-memory (SS) wgmmas. Configs 55 / 56 / 57 / 59 = 14 / 20 /
# 12 / 11 so (3 / 2 / 2 / 2 stages: the A tiles take 32 KB a stage; 512 threads leave 128
# registers a thread, too few for n = 256). wg-tf-experiment.patch, -DMRGPTQ_WG_TRACE. The
# every-config tests cover them in this build.
#   run(command="bash docs/kernels/h200/s16-tf-run.sh", carry=["build-exp"])
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
  for c in "14 8192x8192 128" "55 8192x8192 128" "20 4096x14336 320" "56 4096x14336 320" \
    "12 8192x8192 192" "57 8192x8192 192" "11 8192x8192 384" "59 8192x8192 384"; do
    set -- $c
    echo "=== trace: config $1, $2, M = $3"
    MRGPTQ_WG_TRACE=9 timeout 20 $B/bench_w4a16_tc --wg --cfg "$1" --only "$2" --ms "$3" --reps 10 2>&1 \
      | grep -E "trace" | tail -1
  done
  for a in "14,55,-1 8192x8192 65,128" "20,56,-1 4096x14336 320" "12,57,-1 8192x8192 192" \
    "11,59,-1 8192x8192 384" "14,55 8192x28672 128"; do
    set -- $a
    echo "=== --ab $1 --only $2 --ms $3"
    timeout 30 $B/bench_w4a16_tc --wg --ab "$1" --only "$2" --ms "$3" 2>&1 | grep -E "^ *[0-9]+x"
  done
} >"$O/tf.txt" 2>&1
cat "$O/tf.txt"
