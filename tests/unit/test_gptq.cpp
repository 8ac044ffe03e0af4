// GPTQ and the layer API against a straightforward float64 reference, and the
// accuracy orderings that justify the methods.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <random>
#include <string>

#include "mrgptq/error.hpp"
#include "mrgptq/gptq.hpp"
#include "mrgptq/hessian.hpp"
#include "mrgptq/layer.hpp"

using namespace mrgptq;

namespace {

// Inputs with correlated channels and a few outlier channels, as in LLMs.
MatrixF make_inputs(int64_t n, int64_t d, std::mt19937& rng, float outlier = 20.f) {
  std::normal_distribution<float> g(0.f, 1.f);
  MatrixF mix(d, d);
  for (auto& v : mix.data) v = g(rng) / std::sqrt(float(d));
  for (int64_t i = 0; i < d; ++i) mix(i, i) += 1.f;
  MatrixF X(n, d);
  std::vector<float> z(static_cast<size_t>(d));
  for (int64_t t = 0; t < n; ++t) {
    for (auto& v : z) v = g(rng);
    for (int64_t j = 0; j < d; ++j) {
      double s = 0;
      for (int64_t k = 0; k < d; ++k) s += z[size_t(k)] * mix(k, j);
      X(t, j) = float(s) * (j % 37 == 5 ? outlier : 1.f);
    }
  }
  return X;
}

MatrixD hessian_of(const MatrixF& X) {
  HessianAccumulator acc(X.cols);
  acc.add(X.data.data(), X.rows);
  return acc.finalize();
}

MatrixF heavy_weights(int64_t rows, int64_t cols, std::mt19937& rng) {
  std::student_t_distribution<float> t(3.f);
  MatrixF W(rows, cols);
  for (auto& v : W.data) v = 0.02f * t(rng);
  return W;
}

// --- the float64 reference: textbook GPTQ, no blocking, no BLAS ------------
struct RefResult {
  std::vector<uint8_t> codes, scales;
};

// Scales are chosen here too (static groups from the original weights with
// act_order, lazily from the updated weights without), so the test checks the
// scale schedule as well as the update rule.
RefResult reference_gptq(const MatrixF& W0, const MatrixD& H0, Format f, bool act_order,
                         double damp, ScaleRule rule, float global_scale) {
  const int64_t R = W0.rows, C = W0.cols;
  const int group = format_info(f).group;
  std::vector<int64_t> perm(static_cast<size_t>(C));
  std::iota(perm.begin(), perm.end(), 0);
  if (act_order)
    std::stable_sort(perm.begin(), perm.end(),
                     [&](int64_t a, int64_t b) { return H0(a, a) > H0(b, b); });
  // H in visit order, damped; explicit inverse by Gauss-Jordan.
  double mean = 0;
  for (int64_t i = 0; i < C; ++i) mean += H0(i, i);
  mean /= double(C);
  std::vector<std::vector<double>> A(size_t(C), std::vector<double>(size_t(2 * C), 0.0));
  for (int64_t i = 0; i < C; ++i) {
    for (int64_t j = 0; j < C; ++j) A[size_t(i)][size_t(j)] = H0(perm[size_t(i)], perm[size_t(j)]);
    A[size_t(i)][size_t(i)] += damp * mean;
    A[size_t(i)][size_t(C + i)] = 1.0;
  }
  for (int64_t i = 0; i < C; ++i) {
    const double p = A[size_t(i)][size_t(i)];
    for (auto& v : A[size_t(i)]) v /= p;
    for (int64_t k = 0; k < C; ++k)
      if (k != i) {
        const double m = A[size_t(k)][size_t(i)];
        for (int64_t j = 0; j < 2 * C; ++j) A[size_t(k)][size_t(j)] -= m * A[size_t(i)][size_t(j)];
      }
  }
  // Upper Cholesky of the inverse: Hinv = U^T U.
  std::vector<std::vector<double>> U(size_t(C), std::vector<double>(size_t(C), 0.0));
  for (int64_t i = 0; i < C; ++i)
    for (int64_t j = i; j < C; ++j) {
      double s = A[size_t(i)][size_t(C + j)];
      for (int64_t k = 0; k < i; ++k) s -= U[size_t(k)][size_t(i)] * U[size_t(k)][size_t(j)];
      U[size_t(i)][size_t(j)] = i == j ? std::sqrt(s) : s / U[size_t(i)][size_t(i)];
    }
  RefResult out;
  out.codes.resize(size_t(R * C));
  const int64_t G = C / group;
  out.scales.resize(size_t(R * G));
  std::vector<float> diag(static_cast<size_t>(C));
  for (int64_t i = 0; i < C; ++i) diag[size_t(i)] = float(H0(i, i));
  for (int64_t r = 0; r < R; ++r) {
    uint8_t* sc = &out.scales[size_t(r * G)];
    if (act_order)
      for (int64_t g = 0; g < G; ++g)
        sc[g] = choose_group_scale(f, rule, &W0(r, g * group), group, global_scale,
                                   &diag[size_t(g * group)]);
    std::vector<double> w(static_cast<size_t>(C));
    for (int64_t j = 0; j < C; ++j) w[size_t(j)] = W0(r, perm[size_t(j)]);
    for (int64_t j = 0; j < C; ++j) {
      const int64_t c = perm[size_t(j)];
      if (!act_order && c % group == 0) {
        std::vector<float> grp(static_cast<size_t>(group));
        for (int i = 0; i < group; ++i) grp[size_t(i)] = float(w[size_t(j + i)]);
        sc[c / group] =
            choose_group_scale(f, rule, grp.data(), group, global_scale, &diag[size_t(c)]);
      }
      const float m = scale_multiplier(f, sc[c / group], global_scale);
      const uint8_t code = m == 0.f ? 0 : e2m1_encode(float(w[size_t(j)] / m));
      out.codes[size_t(r * C + c)] = code;
      const double err = (w[size_t(j)] - double(e2m1_decode(code)) * m) / U[size_t(j)][size_t(j)];
      for (int64_t k = j + 1; k < C; ++k) w[size_t(k)] -= err * U[size_t(j)][size_t(k)];
    }
  }
  return out;
}

// The dequantized weight of (codes, scales) in row-major original order.
MatrixF decode(const std::vector<uint8_t>& codes, const std::vector<uint8_t>& scales, int64_t rows,
               int64_t cols, Format f, float global_scale) {
  const int group = format_info(f).group;
  MatrixF D(rows, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      D(r, c) = e2m1_decode(codes[size_t(r * cols + c)]) *
                scale_multiplier(f, scales[size_t(r * (cols / group) + c / group)], global_scale);
  return D;
}

}  // namespace

TEST(Hessian, MatchesNaiveSum) {
  std::mt19937 rng(1);
  MatrixF X = make_inputs(300, 48, rng);
  MatrixD H = hessian_of(X);
  for (int64_t i = 0; i < 48; ++i)
    for (int64_t j = 0; j < 48; ++j) {
      double s = 0;
      for (int64_t t = 0; t < 300; ++t) s += double(X(t, i)) * X(t, j);
      ASSERT_NEAR(H(i, j), 2.0 * s / 300, 1e-4 * (1 + std::fabs(H(i, j))));
    }
  EXPECT_THROW(HessianAccumulator(4).finalize(), Error);
}

TEST(Hessian, StreamsManyBatchesAndCalls) {
  // More tokens than one internal ssyrk batch, split over uneven add() calls:
  // the float64 sum must equal one naive pass over all tokens.
  std::mt19937 rng(11);
  const int64_t n = 4500, d = 24;
  MatrixF X = make_inputs(n, d, rng, 50.f);
  HessianAccumulator acc(d);
  acc.add(X.data.data(), 1000);
  acc.add(X.row(1000), 3001);
  acc.add(X.row(4001), n - 4001);
  acc.add(X.row(0), 0);  // no tokens: no change
  const MatrixD H = acc.finalize();
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j) {
      double s = 0;
      for (int64_t t = 0; t < n; ++t) s += double(X(t, i)) * X(t, j);
      ASSERT_NEAR(H(i, j), 2.0 * s / double(n), 1e-5 * (1 + std::fabs(H(i, j)))) << i << "," << j;
      ASSERT_EQ(H(i, j), H(j, i));
    }
}

TEST(Gptq, MatchesFloat64Reference) {
  std::mt19937 rng(2);
  for (Format f : {Format::MXFP4, Format::NVFP4})
    for (ScaleRule rule : {format_info(f).default_rule, ScaleRule::Mse})
      for (bool act : {false, true})
        for (auto [rows, cols] : {std::pair<int64_t, int64_t>{16, 64}, {8, 96}}) {
          const std::string what = std::string(to_string(f)) + " " + to_string(rule) +
                                   " act_order=" + std::to_string(act) + " " +
                                   std::to_string(rows) + "x" + std::to_string(cols);
          MatrixF X = make_inputs(512, cols, rng);
          MatrixD H = hessian_of(X);
          MatrixF W = heavy_weights(rows, cols, rng);
          GptqOptions o;
          o.act_order = act;
          o.rule = rule;
          o.block_size = 32;  // several lazy blocks even at this size
          GptqResult g = gptq_quantize(W, H, f, o);
          if (f == Format::NVFP4) {
            float amax = 0.f;
            for (float v : W.data) amax = std::max(amax, std::fabs(v));
            ASSERT_EQ(g.q.global_scale, nvfp4_global_scale(amax)) << what;
          }
          const RefResult ref = reference_gptq(W, H, f, act, o.damp, rule, g.q.global_scale);
          std::vector<uint8_t> codes(size_t(rows * cols));
          int same = 0;
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t c = 0; c < cols; ++c) {
              codes[size_t(r * cols + c)] = code_at(g.q, r, c);
              same += codes[size_t(r * cols + c)] == ref.codes[size_t(r * cols + c)];
            }
          // float32 blocked updates vs float64 unblocked: a value that sits on a
          // rounding boundary may go either way, and the difference then
          // propagates to later columns of that row, so allow a small fraction.
          const double frac = double(same) / double(rows * cols);
          EXPECT_GE(frac, 0.98) << what;
          if (!act) {
            int same_scales = 0;
            for (size_t i = 0; i < ref.scales.size(); ++i)
              same_scales += g.q.scales[i] == ref.scales[i];
            EXPECT_GE(double(same_scales) / double(ref.scales.size()), 0.95) << what;
          } else {
            EXPECT_EQ(g.q.scales, ref.scales) << what;  // static groups: no error feedback
          }
          const double e_ours = hessian_relative_error(W, dequantize(g.q), H);
          const double e_ref = hessian_relative_error(
              W, decode(ref.codes, ref.scales, rows, cols, f, g.q.global_scale), H);
          if (same == rows * cols)
            EXPECT_NEAR(e_ours, e_ref, 1e-5 * e_ref) << what;
          else
            EXPECT_NEAR(e_ours, e_ref, 0.02 * e_ref) << what;  // a few tie flips
          std::printf("%-28s codes equal %.4f  err ours %.6g ref %.6g\n", what.c_str(), frac,
                      e_ours, e_ref);
        }
}

TEST(Gptq, BeatsRtnOnCorrelatedInputsForBothFormats) {
  std::mt19937 rng(3);
  MatrixF X = make_inputs(2048, 128, rng, 10.f);
  MatrixD H = hessian_of(X);
  MatrixF W = heavy_weights(64, 128, rng);
  for (Format f : {Format::MXFP4, Format::NVFP4}) {
    LayerConfig c;
    c.format = f;
    c.method = Method::Rtn;
    const double rtn = hessian_relative_error(W, quantize_layer(W, &H, c).dequant, H);
    c.method = Method::Gptq;
    const double gptq = hessian_relative_error(W, quantize_layer(W, &H, c).dequant, H);
    EXPECT_LT(gptq, 0.8 * rtn) << to_string(f) << ": gptq " << gptq << " rtn " << rtn;
  }
}

TEST(MrGptq, BeatsGptqForMxfp4OnOutlierHeavyLayers) {
  std::mt19937 rng(4);
  MatrixF X = make_inputs(2048, 256, rng, 30.f);
  MatrixD H = hessian_of(X);
  MatrixF W = heavy_weights(64, 256, rng);
  LayerConfig c;
  c.format = Format::MXFP4;
  c.method = Method::Gptq;
  const double gptq = hessian_relative_error(W, quantize_layer(W, &H, c).dequant, H);
  c.method = Method::MrGptq;
  LayerResult mr = quantize_layer(W, &H, c);
  const double mrg = hessian_relative_error(W, mr.dequant, H);
  EXPECT_LT(mrg, gptq) << "mr-gptq " << mrg << " gptq " << gptq;
  EXPECT_EQ(mr.rotation.block, 32);
}

TEST(Gptq, DampingGrowsUntilCholeskySucceedsAndOtherwiseFails) {
  const int64_t n = 32;
  MatrixD H(n, n);
  for (int64_t i = 0; i < n; ++i) H(i, i) = 1.0;
  H(0, 0) = -0.05;  // indefinite, repaired by damping 0.1 * mean(diag)
  std::mt19937 rng(5);
  MatrixF W = heavy_weights(4, n, rng);
  GptqOptions o;
  int warnings = 0;
  o.warn = [&](std::string_view) { ++warnings; };
  GptqResult g = gptq_quantize(W, H, Format::MXFP4, o);
  EXPECT_EQ(g.damp_increases, 1);
  EXPECT_EQ(warnings, 1);
  EXPECT_NEAR(g.damp_used, 0.1, 1e-12);
  for (int64_t i = 0; i < n; ++i) H(i, i) = -1.0;  // hopeless: more damping only hurts
  warnings = 0;
  EXPECT_THROW(gptq_quantize(W, H, Format::MXFP4, o), Error);
  EXPECT_EQ(warnings, o.max_damp_tries);
}

TEST(Layer, DeadColumnsAndPaddingAreHandled) {
  std::mt19937 rng(6);
  MatrixF X = make_inputs(512, 40, rng);
  for (int64_t t = 0; t < X.rows; ++t) X(t, 3) = 0.f;  // a dead input
  MatrixD H = hessian_of(X);
  MatrixF W = heavy_weights(8, 40, rng);
  for (Method m : {Method::Rtn, Method::RtnHad, Method::Gptq, Method::MrGptq}) {
    LayerConfig c;
    c.method = m;
    LayerResult r = quantize_layer(W, &H, c);
    EXPECT_EQ(r.dequant.rows, 8);
    EXPECT_EQ(r.dequant.cols, 40);
    EXPECT_EQ(r.q.padded_cols, 64);
    MatrixF back = dequantize_layer(r.q, r.rotation);
    for (int64_t i = 0; i < back.size(); ++i)
      ASSERT_EQ(back.data[size_t(i)], r.dequant.data[size_t(i)]);
    EXPECT_LT(relative_error(W, r.dequant), 0.6) << to_string(m);
  }
}

TEST(Layer, BadInputsGiveErrors) {
  std::mt19937 rng(7);
  MatrixF W = heavy_weights(4, 32, rng);
  LayerConfig c;
  c.method = Method::Gptq;
  try {
    quantize_layer(W, nullptr, c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("method gptq needs a Hessian"), std::string::npos);
  }
  c.method = Method::MrGptq;
  EXPECT_THROW(quantize_layer(W, nullptr, c), Error);
  MatrixD H(16, 16);
  EXPECT_THROW(quantize_layer(W, &H, c), Error);
  MatrixD Hnan(32, 32);
  for (int64_t i = 0; i < 32; ++i) Hnan(i, i) = 1.0;
  Hnan(3, 7) = Hnan(7, 3) = std::nan("");
  for (Method m : {Method::Gptq, Method::MrGptq}) {
    c.method = m;
    try {
      quantize_layer(W, &Hnan, c);
      FAIL();
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("non-finite"), std::string::npos) << e.what();
    }
  }
  W(2, 5) = std::nanf("");
  c.method = Method::Rtn;
  c.name = "layers.3.mlp";
  try {
    quantize_layer(W, nullptr, c);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layers.3.mlp"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("row 2, column 5"), std::string::npos);
  }
  EXPECT_THROW(parse_method("awq"), Error);
  c.scale = ScaleRule::Absmax;  // not an MXFP4 rule
  W(2, 5) = 0.f;
  EXPECT_THROW(quantize_layer(W, nullptr, c), Error);
}
