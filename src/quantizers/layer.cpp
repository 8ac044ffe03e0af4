// The layer-level entry point: one linear weight, one method.
#include "mrgptq/layer.hpp"

#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "mrgptq/error.hpp"
#include "mrgptq/gptq.hpp"

namespace mrgptq {
namespace {

constexpr struct {
  Method method;
  const char* name;
} kMethods[] = {{Method::Rtn, "rtn"},
                {Method::RtnHad, "rtn-had"},
                {Method::Gptq, "gptq"},
                {Method::MrGptq, "mr-gptq"}};

MatrixF pad_columns(const MatrixF& W, int64_t padded) {
  MatrixF P(W.rows, padded);
  for (int64_t r = 0; r < W.rows; ++r)
    std::memcpy(P.row(r), W.row(r), sizeof(float) * size_t(W.cols));
  return P;
}

MatrixD pad_square(const MatrixD& H, int64_t padded) {
  MatrixD P(padded, padded);
  for (int64_t i = 0; i < H.rows; ++i)
    std::memcpy(P.row(i), H.row(i), sizeof(double) * size_t(H.cols));
  return P;
}

}  // namespace

Method parse_method(std::string_view name) {
  for (const auto& m : kMethods)
    if (name == m.name) return m.method;
  throw Error("unknown method '" + std::string(name) +
              "' (expected rtn, rtn-had, gptq or mr-gptq)");
}

const char* to_string(Method m) {
  for (const auto& k : kMethods)
    if (k.method == m) return k.name;
  return "?";
}

LayerResult quantize_layer(const MatrixF& W, const MatrixD* H, const LayerConfig& cfg) {
  const int64_t rows = W.rows, cols = W.cols;
  if (rows <= 0 || cols <= 0) throw Error(cfg.name + ": empty weight");
  check_finite(W.data.data(), rows, cols, cfg.name);
  if (method_needs_hessian(cfg.method) && !H)
    throw Error(cfg.name + ": method " + to_string(cfg.method) +
                " needs a Hessian (calibration data)");
  if (H && (H->rows != cols || H->cols != cols))
    throw Error(cfg.name + ": Hessian is " + std::to_string(H->rows) + "x" +
                std::to_string(H->cols) + " but the weight has " + std::to_string(cols) +
                " input columns");
  const FormatInfo& fi = format_info(cfg.format);
  const ScaleRule rule = cfg.scale                      ? *cfg.scale
                         : cfg.method == Method::MrGptq ? ScaleRule::Mse
                                                        : fi.default_rule;
  if (!rule_valid_for(cfg.format, rule))
    throw Error(std::string("scale rule ") + to_string(rule) + " is not valid for " + fi.name);

  // MR-GPTQ's micro-rotation: block = group by default, so that each group is
  // mixed exactly within itself and its outliers are spread over the group.
  const int block =
      method_rotates(cfg.method) ? (cfg.rotation_block ? cfg.rotation_block : fi.group) : 0;
  const int64_t padded = round_up(cols, std::max(fi.group, block));

  LayerResult res;
  MatrixF Wp = pad_columns(W, padded);
  MatrixD Hp;
  if (H) Hp = pad_square(*H, padded);
  if (block) {
    res.rotation = Rotation::make(padded, block, cfg.rotation_seed);
    res.rotation.apply_rows(Wp.data.data(), rows);
    if (H) res.rotation.apply_hessian(Hp);
  }

  if (method_needs_hessian(cfg.method)) {
    GptqOptions o;
    o.damp = cfg.damp;
    o.block_size = cfg.gptq_block;
    o.act_order = cfg.act_order.value_or(true);
    o.rule = rule;
    o.global_scale = cfg.global_scale;
    o.warn = cfg.warn;
    GptqResult g = gptq_quantize(Wp, Hp, cfg.format, o);
    res.q = std::move(g.q);
    res.damp_used = g.damp_used;
    res.damp_increases = g.damp_increases;
  } else {
    QuantOptions o;
    o.rule = rule;
    o.global_scale = cfg.global_scale;
    o.name = cfg.name;
    std::vector<float> imp;
    if (H && rule == ScaleRule::Mse) {
      for (int64_t i = 0; i < padded; ++i) imp.push_back(float(Hp(i, i)));
      o.importance = imp.data();
    }
    res.q = quantize_rtn(Wp.data.data(), rows, padded, cfg.format, o);
  }
  res.q.cols = cols;  // the logical input width; codes cover padded_cols
  res.dequant = dequantize_layer(res.q, res.rotation);
  return res;
}

MatrixF dequantize_layer(const QuantizedTensor& q, const Rotation& rot) {
  QuantizedTensor full = q;  // every padded column carries data once rotated
  full.cols = q.padded_cols;
  MatrixF Wp = dequantize(full);
  rot.unapply_rows(Wp.data.data(), Wp.rows);
  if (q.cols == q.padded_cols) return Wp;
  MatrixF W(q.rows, q.cols);
  for (int64_t r = 0; r < q.rows; ++r)
    std::memcpy(W.row(r), Wp.row(r), sizeof(float) * size_t(q.cols));
  return W;
}

double relative_error(const MatrixF& A, const MatrixF& B) {
  double num = 0, den = 0;
  for (int64_t i = 0; i < A.size(); ++i) {
    const double d = double(A.data[size_t(i)]) - B.data[size_t(i)];
    num += d * d;
    den += double(A.data[size_t(i)]) * A.data[size_t(i)];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}

double hessian_relative_error(const MatrixF& A, const MatrixF& B, const MatrixD& H) {
  const int64_t rows = A.rows, n = A.cols;
  // tr(M H M^T) = sum_r m_r^T H m_r for M = A - B and M = A, via one GEMM each.
  auto quad = [&](const MatrixF& M) {
    MatrixF Hf(n, n), MH(rows, n);
    for (int64_t i = 0; i < n * n; ++i) Hf.data[size_t(i)] = float(H.data[size_t(i)]);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(n), int(n), 1.f,
                M.data.data(), int(n), Hf.data.data(), int(n), 0.f, MH.data.data(), int(n));
    double t = 0;
    for (int64_t i = 0; i < rows * n; ++i) t += double(MH.data[size_t(i)]) * M.data[size_t(i)];
    return t;
  };
  MatrixF D(rows, n);
  for (int64_t i = 0; i < rows * n; ++i) D.data[size_t(i)] = A.data[size_t(i)] - B.data[size_t(i)];
  const double den = quad(A);
  return den > 0 ? quad(D) / den : 0.0;
}

}  // namespace mrgptq
