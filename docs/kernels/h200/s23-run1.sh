#!/usr/bin/env bash
# Twenty-third session, call 1 (build-packtfd: 4051e05 plus wg-tfd-experiment.patch). The
# twenty-second session's two-transform-warpgroup form (configs 64 / 66) kept the decoded A tiles
# in the stages, so a stage was held by three phases (load, decode, multiply) in a 3-slot ring,
# and its transform warps ran at 56 registers. Configs 70-74: the A tiles in a ring of their own
# (3 or 2 slots), the stages holding only the activation box and the weight bytes, no producer
# warpgroup (consumer thread 128 refills each stage: 512 threads, 128 registers at launch, so
# n = 160 compiles), the transform warps at 104 registers. 70: 128 x 128 tile, 3 A slots;
# 72: the same, 2; 71: 128 x 160, 2; 73 / 74: 70 / 71 with K split over a cluster of 2.
# Tests with them in the every-config lists, then against the automatic config and config 66,
# call for call, two rounds; then ncu on config 70 at M = 256 on 8192x8192.
# Here: git apply docs/kernels/h200/wg-tfd-experiment.patch; bash scripts/gpu-pack.sh --tgz
#   build-packtfd; run(command="bash docs/kernels/h200/s23-run1.sh", carry=["build-packtfd"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-packtfd/bundle.tgz -C "$B" && chmod +x "$B"/*
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv | tee "$O/gpu.txt"
echo "=== tests" | tee "$O/tests.txt"
timeout 90 "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaEveryConfigSmall*:*WgmmaTmaConfigsAtBoxEdges*:*BadArgumentsGiveClearErrors*' 2>&1 |
  grep -E '^\[ +(OK|FAILED|PASSED) +\]|Failure$|Which is|cfg|config|rror' | head -40 | tee -a "$O/tests.txt"
for r in 1 2; do
  echo "=== round $r: bench_w4a16_tc --wg --ab -1,66,70,72,71,73,74 --ms 128,256,320,512,1024" | tee -a "$O/ab.txt"
  timeout 120 "$B/bench_w4a16_tc" --wg --ab -1,66,70,72,71,73,74 --ms 128,256,320,512,1024 2>&1 |
    grep -E '^ *[0-9]+x|rror' | tee -a "$O/ab.txt"
done
M=gpu__time_duration.sum,smsp__cycles_elapsed.avg.per_second,\
sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,\
smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__warps_active.avg.per_cycle_active,\
l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum,smsp__inst_executed.sum
timeout 60 ncu --clock-control none -k regex:w4a16_wgmma_kernel -c 1 --metrics "$M" \
  "$B/bench_w4a16_tc" --wg --cfg 70 --only 8192x8192 --ms 256 --reps 1 2>&1 |
  grep -E '^  [^ ]|^    [a-z]' | cut -c1-150 | tee "$O/ncu-tfd.txt"
timeout 100 ncu --clock-control none -k regex:w4a16_wgmma_kernel -c 1 --section SourceCounters \
  --metrics smsp__inst_executed.sum --page source --print-source sass --csv \
  "$B/bench_w4a16_tc" --wg --cfg 70 --only 8192x8192 --ms 256 --reps 1 >"$O/ncu-src-tfd70.csv" 2>&1
gzip -9 "$O/ncu-src-tfd70.csv"
python3 scripts/ncu_source_summary.py "$O/ncu-src-tfd70.csv.gz" --loop 5000 --top 16 2>&1 | tee "$O/ncu-src-tfd70.txt"
