#!/usr/bin/env bash
# Twenty-seventh session, call 1.
#  1. The GPU tests session 26 left unrun or that changed: test_w4a16_tc's
#     DispatchExactWhereTheModelChooses (the cost model's configs 22 / 11 / 17 / 16 through the
#     dispatch), the dispatch crossovers, the expansion (rewritten: one chunk of 64 rows a block,
#     BF16-pair decode) at tiles 1 / 2 / 4 with extreme scales; test_fp4_linear (the wrong-scale
#     layer must still hold the FP8 weight).
#  2. The expansion alone, old kernel (HEAD's w4a16_tc.cu, build-old/bench_w4a16_tc_expand-old)
#     against new, bench_w4a16_tc --expand in alternating processes, two rounds each.
#  3. Where dequantize + cuBLAS now wins over the warpgroup kernel: --dispatch at M = 2048-16384.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin bench_w4a16_tc HEAD expand-old
#   run(command="bash docs/kernels/h200/s27-run1.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
date -u
timeout 200 "$B/test_w4a16_tc" \
  --gtest_filter='*DispatchExactWhereTheModelChooses*:*GemmDispatch*:*DequantizedReLaidOut*' \
  >"$O/test-w4a16.txt" 2>&1
echo "test_w4a16_tc (filtered): exit $?"; grep -hE '^\[ +(OK|FAILED|PASSED) +\]|Failure|differ|unwritten' "$O/test-w4a16.txt" | head -20
timeout 150 "$B/test_fp4_linear" >"$O/test-fp4-linear.txt" 2>&1
echo "test_fp4_linear: exit $?"; grep -hE '^\[ +(OK|FAILED|PASSED) +\]|Failure|wrong-scale' "$O/test-fp4-linear.txt" | head -12
date -u
for r in 1 2; do
  timeout 60 build-old/bench_w4a16_tc_expand-old --expand >"$O/expand-old-round$r.txt" 2>&1
  echo "old round $r: exit $?"
  timeout 60 "$B/bench_w4a16_tc" --expand >"$O/expand-new-round$r.txt" 2>&1
  echo "new round $r: exit $?"
done
tail -n +3 "$O"/expand-*-round*.txt
date -u
timeout 150 "$B/bench_w4a16_tc" --dispatch --ms 2048,3072,4096,4097,6144,8192,16384 \
  >"$O/dispatch-large.txt" 2>&1
echo "dispatch large M: exit $?"; cat "$O/dispatch-large.txt"
date -u
# The warpgroup kernel above 4096, where the dispatch takes dequantize + cuBLAS.
timeout 120 "$B/bench_w4a16_tc" --wg --ab -1 --ms 6144,8192,16384 >"$O/wg-large.txt" 2>&1
echo "wg large M: exit $?"; cat "$O/wg-large.txt"
date -u
