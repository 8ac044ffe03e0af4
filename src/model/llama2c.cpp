// llama2.c checkpoints: seven int32 header fields (dim, hidden_dim, n_layers,
// n_heads, n_kv_heads, vocab_size (negative: separate classifier), seq_len)
// then float32 tensors in llama2.c's order, each stacked over layers:
//   tok_embeddings [V,D]  rms_att [L,D]  wq [L,D,D]  wk [L,KV,D]  wv [L,KV,D]
//   wo [L,D,D]  rms_ffn [L,D]  w1 [L,H,D]  w2 [L,D,H]  w3 [L,H,D]  rms_final [D]
//   freq_cis_real/imag [S, hd/2] (unused)  [wcls [V,D]]
// Every matrix is [out, in] row-major, as in Hugging Face. w1 = gate, w3 = up,
// w2 = down. RoPE rotates adjacent pairs.
#include <cstring>
#include <filesystem>

#include "model/mapped_file.hpp"
#include "mrgptq/error.hpp"
#include "mrgptq/model.hpp"

namespace fs = std::filesystem;

namespace mrgptq {
namespace {

class Llama2cSource final : public ModelSource {
 public:
  Llama2cSource(const std::string& dir, const std::string& bin) : dir_(dir), file_(bin) {
    if (file_.size() < 28) throw Error(bin + ": too short for a llama2.c header (28 bytes)");
    int32_t h[7];
    std::memcpy(h, file_.data(), sizeof h);
    for (int i = 0; i < 7; ++i)
      if (i != 5 && h[i] <= 0)
        throw Error(bin + ": invalid llama2.c header field " + std::to_string(i));
    c_.arch = "llama2c";
    c_.dim = h[0], c_.hidden_dim = h[1], c_.n_layers = h[2], c_.n_heads = h[3];
    c_.n_kv_heads = h[4], c_.vocab_size = std::abs(h[5]), c_.max_seq_len = h[6];
    c_.tied_embeddings = h[5] > 0;
    c_.rope_style = RopeStyle::Interleaved;
    c_.norm_eps = 1e-5f;
    if (c_.vocab_size == 0 || c_.dim % c_.n_heads || c_.n_heads % c_.n_kv_heads)
      throw Error(bin + ": inconsistent llama2.c header (dim/heads/vocab)");
    c_.head_dim = c_.dim / c_.n_heads;
    const int64_t D = c_.dim, H = c_.hidden_dim, L = c_.n_layers, V = c_.vocab_size;
    const int64_t KV = int64_t(c_.n_kv_heads) * c_.head_dim;
    int64_t off = 0;
    auto take = [&](int64_t n) {
      int64_t o = off;
      off += n;
      return o;
    };
    emb_ = take(V * D), rms_att_ = take(L * D), wq_ = take(L * D * D), wk_ = take(L * KV * D);
    wv_ = take(L * KV * D), wo_ = take(L * D * D), rms_ffn_ = take(L * D);
    w1_ = take(L * H * D), w2_ = take(L * D * H), w3_ = take(L * H * D), rms_final_ = take(D);
    take(int64_t(c_.max_seq_len) * c_.head_dim);  // freq_cis_real + imag
    wcls_ = c_.tied_embeddings ? emb_ : take(V * D);
    const size_t want = 28 + size_t(off) * 4;
    if (file_.size() != want)
      throw Error(bin + ": size " + std::to_string(file_.size()) +
                  " bytes disagrees with its header (" + std::to_string(want) +
                  " expected): truncated or not a llama2.c checkpoint");
    tok_ = load_tokenizer_from_dir(dir, c_.vocab_size);
  }

  const ModelConfig& config() const override { return c_; }
  const Tokenizer& tokenizer() const override { return *tok_; }
  std::string dir() const override { return dir_; }

  MatrixF embed(const std::vector<int>& tokens) const override {
    MatrixF x(int64_t(tokens.size()), c_.dim);
    for (size_t t = 0; t < tokens.size(); ++t) {
      if (tokens[t] < 0 || tokens[t] >= c_.vocab_size) throw Error("token id out of range");
      std::memcpy(x.row(int64_t(t)), f(emb_) + int64_t(tokens[t]) * c_.dim, 4 * size_t(c_.dim));
    }
    return x;
  }
  std::vector<float> final_norm() const override { return vec(rms_final_, c_.dim); }
  LinearOp classifier() const override { return lin(wcls_, c_.vocab_size, c_.dim); }

  Block load_block(int l) const override {
    const int64_t D = c_.dim, H = c_.hidden_dim, KV = int64_t(c_.n_kv_heads) * c_.head_dim;
    Block b;
    b.attn_norm = vec(rms_att_ + l * D, D);
    b.mlp_norm = vec(rms_ffn_ + l * D, D);
    b.q = lin(wq_ + l * D * D, D, D);
    b.k = lin(wk_ + l * KV * D, KV, D);
    b.v = lin(wv_ + l * KV * D, KV, D);
    b.o = lin(wo_ + l * D * D, D, D);
    b.gate = lin(w1_ + l * H * D, H, D);
    b.down = lin(w2_ + l * D * H, D, H);
    b.up = lin(w3_ + l * H * D, H, D);
    return b;
  }

 private:
  const float* f(int64_t off) const {
    return reinterpret_cast<const float*>(file_.data() + 28) + off;
  }
  std::vector<float> vec(int64_t off, int64_t n) const { return {f(off), f(off) + n}; }
  LinearOp lin(int64_t off, int64_t out, int64_t in) const {
    LinearOp op;
    op.w = MatrixF(out, in);
    std::memcpy(op.w.data.data(), f(off), size_t(out * in) * 4);
    op.in = in;
    return op;
  }

  std::string dir_;
  MappedFile file_;
  ModelConfig c_;
  std::unique_ptr<Tokenizer> tok_;
  int64_t emb_, rms_att_, wq_, wk_, wv_, wo_, rms_ffn_, w1_, w2_, w3_, rms_final_, wcls_;
};

}  // namespace

std::unique_ptr<ModelSource> open_llama2c(const std::string& dir) {
  std::string bin;
  for (const auto& e : fs::directory_iterator(dir)) {
    const auto name = e.path().filename().string();
    if (e.path().extension() == ".bin" && name != "tokenizer.bin") {
      if (!bin.empty()) throw Error(dir + ": more than one llama2.c checkpoint (*.bin)");
      bin = e.path().string();
    }
  }
  if (bin.empty()) throw Error(dir + ": no llama2.c checkpoint (*.bin besides tokenizer.bin)");
  return std::make_unique<Llama2cSource>(dir, bin);
}

std::unique_ptr<ModelSource> open_model(const std::string& dir) {
  if (!fs::is_directory(dir)) throw Error(dir + ": not a model folder");
  const fs::path cfg = fs::path(dir) / "config.json";
  if (fs::exists(cfg)) {
    std::string text = read_text_file(cfg.string());
    if (text.find("\"quantization_config\"") != std::string::npos &&
        text.find("\"mrgptq\"") != std::string::npos)
      return open_quantized(dir);
    return open_hf(dir);
  }
  return open_llama2c(dir);
}

}  // namespace mrgptq
