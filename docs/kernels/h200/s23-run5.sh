#!/usr/bin/env bash
# Twenty-third session, call 5 (build-pack: 4051e05; build-old/test_w4a16_tc_pdlfail: the same
# with w4a16_tc.cu's griddepcontrol instructions placed as the twentieth session's failing build
# placed them, in every launch: the trigger right after the first stages' copies, the wait after
# the block barrier; pdl-failing-form-4051e05-experiment.patch, the twentieth session's patch
# rebased). The cause of its wrong sums in plain launches is open; the PREEXIT probe (s22-run2)
# cleared the copies. Here: does the build still fail, and do compute-sanitizer's racecheck
# and synccheck see a hazard in it (and not in 4051e05)?
# Here: bash scripts/gpu-pack.sh --tgz build-pack; scripts/bench-variant.sh --file
#   src/kernels/w4a16_tc.cu --bin test_w4a16_tc HEAD pdlfail
#   docs/kernels/h200/pdl-failing-form-4051e05-experiment.patch
#   run(command="bash docs/kernels/h200/s23-run5.sh", carry=["build-pack", "build-old"])
cd "$(dirname "$0")/../../.." || exit 1
set -uo pipefail
O=${OUT:-/tmp/out}; mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/* build-old/*
F='--gtest_filter=*StreamedKernelMatchesFloat64AtOddSizes*'
for v in pdlfail head; do
  bin=build-old/test_w4a16_tc_pdlfail; [ $v = head ] || true; [ $v = head ] && bin=$B/test_w4a16_tc
  echo "=== $v: plain, --gtest_repeat=4" | tee -a "$O/summary.txt"
  timeout 60 "$bin" "$F" --gtest_repeat=4 >"$O/plain-$v.txt" 2>&1
  grep -cE '^\[  FAILED  \] GpuTc' "$O/plain-$v.txt" | sed 's/^/failed repeats: /' | tee -a "$O/summary.txt"
  grep -E 'actual:|M=' "$O/plain-$v.txt" | head -8 | tee -a "$O/summary.txt"
done
for tc in racecheck:pdlfail synccheck:pdlfail racecheck:head; do
  tool=${tc%:*} v=${tc#*:}
  bin=build-old/test_w4a16_tc_pdlfail; [ $v = head ] && bin=$B/test_w4a16_tc
  echo "=== $v: compute-sanitizer --tool $tool" | tee -a "$O/summary.txt"
  timeout 120 compute-sanitizer --tool $tool --print-limit 20 "$bin" "$F" >"$O/$tool-$v.txt" 2>&1
  echo "rc $?" | tee -a "$O/summary.txt"
  grep -E 'ERROR SUMMARY|RACECHECK SUMMARY|hazard|Race|Barrier|OK \]|FAILED \]' "$O/$tool-$v.txt" | sort | uniq -c | sort -rn | head -12 | tee -a "$O/summary.txt"
done
