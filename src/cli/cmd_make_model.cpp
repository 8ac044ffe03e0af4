// mrgptq make-model: a synthetic Hugging Face checkpoint with a real model's
// shapes (random BF16 weights), for memory and speed measurements.
#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "mrgptq/error.hpp"
#include "mrgptq/make_model.hpp"

namespace mrgptq::cli {

void add_make_model(CLI::App& app, Runner& run) {
  struct Opts {
    std::string shape, out, tokenizer = "../shared/tokenizers/llama2/tokenizer.model";
    int layers = 0;
    uint64_t seed = 0;
    bool force = false;
  };
  auto o = std::make_shared<Opts>();
  auto* sub = app.add_subcommand(
      "make-model",
      "Write a synthetic Hugging Face checkpoint (config.json, sharded BF16 safetensors of at "
      "most\n"
      "~5 GB, model.safetensors.index.json, tokenizer.model) with the shapes of a real model and\n"
      "random N(0, 0.02^2) weights, one tensor at a time. The weights are NOT a trained model:\n"
      "use it for memory and speed work only.");
  sub->add_option("--shape", o->shape,
                  "llama3-8b (4096/14336, 32 layers, 32 heads, 8 kv, vocab 128256), llama3-70b, "
                  "or tiny (256/688, 2 layers, vocab 32000)")
      ->required();
  sub->add_option("--layers", o->layers, "Only the first N decoder layers (0: all)")
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "Seed of the random weights")->capture_default_str();
  sub->add_option("--tokenizer", o->tokenizer,
                  "sentencepiece tokenizer.model to copy (its 32,000 pieces fit every shape's "
                  "vocabulary)")
      ->capture_default_str();
  sub->add_option("--out", o->out, "Output folder (must not exist unless --force)")->required();
  sub->add_flag("--force", o->force, "Replace an existing output folder");
  sub->callback([o, &run] {
    run = [o]() -> int {
      MakeModelOptions mo;
      mo.shape = synthetic_shape(o->shape);
      mo.layers = o->layers;
      mo.seed = o->seed;
      mo.tokenizer_model = o->tokenizer;
      mo.force = o->force;
      const int64_t bytes = make_synthetic_model(mo, o->out);
      std::printf("wrote %s: synthetic %s, %d layers, %.2f GB of BF16 weights\n", o->out.c_str(),
                  o->shape.c_str(), mo.layers ? mo.layers : mo.shape.layers, double(bytes) / 1e9);
      return 0;
    };
  });
}

}  // namespace mrgptq::cli
