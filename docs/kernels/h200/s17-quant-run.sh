#!/usr/bin/env bash
# The builds named below, from a later tree: docs/PERFORMANCE.md, seventeenth session,
# "Reproducing the A/B tables" (scripts/bench-variant.sh).
# Seventeenth session, first call: the rotation as a dense 64-point transform on the tensor
# cores (src/kernels/rot_mma.hpp). The GPU tests that reach kernel 1 (test_kernels,
# test_w4a4_fp8) and memcheck of the quantizer tests, then the quantizer's table of the new and
# of the previous build (20974bf's act_quant.cu linked into the same bench_fp4, build-old) in
# alternating processes, three rounds, then the issue's table. Here:
#   PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz build-pack
#   (build-old/bench_fp4: the same link with the old act_quant.cu object)
#   run(command="bash docs/kernels/h200/s17-quant-run.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
for tl in test_kernels:90 test_w4a4_fp8:60; do
  t=${tl%%:*} t0=$SECONDS
  timeout "${tl##*:}" "$B/$t" >"$O/$t.log" 2>&1
  echo "$t: exit $?, $((SECONDS - t0)) s, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/$t.log" | tr '\n' ' ')"
  grep -E '^\[  FAILED  \]|Failure|Expected|Which is|differ from' "$O/$t.log" | head -24
done
t0=$SECONDS
timeout 120 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_kernels" \
  --gtest_filter='*ActivationQuantizer*' >"$O/memcheck.log" 2>&1
echo "memcheck: exit $?, $((SECONDS - t0)) s, $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "$O/memcheck.log" | tr '\n' ' ')"
t0=$SECONDS
{
  for r in 1 2 3; do
    for b in build-old "$B"; do
      echo "=== round $r: $b/bench_fp4 --quant"
      timeout 60 "$b/bench_fp4" --quant 2>&1 | grep -E "copy|quantize|BF16 out"
    done
  done
} >"$O/quant-old-new.txt" 2>&1
echo "quant old-new: $((SECONDS - t0)) s"
t0=$SECONDS
timeout 150 "$B/bench_fp4" >"$O/bench_fp4.txt" 2>&1
echo "bench_fp4: exit $?, $((SECONDS - t0)) s"
cat "$O/quant-old-new.txt"
tail -32 "$O/bench_fp4.txt"
