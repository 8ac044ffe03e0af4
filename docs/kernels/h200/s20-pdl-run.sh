#!/usr/bin/env bash
# Twentieth session, call 1: the streamed W4A16 kernels as programmatic dependents
# (gpu::set_programmatic_launch; griddepcontrol in w4a16_stream and w4a16_stream_xs).
# 1. test_programmatic_launch (the late-writer window, chains bit for bit), then the streamed
#    tests of test_w4a16_tc (their kernels changed: the X-staged producer issues the first
#    stages' weight before their activation boxes; both kernels now trigger their dependents).
# 2. bench_w4a16_tc --chain 8 at M = 1, 16 on the four layer shapes: us per layer of a chain of
#    8 calls, cuBLAS BF16 and ours with plain and programmatic launches.
# 3. Single calls, plain launches, against the same kernels at HEAD before the change
#    (build-ab/bench_w4a16_tc_old), alternating processes, two rounds: that the change costs
#    nothing where it is not asked for.
# The kernels of this run are b9c3cda's (since changed): git checkout b9c3cda first.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; scripts/bench-variant.sh --file
# src/kernels/w4a16_tc.cu --bin bench_w4a16_tc a221e7c old; mkdir -p build-ab; gzip -c
# build-old/bench_w4a16_tc_old > build-ab/bench_w4a16_tc_old.gz;
# run(command="bash docs/kernels/h200/s20-pdl-run.sh", carry=["build-pack", "build-ab"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
gunzip -c build-ab/bench_w4a16_tc_old.gz >"$B/bench_w4a16_tc_old" && chmod +x "$B/bench_w4a16_tc_old"
echo "=== test_programmatic_launch"
timeout 90 "$B/test_programmatic_launch" 2>&1 | grep -E "^\[  (PASSED|FAILED) |OK \]|FAILED \]|Failure|Expected|Which is|skipped" | head -20
echo "=== test_w4a16_tc, the streamed kernels"
timeout 200 "$B/test_w4a16_tc" --gtest_filter='*Streamed*:*GemmDispatchMatchesFloat64*:*PlantedWrong*:*BadArguments*' 2>&1 |
  grep -E "^\[  (PASSED|FAILED) |OK \]|FAILED \]|Failure" | head -20
echo "=== chains of 8 layers (us per layer)"
timeout 150 "$B/bench_w4a16_tc" --chain 8 --ms 1,16 2>&1 | tee "$O/chain.txt"
AB_BINS="old=$B/bench_w4a16_tc_old new=$B/bench_w4a16_tc" AB_ROUNDS=2 \
  AB_ARGSETS="--only 8192x8192 --ms 1,16;--only 28672x8192 --ms 1,16" \
  OUT=$O scripts/gpu.sh --prebuilt build-pack ab >/dev/null 2>&1
echo "== A/B single calls (round, side, N x K, M, bf16, tma mx, gemm mx, gemm nv; us)"
awk '/^=== round/ {r = $3; s = $4} /^ *[0-9]+x[0-9]+ +[0-9]+ / {print r, s, $1, $2, $3, $5, $33, $36}' \
  "$O/ab.txt"
