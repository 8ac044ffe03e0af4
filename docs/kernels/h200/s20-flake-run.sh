#!/usr/bin/env bash
# Twentieth session, call 4: call 3 (s20-final.txt) had one failure in
# StreamedKernelMatchesFloat64AtOddSizes (MXFP4 N=600 K=6208 tiles=4 M=100: error 0.0123), on
# w4a16_stream NT = 4, 4 stages (MINB 1: not the two-CTA cap), a path whose only changes are
# the griddepcontrol instructions and the launch through cudaLaunchKernelEx. The test again and
# again, this build (new) against the same test linked with a221e7c's w4a16_tc.cu (old),
# alternating, to tell a new race from an old rare one.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; scripts/bench-variant.sh --file
# src/kernels/w4a16_tc.cu --bin test_w4a16_tc a221e7c old; gzip -c build-old/test_w4a16_tc_old >
# build-ab/test_w4a16_tc_old.gz; run(command="bash docs/kernels/h200/s20-flake-run.sh",
# carry=["build-pack", "build-ab"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
gunzip -c build-ab/test_w4a16_tc_old.gz >"$B/test_w4a16_tc_old" && chmod +x "$B/test_w4a16_tc_old"
for r in 1 2 3; do
  for side in old new; do
    bin=$B/test_w4a16_tc; [ $side = old ] && bin=$B/test_w4a16_tc_old
    out=$(timeout 80 "$bin" --gtest_filter='*StreamedKernelMatchesFloat64AtOddSizes*' --gtest_repeat=4 2>&1)
    echo "round $r $side: $(grep -c '^\[       OK \]' <<<"$out") passed, $(grep -c '^\[  FAILED  \] GpuTc' <<<"$out") failed"
    grep -A1 "Failure" <<<"$out" | grep -E "actual|tiles" | head -6
  done
done
