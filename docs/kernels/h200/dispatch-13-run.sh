#!/usr/bin/env bash
# Fourteenth session, the last device call: the dispatch tests after config 13 took 64 < M <= 128
# on ~3400-4200-row weights, and the auto column at M = 65, 96, 128 on 4096x14336 (~1.5 minutes):
#   run(command="bash docs/kernels/h200/dispatch-13-run.sh > $OUT/d13.txt 2>&1; tail -12 $OUT/d13.txt",
#       carry=["build-pack"])
cd "$(dirname "$0")/../../.." || exit 1
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
timeout 100 "$B/test_w4a16_tc" --gtest_filter='*Dispatch*' 2>&1 |
  grep -E "^\[  (PASSED|FAILED)|Failure|Expected|Which is" | head -8
timeout 60 "$B/bench_w4a16_tc" --wg --only 4096x14336 --ms 65,96,128 | grep -E "^ *[0-9]+x"
