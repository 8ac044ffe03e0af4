#!/usr/bin/env bash
# Twenty-fourth session, call 1 (build-pack: HEAD + StreamedKernelStableOverRepeats with
# programmatic pairs). (1) The 2000-repeat check on HEAD (plain launches and programmatic pairs,
# the conservative placement) and on the early-trigger variant (build-old/*_early:
# pdl-early-trigger-fenced-experiment.patch, the twentieth session's fast placement on the fenced
# ring), with each side's test_programmatic_launch and the early side's streamed-kernel tests.
# (2) Chains of 8 layers, HEAD against early, alternating processes, two rounds. (3) Single
# calls, HEAD against the X-staged kernel's late release without the proxy fence
# (build-old/bench_w4a16_tc_nofence: xs-late-release-no-fence-experiment.patch), two rounds.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; for b in test_w4a16_tc bench_w4a16_tc
#   test_programmatic_launch; do scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin $b
#   HEAD early docs/kernels/h200/pdl-early-trigger-fenced-experiment.patch; done;
#   scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin bench_w4a16_tc HEAD nofence
#   docs/kernels/h200/xs-late-release-no-fence-experiment.patch
#   run(command="bash docs/kernels/h200/s24-run1.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv,noheader
F='^\[ +(OK|FAILED|PASSED|SKIPPED) +\]|Failure$|repeats wrong|pairs wrong|wrong outputs'
for v in head early; do
  t=$B/test_w4a16_tc p=$B/test_programmatic_launch
  [ $v = early ] && t=build-old/test_w4a16_tc_early p=build-old/test_programmatic_launch_early
  echo "=== $v: MRGPTQ_REPEATS=2000 StreamedKernelStableOverRepeats" | tee -a "$O/tests.txt"
  MRGPTQ_REPEATS=2000 timeout 120 "$t" --gtest_filter='*StreamedKernelStableOverRepeats*' 2>&1 |
    grep -E "$F" | head -12 | tee -a "$O/tests.txt"
  echo "=== $v: test_programmatic_launch" | tee -a "$O/tests.txt"
  timeout 90 "$p" 2>&1 | grep -E "$F" | tee -a "$O/tests.txt"
done
echo "=== early: the streamed kernels' tests" | tee -a "$O/tests.txt"
timeout 120 build-old/test_w4a16_tc_early \
  --gtest_filter='*StreamedKernelMatchesFloat64AtOddSizes*:*StreamedDecodesSmall*:*Planted*' 2>&1 |
  grep -E "$F" | tee -a "$O/tests.txt"
AB_BINS="head=@/bench_w4a16_tc early=build-old/bench_w4a16_tc_early" \
  AB_ARGS="--chain 8 --ms 1,4,16,32" AB_ROUNDS=2 OUT=$O timeout 200 bash scripts/gpu.sh \
  --prebuilt build-pack ab >"$O/gpu-ab-chain.log" 2>&1
mv "$O/ab.txt" "$O/ab-chain.txt"; mv "$O/ab-table.txt" "$O/ab-chain-table.txt" 2>/dev/null
cat "$O/ab-chain-table.txt" 2>/dev/null || tail -40 "$O/ab-chain.txt"
AB_BINS="head=@/bench_w4a16_tc nofence=build-old/bench_w4a16_tc_nofence" \
  AB_ARGS="--ms 1,8,16" AB_ROUNDS=2 OUT=$O timeout 200 bash scripts/gpu.sh \
  --prebuilt build-pack ab >"$O/gpu-ab.log" 2>&1
tail -2 "$O/gpu-ab.log"
