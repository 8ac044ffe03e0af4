// Kernel 1 vs copy bandwidth, and MXFP4 W4A4 on the FP8 tensor cores vs
// cuBLASLt BF16 and plain (per-tensor scaled) cuBLASLt FP8, all in one run.
// CUDA events around every call, median of the repeats, weights rotated over
// copies larger than 4x L2, random data (never zeros).
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <vector>

#include "bench_util.cuh"
#include "kernels/fp4_device.cuh"
#include "mrgptq/fp4_linear.hpp"
#include "mrgptq/kernels_fp8.hpp"

using namespace mrgptq;
using namespace mrgptq::bench;

namespace {

gpu::Fp8Blocks alloc_blocks(int64_t rows, int64_t K) {
  gpu::Fp8Blocks b;
  b.rows = rows, b.K = K;
  MRGPTQ_CUDA_CHECK(cudaMalloc(&b.data, size_t(gpu::fp8_rows_alloc(rows) * K)));
  MRGPTQ_CUDA_CHECK(cudaMalloc(&b.scales, size_t(gpu::fp8_rows_alloc(rows) * K / 128) * 4));
  return b;
}
void free_blocks(gpu::Fp8Blocks& b) {
  cudaFree(b.data), cudaFree(b.scales);
}

// The MXFP4 W4A4 layer (gpu::Fp4Linear, rotation 32) on each path at each M: kernel 1 + the W4A16
// kernels (fp8_weight off) against kernel 1 fused with the FP8 re-expression + the FP8 tensor
// cores (fp8_min_m = 1), each over cuBLAS BF16, and the path the layer's default picks.
void linear_paths(size_t rotate, const std::vector<int64_t>& ms) {
  std::printf(
      "\nMXFP4 W4A4 layer (Fp4Linear, rotation 32): its two paths by M, vs cuBLAS BF16 "
      "(auto = the path the default layer takes, kFp8MinM = %ld)\n",
      long(gpu::kFp8MinM));
  std::printf("%-11s %6s %9s | %9s %6s | %9s %6s | %5s %6s\n", "N x K", "M", "bf16 us", "bf16 path",
              "ratio", "fp8 path", "ratio", "auto", "ratio");
  for (auto nk : std::vector<std::pair<int64_t, int64_t>>{
           {8192, 8192}, {28672, 8192}, {8192, 28672}, {4096, 14336}}) {
    const int64_t N = nk.first, K = nk.second;
    const int c4 = int(rotate / size_t(N * K / 2) + 1), c16 = int(rotate / size_t(N * K * 2) + 1);
    gpu::Fp4LinearOptions ob, o8;
    ob.activations = o8.activations = gpu::LinearActivations::kFp4;
    ob.rot_block = o8.rot_block = 32;
    ob.fp8_weight = false;
    o8.fp8_min_m = 1;
    std::vector<std::unique_ptr<gpu::Fp4Linear>> lb, l8;
    for (int i = 0; i < c4; ++i) {
      gpu::Fp4Weight w;
      w.format = Format::MXFP4, w.N = N, w.K = K;
      auto* packed = dev_random<uint8_t>(size_t(N * K / 2), 60 + i,
                                         [](std::mt19937& r) { return uint8_t(r()); });
      auto* sc = dev_random<uint8_t>(size_t(N * K / 32), 70 + i,
                                     [](std::mt19937& r) { return uint8_t(118 + r() % 6); });
      w.packed = packed, w.scales = sc;
      lb.push_back(std::make_unique<gpu::Fp4Linear>(w, ob, nullptr));
      l8.push_back(std::make_unique<gpu::Fp4Linear>(w, o8, nullptr));
      cudaFree(packed), cudaFree(sc);  // the layers hold their own copies
      if (!l8.back()->holds_fp8_weight()) {
        std::printf("the FP8 weight was not made (inexact groups): linear paths skipped\n");
        return;
      }
    }
    std::vector<uint16_t*> wbf;
    for (int i = 0; i < c16; ++i)
      wbf.push_back(dev_random<uint16_t>(size_t(N * K), 80 + i, [](std::mt19937& r) {
        return bf16_of(std::normal_distribution<float>(0.f, 0.02f)(r));
      }));
    for (int64_t M : ms) {
      auto* x = dev_random<uint16_t>(size_t(M * K), 90, random_bf16);
      uint16_t* y;
      MRGPTQ_CUDA_CHECK(cudaMalloc(&y, size_t(M * N * 2)));
      const int reps = 2.0 * M * N * K > 2e12 ? 5 : 15;
      // A first call each grows the layers' workspaces outside the timed calls.
      for (int i = 0; i < c4; ++i)
        lb[size_t(i)]->forward(x, M, y, nullptr), l8[size_t(i)]->forward(x, M, y, nullptr);
      MRGPTQ_CUDA_CHECK(cudaDeviceSynchronize());
      const double tb = time_us(
          c16, reps, [&](int i) { gpu::bf16_gemm(x, M, wbf[size_t(i)], N, K, y, nullptr); });
      const double t1 = time_us(c4, reps, [&](int i) { lb[size_t(i)]->forward(x, M, y, nullptr); });
      const double t2 = time_us(c4, reps, [&](int i) { l8[size_t(i)]->forward(x, M, y, nullptr); });
      const bool fp8 = M >= gpu::Fp4LinearOptions{}.fp8_min_m;  // the default layer's choice
      std::printf("%5ldx%-5ld %6ld %9.1f | %9.1f %5.2fx | %9.1f %5.2fx | %5s %5.2fx%s\n", N, K, M,
                  tb, t1, tb / t1, t2, tb / t2, fp8 ? "fp8" : "bf16", tb / (fp8 ? t2 : t1),
                  (fp8 ? t2 : t1) > 1.03 * (fp8 ? t1 : t2) ? "  <- the other path is faster" : "");
      std::fflush(stdout);
      cudaFree(x), cudaFree(y);
    }
    for (auto* b : wbf) cudaFree(b);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const bool linear_only = argc > 1 && std::strcmp(argv[1], "--linear") == 0;
  std::vector<int64_t> ms = {1, 16, 32, 33, 48, 64, 96, 128, 192, 256, 1024, 4096};
  if (linear_only && argc == 4 && std::strcmp(argv[2], "--ms") == 0) ms = int_list(argv[3]);
  if ((argc > 1 && !linear_only) || (linear_only && argc != 2 && argc != 4) || ms.empty() ||
      *std::min_element(ms.begin(), ms.end()) < 1) {
    std::printf(
        "usage: bench_w4a4_fp8 [--linear [--ms M1,M2,...]]\n"
        "  kernel 1 against copy bandwidth, MXFP4 W4A4 on the FP8 tensor cores against\n"
        "  cuBLAS BF16 / FP8, then the MXFP4 W4A4 layer's two paths by M;\n"
        "  --linear: only the last (--ms: at these M).\n");
    return 2;
  }
  if (!gpu::device_available()) {
    std::printf("no CUDA device: benchmark skipped\n");
    return 0;
  }
  cudaDeviceProp prop;
  MRGPTQ_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount,
              prop.l2CacheSize >> 20);
  const size_t rotate = size_t(4) * size_t(prop.l2CacheSize);
  // Single calls as plain launches, as bench_fp4 times them: back to back, programmatic launches
  // of the streamed kernels would overlap each timed call with the one before.
  gpu::set_programmatic_launch(false);
  if (linear_only) {
    linear_paths(rotate, ms);
    return 0;
  }

  {  // ---- kernel 1 vs copy ----
    const int64_t M = 16384, K = 8192;
    const size_t n = size_t(M * K);
    auto* x = dev_random<uint16_t>(n, 1, random_bf16);
    uint16_t* y;
    uint8_t *p, *s;
    MRGPTQ_CUDA_CHECK(cudaMalloc(&y, n * 2));
    MRGPTQ_CUDA_CHECK(cudaMalloc(&p, n / 2));
    MRGPTQ_CUDA_CHECK(cudaMalloc(&s, n / 16));
    const double copy = time_us(1, 30, [&](int) {
      MRGPTQ_CUDA_CHECK(cudaMemcpyAsync(y, x, n * 2, cudaMemcpyDeviceToDevice));
    });
    const double copy_gbs = 2.0 * n * 2 / copy / 1e3;
    std::printf("\nkernel 1 (activation quantizer), BF16 [%ld, %ld] -> FP4 codes + scales\n", M, K);
    std::printf("  %-22s %9.1f us %7.0f GB/s\n", "copy (D2D, same bytes)", copy, copy_gbs);
    for (Format f : {Format::MXFP4, Format::NVFP4})
      for (int rot : {0, 16, 32, 64, 128}) {
        const double t = time_us(1, 30, [&](int) {
          gpu::quantize_activations(x, M, K, f, rot, 448.f, p, s, nullptr, nullptr);
        });
        const double bytes = n * 2.0 + n / 2.0 + double(n) / format_info(f).group;
        char name[40];
        std::snprintf(name, sizeof name, "%s rotation %d", to_string(f), rot);
        std::printf("  %-22s %9.1f us %7.0f GB/s  %5.1f%% of copy\n", name, t, bytes / t / 1e3,
                    100.0 * bytes / t / 1e3 / copy_gbs);
      }
    cudaFree(x), cudaFree(y), cudaFree(p), cudaFree(s);
  }

  // ---- MXFP4 W4A4 on FP8 tensor cores ----
  std::printf("\nMXFP4 W4A4 on FP8 tensor cores (1x128 block scales) vs cuBLASLt BF16 / FP8\n");
  std::printf("%-11s %6s %9s | %9s %6s | %9s %6s | %9s %6s | %9s | %8s | %9s %6s | %9s %6s\n",
              "N x K", "M", "bf16 us", "fp8 us", "ratio", "w4a4 gemm", "ratio", "w4a4 lin", "ratio",
              "TFLOP/s", "quant us", "2d gemm", "ratio", "2d lin", "ratio");
  for (auto nk : std::vector<std::pair<int64_t, int64_t>>{
           {8192, 8192}, {28672, 8192}, {8192, 28672}, {4096, 14336}}) {
    const int64_t N = nk.first, K = nk.second;
    const int c8 = int(rotate / size_t(N * K) + 1), c16 = int(rotate / size_t(N * K * 2) + 1);
    std::vector<gpu::Fp8Blocks> w8, w2d;
    std::vector<uint8_t*> wplain;
    for (int i = 0; i < c8; ++i) {
      auto* packed = dev_random<uint8_t>(size_t(N * K / 2), 10 + i,
                                         [](std::mt19937& r) { return uint8_t(r()); });
      auto* sc = dev_random<uint8_t>(size_t(N * K / 32), 20 + i,
                                     [](std::mt19937& r) { return uint8_t(118 + r() % 6); });
      w8.push_back(alloc_blocks(N, K));
      gpu::mxfp4_to_fp8_blocks(packed, sc, N, K, w8.back(), nullptr, nullptr);
      w2d.push_back(alloc_blocks(N, K));
      gpu::mxfp4_to_fp8_blocks_2d(packed, sc, N, K, w2d.back(), nullptr, nullptr);
      wplain.push_back(w8.back().data);
      cudaFree(packed), cudaFree(sc);
    }
    std::vector<uint16_t*> wbf;
    for (int i = 0; i < c16; ++i)
      wbf.push_back(dev_random<uint16_t>(size_t(N * K), 40 + i, [](std::mt19937& r) {
        return bf16_of(std::normal_distribution<float>(0.f, 0.02f)(r));
      }));
    for (int64_t M : {1, 16, 256, 1024, 4096, 16384}) {
      auto* x = dev_random<uint16_t>(size_t(M * K), 50, random_bf16);
      uint16_t* y;
      uint8_t *ap, *as;
      MRGPTQ_CUDA_CHECK(cudaMalloc(&y, size_t(M * N * 2)));
      MRGPTQ_CUDA_CHECK(cudaMalloc(&ap, size_t(M * K / 2)));
      MRGPTQ_CUDA_CHECK(cudaMalloc(&as, size_t(M * K / 32)));
      gpu::Fp8Blocks a8 = alloc_blocks(M, K);
      gpu::quantize_activations(x, M, K, Format::MXFP4, 32, 1.f, ap, as, nullptr, nullptr);
      gpu::mxfp4_to_fp8_blocks(ap, as, M, K, a8, nullptr, nullptr);
      const double flops = 2.0 * M * N * K;
      const int reps = flops > 2e12 ? 5 : 15;
      const double tb = time_us(
          c16, reps, [&](int i) { gpu::bf16_gemm(x, M, wbf[size_t(i)], N, K, y, nullptr); });
      const double tf = time_us(
          c8, reps, [&](int i) { gpu::fp8_gemm(a8.data, M, wplain[size_t(i)], N, K, y, nullptr); });
      const double tg =
          time_us(c8, reps, [&](int i) { gpu::fp8_block_gemm(a8, w8[size_t(i)], y, nullptr); });
      const double tq = time_us(
          1, reps, [&](int) { gpu::quantize_activations_mxfp4_fp8(x, M, K, 32, a8, nullptr); });
      const double tl = time_us(c8, reps, [&](int i) {
        gpu::w4a4_mxfp4_fp8_linear(x, M, w8[size_t(i)], 32, y, a8, nullptr);
      });
      // The same with the weight in 128x128 blocks (cuBLASLt's DeepSeek-style kernel).
      const double t2 =
          time_us(c8, reps, [&](int i) { gpu::fp8_block_gemm(a8, w2d[size_t(i)], y, nullptr); });
      const double t2l = time_us(c8, reps, [&](int i) {
        gpu::w4a4_mxfp4_fp8_linear(x, M, w2d[size_t(i)], 32, y, a8, nullptr);
      });
      std::printf(
          "%5ldx%-5ld %6ld %9.1f | %9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx | %9.0f | %8.1f | "
          "%9.1f %5.2fx | %9.1f %5.2fx\n",
          N, K, M, tb, tf, tb / tf, tg, tb / tg, tl, tb / tl, flops / tg / 1e6, tq, t2, tb / t2,
          t2l, tb / t2l);
      std::fflush(stdout);
      cudaFree(x), cudaFree(y), cudaFree(ap), cudaFree(as);
      free_blocks(a8);
    }
    for (auto& b : w8) free_blocks(b);
    for (auto& b : w2d) free_blocks(b);
    for (auto* b : wbf) cudaFree(b);
  }
  linear_paths(rotate, ms);
  return 0;
}
