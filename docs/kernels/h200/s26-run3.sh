#!/usr/bin/env bash
# Twenty-sixth session, call 3: call 2 found the warpgroup config choice up to a fifth slower
# than the fastest config at M = 640-768 (256-row tiles that fill the waves badly), and nothing
# was ever timed between the grid points above M = 1024. Data for a cost-model choice:
#  1. bench_w4a16_tc --wg --ab over the candidate configs (6, 11, 16, 17, 22, 8, 12) and the
#     automatic choice, call for call, M = 384-4096 on and off the grid.
#  2. bench_w4a16_tc --dispatch at M = 1088-4096 off the grid.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s26-run3.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
date -u
timeout 330 "$B/bench_w4a16_tc" --wg --ab -1,6,11,16,17,22,8,12 \
  --ms 384,448,512,576,640,704,768,832,896,960,1024,1088,1152,1280,1408,1536,1792,2048,2304,2560,3072,3584,4096 \
  >"$O/wg-ab.txt" 2>&1
echo "wg ab: exit $?"
date -u
timeout 200 "$B/bench_w4a16_tc" --dispatch --ms 1088,1152,1280,1536,1792,2048,2304,2560,3072,3584,4096 \
  >"$O/dispatch.txt" 2>&1
echo "dispatch: exit $?"
grep -E '^ *[0-9]+x' "$O/dispatch.txt"
date -u
