// W4A16 for small M (1..16) on the tensor cores. See the comment on the
// kernel for the fragment layout trick; the host entry checks its arguments.
#include "kernels/fp4_device.cuh"
#include "mrgptq/kernels.hpp"

namespace mrgptq::gpu {
namespace {

// ------------------------------------------------ W4A16 tensor-core GEMV --
// M <= 16 on mma.sync m16n8k16 (BF16 in, FP32 accumulate). The activation rows
// fill the 16-row A operand (rows >= M are zeros), 8 weight rows form B. The
// dot product does not care about the order of k, so each lane takes 32
// consecutive k of its weight row (one 16-byte load = one MXFP4 group, two
// NVFP4 groups) and the A fragment is loaded with the same k permutation:
// mma step j uses, for lane group t = lane % 4, the physical k = 32 t + 4 j + 0..3
// in the logical slots {2t, 2t+1, 2t+8, 2t+9}. Codes become BF16 pairs through a
// 256-entry table (one byte = two codes) and one exact BF16 multiply by the
// group scale (E2M1 x E8M0 and E2M1 x E4M3 are exact in BF16); the NVFP4 1/G is
// applied to the FP32 result. Each warp owns kTiles x 8 weight rows and a
// strided share of the 128-wide K chunks; the warps of a block reduce in
// shared memory.
constexpr int kTcTiles = 4, kTcWarps = 8;

__device__ __forceinline__ void mma_bf16(float (&c)[4], uint32_t a0, uint32_t a1, uint32_t a2,
                                         uint32_t a3, uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a0), "r"(a1), "r"(a2), "r"(a3), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t bf16x2_mul(uint32_t a, uint32_t b) {
  __nv_bfloat162 r =
      __hmul2(*reinterpret_cast<__nv_bfloat162*>(&a), *reinterpret_cast<__nv_bfloat162*>(&b));
  return *reinterpret_cast<uint32_t*>(&r);
}

template <bool NV>
__global__ void __launch_bounds__(kTcWarps * 32)
    w4a16_tc(const uint16_t* __restrict__ X, int M, const uint8_t* __restrict__ packed,
             const uint8_t* __restrict__ scales, int64_t N, int64_t K, float inv_g,
             uint16_t* __restrict__ Y) {
  constexpr int GROUP = NV ? 16 : 32;
  __shared__ uint32_t lut[256];
  __shared__ float red[kTcWarps][kTcTiles * 4][32];
  for (int i = threadIdx.x; i < 256; i += blockDim.x) {
    const uint32_t lo = __bfloat16_as_ushort(__float2bfloat16_rn(dev::e2m1_decode(i & 15)));
    const uint32_t hi = __bfloat16_as_ushort(__float2bfloat16_rn(dev::e2m1_decode(i >> 4)));
    lut[i] = lo | (hi << 16);
  }
  __syncthreads();
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, grp = lane >> 2, t = lane & 3;
  const int64_t nbase = int64_t(blockIdx.x) * kTcTiles * 8;
  int64_t wrow[kTcTiles];
#pragma unroll
  for (int i = 0; i < kTcTiles; ++i) {
    const int64_t n = nbase + i * 8 + grp;
    wrow[i] = n < N ? n : N - 1;  // rows past N recompute the last row; never stored
  }
  const bool row0 = grp < M, row1 = grp + 8 < M;
  const uint16_t* x0 = X + int64_t(row0 ? grp : 0) * K;
  const uint16_t* x1 = X + int64_t(row1 ? grp + 8 : 0) * K;
  float acc[kTcTiles][4];
#pragma unroll
  for (int i = 0; i < kTcTiles; ++i) acc[i][0] = acc[i][1] = acc[i][2] = acc[i][3] = 0.f;
  const int64_t chunks = (K + 127) / 128;
  for (int64_t ch = warp; ch < chunks; ch += kTcWarps) {
    const int64_t k0 = ch * 128 + 32 * t;
    // K is a multiple of 32: a lane's 32 k are all in or all out. Lanes past K
    // feed zeros (mma.sync needs the whole warp, so nobody skips).
    const bool kin = k0 < K;
    uint4 q[kTcTiles];
    uint32_t sc[kTcTiles][2];
#pragma unroll
    for (int i = 0; i < kTcTiles; ++i) {
      q[i] = kin ? __ldg(reinterpret_cast<const uint4*>(packed + wrow[i] * (K / 2) + k0 / 2))
                 : make_uint4(0, 0, 0, 0);
      if constexpr (NV) {
        const uint16_t sb = !kin ? 0
                                 : __ldg(reinterpret_cast<const uint16_t*>(
                                       scales + wrow[i] * (K / GROUP) + k0 / GROUP));
        const uint32_t b0 = __bfloat16_as_ushort(__float2bfloat16_rn(dev::e4m3_decode(sb & 0xFF)));
        const uint32_t b1 = __bfloat16_as_ushort(__float2bfloat16_rn(dev::e4m3_decode(sb >> 8)));
        sc[i][0] = b0 | (b0 << 16), sc[i][1] = b1 | (b1 << 16);
      } else {
        const uint32_t b = __bfloat16_as_ushort(__float2bfloat16_rn(
            dev::e8m0_decode(kin ? __ldg(scales + wrow[i] * (K / GROUP) + k0 / GROUP) : 127)));
        sc[i][0] = sc[i][1] = b | (b << 16);
      }
    }
#pragma unroll
    for (int j = 0; j < 8; ++j) {
      const uint2 a_lo =
          row0 && kin ? __ldg(reinterpret_cast<const uint2*>(x0 + k0 + 4 * j)) : make_uint2(0, 0);
      const uint2 a_hi =
          row1 && kin ? __ldg(reinterpret_cast<const uint2*>(x1 + k0 + 4 * j)) : make_uint2(0, 0);
#pragma unroll
      for (int i = 0; i < kTcTiles; ++i) {
        const uint32_t word = (&q[i].x)[j / 2];
        const uint32_t s = sc[i][j / 4];
        const uint32_t b0 = bf16x2_mul(lut[(word >> (16 * (j % 2))) & 0xFF], s);
        const uint32_t b1 = bf16x2_mul(lut[(word >> (16 * (j % 2) + 8)) & 0xFF], s);
        mma_bf16(acc[i], a_lo.x, a_hi.x, a_lo.y, a_hi.y, b0, b1);
      }
    }
  }
#pragma unroll
  for (int i = 0; i < kTcTiles; ++i)
#pragma unroll
    for (int r = 0; r < 4; ++r) red[warp][i * 4 + r][lane] = acc[i][r];
  __syncthreads();
  // kTcTiles * 4 * 32 partial values per warp: thread e of the block sums entry e over the warps.
  for (int e = threadIdx.x; e < kTcTiles * 4 * 32; e += blockDim.x) {
    const int i = e / 128, r = (e / 32) % 4, l = e % 32;
    float v = 0.f;
#pragma unroll
    for (int w = 0; w < kTcWarps; ++w) v += red[w][i * 4 + r][l];
    const int m = (l >> 2) + (r >= 2 ? 8 : 0);
    const int64_t n = nbase + i * 8 + (l & 3) * 2 + (r & 1);
    if (m < M && n < N)
      Y[int64_t(m) * N + n] = __bfloat16_as_ushort(__float2bfloat16_rn(v * inv_g));
  }
}

}  // namespace

void w4a16_tensor_core(const uint16_t* X, int64_t M, const Fp4Weight& w, uint16_t* Y,
                       cudaStream_t st) {
  if (w.N <= 0 || w.K <= 0 || w.K % 32)
    throw Error("W4A16 tensor-core GEMV: K = " + std::to_string(w.K) +
                " must be a positive multiple of 32");
  if (M < 1 || M > 16)
    throw Error("W4A16 tensor-core GEMV: M = " + std::to_string(M) + " must be in 1..16");
  const unsigned blocks = unsigned((w.N + kTcTiles * 8 - 1) / (kTcTiles * 8));
  if (w.format == Format::NVFP4)
    w4a16_tc<true><<<blocks, kTcWarps * 32, 0, st>>>(X, int(M), w.packed, w.scales, w.N, w.K,
                                                     1.f / w.global_scale, Y);
  else
    w4a16_tc<false>
        <<<blocks, kTcWarps * 32, 0, st>>>(X, int(M), w.packed, w.scales, w.N, w.K, 1.f, Y);
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

}  // namespace mrgptq::gpu
