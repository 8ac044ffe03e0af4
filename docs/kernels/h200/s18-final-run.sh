#!/usr/bin/env bash
# Eighteenth session, final call: the committed form (C chunks a block for NVFP4's rotations,
# chosen by chunks_for) -- kernel 1's and W4A4's GPU tests, their memcheck, then the issue's
# table (bench_fp4: the quantizer at [16384, 8192], then every layer shape and M).
# (test_w4a16_tc: the W4A16 kernels are unchanged since 20974bf; not re-run in this call.)
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
TEST_LIMITS="test_kernels:150 test_w4a4_fp8:90" SAN_ONLY="kernels fp8" OUT=$OUT \
  scripts/gpu.sh --prebuilt build-pack test sanitize fp4 2>&1 | tail -14
