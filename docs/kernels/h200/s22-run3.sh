#!/usr/bin/env bash
# Twenty-second session, call 3 (build-pack from dc678d2; build-old from bench-variant.sh on
# dc678d2's w4a16_tc.cu). The first stage alone: the producer issues only the first stage(s),
# waits until the first has landed, then issues the rest of the ring. Every CTA asks for its whole
# ring at once (28672x8192 M = 16: 5 stages x 40 KB x 128 CTAs = 25.6 MB) and computes nothing
# until its first stage is whole; served interleaved, that first stage lands near the end of the
# whole batch. first1 = first-stage-alone-experiment.patch (w4a16_stream and w4a16_stream_xs),
# first2 = first-two-stages-experiment.patch (two stages, then the rest).
# Tests of first1 (the streamed kernels' float64 checks), then an A/B at M = 1, 4, 9, 16 on the
# four shapes in alternating processes, three rounds.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; bash scripts/bench-variant.sh --file
#   src/kernels/w4a16_tc.cu --bin bench_w4a16_tc HEAD first1 docs/kernels/h200/first-stage-alone-experiment.patch
#   (and --bin test_w4a16_tc; first2 likewise from first-two-stages-experiment.patch);
#   run(command="bash docs/kernels/h200/s22-run3.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
echo "=== tests: first1" | tee "$O/tests.txt"
timeout 240 build-old/test_w4a16_tc_first1 \
  --gtest_filter='*StreamedKernelMatchesFloat64AtOddSizes*:*StreamedWideCtas*:*StreamedSubCtas*:*StreamedDecodesSmall*' 2>&1 |
  grep -E '^\[ +(OK|FAILED|PASSED) +\]|Failure$|Which is|N=' | head -30 | tee -a "$O/tests.txt"
AB_BINS="head=@/bench_w4a16_tc first1=build-old/bench_w4a16_tc_first1 first2=build-old/bench_w4a16_tc_first2" \
  AB_ARGS="--ms 1,4,9,16" AB_ROUNDS=3 OUT=$O timeout 300 scripts/gpu.sh --prebuilt build-pack ab 2>&1 | tail -2
awk '/^=== round/ {side=$4; sub(":","",side); r=$3; sub(":","",r)} $1 ~ /^[0-9]+x[0-9]+$/ && NF > 30 {
  printf "%-7s r%s %-11s M=%-3s bf16 %6.1f  tma mx %6.1f  gemm mx %6.1f  gemm nv %6.1f\n", side, r, $1, $2, $3, $5, $33, $36}' \
  "$O/ab.txt" | sort -k3,3 -k4,4 -k1,1 -k2,2 | tee "$O/ab-table.txt"
