#!/usr/bin/env bash
# Run inside s21-run3.sh (output in s21-run3.txt).
# Twenty-first session, call 2: can programmatic launches fetch the weight before the wait again,
# without a bulk copy in flight at either griddepcontrol instruction? The twentieth session's
# first form (copies before the wait) gained ~1.2 us a layer more on 8192x8192 M = 1 than the
# conservative form in the tree (s21-run1.txt: 14.5 -> 13.1). Variants of w4a16_tc.cu (plain
# launches identical in all three):
#   head  the tree: in a programmatic launch the wait first, the trigger after the main loop
#   pf    HEAD + pdl-l2-prefetch-experiment.patch: the producer prefetches its first stages'
#         weight into L2 (cp.async.bulk.prefetch.L2: no shared memory, no barrier) before the
#         wait (w4a16_stream and w4a16_stream_xs)
#   pft   HEAD + pdl-l2-prefetch-trigger-first-experiment.patch: pf, and w4a16_stream lets its
#         dependents launch at its very start, before the prefetch (no copy in flight)
# Each variant's test_programmatic_launch (bit-exact chains against plain launches, the hazard
# test), then chains of 8 layers, alternating, two rounds.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; P=docs/kernels/h200; for b in bench_w4a16_tc
#   test_programmatic_launch; do scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin $b
#   HEAD pf $P/pdl-l2-prefetch-experiment.patch; ... HEAD pft
#   $P/pdl-l2-prefetch-trigger-first-experiment.patch; done; gzip build-old/*_pf* into build-ab2/;
#   run(command="bash docs/kernels/h200/s21-run2.sh", carry=["build-pack", "build-ab2"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
cp "$B/bench_w4a16_tc" "$B/bench_w4a16_tc_head"
for f in build-ab2/*.gz; do n=$(basename "$f" .gz); gunzip -c "$f" >"$B/$n" && chmod +x "$B/$n"; done
for n in pf pft; do
  echo "== test_programmatic_launch $n"
  timeout 90 "$B/test_programmatic_launch_$n" 2>&1 | grep -E "^\[  (PASSED|FAILED) |OK \]|FAILED \]|Failure|Which is" | head -12
done
for r in 1 2; do
  for n in head pf pft; do
    echo "== round $r $n"
    timeout 90 "$B/bench_w4a16_tc_$n" --chain 8 --ms 1,16 2>&1 | grep -E "^ *[0-9]+x[0-9]+ "
  done
done
