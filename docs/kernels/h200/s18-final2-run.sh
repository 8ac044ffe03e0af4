#!/usr/bin/env bash
# Eighteenth session, call 10: at the commit that chunks MXFP4's rotations too -- kernel 1's and
# W4A4's GPU tests, memcheck, the quantizer at four inputs with C = 1 and the chosen C (two
# rounds), then the table (bench_fp4).
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
TEST_LIMITS="test_kernels:150 test_w4a4_fp8:90" SAN_ONLY="kernels fp8" OUT=$OUT \
  scripts/gpu.sh --prebuilt build-pack test sanitize fp4 2>&1 | tail -7
B=$(mktemp -d) && tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
exec > >(tee "$OUT/s18-final2-quant.txt") 2>&1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,serial --format=csv
for r in 1 2; do
  for shape in 16384x8192 4096x8192 4096x28672 2048x14336; do
    for c in 1 auto; do
      echo "=== round $r: $shape C=$c"
      args=(--quant --quant-shape "$shape"); [ "$c" = auto ] || args+=(--quant-chunks "$c")
      "$B/bench_fp4" "${args[@]}" 2>&1 | grep -E " rot|copy \(D2D\)"
    done
  done
done
