#!/usr/bin/env bash
# Twenty-first session, call 3 (the last ~290 s of device time): in call 2 (s21-run3.txt) the
# trigger at the start beat the trigger after the loop by 0.4-0.8 us a layer on two shapes, both
# with the (harmful) L2 prefetch. Without it:
#   head  the tree: in a programmatic launch the wait first, the trigger after the main loop
#   tf    HEAD + pdl-trigger-first-experiment.patch: w4a16_stream triggers at its very start,
#         then waits, before any copy (no copy in flight at either instruction)
# tf's test_programmatic_launch, then chains of 8, alternating, three rounds.
# Here: bash scripts/gpu-pack.sh --tgz build-pack; for b in bench_w4a16_tc test_programmatic_launch;
#   do scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin $b HEAD tf
#   docs/kernels/h200/pdl-trigger-first-experiment.patch; done; gzip both into build-ab3/;
#   run(command="bash docs/kernels/h200/s21-run4.sh", carry=["build-pack", "build-ab3"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" ./bench_w4a16_tc && chmod +x "$B"/*
mv "$B/bench_w4a16_tc" "$B/bench_w4a16_tc_head"
for f in build-ab3/*.gz; do n=$(basename "$f" .gz); gunzip -c "$f" >"$B/$n" && chmod +x "$B/$n"; done
echo "== test_programmatic_launch tf"
timeout 60 "$B/test_programmatic_launch_tf" 2>&1 | grep -E "^\[  (PASSED|FAILED) |OK \]|FAILED \]|Failure|Which is" | head -12
for r in 1 2 3; do
  for n in head tf; do
    echo "== round $r $n"
    timeout 40 "$B/bench_w4a16_tc_$n" --chain 8 --ms 1,16 2>&1 | grep -E "^ *[0-9]+x[0-9]+ "
  done
done
