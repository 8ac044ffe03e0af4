#!/usr/bin/env bash
# Twenty-eighth session, call 2: kernel 1 writes only the BF16 values where the W4A4 layers ask
# for nothing else (no codes and scales), and the final build's records.
#  1. test_kernels (the BF16-only output against the one written beside the codes, the W4A4
#     layers), test_fp4_linear, test_w4a4_fp8; compute-sanitizer memcheck of the quantizer and
#     W4A4 tests.
#  2. The issue's table (bench_fp4: its quantizer section times "+ BF16 out" and "BF16 out only"
#     in turn), one round; gpu.sh's sweep stage (the "never slower" count on the final build).
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s28-run2.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
L=$O/s28-run2-log.txt
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv
  timeout 60 "$B/test_kernels"; echo "test_kernels: exit $?"
  timeout 60 "$B/test_fp4_linear"; echo "test_fp4_linear: exit $?"
  timeout 60 "$B/test_w4a4_fp8"; echo "test_w4a4_fp8: exit $?"
  timeout 120 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_kernels" \
    --gtest_filter='*ActivationQuantizerCodesEqualTheCpuReference:*W4A4*'
  echo "memcheck test_kernels quantizer and W4A4: exit $?"
  date -u
} >"$L" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]|ERROR SUMMARY' "$L"
{
  date -u
  echo "=== bench_fp4"
  timeout 150 "$B/bench_fp4"; echo "exit $?"
  date -u
  echo "=== gpu.sh sweep"
  OUT=$O/gpu timeout 150 bash scripts/gpu.sh --prebuilt build-pack sweep; echo "exit $?"
  cat "$O/gpu/bench_w4a16_dispatch.txt"
  date -u
} >"$O/s28-run2-bench.txt" 2>&1
rm -rf "$O/gpu"
grep -E "^=== |exit |sweep:" "$O/s28-run2-bench.txt"
