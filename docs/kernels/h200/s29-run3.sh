#!/usr/bin/env bash
# Twenty-ninth session, call 3: kernel 1 programmatic only up to kActivationPdlMaxValues (four
# CTAs), the kept form.
#  1. Every GPU test program, whole (test_programmatic_launch's two new tests now with only
#     programmatic kernel 1 cases, and M = 8 added to the W4A4 chains).
#  2. Decode chains and single layers of W4A4 layers, three builds of bench_w4a16_tc differing
#     only in src/kernels/act_quant.cu, in alternating processes (ab_rounds, two rounds):
#       kept  = build-pack (this commit);
#       early = build-old/bench_w4a16_tc_k1early: act_quant.cu at 74e7993 (programmatic at
#               every size);
#       plain = build-old/bench_w4a16_tc_k1plain: act_quant.cu at 003f8a2 (never).
# Here: bash scripts/gpu-pack.sh --tgz build-pack; scripts/bench-variant.sh --file
#   src/kernels/act_quant.cu --bin bench_w4a16_tc 74e7993 k1early; ... 003f8a2 k1plain;
#   run(command="bash docs/kernels/h200/s29-run3.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
L=$O/s29-run3-log.txt
{
  date -u
  nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv
  for t in test_programmatic_launch test_kernels test_fp4_linear test_w4a4_fp8 test_w4a16_tc; do
    timeout 300 "$B/$t"
    echo "$t: exit $?"
  done
  date -u
} >"$L" 2>&1
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|exit [0-9]' "$L"
{
  date -u
  for c in 8 1; do
    echo "##### --chain $c --w4a4"
    ab_rounds 2 --chain "$c" --w4a4 --ms 1,2,4,8,16,32 -- kept="$B/bench_w4a16_tc" \
      early=build-old/bench_w4a16_tc_k1early plain=build-old/bench_w4a16_tc_k1plain
  done
  date -u
} >"$O/s29-run3-ab.txt" 2>&1
grep -cE "^exit 0" "$O/s29-run3-ab.txt"
