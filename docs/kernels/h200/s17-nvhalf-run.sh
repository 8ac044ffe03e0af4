#!/usr/bin/env bash
# The builds named below, from a later tree: docs/PERFORMANCE.md, seventeenth session,
# "Reproducing the A/B tables" (scripts/bench-variant.sh).
# Seventeenth session, fifth call: NVFP4's dense rotation one group at a time (16 accumulators
# live, 48 registers, 5 blocks an SM; build-pack = E) against all 32 at once (64 registers, 4
# blocks; build-old/bench_fp4_F, its act_quant.cu otherwise the same), MXFP4 unchanged in both.
# The GPU tests and memcheck of E, then the quantizer's table of A (20974bf), E and F in
# alternating processes, three rounds. Here:
#   PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz build-pack; build-old/bench_fp4
#   (A) and bench_fp4_F linked with the other act_quant.cu objects;
#   run(command="bash docs/kernels/h200/s17-nvhalf-run.sh", carry=["build-pack", "build-old"])
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
    for v in A:build-old/bench_fp4 E:$B/bench_fp4 F:build-old/bench_fp4_F; do
      echo "=== round $r: ${v%%:*} (${v#*:} --quant)"
      timeout 60 "${v#*:}" --quant 2>&1 | grep -E "copy|quantize|BF16 out"
    done
  done
} >"$O/quant-aef.txt" 2>&1
echo "quant aef: $((SECONDS - t0)) s"
awk '/^=== round/{v=$4} /of copy/{k=$0; sub(/ +[0-9.]+ us.*/,"",k); gsub(/^ +/,"",k); p[v" "k]=p[v" "k]" "$(NF-3)}
  END{for (x in p) print x":"p[x]}' "$O/quant-aef.txt" | sort
