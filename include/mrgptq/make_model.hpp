// Synthetic Hugging Face checkpoints with the shapes of real models, for
// memory and speed work: random BF16 weights written as a real sharded
// safetensors folder (config.json, model.safetensors.index.json, shards),
// one tensor at a time so that generating a 70B-shaped model needs no more
// memory than one chunk of one tensor. The weights are synthetic: any figure
// measured on them must say so.
#pragma once
#include <cstdint>
#include <string>

namespace mrgptq {

struct SyntheticShape {
  std::string name;  // "llama3-8b", "llama3-70b", "tiny"
  int hidden = 0, intermediate = 0, layers = 0, heads = 0, kv_heads = 0, vocab = 0;
  float rope_theta = 500000.f;
  int max_position = 8192;
};

// Throws Error for an unknown name.
SyntheticShape synthetic_shape(const std::string& name);

struct MakeModelOptions {
  SyntheticShape shape;
  int layers = 0;  // 0: the shape's own depth
  uint64_t seed = 0;
  int64_t max_shard_bytes = int64_t(5) << 30;  // ~5 GB per shard, as HF does
  std::string tokenizer_model;                 // sentencepiece file copied as tokenizer.model
  bool force = false;
};

// Writes the folder atomically (staged in out.tmp-XXXXXX, renamed at the end).
// Returns the number of bytes of tensor data written.
int64_t make_synthetic_model(const MakeModelOptions& opt, const std::string& out);

}  // namespace mrgptq
