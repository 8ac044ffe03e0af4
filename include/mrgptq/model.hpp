// Llama-family decoder models: configuration, streaming weight sources
// (llama2.c checkpoints, Hugging Face safetensors folders, our own quantized
// folders), the float32 forward pass and perplexity.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mrgptq/formats.hpp"
#include "mrgptq/hadamard.hpp"
#include "mrgptq/matrix.hpp"
#include "mrgptq/tokenizer.hpp"

namespace mrgptq {

enum class RopeStyle : uint8_t {
  Interleaved,  // llama2.c: rotate adjacent pairs (x0,x1), (x2,x3), ...
  Half,         // Hugging Face: rotate (x_i, x_{i+d/2})
};

struct ModelConfig {
  std::string arch;  // "llama2c", "llama", "mistral", "qwen2", "qwen3"
  int dim = 0, hidden_dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int vocab_size = 0, max_seq_len = 0;
  float rope_theta = 10000.f;
  float norm_eps = 1e-5f;
  RopeStyle rope_style = RopeStyle::Half;
  struct Llama3Rope {
    bool enabled = false;
    float factor = 8.f, low_freq_factor = 1.f, high_freq_factor = 4.f;
    int original_max_position = 8192;
  } rope_llama3;
  bool tied_embeddings = false;
  bool qk_norm = false;        // Qwen3: RMSNorm on each q/k head
  bool qkv_bias = false;       // Qwen2
  std::string hf_config_json;  // the source config.json text (empty for llama2.c)
};

// What an FP4 layer does to its input before the product: the block
// rotation (x -> R^T x) and, for W4A4, FP4 quantization of the rotated input.
struct ActQuant {
  Rotation rot;           // identity: none
  bool quantize = false;  // W4A4
  Format format = Format::MXFP4;
  float global_scale = 0.f;  // NVFP4: calibrated, then fixed
};

// y = act(x) W^T + b, with W [out, in_padded] (a quantized layer holds its
// dequantized weight in the rotated, padded basis).
struct LinearOp {
  MatrixF w;
  std::vector<float> bias;  // empty or [out]
  int64_t in = 0;           // logical input width
  ActQuant act;

  int64_t out() const { return w.rows; }
  MatrixF apply(const MatrixF& x) const;  // x: [T, in] -> [T, out]
};

enum class Slot : uint8_t { QKV, O, GateUp, Down };
inline constexpr int kNumSlots = 4;
const char* to_string(Slot s);

struct Block {
  LinearOp q, k, v, o, gate, up, down;
  std::vector<float> attn_norm, mlp_norm, q_norm, k_norm;  // q/k norms: Qwen3 only
};

// The HF names of block i's linear layers, e.g. "model.layers.3.self_attn.q_proj".
struct LinearName {
  std::string prefix;
  Slot slot;
  LinearOp Block::*member;
};
std::vector<LinearName> block_linear_names(int layer);

struct BlockHooks {
  // Called with the input of each slot (before rotation/quantization).
  std::function<void(Slot, const MatrixF&)> on_input;
};

// h: [n_seq * seq_len, dim], n_seq independent causal sequences; in place.
void block_forward(const ModelConfig& cfg, const Block& b, MatrixF& h, int seq_len,
                   const BlockHooks* hooks = nullptr);
void rms_norm(const float* x, const float* w, float* out, int64_t n, float eps);

class ModelSource {
 public:
  virtual ~ModelSource() = default;
  virtual const ModelConfig& config() const = 0;
  virtual const Tokenizer& tokenizer() const = 0;
  virtual std::string dir() const = 0;
  // Rows of the embedding table for `tokens`: [tokens, dim].
  virtual MatrixF embed(const std::vector<int>& tokens) const = 0;
  virtual std::vector<float> final_norm() const = 0;
  virtual LinearOp classifier() const = 0;  // [vocab, dim]
  // One block in float32, read from the mapped files now (streaming).
  virtual Block load_block(int i) const = 0;
};

// Opens a llama2.c folder (*.bin + tokenizer.bin), a Hugging Face folder, or
// a folder written by `mrgptq quantize` (config.json with quantization_config).
std::unique_ptr<ModelSource> open_model(const std::string& dir);
std::unique_ptr<ModelSource> open_llama2c(const std::string& dir);
std::unique_ptr<ModelSource> open_hf(const std::string& dir);
// Our quantized folders are HF folders with an "mrgptq" config section.
std::unique_ptr<ModelSource> open_quantized(const std::string& dir);

struct PerplexityResult {
  double perplexity = 0;
  double nll_sum = 0;
  int64_t tokens = 0;     // length of the token stream
  int64_t predicted = 0;  // tokens scored
  int64_t windows = 0;
};

using BlockProvider = std::function<Block(int layer)>;
using ProgressFn = std::function<void(int64_t done, int64_t total)>;

// Standard protocol: consecutive non-overlapping windows of seq_len tokens
// (last partial dropped); mean NLL of tokens 1..L-1 of each window given the
// earlier tokens of that window. Runs block by block over all windows.
PerplexityResult perplexity(const ModelSource& m, const std::vector<int>& tokens, int seq_len,
                            int max_windows = 0, const BlockProvider& blocks = {},
                            const ProgressFn& progress = {});

}  // namespace mrgptq
