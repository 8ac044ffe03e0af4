// Cheaper forms of the FP4 rounding rules for the fused activation quantizer
// (act_quant.cu), callable from host code (tests/unit/test_fp4_device_rules.cpp
// checks each against src/formats/) and device code. Each is exactly the
// reference rule wherever it is used; the kernel is instruction-bound, so the
// forms are chosen for few, mostly full-rate FP32, GPU instructions.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#define MRGPTQ_HD __host__ __device__ __forceinline__
#else
#define MRGPTQ_HD inline
#endif

namespace mrgptq::rules {

MRGPTQ_HD uint32_t float_bits(float f) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}

MRGPTQ_HD float bits_float(uint32_t u) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}

// IEEE single operations, round to nearest even, never contracted.
MRGPTQ_HD float mul_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fmul_rn(a, b);
#else
  return a * b;
#endif
}
MRGPTQ_HD float add_rn(float a, float b) {
#ifdef __CUDA_ARCH__
  return __fadd_rn(a, b);
#else
  return a + b;
#endif
}
MRGPTQ_HD float fma_rn(float a, float b, float c) {
#ifdef __CUDA_ARCH__
  return __fmaf_rn(a, b, c);
#else
  return std::fma(a, b, c);
#endif
}
// Clamp to [0, 1], NaN -> +0 (the .SAT modifier of the instruction producing x).
MRGPTQ_HD float sat(float x) {
#ifdef __CUDA_ARCH__
  return __saturatef(x);
#else
  return x > 0.f ? (x < 1.f ? x : 1.f) : 0.f;
#endif
}

// 2^e for e in [-149, 127], exact (subnormal below -126).
MRGPTQ_HD float pow2(int e) {
  return e >= -126 ? bits_float(uint32_t(e + 127) << 23) : bits_float(1u << (e + 149));
}

// Float whose bits are 0x4A800000 + the E2M1 index (0..7) of a = x * 2h, for
// x = |y| >= 0 and five = 5 / (2h); h is a power of two (1/2: a = x). The
// index is formats.hpp's seven threshold compares (e2m1_encode), ties to the
// even index; NaN gives 0 as there. Adding 2^22 rounds to a multiple of 1/2
// (one rounding, ties to even), so with the 1/2 steps of the grid below 2:
//   lo  = 2^22 + RNE(2 min(a, 2)) / 2            .25 .75 1.25 1.75 passed
//   lo2 = lo + RNE(2 clamp(a/2 - 1, 0, 1)) / 2    2.5 3.5 (steps of 1 in [2, 4])
//   + 1/2 when a > 5                              (one step in [4, 6])
// The two clamps are never both inside (0, 1), so the index's parity, and
// with it each tie, is that of the step being rounded. x * h and a/2 - 1 are
// exact wherever they matter (an underflowed x * h is < 2^-126, index 0 either
// way; a/2 - 1 is exact for a/2 in [1, 2]), and x > five is exactly a > 5
// (five is 5 * 2^e or +inf). Six instructions, five of them FP32 FMA-pipe.
MRGPTQ_HD float e2m1_index_bits(float x, float h, float five) {
  const float t = sat(mul_rn(x, h));
  const float t2 = sat(fma_rn(x, h, -1.f));
  const float lo = fma_rn(t, 2.f, 0x1p22f);
  const float lo2 = add_rn(lo, t2);
  return fma_rn(x > five ? 1.f : 0.f, 0.5f, lo2);
}

// E2M1 code c (bit 3 the sign) as c's value x 2^-126, from its bits alone: the two exponent
// bits and the mantissa bit become the low exponent bits and the top mantissa bit of an FP32,
// so codes 0 and 1 (0 and 0.5) land on +-0 and the subnormal 2^-127. Exact: times 2^126 it is
// formats.hpp's e2m1_decode(c), also for -0.
MRGPTQ_HD float e2m1_tiny(uint32_t c) {
  return bits_float(((c & 7u) << 22) | ((c & 8u) << 28));
}

// E2M1 code (sign << 3 | index) of y, through e2m1_index_bits: the form the
// tests compare with formats.hpp's e2m1_encode.
MRGPTQ_HD uint32_t e2m1_code(float y) {
  const uint32_t u = float_bits(y);
  return ((u >> 28) & 8u) |
         (float_bits(e2m1_index_bits(bits_float(u & 0x7FFFFFFFu), 0.5f, 5.f)) & 7u);
}

// MXFP4 "round" scale byte from the bits of amax = max |x| (>= +0, never NaN):
// floor(log2 amax) - 2, +1 when the significand is >= 1.75 (adding 0x200000
// carries into the exponent exactly then), clamped at 2^-127; 127 for 0.
// +inf gives 125, as the frexpf form of the device rule (fp4_device.cuh) does.
MRGPTQ_HD uint32_t mx_round_scale_bits(float amax) {
  const uint32_t b = float_bits(amax);
  const int s = int((b + 0x200000u) >> 23) - 2;
  return b == 0 ? 127u : b == 0x7F800000u ? 125u : uint32_t(s < 0 ? 0 : s);
}

// NVFP4: fl(x / m) from y = fl(1/m) with three FP32 operations instead of an
// IEEE division per value: q0 = fl(x y) is within 2 ulps of x/m, the residual
// r = m q0 - x is exact (one FMA), and q0 - r y rounds to the quotient
// (Markstein's correction). Within the range of nv_entry below it equals
// fl(x/m) bit for bit wherever |x| >= 2^-100 (tests/unit/: every
// significand of m, x next to every decision point); below, the residual may
// underflow, the quotient is < 2^-10 either way and its code +-0. The sign,
// also of zeros, is x's (r = m q0 - x, not x - m q0, keeps -0 / m = -0).
MRGPTQ_HD float nv_quotient(float x, float m, float y) {
  const float q0 = mul_rn(x, y);
  const float r = fma_rn(m, q0, -x);
  return fma_rn(-r, y, q0);
}

// The NVFP4 kernel's per-scale entry (one per E4M3 byte s, built on the host
// from the CPU's m = e4m3(s) / G): y = fl(1/(m k)); k = 1 and lim = 2^89 m
// (at most FLT_MAX) while m is in [2^-90, 2^90], where every step of nv_quotient for |x| <= lim
// stays in the normal range (no underflow of y or of the residual, no
// overflow of q0). Otherwise (absurd global scales, or a group whose largest
// |x| exceeds lim) nv_needs_cap holds and the group is brought into range
// without changing any code: x and m are scaled by k = 2^+-100 (x / m is
// unchanged where x k is exact; where x k underflows, |x / m| < 2^-126 and
// codes +-0 either way) and |x k| is capped at 16 m k (|x / m| > 16 codes +-6
// either way; NaN stays NaN). m = 0 (every code 0) is the caller's.
struct NvEntry {
  float m, y, k, lim;
};
MRGPTQ_HD NvEntry nv_entry(float m) {
  if (m == 0.f) return {0.f, 0.f, 1.f, bits_float(0x7F800000u)};
  const float k = m < 0x1p-90f ? 0x1p100f : m > 0x1p90f ? 0x1p-100f : 1.f;
  const float y = 1.f / mul_rn(m, k);
  const float lim = mul_rn(0x1p89f, m);  // +inf amax must exceed it
  return {m, y, k, k != 1.f ? -1.f : lim < 0x1p127f ? lim : 0x1.fffffep127f};
}
MRGPTQ_HD bool nv_needs_cap(const NvEntry& e, float amax) {
  return amax > e.lim;
}
MRGPTQ_HD float nv_capped(float x, const NvEntry& e) {
  const float xk = mul_rn(x, e.k), cap = mul_rn(16.f, mul_rn(e.m, e.k));
  const uint32_t u = float_bits(xk);
  const float a = bits_float(u & 0x7FFFFFFFu);
  return bits_float(float_bits(a > cap ? cap : a) | (u & 0x80000000u));
}

// Rotation blocks b = 16 and 64 end with a multiply by r = 1/sqrt(b) = 2^-2,
// 2^-3, which the quantizer takes over (one multiply per group, not per value).
// MXFP4: the index of fl(x r) / 2^e is e2m1_index_bits(|x|, h r, 5 2^e / r)
// wherever fl(x r) = x r: the same real numbers are rounded and compared (h r
// >= 2^-130 and 5 2^e / r, or +inf past FLT_MAX, are exact), and the scale
// comes from fl(amax r) = max |fl(x r)| (rounding is monotone). x r may be
// inexact only below 2^-126; when the group's amax is >= 2^-100, such an x has
// index 0 both ways (x r 2h < 2^-20, as 2h <= 2^106), and its sign is x's. For
// 0 < amax < 2^-100 (mx_fold_rare) the kernel multiplies the values first.
MRGPTQ_HD bool mx_fold_rare(float amax) {
  return amax > 0.f && amax < 0x1p-100f;
}
// NVFP4: nv_quotient(x, m / r, y r) is nv_quotient(fl(x r), m, y) scaled by
// powers of two at every step (q0 the same product, the residual exact and
// divided by r, the last FMA the same real number) wherever fl(x r) = x r;
// outside the capped range m is in [2^-90, 2^90], so m / r and y r are exact
// and normal. Below 2^-126, where x r may be inexact, both quotients are
// < 2^-36 with x's sign: code +-0 either way.
MRGPTQ_HD void nv_fold(float& m, float& y, float r) {
  m = mul_rn(m, 1.f / r);
  y = mul_rn(y, r);
}

// fl(a / 6) for a >= 0 (the NVFP4 scale's amax / 6): nv_quotient by 6 is
// exact for a in [2^-125, FLT_MAX] (checked on every such float once, and on
// a sweep in the tests); below, the quotient is subnormal: a = A 2^-149 with
// A = bits(a) < 2^24, and fl(a / 6) = RNE(A / 6) 2^-149 in integers; +inf
// stays +inf. div6_rare says which form applies (0 is common).
MRGPTQ_HD bool div6_rare(float a) {
  return (a > 0.f && a < 0x1p-125f) || a > 0x1.fffffep127f;
}
MRGPTQ_HD float div6_common(float a) {
  return nv_quotient(a, 6.f, 0x1.555556p-3f);
}
MRGPTQ_HD float div6_rare_value(float a) {
  const uint32_t A = float_bits(a);
  const uint32_t q = A / 6u, r = A - 6u * q;
  const uint32_t up = r > 3u || (r == 3u && (q & 1u));
  return a > 0x1.fffffep127f ? a : bits_float(q + up);
}

// floor(n / K) for n < 2^32 and 2 <= K < 2^32 from M = ceil(2^64 / K) (the
// 32-bit division is a long sequence on the GPU): n M / 2^64 exceeds n / K by
// less than n / 2^64 < 1/K, too little to reach the next integer. Two
// multiplies: floor(n M / 2^64) = floor((n M_hi + floor(n M_lo / 2^32)) / 2^32).
MRGPTQ_HD uint64_t div_small_inverse(uint32_t K) {
  return ~uint64_t(0) / K + 1;
}
MRGPTQ_HD uint32_t div_small(uint32_t n, uint64_t M) {
  const uint32_t lo = uint32_t(M), hi = uint32_t(M >> 32);
#ifdef __CUDA_ARCH__
  const uint32_t t = __umulhi(n, lo);
#else
  const uint32_t t = uint32_t((uint64_t(n) * lo) >> 32);
#endif
  return uint32_t((uint64_t(n) * hi + t) >> 32);
}

// ------------------------------------------------------------ byte logic --

// prmt.b32 (__byte_perm): byte n of the result is byte (s >> 4n) & 7 of
// {y, x} (x = bytes 0-3); with sext, a nibble whose bit 3 is set gives that
// byte's bit 7 replicated instead (the instruction's sign-replicate mode).
MRGPTQ_HD uint32_t byte_perm(uint32_t x, uint32_t y, uint32_t s, bool sext = false) {
#ifdef __CUDA_ARCH__
  if (!sext) return __byte_perm(x, y, s);
  uint32_t d;
  asm("prmt.b32 %0, %1, %2, %3;" : "=r"(d) : "r"(x), "r"(y), "r"(s));
  return d;
#else
  const uint64_t in = uint64_t(y) << 32 | x;
  uint32_t r = 0;
  for (int n = 0; n < 4; ++n) {
    const uint32_t sel = (s >> (4 * n)) & 15u;
    uint32_t b = uint32_t(in >> (8 * (sel & 7u))) & 0xFFu;
    if (sext && (sel & 8u)) b = (b & 0x80u) ? 0xFFu : 0u;
    r |= b << (8 * n);
  }
  return r;
#endif
}

// The word of 8 codes (element i in nibble i) from e2m1_index_bits results
// (index in byte 0) and the values whose sign bits the codes take. Byte j
// holds elements 2j and 2j + 1: the even elements' indices and top bytes are
// gathered into one word each, the odd ones' into another, and merged.
MRGPTQ_HD uint32_t gather4(float a, float b, float c, float d, uint32_t sel) {
  return byte_perm(byte_perm(float_bits(a), float_bits(b), sel),
                   byte_perm(float_bits(c), float_bits(d), sel), 0x5410);
}
MRGPTQ_HD uint32_t pack_codes(const float (&idx)[8], const float (&sgn)[8]) {
  const uint32_t ie = gather4(idx[0], idx[2], idx[4], idx[6], 0x40);
  const uint32_t io = gather4(idx[1], idx[3], idx[5], idx[7], 0x40);
  const uint32_t se = gather4(sgn[0], sgn[2], sgn[4], sgn[6], 0x73);
  const uint32_t so = gather4(sgn[1], sgn[3], sgn[5], sgn[7], 0x73);
  return (ie | (io << 4)) | (((se >> 4) & 0x08080808u) | (so & 0x80808080u));
}

// E4M3 bytes of the 4 codes in the low 16 bits of w, from a lane's table of
// e4m3(grid[i] * f) | 0x80 (i = 0..3 in lo, 4..7 in hi): looked up by the
// indices; the sign-replicating permute of 0x01 bytes gives 0 for a negative
// code and 1 for a positive one, whose 0x80 is then subtracted (no borrow).
MRGPTQ_HD uint32_t fp8_bytes(uint32_t w, uint32_t lo, uint32_t hi) {
  return byte_perm(lo, hi, w & 0x7777u) - byte_perm(0x01010101u, 0x01010101u, w, true) * 0x80u;
}

// Bit 3 of nibble i for every NaN among 8 BF16 values, element i being the
// low (even i) or high half of word i / 2: the sign bits that the codes of
// NaN inputs must not carry (the reference arithmetic returns +NaN: code 0).
MRGPTQ_HD uint32_t bf16_nan_sign_bits(uint32_t w0, uint32_t w1, uint32_t w2, uint32_t w3) {
  const uint32_t w[4] = {w0, w1, w2, w3};
  uint32_t bits = 0;
  for (int j = 0; j < 4; ++j) {
    bits |= ((w[j] & 0x7FFFu) > 0x7F80u ? 0x08u : 0u) << (8 * j);
    bits |= ((w[j] >> 16 & 0x7FFFu) > 0x7F80u ? 0x80u : 0u) << (8 * j);
  }
  return bits;
}

}  // namespace mrgptq::rules
