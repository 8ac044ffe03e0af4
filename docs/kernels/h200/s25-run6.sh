#!/usr/bin/env bash
# Twenty-fifth session, call 6: bench_w4a4_fp8 now times single calls as plain launches (calls 3
# and 4 had programmatic launches on, so the streamed kernels' rows at M <= 32 overlapped each
# timed call with the one before). s25-run3.sh's tests and layer bench again, then s25-run5.sh's
# W4A16 rows at M = 32-64 (the step at M = 33).
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s25-run6.sh", carry=["build-pack"])
d=$(dirname "$0")
bash "$d/s25-run3.sh"
OUT=${OUT:-/tmp/out}/run5 bash "$d/s25-run5.sh"
