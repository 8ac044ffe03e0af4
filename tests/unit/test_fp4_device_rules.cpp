// The bit-level rules of the fused activation quantizer (src/kernels/
// fp4_rules.hpp) against the float rules of include/mrgptq/formats.hpp, on the
// CPU. A one-off run over all 2^32 float bit patterns (2026-11-22) found no
// difference for e2m1_code; CI checks a dense subset: every 64th pattern plus
// +-16 patterns around each threshold, grid point and binade edge.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/fp4_rules.hpp"
#include "mrgptq/formats.hpp"

using namespace mrgptq;

namespace {

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint32_t to_bits(float f) {
  return rules::float_bits(f);
}

}  // namespace

TEST(Fp4DeviceRules, E2m1CodeEqualsTheThresholdRule) {
  std::vector<uint32_t> probes;
  for (uint64_t u = 0; u <= 0x7FFFFFFFu; u += 64) probes.push_back(uint32_t(u));
  for (float c : {0.25f, 0.5f, 0.75f, 1.f, 1.25f, 1.5f, 1.75f, 2.f, 2.5f, 3.f, 3.5f, 4.f, 5.f, 6.f,
                  7.f, 8.f, 1e-38f, 3.4e38f})
    for (int d = -16; d <= 16; ++d) probes.push_back(uint32_t(int64_t(to_bits(c)) + d));
  probes.push_back(0x7F800000u);  // inf
  probes.push_back(0x7FC00000u);  // NaN
  size_t bad = 0;
  for (uint32_t u : probes)
    for (uint32_t sign : {0u, 0x80000000u}) {
      const float x = from_bits(u | sign);
      if (rules::e2m1_code(x) != e2m1_encode(x) && bad++ < 5)
        ADD_FAILURE() << "x = " << x << " (bits " << std::hex << (u | sign)
                      << "): " << rules::e2m1_code(x) << " vs " << int(e2m1_encode(x));
    }
  EXPECT_EQ(bad, 0u) << "of " << 2 * probes.size() << " values";
}

// NVFP4: code(x * fl(1/m)) equals code(fl(x / m)) whenever the product is not
// flagged as near a threshold; x drawn around every threshold times m, m over
// every normal E4M3 scale and several tensor scales G.
TEST(Fp4DeviceRules, ReciprocalQuotientAwayFromThresholdsGivesTheDivisionsCode) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> ulps(-40, 40);
  std::uniform_real_distribution<float> any(-7.f, 7.f);
  size_t checked = 0, flagged = 0, bad = 0;
  for (float G : {1.f, 448.f * 6.f / 3.7f, 1000.f, 0.37f, 12345.678f})
    for (uint32_t s = 0x08; s < 0x7F; ++s) {
      const float m = e4m3_decode(uint8_t(s)) / G, r = 1.f / m;
      for (float t : {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.f, 0.f})
        for (int k = 0; k < 64; ++k) {
          float x = t == 0.f ? any(rng) * m : t * m;
          x = from_bits(uint32_t(int64_t(to_bits(x)) + ulps(rng)));
          if (k & 1) x = -x;
          const float q = x * r;
          ++checked;
          if (rules::near_e2m1_threshold(q)) {
            ++flagged;
            continue;
          }
          if (rules::e2m1_code(q) != e2m1_encode(x / m) && bad++ < 5)
            ADD_FAILURE() << "x = " << x << " m = " << m << ": " << rules::e2m1_code(q) << " vs "
                          << int(e2m1_encode(x / m));
        }
    }
  EXPECT_EQ(bad, 0u);
  // The flag must stay rare on values not planted at thresholds (it costs a division).
  EXPECT_LT(flagged, checked / 2);
}

TEST(Fp4DeviceRules, E4m3FromCodeEqualsDecodeMultiplyEncode) {
  int exact = 0;
  for (uint32_t c = 0; c < 16; ++c)
    for (int d = -24; d <= 24; ++d) {
      const uint32_t b = rules::e2m1_times_pow2_e4m3(c, d);
      if (b == 0x100u) continue;  // outside the normal range: the float path
      ++exact;
      EXPECT_EQ(b, e4m3_encode(std::ldexp(e2m1_decode(uint8_t(c)), d)))
          << "code " << c << " shift " << d;
    }
  EXPECT_GT(exact, 16 * 14);  // the whole exact window d in [-8, 6] at least
}

TEST(Fp4DeviceRules, MxScaleFromBitsEqualsTheRoundRule) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<uint32_t> bits(0x00800000u, 0x7F7FFFFFu);
  for (int k = 0; k < 200000; ++k) {
    const float amax = from_bits(bits(rng));
    std::vector<float> g(32, 0.f);
    g[size_t(k % 32)] = (k & 1) ? -amax : amax;
    EXPECT_EQ(rules::mx_round_scale_bits(amax),
              choose_group_scale(Format::MXFP4, ScaleRule::Round, g.data(), 32, 1.f))
        << "amax " << amax;
    if (HasFailure()) break;
  }
  EXPECT_EQ(rules::mx_round_scale_bits(0.f), 0x100u);
  EXPECT_EQ(rules::mx_round_scale_bits(from_bits(0x7F800000u)), 0x100u);
}
