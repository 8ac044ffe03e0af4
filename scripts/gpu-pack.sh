#!/usr/bin/env bash
# Build the GPU side here (nvcc, no GPU needed) and pack what scripts/gpu.sh
# runs into one small folder, for a GPU machine that should not build:
#   scripts/gpu-pack.sh [--tgz] [DIR]   (default DIR: build-run; git ignores build*/)
# then, there: scripts/gpu.sh --prebuilt DIR [STAGE ...]
# The binaries are stripped (host symbols only; the kernels keep their names for
# ncu and compute-sanitizer): the seven are ~84 MB, more than the 64 MB a
# device call carries, so --tgz leaves only DIR/bundle.tgz (~16 MB), which gpu.sh unpacks.
set -euo pipefail
cd "$(dirname "$0")/.."
TGZ=0
if [ "${1:-}" = "--tgz" ]; then
  TGZ=1
  shift
fi
DIR=${1:-build-run}
export PATH=/usr/local/cuda/bin:$PATH
cmake -S . -B build-lgpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DMRGPTQ_GPU_ONLY=ON >/dev/null
cmake --build build-lgpu -j "$(nproc)"
rm -rf "$DIR"
mkdir -p "$DIR"
for b in test_kernels test_w4a16_tc test_w4a4_fp8 bench_w4a16_tc bench_w4a4_fp8 bench_fp4 \
  bench_tma_copies; do
  strip -o "$DIR/$b" "build-lgpu/$b"
done
if [ $TGZ = 1 ]; then
  tar czf "$DIR.tgz.tmp" -C "$DIR" .
  rm -rf "$DIR"
  mkdir -p "$DIR"
  mv "$DIR.tgz.tmp" "$DIR/bundle.tgz"
fi
du -sh "$DIR"
