// Helpers shared by the GPU tests: BF16 bits, device upload/download, and
// output buffers poisoned with 0xFF bytes (NaN as BF16) so that unwritten
// elements are caught.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "mrgptq/error.hpp"

#define CK(x) ASSERT_EQ((x), cudaSuccess) << #x

namespace mrgptq::gputest {

inline uint16_t to_bf16(float f) {  // round to nearest even
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return uint16_t((u + 0x7FFF + ((u >> 16) & 1)) >> 16);
}

inline float from_bf16(uint16_t b) {
  const uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

template <class T>
T* upload(const std::vector<T>& v) {
  T* d = nullptr;
  if (cudaMalloc(&d, v.size() * sizeof(T)) != cudaSuccess ||
      cudaMemcpy(d, v.data(), v.size() * sizeof(T), cudaMemcpyHostToDevice) != cudaSuccess)
    throw Error("upload to the device failed");
  return d;
}

template <class T>
std::vector<T> download(const T* d, size_t n) {
  std::vector<T> v(n);
  if (cudaMemcpy(v.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost) != cudaSuccess)
    throw Error("download from the device failed");
  return v;
}

template <class T>
T* poisoned(size_t n) {
  T* d = nullptr;
  if (cudaMalloc(&d, n * sizeof(T)) != cudaSuccess ||
      cudaMemset(d, 0xFF, n * sizeof(T)) != cudaSuccess)
    throw Error("device allocation failed");
  return d;
}

}  // namespace mrgptq::gputest
