// Whole-model quantization, GPTQ-style and sequential: block by block, the
// calibration windows run through the block, one Hessian per linear input
// (q/k/v share one, gate/up share one), every linear is quantized, and the
// windows run through the QUANTIZED block to become the next block's inputs.
// Each finished block is handed to a sink (the exporter) and dropped, so peak
// memory is about one block plus the calibration activations.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "mrgptq/layer.hpp"
#include "mrgptq/model.hpp"

namespace mrgptq {

inline constexpr int kProgressStepsPerBlock = 9;

struct PipelineConfig {
  LayerConfig layer;          // format, method, scale rule, rotation block, damping
  bool weights_only = false;  // W4A16; otherwise W4A4 (activations quantized online)
  int nsamples = 128;
  int seqlen = 256;
  uint64_t seed = 0;
};

// One quantized linear as stored: codes and scales in the rotated, padded
// basis, the rotation, and for W4A4 the fixed activation global scale.
struct QuantizedLinear {
  std::string name;  // HF prefix, e.g. model.layers.0.self_attn.q_proj
  QuantizedTensor q;
  Rotation rot;
  bool act_quant = false;
  float input_global_scale = 0.f;  // NVFP4 W4A4
  std::vector<float> bias;
};

struct LinearReport {
  std::string name;
  int64_t rows = 0, cols = 0;
  double rel_error = 0;      // ||W - What|| / ||W||
  double hessian_error = 0;  // tr(D H D^T) / tr(W H W^T)
  double damp = 0;
  int damp_increases = 0;
  double seconds = 0;
};

// The LinearOp a quantized linear becomes: weights-only -> the dequantized
// weight in the original basis; W4A4 -> the dequantized weight in the rotated,
// padded basis behind the activation rotation + quantization. In-memory
// evaluation and reloading from disk both go through this one function.
LinearOp make_linear(const QuantizedLinear& ql, int64_t in_features);

// A float block with its linears replaced by quantized ones (same order as
// block_linear_names()).
Block make_quantized_block(const Block& float_block, const std::vector<QuantizedLinear>& lins);

struct BlockResult {
  int layer = 0;
  std::vector<QuantizedLinear> linears;
  std::vector<LinearReport> reports;
  double seconds = 0;
};

using BlockSink = std::function<void(const Block& float_block, BlockResult& result)>;

// Draws nsamples random windows of seqlen tokens from `calib_tokens` (seeded).
std::vector<int> calibration_windows(const std::vector<int>& calib_tokens, int nsamples, int seqlen,
                                     uint64_t seed);

// Runs the sequential quantization over `windows` (nsamples * seqlen tokens).
// `progress` is called kProgressStepsPerBlock times per block, after each
// unit of work: "calibrated", "quantized <linear>" (7x), "propagated".
void quantize_model(const ModelSource& src, const std::vector<int>& windows,
                    const PipelineConfig& cfg, const BlockSink& sink,
                    const std::function<void(int layer, const std::string& what)>& progress = {});

}  // namespace mrgptq
