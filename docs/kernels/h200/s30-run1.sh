#!/usr/bin/env bash
# Thirtieth session, call 1: the warpgroup kernel's remainder n-tile (RemTile: 1-8 activation rows
# past a tile boundary on mma.sync with the wgmma's decoded A fragment).
#  1. The w4a16_gemm dispatch at M on both sides of every tile boundary, the four layer shapes,
#     two builds in alternating processes (ab_rounds, two rounds):
#       new  = build-pack (this commit: the remainder configs chosen 1-8 rows past a boundary);
#       base = build-old/bench_w4a16_tc_base: src/kernels/w4a16_wgmma.cu at 515d7b1 (whole tiles).
#  2. test_w4a16_tc's warpgroup-kernel and dispatch tests (the remainder configs in every
#     every-config test, their own tests, the new routes). (A first try of this call with the
#     whole test program and a memcheck was lost: the machine was taken back after ~7 minutes.)
# Here: bash scripts/gpu-pack.sh --tgz build-pack; scripts/bench-variant.sh --file
#   src/kernels/w4a16_wgmma.cu --bin bench_w4a16_tc 515d7b1 base;
#   run(command="bash docs/kernels/h200/s30-run1.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv
  AB_TIMEOUT=100 ab_rounds 2 --dispatch --ms 64,65,72,73,128,129,136,160,161,168,192,193,200,256,257,264,265,512,513,520,1024,1025 \
    -- new="$B/bench_w4a16_tc" base=build-old/bench_w4a16_tc_base
  date -u
} >"$O/s30-run1-ab.txt" 2>&1
grep -cE "^exit 0" "$O/s30-run1-ab.txt"
{
  date -u
  timeout 300 "$B/test_w4a16_tc" --gtest_filter='*Wgmma*:*Dispatch*'
  echo "test_w4a16_tc (Wgmma, Dispatch): exit $?"
  date -u
} >"$O/s30-run1-log.txt" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]|ERROR SUMMARY' "$O/s30-run1-log.txt" | head -40
