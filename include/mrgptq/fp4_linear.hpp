// The FP4 linear layer as a model holds it: the weight prepared once at load time, and forward()
// taking, for each M, the path measured faster on the H200 on most shapes (kFp8MinM says where;
// docs/PERFORMANCE.md, twenty-fifth and twenty-sixth sections), with the workspaces that path
// needs. The kernels behind it are in kernels.hpp and kernels_fp8.hpp; this class only chooses
// among them and owns the memory.
#pragma once
#include <cstddef>
#include <cstdint>

#include "mrgptq/kernels.hpp"
#include "mrgptq/kernels_fp8.hpp"

namespace mrgptq::gpu {

enum class LinearActivations {
  kBf16,  // W4A16: y = x W^T with x as given
  kFp4,   // W4A4: x rotated by rot_block and quantized to the weight's format online (kernel 1)
};

// MXFP4 W4A4 takes the FP8 tensor cores from this M on (when the FP8 weight is held); below it,
// kernel 1 + the streamed W4A16 kernels. Measured on the H200 (docs/kernels/h200/
// s25-run3-linear-round*.txt): at M = 32 the BF16 path was faster on all four layer shapes
// (8192x8192 24.7 against 35.5 us), at M = 64 the FP8 path on three and level on 8192x8192
// (28672x8192 75.4 against 89.8 us). From M = 33 the BF16 path leaves the streamed kernels for
// the warpgroup kernel; plain launches confirmed the choice (s25-run6-linear-round*.txt).
// Re-measured after box_rows made that kernel faster at M = 33-39 (s26-run1-linear-round*.txt):
// on 8192x8192 the BF16 path now wins at M = 33-63 where M is not a multiple of 16 (35.0 us
// against 37.7-39.0: the FP8 product runs such M on padded rows and copies them out), on the
// other three shapes the FP8 path still wins from M = 33 (28672x8192 79.0 against 89.8 us).
constexpr int64_t kFp8MinM = 33;

struct Fp4LinearOptions {
  LinearActivations activations = LinearActivations::kBf16;
  int rot_block = 0;             // W4A4: block Hadamard on x (0 = none, 16, 32, 64, 128)
  float act_global_scale = 1.f;  // NVFP4 W4A4: the activations' global scale (calibrated)
  bool fp8_weight = true;        // MXFP4 W4A4: also hold the weight re-expressed in FP8
                                 // (1 byte a value + 128x128 block scales) for M >= kFp8MinM
  // M > kW4a16WgmmaMaxM: dequantize into an N*K BF16 workspace (allocated at the first such
  // call) + cuBLAS, else the wgmma kernel.
  bool large_m_workspace = true;
  int64_t fp8_min_m = kFp8MinM;  // MXFP4 W4A4 with the FP8 weight: the first M on the FP8
                                 // tensor cores (1 = always, for benchmarks)
};

enum class LinearPath {
  kW4a16,     // w4a16_gemm on the re-laid-out weight (streamed kernels, wgmma, or cuBLAS)
  kW4a4Bf16,  // kernel 1 with BF16 output, then the same w4a16_gemm
  kW4a4Fp8,   // MXFP4 only: kernel 1 fused with the FP8 re-expression, then FP8 tensor cores
};
const char* to_string(LinearPath p);

class Fp4Linear {
 public:
  // w: device FP4 weight [N, K] (copied into the layer's own layouts; w's buffers may be freed
  // afterwards). Waits for `stream` before returning. Throws mrgptq::Error on bad options.
  Fp4Linear(const Fp4Weight& w, const Fp4LinearOptions& options, cudaStream_t stream);
  ~Fp4Linear();
  Fp4Linear(const Fp4Linear&) = delete;
  Fp4Linear& operator=(const Fp4Linear&) = delete;

  // Y[M, N] = X[M, K] W^T (W4A16) or Q(rot(X)) W^T (W4A4); X and Y BF16 on the device, X 16-byte
  // aligned. A call with a larger M than any before it grows the workspaces, which waits for
  // the device. One stream at a time: the workspaces are shared by every call.
  void forward(const uint16_t* X, int64_t M, uint16_t* Y, cudaStream_t stream);

  LinearPath path_for(int64_t M) const;
  int64_t N() const { return tc_.N; }
  int64_t K() const { return tc_.K; }
  // Device bytes the prepared weight holds (the FP4 layout, plus the FP8 copy where held).
  size_t weight_bytes() const;
  bool holds_fp8_weight() const { return fp8_.data != nullptr; }

 private:
  void reserve(int64_t M, LinearPath path, bool need_w_workspace);

  Fp4LinearOptions opt_;
  TcWeight tc_;
  Fp8Blocks fp8_;     // MXFP4 W4A4 with fp8_weight, N and K multiples of 128
  int64_t rows_ = 0;  // the M the activation workspaces hold
  uint16_t* act_bf16_ = nullptr;
  Fp8Blocks act_fp8_;
  uint16_t* w_workspace_ = nullptr;
};

}  // namespace mrgptq::gpu
