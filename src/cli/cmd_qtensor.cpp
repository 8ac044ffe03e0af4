// mrgptq qtensor: quantize one 2-D tensor of a safetensors file with a chosen
// format and method, write the packed codes, scales and the dequantized weight.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/commands.hpp"
#include "mrgptq/error.hpp"
#include "mrgptq/formats.hpp"
#include "mrgptq/layer.hpp"
#include "mrgptq/safetensors.hpp"

namespace mrgptq::cli {

namespace {

struct QtensorArgs {
  std::string input, tensor, format, method, scale, hessian, hessian_tensor, output;
  int rotation_block = 0;
  std::optional<uint64_t> seed;
  int act_order = -1;  // -1: the method's default, 0: off, 1: on
  double damp = 0.01;
  bool json = false;
};

// Reads a [n, n] Hessian; F64 stays double precision.
MatrixD read_hessian(const std::string& path, std::string name, int64_t cols,
                     const std::string& weight_name) {
  SafetensorsReader r(path);
  if (name.empty()) {
    if (r.tensors().size() != 1)
      throw Error(path + ": holds " + std::to_string(r.tensors().size()) +
                  " tensors; name the Hessian with --hessian-tensor");
    name = r.tensors()[0].name;
  }
  const TensorView& t = r.at(name);
  if (t.shape.size() != 2 || t.shape[0] != cols || t.shape[1] != cols) {
    std::string shape;
    for (size_t i = 0; i < t.shape.size(); ++i) {
      if (i) shape += 'x';
      shape += std::to_string(t.shape[i]);
    }
    throw Error(path + ": Hessian '" + name + "' has shape " + (shape.empty() ? "[]" : shape) +
                " but weight '" + weight_name + "' has " + std::to_string(cols) +
                " input columns (expected " + std::to_string(cols) + "x" + std::to_string(cols) +
                ")");
  }
  MatrixD H(cols, cols);
  if (t.dtype == DType::F64) {
    std::memcpy(H.data.data(), t.data, t.nbytes);
  } else {
    const std::vector<float> f = r.to_f32(t);
    for (size_t i = 0; i < f.size(); ++i) H.data[i] = f[i];
  }
  for (int64_t i = 0; i < cols; ++i)
    for (int64_t j = 0; j < cols; ++j)
      if (!std::isfinite(H(i, j)))
        throw Error(path + ": Hessian '" + name + "': non-finite value at row " +
                    std::to_string(i) + ", column " + std::to_string(j));
  return H;
}

std::vector<uint8_t> f32_bytes(const float* p, size_t n) {
  std::vector<uint8_t> b(n * 4);
  if (n) std::memcpy(b.data(), p, b.size());
  return b;
}

int run_qtensor(const QtensorArgs& a) {
  // Names first: a typo fails before any file is read.
  LayerConfig cfg;
  cfg.format = parse_format(a.format);
  cfg.method = parse_method(a.method);
  const FormatInfo& fi = format_info(cfg.format);
  if (!a.scale.empty()) {
    const ScaleRule rule = parse_scale_rule(a.scale);
    if (!rule_valid_for(cfg.format, rule))
      throw Error(std::string("scale rule '") + a.scale + "' is not valid for " + fi.name +
                  (cfg.format == Format::MXFP4 ? " (use floor, round, ceil or mse)"
                                               : " (use absmax or mse)"));
    cfg.scale = rule;
  }
  if (method_needs_hessian(cfg.method) && a.hessian.empty())
    throw Error(std::string("method ") + to_string(cfg.method) +
                " needs a Hessian: give --hessian H.safetensors --hessian-tensor NAME");
  if (!a.hessian_tensor.empty() && a.hessian.empty())
    throw Error("--hessian-tensor needs --hessian FILE");
  if (a.seed && !method_rotates(cfg.method))
    throw Error(std::string("--seed sets rotation signs: it applies to rtn-had and mr-gptq, not ") +
                to_string(cfg.method));
  if (a.rotation_block && !method_rotates(cfg.method))
    throw Error(std::string("--rotation-block applies to rtn-had and mr-gptq, not ") +
                to_string(cfg.method));
  cfg.rotation_block = a.rotation_block;
  cfg.rotation_seed = a.seed;
  cfg.damp = a.damp;
  if (a.act_order >= 0) cfg.act_order = a.act_order == 1;
  cfg.name = a.tensor;
  cfg.warn = [](std::string_view msg) {
    std::fprintf(stderr, "mrgptq: warning: %.*s\n", int(msg.size()), msg.data());
  };

  MatrixF W;
  {
    SafetensorsReader in(a.input);
    const TensorView& t = in.at(a.tensor);
    if (t.dtype != DType::F32 && t.dtype != DType::F16 && t.dtype != DType::BF16)
      throw Error(a.input + ": tensor '" + a.tensor + "' has dtype " + dtype_name(t.dtype) +
                  ", expected F32, F16 or BF16");
    W = in.matrix_f32(a.tensor);
  }
  if (W.rows == 0 || W.cols == 0)
    throw Error(a.input + ": tensor '" + a.tensor + "' is empty (" + std::to_string(W.rows) + "x" +
                std::to_string(W.cols) + ")");
  std::optional<MatrixD> H;
  if (!a.hessian.empty()) H = read_hessian(a.hessian, a.hessian_tensor, W.cols, a.tensor);

  const LayerResult res = quantize_layer(W, H ? &*H : nullptr, cfg);
  const QuantizedTensor& q = res.q;

  SafetensorsWriter out;
  const std::string& p = a.tensor;
  out.add(p + "_packed", DType::U8, {q.rows, q.padded_cols / 2}, q.packed);
  out.add(p + "_scale", cfg.format == Format::MXFP4 ? DType::U8 : DType::F8_E4M3,
          {q.rows, q.groups_per_row()}, q.scales);
  if (fi.has_global_scale)
    out.add(p + "_global_scale", DType::F32, {1}, f32_bytes(&q.global_scale, 1));
  out.add(p + "_dequant", DType::F32, {W.rows, W.cols},
          f32_bytes(res.dequant.data.data(), res.dequant.data.size()));
  out.set_metadata("format", fi.name);
  out.set_metadata("quant_format", fi.ct_format);
  out.set_metadata("method", to_string(cfg.method));
  out.set_metadata("group_size", std::to_string(fi.group));
  if (cfg.scale) out.set_metadata("scale_rule", to_string(*cfg.scale));
  out.set_metadata("rotation_block", std::to_string(res.rotation.block));
  out.set_metadata("rotation_seed", a.seed ? std::to_string(*a.seed) : "none");
  out.set_metadata("original_cols", std::to_string(q.cols));
  out.set_metadata("padded_cols", std::to_string(q.padded_cols));
  out.set_metadata("source_tensor", a.tensor);
  out.write(a.output);

  const double rel = relative_error(W, res.dequant);
  const double hrel = H ? hessian_relative_error(W, res.dequant, *H) : NAN;
  if (a.json) {
    nlohmann::ordered_json j;
    j["tensor"] = a.tensor;
    j["shape"] = {W.rows, W.cols};
    j["format"] = fi.name;
    j["method"] = to_string(cfg.method);
    j["rotation_block"] = res.rotation.block;
    j["padded_cols"] = q.padded_cols;
    j["relative_error"] = rel;
    if (H) {
      j["hessian_relative_error"] = hrel;
      j["damp_used"] = res.damp_used;
      j["damp_increases"] = res.damp_increases;
    }
    j["output"] = a.output;
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("%s [%lld x %lld] -> %s %s", a.tensor.c_str(), (long long)W.rows, (long long)W.cols,
                fi.name, to_string(cfg.method));
    if (res.rotation.block) std::printf(" (rotation block %d)", res.rotation.block);
    std::printf("\n  relative error ||W-What||/||W||            %.6f\n", rel);
    if (H) std::printf("  Hessian-weighted tr(dH d^T)/tr(W H W^T)    %.6f\n", hrel);
    if (res.damp_increases)
      std::printf("  damping raised %d time(s) to %g\n", res.damp_increases, res.damp_used);
    std::printf("  wrote %s\n", a.output.c_str());
  }
  return 0;
}

}  // namespace

void add_qtensor(CLI::App& app, Runner& run) {
  auto a = std::make_shared<QtensorArgs>();
  auto* sub = app.add_subcommand(
      "qtensor",
      "Quantize one 2-D tensor (F32, F16 or BF16) of a safetensors file to MXFP4 or NVFP4.\n"
      "For an input tensor NAME it writes NAME_packed (U8 [rows, cols/2], two E2M1 codes per\n"
      "byte), NAME_scale (E8M0 bytes as U8 for MXFP4, F8_E4M3 for NVFP4, [rows, cols/group]),\n"
      "NAME_global_scale (F32 [1], NVFP4 only) and NAME_dequant (F32, the dequantized weight\n"
      "in the original basis), and prints the relative error.");
  sub->add_option("--input", a->input, "Input safetensors file")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--tensor", a->tensor,
                  "Name of the 2-D tensor to quantize, e.g. model.layers.0.mlp.down_proj.weight")
      ->required();
  sub->add_option("--format", a->format,
                  "mxfp4 (groups of 32, E8M0 scales) or nvfp4 (groups of 16, E4M3 scales + FP32 "
                  "tensor scale)")
      ->required();
  sub->add_option("--method", a->method,
                  "rtn | rtn-had (block Hadamard, then RTN) | gptq | mr-gptq (rotation + GPTQ + "
                  "MSE scales + act-order); gptq and mr-gptq need --hessian")
      ->required();
  sub->add_option("--scale", a->scale,
                  "Scale rule: floor|round|ceil|mse for mxfp4, absmax|mse for nvfp4 "
                  "(default: mse for mr-gptq, else the format's default)");
  sub->add_option("--rotation-block", a->rotation_block,
                  "Hadamard block size for rtn-had / mr-gptq: a power of two dividing the padded "
                  "input dimension (default 0 = the format's group size)");
  sub->add_option("--seed", a->seed,
                  "Seed for random +-1 signs of the rotation (default: no signs)");
  sub->add_flag_callback(
      "--act-order", [a] { a->act_order = 1; },
      "GPTQ columns by descending diag(H) with static groups (default for gptq and mr-gptq)");
  sub->add_flag_callback(
      "--no-act-order", [a] { a->act_order = 0; }, "GPTQ columns in natural order");
  sub->add_option("--damp", a->damp, "GPTQ damping lambda, relative to mean(diag H)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  sub->add_option("--hessian", a->hessian,
                  "Safetensors file holding the [cols, cols] Hessian (F32 or F64)")
      ->check(CLI::ExistingFile);
  sub->add_option("--hessian-tensor", a->hessian_tensor,
                  "Name of the Hessian in --hessian (default: its only tensor)");
  sub->add_option("--output", a->output, "Output safetensors file (written atomically)")
      ->required();
  sub->add_flag("--json", a->json, "Print one JSON object instead of text");
  sub->callback([a, &run] { run = [a] { return run_qtensor(*a); }; });
}

}  // namespace mrgptq::cli
