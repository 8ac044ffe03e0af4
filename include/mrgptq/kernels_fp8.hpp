// MXFP4 x MXFP4 on the Hopper FP8 tensor cores (src/kernels/w4a4_fp8.cu).
//
// An MXFP4 value is c * 2^e with c in E2M1 and e the group's E8M0 exponent.
// Against a reference exponent R per (row, 128-wide K chunk) it is
// (c * 2^(e-R)) * 2^R, and c * 2^d is exact in E4M3 for d in [-8, 6]. With
// R = max_e(chunk) - 6 every group whose exponent is within 14 of the chunk's
// largest is re-expressed exactly; the FP32 block scale 2^R is applied by
// cuBLASLt's 1D block scaling (CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F), which
// promotes the FP8 partial sums to FP32 every 128-wide chunk of K.
#pragma once
#include <cstdint>

#include "mrgptq/kernels.hpp"

namespace mrgptq::gpu {

// Rows allocated for an FP8-block operand of `rows` rows: cuBLASLt's 1D block
// scaling refuses (status 15) row counts that are not multiples of 16, so
// activation buffers are padded; weights need N % 16 == 0.
inline int64_t fp8_rows_alloc(int64_t rows) {
  return (rows + 15) / 16 * 16;
}

// An MXFP4 operand [rows, K] re-expressed as E4M3 [rows_alloc, K] plus FP32
// block scales stored K-chunk-major: scales[kb * rows_alloc + r] (the outer
// dimension contiguous, as cuBLASLt's 1D block scaling reads them), with
// rows_alloc = fp8_rows_alloc(rows). K % 128 == 0. Padding rows are never
// written and only feed output rows that are discarded.
struct Fp8Blocks {
  int64_t rows = 0, K = 0;
  uint8_t* data = nullptr;  // [rows_alloc, K] E4M3
  float* scales = nullptr;  // [K / 128, rows_alloc]; 128x128 blocks: [rows / 128, K / 128]
  bool block2d = false;     // weight only: one scale per 128x128 block (see _2d below)
};

// Kernel 1 with the re-expression fused: BF16 [M, K] -> block Hadamard ->
// MXFP4 ("round" rule, codes identical to quantize_activations) -> E4M3 + FP32
// block scales in one pass (src/kernels/act_quant.cu).
void quantize_activations_mxfp4_fp8(const uint16_t* x, int64_t M, int64_t K, int rot_block,
                                    Fp8Blocks& out, cudaStream_t stream);

// MXFP4 codes/scales (formats.hpp layout) -> Fp8Blocks. Adds the number of
// groups that could not be re-expressed exactly (exponent more than 14 below
// the chunk's largest) to *inexact_groups when that device pointer is not null.
void mxfp4_to_fp8_blocks(const uint8_t* packed, const uint8_t* scales, int64_t rows, int64_t K,
                         Fp8Blocks& out, unsigned long long* inexact_groups, cudaStream_t stream);

// Weight variant with one FP32 scale per 128x128 block (cuBLASLt's
// BLK128x128_32F, the DeepSeek-style kernel, faster than 1x128 x 1x128):
// R = (largest exponent of a nonzero group in the block) - 6, exact for
// groups within 14 binades of the block's largest (others counted in
// *inexact_groups). N and K multiples of 128. Sets out.block2d.
void mxfp4_to_fp8_blocks_2d(const uint8_t* packed, const uint8_t* scales, int64_t N, int64_t K,
                            Fp8Blocks& out, unsigned long long* inexact_groups,
                            cudaStream_t stream);

// Y[M, N] = A W^T (BF16 out) on the FP8 tensor cores with 1D block scaling.
void fp8_block_gemm(const Fp8Blocks& A, const Fp8Blocks& W, uint16_t* Y, cudaStream_t stream);

// Plain per-tensor-scaled E4M3 GEMM Y = A W^T (scale 1): the cuBLAS FP8
// ceiling for the benchmark.
void fp8_gemm(const uint8_t* A, int64_t M, const uint8_t* W, int64_t N, int64_t K, uint16_t* Y,
              cudaStream_t stream);

// The MXFP4 W4A4 linear on FP8 tensor cores: x (BF16) -> fused kernel 1
// (rotation + MXFP4 + re-expression) -> fp8_block_gemm. `w` is the prepared
// weight (N % 16 == 0); act_fp8 holds fp8_rows_alloc(M) x K bytes and
// K/128 x fp8_rows_alloc(M) scales.
void w4a4_mxfp4_fp8_linear(const uint16_t* X, int64_t M, const Fp8Blocks& w, int rot_block,
                           uint16_t* Y, Fp8Blocks& act_fp8, cudaStream_t stream);

}  // namespace mrgptq::gpu
