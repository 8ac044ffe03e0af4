// mrgptq quantize: the main job. Calibrate, quantize block by block, export a
// compressed-tensors folder atomically, report per-layer errors and the
// perplexity before and after.
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "mrgptq/error.hpp"
#include "mrgptq/export.hpp"
#include "mrgptq/pipeline.hpp"

namespace mrgptq::cli {
namespace {

struct Opts {
  std::string model, calib, out, format = "mxfp4", method = "mr-gptq", scale, eval_text;
  bool weights_only = false, force = false, json = false;
  int nsamples = 128, seqlen = 256, rotation_block = 0, eval_seqlen = 256, eval_windows = 0;
  uint64_t seed = 0;
  std::optional<uint64_t> rotation_seed;
  double damp = 0.01;
  std::optional<bool> act_order;
};

std::string markdown_report(const nlohmann::json& r) {
  std::ostringstream md;
  md << "# mrgptq quantization report\n\n";
  md << "- model: `" << r["model"].get<std::string>() << "`\n";
  md << "- format: " << r["format"].get<std::string>()
     << ", method: " << r["method"].get<std::string>() << ", "
     << (r["weights_only"].get<bool>() ? "W4A16 (weights only)" : "W4A4") << "\n";
  md << "- calibration: `" << r["calibration"]["file"].get<std::string>() << "`, "
     << r["calibration"]["nsamples"] << " x " << r["calibration"]["seqlen"] << " tokens, seed "
     << r["calibration"]["seed"] << "\n";
  if (r.contains("perplexity")) {
    md << "- perplexity on `" << r["perplexity"]["text"].get<std::string>() << "` (seqlen "
       << r["perplexity"]["seqlen"] << "): original " << r["perplexity"]["original"].get<double>()
       << ", quantized " << r["perplexity"]["quantized"].get<double>() << "\n";
  }
  md << "- time: " << r["seconds"].get<double>()
     << " s; per block (calibration pass, 7 linears, "
        "quantized pass):";
  for (const auto& b : r["blocks"]) {
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.1f", b["seconds"].get<double>());
    md << buf;
  }
  md << " s\n\n";
  md << "| layer | shape | rel. error ‖W−Ŵ‖/‖W‖ | H-weighted error | damping | time (s) |\n";
  md << "|---|---|---|---|---|---|\n";
  for (const auto& l : r["layers"]) {
    char buf[512];
    std::snprintf(buf, sizeof buf, "| %s | %lld×%lld | %.4g | %.4g | %.3g | %.2f |\n",
                  l["name"].get<std::string>().c_str(), (long long)l["rows"].get<int64_t>(),
                  (long long)l["cols"].get<int64_t>(), l["rel_error"].get<double>(),
                  l["hessian_error"].get<double>(), l["damp"].get<double>(),
                  l["seconds"].get<double>());
    md << buf;
  }
  return md.str();
}

int run_quantize(const Opts& o) {
  const auto t0 = std::chrono::steady_clock::now();
  auto src = open_model(o.model);
  const ModelConfig& c = src->config();
  PipelineConfig cfg;
  cfg.layer.format = parse_format(o.format);
  cfg.layer.method = parse_method(o.method);
  if (!o.scale.empty()) cfg.layer.scale = parse_scale_rule(o.scale);
  if (cfg.layer.scale && !rule_valid_for(cfg.layer.format, *cfg.layer.scale))
    throw Error(std::string("scale rule ") + o.scale + " is not valid for " + o.format);
  cfg.layer.rotation_block = o.rotation_block;
  cfg.layer.rotation_seed = o.rotation_seed;
  cfg.layer.damp = o.damp;
  cfg.layer.act_order = o.act_order;
  cfg.layer.warn = [](std::string_view w) {
    std::fprintf(stderr, "warning: %.*s\n", int(w.size()), w.data());
  };
  cfg.weights_only = o.weights_only;
  cfg.nsamples = o.nsamples, cfg.seqlen = o.seqlen, cfg.seed = o.seed;

  // Everything that can be checked is checked before any work or any output.
  const std::string calib_text = read_text_file(o.calib);
  const std::vector<int> calib_tokens = src->tokenizer().encode(calib_text, true);
  const std::vector<int> windows = calibration_windows(calib_tokens, o.nsamples, o.seqlen, o.seed);
  std::vector<int> eval_tokens;
  if (!o.eval_text.empty())
    eval_tokens = src->tokenizer().encode(read_text_file(o.eval_text), true);

  nlohmann::json report = {{"model", o.model},
                           {"format", o.format},
                           {"method", o.method},
                           {"weights_only", o.weights_only},
                           {"calibration",
                            {{"file", o.calib},
                             {"nsamples", o.nsamples},
                             {"seqlen", o.seqlen},
                             {"seed", o.seed},
                             {"tokens_in_file", calib_tokens.size()}}},
                           {"blocks", nlohmann::json::array()},
                           {"layers", nlohmann::json::array()}};

  double ppl_before = 0;
  if (!eval_tokens.empty()) {
    Progress bar("eval original", c.n_layers + 1);
    ppl_before =
        perplexity(*src, eval_tokens, o.eval_seqlen, o.eval_windows, {}, [&](int64_t, int64_t) {
          bar.step();
        }).perplexity;
  }

  QuantizedExport exp(*src, cfg, o.out, o.force);
  const char* fail_env = std::getenv("MRGPTQ_TEST_FAIL_AFTER_BLOCK");  // test hook: atomicity
  const int fail_after = fail_env ? std::atoi(fail_env) : -1;
  {
    // Steps: per block, the calibration pass, each of its 7 linears, the quantized pass.
    Progress bar("quantize", int64_t(c.n_layers) * kProgressStepsPerBlock);
    quantize_model(
        *src, windows, cfg,
        [&](const Block& fb, BlockResult& r) {
          exp.add_block(fb, r);
          report["blocks"].push_back({{"layer", r.layer}, {"seconds", r.seconds}});
          for (const auto& l : r.reports)
            report["layers"].push_back({{"name", l.name},
                                        {"rows", l.rows},
                                        {"cols", l.cols},
                                        {"rel_error", l.rel_error},
                                        {"hessian_error", l.hessian_error},
                                        {"damp", l.damp},
                                        {"damp_increases", l.damp_increases},
                                        {"seconds", l.seconds}});
          if (fail_after >= 0 && r.layer + 1 >= fail_after)
            throw Error("test failure injected after block " + std::to_string(r.layer));
        },
        [&](int, const std::string&) { bar.step(); });
  }
  exp.finish();

  double ppl_after = 0;
  if (!eval_tokens.empty()) {
    // Evaluated from the staged files themselves: exactly what `mrgptq eval` will see.
    auto q = open_quantized(exp.staging_dir());
    Progress bar("eval quantized", c.n_layers + 1);
    ppl_after =
        perplexity(*q, eval_tokens, o.eval_seqlen, o.eval_windows, {}, [&](int64_t, int64_t) {
          bar.step();
        }).perplexity;
    report["perplexity"] = {{"text", o.eval_text},
                            {"seqlen", o.eval_seqlen},
                            {"original", ppl_before},
                            {"quantized", ppl_after}};
  }
  report["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  exp.write_report(report, markdown_report(report));
  exp.commit();

  if (o.json) {
    nlohmann::json s = {{"out", o.out},
                        {"format", o.format},
                        {"method", o.method},
                        {"weights_only", o.weights_only},
                        {"seconds", report["seconds"]}};
    if (report.contains("perplexity")) s["perplexity"] = report["perplexity"];
    std::printf("%s\n", s.dump().c_str());
  } else {
    std::printf("wrote %s (%s, %s, %s) in %.1f s; per-layer errors in %s/report.md\n",
                o.out.c_str(), o.format.c_str(), o.method.c_str(),
                o.weights_only ? "W4A16" : "W4A4", report["seconds"].get<double>(), o.out.c_str());
    if (!eval_tokens.empty())
      std::printf("perplexity (%s, seqlen %d): original %.4f -> quantized %.4f\n",
                  o.eval_text.c_str(), o.eval_seqlen, ppl_before, ppl_after);
  }
  return 0;
}

}  // namespace

void add_quantize(CLI::App& app, Runner& run) {
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand(
      "quantize",
      "Quantize a model to MXFP4 or NVFP4, block by block as GPTQ does, and write a Hugging Face\n"
      "folder in the compressed-tensors layout (plus report.json / report.md). The output appears\n"
      "only when complete: it is staged in a temporary folder beside OUT and renamed at the end.");
  sub->add_option("--model", o->model,
                  "Model folder: llama2.c (*.bin + tokenizer.bin) or Hugging Face")
      ->required();
  sub->add_option("--format", o->format,
                  "mxfp4 (groups of 32, E8M0 scales) or nvfp4 (groups of 16, E4M3)")
      ->capture_default_str();
  sub->add_option(
         "--method", o->method,
         "rtn | rtn-had (block Hadamard, then RTN) | gptq | mr-gptq (rotation + GPTQ + MSE scales)")
      ->capture_default_str();
  sub->add_flag(
      "--weights-only", o->weights_only,
      "W4A16: keep activations in high precision (default: W4A4, activations quantized online "
      "with the same format and rotation)");
  sub->add_option("--calib", o->calib, "Calibration text (never the evaluation text)")->required();
  sub->add_option("--nsamples", o->nsamples, "Calibration windows")->capture_default_str();
  sub->add_option("--seqlen", o->seqlen, "Tokens per calibration window")->capture_default_str();
  sub->add_option("--seed", o->seed, "Seed for choosing calibration windows")
      ->capture_default_str();
  sub->add_option(
      "--scale", o->scale,
      "Scale rule (mxfp4: floor|round|ceil|mse, nvfp4: absmax|mse); default: mse for mr-gptq, "
      "else round (mxfp4) / absmax (nvfp4)");
  sub->add_option("--rotation-block", o->rotation_block,
                  "Hadamard block for rtn-had / mr-gptq (power of two; 0 = the format's group)")
      ->capture_default_str();
  sub->add_option("--rotation-seed", o->rotation_seed,
                  "Random +-1 signs in the rotation from this seed");
  sub->add_option("--damp", o->damp, "GPTQ damping, as a fraction of mean(diag H)")
      ->capture_default_str();
  sub->add_flag("--act-order,!--no-act-order", o->act_order,
                "GPTQ activation order with static groups (default on for gptq and mr-gptq)");
  sub->add_option("--eval", o->eval_text, "Also report perplexity before/after on this text");
  sub->add_option("--eval-seqlen", o->eval_seqlen, "Window length for --eval")
      ->capture_default_str();
  sub->add_option("--eval-windows", o->eval_windows, "Evaluate only the first N windows (0: all)")
      ->capture_default_str();
  sub->add_option("--out", o->out, "Output folder (must not exist unless --force)")->required();
  sub->add_flag("--force", o->force, "Replace an existing output folder");
  sub->add_flag("--json", o->json, "Print a JSON summary as the last line of standard output");
  sub->callback([o, &run] { run = [o] { return run_quantize(*o); }; });
}

}  // namespace mrgptq::cli
