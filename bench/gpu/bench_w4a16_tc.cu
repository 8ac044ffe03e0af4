// W4A16 at every M: the TMA-streamed tensor-core kernel (weight re-laid out
// once), the warpgroup (wgmma) kernel in each config, the dequantize + cuBLAS
// fallback and the w4a16_gemm dispatch vs cuBLASLt BF16, same run, CUDA events, medians, weights
// rotated over copies larger than 4x L2, random data (never zeros).
// usage: bench_w4a16_tc [--quick] [--only NxK] [--wg [--cfg C | --ab C1,C2,...]] [--dispatch]
//                       [--expand] [--ms M1,...] [--reps R] [--tiles T] [--layout L] [--chain L
//                       [--w4a4]] [--help]
// --only NxK: this shape (any N x K, K a multiple of 128) instead of the four layer shapes;
// --cfg C: with --wg, time config C only (e.g. to find which config fails on a shape);
// --ms: these M instead of the default list; --reps: repeats per median (default 30, 10 from
// M = 1024); --tiles T: re-lay the weight out in blocks of 8T rows (1, 2, 4; default: the
// library's choice from N); --layout L: the re-laid-out weight's layout (1 or 2, default 2).
// --wg: only cuBLAS BF16 and the wgmma kernel in every whole-tile config (gpu::kW4a16WgmmaConfigs
// below kW4a16WgmmaRemainder) and its automatic choice, MXFP4 (and the automatic choice on NVFP4);
// M from 64. The configs run one after another, so a GPU whose clocks fall as it heats charges the
// drop to the later columns (the automatic choice timed 4-8% slower than the same config timed
// earlier on the large shapes).
// --ab C1,C2,...: with --wg, only these configs (-1: the automatic choice), timed in turn call
// for call (every repeat runs each once), with each one's time over the first's: the drift-free
// A/B.
// --dispatch: the "never slower" sweep: only cuBLAS BF16, the w4a16_gemm dispatch (MXFP4,
// NVFP4) and the MXFP4 path it does not take (dequantize + cuBLAS up to kW4a16WgmmaMaxM, the
// warpgroup kernel above), timed in turn call for call, by default on a
// fine grid of M from 1 to 1024 that has every tile and path boundary's both sides; rows where
// either format is slower are marked.
// --expand: only the weight's expansion to BF16 (dequantize_to_bf16 of the re-laid-out
// weight, MXFP4 and NVFP4: the dequantize + cuBLAS paths' first step) against a device-to-device
// copy of the BF16 weight's size, timed in turn call for call; bandwidth = bytes read + written.
// --chain L: decode chains instead: each timed call is L layer calls back to back (weights
// rotated as above), reported per layer: cuBLAS BF16, then the w4a16_gemm dispatch, MXFP4 and
// NVFP4, each with plain launches and as programmatic dependents (gpu::set_programmatic_launch),
// all in turn call for call. The layers do not feed each other (N != K in general): what the
// chain shows is how much of a kernel's start and end overlaps its neighbours'.
// --w4a4: with --chain, each layer call is the W4A4 layer on the re-laid-out weight instead
// (w4a4_linear: kernel 1 -- rotation 32 for MXFP4, 16 for NVFP4 -- into one BF16 activation
// workspace that every layer shares, then w4a16_gemm on it); --chain 1 times single layers, where
// the programmatic launches overlap only the layer's own two kernels.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
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

int run(int argc, char** argv) {
  bool quick = false, wg_only = false, dispatch = false, expand = false, w4a4 = false;
  const char* only = nullptr;  // one shape, e.g. 4096x14336
  int only_cfg = -1, reps_arg = 0, tiles_arg = 0, layout_arg = 2, chain = 0;
  std::vector<int64_t> ms_arg;
  std::vector<int> ab_arg;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0) quick = true;
    if (std::strcmp(argv[i], "--wg") == 0) wg_only = true;
    if (std::strcmp(argv[i], "--dispatch") == 0) dispatch = true;
    if (std::strcmp(argv[i], "--expand") == 0) expand = true;
    if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) only = argv[++i];
    if (std::strcmp(argv[i], "--cfg") == 0 && i + 1 < argc) only_cfg = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps_arg = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--layout") == 0 && i + 1 < argc) layout_arg = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--tiles") == 0 && i + 1 < argc) tiles_arg = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--chain") == 0 && i + 1 < argc) chain = std::atoi(argv[++i]);
    if (std::strcmp(argv[i], "--w4a4") == 0) w4a4 = true;
    if (std::strcmp(argv[i], "--ab") == 0 && i + 1 < argc)
      for (int64_t c : int_list(argv[++i])) ab_arg.push_back(int(c));
    if (std::strcmp(argv[i], "--ms") == 0 && i + 1 < argc) ms_arg = int_list(argv[++i]);
  }
  if (w4a4 && chain <= 0) {
    std::fprintf(stderr, "--w4a4 times W4A4 layers in chains: give --chain L (L >= 1)\n");
    return 2;
  }
  if (!gpu::device_available()) {
    std::printf("no CUDA device: benchmark skipped\n");
    return 0;
  }
  cudaDeviceProp prop;
  MRGPTQ_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device: %s\n", prop.name);
  // --wg's columns: the whole-tile configs (a remainder config only as --cfg: at the default M,
  // multiples of 64, it would time its base config again).
  std::vector<int> wg_cfgs;
  for (int cfg : gpu::kW4a16WgmmaConfigs)
    if (cfg < gpu::kW4a16WgmmaRemainder || cfg == only_cfg) wg_cfgs.push_back(cfg);
  const size_t rotate = size_t(4) * size_t(prop.l2CacheSize);
  // Single calls are timed as plain launches, each on its own between its events, as the issue's
  // table has always been; the chains set the launch kind per call (`ours` below).
  gpu::set_programmatic_launch(false);
  cudaStream_t cs = nullptr;  // the chains' stream (blocking: it orders with the events)
  if (chain > 0) {
    MRGPTQ_CUDA_CHECK(cudaStreamCreate(&cs));
    std::printf(
        "%-12s %5s %9s | %9s %6s | %9s %6s | %9s %6s | %9s %6s\n"
        "(chains of %d %s, us per layer; pdl = launched as programmatic dependents; "
        "ratio = cuBLAS BF16 / ours)\n",
        "N x K", "M", "bf16 us", "mx us", "ratio", "mx pdl us", "ratio", "nv us", "ratio",
        "nv pdl us", "ratio", chain,
        w4a4 ? "W4A4 layer calls (w4a4_linear: kernel 1 + w4a16_gemm)" : "layer calls");
  } else if (expand) {
    std::printf(
        "%-12s | %9s %7s | %9s %7s %6s | %9s %7s %6s | %9s %7s %6s\n"
        "(the re-laid-out weight expanded to BF16 (mx, nv) and the row-major MXFP4 weight (rm "
        "mx) vs a device-to-device copy of the BF16 weight, timed in turn call for call; GB/s of "
        "bytes read + written, %% of the copy's)\n",
        "N x K", "copy us", "GB/s", "mx us", "GB/s", "%copy", "nv us", "GB/s", "%copy", "rm mx us",
        "GB/s", "%copy");
  } else if (dispatch) {
    std::printf(
        "%-12s %5s %9s | %9s %6s | %9s %6s | %9s %6s\n"
        "(w4a16_gemm, the dispatch a caller gets, and the MXFP4 path it does not take -- deq = "
        "dequantize + cuBLAS up to M = %ld, wgmma = the warpgroup kernel above -- vs cuBLAS "
        "BF16, timed in turn call for call; ratio = cuBLAS / ours, '<' marks a dispatch ratio "
        "under 1)\n",
        "N x K", "M", "bf16 us", "gemm mx us", "ratio", "gemm nv us", "ratio", "other us", "ratio",
        long(gpu::kW4a16WgmmaMaxM));
  } else if (wg_only && !ab_arg.empty()) {
    std::printf(
        "%-12s %5s %9s | then per config: its number, time, time over the first config's\n"
        "(the configs: include/mrgptq/kernels.hpp; -1 = the automatic choice, marked (auto); "
        "timed in turn, call for call)\n",
        "N x K", "M", "bf16 us");
  } else if (wg_only) {
    std::printf("%-12s %5s %9s | %8s %6s %7s | %9s %6s | %9s %6s |", "N x K", "M", "bf16 us",
                "best", "ratio", "TFLOP/s", "auto mx us", "ratio", "auto nv us", "ratio");
    for (int cfg : wg_cfgs) std::printf(" cfg%-2d us", cfg);
    std::printf(
        "\n(the configs: include/mrgptq/kernels.hpp; best = the fastest config, ratio = cuBLAS / "
        "best; auto = w4a16_wgmma's own choice, MXFP4 and NVFP4)\n");
  } else
    std::printf(
        "%-12s %5s %9s | %9s %6s | %9s %6s | %9s %6s | %9s %6s | %9s %6s | %9s %6s | "
        "%9s %6s | %9s %6s %7s | %9s %6s | %9s %6s | %9s %6s | %9s %6s\n"
        "(tma = streamed kernel on the re-laid-out weight in layout --layout (default 2: bits "
        "spread, w4_layout.hpp), its own decode choice (M <= 512); on a layout-1 weight (M <= "
        "32): table / tfree = the table / table-free decode at every M, l1 auto = its own "
        "choice; deq+cublas = dequantize + cuBLAS BF16; wg3/4/5 = wgmma kernel configs 3 "
        "(64x64 blocks), 4 (128x64), 5 (256x128; 3 and 4 up to M = 512); wg nv = wgmma kernel, "
        "automatic config, NVFP4; gemm = the w4a16_gemm dispatch; rm = register-pipelined "
        "kernel on the row-major weight, M <= 16)\n",
        "N x K", "M", "bf16 us", "tma mx us", "ratio", "table us", "ratio", "tfree us", "ratio",
        "l1 auto us", "ratio", "deq+cublas", "ratio", "wg3 mx us", "ratio", "wg4 mx us", "ratio",
        "wg5 mx us", "ratio", "TFLOP/s", "wg nv us", "ratio", "gemm mx us", "ratio", "gemm nv us",
        "ratio", "rm mx us", "ratio");
  // The four layer shapes, or --only's shape (any N x K, K a multiple of 128).
  std::vector<std::pair<int64_t, int64_t>> shapes = {
      {8192, 8192}, {28672, 8192}, {8192, 28672}, {4096, 14336}};
  if (only) {
    long long n = 0, k = 0;
    if (std::sscanf(only, "%lldx%lld", &n, &k) != 2 || n <= 0 || k <= 0 || k % 128) {
      std::fprintf(stderr, "--only wants NxK with K a multiple of 128, not %s\n", only);
      return 2;
    }
    shapes = {{n, k}};
  }
  for (auto nk : shapes) {
    const int64_t N = nk.first, K = nk.second;
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
    // Re-laid out once, as at load time, in layout --layout (default 2); tmx1 in layout 1 for
    // the table decodes and the layout-1 baseline.
    std::vector<gpu::TcWeight> tmx, tnv, tmx1;
    for (int i = 0; i < c4; ++i) {
      tmx.push_back(
          gpu::make_tensor_core_weight(view(i, Format::MXFP4), nullptr, tiles_arg, layout_arg));
      tnv.push_back(
          gpu::make_tensor_core_weight(view(i, Format::NVFP4), nullptr, tiles_arg, layout_arg));
      if (!wg_only && !dispatch && !expand)
        tmx1.push_back(gpu::make_tensor_core_weight(view(i, Format::MXFP4), nullptr, tiles_arg, 1));
    }
    MRGPTQ_CUDA_CHECK(cudaDeviceSynchronize());
    if (expand) {
      const int reps = reps_arg > 0 ? reps_arg : 30;
      const std::vector<double> t = time_rounds(
          {{c16,
            [&](int i) {
              MRGPTQ_CUDA_CHECK(cudaMemcpyAsync(ws, wbf[size_t(i)], w16, cudaMemcpyDeviceToDevice));
            }},
           {c4, [&](int i) { gpu::dequantize_to_bf16(tmx[size_t(i)], ws, nullptr); }},
           {c4, [&](int i) { gpu::dequantize_to_bf16(tnv[size_t(i)], ws, nullptr); }},
           {c4, [&](int i) { gpu::dequantize_to_bf16(view(i, Format::MXFP4), ws, nullptr); }}},
          reps);
      const double copy_gbs = 2.0 * double(w16) / t[0] / 1e3;
      auto gbs = [&](double us, int group) {
        return (double(w4) + double(N * K / group) + double(w16)) / us / 1e3;
      };
      std::printf("%5ldx%-6ld | %9.1f %7.0f", N, K, t[0], copy_gbs);
      for (size_t j = 1; j < t.size(); ++j) {
        const double b = gbs(t[j], j == 2 ? 16 : 32);
        std::printf(" | %9.1f %7.0f %5.1f%%", t[j], b, 100.0 * b / copy_gbs);
      }
      std::printf("\n");
      std::fflush(stdout);
    }
    // The dispatch sweep: both sides of 32 (streamed / warpgroup) and of each row tile (64, 128,
    // 160, 192, 256, 512), coarser steps between and up to 1024.
    const std::vector<int64_t> sweep = {1,   2,   4,   8,   12,  16,  24,  32,  33,  40,
                                        48,  56,  64,  65,  80,  96,  112, 128, 129, 144,
                                        160, 161, 176, 192, 193, 224, 256, 257, 288, 320,
                                        384, 448, 512, 513, 640, 768, 1024};
    const std::vector<int64_t> Ms =
        expand            ? std::vector<int64_t>{}  // the expansion has no M
        : !ms_arg.empty() ? ms_arg
        : dispatch        ? sweep
        : quick           ? std::vector<int64_t>{1, 16, 64, 256}
        : wg_only         ? std::vector<int64_t>{64, 128, 256, 512, 1024, 4096, 16384}
                  : std::vector<int64_t>{1, 8, 16, 32, 64, 128, 256, 512, 1024, 4096, 16384};
    for (int64_t M : Ms) {
      auto* x = dev_random<uint16_t>(size_t(M * K), 50, [](std::mt19937& r) {
        return bf16_of(std::normal_distribution<float>(0.f, 1.f)(r));
      });
      uint16_t* y;
      MRGPTQ_CUDA_CHECK(cudaMalloc(&y, size_t(M * N * 2)));
      const int reps = reps_arg > 0 ? reps_arg : M >= 1024 ? 10 : 30;
      if (chain > 0) {
        // Call n of a chain function reads weight copy n % copies (n = repeat x L + layer).
        auto layers = [&](auto call) {
          return [&, call](int i) {
            for (int l = 0; l < chain; ++l) call(size_t(i) * size_t(chain) + size_t(l));
          };
        };
        uint16_t* act = nullptr;  // --w4a4: the layers' shared activation workspace
        if (w4a4) MRGPTQ_CUDA_CHECK(cudaMalloc(&act, size_t(M * K * 2)));
        auto ours = [&](const std::vector<gpu::TcWeight>& tw, bool pdl) {
          return layers([&, pdl](size_t n) {
            gpu::ScopedProgrammaticLaunch mode(pdl);
            const gpu::TcWeight& w = tw[n % tw.size()];
            if (!w4a4) return gpu::w4a16_gemm(x, M, w, y, ws, cs);
            const bool nv = w.format == Format::NVFP4;
            gpu::w4a4_linear(x, M, w, nv ? 16 : 32, nv ? 448.f : 1.f, y, act, ws, cs);
          });
        };
        const std::vector<double> t = time_rounds(
            {{1 << 30,
              layers([&](size_t n) { gpu::bf16_gemm(x, M, wbf[n % wbf.size()], N, K, y, cs); })},
             {1 << 30, ours(tmx, false)},
             {1 << 30, ours(tmx, true)},
             {1 << 30, ours(tnv, false)},
             {1 << 30, ours(tnv, true)}},
            reps);
        std::printf("%5ldx%-6ld %5ld %9.1f", N, K, M, t[0] / chain);
        for (size_t j = 1; j < t.size(); ++j)
          std::printf(" | %9.1f %5.2fx", t[j] / chain, t[0] / t[j]);
        std::printf("\n");
        std::fflush(stdout);
        MRGPTQ_CUDA_CHECK(cudaFree(x));
        MRGPTQ_CUDA_CHECK(cudaFree(y));
        if (act) MRGPTQ_CUDA_CHECK(cudaFree(act));
        continue;
      }
      if (dispatch) {
        const std::vector<double> t = time_rounds(
            {{c16, [&](int i) { gpu::bf16_gemm(x, M, wbf[size_t(i)], N, K, y, nullptr); }},
             {c4, [&](int i) { gpu::w4a16_gemm(x, M, tmx[size_t(i)], y, ws, nullptr); }},
             {c4, [&](int i) { gpu::w4a16_gemm(x, M, tnv[size_t(i)], y, ws, nullptr); }},
             {c4,
              [&](int i) {
                // The MXFP4 path the dispatch does not take at this M.
                if (M > gpu::kW4a16WgmmaMaxM)
                  return gpu::w4a16_wgmma(x, M, tmx[size_t(i)], y, nullptr);
                gpu::dequantize_to_bf16(tmx[size_t(i)], ws, nullptr);
                gpu::bf16_gemm(x, M, ws, N, K, y, nullptr);
              }}},
            reps);
        std::printf("%5ldx%-6ld %5ld %9.1f | %9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx %-6s%s\n",
                    N, K, M, t[0], t[1], t[0] / t[1], t[2], t[0] / t[2], t[3], t[0] / t[3],
                    M > gpu::kW4a16WgmmaMaxM ? "wgmma" : "deq",
                    t[1] > t[0] || t[2] > t[0] ? "  <" : "");
        std::fflush(stdout);
        MRGPTQ_CUDA_CHECK(cudaFree(x));
        MRGPTQ_CUDA_CHECK(cudaFree(y));
        continue;
      }
      auto t4 = [&](bool run, const std::function<void(int)>& fn) {
        return run ? time_us(c4, reps, fn) : 0.0;
      };
      const double tb = time_us(
          c16, reps, [&](int i) { gpu::bf16_gemm(x, M, wbf[size_t(i)], N, K, y, nullptr); });
      auto ratio = [&](double t) { return t > 0 ? tb / t : 0.0; };
      if (wg_only && !ab_arg.empty()) {
        // Call n of the run (repeat i, config j) reads weight copy n % c4, so that no call
        // finds its weight in L2 from the call before.
        std::vector<Timed> fns;
        const int64_t F = int64_t(ab_arg.size());
        for (int64_t j = 0; j < F; ++j)
          fns.push_back({1 << 30, [&, j](int i) {
                           gpu::w4a16_wgmma(x, M, tmx[size_t((i * F + j) % c4)], y, nullptr,
                                            ab_arg[size_t(j)]);
                         }});
        const std::vector<double> t = time_rounds(fns, reps);
        std::printf("%5ldx%-6ld %5ld %9.1f |", N, K, M, tb);
        for (size_t j = 0; j < t.size(); ++j) {
          const int cfg = ab_arg[j] < 0 ? gpu::w4a16_wgmma_config_for(M, N, K) : ab_arg[j];
          std::printf(" cfg %2d%s %8.1f us %5.3f |", cfg, ab_arg[j] < 0 ? " (auto)" : "", t[j],
                      t[j] / t[0]);
        }
        std::printf("\n");
        std::fflush(stdout);
        MRGPTQ_CUDA_CHECK(cudaFree(x));
        MRGPTQ_CUDA_CHECK(cudaFree(y));
        continue;
      }
      if (wg_only) {
        std::vector<double> tw;
        double best = 1e30;
        for (int cfg : wg_cfgs) {
          // The 64-row-activation configs only to M = 4096 (slow and many blocks above).
          const bool run =
              ((cfg != 3 && cfg != 10) || M <= 4096) && (only_cfg < 0 || cfg == only_cfg);
          tw.push_back(
              t4(run, [&](int i) { gpu::w4a16_wgmma(x, M, tmx[size_t(i)], y, nullptr, cfg); }));
          if (run) best = std::min(best, tw.back());
        }
        if (best > 1e29) best = 0;
        const double tam =
            t4(only_cfg < 0, [&](int i) { gpu::w4a16_wgmma(x, M, tmx[size_t(i)], y, nullptr); });
        const double tan =
            t4(only_cfg < 0, [&](int i) { gpu::w4a16_wgmma(x, M, tnv[size_t(i)], y, nullptr); });
        std::printf("%5ldx%-6ld %5ld %9.1f | %8.1f %5.2fx %7.0f | %9.1f %5.2fx | %9.1f %5.2fx |", N,
                    K, M, tb, best, ratio(best), best > 0 ? 2.0 * M * N * K / best / 1e6 : 0.0, tam,
                    ratio(tam), tan, ratio(tan));
        for (double t : tw) std::printf(" %8.1f", t);
        std::printf("\n");
        std::fflush(stdout);
        MRGPTQ_CUDA_CHECK(cudaFree(x));
        MRGPTQ_CUDA_CHECK(cudaFree(y));
        continue;
      }
      // Layout 1: the table / table-free decode at every M, the automatic choice.
      double tdec[3];
      const gpu::StreamDecode decs[3] = {gpu::StreamDecode::kTable, gpu::StreamDecode::kTableFree,
                                         gpu::StreamDecode::kAuto};
      for (int d = 0; d < 3; ++d)
        tdec[d] = t4(M <= 32, [&](int i) {
          gpu::w4a16_tensor_core(x, M, tmx1[size_t(i)], y, nullptr, decs[d]);
        });
      // The streamed kernel's own choice.
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
      std::printf(
          "%5ldx%-6ld %5ld %9.1f | %9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx | "
          "%9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx %7.0f | "
          "%9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx | %9.1f %5.2fx\n",
          N, K, M, tb, tm, ratio(tm), tdec[0], ratio(tdec[0]), tdec[1], ratio(tdec[1]), tdec[2],
          ratio(tdec[2]), td, ratio(td), tw[0], ratio(tw[0]), tw[1], ratio(tw[1]), tw[2],
          ratio(tw[2]), 2.0 * M * N * K / tw[2] / 1e6, twn, ratio(twn), tg, ratio(tg), tgn,
          ratio(tgn), tr, ratio(tr));
      std::fflush(stdout);
      MRGPTQ_CUDA_CHECK(cudaFree(x));
      MRGPTQ_CUDA_CHECK(cudaFree(y));
    }
    for (auto& t : tmx) gpu::free_tensor_core_weight(t);
    for (auto& t : tnv) gpu::free_tensor_core_weight(t);
    for (auto& t : tmx1) gpu::free_tensor_core_weight(t);
    for (int i = 0; i < c4; ++i)
      cudaFree(packed[size_t(i)]), cudaFree(mxs[size_t(i)]), cudaFree(nvs[size_t(i)]);
    for (auto* w : wbf) cudaFree(w);
    cudaFree(ws);
  }
  if (cs) MRGPTQ_CUDA_CHECK(cudaStreamDestroy(cs));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--help") == 0 || std::strcmp(argv[i], "-h") == 0) {
      std::printf(
          "usage: bench_w4a16_tc [--quick] [--only NxK] [--wg [--cfg C | --ab C1,C2,...]] "
          "[--dispatch] [--expand] [--ms M1,...] [--reps R] [--tiles T] [--layout L] [--chain L "
          "[--w4a4]]\n"
          "  W4A16 kernels against cuBLAS BF16 on the issue's four layer shapes (or --only NxK).\n"
          "  --wg: the warpgroup kernel in every config (kernels.hpp) and its automatic choice;\n"
          "        --cfg C times config C alone; --ab C1,C2,... times these configs (-1: the\n"
          "        automatic choice) in turn, call for call, each over the first (drift-free).\n"
          "  --dispatch: only cuBLAS BF16, the w4a16_gemm dispatch (MXFP4, NVFP4) and the MXFP4\n"
          "        path it does not take (dequantize + cuBLAS, or the warpgroup kernel above\n"
          "        M = 4096), call for call, on a fine grid of M from 1 to 1024 (the \"never\n"
          "        slower\" sweep).\n"
          "  --expand: only the weight's expansion to BF16 (MXFP4, NVFP4) against a copy of the\n"
          "        BF16 weight's size: time, GB/s read + written, percent of the copy's.\n"
          "  --ms: the M to time; --reps: repeats a median; --tiles / --layout: the weight's\n"
          "        re-layout (see the source's header).\n"
          "  --chain L: decode chains of L layer calls, us per layer: cuBLAS BF16 and w4a16_gemm\n"
          "        (MXFP4, NVFP4) with plain and programmatic (overlapped) launches.\n"
          "  --w4a4: with --chain, W4A4 layers (kernel 1 + w4a16_gemm) instead; --chain 1 times\n"
          "        single layers.\n");
      return 0;
    }
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_w4a16_tc: %s\n", e.what());
    return 1;
  }
}
