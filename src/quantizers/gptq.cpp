// GPTQ (Frantar et al., 2022) for the FP4 microscaling formats.
//
// Columns are quantized one at a time. Quantizing column j adds an error
// e = w_j - q_j to the layer output; the optimal correction of the columns not
// yet quantized (given the Hessian H = 2 X X^T of the layer input) is
//     W[:, k] -= e / U[j, j] * U[j, k]   for k > j,
// with U the upper Cholesky factor of H^-1 (H^-1 = U^T U): row j of U holds
// exactly the inverse-Hessian information left once columns < j are fixed.
// The update of column k > j is applied lazily: inside a block of 128 columns
// row by row, and to the rest of the matrix once per block as one GEMM
// (W[:, i2:] -= Err U[i1:i2, i2:]), so the cost is BLAS-bound.
#include "mrgptq/gptq.hpp"

#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "mrgptq/error.hpp"

namespace mrgptq {
namespace {

// U with U^T U = (H + damp*mean(diag H)*I)^-1, or false if H is not
// numerically positive definite at this damping.
bool inverse_cholesky_upper(const MatrixD& H, double damp, MatrixD& U) {
  const int64_t n = H.rows;
  double mean_diag = 0;
  for (int64_t i = 0; i < n; ++i) mean_diag += H(i, i);
  mean_diag /= double(n);
  U = H;
  for (int64_t i = 0; i < n; ++i) U(i, i) += damp * mean_diag;
  const lapack_int N = lapack_int(n);
  // Row-major upper == column-major lower of the same memory; calling LAPACK
  // in its native column-major order avoids LAPACKE's transposing copies.
  if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', N, U.data.data(), N) != 0) return false;
  if (LAPACKE_dpotri(LAPACK_COL_MAJOR, 'L', N, U.data.data(), N) != 0) return false;
  const int64_t T = 64;  // mirror the filled (upper, row-major) triangle in cache-sized tiles
  for (int64_t i0 = 0; i0 < n; i0 += T)
    for (int64_t j0 = i0; j0 < n; j0 += T)
      for (int64_t i = i0; i < std::min(n, i0 + T); ++i)
        for (int64_t j = std::max(j0, i + 1); j < std::min(n, j0 + T); ++j) U(j, i) = U(i, j);
  if (LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', N, U.data.data(), N) != 0) return false;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < i; ++j) U(i, j) = 0.0;
  for (int64_t i = 0; i < n * n; ++i)
    if (!std::isfinite(U.data[size_t(i)])) return false;
  return true;
}

}  // namespace

GptqResult gptq_quantize(const MatrixF& W0, const MatrixD& H0, Format f, const GptqOptions& opt) {
  const int64_t rows = W0.rows, cols = W0.cols;
  const int group = format_info(f).group;
  if (rows <= 0 || cols <= 0) throw Error("GPTQ: empty weight");
  if (cols % group) throw Error("GPTQ: columns must be padded to a multiple of the group");
  if (H0.rows != cols || H0.cols != cols)
    throw Error("GPTQ: Hessian is " + std::to_string(H0.rows) + "x" + std::to_string(H0.cols) +
                " but the weight has " + std::to_string(cols) + " columns");
  if (!rule_valid_for(f, opt.rule))
    throw Error(std::string("scale rule ") + to_string(opt.rule) + " is not valid for " +
                to_string(f));
  check_finite(W0.data.data(), rows, cols, "GPTQ weight");
  // A non-finite Hessian would otherwise surface as a misleading Cholesky failure.
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j)
      if (!std::isfinite(H0(i, j)))
        throw Error("GPTQ: Hessian has a non-finite value at row " + std::to_string(i) +
                    ", column " + std::to_string(j));

  MatrixF W = W0;
  MatrixD H = H0;
  // Dead inputs (never active in calibration) carry no information: give them
  // a unit diagonal so H stays invertible, and zero the weights they multiply.
  for (int64_t i = 0; i < cols; ++i)
    if (H(i, i) == 0.0) {
      H(i, i) = 1.0;
      for (int64_t r = 0; r < rows; ++r) W(r, i) = 0.f;
    }

  GptqResult res;
  QuantizedTensor& q = res.q;
  q.format = f;
  q.rows = rows, q.cols = cols, q.padded_cols = cols;
  const int64_t G = cols / group;
  q.scales.assign(size_t(rows * G), 0);
  q.packed.assign(size_t(rows * cols / 2), 0);
  if (f == Format::NVFP4) {
    float amax = 0.f;
    for (float v : W.data) amax = std::max(amax, std::fabs(v));
    q.global_scale = opt.global_scale > 0.f ? opt.global_scale : nvfp4_global_scale(amax);
  }
  std::vector<float> diag(static_cast<size_t>(cols));
  for (int64_t i = 0; i < cols; ++i) diag[size_t(i)] = float(H(i, i));

  auto choose_scales = [&](int64_t r, int64_t g, const float* x) {
    q.scales[size_t(r * G + g)] =
        choose_group_scale(f, opt.rule, x, group, q.global_scale, diag.data() + g * group);
  };

  // Static groups: with activation order, columns are visited out of order, so
  // every group's scale is fixed up front from the original weights and each
  // column keeps the scale of its original group.
  if (opt.act_order) {
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < G; ++g) choose_scales(r, g, W.row(r) + g * group);
  }

  // Visit order: descending diag(H) with act_order (most sensitive first).
  std::vector<int64_t> perm(static_cast<size_t>(cols));
  std::iota(perm.begin(), perm.end(), 0);
  if (opt.act_order)
    std::stable_sort(perm.begin(), perm.end(),
                     [&](int64_t a, int64_t b) { return diag[size_t(a)] > diag[size_t(b)]; });
  MatrixF Wp(rows, cols);
  MatrixD Hp(cols, cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < cols; ++j) Wp(r, j) = W(r, perm[size_t(j)]);
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j) Hp(i, j) = H(perm[size_t(i)], perm[size_t(j)]);
  H = MatrixD();

  MatrixD Ud;
  double damp = opt.damp;
  for (int tries = 0;; ++tries) {
    if (inverse_cholesky_upper(Hp, damp, Ud)) break;
    if (tries >= opt.max_damp_tries)
      throw Error("GPTQ: the Hessian is not positive definite even with damping " +
                  std::to_string(damp) + " (more calibration data, or a larger --damp, may help)");
    const double next = damp * 10;
    if (opt.warn)
      opt.warn("GPTQ: Cholesky failed at damping " + std::to_string(damp) + ", retrying with " +
               std::to_string(next));
    damp = next;
    ++res.damp_increases;
  }
  res.damp_used = damp;
  Hp = MatrixD();
  MatrixF U(cols, cols);
  for (int64_t i = 0; i < cols * cols; ++i) U.data[size_t(i)] = float(Ud.data[size_t(i)]);
  Ud = MatrixD();

  int block = std::max(group, opt.block_size / group * group);
  std::vector<uint8_t> codes(size_t(rows * cols));
  for (int64_t i1 = 0; i1 < cols; i1 += block) {
    const int64_t i2 = std::min(cols, i1 + block), B = i2 - i1;
    MatrixF Err(rows, B);
#pragma omp parallel for schedule(static)
    for (int64_t r = 0; r < rows; ++r) {
      float* w = Wp.row(r);
      float* e = Err.row(r);
      for (int64_t j = i1; j < i2; ++j) {
        const int64_t c = perm[size_t(j)];
        // Without act_order, a group's scale is chosen when its first column
        // comes up, from the weights as updated so far (standard GPTQ).
        if (!opt.act_order && c % group == 0) {
          choose_scales(r, c / group, w + j);
        }
        const float m = scale_multiplier(f, q.scales[size_t(r * G + c / group)], q.global_scale);
        const uint8_t code = m == 0.f ? 0 : e2m1_encode(w[j] / m);
        codes[size_t(r * cols + c)] = code;
        const float err = (w[j] - e2m1_decode(code) * m) / U(j, j);
        e[j - i1] = err;
        const float* u = U.row(j);
        for (int64_t k = j + 1; k < i2; ++k) w[k] -= err * u[k];
      }
    }
    if (i2 < cols)
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(cols - i2), int(B),
                  -1.f, Err.data.data(), int(B), U.row(i1) + i2, int(cols), 1.f, Wp.row(0) + i2,
                  int(cols));
  }
  for (int64_t r = 0; r < rows; ++r)
    pack_nibbles(&codes[size_t(r * cols)], cols, &q.packed[size_t(r * cols / 2)]);
  return res;
}

}  // namespace mrgptq
