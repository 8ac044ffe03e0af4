// How the rate of 1-D TMA bulk copies (cp.async.bulk, what the W4A16 kernels
// stream their weights with) depends on the size of each copy, at a fixed
// number of bytes in flight. The eighth session found the W4A16 kernels 3-11%
// faster when a stage's small scale copy was merged into its code copy
// (docs/PERFORMANCE.md); this measures the effect alone.
//
// One CTA per SM streams its slice of a buffer larger than 8x L2 through a
// ring of 4 stages of 32 KB: thread 0 fills a stage with 32 KB / P copies of
// P bytes each (contiguous, so only the number of copies changes), four
// consumer warps wait for it, read it (an XOR over every byte) and release it.
// Printed per P: time, GB/s and the ratio to P = 32 KB, and whether the XOR of
// everything read equals P = 32 KB's (the same bytes must arrive, whatever the
// pieces). The ninth session measured ~48 ns a copy and SM below 2 KB
// (docs/kernels/h200/bench-tma-copies-e6afcca.txt); a second sweep asks whose
// cost that is: the same pieces issued by 4 or 32 lanes of the producer warp
// (copy i by lane i % lanes) instead of one thread. If more lanes move small
// pieces faster, the limit is one thread's issue; if not, the SM's TMA unit.
// usage: bench_tma_copies [--reps R]
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_util.cuh"
#include "kernels/w4a16_common.cuh"

using namespace mrgptq;
using namespace mrgptq::bench;
using namespace mrgptq::gpu::w4;

namespace {

constexpr int kStages = 4, kStage = 32 * 1024, kConsumers = 4;
constexpr int kThreads = 32 * (1 + kConsumers);

__global__ void __launch_bounds__(kThreads, 1)
    copy_rate(const uint8_t* __restrict__ src, int64_t per_cta, uint32_t piece, int lanes,
              uint32_t* __restrict__ sums) {
  extern __shared__ __align__(128) uint8_t smem[];
  uint64_t* full = reinterpret_cast<uint64_t*>(smem + kStages * kStage);
  uint64_t* empty = full + kStages;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const uint8_t* base = src + int64_t(blockIdx.x) * per_cta;
  const int64_t stages = per_cta / kStage;
  if (threadIdx.x == 0) ring_init(full, empty, kStages, kConsumers);
  __syncthreads();
  if (warp == 0) {  // the producer: `lanes` lanes issue the copies, copy i by lane i % lanes
    if (lane >= lanes) return;
    const unsigned group = lanes == 32 ? 0xFFFFFFFFu : (1u << lanes) - 1u;
    const uint64_t policy = l2_policy(true);
    for (int64_t s = 0; s < stages; ++s) {
      const int slot = int(s % kStages);
      if (s >= kStages) mbar_wait(&empty[slot], uint32_t(((s / kStages) - 1) & 1));
      if (lane == 0) mbar_expect_tx(&full[slot], kStage);
      __syncwarp(group);  // the stage's bytes are expected before any of its copies is issued
      for (uint32_t off = uint32_t(lane) * piece; off < uint32_t(kStage); off += lanes * piece)
        bulk_load(smem + slot * kStage + off, base + s * kStage + off, piece, &full[slot], policy);
    }
    return;
  }
  // Consumers: warp w reads the stage's quarter w - 1 (8 KB, 16 bytes a lane and step).
  uint32_t acc = 0;
  for (int64_t s = 0; s < stages; ++s) {
    const int slot = int(s % kStages);
    mbar_wait(&full[slot], uint32_t((s / kStages) & 1));
    const uint4* q = reinterpret_cast<const uint4*>(smem + slot * kStage) + (warp - 1) * 512;
#pragma unroll 4
    for (int i = lane; i < 512; i += 32) {
      const uint4 v = q[i];
      acc ^= v.x ^ v.y ^ v.z ^ v.w;
    }
    __syncwarp();
    if (lane == 0) mbar_arrive(&empty[slot]);
  }
  atomicXor(&sums[blockIdx.x % 64], acc);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 20;
  for (int i = 1; i < argc; ++i)
    if (std::strcmp(argv[i], "--reps") == 0 && i + 1 < argc) reps = std::atoi(argv[++i]);
  if (!gpu::device_available()) {
    std::printf("no CUDA device: benchmark skipped\n");
    return 0;
  }
  cudaDeviceProp prop;
  MRGPTQ_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  const int ctas = prop.multiProcessorCount;
  // Each CTA's slice: a whole number of stages; all slices together > 8x L2.
  const int64_t per_cta = (int64_t(8) * prop.l2CacheSize / ctas / kStage + 1) * kStage;
  const size_t bytes = size_t(per_cta) * size_t(ctas);
  std::printf(
      "device: %s, %d SMs; %d CTAs (one an SM) x %lld bytes = %.0f MB, a ring of %d x %d "
      "KB stages a CTA\n",
      prop.name, ctas, ctas, static_cast<long long>(per_cta), bytes / 1e6, kStages, kStage / 1024);
  uint8_t* src = dev_random<uint8_t>(bytes, 7, [](std::mt19937& r) { return uint8_t(r()); });
  uint32_t* sums;
  MRGPTQ_CUDA_CHECK(cudaMalloc(&sums, 64 * sizeof(uint32_t)));
  const int smem = kStages * kStage + 2 * kStages * 8;
  MRGPTQ_CUDA_CHECK(
      cudaFuncSetAttribute(copy_rate, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  auto run = [&](uint32_t piece, int lanes) {
    copy_rate<<<ctas, kThreads, smem>>>(src, per_cta, piece, lanes, sums);
    MRGPTQ_CUDA_LAUNCH_CHECK();
  };
  auto checksum = [&](uint32_t piece, int lanes) {
    MRGPTQ_CUDA_CHECK(cudaMemset(sums, 0, 64 * sizeof(uint32_t)));
    run(piece, lanes);
    std::vector<uint32_t> h(64);
    MRGPTQ_CUDA_CHECK(cudaMemcpy(h.data(), sums, 64 * 4, cudaMemcpyDeviceToHost));
    uint32_t x = 0;
    for (uint32_t v : h) x ^= v;
    return x;
  };
  const uint32_t ref_sum = checksum(kStage, 1);
  std::printf("%6s %10s %8s %10s %9s %8s  %s\n", "lanes", "piece", "copies", "time us", "GB/s",
              "ratio", "same bytes as one copy");
  double t_one = 0.0;
  for (int lanes : {1, 4, 32})
    for (uint32_t piece = lanes == 1 ? kStage : 2048; piece >= 128; piece /= 2) {
      const double t = time_us(1, reps, [&](int) { run(piece, lanes); });
      if (piece == uint32_t(kStage)) t_one = t;
      const bool same = checksum(piece, lanes) == ref_sum;
      std::printf("%6d %10u %8u %10.1f %9.0f %7.2fx  %s\n", lanes, piece, kStage / piece, t,
                  bytes / t / 1e3, t_one / t, same ? "yes" : "NO");
      if (!same) return 1;
    }
  MRGPTQ_CUDA_CHECK(cudaFree(sums));
  MRGPTQ_CUDA_CHECK(cudaFree(src));
  return 0;
}
