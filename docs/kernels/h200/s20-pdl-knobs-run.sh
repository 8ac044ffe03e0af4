#!/usr/bin/env bash
# Twentieth session, call 2. Call 1 (s20-pdl-run.sh, s20-pdl.txt) had the chains faster with
# programmatic launches except 8192x8192 M = 1 (14.6 -> 15.7 us a layer), and the X-staged kernel
# 1.6-2.4 us slower at M = 16 in single calls: its producer issued every first stage's weight
# before any activation box. Now stage 0's weight, the wait, stage 0's box, then the rest as
# before; and two experiment switches in w4a16_stream: MRGPTQ_PDL_TRIG (where its CTAs let a
# dependent start: 0 after the first issues, 1 after the main loop, 2 at exit) and
# MRGPTQ_STREAM_CAP2=1 (one-wave grids of the 3-slot kernel ask for half the shared memory, so a
# dependent cannot take a third slot on an SM).
# 1. test_programmatic_launch; the streamed tests of test_w4a16_tc.
# 2. bench_w4a16_tc --chain 8 --ms 1,16 under each setting, alternating processes, two rounds.
# 3. Single calls, plain launches, old (a221e7c's w4a16_tc.cu) against new, two rounds.
# The switches exist only at 20f23d0 (since removed): git checkout 20f23d0 first.
# Here: bash scripts/gpu-pack.sh --tgz build-pack (build-ab as for s20-pdl-run.sh);
# run(command="bash docs/kernels/h200/s20-pdl-knobs-run.sh", carry=["build-pack", "build-ab"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
gunzip -c build-ab/bench_w4a16_tc_old.gz >"$B/bench_w4a16_tc_old" && chmod +x "$B/bench_w4a16_tc_old"
echo "=== test_programmatic_launch"
timeout 120 "$B/test_programmatic_launch" 2>&1 | grep -E "^\[  (PASSED|FAILED) |OK \]|FAILED \]|Failure|Expected|Which is|skipped" | head -20
echo "=== test_w4a16_tc, the streamed kernels"
timeout 200 "$B/test_w4a16_tc" --gtest_filter='*Streamed*:*GemmDispatchMatchesFloat64*:*PlantedWrong*' 2>&1 |
  grep -E "^\[  (PASSED|FAILED) |FAILED \]|Failure" | head -20
lab() { awk '/^=== round/ {r = $3; s = $0; sub(/^=== round [0-9]+: /, "", s); sub(/: \/.*$/, "", s)}
  /^ *[0-9]+x[0-9]+ +[0-9]+ / {print r, s, $0}' "$1"; }
AB_ENVS="MRGPTQ_PDL_TRIG=0 MRGPTQ_PDL_TRIG=1 MRGPTQ_PDL_TRIG=2 MRGPTQ_PDL_TRIG=0,MRGPTQ_STREAM_CAP2=1" \
  AB_ROUNDS=2 AB_ARGS="--chain 8 --ms 1,16" OUT=$O scripts/gpu.sh --prebuilt build-pack ab >/dev/null 2>&1
echo "== chains of 8 (round, setting; N x K, M, bf16 | mx ratio | mx pdl ratio | nv ratio | nv pdl ratio; us a layer)"
lab "$O/ab.txt" | tr -s ' '
mv "$O/ab.txt" "$O/ab-chain.txt"
AB_BINS="old=$B/bench_w4a16_tc_old new=$B/bench_w4a16_tc" AB_ROUNDS=2 \
  AB_ARGSETS="--only 8192x8192 --ms 1,16;--only 28672x8192 --ms 1,16;--only 4096x14336 --ms 1,16" \
  OUT=$O scripts/gpu.sh --prebuilt build-pack ab >/dev/null 2>&1
echo "== single calls (round, side, N x K, M, bf16, tma mx, gemm mx, gemm nv; us)"
awk '/^=== round/ {r = $3; s = $4} /^ *[0-9]+x[0-9]+ +[0-9]+ / {print r, s, $1, $2, $3, $5, $33, $36}' \
  "$O/ab.txt"
