// Per-CTA phase stamps for the warpgroup kernel and the streamed ones (w4a16_tc.cu), a diagnostic
// compiled in only with -DMRGPTQ_WG_TRACE (scripts/gpu-pack.sh --trace builds bench_w4a16_tc so,
// in a build of its own):
// MRGPTQ_WG_TRACE=n in the environment then prints, for every n-th launch, the median [min, max]
// over its CTAs of each phase in clock cycles (the sixteenth session's traces in
// docs/kernels/h200/wg-trace-ea4a40b.txt came from it). Without the macro WG_TRACE is nothing.
#pragma once

#ifdef MRGPTQ_WG_TRACE
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace mrgptq::gpu::wg_trace {
namespace {  // one copy of the stamps, and of dump, in each .cu that includes this

// [cta][0] globaltimer at the CTA's start, [1] clock64 then, [2] when consumer thread 128 has its
// first chunk, [3] after its main loop, [4] after the split epilogue's first cluster barrier,
// [5] at its end, [6] globaltimer then.
constexpr int kCtas = 8192;
__device__ unsigned long long g_stamps[kCtas * 8];
__device__ __forceinline__ unsigned long long global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

void dump(long long grid, cudaStream_t st, int bn, int shares, bool persist,
          const char* kernel = "wgmma") {
  static int calls = 0;
  const char* e = std::getenv("MRGPTQ_WG_TRACE");
  const int every = e ? std::atoi(e) : 0;
  if (every <= 0 || ++calls % every != 0) return;
  const long long n = std::min<long long>(grid, kCtas);
  std::vector<unsigned long long> h(size_t(n) * 8);
  if (cudaStreamSynchronize(st) != cudaSuccess ||
      cudaMemcpyFromSymbol(h.data(), g_stamps, h.size() * 8) != cudaSuccess)
    return;
  unsigned long long g0 = ~0ull, g1 = 0;
  for (long long b = 0; b < n; ++b) g0 = std::min(g0, h[b * 8]), g1 = std::max(g1, h[b * 8 + 6]);
  auto stat = [&](const char* name, auto f) {
    std::vector<double> v;
    for (long long b = 0; b < n; ++b) v.push_back(double(f(&h[size_t(b) * 8])));
    std::sort(v.begin(), v.end());
    std::fprintf(stderr, " %s %.0f [%.0f, %.0f]", name, v[v.size() / 2], v.front(), v.back());
  };
  std::fprintf(stderr, "trace %s bn %d s %d persist %d grid %lld span %.1f us:", kernel, bn, shares,
               int(persist), grid, double(g1 - g0) / 1e3);
  stat("start_ns", [&](const unsigned long long* r) { return r[0] - g0; });
  stat("end_ns", [&](const unsigned long long* r) { return r[6] - g0; });
  stat("setup+first", [](const unsigned long long* r) { return r[2] - r[1]; });
  stat("loop", [](const unsigned long long* r) { return r[3] - r[2]; });
  if (shares > 1 && !persist)
    stat("stash+sync", [](const unsigned long long* r) { return r[4] - r[3]; });
  stat("epilogue", [](const unsigned long long* r) { return r[5] - r[3]; });
  stat("total", [](const unsigned long long* r) { return r[5] - r[1]; });
  std::fprintf(stderr, "\n");
}

}  // namespace
}  // namespace mrgptq::gpu::wg_trace

#define WG_TRACE(slot, v)                                                                   \
  do {                                                                                      \
    if (blockIdx.x < ::mrgptq::gpu::wg_trace::kCtas)                                        \
      ::mrgptq::gpu::wg_trace::g_stamps[blockIdx.x * 8 + (slot)] = (unsigned long long)(v); \
  } while (0)
#else
#define WG_TRACE(slot, v) \
  do {                    \
  } while (0)
#endif
