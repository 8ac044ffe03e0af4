// Hand-checked golden vectors for every scale rule, and the properties that
// define the MSE rules.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "mrgptq/error.hpp"
#include "mrgptq/formats.hpp"

using namespace mrgptq;

namespace {

std::vector<float> group_of(std::initializer_list<float> head, int n) {
  std::vector<float> g(head);
  g.resize(size_t(n), 0.f);
  return g;
}

uint8_t mx(ScaleRule r, const std::vector<float>& g) {
  return choose_group_scale(Format::MXFP4, r, g.data(), int(g.size()), 1.f);
}

}  // namespace

// amax 3: floor(log2 3) = 1, scale 2^(1-2) = 0.5 (byte 126) for every rule;
// codes 3/0.5 = 6 -> 7, 1/0.5 = 2 -> 4, -0.5/0.5 = -1 -> 8|2.
TEST(MxScale, Amax3AllRulesAgree) {
  auto g = group_of({3.f, 1.f, -0.5f}, 32);
  for (ScaleRule r : {ScaleRule::Floor, ScaleRule::Round, ScaleRule::Ceil})
    EXPECT_EQ(mx(r, g), 126);
  QuantOptions o;
  o.rule = ScaleRule::Floor;
  QuantizedTensor q = quantize_rtn(g.data(), 1, 32, Format::MXFP4, o);
  EXPECT_EQ(q.scales[0], 126);
  EXPECT_EQ(code_at(q, 0, 0), 7);
  EXPECT_EQ(code_at(q, 0, 1), 4);
  EXPECT_EQ(code_at(q, 0, 2), 10);
  EXPECT_EQ(code_at(q, 0, 3), 0);
}

// amax 7.5 = 1.875 * 2^2: floor -> 2^0 (7.5 clips to 6); round: significand
// >= 1.75 -> 2^1 (7.5/2 = 3.75 -> 4); ceil: smallest e with 7.5 <= 6*2^e is 1.
TEST(MxScale, Amax7p5SeparatesFloorFromRoundAndCeil) {
  auto g = group_of({7.5f}, 32);
  EXPECT_EQ(mx(ScaleRule::Floor, g), 127);
  EXPECT_EQ(mx(ScaleRule::Round, g), 128);
  EXPECT_EQ(mx(ScaleRule::Ceil, g), 128);
  QuantOptions o;
  o.rule = ScaleRule::Floor;
  EXPECT_EQ(dequantize(quantize_rtn(g.data(), 1, 32, Format::MXFP4, o)).data[0], 6.f);
  o.rule = ScaleRule::Round;
  EXPECT_EQ(dequantize(quantize_rtn(g.data(), 1, 32, Format::MXFP4, o)).data[0], 8.f);
}

// amax 6.5 = 1.625 * 2^2: floor and round keep 2^0 (clip to 6), ceil needs 2^1.
// amax 6 exactly fits 6 * 2^0 for all three.
TEST(MxScale, Amax6p5OnlyCeilAvoidsClipping) {
  EXPECT_EQ(mx(ScaleRule::Floor, group_of({6.5f}, 32)), 127);
  EXPECT_EQ(mx(ScaleRule::Round, group_of({6.5f}, 32)), 127);
  EXPECT_EQ(mx(ScaleRule::Ceil, group_of({6.5f}, 32)), 128);
  for (ScaleRule r : {ScaleRule::Floor, ScaleRule::Round, ScaleRule::Ceil})
    EXPECT_EQ(mx(r, group_of({-6.f}, 32)), 127);
  // Tiny and huge magnitudes stay inside E8M0.
  EXPECT_EQ(mx(ScaleRule::Floor, group_of({0.001f}, 32)), 127 - 10 - 2);  // 2^-10 <= 0.001 < 2^-9
  EXPECT_EQ(mx(ScaleRule::Floor, group_of({1e38f}, 32)), 127 + 126 - 2);
}

TEST(MxScale, AllZeroGroupHasUnitScaleAndZeroCodes) {
  std::vector<float> z(32, 0.f);
  for (ScaleRule r : {ScaleRule::Floor, ScaleRule::Round, ScaleRule::Ceil, ScaleRule::Mse})
    EXPECT_EQ(mx(r, z), 127);
  QuantOptions o;
  o.rule = ScaleRule::Mse;
  QuantizedTensor q = quantize_rtn(z.data(), 1, 32, Format::MXFP4, o);
  for (uint8_t b : q.packed) EXPECT_EQ(b, 0);
}

// NVFP4 absmax, tensor amax 6 -> G = 448*6/6 = 448.
//  group 0: amax 6 -> s = E4M3(6/6*448) = 448 (0x7E), m = 1: codes are the values.
//  group 1: amax 3 -> s = E4M3(224) = 1.75*2^7 (0x76), m = 0.5: 1.2/0.5 = 2.4 -> 2 -> 1.0.
//  group 2: amax 5 -> 5/6*448 = 373.33 = 1.458*2^8 -> mantissa 3.67 -> 4: 384 (0x7C),
//           m = 384/448; 5/m = 5.83 -> 6, dequantized 6*384/448.
TEST(NvScale, AbsmaxGoldenGroups) {
  std::vector<float> row(48, 0.f);
  row[0] = 6.f, row[1] = -1.5f;
  row[16] = 3.f, row[17] = 1.2f;
  row[32] = 5.f;
  QuantOptions o;
  o.rule = ScaleRule::Absmax;
  QuantizedTensor q = quantize_rtn(row.data(), 1, 48, Format::NVFP4, o);
  EXPECT_EQ(q.global_scale, 448.f);
  ASSERT_EQ(q.scales.size(), 3u);
  EXPECT_EQ(q.scales[0], 0x7E);
  EXPECT_EQ(q.scales[1], 0x76);
  EXPECT_EQ(q.scales[2], 0x7C);
  MatrixF d = dequantize(q);
  EXPECT_EQ(d.data[0], 6.f);
  EXPECT_EQ(d.data[1], -1.5f);
  EXPECT_EQ(d.data[16], 3.f);
  EXPECT_EQ(d.data[17], 1.f);
  EXPECT_FLOAT_EQ(d.data[32], 6.f * 384.f / 448.f);
  EXPECT_EQ(code_at(q, 0, 1), 8 | 3);
}

TEST(NvScale, GivenGlobalScaleIsUsedAndZeroTensorIsWellDefined) {
  EXPECT_EQ(nvfp4_global_scale(0.f), 1.f);
  EXPECT_FLOAT_EQ(nvfp4_global_scale(2.f), 448.f * 3.f);
  std::vector<float> z(16, 0.f);
  QuantOptions o;
  o.rule = ScaleRule::Absmax;
  QuantizedTensor q = quantize_rtn(z.data(), 1, 16, Format::NVFP4, o);
  EXPECT_EQ(q.scales[0], 0);
  for (float v : dequantize(q).data) EXPECT_EQ(v, 0.f);
  std::vector<float> x(16, 1.f);
  o.global_scale = 100.f;
  q = quantize_rtn(x.data(), 1, 16, Format::NVFP4, o);
  EXPECT_EQ(q.global_scale, 100.f);
  EXPECT_EQ(q.scales[0], e4m3_encode(1.f / 6.f * 100.f));
}

// The MSE rules search a superset of the other rules' candidates with the real
// casts, so their (weighted) error can never be larger.
TEST(MseScale, NeverWorseThanTheClosedFormRules) {
  std::mt19937 rng(3);
  std::student_t_distribution<float> t(3.f);
  std::uniform_real_distribution<float> w(0.1f, 10.f);
  auto err = [](Format f, uint8_t s, const std::vector<float>& x, const std::vector<float>& imp,
                float g) {
    double e = 0;
    const float m = scale_multiplier(f, s, g);
    for (size_t i = 0; i < x.size(); ++i) {
      const float q = m == 0.f ? 0.f : e2m1_round(x[i] / m) * m;
      e += imp[i] * double(x[i] - q) * double(x[i] - q);
    }
    return e;
  };
  int strictly_better = 0;
  for (int trial = 0; trial < 2000; ++trial) {
    std::vector<float> x(32), imp(32);
    for (auto& v : x) v = t(rng);
    for (auto& v : imp) v = w(rng);
    const uint8_t smse =
        choose_group_scale(Format::MXFP4, ScaleRule::Mse, x.data(), 32, 1.f, imp.data());
    double best_other = 1e300;
    for (ScaleRule r : {ScaleRule::Floor, ScaleRule::Round, ScaleRule::Ceil}) {
      const double e =
          err(Format::MXFP4, choose_group_scale(Format::MXFP4, r, x.data(), 32, 1.f), x, imp, 1.f);
      ASSERT_LE(err(Format::MXFP4, smse, x, imp, 1.f), e * (1 + 1e-12));
      best_other = std::min(best_other, e);
    }
    if (err(Format::MXFP4, smse, x, imp, 1.f) < best_other * (1 - 1e-9)) ++strictly_better;
    std::vector<float> x16(x.begin(), x.begin() + 16), i16(imp.begin(), imp.begin() + 16);
    const float g = 448.f * 6.f / 8.f;
    const uint8_t nmse =
        choose_group_scale(Format::NVFP4, ScaleRule::Mse, x16.data(), 16, g, i16.data());
    const uint8_t nabs = choose_group_scale(Format::NVFP4, ScaleRule::Absmax, x16.data(), 16, g);
    ASSERT_LE(err(Format::NVFP4, nmse, x16, i16, g),
              err(Format::NVFP4, nabs, x16, i16, g) * (1 + 1e-12));
  }
  EXPECT_GT(strictly_better, 0) << "the MSE search never found anything better: suspicious";
}

TEST(ScaleRules, NamesAndValidity) {
  EXPECT_EQ(parse_scale_rule("mse"), ScaleRule::Mse);
  EXPECT_EQ(parse_format("nvfp4"), Format::NVFP4);
  EXPECT_THROW(parse_format("fp8"), Error);
  EXPECT_THROW(parse_scale_rule("max"), Error);
  EXPECT_TRUE(rule_valid_for(Format::MXFP4, ScaleRule::Ceil));
  EXPECT_FALSE(rule_valid_for(Format::MXFP4, ScaleRule::Absmax));
  EXPECT_FALSE(rule_valid_for(Format::NVFP4, ScaleRule::Floor));
  EXPECT_EQ(format_info(Format::MXFP4).group, 32);
  EXPECT_EQ(format_info(Format::NVFP4).group, 16);
  EXPECT_STREQ(format_info(Format::NVFP4).ct_format, "nvfp4-pack-quantized");
}
