#!/usr/bin/env bash
# Twenty-sixth session, call 6: gpu.sh's new sweep stage (bench_w4a16_tc --dispatch) on the final
# build (the modelled config choice), as gpu.sh runs it by default.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s26-run6.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
date -u
OUT=$O timeout 120 bash scripts/gpu.sh --prebuilt build-pack sweep >"$O/sweep.log" 2>&1
echo "gpu.sh sweep: exit $?"; sed -n '/== summary/,$p' "$O/sweep.log"
date -u
