// Round-to-nearest group quantization: packing, padding, error bounds, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

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
  }
  x[37] = INFINITY;
  EXPECT_THROW(quantize_rtn(x.data(), 2, 32, Format::MXFP4, o), Error);
  x[37] = 1.f;
  EXPECT_THROW(quantize_rtn(x.data(), 0, 32, Format::MXFP4, o), Error);
  o.rule = ScaleRule::Absmax;
  EXPECT_THROW(quantize_rtn(x.data(), 2, 32, Format::MXFP4, o), Error);
}
