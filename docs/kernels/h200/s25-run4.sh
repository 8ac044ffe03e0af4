#!/usr/bin/env bash
# Twenty-fifth session, call 4: s25-run3.sh again, on a build with kFp8MinM = 33 (was 128; set
# from call 3's crossover) and M = 33 and 48 added to bench_w4a4_fp8 --linear.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s25-run4.sh", carry=["build-pack"])
exec bash "$(dirname "$0")/s25-run3.sh"
