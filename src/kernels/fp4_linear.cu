// Fp4Linear (include/mrgptq/fp4_linear.hpp): the weight prepared once, a path chosen per M, the
// workspaces owned. Host code only; every kernel it runs lives in the files beside it.
#include "mrgptq/fp4_linear.hpp"

#include <string>

#include "kernels/fp4_device.cuh"

namespace mrgptq::gpu {
namespace {

template <class T>
void free_ptr(T*& p) {
  if (p) cudaFree(p);
  p = nullptr;
}

// The FP8 copy of an N x K weight on 128 x 128 blocks: its E4M3 bytes and its FP32 block scales.
size_t fp8_data_bytes(int64_t N, int64_t K) {
  return size_t(N * K);
}
size_t fp8_scale_bytes(int64_t N, int64_t K) {
  return size_t(N / 128 * (K / 128)) * 4;
}

}  // namespace

const char* to_string(LinearPath p) {
  switch (p) {
    case LinearPath::kW4a16:
      return "w4a16";
    case LinearPath::kW4a4Bf16:
      return "w4a4 bf16";
    case LinearPath::kW4a4Fp8:
      return "w4a4 fp8";
  }
  return "?";
}

Fp4Linear::Fp4Linear(const Fp4Weight& w, const Fp4LinearOptions& o, cudaStream_t stream) : opt_(o) {
  const bool w4a4 = o.activations == LinearActivations::kFp4;
  const int rb = o.rot_block;
  if (rb != 0 && rb != 16 && rb != 32 && rb != 64 && rb != 128)
    throw Error("Fp4Linear: rot_block must be 0, 16, 32, 64 or 128, not " + std::to_string(rb));
  if (!w4a4 && rb != 0)
    throw Error(
        "Fp4Linear: a rotation of the activations needs W4A4 (LinearActivations::kFp4); "
        "for W4A16, rotate x before the call or fold the rotation into the layer before");
  if (w4a4 && !(o.act_global_scale > 0.f))
    throw Error("Fp4Linear: act_global_scale must be positive");
  tc_ = make_tensor_core_weight(w, stream);  // validates the shape; waits for the stream
  // The FP8 copy: MXFP4 W4A4 only, on 128 x 128 blocks, and only where every group is
  // re-expressed exactly (else that path would not compute the same product).
  if (w4a4 && o.fp8_weight && w.format == Format::MXFP4 && w.N % 128 == 0 && w.K % 128 == 0) {
    unsigned long long* inexact = nullptr;
    try {
      fp8_.rows = w.N, fp8_.K = w.K;
      MRGPTQ_CUDA_CHECK(cudaMalloc(&fp8_.data, fp8_data_bytes(w.N, w.K)));
      MRGPTQ_CUDA_CHECK(cudaMalloc(&fp8_.scales, fp8_scale_bytes(w.N, w.K)));
      MRGPTQ_CUDA_CHECK(cudaMalloc(&inexact, sizeof *inexact));
      MRGPTQ_CUDA_CHECK(cudaMemsetAsync(inexact, 0, sizeof *inexact, stream));
      mxfp4_to_fp8_blocks_2d(w.packed, w.scales, w.N, w.K, fp8_, inexact, stream);
      unsigned long long n = 0;
      MRGPTQ_CUDA_CHECK(cudaMemcpyAsync(&n, inexact, sizeof n, cudaMemcpyDeviceToHost, stream));
      MRGPTQ_CUDA_CHECK(cudaStreamSynchronize(stream));
      cudaFree(inexact);
      inexact = nullptr;
      if (n != 0) free_ptr(fp8_.data), free_ptr(fp8_.scales);  // kept on the BF16 path
    } catch (...) {
      cudaFree(inexact);
      free_ptr(fp8_.data), free_ptr(fp8_.scales);
      free_tensor_core_weight(tc_);
      throw;
    }
  }
}

Fp4Linear::~Fp4Linear() {
  if (tc_.packed) free_tensor_core_weight(tc_);
  free_ptr(fp8_.data), free_ptr(fp8_.scales);
  free_ptr(act_bf16_);
  free_ptr(act_fp8_.data), free_ptr(act_fp8_.scales);
  free_ptr(w_workspace_);
}

size_t Fp4Linear::weight_bytes() const {
  return tensor_core_weight_bytes(tc_) +
         (fp8_.data ? fp8_data_bytes(fp8_.rows, fp8_.K) + fp8_scale_bytes(fp8_.rows, fp8_.K) : 0);
}

LinearPath Fp4Linear::path_for(int64_t M) const {
  if (opt_.activations == LinearActivations::kBf16) return LinearPath::kW4a16;
  return fp8_.data && M >= opt_.fp8_min_m ? LinearPath::kW4a4Fp8 : LinearPath::kW4a4Bf16;
}

// Makes the buffers this call's path needs, for at least M rows; a larger M than any before
// replaces the activation buffers (they never shrink), and a path's buffers are made only once
// it first runs. Waits for the device first: a buffer freed here may still be in use by an
// earlier call's kernels.
void Fp4Linear::reserve(int64_t M, LinearPath path, bool need_w_workspace) {
  const bool fp8 = path == LinearPath::kW4a4Fp8, bf16 = path == LinearPath::kW4a4Bf16;
  const bool grow = (fp8 || bf16) && M > rows_;
  if (!grow && (!fp8 || act_fp8_.data) && (!bf16 || act_bf16_) &&
      (!need_w_workspace || w_workspace_))
    return;
  MRGPTQ_CUDA_CHECK(cudaDeviceSynchronize());
  const int64_t K = tc_.K;
  if (grow) {
    free_ptr(act_bf16_);
    free_ptr(act_fp8_.data), free_ptr(act_fp8_.scales);
    rows_ = M;
  }
  if (fp8 && !act_fp8_.data) {
    const int64_t ra = fp8_rows_alloc(rows_);
    MRGPTQ_CUDA_CHECK(cudaMalloc(&act_fp8_.data, size_t(ra * K)));
    MRGPTQ_CUDA_CHECK(cudaMalloc(&act_fp8_.scales, size_t(ra * (K / 128)) * 4));
  }
  if (bf16 && !act_bf16_) MRGPTQ_CUDA_CHECK(cudaMalloc(&act_bf16_, size_t(rows_ * K) * 2));
  if (need_w_workspace && !w_workspace_)
    MRGPTQ_CUDA_CHECK(cudaMalloc(&w_workspace_, size_t(tc_.N * K) * 2));
}

void Fp4Linear::forward(const uint16_t* X, int64_t M, uint16_t* Y, cudaStream_t stream) {
  if (M < 1) throw Error("Fp4Linear::forward: M must be at least 1, not " + std::to_string(M));
  const LinearPath path = path_for(M);
  const bool ws = opt_.large_m_workspace && path != LinearPath::kW4a4Fp8 && M > kW4a16WgmmaMaxM;
  reserve(M, path, ws);
  switch (path) {
    case LinearPath::kW4a16:
      w4a16_gemm(X, M, tc_, Y, ws ? w_workspace_ : nullptr, stream);
      return;
    case LinearPath::kW4a4Bf16:
      w4a4_linear(X, M, tc_, opt_.rot_block, opt_.act_global_scale, Y, act_bf16_,
                  ws ? w_workspace_ : nullptr, stream);
      return;
    case LinearPath::kW4a4Fp8: {
      Fp8Blocks a = act_fp8_;
      a.rows = M, a.K = tc_.K;
      w4a4_mxfp4_fp8_linear(X, M, fp8_, opt_.rot_block, Y, a, stream);
      return;
    }
  }
}

}  // namespace mrgptq::gpu
