#!/usr/bin/env bash
# Twenty-second session, call 1 (build-pack from dc678d2). (1) bench/gpu/probe_preexit.cu: does
# PREEXIT or ACQBULK corrupt a CTA's own bulk copies (s22-probe-preexit-run.sh)? (2) ncu on the
# X-staged kernel at M = 16 (w4a16_stream_xs, MXFP4, NT = 2) on 28672x8192 (CTAs of 7 row blocks)
# and 8192x28672 (CTAs of 2), against the streamed kernel at M = 1 on 8192x28672: issue, warps,
# stall reasons (gpu.sh profile metrics), then per-SASS-opcode counts and stall samples
# (ncu_source_summary.py). M = 16 costs ~23% more than M = 1 on both shapes; which stall?
# Here: bash scripts/gpu-pack.sh --tgz build-pack;
#   run(command="bash docs/kernels/h200/s22-run1.sh", carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
nvidia-smi --query-gpu=name,clocks.max.sm,power.limit --format=csv,noheader
echo "=== probe_preexit"
timeout 240 "$B/probe_preexit" --launches 20000 --rounds 2
echo "probe rc=$?"
XS='w4a16_stream_xsILb0ELi2E'
ST='w4a16_streamILi4ELb0ELi1E'
PROFILE_CASES="xs M=16 28672x8192|$XS|--only 28672x8192 --ms 16 --reps 1;\
xs M=16 8192x28672|$XS|--only 8192x28672 --ms 16 --reps 1;\
stream M=1 8192x28672|$ST|--only 8192x28672 --ms 1 --reps 1" \
  OUT=$O timeout 200 scripts/gpu.sh --prebuilt build-pack profile 2>&1 | tail -2
cat "$O/ncu-profile.txt"
for c in "28672x8192 16 $XS xs16-28672x8192" "8192x28672 16 $XS xs16-8192x28672" \
         "8192x28672 1 $ST st1-8192x28672"; do
  set -- $c
  echo "=== source counters: $4"
  timeout 150 ncu --clock-control none --kernel-name-base mangled -k "regex:$3" --launch-skip 2 -c 1 \
    --section SourceCounters --metrics smsp__inst_executed.sum \
    --page source --print-source sass --csv "$B/bench_w4a16_tc" --only "$1" --ms "$2" --reps 1 \
    >"$O/ncu-src-$4.csv" 2>&1
  gzip -9 "$O/ncu-src-$4.csv"
  python3 scripts/ncu_source_summary.py "$O/ncu-src-$4.csv.gz" --loop 5000 --top 10 2>&1 | head -70
done
