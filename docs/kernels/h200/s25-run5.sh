#!/usr/bin/env bash
# Twenty-fifth session, call 5: W4A16 just past the streamed kernels' range. Call 4's BF16 path
# (kernel 1 + w4a16_gemm) took 45.3 us at M = 33 on 8192x8192 against 34.9 at M = 48, with the
# same wgmma config chosen for both (config 10). The dispatch at M = 32-64, then every small
# config call for call at M = 33, 40, 48 and 64 (build-pack at 49bb6a5).
# Here: run(command="bash docs/kernels/h200/s25-run5.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
date -u
timeout 120 "$B/bench_w4a16_tc" --ms 32,33,36,40,48,56,64 2>&1 | tee "$O/dispatch.txt" | cut -c1-200
for m in 33 40 48 64; do
  timeout 120 "$B/bench_w4a16_tc" --wg --ab -1,3,4,10 --ms $m 2>&1 | tee -a "$O/configs.txt" |
    grep -E '^ *[0-9]+x|^N x K|cfg' | cut -c1-200
done
date -u
