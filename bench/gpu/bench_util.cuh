// Shared by the GPU benchmark programs: random device buffers (never zeros),
// BF16 bits, and the timing rule of docs/PERFORMANCE.md (CUDA events around
// every call, warm-up first, median of the repeats, inputs rotated over
// `copies` buffers so that the L2 cache does not hold them).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "kernels/fp4_device.cuh"

namespace mrgptq::bench {

// A comma-separated list of integers ("1,16,33"), as the --ms and --ab options give them.
inline std::vector<int64_t> int_list(const char* s) {
  std::vector<int64_t> v;
  std::string t(s);
  for (char* p = std::strtok(t.data(), ","); p; p = std::strtok(nullptr, ","))
    v.push_back(std::atoll(p));
  return v;
}

// n values from gen, made on up to 16 host threads (a 470 MB weight copy took
// seconds on one), each with its own mt19937 seeded from (seed, part):
// the same data for the same seed on any machine.
template <class T, class Gen>
T* dev_random(size_t n, uint32_t seed, Gen gen) {
  std::vector<T> h(n);
  const size_t parts = std::min<size_t>(16, n / 65536 + 1), per = (n + parts - 1) / parts;
  std::vector<std::thread> th;
  for (size_t p = 0; p < parts; ++p)
    th.emplace_back([&, p] {
      std::mt19937 rng(seed * 7919u + uint32_t(p));
      Gen g = gen;
      for (size_t i = p * per; i < std::min(n, (p + 1) * per); ++i) h[i] = T(g(rng));
    });
  for (auto& t : th) t.join();
  T* d;
  MRGPTQ_CUDA_CHECK(cudaMalloc(&d, n * sizeof(T)));
  MRGPTQ_CUDA_CHECK(cudaMemcpy(d, h.data(), n * sizeof(T), cudaMemcpyHostToDevice));
  return d;
}

inline uint16_t bf16_of(float f) {  // truncation is fine for random test data
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return uint16_t(u >> 16);
}

inline uint16_t random_bf16(std::mt19937& r) {
  return bf16_of(std::normal_distribution<float>(0.f, 1.f)(r));
}

// GPU time of each call: events around every call, all calls enqueued before
// the one synchronisation at the end, so that the host runs ahead and every
// call starts as soon as the one before has finished. (Synchronising after
// each call, as these programs did before 2026-11-30 ~08:30 UTC, put the
// host's launch latency -- a few µs -- inside every interval, which the
// small-M kernels of 17-50 µs felt most.) fns[j] is called as fn(i % copies)
// in repeat i; several functions are called in turn within each repeat, so
// that all see the same clocks: a long run of dense GEMMs heats the GPU and
// its clocks fall, which timing a baseline first and a candidate afterwards
// would charge to the candidate alone. Three warm-up repeats first; the
// result is each function's median in µs.
struct Timed {
  int copies;
  std::function<void(int)> fn;
};
inline std::vector<double> time_rounds(const std::vector<Timed>& fns, int reps) {
  for (int i = 0; i < 3; ++i)
    for (const Timed& f : fns) f.fn(i % f.copies);
  const size_t F = fns.size();
  std::vector<cudaEvent_t> ev(2 * F * size_t(reps));
  for (auto& e : ev) MRGPTQ_CUDA_CHECK(cudaEventCreate(&e));
  for (int i = 0; i < reps; ++i)
    for (size_t j = 0; j < F; ++j) {
      MRGPTQ_CUDA_CHECK(cudaEventRecord(ev[2 * (size_t(i) * F + j)]));
      fns[j].fn(i % fns[j].copies);
      MRGPTQ_CUDA_CHECK(cudaEventRecord(ev[2 * (size_t(i) * F + j) + 1]));
    }
  MRGPTQ_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<double> med(F);
  for (size_t j = 0; j < F; ++j) {
    std::vector<float> ms(static_cast<size_t>(reps));
    for (int i = 0; i < reps; ++i)
      MRGPTQ_CUDA_CHECK(cudaEventElapsedTime(&ms[size_t(i)], ev[2 * (size_t(i) * F + j)],
                                             ev[2 * (size_t(i) * F + j) + 1]));
    std::sort(ms.begin(), ms.end());
    med[j] = 1000.0 * ms[ms.size() / 2];
  }
  for (auto& e : ev) MRGPTQ_CUDA_CHECK(cudaEventDestroy(e));
  return med;
}

// Median time in microseconds of fn(i % copies) over `reps` calls.
inline double time_us(int copies, int reps, const std::function<void(int)>& fn) {
  return time_rounds({{copies, fn}}, reps)[0];
}

// The medians (µs) of a and b timed alternately, a then b in every repeat.
struct PairTimes {
  double a, b;
};
inline PairTimes time_pair_us(int copies_a, const std::function<void(int)>& a, int copies_b,
                              const std::function<void(int)>& b, int reps) {
  const std::vector<double> t = time_rounds({{copies_a, a}, {copies_b, b}}, reps);
  return {t[0], t[1]};
}

// The read roofline: the least time in which this GPU reads a and b (16-byte units, the two
// buffers of a weight: codes and scales) once, under the same timing rule -- what a W4A16 kernel
// at M = 1, which must read every weight byte, cannot beat. Four independent 16-byte loads a
// thread in flight, streaming (evict-first) loads, an XOR that keeps them live; the grid is four
// blocks of 512 threads an SM (2 and 8 timed the same on the H200).
static __global__ void read_roofline_kernel(const uint4* __restrict__ a, int64_t na,
                                            const uint4* __restrict__ b, int64_t nb,
                                            uint32_t* sink) {
  const int64_t n = na + nb, stride = int64_t(gridDim.x) * blockDim.x;
  auto at = [&](int64_t i) { return __ldcs(i < na ? a + i : b + (i - na)); };
  uint32_t acc = 0;
  int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i + 3 * stride < n; i += 4 * stride) {
    const uint4 u0 = at(i), u1 = at(i + stride), u2 = at(i + 2 * stride), u3 = at(i + 3 * stride);
    acc ^= u0.x ^ u0.y ^ u0.z ^ u0.w ^ u1.x ^ u1.y ^ u1.z ^ u1.w ^ u2.x ^ u2.y ^ u2.z ^ u2.w ^
           u3.x ^ u3.y ^ u3.z ^ u3.w;
  }
  for (; i < n; i += stride) {
    const uint4 u = at(i);
    acc ^= u.x ^ u.y ^ u.z ^ u.w;
  }
  if (acc == 0x9E3779B9u) *sink = acc;  // practically never: the loads cannot be dropped
}
// Median µs of reading codes[i % copies] (bytes_a) and scales[i % copies] (bytes_b, both
// multiples of 16).
inline double time_read_us(const std::vector<uint8_t*>& codes, size_t bytes_a,
                           const std::vector<uint8_t*>& scales, size_t bytes_b, int reps) {
  cudaDeviceProp prop;
  MRGPTQ_CUDA_CHECK(cudaGetDeviceProperties(&prop, 0));
  uint32_t* sink;
  MRGPTQ_CUDA_CHECK(cudaMalloc(&sink, 4));
  const double t = time_us(int(codes.size()), reps, [&](int i) {
    read_roofline_kernel<<<prop.multiProcessorCount * 4, 512>>>(
        reinterpret_cast<const uint4*>(codes[size_t(i)]), int64_t(bytes_a / 16),
        reinterpret_cast<const uint4*>(scales[size_t(i)]), int64_t(bytes_b / 16), sink);
  });
  MRGPTQ_CUDA_CHECK(cudaGetLastError());
  MRGPTQ_CUDA_CHECK(cudaFree(sink));
  return t;
}

}  // namespace mrgptq::bench
