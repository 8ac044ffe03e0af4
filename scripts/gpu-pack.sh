#!/usr/bin/env bash
# Build the GPU side here (nvcc, no GPU needed) and pack what scripts/gpu.sh
# runs into one small folder, for a GPU machine that should not build:
#   scripts/gpu-pack.sh [--tgz] [--trace] [DIR]   (default DIR: build-run; git ignores build*/)
# then, there: scripts/gpu.sh --prebuilt DIR [STAGE ...]
# --trace: only bench_w4a16_tc, built in build-ltrace with the warpgroup kernel's per-CTA phase
# stamps (src/kernels/wg_trace.cuh), e.g. there:
#   MRGPTQ_WG_TRACE=9 DIR/bench_w4a16_tc --wg --cfg 8 --only 8192x8192 --ms 256 --reps 10
# The binaries are stripped (host symbols only; the kernels keep their names for
# ncu and compute-sanitizer): the seven are ~84 MB, more than the 64 MB a
# device call carries, so --tgz leaves only DIR/bundle.tgz (~16 MB), which gpu.sh unpacks.
set -euo pipefail
cd "$(dirname "$0")/.."
TGZ=0 BUILD=build-lgpu CUDA_FLAGS=""
BINS=(test_kernels test_w4a16_tc test_w4a4_fp8 test_programmatic_launch test_fp4_linear bench_w4a16_tc
  bench_w4a4_fp8 bench_fp4 bench_tma_copies probe_preexit)
while [ $# -gt 0 ]; do
  case $1 in
    --tgz) TGZ=1 ;;
    --trace) BUILD=build-ltrace CUDA_FLAGS=-DMRGPTQ_WG_TRACE BINS=(bench_w4a16_tc) ;;
    *) break ;;
  esac
  shift
done
DIR=${1:-build-run}
export PATH=/usr/local/cuda/bin:$PATH
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMRGPTQ_GPU_ONLY=ON \
  -DCMAKE_CUDA_FLAGS="$CUDA_FLAGS" >/dev/null
cmake --build "$BUILD" -j "$(nproc)" --target "${BINS[@]}"
rm -rf "$DIR"
mkdir -p "$DIR"
for b in "${BINS[@]}"; do
  strip -o "$DIR/$b" "$BUILD/$b"
done
if [ $TGZ = 1 ]; then
  tar czf "$DIR.tgz.tmp" -C "$DIR" .
  rm -rf "$DIR"
  mkdir -p "$DIR"
  mv "$DIR.tgz.tmp" "$DIR/bundle.tgz"
fi
du -sh "$DIR"
