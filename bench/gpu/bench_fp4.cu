// FP4 kernels vs cuBLASLt BF16, measured in the same run on the same GPU.
// CUDA events around every call, median of the repeats, weights rotated over
// enough copies to exceed the L2 cache, random data (never zeros); each GEMM
// candidate alternates call for call with the cuBLAS baseline it is compared
// with (time_pair_us), so that a GPU whose clocks fall as it heats does not
// charge the drop to whichever was timed last.
// usage: bench_fp4 [--quick] [--only NxK] [--quant] [--quant-shape MxK] [--quant-chunks C]
//   --only: that layer shape alone; --quant: the activation quantizer's table alone;
//   --quant-shape: the quantizer's input [M, K] (default 16384x8192); --quant-chunks: kernel 1's
//   chunks a block for NVFP4's rotations (1, 4, 6 or 8; default: chosen by size)
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "bench_util.cuh"
#include "kernels/fp4_device.cuh"
#include "mrgptq/kernels.hpp"

using namespace mrgptq;
using namespace mrgptq::bench;

namespace {

struct Fp4Copies {
  std::vector<uint8_t*> packed, scales;
  gpu::Fp4Weight view(int i, Format f, int64_t N, int64_t K, float g) const {
    gpu::Fp4Weight w;
    w.format = f, w.N = N, w.K = K, w.packed = packed[size_t(i)], w.scales = scales[size_t(i)];
    w.global_scale = g;
    return w;
  }
};

}  // namespace

int main(int argc, char** argv) {
  bool quick = false, quant_only = false;
  const char* only = nullptr;                 // one layer shape, e.g. 4096x14336
  long long quant_m = 16384, quant_k = 8192;  // the quantizer's input [M, K]
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--quant") == 0) quant_only = true;
    if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    if (std::strcmp(argv[i], "--quant-chunks") == 0 && i + 1 < argc) {
      try {
        gpu::force_activation_chunks(std::atoi(argv[++i]));
      } catch (const Error& e) {
        std::fprintf(stderr, "--quant-chunks: %s\n", e.what());
        return 2;
      }
    }
    if (std::strcmp(argv[i], "--quant-shape") == 0 && i + 1 < argc) {
      if (std::sscanf(argv[++i], "%lldx%lld", &quant_m, &quant_k) != 2 || quant_m <= 0 ||
          quant_k <= 0 || quant_k % 128) {
        std::fprintf(stderr, "--quant-shape: want MxK with K a multiple of 128, got %s\n", argv[i]);
        return 2;
      }
    }
  }
  if (!gpu::device_available()) {
    std::printf("no CUDA device: benchmark skipped\n");
    return 0;
  }
  cudaDeviceProp prop;
  MRGPTQ_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s, %d SMs, L2 %d MB\n", prop.name, prop.multiProcessorCount,
              prop.l2CacheSize >> 20);
  const size_t rotate_bytes = size_t(4) * size_t(prop.l2CacheSize);  // rotate over > 4x L2
  // Every call timed on its own between its events, as a plain launch (bench_w4a16_tc --chain
  // times the programmatic launches of decode chains).
  gpu::set_programmatic_launch(false);

  // ---- activation quantizer vs copy bandwidth ----
  {
    const int64_t M = quant_m, K = quant_k;
    const size_t n = size_t(M * K);
    auto* x = dev_random<uint16_t>(n, 1, [](std::mt19937& r) {
      return bf16_of(std::normal_distribution<float>(0.f, 1.f)(r));
    });
    uint16_t* y;
    uint8_t *p, *s;
    MRGPTQ_CUDA_CHECK(cudaMalloc(&y, n * 2));
    MRGPTQ_CUDA_CHECK(cudaMalloc(&p, n / 2));
    MRGPTQ_CUDA_CHECK(cudaMalloc(&s, n / 16));
    const double copy =
        time_us(1, 20, [&](int) { cudaMemcpyAsync(y, x, n * 2, cudaMemcpyDeviceToDevice); });
    const double copy_gbs = 2.0 * n * 2 / copy / 1e3;
    std::printf(
        "\nactivation quantizer, BF16 [%ld, %ld] -> FP4 (read %zu MB, write %zu MB codes + "
        "scales)\n",
        M, K, n * 2 >> 20, n / 2 >> 20);
    std::printf("  copy (D2D)              %9.1f us  %7.0f GB/s\n", copy, copy_gbs);
    for (Format f : {Format::MXFP4, Format::NVFP4})
      for (int rot : {0, 16, 32, 64, 128}) {
        const int group = format_info(f).group;
        const double t = time_us(1, 20, [&](int) {
          gpu::quantize_activations(x, M, K, f, rot, 448.f, p, s, nullptr, nullptr);
        });
        const double bytes = n * 2.0 + n / 2.0 + double(n) / group;
        std::printf("  quantize %s rot %-3d     %9.1f us  %7.0f GB/s  %5.1f%% of copy bandwidth\n",
                    to_string(f), rot, t, bytes / t / 1e3, 100.0 * (bytes / t / 1e3) / copy_gbs);
      }
    // With the exactly dequantized BF16 values written too: 2 bytes more per value. And the BF16
    // values alone, as the W4A4 layers ask for them (no codes and scales), timed in turn with it.
    uint16_t* dq;
    MRGPTQ_CUDA_CHECK(cudaMalloc(&dq, n * 2));
    for (Format f : {Format::MXFP4, Format::NVFP4}) {
      const int group = format_info(f).group, rot = group;
      const PairTimes t = time_pair_us(
          1, [&](int) { gpu::quantize_activations(x, M, K, f, rot, 448.f, p, s, dq, nullptr); }, 1,
          [&](int) {
            gpu::quantize_activations(x, M, K, f, rot, 448.f, nullptr, nullptr, dq, nullptr);
          },
          20);
      const double bytes = n * 4.0 + n / 2.0 + double(n) / group, bytes_only = n * 4.0;
      std::printf("  + BF16 out %s rot %-3d   %9.1f us  %7.0f GB/s  %5.1f%% of copy bandwidth\n",
                  to_string(f), rot, t.a, bytes / t.a / 1e3,
                  100.0 * (bytes / t.a / 1e3) / copy_gbs);
      std::printf("  BF16 out only %s rot %-3d%9.1f us  %7.0f GB/s  %5.1f%% of copy bandwidth\n",
                  to_string(f), rot, t.b, bytes_only / t.b / 1e3,
                  100.0 * (bytes_only / t.b / 1e3) / copy_gbs);
    }
    cudaFree(x), cudaFree(y), cudaFree(p), cudaFree(s), cudaFree(dq);
  }
  if (quant_only) return 0;

  // ---- GEMMs ----
  const std::vector<std::pair<int64_t, int64_t>> shapes = {
      {8192, 8192}, {28672, 8192}, {8192, 28672}, {4096, 14336}};
  const std::vector<int64_t> Ms = quick ? std::vector<int64_t>{1, 16, 4096}
                                        : std::vector<int64_t>{1, 16, 64, 256, 1024, 4096, 16384};
  std::printf(
      "\n%-13s %6s %10s %13s | %10s %6s | %10s %6s | %10s %6s | %10s %6s | %10s %6s | %10s "
      "%6s\n",
      "N x K", "M", "bf16 us", "paired bf16", "w4a16 mx", "ratio", "w4a16 nv", "ratio", "w4a4 mx",
      "ratio", "w4a4 nv", "ratio", "w4a4 mx tc", "ratio", "w4a4 nv tc", "ratio");
  std::printf(
      "(bf16 = cuBLAS BF16 timed alone first; each candidate is timed alternating with cuBLAS "
      "BF16, call for call, and its ratio is over that paired baseline, whose range over the "
      "six candidates is the 'paired bf16' column; w4a4 = kernel 1 + weight expanded per call "
      "+ cuBLAS BF16; w4a4 tc = kernel 1 + w4a16_gemm on the re-laid-out weight, no weight "
      "workspace up to M = 4096)\n");
  for (const auto& shape_nk : shapes) {
    const int64_t N = shape_nk.first, K = shape_nk.second;
    if (only && std::to_string(N) + "x" + std::to_string(K) != only) continue;
    const size_t wbytes4 = size_t(N * K / 2), wbytes16 = size_t(N * K * 2);
    const int c4 = int(std::max<size_t>(1, rotate_bytes / wbytes4 + 1));
    const int c16 = int(std::max<size_t>(1, rotate_bytes / wbytes16 + 1));
    Fp4Copies mx, nv;
    for (int i = 0; i < c4; ++i) {
      mx.packed.push_back(
          dev_random<uint8_t>(wbytes4, 10 + i, [](std::mt19937& r) { return uint8_t(r()); }));
      mx.scales.push_back(dev_random<uint8_t>(
          size_t(N * K / 32), 20 + i, [](std::mt19937& r) { return uint8_t(118 + r() % 6); }));
      nv.packed.push_back(mx.packed.back());
      nv.scales.push_back(dev_random<uint8_t>(
          size_t(N * K / 16), 30 + i, [](std::mt19937& r) { return uint8_t(0x30 + r() % 0x30); }));
    }
    std::vector<uint16_t*> wbf(static_cast<size_t>(c16));
    for (int i = 0; i < c16; ++i)
      wbf[size_t(i)] = dev_random<uint16_t>(wbytes16 / 2, 40 + i, [](std::mt19937& r) {
        return bf16_of(std::normal_distribution<float>(0.f, 0.02f)(r));
      });
    uint16_t* ws;
    MRGPTQ_CUDA_CHECK(cudaMalloc(&ws, wbytes16));
    // The read roofline of the MXFP4 weight's bytes: the M = 1 ceiling of any W4A16 kernel.
    const double mx_bytes = N * K / 2.0 + N * K / 32.0;
    const double t_read = time_read_us(mx.packed, wbytes4, mx.scales, size_t(N * K / 32), 20);
    std::vector<gpu::TcWeight> tmx, tnv;  // W4A16: re-laid out once, as at load time
    for (int i = 0; i < c4; ++i) {
      tmx.push_back(gpu::make_tensor_core_weight(mx.view(i, Format::MXFP4, N, K, 1.f), nullptr));
      tnv.push_back(gpu::make_tensor_core_weight(nv.view(i, Format::NVFP4, N, K, 1000.f), nullptr));
    }
    for (int64_t M : Ms) {
      auto* x = dev_random<uint16_t>(size_t(M * K), 50, [](std::mt19937& r) {
        return bf16_of(std::normal_distribution<float>(0.f, 1.f)(r));
      });
      uint16_t *y, *aw;
      MRGPTQ_CUDA_CHECK(cudaMalloc(&y, size_t(M * N * 2)));
      MRGPTQ_CUDA_CHECK(cudaMalloc(&aw, size_t(M * K * 2)));
      const double flops = 2.0 * M * N * K;
      const int reps = flops > 1e12 ? 5 : 20;
      auto bf16 = [&](int i) { gpu::bf16_gemm(x, M, wbf[size_t(i)], N, K, y, nullptr); };
      const double tb = time_us(c16, reps, bf16);
      // Each candidate alternates with cuBLAS BF16 (time_pair_us); its ratio is over that
      // paired baseline. The first column is cuBLAS timed alone, before the others.
      const std::vector<std::function<void(int)>> cands = {
          [&](int i) { gpu::w4a16_gemm(x, M, tmx[size_t(i)], y, ws, nullptr); },
          [&](int i) { gpu::w4a16_gemm(x, M, tnv[size_t(i)], y, ws, nullptr); },
          [&](int i) {
            gpu::w4a4_linear(x, M, mx.view(i, Format::MXFP4, N, K, 1.f), 32, 1.f, y, aw, ws,
                             nullptr);
          },
          [&](int i) {
            gpu::w4a4_linear(x, M, nv.view(i, Format::NVFP4, N, K, 1000.f), 16, 448.f, y, aw, ws,
                             nullptr);
          },
          [&](int i) { gpu::w4a4_linear(x, M, tmx[size_t(i)], 32, 1.f, y, aw, ws, nullptr); },
          [&](int i) { gpu::w4a4_linear(x, M, tnv[size_t(i)], 16, 448.f, y, aw, ws, nullptr); }};
      std::vector<PairTimes> pt;
      double lo = 1e30, hi = 0;
      for (const auto& c : cands) {
        pt.push_back(time_pair_us(c16, bf16, c4, c, reps));
        lo = std::min(lo, pt.back().a), hi = std::max(hi, pt.back().a);
      }
      char shape[32];
      std::snprintf(shape, sizeof shape, "%ldx%ld", N, K);
      std::printf("%-13s %6ld %10.1f %6.1f-%-6.1f", shape, M, tb, lo, hi);
      for (const PairTimes& p : pt) std::printf(" | %10.1f %5.2fx", p.b, p.a / p.b);
      std::printf("   (bf16 %.0f TFLOP/s, w4a16 mx %.0f GB/s", flops / tb / 1e6,
                  (mx_bytes + M * K * 2.0) / pt[0].b / 1e3);
      // M = 1: the read roofline of the MXFP4 weight and the ratio it would give over the paired
      // cuBLAS BF16 time -- the ceiling of the w4a16 mx column on this GPU under this timing.
      if (M == 1)
        std::printf("; read roofline %.1f us = %.0f GB/s, ceiling %.2fx", t_read,
                    mx_bytes / t_read / 1e3, pt[0].a / t_read);
      std::printf(")\n");
      std::fflush(stdout);
      cudaFree(x), cudaFree(y), cudaFree(aw);
    }
    for (auto& t : tmx) gpu::free_tensor_core_weight(t);
    for (auto& t : tnv) gpu::free_tensor_core_weight(t);
    for (int i = 0; i < c4; ++i)
      cudaFree(mx.packed[size_t(i)]), cudaFree(mx.scales[size_t(i)]),
          cudaFree(nv.scales[size_t(i)]);
    for (auto* w : wbf) cudaFree(w);
    cudaFree(ws);
  }
  return 0;
}
