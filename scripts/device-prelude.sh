# Sourced by the device-call scripts (docs/kernels/h200/sNN-runN.sh), from the repository root:
#   cd "$(dirname "$0")/../../.." || exit 1; . scripts/device-prelude.sh
# O: the call's output folder ($OUT on the device machine); B: build-pack's binaries unpacked
# (scripts/gpu-pack.sh --tgz build-pack), with build-old's variants, if carried, made executable.
set -uo pipefail
O=${OUT:-/tmp/out}
mkdir -p "$O"
B=$(mktemp -d)
tar xzf build-pack/bundle.tgz -C "$B" && chmod +x "$B"/*
[ -d build-old ] && chmod +x build-old/* 2>/dev/null
true
