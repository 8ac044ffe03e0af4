#!/usr/bin/env bash
# Eighteenth session, call 11: C = 2 and 3 for NVFP4's rotations at the smaller inputs
# (a0b43cd + aq-chunks-2-3-experiment.patch, which only adds those instantiations), against C = 1
# and the chosen C (4 there), two rounds, through gpu.sh's AB_ARGSETS.
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
sets=""
for shape in 4096x8192 2048x14336 16384x8192; do
  for c in 1 2 3 4; do sets+="--quant --quant-shape $shape --quant-chunks $c;"; done
done
AB_BIN=bench_fp4 AB_ENVS=- AB_ROUNDS=2 AB_ARGSETS="${sets%;}" OUT=$OUT \
  scripts/gpu.sh --prebuilt build-pack ab 2>&1 | grep -E "=== round|nvfp4 rot" > "$OUT/s18-small.txt"
tail -3 "$OUT/s18-small.txt"
