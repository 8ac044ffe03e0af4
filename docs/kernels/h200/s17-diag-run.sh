cd /work/main 2>/dev/null || cd "$(dirname "$0")"
# The builds named below, from a later tree: docs/PERFORMANCE.md, seventeenth session,
# "Reproducing the A/B tables" (scripts/bench-variant.sh).
B=$(mktemp -d); tar xzf build-pack/bundle.tgz -C $B; chmod +x $B/* build-old/*
for gm in 0 132 264 396 528 660 1056 2112 99999; do
  echo "== MRGPTQ_AQ_GRID=$gm"; MRGPTQ_AQ_GRID=$gm $B/bench_fp4 --quant 2>&1 | grep -E "resident|mxfp4 rot 0 |nvfp4 rot 32 " | head -3
done
N=/usr/local/cuda/bin/ncu; [ -x $N ] || N=$(ls /usr/local/cuda*/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
echo "ncu: $N"
for v in A:build-old/bench_fp4 C:$B/bench_fp4; do
  echo "== ncu ${v%%:*}"
  timeout 120 $N --kernel-name regex:act_quant_kernel --launch-skip 3 --launch-count 1 \
    --metrics sm__warps_active.avg.pct_of_peak_sustained_active,dram__throughput.avg.pct_of_peak_sustained_elapsed,lts__t_sectors_srcunit_tex_op_read.sum,lts__t_sectors_srcunit_tex_op_write.sum,dram__bytes_read.sum,dram__bytes_write.sum,sm__inst_executed.sum,smsp__issue_active.avg.pct_of_peak_sustained_active,launch__grid_size,launch__occupancy_limit_shared_mem,launch__occupancy_limit_registers,sm__cycles_elapsed.avg,gpu__time_duration.sum,smsp__average_warp_latency_issue_stalled_long_scoreboard,smsp__average_warp_latency_issue_stalled_barrier \
    ${v#*:} --quant 2>&1 | grep -vE "^==PROF==|^ *quantize|copy|activation" | tail -22
done
