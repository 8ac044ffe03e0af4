#!/usr/bin/env bash
# Twenty-eighth session, call 4: an experiment -- what the streamed kernels' per-chunk MXFP4 fold
# check (mx_fold_ok: the largest scale byte of the warp's chunk, a vote, a branch) costs at
# M = 1-32. build-old/bench_w4a16_tc_nocheck is this build with w4a16_tc.cu patched by
# s28-stream-nocheck-experiment.patch (every chunk folds: right for the benchmark's weights, whose
# scale bytes are 118-123, not in general). Three rounds in alternating processes; the NVFP4
# column, which has no such check, is the control.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin bench_w4a16_tc HEAD nocheck \
#     docs/kernels/h200/s28-stream-nocheck-experiment.patch
#   run(command="bash docs/kernels/h200/s28-run4.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
MS=1,2,4,8,12,16,24,32
{
  date -u
  for r in 1 2 3; do
    echo "=== round $r: check (the shipped kernel)"
    timeout 60 "$B/bench_w4a16_tc" --dispatch --ms $MS; echo "exit $?"
    echo "=== round $r: nocheck"
    timeout 60 build-old/bench_w4a16_tc_nocheck --dispatch --ms $MS; echo "exit $?"
  done
  date -u
} >"$O/s28-run4-bench.txt" 2>&1
grep -E "^=== |exit " "$O/s28-run4-bench.txt"
