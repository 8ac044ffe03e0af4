#!/usr/bin/env bash
# Twenty-eighth session, call 3: every GPU test program, whole, on the session's final code
# (calls 1 and 2 ran the tests the changes reach; this adds the streamed kernels' tests, whose
# SASS did not change, and the programmatic-launch chains, which make_tensor_core_weight's new
# scale-range pass precedes).
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s28-run3.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
L=$O/s28-run3-tests.txt
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv
  for t in test_kernels test_w4a4_fp8 test_fp4_linear test_programmatic_launch test_w4a16_tc; do
    timeout 400 "$B/$t"
    echo "$t: exit $?"
  done
  date -u
} >"$L" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]' "$L"
