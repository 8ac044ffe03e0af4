#!/usr/bin/env bash
# The builds named below, from a later tree: docs/PERFORMANCE.md, seventeenth session,
# "Reproducing the A/B tables" (scripts/bench-variant.sh).
# Seventeenth session: kernel 1 with each warp's lane 0 prefetching into L2 the 2 KB that the
# same warp a wave of blocks later will load (cp.async.bulk.prefetch.L2), at a distance of
# MRGPTQ_AQ_PREFETCH_WAVES waves (unset: none; aq-l2-prefetch-experiment.patch). test_kernels and
# memcheck with one wave, then the quantizer's table for 0 / 0.5 / 1 / 2 waves of the same
# binary in alternating processes, three rounds. Here:
#   PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz build-pack
#   run(command="bash docs/kernels/h200/s17-l2prefetch-run.sh", carry=["build-pack", "build-old"])
# Second call: the prefetch without a "memory" clobber (the first had one), and the committed kernel
# (384e17c, build-old/bench_fp4_C0) timed in the same rounds.
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/* 2>/dev/null
MRGPTQ_AQ_PREFETCH_WAVES=1 timeout 90 "$B/test_kernels" >"$O/test_kernels.log" 2>&1
echo "test_kernels (1 wave): exit $?, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/test_kernels.log" | tr '\n' ' ')"
MRGPTQ_AQ_PREFETCH_WAVES=1 timeout 120 /usr/local/cuda/bin/compute-sanitizer --tool memcheck \
  "$B/test_kernels" --gtest_filter='*ActivationQuantizer*:*W4A4*' >"$O/memcheck.log" 2>&1
echo "memcheck: exit $?, $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "$O/memcheck.log" | tr '\n' ' ')"
{
  for r in 1 2 3; do
    for w in committed off 0.5 1; do
      echo "=== round $r: w$w"
      if [ $w = committed ]; then timeout 60 build-old/bench_fp4_C0 --quant
      elif [ $w = off ]; then timeout 60 "$B/bench_fp4" --quant; else
        MRGPTQ_AQ_PREFETCH_WAVES=$w timeout 60 "$B/bench_fp4" --quant; fi 2>&1 | grep -E "copy|quantize|BF16 out"
    done
  done
} >"$O/quant-prefetch.txt" 2>&1
awk '/^=== round/{v=$4} /of copy/{k=$0; sub(/ +[0-9.]+ us.*/,"",k); gsub(/^ +/,"",k); p[v" "k]=p[v" "k]" "$(NF-3)}
  END{for (x in p) print x":"p[x]}' "$O/quant-prefetch.txt" | sort -k2
