// Bit-level forms of the FP4 rounding rules for the fused activation
// quantizer (act_quant.cu). Each gives exactly the result of the float rule in
// include/mrgptq/formats.hpp (tests/unit/test_fp4_device_rules.cpp checks
// that on the CPU, over every float in the ranges that matter), in fewer GPU
// instructions: the quantizer is instruction-bound, not memory-bound.
// Callable from host code (the test) and device code (the kernel).
#pragma once
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

// E2M1 code (sign | index) of y: formats.hpp's seven threshold compares as
// integer arithmetic. |y| >= 1: round the significand to one bit, ties to
// even (add 0x1FFFFF plus the kept bit, truncate), saturate at index 7 (6.0);
// |y| < 1: the grid {0, .5, 1} with thresholds .25 (tie to 0) and .75 (tie to
// 1). NaN gives index 0, as the float compares do.
MRGPTQ_HD uint32_t e2m1_code(float y) {
  const uint32_t u = float_bits(y), b = u & 0x7FFFFFFFu;
  const uint32_t r = ((b + 0x1FFFFFu + ((b >> 22) & 1u)) >> 22) - 252u;
  const uint32_t big = r < 7u ? r : 7u;
  const uint32_t small = uint32_t(b > 0x3E800000u) + uint32_t(b >= 0x3F400000u);
  const uint32_t idx = b < 0x3F800000u ? small : (b > 0x7F800000u ? 0u : big);
  return ((u >> 28) & 8u) | idx;
}

// True when q lies within 8 units in the last place of an E2M1 decision
// threshold (0.25, 0.75, or a half-way point of the significand for |q| >= 1).
// q = x * fl(1/m) is within 3 units of fl(x/m), so away from thresholds its
// code is the code of the correctly rounded quotient; near them the caller
// divides exactly.
MRGPTQ_HD bool near_e2m1_threshold(float q) {
  const uint32_t b = float_bits(q) & 0x7FFFFFFFu;
  if (b >= 0x3F800000u) return ((b & 0x3FFFFFu) - 0x200000u + 8u) <= 16u;
  return (b - 0x3E800000u + 8u) <= 16u || (b - 0x3F400000u + 8u) <= 16u;
}

// E4M3 byte of e2m1(c) * 2^d when that value is a normal E4M3 number (or a
// signed zero): the byte is built from the code instead of decode, multiply,
// convert. Returns 0x100 when it is not (exponent field outside 1..15): the
// caller then converts in floating point. e2m1(c) = 0.5 * 2^0 for index 1 and
// 2^(i/2-1) * (1 + (i&1)/2) for i >= 2.
MRGPTQ_HD uint32_t e2m1_times_pow2_e4m3(uint32_t c, int d) {
  const uint32_t i = c & 7u, sign = (c & 8u) << 4;
  if (i == 0) return sign;
  const int field = (i == 1 ? 0 : int(i >> 1)) + d + 6;
  if (field < 1 || field > 15) return 0x100u;
  return sign | (uint32_t(field) << 3) | (i >= 2 ? (i & 1u) << 2 : 0u);
}

// MXFP4 "round" scale byte (formats: floor(log2 amax) - 2, + 1 when the
// significand is >= 1.75, clamped to [-127, 127], byte 127 for amax = 0) from
// the bits of a positive normal amax. Returns 0x100 for zero, subnormal, inf
// or NaN: the caller uses the float rule there.
MRGPTQ_HD uint32_t mx_round_scale_bits(float amax) {
  const uint32_t b = float_bits(amax);
  const uint32_t e = b >> 23;  // amax >= 0: no sign bit
  if (e == 0 || e >= 255) return 0x100u;
  const int s = int(e) - 127 - 2 + ((b & 0x7FFFFFu) >= 0x600000u ? 1 : 0);
  return uint32_t((s < -127 ? -127 : s > 127 ? 127 : s) + 127);
}

}  // namespace mrgptq::rules
