#!/usr/bin/env bash
# Twenty-third session, call 6 (build-pack: this commit's tree, 4051e05's kernels plus the new
# test StreamedKernelStableOverRepeats; build-old/test_w4a16_tc_pdlfail: the same test binary
# with w4a16_tc.cu + pdl-failing-form-4051e05-experiment.patch). Call 5 left the failing placement
# unexplained by the sanitizers. The new test runs the streamed kernel on one input (MXFP4
# 600x6208 in 32-row blocks, M = 100 and 33, the failing cases) 2000 times, checks every output
# against float64, and maps the first failures: which CTA blocks, and which chunks of 128 k
# explain the error (a chunk missed, or read with another chunk's weight bytes).
# Here: bash scripts/gpu-pack.sh --tgz build-pack; scripts/bench-variant.sh --file
#   src/kernels/w4a16_tc.cu --bin test_w4a16_tc HEAD pdlfail
#   docs/kernels/h200/pdl-failing-form-4051e05-experiment.patch
#   run(command="bash docs/kernels/h200/s23-run6.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
for v in pdlfail head; do
  bin=build-old/test_w4a16_tc_pdlfail; [ $v = head ] && bin=$B/test_w4a16_tc
  echo "=== $v: MRGPTQ_REPEATS=2000 --gtest_filter=*StreamedKernelStableOverRepeats*" | tee -a "$O/out.txt"
  MRGPTQ_REPEATS=2000 timeout 150 "$bin" --gtest_filter='*StreamedKernelStableOverRepeats*' 2>&1 |
    grep -vE '^\[ RUN|^Note|^\[==|^\[--' | tee -a "$O/out.txt"
done
