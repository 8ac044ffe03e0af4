#!/usr/bin/env bash
# Eighteenth session, call 6: call 5 without the loop's early exit (the break that skipped chunks past the end cost 2-4 points) --
# kernel 1's and W4A4's GPU tests and their memcheck, then the quantizer's table at four input
# shapes with C forced (--quant-chunks 1 = the one-chunk kernel) and chosen (auto), two rounds.
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
TEST_LIMITS="test_kernels:150 test_w4a4_fp8:90" SAN_ONLY="kernels fp8" OUT=$OUT scripts/gpu.sh --prebuilt build-pack test \
  sanitize 2>&1 | grep -v "^  \(mx\|nv\)fp4 rotation" | tail -12
B=$(mktemp -d) && tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
exec > >(tee "$OUT/s18-chunks6.txt") 2>&1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,serial --format=csv
for r in 1 2; do
  for shape in 16384x8192 4096x8192 4096x28672 2048x14336; do
    for c in 1 4 6 8 auto; do
      echo "=== round $r: $shape C=$c"
      args=(--quant --quant-shape "$shape"); [ "$c" = auto ] || args+=(--quant-chunks "$c")
      "$B/bench_fp4" "${args[@]}" 2>&1 | grep -E "nvfp4 rot|copy \(D2D\)"
    done
  done
done
