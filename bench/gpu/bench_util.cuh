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
#include <thread>
#include <vector>

#include "kernels/fp4_device.cuh"

namespace mrgptq::bench {

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

}  // namespace mrgptq::bench
