// Kernel 1: fused block-Hadamard + FP4 quantization of BF16 activations.
//
// The input is treated as one flat stream (K is a multiple of the chunk
// max(rotation block, group), so chunks never straddle rows). Lane l of a warp
// owns values 32l..32l+31 of the warp's 1024 throughout: it writes their 32
// codes with one 16-byte store and their scale byte(s). One read of x, one
// write of codes + scales (+ the exact BF16 dequantized values on request).
// A block covers one chunk of 256 x 32 values, or C consecutive ones
// (NVFP4's rotations: chunks_for), each thread's next loads issued while it
// encodes the current chunk.
//
// The rotation takes one of three forms, whichever measured fastest (the
// table is in docs/PERFORMANCE.md, thirteenth, fourteenth and seventeenth
// sessions):
// - NVFP4, every b: one dense 64-point transform on the tensor cores
//   (rotate_dense; the layout is rot_mma.hpp's). The lane's four loads are the
//   A fragments, 12 (b = 16) or 22 mma and one FP32 butterfly cover all seven
//   index bits, and every lane ends with its own 32 rotated values. NVFP4's
//   quantizer has ~1.4x MXFP4's instructions, so the fewer instructions win:
//   +1.3 to +3.5 points of the copy bandwidth against the next form (b = 32,
//   128 with 1/sqrt(b) joined to the butterfly).
// - MXFP4, b = 16, 64, 128: a 16-point transform over 4 bits of the value's
//   index as an mma on the BF16 inputs, the other bits as FP32 butterflies
//   (rotate_16_points). The dense form ran 4-9 points slower here: its 64
//   registers leave 4 blocks an SM where this form's 48 leave 5.
// - MXFP4, b = 32, and no rotation: butterflies in registers in the CPU's
//   order (bit-identical rotated values).
// Products by +-1 are exact and the sums FP32, but the mma's sums may round
// differently from the CPU's butterflies where the values of a block span more
// than ~2^12 in magnitude, so the codes are the CPU quantizer's applied to the
// kernel's rotated values (which the tests read back through rotated_out), and
// the CPU's own rotation path's in all but such rounding ties.
//
// The kernel is instruction-bound, so the rounding rules take their cheap
// exact forms from fp4_rules.hpp (checked against src/formats/ on the CPU by
// tests/unit/test_fp4_device_rules.cpp): the E2M1 index by magic-number
// rounding in FP32, NVFP4's quotient from one reciprocal per group, and the
// codes gathered into words with byte permutes.
#include <type_traits>

#include "kernels/fp4_device.cuh"
#include "kernels/fp4_rules.hpp"
#include "kernels/mma.cuh"
#include "kernels/programmatic.cuh"
#include "kernels/rot_mma.hpp"
#include "mrgptq/kernels.hpp"
#include "mrgptq/kernels_fp8.hpp"

namespace mrgptq::gpu {
namespace {

constexpr int kThreads = 256;
// kernels.hpp states the programmatic-launch limit in values; it was measured as four CTAs.
static_assert(kActivationPdlMaxValues == 4 * kThreads * 32, "four CTAs of 256 x 32 values");
// Blocks per SM that __launch_bounds__ asks for: 5 (48 registers) for MXFP4's
// rotations, 4 (64) without rotation and for NVFP4's dense rotation, which
// holds 32 accumulators, 16 registers of loads and 8 of B at once.
template <int B, bool NV>
constexpr int min_blocks() {
  return B == 1 || NV ? 4 : 5;
}
// NVFP4's rotations run C consecutive chunks of 256 threads a block (C = 4, 6 or 8;
// chunks_for): each thread issues the next chunk's four loads as soon as this one's rotation
// has consumed its registers, so they are in flight while it encodes and stores. That holds 16
// more registers (80: 3 blocks an SM, 24 warps instead of 32), and still wins: the one-chunk
// kernel's warps load, then compute with nothing in flight, and on 27% of its cycles no warp
// was eligible (docs/PERFORMANCE.md, seventeenth and eighteenth sessions). MXFP4's rotations
// keep one chunk a block: chunked (3 blocks an SM, 80 registers) they gained 0.1-4 points at
// [16384, 8192] but lost up to 6.5 at [4096, 8192] and [2048, 14336], where the one-chunk
// kernel's 40 warps an SM (48 registers) count for more.
constexpr int kChunkedBlocks = 3;

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

// The FP4 outputs: codes, scales, the BF16 dequantized values and the FP32
// rotated values (the last two optional).
struct Outs {
  uint8_t* packed = nullptr;
  uint8_t* scales = nullptr;
  uint16_t* deq = nullptr;
  float* rotated = nullptr;
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

// NVFP4: the scale byte of a group of 16 values v and their codes (two words;
// v may be changed), m its multiplier. FOLD: v are the rotated values before
// their multiply by r = 1/sqrt(b), a power of two (rules::nv_fold): amax and
// the quotients take r instead.
template <bool FOLD>
__device__ __forceinline__ uint32_t nv_encode_group(float* v, float g, float r, const float4* nvt,
                                                    uint32_t* w, float& m) {
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
#pragma unroll
  for (int i = 0; i < 2; ++i) w[i] = m == 0.f ? 0u : nv_encode8(v + 8 * i, mm, y);  // m = 0: all 0
  return s;
}

// ---- MXFP4: rotations of b = 16, 64 and 128 on the tensor cores, 16 points at a time ----
// The Hadamard of b = 2^n values factors over the bits of the value's index in
// its block (entry (i, j) = (-1)^popcount(i & j), the Sylvester order of the
// CPU's butterflies), so any bits can go through one mma and the others
// through butterflies. Lane t of quad g of a warp owns values 32t..32t+31 of
// the quad's 128 (index bits 5-6 = t), as loaded: load f (bits 3-4 = f) is
// the A fragment (x, y, z, w) of an m16n8k16 mma (mma.cuh) as it is: row g
// holds the values of bit 1 = 0 (x, z), row g + 8 those of bit 1 = 1 (y, w),
// and column 2t + e + 8c the value of bits (0, 2, 5-6) = (e, c, t). B acts on
// those four bits: the Hadamard's factor on the bits inside the block, the
// identity on the bits of other blocks (5-6 for b = 16, 6 for b = 64).
// Tile j's columns 2t, 2t + 1 are the outputs of bits (0, 2, 5-6) =
// (0/1, j, t): the lane's own values again, and after the butterfly on bit 1
// (rows g, g + 8) its outputs 8f + 4j + 0..3; bits 3 and 4 (b = 16: bit 3)
// are butterflies across f. Each lane ends with its own 32 rotated values: no shuffles, no
// shared memory, and the loads and the quantizer are the unrotated kernel's.
// (Layouts that gave a quad one block and moved values between its lanes ran
// slower than the butterflies they replaced; so did this one for b = 32, while
// for b = 16 it beat them: docs/PERFORMANCE.md, thirteenth and fourteenth
// sessions.)
constexpr bool rotates_on_tensor_cores(int b) {
  return b == 16 || b >= 64;
}
struct alignas(16) H16Frags {
  uint32_t w[3][32][4];  // [b = 16, 64, 128][lane][tile j x 2 + word]: BF16 pairs of 0, +-1
};
// The chunk index (bits 0, 2, 5-6) of B's row or column c = 2t + e + 8c' (bits e, t, c').
constexpr int h16_index(int c) {
  return (c & 1) | (c >> 1 & 1) << 5 | (c >> 2 & 1) << 6 | (c >> 3 & 1) << 2;
}
constexpr H16Frags make_h16_frags() {
  H16Frags r{};
  constexpr int kB[3] = {16, 64, 128};
  for (int form = 0; form < 3; ++form)
    for (int lane = 0; lane < 32; ++lane)
      for (int j = 0; j < 2; ++j)
        for (int word = 0; word < 2; ++word) {  // rows k, k + 1 of column n of B
          const int k = 2 * (lane % 4) + 8 * word, n = 8 * j + lane / 4;
          r.w[form][lane][2 * j + word] =
              rot::bf16_unit(rot::h_entry(kB[form], h16_index(k), h16_index(n))) |
              rot::bf16_unit(rot::h_entry(kB[form], h16_index(k + 1), h16_index(n))) << 16;
        }
  return r;
}
__device__ const H16Frags kH16 = make_h16_frags();

// The rotated values (before 1/sqrt(b) where FOLD) of the lane's 32 values,
// from its four loads. hx is 0, read from shared memory after the NVFP4
// table's barrier so that no mma is scheduled in front of it.
template <int B, bool FOLD>
__device__ __forceinline__ void rotate_16_points(const uint4 (&ld)[4], uint32_t hx, float rscale,
                                                 int lane, float (&v)[32]) {
  static_assert(rotates_on_tensor_cores(B), "rotations of 16, 64 and 128 only (see the kernel)");
  constexpr int kForm = B == 16 ? 0 : B == 64 ? 1 : 2;
  const uint4 hw = __ldg(reinterpret_cast<const uint4*>(kH16.w[kForm][lane]));
  const uint32_t hb[2][2] = {{hw.x ^ hx, hw.y ^ hx}, {hw.z ^ hx, hw.w ^ hx}};
#pragma unroll
  for (int f = 0; f < 4; ++f) {
#pragma unroll
    for (int j = 0; j < 2; ++j) {
      float d[4] = {};
      dev::mma_bf16(d, ld[f].x, ld[f].y, ld[f].z, ld[f].w, hb[j][0], hb[j][1]);
      // The butterfly on bit 1: rows g (bit 1 = 0) and g + 8.
      float* o = v + 8 * f + 4 * j;
      o[0] = __fadd_rn(d[0], d[2]), o[1] = __fadd_rn(d[1], d[3]);
      o[2] = __fsub_rn(d[0], d[2]), o[3] = __fsub_rn(d[1], d[3]);
    }
  }
  // Bits 3 and 4 (those inside the block): f and f + h, in the CPU's ascending order.
#pragma unroll
  for (int h = 1; h < 4 && 8 * h < B; h *= 2)
#pragma unroll
    for (int f = 0; f < 4; ++f)
      if (!(f & h))
#pragma unroll
        for (int i = 0; i < 8; ++i) {
          const float a = v[8 * f + i], c = v[8 * (f + h) + i];
          v[8 * f + i] = __fadd_rn(a, c);
          v[8 * (f + h) + i] = __fsub_rn(a, c);
        }
  if constexpr (!FOLD)
#pragma unroll
    for (int i = 0; i < 32; ++i) v[i] = __fmul_rn(v[i], rscale);
}

// ---- NVFP4: every rotation as one dense 64-point mma (rot_mma.hpp: the layout, and why) ----
__device__ const rot::Frags kRotFrags = rot::make_frags();

// The lane's 32 rotated values (before 1/sqrt(b) where FOLD), from its four
// loads as they are: load s is the A fragment of k-step s. hx is 0, read from
// shared memory after the NVFP4 table's barrier so that no mma is scheduled
// in front of it.
template <int B, bool FOLD>
__device__ __forceinline__ void rotate_dense(const uint4 (&ld)[4], uint32_t hx, float rscale,
                                             int lane, float (&v)[32]) {
  const uint4 hw = __ldg(reinterpret_cast<const uint4*>(kRotFrags.w[rot::form_of(B)][lane]));
  // The base fragments of the even and odd n-tiles, and their negations.
  const uint32_t bp[2][2] = {{hw.x ^ hx, hw.y ^ hx}, {hw.z ^ hx, hw.w ^ hx}};
  const uint32_t bn[2][2] = {{bp[0][0] ^ 0x80008000u, bp[0][1] ^ 0x80008000u},
                             {bp[1][0] ^ 0x80008000u, bp[1][1] ^ 0x80008000u}};
  float d[8][4];
#pragma unroll
  for (int j = 0; j < 8; ++j) {
    d[j][0] = d[j][1] = d[j][2] = d[j][3] = 0.f;
#pragma unroll
    for (int s = 0; s < 4; ++s) {
      if (rot::b_zero(B, s, j)) continue;
      const uint32_t(&bf)[2] = rot::b_negated(B, s, j) ? bn[j & 1] : bp[j & 1];
      dev::mma_bf16(d[j], ld[s].x, ld[s].y, ld[s].z, ld[s].w, bf[0], bf[1]);
    }
  }
  // The two accumulator rows are index bit 1 = 0, 1: its butterfly. Where 1/sqrt(b) is not a
  // power of two (b = 32, 128) it joins the butterfly: a r +- fl(c r) in one FMA each, three
  // instructions a pair instead of four. The rotated values are then fl(a r + fl(c r)), not
  // fl(fl(a + c) r): a rounding apart, which the codes follow (they are the CPU quantizer's of
  // these values, reported through rotated_out).
#pragma unroll
  for (int j = 0; j < 8; ++j)
#pragma unroll
    for (int e = 0; e < 2; ++e) {
      const float a = d[j][e], c = d[j][2 + e];
      float &o0 = v[rot::out_index(0, 0, j, e)], &o1 = v[rot::out_index(0, 1, j, e)];
      if constexpr (FOLD) {
        o0 = __fadd_rn(a, c);
        o1 = __fsub_rn(a, c);
      } else {
        const float cr = __fmul_rn(c, rscale);
        o0 = __fmaf_rn(a, rscale, cr);
        o1 = __fmaf_rn(a, rscale, -cr);
      }
    }
}

// MXFP4: the scale byte of a group of 32 values v and their codes (four words;
// v may be changed), m its multiplier (2^e): the index of x / 2^e straight
// from |x|, or FOLD (rules::mx_fold_rare) of fl(x r) / 2^e from x with h =
// 2^(-e-1) r and five = 5 2^e / r, the scale from fl(amax r) = max |fl(x r)|
// (rounding is monotone). A group of amax in (0, 2^-100), where x r may be
// inexact, multiplies first (a rare branch that rejoins only after the codes:
// no merge of 32 values).
template <bool FOLD>
__device__ __forceinline__ uint32_t mx_encode_group(float* v, float r, uint32_t* w, float& m) {
  const float amax = amax_of<32>(v);
  uint32_t s;
  auto encode = [&](float am, auto fold) {
    s = rules::mx_round_scale_bits(am);
    const int e = int(s) - 127;
    m = exp2i(e);
    float h = rules::pow2(-e - 1), five;
    if constexpr (decltype(fold)::value)
      h = __fmul_rn(h, r), five = __fmul_rn(5.f / r, m);
    else
      five = __fmul_rn(5.f, m);
#pragma unroll
    for (int j = 0; j < 4; ++j) w[j] = mx_encode8(v + 8 * j, h, five);
  };
  if constexpr (FOLD) {
    if (__builtin_expect(rules::mx_fold_rare(amax), 0)) {
#pragma unroll
      for (int i = 0; i < 32; ++i) v[i] = __fmul_rn(v[i], r);
      encode(__fmul_rn(amax, r), std::false_type{});
    } else {
      encode(__fmul_rn(amax, r), std::true_type{});
    }
  } else {
    encode(amax, std::false_type{});
  }
  return s;
}

// Writes n rotated values (times r where FOLD) to dst, as float4s (tests).
template <bool FOLD>
__device__ __forceinline__ void store_rotated(float* dst, const float* v, int n, float r) {
  for (int j = 0; j < n; j += 4)
    reinterpret_cast<float4*>(dst)[j / 4] =
        FOLD ? make_float4(__fmul_rn(v[j], r), __fmul_rn(v[j + 1], r), __fmul_rn(v[j + 2], r),
                           __fmul_rn(v[j + 3], r))
             : make_float4(v[j], v[j + 1], v[j + 2], v[j + 3]);
}

// RO: also write the rotated values to o.rotated (a separate instantiation:
// the branch and its registers cost the others up to 5%).
template <int B, bool NV, bool FP8, bool RO, int C = 1>
__global__ void __launch_bounds__(kThreads, C > 1 ? kChunkedBlocks : min_blocks<B, NV>())
    act_quant_kernel(const uint16_t* __restrict__ x, int64_t vecs, float g, float rscale, Outs o,
                     Fp8Out f8, const __grid_constant__ TableArg<NV> tab, bool pdl) {
  static_assert(C == 1 || (NV && B > 1 && !FP8 && !RO), "C chunks a block: NVFP4 rotations only");
  // 1/sqrt(b) is a power of two for b = 16 and 64: folded into the quantizer.
  constexpr bool kFold = B == 16 || B == 64;
  constexpr float kRscale = B == 16 ? 0.25f : 0.125f;
  // In chunk c the thread owns values 32t..32t+31 (vectors of 8: v0..v0+3) of the stream, t =
  // t0 + 256 c.
  const int64_t t0 = int64_t(blockIdx.x) * kThreads * C + threadIdx.x;
  const int lane = threadIdx.x & 31;
  // All lanes stay alive for the mma and shuffles; the total is a multiple of
  // the chunk max(b, group), so a rotation block is all in range or all out
  // (past the end the loads read zeros). The element count is a multiple of
  // 16: a last thread may own only 16 values (NVFP4 with b <= 16), its upper
  // half then reads as zeros.
  constexpr bool kHalf = NV && B <= 16;  // only NVFP4 with b <= 16 may end on half a thread
  // Four 16-byte loads of chunk t, issued before any arithmetic on it.
  auto load = [&](int64_t t, uint4(&u)[4]) {
    const int64_t v0 = 4 * t;
    const bool in = v0 < vecs, full = t < (vecs >> 2);
    const uint4* src = reinterpret_cast<const uint4*>(x) + v0;
#pragma unroll
    for (int i = 0; i < 4; ++i)
      u[i] = (kHalf && i >= 2 ? full : in) ? __ldcs(src + i) : make_uint4(0, 0, 0, 0);
  };
  // A programmatic launch (pdl: small inputs only, kActivationPdlMaxValues says why; plain
  // launches skip both instructions): the next kernel's CTAs may start at once -- a streamed
  // W4A16 kernel then copies its first weight bytes while this one runs, and waits for it before
  // it reads the values -- and nothing is read or written before the kernel before this one has
  // finished: it may still write x, or read a buffer this one writes (the layers of a chain share
  // one activation workspace).
  if (pdl) {
    grid_dependents_launch();
    grid_dependency_wait();
  }
  uint4 u[4];
  load(t0, u);
  // NVFP4: the block copies the table to shared memory while its loads are in
  // flight. The unpacking constants (hx for the rotation) come from shared
  // memory after the barrier, so no load-dependent arithmetic can be scheduled
  // in front of the copy and the barrier (ptxas did so for b = 16 and 128:
  // the barrier then waited for the loads, the arithmetic and the copy's latency).
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
  const uint32_t hx = lo_mul ^ 0x10000u;  // 0 (NVFP4: known only after the barrier)
  // The last block of a C > 1 grid may run chunks past the end: zeros in, nothing stored. An
  // early exit for them cost 3-6 points of the copy bandwidth (eighteenth session): ptxas then
  // scheduled the loop differently.
#pragma unroll 1
  for (int c = 0; c < C; ++c) {
    const int64_t t = t0 + c * kThreads, v0 = 4 * t;
    const bool in = v0 < vecs, full = t < (vecs >> 2);  // full: v0 + 4 <= vecs
    float v[32];
    if constexpr (NV && B > 1) {
      rotate_dense<B, kFold>(u, hx, rscale, lane, v);
    } else if constexpr (rotates_on_tensor_cores(B)) {
      rotate_16_points<B, kFold>(u, hx, rscale, lane, v);
    } else {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const uint32_t w[4] = {u[i].x, u[i].y, u[i].z, u[i].w};
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          v[8 * i + 2 * j] = __uint_as_float(w[j] * lo_mul);
          v[8 * i + 2 * j + 1] = __uint_as_float(w[j] & hi_mask);
        }
      }
      // b = 32: the CPU's butterflies (h ascending, pair (j, j+h) -> (a+c, a-c),
      // then one multiply by 1/sqrt(b)), bit-identical to its rotated values. On
      // the tensor cores b = 32 ran at 78.2 / 65.4% of copy (MXFP4 / NVFP4)
      // against 79.8 / 65.7% in registers, while b = 16 gained there (MXFP4
      // 85.9 -> 86.8%, NVFP4 69.6 -> 71.1%; the fourteenth session, two rounds).
#pragma unroll
      for (int h = 1; h < B; h *= 2)
#pragma unroll
        for (int p = 0; p < 16; ++p) {
          const int j = (p / h) * 2 * h + (p % h);
          const float a = v[j], c = v[j + h];
          v[j] = __fadd_rn(a, c);
          v[j + h] = __fsub_rn(a, c);
        }
      if constexpr (B == 32)
#pragma unroll
        for (int i = 0; i < 32; ++i) v[i] = __fmul_rn(v[i], rscale);
    }
    if (C > 1 && c + 1 < C) load(t + kThreads, u);  // the next chunk's loads, now in flight
    if (RO && in) store_rotated<kFold>(o.rotated + 32 * t, v, kHalf && !full ? 16 : 32, kRscale);
    // The four code words, scale byte(s) and multipliers of the thread's 32 values.
    uint32_t word[4], s;
    float m0, m1;
    if constexpr (NV) {
      const uint32_t s0 = nv_encode_group<kFold>(v, g, kRscale, nvt, word, m0);
      const uint32_t s1 = nv_encode_group<kFold>(v + 16, g, kRscale, nvt, word + 2, m1);
      s = s0 | s1 << 8;
    } else {
      s = mx_encode_group<kFold>(v, kRscale, word, m0);
      m1 = m0;
      // Without rotation a NaN input reaches the code with its own sign bit,
      // where the arithmetic of every other path returns the canonical
      // (positive) NaN: such codes lose that bit (a rare, warp-uniform branch).
      if constexpr (B == 1) {
        bool nan = false;
#pragma unroll
        for (int i = 0; i < 32; i += 2) nan |= (v[i] != v[i]) | (v[i + 1] != v[i + 1]);
        if (__builtin_expect(__any_sync(0xffffffffu, nan), 0))
#pragma unroll
          for (int j = 0; j < 4; ++j)
            word[j] &= ~rules::bf16_nan_sign_bits(u[j].x, u[j].y, u[j].z, u[j].w);
      }
    }
    if constexpr (FP8) {
      // Re-express against R = (largest exponent of a group with a nonzero code
      // in this 128-chunk) - 6: c * 2^(e-R) is exact in E4M3 for e - R in [-8, 6].
      // The chunk is 4 lanes; all-zero groups do not vote.
      int evote = (word[0] | word[1] | word[2] | word[3]) & 0x77777777u ? int(s) - 127 : -1000;
#pragma unroll
      for (int off = 1; off < 4; off *= 2)
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
      // e - R <= 6 for voting groups; below -8 the value is not exact (see kernels_fp8.hpp).
      // An all-zero group may sit far above R: clamp, its codes are zero anyway.
      const float f = exp2i(min(max(int(s) - 127 - R, -127), 127));
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
      uint32_t b8[8];
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        b8[2 * j] = rules::fp8_bytes(word[j], tlo, thi);
        b8[2 * j + 1] = rules::fp8_bytes(word[j] >> 16, tlo, thi);
      }
      dst[0] = make_uint4(b8[0], b8[1], b8[2], b8[3]);
      dst[1] = make_uint4(b8[4], b8[5], b8[6], b8[7]);
      if ((lane & 3) == 0) f8.scales[(col / 128) * f8.rows_alloc + row] = rules::pow2(R);
      return;
    }
    if (!in) continue;
    // No codes where only the BF16 values are wanted (the W4A4 layers): 2 bytes a value
    // written instead of 2.56 (NVFP4) / 2.53 (MXFP4).
    if (o.packed) {
      if (!kHalf || full) {
        reinterpret_cast<uint4*>(o.packed)[t] = make_uint4(word[0], word[1], word[2], word[3]);
        if constexpr (NV)  // the thread's scale bytes, contiguous
          reinterpret_cast<uint16_t*>(o.scales)[t] = uint16_t(s);
        else
          o.scales[t] = uint8_t(s);
      } else {  // NVFP4's last 16 elements
        *reinterpret_cast<uint2*>(o.packed + v0 * 4) = make_uint2(word[0], word[1]);
        o.scales[2 * t] = uint8_t(s);
      }
    }
    if (o.deq) {
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        if (kHalf && j >= 2 && !full) break;
        reinterpret_cast<uint4*>(o.deq)[v0 + j] = dev::dequant8_bf16(word[j], j < 2 ? m0 : m1);
      }
    }
  }
}

// Chunks a block (1, 4, 6 or 8) for `blocks` one-chunk blocks on a GPU that holds `slots`
// chunked blocks at once. A block of C chunks costs about C chunk-times, and the grid runs in
// ceil(grid / slots) waves, so C minimizes C * waves, ties to the smaller C. Inputs of fewer
// than 4 x slots blocks keep C = 1: a few short waves. On the H200 (396 slots) this picks 6 for
// [16384, 8192] and 4 for [4096, 8192], [4096, 28672] and [2048, 14336]: the fastest C measured
// at each, or within 0.3 points of it (C = 6 at [4096, 8192], two waves, lost 6 points;
// docs/PERFORMANCE.md, eighteenth session). force_activation_chunks overrides the choice (tests,
// benchmarks).
int chunks_for(int64_t blocks, int64_t slots) {
  if (const int forced = forced_activation_chunks()) return forced;
  if (slots <= 0 || blocks < 4 * slots) return 1;
  int best = 1;
  int64_t best_cost = 0;
  for (const int c : {4, 6, 8}) {
    const int64_t waves = ((blocks + c - 1) / c + slots - 1) / slots, cost = c * waves;
    if (best == 1 || cost < best_cost) best = c, best_cost = cost;
  }
  return best;
}

template <int B, bool NV, bool FP8 = false>
void launch(const uint16_t* x, int64_t M, int64_t K, float g, Outs o, cudaStream_t st,
            Fp8Out f8 = {}) {
  const int64_t vecs = M * K / 8, threads = (vecs + 3) / 4;  // 32 values a thread
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
  auto kernel = act_quant_kernel<B, NV, FP8, false>;
  int chunks = 1;
  if constexpr (!FP8)
    if (o.rotated) kernel = act_quant_kernel<B, NV, FP8, true>;
  // NVFP4's rotations, codes and scales only: C chunks a block. (With the BF16 values written
  // too, C = 4-8 ran 4-13 points slower; rotated_out is for tests.)
  if constexpr (NV && B > 1 && !FP8)
    if (!o.rotated && !o.deq) {
      static const int slots = [] {  // the current device's, at the first call
        int d = 0, sms = 0, per_sm = 0;
        MRGPTQ_CUDA_CHECK(cudaGetDevice(&d));
        MRGPTQ_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, d));
        MRGPTQ_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
            &per_sm, act_quant_kernel<B, NV, FP8, false, 6>, kThreads, 0));
        return sms * per_sm;
      }();
      chunks = chunks_for(blocks, slots);
      if (chunks == 4) kernel = act_quant_kernel<B, NV, FP8, false, 4>;
      if (chunks == 6) kernel = act_quant_kernel<B, NV, FP8, false, 6>;
      if (chunks == 8) kernel = act_quant_kernel<B, NV, FP8, false, 8>;
    }
  const int64_t grid = (blocks + chunks - 1) / chunks;
  launch_dependent(programmatic_launch() && M * K <= kActivationPdlMaxValues, kernel,
                   unsigned(grid), kThreads, 0, st, x, vecs, g, rscale, o, f8, tab);
}

template <bool NV>
void dispatch(int rot, const uint16_t* x, int64_t M, int64_t K, float g, Outs o, cudaStream_t st) {
  switch (rot) {
    case 0:
      return launch<1, NV>(x, M, K, g, o, st);
    case 16:
      return launch<16, NV>(x, M, K, g, o, st);
    case 32:
      return launch<32, NV>(x, M, K, g, o, st);
    case 64:
      return launch<64, NV>(x, M, K, g, o, st);
    case 128:
      return launch<128, NV>(x, M, K, g, o, st);
  }
  throw Error("quantize_activations: rotation block must be 0, 16, 32, 64 or 128");
}

template <int B>
void launch_fp8(const uint16_t* x, int64_t M, int64_t K, Fp8Out f8, cudaStream_t st) {
  launch<B, false, true>(x, M, K, 1.f, Outs{}, st, f8);
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
                          uint16_t* dequant_out, cudaStream_t stream, float* rotated_out) {
  const int group = format_info(f).group;
  const int64_t chunk = rot_block > group ? rot_block : group;
  if (M <= 0 || K <= 0 || K % chunk)
    throw Error("quantize_activations: K = " + std::to_string(K) +
                " must be a positive multiple of " + std::to_string(chunk) +
                " (pad the input dimension)");
  if (!packed != !scales)
    throw Error("quantize_activations: codes and scales are written together (both or neither)");
  if (!packed && !dequant_out)
    throw Error("quantize_activations: nothing to write (no codes and no BF16 output)");
  const Outs o{packed, scales, dequant_out, rotated_out};
  if (f == Format::NVFP4) {
    if (!(global_scale > 0.f))
      throw Error("quantize_activations: NVFP4 needs a positive global scale");
    dispatch<true>(rot_block, x, M, K, global_scale, o, stream);
  } else {
    dispatch<false>(rot_block, x, M, K, 1.f, o, stream);
  }
}

}  // namespace mrgptq::gpu
