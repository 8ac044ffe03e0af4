#!/usr/bin/env bash
# Written in the twentieth session for the next one (not run: the session's device time ran out).
# Run in the twenty-first session, inside s21-run1.sh: output in s21-run1.txt.
# The twentieth session's call 4 (s20-flake.txt) had StreamedKernelMatchesFloat64AtOddSizes
# failing in 11 of 12 repeats on the build whose kernels executed griddepcontrol.launch_dependents
# / .wait in plain launches (with bulk copies in flight), 0 of 12 on a221e7c's kernels. Since
# then the kernels execute them only in programmatic launches (a kernel argument), the wait first
# (before any copy) and the trigger after the main loop. To check, in one call:
# 1. that test, eight repeats (plain launches: must pass every time, as a221e7c's kernels did);
# 2. test_programmatic_launch (the conservative form, now with M = 100);
# 3. the chains of 8 layers (plain against programmatic, this form: the twentieth session's
#    figures, s20-final.txt, were of the earlier form);
# 4. the whole test_w4a16_tc once.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s21-pdl-check-run.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
out=$(timeout 120 "$B/test_w4a16_tc" --gtest_filter='*StreamedKernelMatchesFloat64AtOddSizes*' --gtest_repeat=8 2>&1)
echo "plain launches: $(grep -c '^\[       OK \]' <<<"$out") passed, $(grep -c '^\[  FAILED  \] GpuTc.*ms)' <<<"$out") failed"
grep -A2 "Failure" <<<"$out" | grep -E "actual|tiles" | head -6
timeout 60 "$B/test_programmatic_launch" 2>&1 | grep -E "^\[  (PASSED|FAILED) |OK \]|FAILED \]|Failure|Which is" | head -12
timeout 120 "$B/bench_w4a16_tc" --chain 8 --ms 1,4,16,32 2>&1 | tee "$O/chain.txt"
TEST_LIMITS="test_w4a16_tc:300" OUT=$O scripts/gpu.sh --prebuilt build-pack test 2>&1 | tail -3
