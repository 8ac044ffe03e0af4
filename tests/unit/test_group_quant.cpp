// Round-to-nearest group quantization: packing, padding, error bounds, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>

#include "mrgptq/error.hpp"
#include "mrgptq/formats.hpp"

using namespace mrgptq;

TEST(Packing, LowNibbleFirst) {
  const uint8_t codes[6] = {1, 2, 3, 4, 15, 0};
  uint8_t packed[3];
  pack_nibbles(codes, 6, packed);
  EXPECT_EQ(packed[0], 0x21);
  EXPECT_EQ(packed[1], 0x43);
  EXPECT_EQ(packed[2], 0x0F);
  uint8_t back[6];
  unpack_nibbles(packed, 6, back);
  for (int i = 0; i < 6; ++i) EXPECT_EQ(back[i], codes[i]);
}

TEST(Quantize, LayoutAndPaddingOfANonMultipleWidth) {
  std::mt19937 rng(4);
  std::normal_distribution<float> n(0.f, 1.f);
  const int64_t rows = 3, cols = 40;  // MXFP4 pads to 64, NVFP4 to 48
  std::vector<float> x(size_t(rows * cols));
  for (auto& v : x) v = n(rng);
  for (Format f : {Format::MXFP4, Format::NVFP4}) {
    QuantOptions o;
    o.rule = format_info(f).default_rule;
    QuantizedTensor q = quantize_rtn(x.data(), rows, cols, f, o);
    const int64_t padded = f == Format::MXFP4 ? 64 : 48;
    EXPECT_EQ(q.cols, cols);
    EXPECT_EQ(q.padded_cols, padded);
    EXPECT_EQ(q.packed.size(), size_t(rows * padded / 2));
    EXPECT_EQ(q.scales.size(), size_t(rows * padded / q.group()));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = cols; c < padded; ++c) EXPECT_EQ(code_at(q, r, c) & 7, 0);
    MatrixF d = dequantize(q);
    EXPECT_EQ(d.rows, rows);
    EXPECT_EQ(d.cols, cols);
    // Element-wise check against the definition: e2m1(x/m)*m.
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const float m = scale_multiplier(
            f, q.scales[size_t(r * q.groups_per_row() + c / q.group())], q.global_scale);
        EXPECT_EQ(d(r, c), e2m1_round(x[size_t(r * cols + c)] / m) * m);
      }
  }
  QuantOptions o;
  o.rule = ScaleRule::Round;
  o.pad_to = 128;
  EXPECT_EQ(quantize_rtn(x.data(), rows, cols, Format::MXFP4, o).padded_cols, 128);
}

TEST(Quantize, CeilRuleErrorWithinHalfTheLargestGridGap) {
  std::mt19937 rng(5);
  std::student_t_distribution<float> t(2.5f);
  const int64_t rows = 16, cols = 256;
  std::vector<float> x(size_t(rows * cols));
  for (auto& v : x) v = t(rng);
  QuantOptions o;
  o.rule = ScaleRule::Ceil;
  QuantizedTensor q = quantize_rtn(x.data(), rows, cols, Format::MXFP4, o);
  MatrixF d = dequantize(q);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float m = e8m0_decode(q.scales[size_t(r * q.groups_per_row() + c / 32)]);
      // never clips; the widest gap of the E2M1 grid is 2 (between 4 and 6)
      EXPECT_LE(std::fabs(d(r, c) - x[size_t(r * cols + c)]), 1.0f * m);
    }
}

// Per-group error bounds that follow from each rule (m = the group multiplier):
// unclipped elements are within half the widest grid gap (2 -> 1 * m); the
// group maximum clips by less than 2m under floor (amax/m < 8), less than m
// under round (significand >= 1.75 is rounded up, so amax/m < 7), never under
// ceil, and by less than 0.375m under NVFP4 absmax (E4M3 rounds amax/6*G by at
// most 1/16 relative for normal bytes, so amax/m <= 6.375).
TEST(Quantize, DequantizedErrorWithinThePerGroupBound) {
  std::mt19937 rng(6);
  std::student_t_distribution<float> t(2.f);
  const int64_t rows = 24, cols = 200;  // not a multiple of 32: padded groups too
  std::vector<float> x(size_t(rows * cols));
  for (auto& v : x) v = t(rng);
  struct Case {
    Format f;
    ScaleRule r;
    float bound;  // in units of m
  };
  for (Case k :
       {Case{Format::MXFP4, ScaleRule::Floor, 2.f}, Case{Format::MXFP4, ScaleRule::Round, 1.f},
        Case{Format::MXFP4, ScaleRule::Ceil, 1.f}, Case{Format::NVFP4, ScaleRule::Absmax, 1.f}}) {
    QuantOptions o;
    o.rule = k.r;
    QuantizedTensor q = quantize_rtn(x.data(), rows, cols, k.f, o);
    MatrixF d = dequantize(q);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t c = 0; c < cols; ++c) {
        const uint8_t s = q.scales[size_t(r * q.groups_per_row() + c / q.group())];
        if (k.f == Format::NVFP4) {
          ASSERT_GE(s, 8) << "subnormal scale: bound does not apply";
        }
        const float m = scale_multiplier(k.f, s, q.global_scale);
        ASSERT_LE(std::fabs(d(r, c) - x[size_t(r * cols + c)]), k.bound * m * (1 + 1e-6f))
            << to_string(k.f) << " " << to_string(k.r) << " at " << r << "," << c;
      }
  }
}

// Through quantize_rtn with per-column importance, mse's weighted error is at
// most that of the format's default rule, group by group, and in total.
TEST(Quantize, MseWithImportanceNeverWorseThanTheDefaultRule) {
  std::mt19937 rng(7);
  std::student_t_distribution<float> t(2.f);
  std::uniform_real_distribution<float> u(0.f, 5.f);
  const int64_t rows = 32, cols = 96;
  std::vector<float> x(size_t(rows * cols)), w(static_cast<size_t>(cols));
  for (auto& v : x) v = t(rng);
  for (auto& v : w) v = u(rng);
  for (Format f : {Format::MXFP4, Format::NVFP4}) {
    QuantOptions o;
    o.importance = w.data();
    o.rule = format_info(f).default_rule;
    MatrixF d0 = dequantize(quantize_rtn(x.data(), rows, cols, f, o));
    o.rule = ScaleRule::Mse;
    MatrixF d1 = dequantize(quantize_rtn(x.data(), rows, cols, f, o));
    const int group = format_info(f).group;
    double total0 = 0, total1 = 0;
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g0 = 0; g0 < cols; g0 += group) {
        double e0 = 0, e1 = 0;
        for (int64_t c = g0; c < g0 + group; ++c) {
          const double xv = x[size_t(r * cols + c)];
          e0 += w[size_t(c)] * (xv - d0(r, c)) * (xv - d0(r, c));
          e1 += w[size_t(c)] * (xv - d1(r, c)) * (xv - d1(r, c));
        }
        ASSERT_LE(e1, e0 * (1 + 1e-9) + 1e-30) << to_string(f) << " row " << r << " group " << g0;
        total0 += e0, total1 += e1;
      }
    EXPECT_LT(total1, total0) << to_string(f) << ": mse found nothing better on heavy tails";
  }
}

TEST(Quantize, BadInputsGiveClearErrors) {
  std::vector<float> x(64, 1.f);
  QuantOptions o;
  o.rule = ScaleRule::Floor;
  o.name = "blk.0.w";
  x[37] = std::nanf("");
  try {
    quantize_rtn(x.data(), 2, 32, Format::MXFP4, o);
    FAIL() << "NaN accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("blk.0.w"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("row 1, column 5"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("nan"), std::string::npos) << e.what();
  }
  auto message = [&](int64_t rows, int64_t cols, Format f) -> std::string {
    try {
      quantize_rtn(x.data(), rows, cols, f, o);
    } catch (const Error& e) {
      return e.what();
    }
    return "(no error)";
  };
  x[37] = 1.f;
  x[3] = -INFINITY;
  std::string m = message(2, 32, Format::MXFP4);
  EXPECT_NE(m.find("blk.0.w: non-finite value -inf at row 0, column 3"), std::string::npos) << m;
  x[3] = 1.f;
  m = message(0, 32, Format::MXFP4);
  EXPECT_NE(m.find("blk.0.w"), std::string::npos) << m;
  EXPECT_NE(m.find("empty"), std::string::npos) << m;
  m = message(2, 0, Format::NVFP4);
  EXPECT_NE(m.find("empty"), std::string::npos) << m;
  o.rule = ScaleRule::Absmax;
  m = message(2, 32, Format::MXFP4);
  EXPECT_NE(m.find("absmax is not valid for mxfp4"), std::string::npos) << m;
  o.rule = ScaleRule::Ceil;
  m = message(2, 32, Format::NVFP4);
  EXPECT_NE(m.find("ceil is not valid for nvfp4"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
  EXPECT_NO_THROW(check_finite(x.data(), 2, 32, "t"));
  x[63] = INFINITY;
  EXPECT_THROW(check_finite(x.data(), 2, 32, "t"), Error);
}
