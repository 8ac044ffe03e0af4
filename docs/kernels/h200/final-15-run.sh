#!/usr/bin/env bash
# Fifteenth session: the GPU tests, the sanitizer and the issue's table (bench_fp4) on a
# prebuilt pack, then two rounds of bench_w4a16_tc --wg at the M the new dispatch rules touch
# (config 15 at 64 < M <= 128, configs 16 / 17 at M = 384 / 512). Here:
#   PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz build-pack
# then one device call (~8 minutes):
#   run(command="bash docs/kernels/h200/final-15-run.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
OUT2=${OUT:-$PWD/gpu-out}
export OUT=/tmp/o
mkdir -p $OUT "$OUT2"
timeout 400 scripts/gpu.sh --prebuilt build-pack test sanitize fp4 >$OUT/console.txt 2>&1
cp $OUT/console.txt $OUT/*fp4* "$OUT2"/
grep -A14 '== summary' $OUT/console.txt
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
for r in 1 2; do
  echo "=== round $r"
  timeout 80 "$B/bench_w4a16_tc" --wg --ms 65,128,384,512 | grep -E "^ *[0-9]+x|^N x K"
done >"$OUT2/wg.txt" 2>&1
cat "$OUT2/wg.txt" | cut -c1-40,150-200
