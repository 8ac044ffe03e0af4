// Block Hadamard rotations against explicitly built matrices.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "mrgptq/error.hpp"
#include "mrgptq/hadamard.hpp"

using namespace mrgptq;

namespace {

// Sylvester recursion H_2n = [[H, H], [H, -H]], normalised; built independently.
MatrixD sylvester(int b) {
  MatrixD H(1, 1, 1.0);
  for (int n = 1; n < b; n *= 2) {
    MatrixD N(2 * n, 2 * n);
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j) {
        N(i, j) = N(i, j + n) = N(i + n, j) = H(i, j);
        N(i + n, j + n) = -H(i, j);
      }
    H = N;
  }
  for (auto& v : H.data) v /= std::sqrt(double(b));
  return H;
}

// The matrix R with rows of x mapped to x R: row i of R is the image of e_i.
MatrixD explicit_matrix(const Rotation& r) {
  MatrixD R(r.dim, r.dim);
  for (int64_t i = 0; i < r.dim; ++i) {
    std::vector<double> e(size_t(r.dim), 0.0);
    e[size_t(i)] = 1.0;
    r.apply_rows(e.data(), 1);
    for (int64_t j = 0; j < r.dim; ++j) R(i, j) = e[size_t(j)];
  }
  return R;
}

}  // namespace

TEST(Hadamard, BlockMatchesSylvesterRecursion) {
  for (int b : {1, 2, 4, 8, 16, 32, 64, 128}) {
    const MatrixD S = sylvester(b);
    Rotation r = Rotation::make(2 * b, b);
    const MatrixD R = explicit_matrix(r);
    for (int64_t i = 0; i < 2 * b; ++i)
      for (int64_t j = 0; j < 2 * b; ++j) {
        const bool same_block = i / b == j / b;
        const double want = same_block ? S(i % b, j % b) : 0.0;
        ASSERT_NEAR(R(i, j), want, 1e-15) << b << " " << i << " " << j;
      }
  }
}

TEST(Hadamard, OrthogonalWithAndWithoutSigns) {
  for (int b : {16, 32, 128, 256}) {
    for (bool signs : {false, true}) {
      Rotation r = signs ? Rotation::make(256, b, 7) : Rotation::make(256, b);
      const MatrixD R = explicit_matrix(r);
      for (int64_t i = 0; i < 256; ++i)
        for (int64_t j = 0; j < 256; ++j) {
          double dot = 0;
          for (int64_t k = 0; k < 256; ++k) dot += R(i, k) * R(j, k);
          ASSERT_NEAR(dot, i == j ? 1.0 : 0.0, 1e-12);
        }
    }
  }
}

TEST(Hadamard, ProductIdentityAndInverse) {
  std::mt19937 rng(9);
  std::normal_distribution<float> n(0.f, 1.f);
  const int64_t out = 8, in = 96;
  for (int b : {16, 32}) {
    for (bool signs : {false, true}) {
      Rotation r = signs ? Rotation::make(in, b, 42) : Rotation::make(in, b);
      MatrixF W(out, in);
      std::vector<float> x(static_cast<size_t>(in));
      for (auto& v : W.data) v = n(rng);
      for (auto& v : x) v = n(rng);
      MatrixF Wr = W;
      r.apply_rows(Wr.data.data(), out);
      std::vector<float> xr = x;
      r.apply_rows(xr.data(), 1);  // activations: x -> R^T x, the same per-row operation
      for (int64_t o = 0; o < out; ++o) {
        double y = 0, yr = 0;
        for (int64_t k = 0; k < in; ++k)
          y += double(W(o, k)) * x[size_t(k)], yr += double(Wr(o, k)) * xr[size_t(k)];
        EXPECT_NEAR(y, yr, 1e-4 * (1 + std::fabs(y)));
      }
      r.unapply_rows(Wr.data.data(), out);
      for (int64_t i = 0; i < W.size(); ++i)
        EXPECT_NEAR(Wr.data[size_t(i)], W.data[size_t(i)], 1e-5);
    }
  }
}

// The documented butterfly order (stages h = 1, 2, ..., b/2 of (a+c, a-c), one
// scale at the end) is a contract with the CUDA quantizer: bit for bit.
TEST(Hadamard, FwhtFollowsTheDocumentedOrderBitForBit) {
  std::mt19937 rng(5);
  std::normal_distribution<float> n(0.f, 3.f);
  for (int b = 1; b <= 512; b *= 2) {
    std::vector<float> x(1024);
    for (auto& v : x) v = n(rng);
    std::vector<float> want = x;
    for (size_t base = 0; base < want.size(); base += size_t(b)) {
      for (int h = 1; h < b; h *= 2)
        for (int i = 0; i < b; i += 2 * h)
          for (int j = i; j < i + h; ++j) {
            const float a = want[base + size_t(j)], c = want[base + size_t(j + h)];
            want[base + size_t(j)] = a + c;
            want[base + size_t(j + h)] = a - c;
          }
      for (int i = 0; i < b; ++i) want[base + size_t(i)] *= 1.f / std::sqrt(float(b));
    }
    fwht_blocks(x.data(), int64_t(x.size()), b);
    for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(x[i], want[i]) << "b=" << b << " i=" << i;
  }
}

// Signs are documented as bit 63 of successive std::mt19937_64(seed) outputs
// (set -> -1): an exporter in another language must be able to reproduce them.
TEST(Hadamard, SignsFollowTheDocumentedGenerator) {
  Rotation r = Rotation::make(64, 16, 1234);
  std::mt19937_64 gen(1234);
  ASSERT_EQ(r.signs.size(), 64u);
  int negative = 0;
  for (int i = 0; i < 64; ++i) {
    const int want = (gen() >> 63) ? -1 : 1;
    EXPECT_EQ(r.signs[size_t(i)], want) << i;
    negative += want < 0;
  }
  EXPECT_GT(negative, 10);
  EXPECT_LT(negative, 54);
  EXPECT_TRUE(Rotation::make(64, 16).signs.empty());
}

TEST(Hadamard, HessianRotationMatchesExplicitProduct) {
  std::mt19937 rng(10);
  std::normal_distribution<double> n(0.0, 1.0);
  const int64_t d = 64;
  MatrixD X(200, d), H(d, d);
  for (auto& v : X.data) v = n(rng);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j)
      for (int64_t t = 0; t < 200; ++t) H(i, j) += X(t, i) * X(t, j);
  Rotation r = Rotation::make(d, 32, 3);
  const MatrixD R = explicit_matrix(r);
  MatrixD want(d, d);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j < d; ++j)
      for (int64_t a = 0; a < d; ++a)
        for (int64_t b2 = 0; b2 < d; ++b2) want(i, j) += R(a, i) * H(a, b2) * R(b2, j);
  r.apply_hessian(H);
  for (int64_t i = 0; i < d * d; ++i) EXPECT_NEAR(H.data[size_t(i)], want.data[size_t(i)], 1e-9);
}

TEST(Hadamard, RejectsBadBlocks) {
  EXPECT_THROW(Rotation::make(96, 64), Error);
  EXPECT_THROW(Rotation::make(96, 24), Error);
  EXPECT_NO_THROW(Rotation::make(96, 32));
}
