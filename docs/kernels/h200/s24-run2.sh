#!/usr/bin/env bash
# Twenty-fourth session, call 2 (build-pack at this commit: the early trigger in both streamed
# kernels, programmatic launches on by default, the X-staged kernel's late release without the
# proxy fence). Every GPU test program (gpu.sh test), the 2000-repeat check (plain launches and
# programmatic pairs), then chains of 8 layers at M = 1, 4, 16, 32, one process.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s24-run2.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv,noheader
OUT=$O timeout 420 bash scripts/gpu.sh --prebuilt build-pack test >"$O/gpu-test.log" 2>&1
tail -6 "$O/gpu-test.log"
grep -hE '^\[ +(FAILED) +\]|Failure$' "$O"/test_*.log | head -20
F='^\[ +(OK|FAILED|PASSED|SKIPPED) +\]|Failure$|repeats wrong|pairs wrong|wrong outputs'
MRGPTQ_REPEATS=2000 timeout 60 "$B/test_w4a16_tc" --gtest_filter='*StreamedKernelStableOverRepeats*' \
  2>&1 | grep -E "$F" | head -12 | tee "$O/repeats.txt"
timeout 60 "$B/bench_w4a16_tc" --chain 8 --ms 1,4,16,32 2>&1 | tee "$O/chain.txt" | tail -17
