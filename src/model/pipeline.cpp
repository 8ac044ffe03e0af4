// Sequential MR-GPTQ over a whole model (see include/mrgptq/pipeline.hpp).
#include "mrgptq/pipeline.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <random>

#include "mrgptq/error.hpp"
#include "mrgptq/hessian.hpp"

namespace mrgptq {

LinearOp make_linear(const QuantizedLinear& ql, int64_t in_features) {
  LinearOp op;
  op.in = in_features;
  op.bias = ql.bias;
  if (!ql.act_quant) {
    op.w = dequantize_layer(ql.q, ql.rot);  // back in the original basis
    return op;
  }
  QuantizedTensor padded = ql.q;  // keep the padded columns: activations are padded too
  padded.cols = ql.q.padded_cols;
  op.w = dequantize(padded);
  op.act.rot = ql.rot;
  op.act.quantize = true;
  op.act.format = ql.q.format;
  op.act.global_scale = ql.input_global_scale;
  return op;
}

Block make_quantized_block(const Block& fb, const std::vector<QuantizedLinear>& lins) {
  Block b;
  b.attn_norm = fb.attn_norm, b.mlp_norm = fb.mlp_norm;
  b.q_norm = fb.q_norm, b.k_norm = fb.k_norm;
  const auto names = block_linear_names(0);
  if (lins.size() != names.size()) throw Error("quantized block: expected 7 linear layers");
  for (size_t i = 0; i < names.size(); ++i)
    b.*(names[i].member) = make_linear(lins[i], (fb.*(names[i].member)).in);
  return b;
}

std::vector<int> calibration_windows(const std::vector<int>& tokens, int nsamples, int seqlen,
                                     uint64_t seed) {
  if (nsamples <= 0 || seqlen <= 1)
    throw Error("calibration: --nsamples and --seqlen must be positive");
  if (int64_t(tokens.size()) < seqlen)
    throw Error("calibration: the text has " + std::to_string(tokens.size()) +
                " tokens, fewer than one window of " + std::to_string(seqlen));
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int64_t> start(0, int64_t(tokens.size()) - seqlen);
  std::vector<int> out;
  out.reserve(size_t(nsamples) * size_t(seqlen));
  for (int s = 0; s < nsamples; ++s) {
    const int64_t a = start(rng);
    out.insert(out.end(), tokens.begin() + a, tokens.begin() + a + seqlen);
  }
  return out;
}

namespace {

int slot_index(Slot s) {
  return int(s);
}

// Rotation a method places before each linear input of width `in`.
Rotation input_rotation(const LayerConfig& lc, int64_t in) {
  if (!method_rotates(lc.method)) return {};
  const int group = format_info(lc.format).group;
  const int block = lc.rotation_block ? lc.rotation_block : group;
  return Rotation::make(round_up(in, std::max(group, block)), block, lc.rotation_seed);
}

// Calibration tokens per block_forward call. The block's intermediate
// activations (the MLP's are intermediate/dim times the input: 3.5x for
// Llama-3) then stay bounded however many windows calibrate: only the
// block inputs/outputs of all windows, [nsamples * seqlen, dim], are held.
constexpr int64_t kChunkTokens = 4096;

// Runs `b` over the windows of `h` a few windows at a time (attention never
// crosses a window, so this is the same computation); writes the outputs
// back into `h` when `update`.
void forward_in_chunks(const ModelConfig& c, const Block& b, MatrixF& h, int L,
                       const BlockHooks* hooks, bool update) {
  const int64_t windows = h.rows / L, per = std::max<int64_t>(1, kChunkTokens / L);
  for (int64_t w0 = 0; w0 < windows; w0 += per) {
    const int64_t n = std::min(per, windows - w0);
    MatrixF part(n * L, h.cols);
    std::copy(h.row(w0 * L), h.row(w0 * L) + part.size(), part.data.begin());
    block_forward(c, b, part, L, hooks);
    if (update) std::copy(part.data.begin(), part.data.end(), h.row(w0 * L));
  }
}

}  // namespace

void quantize_model(const ModelSource& src, const std::vector<int>& windows,
                    const PipelineConfig& cfg, const BlockSink& sink,
                    const std::function<void(int, const std::string&)>& progress) {
  const ModelConfig& c = src.config();
  const int L = cfg.seqlen;
  if (windows.empty() || windows.size() % size_t(L)) throw Error("calibration windows malformed");
  MatrixF h = src.embed(windows);
  const bool act_quant = !cfg.weights_only;

  for (int layer = 0; layer < c.n_layers; ++layer) {
    const auto t0 = std::chrono::steady_clock::now();
    Block fb = src.load_block(layer);
    const auto names = block_linear_names(layer);

    // 1. Hessians of the four distinct linear inputs, and (W4A4) their amax
    //    after rotation, from which NVFP4 activation scales are fixed.
    std::vector<std::unique_ptr<HessianAccumulator>> hess(kNumSlots);
    std::vector<float> amax(kNumSlots, 0.f);
    std::vector<Rotation> rot(kNumSlots);
    for (const auto& n : names) {
      const int s = slot_index(n.slot);
      const int64_t in = (fb.*(n.member)).in;
      if (!hess[size_t(s)]) {
        hess[size_t(s)] = std::make_unique<HessianAccumulator>(in);
        rot[size_t(s)] = input_rotation(cfg.layer, in);
      }
    }
    BlockHooks hooks;
    hooks.on_input = [&](Slot slot, const MatrixF& x) {
      const size_t s = size_t(slot_index(slot));
      hess[s]->add(x.data.data(), x.rows);
      if (act_quant) {
        const Rotation& r = rot[s];
        const int64_t w = r.identity() ? x.cols : r.dim;
        MatrixF xr(x.rows, w);
        for (int64_t t = 0; t < x.rows; ++t) std::copy(x.row(t), x.row(t) + x.cols, xr.row(t));
        if (!r.identity()) r.apply_rows(xr.data.data(), xr.rows);
        float m = 0.f;
        for (float v : xr.data) m = std::max(m, std::fabs(v));
        amax[s] = std::max(amax[s], m);
      }
    };
    forward_in_chunks(c, fb, h, L, &hooks, false);
    std::vector<MatrixD> H(kNumSlots);
    for (int s = 0; s < kNumSlots; ++s) H[size_t(s)] = hess[size_t(s)]->finalize();
    hess.clear();
    if (progress) progress(layer, "calibrated");

    // 2. Quantize every linear of the block.
    BlockResult res;
    res.layer = layer;
    for (const auto& n : names) {
      const auto q0 = std::chrono::steady_clock::now();
      const LinearOp& op = fb.*(n.member);
      const size_t s = size_t(slot_index(n.slot));
      LayerConfig lc = cfg.layer;
      lc.name = n.prefix + ".weight";
      LayerResult lr = quantize_layer(op.w, &H[s], lc);
      QuantizedLinear ql;
      ql.name = n.prefix;
      ql.q = std::move(lr.q);
      ql.rot = lr.rotation;
      ql.bias = op.bias;
      ql.act_quant = act_quant;
      if (act_quant && cfg.layer.format == Format::NVFP4)
        ql.input_global_scale = nvfp4_global_scale(amax[s]);
      LinearReport rep;
      rep.name = n.prefix;
      rep.rows = op.w.rows, rep.cols = op.w.cols;
      rep.rel_error = relative_error(op.w, lr.dequant);
      rep.hessian_error = hessian_relative_error(op.w, lr.dequant, H[s]);
      rep.damp = lr.damp_used, rep.damp_increases = lr.damp_increases;
      rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - q0).count();
      res.linears.push_back(std::move(ql));
      res.reports.push_back(rep);
      if (progress) progress(layer, "quantized " + n.prefix);
    }
    H.clear();

    // 3. The quantized block produces the next block's inputs.
    {
      Block qb = make_quantized_block(fb, res.linears);
      forward_in_chunks(c, qb, h, L, nullptr, true);
    }
    res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (progress) progress(layer, "propagated");
    sink(fb, res);
  }
}

}  // namespace mrgptq
