#!/usr/bin/env bash
# Twenty-fifth session, call 7: ncu on the 64 x 64-tile wgmma configs at M = 33 against M = 48
# (call 6: config 10 on 8192x8192 41.3 us at M = 33, 31.3 at M = 48; config 3 the same step),
# gpu.sh's profile stage and metrics (build-pack at 468c840).
# Here: run(command="bash docs/kernels/h200/s25-run7.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-/tmp/out}; mkdir -p "$O"
K=w4a16_wgmma_kernel S="--only 8192x8192 --reps 1"
PROFILE_CASES="cfg10 M=33|$K|--wg --cfg 10 $S --ms 33;cfg10 M=48|$K|--wg --cfg 10 $S --ms 48;\
cfg3 M=33|$K|--wg --cfg 3 $S --ms 33;cfg3 M=48|$K|--wg --cfg 3 $S --ms 48" \
  OUT=$O timeout 400 bash scripts/gpu.sh --prebuilt build-pack profile 2>&1 | tail -60
