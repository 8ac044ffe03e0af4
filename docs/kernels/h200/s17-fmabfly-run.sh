#!/usr/bin/env bash
# The builds named below, from a later tree: docs/PERFORMANCE.md, seventeenth session,
# "Reproducing the A/B tables" (scripts/bench-variant.sh).
# Seventeenth session: NVFP4 b = 32 / 128 with 1/sqrt(b) joined to the dense rotation's row
# butterfly (a r +- fl(c r) by FMA: 3 instructions a pair instead of 4; build-pack = I) against
# 9550e6b (build-old/bench_fp4_F) and 20974bf (build-old/bench_fp4). The GPU tests that reach
# kernel 1 and memcheck of I, then the quantizer's table in alternating processes, three rounds.
# Here: PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz build-pack (+ the links);
#   run(command="bash docs/kernels/h200/s17-fmabfly-run.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
for tl in test_kernels:90 test_w4a4_fp8:60; do
  t=${tl%%:*} t0=$SECONDS
  timeout "${tl##*:}" "$B/$t" >"$O/$t.log" 2>&1
  echo "$t: exit $?, $((SECONDS - t0)) s, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/$t.log" | tr '\n' ' ')"
  grep -E '^\[  FAILED  \]|Failure|Expected|Which is|nvfp4 rotation' "$O/$t.log" | head -24
done
t0=$SECONDS
timeout 120 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_kernels" \
  --gtest_filter='*ActivationQuantizer*:*W4A4*' >"$O/memcheck.log" 2>&1
echo "memcheck: exit $?, $((SECONDS - t0)) s, $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "$O/memcheck.log" | tr '\n' ' ')"
{
  for r in 1 2 3; do
    for v in A:build-old/bench_fp4 F:build-old/bench_fp4_F I:$B/bench_fp4; do
      echo "=== round $r: ${v%%:*} (${v#*:} --quant)"
      timeout 60 "${v#*:}" --quant 2>&1 | grep -E "copy|quantize|BF16 out"
    done
  done
} >"$O/quant-afi.txt" 2>&1
awk '/^=== round/{v=$4} /of copy/{k=$0; sub(/ +[0-9.]+ us.*/,"",k); gsub(/^ +/,"",k); p[v" "k]=p[v" "k]" "$(NF-3)}
  END{for (x in p) print x":"p[x]}' "$O/quant-afi.txt" | sort | grep -E "nvfp4"
