#!/usr/bin/env bash
# Twenty-second session, call 4 (build-pack from dc678d2). Two questions the notes answer by
# reading numbers only:
# (1) "At M >= 1024 the warpgroup kernel stays 0.96-1.01x of cuBLAS because its clocks run lower:
#     the decode spends power" (fifteenth/sixteenth sessions; clocks were never logged). Here
#     nvidia-smi logs the SM clock and the power every 20 ms while bench_w4a16_tc --wg --ab 6
#     times cuBLAS BF16 (300 calls, ~0.8 s) and then config 6 (300 calls), twice in a row.
# (2) M = 256 on 8192x8192 (0.89x, config 8): ncu with free clocks on the first launches of
#     cuBLAS's kernel and ours: duration, SM clock, tensor pipe, issue, DRAM, L2.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s22-run4.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
nvidia-smi --query-gpu=name,power.limit,clocks.max.sm --format=csv,noheader | tee "$O/clocks.txt"
PW=power.draw.instant
nvidia-smi --query-gpu=$PW --format=csv,noheader >/dev/null 2>&1 || PW=power.draw
for shape in "8192x8192 16384" "28672x8192 4096"; do
  set -- $shape
  nvidia-smi --query-gpu=timestamp,clocks.sm,$PW,temperature.gpu --format=csv,noheader \
    -lms 20 >"$O/smi-$1-$2.csv" 2>&1 &
  P=$!
  sleep 0.5
  for r in 1 2; do
    echo "=== $1 M=$2 round $r start $(date +%H:%M:%S.%N)" | tee -a "$O/clocks.txt"
    "$B/bench_w4a16_tc" --wg --ab 6 --only "$1" --ms "$2" --reps 300 2>&1 | grep -E '^ *[0-9]+x' |
      tee -a "$O/clocks.txt"
    echo "=== end $(date +%H:%M:%S.%N)" | tee -a "$O/clocks.txt"
  done
  sleep 0.5
  kill $P
  # The log's plateaus: SM clock and power, 0.2-s means (the phases: set-up, cuBLAS, config 6).
  awk -F', ' '{split($1, t, " "); split(t[2], h, ":"); s = h[1] * 3600 + h[2] * 60 + h[3]
               b = int(s * 5); c[b] += $2; p[b] += $3; n[b]++}
              END {for (b in n) printf "%.1f %6.0f MHz %6.1f W\n", b / 5, c[b] / n[b], p[b] / n[b]}' \
    "$O/smi-$1-$2.csv" | sort -n | tee -a "$O/clocks.txt"
done
M='gpu__time_duration.sum,smsp__cycles_elapsed.avg.per_second,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,smsp__issue_active.avg.pct_of_peak_sustained_active,dram__throughput.avg.pct_of_peak_sustained_elapsed,lts__t_bytes.sum.per_second,sm__throughput.avg.pct_of_peak_sustained_elapsed'
timeout 200 ncu --clock-control none -k 'regex:nvjet|xmma|gemm|cutlass|w4a16_wgmma' -c 24 --metrics "$M" \
  "$B/bench_w4a16_tc" --wg --cfg 8 --only 8192x8192 --ms 256 --reps 2 >"$O/ncu-m256.txt" 2>&1
grep -E '^  [^ ]|^    [a-z]' "$O/ncu-m256.txt" | cut -c1-150 | awk '/^  [^ ]/ {n++} n <= 24' | head -200
