// Hand-checked golden vectors for every scale rule, and the properties that
// define the MSE rules.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
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

// MXFP4 mse, hand-computed: {4, 0.75 x 31}, amax 4 = 1.0 * 2^2 so floor,
// round and ceil all give 2^0 (byte 127): 4 is exact, each 0.75 is a tie that
// goes to 1 (even index 2), error 31 * 0.0625 = 1.9375. Candidates:
//   2^-1: 4/0.5 = 8 clips to 6 -> 3 (error 1), 0.75/0.5 = 1.5 exact: total 1;
//   2^1:  4/2 = 2 exact, 0.375 -> 0.5 -> 1 (0.0625 each): 1.9375;
//   2^2:  1 exact, 0.1875 -> 0 (0.5625 each): 17.4375.
// So mse picks 2^-1 (byte 126), codes 6 -> 7 and 1.5 -> 3.
TEST(MxScale, MseGoldenPrefersClippingTheMaximum) {
  std::vector<float> g(32, 0.75f);
  g[0] = 4.f;
  for (ScaleRule r : {ScaleRule::Floor, ScaleRule::Round, ScaleRule::Ceil})
    EXPECT_EQ(mx(r, g), 127);
  EXPECT_EQ(mx(ScaleRule::Mse, g), 126);
  QuantOptions o;
  o.rule = ScaleRule::Mse;
  QuantizedTensor q = quantize_rtn(g.data(), 1, 32, Format::MXFP4, o);
  EXPECT_EQ(q.scales[0], 126);
  EXPECT_EQ(q.packed[0], 0x37);  // element 0 (code 7) low nibble, element 1 (code 3) high
  for (size_t j = 1; j < q.packed.size(); ++j) EXPECT_EQ(q.packed[j], 0x33);
  // Importance can flip the choice: weighting element 0 by 100 makes its
  // clipping error (100 * 1) dominate, and 2^0 (error 1.9375) wins over 2^1
  // (same 1.9375, but a tie keeps the smaller exponent).
  std::vector<float> w(32, 1.f);
  w[0] = 100.f;
  EXPECT_EQ(choose_group_scale(Format::MXFP4, ScaleRule::Mse, g.data(), 32, 1.f, w.data()), 127);
}

// MXFP4 mse tie-break, hand-computed: {7.5}: 2^0 clips to 6 (2.25), 2^1 gives
// 3.75 -> 4 -> 8 (0.25), 2^2 gives 1.875 -> 2 -> 8 (0.25), 2^-1 clips to 3.
// 2^1 and 2^2 tie; the smaller exponent wins: byte 128.
TEST(MxScale, MseTieKeepsTheSmallerExponent) {
  EXPECT_EQ(mx(ScaleRule::Mse, group_of({7.5f}, 32)), 128);
}

// NVFP4 mse, hand-computed with G = 1: {6, 1.1 x 15}, importance 0.001 on the 6.
// absmax: E4M3(6/6) = 1.0 = byte 0x38; m = 1: 1.1 -> 1, error 15 * 0.01 = 0.15.
// 0x39 (1.125): 6/1.125 = 5.33 -> 6 -> 6.75 (0.001 * 0.5625), 1.1/1.125 = 0.978
//   -> 1 -> 1.125 (15 * 0.000625): total 0.0099375.
// 0x31 (0.5625): 1.1 -> 1.956 -> 2 -> 1.125 (0.009375), 6 -> 10.7 clips -> 3.375
//   (0.001 * 6.890625): 0.0163.
// 0x34 (0.75): 1.1 -> 1.47 -> 1.5 -> 1.125 (0.009375), 6 -> 8 clips -> 4.5
//   (0.001 * 2.25): 0.011625, the runner-up. The rest of the window 0x30..0x3A:
//   0x30 0.159, 0x32 0.343, 0x33 0.074, 0x35 0.213, 0x36 0.678, 0x37 0.396,
//   0x3A 0.339 (checked with a few lines of Python).
TEST(NvScale, MseGoldenGroup) {
  std::vector<float> x(16, 1.1f), w(16, 1.f);
  x[0] = 6.f;
  w[0] = 0.001f;
  EXPECT_EQ(choose_group_scale(Format::NVFP4, ScaleRule::Absmax, x.data(), 16, 1.f), 0x38);
  EXPECT_EQ(choose_group_scale(Format::NVFP4, ScaleRule::Mse, x.data(), 16, 1.f, w.data()), 0x39);
  // Through quantize_rtn with the importance per column and a given G = 1.
  QuantOptions o;
  o.rule = ScaleRule::Mse;
  o.global_scale = 1.f;
  o.importance = w.data();
  QuantizedTensor q = quantize_rtn(x.data(), 1, 16, Format::NVFP4, o);
  EXPECT_EQ(q.scales[0], 0x39);
  EXPECT_EQ(q.packed[0], 0x27);  // 6 -> code 7 (low), 1.1 -> code 2 (high)
  EXPECT_EQ(q.packed[7], 0x22);
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
  try {
    parse_scale_rule("max");
    FAIL() << "unknown rule accepted";
  } catch (const Error& e) {
    const std::string m = e.what();
    for (const char* name : {"max", "floor", "round", "ceil", "absmax", "mse"})
      EXPECT_NE(m.find(name), std::string::npos) << m;
    EXPECT_EQ(m.find('\n'), std::string::npos);
  }
  for (ScaleRule r :
       {ScaleRule::Floor, ScaleRule::Round, ScaleRule::Ceil, ScaleRule::Absmax, ScaleRule::Mse})
    EXPECT_EQ(parse_scale_rule(to_string(r)), r);
  for (Format f : {Format::MXFP4, Format::NVFP4}) {
    EXPECT_EQ(parse_format(to_string(f)), f);
    EXPECT_TRUE(rule_valid_for(f, format_info(f).default_rule));
    EXPECT_TRUE(rule_valid_for(f, ScaleRule::Mse));
  }
  EXPECT_EQ(format_info(Format::MXFP4).default_rule, ScaleRule::Round);
  EXPECT_EQ(format_info(Format::NVFP4).default_rule, ScaleRule::Absmax);
  EXPECT_FALSE(format_info(Format::MXFP4).has_global_scale);
  EXPECT_TRUE(format_info(Format::NVFP4).has_global_scale);
  EXPECT_EQ(format_info(Format::MXFP4).scale_type, ScaleType::E8M0);
  EXPECT_EQ(format_info(Format::NVFP4).scale_type, ScaleType::E4M3);
  EXPECT_STREQ(format_info(Format::MXFP4).ct_format, "mxfp4-pack-quantized");
  EXPECT_TRUE(rule_valid_for(Format::MXFP4, ScaleRule::Ceil));
  EXPECT_FALSE(rule_valid_for(Format::MXFP4, ScaleRule::Absmax));
  EXPECT_FALSE(rule_valid_for(Format::NVFP4, ScaleRule::Floor));
  EXPECT_EQ(format_info(Format::MXFP4).group, 32);
  EXPECT_EQ(format_info(Format::NVFP4).group, 16);
  EXPECT_STREQ(format_info(Format::NVFP4).ct_format, "nvfp4-pack-quantized");
}
