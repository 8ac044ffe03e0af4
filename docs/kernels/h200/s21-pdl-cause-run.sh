#!/usr/bin/env bash
# Run in the twenty-first session, inside s21-run1.sh: output in s21-run1.txt.
# Written in the twentieth session for the next one (not run). What broke plain launches in the
# twentieth session's call 4 (s20-flake.txt)? Between a221e7c (passed 12 of 12) and the failing
# build (1 of 12) two things changed at once: the griddepcontrol instructions (PREEXIT after the
# first copies, ACQBULK after the block barrier, both with bulk copies in flight) and the launch
# API (cudaLaunchKernelEx with no attribute instead of <<<>>>). The same test
# (StreamedKernelMatchesFloat64AtOddSizes; its M = 100 case runs w4a16_stream) on five
# builds of test_w4a16_tc, each differing from HEAD in w4a16_tc.cu only, alternating, two rounds
# of three repeats:
#   head          this tree (no instructions in plain launches, <<<>>>)
#   old           a221e7c's w4a16_tc.cu
#   failing       HEAD + pdl-failing-form-in-plain-launches-experiment.patch (the instructions as
#                 in the failing build, every launch, <<<>>>)
#   api           HEAD + pdl-plain-launch-api-experiment.patch (no instructions, launched through
#                 cudaLaunchKernelEx)
#   conservative  HEAD + pdl-conservative-form-in-plain-launches-experiment.patch (this tree's
#                 programmatic form -- ACQBULK first, PREEXIT after the loop -- in every launch)
# Here: bash scripts/gpu-pack.sh --tgz build-pack; P=docs/kernels/h200;
#   scripts/bench-variant.sh --file src/kernels/w4a16_tc.cu --bin test_w4a16_tc a221e7c old;
#   ... HEAD failing $P/pdl-failing-form-in-plain-launches-experiment.patch;
#   ... HEAD api $P/pdl-plain-launch-api-experiment.patch;
#   ... HEAD conservative $P/pdl-conservative-form-in-plain-launches-experiment.patch;
#   mkdir -p build-ab; for n in old failing api conservative; do gzip -c build-old/test_w4a16_tc_$n
#   > build-ab/test_w4a16_tc_$n.gz; done;
#   run(command="bash docs/kernels/h200/s21-pdl-cause-run.sh", carry=["build-pack", "build-ab"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
cp "$B/test_w4a16_tc" "$B/test_w4a16_tc_head"
for n in old failing api conservative; do
  gunzip -c "build-ab/test_w4a16_tc_$n.gz" >"$B/test_w4a16_tc_$n" && chmod +x "$B/test_w4a16_tc_$n"
done
for r in 1 2; do
  for n in head old failing api conservative; do
    out=$(timeout 60 "$B/test_w4a16_tc_$n" --gtest_filter='*StreamedKernelMatchesFloat64AtOddSizes*' \
      --gtest_repeat=3 2>&1)
    echo "round $r $n: $(grep -c '^\[       OK \]' <<<"$out") passed, $(grep -c '^\[  FAILED  \] GpuTc.*ms)' <<<"$out") failed"
    grep -A2 "Failure" <<<"$out" | grep -E "tiles" | sort | uniq -c | head -4
  done
done
