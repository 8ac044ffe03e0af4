#!/usr/bin/env bash
# Nineteenth session, call 4: ncu on the streamed W4A16 kernel at M = 1 (issue, pipes, stall
# reasons: gpu.sh's profile metrics), to test the trace's reading that the loop is bound by the
# SM's instructions at two CTAs an SM (8192x8192, 28672x8192: 8 warps, 3 CTA slots) and not at
# one 16-warp CTA (4096x14336); then the trace at M = 16 with the benchmark rows kept.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; bash scripts/gpu-pack.sh --tgz --trace
# build-trace; run(command="bash docs/kernels/h200/s19-profile-run.sh",
# carry=["build-pack", "build-trace"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
PROFILE_CASES="M=1 8192x8192, 8 warps x 2 CTAs|w4a16_streamILi4ELb0ELi1ELi2ELb1ELi2ELi8ELi3ELi1E|--only 8192x8192 --ms 1 --reps 1;\
M=1 28672x8192, 8 warps x 3 CTAs|w4a16_streamILi4ELb0ELi1ELi2ELb1ELi2ELi8ELi3ELi1E|--only 28672x8192 --ms 1 --reps 1;\
M=1 4096x14336, 16 warps x 1 CTA|w4a16_streamILi4ELb0ELi1ELi4ELb1ELi2ELi16ELi1ELi1E|--only 4096x14336 --ms 1 --reps 1" \
  OUT=$O scripts/gpu.sh --prebuilt build-pack profile 2>&1 | tail -2
cat "$O/ncu-profile.txt"
B=$(mktemp -d)
tar xzf build-trace/bundle.tgz -C "$B" && chmod +x "$B"/*
for shape in 8192x8192 28672x8192; do
  echo "=== trace $shape M = 16 (xs = the X-staged kernel), then the row"
  MRGPTQ_WG_TRACE=10 timeout 60 "$B/bench_w4a16_tc" --only "$shape" --ms 16 --reps 30 2>&1 |
    grep -E "^trace|^ *[0-9]+x" | awk '/^trace/ && n++ >= 2 {next} {print}' | cut -c1-420
done
