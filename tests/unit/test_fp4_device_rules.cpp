// The fused activation quantizer's cheap rule forms (src/kernels/fp4_rules.hpp)
// against the reference rules of src/formats/, on the CPU: every float whose
// low 8 significand bits are zero, plus +-8 ulps around every decision
// threshold, grid point and internal clamp point, in every binade the kernel
// can meet; and the kernel's byte logic (code words, FP8 bytes) through the
// host emulation of the byte-permute instruction. (A one-off run checked the
// E2M1 form on all 2^32 patterns, the MXFP4 scale on all finite amax, amax / 6
// on every float >= 2^-125 and the NVFP4 quotient on every significand of m.)
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "mrgptq/formats.hpp"

#include "../../src/kernels/fp4_rules.hpp"

using namespace mrgptq;

namespace {

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint32_t to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

// Decision thresholds and grid points of E2M1, and the clamp points of
// e2m1_index_bits (2 and 4).
const float kPoints[] = {0.f, 0.25f, 0.5f, 0.75f, 1.f, 1.25f, 1.5f, 1.75f,
                         2.f, 2.5f,  3.f,  3.5f,  4.f, 5.f,   6.f,  8.f};
const float kThresholds[] = {0.25f, 0.75f, 1.25f, 1.75f, 2.5f, 3.5f, 5.f};

// x >= 0 and its k-th neighbours, |k| <= r, staying finite and >= 0.
std::vector<float> around(float x, int r) {
  std::vector<float> out{x};
  float lo = x, hi = x;
  for (int k = 0; k < r; ++k) {
    if (lo > 0.f) out.push_back(lo = std::nextafter(lo, 0.f));
    hi = std::nextafter(hi, std::numeric_limits<float>::infinity());
    if (std::isfinite(hi)) out.push_back(hi);
  }
  return out;
}

}  // namespace

TEST(Fp4DeviceE2M1, EqualsTheThresholdEncoderOnASweepOfAllFloats) {
  size_t bad = 0;
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 256) {
    const float y = from_bits(uint32_t(u));
    bad += rules::e2m1_code(y) != e2m1_encode(y);
  }
  EXPECT_EQ(bad, 0u);
}

TEST(Fp4DeviceE2M1, EqualsTheThresholdEncoderNextToEveryDecisionPoint) {
  size_t bad = 0, n = 0;
  for (float p : kPoints)
    for (float a : around(p, 8))
      for (float y : {a, -a}) {
        ++n;
        bad += rules::e2m1_code(y) != e2m1_encode(y);
      }
  const float specials[] = {std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(),
                            -std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::denorm_min(),
                            std::numeric_limits<float>::max(),
                            -0.f};
  for (float y : specials) bad += rules::e2m1_code(y) != e2m1_encode(y);
  EXPECT_EQ(bad, 0u) << "of " << n;
}

// The kernel's MXFP4 form: the index of x / 2^e straight from |x| with
// h = 2^(-e-1) and five = 5 * 2^e, for every scale exponent, against
// e2m1_encode(x / m) with the CPU's m (also where x / m underflows). x is
// finite: an infinite x only meets e = -2 (amax = inf, MxScaleRule below).
TEST(Fp4DeviceE2M1, ScaledFormEqualsDivisionByEveryMxScale) {
  size_t bad = 0, n = 0;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uni(0.f, 8.f);
  for (int s = 0; s <= 254; ++s) {
    const int e = s - 127;
    const float m = scale_multiplier(Format::MXFP4, uint8_t(s), 1.f);
    const float h = rules::pow2(-e - 1), five = 5.f * rules::pow2(e);
    ASSERT_EQ(m, std::ldexp(1.f, e));
    ASSERT_EQ(h, std::ldexp(1.f, -e - 1));
    auto check = [&](float x) {
      if (!std::isfinite(x)) return;
      ++n;
      const uint32_t idx = to_bits(rules::e2m1_index_bits(std::fabs(x), h, five)) & 7u;
      bad += idx != (e2m1_encode(x / m) & 7u);
    };
    for (float p : kPoints) {
      const float x = std::ldexp(p, e);
      if (!std::isfinite(x) || x == 0.f) continue;
      for (float v : around(x, 8)) check(v), check(-v);
    }
    for (int k = 0; k < 256; ++k) check(std::ldexp(uni(rng), e));
    for (int k = -24; k < 4; ++k) check(std::ldexp(1.3f, e + k));  // down to underflow
  }
  EXPECT_EQ(bad, 0u) << "of " << n;
}

// The bit form of the decode (the BF16 expansions and the quantizer's dequantized output):
// every code, -0 included, bit for bit the reference decode. (Whatever the kernels then
// multiply it by gives the reference's product, since the factor is the same float.)
TEST(Fp4DeviceE2M1, BitDecodeEqualsTheReferenceDecode) {
  for (uint32_t c = 0; c < 16; ++c)
    EXPECT_EQ(rules::float_bits(rules::e2m1_tiny(c) * 0x1p126f),
              rules::float_bits(e2m1_decode(uint8_t(c))))
        << c;
}

// MXFP4 "round" scale byte from the bits of amax against the CPU rule.
TEST(Fp4DeviceMxScale, EqualsTheCpuRoundRule) {
  auto ref = [](float amax) {
    return choose_group_scale(Format::MXFP4, ScaleRule::Round, &amax, 1, 1.f);
  };
  size_t bad = 0;
  for (uint32_t u = 0; u < 0x7F800000u; u += 256)
    bad += rules::mx_round_scale_bits(from_bits(u)) != ref(from_bits(u));
  for (int e = -149; e <= 127; ++e)
    for (float p : {1.f, 1.75f, 2.f}) {
      const float x = std::ldexp(p, e);
      if (!std::isfinite(x) || x == 0.f) continue;
      for (float v : around(x, 8)) bad += rules::mx_round_scale_bits(v) != ref(v);
    }
  for (uint32_t u = 1; u < 64; ++u)  // subnormals
    bad += rules::mx_round_scale_bits(from_bits(u)) != ref(from_bits(u));
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(rules::mx_round_scale_bits(0.f), 127u);
  EXPECT_EQ(rules::mx_round_scale_bits(std::numeric_limits<float>::max()), 253u);
  // +inf: 125, the value of the frexpf form the kernel used before.
  EXPECT_EQ(rules::mx_round_scale_bits(std::numeric_limits<float>::infinity()), 125u);
}

namespace {

// Counts x within the entry's range (|x| <= lim) where the fast quotient's
// code differs from that of x / m, or its bits do where |x| and |x / m| are
// >= 2^-100 (below, the residual may underflow and a tiny quotient be off by
// an ulp: its code is +-0 either way; every x with |x / m| >= 1/8 is above,
// as m >= 2^-90 in range); x runs over +-r ulps of every threshold and grid
// point times m, both signs, and n random values in [0, 8m).
struct NvCheck {
  size_t tried = 0, used = 0, bad_bits = 0, bad_code = 0;
  void run(float m, int r, int n, std::mt19937& rng) {
    const rules::NvEntry e = rules::nv_entry(m);
    std::uniform_real_distribution<float> uni(0.f, 8.f);
    auto one = [&](float x) {
      ++tried;
      if (rules::nv_needs_cap(e, std::fabs(x))) return;
      ++used;
      const float q = rules::nv_quotient(x, m, e.y), ref = x / m;
      bad_bits +=
          std::fabs(x) >= 0x1p-100f && std::fabs(ref) >= 0x1p-100f && to_bits(q) != to_bits(ref);
      bad_code += rules::e2m1_code(q) != e2m1_encode(ref);
    };
    for (float p : kPoints) {
      const float x = p * m;
      if (!std::isfinite(x)) continue;
      for (float v : around(x, r)) one(v), one(-v);
    }
    for (int k = 0; k < n; ++k) one(uni(rng) * m);
  }
};

// The kernel's NVFP4 code of x in a group with multiplier m and largest |x|
// amax (act_quant.cu, quantize_vec), from the entry of m.
uint32_t kernel_nv_code(float x, float m, float amax) {
  const rules::NvEntry e = rules::nv_entry(m);
  float mm = m;
  if (rules::nv_needs_cap(e, amax)) mm = m * e.k, x = rules::nv_capped(x, e);
  return m == 0.f ? 0u : rules::e2m1_code(rules::nv_quotient(x, mm, e.y));
}

}  // namespace

// Every E4M3 scale under global scales from the tests, the benchmark (448),
// compressed-tensors' 448 * 6 / amax over a wide range of amax, and random
// ones: the fast quotient is the IEEE quotient, bit for bit.
TEST(Fp4DeviceNvQuotient, EqualsIeeeDivisionForEveryE4M3Scale) {
  std::vector<float> gs = {1.f, 448.f, nvfp4_global_scale(40.f)};
  for (float amax : {1e-30f, 1e-6f, 0.01f, 0.37f, 1.f, 3.7f, 1000.f, 1e20f, 3e38f})
    gs.push_back(nvfp4_global_scale(amax));
  std::mt19937 rng(11);
  std::uniform_real_distribution<float> ex(-60.f, 60.f);
  for (int k = 0; k < 16; ++k) gs.push_back(std::exp2(ex(rng)));
  NvCheck c;
  for (float g : gs)
    for (int s = 1; s <= 0x7E; ++s)
      c.run(scale_multiplier(Format::NVFP4, uint8_t(s), g), 16, 64, rng);
  EXPECT_EQ(c.bad_bits, 0u) << "of " << c.used;
  EXPECT_EQ(c.bad_code, 0u) << "of " << c.used;
  EXPECT_GT(c.used, c.tried / 2);
}

// The quotient's rounding depends only on the significands of x and m while
// nothing leaves the normal range: a stride through all 2^23 significands of
// m, with x next to every decision point.
TEST(Fp4DeviceNvQuotient, EqualsIeeeDivisionAcrossSignificandsOfM) {
  std::mt19937 rng(13);
  NvCheck c;
  for (uint32_t k = 0; k < (1u << 23); k += 61) c.run(from_bits(0x3F800000u | k), 12, 0, rng);
  EXPECT_EQ(c.bad_bits, 0u) << "of " << c.used;
  EXPECT_EQ(c.bad_code, 0u) << "of " << c.used;
  EXPECT_EQ(c.used, c.tried);
}

// Out of range (multipliers below 2^-90 or above 2^90, down to subnormal and
// zero; groups whose amax exceeds 2^89 m): the kernel's rescaled and capped
// path gives the CPU's code, e2m1_encode(x / m) (0 for m = 0).
TEST(Fp4DeviceNvQuotient, RescaledGroupsKeepTheirCodes) {
  std::mt19937 rng(17);
  std::uniform_real_distribution<float> ex(-149.f, 127.f), uni(0.f, 8.f);
  std::vector<float> ms = {0.f,      1e-45f,  3e-39f,  0x1p-127f, 0x1p-91f,
                           0x1p-90f, 0x1p90f, 0x1p91f, 1e30f,     3e38f};
  for (int k = 0; k < 64; ++k) ms.push_back(std::exp2(ex(rng)));
  size_t bad = 0, n = 0;
  for (float m : ms) {
    auto one = [&](float x, float amax) {
      ++n;
      bad += kernel_nv_code(x, m, amax) != (m == 0.f ? 0u : e2m1_encode(x / m));
    };
    const float huge = std::numeric_limits<float>::max();
    for (float p : kPoints)
      for (float v : around(p * m, 4))
        if (std::isfinite(v)) one(v, v), one(-v, huge);
    for (int k = 0; k < 256; ++k) {
      const float x = std::exp2(ex(rng)) * (k & 1 ? -1.f : 1.f);
      one(x, std::fabs(x)), one(uni(rng) * m, huge);
    }
    one(-0.f, 0.f), one(0.f, huge);
    one(std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity());
  }
  EXPECT_EQ(bad, 0u) << "of " << n;
}

TEST(Fp4DeviceNvQuotient, SignsZerosAndEntries) {
  const float m = 0.37f, y = 1.f / m;
  EXPECT_EQ(to_bits(rules::nv_quotient(-0.f, m, y)), 0x80000000u);
  EXPECT_EQ(to_bits(rules::nv_quotient(0.f, m, y)), 0u);
  EXPECT_EQ(to_bits(rules::nv_quotient(-1e-45f, m, y)), to_bits(-1e-45f / m));
  EXPECT_FALSE(rules::nv_needs_cap(rules::nv_entry(0.f), 1e38f));
  EXPECT_TRUE(rules::nv_needs_cap(rules::nv_entry(0x1p-100f), 0.f));
  EXPECT_TRUE(rules::nv_needs_cap(rules::nv_entry(1.f), 1e30f));
  EXPECT_FALSE(rules::nv_needs_cap(rules::nv_entry(0x1p-9f / 448.f), 1e-3f));
}

// amax / 6 of the NVFP4 scale: the fast form on a sweep of all floats from
// 2^-125 up, the integer form on every float below.
TEST(Fp4DeviceDiv6, EqualsIeeeDivision) {
  size_t bad = 0;
  for (uint32_t u = 0; u < 0x7F800000u; u += (u < 0x01000000u ? 1u : 256u)) {
    const float a = from_bits(u);
    const float q = rules::div6_rare(a) ? rules::div6_rare_value(a) : rules::div6_common(a);
    bad += to_bits(q) != to_bits(a / 6.f);
  }
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_TRUE(rules::div6_rare(inf));
  EXPECT_EQ(rules::div6_rare_value(inf), inf);
  EXPECT_FALSE(rules::div6_rare(0.f));
  EXPECT_EQ(bad, 0u);
}

TEST(Fp4DeviceDivSmall, EqualsIntegerDivision) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<uint32_t> any;
  size_t bad = 0;
  for (uint32_t K : {2u, 3u, 128u, 384u, 1000u, 4096u, 5120u, 11008u, 14336u, 28672u, 65535u,
                     1u << 20, 123456789u, 1u << 31, 0xFFFFFFFFu}) {
    const uint64_t M = rules::div_small_inverse(K);
    auto one = [&](uint32_t n) { bad += rules::div_small(n, M) != n / K; };
    for (uint32_t n : {0u, 1u, K - 1, K, K + 1, 0xFFFFFFFFu, 0xFFFFFFFFu - K}) one(n);
    for (int i = 0; i < 20000; ++i) {
      const uint32_t n = any(rng);
      one(n);
      const uint32_t q = n / K;
      one(q * K), one(q * K + (K - 1) < q * K ? 0xFFFFFFFFu : q * K + (K - 1));
    }
  }
  EXPECT_EQ(bad, 0u);
}

// The kernel's word of 8 codes from indices and sign sources (byte permutes).
TEST(Fp4DevicePack, CodesWordEqualsTheNibblesOfTheEncoder) {
  std::mt19937 rng(19);
  std::normal_distribution<float> nd(0.f, 3.f);
  size_t bad = 0;
  for (int k = 0; k < 100000; ++k) {
    float v[8], idx[8];
    uint32_t want = 0;
    for (int i = 0; i < 8; ++i) {
      v[i] = (k + i) % 7 == 3 ? -0.f : nd(rng);
      idx[i] = rules::e2m1_index_bits(std::fabs(v[i]), 0.5f, 5.f);
      want |= uint32_t(e2m1_encode(v[i])) << (4 * i);
    }
    bad += rules::pack_codes(idx, v) != want;
  }
  EXPECT_EQ(bad, 0u);
}

// The FP8 path's bytes e4m3(decode(c) * 2^d) from a lane's table, for every
// combination of 4 codes and every exponent the kernel can give a nonzero
// code (d <= 6; below -8 the results round in E4M3's subnormals), and beyond.
TEST(Fp4DevicePack, Fp8BytesEqualTheConversionOfEveryCode) {
  size_t bad = 0;
  for (int d = -24; d <= 12; ++d) {
    const float f = std::ldexp(1.f, d);
    uint32_t lo = 0x80808080u, hi = 0x80808080u;
    for (int i = 0; i < 4; ++i) {
      lo |= uint32_t(e4m3_encode(kE2M1Grid[i] * f)) << (8 * i);
      hi |= uint32_t(e4m3_encode(kE2M1Grid[4 + i] * f)) << (8 * i);
    }
    for (uint32_t w = 0; w < 0x10000u; ++w) {
      const uint32_t o = rules::fp8_bytes(w, lo, hi);
      for (int i = 0; i < 4; ++i)
        bad += ((o >> (8 * i)) & 0xFFu) != e4m3_encode(e2m1_decode(uint8_t(w >> (4 * i))) * f);
    }
  }
  EXPECT_EQ(bad, 0u);
}

// Without rotation the kernel encodes raw BF16 values; a NaN loses its sign
// bit in the code (the reference arithmetic returns +NaN, code 0).
TEST(Fp4DevicePack, NanInputsEncodeAsCodeZero) {
  const uint16_t vals[8] = {0xFFC1, 0x7FC0, 0xBF80, 0x8000, 0xFF80, 0x7F81, 0x4040, 0xFFFF};
  float v[8], idx[8];
  for (int i = 0; i < 8; ++i) {
    v[i] = from_bits(uint32_t(vals[i]) << 16);
    idx[i] = rules::e2m1_index_bits(std::fabs(v[i]), 0.5f, 5.f);
  }
  uint32_t w[4], want = 0;
  for (int j = 0; j < 4; ++j) w[j] = uint32_t(vals[2 * j]) | uint32_t(vals[2 * j + 1]) << 16;
  for (int i = 0; i < 8; ++i) want |= uint32_t(std::isnan(v[i]) ? 0 : e2m1_encode(v[i])) << (4 * i);
  EXPECT_EQ(rules::pack_codes(idx, v) & ~rules::bf16_nan_sign_bits(w[0], w[1], w[2], w[3]), want);
}

// Rotation blocks 16 and 64 end with a multiply by r = 1/4, 1/8, which the
// kernel folds into the quantizer (rules::mx_fold_rare, rules::nv_fold): its
// codes and scales of the unscaled group x equal the CPU's of fl(x r), on
// groups whose largest value runs through every binade, with the other values
// next to every decision point of that group's scale, random, tiny or zero.
namespace {

QuantizedTensor ref_group(const std::vector<float>& x, float r, Format f, float g) {
  std::vector<float> xr(x.size());
  for (size_t i = 0; i < x.size(); ++i) xr[i] = x[i] * r;
  QuantOptions o;
  o.rule = format_info(f).default_rule;
  o.global_scale = g;
  return quantize_rtn(xr.data(), 1, int64_t(xr.size()), f, o);
}

float amax_of(const std::vector<float>& x) {
  float a = 0.f;
  for (float v : x) a = std::fmax(a, std::fabs(v));
  return a;
}

// act_quant.cu's MXFP4 path for a folded group: scale byte and codes.
uint32_t kernel_mx_folded(const std::vector<float>& x, float r, std::vector<uint8_t>& codes) {
  const float amax = amax_of(x);
  const bool rare = rules::mx_fold_rare(amax);
  const float hr = rare ? 1.f : r, c5 = rare ? 5.f : 5.f / r;
  const uint32_t s = rules::mx_round_scale_bits(rules::mul_rn(amax, r));
  const int e = int(s) - 127;
  const float h = rules::mul_rn(rules::pow2(-e - 1), hr), five = rules::mul_rn(c5, rules::pow2(e));
  codes.clear();
  for (float v : x) {
    const float xv = rare ? rules::mul_rn(v, r) : v;
    const uint32_t idx = to_bits(rules::e2m1_index_bits(std::fabs(xv), h, five)) & 7u;
    codes.push_back(uint8_t((std::signbit(xv) ? 8u : 0u) | idx));
  }
  return s;
}

// act_quant.cu's NVFP4 codes for a folded group with scale byte s.
void kernel_nv_folded(const std::vector<float>& x, float r, float g, uint8_t s,
                      std::vector<uint8_t>& codes) {
  const float m = scale_multiplier(Format::NVFP4, s, g);
  const rules::NvEntry e = rules::nv_entry(m);
  const float amax = rules::mul_rn(amax_of(x), r);
  const bool cap = rules::nv_needs_cap(e, amax);
  float mm = m, y = e.y;
  if (cap)
    mm = m * e.k;
  else
    rules::nv_fold(mm, y, r);
  codes.clear();
  for (float v : x) {
    const float xv = cap ? rules::nv_capped(rules::mul_rn(v, r), e) : v;
    codes.push_back(m == 0.f ? 0 : uint8_t(rules::e2m1_code(rules::nv_quotient(xv, mm, y))));
  }
}

// Groups of n: the first value +-A, A = (1 + random) 2^E for every E (and 0),
// the others next to p * unit / r for every decision point p (unit = the
// group's scale multiplier), at most A in magnitude, then random ones in
// [-A, A], tiny ones and zeros.
template <class Unit, class Check>
void folded_groups(int n, float r, std::mt19937& rng, Unit unit, Check check) {
  std::uniform_real_distribution<float> uni(0.f, 1.f);
  std::uniform_int_distribution<uint32_t> tiny(0, 0x00FFFFFFu);
  for (int E = -150; E <= 127; ++E)
    for (int rep = 0; rep < 4; ++rep) {
      const float A = E < -149 ? 0.f : std::ldexp(1.f + uni(rng), E) * (rep & 1 ? -1.f : 1.f);
      if (!std::isfinite(A)) continue;
      std::vector<float> cand;
      const float u = unit(std::fabs(A));
      for (float p : kPoints)
        for (float v : around(p * u / r, 3))
          if (std::isfinite(v) && v <= std::fabs(A)) cand.push_back(v);
      std::vector<float> x{A};
      size_t c = rep;
      while (x.size() < size_t(n)) {
        const int kind = int(x.size() % 4);
        float v = kind == 0                    ? from_bits(tiny(rng))
                  : kind == 1                  ? uni(rng) * std::fabs(A)
                  : kind == 2 && !cand.empty() ? cand[c++ % cand.size()]
                                               : 0.f;
        x.push_back(x.size() % 3 == 1 ? -v : v);
      }
      check(x);
    }
}

}  // namespace

TEST(Fp4DeviceFold, MxfpCodesOfTheUnscaledGroupEqualTheCpusOfTheScaledOne) {
  std::mt19937 rng(23);
  size_t bad = 0, n = 0, rare = 0;
  for (float r : {0.25f, 0.125f}) {
    auto unit = [&](float a) {  // 2^e of the group's scale
      return rules::pow2(int(rules::mx_round_scale_bits(a * r)) - 127);
    };
    folded_groups(32, r, rng, unit, [&](const std::vector<float>& x) {
      const QuantizedTensor ref = ref_group(x, r, Format::MXFP4, 1.f);
      std::vector<uint8_t> codes;
      const uint32_t s = kernel_mx_folded(x, r, codes);
      ++n, rare += rules::mx_fold_rare(amax_of(x));
      bool ok = s == ref.scales[0];
      for (int i = 0; i < 32; ++i) ok &= codes[size_t(i)] == code_at(ref, 0, i);
      bad += !ok;
    });
  }
  EXPECT_EQ(bad, 0u) << "of " << n << " groups";
  EXPECT_GT(rare, 0u);
}

TEST(Fp4DeviceFold, NvfpCodesOfTheUnscaledGroupEqualTheCpusOfTheScaledOne) {
  std::mt19937 rng(29);
  size_t bad = 0, n = 0;
  for (float g : {1.f, 448.f, nvfp4_global_scale(40.f), nvfp4_global_scale(1e-30f),
                  nvfp4_global_scale(3e38f), 0x1p-60f})
    for (float r : {0.25f, 0.125f}) {
      auto scale_of = [&](float a) {  // the CPU's scale byte of a group of amax a r
        return ref_group({a}, r, Format::NVFP4, g).scales[0];
      };
      auto unit = [&](float a) { return scale_multiplier(Format::NVFP4, scale_of(a), g); };
      folded_groups(16, r, rng, unit, [&](const std::vector<float>& x) {
        const QuantizedTensor ref = ref_group(x, r, Format::NVFP4, g);
        std::vector<uint8_t> codes;
        kernel_nv_folded(x, r, g, ref.scales[0], codes);
        ++n;
        bool ok = true;
        for (int i = 0; i < 16; ++i) ok &= codes[size_t(i)] == code_at(ref, 0, i);
        bad += !ok;
      });
    }
  EXPECT_EQ(bad, 0u) << "of " << n << " groups";
}
