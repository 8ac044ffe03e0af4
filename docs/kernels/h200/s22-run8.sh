#!/usr/bin/env bash
# Twenty-second session, call 8 (build-packtf: dc678d2 plus wg-tf2-experiment.patch). Why did two
# transform warpgroups not halve the one-warpgroup form's chunk time (call 7: ~2090 cycles a chunk
# against 2490)? ncu on config 66 (128 x 128, K whole, a transform warpgroup per consumer
# position) at M = 256 on 8192x8192, its first launch: the metric set of gpu.sh's profile stage
# plus shared-memory bank conflicts, then per-SASS stall samples (ncu_source_summary.py).
# Here: git apply docs/kernels/h200/wg-tf2-experiment.patch; bash scripts/gpu-pack.sh --tgz
#   build-packtf; run(command="bash docs/kernels/h200/s22-run8.sh", carry=["build-packtf"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-packtf/bundle.tgz -C "$B" && chmod +x "$B"/*
M=gpu__time_duration.sum,smsp__cycles_elapsed.avg.per_second,\
sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,\
smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__warps_active.avg.per_cycle_active,\
l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum,\
l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum,\
l1tex__throughput.avg.pct_of_peak_sustained_active,smsp__inst_executed.sum
timeout 80 ncu --clock-control none -k regex:w4a16_wgmma_kernel -c 1 --metrics "$M" \
  "$B/bench_w4a16_tc" --wg --cfg 66 --only 8192x8192 --ms 256 --reps 1 2>&1 |
  grep -E '^  [^ ]|^    [a-z]' | cut -c1-150 | tee "$O/ncu-tf.txt"
timeout 110 ncu --clock-control none -k regex:w4a16_wgmma_kernel -c 1 --section SourceCounters \
  --metrics smsp__inst_executed.sum --page source --print-source sass --csv \
  "$B/bench_w4a16_tc" --wg --cfg 66 --only 8192x8192 --ms 256 --reps 1 >"$O/ncu-src-tf66.csv" 2>&1
gzip -9 "$O/ncu-src-tf66.csv"
python3 scripts/ncu_source_summary.py "$O/ncu-src-tf66.csv.gz" --loop 5000 --top 16 2>&1 | tee "$O/ncu-src-tf66.txt"
