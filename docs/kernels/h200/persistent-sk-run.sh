#!/usr/bin/env bash
# Fourteenth session: configs 14 / 15 (configs 6 / 11 persistent; the last wave's tiles cut
# along K, or under MRGPTQ_PSK=1 the last waves by stream-K) against the plain configs, one
# device call (~5 minutes), binaries from scripts/gpu-pack.sh --tgz build-pack:
#   (git apply docs/kernels/h200/persistent-wgmma-experiment.patch first, then gpu-pack.sh)
#   run(command="bash docs/kernels/h200/persistent-sk-run.sh > $OUT/psk.txt 2>&1; tail -45 $OUT/psk.txt",
#       carry=["build-pack"])
# The new test, the small every-config test and the many-waves test under both settings (and
# memcheck of the new test), then bench_w4a16_tc --wg (every config, cuBLAS BF16 in the same
# run) at M = 256-16384.
cd "$(dirname "$0")/../../.." || exit 1
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
nvidia-smi --query-gpu=name,clocks.max.sm --format=csv,noheader
for e in MRGPTQ_PSK=0 MRGPTQ_PSK=1; do
  t0=$SECONDS
  env $e timeout 150 "$B/test_w4a16_tc" \
    --gtest_filter='*PersistentStreamK*:*WgmmaEveryConfigSmall*:*ManyWaves*:*WgmmaKernelMatchesFloat64AtOddSizes*' 2>&1 |
    grep -E "^\[  (PASSED|FAILED)|Failure|Expected|Which is|config=" | head -12 | sed "s/^/$e: /"
  echo "$e: tests rc ${PIPESTATUS[0]}, $((SECONDS - t0)) s"
  env $e timeout 120 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_w4a16_tc" \
    --gtest_filter='*PersistentStreamK*' 2>&1 | grep -E "ERROR SUMMARY|PASSED|FAILED" | sed "s/^/$e memcheck: /"
done
timeout 300 "$B/bench_w4a16_tc" --wg --ms 256,512,1024,4096,16384
