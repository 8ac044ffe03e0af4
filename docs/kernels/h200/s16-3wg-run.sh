#!/usr/bin/env bash
# Sixteenth session, seventh call: is the register-A wgmma's floor (~210 cycles a k-step for two
# consumer warpgroups) a cost of the SM or of each warpgroup? Configs 46-49 = 20 / 14 / 12 / 11
# with three consumer warpgroups (192 weight rows a CTA; wg-3wg-experiment.patch, built with
# -DMRGPTQ_WG_TRACE): their per-chunk loop cycles against the two-warpgroup configs', and call for
# call. The every-config tests cover 46-49 in this build.
#   run(command="bash docs/kernels/h200/s16-3wg-run.sh", carry=["build-exp"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=build-exp
chmod +x $B/*
timeout 100 $B/test_w4a16_tc --gtest_filter='*WgmmaEveryConfigSmall*:*WgmmaTmaConfigsAtBoxEdges*' \
  >"$O/test.log" 2>&1
echo "test: exit $?, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/test.log" | tr '\n' ' ')"
grep -E '^\[  FAILED  \]|Failure' "$O/test.log" | head -5
{
  for c in "14 8192x8192 128" "47 8192x8192 128" "20 4096x14336 320" "46 4096x14336 320" \
    "12 8192x8192 192" "48 8192x8192 192" "11 8192x8192 384" "49 8192x8192 384"; do
    set -- $c
    echo "=== trace: config $1, $2, M = $3"
    MRGPTQ_WG_TRACE=9 timeout 30 $B/bench_w4a16_tc --wg --cfg "$1" --only "$2" --ms "$3" --reps 10 2>&1 \
      | grep -E "trace" | tail -1
  done
  for a in "14,47 8192x8192 128" "20,46 4096x14336 320" "12,48 8192x8192 192" "11,49 8192x8192 384"; do
    set -- $a
    echo "=== --ab $1 --only $2 --ms $3"
    timeout 40 $B/bench_w4a16_tc --wg --ab "$1" --only "$2" --ms "$3" 2>&1 | grep -E "^ *[0-9]+x"
  done
} >"$O/3wg.txt" 2>&1
cat "$O/3wg.txt"
