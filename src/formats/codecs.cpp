// The scalar codecs of the FP4 microscaling formats. Every rounding rule of
// the project lives here; kernels and tests reproduce these functions.
#include <cmath>
#include <cstdint>
#include <limits>

#include "mrgptq/formats.hpp"

namespace mrgptq {

// E2M1 encode/decode are inline in the header (GPTQ's hot path).

float e8m0_decode(uint8_t byte) {
  if (byte == kE8M0NaN) return std::numeric_limits<float>::quiet_NaN();
  return std::ldexp(1.f, int(byte) - 127);
}

uint8_t e8m0_from_exponent(int e) {
  if (e < -127) e = -127;
  if (e > 127) e = 127;
  return uint8_t(e + 127);
}

// E4M3 "fn": s.eeee.mmm, bias 7, subnormals below 2^-6 in steps of 2^-9,
// largest finite 448 (1.75 * 2^8); s.1111.111 is NaN and there are no
// infinities, so overflow saturates to +-448 (as the scale casts of
// compressed-tensors clamp before casting).
uint8_t e4m3_encode(float x) {
  const uint8_t sign = std::signbit(x) ? 0x80 : 0;
  if (std::isnan(x)) return uint8_t(sign | 0x7F);
  const double a = std::fabs(double(x));
  if (a >= 448.0) return uint8_t(sign | 0x7E);
  if (a < std::ldexp(1.0, -6)) {
    // Subnormal: a multiple of 2^-9, rounded to nearest even; 8 * 2^-9 is the
    // smallest normal and its code (0x08) follows on naturally.
    const int m = int(std::nearbyint(a * 512.0));
    return uint8_t(sign | m);
  }
  int e2;
  const double f = std::frexp(a, &e2);  // a = f * 2^e2, f in [0.5, 1)
  int e = e2 - 1;                       // a = (2f) * 2^e, 2f in [1, 2)
  int m = int(std::nearbyint((2.0 * f - 1.0) * 8.0));
  if (m == 8) m = 0, ++e;  // rounded up into the next binade
  const int code = ((e + 7) << 3) | m;
  return uint8_t(sign | (code > 0x7E ? 0x7E : code));
}

float e4m3_decode(uint8_t b) {
  const int e = (b >> 3) & 15, m = b & 7;
  if (e == 15 && m == 7) return std::numeric_limits<float>::quiet_NaN();
  const float v = e == 0 ? std::ldexp(float(m), -9) : std::ldexp(1.f + float(m) / 8.f, e - 7);
  return (b & 0x80) ? -v : v;
}

}  // namespace mrgptq
