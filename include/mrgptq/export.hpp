// The on-disk form of a quantized model: a Hugging Face folder in the
// compressed-tensors layout (nvfp4-pack-quantized / mxfp4-pack-quantized),
// one safetensors shard per block plus one for embeddings, final norm and
// classifier, written into a temporary sibling folder and renamed into place
// only when complete.
//
// Per quantized linear P: P.weight_packed (U8 [out, in_padded/2]),
// P.weight_scale (U8 E8M0 bytes for MXFP4, F8_E4M3 for NVFP4, [out, in_padded/group]),
// P.weight_global_scale (F32 [1], NVFP4), P.input_global_scale (F32 [1], NVFP4 W4A4).
// Codes are in the rotated basis W R: config.json's "mrgptq" section records the
// rotation (block, sign seed) and that every quantized linear's input is
// rotated x -> R^T x (zero-padded to in_padded first).
// llama2.c sources are exported as LlamaForCausalLM: q/k rows are permuted
// per head from adjacent-pair to rotate-half RoPE order, as llama2.c's own
// Hugging Face exporter does (quantization is per row, so this commutes).
#pragma once
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "mrgptq/model.hpp"
#include "mrgptq/pipeline.hpp"

namespace mrgptq {

class StagingDir;

// Row order turning llama2.c's adjacent-pair RoPE layout of q/k rows into
// Hugging Face's rotate-half layout: HF row r is llama2.c row order[r].
std::vector<int64_t> llama2c_to_hf_row_order(int64_t rows, int head_dim);
// Reorders a quantized tensor's rows (codes and scales together): row r
// becomes old row order[r], or with `inverse` old row r moves to order[r].
void permute_quantized_rows(QuantizedTensor& q, const std::vector<int64_t>& order, bool inverse);

class QuantizedExport {
 public:
  // Refuses an existing `out` unless `force`; stages into out.tmp-XXXXXX.
  QuantizedExport(const ModelSource& src, const PipelineConfig& cfg, const std::string& out,
                  bool force);
  ~QuantizedExport();  // removes the staging folder unless committed
  QuantizedExport(const QuantizedExport&) = delete;
  QuantizedExport& operator=(const QuantizedExport&) = delete;

  void add_block(const Block& float_block, const BlockResult& r);
  // Writes embeddings, config.json, index, tokenizer files. After this the
  // staging folder is a complete, loadable model.
  void finish();
  const std::string& staging_dir() const { return tmp_; }
  void write_report(const nlohmann::json& report, const std::string& markdown);
  void commit();  // atomic rename into `out`

 private:
  std::string shard_name(int i) const;
  const ModelSource& src_;
  PipelineConfig cfg_;
  std::unique_ptr<StagingDir> staging_;
  const std::string tmp_;  // staging_->path()
  nlohmann::json weight_map_ = nlohmann::json::object();
  nlohmann::json dims_ =
      nlohmann::json::object();  // per projection: logical and padded input width
};

}  // namespace mrgptq
