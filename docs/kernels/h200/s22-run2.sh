#!/usr/bin/env bash
# Twenty-second session, call 2 (build-pack from dc678d2; build-old from bench-variant.sh).
# (1) The probe again (call 1's output was cut from the returned tail), its output under $OUT.
# (2) More consumer warps in the X-staged kernel at NT = 2 (M = 9-16), call 1's ncu reading being
#     ~4 warps a scheduler at 57-60% issue (wait and math-pipe-throttle stalls):
#     xs-wide-experiment.patch (wide): 64-row CTAs 16 -> 18 consumer warps (2 stages of 76 KB, 93
#     registers), 224-row CTAs 14 -> 21 (3 stages of 58 KB, 80 registers, 24 bytes of stack);
#     wide10: the same but 20 warps in 64-row CTAs (80 registers, 24 bytes of stack).
#     Tests of each variant's forms (StreamedWideCtas, StreamedSubCtas), then an A/B at M = 9, 12,
#     16 on the four shapes in alternating processes, three rounds.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; bash scripts/bench-variant.sh --file
#   src/kernels/w4a16_tc.cu --bin bench_w4a16_tc HEAD wide docs/kernels/h200/xs-wide-experiment.patch
#   (and --bin test_w4a16_tc; wide10 likewise from xs-wide10-experiment.patch);
#   run(command="bash docs/kernels/h200/s22-run2.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
echo "=== probe_preexit" | tee "$O/probe.txt"
timeout 240 "$B/probe_preexit" --launches 20000 --rounds 2 2>&1 | tee -a "$O/probe.txt"
echo "probe rc=${PIPESTATUS[0]}" | tee -a "$O/probe.txt"
for v in wide wide10; do
  echo "=== tests: $v" | tee -a "$O/tests.txt"
  timeout 200 "build-old/test_w4a16_tc_$v" --gtest_filter='*StreamedWideCtas*:*StreamedSubCtas*' 2>&1 |
    grep -E '^\[ +(OK|FAILED|PASSED) +\]|Failure$|Which is|N=' | head -30 | tee -a "$O/tests.txt"
done
AB_BINS="head=@/bench_w4a16_tc wide=build-old/bench_w4a16_tc_wide wide10=build-old/bench_w4a16_tc_wide10" \
  AB_ARGS="--ms 9,12,16" AB_ROUNDS=3 OUT=$O timeout 420 scripts/gpu.sh --prebuilt build-pack ab 2>&1 | tail -2
# The table: per side and round, tma mx ($5) and gemm mx / gemm nv ($33 / $36) us.
awk '/^=== round/ {side=$4; sub(":","",side); r=$3; sub(":","",r)} $1 ~ /^[0-9]+x[0-9]+$/ && NF > 30 {
  printf "%-7s r%s %-11s M=%-3s bf16 %6.1f  tma mx %6.1f  gemm mx %6.1f  gemm nv %6.1f\n", side, r, $1, $2, $3, $5, $33, $36}' \
  "$O/ab.txt" | sort -k3,3 -k4,4 -k1,1 -k2,2 | tee "$O/ab-table.txt"
