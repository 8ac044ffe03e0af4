#!/usr/bin/env bash
# Sixteenth session, final call: the committed paired k-steps and shared-memory epilogue. The
# issue's table, each GPU test binary under its own limit, memcheck of the every-config and
# persistent tests, then the automatic choice of the new and of the previous build (ea4a40b's
# bench_w4a16_tc, kept in build-old) in alternating processes, two rounds. Here:
#   PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz build-pack
#   run(command="bash docs/kernels/h200/s16-final-run.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
t0=$SECONDS
timeout 90 "$B/bench_fp4" >"$O/bench_fp4.txt" 2>&1
echo "bench_fp4: exit $?, $((SECONDS - t0)) s"
for tl in test_w4a16_tc:260 test_kernels:60 test_w4a4_fp8:60; do
  t=${tl%%:*} t0=$SECONDS
  timeout "${tl##*:}" "$B/$t" >"$O/$t.log" 2>&1
  echo "$t: exit $?, $((SECONDS - t0)) s, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/$t.log" | tr '\n' ' ')"
  grep -E '^\[  FAILED  \]|Failure|Expected|Which is' "$O/$t.log" | head -10
done
t0=$SECONDS
timeout 60 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaPersistent*:*WgmmaEveryConfigSmall*' >"$O/memcheck.log" 2>&1
echo "memcheck: exit $?, $((SECONDS - t0)) s, $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "$O/memcheck.log" | tr '\n' ' ')"
t0=$SECONDS
{
  for r in 1 2; do
    for b in build-old "$B"; do
      echo "=== round $r: $b/bench_w4a16_tc --wg --ab -1 --ms 65,128,160,192,256,320,384,512,1024,4096"
      timeout 70 "$b/bench_w4a16_tc" --wg --ab -1 --ms 65,128,160,192,256,320,384,512,1024,4096 \
        2>&1 | grep -E "^ *[0-9]+x"
    done
  done
} >"$O/old-new.txt" 2>&1
echo "old-new: $((SECONDS - t0)) s"
tail -30 "$O/bench_fp4.txt"
