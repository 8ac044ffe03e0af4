#!/usr/bin/env bash
# Eighteenth session, call 2: NVFP4 rotations, blocks striding over the input with the next
# chunk's loads in flight (MULTI form: 3 blocks an SM, 80 registers). MRGPTQ_AQ_CHUNKS = C gives
# a grid of ceil(blocks / C); 0 = three blocks per SM (persistent); 1 = the one-chunk kernel.
# base = HEAD's act_quant (build-old/bench_fp4_base). test_kernels checks the strided codes.
set -uo pipefail
B=$(mktemp -d) && tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/* 2>/dev/null
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; exec > >(tee "$OUT/s18-chunks2.txt") 2>&1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv
for c in 0 3 8; do
  echo "=== test_kernels, MRGPTQ_AQ_CHUNKS=$c"
  MRGPTQ_AQ_CHUNKS=$c timeout 300 "$B/test_kernels" 2>&1 | grep -E "^\[  (PASSED|FAILED) |FAILED|error" | head -20
done
for r in 1 2 3; do
  for side in "base 1" "new 1" "new 4" "new 8" "new 16" "new 0"; do
    set -- $side
    bin=build-old/bench_fp4_$1; [ "$1" = new ] && bin=$B/bench_fp4
    echo "=== round $r: $1 C=$2"
    MRGPTQ_AQ_CHUNKS=$2 "$bin" --quant 2>&1 | grep -E "nvfp4 rot|copy \(D2D\)"
  done
done
