#!/usr/bin/env bash
# Twenty-seventh session, call 3: call 2's test and memcheck logs did not come back (a device call
# returns a limited number of files), so the checks again, all into one file, on the same build
# (7692e62): every GPU test program (gpu.sh test), then compute-sanitizer memcheck of the
# expansion test (both expansion kernels, tiles 1 / 2 / 4, extreme scales) and of test_kernels'
# re-laid-out cases.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s27-run3.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
L=$(mktemp -d)
{
  date -u
  OUT=$L/gpu timeout 400 bash scripts/gpu.sh --prebuilt build-pack test >"$L/test.log" 2>&1
  echo "gpu.sh test: exit $?"; sed -n '/== summary/,$p' "$L/test.log"
  grep -hE '^\[ +(OK|FAILED|PASSED) +\]|Failure$' "$L"/gpu/test_*.log
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
