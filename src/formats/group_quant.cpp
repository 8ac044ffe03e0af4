// Scale rules, round-to-nearest group quantization, dequantization and the
// packed layout (see the conventions at the top of include/mrgptq/formats.hpp).
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "mrgptq/error.hpp"
#include "mrgptq/formats.hpp"

namespace mrgptq {

float scale_multiplier(Format f, uint8_t s, float global_scale) {
  return f == Format::MXFP4 ? e8m0_decode(s) : e4m3_decode(s) / global_scale;
}

float nvfp4_global_scale(float amax) {
  if (!(amax > 0.f)) return 1.f;
  const float g = kE4M3Max * kE2M1Max / amax;
  return std::isfinite(g) ? g : std::numeric_limits<float>::max();
}

namespace {

// |e2m1_round(a)| for a >= 0 written as the sum of the grid steps passed
// (each sum is exact in float, so it equals the table lookup bit for bit),
// with the same thresholds as e2m1_encode; unlike the lookup it vectorises.
inline float e2m1_round_magnitude(float a) {
  return 0.5f * float(a > 0.25f) + 0.5f * float(a >= 0.75f) + 0.5f * float(a > 1.25f) +
         0.5f * float(a >= 1.75f) + float(a > 2.5f) + float(a >= 3.5f) + 2.f * float(a > 5.f);
}

// Importance-weighted squared error of one group under multiplier m:
// sum_i w_i (x_i - e2m1_round(x_i / m) * m)^2, differences and sum in double,
// summed in element order. The dequantized values are computed first in a
// vectorisable pass, 32 at a time; the (sequential) double sum follows.
double group_error(const float* x, int n, float m, const float* w) {
  double err = 0;
  for (int i0 = 0; i0 < n; i0 += 32) {
    const int len = std::min(32, n - i0);
    float q[32];
    for (int i = 0; i < len; ++i) {
      const float v = x[i0 + i] / m;
      q[i] = m == 0.f ? 0.f : std::copysign(e2m1_round_magnitude(std::fabs(v)), v) * m;
    }
    for (int i = 0; i < len; ++i) {
      const double d = double(x[i0 + i]) - double(q[i]);
      err += (w ? double(w[i0 + i]) : 1.0) * d * d;
    }
  }
  return err;
}

// floor(log2 a) and a's significand in [1, 2), exactly, for finite a > 0.
int floor_log2(float a, float* significand) {
  int e;
  const float f = std::frexp(a, &e);  // a = f * 2^e, f in [0.5, 1)
  if (significand) *significand = 2.f * f;
  return e - 1;
}

uint8_t mx_scale(ScaleRule rule, const float* x, int n, float amax, const float* w) {
  if (amax == 0.f) return 127;  // all zeros: scale 1, every code 0
  float sig;
  // OCP MX: the largest power of two not above amax, over the largest power of
  // two of E2M1 (4 = 2^2); amax / scale then lies in [4, 8) and may clip to 6.
  const int e_floor = floor_log2(amax, &sig) - 2;
  switch (rule) {
    case ScaleRule::Floor:
      return e8m0_from_exponent(e_floor);
    // compressed-tensors / vLLM: a significand >= 1.75 would round to 8, past
    // 6, so such amax values are first rounded up to the next power of two.
    case ScaleRule::Round:
      return e8m0_from_exponent(e_floor + (sig >= 1.75f ? 1 : 0));
    // Smallest power of two with amax <= 6 * scale: never clips.
    case ScaleRule::Ceil:
      return e8m0_from_exponent(amax <= std::ldexp(6.f, e_floor) ? e_floor : e_floor + 1);
    case ScaleRule::Mse: {
      // Search the exponents e_floor-1 .. e_floor+2 (each clamped to E8M0's
      // [-127, 127]) in increasing order with the real casts (m = 2^e, codes
      // e2m1_encode(x / m)), minimising sum_i w_i (x_i - e2m1_round(x_i / m) * m)^2
      // in double (w_i = 1 without importance). The floor, round and ceil
      // exponents are all in this set, so mse is never worse than any of them.
      // On equal error the smaller exponent (first tried) wins.
      uint8_t best = e8m0_from_exponent(e_floor);
      double best_err = std::numeric_limits<double>::infinity();
      for (int e = e_floor - 1; e <= e_floor + 2; ++e) {
        const uint8_t b = e8m0_from_exponent(e);
        const double err = group_error(x, n, e8m0_decode(b), w);
        if (err < best_err) best_err = err, best = b;
      }
      return best;
    }
    default:
      break;
  }
  throw Error(std::string("scale rule ") + to_string(rule) + " is not valid for mxfp4");
}

uint8_t nv_scale(ScaleRule rule, const float* x, int n, float amax, float g, const float* w) {
  // absmax (compressed-tensors): the group maximum maps to E2M1's 6 in the
  // scaled domain, s = E4M3(amax / 6 * G), computed in this order in float32.
  const uint8_t s0 = e4m3_encode(amax / kE2M1Max * g);
  if (rule == ScaleRule::Absmax || amax == 0.f) return s0;
  if (rule != ScaleRule::Mse)
    throw Error(std::string("scale rule ") + to_string(rule) + " is not valid for nvfp4");
  // MSE: every positive E4M3 byte b with s0 - 8 <= b <= s0 + 2 (clamped to
  // [0x00, 0x7E]), tried in increasing order with the real casts
  // (m = e4m3_decode(b) / G, codes e2m1_encode(x / m), m == 0 -> codes 0),
  // minimising sum_i w_i (x_i - e2m1_round(x_i / m) * m)^2 in double. For normal
  // bytes 8 codes down is exactly half the value, 2 codes up is 1.125x..1.25x:
  // smaller scales trade clipping of the group maximum for resolution below it,
  // larger ones only help when amax / 6 * G rounded down. s0 itself is in the
  // window, so the result is never worse than absmax. Ties keep the smaller byte.
  uint8_t best = s0;
  double best_err = std::numeric_limits<double>::infinity();
  const int lo = std::max(0, int(s0) - 8), hi = std::min(0x7E, int(s0) + 2);
  for (int b = lo; b <= hi; ++b) {
    const double err = group_error(x, n, e4m3_decode(uint8_t(b)) / g, w);
    if (err < best_err) best_err = err, best = uint8_t(b);
  }
  return best;
}

}  // namespace

uint8_t choose_group_scale(Format f, ScaleRule rule, const float* x, int n, float global_scale,
                           const float* importance) {
  float amax = 0.f;
  for (int i = 0; i < n; ++i) amax = std::max(amax, std::fabs(x[i]));
  return f == Format::MXFP4 ? mx_scale(rule, x, n, amax, importance)
                            : nv_scale(rule, x, n, amax, global_scale, importance);
}

void check_finite(const float* x, int64_t rows, int64_t cols, std::string_view name) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const float v = x[r * cols + c];
      if (!std::isfinite(v))
        throw Error(std::string(name) + ": non-finite value " + std::to_string(v) + " at row " +
                    std::to_string(r) + ", column " + std::to_string(c));
    }
}

QuantizedTensor quantize_rtn(const float* x, int64_t rows, int64_t cols, Format f,
                             const QuantOptions& opt) {
  if (rows <= 0 || cols <= 0)
    throw Error(opt.name + ": empty tensor [" + std::to_string(rows) + ", " + std::to_string(cols) +
                "]");
  if (!rule_valid_for(f, opt.rule))
    throw Error(opt.name + ": scale rule " + to_string(opt.rule) + " is not valid for " +
                to_string(f) +
                (f == Format::MXFP4 ? " (use floor, round, ceil or mse)" : " (use absmax or mse)"));
  check_finite(x, rows, cols, opt.name);
  const int group = format_info(f).group;
  QuantizedTensor q;
  q.format = f;
  q.rows = rows, q.cols = cols;
  q.padded_cols = round_up(cols, std::max<int64_t>(group, opt.pad_to));
  const int64_t G = q.groups_per_row();
  q.packed.assign(size_t(rows * q.padded_cols / 2), 0);
  q.scales.assign(size_t(rows * G), 0);
  if (f == Format::NVFP4) {
    float amax = 0.f;
    for (int64_t i = 0; i < rows * cols; ++i) amax = std::max(amax, std::fabs(x[i]));
    q.global_scale = opt.global_scale > 0.f ? opt.global_scale : nvfp4_global_scale(amax);
  }
  std::vector<float> imp;
  if (opt.importance) {
    imp.assign(size_t(q.padded_cols), 0.f);
    std::copy(opt.importance, opt.importance + cols, imp.begin());
  }
#pragma omp parallel if (rows * cols > (1 << 16))
  {
    std::vector<float> row(size_t(q.padded_cols));
    std::vector<uint8_t> codes(size_t(q.padded_cols));
#pragma omp for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      std::fill(row.begin(), row.end(), 0.f);
      std::memcpy(row.data(), x + r * cols, sizeof(float) * size_t(cols));
      for (int64_t g = 0; g < G; ++g) {
        const float* xg = row.data() + g * group;
        const uint8_t s = choose_group_scale(f, opt.rule, xg, group, q.global_scale,
                                             imp.empty() ? nullptr : imp.data() + g * group);
        q.scales[size_t(r * G + g)] = s;
        const float m = scale_multiplier(f, s, q.global_scale);
        for (int i = 0; i < group; ++i)
          codes[size_t(g * group + i)] = m == 0.f ? 0 : e2m1_encode(xg[i] / m);
      }
      pack_nibbles(codes.data(), q.padded_cols, q.packed.data() + r * q.padded_cols / 2);
    }
  }
  return q;
}

uint8_t code_at(const QuantizedTensor& q, int64_t r, int64_t c) {
  const uint8_t b = q.packed[size_t(r * q.padded_cols / 2 + c / 2)];
  return (c & 1) ? uint8_t(b >> 4) : uint8_t(b & 15);
}

void dequantize(const QuantizedTensor& q, float* out) {
  const int group = q.group();
  const int64_t G = q.groups_per_row();
#pragma omp parallel for schedule(static) if (q.rows * q.cols > (1 << 16))
  for (int64_t r = 0; r < q.rows; ++r) {
    const uint8_t* p = q.packed.data() + r * q.padded_cols / 2;
    float* o = out + r * q.cols;
    // One multiplier per group; groups start at even columns (group is even),
    // so each packed byte holds two elements of the same group.
    for (int64_t g = 0; g < G && g * group < q.cols; ++g) {
      const float m = scale_multiplier(q.format, q.scales[size_t(r * G + g)], q.global_scale);
      const int64_t end = std::min<int64_t>(q.cols, (g + 1) * group);
      for (int64_t c = g * group; c < end; ++c) {
        const uint8_t code = (c & 1) ? uint8_t(p[c / 2] >> 4) : uint8_t(p[c / 2] & 15);
        o[c] = e2m1_decode(code) * m;
      }
    }
  }
}

MatrixF dequantize(const QuantizedTensor& q) {
  MatrixF m(q.rows, q.cols);
  dequantize(q, m.data.data());
  return m;
}

void pack_nibbles(const uint8_t* codes, int64_t n, uint8_t* packed) {
  for (int64_t j = 0; j < n / 2; ++j)
    packed[j] = uint8_t((codes[2 * j] & 15) | ((codes[2 * j + 1] & 15) << 4));
}

void unpack_nibbles(const uint8_t* packed, int64_t n, uint8_t* codes) {
  for (int64_t j = 0; j < n / 2; ++j) {
    codes[2 * j] = packed[j] & 15;
    codes[2 * j + 1] = uint8_t(packed[j] >> 4);
  }
}

}  // namespace mrgptq
