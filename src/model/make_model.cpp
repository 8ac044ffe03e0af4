// Synthetic checkpoints with real models' shapes (see include/mrgptq/make_model.hpp).
#include "mrgptq/make_model.hpp"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "mrgptq/error.hpp"
#include "mrgptq/safetensors.hpp"
#include "shard_stream.hpp"
#include "staging_dir.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace mrgptq {

SyntheticShape synthetic_shape(const std::string& name) {
  // Llama-3-8B / 70B as published (hidden, intermediate, layers, heads, kv heads, vocab).
  if (name == "llama3-8b") return {name, 4096, 14336, 32, 32, 8, 128256, 500000.f, 8192};
  if (name == "llama3-70b") return {name, 8192, 28672, 80, 64, 8, 128256, 500000.f, 8192};
  // Small enough for tests; 688 is not a multiple of 32, so padding is exercised.
  if (name == "tiny") return {name, 256, 688, 2, 4, 2, 32000, 10000.f, 2048};
  throw Error("make-model: unknown shape \"" + name + "\" (llama3-8b, llama3-70b, tiny)");
}

namespace {

struct PlannedTensor {
  std::string name;
  std::vector<int64_t> shape;
  enum Kind { Gaussian, Ones } kind = Gaussian;
  uint64_t stream = 0;  // its own random stream: each tensor is reproducible alone
  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
};

std::vector<PlannedTensor> plan(const SyntheticShape& s, int layers) {
  const int64_t hd = s.hidden / s.heads, kv = int64_t(s.kv_heads) * hd;
  std::vector<PlannedTensor> t;
  auto add = [&](std::string n, std::vector<int64_t> shape, PlannedTensor::Kind k) {
    t.push_back({std::move(n), std::move(shape), k, uint64_t(t.size()) + 1});
  };
  add("model.embed_tokens.weight", {s.vocab, s.hidden}, PlannedTensor::Gaussian);
  for (int l = 0; l < layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    add(p + "input_layernorm.weight", {s.hidden}, PlannedTensor::Ones);
    add(p + "self_attn.q_proj.weight", {s.hidden, s.hidden}, PlannedTensor::Gaussian);
    add(p + "self_attn.k_proj.weight", {kv, s.hidden}, PlannedTensor::Gaussian);
    add(p + "self_attn.v_proj.weight", {kv, s.hidden}, PlannedTensor::Gaussian);
    add(p + "self_attn.o_proj.weight", {s.hidden, s.hidden}, PlannedTensor::Gaussian);
    add(p + "post_attention_layernorm.weight", {s.hidden}, PlannedTensor::Ones);
    add(p + "mlp.gate_proj.weight", {s.intermediate, s.hidden}, PlannedTensor::Gaussian);
    add(p + "mlp.up_proj.weight", {s.intermediate, s.hidden}, PlannedTensor::Gaussian);
    add(p + "mlp.down_proj.weight", {s.hidden, s.intermediate}, PlannedTensor::Gaussian);
  }
  add("model.norm.weight", {s.hidden}, PlannedTensor::Ones);
  add("lm_head.weight", {s.vocab, s.hidden}, PlannedTensor::Gaussian);
  return t;
}

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

constexpr int64_t kChunk = int64_t(1) << 20;  // elements generated per chunk

// Chunk c of a tensor, as BF16: N(0, 0.02^2) (the usual Llama initialiser
// scale) by Box-Muller, from a generator seeded by (seed, tensor, chunk) so
// that chunks can be made in parallel and the result never depends on threads.
void fill_chunk(const PlannedTensor& t, uint64_t seed, int64_t c, int64_t n, uint16_t* out) {
  if (t.kind == PlannedTensor::Ones) {
    for (int64_t i = 0; i < n; ++i) out[i] = f32_to_bf16(1.f);
    return;
  }
  uint64_t st = seed * 0x2545F4914F6CDD1Dull ^ (t.stream << 32) ^ uint64_t(c);
  splitmix64(st);
  for (int64_t i = 0; i < n; i += 2) {
    // u1 in (0, 1]: never log(0).
    const double u1 = double((splitmix64(st) >> 11) + 1) * 0x1.0p-53;
    const double u2 = double(splitmix64(st) >> 11) * 0x1.0p-53;
    const double r = 0.02 * std::sqrt(-2.0 * std::log(u1));
    out[i] = f32_to_bf16(float(r * std::cos(2 * M_PI * u2)));
    if (i + 1 < n) out[i + 1] = f32_to_bf16(float(r * std::sin(2 * M_PI * u2)));
  }
}

std::string shard_name(size_t i, size_t n) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05zu-of-%05zu.safetensors", i + 1, n);
  return buf;
}

// One shard: header first (every size is known in advance), then each
// tensor's bytes, a batch of chunks at a time.
void write_shard(const std::string& path, const std::vector<const PlannedTensor*>& ts,
                 uint64_t seed) {
  std::vector<ShardEntry> entries;
  for (const PlannedTensor* t : ts) entries.push_back({t->name, DType::BF16, t->shape});
  StreamingShardWriter w(path, std::move(entries), {{"format", "pt"}});
  // A few chunks per batch, generated in parallel, then written in order.
  constexpr int kBatch = 8;
  std::vector<uint16_t> buf(size_t(kBatch * kChunk));
  for (const PlannedTensor* t : ts) {
    const int64_t n = t->numel(), chunks = (n + kChunk - 1) / kChunk;
    for (int64_t c0 = 0; c0 < chunks; c0 += kBatch) {
      const int64_t cn = std::min<int64_t>(kBatch, chunks - c0);
#pragma omp parallel for schedule(static)
      for (int64_t k = 0; k < cn; ++k) {
        const int64_t c = c0 + k, len = std::min(kChunk, n - c * kChunk);
        fill_chunk(*t, seed, c, len, &buf[size_t(k * kChunk)]);
      }
      const int64_t elems = std::min(n - c0 * kChunk, cn * kChunk);
      w.append(buf.data(), elems * 2);
    }
  }
  w.close();
}

json hf_config(const SyntheticShape& s, int layers) {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"hidden_size", s.hidden},
          {"intermediate_size", s.intermediate},
          {"num_hidden_layers", layers},
          {"num_attention_heads", s.heads},
          {"num_key_value_heads", s.kv_heads},
          {"head_dim", s.hidden / s.heads},
          {"vocab_size", s.vocab},
          {"max_position_embeddings", s.max_position},
          {"rope_theta", s.rope_theta},
          {"rms_norm_eps", 1e-5},
          {"hidden_act", "silu"},
          {"tie_word_embeddings", false},
          {"attention_bias", false},
          {"bos_token_id", 1},
          {"eos_token_id", 2},
          {"torch_dtype", "bfloat16"},
          {"mrgptq_synthetic",
           {{"shape", s.name}, {"note", "random N(0, 0.02^2) weights, not a trained model"}}}};
}

}  // namespace

int64_t make_synthetic_model(const MakeModelOptions& opt, const std::string& out) {
  const SyntheticShape& s = opt.shape;
  const int layers = opt.layers > 0 ? opt.layers : s.layers;
  if (opt.layers < 0 || layers > s.layers)
    throw Error("make-model: --layers must be between 1 and " + std::to_string(s.layers));
  if (!opt.tokenizer_model.empty() && !fs::is_regular_file(opt.tokenizer_model))
    throw Error(opt.tokenizer_model + ": tokenizer file not found");
  StagingDir st(out, opt.force);

  // Tensors go to shards in order, a new shard when the next one would pass the limit.
  const std::vector<PlannedTensor> ts = plan(s, layers);
  std::vector<std::vector<const PlannedTensor*>> shards(1);
  int64_t in_shard = 0, total = 0;
  for (const PlannedTensor& t : ts) {
    const int64_t b = t.numel() * 2;
    if (in_shard > 0 && in_shard + b > opt.max_shard_bytes) shards.emplace_back(), in_shard = 0;
    shards.back().push_back(&t);
    in_shard += b, total += b;
  }
  json weight_map = json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string name = shard_name(i, shards.size());
    write_shard((fs::path(st.path()) / name).string(), shards[i], opt.seed);
    for (const PlannedTensor* t : shards[i]) weight_map[t->name] = name;
  }
  std::ofstream(fs::path(st.path()) / "model.safetensors.index.json")
      << json({{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}}).dump(2) << "\n";
  std::ofstream(fs::path(st.path()) / "config.json") << hf_config(s, layers).dump(2) << "\n";
  if (!opt.tokenizer_model.empty())
    fs::copy_file(opt.tokenizer_model, fs::path(st.path()) / "tokenizer.model");

  st.commit();
  return total;
}

}  // namespace mrgptq
