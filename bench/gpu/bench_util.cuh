// Shared by the GPU benchmark programs: random device buffers (never zeros),
// BF16 bits, and the timing rule of docs/PERFORMANCE.md (CUDA events around
// every call, warm-up first, median of the repeats, inputs rotated over
// `copies` buffers so that the L2 cache does not hold them).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <random>
#include <vector>

#include "kernels/fp4_device.cuh"

namespace mrgptq::bench {

template <class T, class Gen>
T* dev_random(size_t n, uint32_t seed, Gen gen) {
  std::vector<T> h(n);
  std::mt19937 rng(seed);
  for (auto& v : h) v = T(gen(rng));
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

// Median time in microseconds of fn(i % copies) over `reps` calls.
inline double time_us(int copies, int reps, const std::function<void(int)>& fn) {
  for (int i = 0; i < 3; ++i) fn(i % copies);
  std::vector<float> ms;
  cudaEvent_t a, b;
  MRGPTQ_CUDA_CHECK(cudaEventCreate(&a));
  MRGPTQ_CUDA_CHECK(cudaEventCreate(&b));
  for (int i = 0; i < reps; ++i) {
    MRGPTQ_CUDA_CHECK(cudaEventRecord(a));
    fn(i % copies);
    MRGPTQ_CUDA_CHECK(cudaEventRecord(b));
    MRGPTQ_CUDA_CHECK(cudaEventSynchronize(b));
    float t;
    MRGPTQ_CUDA_CHECK(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t);
  }
  MRGPTQ_CUDA_CHECK(cudaEventDestroy(a));
  MRGPTQ_CUDA_CHECK(cudaEventDestroy(b));
  std::sort(ms.begin(), ms.end());
  return 1000.0 * ms[ms.size() / 2];
}

// The medians (µs) of a and b timed alternately, a then b in every repeat, so
// that both see the same clocks: a long run of dense GEMMs heats the GPU and
// its clocks fall, which timing a baseline first and a candidate afterwards
// would charge to the candidate alone.
struct PairTimes {
  double a, b;
};
inline PairTimes time_pair_us(int copies_a, const std::function<void(int)>& a, int copies_b,
                              const std::function<void(int)>& b, int reps) {
  for (int i = 0; i < 3; ++i) a(i % copies_a), b(i % copies_b);
  std::vector<float> ta, tb;
  cudaEvent_t e[3];
  for (auto& x : e) MRGPTQ_CUDA_CHECK(cudaEventCreate(&x));
  for (int i = 0; i < reps; ++i) {
    MRGPTQ_CUDA_CHECK(cudaEventRecord(e[0]));
    a(i % copies_a);
    MRGPTQ_CUDA_CHECK(cudaEventRecord(e[1]));
    b(i % copies_b);
    MRGPTQ_CUDA_CHECK(cudaEventRecord(e[2]));
    MRGPTQ_CUDA_CHECK(cudaEventSynchronize(e[2]));
    float x, y;
    MRGPTQ_CUDA_CHECK(cudaEventElapsedTime(&x, e[0], e[1]));
    MRGPTQ_CUDA_CHECK(cudaEventElapsedTime(&y, e[1], e[2]));
    ta.push_back(x), tb.push_back(y);
  }
  for (auto& x : e) MRGPTQ_CUDA_CHECK(cudaEventDestroy(x));
  std::sort(ta.begin(), ta.end());
  std::sort(tb.begin(), tb.end());
  return {1000.0 * ta[ta.size() / 2], 1000.0 * tb[tb.size() / 2]};
}

}  // namespace mrgptq::bench
