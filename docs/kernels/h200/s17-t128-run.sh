#!/usr/bin/env bash
# The builds named below, from a later tree: docs/PERFORMANCE.md, seventeenth session,
# "Reproducing the A/B tables" (scripts/bench-variant.sh).
# Seventeenth session: NVFP4's rotated kernels in blocks of 128 threads, 9 an SM at 56 registers
# (36 warps, no spills; build-old/bench_fp4_G, aq-nv-t128-experiment.patch) against 9550e6b's
# 256 threads, 4 an SM at 64 registers (32 warps; build-pack) and 20974bf (build-old/bench_fp4):
# the quantizer's table in alternating processes, three rounds. A timing try: G's tests run only
# if it is adopted. Here:
#   run(command="bash docs/kernels/h200/s17-t128-run.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
{
  for r in 1 2 3; do
    for v in A:build-old/bench_fp4 F:$B/bench_fp4 G:build-old/bench_fp4_G; do
      echo "=== round $r: ${v%%:*} (${v#*:} --quant)"
      timeout 60 "${v#*:}" --quant 2>&1 | grep -E "copy|quantize|BF16 out"
    done
  done
} >"$O/quant-afg.txt" 2>&1
awk '/^=== round/{v=$4} /of copy/{k=$0; sub(/ +[0-9.]+ us.*/,"",k); gsub(/^ +/,"",k); p[v" "k]=p[v" "k]" "$(NF-3)}
  END{for (x in p) print x":"p[x]}' "$O/quant-afg.txt" | sort | grep -E "nvfp4"
