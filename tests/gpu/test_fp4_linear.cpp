// Fp4Linear (include/mrgptq/fp4_linear.hpp) against float64: W4A16 and W4A4 in both formats, on
// each side of the M where MXFP4 W4A4 moves to the FP8 tensor cores, with M rising and falling
// so that the workspaces grow and are reused; a planted wrong scale must fail the same check.
// Skips where no GPU is present.
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "mrgptq/error.hpp"
#include "mrgptq/formats.hpp"
#include "mrgptq/fp4_linear.hpp"

#include "gpu_test_util.hpp"

using namespace mrgptq;
using namespace mrgptq::gputest;

namespace {

class GpuLinear : public GpuTest {};

struct Layer {
  Format f;
  bool w4a4;
  int rot;
  float g;  // NVFP4 W4A4: the activations' global scale
};

// The relative error of layer.forward(x) against the float64 product of what the layer should
// multiply: x itself (W4A16) or the CPU quantization of rot(x) (W4A4), with the dequantized
// weight `deq`.
double forward_error(gpu::Fp4Linear& layer, const Layer& l, const MatrixF& deq, int64_t M,
                     std::mt19937& rng) {
  const int64_t K = layer.K(), N = layer.N();
  const std::vector<uint16_t> x = random_activations(M, K, rng);
  MatrixF A(M, K);
  if (l.w4a4) {
    A = dequantize(cpu_quant(x, M, K, l.f, l.rot, l.g));
  } else {
    for (int64_t i = 0; i < M * K; ++i) A.data[size_t(i)] = from_bf16(x[size_t(i)]);
  }
  uint16_t* dx = upload(x);
  uint16_t* dy = poisoned<uint16_t>(size_t(M * N));
  layer.forward(dx, M, dy, nullptr);
  EXPECT_EQ(cudaDeviceSynchronize(), cudaSuccess);
  const double err = rel_error_vs_f64(download(dy, size_t(M * N)), A, deq);
  cudaFree(dx), cudaFree(dy);
  return err;
}

gpu::Fp4LinearOptions options(const Layer& l) {
  gpu::Fp4LinearOptions o;
  o.activations = l.w4a4 ? gpu::LinearActivations::kFp4 : gpu::LinearActivations::kBf16;
  o.rot_block = l.rot;
  o.act_global_scale = l.g;
  return o;
}

std::string name(const Layer& l, int64_t M, const gpu::Fp4Linear& layer) {
  return std::string(to_string(l.f)) + (l.w4a4 ? " W4A4 rot " + std::to_string(l.rot) : " W4A16") +
         " M=" + std::to_string(M) + " (" + gpu::to_string(layer.path_for(M)) + ")";
}

}  // namespace

// N = 256, K = 512: multiples of 128, so MXFP4 W4A4 holds the FP8 weight and switches paths at
// kFp8MinM. M = 4100 takes w4a16_gemm's dequantize + cuBLAS branch (its N*K workspace).
TEST_F(GpuLinear, EveryPathMatchesFloat64AsMGrowsAndShrinks) {
  std::mt19937 rng(std::random_device{}());
  const int64_t N = 256, K = 512, t = gpu::kFp8MinM;
  const float g = nvfp4_global_scale(40.f);
  const std::vector<int64_t> ms = {1, 17, t - 1, t, 300, 3, t + 5, 4100, 33};
  for (const Layer& l : {Layer{Format::MXFP4, false, 0, 1.f}, Layer{Format::NVFP4, false, 0, 1.f},
                         Layer{Format::MXFP4, true, 32, 1.f}, Layer{Format::NVFP4, true, 16, g}}) {
    DeviceWeight w;
    make_weight(w, N, K, l.f, rng);
    gpu::Fp4Linear layer(w.view(), options(l), nullptr);
    const bool fp8 = l.w4a4 && l.f == Format::MXFP4;
    EXPECT_EQ(layer.holds_fp8_weight(), fp8) << to_string(l.f);
    EXPECT_EQ(layer.path_for(t) == gpu::LinearPath::kW4a4Fp8, fp8);
    EXPECT_NE(layer.path_for(t - 1), gpu::LinearPath::kW4a4Fp8);
    for (int64_t M : ms)
      EXPECT_LE(forward_error(layer, l, w.deq, M, rng), 5e-3) << name(l, M, layer);
    // The same weight with a quarter of its scales wrong, through a new layer: must fail.
    const std::vector<uint8_t> bad = wrong_scales(w.q);
    CK(cudaMemcpy(w.scales, bad.data(), bad.size(), cudaMemcpyHostToDevice));
    gpu::Fp4Linear wrong(w.view(), options(l), nullptr);
    // The wrong scales move groups by binades, so MXFP4 stays exact in FP8 and the failure at
    // kFp8MinM is the FP8 path's, not the BF16 path's standing in for it.
    EXPECT_EQ(wrong.holds_fp8_weight(), fp8) << to_string(l.f) << ": wrong-scale layer";
    for (int64_t M : {int64_t(1), t})
      EXPECT_GT(forward_error(wrong, l, w.deq, M, rng), 5e-3)
          << name(l, M, wrong) << ": a planted wrong scale passed";
  }
}

// Shapes the FP8 path cannot take (N not a multiple of 128) and fp8_weight = false keep MXFP4
// W4A4 on the BF16 path at every M, with less memory held.
TEST_F(GpuLinear, WithoutTheFp8WeightW4A4StaysOnTheBf16Path) {
  std::mt19937 rng(std::random_device{}());
  const Layer l{Format::MXFP4, true, 32, 1.f};
  DeviceWeight odd, w;
  make_weight(odd, 264, 512, l.f, rng);
  make_weight(w, 256, 512, l.f, rng);
  gpu::Fp4Linear a(odd.view(), options(l), nullptr);
  gpu::Fp4LinearOptions o = options(l);
  o.fp8_weight = false;
  gpu::Fp4Linear b(w.view(), o, nullptr);
  gpu::Fp4Linear c(w.view(), options(l), nullptr);
  for (gpu::Fp4Linear* layer : {&a, &b}) {
    EXPECT_FALSE(layer->holds_fp8_weight());
    EXPECT_EQ(layer->path_for(4096), gpu::LinearPath::kW4a4Bf16);
  }
  EXPECT_LE(forward_error(a, l, odd.deq, 200, rng), 5e-3) << name(l, 200, a);
  EXPECT_LE(forward_error(b, l, w.deq, 200, rng), 5e-3) << name(l, 200, b);
  EXPECT_GT(c.weight_bytes(), b.weight_bytes() + size_t(256 * 512));  // the FP8 copy
}

TEST_F(GpuLinear, BadOptionsGiveClearErrors) {
  std::mt19937 rng(std::random_device{}());
  DeviceWeight w;
  make_weight(w, 256, 512, Format::MXFP4, rng);
  gpu::Fp4LinearOptions o;
  o.rot_block = 32;  // a rotation without W4A4
  EXPECT_THROW(gpu::Fp4Linear(w.view(), o, nullptr), Error);
  o.activations = gpu::LinearActivations::kFp4;
  o.rot_block = 24;
  EXPECT_THROW(gpu::Fp4Linear(w.view(), o, nullptr), Error);
  o.rot_block = 32;
  o.act_global_scale = 0.f;
  EXPECT_THROW(gpu::Fp4Linear(w.view(), o, nullptr), Error);
  o.act_global_scale = 1.f;
  gpu::Fp4Linear layer(w.view(), o, nullptr);
  EXPECT_THROW(layer.forward(nullptr, 0, nullptr, nullptr), Error);
}
