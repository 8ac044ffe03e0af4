// mrgptq demo: synthetic LLM-like layers quantized with every format x method,
// compared by their output error on held-out inputs (W4A16 and W4A4).
//
// Everything is generated from one seed with a self-contained generator
// (splitmix64 + Box-Muller), so the table is the same on every machine and
// standard library.
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "mrgptq/error.hpp"
#include "mrgptq/formats.hpp"
#include "mrgptq/hessian.hpp"
#include "mrgptq/layer.hpp"
#include "mrgptq/safetensors.hpp"

namespace mrgptq::cli {

namespace {

// ------------------------------------------------------------ generator --

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {  // splitmix64
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {
    if (have_spare_) {
      have_spare_ = false;
      return spare_;
    }
    const double u1 = 1.0 - uniform(), u2 = uniform();  // u1 in (0, 1]
    const double r = std::sqrt(-2.0 * std::log(u1));
    spare_ = r * std::sin(2 * M_PI * u2);
    have_spare_ = true;
    return r * std::cos(2 * M_PI * u2);
  }
  // Student-t with nu degrees of freedom (integer): heavy tails like LLM weights.
  double student_t(int nu) {
    double chi2 = 0;
    for (int i = 0; i < nu; ++i) {
      const double z = normal();
      chi2 += z * z;
    }
    return normal() / std::sqrt(chi2 / nu);
  }
  int64_t below(int64_t n) { return int64_t(next() % uint64_t(n)); }

 private:
  uint64_t s_;
  double spare_ = 0;
  bool have_spare_ = false;
};

struct Shape {
  int64_t out, in;
};
// [out, in] shapes in the spirit of attention / MLP projections.
constexpr Shape kShapes[] = {{512, 1024}, {1024, 512}, {768, 768}, {1024, 1024}};
constexpr int64_t kCalibTokens = 2048;
constexpr int64_t kEvalTokens = 1024;

struct SynthLayer {
  Shape shape;
  MatrixF W;      // [out, in]
  MatrixF Xcal;   // [tokens, in] calibration inputs
  MatrixF Xeval;  // [tokens, in] held-out inputs
  std::vector<int64_t> outlier_channels;
};

// Weights: student-t (nu = 4) entries with per-row scales, a few rows and input
// columns several times larger (as in real checkpoints).
MatrixF make_weight(Rng& rng, Shape s) {
  MatrixF W(s.out, s.in);
  std::vector<double> col_scale(size_t(s.in), 1.0);
  for (int64_t k = 0; k < std::max<int64_t>(2, s.in / 100); ++k)
    col_scale[size_t(rng.below(s.in))] = 3.0;
  const double base = 1.0 / std::sqrt(double(s.in));
  for (int64_t r = 0; r < s.out; ++r) {
    double row_scale = std::exp(0.3 * rng.normal());
    if (rng.uniform() < 0.01) row_scale *= 4.0;
    float* w = W.row(r);
    for (int64_t c = 0; c < s.in; ++c)
      w[c] = float(base * row_scale * col_scale[size_t(c)] * rng.student_t(4));
  }
  return W;
}

// Inputs x = scale .* (sqrt(rho) A z + sqrt(1 - rho) e): channels correlated
// through k shared latent factors z, log-normal per-channel scales, and a few
// outlier channels 10-50x larger than the rest, fixed across tokens as in LLM
// activations. One mixing matrix per layer serves calibration and held-out sets.
struct InputModel {
  int64_t dim = 0, k = 32;
  std::vector<float> A;      // [dim, k], rows of unit norm
  std::vector<float> scale;  // [dim]
  std::vector<int64_t> outliers;
};

InputModel make_input_model(Rng& rng, int64_t dim) {
  InputModel m;
  m.dim = dim;
  m.A.resize(size_t(dim * m.k));
  for (int64_t i = 0; i < dim; ++i) {
    double norm = 0;
    for (int64_t j = 0; j < m.k; ++j) {
      const double v = rng.normal();
      m.A[size_t(i * m.k + j)] = float(v);
      norm += v * v;
    }
    for (int64_t j = 0; j < m.k; ++j) m.A[size_t(i * m.k + j)] /= float(std::sqrt(norm));
  }
  m.scale.resize(size_t(dim));
  for (auto& s : m.scale) s = float(std::exp(0.5 * rng.normal()));
  const int64_t n_out = std::max<int64_t>(2, dim / 128);
  for (int64_t i = 0; i < n_out; ++i) {
    const int64_t c = rng.below(dim);
    m.scale[size_t(c)] *= float(10.0 + 40.0 * rng.uniform());
    m.outliers.push_back(c);
  }
  return m;
}

MatrixF sample_inputs(Rng& rng, const InputModel& m, int64_t tokens) {
  constexpr float kRho = 0.6f;  // share of each channel's variance from the shared factors
  MatrixF Z(tokens, m.k);
  for (auto& v : Z.data) v = float(rng.normal());
  MatrixF X(tokens, m.dim);
  for (auto& v : X.data) v = float(rng.normal()) * std::sqrt(1 - kRho);
  // X += sqrt(rho) * Z A^T  (OpenBLAS)
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(tokens), int(m.dim), int(m.k),
              std::sqrt(kRho), Z.data.data(), int(m.k), m.A.data(), int(m.k), 1.f, X.data.data(),
              int(m.dim));
  for (int64_t t = 0; t < tokens; ++t) {
    float* x = X.row(t);
    for (int64_t c = 0; c < m.dim; ++c) x[c] *= m.scale[size_t(c)];
  }
  return X;
}

SynthLayer make_layer(uint64_t seed, int index) {
  // One independent stream per layer, so --layers N is a prefix of --layers N+1.
  Rng rng(seed * 0x2545F4914F6CDD1Dull + uint64_t(index) * 0x9E3779B97F4A7C15ull + 1);
  SynthLayer L;
  L.shape = kShapes[index % std::size(kShapes)];
  L.W = make_weight(rng, L.shape);
  const InputModel im = make_input_model(rng, L.shape.in);
  L.Xcal = sample_inputs(rng, im, kCalibTokens);
  L.Xeval = sample_inputs(rng, im, kEvalTokens);
  L.outlier_channels = im.outliers;
  return L;
}

// ------------------------------------------------------------ evaluation --

// Y = X W^T: [tokens, out].
MatrixF outputs(const MatrixF& X, const MatrixF& W) {
  MatrixF Y(X.rows, W.rows);
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(X.rows), int(W.rows), int(X.cols), 1.f,
              X.data.data(), int(X.cols), W.data.data(), int(W.cols), 0.f, Y.data.data(),
              int(Y.cols));
  return Y;
}

double rel_diff(const MatrixF& ref, const MatrixF& y) {
  double num = 0, den = 0;
  for (size_t i = 0; i < ref.data.size(); ++i) {
    const double d = double(y.data[i]) - ref.data[i];
    num += d * d;
    den += double(ref.data[i]) * ref.data[i];
  }
  return std::sqrt(num / den);
}

// Rows of X rotated as activations (x -> R^T x), zero-padded to the rotation's dim.
MatrixF rotate_rows(const MatrixF& X, const Rotation& rot, int64_t dim) {
  MatrixF Xr(X.rows, dim);
  for (int64_t t = 0; t < X.rows; ++t) std::copy(X.row(t), X.row(t) + X.cols, Xr.row(t));
  if (!rot.identity()) rot.apply_rows(Xr.data.data(), Xr.rows);
  return Xr;
}

float amax(const MatrixF& X) {
  float m = 0;
  for (float v : X.data) m = std::max(m, std::fabs(v));
  return m;
}

struct Cell {
  double weight_err = 0, w4a16 = 0, w4a4 = 0, seconds = 0;
};

// W4A4: weights and activations both in FP4, in the same (rotated) basis.
// Activations use the format's default RTN rule; NVFP4's tensor scale is
// fixed from the calibration activations, as a deployed model would do.
double w4a4_error(const SynthLayer& L, const LayerResult& res, const MatrixF& Yref) {
  const QuantizedTensor& q = res.q;
  const int64_t dim = q.padded_cols;
  // The rotated, dequantized weight, padded columns included.
  MatrixF Wr(q.rows, dim);
  const int g = q.group();
  for (int64_t r = 0; r < q.rows; ++r)
    for (int64_t c = 0; c < dim; ++c)
      Wr(r, c) = e2m1_decode(code_at(q, r, c)) *
                 scale_multiplier(q.format, q.scales[size_t(r * q.groups_per_row() + c / g)],
                                  q.global_scale);
  QuantOptions opt;
  opt.rule = format_info(q.format).default_rule;
  opt.name = "demo activations";
  if (format_info(q.format).has_global_scale)
    opt.global_scale = nvfp4_global_scale(amax(rotate_rows(L.Xcal, res.rotation, dim)));
  const MatrixF Xr = rotate_rows(L.Xeval, res.rotation, dim);
  const QuantizedTensor xq = quantize_rtn(Xr.data.data(), Xr.rows, dim, q.format, opt);
  const MatrixF Xhat = dequantize(xq);
  return rel_diff(Yref, outputs(Xhat, Wr));
}

struct DemoArgs {
  uint64_t seed = 0;
  int layers = 3;
  bool json = false;
  std::string dump;
};

// Hidden test helper: writes the generated weights (F32, BF16 and F16 in turn)
// and their calibration Hessians (F32) to a safetensors file.
int dump_layers(const DemoArgs& a) {
  SafetensorsWriter w;
  for (int i = 0; i < a.layers; ++i) {
    const SynthLayer L = make_layer(a.seed, i);
    const std::string p = "demo." + std::to_string(i);
    const std::vector<int64_t> shape = {L.W.rows, L.W.cols};
    if (i % 3 == 0) w.add_f32(p + ".weight", shape, L.W.data.data());
    if (i % 3 == 1) w.add_bf16(p + ".weight", shape, L.W.data.data());
    if (i % 3 == 2) {
      std::vector<uint8_t> b(L.W.data.size() * 2);
      for (size_t k = 0; k < L.W.data.size(); ++k) {
        const uint16_t h = f32_to_f16(L.W.data[k]);
        std::memcpy(b.data() + 2 * k, &h, 2);
      }
      w.add(p + ".weight", DType::F16, shape, std::move(b));
    }
    HessianAccumulator acc(L.W.cols);
    acc.add(L.Xcal.data.data(), L.Xcal.rows);
    const MatrixD H = acc.finalize();
    std::vector<float> hf(H.data.begin(), H.data.end());
    w.add_f32(p + ".hessian", {H.rows, H.cols}, hf.data());
  }
  w.set_metadata("generator", "mrgptq demo --seed " + std::to_string(a.seed));
  w.write(a.dump);
  std::printf("wrote %d synthetic layers to %s\n", a.layers, a.dump.c_str());
  return 0;
}

int run_demo(const DemoArgs& a) {
  if (a.layers < 1 || a.layers > 64) throw Error("--layers must be between 1 and 64");
  if (!a.dump.empty()) return dump_layers(a);
  const Format formats[] = {Format::MXFP4, Format::NVFP4};
  const Method methods[] = {Method::Rtn, Method::RtnHad, Method::Gptq, Method::MrGptq};
  constexpr int kF = 2, kM = 4;
  Cell cells[kF][kM] = {};
  const auto t0 = std::chrono::steady_clock::now();
  nlohmann::ordered_json jlayers = nlohmann::json::array();
  Progress::set_quiet(a.json);
  Progress progress("demo", int64_t(a.layers) * kF * kM);
  for (int i = 0; i < a.layers; ++i) {
    const SynthLayer L = make_layer(a.seed, i);
    jlayers.push_back({{"out", L.shape.out},
                       {"in", L.shape.in},
                       {"outlier_channels", L.outlier_channels.size()}});
    HessianAccumulator acc(L.W.cols);
    acc.add(L.Xcal.data.data(), L.Xcal.rows);
    const MatrixD H = acc.finalize();
    const MatrixF Yref = outputs(L.Xeval, L.W);
    for (int f = 0; f < kF; ++f)
      for (int m = 0; m < kM; ++m) {
        const auto c0 = std::chrono::steady_clock::now();
        LayerConfig cfg;
        cfg.format = formats[f];
        cfg.method = methods[m];
        cfg.name = "demo." + std::to_string(i) + ".weight";
        cfg.warn = [](std::string_view msg) {
          std::fprintf(stderr, "mrgptq: warning: %.*s\n", int(msg.size()), msg.data());
        };
        const LayerResult res = quantize_layer(L.W, &H, cfg);
        Cell& c = cells[f][m];
        c.seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count();
        c.weight_err += relative_error(L.W, res.dequant) / a.layers;
        c.w4a16 += rel_diff(Yref, outputs(L.Xeval, res.dequant)) / a.layers;
        c.w4a4 += w4a4_error(L, res, Yref) / a.layers;
        progress.step();
      }
  }
  progress.done();
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  if (a.json) {
    nlohmann::ordered_json j;
    j["seed"] = a.seed;
    j["layers"] = jlayers;
    j["calib_tokens"] = kCalibTokens;
    j["eval_tokens"] = kEvalTokens;
    j["results"] = nlohmann::json::array();
    for (int f = 0; f < kF; ++f)
      for (int m = 0; m < kM; ++m) {
        const Cell& c = cells[f][m];
        j["results"].push_back({{"format", to_string(formats[f])},
                                {"method", to_string(methods[m])},
                                {"weight_rel_error", c.weight_err},
                                {"w4a16_output_rel_error", c.w4a16},
                                {"w4a4_output_rel_error", c.w4a4},
                                {"quantize_seconds", c.seconds}});
      }
    j["elapsed_seconds"] = elapsed;
    std::printf("%s\n", j.dump().c_str());
    return 0;
  }
  std::printf("mrgptq demo: %d synthetic layers (seed %llu):", a.layers,
              (unsigned long long)a.seed);
  for (const auto& l : jlayers)
    std::printf(" %lldx%lld", (long long)l["out"].get<int64_t>(),
                (long long)l["in"].get<int64_t>());
  std::printf(
      "\nheavy-tailed weights; inputs with outlier channels; %lld calibration and %lld "
      "held-out tokens per layer\n",
      (long long)kCalibTokens, (long long)kEvalTokens);
  std::printf(
      "relative output error ||WX - What Xhat|| / ||WX|| on held-out X, mean over layers\n\n");
  std::printf("%-7s %-8s %12s %12s %12s %9s\n", "format", "method", "weight err", "W4A16 err",
              "W4A4 err", "time (s)");
  for (int f = 0; f < kF; ++f)
    for (int m = 0; m < kM; ++m) {
      const Cell& c = cells[f][m];
      std::printf("%-7s %-8s %12.5f %12.5f %12.5f %9.2f\n", to_string(formats[f]),
                  to_string(methods[m]), c.weight_err, c.w4a16, c.w4a4, c.seconds);
    }
  std::printf("\ntotal %.1f s\n", elapsed);
  return 0;
}

}  // namespace

void add_demo(CLI::App& app, Runner& run) {
  auto a = std::make_shared<DemoArgs>();
  auto* sub = app.add_subcommand(
      "demo",
      "Quantize synthetic LLM-like layers (heavy-tailed weights, inputs with outlier channels)\n"
      "with every format (mxfp4, nvfp4) and method (rtn, rtn-had, gptq, mr-gptq) and print the\n"
      "relative output error on held-out inputs, weights-only (W4A16) and with the activations\n"
      "quantized in the same format and rotation (W4A4). Deterministic for a given seed.");
  sub->add_option("--seed", a->seed, "Seed of the synthetic layers")->capture_default_str();
  sub->add_option("--layers", a->layers,
                  "Number of layers (shapes cycle through 512x1024, 1024x512, 768x768, 1024x1024)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  sub->add_flag("--json", a->json, "Print one JSON object instead of the table");
  // Hidden (empty group): used by the CLI tests to get realistic inputs.
  sub->add_option("--dump-layers", a->dump, "Write the layers and Hessians to FILE and exit")
      ->group("");
  sub->callback([a, &run] { run = [a] { return run_demo(*a); }; });
}

}  // namespace mrgptq::cli
