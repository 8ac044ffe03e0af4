#!/usr/bin/env bash
# Twenty-third session, call 9: call 8's fix with the X-staged kernel's 2-stage rings (32-row
# CTAs at NT = 2 and 4) releasing right after the loads again (behind the fence), the others
# after the mma (build-pack, this commit), against 4051e05's w4a16_tc.cu (build-old/*_unfixed,
# as in call 8). The 2000-run check, the streamed kernel's odd-size test, then the two sides timed
# in alternating processes (gpu.sh ab, two rounds, M = 1, 8, 16).
# Here: bash scripts/gpu-pack.sh --tgz build-pack; for b in test_w4a16_tc bench_w4a16_tc; do
#   scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin $b 4051e05 unfixed; done
#   run(command="bash docs/kernels/h200/s23-run9.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
MRGPTQ_REPEATS=2000 timeout 100 "$B/test_w4a16_tc" \
  --gtest_filter='*StreamedKernelStableOverRepeats*:*StreamedKernelMatchesFloat64AtOddSizes*:*StreamedDecodesSmall*' 2>&1 |
  grep -E '^\[ +(OK|FAILED|PASSED) +\]|Failure$|repeats wrong' | tee "$O/tests.txt"
AB_BINS="unfixed=build-old/bench_w4a16_tc_unfixed fixed=@/bench_w4a16_tc" \
  AB_ARGS="--ms 1,8,16" AB_ROUNDS=2 OUT=$O bash scripts/gpu.sh --prebuilt build-pack ab >"$O/gpu-ab.log" 2>&1
tail -2 "$O/gpu-ab.log"
