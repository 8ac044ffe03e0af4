#!/usr/bin/env bash
# Thirty-first session, call 4: where RemTile's mma.sync costs its tile ~12% (calls 1-3). ncu's
# per-SASS-instruction stall samples (SourceCounters) of config 108 at M = 257 (every CTA runs
# the remainder loop) and config 8 at M = 256, 8192x8192, MXFP4, layout 2; summarised by
# scripts/ncu_source_summary.py.
# Here: build-pack holds bench_w4a16_tc and test_w4a16_tc of scripts/gpu-pack.sh's bundle (aa51acc's
#   kernels); run(command="bash docs/kernels/h200/s31-run4.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
RE='w4a16_wgmma_kernelINS1_4TCfgILi1ELi256ELi2ELi3ELb0ELi1ELi0ELi2ELi2ELi1ELb0ELi'
for c in "108 257 ${RE}1E" "8 256 ${RE}0E"; do
  set -- $c
  echo "=== source counters: config $1 at M = $2"
  timeout 150 ncu --clock-control none --kernel-name-base mangled -k "regex:$3" --launch-skip 2 -c 1 \
    --section SourceCounters --section WarpStateStats --metrics smsp__inst_executed.sum \
    --page source --print-source sass --csv "$B/bench_w4a16_tc" --only 8192x8192 --wg --cfg "$1" \
    --ms "$2" --reps 1 >"$O/ncu-src-$1.csv" 2>&1
  echo "ncu exit $?"
  gzip -9 "$O/ncu-src-$1.csv"
  python3 scripts/ncu_source_summary.py "$O/ncu-src-$1.csv.gz" --loop 20000 --top 14 2>&1 | head -90
done >"$O/s31-run4-log.txt" 2>&1
tail -5 "$O/s31-run4-log.txt"
