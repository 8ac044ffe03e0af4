#!/usr/bin/env bash
# Prepared in the eleventh session (compiled, not run): experiments on the X-staged kernel, one
# device call each (~4-8 minutes):
#   build-ab/run.sh boxm   MRGPTQ_XS_BOXM=1: the activation box cut to the M rows; and
#                          MRGPTQ_XS_FROM=1: the kernel at every M from 1 on one-wave grids
#   build-ab/run.sh mw     MRGPTQ_XS_MW=1: on multi-wave grids of 64-row CTAs (28672x8192) CTAs
#                          of 8 consumer warps, two an SM at M <= 16, one at M = 17-32 (with
#                          FROM = 1 and BOXM = 1 also at M = 1-4); MRGPTQ_XS_MW=2: those forms
#                          on every grid of 64-row CTAs
#   build-ab/run.sh sub    (~6 minutes) MRGPTQ_XS_SUB=1: where 64-row CTAs would take several
#                          waves, CTAs of 4 or 7 row blocks (128 / 224 rows) sharing each
#                          activation box, so that the grid is one wave (28672 rows = 128 CTAs
#                          of 224); the warps' work a stage is unchanged. Expected failures: the
#                          multi-wave route assertion of StreamedWideCtas only.
#   build-ab/run.sh small  (~1 minute) the X-staged kernel with boxes of the M rows at every
#                          M <= 32 against the old kernel everywhere, on shapes with K = 4096 or
#                          N = 1024 (run so in the twelfth session: bench-w4a16-xs-small.txt)
# Here (no GPU needed), in a worktree at the commit the patch names:
#   git apply docs/kernels/h200/xs-boxm-experiment.patch
#   cmake --build build-lgpu -j2 --target bench_w4a16_tc test_w4a16_tc
#   mkdir -p build-ab && for b in bench_w4a16_tc test_w4a16_tc; do strip -o build-ab/$b build-lgpu/$b; done
#   cp docs/kernels/h200/xs-boxm-experiment-run.sh build-ab/run.sh
# (build-ab in the main checkout, git-ignored.) Then:
#   run(command="build-ab/run.sh boxm > $OUT/boxm.txt 2>&1; tail -40 $OUT/boxm.txt", carry=["build-ab"])
# Expected: every test passes under BOXM alone and under MW = 2 but for the multi-wave route
# assertion; under FROM = 1 / MW = 1 only route assertions fail.
# BOXM asks: is the time the kernel loses at M below each box height on 32-row CTAs (4096x14336
# M = 17-19 24.6-29.1 us against 20.7 at M = 32; M = 9 18.0 against 16.7 at M = 16) the TMA unit
# filling out-of-bounds rows with zeros? If so BOXM flattens those rows, and FROM shows whether
# M = 1-4 on 64-row CTAs then beats the old kernel. MW asks whether two X-staged CTAs an SM
# soften the tail of 28672x8192's 3.4 waves (old kernel M = 8 / 16 / 32: 43.6 / 56.4 / 87 us;
# one-wave grids of the same bytes run 38.6 / 45.5 / 61).
B=$(dirname "$0")
# tests, memcheck, bench: scripts/experiment-lib.sh
. "$B/../scripts/experiment-lib.sh"
case "${1:-boxm}" in
  boxm)
    tests '*Streamed*:*Dispatch*:*OddSizes*' MRGPTQ_XS_BOXM=1 MRGPTQ_XS_BOXM=1,MRGPTQ_XS_FROM=1
    memcheck MRGPTQ_XS_BOXM=1,MRGPTQ_XS_FROM=1 '*StreamedWideCtas*:*StreamedKernelMatchesFloat64AtOddSizes*'
    bench 1,2,4,8,9,16,17,18,20,32 "" NONE=0 MRGPTQ_XS_BOXM=1 MRGPTQ_XS_BOXM=1,MRGPTQ_XS_FROM=1
    ;;
  mw)
    tests '*Streamed*:*Dispatch*' MRGPTQ_XS_MW=2,MRGPTQ_XS_FROM=1
    memcheck MRGPTQ_XS_MW=1 '*StreamedWideCtas*'
    # The third setting: M = 1-4 too on the multi-wave grid (28672x8192 M = 1 is at 2.85-3.07x).
    bench 1,2,4,5,8,9,16,17,24,32 "" NONE=0 MRGPTQ_XS_MW=1 \
      MRGPTQ_XS_MW=1,MRGPTQ_XS_FROM=1,MRGPTQ_XS_BOXM=1 MRGPTQ_XS_MW=2
    ;;
  sub)
    tests '*Streamed*:*Dispatch*' MRGPTQ_XS_SUB=1 MRGPTQ_XS_SUB=1,MRGPTQ_XS_FROM=1
    memcheck MRGPTQ_XS_SUB=1,MRGPTQ_XS_FROM=1 '*StreamedSubCtas*:*StreamedWideCtas*'
    bench 1,2,5,8,9,16,17,24,32 "28672x8192 14336x4096" NONE=0 MRGPTQ_XS_SUB=1 \
      MRGPTQ_XS_SUB=1,MRGPTQ_XS_FROM=1,MRGPTQ_XS_BOXM=1
    ;;
  small)
    # Shapes the rule was not measured on (K = 4096: 2-4 stages a CTA; N = 1024: 32 CTAs;
    # 11008x4096: 86 CTAs of 4): the old kernel everywhere (MRGPTQ_XS_FROM=33: no M is X-staged)
    # against the X-staged kernel at every M <= 32 on one-wave grids, boxes of the M rows.
    bench 1,2,4,5,8,9,16,17,24,32 "4096x4096 1024x4096 8192x4096 4096x11008 11008x4096" \
      MRGPTQ_XS_FROM=33 MRGPTQ_XS_BOXM=1,MRGPTQ_XS_SUB=1,MRGPTQ_XS_FROM=1
    ;;
  *) echo "usage: run.sh boxm|mw|sub|small"; exit 2 ;;
esac
