// Kernels 2 and 3: FP4-weight products.
//
// W4A16 for small M is a GEMV: the FP4 weight is the only large operand, so
// the kernel is a stream over its bytes. Each warp owns R = 2 output rows; per
// step each lane loads 16 bytes (32 codes) of each row, coalesced into 512
// contiguous bytes per row per warp, plus the group scale byte(s); decodes the
// 32 codes once through a 16-entry shared-memory table (distinct banks, so no
// conflicts), folds the group scale in, and multiplies them against the M
// activation rows, which stay hot in L1/L2. Partial sums are FP32 and reduced
// across the warp with shuffles at the end. The NVFP4 tensor scale 1/G is
// applied once to the FP32 result. Larger M dequantizes to BF16 once and uses
// cuBLAS; W4A4 expands both operands exactly to BF16 (E2M1 x E8M0 is exact in
// BF16) and uses the BF16 tensor cores.
//
// The entry points that pick a kernel by M live here too: w4a16_gemm for the
// row-major and the re-laid-out weight (streamed kernel in w4a16_tc.cu,
// warpgroup kernel in w4a16_wgmma.cu, dequantize + cuBLAS) and w4a4_linear.
#include <cublasLt.h>

#include <map>
#include <mutex>
#include <tuple>

#include "kernels/fp4_device.cuh"
#include "kernels/w4a16_common.cuh"
#include "mrgptq/kernels.hpp"

namespace mrgptq::gpu {
namespace {

constexpr int kRowsPerWarp = 2, kWarps = 4;

template <int MT, bool NV>
__global__ void __launch_bounds__(kWarps * 32)
    w4a16_gemv(const uint16_t* __restrict__ X, int M, const uint8_t* __restrict__ packed,
               const uint8_t* __restrict__ scales, int64_t N, int64_t K, float inv_g,
               uint16_t* __restrict__ Y) {
  __shared__ float lut[16];
  if (threadIdx.x < 16) lut[threadIdx.x] = dev::e2m1_decode(threadIdx.x);
  __syncthreads();
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t n0 = (int64_t(blockIdx.x) * kWarps + warp) * kRowsPerWarp;
  if (n0 >= N) return;
  constexpr int GROUP = NV ? 16 : 32;
  float acc[MT][kRowsPerWarp];
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) acc[m][r] = 0.f;

  for (int64_t k = int64_t(lane) * 32; k < K; k += 32 * 32) {
    float w[kRowsPerWarp][32];
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      const int64_t n = n0 + r < N ? n0 + r : n0;  // a missing last row recomputes row n0
      const uint4 q = __ldg(reinterpret_cast<const uint4*>(packed + n * (K / 2) + k / 2));
      const uint32_t qs[4] = {q.x, q.y, q.z, q.w};
      float s0, s1;
      if constexpr (NV) {
        const uint16_t sb =
            __ldg(reinterpret_cast<const uint16_t*>(scales + n * (K / GROUP) + k / GROUP));
        s0 = dev::e4m3_decode(sb & 0xFF), s1 = dev::e4m3_decode(sb >> 8);
      } else {
        s0 = s1 = dev::e8m0_decode(__ldg(scales + n * (K / GROUP) + k / GROUP));
      }
#pragma unroll
      for (int i = 0; i < 32; ++i)
        w[r][i] = lut[(qs[i / 8] >> (4 * (i % 8))) & 15] * (i < 16 ? s0 : s1);
    }
#pragma unroll
    for (int m = 0; m < MT; ++m) {
      if (m >= M) break;
      const uint4* xp = reinterpret_cast<const uint4*>(X + int64_t(m) * K + k);
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const uint4 u = __ldg(xp + c);
        const uint32_t us[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          const float x0 = __uint_as_float(us[j] << 16), x1 = __uint_as_float(us[j] & 0xFFFF0000u);
#pragma unroll
          for (int r = 0; r < kRowsPerWarp; ++r)
            acc[m][r] = fmaf(x1, w[r][c * 8 + 2 * j + 1], fmaf(x0, w[r][c * 8 + 2 * j], acc[m][r]));
        }
      }
    }
  }
#pragma unroll
  for (int m = 0; m < MT; ++m)
#pragma unroll
    for (int r = 0; r < kRowsPerWarp; ++r) {
      float v = acc[m][r];
#pragma unroll
      for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
      if (lane == 0 && m < M && n0 + r < N)
        Y[int64_t(m) * N + n0 + r] = __bfloat16_as_ushort(__float2bfloat16_rn(v * inv_g));
    }
}

// M = 1 (decode): the same stream, with four K-steps of loads issued before any
// arithmetic (about 12 KB in flight per warp, enough to cover DRAM latency), and
// the group scale applied once per group rather than per element.
template <bool NV>
__global__ void __launch_bounds__(kWarps * 32)
    w4a16_gemv1(const uint16_t* __restrict__ X, const uint8_t* __restrict__ packed,
                const uint8_t* __restrict__ scales, int64_t N, int64_t K, float inv_g,
                uint16_t* __restrict__ Y) {
  __shared__ float lut[16];
  if (threadIdx.x < 16) lut[threadIdx.x] = dev::e2m1_decode(threadIdx.x);
  __syncthreads();
  constexpr int GROUP = NV ? 16 : 32, U = 4;
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t n0 = (int64_t(blockIdx.x) * kWarps + warp) * kRowsPerWarp;
  if (n0 >= N) return;
  int64_t rows[kRowsPerWarp];
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) rows[r] = n0 + r < N ? n0 + r : n0;
  float acc[kRowsPerWarp] = {};
  for (int64_t kb = int64_t(lane) * 32; kb < K; kb += U * 32 * 32) {
    uint4 q[U][kRowsPerWarp], xv[U][4];
    uint32_t sc[U][kRowsPerWarp];
#pragma unroll
    for (int u = 0; u < U; ++u) {
      const int64_t k = kb + int64_t(u) * 1024;
      if (k < K) {
#pragma unroll
        for (int r = 0; r < kRowsPerWarp; ++r) {
          q[u][r] = __ldg(reinterpret_cast<const uint4*>(packed + rows[r] * (K / 2) + k / 2));
          sc[u][r] = NV ? uint32_t(__ldg(reinterpret_cast<const uint16_t*>(
                              scales + rows[r] * (K / GROUP) + k / GROUP)))
                        : uint32_t(__ldg(scales + rows[r] * (K / GROUP) + k / GROUP));
        }
#pragma unroll
        for (int c = 0; c < 4; ++c) xv[u][c] = __ldg(reinterpret_cast<const uint4*>(X + k) + c);
      }
    }
#pragma unroll
    for (int u = 0; u < U; ++u) {
      if (kb + int64_t(u) * 1024 >= K) break;
      float x[32];
#pragma unroll
      for (int c = 0; c < 4; ++c) {
        const uint32_t us[4] = {xv[u][c].x, xv[u][c].y, xv[u][c].z, xv[u][c].w};
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          x[c * 8 + 2 * j] = __uint_as_float(us[j] << 16);
          x[c * 8 + 2 * j + 1] = __uint_as_float(us[j] & 0xFFFF0000u);
        }
      }
#pragma unroll
      for (int r = 0; r < kRowsPerWarp; ++r) {
        const uint32_t qs[4] = {q[u][r].x, q[u][r].y, q[u][r].z, q[u][r].w};
        float g0 = 0.f, g1 = 0.f;  // the two halves (NVFP4: two groups of 16)
#pragma unroll
        for (int i = 0; i < 16; ++i) g0 = fmaf(lut[(qs[i / 8] >> (4 * (i % 8))) & 15], x[i], g0);
#pragma unroll
        for (int i = 16; i < 32; ++i) g1 = fmaf(lut[(qs[i / 8] >> (4 * (i % 8))) & 15], x[i], g1);
        if constexpr (NV) {
          acc[r] = fmaf(g0, dev::e4m3_decode(sc[u][r] & 0xFF), acc[r]);
          acc[r] = fmaf(g1, dev::e4m3_decode(sc[u][r] >> 8), acc[r]);
        } else {
          acc[r] = fmaf(g0 + g1, dev::e8m0_decode(sc[u][r]), acc[r]);
        }
      }
    }
  }
#pragma unroll
  for (int r = 0; r < kRowsPerWarp; ++r) {
    float v = acc[r];
#pragma unroll
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    if (lane == 0 && n0 + r < N) Y[n0 + r] = __bfloat16_as_ushort(__float2bfloat16_rn(v * inv_g));
  }
}

// The row-major weight's expansion (dev::kExpandPieces says how a thread works; the values:
// w4::expand_piece_mx / _nv, as the re-laid-out weight's expansion makes them).
template <bool NV>
__global__ void __launch_bounds__(dev::kExpandThreads)
    dequant_kernel(const uint8_t* __restrict__ packed, const uint8_t* __restrict__ scales,
                   int64_t pieces, float g, uint16_t* __restrict__ out) {
  constexpr int GROUP = NV ? 16 : 32;  // values per scale; a piece (8 values) has one
  static_assert(dev::kExpandThreads == 256, "one multiplier table entry a thread");
  __shared__ float nv_mul[256];
  if constexpr (NV) w4::nv_multiplier_table(nv_mul, g);
  const int64_t base = int64_t(blockIdx.x) * dev::kExpandThreads * dev::kExpandPieces + threadIdx.x;
  uint32_t q[dev::kExpandPieces], s[dev::kExpandPieces];
#pragma unroll
  for (int j = 0; j < dev::kExpandPieces; ++j) {
    const int64_t p = base + j * dev::kExpandThreads;
    q[j] = p < pieces ? __ldg(reinterpret_cast<const uint32_t*>(packed) + p) : 0u;
    s[j] = p < pieces ? __ldg(scales + p * 8 / GROUP) : 0u;
  }
#pragma unroll
  for (int j = 0; j < dev::kExpandPieces; ++j) {
    const int64_t p = base + j * dev::kExpandThreads;
    if (p >= pieces) break;
    uint32_t raw[4];
    w4::piece_raw<1>(q[j], raw);  // plain nibbles, as layout 1
    if constexpr (NV)
      reinterpret_cast<uint4*>(out)[p] = w4::expand_piece_nv(raw, nv_mul[s[j]]);
    else
      reinterpret_cast<uint4*>(out)[p] = w4::expand_piece_mx(raw, s[j]);
  }
}

// ---------------------------------------------------------------- cuBLASLt --
#define MRGPTQ_CUBLAS_CHECK(expr)                                              \
  do {                                                                         \
    cublasStatus_t st_ = (expr);                                               \
    if (st_ != CUBLAS_STATUS_SUCCESS)                                          \
      throw Error(std::string("cuBLASLt: ") + #expr + " failed with status " + \
                  std::to_string(int(st_)));                                   \
  } while (0)

struct Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

struct Lt {
  cublasLtHandle_t h = nullptr;
  void* workspace = nullptr;
  size_t ws_size = 64u << 20;
  std::map<std::tuple<int64_t, int64_t, int64_t>, Plan> plans;
  std::mutex mu;
};

Lt& lt() {
  static Lt* s = [] {
    auto* l = new Lt;
    MRGPTQ_CUBLAS_CHECK(cublasLtCreate(&l->h));
    MRGPTQ_CUDA_CHECK(cudaMalloc(&l->workspace, l->ws_size));
    return l;
  }();
  return *s;
}

const Plan& plan_for(int64_t M, int64_t N, int64_t K) {
  Lt& l = lt();
  std::lock_guard<std::mutex> g(l.mu);
  auto it = l.plans.find({M, N, K});
  if (it != l.plans.end()) return it->second;
  Plan p;
  // Row-major Y[M,N] = X[M,K] W[N,K]^T is column-major Y^T[N,M] = W^T... : A = W (K x N col-major,
  // op T), B = X (K x M col-major, op N), C = Y (N x M col-major).
  MRGPTQ_CUBLAS_CHECK(cublasLtMatmulDescCreate(&p.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
  const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;
  MRGPTQ_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
  MRGPTQ_CUBLAS_CHECK(
      cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
  MRGPTQ_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.a, CUDA_R_16BF, uint64_t(K), uint64_t(N), K));
  MRGPTQ_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.b, CUDA_R_16BF, uint64_t(K), uint64_t(M), K));
  MRGPTQ_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&p.c, CUDA_R_16BF, uint64_t(N), uint64_t(M), N));
  cublasLtMatmulPreference_t pref;
  MRGPTQ_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  MRGPTQ_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(
      pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &l.ws_size, sizeof l.ws_size));
  cublasLtMatmulHeuristicResult_t res{};
  int found = 0;
  MRGPTQ_CUBLAS_CHECK(
      cublasLtMatmulAlgoGetHeuristic(l.h, p.op, p.a, p.b, p.c, p.c, pref, 1, &res, &found));
  cublasLtMatmulPreferenceDestroy(pref);
  if (!found) throw Error("cuBLASLt: no BF16 algorithm for this shape");
  p.algo = res.algo;
  return l.plans.emplace(std::make_tuple(M, N, K), p).first->second;
}

}  // namespace

void bf16_gemm(const uint16_t* X, int64_t M, const uint16_t* W, int64_t N, int64_t K, uint16_t* Y,
               cudaStream_t stream) {
  const Plan& p = plan_for(M, N, K);
  const float one = 1.f, zero = 0.f;
  Lt& l = lt();
  MRGPTQ_CUBLAS_CHECK(cublasLtMatmul(l.h, p.op, &one, W, p.a, X, p.b, &zero, Y, p.c, Y, p.c,
                                     &p.algo, l.workspace, l.ws_size, stream));
}

void dequantize_to_bf16(const Fp4Weight& w, uint16_t* out, cudaStream_t stream) {
  const int64_t pieces = w.N * w.K / 8;  // 8 values each (K % 32 == 0)
  const int64_t per_block = int64_t(dev::kExpandThreads) * dev::kExpandPieces;
  const unsigned blocks = unsigned((pieces + per_block - 1) / per_block);
  if (w.format == Format::NVFP4)
    dequant_kernel<true><<<blocks, dev::kExpandThreads, 0, stream>>>(w.packed, w.scales, pieces,
                                                                     w.global_scale, out);
  else
    dequant_kernel<false>
        <<<blocks, dev::kExpandThreads, 0, stream>>>(w.packed, w.scales, pieces, 1.f, out);
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

namespace {

void check_weight(const Fp4Weight& w) {
  if (w.N <= 0 || w.K <= 0 || w.K % 32)
    throw Error("FP4 GEMM: K = " + std::to_string(w.K) +
                " must be a positive multiple of 32 (pad the weight)");
}

void gemv1(const uint16_t* X, const Fp4Weight& w, uint16_t* Y, cudaStream_t st) {
  const unsigned blocks = unsigned((w.N + kWarps * kRowsPerWarp - 1) / (kWarps * kRowsPerWarp));
  if (w.format == Format::NVFP4)
    w4a16_gemv1<true>
        <<<blocks, kWarps * 32, 0, st>>>(X, w.packed, w.scales, w.N, w.K, 1.f / w.global_scale, Y);
  else
    w4a16_gemv1<false><<<blocks, kWarps * 32, 0, st>>>(X, w.packed, w.scales, w.N, w.K, 1.f, Y);
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

template <int MT>
void gemv(const uint16_t* X, int M, const Fp4Weight& w, uint16_t* Y, cudaStream_t st) {
  const unsigned blocks = unsigned((w.N + kWarps * kRowsPerWarp - 1) / (kWarps * kRowsPerWarp));
  if (w.format == Format::NVFP4)
    w4a16_gemv<MT, true><<<blocks, kWarps * 32, 0, st>>>(X, M, w.packed, w.scales, w.N, w.K,
                                                         1.f / w.global_scale, Y);
  else
    w4a16_gemv<MT, false>
        <<<blocks, kWarps * 32, 0, st>>>(X, M, w.packed, w.scales, w.N, w.K, 1.f, Y);
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

}  // namespace

void w4a16_gemm(const uint16_t* X, int64_t M, const Fp4Weight& w, uint16_t* Y, uint16_t* workspace,
                cudaStream_t stream) {
  check_weight(w);
  if (M <= 0) throw Error("W4A16: M must be positive");
  // Measured on an H100 (docs/PERFORMANCE.md): the CUDA-core GEMV wins at
  // M = 1, the tensor-core GEMV (w4a16_tc.cu) for M = 2..16 (1.2-1.9x over
  // cuBLAS BF16, the CUDA-core GEMV falls to 0.5x at M = 8), then the tensor
  // cores on the expanded weight.
  if (M == 1) {
    require_aligned_x(X, "W4A16 GEMV");
    return gemv1(X, w, Y, stream);
  }
  if (M <= 16) return w4a16_tensor_core(X, M, w, Y, stream);
  if (!workspace) throw Error("W4A16: M > 16 needs an N*K BF16 workspace");
  dequantize_to_bf16(w, workspace, stream);
  bf16_gemm(X, M, workspace, w.N, w.K, Y, stream);
}

// W4A16 on the re-laid-out weight (w4a16_tc.cu, w4a16_wgmma.cu): which kernel at which M.
// Crossovers measured on the H200 (2026-11-30, bench_w4a16_tc at 3462135:
// docs/kernels/h200/bench-w4a16-3462135-variants.txt, v1 = the table-free decode):
//  * the streamed kernel up to M = 16, and to M = 32 unless the warpgroup kernel's 128 x 64
//    tiles fill the GPU (config 4) on a weight in 32-row blocks: 28672x8192 M = 32: config 4
//    99.4 us vs the streamed kernel's 121.3; on the other three layer shapes the streamed kernel
//    ties or wins (8192x8192 44.4 vs 44.1 for config 3, 8192x28672 118.2 vs 133.1, 4096x14336
//    36.7 vs 64.5). Where the streamed kernel runs 64-row CTAs (w4a16_stream_wide, N >= ~0.9 x
//    64 x SMs) it wins to M = 32 everywhere (28672x8192 M = 32: 87.6 us vs config 4's 88.2;
//    docs/kernels/h200/bench-w4a16-tiles8-dispatch.txt);
//  * the warpgroup kernel (TMA activations, its own config choice) from there to M = 4096,
//    where it beats dequantize + cuBLAS even with the faster expansion of 2026-12-03
//    (8192x8192: 685 vs 706 us; 8192x28672: 2683 vs 2794; 4096x14336: 585 vs 610) without
//    needing the N x K workspace;
//  * dequantize + cuBLAS above, when a workspace is given. At M = 5120-16384 the two are
//    within 1-4% of each other and neither wins everywhere (the kernel at 5120-6144 on three
//    shapes, the expansion at 12288 on all four; docs/kernels/h200/s27-run2-dispatch-large-*),
//    a difference the power-limited cuBLAS baseline's 10% drift between runs does not resolve.
constexpr int64_t kStreamMaxM = 32;

void w4a16_gemm(const uint16_t* X, int64_t M, const TcWeight& w, uint16_t* Y, uint16_t* workspace,
                cudaStream_t st) {
  if (M <= 0) throw Error("W4A16: M must be positive");
  const bool wg = w4a16_wgmma_supports(X, M, w);
  if (M <= 16 || (M <= kStreamMaxM &&
                  (w4a16_stream_wide(w) || !wg || w4a16_wgmma_config_for(M, w.N, w.K) != 4)))
    return w4a16_tensor_core(X, M, w, Y, st);
  if (wg && (M <= kW4a16WgmmaMaxM || !workspace)) return w4a16_wgmma(X, M, w, Y, st);
  // What the warpgroup kernel does not take (w4a16_wgmma_supports: e.g. an MXFP4 weight with
  // mx_fold_shift -1), with no workspace to expand the weight into: the streamed kernel, which
  // takes every re-laid-out weight at any M, or says why it cannot.
  if (!workspace) return w4a16_tensor_core(X, M, w, Y, st);
  dequantize_to_bf16(w, workspace, st);
  bf16_gemm(X, M, workspace, w.N, w.K, Y, st);
}

void w4a4_linear(const uint16_t* X, int64_t M, const Fp4Weight& w, int rot_block,
                 float act_global_scale, uint16_t* Y, uint16_t* act_workspace,
                 uint16_t* w_workspace, cudaStream_t stream) {
  check_weight(w);
  if (!act_workspace) throw Error("W4A4: needs an M*K BF16 workspace for the activations");
  if (!w_workspace) throw Error("W4A4: needs an N*K BF16 workspace for the expanded weight");
  quantize_activations(X, M, w.K, w.format, rot_block, act_global_scale, nullptr, nullptr,
                       act_workspace, stream);
  dequantize_to_bf16(w, w_workspace, stream);
  bf16_gemm(act_workspace, M, w_workspace, w.N, w.K, Y, stream);
}

void w4a4_linear(const uint16_t* X, int64_t M, const TcWeight& w, int rot_block,
                 float act_global_scale, uint16_t* Y, uint16_t* act_workspace,
                 uint16_t* w_workspace, cudaStream_t stream) {
  if (w.N <= 0 || w.K <= 0 || w.K % 32)
    throw Error("W4A4: weight was not made by make_tensor_core_weight (K = " + std::to_string(w.K) +
                ")");
  if (!act_workspace) throw Error("W4A4: needs an M*K BF16 workspace for the activations");
  quantize_activations(X, M, w.K, w.format, rot_block, act_global_scale, nullptr, nullptr,
                       act_workspace, stream);
  w4a16_gemm(act_workspace, M, w, Y, w_workspace, stream);
}

}  // namespace mrgptq::gpu
