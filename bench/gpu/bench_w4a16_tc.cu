// W4A16 at every M: the TMA-streamed tensor-core kernel (weight re-laid out
// once), the warpgroup (wgmma) kernel in each config, the dequantize + cuBLAS
// fallback and the w4a16_gemm dispatch vs cuBLASLt BF16, same run, CUDA events, medians, weights
// rotated over copies larger than 4x L2, random data (never zeros).
// usage: bench_w4a16_tc [--quick] [--only NxK] [--wg [--cfg C]] [--ms M1,M2,...] [--reps R]
// --cfg C: with --wg, time config C only (e.g. to find which config fails on a shape);
// --ms: these M instead of the default list; --reps: repeats per median (default 30, 10 from
// M = 1024).
// --wg: only cuBLAS BF16 and the wgmma kernel, configs 3-6 (measured, chosen automatically)
// vs the prepared configs 7-11 (one-multiply decode, K-split consumer warpgroups; not chosen
// automatically yet), MXFP4, best of each side; M from 64.
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

int main(int argc, char** argv) {
  bool quick = false, wg_only = false;
  const char* only = nullptr;  // one shape, e.g. 4096x14336
  int only_cfg = -1, reps_arg = 0;
  std::vector<int64_t> ms_arg;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--wg") == 0) wg_only = true;
    if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    if (std::strcmp(argv[i], "--cfg") == 0 && i + 1 < argc) only_cfg = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps_arg = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--ms") == 0 && i + 1 < argc)
      for (char* t = std::strtok(argv[++i], ","); t; t = std::strtok(nullptr, ","))
        ms_arg.push_back(std::atoll(t));
  }
  if (!gpu::device_available()) {
    std::printf("no CUDA device: benchmark skipped\n");
    return 0;
  }
  cudaDeviceProp prop;
  MRGPTQ_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s\n", prop.name);
  const size_t rotate = size_t(4) * size_t(prop.l2CacheSize);
  if (wg_only)
    std::printf(
        "%-12s %5s %9s | %8s %8s %8s %8s %8s %6s %7s | %8s %8s %8s %8s "
        "%8s %8s %6s %7s | %9s %6s\n"
        "(new = configs 3-6 (64x64, 128x64, 256x128, 128x256 weight x activation rows); "
        "next = configs 7-11: 7 = 6 with the one-multiply decode, 8 = 64x64 with 2 K-split "
        "consumer warpgroups, 9 = 64x128 x2, 10 = 64x256 x2, 11 = 64x64 x4, all one-multiply; "
        "ratio = cuBLAS / best; auto = w4a16_wgmma's own choice, NVFP4 weight)\n",
        "N x K", "M", "bf16 us", "new3 us", "new4 us", "new5 us", "new6 us", "best", "ratio",
        "TFLOP/s", "nx7 us", "nx8 us", "nx9 us", "nx10 us", "nx11 us", "best", "ratio", "TFLOP/s",
        "auto nv us", "ratio");
  else
    std::printf(
        "%-12s %5s %9s | %9s %6s | %9s %6s | %9s %6s | %9s %6s | %9s %6s %7s | %9s %6s | %9s %6s | "
        "%9s %6s | %9s %6s || %9s %6s | %9s %6s | %9s %6s || %9s %6s | %9s %6s | %9s %6s | %9s "
        "%6s\n",
        "N x K", "M", "bf16 us", "tma mx us", "ratio", "deq+cublas", "ratio", "wg3 mx us", "ratio",
        "wg4 mx us", "ratio", "wg5 mx us", "ratio", "TFLOP/s", "wg nv us", "ratio", "gemm mx us",
        "ratio", "gemm nv us", "ratio", "rm mx us", "ratio", "v1 mx us", "ratio", "v2 mx us",
        "ratio", "v3 mx us", "ratio", "tma nv us", "ratio", "v1 nv us", "ratio", "v2 nv us",
        "ratio", "v3 nv us", "ratio");
  std::printf(
      "(tma = streamed kernel on the re-laid-out weight (M <= 512), deq+cublas = dequantize + "
      "cuBLAS BF16, wg3/4/5 = wgmma kernel configs 3 (64x64 blocks), 4 (128x64), 5 (256x128; "
      "3 and 4 up to M = 512), wg nv = wgmma kernel, automatic config, NVFP4, gemm = the "
      "w4a16_gemm dispatch, rm = register-pipelined kernel on the row-major weight, M <= 16; "
      "v1/v2/v3 = w4a16_tensor_core_variant 1-3, the streamed kernel's table-free variants "
      "(1: same rings, 2: rings twice as deep, 3: activations a step ahead in shared memory "
      "by cp.async), M <= 32, tma nv = the "
      "streamed kernel (variant 0) on the NVFP4 weight)\n");
  for (auto nk : std::vector<std::pair<int64_t, int64_t>>{
           {8192, 8192}, {28672, 8192}, {8192, 28672}, {4096, 14336}}) {
    const int64_t N = nk.first, K = nk.second;
    if (only && std::to_string(N) + "x" + std::to_string(K) != only) continue;
    const size_t w4 = size_t(N * K / 2), w16 = size_t(N * K * 2);
    const int c4 = int(rotate / w4 + 1), c16 = int(rotate / w16 + 1);
    std::vector<uint8_t*> packed, mxs, nvs;
    std::vector<uint16_t*> wbf;
    for (int i = 0; i < c4; ++i) {
      packed.push_back(
          dev_random<uint8_t>(w4, 10 + i, [](std::mt19937& r) { return uint8_t(r()); }));
      mxs.push_back(dev_random<uint8_t>(size_t(N * K / 32), 20 + i,
                                        [](std::mt19937& r) { return uint8_t(118 + r() % 6); }));
      nvs.push_back(dev_random<uint8_t>(
          size_t(N * K / 16), 30 + i, [](std::mt19937& r) { return uint8_t(0x30 + r() % 0x30); }));
    }
    for (int i = 0; i < c16; ++i)
      wbf.push_back(dev_random<uint16_t>(w16 / 2, 40 + i, [](std::mt19937& r) {
        return bf16_of(std::normal_distribution<float>(0.f, 0.02f)(r));
      }));
    uint16_t* ws;
    MRGPTQ_CUDA_CHECK(cudaMalloc(&ws, w16));
    auto view = [&](int i, Format f) {
      gpu::Fp4Weight w;
      w.format = f, w.N = N, w.K = K, w.packed = packed[size_t(i)];
      w.scales = f == Format::MXFP4 ? mxs[size_t(i)] : nvs[size_t(i)];
      w.global_scale = f == Format::MXFP4 ? 1.f : 1000.f;
      return w;
    };
    std::vector<gpu::TcWeight> tmx, tnv;  // re-laid out once, as at load time
    for (int i = 0; i < c4; ++i) {
      tmx.push_back(gpu::make_tensor_core_weight(view(i, Format::MXFP4), nullptr));
      tnv.push_back(gpu::make_tensor_core_weight(view(i, Format::NVFP4), nullptr));
    }
    MRGPTQ_CUDA_CHECK(cudaDeviceSynchronize());
    const std::vector<int64_t> Ms =
        !ms_arg.empty() ? ms_arg
        : quick         ? std::vector<int64_t>{1, 16, 64, 256}
        : wg_only       ? std::vector<int64_t>{64, 128, 256, 512, 1024, 4096, 16384}
                        : std::vector<int64_t>{1, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384};
    for (int64_t M : Ms) {
      auto* x = dev_random<uint16_t>(size_t(M * K), 50, [](std::mt19937& r) {
        return bf16_of(std::normal_distribution<float>(0.f, 1.f)(r));
      });
      uint16_t* y;
      MRGPTQ_CUDA_CHECK(cudaMalloc(&y, size_t(M * N * 2)));
      const int reps = reps_arg > 0 ? reps_arg : M >= 1024 ? 10 : 30;
      auto t4 = [&](bool run, const std::function<void(int)>& fn) {
        return run ? time_us(c4, reps, fn) : 0.0;
      };
      const double tb = time_us(
          c16, reps, [&](int i) { gpu::bf16_gemm(x, M, wbf[size_t(i)], N, K, y, nullptr); });
      auto ratio = [&](double t) { return t > 0 ? tb / t : 0.0; };
      if (wg_only) {
        constexpr int kCfgs = 12;
        double tw[kCfgs] = {}, best[2] = {1e30, 1e30};  // 3-6, 7-11
        for (int cfg = 3; cfg < kCfgs; ++cfg) {
          // The 64-row-activation configs only to M = 4096 (slow and many blocks above).
          const bool run = ((cfg != 3 && cfg != 8 && cfg != 11) || M <= 4096) &&
                           (only_cfg < 0 || cfg == only_cfg);
          tw[cfg] =
              t4(run, [&](int i) { gpu::w4a16_wgmma(x, M, tmx[size_t(i)], y, nullptr, cfg); });
          if (run) best[cfg < 7 ? 0 : 1] = std::min(best[cfg < 7 ? 0 : 1], tw[cfg]);
        }
        const double twn =
            t4(only_cfg < 0, [&](int i) { gpu::w4a16_wgmma(x, M, tnv[size_t(i)], y, nullptr); });
        for (double& b : best)
          if (b > 1e29) b = 0;
        auto tflops = [&](double t) { return t > 0 ? 2.0 * M * N * K / t / 1e6 : 0.0; };
        std::printf(
            "%5ldx%-6ld %5ld %9.1f | %8.1f %8.1f %8.1f %8.1f "
            "%8.1f %5.2fx %7.0f | %8.1f %8.1f %8.1f %8.1f %8.1f %8.1f %5.2fx %7.0f | %9.1f "
            "%5.2fx\n",
            N, K, M, tb, tw[3], tw[4], tw[5], tw[6], best[0], ratio(best[0]), tflops(best[0]),
            tw[7], tw[8], tw[9], tw[10], tw[11], best[1], ratio(best[1]), tflops(best[1]), twn,
            ratio(twn));
        std::fflush(stdout);
        MRGPTQ_CUDA_CHECK(cudaFree(x));
        MRGPTQ_CUDA_CHECK(cudaFree(y));
        continue;
      }
      const double tm =
          t4(M <= 512, [&](int i) { gpu::w4a16_tensor_core(x, M, tmx[size_t(i)], y, nullptr); });
      const double td = t4(true, [&](int i) {
        gpu::dequantize_to_bf16(tmx[size_t(i)], ws, nullptr);
        gpu::bf16_gemm(x, M, ws, N, K, y, nullptr);
      });
      double tw[3];
      for (int cfg = 0; cfg < 3; ++cfg)  // configs 3, 4, 5
        tw[cfg] = t4(cfg == 2 || M <= 512,
                     [&](int i) { gpu::w4a16_wgmma(x, M, tmx[size_t(i)], y, nullptr, cfg + 3); });
      const double twn =
          t4(true, [&](int i) { gpu::w4a16_wgmma(x, M, tnv[size_t(i)], y, nullptr); });
      const double tg =
          t4(true, [&](int i) { gpu::w4a16_gemm(x, M, tmx[size_t(i)], y, ws, nullptr); });
      const double tgn =
          t4(true, [&](int i) { gpu::w4a16_gemm(x, M, tnv[size_t(i)], y, ws, nullptr); });
      const double tr = t4(M <= 16, [&](int i) {
        gpu::w4a16_tensor_core(x, M, view(i, Format::MXFP4), y, nullptr);
      });
      // The streamed kernel's opt-in variants, [0] MXFP4 and [1] NVFP4 (variant 0 of
      // NVFP4 too, as their baseline).
      double tv[2][4];
      for (int nv = 0; nv < 2; ++nv)
        for (int v = 0; v < 4; ++v)
          tv[nv][v] = nv == 0 && v == 0 ? tm : t4(M <= 32, [&](int i) {
            gpu::w4a16_tensor_core_variant(x, M, (nv ? tnv : tmx)[size_t(i)], y, nullptr, v);
          });
      std::printf(
          "%5ldx%-6ld %5ld %9.1f | %9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx | "
          "%9.1f %5.2fx %7.0f | %9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx || "
          "%9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx || %9.1f %5.2fx | %9.1f %5.2fx | %9.1f "
          "%5.2fx | %9.1f %5.2fx\n",
          N, K, M, tb, tm, ratio(tm), td, ratio(td), tw[0], ratio(tw[0]), tw[1], ratio(tw[1]),
          tw[2], ratio(tw[2]), 2.0 * M * N * K / tw[2] / 1e6, twn, ratio(twn), tg, ratio(tg), tgn,
          ratio(tgn), tr, ratio(tr), tv[0][1], ratio(tv[0][1]), tv[0][2], ratio(tv[0][2]), tv[0][3],
          ratio(tv[0][3]), tv[1][0], ratio(tv[1][0]), tv[1][1], ratio(tv[1][1]), tv[1][2],
          ratio(tv[1][2]), tv[1][3], ratio(tv[1][3]));
      std::fflush(stdout);
      MRGPTQ_CUDA_CHECK(cudaFree(x));
      MRGPTQ_CUDA_CHECK(cudaFree(y));
    }
    for (auto& t : tmx) gpu::free_tensor_core_weight(t);
    for (auto& t : tnv) gpu::free_tensor_core_weight(t);
    for (int i = 0; i < c4; ++i)
      cudaFree(packed[size_t(i)]), cudaFree(mxs[size_t(i)]), cudaFree(nvs[size_t(i)]);
    for (auto* w : wbf) cudaFree(w);
    cudaFree(ws);
  }
  return 0;
}
