// LinearOp: the one place a model multiplies by a weight, so that swapping a
// float layer for an FP4 one (rotation + activation quantization) is local.
#include <cblas.h>

#include <algorithm>
#include <cstring>

#include "mrgptq/model.hpp"

namespace mrgptq {

MatrixF LinearOp::apply(const MatrixF& x) const {
  const int64_t T = x.rows;
  const int64_t kp = w.cols;  // padded input width
  const MatrixF* src = &x;
  MatrixF xt;
  if (kp != x.cols || !act.rot.identity() || act.quantize) {
    xt = MatrixF(T, kp);
    for (int64_t t = 0; t < T; ++t) std::memcpy(xt.row(t), x.row(t), sizeof(float) * x.cols);
    if (!act.rot.identity()) act.rot.apply_rows(xt.data.data(), T);
    if (act.quantize) {
      QuantOptions qo;
      qo.rule = format_info(act.format).default_rule;
      qo.global_scale = act.global_scale;
      qo.name = "activation";
      QuantizedTensor q = quantize_rtn(xt.data.data(), T, kp, act.format, qo);
      dequantize(q, xt.data.data());
    }
    src = &xt;
  }
  MatrixF y(T, w.rows);
  if (!bias.empty())
    for (int64_t t = 0; t < T; ++t) std::copy(bias.begin(), bias.end(), y.row(t));
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(T), int(w.rows), int(kp), 1.f,
              src->data.data(), int(kp), w.data.data(), int(kp), bias.empty() ? 0.f : 1.f,
              y.data.data(), int(w.rows));
  return y;
}

const char* to_string(Slot s) {
  switch (s) {
    case Slot::QKV:
      return "qkv";
    case Slot::O:
      return "o";
    case Slot::GateUp:
      return "gate_up";
    case Slot::Down:
      return "down";
  }
  return "?";
}

std::vector<LinearName> block_linear_names(int layer) {
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  return {{p + "self_attn.q_proj", Slot::QKV, &Block::q},
          {p + "self_attn.k_proj", Slot::QKV, &Block::k},
          {p + "self_attn.v_proj", Slot::QKV, &Block::v},
          {p + "self_attn.o_proj", Slot::O, &Block::o},
          {p + "mlp.gate_proj", Slot::GateUp, &Block::gate},
          {p + "mlp.up_proj", Slot::GateUp, &Block::up},
          {p + "mlp.down_proj", Slot::Down, &Block::down}};
}

}  // namespace mrgptq
