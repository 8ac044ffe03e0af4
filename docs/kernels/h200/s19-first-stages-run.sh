#!/usr/bin/env bash
# Nineteenth session, call 3: w4a16_stream with its first stages copied a chunk a warp, each
# warp waiting on its own barrier (the trace had every CTA idle ~2.4 us until its first whole
# stage landed), against the same kernel at HEAD (f53acb9's w4a16_tc.cu, build-ab) -- the GPU
# tests of test_kernels and test_w4a16_tc, then bench_w4a16_tc in alternating processes, two
# rounds, at M = 1-16 on the four layer shapes. Columns kept: bf16 us, tma mx (the streamed
# kernel as the dispatch picks it), gemm mx and gemm nv (the w4a16_gemm dispatch), us.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; scripts/bench-variant.sh --file
# src/kernels/w4a16_tc.cu --bin bench_w4a16_tc HEAD old; mkdir -p build-ab; gzip -c
# build-old/bench_w4a16_tc_old > build-ab/bench_w4a16_tc_old.gz;
# run(command="bash docs/kernels/h200/s19-first-stages-run.sh", carry=["build-pack", "build-ab"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
A=$(mktemp -d)
gunzip -c build-ab/bench_w4a16_tc_old.gz >"$A/bench_w4a16_tc_old" && chmod +x "$A/bench_w4a16_tc_old"
TEST_LIMITS="test_kernels:150 test_w4a16_tc:300" OUT=$O scripts/gpu.sh --prebuilt build-pack test \
  2>&1 | tail -3
AB_BINS="old=$A/bench_w4a16_tc_old new=@/bench_w4a16_tc" AB_ROUNDS=2 \
  AB_ARGSETS="--only 8192x8192 --ms 1,2,4,8,16;--only 4096x14336 --ms 1,4,8,16;--only 8192x28672 --ms 1,8,16;--only 28672x8192 --ms 1,8,16" \
  OUT=$O scripts/gpu.sh --prebuilt build-pack ab >/dev/null 2>&1
echo "== A/B (round, side, N x K, M, bf16, tma mx, gemm mx, gemm nv; us)"
awk '/^=== round/ {r = $3; s = $4} /^ *[0-9]+x[0-9]+ +[0-9]+ / {print r, s, $1, $2, $3, $5, $33, $36}' \
  "$O/ab.txt"
