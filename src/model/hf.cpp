// Hugging Face folders: config.json + model.safetensors, or shards listed in
// model.safetensors.index.json; F32 / F16 / BF16, memory-mapped, one block
// converted to float32 at a time.
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>

#include "mrgptq/error.hpp"
#include "mrgptq/export.hpp"
#include "mrgptq/model.hpp"
#include "mrgptq/pipeline.hpp"
#include "mrgptq/safetensors.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace mrgptq {
namespace {

// Architectures we run, from config.json's "architectures".
const std::map<std::string, std::string> kArchitectures = {
    {"LlamaForCausalLM", "llama"},
    {"MistralForCausalLM", "mistral"},
    {"Qwen2ForCausalLM", "qwen2"},
    {"Qwen3ForCausalLM", "qwen3"},
};

ModelConfig parse_config(const std::string& path) {
  json j;
  try {
    j = json::parse(read_text_file(path));
  } catch (const json::exception& e) {
    throw Error(path + ": not valid JSON (" + e.what() + ")");
  }
  auto need = [&](const char* key) -> const json& {
    if (!j.contains(key) || j[key].is_null())
      throw Error(path + ": missing field \"" + std::string(key) + "\"");
    return j[key];
  };
  ModelConfig c;
  const json& archs = need("architectures");
  if (!archs.is_array() || archs.empty()) throw Error(path + ": \"architectures\" is empty");
  const std::string a = archs[0].get<std::string>();
  auto it = kArchitectures.find(a);
  if (it == kArchitectures.end())
    throw Error(
        path + ": unsupported architecture " + a +
        " (supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM)");
  c.arch = it->second;
  try {
    c.dim = need("hidden_size").get<int>();
    c.hidden_dim = need("intermediate_size").get<int>();
    c.n_layers = need("num_hidden_layers").get<int>();
    c.n_heads = need("num_attention_heads").get<int>();
    c.n_kv_heads = j.value("num_key_value_heads", c.n_heads);
    c.vocab_size = need("vocab_size").get<int>();
    c.head_dim = j.contains("head_dim") && !j["head_dim"].is_null()
                     ? j["head_dim"].get<int>()
                     : c.dim / std::max(1, c.n_heads);
    c.max_seq_len = j.value("max_position_embeddings", 2048);
    c.rope_theta = j.value("rope_theta", 10000.f);
    c.norm_eps = j.value("rms_norm_eps", 1e-6f);
    c.tied_embeddings = j.value("tie_word_embeddings", false);
    if (j.contains("rope_scaling") && j["rope_scaling"].is_object()) {
      const json& r = j["rope_scaling"];
      const std::string type = r.value("rope_type", r.value("type", std::string()));
      if (type == "llama3") {
        c.rope_llama3.enabled = true;
        c.rope_llama3.factor = r.value("factor", 8.f);
        c.rope_llama3.low_freq_factor = r.value("low_freq_factor", 1.f);
        c.rope_llama3.high_freq_factor = r.value("high_freq_factor", 4.f);
        c.rope_llama3.original_max_position = r.value("original_max_position_embeddings", 8192);
      } else if (!type.empty() && type != "default") {
        throw Error(path + ": unsupported rope_scaling type \"" + type + "\"");
      }
    }
  } catch (const json::exception& e) {
    throw Error(path + ": bad field type (" + e.what() + ")");
  }
  if (c.dim <= 0 || c.hidden_dim <= 0 || c.n_layers <= 0 || c.n_heads <= 0 || c.n_kv_heads <= 0 ||
      c.vocab_size <= 0 || c.head_dim <= 0 || c.n_heads % c.n_kv_heads)
    throw Error(
        path +
        ": inconsistent sizes (heads, kv heads, dims must be positive; heads % kv_heads == 0)");
  c.qk_norm = c.arch == "qwen3";
  c.qkv_bias = c.arch == "qwen2" || j.value("attention_bias", false);
  c.rope_style = RopeStyle::Half;
  c.hf_config_json = j.dump(2);
  return c;
}

class HfSource final : public ModelSource {
 public:
  explicit HfSource(const std::string& dir) : dir_(dir) {
    const fs::path d(dir);
    c_ = parse_config((d / "config.json").string());
    const json cj = json::parse(c_.hf_config_json);
    if (cj.contains("mrgptq")) read_quantization(cj["mrgptq"], (d / "config.json").string());
    const fs::path index = d / "model.safetensors.index.json";
    if (fs::exists(index)) {
      json j;
      try {
        j = json::parse(read_text_file(index.string()));
      } catch (const json::exception& e) {
        throw Error(index.string() + ": not valid JSON (" + e.what() + ")");
      }
      if (!j.contains("weight_map") || !j["weight_map"].is_object())
        throw Error(index.string() + ": missing \"weight_map\"");
      for (auto& [name, file] : j["weight_map"].items()) {
        const std::string f = file.get<std::string>();
        if (!files_.count(f)) files_[f] = std::make_unique<SafetensorsReader>((d / f).string());
        where_[name] = files_[f].get();
      }
    } else if (fs::exists(d / "model.safetensors")) {
      auto r = std::make_unique<SafetensorsReader>((d / "model.safetensors").string());
      for (const auto& t : r->tensors()) where_[t.name] = r.get();
      files_["model.safetensors"] = std::move(r);
    } else {
      throw Error(dir + ": no model.safetensors or model.safetensors.index.json");
    }
    tok_ = load_tokenizer_from_dir(dir, c_.vocab_size);
    const TensorView& e = view("model.embed_tokens.weight");
    check_shape(e, {c_.vocab_size, c_.dim});
  }

  const ModelConfig& config() const override { return c_; }
  const Tokenizer& tokenizer() const override { return *tok_; }
  std::string dir() const override { return dir_; }

  MatrixF embed(const std::vector<int>& tokens) const override {
    const TensorView& e = view("model.embed_tokens.weight");
    const SafetensorsReader& r = *where_.at(e.name);
    MatrixF x(int64_t(tokens.size()), c_.dim);
    const size_t es = dtype_size(e.dtype), row_bytes = es * size_t(c_.dim);
    for (size_t t = 0; t < tokens.size(); ++t) {
      if (tokens[t] < 0 || tokens[t] >= c_.vocab_size) throw Error("token id out of range");
      TensorView row = e;  // one row of the table, converted alone
      row.data = e.data + row_bytes * size_t(tokens[t]);
      row.nbytes = row_bytes;
      row.shape = {c_.dim};
      std::vector<float> v = r.to_f32(row);
      std::memcpy(x.row(int64_t(t)), v.data(), row_bytes / es * 4);
    }
    return x;
  }
  std::vector<float> final_norm() const override { return vec("model.norm.weight", c_.dim); }
  LinearOp classifier() const override {
    return lin(c_.tied_embeddings || !where_.count("lm_head.weight") ? "model.embed_tokens.weight"
                                                                     : "lm_head.weight",
               c_.vocab_size, c_.dim, false);
  }

  Block load_block(int l) const override {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    const int64_t D = c_.dim, H = c_.hidden_dim, hd = c_.head_dim;
    const int64_t Q = int64_t(c_.n_heads) * hd, KV = int64_t(c_.n_kv_heads) * hd;
    Block b;
    b.attn_norm = vec(p + "input_layernorm.weight", D);
    b.mlp_norm = vec(p + "post_attention_layernorm.weight", D);
    b.q = lin(p + "self_attn.q_proj.weight", Q, D, c_.qkv_bias);
    b.k = lin(p + "self_attn.k_proj.weight", KV, D, c_.qkv_bias);
    b.v = lin(p + "self_attn.v_proj.weight", KV, D, c_.qkv_bias);
    b.o = lin(p + "self_attn.o_proj.weight", D, Q, false);
    b.gate = lin(p + "mlp.gate_proj.weight", H, D, false);
    b.up = lin(p + "mlp.up_proj.weight", H, D, false);
    b.down = lin(p + "mlp.down_proj.weight", D, H, false);
    if (c_.qk_norm) {
      b.q_norm = vec(p + "self_attn.q_norm.weight", hd);
      b.k_norm = vec(p + "self_attn.k_norm.weight", hd);
    }
    return b;
  }

 private:
  const TensorView& view(const std::string& name) const {
    auto it = where_.find(name);
    if (it == where_.end()) throw Error(dir_ + ": tensor " + name + " not found");
    return it->second->at(name);
  }
  void check_shape(const TensorView& t, std::vector<int64_t> want) const {
    if (t.shape != want) {
      std::string s;
      for (auto d : t.shape) s += (s.empty() ? "" : ", ") + std::to_string(d);
      throw Error(where_.at(t.name)->path() + ": tensor " + t.name + " has shape [" + s +
                  "], the config implies another");
    }
  }
  std::vector<float> vec(const std::string& name, int64_t n) const {
    const TensorView& t = view(name);
    check_shape(t, {n});
    return where_.at(name)->to_f32(t);
  }
  // Our own quantized folders (written by QuantizedExport): the "mrgptq"
  // section says how the stored codes are to be run.
  void read_quantization(const json& m, const std::string& path) {
    try {
      quantized_ = true;
      format_ = parse_format(m.at("format").get<std::string>());
      weights_only_ = m.at("weights_only").get<bool>();
      rot_block_ = m.at("rotation").at("block").get<int>();
      const json& seed = m.at("rotation").at("sign_seed");
      if (!seed.is_null()) seed_ = seed.get<uint64_t>();
      // Quantized from llama2.c: the exporter permuted q/k rows to rotate-half
      // RoPE order for other readers; we undo it and rotate adjacent pairs as
      // llama2.c does, so that the forward pass is the in-memory one exactly.
      if (m.value("source", std::string()) == "llama2c") {
        from_llama2c_ = true;
        c_.rope_style = RopeStyle::Interleaved;
      }
    } catch (const json::exception& e) {
      throw Error(path + ": malformed \"mrgptq\" section (" + e.what() + ")");
    }
  }

  LinearOp quantized_lin(const std::string& prefix, int64_t out, int64_t in, bool bias) const {
    const TensorView& p = view(prefix + ".weight_packed");
    const TensorView& s = view(prefix + ".weight_scale");
    const std::string& file = where_.at(p.name)->path();
    const int group = format_info(format_).group;
    if (p.dtype != DType::U8 || p.shape.size() != 2 || p.shape[0] != out || p.shape[1] * 2 < in ||
        (p.shape[1] * 2) % group)
      throw Error(file + ": " + p.name + " has the wrong dtype or shape for [" +
                  std::to_string(out) + ", >= " + std::to_string(in) + "/2] packed FP4");
    QuantizedLinear ql;
    ql.name = prefix;
    QuantizedTensor& q = ql.q;
    q.format = format_;
    q.rows = out, q.cols = in, q.padded_cols = p.shape[1] * 2;
    const DType sd = format_ == Format::NVFP4 ? DType::F8_E4M3 : DType::U8;
    if (s.dtype != sd || s.shape != std::vector<int64_t>{out, q.padded_cols / group})
      throw Error(file + ": " + s.name + " has the wrong dtype or shape");
    q.packed.assign(p.data, p.data + p.nbytes);
    q.scales.assign(s.data, s.data + s.nbytes);
    if (from_llama2c_ && (prefix.ends_with("q_proj") || prefix.ends_with("k_proj")))
      permute_quantized_rows(q, llama2c_to_hf_row_order(out, c_.head_dim), true);
    if (format_ == Format::NVFP4) q.global_scale = vec(prefix + ".weight_global_scale", 1)[0];
    if (rot_block_ > 0) ql.rot = Rotation::make(q.padded_cols, rot_block_, seed_);
    ql.act_quant = !weights_only_;
    if (ql.act_quant && format_ == Format::NVFP4)
      ql.input_global_scale = vec(prefix + ".input_global_scale", 1)[0];
    if (bias) ql.bias = vec(prefix + ".bias", out);
    return make_linear(ql, in);
  }

  LinearOp lin(const std::string& name, int64_t out, int64_t in, bool bias) const {
    if (quantized_ && name.starts_with("model.layers."))
      return quantized_lin(name.substr(0, name.size() - 7), out, in, bias);
    const TensorView& t = view(name);
    check_shape(t, {out, in});
    LinearOp op;
    op.w.rows = out, op.w.cols = in;
    op.w.data = where_.at(name)->to_f32(t);
    op.in = in;
    if (bias) {
      const std::string bn = name.substr(0, name.size() - 6) + "bias";
      op.bias = vec(bn, out);
    }
    return op;
  }

  std::string dir_;
  ModelConfig c_;
  std::map<std::string, std::unique_ptr<SafetensorsReader>> files_;
  std::map<std::string, const SafetensorsReader*> where_;
  std::unique_ptr<Tokenizer> tok_;
  bool quantized_ = false, weights_only_ = true, from_llama2c_ = false;
  Format format_ = Format::MXFP4;
  int rot_block_ = 0;
  std::optional<uint64_t> seed_;
};

}  // namespace

std::unique_ptr<ModelSource> open_hf(const std::string& dir) {
  return std::make_unique<HfSource>(dir);
}

// Our own output is a Hugging Face folder whose config.json has an "mrgptq"
// section; HfSource reads its packed linears through make_linear().
std::unique_ptr<ModelSource> open_quantized(const std::string& dir) {
  return std::make_unique<HfSource>(dir);
}

}  // namespace mrgptq
