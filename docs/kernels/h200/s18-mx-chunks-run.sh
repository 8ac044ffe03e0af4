#!/usr/bin/env bash
# Eighteenth session, call 9: the chunked form for MXFP4's rotations too (an experiment:
# aq-mx-chunks-experiment.patch on 135e855, MXFP4 chunked only when C is forced), 4 blocks an SM
# (64 registers; b = 16/64/128 spill 16 bytes) in build-pack, 3 blocks an SM in
# build-old/bench_fp4_mx3 (+ aq-mx-chunks-3blocks-experiment.patch). Three rounds at [16384, 8192].
set -uo pipefail
B=$(mktemp -d) && tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/* 2>/dev/null
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"; exec > >(tee "$OUT/s18-mx-chunks.txt") 2>&1
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,serial --format=csv
for r in 1 2 3; do
  for side in "new 1" "new 4" "new 6" "new 8" "mx3 4" "mx3 6" "mx3 8"; do
    set -- $side
    bin=build-old/bench_fp4_$1; [ "$1" = new ] && bin=$B/bench_fp4
    echo "=== round $r: $1 C=$2"
    "$bin" --quant --quant-chunks "$2" 2>&1 | grep -E "mxfp4 rot|copy \(D2D\)"
  done
done
