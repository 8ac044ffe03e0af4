// Helpers shared by the GPU tests: BF16 bits, device upload/download, output
// buffers poisoned with 0xFF bytes (NaN as BF16) so that unwritten elements are
// caught, random FP4 weights and activations, planted wrong scales, kernel 1's CPU reference
// and the float64 reference error; the fixture that skips where no GPU is present.
#pragma once
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "mrgptq/error.hpp"
#include "mrgptq/formats.hpp"
#include "mrgptq/hadamard.hpp"
#include "mrgptq/kernels.hpp"

#define CK(x) ASSERT_EQ((x), cudaSuccess) << #x

namespace mrgptq::gputest {

// Every GPU test's fixture: skips, with a clear message, where no CUDA device is present (CI).
class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!gpu::device_available()) GTEST_SKIP() << "no CUDA device present: GPU test skipped";
  }
};

// The device's SM count (the kernels size their grids by it); 0, with a failure, if unknown.
inline int device_sms() {
  int sms = 0;
  if (cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0) != cudaSuccess)
    ADD_FAILURE() << "cudaDeviceGetAttribute(cudaDevAttrMultiProcessorCount) failed";
  return sms;
}
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

// Activations [M, K] ~ N(0, 1) with an outlier channel (x30) every 53rd column.
inline std::vector<uint16_t> random_activations(int64_t M, int64_t K, std::mt19937& rng) {
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<uint16_t> x(size_t(M * K));
  for (int64_t i = 0; i < M * K; ++i)
    x[size_t(i)] = to_bf16(g(rng) * ((i % K) % 53 == 7 ? 30.f : 1.f));
  return x;
}

// An FP4 weight on the device with its CPU quantization and dequantized values.
struct DeviceWeight {
  QuantizedTensor q;
  MatrixF deq;
  uint8_t *packed = nullptr, *scales = nullptr;
  gpu::Fp4Weight view() const {
    gpu::Fp4Weight w;
    w.format = q.format, w.N = q.rows, w.K = q.padded_cols, w.packed = packed, w.scales = scales;
    w.global_scale = q.global_scale;
    return w;
  }
  ~DeviceWeight() { cudaFree(packed), cudaFree(scales); }
};

// w [N, K] quantized by RTN with the format's default scale rule, then uploaded.
inline void upload_weight(DeviceWeight& d, const std::vector<float>& w, int64_t N, int64_t K,
                          Format f) {
  QuantOptions o;
  o.rule = format_info(f).default_rule;
  d.q = quantize_rtn(w.data(), N, K, f, o);
  d.deq = dequantize(d.q);
  d.packed = upload(d.q.packed);
  d.scales = upload(d.q.scales);
}

// Rewrites scale bytes in place: f(row, group, byte&) for every group of every row; then the
// dequantized reference is made again and the scales uploaded (tests of extreme scales).
template <class F>
void rewrite_scales(DeviceWeight& d, F f) {
  const int64_t groups = d.q.padded_cols / (d.q.format == Format::MXFP4 ? 32 : 16);
  for (int64_t r = 0; r < d.q.rows; ++r)
    for (int64_t g = 0; g < groups; ++g) f(r, g, d.q.scales[size_t(r * groups + g)]);
  d.deq = dequantize(d.q);
  if (cudaMemcpy(d.scales, d.q.scales.data(), d.q.scales.size(), cudaMemcpyHostToDevice) !=
      cudaSuccess)
    throw Error("rewrite_scales: upload failed");
}

// A weight of heavy-tailed values (Student t(4) x 0.02).
inline void make_weight(DeviceWeight& d, int64_t N, int64_t K, Format f, std::mt19937& rng) {
  std::student_t_distribution<float> t(4.f);
  std::vector<float> w(size_t(N * K));
  for (auto& v : w) v = 0.02f * t(rng);
  upload_weight(d, w, N, K, f);
}

// The weight's scale bytes with the first quarter wrong: each doubled (E8M0 + 1) or about
// doubled (E4M3 + 8), for the tests that prove the float64 check can fail.
inline std::vector<uint8_t> wrong_scales(const QuantizedTensor& q) {
  std::vector<uint8_t> bad = q.scales;
  for (size_t i = 0; i < bad.size() / 4; ++i)
    bad[i] = uint8_t(bad[i] + (q.format == Format::MXFP4 ? 1 : 8));
  return bad;
}

// CPU reference of kernel 1: bf16 -> float -> rotation -> quantize_rtn.
inline QuantizedTensor cpu_quant(const std::vector<uint16_t>& x, int64_t M, int64_t K, Format f,
                                 int rot, float g) {
  std::vector<float> xf(x.size());
  for (size_t i = 0; i < x.size(); ++i) xf[i] = from_bf16(x[i]);
  if (rot) Rotation::make(K, rot).apply_rows(xf.data(), M);
  QuantOptions o;
  o.rule = format_info(f).default_rule;
  o.global_scale = g;
  return quantize_rtn(xf.data(), M, K, f, o);
}

// Relative Frobenius error of Y (BF16) against a float64 reference of the same
// shape; infinity when any output is not finite (an unwritten, NaN-poisoned entry).
inline double rel_error(const std::vector<uint16_t>& y, const std::vector<double>& ref) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    const double got = from_bf16(y[i]);
    if (!std::isfinite(got)) return INFINITY;
    num += (got - ref[i]) * (got - ref[i]), den += ref[i] * ref[i];
  }
  return std::sqrt(num / den);
}

// rel_error of Y (BF16 [M, N]) against the float64 product A W^T.
inline double rel_error_vs_f64(const std::vector<uint16_t>& Y, const MatrixF& A, const MatrixF& W) {
  std::vector<double> ref(size_t(A.rows * W.rows));
  for (int64_t m = 0; m < A.rows; ++m)
    for (int64_t n = 0; n < W.rows; ++n) {
      double s = 0;
      for (int64_t k = 0; k < A.cols; ++k) s += double(A(m, k)) * W(n, k);
      ref[size_t(m * W.rows + n)] = s;
    }
  return rel_error(Y, ref);
}

}  // namespace mrgptq::gputest
