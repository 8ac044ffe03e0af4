#!/usr/bin/env bash
# Twenty-third session, call 8: the release fix as committed (build-pack: w4a16_stream releases
# a slot with a proxy fence right after its loads, w4a16_stream_xs after the step's mma, both
# through release_slot_after_reads) against 4051e05's w4a16_tc.cu (build-old/*_unfixed); and the
# twentieth session's failing griddepcontrol placement on top of the fix
# (build-old/test_w4a16_tc_pdlfailfixed): if the placement only made the race more frequent,
# it now passes. Then the changed kernels' tests, the programmatic-launch tests, and the two
# sides timed in alternating processes (gpu.sh ab, two rounds).
# Here: bash scripts/gpu-pack.sh --tgz build-pack; for b in test_w4a16_tc bench_w4a16_tc; do
#   scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin $b 4051e05 unfixed; done;
#   scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin test_w4a16_tc HEAD pdlfailfixed
#   docs/kernels/h200/pdl-failing-form-4051e05-experiment.patch  (HEAD: the fix's commit)
#   run(command="bash docs/kernels/h200/s23-run8.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
for v in fixed pdlfailfixed unfixed; do
  bin=build-old/test_w4a16_tc_$v; [ $v = fixed ] && bin=$B/test_w4a16_tc
  echo "=== $v: MRGPTQ_REPEATS=2000 StreamedKernelStableOverRepeats" | tee -a "$O/repeats.txt"
  MRGPTQ_REPEATS=2000 timeout 150 "$bin" --gtest_filter='*StreamedKernelStableOverRepeats*' 2>&1 |
    grep -vE '^\[ RUN|^Note|^\[==|^\[--|^Running' >>"$O/repeats.txt"
  grep -E '^===|repeats wrong|OK \]|FAILED \]' "$O/repeats.txt" | tail -4
done
echo "=== fixed: the streamed kernels' tests" | tee "$O/tests.txt"
timeout 200 "$B/test_w4a16_tc" --gtest_filter='*Streamed*:*Planted*:*MatchesFloat64AtOddSizes*' 2>&1 |
  grep -E '^\[ +(OK|FAILED|PASSED|SKIPPED) +\]|Failure$' | tee -a "$O/tests.txt"
echo "=== fixed: test_programmatic_launch" | tee -a "$O/tests.txt"
timeout 90 "$B/test_programmatic_launch" 2>&1 | grep -E '^\[ +(OK|FAILED|PASSED|SKIPPED) +\]|Failure$' | tee -a "$O/tests.txt"
AB_BINS="unfixed=build-old/bench_w4a16_tc_unfixed fixed=@/bench_w4a16_tc" \
  AB_ARGS="--ms 1,4,8,16" AB_ROUNDS=2 OUT=$O bash scripts/gpu.sh --prebuilt build-pack ab >"$O/gpu-ab.log" 2>&1
tail -2 "$O/gpu-ab.log"
