#!/usr/bin/env bash
# Twenty-fifth session, call 1 (build-pack at this commit). The twenty-fourth session's call 2
# again, whose raw output was lost with that session's machine (every GPU test program, the
# 2000-repeat check in plain launches and programmatic pairs, chains of 8 layers at M = 1, 4, 16,
# 32), then the issue's table (bench_fp4, two rounds) and MXFP4 W4A4 on the FP8 tensor cores
# (bench_w4a4_fp8) at this commit: the first table since ddea052 (nineteenth session), with the
# ring's fence, the early trigger and programmatic launches on by default.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s25-run1.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
date -u; nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv,noheader
OUT=$O timeout 330 bash scripts/gpu.sh --prebuilt build-pack test >"$O/gpu-test.log" 2>&1
tail -6 "$O/gpu-test.log"
grep -hE '^\[ +(FAILED) +\]|Failure$' "$O"/test_*.log | head -20
F='^\[ +(OK|FAILED|PASSED|SKIPPED) +\]|Failure$|repeats wrong|pairs wrong|wrong outputs'
MRGPTQ_REPEATS=2000 timeout 60 "$B/test_w4a16_tc" --gtest_filter='*StreamedKernelStableOverRepeats*' \
  2>&1 | grep -E "$F" | head -12 | tee "$O/repeats.txt"
timeout 60 "$B/bench_w4a16_tc" --chain 8 --ms 1,4,16,32 >"$O/chain.txt" 2>&1
tail -17 "$O/chain.txt" | cut -c1-150
for r in 1 2; do
  timeout 60 "$B/bench_fp4" >"$O/fp4-round$r.txt" 2>&1; echo "bench_fp4 round $r: exit $?"
done
timeout 60 "$B/bench_w4a4_fp8" >"$O/fp8.txt" 2>&1; echo "bench_w4a4_fp8: exit $?"
grep -A40 '^N x K' "$O/fp4-round1.txt" | cut -c1-120 | head -34
