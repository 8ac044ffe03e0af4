#!/usr/bin/env bash
# The builds named below, from a later tree: docs/PERFORMANCE.md, seventeenth session,
# "Reproducing the A/B tables" (scripts/bench-variant.sh).
# Seventeenth session, final call: the committed kernel 1 (NVFP4's rotations as one dense
# 64-point mma, MXFP4's unchanged). The GPU tests that reach kernel 1 and memcheck of its tests,
# the quantizer's table of the previous build (20974bf's act_quant.cu linked into the same
# bench_fp4, build-old) and of this one in alternating processes, three rounds, then the issue's
# table. Here:
#   PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz build-pack
#   run(command="bash docs/kernels/h200/s17-final-run.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
for tl in test_kernels:90 test_w4a4_fp8:60; do
  t=${tl%%:*} t0=$SECONDS
  timeout "${tl##*:}" "$B/$t" >"$O/$t.log" 2>&1
  echo "$t: exit $?, $((SECONDS - t0)) s, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/$t.log" | tr '\n' ' ')"
  grep -E '^\[  FAILED  \]|Failure|Expected|Which is' "$O/$t.log" | head -24
done
t0=$SECONDS
timeout 120 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_kernels" \
  --gtest_filter='*ActivationQuantizer*:*W4A4*' >"$O/memcheck.log" 2>&1
echo "memcheck: exit $?, $((SECONDS - t0)) s, $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "$O/memcheck.log" | tr '\n' ' ')"
t0=$SECONDS
{
  for r in 1 2 3; do
    for v in old:build-old/bench_fp4 new:$B/bench_fp4; do
      echo "=== round $r: ${v%%:*} (${v#*:} --quant)"
      timeout 60 "${v#*:}" --quant 2>&1 | grep -E "copy|quantize|BF16 out"
    done
  done
} >"$O/quant-old-new.txt" 2>&1
echo "quant old-new: $((SECONDS - t0)) s"
awk '/^=== round/{v=$4} /of copy/{k=$0; sub(/ +[0-9.]+ us.*/,"",k); gsub(/^ +/,"",k); p[v" "k]=p[v" "k]" "$(NF-3)}
  END{for (x in p) print x":"p[x]}' "$O/quant-old-new.txt" | sort
t0=$SECONDS
timeout 200 "$B/bench_fp4" >"$O/bench_fp4.txt" 2>&1
echo "bench_fp4: exit $?, $((SECONDS - t0)) s"
grep -E "^ *[0-9]+x[0-9]+ " "$O/bench_fp4.txt" | cut -c1-150
