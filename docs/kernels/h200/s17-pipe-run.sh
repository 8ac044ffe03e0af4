#!/usr/bin/env bash
# The builds named below, from a later tree: docs/PERFORMANCE.md, seventeenth session,
# "Reproducing the A/B tables" (scripts/bench-variant.sh).
# Seventeenth session, second call: kernel 1 with each thread's values brought a chunk ahead
# through shared memory by cp.async (a persistent grid), on the dense tensor-core rotation. The
# GPU tests that reach kernel 1 and memcheck of its tests, then the quantizer's table of four
# builds of bench_fp4 that differ only in act_quant.cu, in alternating processes, three rounds:
#   A = 20974bf (16-point mma rotation / b = 32 in registers, one chunk a thread)
#   B = the dense 64-point rotation (rot_mma.hpp), one chunk a thread (the first call's code)
#   C = B + the input streamed by TMA bulk copies a warp, three stages (build-pack)
#   D = A + the same TMA ring
# Here: PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz build-pack, and
# build-old/bench_fp4{,_B,_D} linked with the other act_quant.cu objects;
#   run(command="bash docs/kernels/h200/s17-pipe-run.sh", carry=["build-pack", "build-old"])
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
    for v in A:build-old/bench_fp4 B:build-old/bench_fp4_B C:$B/bench_fp4 D:build-old/bench_fp4_D; do
      echo "=== round $r: ${v%%:*} (${v#*:} --quant)"
      timeout 60 "${v#*:}" --quant 2>&1 | grep -E "copy|quantize|BF16 out"
    done
  done
} >"$O/quant-abcd.txt" 2>&1
echo "quant abcd: $((SECONDS - t0)) s"
# One line per variant and row: the median % of copy over the three rounds.
awk '/^=== round/{v=$4} /of copy/{k=$0; sub(/ +[0-9.]+ us.*/,"",k); gsub(/^ +/,"",k); p[v" "k]=p[v" "k]" "$(NF-3)}
  END{for (x in p) print x":"p[x]}' "$O/quant-abcd.txt" | sort
