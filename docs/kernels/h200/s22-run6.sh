#!/usr/bin/env bash
# Twenty-second session, call 6 (build-pack from dc678d2; build-old from bench-variant.sh on
# dc678d2's w4a16_tc.cu). Upper bounds, timing only (both variants compute wrong outputs): what
# do the X-staged kernel's extra costs at M = 16 weigh?
#   onent = xs-one-ntile-mma-timing-experiment.patch: layout 2's mma for the first activation
#           n-tile only (16 HMMA a warp and stage instead of 32 at NT = 2; NT = 1 unchanged);
#   x0    = xs-stage0-activations-timing-experiment.patch: the X-staged kernel loads its
#           activation registers in stage 0 only (no 8 LDS.128 a warp and stage after it).
# If onent gives back most of M = 16's ~22% over M = 1, the HMMAs (tensor pipe, math-throttle
# stalls) are what M = 16 pays; if x0 does, the activation loads.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; bash scripts/bench-variant.sh --file
#   src/kernels/w4a16_tc.cu --bin bench_w4a16_tc HEAD onent docs/kernels/h200/xs-one-ntile-mma-timing-experiment.patch
#   (x0 likewise); run(command="bash docs/kernels/h200/s22-run6.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
chmod +x build-old/*
AB_BINS="head=@/bench_w4a16_tc onent=build-old/bench_w4a16_tc_onent x0=build-old/bench_w4a16_tc_x0" \
  AB_ARGS="--ms 1,16" AB_ROUNDS=3 OUT=$O timeout 300 scripts/gpu.sh --prebuilt build-pack ab 2>&1 | tail -2
cut -d'|' -f1-3 "$O/ab-table.txt"
