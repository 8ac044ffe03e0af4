// Every verb of the mrgptq tool registers itself here: add_<verb>() adds a
// CLI11 subcommand whose callback stores the work to run in `run`.
#pragma once
#include <CLI/CLI.hpp>
#include <functional>

namespace mrgptq::cli {

using Runner = std::function<int()>;

void add_qtensor(CLI::App& app, Runner& run);
void add_demo(CLI::App& app, Runner& run);
void add_quantize(CLI::App& app, Runner& run);
void add_eval(CLI::App& app, Runner& run);
void add_make_model(CLI::App& app, Runner& run);

}  // namespace mrgptq::cli
