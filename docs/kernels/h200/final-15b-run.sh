#!/usr/bin/env bash
# Fifteenth session, second form of final-15-run.sh (whose tests and sanitizer together ran past
# its 400 s limit with no logs kept): the issue's table first, then each GPU test binary under its
# own limit with its log kept, then memcheck on the new paths only. Here:
#   PATH=/usr/local/cuda/bin:$PATH bash scripts/gpu-pack.sh --tgz build-pack
#   (and the test_w4a16_tc of the final commit stripped into build-t15)
#   run(command="bash docs/kernels/h200/final-15b-run.sh", carry=["build-pack", "build-t15"])
cd "$(dirname "$0")/../../.." || exit 1
O=${OUT:-$PWD/gpu-out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && cp build-t15/test_w4a16_tc "$B"/ && chmod +x "$B"/*
t0=$SECONDS
timeout 90 "$B/bench_fp4" >"$O/bench_fp4.txt" 2>&1
echo "bench_fp4: exit $?, $((SECONDS - t0)) s"
for tl in test_w4a16_tc:220 test_kernels:100 test_w4a4_fp8:60; do
  t=${tl%%:*} t0=$SECONDS
  timeout "${tl##*:}" "$B/$t" >"$O/$t.log" 2>&1
  echo "$t: exit $?, $((SECONDS - t0)) s, $(grep -E '^\[  (PASSED|FAILED) +\] [0-9]+ test' "$O/$t.log" | tr '\n' ' ')"
  grep -E '^\[  FAILED  \]|Failure|Expected|Which is' "$O/$t.log" | head -10
done
t0=$SECONDS
timeout 90 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/test_w4a16_tc" \
  --gtest_filter='*WgmmaPersistent*:*WgmmaEveryConfigSmall*' >"$O/memcheck.log" 2>&1
echo "memcheck: exit $?, $((SECONDS - t0)) s, $(grep -E 'ERROR SUMMARY|PASSED|FAILED' "$O/memcheck.log" | tr '\n' ' ')"
grep -E "OK \]" "$O/test_w4a16_tc.log" | sed 's/^\[       OK \] //' | sort -t'(' -k2 -n -r | head -8
