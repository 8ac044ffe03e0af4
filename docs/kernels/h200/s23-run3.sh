#!/usr/bin/env bash
# Twenty-third session, call 3 (build-packtfd: 4051e05 plus wg-tfd-experiment.patch, third form).
# Call 2's configs 75-79 (the weight bytes in a ring of their own) were slower again; ncu on 76
# (128 x 160, 2 A slots) had the consumers waiting for the decoded tiles 57% of their samples and
# the transform warps waiting for a free A slot 44% of theirs: with two A slots the decode of chunk
# c + 1 starts only once chunk c - 1's wgmmas are done, so decode and multiply alternate instead
# of overlapping. Configs 80-82: three A slots. 80: 128 x 128, 3 stages, 3 A slots, 2 W slots;
# 81: 128 x 160, 2 / 3 / 4; 82: 128 x 192, 2 / 3 / 3. Tests, then against the automatic config
# and config 76, call for call, two rounds; then ncu on 82 at M = 384.
# Here: git apply docs/kernels/h200/wg-tfd-experiment.patch; bash scripts/gpu-pack.sh --tgz
#   build-packtfd; run(command="bash docs/kernels/h200/s23-run3.sh", carry=["build-packtfd"])
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
  echo "=== round $r: bench_w4a16_tc --wg --ab -1,76,80,81,82 --ms 256,320,384,512" | tee -a "$O/ab.txt"
  timeout 120 "$B/bench_w4a16_tc" --wg --ab -1,76,80,81,82 --ms 256,320,384,512 2>&1 |
    grep -E '^ *[0-9]+x|rror' | tee -a "$O/ab.txt"
done
M=gpu__time_duration.sum,smsp__cycles_elapsed.avg.per_second,\
sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,\
smsp__issue_active.avg.pct_of_peak_sustained_active,smsp__warps_active.avg.per_cycle_active,\
smsp__inst_executed.sum
echo "=== ncu config 82, 8192x8192, M = 384" | tee -a "$O/ncu-tfd.txt"
timeout 60 ncu --clock-control none -k regex:w4a16_wgmma_kernel -c 1 --metrics "$M" \
  "$B/bench_w4a16_tc" --wg --cfg 82 --only 8192x8192 --ms 384 --reps 1 2>&1 |
  grep -E '^  [^ ]|^    [a-z]' | cut -c1-150 | tee -a "$O/ncu-tfd.txt"
timeout 100 ncu --clock-control none -k regex:w4a16_wgmma_kernel -c 1 --section SourceCounters \
  --metrics smsp__inst_executed.sum --page source --print-source sass --csv \
  "$B/bench_w4a16_tc" --wg --cfg 82 --only 8192x8192 --ms 384 --reps 1 >"$O/ncu-src-tfd82.csv" 2>&1
gzip -9 "$O/ncu-src-tfd82.csv"
python3 scripts/ncu_source_summary.py "$O/ncu-src-tfd82.csv.gz" --loop 5000 --top 12 2>&1 | tee "$O/ncu-src-tfd82.txt"
