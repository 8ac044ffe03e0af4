#!/usr/bin/env bash
# Twenty-sixth session, call 5: every GPU test program (gpu.sh test) on the build with the cost
# model's config choice above M = 576 (5731ae6), which also routes Fp4Linear's BF16 path.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s26-run5.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
date -u
OUT=$O timeout 470 bash scripts/gpu.sh --prebuilt build-pack test >"$O/test.log" 2>&1
echo "gpu.sh test: exit $?"; sed -n '/== summary/,$p' "$O/test.log"
grep -hE '^\[ +(FAILED|PASSED) +\]|Failure$' "$O"/test_*.log | head -20
date -u
