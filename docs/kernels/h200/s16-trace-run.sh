#!/usr/bin/env bash
# Sixteenth session, second call: where the warpgroup kernel's time goes in one-wave grids.
# bench_w4a16_tc built from the trace experiment (docs/kernels/h200/wg-trace-experiment.patch,
# -DMRGPTQ_WG_TRACE: per-CTA clock64 / globaltimer stamps, printed for every n-th call), and
# configs 23 / 24 / 25 = 20 / 12 / 8 with two wgmma groups in flight, timed call for call.
#   run(command="bash docs/kernels/h200/s16-trace-run.sh", carry=["build-exp"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=build-exp/bench_w4a16_tc
chmod +x "$B"
{
  for c in "8 8192x8192 256" "6 8192x8192 256" "6 8192x8192 1024" "11 8192x8192 384" \
    "12 8192x8192 192" "20 4096x14336 320" "12 4096x14336 384" "14 8192x8192 128" \
    "8 8192x28672 256" "20 8192x8192 320"; do
    set -- $c
    echo "=== trace: config $1, $2, M = $3"
    MRGPTQ_WG_TRACE=9 timeout 30 "$B" --wg --cfg "$1" --only "$2" --ms "$3" --reps 10 2>&1 \
      | grep -E "trace|^ *[0-9]+x" | tail -3
  done
} >"$O/trace.txt" 2>&1
echo "trace: done"
{
  for r in 1 2; do
    for a in "20,23 4096x14336 320" "20,23 8192x8192 320" "20,23 28672x8192 320" \
      "12,24 8192x8192 192" "12,24 4096x14336 384" "8,25 8192x8192 256" "8,25 8192x28672 256"; do
      set -- $a
      echo "=== round $r: --ab $1 --only $2 --ms $3"
      timeout 40 "$B" --wg --ab "$1" --only "$2" --ms "$3" 2>&1 | grep -E "^ *[0-9]+x"
    done
  done
} >"$O/ab-wait2.txt" 2>&1
echo "ab: done"
timeout 60 ncu --clock-control none -k 'regex:sm90|gemm|xmma|cutlass|nvjet' --launch-skip 2 -c 1 \
  --metrics gpu__time_duration.sum,sm__cycles_active.avg,sm__cycles_elapsed.max,sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,launch__grid_size,launch__cluster_dim_x,launch__block_size \
  "$B" --wg --cfg 8 --only 8192x8192 --ms 256 --reps 1 >"$O/ncu-cublas.txt" 2>&1
echo "ncu: $?"
cat "$O/trace.txt" "$O/ab-wait2.txt"
grep -E "sm90|gemm|xmma|cutlass|nvjet|__" "$O/ncu-cublas.txt" | head -12
