// Perplexity by the standard protocol, run block by block over all windows so
// that only one block's weights are in memory at a time.
#include <algorithm>
#include <cmath>

#include "mrgptq/error.hpp"
#include "mrgptq/model.hpp"

namespace mrgptq {

namespace {

// Sum over rows t (not the last of a window) of -log softmax(logits_t)[next_t].
double nll_of(const ModelConfig& c, const std::vector<float>& norm, const LinearOp& cls,
              const MatrixF& h, const std::vector<int>& targets, int seq_len) {
  double total = 0;
  const int64_t chunk = 256;
  for (int64_t r0 = 0; r0 < h.rows; r0 += chunk) {
    const int64_t n = std::min(chunk, h.rows - r0);
    MatrixF x(n, h.cols);
    for (int64_t t = 0; t < n; ++t)
      rms_norm(h.row(r0 + t), norm.data(), x.row(t), h.cols, c.norm_eps);
    MatrixF logits = cls.apply(x);
    double part = 0;
#pragma omp parallel for reduction(+ : part) schedule(static)
    for (int64_t t = 0; t < n; ++t) {
      const int64_t row = r0 + t;
      if ((row + 1) % seq_len == 0) continue;  // last token of a window predicts nothing
      const float* l = logits.row(t);
      const float mx = *std::max_element(l, l + logits.cols);
      double s = 0;
      for (int64_t j = 0; j < logits.cols; ++j) s += std::exp(double(l[j]) - mx);
      part += std::log(s) + mx - l[targets[size_t(row + 1)]];
    }
    total += part;
  }
  return total;
}

}  // namespace

PerplexityResult perplexity(const ModelSource& m, const std::vector<int>& tokens, int seq_len,
                            int max_windows, const BlockProvider& blocks,
                            const ProgressFn& progress) {
  const ModelConfig& c = m.config();
  if (seq_len < 2) throw Error("perplexity: --seqlen must be at least 2");
  int64_t windows = int64_t(tokens.size()) / seq_len;
  if (max_windows > 0) windows = std::min<int64_t>(windows, max_windows);
  if (windows == 0)
    throw Error("perplexity: the text has " + std::to_string(tokens.size()) +
                " tokens, fewer than one window of " + std::to_string(seq_len));
  std::vector<int> used(tokens.begin(), tokens.begin() + windows * seq_len);
  MatrixF h = m.embed(used);
  for (int l = 0; l < c.n_layers; ++l) {
    Block b = blocks ? blocks(l) : m.load_block(l);
    block_forward(c, b, h, seq_len);
    if (progress) progress(l + 1, c.n_layers + 1);
  }
  PerplexityResult r;
  r.nll_sum = nll_of(c, m.final_norm(), m.classifier(), h, used, seq_len);
  if (progress) progress(c.n_layers + 1, c.n_layers + 1);
  r.tokens = int64_t(tokens.size());
  r.windows = windows;
  r.predicted = windows * (seq_len - 1);
  r.perplexity = std::exp(r.nll_sum / double(r.predicted));
  return r;
}

}  // namespace mrgptq
