#!/usr/bin/env bash
# Twenty-seventh session, call 3: call 2's test and memcheck logs did not come back (a device call
# returns a limited number of files), so the checks again, all into one file, on the same build
# (7692e62): the test programs that reach the expansions, then compute-sanitizer memcheck of the
# expansion test (both expansion kernels, tiles 1 / 2 / 4, extreme scales) and of test_kernels'
# re-laid-out cases.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s27-run3.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
L=$(mktemp -d)
{
  date -u
  # The test programs that reach either expansion: test_kernels (W4A16 / W4A4 on both weight
  # forms), test_fp4_linear (M = 4100), test_w4a16_tc's expansion, extreme-scale and dispatch
  # tests (its M > 4096 cases). The wgmma configs' own tests ran in session 26 on unchanged code.
  timeout 100 "$B/test_kernels" >"$L/t1.txt" 2>&1; echo "test_kernels: exit $?"
  timeout 100 "$B/test_fp4_linear" >"$L/t2.txt" 2>&1; echo "test_fp4_linear: exit $?"
  timeout 150 "$B/test_w4a16_tc" --gtest_filter='*Dequantized*:*ExtremeScales*:*Dispatch*' \
    >"$L/t3.txt" 2>&1
  echo "test_w4a16_tc (expansion, extreme scales, dispatch): exit $?"
  grep -hE '^\[ +(OK|FAILED|PASSED) +\]|Failure$|differ|unwritten' "$L"/t?.txt
  date -u
  timeout 80 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_w4a16_tc" \
    --gtest_filter='*Dequantized*' >"$L/memcheck-expand.txt" 2>&1
  echo "memcheck expansion test: exit $?"
  grep -hE 'ERROR SUMMARY|^\[ +(OK|PASSED|FAILED)' "$L/memcheck-expand.txt"
  timeout 80 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_kernels" \
    --gtest_filter='*ReLaidOut*' >"$L/memcheck-kernels.txt" 2>&1
  echo "memcheck test_kernels re-laid-out: exit $?"
  grep -hE 'ERROR SUMMARY|^\[ +(OK|PASSED|FAILED)' "$L/memcheck-kernels.txt"
  date -u
} 2>&1 | tee "$O/checks.txt"
