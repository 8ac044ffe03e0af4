#!/usr/bin/env bash
# Eighteenth session: the whole GPU test suite at fd12bd1 (test_w4a16_tc too: the W4A16 kernels are
# unchanged, its header was not), then ncu profiles of kernel 1's NVFP4 rot 32 with one chunk a
# block (--quant-chunks 1) and six (the chosen C at [16384, 8192]), the sections of
# s17-profile-run.sh. Here: PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz
# build-pack; run(command="bash docs/kernels/h200/s18-profile-run.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
OUT=$O scripts/gpu.sh --prebuilt build-pack test 2>&1 | tail -4
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
N=/usr/local/cuda/bin/ncu
prof() {  # name mangled-name-regex file-tag bench-args...
  local name=$1 re=$2 tag=$3
  shift 3
  echo "=== $name"
  timeout 150 $N --kernel-name-base mangled --kernel-name "regex:$re" --launch-skip 3 \
    --launch-count 1 \
    --section SpeedOfLight --section Occupancy --section SchedulerStats --section WarpStateStats \
    --section MemoryWorkloadAnalysis "$B/bench_fp4" --quant "$@" >"$O/ncu-$tag.txt" 2>&1
  grep -E "Duration|Throughput|Issue|Eligible|Active Warps|Occupancy|Warp Cycles|Registers|Block Limit|No Eligible|One or More|Busy|Hit" \
    "$O/ncu-$tag.txt" | head -45
}
prof "fd12bd1 NVFP4 rot 32, one chunk a block (64 registers, 4 blocks an SM)" \
  'act_quant_kernelILi32ELb1ELb0ELb0ELi1E' nv32-c1 --quant-chunks 1
prof "fd12bd1 NVFP4 rot 32, six chunks a block (80 registers, 3 blocks an SM)" \
  'act_quant_kernelILi32ELb1ELb0ELb0ELi6E' nv32-c6
