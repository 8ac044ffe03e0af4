#!/usr/bin/env bash
# Sixteenth session, sixth call: the persistent configs (16, 17, 22) back to one fence and commit
# a k-step (final-16.txt: paired, 1-3% slower there). The warpgroup tests, memcheck of the
# persistent and every-config tests, then the automatic choice where it is persistent, ea4a40b's
# build (build-old) and this one in alternating processes, two rounds.
#   run(command="bash docs/kernels/h200/s16-persist-run.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
t0=$SECONDS
timeout 200 "$B/test_w4a16_tc" --gtest_filter='*Wgmma*:*Dispatch*' >"$O/test_w4a16_tc.log" 2>&1
echo "test_w4a16_tc '*Wgmma*:*Dispatch*': exit $?, $((SECONDS - t0)) s, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/test_w4a16_tc.log" | tr '\n' ' ')"
grep -E '^\[  FAILED  \]|Failure' "$O/test_w4a16_tc.log" | head -5
timeout 60 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaPersistent*:*WgmmaEveryConfigSmall*' >"$O/memcheck.log" 2>&1
echo "memcheck: exit $?, $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "$O/memcheck.log" | tr '\n' ' ')"
{
  for r in 1 2; do
    for b in build-old "$B"; do
      echo "=== round $r: $b/bench_w4a16_tc --wg --ab -1 --ms 320,384,512,576"
      timeout 60 "$b/bench_w4a16_tc" --wg --ab -1 --ms 320,384,512,576 2>&1 | grep -E "^ *[0-9]+x"
    done
  done
} >"$O/old-new-persistent.txt" 2>&1
cat "$O/old-new-persistent.txt"
