// Exhaustive tests of the scalar codecs against independent definitions.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "mrgptq/formats.hpp"

using namespace mrgptq;

namespace {

// E4M3 value straight from the bit fields (independent of the codec).
double e4m3_reference(int b) {
  const int s = b >> 7, e = (b >> 3) & 15, m = b & 7;
  if (e == 15 && m == 7) return std::nan("");
  const double v = e == 0 ? m / 8.0 * std::pow(2.0, -6) : (1 + m / 8.0) * std::pow(2.0, e - 7);
  return s ? -v : v;
}

}  // namespace

TEST(E2M1, DecodesEveryCode) {
  const float grid[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (int c = 0; c < 16; ++c) {
    const float want = (c & 8 ? -1.f : 1.f) * grid[c & 7];
    EXPECT_EQ(e2m1_decode(uint8_t(c)), want) << c;
    if ((c & 7) != 0) {
      EXPECT_EQ(e2m1_encode(want), c) << "round trip " << c;
    }
  }
}

TEST(E2M1, TiesGoToEvenGridPoint) {
  // The hand-checked table.
  const std::pair<float, float> cases[] = {
      {0.25f, 0}, {0.75f, 1}, {1.25f, 1},   {1.75f, 2},      {2.5f, 2},  {3.5f, 4}, {5.f, 4},
      {7.f, 6},   {1e30f, 6}, {0.2499f, 0}, {0.2501f, 0.5f}, {4.99f, 4}, {5.01f, 6}};
  for (auto [x, want] : cases) {
    EXPECT_EQ(e2m1_round(x), want) << x;
    EXPECT_EQ(e2m1_round(-x), -want) << -x;
  }
}

TEST(E2M1, SignIsKeptWhenRoundingToZero) {
  EXPECT_EQ(e2m1_encode(-0.1f), 8);  // documented: -0.1 -> -0
  EXPECT_EQ(e2m1_encode(0.1f), 0);
  EXPECT_EQ(e2m1_encode(-0.f), 8);
  EXPECT_EQ(e2m1_decode(8), 0.f);
  EXPECT_EQ(e2m1_encode(-7.f), 15);
  EXPECT_EQ(e2m1_decode(0xF7), 6.f);  // only the low 4 bits count
}

TEST(E2M1, MatchesBruteForceNearestOnRandomInputs) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-8.f, 8.f);
  const float grid[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
  for (int t = 0; t < 200000; ++t) {
    const float x = u(rng);
    const float a = std::fabs(x);
    int best = 0;
    for (int i = 1; i < 8; ++i) {
      const float d = std::fabs(grid[i] - a), bd = std::fabs(grid[best] - a);
      if (d < bd || (d == bd && i % 2 == 0)) best = i;
    }
    ASSERT_EQ(std::fabs(e2m1_round(x)), grid[best]) << x;
  }
}

TEST(E8M0, DecodesEveryByte) {
  for (int b = 0; b < 255; ++b) EXPECT_EQ(e8m0_decode(uint8_t(b)), std::ldexp(1.f, b - 127)) << b;
  EXPECT_TRUE(std::isnan(e8m0_decode(0xFF)));
  EXPECT_EQ(e8m0_from_exponent(0), 127);
  EXPECT_EQ(e8m0_from_exponent(-200), 0);
  EXPECT_EQ(e8m0_from_exponent(200), 254);
  for (int e = -127; e <= 127; ++e) EXPECT_EQ(e8m0_exponent(e8m0_from_exponent(e)), e);
}

TEST(E4M3, DecodesEveryByteFromItsBitFields) {
  for (int b = 0; b < 256; ++b) {
    const double want = e4m3_reference(b);
    const float got = e4m3_decode(uint8_t(b));
    if (std::isnan(want)) {
      EXPECT_TRUE(std::isnan(got)) << b;
    } else {
      EXPECT_EQ(double(got), want) << b;
    }
  }
  EXPECT_EQ(e4m3_decode(0x7E), 448.f);
}

TEST(E4M3, EveryFiniteByteRoundTrips) {
  for (int b = 0; b < 256; ++b) {
    if ((b & 0x7F) == 0x7F) continue;
    EXPECT_EQ(e4m3_encode(e4m3_decode(uint8_t(b))), b) << b;
  }
}

TEST(E4M3, MidpointsRoundToEvenAndOverflowSaturates) {
  for (int b = 0; b < 0x7E; ++b) {
    const double lo = e4m3_reference(b), hi = e4m3_reference(b + 1);
    const float mid = float((lo + hi) / 2);  // exactly representable in float
    const int even = (b % 2 == 0) ? b : b + 1;
    EXPECT_EQ(e4m3_encode(mid), even) << "between " << lo << " and " << hi;
    EXPECT_EQ(e4m3_encode(-mid), 0x80 | even);
  }
  EXPECT_EQ(e4m3_encode(448.f), 0x7E);
  EXPECT_EQ(e4m3_encode(1000.f), 0x7E);
  EXPECT_EQ(e4m3_encode(std::numeric_limits<float>::infinity()), 0x7E);
  EXPECT_EQ(e4m3_encode(-1e9f), 0xFE);
  EXPECT_EQ(e4m3_encode(std::nanf("")) & 0x7F, 0x7F);
}

TEST(E4M3, MatchesBruteForceNearestOnRandomInputs) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> lg(-12.f, 9.f);
  for (int t = 0; t < 100000; ++t) {
    const float x = std::exp2(lg(rng)) * (t % 2 ? -1.f : 1.f);
    if (std::fabs(x) >= 448.f) continue;
    const int got = e4m3_encode(x);
    // brute force among codes of the same sign
    int best = -1;
    double bd = 1e300;
    for (int c = 0; c < 256; ++c) {
      const double v = e4m3_reference(c);
      if (std::isnan(v) || (std::signbit(v) != std::signbit(x))) continue;
      const double d = std::fabs(v - double(x));
      if (d < bd || (d == bd && (c & 1) == 0)) bd = d, best = c;
    }
    ASSERT_EQ(got, best) << x;
  }
}
