#!/usr/bin/env bash
# Twenty-sixth session, call 1: what session 25 left open after box_rows (bfb5661).
#  1. compute-sanitizer memcheck of the W4A16 tests (gpu.sh sanitize, SAN_ONLY=w4a16): box_rows
#     was never run under memcheck.
#  2. The "never slower" sweep (bench_w4a16_tc --dispatch: cuBLAS BF16 vs the w4a16_gemm
#     dispatch, call for call, M = 1-1024 on a fine grid) as an A/B in alternating processes:
#     w4a16_wgmma.cu before box_rows (bfb5661^, build-old/bench_w4a16_tc_prebox) and now. The
#     larger tiles (BN 128-256) get the smaller box at M = 65-255 too and were never timed.
#  3. Fp4Linear's crossover (bench_w4a4_fp8 --linear --ms ...), twice: kFp8MinM = 33 was chosen
#     before box_rows sped the BF16 path's W4A16 kernel up at M = 33-39.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   scripts/bench-variant.sh --file src/kernels/w4a16_wgmma.cu --bin bench_w4a16_tc bfb5661^ prebox
#   run(command="bash docs/kernels/h200/s26-run1.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
date -u
OUT=$O/san SAN_ONLY=w4a16 timeout 300 bash scripts/gpu.sh --prebuilt build-pack sanitize \
  >"$O/sanitize.log" 2>&1
echo "gpu.sh sanitize (w4a16): exit $?"; tail -2 "$O/sanitize.log"
grep -hE 'ERROR SUMMARY|^\[ +(PASSED|FAILED) +\]' "$O"/san/sanitizer_*.log | head -6
date -u
OUT=$O/ab AB_BINS="old=build-old/bench_w4a16_tc_prebox new=@/bench_w4a16_tc" \
  AB_ARGS="--dispatch" AB_ROUNDS=2 timeout 330 bash scripts/gpu.sh --prebuilt build-pack ab \
  >"$O/ab.log" 2>&1
echo "gpu.sh ab: exit $?"; tail -2 "$O/ab.log"
# The table's rows where a side is slower than cuBLAS, and new over old per row.
grep -c '<' "$O/ab/ab-table.txt"
date -u
for r in 1 2; do
  timeout 120 "$B/bench_w4a4_fp8" --linear --ms 16,32,33,40,48,56,63,64,80,96,128 \
    >"$O/linear-round$r.txt" 2>&1
  echo "linear round $r: exit $?"
done
grep -h '<-' "$O"/linear-round*.txt
date -u
