#!/usr/bin/env bash
# Run in the eleventh session: bench-w4a16-next-session-experiments.txt (docs/PERFORMANCE.md).
# The three experiments prepared in the tenth session, in one device call (~8-9 minutes: tests ~3, memcheck ~2, bench ~3.5).
# Here (no GPU needed):
#   git apply docs/kernels/h200/next-session-experiments.patch
#   cmake --build build-lgpu -j2 --target bench_w4a16_tc test_w4a16_tc
#   mkdir -p build-ab && for b in bench_w4a16_tc test_w4a16_tc; do strip -o build-ab/$b build-lgpu/$b; done
#   cp docs/kernels/h200/next-session-experiments-run.sh build-ab/run.sh
# Then: run(command="build-ab/run.sh > $OUT/exp.txt 2>&1; tail -40 $OUT/exp.txt", carry=["build-ab"]).
# Switches (environment, read once per process):
#   MRGPTQ_STREAM_PW=1   a producer warp in w4a16_stream (M = 1-8, and M = 9-32 where not X-staged)
#   MRGPTQ_XS_PERSIST=1  multi-wave grids at M = 9-16 X-staged and persistent (64-row tiles on wide weights)
#   MRGPTQ_XS_PERSIST=2  the same in 32-row tiles (896 tiles on 28672x8192: 7 a CTA at most, 97% balance)
#   MRGPTQ_XS_NT1=1      M = 1-8 X-staged (8-row activation boxes) on one-wave grids
# Expected test failures under a switch: only the streamed tests' route assertions (the rule they
# assert is the committed one); every error check must pass.
B=$(dirname "$0")
chmod +x "$B"/*
for e in MRGPTQ_STREAM_PW=1 MRGPTQ_XS_PERSIST=2 MRGPTQ_XS_NT1=1; do
  env $e timeout 100 "$B/test_w4a16_tc" --gtest_filter='*Streamed*:*Dispatch*' 2>&1 | grep -E "^\[  (PASSED|FAILED)|Failure" | sort | uniq -c |
    sed "s/^/$e test: /"
done
for e in MRGPTQ_XS_PERSIST=1 MRGPTQ_XS_NT1=1; do
  env $e timeout 100 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_w4a16_tc" \
    --gtest_filter='*StreamedWideCtas*:*OddSizes*' 2>&1 | grep -E "ERROR SUMMARY" | sed "s/^/$e memcheck: /"
done
for r in 1 2; do
  for e in NONE=0 MRGPTQ_STREAM_PW=1 MRGPTQ_XS_PERSIST=1 MRGPTQ_XS_PERSIST=2 MRGPTQ_XS_NT1=1; do
    echo "== $e round $r"
    env $e "$B/bench_w4a16_tc" --ms 1,8,16 2>&1 | grep -E "^ *[0-9]+x[0-9]+ "
  done
done
