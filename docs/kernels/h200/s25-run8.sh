#!/usr/bin/env bash
# Twenty-fifth session, call 8: the activation box of round_up(M, 8) rows where one row tile
# covers M (box_rows in w4a16_wgmma.cu; call 7 had the 64 x 64-tile configs waiting longer at
# M = 33 than at 48 with the same instructions). Every test of the kernels it touches, then the
# W4A16 rows at M = 32-64 and the small configs call for call at M = 33, 40 and 48, against
# s25-run6's figures of the same binary before the change.
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s25-run8.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
date -u
F='^\[ +(FAILED|PASSED|SKIPPED) +\]|Failure$|Expected|Which is'
for t in test_w4a16_tc:300 test_kernels:90 test_fp4_linear:90; do
  timeout "${t##*:}" "$B/${t%%:*}" >"$O/${t%%:*}.log" 2>&1; echo "${t%%:*}: exit $?"
  grep -E "$F" "$O/${t%%:*}.log" | head -20
done
timeout 120 "$B/bench_w4a16_tc" --ms 32,33,36,40,48,64 >"$O/dispatch.txt" 2>&1
grep -E '^ *[0-9]+x' "$O/dispatch.txt" | awk -F'|' '{split($1,a," "); split($11,g," ");
  split($12,h," "); print a[1], a[2], "bf16", a[3], "gemm mx", g[1], g[2], "nv", h[1], h[2]}'
for m in 33 40 48; do
  timeout 100 "$B/bench_w4a16_tc" --wg --ab -1,3,10 --ms $m 2>&1 | tee -a "$O/configs.txt" |
    grep -E '^ *[0-9]+x' | cut -c1-150
done
date -u
