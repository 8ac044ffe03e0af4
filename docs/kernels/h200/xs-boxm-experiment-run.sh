#!/usr/bin/env bash
# Prepared in the eleventh session (compiled, not run): the X-staged kernel's activation box cut to
# the M rows (MRGPTQ_XS_BOXM=1), and the kernel at every M from 1 (MRGPTQ_XS_FROM=1), in one
# device call (~8 minutes: tests ~2, memcheck ~2, bench ~4.5).
# Here (no GPU needed), in a worktree at the commit the patch names:
#   git apply docs/kernels/h200/xs-boxm-experiment.patch
#   cmake --build build-lgpu -j2 --target bench_w4a16_tc test_w4a16_tc
#   mkdir -p build-ab && for b in bench_w4a16_tc test_w4a16_tc; do strip -o build-ab/$b build-lgpu/$b; done
#   cp docs/kernels/h200/xs-boxm-experiment-run.sh build-ab/run.sh
# (build-ab in the main checkout, git-ignored.) Then:
#   run(command="build-ab/run.sh > $OUT/boxm.txt 2>&1; tail -40 $OUT/boxm.txt", carry=["build-ab"])
# Expected: every test passes under BOXM alone (the route is unchanged); under FROM=1 only the
# route assertions fail. The question: is the time the kernel loses at M below each box height
# (4096x14336 M = 17-19 24.6-29.1 us against 20.7 at M = 32; M = 9 18.0 against 16.7 at M = 16)
# the TMA unit filling out-of-bounds rows? If so BOXM flattens those rows of the table, and FROM
# shows whether M = 1-4 on 64-row CTAs then beats the old kernel.
B=$(dirname "$0")
chmod +x "$B"/*
for e in "MRGPTQ_XS_BOXM=1" "MRGPTQ_XS_BOXM=1 MRGPTQ_XS_FROM=1"; do
  env $e timeout 150 "$B/test_w4a16_tc" --gtest_filter='*Streamed*:*Dispatch*:*OddSizes*' 2>&1 |
    grep -E "^\[  (PASSED|FAILED)|Failure" | sort | uniq -c | sed "s/^/$e test: /"
done
env MRGPTQ_XS_BOXM=1 MRGPTQ_XS_FROM=1 timeout 120 /usr/local/cuda/bin/compute-sanitizer --tool memcheck \
  "$B/test_w4a16_tc" --gtest_filter='*StreamedWideCtas*:*StreamedKernelMatchesFloat64AtOddSizes*' 2>&1 |
  grep -E "ERROR SUMMARY" | sed "s/^/BOXM+FROM memcheck: /"
for r in 1 2; do
  for e in NONE=0 MRGPTQ_XS_BOXM=1 "MRGPTQ_XS_BOXM=1 MRGPTQ_XS_FROM=1"; do
    echo "== $e round $r"
    env $e "$B/bench_w4a16_tc" --ms 1,2,4,8,9,16,17,18,20,32 2>&1 | grep -E "^ *[0-9]+x[0-9]+ "
  done
done
