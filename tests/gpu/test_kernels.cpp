// GPU kernels against the CPU reference (src/formats, src/transforms) and a
// float64 product, on fresh random data with outlier channels; outputs are
// poisoned before every launch. Skips with a message where no GPU is present.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <utility>

#include "mrgptq/error.hpp"
#include "mrgptq/formats.hpp"
#include "mrgptq/hadamard.hpp"
#include "mrgptq/kernels.hpp"

#include "gpu_test_util.hpp"

using namespace mrgptq;
using namespace mrgptq::gputest;

class Gpu : public GpuTest {};

namespace {

struct Mismatches {
  // Code and scale bytes against the CPU quantizer of the kernel's rotated
  // values; with with_deq, BF16 outputs against the CPU's dequantized values.
  size_t codes = 0, deq = 0;
  // Rotated values further from the float64 rotation than FP32 sums explain.
  size_t rotated_off = 0;
  // Code and scale bytes that differ from the CPU's own rotation path
  // (Rotation::apply_rows, then the quantizer): rounding ties only.
  size_t cpu_rotation_codes = 0, bytes = 0;
  // Output buffers (codes, scales, BF16 values) that differ between the kernel
  // with rotated_out (the instantiation checked above) and without it (the one
  // every other caller runs).
  size_t without_rotated_out = 0;
  // Whether the BF16 values differ when the codes and scales are not written (null).
  bool without_codes = false;
};
// Where the kernel rotates in registers, in the CPU's order (none; MXFP4 b = 32), its codes must
// be the CPU rotation path's bit for bit; on the tensor cores (every other rotation) a sum may
// round differently.
bool rotated_in_registers(Format f, int rot) {
  return rot == 0 || (f == Format::MXFP4 && rot == 32);
}

// Kernel 1 on x: its codes against the CPU quantizer applied to the rotated
// values it reports (rotated_out), those values against the float64 rotation
// of x, and its codes against the CPU's rotation path; every output buffer
// poisoned first.
Mismatches kernel1_mismatches(const std::vector<uint16_t>& x, int64_t M, int64_t K, Format f,
                              int rot, bool with_deq) {
  const float g = f == Format::NVFP4 ? nvfp4_global_scale(40.f) : 1.f;
  const QuantizedTensor cpu_path = cpu_quant(x, M, K, f, rot, g);
  uint16_t* dx = upload(x);
  auto* dp = poisoned<uint8_t>(cpu_path.packed.size());
  auto* ds = poisoned<uint8_t>(cpu_path.scales.size());
  auto* dd = with_deq ? poisoned<uint16_t>(size_t(M * K)) : nullptr;
  auto* dr = poisoned<float>(size_t(M * K));
  gpu::quantize_activations(dx, M, K, f, rot, g, dp, ds, dd, nullptr, dr);
  auto* dp2 = poisoned<uint8_t>(cpu_path.packed.size());
  auto* ds2 = poisoned<uint8_t>(cpu_path.scales.size());
  auto* dd2 = with_deq ? poisoned<uint16_t>(size_t(M * K)) : nullptr;
  gpu::quantize_activations(dx, M, K, f, rot, g, dp2, ds2, dd2, nullptr);
  // The BF16 values alone, as the W4A4 layers ask for them (no codes written).
  auto* dd3 = with_deq ? poisoned<uint16_t>(size_t(M * K)) : nullptr;
  if (with_deq) gpu::quantize_activations(dx, M, K, f, rot, g, nullptr, nullptr, dd3, nullptr);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const std::vector<float> rotated = download(dr, size_t(M * K));
  QuantOptions o;
  o.rule = format_info(f).default_rule;
  o.global_scale = g;
  const QuantizedTensor ref = quantize_rtn(rotated.data(), M, K, f, o);
  Mismatches r;
  const auto p = download(dp, ref.packed.size());
  const auto s = download(ds, ref.scales.size());
  r.bytes = p.size() + s.size();
  for (size_t i = 0; i < p.size(); ++i) {
    r.codes += p[i] != ref.packed[i];
    r.cpu_rotation_codes += p[i] != cpu_path.packed[i];
  }
  for (size_t i = 0; i < s.size(); ++i) {
    r.codes += s[i] != ref.scales[i];
    r.cpu_rotation_codes += s[i] != cpu_path.scales[i];
  }
  if (with_deq) {
    const auto d = download(dd, size_t(M * K));
    const MatrixF deq = dequantize(ref);
    for (int64_t i = 0; i < M * K; ++i) r.deq += d[size_t(i)] != to_bf16(deq.data[size_t(i)]);
    r.without_rotated_out += d != download(dd2, size_t(M * K));
    r.without_codes = d != download(dd3, size_t(M * K));
  }
  r.without_rotated_out += (p != download(dp2, p.size())) + (s != download(ds2, s.size()));
  // Each output within 2^-18 of its block's l1 norm / sqrt(b) of the float64
  // value (FP32 sums of up to 128 terms: ~2^-21 is the worst case), plus 2^-120
  // for subnormal inputs or sums the tensor cores may flush to zero.
  std::vector<double> xd(x.size());
  for (size_t i = 0; i < x.size(); ++i) xd[i] = from_bf16(x[i]);
  const int b = rot ? rot : 1;
  if (rot) fwht_blocks(xd.data(), M * K, rot);
  for (int64_t blk = 0; blk < M * K; blk += b) {
    double l1 = 0;
    for (int64_t i = blk; i < blk + b; ++i) l1 += std::fabs(double(from_bf16(x[size_t(i)])));
    const double tol = std::ldexp(l1 / std::sqrt(double(b)), -18) + std::ldexp(1.0, -120);
    for (int64_t i = blk; i < blk + b; ++i)
      r.rotated_off += !(std::fabs(double(rotated[size_t(i)]) - xd[size_t(i)]) <= tol);
  }
  cudaFree(dx), cudaFree(dp), cudaFree(ds), cudaFree(dd), cudaFree(dr);
  cudaFree(dp2), cudaFree(ds2), cudaFree(dd2), cudaFree(dd3);
  return r;
}

}  // namespace

TEST_F(Gpu, ActivationQuantizerCodesEqualTheCpuReference) {
  std::mt19937 rng(std::random_device{}());
  // K = 80 and 96: the last thread of NVFP4 (32 elements per thread) owns
  // only 16 when M * K is an odd multiple of 16.
  for (auto [M, K] : {std::pair<int64_t, int64_t>{37, 1024}, {37, 80}, {5, 96}})
    for (Format f : {Format::MXFP4, Format::NVFP4})
      for (int rot : {0, 16, 32, 64, 128}) {
        if (K % std::max<int64_t>(rot, format_info(f).group)) continue;
        const Mismatches r = kernel1_mismatches(random_activations(M, K, rng), M, K, f, rot, true);
        const std::string what = std::string(to_string(f)) + " rotation " + std::to_string(rot) +
                                 " K " + std::to_string(K);
        EXPECT_EQ(r.codes, 0u) << what;
        EXPECT_EQ(r.deq, 0u) << what;
        EXPECT_EQ(r.rotated_off, 0u) << what;
        EXPECT_EQ(r.without_rotated_out, 0u) << what;
        EXPECT_FALSE(r.without_codes) << what;
        // The CPU's own rotation path: rounding ties only on the tensor cores (up
        // to 7 bytes in 13056 were seen).
        if (rotated_in_registers(f, rot)) {
          EXPECT_EQ(r.cpu_rotation_codes, 0u) << what;
        } else {
          EXPECT_LE(r.cpu_rotation_codes * 100, r.bytes) << what;
        }
        if (r.cpu_rotation_codes)
          std::printf("  %s: %zu of %zu bytes differ from the CPU rotation path\n", what.c_str(),
                      r.cpu_rotation_codes, r.bytes);
      }
  EXPECT_THROW(gpu::quantize_activations(nullptr, 4, 48, Format::MXFP4, 0, 1.f, nullptr, nullptr,
                                         nullptr, nullptr),
               Error);
  // Nothing to write, or codes without their scales: refused before any launch.
  uint8_t* p = poisoned<uint8_t>(64);
  EXPECT_THROW(gpu::quantize_activations(nullptr, 1, 64, Format::MXFP4, 0, 1.f, nullptr, nullptr,
                                         nullptr, nullptr),
               Error);
  EXPECT_THROW(gpu::quantize_activations(nullptr, 1, 64, Format::MXFP4, 0, 1.f, p, nullptr, nullptr,
                                         nullptr),
               Error);
  cudaFree(p);
}

// NVFP4's rotations in blocks of C chunks (force_activation_chunks; the size alone picks C > 1
// only for inputs of thousands of blocks): the codes against the CPU quantizer of the rotated
// values the one-chunk kernel reports, and byte for byte against that kernel's. The shapes end
// on a partial block (37 x 1024: 4.6 blocks of 256 threads; 301 x 1024: 37.6) and, for b = 16,
// on a half thread (37 x 80).
TEST_F(Gpu, ActivationQuantizerChunkedBlocksEqualTheOneChunkKernel) {
  std::mt19937 rng(std::random_device{}());
  for (int c : {4, 6, 8}) {
    gpu::force_activation_chunks(c);
    for (auto [M, K] : {std::pair<int64_t, int64_t>{37, 1024}, {301, 1024}, {37, 80}})
      for (int rot : {16, 32, 64, 128}) {
        if (K % rot) continue;
        const Mismatches r =
            kernel1_mismatches(random_activations(M, K, rng), M, K, Format::NVFP4, rot, false);
        const std::string what = "C " + std::to_string(c) + " rotation " + std::to_string(rot) +
                                 " shape " + std::to_string(M) + "x" + std::to_string(K);
        EXPECT_EQ(r.codes, 0u) << what;
        EXPECT_EQ(r.rotated_off, 0u) << what;
        EXPECT_EQ(r.without_rotated_out, 0u) << what;
      }
  }
  gpu::force_activation_chunks(0);
  EXPECT_THROW(gpu::force_activation_chunks(3), Error);
}

// Rows scaled by 2^-140 .. 2^90, some with tiny and normal halves, some all
// zero: the kernel's rare paths (values that underflow after the rotation's
// 1/sqrt(b), groups of amax < 2^-100, NVFP4 scales out of the table's normal
// range) against the CPU reference. Where the rotation runs on the tensor
// cores (b = 16, 64, 128) the bytes that differ from the CPU's own rotation path
// are printed, not checked: sums of values 2^-130 apart round.
TEST_F(Gpu, ActivationQuantizerCodesEqualTheCpuReferenceFromTinyToHuge) {
  std::mt19937 rng(std::random_device{}());
  std::normal_distribution<float> nd(0.f, 1.f);
  const int64_t M = 48, K = 512;
  std::vector<uint16_t> x(size_t(M * K));
  for (int64_t r = 0; r < M; ++r)
    for (int64_t k = 0; k < K; ++k) {
      const int e = r % 3 == 2 && k >= K / 2 ? 0 : -140 + int(r) * 5;
      x[size_t(r * K + k)] = r % 16 == 5 ? 0 : to_bf16(std::ldexp(nd(rng), e));
    }
  for (Format f : {Format::MXFP4, Format::NVFP4})
    for (int rot : {0, 16, 32, 64, 128}) {
      const Mismatches r = kernel1_mismatches(x, M, K, f, rot, false);
      EXPECT_EQ(r.codes, 0u) << to_string(f) << " rotation " << rot;
      EXPECT_EQ(r.rotated_off, 0u) << to_string(f) << " rotation " << rot;
      EXPECT_EQ(r.without_rotated_out, 0u) << to_string(f) << " rotation " << rot;
      if (rotated_in_registers(f, rot)) {
        EXPECT_EQ(r.cpu_rotation_codes, 0u) << to_string(f) << " rotation " << rot;
      }
      std::printf("  %s rotation %d: %zu of %zu bytes differ from the CPU rotation path\n",
                  to_string(f), rot, r.cpu_rotation_codes, r.bytes);
    }
}

TEST_F(Gpu, W4A16MatchesFloat64AtOddSizes) {
  std::mt19937 rng(std::random_device{}());
  for (Format f : {Format::MXFP4, Format::NVFP4}) {
    DeviceWeight w;
    const int64_t N = 300, K = 640;  // neither a multiple of the tiles
    make_weight(w, N, K, f, rng);
    uint16_t* ws = poisoned<uint16_t>(size_t(N * K));
    for (int64_t M : {1, 3, 16, 17, 64}) {
      const auto x = random_activations(M, K, rng);
      MatrixF A(M, K);
      for (int64_t i = 0; i < M * K; ++i) A.data[size_t(i)] = from_bf16(x[size_t(i)]);
      uint16_t* dx = upload(x);
      auto* dy = poisoned<uint16_t>(size_t(M * N));
      gpu::w4a16_gemm(dx, M, w.view(), dy, ws, nullptr);
      CK(cudaDeviceSynchronize());
      const double err = rel_error_vs_f64(download(dy, size_t(M * N)), A, w.deq);
      EXPECT_LE(err, 5e-3) << to_string(f) << " M=" << M;
      cudaFree(dx), cudaFree(dy);
    }
    cudaFree(ws);
  }
}

// The rotated W4A4 layer (rotation 32) against the float64 product of the
// CPU-quantized activations and the dequantized weight, then once more with
// wrong (doubled) scales planted in a quarter of the weight rows, which must
// fail the check. relaid: the TcWeight overload (kernel 1 -> w4a16_gemm, no
// weight workspace), else the row-major one (weight expanded per call).
namespace {
void check_w4a4_linear(Format f, int64_t M, bool relaid, std::mt19937& rng) {
  DeviceWeight w;
  const int64_t N = 264, K = 512;
  make_weight(w, N, K, f, rng);
  const auto x = random_activations(M, K, rng);
  const float g = f == Format::NVFP4 ? nvfp4_global_scale(40.f) : 1.f;
  const MatrixF A = dequantize(cpu_quant(x, M, K, f, 32, g));
  uint16_t* dx = upload(x);
  auto* dy = poisoned<uint16_t>(size_t(M * N));
  auto* aw = poisoned<uint16_t>(size_t(M * K));
  auto* ww = relaid ? nullptr : poisoned<uint16_t>(size_t(N * K));
  auto run = [&] {
    if (relaid) {
      gpu::TcWeight tw = gpu::make_tensor_core_weight(w.view(), nullptr);
      gpu::w4a4_linear(dx, M, tw, 32, g, dy, aw, nullptr, nullptr);
      EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
      gpu::free_tensor_core_weight(tw);
    } else {
      gpu::w4a4_linear(dx, M, w.view(), 32, g, dy, aw, ww, nullptr);
      EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    }
    return rel_error_vs_f64(download(dy, size_t(M * N)), A, w.deq);
  };
  const std::string what = std::string(to_string(f)) + " M=" + std::to_string(M) +
                           (relaid ? " (re-laid-out weight)" : "");
  EXPECT_LE(run(), 5e-3) << what;
  const std::vector<uint8_t> bad = wrong_scales(w.q);
  CK(cudaMemcpy(w.scales, bad.data(), bad.size(), cudaMemcpyHostToDevice));
  EXPECT_GT(run(), 5e-3) << what << ": a planted wrong scale passed";
  cudaFree(dx), cudaFree(dy), cudaFree(aw), cudaFree(ww);
}
}  // namespace

TEST_F(Gpu, W4A4RotatedLinearMatchesFloat64) {
  std::mt19937 rng(std::random_device{}());
  for (Format f : {Format::MXFP4, Format::NVFP4}) check_w4a4_linear(f, 33, false, rng);
}

// The streamed kernel at M = 5, the warpgroup kernel at 33 and 300.
TEST_F(Gpu, W4A4RotatedLinearOnTheReLaidOutWeightMatchesFloat64) {
  std::mt19937 rng(std::random_device{}());
  for (Format f : {Format::MXFP4, Format::NVFP4})
    for (int64_t M : {5, 33, 300}) check_w4a4_linear(f, M, true, rng);
}

TEST_F(Gpu, BadShapesGiveClearErrors) {
  gpu::Fp4Weight w;
  w.N = 8, w.K = 40;
  EXPECT_THROW(gpu::w4a16_gemm(nullptr, 1, w, nullptr, nullptr, nullptr), Error);
  w.K = 64;
  EXPECT_THROW(gpu::w4a16_gemm(nullptr, 0, w, nullptr, nullptr, nullptr), Error);
}
