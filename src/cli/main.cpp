// mrgptq: quantize LLM weights to MXFP4 / NVFP4 with MR-GPTQ.
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"
#include "mrgptq/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "mrgptq: quantize language models to the FP4 microscaling formats MXFP4 and NVFP4\n"
      "with MR-GPTQ (micro-rotated GPTQ). Run `mrgptq VERB --help` for a verb's options."};
  app.require_subcommand(1);
  app.set_version_flag("--version", "mrgptq 0.1.0");
  mrgptq::cli::Runner run;
  mrgptq::cli::add_quantize(app, run);
  mrgptq::cli::add_eval(app, run);
  mrgptq::cli::add_qtensor(app, run);
  mrgptq::cli::add_demo(app, run);
  mrgptq::cli::add_make_model(app, run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run ? run() : 0;
  } catch (const mrgptq::Error& e) {
    std::fprintf(stderr, "mrgptq: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mrgptq: internal error: %s\n", e.what());
    return 3;
  }
}
