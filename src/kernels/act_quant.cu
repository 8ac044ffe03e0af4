// Kernel 1: fused block-Hadamard + FP4 quantization of BF16 activations.
//
// The input is treated as one flat stream (K is a multiple of the chunk
// max(rotation block, group), so chunks never straddle rows): every thread
// owns 32 consecutive elements (64 for NVFP4 with b = 64), read with 16-byte
// loads issued together. A rotation block that fits in a thread has all its
// butterflies in registers; a larger one spans 2 or 4 neighbouring lanes, and
// only its steps across lanes exchange values through shuffles. The CPU
// order (h ascending, pair (j, j+h) -> (a+c, a-c), then one multiply by
// 1/sqrt(b)) is kept, and each output of a step depends only on its pair, so
// the rotated values are bit-identical to the CPU's (for b = 16 and 64, where
// 1/sqrt(b) is a power of two, the quantizer takes the multiply over with the
// same results: rules::mx_fold_rare, rules::nv_fold). A group of 32 (MXFP4) or
// 16 (NVFP4) lies in one thread: amax, scale and codes need no other lane; the
// thread writes each 32 codes with one 16-byte store, and its scale bytes.
// One read of x, one write of codes + scales (+ the exact BF16 dequantized
// values on request).
//
// The kernel is instruction-bound, so the rounding rules take their cheap
// exact forms from fp4_rules.hpp (checked against src/formats/ on the CPU by
// tests/unit/test_fp4_device_rules.cpp): the E2M1 index by magic-number
// rounding in FP32, NVFP4's quotient from one reciprocal per group, and the
// codes gathered into words with byte permutes.
#include <type_traits>

#include "kernels/fp4_device.cuh"
#include "kernels/fp4_rules.hpp"
#include "mrgptq/kernels.hpp"
#include "mrgptq/kernels_fp8.hpp"

namespace mrgptq::gpu {
namespace {

constexpr int kThreads = 256;
// Blocks per SM that __launch_bounds__ asks for: 5 (48 registers) where the
// variant fits without spilling, else 4 (64 registers). 5 x 8 warps keep 80 KB
// of loads in flight per SM instead of 64 KB, and more warps to issue from.
// NVFP4 with b = 64 holds 64 values a thread (vals below): 3 (80 registers).
template <int B, bool NV>
constexpr int min_blocks() {
  return NV && B == 64 ? 3 : (NV ? B == 16 : B > 1) ? 5 : 4;
}

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
  uint64_t kinv = 0;   // ceil(2^64 / K), see rules::div_small
  bool small = false;  // M * K < 2^32: row/column from a 32-bit multiply-high
};

// NVFP4: the entry of every scale byte s, passed by value and copied to
// shared memory by each block. e4m3_encode saturates at 0x7E; 0x7F (NaN) only
// comes from G = +inf and amax = 0, and keeps the device decode's 480 / G.
struct NvTable {
  rules::NvEntry e[128];
};
struct NoTable {};
template <bool NV>
using TableArg = std::conditional_t<NV, NvTable, NoTable>;

// max |v[i]| over N values (fmaxf ignores NaN), as four independent chains:
// the encode waits on it, a serial chain of N dependent max would be its latency.
template <int N>
__device__ __forceinline__ float amax_of(const float* v) {
  float a[4] = {0.f, 0.f, 0.f, 0.f};
#pragma unroll
  for (int i = 0; i < N; ++i) a[i % 4] = fmaxf(a[i % 4], fabsf(v[i]));
  return fmaxf(fmaxf(a[0], a[1]), fmaxf(a[2], a[3]));
}

// The eight codes of v[0..7] as one word (element i in nibble i). MXFP4: the
// index of x / 2^e straight from |x| (h = 2^(-e-1), five = 5 * 2^e); the
// code's sign is x's (x * 2^-e keeps it, also when it underflows).
__device__ __forceinline__ uint32_t mx_encode8(const float* v, float h, float five) {
  float x[8], idx[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) x[i] = v[i], idx[i] = rules::e2m1_index_bits(fabsf(v[i]), h, five);
  return rules::pack_codes(idx, x);
}
// NVFP4: the quotients x / m by one reciprocal per group (rules::nv_quotient).
__device__ __forceinline__ uint32_t nv_encode8(const float* v, float mm, float y) {
  float q[8], idx[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) q[i] = rules::nv_quotient(v[i], mm, y);
#pragma unroll
  for (int i = 0; i < 8; ++i) idx[i] = rules::e2m1_index_bits(fabsf(q[i]), 0.5f, 5.f);
  return rules::pack_codes(idx, q);
}

// NVFP4: the codes of one group of 16 values (two words) and its scale byte.
// FOLD: v holds the rotated values before their multiply by r = 1/sqrt(b), a
// power of two (rules::nv_fold): amax and the quotients take r instead.
template <bool FOLD>
__device__ __forceinline__ uint32_t nv_group(float* v, float g, float r, const float4* nvt,
                                             uint32_t& w0, uint32_t& w1, float& m) {
  float amax = amax_of<16>(v);
  if constexpr (FOLD) amax = __fmul_rn(amax, r);  // max |fl(v r)|: rounding is monotone
  // s = e4m3(amax / 6 * G) with the division in its exact cheap form, and
  // the multiplier's entry from the block's table (rules::NvEntry).
  float q6 = rules::div6_common(amax);
  if (rules::div6_rare(amax)) q6 = rules::div6_rare_value(amax);
  const uint32_t s = dev::e4m3_encode(__fmul_rn(q6, g));
  const float4 t = nvt[s];
  const rules::NvEntry en{t.x, t.y, t.z, t.w};
  m = en.m;
  float mm = m, y = en.y;
  if (rules::nv_needs_cap(en, amax)) {
    mm = __fmul_rn(m, en.k);
#pragma unroll
    for (int i = 0; i < 16; ++i) v[i] = rules::nv_capped(FOLD ? __fmul_rn(v[i], r) : v[i], en);
  } else if constexpr (FOLD) {
    rules::nv_fold(mm, y, r);
  }
  w0 = nv_encode8(v, mm, y);
  w1 = nv_encode8(v + 8, mm, y);
  if (m == 0.f) w0 = w1 = 0;  // m = 0: every code 0
  return s;
}

// Every thread owns vals<B, NV>() consecutive elements, read with 16-byte
// loads issued before any arithmetic: 32 (four loads), or 64 (eight) for
// NVFP4 with b = 64. A rotation block that fits in the thread runs all its
// butterflies in registers; a larger one spans neighbouring lanes, whose steps
// h >= (values a thread) exchange values with a partner lane through
// shuffles -- a shuffle and an FMA a value where an in-register step costs one
// add. 64 values a thread remove those steps (b = 64) or halve them (b = 128)
// but need ~80 registers instead of 48-64, so fewer warps an SM; measured on
// the H200 against 32 (docs/kernels/h200/bench-fp4-quantizer-64-values.txt,
// two rounds, us): NVFP4 b = 64 129.9 -> 125.0 (63.8% -> 66.3% of copy),
// MXFP4 b = 64 106.1 -> 107.1, MXFP4 b = 128 118.8 -> 126.1, NVFP4 b = 128
// (128 registers) 144.5 -> 169.7: only the first kept. The quantizer works on
// each run of 32 values (unit): one MXFP4 group, two NVFP4 groups; amax, scale
// and codes need no other lane. The thread writes 16 bytes of codes per unit
// (one store) and its scale bytes.
template <int B, bool NV>
constexpr int vals() {
  return NV && B == 64 ? 64 : 32;
}
constexpr int kUnit = 32;

template <int B, bool NV, bool FP8>
__global__ void __launch_bounds__(kThreads, min_blocks<B, NV>())
    act_quant_kernel(const uint16_t* __restrict__ x, int64_t vecs, float g, float rscale,
                     uint8_t* __restrict__ packed, uint8_t* __restrict__ scales,
                     uint16_t* __restrict__ deq, Fp8Out f8,
                     const __grid_constant__ TableArg<NV> tab) {
  constexpr int kV = vals<B, NV>(), kL = kV / 8, kU = kV / kUnit;  // values, loads, units a thread
  static_assert(kU == 1 || NV, "two units a thread only for NVFP4 (its scale store)");
  // 1/sqrt(b) is a power of two for b = 16 and 64: folded into the quantizer.
  constexpr bool kFold = B == 16 || B == 64;
  constexpr float kRscale = B == 16 ? 0.25f : 0.125f;
  const int64_t t = int64_t(blockIdx.x) * kThreads + threadIdx.x, v0 = kL * t;
  const int lane = threadIdx.x & 31;
  // All lanes stay alive for the shuffles; the total is a multiple of the
  // chunk, so a shuffle group is either all in range or all out of range. The
  // element count is a multiple of 16: with 32 values a thread, a last thread
  // may own only 16 (NVFP4 without cross-lane steps), its upper half then reads
  // as zeros; with 64 (b >= 64) the count is a multiple of 64.
  const bool in = v0 < vecs, full = t < (vecs >> 2);  // full: v0 + 4 <= vecs (kV = 32)
  // Only NVFP4 with b <= 16 may end on half a thread (K % 16 == 0).
  constexpr bool kHalf = NV && B <= 16;
  static_assert(!kHalf || kV == 32, "half threads only with 32 values a thread");
  const uint4* src = reinterpret_cast<const uint4*>(x) + v0;
  uint4 u[kL];
#pragma unroll
  for (int i = 0; i < kL; ++i)
    u[i] = (kHalf && i >= 2 ? full : in) ? __ldcs(src + i) : make_uint4(0, 0, 0, 0);
  // NVFP4: the block copies the table to shared memory while its loads are in
  // flight. The unpacking constants come from shared memory after the
  // barrier, so no load-dependent arithmetic can be scheduled in front of the
  // copy and the barrier (ptxas did so for b = 16 and 128: the barrier then
  // waited for the loads, the arithmetic and the copy's latency).
  __shared__ float4 nvt[NV ? 128 : 1];
  __shared__ uint2 nvk;
  uint32_t lo_mul = 0x10000u, hi_mask = 0xFFFF0000u;  // BF16 -> FP32 of the low, high half
  if constexpr (NV) {
    if (threadIdx.x < 128) {
      const rules::NvEntry& e = tab.e[threadIdx.x];
      nvt[threadIdx.x] = make_float4(e.m, e.y, e.k, e.lim);
    } else {
      nvk = make_uint2(lo_mul, hi_mask);  // the same value from every such thread
    }
    __syncthreads();
    const uint2 k = nvk;
    lo_mul = k.x, hi_mask = k.y;
  }
  float v[kV];
#pragma unroll
  for (int i = 0; i < kL; ++i) {
    const uint32_t w[4] = {u[i].x, u[i].y, u[i].z, u[i].w};
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      v[8 * i + 2 * j] = __uint_as_float(w[j] * lo_mul);
      v[8 * i + 2 * j + 1] = __uint_as_float(w[j] & hi_mask);
    }
  }
  // Without rotation a NaN input reaches the code with its own sign bit, where
  // the arithmetic of every other path returns the canonical (positive) NaN:
  // such codes lose that bit below (a rare, warp-uniform branch).
  [[maybe_unused]] bool nan = false;
  if constexpr (B == 1 && !NV) {
#pragma unroll
    for (int i = 0; i < kV; i += 2) nan |= (v[i] != v[i]) | (v[i + 1] != v[i + 1]);
  }
  if constexpr (B > 1) {
    // The CPU order (h ascending, pair (j, j+h) -> (a+c, a-c), then one
    // multiply by 1/sqrt(b)); each output of a step depends only on its pair,
    // so the rotated values are bit-identical to the CPU's.
#pragma unroll
    for (int h = 1; h < kV && h < B; h *= 2)  // in-register steps
#pragma unroll
      for (int p = 0; p < kV / 2; ++p) {
        const int j = (p / h) * 2 * h + (p % h);
        const float a = v[j], c = v[j + h];
        v[j] = __fadd_rn(a, c);
        v[j + h] = __fsub_rn(a, c);
      }
#pragma unroll
    for (int h = kV; h < B; h *= 2) {  // cross-lane steps: partner lane ^ (h / kV)
      // lower element j: a + c with c the partner's; upper j + h: a - c with a
      // the partner's. fma(-1, v, p) rounds p - v once, like the subtraction.
      const float sg = (lane & (h / kV)) ? -1.f : 1.f;
#pragma unroll
      for (int i = 0; i < kV; ++i)
        v[i] = __fmaf_rn(sg, v[i], __shfl_xor_sync(0xffffffffu, v[i], h / kV));
    }
    if constexpr (!kFold)
#pragma unroll
      for (int i = 0; i < kV; ++i) v[i] = __fmul_rn(v[i], rscale);
  }
  // Each unit of 32 values: its four code words, scale byte(s) and multipliers.
  uint32_t word[kU][4], s[kU];
  float m0[kU], m1[kU];
#pragma unroll
  for (int c = 0; c < kU; ++c) {
    float* vu = v + kUnit * c;
    if constexpr (NV) {
      const uint32_t s0 = nv_group<kFold>(vu, g, kRscale, nvt, word[c][0], word[c][1], m0[c]);
      const uint32_t s1 = nv_group<kFold>(vu + 16, g, kRscale, nvt, word[c][2], word[c][3], m1[c]);
      s[c] = s0 | s1 << 8;
    } else {
      const float amax = amax_of<kUnit>(vu);
      // The scale byte of amax am and the codes of v / 2^e (FOLD: of fl(v r) /
      // 2^e, from v with h = 2^(-e-1) r and five = 5 2^e / r).
      auto encode = [&](float am, auto fold) {
        s[c] = rules::mx_round_scale_bits(am);
        const int e = int(s[c]) - 127;
        m0[c] = m1[c] = exp2i(e);
        float h = rules::pow2(-e - 1), five;
        if constexpr (decltype(fold)::value)
          h = __fmul_rn(h, kRscale), five = __fmul_rn(5.f / kRscale, m0[c]);
        else
          five = __fmul_rn(5.f, m0[c]);
#pragma unroll
        for (int j = 0; j < 4; ++j) word[c][j] = mx_encode8(vu + 8 * j, h, five);
      };
      if constexpr (kFold) {
        // Folded 1/sqrt(b) (rules::mx_fold_rare): h r and 5 2^e / r, the scale
        // from fl(amax r) = max |fl(v r)| (rounding is monotone). A group of
        // amax in (0, 2^-100), where v r may be inexact, multiplies first (a
        // rare branch that rejoins only after the codes: no merge of 32 values).
        if (__builtin_expect(rules::mx_fold_rare(amax), 0)) {
#pragma unroll
          for (int i = 0; i < kUnit; ++i) vu[i] = __fmul_rn(vu[i], kRscale);
          encode(__fmul_rn(amax, kRscale), std::false_type{});
        } else {
          encode(__fmul_rn(amax, kRscale), std::true_type{});
        }
      } else {
        encode(amax, std::false_type{});
      }
      if constexpr (B == 1)
        if (__builtin_expect(__any_sync(0xffffffffu, nan), 0))
#pragma unroll
          for (int j = 0; j < 4; ++j)
            word[c][j] &= ~rules::bf16_nan_sign_bits(u[4 * c + j].x, u[4 * c + j].y, u[4 * c + j].z,
                                                     u[4 * c + j].w);
    }
  }
  if constexpr (FP8) {
    // Re-express against R = (largest exponent of a group with a nonzero code
    // in this 128-chunk) - 6: c * 2^(e-R) is exact in E4M3 for e - R in [-8, 6].
    // The chunk is 128 / kV lanes; all-zero groups do not vote.
    constexpr int kLanes = 128 / kV;
    int evote = -1000;
#pragma unroll
    for (int c = 0; c < kU; ++c)
      if ((word[c][0] | word[c][1] | word[c][2] | word[c][3]) & 0x77777777u)
        evote = max(evote, int(s[c]) - 127);
#pragma unroll
    for (int off = 1; off < kLanes; off *= 2)
      evote = max(evote, __shfl_xor_sync(0xffffffffu, evote, off));
    const int R = evote == -1000 ? 0 : evote - 6;
    if (!in) return;
    const int64_t e0 = v0 * 8;
    int64_t row, col;
    if (f8.small) {
      const uint32_t n = uint32_t(e0), r = rules::div_small(n, f8.kinv);
      row = r, col = n - r * uint32_t(f8.K);
    } else {
      row = e0 / f8.K, col = e0 % f8.K;
    }
    uint4* dst = reinterpret_cast<uint4*>(f8.data + row * f8.K + col);
#pragma unroll
    for (int c = 0; c < kU; ++c) {
      // e - R <= 6 for voting groups; below -8 the value is not exact (see kernels_fp8.hpp).
      // An all-zero group may sit far above R: clamp, its codes are zero anyway.
      const float f = exp2i(min(max(int(s[c]) - 127 - R, -127), 127));
      // The group's 8 possible bytes e4m3(grid[i] * f), i = 0..7 (the same
      // multiply and conversion per value as before, done once per group), then
      // looked up by the codes (rules::fp8_bytes).
      const uint32_t tlo = uint32_t(__nv_cvt_float2_to_fp8x2(make_float2(0.f, __fmul_rn(0.5f, f)),
                                                             __NV_SATFINITE, __NV_E4M3)) |
                           uint32_t(__nv_cvt_float2_to_fp8x2(make_float2(f, __fmul_rn(1.5f, f)),
                                                             __NV_SATFINITE, __NV_E4M3))
                               << 16 |
                           0x80808080u;
      const uint32_t thi =
          uint32_t(__nv_cvt_float2_to_fp8x2(make_float2(__fmul_rn(2.f, f), __fmul_rn(3.f, f)),
                                            __NV_SATFINITE, __NV_E4M3)) |
          uint32_t(__nv_cvt_float2_to_fp8x2(make_float2(__fmul_rn(4.f, f), __fmul_rn(6.f, f)),
                                            __NV_SATFINITE, __NV_E4M3))
              << 16 |
          0x80808080u;
      uint32_t o[8];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        o[2 * j] = rules::fp8_bytes(word[c][j], tlo, thi);
        o[2 * j + 1] = rules::fp8_bytes(word[c][j] >> 16, tlo, thi);
      }
      dst[2 * c] = make_uint4(o[0], o[1], o[2], o[3]);
      dst[2 * c + 1] = make_uint4(o[4], o[5], o[6], o[7]);
    }
    if ((lane & (kLanes - 1)) == 0) f8.scales[(col / 128) * f8.rows_alloc + row] = rules::pow2(R);
    return;
  }
  if (!in) return;
  if (!kHalf || full) {
#pragma unroll
    for (int c = 0; c < kU; ++c)
      reinterpret_cast<uint4*>(packed)[t * kU + c] =  // 16 code bytes a unit
          make_uint4(word[c][0], word[c][1], word[c][2], word[c][3]);
    // The thread's scale bytes, contiguous: one (MXFP4) or two (NVFP4) a unit; two units only
    // for NVFP4 (vals).
    if constexpr (kU == 2)
      reinterpret_cast<uint32_t*>(scales)[t] = s[0] | s[1] << 16;
    else if constexpr (NV)
      reinterpret_cast<uint16_t*>(scales)[t] = uint16_t(s[0]);
    else
      scales[t] = uint8_t(s[0]);
  } else {  // NVFP4's last 16 elements
    *reinterpret_cast<uint2*>(packed + v0 * 4) = make_uint2(word[0][0], word[0][1]);
    scales[2 * t] = uint8_t(s[0]);
  }
  if (deq) {
#pragma unroll
    for (int c = 0; c < kU; ++c)
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        if (kHalf && j >= 2 && !full) break;
        reinterpret_cast<uint4*>(deq)[v0 + 4 * c + j] =
            dev::dequant8_bf16(word[c][j], j < 2 ? m0[c] : m1[c]);
      }
  }
}

template <int B, bool NV, bool FP8 = false>
void launch(const uint16_t* x, int64_t M, int64_t K, float g, uint8_t* p, uint8_t* s, uint16_t* d,
            cudaStream_t st, Fp8Out f8 = {}) {
  constexpr int kL = vals<B, NV>() / 8;  // 16-byte loads a thread
  const int64_t vecs = M * K / 8, threads = (vecs + kL - 1) / kL;
  const int64_t blocks = (threads + kThreads - 1) / kThreads;
  if (blocks > int64_t(0x7FFFFFFF))
    throw Error("quantize_activations: input too large for one launch");
  // The CPU's 1/sqrt(b) (src/transforms/hadamard.cpp), rounded as there.
  const float rscale = 1.f / std::sqrt(float(B));
  TableArg<NV> tab;
  if constexpr (NV)  // the CPU's multiplier of every E4M3 scale byte
    for (int b = 0; b < 128; ++b)
      tab.e[b] =
          rules::nv_entry(b < 127 ? scale_multiplier(Format::NVFP4, uint8_t(b), g) : 480.f / g);
  act_quant_kernel<B, NV, FP8>
      <<<unsigned(blocks), kThreads, 0, st>>>(x, vecs, g, rscale, p, s, d, f8, tab);
  MRGPTQ_CUDA_LAUNCH_CHECK();
}

template <bool NV>
void dispatch(int rot, const uint16_t* x, int64_t M, int64_t K, float g, uint8_t* p, uint8_t* s,
              uint16_t* d, cudaStream_t st) {
  switch (rot) {
    case 0:
      return launch<1, NV>(x, M, K, g, p, s, d, st);
    case 16:
      return launch<16, NV>(x, M, K, g, p, s, d, st);
    case 32:
      return launch<32, NV>(x, M, K, g, p, s, d, st);
    case 64:
      return launch<64, NV>(x, M, K, g, p, s, d, st);
    case 128:
      return launch<128, NV>(x, M, K, g, p, s, d, st);
  }
  throw Error("quantize_activations: rotation block must be 0, 16, 32, 64 or 128");
}

template <int B>
void launch_fp8(const uint16_t* x, int64_t M, int64_t K, Fp8Out f8, cudaStream_t st) {
  launch<B, false, true>(x, M, K, 1.f, nullptr, nullptr, nullptr, st, f8);
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
  if (f8.small) f8.kinv = rules::div_small_inverse(uint32_t(K));
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
    dispatch<true>(rot_block, x, M, K, global_scale, packed, scales, dequant_out, stream);
  } else {
    dispatch<false>(rot_block, x, M, K, 1.f, packed, scales, dequant_out, stream);
  }
}

}  // namespace mrgptq::gpu
