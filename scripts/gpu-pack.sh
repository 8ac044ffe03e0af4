#!/usr/bin/env bash
# Build the GPU side here (nvcc, no GPU needed) and pack what scripts/gpu.sh
# runs into one small folder, for a GPU machine that should not build:
#   scripts/gpu-pack.sh [DIR]        (default DIR: build-run; git ignores build*/)
# then, there: scripts/gpu.sh --prebuilt DIR [STAGE ...]
# The binaries are stripped (host symbols only; the kernels keep their names for
# ncu and compute-sanitizer), which keeps the six of them near 60 MB.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${1:-build-run}
export PATH=/usr/local/cuda/bin:$PATH
cmake -S . -B build-lgpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DMRGPTQ_GPU_ONLY=ON >/dev/null
cmake --build build-lgpu -j "$(nproc)"
rm -rf "$DIR"
mkdir -p "$DIR"
for b in test_kernels test_w4a16_tc test_w4a4_fp8 bench_w4a16_tc bench_w4a4_fp8 bench_fp4; do
  strip -o "$DIR/$b" "build-lgpu/$b"
done
du -sh "$DIR"
