#!/usr/bin/env bash
# Eighteenth session, call 3: NVFP4 rotations in the MULTI form (3 blocks an SM, 80 registers, the
# next chunk's loads in flight), each block over C consecutive chunks (MRGPTQ_AQ_CHUNKS = C; 0 =
# as many as make 3 blocks an SM) or, with MRGPTQ_AQ_STRIDED=1, over chunks a grid apart (call
# 2's form). base = HEAD's act_quant. test_kernels checks the codes of each form.
set -uo pipefail
B=$(mktemp -d) && tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/* 2>/dev/null
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; exec > >(tee "$OUT/s18-chunks3.txt") 2>&1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,serial --format=csv
for c in 0 3 4 6; do
  echo "=== test_kernels, MRGPTQ_AQ_CHUNKS=$c"
  MRGPTQ_AQ_CHUNKS=$c timeout 300 "$B/test_kernels" 2>&1 | grep -E "^\[  (PASSED|FAILED) |FAILED|error" | head -20
done
for r in 1 2 3; do
  for side in "base 1 0" "new 1 0" "new 3 0" "new 4 0" "new 6 0" "new 8 0" "new 16 0" "new 0 0" "new 8 1"; do
    set -- $side
    bin=build-old/bench_fp4_$1; [ "$1" = new ] && bin=$B/bench_fp4
    echo "=== round $r: $1 C=$2 strided=$3"
    MRGPTQ_AQ_CHUNKS=$2 MRGPTQ_AQ_STRIDED=$3 "$bin" --quant 2>&1 | grep -E "nvfp4 rot|copy \(D2D\)"
  done
done
