#!/usr/bin/env bash
# The builds named below, from a later tree: docs/PERFORMANCE.md, seventeenth session,
# "Reproducing the A/B tables" (scripts/bench-variant.sh).
# Seventeenth session, profiles for the next session (no code decision rests on them): ncu's
# speed-of-light, occupancy, scheduler and warp-state sections on kernel 1 in bench_fp4 --quant --
# 9550e6b (build-pack) NVFP4 rot 32 and MXFP4 rot 32 (the registers form), and MXFP4 without
# rotation in 20974bf (build-old/bench_fp4) and in the TMA-ring build (build-old/bench_fp4_R,
# aq-tma-ring-experiment.patch). Here:
#   PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz build-pack (+ the two links)
#   run(command="bash docs/kernels/h200/s17-profile-run.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
N=/usr/local/cuda/bin/ncu
prof() {  # name binary mangled-name-regex file-tag
  echo "=== $1"
  timeout 150 $N --kernel-name-base mangled --kernel-name "regex:$3" --launch-skip 3 \
    --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section SchedulerStats --section WarpStateStats \
    --section MemoryWorkloadAnalysis "$2" --quant >"$O/ncu-$4.txt" 2>&1
  grep -E "Duration|Throughput|Issue|Eligible|Active Warps|Occupancy|Warp Cycles|Registers|Block Limit|No Eligible|One or More|Busy|Hit" \
    "$O/ncu-$4.txt" | head -45
}
prof "9550e6b NVFP4 rot 32 (dense mma, 64 registers)" "$B/bench_fp4" 'act_quant_kernelILi32ELb1ELb0ELb0E' nv32
prof "9550e6b MXFP4 rot 32 (registers, 48 registers)" "$B/bench_fp4" 'act_quant_kernelILi32ELb0ELb0ELb0E' mx32
prof "20974bf MXFP4 rot 0 (one load a thread)" build-old/bench_fp4 'act_quant_kernelILi1ELb0ELb0ELb0E' mx0
prof "TMA ring MXFP4 rot 0" build-old/bench_fp4_R 'act_quant_kernelILi1ELb0ELb0ELb0E' ring-mx0
