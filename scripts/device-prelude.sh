# Sourced by the device-call scripts (docs/kernels/h200/sNN-runN.sh), from the repository root:
#   cd "$(dirname "$0")/../../.." || exit 1; . scripts/device-prelude.sh
# O: the call's output folder ($OUT on the device machine); B: build-pack's binaries unpacked
# (scripts/gpu-pack.sh --tgz build-pack), with build-old's variants, if carried, made executable;
# ab_rounds: an A/B of benchmark binaries in alternating processes (below).
set -uo pipefail
O=${OUT:-/tmp/out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
[ -d build-old ] && chmod +x build-old/* 2>/dev/null
# ab_rounds R ARG... -- NAME=BIN...: R rounds; in each, every BIN runs with the ARGs in turn
# (alternating processes, so that an A/B sees the same clocks and drift), headed
# "=== round r: NAME" and followed by "exit N". AB_TIMEOUT (default 60) bounds each run.
ab_rounds() {
  local rounds=$1 args=() r nb
  shift
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1") && shift; done
  shift
  for r in $(seq 1 "$rounds"); do
    for nb in "$@"; do
      echo "=== round $r: ${nb%%=*}"
      timeout "${AB_TIMEOUT:-60}" "${nb#*=}" "${args[@]}"
      echo "exit $?"
    done
  done
}
true
