#!/usr/bin/env bash
# Nineteenth session, call 1: where the streamed W4A16 kernels' time goes at M = 1 and 16 -- the
# per-CTA phase stamps of wg_trace.cuh, now in w4a16_stream and w4a16_stream_xs too, printed for
# every 10th traced launch (the first line of each run is the dispatch's own kernel, "tma mx").
# Here: bash scripts/gpu-pack.sh --tgz --trace build-trace;
#   run(command="bash docs/kernels/h200/s19-trace-run.sh", carry=["build-trace"])
cd "$(dirname "$0")/../../.." || exit 1
B=$(mktemp -d)
tar xzf build-trace/bundle.tgz -C "$B" && chmod +x "$B"/*
nvidia-smi --query-gpu=name,clocks.max.sm --format=csv,noheader
for shape in 8192x8192 4096x14336 28672x8192 8192x28672; do
  for m in 1 16; do
    echo "=== $shape M = $m"
    MRGPTQ_WG_TRACE=10 timeout 60 "$B/bench_w4a16_tc" --only "$shape" --ms "$m" --reps 30 2>&1 |
      grep -E "^trace|^ *[0-9]+x" | head -3 | cut -c1-420
  done
done
