#!/usr/bin/env bash
# Fourteenth session, the final code (config 14 = 128 x 128 tiles with K split over a cluster of
# 2 CTAs, chosen for 64 < M <= 128 where its clusters fill 4/5 of the GPU): every GPU test and
# memcheck (scripts/gpu.sh test sanitize), then bench_w4a16_tc --wg at M = 65, 96, 128, two
# rounds. One device call (~5 minutes), binaries from scripts/gpu-pack.sh --tgz build-pack:
#   run(command="bash docs/kernels/h200/final-14-run.sh > $OUT/final.txt 2>&1; tail -30 $OUT/final.txt",
#       carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
mkdir -p /tmp/o
OUT=/tmp/o timeout 420 scripts/gpu.sh --prebuilt build-pack test sanitize > /tmp/o/console.txt 2>&1
grep -E "Failure|FAILED|Expected|Which is" /tmp/o/*.log | head -10
grep -h "differ from" /tmp/o/test_kernels.log | head -12
grep -A10 '== summary' /tmp/o/console.txt
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
for r in 1 2; do
  echo "=== round $r"
  timeout 100 "$B/bench_w4a16_tc" --wg --ms 65,96,128 | grep -E "^ *[0-9]+x"
done
