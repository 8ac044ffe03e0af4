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
// small-M kernels of 17-50 µs felt most.)
struct EventTimer {
  std::vector<cudaEvent_t> ev;
  explicit EventTimer(size_t n) : ev(n) {
    for (auto& e : ev) MRGPTQ_CUDA_CHECK(cudaEventCreate(&e));
  }
  ~EventTimer() {
    for (auto& e : ev) cudaEventDestroy(e);
  }
  void record(size_t i) { MRGPTQ_CUDA_CHECK(cudaEventRecord(ev[i])); }
  // Median of the intervals (ev[first + stride * r], ev[first + stride * r + 1]), in µs.
  double median_us(size_t first, size_t stride, size_t count) const {
    std::vector<float> ms;
    for (size_t r = 0; r < count; ++r) {
      float t;
      MRGPTQ_CUDA_CHECK(
          cudaEventElapsedTime(&t, ev[first + stride * r], ev[first + stride * r + 1]));
      ms.push_back(t);
    }
    std::sort(ms.begin(), ms.end());
    return 1000.0 * ms[ms.size() / 2];
  }
};

// Median time in microseconds of fn(i % copies) over `reps` calls.
inline double time_us(int copies, int reps, const std::function<void(int)>& fn) {
  for (int i = 0; i < 3; ++i) fn(i % copies);
  EventTimer t(size_t(2 * reps));
  for (int i = 0; i < reps; ++i) {
    t.record(size_t(2 * i));
    fn(i % copies);
    t.record(size_t(2 * i + 1));
  }
  MRGPTQ_CUDA_CHECK(cudaDeviceSynchronize());
  return t.median_us(0, 2, size_t(reps));
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
  EventTimer t(size_t(4 * reps));
  for (int i = 0; i < reps; ++i) {
    t.record(size_t(4 * i));
    a(i % copies_a);
    t.record(size_t(4 * i + 1));
    t.record(size_t(4 * i + 2));
    b(i % copies_b);
    t.record(size_t(4 * i + 3));
  }
  MRGPTQ_CUDA_CHECK(cudaDeviceSynchronize());
  return {t.median_us(0, 4, size_t(reps)), t.median_us(2, 4, size_t(reps))};
}

}  // namespace mrgptq::bench
