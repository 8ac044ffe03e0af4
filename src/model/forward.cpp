// The float32 forward pass of one Llama-family block, in the spirit of
// llama2.c: RMSNorm, RoPE, causal grouped-query attention, SwiGLU MLP.
// Linear layers go through LinearOp (OpenBLAS); attention runs per (sequence,
// head) with OpenMP.
#include <cblas.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "mrgptq/model.hpp"

namespace mrgptq {

void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * x[i];
  const float inv = 1.f / std::sqrt(float(ss / n) + eps);
  for (int64_t i = 0; i < n; ++i) out[i] = w[i] * (x[i] * inv);
}

namespace {

MatrixF norm_rows(const MatrixF& h, const std::vector<float>& w, float eps) {
  MatrixF out(h.rows, h.cols);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < h.rows; ++t) rms_norm(h.row(t), w.data(), out.row(t), h.cols, eps);
  return out;
}

// Inverse frequency of rotary pair i (of head_dim/2), with Llama-3 scaling.
float rope_inv_freq(const ModelConfig& c, int i) {
  float f = 1.f / std::pow(c.rope_theta, float(2 * i) / float(c.head_dim));
  if (!c.rope_llama3.enabled) return f;
  const auto& r = c.rope_llama3;
  const float low_wl = r.original_max_position / r.low_freq_factor;
  const float high_wl = r.original_max_position / r.high_freq_factor;
  const float wl = 2.f * float(M_PI) / f;
  if (wl < high_wl) return f;
  if (wl > low_wl) return f / r.factor;
  const float smooth =
      (r.original_max_position / wl - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
  return (1.f - smooth) * f / r.factor + smooth * f;
}

// Rotates each head of x [T, n_heads*head_dim]; position = row % seq_len.
void apply_rope(const ModelConfig& c, MatrixF& x, int n_heads, int seq_len) {
  const int hd = c.head_dim, half = hd / 2;
  std::vector<float> inv(half);
  for (int i = 0; i < half; ++i) inv[i] = rope_inv_freq(c, i);
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < x.rows; ++t) {
    const float pos = float(t % seq_len);
    for (int h = 0; h < n_heads; ++h) {
      float* v = x.row(t) + int64_t(h) * hd;
      for (int i = 0; i < half; ++i) {
        const float a = pos * inv[i], cr = std::cos(a), ci = std::sin(a);
        // llama2.c pairs (2i, 2i+1); Hugging Face pairs (i, i + hd/2).
        const int i0 = c.rope_style == RopeStyle::Interleaved ? 2 * i : i;
        const int i1 = c.rope_style == RopeStyle::Interleaved ? 2 * i + 1 : i + half;
        const float x0 = v[i0], x1 = v[i1];
        v[i0] = x0 * cr - x1 * ci;
        v[i1] = x0 * ci + x1 * cr;
      }
    }
  }
}

// out[T, n_heads*hd] = softmax(q k^T / sqrt(hd), causal) v, per sequence and head.
MatrixF attention(const ModelConfig& c, const MatrixF& q, const MatrixF& k, const MatrixF& v,
                  int seq_len) {
  const int hd = c.head_dim, nh = c.n_heads, group = c.n_heads / c.n_kv_heads;
  const int64_t n_seq = q.rows / seq_len;
  MatrixF out(q.rows, int64_t(nh) * hd);
  const float scale = 1.f / std::sqrt(float(hd));
  // Many small GEMMs from OpenMP threads: OpenBLAS must not start its own
  // threads inside each (a 4x slowdown from oversubscription on 2 cores).
  const int blas_threads = openblas_get_num_threads();
  openblas_set_num_threads(1);
#pragma omp parallel
  {
    std::vector<float> s(size_t(seq_len) * seq_len);
#pragma omp for collapse(2) schedule(dynamic)
    for (int64_t sq = 0; sq < n_seq; ++sq) {
      for (int h = 0; h < nh; ++h) {
        const int kvh = h / group;
        const float* Q = q.row(sq * seq_len) + int64_t(h) * hd;
        const float* K = k.row(sq * seq_len) + int64_t(kvh) * hd;
        const float* V = v.row(sq * seq_len) + int64_t(kvh) * hd;
        float* O = out.row(sq * seq_len) + int64_t(h) * hd;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, seq_len, seq_len, hd, scale, Q,
                    int(q.cols), K, int(k.cols), 0.f, s.data(), seq_len);
        for (int i = 0; i < seq_len; ++i) {
          float* r = s.data() + int64_t(i) * seq_len;
          float mx = r[0];
          for (int j = 1; j <= i; ++j) mx = std::max(mx, r[j]);
          float sum = 0;
          for (int j = 0; j <= i; ++j) sum += (r[j] = std::exp(r[j] - mx));
          const float inv = 1.f / sum;
          for (int j = 0; j <= i; ++j) r[j] *= inv;
          for (int j = i + 1; j < seq_len; ++j) r[j] = 0.f;  // causal mask
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, seq_len, hd, seq_len, 1.f, s.data(),
                    seq_len, V, int(v.cols), 0.f, O, int(out.cols));
      }
    }
  }
  openblas_set_num_threads(blas_threads);
  return out;
}

void head_norm(MatrixF& x, const std::vector<float>& w, int hd, float eps) {
  const int64_t heads = x.cols / hd;
#pragma omp parallel for schedule(static)
  for (int64_t t = 0; t < x.rows; ++t)
    for (int64_t h = 0; h < heads; ++h) {
      float* p = x.row(t) + h * hd;
      rms_norm(p, w.data(), p, hd, eps);
    }
}

}  // namespace

void block_forward(const ModelConfig& c, const Block& b, MatrixF& h, int seq_len,
                   const BlockHooks* hooks) {
  auto hook = [&](Slot s, const MatrixF& x) {
    if (hooks && hooks->on_input) hooks->on_input(s, x);
  };
  // Attention.
  MatrixF x = norm_rows(h, b.attn_norm, c.norm_eps);
  hook(Slot::QKV, x);
  MatrixF q = b.q.apply(x), k = b.k.apply(x), v = b.v.apply(x);
  if (c.qk_norm) {
    head_norm(q, b.q_norm, c.head_dim, c.norm_eps);
    head_norm(k, b.k_norm, c.head_dim, c.norm_eps);
  }
  apply_rope(c, q, c.n_heads, seq_len);
  apply_rope(c, k, c.n_kv_heads, seq_len);
  MatrixF att = attention(c, q, k, v, seq_len);
  hook(Slot::O, att);
  MatrixF o = b.o.apply(att);
  for (int64_t i = 0; i < h.size(); ++i) h.data[i] += o.data[i];
  // SwiGLU MLP: down(silu(gate x) * up x).
  x = norm_rows(h, b.mlp_norm, c.norm_eps);
  hook(Slot::GateUp, x);
  MatrixF g = b.gate.apply(x), u = b.up.apply(x);
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < g.size(); ++i) {
    const float a = g.data[i];
    g.data[i] = a / (1.f + std::exp(-a)) * u.data[i];
  }
  hook(Slot::Down, g);
  MatrixF d = b.down.apply(g);
  for (int64_t i = 0; i < h.size(); ++i) h.data[i] += d.data[i];
}

}  // namespace mrgptq
