#!/usr/bin/env bash
# Prepared in the fourteenth session (compiled, not run): persistent configs 15 / 16 in a
# wait-free form (persistent-v2-experiment.patch). Questions: (1) does the ~3% the first
# persistent form lost against config 6 with one whole tile a CTA come from its cooperative
# launch (MRGPTQ_PCOOP=1 vs 0, the same kernel)? (2) with that cost gone, does cutting the last
# wave pay where it is poorly filled (28672x8192 M = 384 / 512: 3.39 waves; the first form won
# there by 8% at M = 512 despite the 3%)? One device call (~6 minutes):
#   run(command="bash docs/kernels/h200/persistent-v2-experiment-run.sh > $OUT/pv2.txt 2>&1; tail -50 $OUT/pv2.txt",
#       carry=["build-ab3"])
# Here (no GPU needed), in a worktree at 3514467 or later:
#   git apply docs/kernels/h200/persistent-v2-experiment.patch
#   cmake -S . -B build-lgpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DMRGPTQ_GPU_ONLY=ON
#   cmake --build build-lgpu -j2 --target bench_w4a16_tc test_w4a16_tc
#   mkdir -p build-ab3 && for b in bench_w4a16_tc test_w4a16_tc; do strip -o build-ab3/$b build-lgpu/$b; done
# (build-ab3 in the main checkout, git-ignored.) Large-M timings drift with the power state
# (PERFORMANCE.md, fourteenth session): compare configs within a run, settings across the two
# alternating rounds; adopt a dispatch rule only where the persistent config wins in both.
cd "$(dirname "$0")/../../.." || exit 1
B=build-ab3
chmod +x "$B"/*
for e in MRGPTQ_PCOOP=0 MRGPTQ_PCOOP=1; do
  env $e timeout 150 "$B/test_w4a16_tc" \
    --gtest_filter='*PersistentStreamK*:*WgmmaEveryConfigSmall*:*ManyWaves*:*WgmmaKernelMatchesFloat64AtOddSizes*' 2>&1 |
    grep -E "^\[  (PASSED|FAILED)|Failure|Expected|Which is|config=" | head -10 | sed "s/^/$e: /"
done
timeout 120 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_w4a16_tc" \
  --gtest_filter='*PersistentStreamK*' 2>&1 | grep -E "ERROR SUMMARY|PASSED|FAILED"
for r in 1 2; do
  for e in MRGPTQ_PCOOP=0 MRGPTQ_PCOOP=1; do
    echo "=== round $r: $e"
    env $e timeout 100 "$B/bench_w4a16_tc" --wg --ms 384,512,1024,4096 | grep -E "^ *[0-9]+x|^N x K"
  done
done
