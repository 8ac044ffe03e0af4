#!/usr/bin/env bash
# Twenty-fifth session, call 2 (build-pack at 60294c5, as call 1): compute-sanitizer on the
# streamed kernels as they now ship (the ring's fence, the early trigger, programmatic launches
# on by default), not run since those changes: gpu.sh's memcheck stage (its test sets launch the
# dispatch, so programmatic launches wherever M <= 32), then memcheck and synccheck of the
# programmatic-launch tests that do not need the overlap window (the sanitizer may serialize
# launches: the probe AnEarlyReaderSeesTheOldContents is left out), and memcheck of
# StreamedKernelStableOverRepeats at 5 repeats (plain launches and programmatic pairs).
# Here: run(command="bash docs/kernels/h200/s25-run2.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
export PATH=/usr/local/cuda/bin:$PATH
date -u; compute-sanitizer --version | tail -1
OUT=$O timeout 400 bash scripts/gpu.sh --prebuilt build-pack sanitize >"$O/sanitize.log" 2>&1
echo "gpu.sh sanitize: exit $?"; tail -4 "$O/sanitize.log"
S='ERROR SUMMARY|^\[ +(PASSED|FAILED) +\]'
PDL='*StreamedKernelsWaitForTheKernelBefore*:*ChainsOfLayersMatchThePlainLaunches*'
for tool in memcheck synccheck; do
  timeout 150 compute-sanitizer --tool $tool --error-exitcode 9 "$B/test_programmatic_launch" \
    --gtest_filter="$PDL" >"$O/pdl-$tool.log" 2>&1
  echo "$tool test_programmatic_launch: exit $?"; grep -E "$S" "$O/pdl-$tool.log" | head -4
done
MRGPTQ_REPEATS=5 timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 \
  "$B/test_w4a16_tc" --gtest_filter='*StreamedKernelStableOverRepeats*' >"$O/repeats-memcheck.log" 2>&1
echo "memcheck StreamedKernelStableOverRepeats (5 repeats): exit $?"
grep -E "$S" "$O/repeats-memcheck.log" | head -4
date -u
