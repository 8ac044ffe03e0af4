#!/usr/bin/env bash
# Twentieth session, call 3: the adopted form (trigger after the first issues; one-wave grids of
# the 3-slot w4a16_stream held to two CTAs an SM; the experiment switches gone). Every GPU test
# program (gpu.sh test), then the chains of 8 layers at M = 1, 4, 16, 32 on the four layer
# shapes, then memcheck on the programmatic-launch tests (not the probe: the sanitizer serialises
# kernels, which shuts the window it checks).
# This form is 06b0bbe's (since changed, see s20-flake.txt): git checkout 06b0bbe first.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s20-final-run.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
OUT=$O scripts/gpu.sh --prebuilt build-pack test 2>&1 | tail -6
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
echo "=== chains of 8 layers (us per layer)"
timeout 120 "$B/bench_w4a16_tc" --chain 8 --ms 1,4,16,32 2>&1 | tee "$O/chain.txt"
if command -v compute-sanitizer >/dev/null; then
  echo "=== memcheck, programmatic launches"
  timeout 100 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_programmatic_launch" \
    --gtest_filter='*StreamedKernelsWait*:*Chains*' 2>&1 | grep -E "ERROR SUMMARY|PASSED|FAILED" | head -5
fi
