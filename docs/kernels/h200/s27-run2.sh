#!/usr/bin/env bash
# Twenty-seventh session, call 2, on the build with the faster expansion of both weight forms
# (the row-major one's rewritten too: the same decode helpers) and the --dispatch column "the
# path the dispatch does not take".
#  1. test_kernels (its W4A16 / W4A4 cases on the row-major weight expand it) and the expansion
#     test; compute-sanitizer memcheck of the expansion test and of test_kernels' re-laid-out
#     cases.
#  2. Above M = 4096: w4a16_gemm (dequantize + cuBLAS there) against the warpgroup kernel, call
#     for call, two rounds: is kW4a16WgmmaMaxM = 4096 still the crossover?
#  3. gpu.sh's new expand stage; the row-major expansion old (gemm.cu at ae955a7,
#     build-old/bench_w4a16_tc_rm-old) against new, bench_w4a16_tc --expand, two rounds in
#     alternating processes; the issue's table (bench_fp4), one round.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   scripts/bench-variant.sh --file src/kernels/gemm.cu --bin bench_w4a16_tc ae955a7 rm-old
#   run(command="bash docs/kernels/h200/s27-run2.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
date -u
timeout 120 "$B/test_kernels" >"$O/test-kernels.txt" 2>&1
echo "test_kernels: exit $?"; grep -hE '^\[ +(FAILED|PASSED) +\]|Failure' "$O/test-kernels.txt" | head
timeout 90 "$B/test_w4a16_tc" --gtest_filter='*Dequantized*:*ExtremeScales*' >"$O/test-expand.txt" 2>&1
echo "expansion test: exit $?"; grep -hE '^\[ +(FAILED|PASSED) +\]|Failure|differ|unwritten' "$O/test-expand.txt" | head
timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_w4a16_tc" \
  --gtest_filter='*Dequantized*' >"$O/memcheck-expand.txt" 2>&1
echo "memcheck expansion test: exit $?"; grep -hE 'ERROR SUMMARY|^\[ +(PASSED|FAILED)' "$O/memcheck-expand.txt"
timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 "$B/test_kernels" \
  --gtest_filter='*ReLaidOut*' >"$O/memcheck-kernels-relaid.txt" 2>&1
echo "memcheck test_kernels re-laid-out: exit $?"; grep -hE 'ERROR SUMMARY|^\[ +(PASSED|FAILED)' "$O/memcheck-kernels-relaid.txt"
date -u
for r in 1 2; do
  timeout 100 "$B/bench_w4a16_tc" --dispatch --ms 4096,5120,6144,8192,12288,16384 \
    >"$O/dispatch-large-round$r.txt" 2>&1
  echo "dispatch large round $r: exit $?"
done
tail -n +4 "$O"/dispatch-large-round*.txt
date -u
OUT=$O/gpu timeout 60 bash scripts/gpu.sh --prebuilt build-pack expand >"$O/gpu-expand.log" 2>&1
echo "gpu.sh expand: exit $?"; sed -n '/== summary/,$p' "$O/gpu-expand.log"; cat "$O/gpu/bench_w4a16_expand.txt"
for r in 1 2; do
  timeout 60 build-old/bench_w4a16_tc_rm-old --expand >"$O/expand-rm-old-round$r.txt" 2>&1
  echo "rm old round $r: exit $?"
  timeout 60 "$B/bench_w4a16_tc" --expand >"$O/expand-rm-new-round$r.txt" 2>&1
  echo "rm new round $r: exit $?"
done
tail -n +4 "$O"/expand-rm-*-round*.txt
date -u
timeout 100 "$B/bench_fp4" >"$O/fp4.txt" 2>&1
echo "bench_fp4: exit $?"; tail -40 "$O/fp4.txt"
date -u
