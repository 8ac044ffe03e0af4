// Export -> reload -> evaluate: a quantized model read back from the folder
// `QuantizedExport` wrote must give the same perplexity as the quantized
// blocks held in memory right after quantization, and the folder must hold
// exactly the compressed-tensors tensors (names, dtypes, shapes, bytes).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "mrgptq/error.hpp"
#include "mrgptq/export.hpp"
#include "mrgptq/make_model.hpp"
#include "mrgptq/pipeline.hpp"
#include "mrgptq/safetensors.hpp"

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace mrgptq;

namespace {

const std::string kShared = MRGPTQ_SHARED_DIR;

std::string temp_dir() {
  std::string t = (fs::temp_directory_path() / "mrgptq-test-export-XXXXXX").string();
  if (!::mkdtemp(t.data())) throw std::runtime_error("mkdtemp failed");
  return t;
}

// A synthetic HF model with the "tiny" shape (256 hidden, 688 intermediate:
// not a multiple of 32, so the down projection is padded), made once.
class Fixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = temp_dir();
    MakeModelOptions mo;
    mo.shape = synthetic_shape("tiny");
    mo.seed = 7;
    mo.tokenizer_model = kShared + "/tokenizers/llama2/tokenizer.model";
    make_synthetic_model(mo, root_ + "/tiny");
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }
  static std::string root_;
};
std::string Fixture::root_;

struct Outcome {
  double in_memory = 0, from_disk = 0;
  std::vector<BlockResult> results;
  std::string out;
};

// Quantizes `model` (few calibration windows), keeps every quantized block's
// codes in memory, exports, commits, and evaluates both ways on the same windows.
Outcome quantize_export_reload(const std::string& model, const PipelineConfig& cfg,
                               const std::string& out, int eval_seqlen, int eval_windows) {
  auto src = open_model(model);
  const auto calib =
      src->tokenizer().encode(read_text_file(kShared + "/data/tinystories-calib.txt"), true);
  const auto windows = calibration_windows(calib, cfg.nsamples, cfg.seqlen, cfg.seed);
  Outcome o;
  o.out = out;
  {
    QuantizedExport exp(*src, cfg, out, false);
    quantize_model(*src, windows, cfg, [&](const Block& fb, BlockResult& r) {
      exp.add_block(fb, r);
      o.results.push_back(r);
    });
    exp.finish();
    exp.commit();
  }
  const auto eval =
      src->tokenizer().encode(read_text_file(kShared + "/data/tinystories-eval.txt"), true);
  const BlockProvider in_memory = [&](int layer) {
    return make_quantized_block(src->load_block(layer), o.results[size_t(layer)].linears);
  };
  o.in_memory = perplexity(*src, eval, eval_seqlen, eval_windows, in_memory).perplexity;
  auto q = open_model(out);
  o.from_disk = perplexity(*q, eval, eval_seqlen, eval_windows).perplexity;
  return o;
}

PipelineConfig config(Format f, Method m, bool weights_only) {
  PipelineConfig c;
  c.layer.format = f;
  c.layer.method = m;
  c.weights_only = weights_only;
  c.nsamples = 4;
  c.seqlen = 64;
  c.seed = 1;
  return c;
}

}  // namespace

// HF source: nothing is permuted on export, so the reloaded forward pass is
// the in-memory one operation for operation: the perplexities are identical.
TEST_F(Fixture, ReloadedPerplexityIsBitIdenticalHf) {
  struct Case {
    Format f;
    Method m;
    bool weights_only;
  };
  const Case cases[] = {{Format::MXFP4, Method::MrGptq, true},
                        {Format::NVFP4, Method::MrGptq, false},
                        {Format::MXFP4, Method::Rtn, false},
                        {Format::NVFP4, Method::Gptq, true}};
  int i = 0;
  for (const Case& c : cases) {
    const std::string out = root_ + "/q" + std::to_string(i++);
    const Outcome o =
        quantize_export_reload(root_ + "/tiny", config(c.f, c.m, c.weights_only), out, 64, 3);
    SCOPED_TRACE(out);
    EXPECT_TRUE(std::isfinite(o.in_memory));
    EXPECT_EQ(o.in_memory, o.from_disk);
  }
}

// llama2.c source: q/k rows are stored permuted to Hugging Face's rotate-half
// RoPE order; our loader permutes them back and rotates adjacent pairs, so
// the forward pass, W4A4 activation rounding included, is again identical.
TEST_F(Fixture, ReloadedPerplexityMatchesLlama2c) {
  for (bool weights_only : {true, false}) {
    const std::string out = root_ + (weights_only ? "/s_w" : "/s_wa");
    const Outcome o =
        quantize_export_reload(kShared + "/models/stories260K",
                               config(Format::NVFP4, Method::MrGptq, weights_only), out, 256, 8);
    auto orig = open_model(kShared + "/models/stories260K");
    const auto eval =
        orig->tokenizer().encode(read_text_file(kShared + "/data/tinystories-eval.txt"), true);
    const double fp = perplexity(*orig, eval, 256, 8).perplexity;
    EXPECT_EQ(o.from_disk, o.in_memory) << out;
    // Quantization changes the model, but not beyond recognition.
    EXPECT_NE(o.in_memory, fp);
    EXPECT_LT(o.in_memory, fp * 2.0);
  }
}

// The folder holds what the compressed-tensors layout prescribes, byte for
// byte the codes and scales the pipeline produced.
TEST_F(Fixture, FolderContentsMatchTheLayout) {
  for (Format f : {Format::MXFP4, Format::NVFP4}) {
    const std::string out = root_ + "/layout_" + to_string(f);
    const Outcome o =
        quantize_export_reload(root_ + "/tiny", config(f, Method::MrGptq, false), out, 64, 1);
    SCOPED_TRACE(out);
    const json cfg = json::parse(std::ifstream(out + "/config.json"));
    const json& qc = cfg["quantization_config"];
    EXPECT_EQ(qc["quant_method"], "compressed-tensors");
    EXPECT_EQ(qc["format"], f == Format::NVFP4 ? "nvfp4-pack-quantized" : "mxfp4-pack-quantized");
    EXPECT_EQ(qc["ignore"], json({"lm_head"}));
    const json& g = qc["config_groups"]["group_0"];
    EXPECT_EQ(g["targets"], json({"Linear"}));
    EXPECT_EQ(g["weights"]["group_size"], f == Format::NVFP4 ? 16 : 32);
    EXPECT_EQ(g["weights"]["strategy"], f == Format::NVFP4 ? "tensor_group" : "group");
    EXPECT_EQ(g["weights"]["type"], "float");
    EXPECT_EQ(g["weights"]["num_bits"], 4);
    EXPECT_EQ(g["input_activations"]["dynamic"], f == Format::NVFP4 ? json("local") : json(true));
    EXPECT_EQ(cfg["mrgptq"]["rotation"]["block"], f == Format::NVFP4 ? 16 : 32);
    EXPECT_EQ(cfg["mrgptq"]["rotation"]["dims"]["down_proj"]["in_features"], 688);
    EXPECT_EQ(cfg["mrgptq"]["rotation"]["dims"]["down_proj"]["in_padded"],
              f == Format::NVFP4 ? 688 : 704);  // 688 = 43 * 16 = 21.5 * 32
    EXPECT_TRUE(fs::exists(out + "/tokenizer.model"));

    const json index = json::parse(std::ifstream(out + "/model.safetensors.index.json"));
    const int group = f == Format::NVFP4 ? 16 : 32;
    for (const BlockResult& r : o.results) {
      for (const QuantizedLinear& ql : r.linears) {
        const std::string shard = index["weight_map"][ql.name + ".weight_packed"];
        SafetensorsReader st(out + "/" + shard);
        EXPECT_EQ(st.find(ql.name + ".weight"), nullptr);
        const TensorView& p = st.at(ql.name + ".weight_packed");
        const TensorView& s = st.at(ql.name + ".weight_scale");
        EXPECT_EQ(p.dtype, DType::U8);
        EXPECT_EQ(p.shape, (std::vector<int64_t>{ql.q.rows, ql.q.padded_cols / 2}));
        EXPECT_EQ(ql.q.padded_cols % group, 0);
        EXPECT_EQ(s.dtype, f == Format::NVFP4 ? DType::F8_E4M3 : DType::U8);
        EXPECT_EQ(s.shape, (std::vector<int64_t>{ql.q.rows, ql.q.padded_cols / group}));
        ASSERT_EQ(p.nbytes, ql.q.packed.size());
        EXPECT_TRUE(std::equal(p.data, p.data + p.nbytes, ql.q.packed.begin()));
        ASSERT_EQ(s.nbytes, ql.q.scales.size());
        EXPECT_TRUE(std::equal(s.data, s.data + s.nbytes, ql.q.scales.begin()));
        if (f == Format::NVFP4) {
          const auto wg = st.to_f32(st.at(ql.name + ".weight_global_scale"));
          const auto ig = st.to_f32(st.at(ql.name + ".input_global_scale"));
          ASSERT_EQ(wg.size(), 1u);
          EXPECT_EQ(wg[0], ql.q.global_scale);
          ASSERT_EQ(ig.size(), 1u);
          EXPECT_EQ(ig[0], ql.input_global_scale);
          EXPECT_GT(ig[0], 0.f);
        } else {
          EXPECT_EQ(st.find(ql.name + ".weight_global_scale"), nullptr);
          EXPECT_EQ(st.find(ql.name + ".input_global_scale"), nullptr);
        }
      }
    }
    // Nothing staged is left beside the output.
    for (const auto& e : fs::directory_iterator(root_))
      EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
}

// Weights-only NVFP4: no input_global_scale (activations stay high precision).
TEST_F(Fixture, WeightsOnlyHasNoActivationScale) {
  const std::string out = root_ + "/w16";
  const Outcome o =
      quantize_export_reload(root_ + "/tiny", config(Format::NVFP4, Method::Rtn, true), out, 64, 1);
  const json cfg = json::parse(std::ifstream(out + "/config.json"));
  EXPECT_TRUE(
      cfg["quantization_config"]["config_groups"]["group_0"]["input_activations"].is_null());
  const json index = json::parse(std::ifstream(out + "/model.safetensors.index.json"));
  EXPECT_FALSE(index["weight_map"].contains("model.layers.0.self_attn.q_proj.input_global_scale"));
  EXPECT_TRUE(index["weight_map"].contains("model.layers.0.self_attn.q_proj.weight_global_scale"));
}

// An export that is never committed leaves nothing behind; an existing output
// is refused without force.
TEST_F(Fixture, UncommittedExportLeavesNothing) {
  auto src = open_model(root_ + "/tiny");
  const PipelineConfig cfg = config(Format::MXFP4, Method::Rtn, true);
  const std::string out = root_ + "/never";
  std::string staging;
  {
    QuantizedExport exp(*src, cfg, out, false);
    staging = exp.staging_dir();
    EXPECT_TRUE(fs::is_directory(staging));
    const auto calib =
        src->tokenizer().encode(read_text_file(kShared + "/data/tinystories-calib.txt"), true);
    const auto windows = calibration_windows(calib, 2, 32, 0);
    EXPECT_THROW(quantize_model(
                     *src, windows,
                     [&] {
                       PipelineConfig c = cfg;
                       c.seqlen = 32;
                       return c;
                     }(),
                     [&](const Block& fb, BlockResult& r) {
                       exp.add_block(fb, r);
                       throw Error("simulated failure after block " + std::to_string(r.layer));
                     }),
                 Error);
  }
  EXPECT_FALSE(fs::exists(staging));
  EXPECT_FALSE(fs::exists(out));
  fs::create_directory(out);
  EXPECT_THROW(QuantizedExport(*src, cfg, out, false), Error);
}

TEST(Calibration, WindowsAreSeededAndInRange) {
  std::vector<int> tokens(1000);
  for (int i = 0; i < 1000; ++i) tokens[size_t(i)] = i;
  const auto a = calibration_windows(tokens, 5, 100, 3), b = calibration_windows(tokens, 5, 100, 3),
             c = calibration_windows(tokens, 5, 100, 4);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  ASSERT_EQ(a.size(), 500u);
  for (int w = 0; w < 5; ++w)  // each window is a contiguous run of the stream
    for (int t = 1; t < 100; ++t) EXPECT_EQ(a[size_t(w * 100 + t)], a[size_t(w * 100)] + t);
  EXPECT_THROW(calibration_windows(tokens, 1, 1001, 0), Error);
  EXPECT_THROW(calibration_windows(tokens, 0, 10, 0), Error);
}
