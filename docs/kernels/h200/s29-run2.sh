#!/usr/bin/env bash
# Twenty-ninth session, call 2: where kernel 1 lets the next kernel start. Three builds of
# bench_w4a16_tc, differing only in src/kernels/act_quant.cu, timed in alternating processes
# (ab_rounds, two rounds), decode chains of W4A4 layers (--chain 8 --w4a4) and single layers
# (--chain 1 --w4a4), M = 1-32, the four shapes:
#   early = 74e7993 (build-pack): trigger, then wait, at the kernel's start;
#   late  = build-old/bench_w4a16_tc_k1late: wait, then trigger
#           (docs/kernels/h200/s29-k1-trigger-after-wait-experiment.patch);
#   plain = build-old/bench_w4a16_tc_k1plain: act_quant.cu at 003f8a2 (kernel 1 a plain launch;
#           the GEMMs still programmatic in the pdl columns).
# Then the issue's table at 74e7993 (bench_fp4, one round).
# Here: bash scripts/gpu-pack.sh --tgz build-pack; scripts/bench-variant.sh --file
#   src/kernels/act_quant.cu --bin bench_w4a16_tc HEAD k1late <patch>; ... 003f8a2 k1plain;
#   run(command="bash docs/kernels/h200/s29-run2.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
. scripts/device-prelude.sh
{
  date -u
  for c in 8 1; do
    echo "##### --chain $c --w4a4"
    ab_rounds 2 --chain "$c" --w4a4 --ms 1,4,8,16,24,32 -- early="$B/bench_w4a16_tc" \
      late=build-old/bench_w4a16_tc_k1late plain=build-old/bench_w4a16_tc_k1plain
  done
  date -u
} >"$O/s29-run2-ab.txt" 2>&1
grep -cE "^exit 0" "$O/s29-run2-ab.txt"
{
  date -u
  echo "=== bench_fp4"
  timeout 200 "$B/bench_fp4"; echo "exit $?"
  date -u
} >"$O/s29-run2-bench.txt" 2>&1
grep -E "^=== |exit " "$O/s29-run2-bench.txt"
