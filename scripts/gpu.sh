#!/usr/bin/env bash
# Everything GPU-related in one call, for the GPU machine (H100/H200):
# build the kernels, tests and benchmark (GPU-only build: that machine has no
# OpenBLAS/CLI11), run the GPU tests, compute-sanitizer on a small case, then
# the benchmark; the short table comes last. Logs go to $OUT (or ./gpu-out).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-$PWD/gpu-out}
mkdir -p "$OUT"
BUILD=${BUILD:-build-gpu}
export PATH=/usr/local/cuda/bin:$PATH
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv | tee "$OUT/gpu.txt"
cmake -S . -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DMRGPTQ_GPU_ONLY=ON >"$OUT/configure.log" 2>&1 \
  || { tail -30 "$OUT/configure.log"; exit 1; }
cmake --build "$BUILD" -j "$(nproc)" >"$OUT/build.log" 2>&1 || { grep -E 'error' "$OUT/build.log" | head -30; exit 1; }
echo "== GPU tests"
ctest --test-dir "$BUILD" -L gpu --output-on-failure 2>&1 | tee "$OUT/tests.log" | tail -15
if command -v compute-sanitizer >/dev/null; then
  echo "== compute-sanitizer (memcheck) on the kernel tests"
  compute-sanitizer --tool memcheck --error-exitcode 9 "$BUILD/test_kernels" \
    --gtest_filter='*W4A16*:*BadShapes*' >"$OUT/sanitizer.log" 2>&1
  echo "compute-sanitizer exit $? ($(grep -c 'ERROR SUMMARY: 0 errors' "$OUT/sanitizer.log") clean summaries)"
  tail -3 "$OUT/sanitizer.log"
  compute-sanitizer --tool memcheck --error-exitcode 9 "$BUILD/test_w4a4_fp8" \
    --gtest_filter='*Rotated*:*128x128*' >"$OUT/sanitizer_fp8.log" 2>&1
  echo "compute-sanitizer (FP8 W4A4) exit $?"
  compute-sanitizer --tool memcheck --error-exitcode 9 "$BUILD/test_w4a16_tc" \
    --gtest_filter='*PlantedWrong*:*Dispatch*:*Dequantized*:*WgmmaEveryConfigSmall*' >"$OUT/sanitizer_w4a16.log" 2>&1
  echo "compute-sanitizer (W4A16 streamed and warpgroup kernels) exit $?"
fi
echo "== W4A16: streamed kernel, dequantize + cuBLAS, dispatch"
"$BUILD/bench_w4a16_tc" ${BENCH_ARGS:-} 2>&1 | tee "$OUT/bench_w4a16_tc.txt"
echo "== W4A16 warpgroup kernel: every config vs cuBLAS, M = 64..16384"
"$BUILD/bench_w4a16_tc" --wg 2>&1 | tee "$OUT/bench_w4a16_wgmma.txt"
echo "== kernel 1 vs copy, MXFP4 W4A4 on FP8 tensor cores"
"$BUILD/bench_w4a4_fp8" 2>&1 | tee "$OUT/bench_w4a4_fp8.txt"
echo "== benchmark"
"$BUILD/bench_fp4" ${BENCH_ARGS:-} 2>&1 | tee "$OUT/bench.txt"
