#!/usr/bin/env bash
# Twenty-third session, call 2 (build-packtfd: 4051e05 plus wg-tfd-experiment.patch, second
# form). Call 1's configs 70-74 (the A tiles in a ring of their own) were slower than config 66:
# ncu on config 70 put half the stall samples on ring waits, tensor pipe 44%. Its stages still
# held the weight bytes with the activation box, so a transform warp could decode chunk c + 2 only
# once the consumers had released chunk c - 1 and the refill had landed. Configs 75-79: the
# weight bytes in a third ring (SW slots, filled by transform thread 0, released by the transform
# warps), MXFP4 folded, the stmatrix offsets computed once. 75: 128 x 128, 3 stages, 2 A slots, 6
# W slots; 76: 128 x 160, 3 / 2 / 4; 77: 128 x 160, 2 / 2 / 8; 78: 128 x 192, 2 / 2 / 5;
# 79: 76 with K split over a cluster of 2. Tests with them in the every-config lists, then
# against the automatic config and configs 70 / 71, call for call, two rounds; ncu on 75 and 76.
# Here: git apply docs/kernels/h200/wg-tfd-experiment.patch; bash scripts/gpu-pack.sh --tgz
#   build-packtfd; run(command="bash docs/kernels/h200/s23-run2.sh", carry=["build-packtfd"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-packtfd/bundle.tgz -C "$B" && chmod +x "$B"/*
echo "=== tests" | tee "$O/tests.txt"
timeout 90 "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaEveryConfigSmall*:*WgmmaTmaConfigsAtBoxEdges*:*BadArgumentsGiveClearErrors*' 2>&1 |
  grep -E '^\[ +(OK|FAILED|PASSED) +\]|Failure$|Which is|cfg|config|rror' | head -40 | tee -a "$O/tests.txt"
for r in 1 2; do
  echo "=== round $r: bench_w4a16_tc --wg --ab -1,70,71,75,76,77,78,79 --ms 128,256,320,384,512,1024" | tee -a "$O/ab.txt"
  timeout 150 "$B/bench_w4a16_tc" --wg --ab -1,70,71,75,76,77,78,79 --ms 128,256,320,384,512,1024 2>&1 |
    grep -E '^ *[0-9]+x|rror' | tee -a "$O/ab.txt"
done
M=gpu__time_duration.sum,smsp__cycles_elapsed.avg.per_second,\
sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,\
smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__warps_active.avg.per_cycle_active,\
l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum,smsp__inst_executed.sum
for cm in 75:256 76:320; do
  c=${cm%:*} m=${cm#*:}
  echo "=== ncu config $c, 8192x8192, M = $m" | tee -a "$O/ncu-tfd.txt"
  timeout 60 ncu --clock-control none -k regex:w4a16_wgmma_kernel -c 1 --metrics "$M" \
    "$B/bench_w4a16_tc" --wg --cfg $c --only 8192x8192 --ms $m --reps 1 2>&1 |
    grep -E '^  [^ ]|^    [a-z]' | cut -c1-150 | tee -a "$O/ncu-tfd.txt"
  timeout 100 ncu --clock-control none -k regex:w4a16_wgmma_kernel -c 1 --section SourceCounters \
    --metrics smsp__inst_executed.sum --page source --print-source sass --csv \
    "$B/bench_w4a16_tc" --wg --cfg $c --only 8192x8192 --ms $m --reps 1 >"$O/ncu-src-tfd$c.csv" 2>&1
  gzip -9 "$O/ncu-src-tfd$c.csv"
  python3 scripts/ncu_source_summary.py "$O/ncu-src-tfd$c.csv.gz" --loop 5000 --top 12 2>&1 | tee "$O/ncu-src-tfd$c.txt"
done
