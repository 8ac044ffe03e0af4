#!/usr/bin/env bash
# Twenty-third session, call 7. Call 6 found that the streamed kernel at 4051e05 goes wrong now
# and then in plain launches too (35 of 2000 runs at M = 100 on 600x6208, 11 of 2000 at M = 33),
# the error explained by a chunk read with the weight bytes of the chunk that refilled its ring
# slot: a warp's release arrive can overtake its shared-memory loads of the slot, and the
# producer's next bulk copy (async proxy) then lands before the loads read it. Two fixes:
# fence (build-pack, this commit: fence.proxy.async.shared::cta by each thread before the
# release, release_slot_after_reads in w4a16_common.cuh) and late (build-old/*_late: 4051e05 +
# stream-release-after-mma-experiment.patch, the release after the step's mma), against unfixed
# (build-old/*_unfixed: 4051e05's w4a16_tc.cu). StreamedKernelStableOverRepeats now covers
# 600x6208 at M = 100, 33 (w4a16_stream), 16, 1 (X-staged) and 9000x2048 at M = 8, 1
# (w4a16_stream's 8-row boxes), 2000 runs each; then every test_w4a16_tc test on the fence build;
# then the three timed in alternating processes (gpu.sh ab), two rounds.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; for b in test_w4a16_tc bench_w4a16_tc; do
#   scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin $b HEAD unfixed;
#   scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin $b HEAD late
#   docs/kernels/h200/stream-release-after-mma-experiment.patch; done
#   run(command="bash docs/kernels/h200/s23-run7.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
for v in unfixed fence late; do
  bin=build-old/test_w4a16_tc_$v; [ $v = fence ] && bin=$B/test_w4a16_tc
  echo "=== $v: MRGPTQ_REPEATS=2000 StreamedKernelStableOverRepeats" | tee -a "$O/repeats.txt"
  MRGPTQ_REPEATS=2000 timeout 150 "$bin" --gtest_filter='*StreamedKernelStableOverRepeats*' 2>&1 |
    grep -vE '^\[ RUN|^Note|^\[==|^\[--|^Running' >>"$O/repeats.txt"
  grep -E 'repeats wrong|OK \]|FAILED \]' "$O/repeats.txt" | tail -8
done
echo "=== fence: every test_w4a16_tc test" | tee "$O/tests.txt"
timeout 240 "$B/test_w4a16_tc" 2>&1 | grep -E '^\[ +(OK|FAILED|PASSED|SKIPPED) +\]|Failure$' | tee -a "$O/tests.txt" | tail -25
AB_BINS="unfixed=build-old/bench_w4a16_tc_unfixed fence=@/bench_w4a16_tc late=build-old/bench_w4a16_tc_late" \
  AB_ARGS="--ms 1,4,8,16,33,100" AB_ROUNDS=2 OUT=$O bash scripts/gpu.sh --prebuilt build-pack ab >"$O/gpu-ab.log" 2>&1
tail -3 "$O/gpu-ab.log"
cat "$O/ab-table.txt" 2>/dev/null | head -80
