#!/usr/bin/env bash
# Prepared in the twelfth session (compiled, not run): the X-staged kernel in CTAs of exactly the
# row blocks an SM needs (MRGPTQ_XS_EXACT=1: 3, 5 and 6 too, where 44de2e1 rounds up to 4 or 7),
# one device call (~4-5 minutes):
#   build-ab/run.sh exact
# Why: 11008x4096 (344 32-row blocks, 2.6 an SM) runs 86 CTAs of 4 on 132 SMs, and took 17.9 us
# at M = 16 where 4096x11008, the same bytes in 128 CTAs, took 14.7 (bench-w4a16-xs-small.txt);
# CTAs of 3 make 115. 20480x8192 (640 blocks) gets 128 CTAs of 5 instead of 92 of 7, 24576x4096
# (768) 128 of 6 instead of 110 of 7. 14336x4096 (CTAs of 4 either way) is the control.
# Here (no GPU needed), in a worktree at 9badc2f or later:
#   git apply docs/kernels/h200/xs-exact-experiment.patch
#   cmake -S . -B build-lgpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DMRGPTQ_GPU_ONLY=ON
#   cmake --build build-lgpu -j2 --target bench_w4a16_tc test_w4a16_tc
#   mkdir -p build-ab && for b in bench_w4a16_tc test_w4a16_tc; do strip -o build-ab/$b build-lgpu/$b; done
#   cp docs/kernels/h200/xs-exact-experiment-run.sh build-ab/run.sh
# (build-ab in the main checkout, git-ignored.) Then:
#   run(command="build-ab/run.sh exact > $OUT/exact.txt 2>&1; tail -40 $OUT/exact.txt", carry=["build-ab"])
# Expected: every test passes under MRGPTQ_XS_EXACT=1 (the route assertions do not change: the
# X-staged kernel from M = 5 either way), memcheck clean; faster at M = 5-32 on the first three
# shapes, no change on the control.
B=$(dirname "$0")
# tests, memcheck, bench: scripts/experiment-lib.sh
. "$B/../scripts/experiment-lib.sh"
case "${1:-exact}" in
  exact)
    tests '*Streamed*:*Dispatch*' MRGPTQ_XS_EXACT=1
    memcheck MRGPTQ_XS_EXACT=1 '*StreamedSubCtas*'
    bench 4,5,8,9,16,17,32 "11008x4096 20480x8192 24576x4096 14336x4096" NONE=0 MRGPTQ_XS_EXACT=1
    ;;
  *) echo "usage: run.sh exact"; exit 2 ;;
esac
