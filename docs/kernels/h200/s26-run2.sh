#!/usr/bin/env bash
# Twenty-sixth session, call 2: call 1's "never slower" sweep found the W4A16 dispatch under
# cuBLAS BF16 at most M between the issue's grid points from 129 to 1024 (0.66-0.97x; worst at
# M = 257, 513-640). Which config is fastest there, and where would dequantize + cuBLAS win?
#  1. bench_w4a16_tc --dispatch on a finer grid of M = 129-1024 (now with dequantize + cuBLAS).
#  2. bench_w4a16_tc --wg at the worst M: every warpgroup config, its fastest and the automatic
#     choice.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s26-run2.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
date -u
timeout 200 "$B/bench_w4a16_tc" --dispatch \
  --ms 129,160,161,192,193,224,256,257,288,320,352,384,416,448,480,512,513,576,640,704,768,896,1024 \
  >"$O/dispatch.txt" 2>&1
echo "dispatch: exit $?"
date -u
timeout 330 "$B/bench_w4a16_tc" --wg --ms 161,193,257,288,320,384,448,513,576,640,704,768 \
  >"$O/wg.txt" 2>&1
echo "wg: exit $?"
# shape, M, cuBLAS, the fastest config's time and ratio, the automatic choice's time and ratio
grep -E '^ *[0-9]+x' "$O/wg.txt" | awk -F'|' '{print $1 "|" $2 "|" $3}'
date -u
