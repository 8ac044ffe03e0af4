#!/usr/bin/env bash
# Eighteenth session, call 4: call 1's form (each block over C consecutive chunks, C a template
# argument, the next chunk's loads issued right after this one's rotation; 3 blocks an SM, 80
# registers) at C = 4, 6, 8 (MRGPTQ_AQ_CHUNKS), against HEAD's act_quant (base), the whole
# quantizer table (MXFP4 rows too: their kernels are C = 1). test_kernels checks each C's codes.
set -uo pipefail
B=$(mktemp -d) && tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/* 2>/dev/null
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; exec > >(tee "$OUT/s18-chunks4.txt") 2>&1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,serial --format=csv
for c in 6 8; do
  echo "=== test_kernels, MRGPTQ_AQ_CHUNKS=$c"
  MRGPTQ_AQ_CHUNKS=$c timeout 300 "$B/test_kernels" 2>&1 | grep -E "^\[  (PASSED|FAILED) |FAILED|error" | head -20
done
for r in 1 2 3; do
  for side in "base 1" "new 1" "new 4" "new 6" "new 8"; do
    set -- $side
    bin=build-old/bench_fp4_$1; [ "$1" = new ] && bin=$B/bench_fp4
    echo "=== round $r: $1 C=$2"
    MRGPTQ_AQ_CHUNKS=$2 "$bin" --quant 2>&1 | grep -E "rot|copy \(D2D\)"
  done
done
