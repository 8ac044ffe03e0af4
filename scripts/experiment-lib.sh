# Helpers for the prepared experiments' run scripts (docs/kernels/h200/*-experiment-run.sh),
# sourced by them on the GPU machine with B set to the folder of their binaries (build-ab, in
# the repository root). A setting is one or more VAR=VALUE joined by commas (as scripts/gpu.sh's
# AB_ENVS has them). TEST_BIN: the test program of tests and memcheck (default test_w4a16_tc).
chmod +x "$B"/*
TEST_BIN=${TEST_BIN:-test_w4a16_tc}
# tests FILTER SETTING ...: TEST_BIN's filtered tests under each setting, failures counted by line
tests() {
  local filter=$1 e
  shift
  for e in "$@"; do
    env ${e//,/ } timeout 200 "$B/$TEST_BIN" --gtest_filter="$filter" 2>&1 |
      grep -E "^\[  (PASSED|FAILED)|Failure" | sort | uniq -c | sed "s/^/$e test: /"
  done
}
# memcheck SETTING FILTER
memcheck() {
  env ${1//,/ } timeout 150 /usr/local/cuda/bin/compute-sanitizer --tool memcheck "$B/$TEST_BIN" \
    --gtest_filter="$2" 2>&1 | grep -E "ERROR SUMMARY" | sed "s/^/$1 memcheck: /"
}
# bench MS "SHAPES" SETTING ...: scripts/gpu.sh's ab stage (the settings alternating, two rounds),
# one shape at a time; SHAPES "" = bench_w4a16_tc's four
bench() {
  local ms=$1 shapes=$2 nk only
  shift 2
  for nk in ${shapes:-four}; do
    only=$([ "$nk" = four ] || echo "--only $nk")
    AB_ENVS="$*" AB_ARGS="$only --ms $ms" OUT=${OUT:-/tmp/ab-out} \
      "$B/../scripts/gpu.sh" --prebuilt "$B" ab 2>&1 | grep -E "^=== round|^ *[0-9]+x[0-9]+ "
  done
}
