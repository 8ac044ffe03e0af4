// bf16 / f16 <-> f32 conversions by bit manipulation (round to nearest, ties to even).
// Written out instead of relying on _Float16 / F16C so that the library does not
// depend on compiler or CPU support; the tests compare against those independently.
#include <bit>
#include <cstdint>

#include "mrgptq/safetensors.hpp"

namespace mrgptq {

float bf16_to_f32(uint16_t b) {
  return std::bit_cast<float>(uint32_t(b) << 16);
}

uint16_t f32_to_bf16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  // NaN: keep sign and the top payload bits, force the quiet bit so that the
  // truncation can never turn a NaN into an infinity.
  if ((u & 0x7FFFFFFFu) > 0x7F800000u) return uint16_t((u >> 16) | 0x0040u);
  // RNE: add 0x7FFF plus the lowest kept bit, then truncate. A carry into the
  // exponent is the correct rounding (including overflow to infinity).
  const uint32_t lsb = (u >> 16) & 1u;
  return uint16_t((u + 0x7FFFu + lsb) >> 16);
}

float f16_to_f32(uint16_t h) {
  const uint32_t sign = uint32_t(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;
  if (exp == 0x1F) return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));  // inf / NaN
  if (exp != 0) return std::bit_cast<float>(sign | ((exp + 112u) << 23) | (mant << 13));
  if (mant == 0) return std::bit_cast<float>(sign);  // +-0
  // Subnormal: value = mant * 2^-24; normalise the mantissa into float32.
  int e = -1;
  do {
    mant <<= 1;
    ++e;
  } while ((mant & 0x400u) == 0);
  mant &= 0x3FFu;
  return std::bit_cast<float>(sign | (uint32_t(112 - e) << 23) | (mant << 13));
}

uint16_t f32_to_f16(float f) {
  const uint32_t u = std::bit_cast<uint32_t>(f);
  const uint16_t sign = uint16_t((u >> 16) & 0x8000u);
  const uint32_t abs = u & 0x7FFFFFFFu;
  if (abs > 0x7F800000u) return uint16_t(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));  // quiet NaN
  if (abs >= 0x477FF000u) return uint16_t(sign | 0x7C00u);  // rounds past 65504: infinity
  if (abs >= 0x38800000u) {
    // Normal half (|f| >= 2^-14): rebias the exponent (127 -> 15) and round the
    // 13 dropped mantissa bits to nearest even; a carry correctly bumps the exponent.
    const uint32_t lsb = (abs >> 13) & 1u;
    return uint16_t(sign | ((abs - 0x38000000u + 0xFFFu + lsb) >> 13));
  }
  if (abs < 0x33000000u) return sign;  // below half of the smallest subnormal (2^-25): zero
  // Subnormal half: value = m * 2^-24. Shift the full 24-bit significand right
  // and round the shifted-out bits to nearest even.
  const uint32_t e = abs >> 23;  // biased float exponent, 102..112
  const uint32_t sig = (abs & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126u - e;  // 14..24
  const uint32_t kept = sig >> shift;
  const uint32_t rem = sig & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  const uint32_t rounded = kept + ((rem > half || (rem == half && (kept & 1u))) ? 1u : 0u);
  return uint16_t(sign | rounded);  // a carry to 0x400 is the smallest normal: correct
}

}  // namespace mrgptq
