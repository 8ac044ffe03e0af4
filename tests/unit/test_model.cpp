// Model loading and the forward pass: a tiny random Hugging Face Llama and
// Qwen3 (q/k norms, rotate-half RoPE, GQA, BF16 shards with an index) against
// a naive float64 forward written here; bad configs and checkpoints.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "mrgptq/error.hpp"
#include "mrgptq/model.hpp"
#include "mrgptq/safetensors.hpp"

using namespace mrgptq;
namespace fs = std::filesystem;

namespace {

const std::string kShared = MRGPTQ_SHARED_DIR;

struct Tiny {
  int dim = 32, hidden = 48, layers = 2, heads = 4, kv = 2, hd = 8, vocab = 40;
  bool qwen3 = false;
  std::map<std::string, std::vector<double>> w;  // bf16-exact values
};

double bf16_round(float x) {
  return bf16_to_f32(f32_to_bf16(x));
}

void write_tiny(const fs::path& dir, Tiny& t) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::mt19937 rng(7);
  std::normal_distribution<float> g(0.f, 0.3f);
  auto make = [&](const std::string& name, std::vector<int64_t> shape, float base = 0.f) {
    int64_t n = 1;
    for (auto d : shape) n *= d;
    std::vector<double> v(static_cast<size_t>(n));
    for (auto& x : v) x = bf16_round(base + g(rng));
    t.w[name] = v;
    return shape;
  };
  std::map<std::string, std::vector<int64_t>> shapes;
  shapes["model.embed_tokens.weight"] = make("model.embed_tokens.weight", {t.vocab, t.dim});
  shapes["model.norm.weight"] = make("model.norm.weight", {t.dim}, 1.f);
  shapes["lm_head.weight"] = make("lm_head.weight", {t.vocab, t.dim});
  for (int l = 0; l < t.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    shapes[p + "input_layernorm.weight"] = make(p + "input_layernorm.weight", {t.dim}, 1.f);
    shapes[p + "post_attention_layernorm.weight"] =
        make(p + "post_attention_layernorm.weight", {t.dim}, 1.f);
    shapes[p + "self_attn.q_proj.weight"] =
        make(p + "self_attn.q_proj.weight", {t.heads * t.hd, t.dim});
    shapes[p + "self_attn.k_proj.weight"] =
        make(p + "self_attn.k_proj.weight", {t.kv * t.hd, t.dim});
    shapes[p + "self_attn.v_proj.weight"] =
        make(p + "self_attn.v_proj.weight", {t.kv * t.hd, t.dim});
    shapes[p + "self_attn.o_proj.weight"] =
        make(p + "self_attn.o_proj.weight", {t.dim, t.heads * t.hd});
    shapes[p + "mlp.gate_proj.weight"] = make(p + "mlp.gate_proj.weight", {t.hidden, t.dim});
    shapes[p + "mlp.up_proj.weight"] = make(p + "mlp.up_proj.weight", {t.hidden, t.dim});
    shapes[p + "mlp.down_proj.weight"] = make(p + "mlp.down_proj.weight", {t.dim, t.hidden});
    if (t.qwen3) {
      shapes[p + "self_attn.q_norm.weight"] = make(p + "self_attn.q_norm.weight", {t.hd}, 1.f);
      shapes[p + "self_attn.k_norm.weight"] = make(p + "self_attn.k_norm.weight", {t.hd}, 1.f);
    }
  }
  // Two BF16 shards and an index: layer tensors in the first, the rest in the second.
  SafetensorsWriter a, b;
  std::string map;
  for (auto& [name, shape] : shapes) {
    std::vector<float> f(t.w[name].begin(), t.w[name].end());
    const bool first = name.rfind("model.layers.", 0) == 0;
    (first ? a : b).add_bf16(name, shape, f.data());
    map += (map.empty() ? "" : ",") +
           ("\"" + name + "\": \"" + (first ? "s1" : "s2") + ".safetensors\"");
  }
  a.write((dir / "s1.safetensors").string());
  b.write((dir / "s2.safetensors").string());
  std::ofstream(dir / "model.safetensors.index.json") << "{\"weight_map\": {" << map << "}}";
  std::ofstream(dir / "config.json")
      << "{\"architectures\": [\"" << (t.qwen3 ? "Qwen3ForCausalLM" : "LlamaForCausalLM")
      << "\"], \"hidden_size\": " << t.dim << ", \"intermediate_size\": " << t.hidden
      << ", \"num_hidden_layers\": " << t.layers << ", \"num_attention_heads\": " << t.heads
      << ", \"num_key_value_heads\": " << t.kv << ", \"head_dim\": " << t.hd
      << ", \"vocab_size\": " << t.vocab
      << ", \"rope_theta\": 500000.0, \"rms_norm_eps\": 1e-5, "
         "\"tie_word_embeddings\": false}";
  // A byte-level BPE tokenizer with 34 symbols (fewer than the model's 40).
  std::string vocab = "{";
  for (int i = 0; i < 34; ++i)
    vocab += (i ? ",\"" : "\"") + std::string(1, i < 26 ? char('a' + i) : char('0' + i - 26)) +
             "\":" + std::to_string(i);
  std::ofstream(dir / "tokenizer.json")
      << "{\"model\": {\"type\": \"BPE\", \"vocab\": " << vocab << "}, \"merges\": []}}";
}

// Naive float64 forward: logits of the last layer for a token sequence.
std::vector<std::vector<double>> reference_forward(Tiny& t, const std::vector<int>& toks) {
  const int T = int(toks.size());
  auto W = [&](const std::string& n) -> const std::vector<double>& { return t.w.at(n); };
  auto matvec = [](const std::vector<double>& w, const std::vector<double>& x, int out) {
    std::vector<double> y(size_t(out), 0.0);
    const size_t in = x.size();
    for (int o = 0; o < out; ++o)
      for (size_t i = 0; i < in; ++i) y[size_t(o)] += w[size_t(o) * in + i] * x[i];
    return y;
  };
  auto rms = [](std::vector<double> x, const std::vector<double>& w, size_t off = 0, size_t n = 0) {
    if (!n) n = x.size();
    double ss = 0;
    for (size_t i = 0; i < n; ++i) ss += x[off + i] * x[off + i];
    const double s = 1.0 / std::sqrt(ss / double(n) + 1e-5);
    for (size_t i = 0; i < n; ++i) x[off + i] = x[off + i] * s * w[i];
    return x;
  };
  std::vector<std::vector<double>> h(static_cast<size_t>(T));
  for (int i = 0; i < T; ++i)
    h[size_t(i)] =
        std::vector<double>(W("model.embed_tokens.weight").begin() + toks[size_t(i)] * t.dim,
                            W("model.embed_tokens.weight").begin() + (toks[size_t(i)] + 1) * t.dim);
  for (int l = 0; l < t.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    std::vector<std::vector<double>> q(static_cast<size_t>(T)), k(static_cast<size_t>(T)),
        v(static_cast<size_t>(T));
    for (int i = 0; i < T; ++i) {
      const auto x = rms(h[size_t(i)], W(p + "input_layernorm.weight"));
      q[size_t(i)] = matvec(W(p + "self_attn.q_proj.weight"), x, t.heads * t.hd);
      k[size_t(i)] = matvec(W(p + "self_attn.k_proj.weight"), x, t.kv * t.hd);
      v[size_t(i)] = matvec(W(p + "self_attn.v_proj.weight"), x, t.kv * t.hd);
      auto rope = [&](std::vector<double>& a, int nh, const char* norm) {
        for (int hh = 0; hh < nh; ++hh) {
          if (t.qwen3) a = rms(a, W(p + norm), size_t(hh * t.hd), size_t(t.hd));
          for (int j = 0; j < t.hd / 2; ++j) {
            const double f = std::pow(500000.0, -2.0 * j / t.hd), ang = i * f;
            double& x0 = a[size_t(hh * t.hd + j)];
            double& x1 = a[size_t(hh * t.hd + j + t.hd / 2)];
            const double a0 = x0, a1 = x1;
            x0 = a0 * std::cos(ang) - a1 * std::sin(ang);
            x1 = a0 * std::sin(ang) + a1 * std::cos(ang);
          }
        }
      };
      rope(q[size_t(i)], t.heads, "self_attn.q_norm.weight");
      rope(k[size_t(i)], t.kv, "self_attn.k_norm.weight");
    }
    for (int i = 0; i < T; ++i) {
      std::vector<double> att(size_t(t.heads * t.hd), 0.0);
      for (int hh = 0; hh < t.heads; ++hh) {
        const int kh = hh / (t.heads / t.kv);
        std::vector<double> s(static_cast<size_t>(i + 1));
        double mx = -1e300;
        for (int j = 0; j <= i; ++j) {
          double d = 0;
          for (int e = 0; e < t.hd; ++e)
            d += q[size_t(i)][size_t(hh * t.hd + e)] * k[size_t(j)][size_t(kh * t.hd + e)];
          s[size_t(j)] = d / std::sqrt(double(t.hd));
          mx = std::max(mx, s[size_t(j)]);
        }
        double z = 0;
        for (auto& x : s) z += (x = std::exp(x - mx));
        for (int j = 0; j <= i; ++j)
          for (int e = 0; e < t.hd; ++e)
            att[size_t(hh * t.hd + e)] += s[size_t(j)] / z * v[size_t(j)][size_t(kh * t.hd + e)];
      }
      const auto o = matvec(W(p + "self_attn.o_proj.weight"), att, t.dim);
      for (int e = 0; e < t.dim; ++e) h[size_t(i)][size_t(e)] += o[size_t(e)];
    }
    for (int i = 0; i < T; ++i) {
      const auto x = rms(h[size_t(i)], W(p + "post_attention_layernorm.weight"));
      auto gt = matvec(W(p + "mlp.gate_proj.weight"), x, t.hidden);
      const auto up = matvec(W(p + "mlp.up_proj.weight"), x, t.hidden);
      for (int e = 0; e < t.hidden; ++e)
        gt[size_t(e)] = gt[size_t(e)] / (1 + std::exp(-gt[size_t(e)])) * up[size_t(e)];
      const auto d = matvec(W(p + "mlp.down_proj.weight"), gt, t.dim);
      for (int e = 0; e < t.dim; ++e) h[size_t(i)][size_t(e)] += d[size_t(e)];
    }
  }
  std::vector<std::vector<double>> logits;
  for (int i = 0; i < T; ++i)
    logits.push_back(
        matvec(W("lm_head.weight"), rms(h[size_t(i)], W("model.norm.weight")), t.vocab));
  return logits;
}

double reference_ppl(Tiny& t, const std::vector<int>& toks) {
  const auto lg = reference_forward(t, toks);
  double nll = 0;
  for (size_t i = 0; i + 1 < toks.size(); ++i) {
    double mx = -1e300, z = 0;
    for (double x : lg[i]) mx = std::max(mx, x);
    for (double x : lg[i]) z += std::exp(x - mx);
    nll += std::log(z) + mx - lg[i][size_t(toks[i + 1])];
  }
  return std::exp(nll / double(toks.size() - 1));
}

}  // namespace

TEST(HfModel, TinyLlamaAndQwen3MatchNaiveFloat64Forward) {
  for (bool qwen3 : {false, true}) {
    Tiny t;
    t.qwen3 = qwen3;
    const fs::path dir =
        fs::temp_directory_path() / (qwen3 ? "mrgptq_tiny_qwen3" : "mrgptq_tiny_llama");
    write_tiny(dir, t);
    auto m = open_model(dir.string());
    EXPECT_EQ(m->config().arch, qwen3 ? "qwen3" : "llama");
    std::mt19937 rng(3);
    std::vector<int> toks(24);
    for (auto& x : toks) x = int(rng() % 40);
    const PerplexityResult r = perplexity(*m, toks, 24);
    const double want = reference_ppl(t, toks);
    EXPECT_NEAR(r.perplexity, want, 1e-4 * want) << (qwen3 ? "qwen3" : "llama");
    EXPECT_EQ(r.predicted, 23);
  }
}

TEST(ModelErrors, BadConfigsNameTheFileAndTheProblem) {
  Tiny t;
  const fs::path dir = fs::temp_directory_path() / "mrgptq_bad_cfg";
  write_tiny(dir, t);
  auto expect_error = [&](const std::string& cfg, const std::string& what) {
    std::ofstream(dir / "config.json") << cfg;
    try {
      open_model(dir.string());
      FAIL() << "accepted: " << cfg;
    } catch (const Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("config.json"), std::string::npos) << msg;
      EXPECT_NE(msg.find(what), std::string::npos) << msg;
    }
  };
  expect_error(R"({"architectures": ["GPT2LMHeadModel"], "hidden_size": 32})",
               "unsupported architecture");
  expect_error(R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 32})", "missing field");
  expect_error("{not json", "not valid JSON");
}

TEST(ModelErrors, TokenizerLargerThanTheVocabularyIsRejected) {
  Tiny t;
  t.vocab = 30;  // the tokenizer has 34 symbols
  const fs::path dir = fs::temp_directory_path() / "mrgptq_bad_vocab";
  write_tiny(dir, t);
  try {
    open_model(dir.string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.json"), std::string::npos) << e.what();
  }
}

TEST(ModelErrors, TruncatedLlama2cCheckpointAndEmptyText) {
  const fs::path dir = fs::temp_directory_path() / "mrgptq_trunc";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string src = kShared + "/models/stories260K/";
  fs::copy_file(src + "tokenizer.bin", dir / "tokenizer.bin");
  {
    std::ifstream in(src + "stories260K.bin", std::ios::binary);
    std::vector<char> buf(100000);
    in.read(buf.data(), std::streamsize(buf.size()));
    std::ofstream(dir / "model.bin", std::ios::binary)
        .write(buf.data(), std::streamsize(buf.size()));
  }
  try {
    open_model(dir.string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("model.bin"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("disagrees with its header"), std::string::npos)
        << e.what();
  }
  std::ofstream(dir / "empty.txt").close();
  EXPECT_THROW(read_text_file((dir / "empty.txt").string()), Error);
  EXPECT_THROW(open_model((dir / "nope").string()), Error);
}

TEST(Llama2c, LoadsStories260K) {
  auto m = open_model(kShared + "/models/stories260K");
  const ModelConfig& c = m->config();
  EXPECT_EQ(c.dim, 64);
  EXPECT_EQ(c.hidden_dim, 172);
  EXPECT_EQ(c.n_layers, 5);
  EXPECT_EQ(c.n_kv_heads, 4);
  EXPECT_TRUE(c.tied_embeddings);
  const auto toks =
      m->tokenizer().encode("Once upon a time, there was a little girl named Lily.", true);
  const PerplexityResult r = perplexity(*m, toks, int(toks.size()));
  EXPECT_GT(r.perplexity, 1.0);
  EXPECT_LT(r.perplexity, 20.0);  // a trained model on in-domain text
}
