// MXFP4 W4A4 on the FP8 tensor cores (see include/mrgptq/kernels_fp8.hpp for
// why the re-expression is exact). Re-expression: one thread per (row,
// 128-chunk) reads the chunk's 64 code bytes and 4 scale bytes, picks the
// reference exponent R = max(e) - 6 over the groups that hold a nonzero code
// (an all-zero group carries byte 127 = 2^0 by the "round" rule and must not
// pull R up), and writes 128 E4M3 bytes c * 2^(e-R) and the FP32 scale 2^R.
// The product is cuBLASLt's FP8 GEMM with 1D (1 x 128) block scaling on both
// operands, accumulating in FP32 per 128-chunk and writing BF16.
#include <cublasLt.h>

#include <map>
#include <mutex>
#include <tuple>

#include "kernels/fp4_device.cuh"
#include "mrgptq/kernels_fp8.hpp"

namespace mrgptq::gpu {
namespace {

#define MRGPTQ_LT_CHECK(expr)                                                        \
  do {                                                                               \
    cublasStatus_t st_ = (expr);                                                     \
    if (st_ != CUBLAS_STATUS_SUCCESS)                                                \
      throw Error(std::string("cuBLASLt (FP8): ") + #expr + " failed with status " + \
                  std::to_string(int(st_)));                                         \
  } while (0)

__global__ void __launch_bounds__(256)
    reexpress_kernel(const uint8_t* __restrict__ packed, const uint8_t* __restrict__ scales,
                     int64_t rows, int64_t K, uint8_t* __restrict__ fp8, float* __restrict__ bscale,
                     unsigned long long* __restrict__ inexact) {
  const int64_t chunks_per_row = K / 128;
  const int64_t t = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (t >= rows * chunks_per_row) return;
  const int64_t r = t / chunks_per_row, kb = t % chunks_per_row;
  const uint4* src = reinterpret_cast<const uint4*>(packed + r * (K / 2) + kb * 64);
  uint4 q[4];
#pragma unroll
  for (int g = 0; g < 4; ++g) q[g] = __ldg(src + g);  // group g = 32 codes = 16 bytes
  const uint32_t sb = __ldg(reinterpret_cast<const uint32_t*>(scales + r * (K / 32) + kb * 4));
  int e[4], emax = -1000;
  bool nz[4];
#pragma unroll
  for (int g = 0; g < 4; ++g) {
    e[g] = int((sb >> (8 * g)) & 0xFF) - 127;
    // a code is zero when its magnitude bits (mask 0x7 of each nibble) are zero
    nz[g] = ((q[g].x | q[g].y | q[g].z | q[g].w) & 0x77777777u) != 0;
    if (nz[g] && e[g] > emax) emax = e[g];
  }
  const int R = emax == -1000 ? 0 : emax - 6;
  unsigned lost = 0;
  uint4* dst = reinterpret_cast<uint4*>(fp8 + r * K + kb * 128);
#pragma unroll
  for (int g = 0; g < 4; ++g) {
    const int d = e[g] - R;
    if (nz[g] && d < -8) ++lost;
    const float f = ldexpf(1.f, d);
    const uint32_t w[4] = {q[g].x, q[g].y, q[g].z, q[g].w};
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      uint32_t o[4];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        uint32_t packed4 = 0;
#pragma unroll
        for (int b = 0; b < 4; ++b) {
          const int idx = half * 16 + j * 4 + b;  // element within the group
          const uint32_t c = (w[idx / 8] >> (4 * (idx % 8))) & 15;
          packed4 |= dev::e4m3_encode(__fmul_rn(dev::e2m1_decode(c), f)) << (8 * b);
        }
        o[j] = packed4;
      }
      dst[g * 2 + half] = make_uint4(o[0], o[1], o[2], o[3]);
    }
  }
  bscale[kb * ((rows + 15) / 16 * 16) + r] = ldexpf(1.f, R);  // ld = fp8_rows_alloc(rows)
  if (lost && inexact) atomicAdd(inexact, (unsigned long long)lost);
}

// Weight with 128x128 block scales: block (nb, kb) of 128 threads, one per
// row; R = (largest exponent of a nonzero group in the 128x128 block) - 6.
__global__ void __launch_bounds__(128)
    reexpress_2d_kernel(const uint8_t* __restrict__ packed, const uint8_t* __restrict__ scales,
                        int64_t N, int64_t K, uint8_t* __restrict__ fp8, float* __restrict__ bscale,
                        unsigned long long* __restrict__ inexact) {
  __shared__ int wmax[4];
  const int64_t nb = blockIdx.x, kb = blockIdx.y, r = nb * 128 + threadIdx.x;
  const uint4* src = reinterpret_cast<const uint4*>(packed + r * (K / 2) + kb * 64);
  uint4 q[4];
#pragma unroll
  for (int g = 0; g < 4; ++g) q[g] = __ldg(src + g);
  const uint32_t sb = __ldg(reinterpret_cast<const uint32_t*>(scales + r * (K / 32) + kb * 4));
  int e[4], emax = -1000;
  bool nz[4];
#pragma unroll
  for (int g = 0; g < 4; ++g) {
    e[g] = int((sb >> (8 * g)) & 0xFF) - 127;
    nz[g] = ((q[g].x | q[g].y | q[g].z | q[g].w) & 0x77777777u) != 0;
    if (nz[g] && e[g] > emax) emax = e[g];
  }
  emax = __reduce_max_sync(0xffffffffu, emax);
  if ((threadIdx.x & 31) == 0) wmax[threadIdx.x >> 5] = emax;
  __syncthreads();
  emax = max(max(wmax[0], wmax[1]), max(wmax[2], wmax[3]));
  const int R = emax == -1000 ? 0 : emax - 6;
  unsigned lost = 0;
  uint4* dst = reinterpret_cast<uint4*>(fp8 + r * K + kb * 128);
#pragma unroll
  for (int g = 0; g < 4; ++g) {
    const int d = e[g] - R;
    if (nz[g] && d < -8) ++lost;
    const float f = ldexpf(1.f, min(max(d, -127), 127));
    const uint32_t w[4] = {q[g].x, q[g].y, q[g].z, q[g].w};
#pragma unroll
    for (int half = 0; half < 2; ++half) {
      uint32_t o[4];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        uint32_t p4 = 0;
#pragma unroll
        for (int b = 0; b < 4; ++b) {
          const int idx = half * 16 + j * 4 + b;
          const uint32_t c = (w[idx / 8] >> (4 * (idx % 8))) & 15;
          p4 |= dev::e4m3_encode(__fmul_rn(dev::e2m1_decode(c), f)) << (8 * b);
        }
        o[j] = p4;
      }
      dst[g * 2 + half] = make_uint4(o[0], o[1], o[2], o[3]);
    }
  }
  // Scale layout [N/128][K/128] (the K blocks contiguous): found by the float64
  // test, which also checks the other order.
  if (threadIdx.x == 0) bscale[nb * (K / 128) + kb] = ldexpf(1.f, R);
  if (lost && inexact) atomicAdd(inexact, (unsigned long long)lost);
}

struct LtFp8 {
  cublasLtHandle_t h = nullptr;
  void* ws = nullptr;
  size_t ws_size = 64u << 20;
  void* scratch = nullptr;  // padded-M output (see fp8_block_gemm)
  size_t scratch_size = 0;
  struct Plan {
    cublasLtMatmulDesc_t op = nullptr;
    cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
    cublasLtMatmulAlgo_t algo{};
  };
  std::map<std::tuple<int64_t, int64_t, int64_t, int>, Plan> plans;
  std::mutex mu;
};

LtFp8& lt8() {
  static LtFp8* s = [] {
    auto* l = new LtFp8;
    MRGPTQ_LT_CHECK(cublasLtCreate(&l->h));
    MRGPTQ_CUDA_CHECK(cudaMalloc(&l->ws, l->ws_size));
    return l;
  }();
  return *s;
}

// Row-major Y[M,N] = X[M,K] W[N,K]^T is column-major Y^T = W^T... : cuBLAS A = W
// (K x N, op T), B = X (K x M, op N), D = Y^T (N x M), the "TN" layout FP8 needs.
LtFp8::Plan& plan(int64_t M, int64_t N, int64_t K, int mode) {
  const bool block_scaled = mode != 0;
  LtFp8& l = lt8();
  std::lock_guard<std::mutex> g(l.mu);
  auto key = std::make_tuple(M, N, K, mode);
  auto it = l.plans.find(key);
  if (it != l.plans.end()) return it->second;
  LtFp8::Plan p;
  MRGPTQ_LT_CHECK(cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  MRGPTQ_LT_CHECK(
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
  MRGPTQ_LT_CHECK(
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
  if (block_scaled) {
    // cuBLAS A = the weight: 128x128 blocks in mode 2, 1x128 otherwise.
    const int32_t amode = mode == 2 ? CUBLASLT_MATMUL_MATRIX_SCALE_BLK128x128_32F
                                    : CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
    const int32_t bmode = CUBLASLT_MATMUL_MATRIX_SCALE_VEC128_32F;
    MRGPTQ_LT_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_A_SCALE_MODE, &amode,
                                                   sizeof amode));
    MRGPTQ_LT_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_B_SCALE_MODE, &bmode,
                                                   sizeof bmode));
    // The heuristic refuses (status 7) a block-scaled problem whose scale
    // pointers are unset; any device pointer will do here, each call sets the
    // real ones.
    const void* dummy = l.ws;
    MRGPTQ_LT_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER,
                                                   &dummy, sizeof dummy));
    MRGPTQ_LT_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER,
                                                   &dummy, sizeof dummy));
  }
  MRGPTQ_LT_CHECK(cublasLtMatrixLayoutCreate(&p.a, CUDA_R_8F_E4M3, uint64_t(K), uint64_t(N), K));
  MRGPTQ_LT_CHECK(cublasLtMatrixLayoutCreate(&p.b, CUDA_R_8F_E4M3, uint64_t(K), uint64_t(M), K));
  MRGPTQ_LT_CHECK(cublasLtMatrixLayoutCreate(&p.c, CUDA_R_16BF, uint64_t(N), uint64_t(M), N));
  cublasLtMatmulPreference_t pref;
  MRGPTQ_LT_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  MRGPTQ_LT_CHECK(cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &l.ws_size, sizeof l.ws_size));
  cublasLtMatmulHeuristicResult_t res{};
  int found = 0;
  const cublasStatus_t st =
      cublasLtMatmulAlgoGetHeuristic(l.h, p.op, p.a, p.b, p.c, p.c, pref, 1, &res, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  if (st != CUBLAS_STATUS_SUCCESS || !found)
    throw Error("cuBLASLt: no FP8 " + std::string(block_scaled ? "1x128 block-scaled " : "") +
                "algorithm for M=" + std::to_string(M) + " N=" + std::to_string(N) +
                " K=" + std::to_string(K) + " (status " + std::to_string(int(st)) + ")");
  p.algo = res.algo;
  return l.plans.emplace(key, p).first->second;
}

}  // namespace

void mxfp4_to_fp8_blocks(const uint8_t* packed, const uint8_t* scales, int64_t rows, int64_t K,
                         Fp8Blocks& out, unsigned long long* inexact_groups, cudaStream_t stream) {
  if (rows <= 0 || K <= 0 || K % 128)
    throw Error("MXFP4 -> FP8 blocks: K = " + std::to_string(K) +
                " must be a positive multiple of 128 (pad the input dimension)");
  if (out.rows != rows || out.K != K || !out.data || !out.scales)
    throw Error("MXFP4 -> FP8 blocks: output buffers are not [" + std::to_string(rows) + ", " +
                std::to_string(K) + "]");
  const int64_t n = rows * (K / 128);
  reexpress_kernel<<<unsigned((n + 255) / 256), 256, 0, stream>>>(packed, scales, rows, K, out.data,
                                                                  out.scales, inexact_groups);
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

void mxfp4_to_fp8_blocks_2d(const uint8_t* packed, const uint8_t* scales, int64_t N, int64_t K,
                            Fp8Blocks& out, unsigned long long* inexact_groups,
                            cudaStream_t stream) {
  if (N <= 0 || K <= 0 || K % 128 || N % 128)
    throw Error("MXFP4 -> FP8 128x128 blocks: weight [" + std::to_string(N) + ", " +
                std::to_string(K) + "] needs N and K multiples of 128 (pad the weight)");
  if (out.rows != N || out.K != K || !out.data || !out.scales)
    throw Error("MXFP4 -> FP8 128x128 blocks: output buffers are not [" + std::to_string(N) + ", " +
                std::to_string(K) + "]");
  out.block2d = true;
  reexpress_2d_kernel<<<dim3(unsigned(N / 128), unsigned(K / 128)), 128, 0, stream>>>(
      packed, scales, N, K, out.data, out.scales, inexact_groups);
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

void fp8_block_gemm(const Fp8Blocks& A, const Fp8Blocks& W, uint16_t* Y, cudaStream_t stream) {
  if (A.K != W.K || A.K % 128 || A.rows <= 0 || W.rows <= 0)
    throw Error("FP8 block GEMM: operands [" + std::to_string(A.rows) + ", " + std::to_string(A.K) +
                "] and [" + std::to_string(W.rows) + ", " + std::to_string(W.K) +
                "] need the same K, a multiple of 128");
  if (W.rows % 16)
    throw Error("FP8 block GEMM: the weight has N = " + std::to_string(W.rows) +
                " rows; cuBLASLt's 1x128 block scaling needs a multiple of 16 (pad the weight)");
  const int64_t Mp = fp8_rows_alloc(A.rows), N = W.rows;
  LtFp8::Plan& p = plan(Mp, N, A.K, W.block2d ? 2 : 1);
  LtFp8& l = lt8();
  std::lock_guard<std::mutex> g(l.mu);  // the scale pointers live in the shared descriptor
  // M not a multiple of 16: the product runs on the padded rows into a scratch
  // buffer and the first M rows (contiguous in row-major Y) are copied out.
  uint16_t* D = Y;
  if (Mp != A.rows) {
    const size_t need = size_t(Mp * N) * 2;
    if (need > l.scratch_size) {
      if (l.scratch) MRGPTQ_CUDA_CHECK(cudaFree(l.scratch));
      MRGPTQ_CUDA_CHECK(cudaMalloc(&l.scratch, need));
      l.scratch_size = need;
    }
    D = static_cast<uint16_t*>(l.scratch);
  }
  const void* sa = W.scales;  // cuBLAS A = the weight
  const void* sb = A.scales;
  MRGPTQ_LT_CHECK(
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &sa, sizeof sa));
  MRGPTQ_LT_CHECK(
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &sb, sizeof sb));
  const float one = 1.f, zero = 0.f;
  MRGPTQ_LT_CHECK(cublasLtMatmul(l.h, p.op, &one, W.data, p.a, A.data, p.b, &zero, D, p.c, D, p.c,
                                 &p.algo, l.ws, l.ws_size, stream));
  if (D != Y)
    MRGPTQ_CUDA_CHECK(
        cudaMemcpyAsync(Y, D, size_t(A.rows * N) * 2, cudaMemcpyDeviceToDevice, stream));
}

void fp8_gemm(const uint8_t* A, int64_t M, const uint8_t* W, int64_t N, int64_t K, uint16_t* Y,
              cudaStream_t stream) {
  LtFp8::Plan& p = plan(M, N, K, 0);
  LtFp8& l = lt8();
  const float one = 1.f, zero = 0.f;
  MRGPTQ_LT_CHECK(cublasLtMatmul(l.h, p.op, &one, W, p.a, A, p.b, &zero, Y, p.c, Y, p.c, &p.algo,
                                 l.ws, l.ws_size, stream));
}

void w4a4_mxfp4_fp8_linear(const uint16_t* X, int64_t M, const Fp8Blocks& w, int rot_block,
                           uint16_t* Y, Fp8Blocks& act_fp8, cudaStream_t stream) {
  quantize_activations_mxfp4_fp8(X, M, w.K, rot_block, act_fp8, stream);
  fp8_block_gemm(act_fp8, w, Y, stream);
}

}  // namespace mrgptq::gpu
