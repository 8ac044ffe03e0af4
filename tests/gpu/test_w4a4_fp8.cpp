// MXFP4 W4A4 on the FP8 tensor cores (kernels_fp8.hpp) against the float64
// product of the CPU-dequantized operands, on fresh random data with outlier
// channels, outputs poisoned (NaN) before every launch; odd M and N; a planted
// wrong block scale must fail the check. Skips where no GPU is present.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "mrgptq/error.hpp"
#include "mrgptq/formats.hpp"
#include "mrgptq/hadamard.hpp"
#include "mrgptq/kernels_fp8.hpp"

#include "gpu_test_util.hpp"

using namespace mrgptq;
using namespace mrgptq::gputest;

namespace {

QuantizedTensor mx_quant(const std::vector<float>& v, int64_t rows, int64_t K) {
  QuantOptions o;
  o.rule = format_info(Format::MXFP4).default_rule;
  return quantize_rtn(v.data(), rows, K, Format::MXFP4, o);
}

// An MXFP4 operand re-expressed on the device as FP8 blocks.
struct Operand {
  QuantizedTensor q;
  MatrixF deq;
  uint8_t *packed = nullptr, *scales = nullptr;
  gpu::Fp8Blocks fp8;
  unsigned long long* inexact = nullptr;
  Operand(const std::vector<float>& v, int64_t rows, int64_t K) : q(mx_quant(v, rows, K)) {
    deq = dequantize(q);
    packed = upload(q.packed), scales = upload(q.scales);
    fp8.rows = rows, fp8.K = K;
    fp8.data = poisoned<uint8_t>(size_t(gpu::fp8_rows_alloc(rows) * K));
    fp8.scales = poisoned<float>(size_t(gpu::fp8_rows_alloc(rows) * K / 128));
    inexact = poisoned<unsigned long long>(1);
    cudaMemset(inexact, 0, sizeof *inexact);
    gpu::mxfp4_to_fp8_blocks(packed, scales, rows, K, fp8, inexact, nullptr);
  }
  unsigned long long lost() const {
    unsigned long long n = 0;
    cudaMemcpy(&n, inexact, sizeof n, cudaMemcpyDeviceToHost);
    return n;
  }
  ~Operand() {
    cudaFree(packed), cudaFree(scales), cudaFree(fp8.data), cudaFree(fp8.scales), cudaFree(inexact);
  }
};

std::vector<float> activations(int64_t M, int64_t K, std::mt19937& rng) {
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> x(size_t(M * K));
  for (int64_t i = 0; i < M * K; ++i)
    x[size_t(i)] = from_bf16(to_bf16(g(rng) * ((i % K) % 53 == 7 ? 30.f : 1.f)));
  return x;
}
std::vector<float> weights(int64_t N, int64_t K, std::mt19937& rng) {
  std::student_t_distribution<float> t(4.f);
  std::vector<float> w(size_t(N * K));
  for (auto& v : w) v = 0.02f * t(rng);
  return w;
}

std::vector<uint16_t> product(const gpu::Fp8Blocks& a, const gpu::Fp8Blocks& w) {
  const size_t n = size_t(a.rows * w.rows);
  uint16_t* dy = poisoned<uint16_t>(n);
  gpu::fp8_block_gemm(a, w, dy, nullptr);
  std::vector<uint16_t> y(n);
  if (cudaDeviceSynchronize() != cudaSuccess ||
      cudaMemcpy(y.data(), dy, n * 2, cudaMemcpyDeviceToHost) != cudaSuccess)
    throw Error("FP8 product failed on the device");
  cudaFree(dy);
  return y;
}
std::vector<uint16_t> product(const Operand& a, const Operand& w) {
  return product(a.fp8, w.fp8);
}
std::vector<uint16_t> product(const Operand& a, const gpu::Fp8Blocks& w) {
  return product(a.fp8, w);
}

}  // namespace

class GpuFp8 : public GpuTest {};

TEST_F(GpuFp8, BlockScaledProductMatchesFloat64) {
  std::mt19937 rng(std::random_device{}());
  for (auto mnk : std::vector<std::array<int64_t, 3>>{
           {1, 256, 512}, {3, 272, 384}, {17, 528, 256}, {64, 512, 1024}}) {
    const int64_t M = mnk[0], N = mnk[1], K = mnk[2];
    Operand a(activations(M, K, rng), M, K), w(weights(N, K, rng), N, K);
    EXPECT_EQ(a.lost() + w.lost(), 0u) << "groups not exactly re-expressed, M=" << M;
    EXPECT_LE(rel_error_vs_f64(product(a, w), a.deq, w.deq), 5e-3)
        << "M=" << M << " N=" << N << " K=" << K;
  }
}

TEST_F(GpuFp8, RotatedLinearMatchesFloat64AndFusedBytesEqualTwoPass) {
  std::mt19937 rng(std::random_device{}());
  for (int64_t M : {1, 33}) {
    const int64_t N = 272, K = 512, Ma = gpu::fp8_rows_alloc(M);
    Operand w(weights(N, K, rng), N, K);
    std::vector<float> x = activations(M, K, rng);
    std::vector<uint16_t> xb(x.size());
    for (size_t i = 0; i < x.size(); ++i) xb[i] = to_bf16(x[i]);
    std::vector<float> xr = x;
    Rotation::make(K, 32).apply_rows(xr.data(), M);
    const MatrixF A = dequantize(mx_quant(xr, M, K));
    uint16_t* dx = upload(xb);
    uint16_t* dy = poisoned<uint16_t>(size_t(M * N));
    gpu::Fp8Blocks af;
    af.rows = M, af.K = K;
    af.data = poisoned<uint8_t>(size_t(Ma * K));
    af.scales = poisoned<float>(size_t(Ma * K / 128));
    gpu::w4a4_mxfp4_fp8_linear(dx, M, w.fp8, 32, dy, af, nullptr);
    CK(cudaDeviceSynchronize());
    std::vector<uint16_t> y(size_t(M * N));
    CK(cudaMemcpy(y.data(), dy, y.size() * 2, cudaMemcpyDeviceToHost));
    EXPECT_LE(rel_error_vs_f64(y, A, w.deq), 5e-3) << "M=" << M;
    // The fused quantizer's FP8 bytes and block scales equal the two-pass path
    // (kernel 1's MXFP4 codes, then the re-expression kernel).
    uint8_t* ap = poisoned<uint8_t>(size_t(M * K / 2));
    uint8_t* as = poisoned<uint8_t>(size_t(M * K / 32));
    gpu::quantize_activations(dx, M, K, Format::MXFP4, 32, 1.f, ap, as, nullptr, nullptr);
    gpu::Fp8Blocks two = af;
    two.data = poisoned<uint8_t>(size_t(Ma * K));
    two.scales = poisoned<float>(size_t(Ma * K / 128));
    gpu::mxfp4_to_fp8_blocks(ap, as, M, K, two, nullptr, nullptr);
    CK(cudaDeviceSynchronize());
    std::vector<uint8_t> d1(size_t(M * K)), d2(size_t(M * K));
    CK(cudaMemcpy(d1.data(), af.data, d1.size(), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(d2.data(), two.data, d2.size(), cudaMemcpyDeviceToHost));
    EXPECT_EQ(d1, d2) << "fused FP8 bytes differ from the two-pass path, M=" << M;
    for (int64_t kb = 0; kb < K / 128; ++kb) {
      std::vector<float> s1(static_cast<size_t>(M)), s2(static_cast<size_t>(M));
      CK(cudaMemcpy(s1.data(), af.scales + kb * Ma, size_t(M) * 4, cudaMemcpyDeviceToHost));
      CK(cudaMemcpy(s2.data(), two.scales + kb * Ma, size_t(M) * 4, cudaMemcpyDeviceToHost));
      EXPECT_EQ(s1, s2) << "block scales differ, chunk " << kb;
    }
    cudaFree(dx), cudaFree(dy), cudaFree(ap), cudaFree(as), cudaFree(af.data), cudaFree(af.scales);
    cudaFree(two.data), cudaFree(two.scales);
  }
}

TEST_F(GpuFp8, PlantedWrongBlockScaleFailsTheCheck) {
  std::mt19937 rng(std::random_device{}());
  const int64_t M = 16, N = 256, K = 512;
  Operand a(activations(M, K, rng), M, K), w(weights(N, K, rng), N, K);
  ASSERT_LE(rel_error_vs_f64(product(a, w), a.deq, w.deq), 5e-3);
  std::vector<float> s(size_t(N * K / 128));
  CK(cudaMemcpy(s.data(), w.fp8.scales, s.size() * 4, cudaMemcpyDeviceToHost));
  for (size_t i = 0; i < s.size() / 4; ++i) s[i] *= 2.f;
  CK(cudaMemcpy(w.fp8.scales, s.data(), s.size() * 4, cudaMemcpyHostToDevice));
  EXPECT_GT(rel_error_vs_f64(product(a, w), a.deq, w.deq), 5e-3) << "a planted wrong scale passed";
}

TEST_F(GpuFp8, WeightWith128x128BlockScalesMatchesFloat64) {
  std::mt19937 rng(std::random_device{}());
  const int64_t N = 256, K = 512;
  const QuantizedTensor qw = mx_quant(weights(N, K, rng), N, K);
  const MatrixF wdeq = dequantize(qw);
  uint8_t *pk = upload(qw.packed), *sc = upload(qw.scales);
  gpu::Fp8Blocks w;
  w.rows = N, w.K = K;
  w.data = poisoned<uint8_t>(size_t(N * K));
  w.scales = poisoned<float>(size_t(N * K / 128 / 128));
  unsigned long long* lost = poisoned<unsigned long long>(1);
  CK(cudaMemset(lost, 0, sizeof *lost));
  gpu::mxfp4_to_fp8_blocks_2d(pk, sc, N, K, w, lost, nullptr);
  unsigned long long nlost = 0;
  CK(cudaMemcpy(&nlost, lost, sizeof nlost, cudaMemcpyDeviceToHost));
  EXPECT_EQ(nlost, 0u) << "weight groups not exactly re-expressed against the 128x128 block";
  for (int64_t M : {16, 33}) {
    Operand a(activations(M, K, rng), M, K);
    const double err = rel_error_vs_f64(product(a, w), a.deq, wdeq);
    EXPECT_LE(err, 5e-3) << "M=" << M;
    if (err > 5e-3) {  // say whether the other scale layout would have been right
      std::vector<float> s(size_t(N * K / 16384)), t(s.size());
      CK(cudaMemcpy(s.data(), w.scales, s.size() * 4, cudaMemcpyDeviceToHost));
      const int64_t nb = N / 128, kbs = K / 128;
      for (int64_t kb = 0; kb < kbs; ++kb)
        for (int64_t n = 0; n < nb; ++n) t[size_t(kb * nb + n)] = s[size_t(n * kbs + kb)];
      CK(cudaMemcpy(w.scales, t.data(), t.size() * 4, cudaMemcpyHostToDevice));
      ADD_FAILURE() << "with the transposed scale layout the error is "
                    << rel_error_vs_f64(product(a, w), a.deq, wdeq);
      CK(cudaMemcpy(w.scales, s.data(), s.size() * 4, cudaMemcpyHostToDevice));
    }
  }
  cudaFree(pk), cudaFree(sc), cudaFree(w.data), cudaFree(w.scales), cudaFree(lost);
}

TEST_F(GpuFp8, BadShapesGiveClearErrors) {
  gpu::Fp8Blocks out;
  EXPECT_THROW(gpu::mxfp4_to_fp8_blocks(nullptr, nullptr, 4, 96, out, nullptr, nullptr), Error);
  gpu::Fp8Blocks a, w;
  a.rows = 2, a.K = 256, w.rows = 16, w.K = 128;
  EXPECT_THROW(gpu::fp8_block_gemm(a, w, nullptr, nullptr), Error);  // K differs
  w.K = 256, w.rows = 264;
  EXPECT_THROW(gpu::fp8_block_gemm(a, w, nullptr, nullptr), Error);  // N % 16 != 0
}
