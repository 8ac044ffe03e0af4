#!/usr/bin/env bash
# Twenty-seventh session, call 4, after the review: DispatchExactWhereTheModelChooses now asserts
# the configs the model picks on 132 SMs (22, 11, 17, 16); the expansion kernels moved onto
# shared helpers (piece_raw, nv_multiplier_table; SASS identical, scripts/sass-ops.sh with
# SASS_LIST=1), so their tests once more.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s27-run4.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
{
  date -u
  timeout 120 "$B/test_w4a16_tc" \
    --gtest_filter='*DispatchExactWhereTheModelChooses*:*Dequantized*:*ExtremeScales*'
  echo "test_w4a16_tc: exit $?"
  timeout 60 "$B/test_kernels" --gtest_filter='*W4A16*:*W4A4*' | grep -E '^\[ +(OK|FAILED|PASSED)'
  echo "test_kernels: exit ${PIPESTATUS[0]}"
  date -u
} 2>&1 | tee "$O/checks.txt"
