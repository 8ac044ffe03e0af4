// mrgptq eval: perplexity of a model (original or our quantized output) on a text file.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/progress.hpp"
#include "mrgptq/error.hpp"
#include "mrgptq/model.hpp"

namespace mrgptq::cli {

void add_eval(CLI::App& app, Runner& run) {
  struct Opts {
    std::string model, text;
    int seqlen = 256;
    int max_windows = 0;
    bool json = false;
    std::string dump_tokens;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand(
      "eval",
      "Perplexity of a model on a text file: the whole file is encoded once (with BOS) and cut\n"
      "into consecutive non-overlapping windows of --seqlen tokens (the last partial window is\n"
      "dropped); ppl = exp(mean NLL of tokens 1..L-1 of each window).");
  sub->add_option("--model", o->model,
                  "Model folder: llama2.c (*.bin + tokenizer.bin), Hugging Face, or the output "
                  "of `mrgptq quantize`")
      ->required();
  sub->add_option("--text", o->text, "UTF-8 text file to evaluate on")->required();
  sub->add_option("--seqlen", o->seqlen, "Window length in tokens")->capture_default_str();
  sub->add_option("--max-windows", o->max_windows, "Evaluate only the first N windows (0: all)")
      ->capture_default_str();
  sub->add_flag("--json", o->json, "Print one JSON object as the last line of standard output");
  sub->add_option("--dump-tokens", o->dump_tokens,
                  "Also write the encoded token stream to this file (ids separated by spaces)");
  sub->callback([o, &run] {
    run = [o]() -> int {
      auto model = open_model(o->model);
      const std::string text = read_text_file(o->text);
      const std::vector<int> tokens = model->tokenizer().encode(text, true);
      if (!o->dump_tokens.empty()) {
        std::FILE* f = std::fopen(o->dump_tokens.c_str(), "w");
        if (!f) throw Error(o->dump_tokens + ": cannot write");
        for (size_t i = 0; i < tokens.size(); ++i) std::fprintf(f, i ? " %d" : "%d", tokens[i]);
        std::fprintf(f, "\n");
        std::fclose(f);
      }
      Progress bar("eval", model->config().n_layers + 1);
      PerplexityResult r = perplexity(*model, tokens, o->seqlen, o->max_windows, {},
                                      [&](int64_t, int64_t) { bar.step(); });
      bar.done();
      if (o->json) {
        nlohmann::json j = {{"model", o->model},
                            {"text", o->text},
                            {"seqlen", o->seqlen},
                            {"perplexity", r.perplexity},
                            {"nll_mean", r.nll_sum / double(r.predicted)},
                            {"tokens", r.tokens},
                            {"predicted", r.predicted},
                            {"windows", r.windows}};
        std::printf("%s\n", j.dump().c_str());
      } else {
        std::printf(
            "perplexity %.6f  (%lld windows of %d, %lld tokens scored, %lld in the stream)\n",
            r.perplexity, (long long)r.windows, o->seqlen, (long long)r.predicted,
            (long long)r.tokens);
      }
      return 0;
    };
  });
}

}  // namespace mrgptq::cli
