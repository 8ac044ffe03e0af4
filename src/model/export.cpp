// Writes a quantized model folder (see include/mrgptq/export.hpp).
#include "mrgptq/export.hpp"

#include <cstdio>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "mrgptq/error.hpp"
#include "mrgptq/safetensors.hpp"
#include "shard_stream.hpp"
#include "staging_dir.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace mrgptq {
namespace {

// Field for field what compressed-tensors' NVFP4 / MXFP4 presets serialise to
// (QuantizationArgs after its validators: weights get the "memoryless_minmax"
// observer, scale_dtype is written as a torch dtype string, zp_dtype is null
// for symmetric schemes). NVFP4 activations: dynamic "local" (per-group E4M3
// scales computed online, one static tensor scale: input_global_scale);
// MXFP4 activations: fully dynamic, no observer.
json quantization_config(const PipelineConfig& cfg) {
  const FormatInfo& fi = format_info(cfg.layer.format);
  const bool nv = cfg.layer.format == Format::NVFP4;
  json w = {{"num_bits", 4},
            {"type", "float"},
            {"symmetric", true},
            {"group_size", fi.group},
            {"strategy", nv ? "tensor_group" : "group"},
            {"block_structure", nullptr},
            {"dynamic", false},
            {"actorder", nullptr},
            {"scale_dtype", nv ? "torch.float8_e4m3fn" : "torch.uint8"},
            {"zp_dtype", nullptr},
            {"observer", "memoryless_minmax"},
            {"observer_kwargs", json::object()}};
  json group = {{"targets", {"Linear"}},
                {"weights", w},
                {"output_activations", nullptr},
                {"format", fi.ct_format}};
  if (cfg.weights_only) {
    group["input_activations"] = nullptr;
  } else {
    json a = w;
    a["dynamic"] = nv ? json("local") : json(true);
    a["observer"] = nv ? json("static_minmax") : json(nullptr);
    group["input_activations"] = a;
  }
  return {{"quant_method", "compressed-tensors"},
          {"format", fi.ct_format},
          {"quantization_status", "compressed"},
          {"config_groups", {{"group_0", group}}},
          {"ignore", {"lm_head"}},
          {"kv_cache_scheme", nullptr},
          {"global_compression_ratio", nullptr}};
}

json llama2c_as_hf_config(const ModelConfig& c) {
  return {{"architectures", {"LlamaForCausalLM"}},
          {"model_type", "llama"},
          {"hidden_size", c.dim},
          {"intermediate_size", c.hidden_dim},
          {"num_hidden_layers", c.n_layers},
          {"num_attention_heads", c.n_heads},
          {"num_key_value_heads", c.n_kv_heads},
          {"head_dim", c.head_dim},
          {"vocab_size", c.vocab_size},
          {"max_position_embeddings", c.max_seq_len},
          {"rope_theta", c.rope_theta},
          {"rms_norm_eps", c.norm_eps},
          {"tie_word_embeddings", c.tied_embeddings},
          {"hidden_act", "silu"},
          {"torch_dtype", "float32"}};
}

// The dtype the source's config.json gives its weights (torch_dtype, or dtype
// in newer transformers); float32 for llama2.c and when unnamed.
DType embedding_dtype(const ModelConfig& c) {
  if (c.hf_config_json.empty()) return DType::F32;
  const json j = json::parse(c.hf_config_json);
  const std::string t = j.value("torch_dtype", j.value("dtype", std::string("float32")));
  return t == "bfloat16" ? DType::BF16 : t == "float16" ? DType::F16 : DType::F32;
}

// Appends float32 values as `dt`, refusing to round: the copy must be exact
// (the reloaded model must compute what the in-memory one did).
void append_converted(StreamingShardWriter& w, const float* x, int64_t n, DType dt,
                      const std::string& name) {
  if (dt == DType::F32) return w.append(x, n * int64_t(sizeof(float)));
  std::vector<uint16_t> h(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    h[size_t(i)] = dt == DType::BF16 ? f32_to_bf16(x[i]) : f32_to_f16(x[i]);
    const float back = dt == DType::BF16 ? bf16_to_f32(h[size_t(i)]) : f16_to_f32(h[size_t(i)]);
    if (back != x[i] && !(std::isnan(back) && std::isnan(x[i])))
      throw Error(name + ": value " + std::to_string(x[i]) + " is not exactly representable in " +
                  dtype_name(dt) + ", the dtype config.json names for the model's weights");
  }
  w.append(h.data(), n * 2);
}

}  // namespace

// llama2.c rotates adjacent pairs; HF Llama rotates halves. Row r' = j*hd/2 + i
// of a head takes old row 2i + j, turning one convention into the other.
std::vector<int64_t> llama2c_to_hf_row_order(int64_t rows, int head_dim) {
  std::vector<int64_t> order(static_cast<size_t>(rows));
  const int half = head_dim / 2;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t head = r / head_dim, w = r % head_dim, j = w / half, i = w % half;
    order[size_t(r)] = head * head_dim + 2 * i + j;
  }
  return order;
}

void permute_quantized_rows(QuantizedTensor& q, const std::vector<int64_t>& order, bool inverse) {
  const int64_t pb = q.padded_cols / 2, g = q.groups_per_row();
  std::vector<uint8_t> packed(q.packed.size()), scales(q.scales.size());
  for (int64_t r = 0; r < q.rows; ++r) {
    const int64_t to = inverse ? order[size_t(r)] : r, from = inverse ? r : order[size_t(r)];
    std::memcpy(&packed[size_t(to * pb)], &q.packed[size_t(from * pb)], size_t(pb));
    std::memcpy(&scales[size_t(to * g)], &q.scales[size_t(from * g)], size_t(g));
  }
  q.packed.swap(packed);
  q.scales.swap(scales);
}

QuantizedExport::QuantizedExport(const ModelSource& src, const PipelineConfig& cfg,
                                 const std::string& out, bool force)
    : src_(src),
      cfg_(cfg),
      staging_(std::make_unique<StagingDir>(out, force)),
      tmp_(staging_->path()) {}

QuantizedExport::~QuantizedExport() = default;

std::string QuantizedExport::shard_name(int i) const {
  char buf[64];
  std::snprintf(buf, sizeof buf, "model-%05d-of-%05d.safetensors", i + 1,
                src_.config().n_layers + 1);
  return buf;
}

void QuantizedExport::add_block(const Block& fb, const BlockResult& r) {
  const ModelConfig& c = src_.config();
  const bool llama2c = c.rope_style == RopeStyle::Interleaved;
  const std::string p = "model.layers." + std::to_string(r.layer) + ".";
  SafetensorsWriter w;
  auto put_f32 = [&](const std::string& name, const std::vector<float>& v) {
    w.add_f32(name, {int64_t(v.size())}, v.data());
    weight_map_[name] = shard_name(r.layer);
  };
  put_f32(p + "input_layernorm.weight", fb.attn_norm);
  put_f32(p + "post_attention_layernorm.weight", fb.mlp_norm);
  if (c.qk_norm) {
    put_f32(p + "self_attn.q_norm.weight", fb.q_norm);
    put_f32(p + "self_attn.k_norm.weight", fb.k_norm);
  }
  for (const QuantizedLinear& ql0 : r.linears) {
    QuantizedLinear ql = ql0;
    const bool is_qk = ql.name.ends_with("q_proj") || ql.name.ends_with("k_proj");
    if (llama2c && is_qk)
      permute_quantized_rows(ql.q, llama2c_to_hf_row_order(ql.q.rows, c.head_dim), false);
    const QuantizedTensor& q = ql.q;
    const std::string n = ql.name;
    const std::string proj = n.substr(n.rfind('.') + 1);
    if (!dims_.contains(proj))
      dims_[proj] = {
          {"in_features", q.cols}, {"in_padded", q.padded_cols}, {"out_features", q.rows}};
    w.add(n + ".weight_packed", DType::U8, {q.rows, q.padded_cols / 2}, q.packed);
    w.add(n + ".weight_scale", q.format == Format::NVFP4 ? DType::F8_E4M3 : DType::U8,
          {q.rows, q.groups_per_row()}, q.scales);
    std::vector<std::string> names = {n + ".weight_packed", n + ".weight_scale"};
    if (q.format == Format::NVFP4) {
      w.add_f32(n + ".weight_global_scale", {1}, &q.global_scale);
      names.push_back(n + ".weight_global_scale");
      if (ql.act_quant) {
        w.add_f32(n + ".input_global_scale", {1}, &ql.input_global_scale);
        names.push_back(n + ".input_global_scale");
      }
    }
    if (!ql.bias.empty()) {
      w.add_f32(n + ".bias", {int64_t(ql.bias.size())}, ql.bias.data());
      names.push_back(n + ".bias");
    }
    for (const auto& nm : names) weight_map_[nm] = shard_name(r.layer);
  }
  w.write((fs::path(tmp_) / shard_name(r.layer)).string());
}

void QuantizedExport::finish() {
  const ModelConfig& c = src_.config();
  const std::string last = shard_name(c.n_layers);
  // The vocabulary-sized tensors are streamed a slice at a time (for Llama-3
  // shapes each is 2 GB in float32), in the source's dtype when its config
  // names one, so that they are copied exactly and no larger than they came.
  const DType dt = embedding_dtype(c);
  std::vector<ShardEntry> entries = {{"model.embed_tokens.weight", dt, {c.vocab_size, c.dim}},
                                     {"model.norm.weight", DType::F32, {c.dim}}};
  if (!c.tied_embeddings) entries.push_back({"lm_head.weight", dt, {c.vocab_size, c.dim}});
  for (const ShardEntry& e : entries) weight_map_[e.name] = last;
  StreamingShardWriter w((fs::path(tmp_) / last).string(), entries);
  constexpr int kRows = 4096;
  for (int r0 = 0; r0 < c.vocab_size; r0 += kRows) {
    std::vector<int> ids(size_t(std::min(kRows, c.vocab_size - r0)));
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = r0 + int(i);
    const MatrixF e = src_.embed(ids);
    append_converted(w, e.data.data(), int64_t(e.data.size()), dt, "model.embed_tokens.weight");
  }
  const std::vector<float> norm = src_.final_norm();
  w.append(norm.data(), int64_t(norm.size() * sizeof(float)));
  if (!c.tied_embeddings) {
    const LinearOp cls = src_.classifier();
    append_converted(w, cls.w.data.data(), int64_t(cls.w.data.size()), dt, "lm_head.weight");
  }
  w.close();

  json config = c.hf_config_json.empty() ? llama2c_as_hf_config(c) : json::parse(c.hf_config_json);
  config["quantization_config"] = quantization_config(cfg_);
  const LayerConfig& lc = cfg_.layer;
  const int block = method_rotates(lc.method)
                        ? (lc.rotation_block ? lc.rotation_block : format_info(lc.format).group)
                        : 0;
  config["mrgptq"] = {
      {"version", 1},
      {"method", to_string(lc.method)},
      {"format", to_string(lc.format)},
      {"weights_only", cfg_.weights_only},
      {"rotation",
       {{"block", block},
        {"sign_seed", lc.rotation_seed ? json(*lc.rotation_seed) : json(nullptr)},
        {"applies_to",
         {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}},
        {"dims", dims_},
        {"convention",
         "weight codes are W*R over the input dimension zero-padded to a multiple of "
         "max(group, block); the layer input x is zero-padded alike and rotated x -> R^T x"}}},
      {"activations",
       cfg_.weights_only
           ? json("bf16/fp32")
           : json(std::string(to_string(lc.format)) +
                  " round-to-nearest after the same rotation, format default scale rule")},
      {"source", c.arch}};
  {
    std::ofstream f(fs::path(tmp_) / "config.json");
    f << config.dump(2) << "\n";
  }
  {
    json index = {{"metadata", {{"format", "mrgptq"}}}, {"weight_map", weight_map_}};
    std::ofstream f(fs::path(tmp_) / "model.safetensors.index.json");
    f << index.dump(2) << "\n";
  }
  for (const char* name :
       {"tokenizer.json", "tokenizer.model", "tokenizer.bin", "tokenizer_config.json",
        "special_tokens_map.json", "generation_config.json"}) {
    const fs::path from = fs::path(src_.dir()) / name;
    if (fs::exists(from)) fs::copy_file(from, fs::path(tmp_) / name);
  }
}

void QuantizedExport::write_report(const json& report, const std::string& markdown) {
  std::ofstream(fs::path(tmp_) / "report.json") << report.dump(2) << "\n";
  std::ofstream(fs::path(tmp_) / "report.md") << markdown;
}

void QuantizedExport::commit() {
  staging_->commit();
}

}  // namespace mrgptq
