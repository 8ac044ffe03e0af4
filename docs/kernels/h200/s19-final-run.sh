#!/usr/bin/env bash
# Nineteenth session, call 2: the GPU tests of the kernels this session's commits touched at the
# link level (test_kernels: force_activation_chunks moved to launch_options.cpp; test_w4a4_fp8),
# their memcheck, MXFP4 W4A4 on the FP8 tensor cores (not re-run since the sixteenth session), the
# issue's table, then the M = 1 trace on 8192x8192 with the benchmark's own row this time.
# (test_w4a16_tc: the W4A16 kernels' release SASS is unchanged since 20974bf; not re-run.)
# Here: bash scripts/gpu-pack.sh --tgz build-pack; bash scripts/gpu-pack.sh --tgz --trace
# build-trace; run(command="bash docs/kernels/h200/s19-final-run.sh",
# carry=["build-pack", "build-trace"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
TEST_LIMITS="test_kernels:150 test_w4a4_fp8:90" SAN_ONLY="kernels fp8" OUT=$OUT \
  scripts/gpu.sh --prebuilt build-pack test sanitize fp8 fp4 2>&1 | tail -16
B=$(mktemp -d)
tar xzf build-trace/bundle.tgz -C "$B" && chmod +x "$B"/*
echo "=== trace 8192x8192 M = 1, then the row (tma mx = the dispatch's streamed kernel)"
MRGPTQ_WG_TRACE=10 timeout 60 "$B/bench_w4a16_tc" --only 8192x8192 --ms 1 --reps 30 2>&1 |
  grep -E "^trace|^ *[0-9]+x" | sed -n '1,2p;$p' | cut -c1-420
