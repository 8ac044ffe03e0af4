#!/usr/bin/env bash
# Sixteenth session, first call: the fifteenth session's last two commits (72031a6, ea4a40b: the
# K-share protocol shared by configs 9/13/15 and the persistent tail, config_for's table) were
# never run on a GPU. The issue's table, each GPU test binary under its own limit, memcheck of
# the changed paths, two call-for-call A/B passes over the changed configs, then ncu on the
# weakest warpgroup cells. Here:
#   PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz build-pack
#   run(command="bash docs/kernels/h200/s16-confirm-run.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem --format=csv,noheader
t0=$SECONDS
timeout 90 "$B/bench_fp4" >"$O/bench_fp4.txt" 2>&1
echo "bench_fp4: exit $?, $((SECONDS - t0)) s"
for tl in test_w4a16_tc:230 test_kernels:60 test_w4a4_fp8:60; do
  t=${tl%%:*} t0=$SECONDS
  timeout "${tl##*:}" "$B/$t" >"$O/$t.log" 2>&1
  echo "$t: exit $?, $((SECONDS - t0)) s, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/$t.log" | tr '\n' ' ')"
  grep -E '^\[  FAILED  \]|Failure|Expected|Which is' "$O/$t.log" | head -10
done
t0=$SECONDS
timeout 60 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaPersistent*:*WgmmaEveryConfigSmall*' >"$O/memcheck.log" 2>&1
echo "memcheck: exit $?, $((SECONDS - t0)) s, $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "$O/memcheck.log" | tr '\n' ' ')"
t0=$SECONDS
{
  for r in 1 2; do
    echo "=== round $r: bench_w4a16_tc --wg --ab 6,16,-1 --ms 512,4096"
    timeout 60 "$B/bench_w4a16_tc" --wg --ab 6,16,-1 --ms 512,4096
    echo "=== round $r: bench_w4a16_tc --wg --ab 11,17,22,-1 --ms 320,384,576"
    timeout 60 "$B/bench_w4a16_tc" --wg --ab 11,17,22,-1 --ms 320,384,576
    for s in 4096x14336 8192x8192; do
      echo "=== round $r: bench_w4a16_tc --wg --ab 13,15,9,-1 --ms 96,128 --only $s"
      timeout 40 "$B/bench_w4a16_tc" --wg --ab 13,15,9,-1 --ms 96,128 --only $s
    done
  done
} >"$O/ab.txt" 2>&1
echo "ab: $((SECONDS - t0)) s"
M=gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,\
lts__t_sectors.avg.pct_of_peak_sustained_elapsed,smsp__issue_active.avg.pct_of_peak_sustained_active,\
smsp__inst_executed.sum,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,\
sm__pipe_alu_cycles_active.avg.pct_of_peak_sustained_active,\
sm__pipe_fma_cycles_active.avg.pct_of_peak_sustained_active,\
sm__cycles_active.avg,sm__cycles_elapsed.max,\
smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_barrier_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_wait_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_math_pipe_throttle_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_dispatch_stall_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_membar_per_issue_active.ratio,\
smsp__average_warps_issue_stalled_sleeping_per_issue_active.ratio
t0=$SECONDS
for c in "config 8 M=256 8192x8192|--wg --cfg 8 --only 8192x8192 --ms 256 --reps 1" \
  "config 6 M=1024 8192x8192|--wg --cfg 6 --only 8192x8192 --ms 1024 --reps 1" \
  "config 20 M=320 4096x14336|--wg --cfg 20 --only 4096x14336 --ms 320 --reps 1" \
  "config 14 M=65 8192x8192|--wg --cfg 14 --only 8192x8192 --ms 65 --reps 1"; do
  echo "=== ${c%%|*}: bench_w4a16_tc ${c##*|}"
  # shellcheck disable=SC2086
  timeout 60 ncu --clock-control none -k regex:w4a16_wgmma_kernel --launch-skip 2 -c 1 \
    --metrics "$M" "$B/bench_w4a16_tc" ${c##*|} 2>&1 | grep -E '^ +[a-z0-9_]+__|==ERR'
done >"$O/ncu-profile.txt" 2>&1
echo "profile: $((SECONDS - t0)) s"
grep -E "OK \]" "$O/test_w4a16_tc.log" | sed 's/^\[       OK \] //' | sort -t'(' -k2 -n -r | head -4
tail -25 "$O/bench_fp4.txt"
