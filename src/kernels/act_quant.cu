// Kernel 1: fused block-Hadamard + FP4 quantization of BF16 activations.
//
// The input is treated as one flat stream (K is a multiple of the chunk
// max(rotation block, group), so chunks never straddle rows): every thread
// owns 8 consecutive elements, loaded with one 16-byte load, so a warp reads
// 512 contiguous bytes per instruction. A rotation block of b = 16..128 spans
// b/8 neighbouring lanes: the butterflies h = 1, 2, 4 run in registers, the
// steps h >= 8 exchange values with lane ^ (h/8) through shuffles. The CPU
// order (h ascending, pair (j, j+h) -> (a+c, a-c), then one multiply by
// 1/sqrt(b)) is kept, and each output of a step depends only on its pair, so
// the rotated values are bit-identical to the CPU's. A group of 32 (MXFP4) or
// 16 (NVFP4) is 4 or 2 lanes: its amax is a shuffle reduction; each lane
// encodes its 8 values into one 32-bit word of codes (element 2j in the low
// nibble) and the group's first lane writes the scale byte. One read of x, one
// write of codes + scales (+ the exact BF16 dequantized values on request).
#include "kernels/fp4_device.cuh"
#include "mrgptq/kernels.hpp"
#include "mrgptq/kernels_fp8.hpp"

namespace mrgptq::gpu {
namespace {

constexpr int kThreads = 256;

// 2^e as a float for e in [-127, 127] (2^-127 is the subnormal 0x00400000).
__device__ __forceinline__ float exp2i(int e) {
  return e >= -126 ? __int_as_float((e + 127) << 23) : __int_as_float(0x00400000);
}

// Where the MXFP4 W4A4 path (kernels_fp8.hpp) wants its activation operand:
// E4M3 bytes [rows_alloc, K] and FP32 block scales [K/128, rows_alloc].
struct Fp8Out {
  uint8_t* data = nullptr;
  float* scales = nullptr;
  int64_t K = 0, rows_alloc = 0;
  bool small = false;  // M * K < 2^32: row/column from 32-bit division
};

// One 8-element vector per call; all 32 lanes of the warp call it together.
template <int B, int GROUP, bool NV, bool FP8>
__device__ __forceinline__ void quantize_vec(uint4 u, bool in, int64_t e0, int lane, float g,
                                             uint8_t* __restrict__ packed,
                                             uint8_t* __restrict__ scales,
                                             uint16_t* __restrict__ deq, const Fp8Out& f8) {
  float v[8];
  {
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      v[2 * j] = __uint_as_float(w[j] << 16);
      v[2 * j + 1] = __uint_as_float(w[j] & 0xFFFF0000u);
    }
  }
  if constexpr (B > 1) {
#pragma unroll
    for (int h = 1; h < 8 && h < B; h *= 2)  // in-register steps, CPU order
#pragma unroll
      for (int p = 0; p < 4; ++p) {
        const int j = (p / h) * 2 * h + (p % h);
        const float a = v[j], c = v[j + h];
        v[j] = __fadd_rn(a, c);
        v[j + h] = __fsub_rn(a, c);
      }
#pragma unroll
    for (int h = 8; h < B; h *= 2) {  // cross-lane steps: partner lane ^ (h / 8)
      const bool upper = lane & (h / 8);
#pragma unroll
      for (int i = 0; i < 8; ++i) {
        const float p = __shfl_xor_sync(0xffffffffu, v[i], h / 8);
        // lower element j: a + c with c the partner's; upper j + h: a - c with a the partner's
        v[i] = upper ? __fsub_rn(p, v[i]) : __fadd_rn(v[i], p);
      }
    }
    const float scale = __fdiv_rn(1.f, __fsqrt_rn(float(B)));
#pragma unroll
    for (int i = 0; i < 8; ++i) v[i] = __fmul_rn(v[i], scale);
  }
  float amax = 0.f;
#pragma unroll
  for (int i = 0; i < 8; ++i) amax = fmaxf(amax, fabsf(v[i]));
#pragma unroll
  for (int off = 1; off < GROUP / 8; off *= 2)
    amax = fmaxf(amax, __shfl_xor_sync(0xffffffffu, amax, off));
  uint32_t s, word = 0;
  float m;
  if constexpr (NV) {
    s = dev::nv_absmax_scale(amax, g);
    m = __fdiv_rn(dev::e4m3_decode(s), g);
#pragma unroll
    for (int i = 0; i < 8; ++i)
      word |= (m == 0.f ? 0u : dev::e2m1_encode(__fdiv_rn(v[i], m))) << (4 * i);
  } else {
    // m = 2^(s-127): x / m == x * 2^(127-s) exactly (the same real number,
    // rounded once either way), so the division becomes a multiply.
    s = dev::mx_round_scale(amax);
    m = exp2i(int(s) - 127);
    const float inv = exp2i(127 - int(s));
#pragma unroll
    for (int i = 0; i < 8; ++i) word |= dev::e2m1_encode(__fmul_rn(v[i], inv)) << (4 * i);
  }
  if constexpr (FP8) {
    // Re-express against R = (largest exponent of a group with a nonzero code
    // in this 128-chunk) - 6: c * 2^(e-R) is exact in E4M3 for e - R in [-8, 6].
    // The chunk is 16 lanes; all-zero groups do not vote.
    int evote = (word & 0x77777777u) ? int(s) - 127 : -1000;
#pragma unroll
    for (int off = 1; off < 16; off *= 2)
      evote = max(evote, __shfl_xor_sync(0xffffffffu, evote, off));
    const int R = evote == -1000 ? 0 : evote - 6;
    // e - R <= 6 for voting groups; below -8 the value is not exact (see kernels_fp8.hpp).
    // An all-zero group may sit far above R: clamp, its codes are zero anyway.
    const float f = exp2i(min(max(int(s) - 127 - R, -127), 127));
    uint32_t o[2] = {0, 0};
#pragma unroll
    for (int i = 0; i < 8; ++i)
      o[i / 4] |= dev::e4m3_encode(__fmul_rn(dev::e2m1_decode((word >> (4 * i)) & 15), f))
                  << (8 * (i % 4));
    if (!in) return;
    // 64-bit division is a long software sequence: use 32 bits when the input allows.
    int64_t row, col;
    if (f8.small) {
      row = int64_t(uint32_t(e0) / uint32_t(f8.K)), col = int64_t(uint32_t(e0) % uint32_t(f8.K));
    } else {
      row = e0 / f8.K, col = e0 % f8.K;
    }
    *reinterpret_cast<uint2*>(f8.data + row * f8.K + col) = make_uint2(o[0], o[1]);
    if ((lane & 15) == 0) f8.scales[(col / 128) * f8.rows_alloc + row] = ldexpf(1.f, R);
    return;
  }
  if (!in) return;
  *reinterpret_cast<uint32_t*>(packed + e0 / 2) = word;
  if ((lane & (GROUP / 8 - 1)) == 0) scales[e0 / GROUP] = uint8_t(s);
  if (deq) {
    uint32_t o[4];
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const uint32_t lo = __bfloat16_as_ushort(
          __float2bfloat16_rn(__fmul_rn(dev::e2m1_decode((word >> (8 * j)) & 15), m)));
      const uint32_t hi = __bfloat16_as_ushort(
          __float2bfloat16_rn(__fmul_rn(dev::e2m1_decode((word >> (8 * j + 4)) & 15), m)));
      o[j] = lo | (hi << 16);
    }
    *reinterpret_cast<uint4*>(deq + e0) = make_uint4(o[0], o[1], o[2], o[3]);
  }
}

// Each thread owns two vectors, kThreads apart, and issues both 16-byte loads
// before any arithmetic: twice the bytes in flight per thread.
template <int B, int GROUP, bool NV, bool FP8>
__global__ void __launch_bounds__(kThreads)
    act_quant_kernel(const uint16_t* __restrict__ x, int64_t vecs, float g,
                     uint8_t* __restrict__ packed, uint8_t* __restrict__ scales,
                     uint16_t* __restrict__ deq, Fp8Out f8) {
  const int64_t t0 = int64_t(blockIdx.x) * (2 * kThreads) + threadIdx.x, t1 = t0 + kThreads;
  const int lane = threadIdx.x & 31;
  // All lanes stay alive for the shuffles; the total is a multiple of the
  // chunk, so a shuffle group is either all in range or all out of range.
  const bool in0 = t0 < vecs, in1 = t1 < vecs;
  const uint4 u0 =
      in0 ? __ldcs(reinterpret_cast<const uint4*>(x + t0 * 8)) : make_uint4(0, 0, 0, 0);
  const uint4 u1 =
      in1 ? __ldcs(reinterpret_cast<const uint4*>(x + t1 * 8)) : make_uint4(0, 0, 0, 0);
  quantize_vec<B, GROUP, NV, FP8>(u0, in0, t0 * 8, lane, g, packed, scales, deq, f8);
  quantize_vec<B, GROUP, NV, FP8>(u1, in1, t1 * 8, lane, g, packed, scales, deq, f8);
}

template <int B, int GROUP, bool NV, bool FP8 = false>
void launch(const uint16_t* x, int64_t M, int64_t K, float g, uint8_t* p, uint8_t* s, uint16_t* d,
            cudaStream_t st, Fp8Out f8 = {}) {
  const int64_t vecs = M * K / 8;
  const int64_t blocks = (vecs + 2 * kThreads - 1) / (2 * kThreads);
  if (blocks > int64_t(0x7FFFFFFF))
    throw Error("quantize_activations: input too large for one launch");
  act_quant_kernel<B, GROUP, NV, FP8>
      <<<unsigned(blocks), kThreads, 0, st>>>(x, vecs, g, p, s, d, f8);
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

template <int GROUP, bool NV>
void dispatch(int rot, const uint16_t* x, int64_t M, int64_t K, float g, uint8_t* p, uint8_t* s,
              uint16_t* d, cudaStream_t st) {
  switch (rot) {
    case 0:
      return launch<1, GROUP, NV>(x, M, K, g, p, s, d, st);
    case 16:
      return launch<16, GROUP, NV>(x, M, K, g, p, s, d, st);
    case 32:
      return launch<32, GROUP, NV>(x, M, K, g, p, s, d, st);
    case 64:
      return launch<64, GROUP, NV>(x, M, K, g, p, s, d, st);
    case 128:
      return launch<128, GROUP, NV>(x, M, K, g, p, s, d, st);
  }
  throw Error("quantize_activations: rotation block must be 0, 16, 32, 64 or 128");
}

template <int B>
void launch_fp8(const uint16_t* x, int64_t M, int64_t K, Fp8Out f8, cudaStream_t st) {
  launch<B, 32, false, true>(x, M, K, 1.f, nullptr, nullptr, nullptr, st, f8);
}

}  // namespace

void quantize_activations_mxfp4_fp8(const uint16_t* x, int64_t M, int64_t K, int rot_block,
                                    Fp8Blocks& out, cudaStream_t stream) {
  if (M <= 0 || K <= 0 || K % 128)
    throw Error("MXFP4 -> FP8 activations: K = " + std::to_string(K) +
                " must be a positive multiple of 128 (pad the input dimension)");
  if (out.rows != M || out.K != K || !out.data || !out.scales)
    throw Error("MXFP4 -> FP8 activations: output buffers are not [" + std::to_string(M) + ", " +
                std::to_string(K) + "]");
  Fp8Out f8;
  f8.data = out.data, f8.scales = out.scales, f8.K = K, f8.rows_alloc = fp8_rows_alloc(M);
  f8.small = M * K < (int64_t(1) << 32);
  switch (rot_block) {
    case 0:
      return launch_fp8<1>(x, M, K, f8, stream);
    case 16:
      return launch_fp8<16>(x, M, K, f8, stream);
    case 32:
      return launch_fp8<32>(x, M, K, f8, stream);
    case 64:
      return launch_fp8<64>(x, M, K, f8, stream);
    case 128:
      return launch_fp8<128>(x, M, K, f8, stream);
  }
  throw Error("quantize_activations: rotation block must be 0, 16, 32, 64 or 128");
}

bool device_available() {
  int n = 0;
  return cudaGetDeviceCount(&n) == cudaSuccess && n > 0;
}

void quantize_activations(const uint16_t* x, int64_t M, int64_t K, Format f, int rot_block,
                          float global_scale, uint8_t* packed, uint8_t* scales,
                          uint16_t* dequant_out, cudaStream_t stream) {
  const int group = format_info(f).group;
  const int64_t chunk = rot_block > group ? rot_block : group;
  if (M <= 0 || K <= 0 || K % chunk)
    throw Error("quantize_activations: K = " + std::to_string(K) +
                " must be a positive multiple of " + std::to_string(chunk) +
                " (pad the input dimension)");
  if (f == Format::NVFP4) {
    if (!(global_scale > 0.f))
      throw Error("quantize_activations: NVFP4 needs a positive global scale");
    dispatch<16, true>(rot_block, x, M, K, global_scale, packed, scales, dequant_out, stream);
  } else {
    dispatch<32, false>(rot_block, x, M, K, 1.f, packed, scales, dequant_out, stream);
  }
}

}  // namespace mrgptq::gpu
