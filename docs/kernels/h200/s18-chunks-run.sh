#!/usr/bin/env bash
# Eighteenth session, call 1: kernel 1's NVFP4 rotations with C chunks a thread (the next
# chunk's loads in flight during this one's encode), MRGPTQ_AQ_CHUNKS = 1 / 2 / 4 in one binary.
# new = this tree (3 blocks an SM, 80 registers, loads right after the rotation); mb4 = the same
# at 4 blocks an SM (spills); late2 = 3 blocks, the next loads only after the stores; base = HEAD.
# test_kernels under each C checks the C > 1 codes against the C = 1 kernel's and the CPU's.
set -uo pipefail
B=$(mktemp -d) && tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/* 2>/dev/null
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; exec > >(tee "$OUT/s18-chunks.txt") 2>&1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv
for c in 2 4; do
  echo "=== test_kernels, MRGPTQ_AQ_CHUNKS=$c"
  MRGPTQ_AQ_CHUNKS=$c timeout 300 "$B/test_kernels" 2>&1 | grep -E "^\[  (PASSED|FAILED) |FAILED|differ|error" | head -20
done
for r in 1 2 3; do
  for side in "base 1" "new 1" "new 2" "new 4" "mb4 2" "mb4 4" "late2 2" "late2 4"; do
    set -- $side
    bin=build-old/bench_fp4_$1; [ "$1" = new ] && bin=$B/bench_fp4
    echo "=== round $r: $1 C=$2"
    MRGPTQ_AQ_CHUNKS=$2 "$bin" --quant 2>&1 | grep -E "nvfp4 rot|copy \(D2D\)"
  done
done
